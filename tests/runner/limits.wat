;; Each limit stops a runaway guest with its own message, hint and exit code.
;; RUN: run %s --invoke 'spin()' --timeout 200ms
;; EXIT: 124
;; STDERR: error: guest exceeded its time limit of 200ms
;; STDERR: hint: raise it with `--timeout <duration>`
;; RUN: run %s --invoke 'spin()' --fuel 100000
;; EXIT: 123
;; STDERR: error: guest ran out of fuel after 100000 units
;; STDERR: hint: raise it with `--fuel <n>`
;; RUN: run %s --invoke 'grow()' --max-memory 4MiB
;; EXIT: 122
;; STDERR: error: guest exceeded its memory limit of 4 MiB (it asked for 4.1 MiB in total)
;; STDERR: hint: raise it with `--max-memory <size>`
;; Without a flag, memory is still finite (1 GiB by default).
;; RUN: run %s --invoke 'grow()'
;; EXIT: 122
;; STDERR: error: guest exceeded its memory limit of 1 GiB
;; Within its limits the guest finishes: 64 KiB pages grown 16 at a time up to 8 MiB.
;; RUN: run %s --invoke 'grow-to(128)' --max-memory 8MiB --fuel 1000000 --timeout 5s
;; STDOUT: 7
;; RUN: --format json run %s --invoke 'spin()' --timeout 100ms
;; EXIT: 124
;; STDOUT: {"causes":["error while executing at wasm backtrace:\n    0:     0x4d - limits!<wasm function 0>"],"hint":"raise it with `--timeout <duration>` (e.g. `--timeout 2m`, or `none`), or `timeout` under `[run]` in wcomp.toml","message":"guest exceeded its time limit of 100ms","reason":"error","snippet":null}
;; Bad limits are refused before the guest starts.
;; RUN: run %s --invoke 'spin()' --timeout soon
;; EXIT: 1
;; STDERR: error: invalid duration `soon`
;; STDERR: hint: write a number with a unit
;; RUN: run %s --invoke 'spin()' --max-memory lots
;; EXIT: 1
;; STDERR: error: invalid size `lots`
(component
  (core module $limits
    (memory 1)
    ;; An infinite loop.
    (func (export "spin") (loop $forever (br $forever)))
    ;; Grows memory 1 MiB at a time for as long as the host allows; returns the count.
    (func (export "grow") (result i32)
      (local $grown i32)
      (loop $again
        (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1))
          (then
            (local.set $grown (i32.add (local.get $grown) (i32.const 1)))
            (br $again))))
      (local.get $grown))
    ;; Grows to `pages` pages, 16 at a time; returns how many growths it took.
    (func (export "grow-to") (param $pages i32) (result i32)
      (local $grown i32)
      (block $done
        (loop $again
          (br_if $done (i32.ge_u (i32.add (memory.size) (i32.const 16)) (local.get $pages)))
          (drop (memory.grow (i32.const 16)))
          (local.set $grown (i32.add (local.get $grown) (i32.const 1)))
          (br $again)))
      (local.get $grown)))
  (core instance $i (instantiate $limits))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "grow") (result u32) (canon lift (core func $i "grow")))
  (func (export "grow-to") (param "pages" u32) (result u32) (canon lift (core func $i "grow-to"))))

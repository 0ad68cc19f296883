;; A `wasi:cli/run` command that calls `exit(err)`: wcomp exits with the guest's code.
;; RUN: run %s
;; EXIT: 1
(component
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))
  (core func $exit (canon lower (func $exit "exit")))
  (core module $m
    (import "host" "exit" (func $exit (param i32)))
    (func (export "run") (result i32)
      i32.const 1
      call $exit
      unreachable))
  (core instance $i (instantiate $m (with "host" (instance (export "exit" (func $exit))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))

;; A component built against `wasi:config/store@0.2.0-draft` (the release before the
;; `0.2.0-rc.1` wasmtime 48 serves): the host answers it from the same values.
;; RUN: run %s --invoke 'greeting()' --config greeting=hej
;; STDOUT: "hej"
;; RUN: run %s --invoke 'greeting()'
;; STDOUT: "none"
(component
  (import "wasi:config/store@0.2.0-draft" (instance $config
    (type $e (variant (case "upstream" string) (case "io" string)))
    (export "error" (type $error (eq $e)))
    (export "get" (func (param "key" string) (result (result (option string) (error $error)))))))
  (core module $libc
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      global.get $heap
      local.set $at
      global.get $heap
      local.get 3
      i32.add
      global.set $heap
      local.get $at))
  (core instance $libc (instantiate $libc))
  (core func $get (canon lower (func $config "get")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core module $m
    (import "libc" "mem" (memory 1))
    (import "host" "get" (func $get (param i32 i32 i32)))
    (data (i32.const 16) "greeting")
    (data (i32.const 32) "none")
    ;; `get("greeting")` answers at 64: the result's case at 64, the option's at 68, the
    ;; string's address and length at 72 and 76.
    (func (export "greeting") (result i32)
      i32.const 16
      i32.const 8
      i32.const 64
      call $get
      (if (result i32)
        (i32.and
          (i32.eqz (i32.load8_u (i32.const 64)))
          (i32.eq (i32.load8_u (i32.const 68)) (i32.const 1)))
        (then i32.const 72)
        (else
          (i32.store (i32.const 128) (i32.const 32))
          (i32.store (i32.const 132) (i32.const 4))
          i32.const 128))))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "host" (instance (export "get" (func $get))))))
  (func (export "greeting") (result string)
    (canon lift (core func $i "greeting") (memory (core memory $libc "mem")))))

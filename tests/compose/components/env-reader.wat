;; Counts the environment variables its host gives it (`wasi:cli/environment`): `count-env`.
(component
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))
  ))
  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $memory))
  (alias core export $libc "realloc" (core func $realloc))
  (alias export $env "get-environment" (func $get-environment))
  (core func $get (canon lower (func $get-environment) (memory $memory) (realloc $realloc)))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "env" "get" (func $get (param i32)))
    (func (export "count") (result i32)
      (call $get (i32.const 8))
      (i32.load (i32.const 12))))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "env" (instance (export "get" (func $get))))))
  (func (export "count-env") (result u32) (canon lift (core func $main "count")))
)

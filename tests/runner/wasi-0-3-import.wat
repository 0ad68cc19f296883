;; A component whose only WASI import is WASI 0.3 (`wasi:random/random@0.3.0`) and which has
;; no async function of its own: an engine without component-model async compiles it, but
;; WASI 0.3 is served on the event loop, so it runs on the engine that has one.
;; RUN: run %s --invoke 'roll()'
;; STDOUT: 1
(component
  (import "wasi:random/random@0.3.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (alias export $random "get-random-u64" (func $get))
  (core func $get_lowered (canon lower (func $get)))
  (core module $m
    (import "host" "get" (func $get (result i64)))
    (func (export "roll") (result i64)
      call $get
      i64.const 0
      i64.mul
      i64.const 1
      i64.add))
  (core instance $host (export "get" (func $get_lowered)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "roll") (result u64) (canon lift (core func $i "roll"))))

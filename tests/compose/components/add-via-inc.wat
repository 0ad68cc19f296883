;; Exports `example:math/add@0.1.0`, computing `add(a, b)` as `inc(a + b)` through an
;; import of `example:math/inc@0.1.0`: one more than a plain sum, so a test can tell which
;; plug answered, and a plug whose own import must be plugged too.
(component
  (import "example:math/inc@0.1.0" (instance $inc-api
    (export "inc" (func (param "x" u32) (result u32)))))
  (core func $inc-core (canon lower (func $inc-api "inc")))
  (core module $m
    (import "math" "inc" (func $inc (param i32) (result i32)))
    (func (export "add") (param i32 i32) (result i32)
      local.get 0
      local.get 1
      i32.add
      call $inc))
  (core instance $math (export "inc" (func $inc-core)))
  (core instance $i (instantiate $m (with "math" (instance $math))))
  (func $add (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (instance $api (export "add" (func $add)))
  (export "example:math/add@0.1.0" (instance $api)))

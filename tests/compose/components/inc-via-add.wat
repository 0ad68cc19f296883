;; Exports `example:math/inc@0.1.0` as `add(x, 1)` through an import of
;; `example:math/add@0.1.0`: with `add-via-inc`, a loop.
(component
  (import "example:math/add@0.1.0" (instance $add-api
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (core func $add-core (canon lower (func $add-api "add")))
  (core module $m
    (import "math" "add" (func $add (param i32 i32) (result i32)))
    (func (export "inc") (param i32) (result i32)
      local.get 0
      i32.const 1
      call $add))
  (core instance $math (export "add" (func $add-core)))
  (core instance $i (instantiate $m (with "math" (instance $math))))
  (func $inc (param "x" u32) (result u32)
    (canon lift (core func $i "inc")))
  (instance $api (export "inc" (func $inc)))
  (export "example:math/inc@0.1.0" (instance $api)))

;; Exports `example:math/inc@0.1.0`: `inc(x: u32) -> u32`, which adds one.
(component
  (core module $m
    (func (export "inc") (param i32) (result i32)
      local.get 0
      i32.const 1
      i32.add))
  (core instance $i (instantiate $m))
  (func $inc (param "x" u32) (result u32)
    (canon lift (core func $i "inc")))
  (instance $api (export "inc" (func $inc)))
  (export "example:math/inc@0.1.0" (instance $api)))

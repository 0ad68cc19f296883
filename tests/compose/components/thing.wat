;; Exports `example:other/thing@0.1.0`, which nothing here imports.
(component
  (core module $m
    (func (export "thing") (result i32)
      i32.const 7))
  (core instance $i (instantiate $m))
  (func $thing (result u32)
    (canon lift (core func $i "thing")))
  (instance $api (export "thing" (func $thing)))
  (export "example:other/thing@0.1.0" (instance $api)))

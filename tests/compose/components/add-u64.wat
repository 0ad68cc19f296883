;; Exports `example:math/add@0.1.0` with a different signature: `add(a: u64, b: u64) -> u64`.
(component
  (core module $m
    (func (export "add") (param i64 i64) (result i64)
      local.get 0
      local.get 1
      i64.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" u64) (param "b" u64) (result u64)
    (canon lift (core func $i "add")))
  (instance $api (export "add" (func $add)))
  (export "example:math/add@0.1.0" (instance $api)))

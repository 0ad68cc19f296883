;; Like `calc`, and also imports `wasi:random/random@0.2.0`, which a composition leaves to
;; the host.
(component
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (import "example:math/add@0.1.0" (instance $add-api
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (core func $add-core (canon lower (func $add-api "add")))
  (core module $m
    (import "math" "add" (func $add (param i32 i32) (result i32)))
    (func (export "double") (param i32) (result i32)
      local.get 0
      local.get 0
      call $add))
  (core instance $math (export "add" (func $add-core)))
  (core instance $i (instantiate $m (with "math" (instance $math))))
  (func $double (param "x" u32) (result u32)
    (canon lift (core func $i "double")))
  (instance $calc (export "double" (func $double)))
  (export "example:math/calc@0.1.0" (instance $calc)))

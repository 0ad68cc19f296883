;; Like `handler`, but `handle` takes and returns `u64`: it does not fit a `u32` import.
(component
  (core module $m
    (func (export "handle") (param i64) (result i64)
      local.get 0
      i64.const 2
      i64.mul))
  (core instance $i (instantiate $m))
  (func $handle (param "request" u64) (result u64)
    (canon lift (core func $i "handle")))
  (instance $api (export "handle" (func $handle)))
  (export "wasi:http/handler@0.3.2" (instance $api)))

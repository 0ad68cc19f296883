;; A stand-in for a `wasi:http/middleware` component: imports and exports
;; `wasi:http/handler@0.3.0` (the version wasmtime's WIT has). Its `handle` calls the
;; next handler and adds 1 to its answer.
(component
  (import "wasi:http/handler@0.3.0" (instance $next
    (export "handle" (func (param "request" u32) (result u32)))))
  (core func $next-core (canon lower (func $next "handle")))
  (core module $m
    (import "next" "handle" (func $next (param i32) (result i32)))
    (func (export "handle") (param i32) (result i32)
      local.get 0
      call $next
      i32.const 1
      i32.add))
  (core instance $next-instance (export "handle" (func $next-core)))
  (core instance $i (instantiate $m (with "next" (instance $next-instance))))
  (func $handle (param "request" u32) (result u32)
    (canon lift (core func $i "handle")))
  (instance $api (export "handle" (func $handle)))
  (export "wasi:http/handler@0.3.0" (instance $api)))

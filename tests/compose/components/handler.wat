;; A stand-in for an HTTP handler: exports `wasi:http/handler@0.3.2` (the version the `wasip3`
;; crate exports) with `handle(request: u32) -> u32` answering `request * 2`. The real
;; interface passes resources; only the names and the plugging matter here.
(component
  (core module $m
    (func (export "handle") (param i32) (result i32)
      local.get 0
      i32.const 2
      i32.mul))
  (core instance $i (instantiate $m))
  (func $handle (param "request" u32) (result u32)
    (canon lift (core func $i "handle")))
  (instance $api (export "handle" (func $handle)))
  (export "wasi:http/handler@0.3.2" (instance $api)))

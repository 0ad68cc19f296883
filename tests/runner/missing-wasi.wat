;; A component importing a WASI interface the host does not implement (wasi:http): the
;; error names it, as it does for any other missing import.
;; RUN: run %s --invoke 'f()'
;; EXIT: 1
;; STDERR: error: cannot instantiate
;; STDERR: wasi:http/outgoing-handler@0.2.0
(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance $api
    (export "g" (func))))
  (core func $g (canon lower (func $api "g")))
  (core module $m
    (import "host" "g" (func $g))
    (func (export "f") call $g))
  (core instance $i (instantiate $m (with "host" (instance (export "g" (func $g))))))
  (func (export "f") (canon lift (core func $i "f"))))

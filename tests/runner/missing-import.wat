;; A component importing an interface the host does not provide.
;; RUN: run %s --invoke 'f()'
;; EXIT: 1
;; STDERR: error: cannot instantiate
;; STDERR: acme:missing/api@1.0.0
;; STDERR: hint: the component imports something the host does not provide
(component
  (import "acme:missing/api@1.0.0" (instance $api
    (export "g" (func))))
  (core func $g (canon lower (func $api "g")))
  (core module $m
    (import "host" "g" (func $g))
    (func (export "f") call $g))
  (core instance $i (instantiate $m (with "host" (instance (export "g" (func $g))))))
  (func (export "f") (canon lift (core func $i "f"))))

;; A component reading the monotonic clock through WASI: the host provides the interfaces a
;; component imports, whichever 0.2.x patch version it names.
;; RUN: run %s --invoke 'ticking()'
;; STDOUT: true
(component
  (import "wasi:clocks/monotonic-clock@0.2.3" (instance $clock
    (export "now" (func (result u64)))))
  (core func $now (canon lower (func $clock "now")))
  (core module $m
    (import "host" "now" (func $now (result i64)))
    (func (export "ticking") (result i32)
      call $now
      i64.const 0
      i64.gt_u))
  (core instance $i (instantiate $m (with "host" (instance (export "now" (func $now))))))
  (func (export "ticking") (result bool) (canon lift (core func $i "ticking"))))

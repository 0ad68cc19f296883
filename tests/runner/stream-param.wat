;; Values WAVE cannot spell: a `stream<u8>` parameter is refused by name, before any guest
;; runs; a plain parameter of the same component is called as usual.
;; RUN: run %s --invoke 'drain("bytes")'
;; EXIT: 1
;; STDERR: error: parameter 1 (`bytes`) of `drain` is a `stream<u8>`, which cannot be written as a value in a call
;; STDERR: hint: streams, futures and error contexts are made by the components that use them
;; RUN: run %s --invoke 'size(7)'
;; STDOUT: 7
(component
  (type $bytes (stream u8))
  (core module $m
    (func (export "drain") (param i32) (result i64)
      i64.const 0)
    (func (export "size") (param i64) (result i64)
      local.get 0))
  (core instance $i (instantiate $m))
  (func (export "drain") (param "bytes" $bytes) (result u64)
    (canon lift (core func $i "drain")))
  (func (export "size") (param "n" u64) (result u64)
    (canon lift (core func $i "size"))))

;; Two interfaces export a function of the same name.
;; RUN: run %s --invoke 'get()'
;; EXIT: 1
;; STDERR: error: `get` is ambiguous: several exported functions have that name
;; STDERR: hint: qualify it with its interface, one of: `acme:demo/first@1.0.0#get`, `acme:demo/second@1.0.0#get`
;; RUN: run %s --invoke 'first#get()'
;; STDOUT: 1
;; RUN: run %s --invoke 'acme:demo/second#get()'
;; STDOUT: 2
;; RUN: run %s --invoke 'acme:demo/second@1.0.0#get()'
;; STDOUT: 2
;; RUN: --format json run %s --invoke 'first#get()'
;; STDOUT: {"reason":"returned","results":["1"]}
(component
  (core module $m
    (func (export "one") (result i32) i32.const 1)
    (func (export "two") (result i32) i32.const 2))
  (core instance $i (instantiate $m))
  (func $one (result u32) (canon lift (core func $i "one")))
  (func $two (result u32) (canon lift (core func $i "two")))
  (instance $first (export "get" (func $one)))
  (instance $second (export "get" (func $two)))
  (export "acme:demo/first@1.0.0" (instance $first))
  (export "acme:demo/second@1.0.0" (instance $second)))

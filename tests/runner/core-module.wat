;; A core module is not a component: say so and how to get one.
;; RUN: run %s --invoke 'f()'
;; EXIT: 1
;; STDERR: is not a WebAssembly component
;; STDERR: hint: this is a core module
(module
  (func (export "f")))

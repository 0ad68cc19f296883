;; A function with a typed parameter: right and wrong arguments.
;; RUN: run %s --invoke 'double(21)'
;; STDOUT: 42
;; RUN: run %s --invoke 'double("twenty-one")'
;; EXIT: 1
;; STDERR: error: argument 1 (`x`) of `double` does not fit: invalid value type
;; STDERR: 1 | double("twenty-one")
;; STDERR:   |        ^^^^^^^^^^^^ expected `u32`
;; STDERR: hint: `double` has type `func(u32) -> u32`; `x` is a `u32`
;; RUN: run %s --invoke 'double(1, 2)'
;; EXIT: 1
;; STDERR: wrong arguments for `double`
;; RUN: run %s --invoke 'double(21'
;; EXIT: 1
;; STDERR: error: invalid call `double(21`: unexpected end of input
;; RUN: run %s --invoke 'triple(1)'
;; EXIT: 1
;; STDERR: error: the component exports no function named `triple`
;; STDERR: hint: exported functions: `double`
;; RUN: run %s
;; EXIT: 1
;; STDERR: does not export `wasi:cli/run`, so it cannot run as a command
;; STDERR: hint: call one of its functions with `--invoke`, e.g. `--invoke 'double(<x: u32>)'`
(component
  (core module $m
    (func (export "double") (param i32) (result i32)
      local.get 0
      i32.const 2
      i32.mul))
  (core instance $i (instantiate $m))
  (func (export "double") (param "x" u32) (result u32)
    (canon lift (core func $i "double"))))

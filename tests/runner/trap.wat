;; A guest that traps: the message and exit code 1, never a panic.
;; RUN: run %s --invoke 'boom()'
;; EXIT: 1
;; STDERR: error: the guest trapped: wasm trap: wasm `unreachable` instruction executed
;; STDERR: boom
(component
  (core module $m
    (func $boom (export "boom")
      unreachable))
  (core instance $i (instantiate $m))
  (func (export "boom")
    (canon lift (core func $i "boom"))))

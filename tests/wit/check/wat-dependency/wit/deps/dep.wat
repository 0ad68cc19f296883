;; The WIT package `acme:dep@0.1.0` as wit-component encodes it, in text form.
(component
  (type (;0;)
    (component
      (type (;0;)
        (instance
          (type (;0;) (func (param "text" string)))
          (export (;0;) "line" (func (type 0)))
        )
      )
      (export (;0;) "acme:dep/log@0.1.0" (instance (type 0)))
    )
  )
  (export (;1;) "log" (type 0))
  (@custom "package-docs" "\01{\22interfaces\22:{\22log\22:{\22docs\22:\22Logs.\22,\22funcs\22:{\22line\22:{\22docs\22:\22Logs a line.\22}}}}}")
)

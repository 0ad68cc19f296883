        if path == "/":
{{^config}}
            status, text = 200, b"Hello from Python!\n"
{{/config}}
{{#config}}
            status, text = 200, greeting()
{{/config}}
{{#keyvalue}}
        elif path == "/visits":
            status, text = visits()
{{/keyvalue}}
        else:
            status, text = 404, b"not found\n"

"""An HTTP handler (`wasi:http/incoming-handler`): `wcomp serve` calls `handle` with a fresh
instance for every request."""

{{import_lines}}
from wit_world.imports.types import (
    Fields,
    IncomingRequest,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam) -> None:
        path = request.path_with_query()
{{routes}}
        headers = Fields.from_list([("content-type", b"text/plain; charset=utf-8")])
        response = OutgoingResponse(headers)
        response.set_status_code(status)
        body = response.body()
        ResponseOutparam.set(response_out, Ok(response))
        with body.write() as stream:
            # `blocking-write-and-flush` takes at most 4096 bytes (more traps): send the rest
            # in turn.
            for start in range(0, len(text), 4096):
                try:
                    stream.blocking_write_and_flush(text[start : start + 4096])
                except Err:
                    break  # the client has gone
        OutgoingBody.finish(body, None)
{{#imports}}
{{helpers}}
{{/imports}}

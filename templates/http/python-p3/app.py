"""A WASI 0.3 HTTP handler (`wasi:http/handler`): `handle` is a coroutine that returns the
response as soon as its headers are ready; its body is a byte stream written by a task of its
own. One instance may answer several requests at once."""

import componentize_py_async_support
import wit_world
from componentize_py_async_support.streams import ByteStreamWriter
{{import_lines}}
from wit_world.imports.wasi_http_types import Fields, Request, Response


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        path = (request.get_path_with_query() or "").split("?")[0]
{{routes}}
        headers = Fields.from_list([("content-type", b"text/plain; charset=utf-8")])
        writer, contents = wit_world.byte_stream()
        # No trailers: the future resolves to `Ok(None)` once its writer is dropped, here.
        _, trailers = (
            wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
                lambda: Ok(None)
            )
        )
        response, _ = Response.new(headers, contents, trailers)
        response.set_status_code(status)
        componentize_py_async_support.spawn(write_body(writer, text))
        return response


async def write_body(writer: ByteStreamWriter, text: bytes) -> None:
    with writer:
        await writer.write_all(text)
{{#imports}}
{{helpers}}
{{/imports}}

"""`auth`: a WASI 0.3 HTTP middleware (`wasi:http/middleware`). It exports the handler the
server calls and imports the next one in the chain, which `wcomp compose` plugs in.

A request without `authorization: Bearer <token>` is answered here with `401`; the next handler
never sees it. Any other request is passed on untouched, and the answer comes back with an
`x-middleware: python` header added; its body streams through without being read here.
"""

import hmac

import componentize_py_async_support
import wit_world
from componentize_py_async_support.streams import ByteStreamWriter
from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports import handler
from wit_world.imports.wasi_http_types import Fields, Request, Response

# A demonstration token: a real service would read it from configuration or verify a
# signed token instead.
TOKEN = b"demo-token"


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        with request.get_headers() as headers:
            credentials = headers.get("authorization")
        if not authorized(credentials):
            return unauthorized()
        # The request moves to the next handler; an error from it propagates to the caller.
        response = await handler.handle(request)
        return tagged(response)


def authorized(credentials: list[bytes]) -> bool:
    """Exactly one `authorization` header, carrying the expected bearer token."""
    if len(credentials) != 1:
        return False
    scheme, _, token = credentials[0].partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), TOKEN)


def tagged(response: Response) -> Response:
    """The same answer with `x-middleware: python` added. A response's headers are immutable,
    so this is a new response around the first one's body and trailers."""
    status = response.get_status_code()
    with response.get_headers() as upstream:
        headers = upstream.clone()
    headers.append("x-middleware", b"python")
    # Whether the body reached the client is not this middleware's concern: it resolves `ok`.
    _, sent = wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
    contents, trailers = Response.consume_body(response, sent)
    answer, _ = Response.new(headers, contents, trailers)
    answer.set_status_code(status)
    return answer


def unauthorized() -> Response:
    headers = Fields.from_list(
        [
            ("content-type", b"text/plain; charset=utf-8"),
            ("www-authenticate", b'Bearer realm="guarded"'),
            ("x-middleware", b"python"),
        ]
    )
    writer, contents = wit_world.byte_stream()
    # No trailers: the future resolves to `Ok(None)` once its writer is dropped, here.
    _, trailers = (
        wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            lambda: Ok(None)
        )
    )
    response, _ = Response.new(headers, contents, trailers)
    response.set_status_code(401)
    componentize_py_async_support.spawn(write_body(writer, b"missing or wrong bearer token\n"))
    return response


async def write_body(writer: ByteStreamWriter, text: bytes) -> None:
    with writer:
        await writer.write_all(text)

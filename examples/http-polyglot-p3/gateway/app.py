"""`gateway`: the service's network handler, a WASI 0.3 HTTP handler (`wasi:http/handler`). It
answers HTTP with JSON, asking the Rust statistics and the Python ranking it is composed with.

    GET  /                 the routes
    POST /stats            {"text": "..."} → {"words": 7, "unique": 5, "longest": "..."}
    POST /top?limit=3      {"text": "..."} → [{"word": "the", "count": 3}, ...]

`handle` is a coroutine; `stats.analyze` and `ranking.top` are plain (sync) functions of
components built the WASI 0.2 way, called like any other function.
"""

import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import componentize_py_async_support
import wit_world
from componentize_py_async_support.streams import ByteStreamWriter
from componentize_py_types import Ok
from wit_world import exports
from wit_world.imports import ranking, stats
from wit_world.imports.wasi_http_types import Fields, Method_Post, Request, Response


class BadRequest(Exception):
    """The body is not the JSON object `{"text": "..."}`."""


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        target = urlsplit(request.get_path_with_query() or "/")
        path = unquote(target.path)
        post = isinstance(request.get_method(), Method_Post)
        try:
            if path == "/" and not post:
                return respond(200, {"routes": ["POST /stats", "POST /top?limit=N"]})
            if path == "/stats" and post:
                summary = stats.analyze(await read_text(request))
                return respond(
                    200,
                    {"words": summary.words, "unique": summary.unique, "longest": summary.longest},
                )
            if path == "/top" and post:
                limit = parse_limit(target.query)
                entries = ranking.top(await read_text(request), limit)
                return respond(200, [{"word": e.word, "count": e.count} for e in entries])
        except BadRequest as err:
            return respond(400, {"error": f'expected a JSON body {{"text": "..."}}: {err}'})
        return respond(404, {"error": f"no such route: {path}"})


def parse_limit(query: str) -> int:
    """`?limit=N` as an unsigned 32-bit number; 3 when it is missing or not one."""
    values = parse_qs(query).get("limit", [""])
    if re.fullmatch(r"[0-9]+", values[0]) and int(values[0]) < 2**32:
        return int(values[0])
    return 3


async def read_text(request: Request) -> str:
    """The `text` of a JSON body `{"text": "..."}`, read from the request's body stream."""
    # Whether the body was read to its end is not the sender's concern here: it resolves `ok`.
    _, done = wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
    contents, trailers = Request.consume_body(request, done)
    data = bytearray()
    with contents, trailers:
        while not contents.writer_dropped:
            data += await contents.read(64 * 1024)
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest(str(err)) from err
    if not isinstance(parsed, dict | None):
        raise BadRequest(f"a JSON {type(parsed).__name__} is not an object")
    # As Go's `encoding/json` reads it: `null`, or no `text`, is the empty text.
    text = (parsed or {}).get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise BadRequest("`text` is not a string")
    return text


def respond(status: int, value: object) -> Response:
    """`value` as JSON with `status`; the body is written by a task of its own."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # Escaped as Go's `encoding/json` escapes them, so this gateway and http-polyglot's Go one
    # answer alike, byte for byte.
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escaped)
    headers = Fields.from_list([("content-type", b"application/json")])
    writer, contents = wit_world.byte_stream()
    # No trailers: the future resolves to `Ok(None)` once its writer is dropped, here.
    _, trailers = (
        wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
            lambda: Ok(None)
        )
    )
    response, _ = Response.new(headers, contents, trailers)
    response.set_status_code(status)
    componentize_py_async_support.spawn(write_body(writer, text.encode() + b"\n"))
    return response


async def write_body(writer: ByteStreamWriter, payload: bytes) -> None:
    with writer:
        await writer.write_all(payload)

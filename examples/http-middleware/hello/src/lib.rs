//! `hello`: the handler behind the middleware (WASI 0.3, `wasi:http/handler`). It knows
//! nothing of tokens; whatever reaches it was let through.
//!
//! - `GET /` answers a greeting;
//! - `POST /echo` answers the request's own body, streamed straight back;
//! - anything else is `404`.

use wasip3::http::types::{ErrorCode, Fields, Method, Request, Response};
use wasip3::{wit_future, wit_stream};

struct Hello;

wasip3::http::service::export!(Hello);

impl wasip3::exports::http::handler::Guest for Hello {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let path_with_query = request.get_path_with_query().unwrap_or_default();
        let path = path_with_query.split('?').next().unwrap_or_default();
        match (request.get_method(), path) {
            (Method::Get, "/") => text(200, "Hello from Rust!\n"),
            (Method::Post, "/echo") => echo(request),
            _ => text(404, "not found\n"),
        }
    }
}

/// The response headers: what the content is, and who answered (the middleware adds its own).
fn headers(content_type: &[u8]) -> Result<Fields, ErrorCode> {
    Fields::from_list(&[
        ("content-type".to_owned(), content_type.to_vec()),
        ("x-handler".to_owned(), b"rust".to_vec()),
    ])
    .map_err(|err| ErrorCode::InternalError(Some(format!("{err:?}"))))
}

fn respond(
    status: u16,
    headers: Fields,
    contents: wasip3::wit_bindgen::StreamReader<u8>,
    trailers: wasip3::wit_bindgen::FutureReader<Result<Option<Fields>, ErrorCode>>,
) -> Result<Response, ErrorCode> {
    let (response, _sent) = Response::new(headers, Some(contents), trailers);
    response
        .set_status_code(status)
        .map_err(|()| ErrorCode::InternalError(Some(format!("bad status {status}"))))?;
    Ok(response)
}

/// A plain-text answer, written by a task of its own once the headers have gone.
fn text(status: u16, text: &'static str) -> Result<Response, ErrorCode> {
    let (mut body, contents) = wit_stream::new();
    // No trailers: the future resolves to `Ok(None)` once its writer is dropped, here.
    let (_, trailers) = wit_future::new(|| Ok(None));
    let response = respond(status, headers(b"text/plain; charset=utf-8")?, contents, trailers)?;
    wasip3::spawn_local(async move {
        body.write_all(text.as_bytes().to_vec()).await;
    });
    Ok(response)
}

/// The request's body becomes the response's, stream to stream: nothing is buffered here.
fn echo(request: Request) -> Result<Response, ErrorCode> {
    let content_type = request
        .get_headers()
        .get("content-type")
        .into_iter()
        .next()
        .unwrap_or_else(|| b"application/octet-stream".to_vec());
    let (_, done) = wit_future::new(|| Ok(()));
    let (contents, trailers) = Request::consume_body(request, done);
    respond(200, headers(&content_type)?, contents, trailers)
}

//! `{{crate_name}}`: a WASI 0.3 HTTP handler (`wasi:http/handler`). `handle` is `async`: the
//! response goes back as soon as its headers are ready, and its body is a stream written by a
//! task of its own. One instance may answer several requests at once.
{{#imports}}

// `wasi::keyvalue::*` and `wasi::config::*`: bindings for the `imports` world in `wit/`, what
// the handler imports besides the `wasi:http` that wasip3 brings.
wit_bindgen::generate!({ world: "imports", path: "wit", generate_all });
{{/imports}}

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_future, wit_stream};

struct Handler;

wasip3::http::service::export!(Handler);

impl wasip3::exports::http::handler::Guest for Handler {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let path_with_query = request.get_path_with_query().unwrap_or_default();
        let (status, text) = match path_with_query.split('?').next() {
{{^config}}
            Some("/") => (200, "Hello from Rust!\n".to_owned()),
{{/config}}
{{#config}}
            Some("/") => (200, greeting()),
{{/config}}
{{#keyvalue}}
            Some("/visits") => visits(),
{{/keyvalue}}
            _ => (404, "not found\n".to_owned()),
        };
        let headers = Fields::from_list(&[(
            "content-type".to_owned(),
            b"text/plain; charset=utf-8".to_vec(),
        )])
        .map_err(|err| ErrorCode::InternalError(Some(format!("{err:?}"))))?;
        let (mut body, contents) = wit_stream::new();
        // No trailers: the future resolves to `Ok(None)` once its writer is dropped, here.
        let (_, trailers) = wit_future::new(|| Ok(None));
        let (response, _sent) = Response::new(headers, Some(contents), trailers);
        response
            .set_status_code(status)
            .map_err(|()| ErrorCode::InternalError(Some(format!("bad status {status}"))))?;
        wasip3::spawn_local(async move {
            // Whatever the client did not take is dropped with the stream.
            body.write_all(text.into_bytes()).await;
        });
        Ok(response)
    }
}
{{#imports}}
{{helpers}}
{{/imports}}
{{#keyvalue}}

/// Counts the requests to `/visits` under the key `visits` of [`BUCKET`]: the status and text
/// of the answer. The increment is atomic: requests served at once each get their own count.
fn visits() -> (u16, String) {
    use wasi::keyvalue::{atomics, store};
    match store::open(BUCKET).and_then(|bucket| atomics::increment(&bucket, "visits", 1)) {
        Ok(count) => (200, format!("{count} visits\n")),
        // Such as a bucket the host does not grant.
        Err(err) => (503, format!("cannot count visits: {err:?}\n")),
    }
}
{{/keyvalue}}

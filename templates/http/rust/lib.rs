//! `{{crate_name}}`: an HTTP handler (`wasi:http/incoming-handler`). `wcomp serve` runs a
//! fresh instance of it for every request.
{{#imports}}

// `wasi::keyvalue::*` and `wasi::config::*`: bindings for the `imports` world in `wit/`, what
// the handler imports besides the `wasi:http` that wstd brings.
wit_bindgen::generate!({ world: "imports", path: "wit", generate_all });
{{/imports}}

use wstd::http::{Body, Error, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    match request.uri().path() {
{{^config}}
        "/" => Ok(Response::new("Hello from Rust!\n".into())),
{{/config}}
{{#config}}
        "/" => Ok(Response::new(greeting().into())),
{{/config}}
{{#keyvalue}}
        "/visits" => visits(),
{{/keyvalue}}
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n".into())?),
    }
}
{{#imports}}
{{helpers}}
{{/imports}}
{{#keyvalue}}

/// Counts the requests to `/visits` under the key `visits` of [`BUCKET`]. The increment is
/// atomic: requests served at once each get their own count.
fn visits() -> Result<Response<Body>, Error> {
    use wasi::keyvalue::{atomics, store};
    let counted = store::open(BUCKET).and_then(|bucket| atomics::increment(&bucket, "visits", 1));
    Ok(match counted {
        Ok(count) => Response::new(format!("{count} visits\n").into()),
        // Such as a bucket the host does not grant.
        Err(err) => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(format!("cannot count visits: {err:?}\n").into())?,
    })
}
{{/keyvalue}}

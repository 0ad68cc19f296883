//! `{{crate_name}}`: an HTTP handler (`wasi:http/incoming-handler`). `wcomp serve` runs a
//! fresh instance of it for every request.

use wstd::http::{Body, Error, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    match request.uri().path() {
        "/" => Ok(Response::new("Hello from Rust!\n".into())),
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n".into())?),
    }
}

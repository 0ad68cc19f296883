//! The handler `benches/keyvalue.sh` measures, in place of the `src/lib.rs` of
//! `wcomp new … --lang rust --template http --with keyvalue`: `GET /` answers a fixed text
//! and touches no state, for the baseline; `GET /state?bucket=<name>` opens bucket `<name>`
//! (the empty name is allowed: it is the only bucket `wasmtime serve -Skeyvalue` has), reads
//! the key `last` once and adds 1 to the key `hits`, and answers the new count. The read is
//! there so that every request pays for a lookup as well as a write.

// `wasi::keyvalue::*`: bindings for the `imports` world in `wit/`, as in the scaffold.
wit_bindgen::generate!({ world: "imports", path: "wit", generate_all });

use wstd::http::{Body, Error, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    match request.uri().path() {
        "/" => Ok(Response::new("Hello from Rust!\n".into())),
        "/state" => match bucket_name(request.uri().query().unwrap_or("")) {
            Some(bucket) => state(bucket),
            None => Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body("usage: GET /state?bucket=<name>\n".into())?),
        },
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n".into())?),
    }
}

/// The value of `bucket=` in `query`, possibly empty. Not percent-decoded: the benchmark's
/// bucket names are plain words.
fn bucket_name(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("bucket="))
}

/// One `get` of `last` and one atomic `increment` of `hits` in `bucket`; answers the count,
/// or 503 with the host's error (such as a bucket it does not grant).
fn state(bucket: &str) -> Result<Response<Body>, Error> {
    use wasi::keyvalue::{atomics, store};
    let counted = store::open(bucket).and_then(|bucket| {
        bucket.get("last")?;
        atomics::increment(&bucket, "hits", 1)
    });
    Ok(match counted {
        Ok(count) => Response::new(format!("{count}\n").into()),
        Err(err) => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(format!("{err:?}\n").into())?,
    })
}

//! A WASI 0.3 HTTP handler (`wasi:http/handler@0.3`) with one route per way a request can go,
//! for `cli/tests/serve.rs`: the 0.3 counterpart of `server.rs`.

use std::sync::atomic::{AtomicU32, Ordering};

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_future, wit_stream};

struct Service;

wasip3::http::service::export!(Service);

/// Counts requests this instance has seen: always 1 when every request gets a fresh instance.
static SEEN: AtomicU32 = AtomicU32::new(0);

fn internal(message: impl std::fmt::Debug) -> ErrorCode {
    ErrorCode::InternalError(Some(format!("{message:?}")))
}

/// A response whose body is `chunks`, written by a task of its own after the headers went out.
fn respond(status: u16, chunks: Vec<Vec<u8>>) -> Result<Response, ErrorCode> {
    respond_then(status, chunks, false)
}

/// [`respond`], and a trap once the chunks are written if `trap`.
fn respond_then(status: u16, chunks: Vec<Vec<u8>>, trap: bool) -> Result<Response, ErrorCode> {
    let headers = Fields::from_list(&[(
        "content-type".to_owned(),
        b"text/plain; charset=utf-8".to_vec(),
    )])
    .map_err(internal)?;
    let (mut body, contents) = wit_stream::new();
    let (_, trailers) = wit_future::new(|| Ok(None));
    let (response, _sent) = Response::new(headers, Some(contents), trailers);
    response.set_status_code(status).map_err(internal)?;
    wasip3::spawn_local(async move {
        for chunk in chunks {
            if !body.write_all(chunk).await.is_empty() {
                return;
            }
        }
        assert!(!trap, "the handler was asked to trap mid-body");
    });
    Ok(response)
}

fn text(text: String) -> Result<Response, ErrorCode> {
    respond(200, vec![text.into_bytes()])
}

impl wasip3::exports::http::handler::Guest for Service {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let seen = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
        let target = request.get_path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let number = |key: &str, default: u64| {
            query
                .strip_prefix(key)
                .and_then(|v| v.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        match path {
            "/" => text("ok\n".into()),
            "/seen" => text(format!("{seen}\n")),
            "/trap" => panic!("the handler was asked to trap"),
            "/spin" => {
                #[allow(clippy::empty_loop)]
                loop {}
            }
            "/sleep" => {
                let ms = number("ms", 100);
                eprintln!("sleeping for {ms}ms");
                wasip3::clocks::monotonic_clock::wait_for(ms * 1_000_000).await;
                text(format!("slept {ms}ms\n"))
            }
            "/echo" => {
                let (_, result) = wit_future::new(|| Ok(()));
                let (contents, _trailers) = Request::consume_body(request, result);
                let body = contents.collect().await;
                text(format!("{} bytes\n", body.len()))
            }
            "/stream" => {
                // `kib` chunks of 1 KiB, each written when the client has taken the last.
                let kib = number("kib", 1024);
                respond(200, (0..kib).map(|_| vec![b'x'; 1024]).collect())
            }
            "/trap-mid-body" => respond_then(200, vec![vec![b'x'; 1024]; 4], true),
            "/fail" => Err(ErrorCode::InternalError(Some("asked to fail".into()))),
            _ => respond(404, vec![b"not found\n".to_vec()]),
        }
    }
}

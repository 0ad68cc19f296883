//! An HTTP handler with one route per way a request can go wrong, for `cli/tests/serve.rs`.

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};

use wstd::http::body::{Bytes, Frame, HttpBody};
use wstd::http::{Body, Client, Error, Request, Response, StatusCode};
use wstd::time::Duration;

/// Counts requests this instance has seen: always 1 when every request gets a fresh instance.
static SEEN: AtomicU32 = AtomicU32::new(0);

#[wstd::http_server]
async fn main(mut request: Request<Body>) -> Result<Response<Body>, Error> {
    let seen = SEEN.fetch_add(1, Ordering::SeqCst) + 1;
    let query = request.uri().query().unwrap_or("").to_owned();
    let text = match request.uri().path() {
        "/" => "ok\n".to_owned(),
        "/seen" => format!("{seen}\n"),
        "/trap" => panic!("the handler was asked to trap"),
        "/trap-mid-body" => {
            return Ok(Response::new(Body::from_http_body(TrapMidBody(false))));
        }
        "/spin" => {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        "/sleep" => {
            let ms = query.strip_prefix("ms=").and_then(|v| v.parse().ok()).unwrap_or(100);
            // Tells whoever reads the server's stderr that the request is in the guest.
            eprintln!("sleeping for {ms}ms");
            wstd::task::sleep(Duration::from_millis(ms)).await;
            format!("slept {ms}ms\n")
        }
        "/hoard" => {
            let mib: usize = query.strip_prefix("mib=").and_then(|v| v.parse().ok()).unwrap_or(1);
            let bytes = vec![1u8; mib << 20];
            format!("held {} MiB\n", bytes.iter().map(|b| usize::from(*b)).sum::<usize>() >> 20)
        }
        "/echo" => {
            let body = request.body_mut().contents().await?;
            format!("{} bytes\n", body.len())
        }
        "/fetch" => {
            let url = query.strip_prefix("url=").unwrap_or("http://example.com/");
            let outgoing = Request::get(url).body(Body::empty())?;
            match Client::new().send(outgoing).await {
                Ok(response) => format!("fetched: {}\n", response.status()),
                Err(err) => format!("fetch failed: {err:?}\n"),
            }
        }
        "/big" => {
            // `kib` KiB in one body, which wstd writes out as the host takes it: a client that
            // stops reading leaves the rest unsent.
            let kib: usize = query.strip_prefix("kib=").and_then(|v| v.parse().ok()).unwrap_or(1024);
            "x".repeat(kib << 10)
        }
        _ => {
            return Ok(Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("not found\n".into())?);
        }
    };
    Ok(Response::new(text.into()))
}

/// A response body that sends 1 KiB, then traps: the handler fails after its headers went
/// out.
struct TrapMidBody(bool);

impl HttpBody for TrapMidBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let sent = std::mem::replace(&mut self.0, true);
        assert!(!sent, "the handler was asked to trap mid-body");
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 1024])))))
    }
}

//! Response bodies: wcomp's own (errors, limits) and the guest's, the latter counted as they
//! stream and turned into an error (an aborted response, never a truncated one that looks
//! whole) when the guest fails after it has sent its headers.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use tokio::sync::oneshot;
use wasmtime_wasi_http::Error as HttpError;

/// Every response body the server sends.
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, HttpError>;

/// A body wcomp writes itself.
pub fn text(text: impl Into<Bytes>) -> ResponseBody {
    http_body_util::Full::new(text.into())
        .map_err(|never: std::convert::Infallible| -> HttpError { match never {} })
        .boxed_unsync()
}

/// The guest's body, counted; calls `done` once with the bytes sent and whether it ended
/// whole, when it ends or is dropped.
///
/// The guest's stream ends the same way whether the guest finished its body or dropped it
/// and then trapped, so at its end the body waits for the guest's outcome (`outcome`: true
/// when the handler returned) and aborts the response if the guest failed. It waits on an
/// error of the stream too (the guest aborted its body, then returned or trapped), so that
/// `done` runs once the guest's outcome is known and the log line can say why.
///
/// A body of known length (`content-length`) is never polled to its end: the server stops
/// once it has written that many bytes and drops the body. Such a body is whole when all its
/// bytes went out; dropped short of them (or short of its end, without a length), the client
/// went away or the response was cut.
pub struct Counted<B> {
    inner: B,
    bytes: u64,
    /// The length the response announces: its `content-length` header, or the body's exact
    /// size.
    length: Option<u64>,
    outcome: Option<Outcome>,
    /// How the guest's stream ended, while the body waits for the guest's outcome: with an
    /// error (`Some(Some(_))`) or at its end (`Some(None)`).
    ended: Option<Option<HttpError>>,
    done: Option<Box<dyn FnOnce(u64, bool) + Send>>,
}

/// Whether the guest succeeded, as a body learns it once its stream has ended: polled only
/// then, so it may look at how things stand at that moment.
pub type Outcome = Pin<Box<dyn std::future::Future<Output = bool> + Send>>;

/// The outcome sent on `outcome`; a dropped sender is a failure.
pub fn sent_outcome(outcome: oneshot::Receiver<bool>) -> Outcome {
    Box::pin(async move { outcome.await.unwrap_or(false) })
}

impl<B> Counted<B> {
    /// A body whose guest's outcome is sent on `outcome` (a dropped sender is a failure).
    pub fn new(
        inner: B,
        length: Option<u64>,
        outcome: oneshot::Receiver<bool>,
        done: impl FnOnce(u64, bool) + Send + 'static,
    ) -> Self
    where
        B: Body,
    {
        Self::with_outcome(inner, length, sent_outcome(outcome), done)
    }

    /// A body whose guest's outcome is what `outcome` resolves to.
    pub fn with_outcome(
        inner: B,
        length: Option<u64>,
        outcome: Outcome,
        done: impl FnOnce(u64, bool) + Send + 'static,
    ) -> Self
    where
        B: Body,
    {
        // Without the header, the server announces the body's own exact size, if it has one.
        let length = length.or_else(|| inner.size_hint().exact());
        Self {
            inner,
            bytes: 0,
            length,
            outcome: Some(outcome),
            ended: None,
            done: Some(Box::new(done)),
        }
    }

    fn finish(&mut self, whole: bool) {
        if let Some(done) = self.done.take() {
            done(self.bytes, whole);
        }
    }
}

impl<B> Body for Counted<B>
where
    B: Body<Data = Bytes, Error = HttpError> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        if this.ended.is_none() {
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        this.bytes += data.len() as u64;
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Some(Err(err)) => this.ended = Some(Some(err)),
                None => this.ended = Some(None),
            }
        }
        let guest_ok = match this.outcome.as_mut().map(|rx| Pin::new(rx).poll(cx)) {
            Some(Poll::Pending) => return Poll::Pending,
            Some(Poll::Ready(ok)) => ok,
            None => true,
        };
        this.outcome = None;
        match this.ended.replace(None).flatten() {
            Some(err) => {
                this.finish(false);
                Poll::Ready(Some(Err(err)))
            }
            None if guest_ok => {
                this.finish(true);
                Poll::Ready(None)
            }
            None => {
                // The guest stopped mid-body: abort the response rather than let the client
                // take a cut-short body for a complete one.
                this.finish(false);
                Poll::Ready(Some(Err(HttpError::InternalError(Some(
                    "the guest failed while writing the response body".to_owned(),
                )))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Counted<B> {
    fn drop(&mut self) {
        let whole = self.length == Some(self.bytes);
        self.finish(whole);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A body of unknown length sent a byte at a time, as a guest may stream it: the server
    /// learns a length, if at all, from the `content-length` header. It ends with the error,
    /// if any (the guest aborted it).
    struct Streamed(Vec<u8>, Option<HttpError>);

    impl Body for Streamed {
        type Data = Bytes;
        type Error = HttpError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
            if self.0.is_empty() {
                return Poll::Ready(self.1.take().map(Err));
            }
            let byte = self.0.remove(0);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![byte])))))
        }
    }

    fn inner(body: &'static str, streamed: bool) -> ResponseBody {
        if streamed {
            Streamed(body.as_bytes().to_vec(), None).boxed_unsync()
        } else {
            text(body)
        }
    }

    /// Serves one response holding `body` over a real socket (with a `content-length` header
    /// when `with_length`, chunked otherwise) after the guest ended well or not; returns what
    /// the client read and what the body reported: bytes sent and whether it was whole.
    fn serve_once(body: &'static str, with_length: bool, guest_ok: bool) -> (String, (u64, bool)) {
        serve_body(body, false, with_length, guest_ok)
    }

    /// [`serve_once`] with the body sent at once (`Full`, whose size the server sees) or
    /// streamed a byte at a time (`streamed`, of unknown size).
    fn serve_body(
        body: &'static str,
        streamed: bool,
        with_length: bool,
        guest_ok: bool,
    ) -> (String, (u64, bool)) {
        let runtime = crate::async_runtime::current_thread().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let reported = Arc::new(Mutex::new(None));
            let server = {
                let reported = reported.clone();
                tokio::spawn(async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    let service = hyper::service::service_fn(move |_request| {
                        let reported = reported.clone();
                        async move {
                            let (tx, rx) = oneshot::channel();
                            tx.send(guest_ok).unwrap();
                            let length = with_length.then_some(body.len() as u64);
                            let counted = Counted::new(
                                inner(body, streamed),
                                length,
                                rx,
                                move |bytes, whole| {
                                    *reported.lock().unwrap() = Some((bytes, whole));
                                },
                            );
                            let mut response = http::Response::new(counted);
                            if with_length {
                                response
                                    .headers_mut()
                                    .insert(http::header::CONTENT_LENGTH, body.len().into());
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                })
            };
            let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
            client
                .write_all(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut read = Vec::new();
            client.read_to_end(&mut read).await.unwrap();
            server.await.unwrap();
            let reported = reported.lock().unwrap().take().expect("the body reported");
            (String::from_utf8(read).unwrap(), reported)
        })
    }

    #[test]
    fn a_body_of_known_length_sent_in_full_is_whole() {
        // The server stops polling once the announced bytes are out and drops the body.
        let (read, reported) = serve_body("hello", true, true, true);
        assert!(read.contains("content-length: 5\r\n"), "{read:?}");
        assert!(read.ends_with("\r\n\r\nhello"), "{read:?}");
        assert_eq!(reported, (5, true));
    }

    #[test]
    fn a_body_of_known_size_sent_in_full_is_whole() {
        let (read, reported) = serve_once("hello", false, true);
        assert!(read.contains("content-length: 5\r\n"), "{read:?}");
        assert!(read.ends_with("\r\n\r\nhello"), "{read:?}");
        assert_eq!(reported, (5, true));
    }

    #[test]
    fn a_streamed_body_polled_to_its_end_is_whole() {
        let (read, reported) = serve_body("hello", true, false, true);
        assert!(read.contains("transfer-encoding: chunked"), "{read:?}");
        assert!(read.ends_with("1\r\no\r\n0\r\n\r\n"), "{read:?}");
        assert_eq!(reported, (5, true));
    }

    /// An error of the guest's stream ends the body only once the guest's outcome is known,
    /// so the log line written then has the guest's error.
    #[test]
    fn an_aborted_body_ends_once_the_guest_is_done() {
        let (tx, rx) = oneshot::channel();
        let reported = Arc::new(Mutex::new(None));
        let sink = reported.clone();
        let aborted = Streamed(b"hello".to_vec(), Some(HttpError::HttpProtocolError));
        let mut body = Counted::new(aborted, None, rx, move |bytes, whole| {
            *sink.lock().unwrap() = Some((bytes, whole));
        });
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut poll = || Pin::new(&mut body).poll_frame(&mut cx);
        for _ in 0..5 {
            assert!(matches!(poll(), Poll::Ready(Some(Ok(_)))));
        }
        assert!(poll().is_pending());
        assert!(poll().is_pending());
        assert_eq!(*reported.lock().unwrap(), None);
        tx.send(false).unwrap();
        assert!(matches!(
            poll(),
            Poll::Ready(Some(Err(HttpError::HttpProtocolError)))
        ));
        assert_eq!(*reported.lock().unwrap(), Some((5, false)));
    }

    #[test]
    fn a_streamed_body_of_a_failed_guest_is_aborted() {
        // No closing chunk (here not even the buffered head): the client can tell the
        // response is incomplete.
        let (read, reported) = serve_body("hello", true, false, false);
        assert!(!read.ends_with("0\r\n\r\n"), "{read:?}");
        assert_eq!(reported, (5, false));
    }
}

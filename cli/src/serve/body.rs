//! Response bodies: wcomp's own (errors, limits) and the guest's, the latter counted as they
//! stream and turned into an error (an aborted response, never a truncated one that looks
//! whole) when the guest fails after it has sent its headers.

use std::future::Future as _;
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
/// whole, when it ends or is dropped (the client went away).
///
/// The guest's stream ends the same way whether the guest finished its body or dropped it
/// and then trapped, so at its end the body waits for the guest's outcome (`outcome`: true
/// when the handler returned) and aborts the response if the guest failed.
pub struct Counted<B> {
    inner: B,
    bytes: u64,
    outcome: Option<oneshot::Receiver<bool>>,
    done: Option<Box<dyn FnOnce(u64, bool) + Send>>,
}

impl<B> Counted<B> {
    pub fn new(
        inner: B,
        outcome: oneshot::Receiver<bool>,
        done: impl FnOnce(u64, bool) + Send + 'static,
    ) -> Self {
        Self {
            inner,
            bytes: 0,
            outcome: Some(outcome),
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
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.finish(false);
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                let guest_ok = match this.outcome.as_mut().map(|rx| Pin::new(rx).poll(cx)) {
                    Some(Poll::Pending) => return Poll::Pending,
                    Some(Poll::Ready(result)) => result.unwrap_or(false),
                    None => true,
                };
                this.outcome = None;
                if guest_ok {
                    this.finish(true);
                    Poll::Ready(None)
                } else {
                    // The guest stopped mid-body: abort the response rather than let the
                    // client take a cut-short body for a complete one.
                    this.finish(false);
                    Poll::Ready(Some(Err(HttpError::InternalError(Some(
                        "the guest failed while writing the response body".to_owned(),
                    )))))
                }
            }
            Poll::Pending => Poll::Pending,
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
        self.finish(false);
    }
}

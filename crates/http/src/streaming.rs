//! Bytes that leave filegate through the API itself instead of straight from S3: the
//! presigned-URL proxy and `GET /v1/files/{id}/content`.
//!
//! The body goes frame by frame from S3's response to the client's and is never collected,
//! so memory stays flat whatever the object's size. Dropping the response (the client went
//! away) drops S3's body with it, which closes that connection: nothing more is read.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use filegate_core::content::Content;
use filegate_domain::DomainError;
use filegate_domain::byte_range::{ByteRange, StreamPace, invalid_range};
use filegate_domain::download::is_inline_safe;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use http_body::{Frame, SizeHint};

use crate::error::ApiError;

/// 416, with the object's size when known so the client can ask again.
pub fn range_not_satisfiable(content_range: Option<HeaderValue>) -> Response {
    let mut response = ApiError::from(
        DomainError::range_not_satisfiable(
            "range_not_satisfiable",
            "the range starts past the end of the object",
        )
        .with_param("Range"),
    )
    .into_response();
    if let Some(value) = content_range {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// The request's `Range` header, if it has one we serve (see [`ByteRange::parse`]).
pub fn byte_range(headers: &HeaderMap) -> Result<Option<ByteRange>, ApiError> {
    let mut values = headers.get_all(header::RANGE).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid_range("send at most one Range header").into());
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::from(invalid_range("Range must be ASCII, like bytes=0-99")))?;
    Ok(ByteRange::parse(value)?)
}

/// The headers that describe the bytes, in what the client gets.
/// Not `Content-Encoding`: both routes serve the bytes as stored, and a decoded body would
/// break ranges.
const DESCRIBING_HEADERS: &[HeaderName] = &[
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::CONTENT_DISPOSITION,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// An object on its way to the client: `200`, or `206` for a range.
#[derive(Debug)]
pub struct StreamedObject {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
}

impl StreamedObject {
    /// Keeps only the headers of `headers` that describe the bytes (`DESCRIBING_HEADERS`:
    /// never S3's `x-amz-*`, cookies or the like), and makes the response safe to serve from
    /// the API's own origin: every type that is not inline-safe becomes an attachment, and
    /// nothing is sniffed or cached by others.
    pub fn new(partial: bool, headers: &HeaderMap, body: Body, pace: StreamPace) -> Self {
        let mut kept = HeaderMap::with_capacity(DESCRIBING_HEADERS.len() + 3);
        for name in DESCRIBING_HEADERS {
            if let Some(value) = headers.get(name) {
                kept.insert(name.clone(), value.clone());
            }
        }
        let content_type = kept
            .entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/octet-stream"));
        let unsafe_inline = content_type
            .to_str()
            .ok()
            .and_then(|t| t.parse::<mime::Mime>().ok())
            .is_none_or(|t| !is_inline_safe(t.essence_str()));
        if unsafe_inline {
            let disposition = kept.get(header::CONTENT_DISPOSITION).cloned();
            kept.insert(
                header::CONTENT_DISPOSITION,
                as_attachment(disposition.as_ref()),
            );
        }
        kept.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        kept.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        kept.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        Self {
            status: if partial {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            },
            headers: kept,
            body: Body::new(PaceGuard::new(
                Body::new(StallGuard::new(body, pace.upstream_stall)),
                pace,
            )),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Ends a body with an error when its source has sent nothing for `limit` while we were
/// waiting for it. Only time spent waiting on the source counts: a slow client (Lambda
/// streams at 2 MB/s) polls rarely, which is not a stall.
struct StallGuard {
    inner: Body,
    limit: Duration,
    /// Made at the first wait (a timer needs the runtime, which building a response may not
    /// have), then reset at each wait.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    waiting: bool,
}

impl StallGuard {
    fn new(inner: Body, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            deadline: None,
            waiting: false,
        }
    }
}

impl http_body::Body for StallGuard {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let deadline = tokio::time::Instant::now() + this.limit;
                let timer = this
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.waiting {
                    this.waiting = true;
                    timer.as_mut().reset(deadline);
                }
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        tracing::warn!(
                            seconds = this.limit.as_secs(),
                            "S3 stalled mid-body; stream abandoned"
                        );
                        Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "S3 sent nothing in time",
                        )))))
                    }
                    Poll::Pending => Poll::Pending,
                }
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

/// Ends a body whose client takes it too slowly ([`StreamPace`]), with an error, so that the
/// connection (and the function instance) is let go. Time counts from the first poll; the
/// verdict is taken whenever the body is polled, which a client that reads is doing.
struct PaceGuard {
    inner: Body,
    pace: StreamPace,
    started: Option<tokio::time::Instant>,
    delivered: u64,
}

impl PaceGuard {
    fn new(inner: Body, pace: StreamPace) -> Self {
        Self {
            inner,
            pace,
            started: None,
            delivered: 0,
        }
    }
}

impl http_body::Body for PaceGuard {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let now = tokio::time::Instant::now();
        let started = *this.started.get_or_insert(now);
        if let Some(reason) = this.pace.verdict(this.delivered, now - started) {
            tracing::warn!(delivered = this.delivered, reason, "stream ended");
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                reason,
            )))));
        }
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &frame
            && let Some(data) = frame.data_ref()
        {
            this.delivered += data.len() as u64;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `attachment`, keeping the file name parameters of `inline; filename=…`.
fn as_attachment(disposition: Option<&HeaderValue>) -> HeaderValue {
    let params = disposition
        .and_then(|d| d.to_str().ok())
        .and_then(|d| d.split_once(';'))
        .map(|(_, params)| params.trim())
        .filter(|p| !p.is_empty());
    match params {
        Some(params) => HeaderValue::from_str(&format!("attachment; {params}"))
            .unwrap_or(HeaderValue::from_static("attachment")),
        None => HeaderValue::from_static("attachment"),
    }
}

impl IntoResponse for StreamedObject {
    fn into_response(self) -> Response {
        let mut response = Response::new(self.body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// The response to `GET /v1/files/{id}/content`: the file's bytes with its own type and
/// disposition, or a 416 carrying `Content-Range: bytes */size`.
pub fn content_response(content: Content, pace: StreamPace) -> Response {
    match content {
        Content::Stream(file) => {
            let mut headers = HeaderMap::new();
            let mut put = |name: HeaderName, value: Option<String>| {
                if let Some(value) = value.and_then(|v| HeaderValue::try_from(v).ok()) {
                    headers.insert(name, value);
                }
            };
            put(header::CONTENT_TYPE, Some(file.content_type));
            put(
                header::CONTENT_LENGTH,
                Some(file.content_length.to_string()),
            );
            put(header::CONTENT_DISPOSITION, Some(file.content_disposition));
            put(header::ETAG, file.etag);
            put(header::LAST_MODIFIED, file.last_modified);
            let partial = file.content_range.is_some();
            put(header::CONTENT_RANGE, file.content_range);
            StreamedObject::new(partial, &headers, Body::new(file.body), pace).into_response()
        }
        Content::RangeNotSatisfiable { size } => {
            range_not_satisfiable(HeaderValue::from_str(&format!("bytes */{size}")).ok())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body fed through a channel, so that the test decides when frames arrive.
    fn channel_body() -> (
        tokio::sync::mpsc::UnboundedSender<Result<Frame<Bytes>, std::io::Error>>,
        StallGuard,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let frames = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|frame| (frame, rx))
        });
        let body = Body::new(http_body_util::StreamBody::new(frames));
        (tx, StallGuard::new(body, Duration::from_secs(30)))
    }

    fn data(text: &'static str) -> Result<Frame<Bytes>, std::io::Error> {
        Ok(Frame::data(Bytes::from_static(text.as_bytes())))
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_stalls_ends_the_body_with_an_error() {
        use http_body_util::BodyExt as _;
        let (tx, mut body) = channel_body();
        tx.send(data("abc")).unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "abc");
        // A slow reader comes back after a minute and the next bytes are there: no stall.
        tokio::time::sleep(Duration::from_secs(60)).await;
        tx.send(data("def")).unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "def");
        // Now the source sends nothing: after 30 s of waiting for it, the body fails.
        let started = tokio::time::Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(600), body.frame())
            .await
            .expect("the stall was never detected")
            .unwrap()
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        assert!(error.to_string().contains("in time"), "{error}");
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_is_slow_but_steady_is_not_a_stall() {
        use http_body_util::BodyExt as _;
        let (tx, mut body) = channel_body();
        let sender = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_secs(20)).await;
                tx.send(data("x")).unwrap();
            }
        });
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            frame.unwrap();
            frames += 1;
        }
        assert_eq!(frames, 5);
        sender.await.unwrap();
    }

    #[test]
    fn two_range_headers_are_400() {
        let mut headers = HeaderMap::new();
        headers.append(header::RANGE, HeaderValue::from_static("bytes=0-1"));
        headers.append(header::RANGE, HeaderValue::from_static("bytes=2-3"));
        assert_eq!(byte_range(&headers).unwrap_err().code(), "invalid_range");
        assert_eq!(byte_range(&HeaderMap::new()).unwrap(), None);
    }

    fn served(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut upstream = HeaderMap::new();
        for (name, value) in pairs {
            upstream.insert(name.clone(), HeaderValue::from_static(value));
        }
        StreamedObject::new(false, &upstream, Body::empty(), StreamPace::default()).headers
    }

    #[test]
    fn only_describing_headers_pass_and_safety_headers_are_added() {
        let headers = served(&[
            (header::CONTENT_TYPE, "application/pdf"),
            (header::CONTENT_LENGTH, "10"),
            (header::ETAG, "\"abc\""),
            (header::SET_COOKIE, "a=b"),
            (header::CONTENT_ENCODING, "gzip"),
            (HeaderName::from_static("x-amz-request-id"), "r"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"a.pdf\"; filename*=UTF-8''a.pdf",
            ),
        ]);
        assert_eq!(headers["content-type"], "application/pdf");
        assert_eq!(headers["content-length"], "10");
        assert_eq!(headers["etag"], "\"abc\"");
        assert_eq!(
            headers["content-disposition"],
            "inline; filename=\"a.pdf\"; filename*=UTF-8''a.pdf"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "private, no-store");
        assert!(headers.get("set-cookie").is_none());
        assert!(headers.get("content-encoding").is_none());
        assert!(headers.get("x-amz-request-id").is_none());
    }

    #[test]
    fn active_or_unknown_types_are_always_attachments() {
        let headers = served(&[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "inline; filename=\"x.html\""),
        ]);
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"x.html\""
        );
        let headers = served(&[(header::CONTENT_TYPE, "image/svg+xml")]);
        assert_eq!(headers["content-disposition"], "attachment");
        let headers = served(&[(header::CONTENT_TYPE, "not a type")]);
        assert_eq!(headers["content-disposition"], "attachment");
        // No type: served as application/octet-stream, which is not inline-safe.
        let headers = served(&[]);
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert_eq!(headers["content-disposition"], "attachment");
    }
}

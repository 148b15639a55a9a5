//! Bytes that leave filegate through the API itself instead of straight from S3: the
//! presigned-URL proxy ([`crate::proxy`]) and `GET /v1/files/{id}/content`.
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
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use http_body::{Frame, SizeHint};

use crate::audit::{AuditAction, AuditEvent, RequestOrigin};
use crate::auth::Caller;
use crate::download::{Disposition, content_disposition, ensure_downloadable, is_active_content};
use crate::error::ApiError;
use crate::ids::FileId;
use crate::objects::ObjectRead;
use crate::service::FileService;
use crate::timestamp::Timestamp;

/// Lambda ends a streamed response at 200 MB (the first 6 MB go out uncapped, the rest at
/// about 2 MB/s), so the proxy refuses larger bodies before sending a byte rather than
/// cutting them off mid-way. Decimal megabytes: the conservative reading of the limit.
pub const LAMBDA_STREAM_LIMIT: u64 = 200_000_000;

/// How long S3 may send nothing, while we wait for it, before the stream is abandoned. The
/// SDK and hyper time out connects and headers, never a body (aws-sdk-rust#1176); without
/// this a stalled connection would hold the function until Lambda's own timeout.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// One byte range (RFC 9110 §14.1.2). S3 serves one range per GET, so that is all we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-` or `bytes=first-last` (both inclusive).
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The request's `Range` header, if it has one we serve. As RFC 9110 §14.2 has it, a
    /// unit other than `bytes` is ignored (the whole object is sent), and so is a set of
    /// several ranges (as S3 does); a malformed byte range is refused.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(header::RANGE).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(invalid_range("send at most one Range header"));
        }
        let value = value
            .to_str()
            .map_err(|_| invalid_range("Range must be ASCII, like bytes=0-99"))?;
        Self::parse(value)
    }

    /// `bytes=0-99`, `bytes=100-`, `bytes=-100`; `None` for what is ignored.
    pub fn parse(value: &str) -> Result<Option<Self>, ApiError> {
        let (unit, set) = value
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid_range("Range must look like bytes=0-99"))?;
        if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
            return Ok(None);
        }
        Self::parse_one(set).map(Some)
    }

    fn parse_one(set: &str) -> Result<Self, ApiError> {
        let (first, last) = set
            .trim()
            .split_once('-')
            .ok_or_else(|| invalid_range("Range must look like bytes=0-99"))?;
        match (first.trim(), last.trim()) {
            ("", "") => Err(invalid_range("Range must look like bytes=0-99")),
            ("", suffix) => match position(suffix)? {
                0 => Err(ApiError::range_not_satisfiable(
                    "range_not_satisfiable",
                    "bytes=-0 selects no bytes",
                )),
                n => Ok(Self::Suffix(n)),
            },
            (first, "") => Ok(Self::From {
                first: position(first)?,
                last: None,
            }),
            (first, last) => {
                let (first, last) = (position(first)?, position(last)?);
                if last < first {
                    return Err(invalid_range("a range's last byte comes before its first"));
                }
                Ok(Self::From {
                    first,
                    last: Some(last),
                })
            }
        }
    }

    /// The header value to send on.
    pub fn header_value(&self) -> String {
        match self {
            Self::From { first, last: None } => format!("bytes={first}-"),
            Self::From {
                first,
                last: Some(last),
            } => format!("bytes={first}-{last}"),
            Self::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

fn position(digits: &str) -> Result<u64, ApiError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_range("range positions are whole numbers of bytes"));
    }
    digits
        .parse()
        .map_err(|_| invalid_range("range position out of bounds"))
}

fn invalid_range(message: &'static str) -> ApiError {
    ApiError::invalid("invalid_range", message).with_param("Range")
}

/// 416, with the object's size when known so the client can ask again.
pub fn range_not_satisfiable(content_range: Option<HeaderValue>) -> Response {
    let mut response = ApiError::range_not_satisfiable(
        "range_not_satisfiable",
        "the range starts past the end of the object",
    )
    .with_param("Range")
    .into_response();
    if let Some(value) = content_range {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// 413 before the first byte, for bodies Lambda would cut off.
pub fn ensure_streamable(content_length: u64, max_bytes: u64) -> Result<(), ApiError> {
    if content_length <= max_bytes {
        return Ok(());
    }
    Err(ApiError::too_large(
        "too_large_for_proxy",
        format!(
            "the object is {content_length} bytes and the proxy streams at most {max_bytes} \
             (Lambda's limit for streamed responses): get a presigned URL from \
             POST /v1/files/{{id}}/download_url, or fetch it in Range requests of at most \
             {max_bytes} bytes"
        ),
    ))
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
    /// Keeps only [`DESCRIBING_HEADERS`] of `headers` (never S3's `x-amz-*`, cookies or the
    /// like), and makes the response safe to serve from the API's own origin: active types
    /// (HTML, SVG, …) become attachments, and nothing is sniffed or cached by others.
    pub fn new(partial: bool, headers: &HeaderMap, body: Body) -> Self {
        let mut kept = HeaderMap::with_capacity(DESCRIBING_HEADERS.len() + 3);
        for name in DESCRIBING_HEADERS {
            if let Some(value) = headers.get(name) {
                kept.insert(name.clone(), value.clone());
            }
        }
        let content_type = kept
            .entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/octet-stream"));
        let active = content_type
            .to_str()
            .ok()
            .and_then(|t| t.parse::<mime::Mime>().ok())
            .is_none_or(|t| is_active_content(t.essence_str()));
        if active {
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
            body: Body::new(StallGuard::new(body, STALL_TIMEOUT)),
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

/// `GET /v1/files/{id}/content`'s query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `true`: the browser saves the file; default `false` shows it inline (active types
    /// such as HTML and SVG are always attachments).
    pub attachment: Option<bool>,
}

/// What the content was asked for as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRequest {
    pub attachment: bool,
    pub range: Option<ByteRange>,
}

/// Either the bytes, or a 416 carrying `Content-Range: bytes */size`.
#[derive(Debug)]
pub enum Content {
    Stream(StreamedObject),
    RangeNotSatisfiable { size: u64 },
}

impl IntoResponse for Content {
    fn into_response(self) -> Response {
        match self {
            Self::Stream(object) => object.into_response(),
            Self::RangeNotSatisfiable { size } => {
                range_not_satisfiable(HeaderValue::from_str(&format!("bytes */{size}")).ok())
            }
        }
    }
}

impl FileService {
    /// `GET /v1/files/{id}/content`: GetObject under the function's own role, with the
    /// file's content type and the same `Content-Disposition` as its download URLs, and a
    /// `file.content_streamed` audit row written before the first byte goes out.
    pub async fn stream_content(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: ContentRequest,
        max_bytes: u64,
    ) -> Result<Content, ApiError> {
        let file = self.get(&caller.org, id).await?;
        ensure_downloadable(&file)?;
        let read = self.objects().open(&file.object_key(), request.range).await;
        let object = match read {
            Ok(ObjectRead::Found(object)) => object,
            Ok(ObjectRead::RangeNotSatisfiable) => {
                return Ok(Content::RangeNotSatisfiable {
                    size: file.size_bytes.bytes(),
                });
            }
            // Verified bytes that are gone: only a delete racing this read can do that.
            Ok(ObjectRead::Missing) => return Err(crate::service::file_not_found(id)),
            // A role that may not list the bucket (the proxy's) gets AccessDenied for a
            // missing key: if the file went away meanwhile, that is the answer, a 404.
            Err(e) => {
                self.get(&caller.org, id).await?;
                return Err(e.into());
            }
        };
        let length = object.content_length.ok_or_else(|| {
            ApiError::internal(&std::io::Error::other("GetObject sent no Content-Length"))
        })?;
        ensure_streamable(length, max_bytes)?;

        let disposition = Disposition::for_file(request.attachment, &file.content_type);
        let mut event = AuditEvent::new(
            &caller.org,
            file.id,
            AuditAction::FileContentStreamed,
            &caller.actor,
            origin,
            Timestamp::now(),
        )
        .with_detail("disposition", disposition.as_str())
        .with_detail("bytes", length.to_string());
        if let Some(range) = request.range {
            event = event.with_detail("range", range.header_value());
        }
        self.store().record_event(&event).await?;

        let mut headers = HeaderMap::new();
        let mut put = |name: HeaderName, value: Option<String>| {
            if let Some(value) = value.and_then(|v| HeaderValue::try_from(v).ok()) {
                headers.insert(name, value);
            }
        };
        put(
            header::CONTENT_TYPE,
            Some(file.content_type.as_str().to_owned()),
        );
        put(header::CONTENT_LENGTH, Some(length.to_string()));
        put(
            header::CONTENT_DISPOSITION,
            Some(content_disposition(disposition, &file.name)),
        );
        put(header::ETAG, object.etag);
        put(header::LAST_MODIFIED, object.last_modified);
        let partial = object.content_range.is_some();
        put(header::CONTENT_RANGE, object.content_range);
        Ok(Content::Stream(StreamedObject::new(
            partial,
            &headers,
            Body::new(object.body),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Option<ByteRange>, (StatusCode, &'static str)> {
        ByteRange::parse(value).map_err(|e| (e.status(), e.code()))
    }

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
    fn single_byte_ranges_parse_and_print_back() {
        for (input, range, printed) in [
            (
                "bytes=0-99",
                ByteRange::From {
                    first: 0,
                    last: Some(99),
                },
                "bytes=0-99",
            ),
            (
                "bytes=100-",
                ByteRange::From {
                    first: 100,
                    last: None,
                },
                "bytes=100-",
            ),
            ("bytes=-100", ByteRange::Suffix(100), "bytes=-100"),
            (
                " Bytes = 5 - 5 ",
                ByteRange::From {
                    first: 5,
                    last: Some(5),
                },
                "bytes=5-5",
            ),
        ] {
            assert_eq!(parse(input), Ok(Some(range)), "{input}");
            assert_eq!(range.header_value(), printed);
        }
    }

    #[test]
    fn other_units_and_several_ranges_are_ignored() {
        for input in ["items=0-1", "lines=1-2", "bytes=0-1,5-6", "bytes=0-1, -5"] {
            assert_eq!(parse(input), Ok(None), "{input}");
        }
    }

    #[test]
    fn malformed_byte_ranges_are_400() {
        for input in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0x10-",
            "bytes=10-5",
            "bytes=99999999999999999999999-",
            "bytes=1-2-3",
        ] {
            assert_eq!(
                parse(input),
                Err((StatusCode::BAD_REQUEST, "invalid_range")),
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_empty_suffix_is_unsatisfiable() {
        assert_eq!(
            parse("bytes=-0"),
            Err((StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable"))
        );
    }

    #[test]
    fn two_range_headers_are_400() {
        let mut headers = HeaderMap::new();
        headers.append(header::RANGE, HeaderValue::from_static("bytes=0-1"));
        headers.append(header::RANGE, HeaderValue::from_static("bytes=2-3"));
        assert_eq!(
            ByteRange::from_headers(&headers).unwrap_err().code(),
            "invalid_range"
        );
        assert_eq!(ByteRange::from_headers(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn bodies_over_the_limit_are_413_and_at_the_limit_pass() {
        assert!(ensure_streamable(LAMBDA_STREAM_LIMIT, LAMBDA_STREAM_LIMIT).is_ok());
        let err = ensure_streamable(LAMBDA_STREAM_LIMIT + 1, LAMBDA_STREAM_LIMIT).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (StatusCode::PAYLOAD_TOO_LARGE, "too_large_for_proxy")
        );
        assert!(err.message().contains("download_url"), "{}", err.message());
    }

    fn served(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut upstream = HeaderMap::new();
        for (name, value) in pairs {
            upstream.insert(name.clone(), HeaderValue::from_static(value));
        }
        StreamedObject::new(false, &upstream, Body::empty()).headers
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
        let headers = served(&[]);
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert!(headers.get("content-disposition").is_none());
    }
}

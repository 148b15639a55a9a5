//! `GET /v1/proxy/file?presigned_url=…`: for clients that cannot reach S3 themselves, fetch a
//! presigned URL of this deployment's bucket and stream S3's answer back.
//!
//! [`BucketEndpoints`] decides which URLs may be fetched; this module fetches exactly the URL
//! it returned, with an HTTP client that follows no redirects, sends no credentials of its own
//! (the URL's signature is the only authority) and forwards nothing from the caller but
//! `Range`. S3 checks the signature and expiry; its refusals become `410`.

use std::time::Duration;

use bytes::Bytes;
use filegate_domain::DomainError;
use filegate_domain::byte_range::{ByteRange, ensure_streamable};
use filegate_domain::error::ErrorChain;
use filegate_domain::presigned_url::{BucketEndpoints, CheckedUrl};
use filegate_store::config::Config;
use filegate_store::tls::{self, CompiledRoots};
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// S3 sends the headers of a GET at once; only the body takes long.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(10);
/// S3's error documents are a few hundred bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// The proxy: which URLs it may fetch, the client it fetches them with, and its size limit.
#[derive(Debug, Clone)]
pub struct PresignedProxy {
    endpoints: BucketEndpoints,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    max_bytes: u64,
}

/// What S3 answered a checked presigned GET with: the object (or range) still on the wire,
/// or a 416 with S3's `Content-Range`.
#[derive(Debug)]
pub enum Proxied {
    Object {
        /// `206`: a range.
        partial: bool,
        /// S3's response headers, all of them: the caller keeps what describes the bytes.
        headers: HeaderMap,
        body: BoxBody<Bytes, hyper::Error>,
    },
    RangeNotSatisfiable(Option<HeaderValue>),
}

impl PresignedProxy {
    /// Built once per process; connections to S3 are pooled across requests.
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            BucketEndpoints::new(
                &config.bucket,
                &config.region,
                config.endpoint_url.as_deref(),
            ),
            config.tls_native_roots,
            config.proxy_max_bytes,
        )
    }

    pub fn new(endpoints: BucketEndpoints, native_roots: bool, max_bytes: u64) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let tls = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls::client_config(
            CompiledRoots::AmazonTrustServices,
            native_roots,
        ));
        // Plain http only for an emulator endpoint; otherwise the connector itself refuses
        // it, behind the URL check.
        let https = if endpoints.has_emulator() {
            tls.https_or_http()
        } else {
            tls.https_only()
        }
        .enable_http1()
        .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(8)
            .build(https);
        Self {
            endpoints,
            client,
            max_bytes,
        }
    }

    /// Checks `presigned_url`, fetches it (with `range`), and hands back S3's answer as a
    /// stream; every refusal is decided before a byte of the body is read.
    pub async fn fetch(
        &self,
        presigned_url: Option<&str>,
        range: Option<ByteRange>,
    ) -> Result<Proxied, DomainError> {
        let raw = presigned_url
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                DomainError::unprocessable(
                    "presigned_url_missing",
                    "presigned_url is required: the URL-encoded presigned S3 URL to fetch",
                )
                .with_param("presigned_url")
            })?;
        let checked = self.endpoints.check(raw)?;
        let uri = uri_of(&checked)?;
        let mut request = Request::get(uri);
        if let Some(range) = range {
            request = request.header(header::RANGE, range.header_value());
        }
        let request = request
            .header(header::USER_AGENT, "filegate-proxy")
            .body(Empty::new())
            .map_err(|e| DomainError::internal(&e))?;

        let response = match tokio::time::timeout(HEADERS_TIMEOUT, self.client.request(request))
            .await
        {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                tracing::warn!(error = %ErrorChain(&e), file = %checked.file, "proxy could not reach S3");
                return Err(DomainError::bad_gateway(
                    "upstream_unreachable",
                    "S3 could not be reached; retry later",
                ));
            }
            Err(_) => {
                return Err(DomainError::bad_gateway(
                    "upstream_timeout",
                    "S3 did not answer in time; retry later",
                ));
            }
        };
        let status = response.status();
        if status == StatusCode::OK || status == StatusCode::PARTIAL_CONTENT {
            let length = response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| {
                    DomainError::bad_gateway("upstream_error", "S3's answer had no Content-Length")
                })?;
            // Dropping `response` here closes the connection without reading the body.
            ensure_streamable(length, self.max_bytes)?;
            let (parts, body) = response.into_parts();
            return Ok(Proxied::Object {
                partial: status == StatusCode::PARTIAL_CONTENT,
                headers: parts.headers,
                body: BoxBody::new(body),
            });
        }
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(Proxied::RangeNotSatisfiable(
                response.headers().get(header::CONTENT_RANGE).cloned(),
            ));
        }
        let error = if status.is_client_error() || status.is_server_error() {
            read_s3_error(response.into_body()).await
        } else {
            S3Error::default()
        };
        let refusal = refusal(status, &error);
        tracing::info!(
            %status,
            s3_code = error.code.as_deref().unwrap_or_default(),
            code = refusal.code(),
            file = %checked.file,
            "S3 refused the proxied URL"
        );
        Err(refusal)
    }
}

/// The checked URL as the request's URI. `Uri` parses the checked URL's own serialisation,
/// never the raw input; its authority must still be exactly the one that was checked.
fn uri_of(checked: &CheckedUrl) -> Result<Uri, DomainError> {
    let url = &checked.url;
    let refused = || {
        DomainError::forbidden(
            "url_not_allowed",
            "presigned_url must be an https URL of this deployment's bucket",
        )
        .with_param("presigned_url")
    };
    let uri: Uri = url.as_str().parse().map_err(|_| refused())?;
    let same = uri.scheme_str() == Some(url.scheme())
        && uri.host() == url.host_str()
        && uri.port_u16() == url.port()
        && !uri.authority().is_some_and(|a| a.as_str().contains('@'));
    if same { Ok(uri) } else { Err(refused()) }
}

/// The `Code` and `Message` of an S3 error document.
#[derive(Debug, Default, PartialEq, Eq)]
struct S3Error {
    code: Option<String>,
    message: Option<String>,
}

async fn read_s3_error(body: hyper::body::Incoming) -> S3Error {
    let collected = tokio::time::timeout(
        HEADERS_TIMEOUT,
        Limited::new(body, MAX_ERROR_BODY).collect(),
    )
    .await;
    match collected {
        Ok(Ok(body)) => S3Error::parse(&String::from_utf8_lossy(&body.to_bytes())),
        _ => S3Error::default(),
    }
}

impl S3Error {
    /// `<Error><Code>…</Code><Message>…</Message>…</Error>`: two flat elements are all we
    /// read, so a substring search does; anything else leaves them unknown.
    fn parse(xml: &str) -> Self {
        let element = |name: &str| {
            let open = format!("<{name}>");
            let close = format!("</{name}>");
            let start = xml.find(&open)? + open.len();
            let end = start + xml[start..].find(&close)?;
            Some(xml[start..end].trim().to_owned())
        };
        Self {
            code: element("Code"),
            message: element("Message"),
        }
    }
}

/// S3's refusal of a presigned GET, as the proxy's error.
fn refusal(status: StatusCode, error: &S3Error) -> DomainError {
    let message = error
        .message
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match (status.as_u16(), error.code.as_deref()) {
        (400 | 403, Some("AccessDenied")) if message.contains("expired") => DomainError::gone(
            "presigned_url_expired",
            "the presigned URL has expired; request a new one",
        ),
        (400 | 403, Some("ExpiredToken" | "TokenRefreshRequired")) => DomainError::gone(
            "presigned_url_expired",
            "the credentials that signed the presigned URL have expired; request a new URL",
        ),
        (
            400 | 403,
            Some(
                "SignatureDoesNotMatch"
                | "InvalidAccessKeyId"
                | "AuthorizationQueryParametersError"
                | "RequestTimeTooSkewed"
                | "InvalidToken",
            ),
        ) => DomainError::gone(
            "presigned_url_invalid",
            "S3 refused the presigned URL's signature; request a new URL",
        ),
        (404, _) => DomainError::not_found(
            "object_not_found",
            "the object the presigned URL names does not exist (was the file deleted?)",
        ),
        // With a signer that may not list the bucket (filegate's own), this is also what S3
        // says of a deleted object.
        (403, Some("AccessDenied")) => DomainError::bad_gateway(
            "upstream_denied",
            "S3 refused the URL's signer access to the object (it may have been deleted); \
             request a new URL",
        ),
        (300..=399, _) => DomainError::bad_gateway(
            "upstream_redirect",
            "S3 answered with a redirect, which the proxy does not follow",
        ),
        (503, _) => {
            DomainError::unavailable("upstream_unavailable", "S3 is busy; retry with backoff")
        }
        _ => DomainError::bad_gateway(
            "upstream_error",
            "S3 answered with an unexpected error; retry later",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(code: &str, message: &str) -> S3Error {
        S3Error {
            code: Some(code.to_owned()),
            message: Some(message.to_owned()),
        }
    }

    /// The status the client gets, through the API's one error map.
    fn outcome(status: u16, error: &S3Error) -> (u16, &'static str) {
        let e =
            filegate_http::ApiError::from(refusal(StatusCode::from_u16(status).unwrap(), error));
        (e.status().as_u16(), e.code())
    }

    #[test]
    fn s3_error_documents_are_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>1</X-Amz-Expires><RequestId>x</RequestId></Error>"#;
        assert_eq!(
            S3Error::parse(xml),
            s3("AccessDenied", "Request has expired")
        );
        assert_eq!(S3Error::parse("not xml"), S3Error::default());
        assert_eq!(S3Error::parse("<Code>unclosed"), S3Error::default());
    }

    #[test]
    fn expired_and_bad_signatures_are_410() {
        for (status, error, expected) in [
            (
                403,
                s3("AccessDenied", "Request has expired"),
                "presigned_url_expired",
            ),
            (
                400,
                s3("ExpiredToken", "The provided token has expired."),
                "presigned_url_expired",
            ),
            (
                403,
                s3("SignatureDoesNotMatch", "…"),
                "presigned_url_invalid",
            ),
            (403, s3("InvalidAccessKeyId", "…"), "presigned_url_invalid"),
            (
                400,
                s3(
                    "AuthorizationQueryParametersError",
                    "X-Amz-Expires must be less than a week",
                ),
                "presigned_url_invalid",
            ),
            (
                403,
                s3("RequestTimeTooSkewed", "…"),
                "presigned_url_invalid",
            ),
        ] {
            assert_eq!(outcome(status, &error), (410, expected), "{error:?}");
        }
    }

    #[test]
    fn other_refusals_are_not_taken_for_expiry() {
        assert_eq!(
            outcome(403, &s3("AccessDenied", "Access Denied")),
            (502, "upstream_denied")
        );
        assert_eq!(
            outcome(404, &s3("NoSuchKey", "…")),
            (404, "object_not_found")
        );
        assert_eq!(
            outcome(301, &S3Error::default()),
            (502, "upstream_redirect")
        );
        assert_eq!(
            outcome(307, &S3Error::default()),
            (502, "upstream_redirect")
        );
        assert_eq!(
            outcome(503, &s3("SlowDown", "…")),
            (503, "upstream_unavailable")
        );
        assert_eq!(
            outcome(500, &s3("InternalError", "…")),
            (502, "upstream_error")
        );
        assert_eq!(outcome(403, &S3Error::default()), (502, "upstream_error"));
    }

    #[test]
    fn the_uri_keeps_the_checked_authority() {
        let endpoints = BucketEndpoints::new("bucket", "us-east-1", None);
        let checked = endpoints
            .check(
                "https://bucket.s3.us-east-1.amazonaws.com/acme/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z?\
                 X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=b&\
                 X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=c",
            )
            .unwrap();
        let uri = uri_of(&checked).unwrap();
        assert_eq!(uri.host(), Some("bucket.s3.us-east-1.amazonaws.com"));
        assert_eq!(uri.scheme_str(), Some("https"));
        assert_eq!(uri.port_u16(), None);
        assert!(uri.query().unwrap().contains("X-Amz-Signature=c"));
    }
}

//! Which URLs the streaming proxy may fetch: only presigned SigV4 URLs of this deployment's
//! bucket, for keys of filegate's own shape. Everything else is refused before any request is
//! made, so the proxy cannot be pointed at metadata endpoints, other buckets or internal hosts.
//!
//! The URL is parsed once; the caller fetches exactly the [`CheckedUrl`] returned, never the
//! raw string again (re-parsing is how check-then-fetch bypasses happen).

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::error::DomainError;
use crate::file::parse_object_key;
use crate::ids::{FileId, OrgId};

/// The query parameters every SigV4 presigned URL carries.
const SIGV4_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
];

/// The endpoints of this deployment's bucket.
#[derive(Debug, Clone)]
pub struct BucketEndpoints {
    bucket: String,
    region: String,
    /// An emulator (`AWS_ENDPOINT_URL`), addressed path-style, as the local API runs.
    emulator: Option<Url>,
}

/// A URL that passed every check, with the object it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    pub url: Url,
    pub org: OrgId,
    pub file: FileId,
}

impl BucketEndpoints {
    pub fn new(bucket: &str, region: &str, emulator: Option<&str>) -> Self {
        Self {
            bucket: bucket.to_ascii_lowercase(),
            region: region.to_ascii_lowercase(),
            emulator: emulator.and_then(|e| Url::parse(e).ok()),
        }
    }

    /// Whether an emulator endpoint (which may be plain http) is allowed.
    pub fn has_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// `422` when `raw` is not a URL or not presigned, `403` when it is not one of this
    /// bucket's endpoints or does not name one of filegate's objects.
    pub fn check(&self, raw: &str) -> Result<CheckedUrl, DomainError> {
        let url = Url::parse(raw.trim()).map_err(|_| {
            DomainError::unprocessable("invalid_presigned_url", "presigned_url is not a URL")
                .with_param("presigned_url")
        })?;
        let present: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let presigned = SIGV4_PARAMS.iter().all(|p| present.iter().any(|k| k == p))
            && url
                .query_pairs()
                .any(|(k, v)| k == "X-Amz-Algorithm" && v == "AWS4-HMAC-SHA256");
        if !presigned {
            return Err(DomainError::unprocessable(
                "not_presigned",
                "presigned_url has no SigV4 query parameters (X-Amz-Signature, ...)",
            )
            .with_param("presigned_url"));
        }
        let key = self.key_of(&url, raw.trim()).ok_or_else(|| {
            DomainError::forbidden(
                "url_not_allowed",
                "presigned_url must be an https URL of this deployment's bucket",
            )
            .with_param("presigned_url")
        })?;
        let (org, file) = parse_object_key(&key).ok_or_else(|| {
            DomainError::forbidden(
                "url_not_allowed",
                "presigned_url does not name a file of this deployment",
            )
            .with_param("presigned_url")
        })?;
        Ok(CheckedUrl { url, org, file })
    }

    /// The object key, when `url` is on one of the bucket's endpoints.
    fn key_of(&self, url: &Url, raw: &str) -> Option<String> {
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return None;
        }
        if let Some(emulator) = &self.emulator
            && url.scheme() == emulator.scheme()
            && url.host() == emulator.host()
            && url.port_or_known_default() == emulator.port_or_known_default()
        {
            return self.path_style_key(url);
        }
        // Only names: an IP literal (in any notation, which `url` normalises) is never one
        // of S3's endpoints. An explicit port is refused even when it is the default one.
        if url.scheme() != "https" || url.port().is_some() || has_explicit_port(raw) {
            return None;
        }
        let Some(Host::Domain(host)) = url.host() else {
            return None;
        };
        let virtual_hosted = [
            format!("{}.s3.{}.amazonaws.com", self.bucket, self.region),
            format!("{}.s3.amazonaws.com", self.bucket),
        ];
        if virtual_hosted.iter().any(|h| h == host) {
            return decoded_key(url.path().strip_prefix('/')?);
        }
        if host == format!("s3.{}.amazonaws.com", self.region) {
            return self.path_style_key(url);
        }
        None
    }

    /// `/<bucket>/<key>`.
    fn path_style_key(&self, url: &Url) -> Option<String> {
        let rest = url.path().strip_prefix('/')?;
        let (bucket, key) = rest.split_once('/')?;
        (bucket == self.bucket).then_some(())?;
        decoded_key(key)
    }
}

/// `https://host:443/…` parses to no port (it is the default), but was written with one.
/// Read from the raw input, as the parsed URL no longer shows it. (Userinfo, which could hold
/// a `:`, is refused before this matters.)
fn has_explicit_port(raw: &str) -> bool {
    let after_scheme = raw.split_once("://").map_or("", |(_, rest)| rest);
    let authority = after_scheme
        .split(['/', '?', '#', '\\'])
        .next()
        .unwrap_or_default();
    authority.contains(':')
}

fn decoded_key(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    const SIGV4: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123";
    const FILE: &str = "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z";

    fn endpoints() -> BucketEndpoints {
        BucketEndpoints::new("BUCKET", "us-east-1", None)
    }

    fn code(raw: &str) -> (ErrorKind, &'static str) {
        let e = endpoints().check(raw).unwrap_err();
        (e.kind(), e.code())
    }

    #[test]
    fn this_buckets_presigned_urls_pass_in_every_addressing_style() {
        for url in [
            format!("https://bucket.s3.us-east-1.amazonaws.com/acme/{FILE}?{SIGV4}"),
            format!("https://bucket.s3.amazonaws.com/acme/{FILE}?{SIGV4}"),
            format!("https://s3.us-east-1.amazonaws.com/bucket/acme/{FILE}?{SIGV4}"),
            format!("https://BUCKET.S3.US-EAST-1.AMAZONAWS.COM/acme/{FILE}?{SIGV4}"),
        ] {
            let checked = endpoints()
                .check(&url)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(checked.org.as_str(), "acme");
            assert_eq!(checked.file.to_string(), FILE);
        }
        let encoded_org = format!("https://bucket.s3.amazonaws.com/a%7Cb/{FILE}?{SIGV4}");
        assert_eq!(endpoints().check(&encoded_org).unwrap().org.as_str(), "a|b");
    }

    #[test]
    fn the_issues_hostile_urls_are_refused() {
        let refused = [
            format!("https://s3.amazonaws.com@evil.example/x?{SIGV4}"),
            format!("https://BUCKET.s3.us-east-1.amazonaws.com.evil.example/k?{SIGV4}"),
            format!("https://evil.example/BUCKET.s3.us-east-1.amazonaws.com/k?{SIGV4}"),
            format!("http://BUCKET.s3.us-east-1.amazonaws.com/acme/{FILE}?{SIGV4}"),
            format!("https://BUCKET.s3.us-east-1.amazonaws.com:8443/acme/{FILE}?{SIGV4}"),
            format!("http://169.254.169.254/latest/meta-data/?{SIGV4}"),
            format!("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next?{SIGV4}"),
            format!("file:///etc/passwd?{SIGV4}"),
            format!("https://other-bucket.s3.us-east-1.amazonaws.com/acme/{FILE}?{SIGV4}"),
        ];
        for url in &refused {
            assert_eq!(
                code(url),
                (ErrorKind::Forbidden, "url_not_allowed"),
                "{url}"
            );
        }
        let unsigned = format!("https://BUCKET.s3.us-east-1.amazonaws.com/acme/{FILE}");
        assert_eq!(code(&unsigned), (ErrorKind::Unprocessable, "not_presigned"));
        let no_signature = format!(
            "https://BUCKET.s3.us-east-1.amazonaws.com/acme/{FILE}?{}",
            SIGV4.replace("&X-Amz-Signature=abc123", "")
        );
        assert_eq!(
            code(&no_signature),
            (ErrorKind::Unprocessable, "not_presigned")
        );
    }

    #[test]
    fn look_alikes_ip_literals_ports_and_foreign_keys_are_refused() {
        let ok_path = format!("acme/{FILE}?{SIGV4}");
        for url in [
            format!("https://bucket.s3.us-east-1.amazonaws.com./{ok_path}"),
            format!("https://xbucket.s3.us-east-1.amazonaws.com/{ok_path}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com.example/{ok_path}"),
            format!("https://bucket.s3.eu-west-1.amazonaws.com/{ok_path}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com:443/{ok_path}"),
            format!("https://user:pw@bucket.s3.us-east-1.amazonaws.com/{ok_path}"),
            format!("https://s3.us-east-1.amazonaws.com/other/{ok_path}"),
            format!("https://s3.amazonaws.com/bucket/{ok_path}"),
            format!("https://52.216.0.1/bucket/{ok_path}"),
            format!("https://0x34d80001/bucket/{ok_path}"),
            format!("https://877133825/bucket/{ok_path}"),
            format!("https://[::ffff:127.0.0.1]/bucket/{ok_path}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com/acme/report.pdf?{SIGV4}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com/acme/{FILE}/x?{SIGV4}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com/acme%2F..%2F{FILE}?{SIGV4}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com/{FILE}?{SIGV4}"),
            format!("https://bucket.s3.us-east-1.amazonaws.com/acme/{FILE}?{SIGV4}#frag"),
        ] {
            assert_eq!(
                code(&url),
                (ErrorKind::Forbidden, "url_not_allowed"),
                "{url}"
            );
        }
        for not_a_url in ["", "not a url", "//bucket.s3.amazonaws.com/x", "https://"] {
            assert_eq!(
                code(not_a_url),
                (ErrorKind::Unprocessable, "invalid_presigned_url"),
                "{not_a_url:?}"
            );
        }
    }

    #[test]
    fn the_emulator_endpoint_is_allowed_only_when_configured_and_only_path_style() {
        let local = BucketEndpoints::new("files", "us-east-1", Some("http://127.0.0.1:4566"));
        let url = format!("http://127.0.0.1:4566/files/acme/{FILE}?{SIGV4}");
        assert!(local.check(&url).is_ok());
        for other in [
            format!("http://127.0.0.1:4567/files/acme/{FILE}?{SIGV4}"),
            format!("http://127.0.0.1:4566/other/acme/{FILE}?{SIGV4}"),
            format!("https://127.0.0.1:4566/files/acme/{FILE}?{SIGV4}"),
        ] {
            assert_eq!(
                local.check(&other).unwrap_err().code(),
                "url_not_allowed",
                "{other}"
            );
        }
        assert_eq!(
            BucketEndpoints::new("files", "us-east-1", None)
                .check(&url)
                .unwrap_err()
                .code(),
            "url_not_allowed"
        );
    }

    proptest! {
        /// Any input gets an answer, never a panic.
        #[test]
        fn never_panics(raw in ".{0,300}") {
            let _ = endpoints().check(&raw);
        }

        /// URL-shaped inputs with arbitrary hosts, ports and paths are refused unless they are
        /// exactly this bucket's.
        #[test]
        fn only_this_bucket_passes(
            scheme in "(https?|file|ftp)",
            userinfo in "([a-z]{1,5}(:[a-z]{1,5})?@)?",
            host in "[a-z0-9.\\-]{1,40}",
            port in "(:[0-9]{1,5})?",
            path in "(/[a-zA-Z0-9_%.\\-]{0,30}){0,4}",
        ) {
            let raw = format!("{scheme}://{userinfo}{host}{port}{path}?{SIGV4}");
            if let Ok(checked) = endpoints().check(&raw) {
                let h = checked.url.host_str().unwrap_or_default();
                prop_assert!(
                    h == "bucket.s3.us-east-1.amazonaws.com"
                        || h == "bucket.s3.amazonaws.com"
                        || h == "s3.us-east-1.amazonaws.com",
                    "{raw} passed"
                );
                prop_assert_eq!(checked.url.scheme(), "https");
                prop_assert!(checked.url.port().is_none());
            }
        }
    }
}

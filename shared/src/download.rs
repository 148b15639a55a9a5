//! Handing files out: short-lived presigned GETs (or a public URL for public files), with the
//! file's own `Content-Type` and an RFC 6266 `Content-Disposition`. The disposition rules
//! live here once, for every way bytes leave filegate.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

use crate::audit::{AuditAction, AuditEvent, RequestOrigin};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::files::{ContentType, FileName, FileRecord};
use crate::ids::FileId;
use crate::service::FileService;
use crate::timestamp::Timestamp;

pub const DEFAULT_EXPIRES_IN: u64 = 300;
pub const MIN_EXPIRES_IN: u64 = 60;
pub const MAX_EXPIRES_IN: u64 = 3600;

/// How a browser should treat the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

impl Disposition {
    /// What was asked for, unless the type could run script in the browser if shown inline
    /// on the bucket's origin: those are always downloaded.
    pub fn for_file(attachment: bool, content_type: &ContentType) -> Self {
        if attachment || is_active_content(content_type.essence()) {
            Self::Attachment
        } else {
            Self::Inline
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inline => "inline",
            Self::Attachment => "attachment",
        }
    }
}

/// Types a browser renders as a document that can run script (HTML, SVG, XML with XSLT,
/// JavaScript), or plugins that could.
pub(crate) fn is_active_content(essence: &str) -> bool {
    matches!(
        essence,
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/xsl"
            | "text/javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "text/ecmascript"
            | "application/ecmascript"
            | "application/x-shockwave-flash"
            | "multipart/x-mixed-replace"
    ) || essence.ends_with("+xml")
}

/// RFC 5987 `attr-char`: everything else in `filename*` is percent-encoded.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Org ids in a URL path: all their characters but `|` go as they are.
const PATH_SEGMENT_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'@');

/// `inline|attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`
/// (RFC 6266 §4.3: old clients read the first, every current one the second).
pub fn content_disposition(disposition: Disposition, name: &FileName) -> String {
    let kind = disposition.as_str();
    let name = name.as_str();
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        utf8_percent_encode(name, ATTR_CHAR_ESCAPES)
    )
}

/// The name in printable ASCII for `filename="…"`: accents dropped (`é` → `e`), other
/// non-ASCII characters as `_`, control characters removed, quotes and backslashes escaped.
fn ascii_fallback(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.nfd() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // Some clients percent-decode `filename` (RFC 6266 appendix D).
            '%' => out.push('_'),
            c if c.is_ascii_control() => {}
            c if c.is_ascii() => out.push(c),
            c if is_combining_mark(c) => {}
            c if c.is_control() => {}
            _ => out.push('_'),
        }
    }
    out
}

/// `POST /v1/files/{id}/download_url`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadUrlRequest {
    /// `true`: the browser saves the file; default `false` shows it inline (active types such
    /// as HTML and SVG are always attachments).
    #[serde(default)]
    pub attachment: Option<bool>,
    /// URL lifetime in seconds, 60–3600 (default 300).
    #[serde(default)]
    #[schema(minimum = 60, maximum = 3600, example = 300)]
    pub expires_in: Option<i64>,
}

/// `{"object":"file_download","url","expires_in","expires_at","file"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileDownload {
    /// Always `file_download`.
    #[schema(example = "file_download")]
    pub object: &'static str,
    /// GET this URL: a presigned S3 URL, or the public URL of a public file.
    pub url: String,
    /// Seconds the URL is valid; null for a public URL, which does not expire.
    pub expires_in: Option<u64>,
    pub expires_at: Option<String>,
    /// The file's id.
    pub file: String,
}

/// A validated [`DownloadUrlRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadRequest {
    pub attachment: bool,
    pub expires_in: u64,
}

impl DownloadRequest {
    pub fn parse(request: &DownloadUrlRequest) -> Result<Self, ApiError> {
        let expires_in = match request.expires_in {
            None => DEFAULT_EXPIRES_IN,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_expires_in",
                        format!(
                            "expires_in must be from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds"
                        ),
                    )
                    .with_param("expires_in")
                })?,
        };
        Ok(Self {
            attachment: request.attachment.unwrap_or(false),
            expires_in,
        })
    }
}

/// 409 for files whose bytes are not (or no longer) verified.
pub fn ensure_downloadable(file: &FileRecord) -> Result<(), ApiError> {
    if file.status.is_downloadable() {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "file_not_ready",
            format!(
                "a {} file cannot be downloaded; only uploaded, processing and ready files can",
                file.status
            ),
        ))
    }
}

impl FileService {
    /// A fresh URL for a downloadable file, and a `file.download_url_issued` audit row.
    pub async fn download_url(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: DownloadRequest,
    ) -> Result<FileDownload, ApiError> {
        let file = self.get(&caller.org, id).await?;
        ensure_downloadable(&file)?;
        let now = Timestamp::now();
        let disposition = Disposition::for_file(request.attachment, &file.content_type);
        // The public URL serves whatever headers the CDN gives: only for files that may be
        // shown inline anyway; an attachment or an active type gets a presigned GET.
        let public_base = self
            .public_base_url()
            .filter(|_| file.public && disposition == Disposition::Inline);
        let download = match public_base {
            Some(base) => FileDownload {
                object: "file_download",
                url: format!(
                    "{base}/{}/{}",
                    utf8_percent_encode(file.org.as_str(), PATH_SEGMENT_ESCAPES),
                    file.id
                ),
                expires_in: None,
                expires_at: None,
                file: file.id.to_string(),
            },
            None => {
                let url = self
                    .objects()
                    .presign_download(
                        &file.object_key(),
                        &file.content_type,
                        &content_disposition(disposition, &file.name),
                        request.expires_in,
                        now,
                    )
                    .await?;
                FileDownload {
                    object: "file_download",
                    url,
                    expires_in: Some(request.expires_in),
                    expires_at: Some(now.plus_seconds(request.expires_in).to_string()),
                    file: file.id.to_string(),
                }
            }
        };
        let event = AuditEvent::new(
            &caller.org,
            file.id,
            AuditAction::FileDownloadUrlIssued,
            &caller.actor,
            origin,
            now,
        )
        .with_detail("disposition", disposition.as_str())
        .with_detail("expires_in", download.expires_in)
        .with_detail("public", download.expires_in.is_none());
        self.store().record_event(&event).await?;
        Ok(download)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::AllowedContentTypes;

    fn header(d: Disposition, name: &str) -> String {
        content_disposition(d, &FileName::parse(name).unwrap())
    }

    #[test]
    fn plain_names_appear_as_they_are_in_both_forms() {
        assert_eq!(
            header(Disposition::Attachment, "report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            header(Disposition::Inline, "Acme Co MSA.pdf"),
            "inline; filename=\"Acme Co MSA.pdf\"; filename*=UTF-8''Acme%20Co%20MSA.pdf"
        );
    }

    #[test]
    fn non_ascii_names_get_an_ascii_fallback_and_utf8_encoding() {
        assert_eq!(
            header(Disposition::Inline, "résumé €.pdf"),
            "inline; filename=\"resume _.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf"
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped_in_the_fallback() {
        assert_eq!(
            header(Disposition::Attachment, "a\"b.pdf"),
            "attachment; filename=\"a\\\"b.pdf\"; filename*=UTF-8''a%22b.pdf"
        );
        // File names cannot hold a backslash; the fallback escapes one all the same.
        assert_eq!(ascii_fallback("a\"b\\c.pdf"), "a\\\"b\\\\c.pdf");
        assert_eq!(
            utf8_percent_encode("a\"b\\c.pdf", ATTR_CHAR_ESCAPES).to_string(),
            "a%22b%5Cc.pdf"
        );
    }

    #[test]
    fn control_characters_never_reach_the_header() {
        // File names cannot hold them; the fallback drops them all the same.
        assert_eq!(ascii_fallback("a\tb\r\nc\u{7f}\u{85}.pdf"), "abc.pdf");
        assert_eq!(ascii_fallback("100%.pdf"), "100_.pdf");
    }

    #[test]
    fn every_header_is_a_valid_header_value() {
        for name in [
            "x".repeat(255),
            "é".repeat(255),
            "日本語の書類.pdf".into(),
            "a;b=c,d.txt".into(),
        ] {
            let value = header(Disposition::Attachment, &name);
            assert!(http::HeaderValue::from_str(&value).is_ok(), "{value}");
            assert!(value.is_ascii());
        }
    }

    #[test]
    fn active_types_are_always_attachments() {
        let ct = |s: &str| ContentType::parse(s, &AllowedContentTypes::any()).unwrap();
        for active in [
            "text/html",
            "text/html; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/rss+xml",
            "text/javascript",
        ] {
            assert_eq!(
                Disposition::for_file(false, &ct(active)),
                Disposition::Attachment,
                "{active}"
            );
        }
        for passive in ["application/pdf", "image/png", "text/plain", "video/mp4"] {
            assert_eq!(
                Disposition::for_file(false, &ct(passive)),
                Disposition::Inline
            );
            assert_eq!(
                Disposition::for_file(true, &ct(passive)),
                Disposition::Attachment
            );
        }
    }

    #[test]
    fn expiry_is_sixty_seconds_to_an_hour() {
        let parse = |e: Option<i64>| {
            DownloadRequest::parse(&DownloadUrlRequest {
                attachment: None,
                expires_in: e,
            })
        };
        assert_eq!(parse(None).unwrap().expires_in, 300);
        assert_eq!(parse(Some(60)).unwrap().expires_in, 60);
        assert_eq!(parse(Some(3600)).unwrap().expires_in, 3600);
        for bad in [59, 3601, 0, -60] {
            let e = parse(Some(bad)).unwrap_err();
            assert_eq!(
                (e.code(), e.param()),
                ("invalid_expires_in", Some("expires_in")),
                "{bad}"
            );
        }
    }
}

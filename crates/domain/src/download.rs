//! Handing files out: short-lived presigned GETs (or a public URL for public files), with the
//! file's own `Content-Type` and an RFC 6266 `Content-Disposition`. The disposition rules
//! live here once, for every way bytes leave filegate.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::error::DomainError;
use crate::file::{ContentType, FileName, FileRecord};
use crate::ids::FileId;
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
    /// What was asked for, but `inline` only for [inline-safe](is_inline_safe) types: every
    /// other type is downloaded, whatever the request asked.
    pub fn for_file(attachment: bool, content_type: &ContentType) -> Self {
        if attachment || !is_inline_safe(content_type.essence()) {
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

/// The types a browser may show inline from filegate's origins (the bucket, the CDN, the
/// API's streaming routes): raster images (not SVG), PDF, plain text, CSV, audio and video.
/// Nothing on it runs script or is sniffed into something that does (`nosniff` is sent with
/// it); every other type, known or not (`application/unknown`, HTML, JSON, XML), is an
/// attachment. The one list, for download URLs, public URLs and both streaming routes.
pub fn is_inline_safe(essence: &str) -> bool {
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    match kind {
        "image" => matches!(
            subtype,
            "png"
                | "jpeg"
                | "gif"
                | "webp"
                | "avif"
                | "bmp"
                | "apng"
                | "tiff"
                | "heic"
                | "heif"
                | "x-icon"
                | "vnd.microsoft.icon"
        ),
        "application" => subtype == "pdf",
        "text" => matches!(subtype, "plain" | "csv"),
        // No script runs in a media element. Only formats whose signature finalize checks:
        // an unknown subtype needs no signature, so its bytes could be anything.
        "audio" => matches!(
            subtype,
            "mpeg"
                | "mp3"
                | "mp4"
                | "m4a"
                | "x-m4a"
                | "aac"
                | "x-aac"
                | "ogg"
                | "opus"
                | "webm"
                | "wav"
                | "x-wav"
                | "wave"
                | "vnd.wave"
                | "flac"
                | "x-flac"
                | "aiff"
                | "x-aiff"
                | "3gpp"
        ),
        "video" => matches!(
            subtype,
            "mp4"
                | "webm"
                | "ogg"
                | "quicktime"
                | "x-m4v"
                | "3gpp"
                | "3gpp2"
                | "mpeg"
                | "x-matroska"
        ),
        _ => false,
    }
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

/// How a download URL is asked for: disposition and lifetime, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadRequest {
    pub attachment: bool,
    pub expires_in: u64,
}

impl DownloadRequest {
    /// `expires_in` defaults to 300 and must be 60–3600 seconds.
    pub fn parse(attachment: Option<bool>, expires_in: Option<i64>) -> Result<Self, DomainError> {
        let expires_in = match expires_in {
            None => DEFAULT_EXPIRES_IN,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(n))
                .ok_or_else(|| {
                    DomainError::invalid(
                        "invalid_expires_in",
                        format!(
                            "expires_in must be from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds"
                        ),
                    )
                    .with_param("expires_in")
                })?,
        };
        Ok(Self {
            attachment: attachment.unwrap_or(false),
            expires_in,
        })
    }
}

/// 409 for files whose bytes are not (or no longer) verified.
pub fn ensure_downloadable(file: &FileRecord) -> Result<(), DomainError> {
    if file.status.is_downloadable() {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "file_not_ready",
            format!(
                "a {} file cannot be downloaded; only uploaded, processing and ready files can",
                file.status
            ),
        ))
    }
}

/// Where a file can be fetched: a presigned GET, or the public URL of a public file (which
/// does not expire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadLink {
    pub file: FileId,
    pub url: String,
    /// Seconds the URL is valid, and until when; `None` for a public URL.
    pub expires: Option<(u64, Timestamp)>,
}

/// `<base>/<org>/<file id>`: the public URL of a public file's object, behind the CDN.
pub fn public_url(base: &str, file: &FileRecord) -> String {
    format!(
        "{base}/{}/{}",
        utf8_percent_encode(file.org.as_str(), PATH_SEGMENT_ESCAPES),
        file.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::AllowedContentTypes;

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
    fn only_inline_safe_types_are_inline() {
        let ct = |s: &str| ContentType::parse(s, &AllowedContentTypes::any()).unwrap();
        for active in [
            "text/html",
            "text/html; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/rss+xml",
            "text/javascript",
            "application/unknown",
            "unknown/unknown",
            "application/octet-stream",
            "application/json",
            "text/markdown",
            "video/x+xml",
        ] {
            assert_eq!(
                Disposition::for_file(false, &ct(active)),
                Disposition::Attachment,
                "{active}"
            );
        }
        for passive in [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "text/plain",
            "text/plain; charset=utf-8",
            "text/csv",
            "audio/mpeg",
            "video/mp4",
        ] {
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
        let parse = |e: Option<i64>| DownloadRequest::parse(None, e);
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

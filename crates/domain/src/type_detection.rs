//! Does an object's first bytes agree with the type it was declared as? Finalize reads the
//! first [`HEAD_BYTES`] of every upload and asks [`check_declared_type`].
//!
//! Binary formats are detected by `infer`'s signatures, plus the looser framings media files
//! really have (any ISO media box, any MPEG audio frame, an ID3 tag in front). Bytes that are
//! text (no control characters; any 8-bit encoding) count as a detected type only when they
//! are markup a browser or shell would run: HTML, SVG, XML or a `#!` script. Several of
//! `infer`'s signatures are short ASCII words (`BM` is a bitmap, `MZ` an executable, `%!`
//! PostScript), and a CSV row or a note must not turn into one of those.

use crate::file::ContentType;

/// How much of an object finalize reads to detect its type: enough for every signature
/// `infer` checks at an offset (tar's is at 257, DICOM's at 128, an Office document's
/// part names within the first entries of its ZIP).
pub const HEAD_BYTES: u64 = 8192;

/// Types that are one format under several names (`image/jpg`), or containers of one
/// format (`.docx` is a ZIP, `.mov` and `.m4a` are ISO media files): declared and detected
/// types agree when they are in one family.
struct Family {
    /// The format's bytes always start with a signature, so a declaration of it needs one.
    signature_required: bool,
    /// A generic container (ZIP, OLE, TIFF) that many formats filegate has no name for are
    /// made of (`.docm`, Visio, camera raws): its detection agrees with any declared type of
    /// no other family.
    container: bool,
    types: &'static [&'static str],
}

const fn binary(types: &'static [&'static str]) -> Family {
    Family {
        signature_required: true,
        container: false,
        types,
    }
}

const fn container(types: &'static [&'static str]) -> Family {
    Family {
        signature_required: true,
        container: true,
        types,
    }
}

const fn text(types: &'static [&'static str]) -> Family {
    Family {
        signature_required: false,
        container: false,
        types,
    }
}

static HTML: Family = text(&["text/html", "application/xhtml+xml"]);
static SVG: Family = text(&["image/svg+xml"]);
/// Also every `+xml` type that is not HTML or SVG.
static XML: Family = text(&["text/xml", "application/xml"]);
static SCRIPT: Family = text(&[
    "text/x-shellscript",
    "application/x-sh",
    "application/x-shellscript",
    "text/x-sh",
    "text/x-python",
    "text/x-script.python",
    "application/x-python",
    "text/x-perl",
    "application/x-perl",
    "text/x-ruby",
    "application/x-ruby",
    "text/javascript",
    "application/javascript",
    "application/x-httpd-php",
]);
/// Also every `+zip` type.
static ZIP: Family = container(&[
    "application/zip",
    "application/x-zip-compressed",
    "application/x-zip",
    "application/epub+zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.graphics",
    "application/java-archive",
    "application/vnd.android.package-archive",
    "image/openraster",
]);

static FAMILIES: &[&Family] = &[
    &HTML,
    &SVG,
    &XML,
    &SCRIPT,
    &ZIP,
    &binary(&["image/png", "image/apng"]),
    &binary(&["image/jpeg", "image/jpg", "image/pjpeg"]),
    &binary(&["image/gif"]),
    &binary(&["image/webp"]),
    &binary(&["image/bmp", "image/x-bmp", "image/x-ms-bmp"]),
    &container(&[
        "image/tiff",
        "image/x-canon-cr2",
        "image/x-adobe-dng",
        "image/x-nikon-nef",
        "image/x-sony-arw",
        "image/x-pentax-pef",
        "image/x-olympus-orf",
        "image/x-samsung-srw",
    ]),
    &binary(&[
        "image/heif",
        "image/heic",
        "image/heif-sequence",
        "image/heic-sequence",
        "image/avif",
    ]),
    &binary(&["image/jxl"]),
    &binary(&["image/jp2", "image/jpx"]),
    &binary(&["image/vnd.ms-photo", "image/jxr"]),
    &binary(&[
        "image/vnd.adobe.photoshop",
        "image/x-photoshop",
        "application/x-photoshop",
        "application/photoshop",
    ]),
    &binary(&["image/vnd.microsoft.icon", "image/x-icon"]),
    &binary(&["image/vnd.djvu", "image/x-djvu"]),
    &binary(&["image/vnd.dwg", "image/x-dwg", "application/acad"]),
    &binary(&[
        "video/mp4",
        "video/x-m4v",
        "video/quicktime",
        "video/3gpp",
        "video/3gpp2",
        "video/x-f4v",
        "audio/m4a",
        "audio/mp4",
        "audio/x-m4a",
        "audio/3gpp",
    ]),
    &binary(&[
        "video/webm",
        "audio/webm",
        "video/x-matroska",
        "audio/x-matroska",
        "video/matroska",
        "audio/matroska",
    ]),
    &binary(&["video/x-msvideo", "video/avi", "video/msvideo"]),
    &binary(&["video/x-ms-wmv", "video/x-ms-asf", "audio/x-ms-wma"]),
    &binary(&["video/mpeg"]),
    &binary(&["video/x-flv"]),
    &binary(&["audio/midi", "audio/x-midi", "audio/mid"]),
    // MPEG audio frames (MP3, MP2, AAC in ADTS) and AAC's ADIF header.
    &binary(&[
        "audio/mpeg",
        "audio/mp3",
        "audio/mpeg3",
        "audio/aac",
        "audio/x-aac",
        "audio/aacp",
    ]),
    &binary(&[
        "audio/ogg",
        "audio/opus",
        "audio/vorbis",
        "video/ogg",
        "application/ogg",
    ]),
    &binary(&["audio/x-flac", "audio/flac"]),
    &binary(&["audio/x-wav", "audio/wav", "audio/wave", "audio/vnd.wave"]),
    &binary(&["audio/amr"]),
    &binary(&["audio/x-aiff", "audio/aiff"]),
    &binary(&["audio/x-dsf", "audio/dsf"]),
    &binary(&["audio/x-ape", "audio/ape"]),
    &binary(&["application/font-woff", "font/woff", "font/woff2"]),
    &binary(&[
        "application/font-sfnt",
        "font/ttf",
        "font/otf",
        "font/sfnt",
        "application/x-font-ttf",
        "application/x-font-otf",
        "application/vnd.ms-opentype",
    ]),
    &container(&[
        "application/x-ole-storage",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.ms-outlook",
        "application/x-msi",
    ]),
    &binary(&["application/pdf", "application/x-pdf"]),
    &binary(&[
        "application/gzip",
        "application/x-gzip",
        "application/x-compressed-tar",
    ]),
    &binary(&["application/x-bzip2", "application/x-bzip"]),
    &binary(&["application/vnd.bzip3"]),
    &binary(&["application/x-7z-compressed"]),
    &binary(&["application/x-xz"]),
    &binary(&["application/zstd"]),
    &binary(&["application/x-lz4"]),
    &binary(&["application/x-lzip"]),
    &binary(&["application/x-compress"]),
    &binary(&[
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/x-rar",
    ]),
    &binary(&["application/x-tar"]),
    &binary(&["application/x-cpio"]),
    &binary(&[
        "application/x-unix-archive",
        "application/x-archive",
        "application/vnd.debian.binary-package",
        "application/x-debian-package",
    ]),
    &binary(&["application/x-rpm", "application/x-redhat-package-manager"]),
    &binary(&["application/vnd.ms-cab-compressed"]),
    &binary(&["application/x-par2"]),
    &binary(&["application/x-google-chrome-extension"]),
    &binary(&[
        "application/vnd.microsoft.portable-executable",
        "application/x-msdownload",
        "application/x-dosexec",
        "application/x-msdos-program",
    ]),
    &binary(&[
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
    ]),
    &binary(&["application/x-mach-binary"]),
    &binary(&["application/wasm"]),
    &binary(&["application/java", "application/java-vm"]),
    &binary(&["application/vnd.android.dex"]),
    &binary(&["application/vnd.android.dey"]),
    &binary(&["application/x-llvm"]),
    &binary(&["application/x-qemu-disk"]),
    &binary(&[
        "application/x-x509-ca-cert",
        "application/pkix-cert",
        "application/x-x509-user-cert",
    ]),
    &binary(&[
        "application/x-shockwave-flash",
        "application/vnd.adobe.flash.movie",
    ]),
    &binary(&["application/vnd.sqlite3", "application/x-sqlite3"]),
    &binary(&["application/x-nintendo-nes-rom"]),
    &binary(&["application/dicom"]),
    &binary(&["application/x-mobipocket-ebook"]),
    // Text formats whose signature is a word (`{\rtf`, `%!`): a declaration of them needs
    // none, and plain text is never detected as them.
    &text(&["application/rtf", "text/rtf"]),
    &text(&["application/postscript", "application/eps"]),
];

/// The family a (lowercase) type essence belongs to.
fn family_of(essence: &str) -> Option<&'static Family> {
    if let Some(family) = FAMILIES.iter().find(|f| f.types.contains(&essence)) {
        return Some(family);
    }
    if essence.ends_with("+zip") {
        return Some(&ZIP);
    }
    if essence.ends_with("+xml") {
        return Some(&XML);
    }
    None
}

fn same_family(a: &str, b: &str) -> bool {
    a == b || matches!((family_of(a), family_of(b)), (Some(x), Some(y)) if std::ptr::eq(x, y))
}

fn is_markdown(essence: &str) -> bool {
    matches!(essence, "text/markdown" | "text/x-markdown")
}

/// Whether bytes detected as `detected` may be stored as `declared`.
fn agrees(declared: &str, detected: &str) -> bool {
    let (declared_family, detected_family) = (family_of(declared), family_of(detected));
    same_family(declared, detected)
        // A container's formats without a family of their own (`.docm` in a ZIP).
        || (declared_family.is_none() && detected_family.is_some_and(|f| f.container))
        // An SVG is an XML document as well.
        || (detected == "image/svg+xml" && declared_family.is_some_and(|f| std::ptr::eq(f, &XML)))
        // Markdown may open with raw HTML (`<p align="center">`); it is only ever an
        // attachment.
        || (detected == "text/html" && is_markdown(declared))
}

/// The type the bytes show, if they show one.
pub fn detect(head: &[u8]) -> Option<&'static str> {
    if is_text(head) {
        detect_markup(head)
    } else {
        detect_binary(head)
    }
}

/// A binary format: `infer`'s signatures, then the framings `infer` is stricter about than
/// the files are.
fn detect_binary(head: &[u8]) -> Option<&'static str> {
    if let Some(tagged) = head.strip_prefix(b"ID3") {
        // An ID3v2 tag (10-byte header, syncsafe size) heads MP3, AAC and FLAC files: what
        // follows it is the format. A tag larger than what was read still says "audio".
        let size = tagged.get(3..7).map_or(0, |b| {
            b.iter()
                .fold(0usize, |acc, byte| (acc << 7) | usize::from(byte & 0x7F))
        });
        let footer = if tagged.get(2).is_some_and(|flags| flags & 0x10 != 0) {
            10
        } else {
            0
        };
        return match head.get(10 + size + footer..) {
            Some(rest) if !rest.is_empty() => detect_binary(rest).or(Some("audio/mpeg")),
            _ => Some("audio/mpeg"),
        };
    }
    // `application/octet-stream` is what `infer` calls an EOT font: no type at all.
    if let Some(found) = infer::get(head)
        .map(|t| t.mime_type())
        .filter(|t| *t != "application/octet-stream")
    {
        return Some(found);
    }
    match head {
        // Any ISO base media box first (`ftyp` of any brand; `moov`, `free`… in older .mov).
        [_, _, _, _, b'f', b't', b'y', b'p', ..]
        | [_, _, _, _, b'm', b'o', b'o', b'v', ..]
        | [_, _, _, _, b'm', b'd', b'a', b't', ..]
        | [_, _, _, _, b'f', b'r', b'e', b'e', ..]
        | [_, _, _, _, b's', b'k', b'i', b'p', ..]
        | [_, _, _, _, b'w', b'i', b'd', b'e', ..] => Some("video/mp4"),
        // An MPEG audio frame's 11-bit sync (MP3, MP2, AAC in ADTS).
        [0xFF, second, ..] if second & 0xE0 == 0xE0 => Some("audio/mpeg"),
        [b'A', b'D', b'I', b'F', ..] => Some("audio/aac"),
        _ => None,
    }
}

/// The WHATWG MIME-sniffing list of tags that make bytes HTML.
const HTML_TAGS: &[&[u8]] = &[
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
];

/// HTML, SVG, XML or a script (`#!`), the text formats a browser or a shell runs; after any
/// byte-order mark and leading whitespace.
fn detect_markup(head: &[u8]) -> Option<&'static str> {
    let body = trim_start(head);
    let contains = |needle: &[u8]| {
        body.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    if starts_with_tag(body, b"<svg") {
        return Some("image/svg+xml");
    }
    if starts_with_ignore_case(body, b"<?xml") {
        // An XML declaration (and a doctype) often comes before `<svg` or `<html`.
        return Some(if contains(b"<svg") {
            "image/svg+xml"
        } else if contains(b"<html") {
            "text/html"
        } else {
            "text/xml"
        });
    }
    if starts_with_ignore_case(body, b"<!--")
        || HTML_TAGS.iter().any(|tag| starts_with_tag(body, tag))
    {
        return Some("text/html");
    }
    if body.starts_with(b"#!") {
        return Some("text/x-shellscript");
    }
    None
}

fn trim_start(mut bytes: &[u8]) -> &[u8] {
    bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' '))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `tag` followed by a byte that ends a tag name.
fn starts_with_tag(bytes: &[u8], tag: &[u8]) -> bool {
    bytes.len() > tag.len()
        && starts_with_ignore_case(bytes, tag)
        && matches!(
            bytes[tag.len()],
            b' ' | b'>' | b'\t' | b'\n' | b'\x0C' | b'\r' | b'/'
        )
}

/// Text in any 8-bit encoding: no control characters but whitespace and escape.
fn is_text(head: &[u8]) -> bool {
    !head
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | 0x1B)) || b == 0x7F)
}

/// `Err` with a message when the bytes contradict `declared`: they open with markup of
/// another type, carry another type's signature, or lack the signature the declared type
/// always has. The generic `application/octet-stream` agrees with any bytes (it is always
/// served as an attachment).
pub fn check_declared_type(declared: &ContentType, head: &[u8]) -> Result<(), String> {
    let declared = declared.essence();
    if declared == "application/octet-stream" {
        return Ok(());
    }
    let mismatch = |detected: &str| {
        Err(format!(
            "the uploaded bytes are {detected} but {declared} was declared"
        ))
    };
    let text = is_text(head);
    if text {
        // Markup at the start is what a browser would run, whatever signature may follow
        // (`infer` finds `%PDF` anywhere in the first KiB).
        if let Some(markup) = detect_markup(head) {
            return if agrees(declared, markup) {
                Ok(())
            } else {
                mismatch(markup)
            };
        }
    }
    // A signature of the declared type is enough, even on bytes that are otherwise text
    // (a small PDF can be ASCII throughout).
    if detect_binary(head).is_some_and(|t| agrees(declared, t)) {
        return Ok(());
    }
    let detected = if text { None } else { detect_binary(head) };
    match detected {
        Some(detected) if agrees(declared, detected) => Ok(()),
        Some(detected) => mismatch(detected),
        // `application/vnd.ms-excel` is also what browsers on Windows call a CSV.
        None if text && declared == "application/vnd.ms-excel" => Ok(()),
        None if family_of(declared).is_some_and(|f| f.signature_required) => Err(format!(
            "the uploaded bytes do not start like {declared}, which was declared"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::AllowedContentTypes;
    use proptest::prelude::*;

    fn declared(t: &str) -> ContentType {
        ContentType::parse(t, &AllowedContentTypes::any()).unwrap()
    }

    fn check(t: &str, head: &[u8]) -> Result<(), String> {
        check_declared_type(&declared(t), head)
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
    const GZIP: &[u8] = b"\x1f\x8b\x08\0\0\0\0\0\0\x03\xcbH\xcd\xc9\xc9\x07\0";
    const HTML_PAGE: &[u8] = b"<!DOCTYPE html>\n<html><script>alert(1)</script></html>";
    const SVG_IMAGE: &[u8] =
        b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>";
    const ZIP: &[u8] = b"PK\x03\x04\x14\0\0\0\x08\0\0\0!\0";
    const MP4: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41";

    #[test]
    fn detected_types_declared_as_themselves_pass() {
        for (t, head) in [
            ("image/png", PNG),
            ("application/pdf", PDF),
            ("application/gzip", GZIP),
            ("text/html", HTML_PAGE),
            ("image/svg+xml", SVG_IMAGE),
            ("application/zip", ZIP),
            ("video/mp4", MP4),
            ("image/jpeg", b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
            ("image/gif", b"GIF89a\x01\0\x01\0\0\0\0"),
            ("application/pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n"),
            ("text/plain", b"just a note\nwith two lines\n"),
            ("text/csv", b"BMW,3 series,2024\nMZ,ETZ,1985\n"),
            ("application/json", b"{\"a\": [1, 2]}"),
            ("text/xml", b"<?xml version=\"1.0\"?><feed/>"),
            ("application/atom+xml", b"<?xml version=\"1.0\"?><feed/>"),
        ] {
            assert_eq!(check(t, head), Ok(()), "{t}");
        }
    }

    #[test]
    fn families_agree() {
        // A .docx is a ZIP (and may be detected as one from its first KiB); a .mov and an
        // .mp4 are the same container; image/jpg is image/jpeg.
        for (t, head) in [
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ZIP,
            ),
            ("application/epub+zip", ZIP),
            ("video/quicktime", MP4),
            ("audio/mp4", MP4),
            ("image/jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0" as &[u8]),
            ("application/xml", SVG_IMAGE),
        ] {
            assert_eq!(check(t, head), Ok(()), "{t}");
        }
    }

    #[test]
    fn mismatches_fail() {
        for (t, head) in [
            ("application/pdf", PNG),
            ("image/png", HTML_PAGE),
            ("text/plain", HTML_PAGE),
            ("image/png", SVG_IMAGE),
            ("text/plain", GZIP),
            ("text/plain", b"#!/bin/sh\nrm -rf /\n" as &[u8]),
            ("image/png", b"hello"),
            ("application/pdf", b"\0\0\0\0"),
            ("text/plain", SVG_IMAGE),
            ("application/unknown", HTML_PAGE),
            ("text/plain", b"  <svg onload=alert(1)>"),
        ] {
            assert!(check(t, head).is_err(), "{t} with {head:?} passed");
        }
        assert_eq!(
            check("image/png", HTML_PAGE),
            Err("the uploaded bytes are text/html but image/png was declared".into())
        );
    }

    #[test]
    fn octet_stream_takes_anything() {
        for head in [HTML_PAGE, PNG, GZIP, SVG_IMAGE, b"plain"] {
            assert_eq!(check("application/octet-stream", head), Ok(()));
        }
    }

    #[test]
    fn text_in_any_encoding_is_text() {
        // UTF-8 cut mid-character by the read, and Latin-1.
        let mut head = "é".repeat(10).into_bytes();
        head.pop();
        assert!(is_text(&head));
        assert_eq!(check("text/plain", &head), Ok(()));
        assert_eq!(check("text/csv", b"BMW,M\xfcnchen,80331\n"), Ok(()));
        assert_eq!(check("text/csv", b"MZ,ETZ 250,1985\nID3,x,y\n"), Ok(()));
    }

    /// Real files whose first bytes are looser than `infer`'s signatures, or formats
    /// filegate has no name for inside a container it knows.
    #[test]
    fn real_world_framings_pass() {
        for (t, head) in [
            ("video/3gpp", b"\0\0\0\x18ftyp3gp4\0\0\0\0isom3gp4" as &[u8]),
            ("audio/mp4", b"\0\0\0\x20ftypM4B \0\0\0\0M4B mp42isom"),
            ("video/quicktime", b"\0\0\0\x08free\0\0\x10\0mdat"),
            ("video/mp4", b"\0\0\0\x1cftypXAVC\0\0\0\x01XAVCmp42iso2"),
            ("audio/mpeg", b"\xff\xfa\x90\x64\0\0\0"),
            ("audio/mpeg", b"\xff\xfd\x90\x64\0\0\0"),
            ("audio/aac", b"\xff\xf1\x50\x80\x02\x1f\xfc"),
            ("audio/aac", b"ADIF\0\0\0\0\0\0"),
            ("audio/flac", b"ID3\x04\0\0\0\0\0\x05\0\0\0\0\0fLaC\0\0\0\x22"),
            ("audio/aac", b"ID3\x04\0\0\0\0\0\0\xff\xf1\x50\x80"),
            ("audio/mpeg", b"ID3\x04\0\0\0\x7f\x7f\x7f\0\0"),
            ("application/vnd.ms-word.document.macroenabled.12", ZIP),
            ("application/vnd.visio", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0"),
            ("image/x-nikon-nef", b"MM\0*\0\0\0\x08\0\x1c"),
            ("application/vnd.ms-excel", b"name,amount\nAcme,12\n"),
            ("text/markdown", b"<p align=\"center\">\n  <img src=\"logo.png\">\n</p>\n# Title\n"),
            (
                "application/xhtml+xml",
                b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
            ),
            ("text/html", b"<?xml version=\"1.0\"?><!DOCTYPE html><html><body/></html>"),
        ] {
            assert_eq!(check(t, head), Ok(()), "{t}");
        }
    }

    /// Markup is found however it opens, and wins over a signature further on.
    #[test]
    fn markup_cannot_hide() {
        for (t, head) in [
            (
                "text/plain",
                b"\xEF\xBB\xBF<html><script>alert(1)</script>" as &[u8],
            ),
            ("text/plain", b"<html\n><script>alert(1)</script>"),
            ("text/plain", b"<!-- x --><script>alert(1)</script>"),
            (
                "application/pdf",
                b"<html><script>alert(1)</script>%PDF-1.4",
            ),
            ("image/png", b"ID3\x04\0\0\0\0\0\0\xff\xfb\x90"),
            ("text/markdown", b"<svg onload=alert(1)>"),
        ] {
            assert!(check(t, head).is_err(), "{t} with {head:?} passed");
        }
    }

    /// The first bytes of many formats `infer` knows.
    const SIGNATURES: &[&[u8]] = &[
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPVP8 ",
        b"RIFF\0\0\0\0WAVEfmt ",
        b"RIFF\0\0\0\0AVI LIST",
        b"%PDF-",
        b"PK\x03\x04",
        b"\x1f\x8b\x08",
        b"BZh",
        b"\xfd7zXZ\0",
        b"7z\xbc\xaf\x27\x1c",
        b"Rar!\x1a\x07\0",
        b"\x28\xb5\x2f\xfd",
        b"\0\0\0\x20ftypisom",
        b"\0\0\0\x20ftypqt  ",
        b"\0\0\0\x20ftypM4A ",
        b"\0\0\0\x20ftypheic",
        b"\0\0\0\x20ftypavif",
        b"\x1a\x45\xdf\xa3",
        b"ID3",
        b"\xff\xfb",
        b"OggS",
        b"fLaC",
        b"MThd",
        b"FORM\0\0\0\0AIFF",
        b"wOFF",
        b"wOF2",
        b"\0\x01\0\0\0",
        b"OTTO\0",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"MZ",
        b"\x7fELF",
        b"\0asm",
        b"II*\0",
        b"MM\0*",
        b"BM",
        b"8BPS",
        b"\0\0\x01\0",
        b"{\\rtf",
        b"%!PS",
        b"SQLite format 3\0",
        b"\x30\x82\x01",
        b"<!DOCTYPE html>",
        b"<?xml version=\"1.0\"?>",
        b"<svg ",
        b"#!/bin/sh\n",
    ];

    proptest! {
        /// Every type detection gives is in a family, so that a declaration of it is held
        /// to its signature and its other names (`image/jpg`) are known.
        #[test]
        fn every_detected_type_has_a_family(
            signature in proptest::sample::select(SIGNATURES),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let head = [signature, tail.as_slice()].concat();
            if let Some(detected) = detect(&head) {
                prop_assert!(family_of(detected).is_some(), "{} has no family", detected);
            }
        }

        #[test]
        fn any_bytes_get_an_answer(head in proptest::collection::vec(any::<u8>(), 0..600)) {
            for t in ["text/plain", "image/png", "application/zip", "application/msword"] {
                let _ = check(t, &head);
            }
        }
    }
}

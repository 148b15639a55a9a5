//! The hardening of the upload path (API.md "Authentication and tenancy", the upload limits):
//! one test per point of the issue that filed it, each failing on the code before its fix.

use filegate_tests::{TestOptions, bytes_of, pdf, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

/// A token whose `nbf` or `iat` lies in the future is not valid yet.
#[tokio::test]
async fn tokens_not_valid_yet_are_refused() {
    let app = spawn_app().await;
    let in_a_day = filegate_domain::timestamp::Timestamp::now().unix_seconds() + 24 * 3600;
    for claim in ["nbf", "iat"] {
        let token = app.token_with_claims(json!({ claim: in_a_day }));
        let r = app
            .send(reqwest::Method::GET, "/v1/files", Some(&token), None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "invalid_token"),
            "{claim}: {}",
            r.body
        );
    }
    let now = filegate_domain::timestamp::Timestamp::now().unix_seconds();
    let valid = app.token_with_claims(json!({"nbf": now - 60, "iat": now - 60}));
    let r = app
        .send(reqwest::Method::GET, "/v1/files", Some(&valid), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// Names made only or partly of format characters (zero-width, bidi marks, BOM) are refused.
#[tokio::test]
async fn invisible_and_format_characters_are_not_names() {
    let app = spawn_app().await;
    for name in [
        "\u{200b}",
        "a\u{200b}b.pdf",
        "report\u{061c}.pdf",
        "\u{feff}report.pdf",
        "a\u{2060}.pdf",
        "a\u{200e}.pdf",
        "a\u{00ad}b.pdf",
        "a\u{2028}b.pdf",
    ] {
        let r = app.post("/v1/files", &pdf(name, 10)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name:?}: {}", r.body);
        assert_eq!(r.param(), Some("name"), "{name:?}");
    }
    // Letters with combining marks are visible, and stay valid.
    let r = app
        .post("/v1/files", &pdf("re\u{301}sume\u{301}.pdf", 10))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Sizes are JSON integers or strings of digits: never floats, even whole ones.
#[tokio::test]
async fn sizes_that_are_not_integers_are_refused() {
    let app = spawn_app().await;
    for raw in ["1e3", "1.0", "1000.0", "1E3", "2e0"] {
        let body =
            format!(r#"{{"name":"a.pdf","content_type":"application/pdf","size_bytes":{raw}}}"#);
        let r = app.post_raw("/v1/files", body).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (StatusCode::BAD_REQUEST, "invalid_size", Some("size_bytes")),
            "{raw}: {}",
            r.body
        );
    }
    for raw in [r#"" 5""#, r#""+5""#, r#""5 ""#] {
        let body =
            format!(r#"{{"name":"a.pdf","content_type":"application/pdf","size_bytes":{raw}}}"#);
        let r = app.post_raw("/v1/files", body).await;
        assert_eq!(r.code(), "invalid_size", "{raw}");
    }
}

/// A body that is not a JSON object is refused, however well its values line up with the
/// fields.
#[tokio::test]
async fn bodies_that_are_not_objects_are_refused() {
    let app = spawn_app().await;
    for (path, body) in [
        ("/v1/files", r#"["a.txt","text/plain",5]"#),
        ("/v1/files", r#""a.txt""#),
        ("/v1/files", "null"),
        ("/v1/files", "5"),
        ("/v1/files/batch", r#"[[["a.txt","text/plain",5]]]"#),
        ("/v1/folders", r#"["Contracts"]"#),
    ] {
        let r = app.post_raw(path, body.to_owned()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_body"),
            "{path} {body}: {}",
            r.body
        );
    }
    assert_eq!(app.table_items().await, 0, "nothing was written");
}

/// The objects inside a body are objects too: an array in place of a batch entry or of a
/// `parent` is refused with `param` naming it.
#[tokio::test]
async fn nested_objects_sent_as_arrays_are_refused() {
    let app = spawn_app().await;
    for (path, body, param) in [
        (
            "/v1/files/batch",
            r#"{"files": [["a.txt", "text/plain", 5]]}"#,
            "files[0]",
        ),
        (
            "/v1/files",
            r#"{"name": "a.txt", "content_type": "text/plain", "size_bytes": 5, "parent": ["agent", "a1"]}"#,
            "parent",
        ),
        (
            "/v1/files/batch",
            r#"{"files": [{"name": "a.txt", "content_type": "text/plain", "size_bytes": 5}], "parent": ["agent", "a1"]}"#,
            "parent",
        ),
        (
            "/v1/files/batch",
            r#"{"files": [{"name": "a.txt", "content_type": "text/plain", "size_bytes": 5, "parent": ["agent", "a1"]}]}"#,
            "files[0].parent",
        ),
    ] {
        let r = app.post_raw(path, body.to_owned()).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (StatusCode::BAD_REQUEST, "invalid_type", Some(param)),
            "{path} {body}: {}",
            r.body
        );
    }
    assert_eq!(app.table_items().await, 0, "nothing was written");
}

/// In a batch, an entry's own `"folder": null` means the root; only an absent `folder`
/// inherits the batch's.
#[tokio::test]
async fn a_batch_entrys_null_folder_is_the_root() {
    let app = spawn_app().await;
    let folder = app.create_folder("Inbox", None).await;
    let folder_id = folder["id"].as_str().unwrap();
    let mut at_root = pdf("root.pdf", 10);
    at_root["folder"] = json!(null);
    let r = app
        .post(
            "/v1/files/batch",
            &json!({"files": [pdf("inherits.pdf", 10), at_root], "folder": folder_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["data"][0]["folder"], folder_id);
    assert_eq!(r.body["data"][1]["folder"], json!(null), "{}", r.body);
}

/// A file that failed after its bytes were verified (`processing → failed`) keeps them:
/// finalize, by any caller or a replayed event, never deletes verified bytes.
#[tokio::test]
async fn finalize_never_deletes_verified_bytes() {
    let app = spawn_app().await;
    let file = app
        .uploaded_file(pdf("scan.pdf", 64), &bytes_of(64, 3))
        .await;
    let id = file["id"].as_str().unwrap();
    let status = |to: &str| {
        let body = if to == "failed" {
            json!({"status": to, "error_message": "OCR crashed"})
        } else {
            json!({"status": to})
        };
        (format!("/v1/files/{id}/status"), body)
    };
    for to in ["processing", "failed"] {
        let (path, body) = status(to);
        let r = app.post(&path, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{to}: {}", r.body);
    }
    for _ in 0..2 {
        let r = app.finalize(id).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "file_failed"));
    }
    assert!(
        app.head_object(id).await.is_some(),
        "the verified bytes of a file that failed later are kept"
    );
}

/// One mismatch, one answer: whichever path finalizes first (here the S3 event), the client's
/// own finalize gets `409 upload_mismatch` with `details.reason`, every time.
#[tokio::test]
async fn a_mismatch_found_by_the_s3_event_is_upload_mismatch_for_the_client_too() {
    let app = spawn_app_with(TestOptions {
        event_poller: true,
        ..TestOptions::default()
    })
    .await;
    let file = app.create_file(pdf("short.pdf", 1000)).await;
    let id = file["id"].as_str().unwrap();
    // S3 refuses this PUT (Content-Length is signed); the emulator does not.
    assert_eq!(app.upload(&file, &bytes_of(999, 0)).await, StatusCode::OK);
    app.wait_for_status(id, "failed").await;
    for _ in 0..2 {
        let r = app.finalize(id).await;
        assert_eq!(
            (
                r.status,
                r.code(),
                r.body["error"]["details"]["reason"].as_str()
            ),
            (StatusCode::CONFLICT, "upload_mismatch", Some("size")),
            "{}",
            r.body
        );
        assert!(r.body["error"]["message"].as_str().unwrap().contains("999"));
    }
}

/// Only types on the inline-safe list are ever shown inline; every other type, and every type
/// a browser would sniff, is an attachment, on download URLs and the content route alike.
#[tokio::test]
async fn only_inline_safe_types_are_served_inline() {
    let app = spawn_app().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // (HTML bytes declared so would not get past finalize: see the type checks below.)
        ("application/unknown", b"1 < 2".to_vec(), "attachment"),
        ("unknown/unknown", b"1 < 2".to_vec(), "attachment"),
        ("application/json", b"{\"a\":1}".to_vec(), "attachment"),
        ("text/markdown", b"# title".to_vec(), "attachment"),
        (
            "application/octet-stream",
            b"\x00\x01".to_vec(),
            "attachment",
        ),
        ("image/png", png, "inline"),
        ("application/pdf", b"%PDF-1.7\n".to_vec(), "inline"),
        ("text/plain; charset=utf-8", b"hello".to_vec(), "inline"),
        ("text/csv", b"a,b\n1,2\n".to_vec(), "inline"),
        ("video/mp4", mp4, "inline"),
    ];
    for (content_type, bytes, expected) in cases {
        let declaration =
            json!({"name": "f", "content_type": content_type, "size_bytes": bytes.len()});
        let file = app.uploaded_file(declaration, &bytes).await;
        let id = file["id"].as_str().unwrap();
        let r = app
            .post(&format!("/v1/files/{id}/download_url"), &json!({}))
            .await;
        let url = r.body["url"].as_str().unwrap();
        let served = app.http.get(url).send().await.unwrap();
        let disposition = served.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with(expected),
            "{content_type}: download URL {disposition}"
        );
        let streamed = app
            .http
            .get(format!("{}/v1/files/{id}/content", app.base))
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap();
        let disposition = streamed.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with(expected),
            "{content_type}: content route {disposition}"
        );
        assert_eq!(streamed.headers()["x-content-type-options"], "nosniff");
    }
}

/// `public: true` is only for inline-safe types: a public file is served from the CDN's
/// origin as its own type, where HTML or SVG would run as that origin's script.
#[tokio::test]
async fn only_inline_safe_types_can_be_public() {
    let app = spawn_app().await;
    for content_type in [
        "text/html",
        "image/svg+xml",
        "application/unknown",
        "application/octet-stream",
        "application/json",
    ] {
        let declaration =
            json!({"name": "f", "content_type": content_type, "size_bytes": 10, "public": true});
        let r = app.post("/v1/files", &declaration).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (
                StatusCode::BAD_REQUEST,
                "public_not_allowed",
                Some("public")
            ),
            "{content_type}: {}",
            r.body
        );
    }
    let mut public_pdf = pdf("a.pdf", 10);
    public_pdf["public"] = true.into();
    let public_page =
        json!({"name": "b.html", "content_type": "text/html", "size_bytes": 10, "public": true});
    let r = app
        .post(
            "/v1/files/batch",
            &json!({"files": [public_pdf, public_page]}),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::BAD_REQUEST,
            "public_not_allowed",
            Some("files[1].public")
        ),
        "{}",
        r.body
    );
    let private_page = json!({"name": "b.html", "content_type": "text/html", "size_bytes": 10});
    assert_eq!(
        app.post("/v1/files", &private_page).await.status,
        StatusCode::CREATED
    );
}

/// The tag a CDN's access depends on is put on by finalize, not by the PUT, and taken off
/// when the file fails; a deleted file's object goes with its tag.
#[tokio::test]
async fn the_public_tag_is_on_only_while_the_file_is_servable() {
    let app = spawn_app().await;
    let bytes = bytes_of(64, 1);
    let mut declaration = pdf("public.pdf", bytes.len());
    declaration["public"] = true.into();
    let created = app.create_file(declaration.clone()).await;
    assert!(
        created["upload"]["headers"].get("x-amz-tagging").is_none(),
        "{}",
        created["upload"]
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.upload(&created, &bytes).await, StatusCode::OK);
    assert_eq!(app.object_tags(id).await, [], "pending: not published");
    assert_eq!(app.finalize(id).await.status, StatusCode::OK);
    let public = [("filegate-public".to_owned(), "true".to_owned())];
    assert_eq!(app.object_tags(id).await, public, "uploaded: published");
    for body in [
        json!({"status": "processing"}),
        json!({"status": "failed", "error_message": "virus found"}),
    ] {
        let r = app.post(&format!("/v1/files/{id}/status"), &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(app.object_tags(id).await, [], "failed: unpublished");
    assert!(app.head_object(id).await.is_some(), "the bytes are kept");

    let other = app.uploaded_file(declaration, &bytes).await;
    let other = other["id"].as_str().unwrap();
    assert_eq!(app.object_tags(other).await, public);
    assert_eq!(
        app.delete(&format!("/v1/files/{other}")).await.status,
        StatusCode::OK
    );
    assert!(
        app.head_object(other).await.is_none(),
        "deleted with its tag"
    );

    let private = app
        .uploaded_file(pdf("private.pdf", bytes.len()), &bytes)
        .await;
    assert_eq!(app.object_tags(private["id"].as_str().unwrap()).await, []);
}

/// Tags filegate does not own (a malware scanner's verdict) neither fail an upload nor are
/// lost when the public tag comes and goes.
#[tokio::test]
async fn other_tags_are_left_alone() {
    let app = spawn_app().await;
    let bytes = bytes_of(64, 5);
    let mut declaration = pdf("scanned.pdf", bytes.len());
    declaration["public"] = true.into();
    let created = app.create_file(declaration).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.upload_adding(
            &created,
            &bytes,
            &[(
                "x-amz-tagging",
                "GuardDutyMalwareScanStatus=NO_THREATS_FOUND"
            )]
        )
        .await,
        StatusCode::OK
    );
    let r = app.finalize(id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let scan = (
        "GuardDutyMalwareScanStatus".to_owned(),
        "NO_THREATS_FOUND".to_owned(),
    );
    let public = ("filegate-public".to_owned(), "true".to_owned());
    assert_eq!(app.object_tags(id).await, [scan.clone(), public]);
    for body in [
        json!({"status": "processing"}),
        json!({"status": "failed", "error_message": "rejected"}),
    ] {
        let r = app.post(&format!("/v1/files/{id}/status"), &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(app.object_tags(id).await, [scan]);
}

/// S3 stores headers an uploader adds beyond the signed ones (a gzip encoding, a year-long
/// cache, a disposition): finalize refuses the object. S3 itself refuses unsigned `x-amz-*`
/// headers (`HeadersNotSigned`) and, with the template's policies, any tag on an upload;
/// moto stores them, so finalize's own check of those is exercised here too.
#[tokio::test]
async fn headers_the_upload_url_did_not_sign_fail_the_upload() {
    let app = spawn_app().await;
    let bytes = bytes_of(64, 2);
    for (name, value, named) in [
        ("content-encoding", "gzip", "content-encoding"),
        ("cache-control", "public, max-age=31536000", "cache-control"),
        (
            "content-disposition",
            "inline; filename=x.html",
            "content-disposition",
        ),
        ("content-language", "en", "content-language"),
        ("expires", "Thu, 01 Dec 2030 16:00:00 GMT", "expires"),
        ("x-amz-meta-owner", "mallory", "x-amz-meta-owner"),
        (
            "x-amz-website-redirect-location",
            "/elsewhere",
            "x-amz-website-redirect-location",
        ),
        ("x-amz-tagging", "filegate-public=true", "filegate-public"),
    ] {
        let created = app.create_file(pdf("f.pdf", bytes.len())).await;
        let id = created["id"].as_str().unwrap();
        assert_eq!(
            app.upload_adding(&created, &bytes, &[(name, value)]).await,
            StatusCode::OK,
            "{name}"
        );
        let r = app.finalize(id).await;
        assert_eq!(
            (
                r.status,
                r.code(),
                r.body["error"]["details"]["reason"].as_str()
            ),
            (
                StatusCode::CONFLICT,
                "upload_mismatch",
                Some("unsigned_header")
            ),
            "{name}: {}",
            r.body
        );
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
        assert!(app.head_object(id).await.is_none(), "{name}: not kept");
    }
}

/// What each case's finalize answers: the status, and the mismatch reason when there is one.
async fn finalized_as(app: &filegate_tests::TestApp, id: &str) -> (StatusCode, Option<String>) {
    let r = app.finalize(id).await;
    let reason = r.body["error"]["details"]["reason"]
        .as_str()
        .map(str::to_owned);
    (r.status, reason)
}

/// The first bytes must agree with the declared type, on the HTTP and the S3-event path
/// alike: a file whose bytes are another type (or lack the declared type's signature) fails
/// with `upload_mismatch` and `details.reason: detected_type`.
#[tokio::test]
async fn the_first_bytes_must_be_the_declared_type_on_both_paths() {
    let by_http = spawn_app().await;
    let by_event = spawn_app_with(TestOptions {
        event_poller: true,
        ..TestOptions::default()
    })
    .await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    let pdf_bytes = bytes_of(64, 4);
    let gzip =
        b"\x1f\x8b\x08\0\0\0\0\0\0\x03\xcbH\xcd\xc9\xc9\x07\0\x86\xa6\x106\x05\0\0\0".to_vec();
    let html = b"<!DOCTYPE html><html><script>alert(document.domain)</script></html>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let docx =
        b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0\0\0\0\0\0\0\0\0\0\0\0\0\x13\0\0\0[Content_Types].xml"
            .to_vec();
    let text = b"Meeting notes\nBMW and MZ both sent quotes.\n".to_vec();
    let ok = None;
    let mismatch = Some("detected_type");
    let cases: Vec<(&str, &[u8], Option<&str>)> = vec![
        ("image/png", &png, ok),
        ("image/jpeg", &jpeg, ok),
        ("application/pdf", &pdf_bytes, ok),
        ("application/gzip", &gzip, ok),
        ("text/html", &html, ok),
        ("image/svg+xml", &svg, ok),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &docx,
            ok,
        ),
        ("application/zip", &docx, ok),
        ("text/plain", &text, ok),
        ("application/octet-stream", &html, ok),
        ("application/pdf", &png, mismatch),
        ("image/png", &html, mismatch),
        ("image/png", &svg, mismatch),
        ("text/plain", &gzip, mismatch),
        ("text/plain", &html, mismatch),
        ("image/png", &text, mismatch),
    ];
    for (content_type, bytes, expected) in cases {
        let declaration =
            json!({"name": "f", "content_type": content_type, "size_bytes": bytes.len()});
        let expected = match expected {
            None => (StatusCode::OK, None),
            Some(reason) => (StatusCode::CONFLICT, Some(reason.to_owned())),
        };
        let case = format!("{content_type} with {:?}", String::from_utf8_lossy(bytes));

        let created = by_http.create_file(declaration.clone()).await;
        assert_eq!(by_http.upload(&created, bytes).await, StatusCode::OK);
        let id = created["id"].as_str().unwrap();
        assert_eq!(finalized_as(&by_http, id).await, expected, "HTTP: {case}");
        assert_eq!(
            by_http.head_object(id).await.is_some(),
            expected.0 == StatusCode::OK,
            "HTTP: {case}: kept only when it matches"
        );

        let created = by_event.create_file(declaration).await;
        assert_eq!(by_event.upload(&created, bytes).await, StatusCode::OK);
        let id = created["id"].as_str().unwrap();
        let settled = if expected.0 == StatusCode::OK {
            "uploaded"
        } else {
            "failed"
        };
        by_event.wait_for_status(id, settled).await;
        assert_eq!(
            finalized_as(&by_event, id).await,
            expected,
            "S3 event: {case}"
        );
    }
}

/// Reads one HTTP/1.1 response off `stream`: its status and lowercase headers (the body,
/// sized by Content-Length, is read and dropped). `None` when the connection ends first.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
) -> Option<(u16, std::collections::HashMap<String, String>)> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: std::collections::HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some((status, headers))
}

/// A request refused before its body was read (a body over the JSON limit, or one a route
/// never reads) still gets its answer on a keep-alive connection, and then either the
/// connection serves the next request or the answer said `Connection: close`: never a
/// connection that silently dies.
#[tokio::test]
async fn early_refusals_never_leave_a_dead_keep_alive_connection() {
    use tokio::io::AsyncWriteExt as _;
    let app = spawn_app().await;
    let token = app.token();
    let address = app.base.trim_start_matches("http://").to_owned();
    let file = app.create_file(pdf("f.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    let list = format!(
        "GET /v1/files HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    for (what, path, size) in [
        (
            "just over the JSON limit",
            "/v1/files".to_owned(),
            64 * 1024 + 1,
        ),
        ("1 MiB of JSON", "/v1/files".to_owned(), 1 << 20),
        ("8 MiB of JSON", "/v1/files".to_owned(), 8 << 20),
        (
            "a body finalize never reads",
            format!("/v1/files/{id}/finalize"),
            1 << 20,
        ),
        ("64 MiB of JSON", "/v1/files".to_owned(), 64 << 20),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(list.as_bytes()).await.unwrap();
        assert_eq!(read_response(&mut stream).await.map(|r| r.0), Some(200));

        let body = format!("{{\"name\": \"{}\"}}", "a".repeat(size));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        // The server reads the rest and drops it, or answers and closes: either way the
        // write ends (failing, when the server closed first) and the answer is there to read.
        let _ = stream.write_all(request.as_bytes()).await;
        let (status, headers) = read_response(&mut stream)
            .await
            .unwrap_or_else(|| panic!("{what}: no answer"));
        assert!((400..500).contains(&status), "{what}: {status}");
        if headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            continue;
        }
        // Kept alive: the next request on it must be answered.
        let next = match stream.write_all(list.as_bytes()).await {
            Ok(()) => read_response(&mut stream).await.map(|r| r.0),
            Err(_) => None,
        };
        assert_eq!(
            next,
            Some(200),
            "{what}: answered {status} without Connection: close, then dropped the connection"
        );
    }
}

/// A client that waits for `100 Continue` before sending a body its route never reads is
/// answered without being asked for the body, on a connection that then closes.
#[tokio::test]
async fn a_client_expecting_100_continue_is_not_asked_for_an_unread_body() {
    use tokio::io::AsyncWriteExt as _;
    let app = spawn_app().await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let file = app.create_file(pdf("f.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/files/{id}/finalize HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n",
        app.token()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (status, headers) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        read_response(&mut stream),
    )
    .await
    .expect("answered without the body")
    .expect("an answer");
    assert_eq!(status, 409, "finalize's own answer, not 100 Continue");
    assert_eq!(headers.get("connection").map(String::as_str), Some("close"));
}

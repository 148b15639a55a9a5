//! `POST /v1/files/{id}/download_url`: presigned GETs, fetched for real from the emulator,
//! which honours `response-content-type` and `response-content-disposition` (checked by
//! `the_emulator_honours_the_response_overrides`), so the headers asserted below are the ones
//! a browser would see.

use filegate_domain::timestamp::Timestamp;
use filegate_tests::{TestApp, TestResponse, bytes_of, pdf, spawn_app};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `POST /v1/files/{id}/download_url` with `body` (none: no body and no Content-Type).
async fn download_url(app: &TestApp, id: &str, body: Option<Value>) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/v1/files/{id}/download_url"),
        Some(&app.token()),
        body.as_ref(),
    )
    .await
}

/// A download URL that must be issued (200).
async fn issued(app: &TestApp, id: &str, body: Value) -> Value {
    let r = download_url(app, id, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// GETs a presigned URL the way a browser would: status, headers and bytes.
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.http.get(url).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .to_str()
        .unwrap_or_else(|_| panic!("{name} is not visible ASCII: {:?}", headers.get(name)))
}

/// A query parameter of a URL, percent-decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Uploads `bytes` as `name`, asks for a URL with `body`, GETs it, and checks the bytes, the
/// type and that the disposition is exactly `expected` (also in the signed URL itself).
async fn downloads_with_disposition(name: &str, body: Value, expected: &str) {
    let app = spawn_app().await;
    let bytes = bytes_of(5000, 7);
    let file = app.uploaded_file(pdf(name, bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let download = issued(&app, id, body).await;
    let url = download["url"].as_str().unwrap();
    assert_eq!(
        query_param(url, "response-content-disposition").as_deref(),
        Some(expected),
        "{url}"
    );
    let (status, headers, got) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == bytes, "the downloaded bytes are the uploaded ones");
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert_eq!(header(&headers, "content-disposition"), expected);
}

#[tokio::test]
async fn the_emulator_honours_the_response_overrides() {
    // Presigned directly with the SDK, with a type and disposition unlike the stored ones: the
    // emulator must answer with the overrides, or the other tests would prove nothing.
    let app = spawn_app().await;
    let bytes = bytes_of(10, 1);
    let file = app.uploaded_file(pdf("a.pdf", bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let presigned = filegate_store::clients::s3_client(&app.deployment.sdk, &app.state().config)
        .get_object()
        .bucket(&app.state().config.bucket)
        .key(format!("{}/{id}", app.org))
        .response_content_type("text/plain")
        .response_content_disposition("attachment; filename=\"probe.txt\"")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    let (status, headers, got) = fetch(&app, presigned.uri()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, bytes);
    assert_eq!(header(&headers, "content-type"), "text/plain");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"probe.txt\""
    );
}

#[tokio::test]
async fn a_download_url_serves_the_uploaded_bytes_inline_with_the_files_type() {
    let app = spawn_app().await;
    let bytes = bytes_of(5000, 7);
    let file = app
        .uploaded_file(pdf("report.pdf", bytes.len()), &bytes)
        .await;
    let id = file["id"].as_str().unwrap();

    let before = Timestamp::now().unix_seconds();
    let download = issued(&app, id, json!({})).await;
    let after = Timestamp::now().unix_seconds();
    assert_eq!(download["object"], "file_download");
    assert_eq!(download["file"], id);
    assert_eq!(download["expires_in"], 300);
    let expires_at = download["expires_at"].as_str().expect("expires_at string");
    let expires_at = Timestamp::parse(expires_at)
        .unwrap_or_else(|| panic!("RFC 3339 with milliseconds: {expires_at}"))
        .unix_seconds();
    assert!(
        (before + 299..=after + 300).contains(&expires_at),
        "{expires_at} is 300 s after {before}..{after}"
    );
    let url = download["url"].as_str().unwrap();
    assert!(url.contains(&format!("/{}/{id}?", app.org)), "{url}");
    assert_eq!(
        query_param(url, "response-content-type").as_deref(),
        Some("application/pdf")
    );

    let (status, headers, got) = fetch(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(got == bytes, "the downloaded bytes are the uploaded ones");
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert_eq!(
        header(&headers, "content-disposition"),
        "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    );
    assert_eq!(header(&headers, "content-length"), "5000");
}

#[tokio::test]
async fn attachment_true_makes_it_a_download() {
    downloads_with_disposition(
        "report.pdf",
        json!({"attachment": true}),
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
    )
    .await;
}

#[tokio::test]
async fn attachment_false_is_inline() {
    downloads_with_disposition(
        "report.pdf",
        json!({"attachment": false}),
        "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf",
    )
    .await;
}

#[tokio::test]
async fn non_ascii_names_get_an_ascii_fallback_and_a_utf8_filename_star() {
    downloads_with_disposition(
        "résumé €.pdf",
        json!({}),
        "inline; filename=\"resume _.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf",
    )
    .await;
}

#[tokio::test]
async fn decomposed_names_are_stored_nfc_and_encoded_as_such() {
    // "e" + U+0301 is stored NFC as "é", so filename* carries %C3%A9, not e%CC%81.
    downloads_with_disposition(
        "re\u{301}sume\u{301}.pdf",
        json!({}),
        "inline; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
    )
    .await;
}

#[tokio::test]
async fn quotes_are_escaped_in_the_fallback_and_percent_encoded_in_filename_star() {
    downloads_with_disposition(
        "a\"b.pdf",
        json!({"attachment": true}),
        "attachment; filename=\"a\\\"b.pdf\"; filename*=UTF-8''a%22b.pdf",
    )
    .await;
}

#[tokio::test]
async fn header_separators_in_names_stay_inside_the_parameters() {
    downloads_with_disposition(
        "a;b=c,d'e.pdf",
        json!({}),
        "inline; filename=\"a;b=c,d'e.pdf\"; filename*=UTF-8''a%3Bb%3Dc%2Cd%27e.pdf",
    )
    .await;
}

#[tokio::test]
async fn a_255_character_name_is_carried_whole_in_an_ascii_header() {
    let name = format!("{}.pdf", "é".repeat(251));
    assert_eq!(name.chars().count(), 255);
    let expected = format!(
        "inline; filename=\"{}.pdf\"; filename*=UTF-8''{}.pdf",
        "e".repeat(251),
        "%C3%A9".repeat(251)
    );
    assert!(expected.is_ascii());
    downloads_with_disposition(&name, json!({}), &expected).await;
}

#[tokio::test]
async fn names_that_would_break_the_header_are_refused_at_creation() {
    let app = spawn_app().await;
    for name in [
        "a\"b\\c.pdf",
        "a\tb.pdf",
        "a\r\nContent-Type: text/html.pdf",
        "a\u{0}b.pdf",
        "a\u{7f}b.pdf",
        "a\u{85}b.pdf",
    ] {
        let r = app.post("/v1/files", &pdf(name, 10)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name:?}: {}", r.body);
        assert_eq!(
            (r.code(), r.param()),
            ("name_invalid_character", Some("name")),
            "{name:?}"
        );
    }
    assert_eq!(app.table_items().await, 0);
}

#[tokio::test]
async fn active_content_is_always_an_attachment() {
    let app = spawn_app().await;
    for (content_type, name, attachment) in [
        ("text/html", "page.html", json!({})),
        ("text/html", "page.html", json!({"attachment": false})),
        ("image/svg+xml", "logo.svg", json!({"attachment": false})),
        ("text/html; charset=utf-8", "utf8.html", json!({})),
        ("application/xhtml+xml", "page.xhtml", json!({})),
    ] {
        let bytes: &[u8] = if content_type.starts_with("image/svg") {
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
        } else {
            b"<!DOCTYPE html><html><script>alert(1)</script></html>"
        };
        let declaration = json!({
            "name": name, "content_type": content_type, "size_bytes": bytes.len(),
        });
        let file = app.uploaded_file(declaration, bytes).await;
        let id = file["id"].as_str().unwrap();
        let download = issued(&app, id, attachment).await;
        let (status, headers, got) = fetch(&app, download["url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{content_type}");
        assert_eq!(got, bytes);
        assert_eq!(
            header(&headers, "content-type"),
            file["content_type"].as_str().unwrap()
        );
        assert_eq!(
            header(&headers, "content-disposition"),
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}"),
            "{content_type}"
        );
    }
}

#[tokio::test]
async fn expires_in_is_sixty_seconds_to_an_hour() {
    let app = spawn_app().await;
    let bytes = bytes_of(100, 3);
    let file = app
        .uploaded_file(pdf("report.pdf", bytes.len()), &bytes)
        .await;
    let id = file["id"].as_str().unwrap();

    for bad in [json!(59), json!(3601), json!(0), json!(-60)] {
        let r = download_url(&app, id, Some(json!({ "expires_in": bad }))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.body["error"]["type"], "invalid_request_error");
        assert_eq!(
            (r.code(), r.param()),
            ("invalid_expires_in", Some("expires_in")),
            "{bad}"
        );
    }
    for wrong_type in [json!("60"), json!(60.5), json!(true)] {
        let r = download_url(&app, id, Some(json!({ "expires_in": wrong_type }))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{wrong_type}");
        assert_eq!(r.param(), Some("expires_in"), "{wrong_type}: {}", r.body);
    }
    let r = download_url(&app, id, Some(json!({"attachment": "yes"}))).await;
    assert_eq!(
        (r.status, r.param()),
        (StatusCode::BAD_REQUEST, Some("attachment"))
    );
    let r = download_url(&app, id, Some(json!({"expires": 60}))).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );

    for good in [60, 3600] {
        let download = issued(&app, id, json!({ "expires_in": good })).await;
        assert_eq!(download["expires_in"], good);
        let url = download["url"].as_str().unwrap();
        assert!(url.contains(&format!("X-Amz-Expires={good}&")), "{url}");
        let (status, _, got) = fetch(&app, url).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(got, bytes);
    }
    // Refused requests issued nothing: created, uploaded, and the two URLs above.
    assert_eq!(
        app.audit_actions(id).await,
        [
            "file.created",
            "file.uploaded",
            "file.download_url_issued",
            "file.download_url_issued"
        ]
    );
}

#[tokio::test]
async fn an_empty_body_takes_the_defaults() {
    let app = spawn_app().await;
    let bytes = bytes_of(100, 3);
    let file = app
        .uploaded_file(pdf("report.pdf", bytes.len()), &bytes)
        .await;
    let id = file["id"].as_str().unwrap();
    // No body and no Content-Type at all.
    let r = download_url(&app, id, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["expires_in"], 300);
    let url = r.body["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=300&"), "{url}");
    assert_eq!(
        query_param(url, "response-content-disposition").as_deref(),
        Some("inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
    );
    // A body that is not JSON is refused rather than ignored.
    let response = app
        .http
        .post(format!("{}/v1/files/{id}/download_url", app.base))
        .bearer_auth(app.token())
        .header("content-type", "text/plain")
        .body("expires_in=60")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn only_verified_files_of_the_org_can_be_downloaded() {
    let app = spawn_app().await;
    let pending = app.create_file(pdf("pending.pdf", 10)).await;
    let pending_id = pending["id"].as_str().unwrap();
    let r = download_url(&app, pending_id, Some(json!({}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "file_not_ready")
    );
    assert_eq!(r.body["error"]["type"], "conflict");

    let failed = app.create_file(pdf("failed.pdf", 10)).await;
    let failed_id = failed["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/files/{failed_id}/status"),
            &json!({"status": "failed", "error_message": "virus"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = download_url(&app, failed_id, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "file_not_ready")
    );

    let r = download_url(&app, "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "not_found");
    for malformed in ["nope", "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z", "file_123"] {
        let r = download_url(&app, malformed, None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_id"),
            "{malformed}"
        );
    }

    // Another organisation's uploaded file is indistinguishable from a missing one.
    let bytes = bytes_of(10, 1);
    let mine = app.uploaded_file(pdf("mine.pdf", 10), &bytes).await;
    let other = app.token_for(&format!("{}-other", app.org), None);
    let r = app
        .send(
            Method::POST,
            &format!("/v1/files/{}/download_url", mine["id"].as_str().unwrap()),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Nothing was issued for any of them.
    assert_eq!(app.audit_actions(pending_id).await, ["file.created"]);
}

#[tokio::test]
async fn issuing_a_url_is_audited_and_needs_only_read_scope() {
    let app = spawn_app().await;
    let bytes = bytes_of(100, 3);
    let file = app
        .uploaded_file(pdf("report.pdf", bytes.len()), &bytes)
        .await;
    let id = file["id"].as_str().unwrap();

    let reader = app.token_for(&app.org, Some("files:read"));
    let r = app
        .send(
            Method::POST,
            &format!("/v1/files/{id}/download_url"),
            Some(&reader),
            Some(&json!({"attachment": true, "expires_in": 120})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();

    let trail = app.get(&format!("/v1/files/{id}/audit")).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    assert_eq!(trail.body["object"], "list");
    let events = trail.body["data"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["file.created", "file.uploaded", "file.download_url_issued"]
    );
    let issued = &events[2];
    assert_eq!(issued["object"], "audit_event");
    assert_eq!(issued["file"], id);
    assert_eq!(issued["actor"], json!({"type": "user", "id": "user_1"}));
    assert_eq!(issued["request_id"], request_id.as_str());
    assert_eq!(issued["details"]["disposition"], "attachment");
    assert_eq!(issued["details"]["expires_in"], 120);
    assert!(issued["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test]
async fn processing_and_ready_files_can_be_downloaded_deleted_ones_cannot() {
    let app = spawn_app().await;
    let bytes = bytes_of(100, 9);
    let file = app.uploaded_file(pdf("a.pdf", bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    for status in ["processing", "ready"] {
        let r = app
            .post(
                &format!("/v1/files/{id}/status"),
                &json!({ "status": status }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let download = issued(&app, id, json!({})).await;
        let (code, _, got) = fetch(&app, download["url"].as_str().unwrap()).await;
        assert_eq!((code, got == bytes), (StatusCode::OK, true), "{status}");
    }
    let r = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = download_url(&app, id, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn public_files_without_a_public_base_url_get_a_presigned_url() {
    let app = spawn_app().await;
    let bytes = bytes_of(100, 9);
    let mut declaration = pdf("public.pdf", bytes.len());
    declaration["public"] = true.into();
    let file = app.uploaded_file(declaration, &bytes).await;
    assert_eq!(file["public"], true);
    let download = issued(&app, file["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(download["expires_in"], 300);
    assert!(download["expires_at"].is_string());
    let url = download["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let (status, _, got) = fetch(&app, url).await;
    assert_eq!((status, got == bytes), (StatusCode::OK, true));
}

/// With a public base URL (a CDN allowed to read only tagged objects), public files get a
/// plain URL when shown inline; attachments still get a presigned GET, since the CDN would
/// not send our Content-Disposition. (Only inline-safe types can be public: hardening.rs.)
#[tokio::test]
async fn public_files_get_the_public_url_only_when_it_is_safe() {
    use filegate_tests::TestOptions;
    let app = filegate_tests::spawn_app_with(TestOptions {
        public_base_url: Some("https://cdn.files.example/"),
        ..TestOptions::default()
    })
    .await;
    let bytes = bytes_of(100, 9);
    let mut declaration = pdf("public.pdf", bytes.len());
    declaration["public"] = true.into();
    let file = app.uploaded_file(declaration, &bytes).await;
    let id = file["id"].as_str().unwrap();

    let inline = issued(&app, id, json!({})).await;
    assert_eq!(
        inline["url"],
        format!("https://cdn.files.example/{}/{id}", app.org)
    );
    assert_eq!(
        (inline["expires_in"].clone(), inline["expires_at"].clone()),
        (json!(null), json!(null))
    );
    let attachment = issued(&app, id, json!({"attachment": true})).await;
    assert!(
        attachment["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-Signature=")
    );

    // A private file never gets the public URL, and its object has no tag.
    let private = app
        .uploaded_file(pdf("private.pdf", bytes.len()), &bytes)
        .await;
    let download = issued(&app, private["id"].as_str().unwrap(), json!({})).await;
    assert!(
        download["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-Signature=")
    );
}

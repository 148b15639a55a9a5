use filegate_tests::{TestOptions, pdf, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every rule of API.md's upload limits, through HTTP: status, code and param.
#[tokio::test]
async fn each_upload_rule_has_its_status_code_and_param() {
    let app = spawn_app_with(TestOptions {
        max_upload_bytes: Some(1_000_000),
        allowed_content_types: Some("application/pdf,image/*,text/plain"),
        ..TestOptions::default()
    })
    .await;
    let with = |field: &str, value: Value| {
        let mut body = pdf("ok.pdf", 10);
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = pdf("ok.pdf", 10);
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        (
            "empty name",
            with("name", json!("")),
            400,
            "name_empty",
            Some("name"),
        ),
        (
            "blank name",
            with("name", json!("   ")),
            400,
            "name_empty",
            Some("name"),
        ),
        (
            "long name",
            with("name", json!("a".repeat(256))),
            400,
            "name_too_long",
            Some("name"),
        ),
        (
            "slash",
            with("name", json!("a/b.pdf")),
            400,
            "name_invalid_character",
            Some("name"),
        ),
        (
            "backslash",
            with("name", json!("a\\b.pdf")),
            400,
            "name_invalid_character",
            Some("name"),
        ),
        (
            "control",
            with("name", json!("a\u{7}b.pdf")),
            400,
            "name_invalid_character",
            Some("name"),
        ),
        (
            "newline",
            with("name", json!("a\nb.pdf")),
            400,
            "name_invalid_character",
            Some("name"),
        ),
        (
            "dot",
            with("name", json!(".")),
            400,
            "name_reserved",
            Some("name"),
        ),
        (
            "dotdot",
            with("name", json!("..")),
            400,
            "name_reserved",
            Some("name"),
        ),
        (
            "name type",
            with("name", json!(5)),
            400,
            "invalid_type",
            Some("name"),
        ),
        (
            "no name",
            without("name"),
            400,
            "missing_field",
            Some("name"),
        ),
        (
            "bad type",
            with("content_type", json!("pdf")),
            400,
            "invalid_content_type",
            Some("content_type"),
        ),
        (
            "wildcard type",
            with("content_type", json!("*/*")),
            400,
            "invalid_content_type",
            Some("content_type"),
        ),
        (
            "type not allowed",
            with("content_type", json!("text/html")),
            415,
            "unsupported_content_type",
            Some("content_type"),
        ),
        (
            "zero size",
            with("size_bytes", json!(0)),
            400,
            "invalid_size",
            Some("size_bytes"),
        ),
        (
            "negative size",
            with("size_bytes", json!(-1)),
            400,
            "invalid_size",
            Some("size_bytes"),
        ),
        (
            "fractional size",
            with("size_bytes", json!(1.5)),
            400,
            "invalid_size",
            Some("size_bytes"),
        ),
        (
            "text size",
            with("size_bytes", json!("ten")),
            400,
            "invalid_size",
            Some("size_bytes"),
        ),
        (
            "boolean size",
            with("size_bytes", json!(true)),
            400,
            "invalid_type",
            Some("size_bytes"),
        ),
        (
            "too large",
            with("size_bytes", json!("1000001")),
            413,
            "file_too_large",
            Some("size_bytes"),
        ),
        (
            "no size",
            without("size_bytes"),
            400,
            "missing_field",
            Some("size_bytes"),
        ),
        (
            "bad checksum",
            with("checksum_sha256", json!("abc")),
            400,
            "invalid_checksum",
            Some("checksum_sha256"),
        ),
        (
            "bad folder id",
            with("folder", json!("docs")),
            400,
            "invalid_id",
            Some("folder"),
        ),
        (
            "unknown folder",
            with("folder", json!("fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")),
            404,
            "folder_not_found",
            Some("folder"),
        ),
        (
            "bad parent type",
            with("parent", json!({"type": "a#b", "id": "1"})),
            400,
            "invalid_parent",
            Some("parent.type"),
        ),
        (
            "bad parent id",
            with("parent", json!({"type": "org", "id": ""})),
            400,
            "invalid_parent",
            Some("parent.id"),
        ),
        (
            "parent extra field",
            with("parent", json!({"type": "org", "id": "1", "x": 1})),
            400,
            "unknown_field",
            Some("parent.x"),
        ),
        (
            "public type",
            with("public", json!("yes")),
            400,
            "invalid_type",
            Some("public"),
        ),
        (
            "unknown field",
            with("colour", json!("red")),
            400,
            "unknown_field",
            Some("colour"),
        ),
    ];
    for (label, body, status, code, param) in cases {
        let r = app.post("/v1/files", &body).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.param()),
            (status, code, param),
            "{label}: {}",
            r.body
        );
    }
    // Accepted edge values.
    for body in [
        with("name", json!("a".repeat(255))),
        with("name", json!("résumé €.pdf")),
        with("size_bytes", json!(1_000_000)),
        with("content_type", json!("image/svg+xml")),
        with("content_type", json!("text/plain; charset=utf-8")),
        with("folder", Value::Null),
    ] {
        let r = app.post("/v1/files", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.body);
    }
}

#[tokio::test]
async fn malformed_requests_are_4xx_never_5xx() {
    let app = spawn_app().await;
    let token = app.token();
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = app
            .http
            .post(format!("{}/v1/files", app.base))
            .bearer_auth(&token)
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        request.send()
    };
    for (label, body, content_type, status, code) in [
        (
            "truncated",
            "{\"name\":",
            Some("application/json"),
            400,
            "invalid_json",
        ),
        (
            "not json",
            "name=a",
            Some("application/json"),
            400,
            "invalid_json",
        ),
        ("array", "[]", Some("application/json"), 400, "invalid_body"),
        (
            "trailing data",
            r#"{"name":"a","content_type":"a/b","size_bytes":1} {}"#,
            Some("application/json"),
            400,
            "invalid_json",
        ),
        (
            "form",
            "name=a",
            Some("application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
        ),
        ("no content type", "{}", None, 415, "unsupported_media_type"),
    ] {
        let response = raw(body, content_type).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{label}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"]["code"], code, "{label}");
    }
    let huge = format!(
        r#"{{"name":"{}","content_type":"a/b","size_bytes":1}}"#,
        "a".repeat(100_000)
    );
    let response = app
        .http
        .post(format!("{}/v1/files", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "request_too_large"
    );

    for (method, path, status, code) in [
        (Method::GET, "/v1/files/not-an-id", 400, "invalid_id"),
        (
            Method::GET,
            "/v1/files/fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z",
            400,
            "invalid_id",
        ),
        (
            Method::POST,
            "/v1/files/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z/finalize",
            404,
            "file_not_found",
        ),
        (
            Method::GET,
            "/v1/files/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z",
            404,
            "file_not_found",
        ),
        (Method::GET, "/v1/nothing-here", 404, "route_not_found"),
        (Method::PUT, "/v1/files/batch", 405, "method_not_allowed"),
    ] {
        let r = app.send(method.clone(), path, Some(&token), None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{method} {path}"
        );
    }
}

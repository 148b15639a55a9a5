use filegate_tests::{TestOptions, bytes_of, pdf, sha256_base64, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn one_file_goes_from_declaration_to_uploaded() {
    let app = spawn_app().await;
    let bytes = bytes_of(1_228_800, 1);
    let mut declaration = pdf("Acme Co MSA.pdf", bytes.len());
    declaration["checksum_sha256"] = sha256_base64(&bytes).into();
    declaration["parent"] = json!({"type": "knowledge", "id": "6501db8bb89d5189b64acf79"});
    let file = app.create_file(declaration).await;

    assert_eq!(file["object"], "file");
    assert_eq!(file["status"], "pending");
    assert_eq!(file["size_bytes"], "1228800", "sizes are strings");
    assert_eq!(file["uploaded_by"], "user_1");
    assert_eq!(file["parent"]["type"], "knowledge");
    let id = file["id"].as_str().unwrap();
    assert!(id.starts_with("file_") && id.len() == 31, "{id}");
    let url = file["upload"]["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("/{}/{id}?", app.org)),
        "key is <org>/<file id>: {url}"
    );
    assert!(!url.contains("Acme"), "the name never reaches the key");
    assert_eq!(file["upload"]["expires_in"], 300);

    assert_eq!(app.upload(&file, &bytes).await, StatusCode::OK);
    let head = app.head_object(id).await.expect("object stored");
    assert_eq!(head.content_length, Some(1_228_800));
    assert_eq!(
        head.server_side_encryption
            .map(|s| s.as_str().to_owned())
            .as_deref(),
        Some("AES256")
    );

    let finalized = app.finalize(id).await;
    assert_eq!(finalized.status, StatusCode::OK, "{}", finalized.body);
    assert_eq!(finalized.body["status"], "uploaded");
    assert!(finalized.body["uploaded_at"].is_string());

    // The URL is write-once: verified bytes cannot be swapped while it is still valid.
    let etag = head.e_tag.clone();
    assert_eq!(
        app.upload(&file, &bytes_of(1_228_800, 9)).await,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(app.head_object(id).await.unwrap().e_tag, etag);

    let fetched = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, finalized.body);
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
}

#[tokio::test]
async fn a_batch_of_ten_uploads_and_finalizes() {
    let app = spawn_app().await;
    let files: Vec<Value> = (0..10)
        .map(|i| pdf(&format!("scan {i}.pdf"), 100 + i))
        .collect();
    let folderless = app
        .post(
            "/v1/files/batch",
            &json!({"files": files, "parent": {"type": "org", "id": "o1"}}),
        )
        .await;
    assert_eq!(
        folderless.status,
        StatusCode::CREATED,
        "{}",
        folderless.body
    );
    assert_eq!(folderless.body["object"], "list");
    assert_eq!(folderless.body["has_more"], false);
    let data = folderless.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 10);
    for (i, file) in data.iter().enumerate() {
        assert_eq!(file["name"], format!("scan {i}.pdf"), "request order");
        assert_eq!(file["parent"]["id"], "o1", "batch parent applies");
        assert_eq!(
            app.upload(file, &bytes_of(100 + i, i as u8)).await,
            StatusCode::OK
        );
    }
    for file in data {
        let r = app.finalize(file["id"].as_str().unwrap()).await;
        assert_eq!(
            (r.status, r.body["status"].as_str()),
            (StatusCode::OK, Some("uploaded"))
        );
    }
}

#[tokio::test]
async fn a_batch_of_eleven_writes_nothing() {
    let app = spawn_app().await;
    let files: Vec<Value> = (0..11).map(|i| pdf(&format!("{i}.pdf"), 10)).collect();
    let r = app
        .post("/v1/files/batch", &json!({ "files": files }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!((r.code(), r.param()), ("invalid_batch_size", Some("files")));
    let r = app.post("/v1/files/batch", &json!({ "files": [] })).await;
    assert_eq!(r.code(), "invalid_batch_size");
    assert_eq!(app.table_items().await, 0);
}

#[tokio::test]
async fn a_batch_with_one_bad_entry_writes_nothing() {
    let app = spawn_app().await;
    let mut files: Vec<Value> = (0..5).map(|i| pdf(&format!("{i}.pdf"), 10)).collect();
    files[3]["name"] = "..".into();
    let r = app
        .post("/v1/files/batch", &json!({ "files": files }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (r.code(), r.param()),
        ("name_reserved", Some("files[3].name"))
    );
    assert_eq!(app.table_items().await, 0);

    // A folder that does not exist fails in the transaction itself: still nothing written.
    let files: Vec<Value> = (0..3).map(|i| pdf(&format!("{i}.pdf"), 10)).collect();
    let r = app
        .post(
            "/v1/files/batch",
            &json!({ "files": files, "folder": "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z" }),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::NOT_FOUND,
            "folder_not_found",
            Some("files[0].folder")
        )
    );
    assert_eq!(app.table_items().await, 0);
}

#[tokio::test]
async fn the_bucket_allows_browser_uploads_from_configured_origins() {
    let app = spawn_app_with(TestOptions {
        cors_allowed_origins: Some("https://app.example.com"),
        ..TestOptions::default()
    })
    .await;
    let cors = filegate_store::clients::s3_client(&app.deployment.sdk, &app.state().config)
        .get_bucket_cors()
        .bucket(&app.state().config.bucket)
        .send()
        .await
        .unwrap();
    let rule = &cors.cors_rules()[0];
    assert_eq!(rule.allowed_origins(), ["https://app.example.com"]);
    assert!(rule.allowed_methods().iter().any(|m| m == "PUT"));
    assert!(rule.allowed_methods().iter().any(|m| m == "GET"));
    assert_eq!(rule.expose_headers(), ["ETag"]);

    // The API answers the browser's preflight for the same origin only.
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/v1/files", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn request_ids_are_the_servers_own() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!(
            "{}/v1/files/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z",
            app.base
        ))
        .bearer_auth(app.token())
        .header("x-request-id", "forged-id")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("req_") && id != "forged-id", "{id}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str());
}

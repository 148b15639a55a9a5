use filegate_tests::{bytes_of, pdf, sha256_base64, spawn_app};
use reqwest::StatusCode;
use sha2::Digest as _;

#[tokio::test]
async fn a_size_mismatch_fails_the_file_and_deletes_the_object() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("short.pdf", 1000)).await;
    let id = file["id"].as_str().unwrap();
    // S3 would refuse this PUT (Content-Length is signed); the emulator does not, so
    // finalize must catch it.
    assert_eq!(app.upload(&file, &bytes_of(999, 0)).await, StatusCode::OK);
    let r = app.finalize(id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "upload_mismatch"),
        "{}",
        r.body
    );
    assert!(r.body["error"]["message"].as_str().unwrap().contains("999"));
    let after = app.get(&format!("/v1/files/{id}")).await.body;
    assert_eq!(after["status"], "failed");
    assert!(after["error_message"].as_str().unwrap().contains("1000"));
    assert!(app.head_object(id).await.is_none(), "object deleted");
    assert_eq!(app.audit_actions(id).await, ["file.created", "file.failed"]);

    assert_eq!(r.body["error"]["details"]["reason"], "size");
    // API.md: every later finalize of that file answers the same.
    let again = app.finalize(id).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "upload_mismatch")
    );
    assert_eq!(again.body["error"]["details"]["reason"], "size");
    assert_eq!(
        app.audit_actions(id).await.len(),
        2,
        "a replay changes nothing"
    );
}

#[tokio::test]
async fn a_checksum_mismatch_is_caught_even_when_the_store_ignores_the_header() {
    let app = spawn_app().await;
    let declared = bytes_of(4096, 1);
    let sent = bytes_of(4096, 2);
    let mut body = pdf("signed.pdf", declared.len());
    body["checksum_sha256"] = sha256_base64(&declared).into();
    let file = app.create_file(body).await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(
        file["upload"]["headers"]["x-amz-checksum-sha256"],
        sha256_base64(&declared),
        "the checksum is one of the signed headers"
    );
    // A client that drops the checksum header: S3 would refuse the unsigned request, the
    // emulator stores it, and finalize reads the object to hash it.
    let status = app
        .upload_with(&file, &sent, |h| h != "x-amz-checksum-sha256")
        .await;
    assert_eq!(status, StatusCode::OK);
    let r = app.finalize(id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "upload_mismatch"),
        "{}",
        r.body
    );
    assert_eq!(r.body["error"]["details"]["reason"], "checksum");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SHA-256")
    );
    assert!(app.head_object(id).await.is_none());
}

#[tokio::test]
async fn a_matching_checksum_is_accepted_with_or_without_the_header() {
    let app = spawn_app().await;
    for send_header in [true, false] {
        let bytes = bytes_of(5000, 7);
        let mut body = pdf("ok.pdf", bytes.len());
        // hex is accepted and stored as base64
        body["checksum_sha256"] = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        let file = app.create_file(body).await;
        assert_eq!(file["checksum_sha256"], sha256_base64(&bytes));
        let status = app
            .upload_with(&file, &bytes, |h| {
                send_header || h != "x-amz-checksum-sha256"
            })
            .await;
        assert_eq!(status, StatusCode::OK);
        let r = app.finalize(file["id"].as_str().unwrap()).await;
        assert_eq!(
            (r.status, r.body["status"].as_str()),
            (StatusCode::OK, Some("uploaded")),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn finalize_before_upload_is_upload_missing_and_changes_nothing() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("later.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    let r = app.finalize(id).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "upload_missing")
    );
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );
    // The upload can still happen and be finalized.
    assert_eq!(app.upload(&file, &bytes_of(10, 0)).await, StatusCode::OK);
    assert_eq!(app.finalize(id).await.body["status"], "uploaded");
}

#[tokio::test]
async fn a_second_finalize_returns_the_file_unchanged() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("twice.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    app.upload(&file, &bytes_of(10, 0)).await;
    let first = app.finalize(id).await;
    let second = app.finalize(id).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.body, second.body);
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
}

#[tokio::test]
async fn another_orgs_file_is_not_found_and_untouched() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("mine.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    app.upload(&file, &bytes_of(10, 0)).await;
    let intruder = app.token_for("another-org", None);
    for (method, path) in [
        (reqwest::Method::GET, format!("/v1/files/{id}")),
        (reqwest::Method::POST, format!("/v1/files/{id}/finalize")),
    ] {
        let r = app.send(method.clone(), &path, Some(&intruder), None).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "file_not_found"),
            "{method} {path}"
        );
    }
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );
    assert_eq!(app.audit_actions(id).await, ["file.created"]);
}

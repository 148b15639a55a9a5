//! Retries that landed: when the answer to a transaction is lost after it applied, the SDK
//! sends it again, and every write path answers with the success it was, not with a
//! condition failure about the rows it wrote itself. With the token (DynamoDB, and the
//! emulator, recognise a resent `ClientRequestToken` for ten minutes) and without it (the
//! store finds its own token on the rows).

use filegate_tests::{TestApp, TestOptions, bytes_of, pdf, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn_app_with(TestOptions {
        lossy_link: true,
        ..TestOptions::default()
    })
    .await
}

/// Runs `request` with the answer to its transaction lost once; returns the response.
async fn with_lost_answer(
    app: &TestApp,
    strip_token: bool,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> filegate_tests::TestResponse {
    let link = app.link.as_ref().unwrap();
    link.lose_next_transaction_answer(strip_token);
    let r = app.send(method, path, Some(token), body.as_ref()).await;
    assert!(link.answer_lost(), "{path}: no transaction answer was lost");
    r
}

#[tokio::test]
async fn every_write_path_answers_a_landed_retry_as_the_success_it_was() {
    for strip_token in [false, true] {
        let app = app().await;
        let token = app.token();
        let admin = app.token_for(&app.org, Some("admin"));
        let case = if strip_token {
            "without token"
        } else {
            "with token"
        };

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            "/v1/files",
            &token,
            Some(pdf("a.pdf", 64)),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{case}: initiate: {}",
            r.body
        );
        let file = r.body.clone();
        let id = file["id"].as_str().unwrap().to_owned();
        assert_eq!(app.upload(&file, &bytes_of(64, 1)).await, StatusCode::OK);

        let batch = json!({"files": [pdf("b.pdf", 10), pdf("c.pdf", 10)]});
        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            "/v1/files/batch",
            &token,
            Some(batch),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{case}: batch: {}", r.body);

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            &format!("/v1/files/{id}/finalize"),
            &token,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{case}: finalize: {}", r.body);
        assert_eq!(r.body["status"], "uploaded");

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            "/v1/folders",
            &token,
            Some(json!({"name": "Contracts"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{case}: folder: {}", r.body);
        let folder = r.body["id"].as_str().unwrap().to_owned();

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            &format!("/v1/files/{id}"),
            &token,
            Some(json!({"name": "renamed.pdf", "folder": folder})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{case}: move: {}", r.body);

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            &format!("/v1/files/{id}/status"),
            &token,
            Some(json!({"status": "processing"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{case}: status: {}", r.body);

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            &format!("/v1/folders/{folder}"),
            &token,
            Some(json!({"name": "Signed"})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{case}: rename folder: {}",
            r.body
        );

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::DELETE,
            &format!("/v1/files/{id}"),
            &token,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{case}: delete file: {}", r.body);

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::DELETE,
            &format!("/v1/folders/{folder}"),
            &token,
            None,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{case}: delete folder: {}",
            r.body
        );

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::POST,
            "/v1/api_keys",
            &admin,
            Some(json!({"name": "ci", "scopes": ["files:read"]})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{case}: create key: {}",
            r.body
        );
        let key = r.body["id"].as_str().unwrap().to_owned();

        let r = with_lost_answer(
            &app,
            strip_token,
            Method::DELETE,
            &format!("/v1/api_keys/{key}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{case}: revoke key: {}", r.body);

        // Each write happened once: three files (one deleted), one audit row per change.
        let r = app.get("/v1/files").await;
        assert_eq!(
            r.body["data"].as_array().unwrap().len(),
            2,
            "{case}: {}",
            r.body
        );
        assert_eq!(
            app.audit_actions(&id).await,
            [
                "file.created",
                "file.uploaded",
                "file.renamed",
                "file.moved",
                "file.status_changed",
                "file.deleted"
            ],
            "{case}"
        );
    }
}

/// DynamoDB answers `TransactionInProgressException` while a transaction with the same token
/// is still being applied. The SDK retries that, gives up, and the store tries again with a
/// token of its own; by then the first attempt has landed. Its rows are the request's own:
/// the request is the success it was, not a 500 about rows it wrote itself. (A long load
/// run on a slow emulator answered an initiate 500 this way.)
#[tokio::test]
async fn a_transaction_answered_in_progress_that_had_landed_is_the_success_it_was() {
    let app = app().await;
    let link = app.link.as_ref().unwrap();

    link.answer_next_transaction_in_progress();
    let r = app.post("/v1/files", &pdf("a.pdf", 64)).await;
    assert!(
        link.answered_in_progress(),
        "no transaction was answered in progress"
    );
    assert_eq!(r.status, StatusCode::CREATED, "initiate: {}", r.body);
    let listed = app.get("/v1/files").await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );

    // A delete's last step writes no row but its receipt, which is named by its token.
    let file = app.uploaded_file(pdf("b.pdf", 64), &bytes_of(64, 6)).await;
    let id = file["id"].as_str().unwrap();
    link.answer_next_transaction_in_progress();
    let r = app.delete(&format!("/v1/files/{id}")).await;
    assert!(link.answered_in_progress());
    assert_eq!(r.status, StatusCode::OK, "delete: {}", r.body);
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

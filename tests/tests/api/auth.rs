use filegate_tests::{SECRET, pdf, spawn_app};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn bad_credentials_are_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let expired = filegate_local::mint_token(SECRET, &app.org, "user_1", None, -3600);
    let wrong_key = filegate_local::mint_token(
        "another-secret-another-secret-another!",
        &app.org,
        "u",
        None,
        3600,
    );
    let body = pdf("a.pdf", 1);
    for (label, auth, code) in [
        ("missing", None, "missing_credentials"),
        (
            "malformed",
            Some("Bearer not-a-jwt".to_owned()),
            "invalid_token",
        ),
        ("empty", Some("Bearer ".to_owned()), "invalid_token"),
        (
            "basic",
            Some("Basic dXNlcjpwYXNz".to_owned()),
            "invalid_token",
        ),
        (
            "wrongly signed",
            Some(format!("Bearer {wrong_key}")),
            "invalid_token",
        ),
        (
            "expired",
            Some(format!("Bearer {expired}")),
            "token_expired",
        ),
    ] {
        let mut request = app.http.post(format!("{}/v1/files", app.base)).json(&body);
        if let Some(auth) = &auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"filegate\"",
            "{label}"
        );
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["error"]["type"], "authentication_error", "{label}");
        assert_eq!(json["error"]["code"], code, "{label}");
    }
    assert_eq!(app.table_items().await, 0);
}

#[tokio::test]
async fn credentials_are_checked_before_the_body() {
    let app = spawn_app().await;
    let r = app
        .send(
            Method::POST,
            "/v1/files",
            None,
            Some(&serde_json::json!({"x": 1})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "missing_credentials")
    );
}

#[tokio::test]
async fn a_read_only_token_cannot_upload_or_finalize() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("a.pdf", 1)).await;
    let id = file["id"].as_str().unwrap();
    let reader = app.token_for(&app.org, Some("files:read"));
    let r = app
        .send(
            Method::POST,
            "/v1/files",
            Some(&reader),
            Some(&pdf("b.pdf", 1)),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert_eq!(r.body["error"]["type"], "permission_error");
    let r = app
        .send(
            Method::POST,
            &format!("/v1/files/{id}/finalize"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(Method::GET, &format!("/v1/files/{id}"), Some(&reader), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

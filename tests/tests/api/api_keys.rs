//! `/v1/api_keys` (scope `admin`) and `X-API-Key` as the second credential.

use filegate_tests::{TestApp, TestResponse, pdf, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn admin(app: &TestApp) -> String {
    app.token_for(&app.org, Some("admin"))
}

/// `POST /v1/api_keys` as this org's admin.
async fn create_key_as(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.send(Method::POST, "/v1/api_keys", Some(token), Some(body))
        .await
}

/// Creates a key expecting 201; returns `(key id, secret, body)`.
async fn new_key(app: &TestApp, name: &str, scopes: &[&str]) -> (String, String, Value) {
    let r = create_key_as(app, &admin(app), &json!({"name": name, "scopes": scopes})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    (id, secret, r.body)
}

async fn list_keys(app: &TestApp, token: &str) -> Value {
    let r = app
        .send(Method::GET, "/v1/api_keys", Some(token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["object"], "list");
    r.body
}

/// Every item of the test's table, each printed whole (attribute names and values).
async fn table_dump(app: &TestApp) -> Vec<String> {
    let out = aws_sdk_dynamodb::Client::new(&app.deployment.sdk)
        .scan()
        .table_name(&app.state().config.table)
        .send()
        .await
        .unwrap();
    assert!(out.last_evaluated_key.is_none(), "one page is the table");
    out.items().iter().map(|item| format!("{item:?}")).collect()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_key_created_by_an_admin_authenticates_as_itself() {
    let app = spawn_app().await;
    let (key_id, secret, created) = new_key(&app, "ci", &["files:read", "files:write"]).await;
    assert_eq!(created["object"], "api_key");
    assert!(key_id.starts_with("key_") && key_id.len() == 30, "{key_id}");
    assert!(secret.starts_with("fgk_") && secret.len() >= 40, "{secret}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["scopes"], json!(["files:read", "files:write"]));
    let prefix = created["secret_prefix"].as_str().unwrap();
    assert!(
        secret.starts_with(prefix) && prefix.len() < secret.len() / 2,
        "{prefix}"
    );
    assert_eq!(
        created["created_by"],
        json!({"type": "user", "id": "user_1"})
    );
    assert!(created["created_at"].is_string());

    // The secret works as X-API-Key, acting for the org with the key as actor.
    let r = app
        .send_with_api_key(Method::POST, "/v1/files", &secret, Some(&pdf("a.pdf", 10)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file_id = r.body["id"].as_str().unwrap().to_owned();
    // The bearer token of the same org sees the file the key created.
    let by_user = app.get(&format!("/v1/files/{file_id}")).await;
    assert_eq!(by_user.status, StatusCode::OK, "{}", by_user.body);

    let trail = app
        .send_with_api_key(
            Method::GET,
            &format!("/v1/files/{file_id}/audit"),
            &secret,
            None,
        )
        .await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    let created_event = &trail.body["data"][0];
    assert_eq!(created_event["action"], "file.created");
    assert_eq!(
        created_event["actor"],
        json!({"type": "api_key", "id": key_id})
    );

    // Listed for the admin, without its secret.
    let list = list_keys(&app, &admin(&app)).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    assert_eq!(data[0]["id"], key_id.as_str());
    assert_eq!(data[0]["object"], "api_key");
    assert_eq!(data[0]["secret_prefix"], prefix);
    assert!(data[0].get("secret").is_none(), "{list}");
    assert!(!list.to_string().contains(&secret), "{list}");

    // Stored only as a hash: no item holds the secret (nor its random part), one holds the hash.
    let items = table_dump(&app).await;
    let random_part = &secret["fgk_".len()..];
    for item in &items {
        assert!(!item.contains(random_part), "secret stored: {item}");
    }
    let hash = sha256_hex(&secret);
    assert!(
        items.iter().any(|item| item.contains(&hash)),
        "no item holds the secret's SHA-256 {hash}: {items:#?}"
    );
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write_or_manage_keys() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("a.pdf", 10)).await;
    let (_, secret, _) = new_key(&app, "reader", &["files:read"]).await;

    let r = app
        .send_with_api_key(Method::POST, "/v1/files", &secret, Some(&pdf("b.pdf", 1)))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert_eq!(r.body["error"]["type"], "permission_error");

    let r = app
        .send_with_api_key(Method::GET, "/v1/files", &secret, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ids: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [file["id"].as_str().unwrap()]);

    let r = app
        .send_with_api_key(
            Method::POST,
            "/v1/api_keys",
            &secret,
            Some(&json!({"name": "escalate", "scopes": ["admin"]})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let r = app
        .send_with_api_key(Method::GET, "/v1/api_keys", &secret, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_key_can_manage_keys() {
    let app = spawn_app().await;
    let (admin_id, admin_secret, _) = new_key(&app, "ops", &["admin"]).await;
    let r = app
        .send_with_api_key(
            Method::POST,
            "/v1/api_keys",
            &admin_secret,
            Some(&json!({"name": "child", "scopes": ["files:read"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["created_by"],
        json!({"type": "api_key", "id": admin_id})
    );
    // admin implies files:write.
    let r = app
        .send_with_api_key(
            Method::POST,
            "/v1/files",
            &admin_secret,
            Some(&pdf("a.pdf", 1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn only_admins_manage_keys() {
    let app = spawn_app().await;
    let (key_id, _, _) = new_key(&app, "ci", &["files:read"]).await;
    for scope in [None, Some("files:read files:write"), Some("files:read")] {
        let token = app.token_for(&app.org, scope);
        let r = create_key_as(&app, &token, &json!({"name": "x", "scopes": ["admin"]})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "insufficient_scope"),
            "{scope:?}"
        );
        let r = app
            .send(Method::GET, "/v1/api_keys", Some(&token), None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scope:?}");
        let r = app
            .send(
                Method::DELETE,
                &format!("/v1/api_keys/{key_id}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{scope:?}");
    }
    assert_eq!(list_keys(&app, &admin(&app)).await["data"][0]["id"], key_id);
}

#[tokio::test]
async fn a_revoked_key_gets_401_at_once() {
    let app = spawn_app().await;
    let (key_id, secret, _) = new_key(&app, "ci", &["files:read", "files:write"]).await;
    let r = app
        .send_with_api_key(Method::GET, "/v1/files", &secret, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let path = format!("/v1/api_keys/{key_id}");
    let r = app
        .send(Method::DELETE, &path, Some(&admin(&app)), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["deleted"], true);
    assert_eq!(r.body["id"], key_id.as_str());
    assert_eq!(r.body["object"], "api_key");

    let r = app
        .send_with_api_key(Method::GET, "/v1/files", &secret, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_api_key")
    );
    assert_eq!(r.body["error"]["type"], "authentication_error");

    let r = app
        .send(Method::DELETE, &path, Some(&admin(&app)), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.body["error"]["type"], "not_found");

    assert_eq!(list_keys(&app, &admin(&app)).await["data"], json!([]));
    let hash = sha256_hex(&secret);
    assert!(
        table_dump(&app)
            .await
            .iter()
            .all(|item| !item.contains(&hash)),
        "the lookup row is gone"
    );

    let r = app
        .send(
            Method::DELETE,
            "/v1/api_keys/key_123",
            Some(&admin(&app)),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
    let r = app
        .send(
            Method::DELETE,
            "/v1/api_keys/file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z",
            Some(&admin(&app)),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_id")
    );
}

#[tokio::test]
async fn unknown_and_ambiguous_credentials_are_401() {
    let app = spawn_app().await;
    let (_, secret, _) = new_key(&app, "ci", &["files:read"]).await;
    let tampered = format!("{}x", &secret[..secret.len() - 1]);
    let oversized = format!("fgk_{}", "a".repeat(500));
    for (label, key) in [
        ("made up", "fgk_nope"),
        ("no prefix", "nope"),
        ("prefix only", "fgk_"),
        ("tampered", tampered.as_str()),
        ("oversized", oversized.as_str()),
    ] {
        let r = app
            .send_with_api_key(Method::GET, "/v1/files", key, None)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "invalid_api_key"),
            "{label}"
        );
    }

    // Both credentials, even both valid: refused rather than picking one.
    let response = app
        .http
        .get(format!("{}/v1/files", app.base))
        .bearer_auth(app.token())
        .header("x-api-key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ambiguous_credentials", "{body}");
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn names_and_scopes_are_validated() {
    let app = spawn_app().await;
    let admin = admin(&app);
    for (body, code, param) in [
        (
            json!({"name": "ci", "scopes": ["root"]}),
            "invalid_scope",
            "scopes[0]",
        ),
        (
            json!({"name": "ci", "scopes": ["files:read", "files:admin"]}),
            "invalid_scope",
            "scopes[1]",
        ),
        (
            json!({"name": "ci", "scopes": []}),
            "invalid_scope",
            "scopes",
        ),
        (
            json!({"name": " ", "scopes": ["files:read"]}),
            "name_empty",
            "name",
        ),
        (
            json!({"name": "x".repeat(101), "scopes": ["files:read"]}),
            "name_too_long",
            "name",
        ),
        (
            json!({"name": "a\nb", "scopes": ["files:read"]}),
            "name_invalid_character",
            "name",
        ),
    ] {
        let r = create_key_as(&app, &admin, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!((r.code(), r.param()), (code, Some(param)), "{body}");
    }
    for (body, param) in [
        (json!({"scopes": ["files:read"]}), "name"),
        (json!({"name": "ci"}), "scopes"),
        (json!({"name": "ci", "scopes": "files:read"}), "scopes"),
        (
            json!({"name": "ci", "scopes": ["files:read"], "secret": "fgk_mine"}),
            "secret",
        ),
    ] {
        let r = create_key_as(&app, &admin, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.param(), Some(param), "{body}: {}", r.body);
    }
    assert_eq!(app.table_items().await, 0, "nothing written");
}

#[tokio::test]
async fn keys_belong_to_their_org() {
    let app = spawn_app().await;
    let (key_id, secret, _) = new_key(&app, "ci", &["files:read", "files:write"]).await;
    let file = app.create_file(pdf("mine.pdf", 10)).await;
    let file_id = file["id"].as_str().unwrap();

    let other_org = format!("{}-other", app.org);
    let other_admin = app.token_for(&other_org, Some("admin"));
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/api_keys/{key_id}"),
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(list_keys(&app, &other_admin).await["data"], json!([]));

    // The other org's own key sees nothing of this org's.
    let r = create_key_as(
        &app,
        &other_admin,
        &json!({"name": "theirs", "scopes": ["admin"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let their_secret = r.body["secret"].as_str().unwrap();
    let r = app
        .send_with_api_key(
            Method::GET,
            &format!("/v1/files/{file_id}"),
            their_secret,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .send_with_api_key(
            Method::DELETE,
            &format!("/v1/api_keys/{key_id}"),
            their_secret,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Our key still works, and our list still holds only ours.
    let r = app
        .send_with_api_key(Method::GET, &format!("/v1/files/{file_id}"), &secret, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = list_keys(&app, &admin(&app)).await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [key_id.as_str()]);
}

#[tokio::test]
async fn keys_are_listed_newest_first_a_page_at_a_time() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        ids.push(new_key(&app, name, &["files:read"]).await.0);
    }
    let admin = admin(&app);
    let first = app
        .send(Method::GET, "/v1/api_keys?limit=2", Some(&admin), None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let names: Vec<&str> = first.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["three", "two"]);
    assert_eq!(first.body["has_more"], true);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .send(
            Method::GET,
            &format!("/v1/api_keys?limit=2&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["data"][0]["id"], ids[0].as_str());
    assert_eq!(second.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["has_more"], false);
    assert_eq!(second.body["next_cursor"], Value::Null);
    assert!(!first.body.to_string().contains("\"secret\""));
    assert!(!second.body.to_string().contains("\"secret\""));
}

#[tokio::test]
async fn a_key_can_issue_download_urls_and_is_named_in_the_audit() {
    let app = spawn_app().await;
    let (key_id, secret, _) = new_key(&app, "reader", &["files:read"]).await;
    let bytes = filegate_tests::bytes_of(64, 5);
    let file = app.uploaded_file(pdf("a.pdf", bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let r = app
        .send_with_api_key(
            Method::POST,
            &format!("/v1/files/{id}/download_url"),
            &secret,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = app
        .http
        .get(r.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());
    let trail = app.get(&format!("/v1/files/{id}/audit")).await;
    let last = trail.body["data"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "file.download_url_issued");
    assert_eq!(last["actor"], json!({"type": "api_key", "id": key_id}));
}

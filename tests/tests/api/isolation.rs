//! Tenant isolation: another organisation's file, folder or key is a 404 on every route, and
//! such a request changes nothing.

use std::collections::BTreeSet;

use filegate_tests::{bytes_of, pdf, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn another_orgs_ids_are_404_on_every_route_and_change_nothing() {
    let app = spawn_app().await;
    let admin_a = app.token_for(&app.org, Some("admin"));
    let org_b = format!("{}-b", app.org);
    // Org B may do everything: only tenancy can stop it.
    let admin_b = app.token_for(&org_b, Some("admin"));

    // Org A's things.
    let folder_a = app.create_folder("A's folder", None).await;
    let folder_a = folder_a["id"].as_str().unwrap().to_owned();
    let mut declaration = pdf("a.pdf", 10);
    declaration["folder"] = folder_a.clone().into();
    let file_a = app.uploaded_file(declaration, &bytes_of(10, 1)).await;
    let file_a = file_a["id"].as_str().unwrap().to_owned();
    let mut multipart_a = pdf("a-big.pdf", 20 << 20);
    multipart_a["multipart"] = true.into();
    let multipart_a = app.create_file(multipart_a).await;
    let multipart_a = multipart_a["id"].as_str().unwrap().to_owned();
    let key_a = app
        .send(
            Method::POST,
            "/v1/api_keys",
            Some(&admin_a),
            Some(&json!({"name": "a", "scopes": ["files:read"]})),
        )
        .await;
    assert_eq!(key_a.status, StatusCode::CREATED, "{}", key_a.body);
    let key_a = key_a.body["id"].as_str().unwrap().to_owned();

    // Org B's own file and folder, to try to move into A's folder.
    let b = |method, path: &str, body: Option<Value>| {
        let app = &app;
        let token = admin_b.clone();
        let path = path.to_owned();
        async move { app.send(method, &path, Some(&token), body.as_ref()).await }
    };
    let file_b = b(Method::POST, "/v1/files", Some(pdf("b.pdf", 10))).await;
    let file_b = file_b.body["id"].as_str().unwrap().to_owned();
    let folder_b = b(Method::POST, "/v1/folders", Some(json!({"name": "B"}))).await;
    let folder_b = folder_b.body["id"].as_str().unwrap().to_owned();

    let snapshot = || {
        let app = &app;
        let (file_a, folder_a, admin_a) = (file_a.clone(), folder_a.clone(), admin_a.clone());
        let multipart_a = multipart_a.clone();
        async move {
            let get = |path: String| {
                let admin_a = admin_a.clone();
                async move {
                    app.send(Method::GET, &path, Some(&admin_a), None)
                        .await
                        .body
                }
            };
            json!({
                "file": get(format!("/v1/files/{file_a}")).await,
                "folder": get(format!("/v1/folders/{folder_a}")).await,
                "audit": get(format!("/v1/files/{file_a}/audit")).await["data"],
                "multipart": get(format!("/v1/files/{multipart_a}")).await,
                "parts": get(format!("/v1/files/{multipart_a}/parts")).await,
                "keys": get("/v1/api_keys".into()).await["data"],
                "items": app.table_items().await,
            })
        }
    };
    let before = snapshot().await;

    // (method, route as documented, concrete path, body)
    let f = &file_a;
    let d = &folder_a;
    let cases: Vec<(Method, &str, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/files",
            "/v1/files".into(),
            Some(
                json!({"name": "x.pdf", "content_type": "application/pdf", "size_bytes": 1, "folder": d}),
            ),
        ),
        (
            Method::POST,
            "/v1/files/batch",
            "/v1/files/batch".into(),
            Some(json!({"files": [pdf("x.pdf", 1)], "folder": d})),
        ),
        (
            Method::GET,
            "/v1/files",
            format!("/v1/files?folder={d}"),
            None,
        ),
        (
            Method::GET,
            "/v1/files/{id}",
            format!("/v1/files/{f}"),
            None,
        ),
        (
            Method::POST,
            "/v1/files/{id}",
            format!("/v1/files/{f}"),
            Some(json!({"name": "stolen.pdf"})),
        ),
        (
            Method::PATCH,
            "/v1/files/{id}",
            format!("/v1/files/{f}"),
            Some(json!({"folder": null})),
        ),
        (
            Method::DELETE,
            "/v1/files/{id}",
            format!("/v1/files/{f}"),
            None,
        ),
        (
            Method::POST,
            "/v1/files/{id}/finalize",
            format!("/v1/files/{f}/finalize"),
            None,
        ),
        (
            Method::POST,
            "/v1/files/{id}/parts",
            format!("/v1/files/{multipart_a}/parts"),
            Some(json!({"parts": [{"part_number": 1}]})),
        ),
        (
            Method::GET,
            "/v1/files/{id}/parts",
            format!("/v1/files/{multipart_a}/parts"),
            None,
        ),
        (
            Method::POST,
            "/v1/files/{id}/status",
            format!("/v1/files/{f}/status"),
            Some(json!({"status": "ready"})),
        ),
        (
            Method::GET,
            "/v1/files/{id}/audit",
            format!("/v1/files/{f}/audit"),
            None,
        ),
        (
            Method::POST,
            "/v1/files/{id}/download_url",
            format!("/v1/files/{f}/download_url"),
            Some(json!({})),
        ),
        (
            Method::GET,
            "/v1/files/{id}/content",
            format!("/v1/files/{f}/content"),
            None,
        ),
        (
            Method::POST,
            "/v1/folders",
            "/v1/folders".into(),
            Some(json!({"name": "x", "parent": d})),
        ),
        (
            Method::GET,
            "/v1/folders",
            format!("/v1/folders?parent={d}"),
            None,
        ),
        (
            Method::GET,
            "/v1/folders/{id}",
            format!("/v1/folders/{d}"),
            None,
        ),
        (
            Method::POST,
            "/v1/folders/{id}",
            format!("/v1/folders/{d}"),
            Some(json!({"name": "stolen"})),
        ),
        (
            Method::DELETE,
            "/v1/folders/{id}",
            format!("/v1/folders/{d}"),
            None,
        ),
        (
            Method::DELETE,
            "/v1/api_keys/{id}",
            format!("/v1/api_keys/{key_a}"),
            None,
        ),
        // B's own things pointed at A's folder.
        (
            Method::POST,
            "/v1/files/{id}",
            format!("/v1/files/{file_b}"),
            Some(json!({"folder": d})),
        ),
        (
            Method::POST,
            "/v1/folders/{id}",
            format!("/v1/folders/{folder_b}"),
            Some(json!({"parent": d})),
        ),
    ];
    let mut covered = BTreeSet::new();
    for (method, route, path, body) in cases {
        let r = b(method.clone(), &path, body).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.body
        );
        assert!(
            r.code().ends_with("_not_found"),
            "{method} {path}: {}",
            r.body
        );
        covered.insert((method.to_string(), route.to_owned()));
    }

    // Lists without a filter are the caller's own org: none of A's rows.
    for (route, path) in [
        ("/v1/files", "/v1/files?limit=100"),
        ("/v1/folders", "/v1/folders?limit=100"),
        ("/v1/api_keys", "/v1/api_keys?limit=100"),
    ] {
        let r = b(Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let ids: Vec<&str> = r.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        for foreign in [&file_a, &folder_a, &key_a] {
            assert!(!ids.contains(&foreign.as_str()), "{path} shows {foreign}");
        }
        covered.insert(("GET".to_owned(), route.to_owned()));
    }
    // Creating a key only ever creates one in the caller's own org (checked in the snapshot).
    let r = b(
        Method::POST,
        "/v1/api_keys",
        Some(json!({"name": "b", "scopes": ["files:read"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    covered.insert(("POST".to_owned(), "/v1/api_keys".to_owned()));
    // The proxy takes no credentials and knows no organisation: a presigned URL is the
    // capability, whoever holds it, and S3 checks it (tests/api/proxy.rs).
    covered.insert(("GET".to_owned(), "/v1/proxy/file".to_owned()));

    let mut after = snapshot().await;
    // B's key is one more row in the shared table (two: key and lookup); nothing of A's moved.
    after["items"] = json!(after["items"].as_u64().unwrap() - 2);
    assert_eq!(after, before, "org B changed nothing of org A's");

    // Every documented operation is in this test: a new route must be added here.
    let documented = filegate_tests::documented_operations();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without an isolation case: {missing:?}"
    );
}

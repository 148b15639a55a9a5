use std::collections::HashSet;

use filegate_tests::{TestApp, bytes_of, pdf, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Declares `n` files (in batches of ten) with `extra` merged into the batch; returns their
/// ids in creation order.
async fn declare(app: &TestApp, n: usize, extra: Value) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let mut body = json!({"files": chunk.iter().map(|i| pdf(&format!("{i}.pdf"), 10)).collect::<Vec<_>>()});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/v1/files/batch", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.extend(
            r.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned()),
        );
    }
    ids
}

/// Every page of `GET <path>` (which has a query already), following `next_cursor`.
async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let r = app.get(&url).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
        assert_eq!(r.body["object"], "list");
        cursor = r.body["next_cursor"].as_str().map(str::to_owned);
        assert_eq!(r.body["has_more"], cursor.is_some());
        pages.push(r.body);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() < 20, "pagination does not end");
    }
}

fn ids_of(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["data"].as_array().unwrap().clone())
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_folder_of_45_files_pages_20_20_5_newest_first_each_file_once() {
    let app = spawn_app().await;
    let folder = app.create_folder("Contracts", None).await;
    let folder_id = folder["id"].as_str().unwrap();
    let created = declare(&app, 45, json!({"folder": folder_id})).await;
    // Files at the root must not show up in the folder's list.
    declare(&app, 3, json!({})).await;

    let pages = all_pages(&app, &format!("/v1/files?folder={folder_id}&limit=20")).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["data"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [20, 20, 5]);
    let listed = ids_of(&pages);
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first, "every file once, newest first");
    for page in &pages {
        for file in page["data"].as_array().unwrap() {
            assert_eq!(file["folder"], folder_id);
            assert_eq!(file["object"], "file");
        }
    }

    let root = all_pages(&app, "/v1/files?folder=root&limit=100").await;
    assert_eq!(ids_of(&root).len(), 3);
    let everything = all_pages(&app, "/v1/files?limit=100").await;
    assert_eq!(ids_of(&everything).len(), 48);
    let default_limit = app.get("/v1/files").await;
    assert_eq!(default_limit.body["data"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn parent_and_status_filters_use_their_own_lists() {
    let app = spawn_app().await;
    let knowledge = declare(
        &app,
        4,
        json!({"parent": {"type": "knowledge", "id": "k1"}}),
    )
    .await;
    declare(
        &app,
        2,
        json!({"parent": {"type": "knowledge", "id": "k2"}}),
    )
    .await;
    declare(&app, 2, json!({})).await;
    let bytes = bytes_of(10, 3);
    let uploaded = app.uploaded_file(pdf("done.pdf", 10), &bytes).await;

    let by_parent =
        ids_of(&all_pages(&app, "/v1/files?parent_type=knowledge&parent_id=k1&limit=3").await);
    assert_eq!(
        by_parent,
        knowledge.iter().rev().cloned().collect::<Vec<_>>()
    );

    let by_status = ids_of(&all_pages(&app, "/v1/files?status=uploaded").await);
    assert_eq!(by_status, [uploaded["id"].as_str().unwrap()]);
    let pending = ids_of(&all_pages(&app, "/v1/files?status=pending&limit=100").await);
    assert_eq!(pending.len(), 8);

    // Filters combine: k1's pending files at the root.
    let combined = ids_of(
        &all_pages(
            &app,
            "/v1/files?parent_type=knowledge&parent_id=k1&status=pending&folder=root&limit=2",
        )
        .await,
    );
    assert_eq!(combined.len(), 4);
    let none = ids_of(
        &all_pages(
            &app,
            "/v1/files?parent_type=knowledge&parent_id=k1&status=ready",
        )
        .await,
    );
    assert!(none.is_empty());
}

#[tokio::test]
async fn bad_filters_and_foreign_or_forged_cursors_are_400() {
    let app = spawn_app().await;
    declare(&app, 3, json!({})).await;
    let first = app.get("/v1/files?limit=1").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();

    // The cursor works for its own list...
    let second = app.get(&format!("/v1/files?limit=1&cursor={cursor}")).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(second.body["data"][0]["id"], first.body["data"][0]["id"]);

    // ...and for nothing else.
    let other_org = app.token_for("org-someone-else", None);
    let foreign = app
        .send(
            reqwest::Method::GET,
            &format!("/v1/files?limit=1&cursor={cursor}"),
            Some(&other_org),
            None,
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.code(), foreign.param()),
        (StatusCode::BAD_REQUEST, "invalid_cursor", Some("cursor"))
    );
    let mut forged_bytes = cursor.clone().into_bytes();
    forged_bytes[3] = if forged_bytes[3] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged_bytes).unwrap();
    for (query, code, param) in [
        (
            format!("cursor={cursor}&status=pending"),
            "invalid_cursor",
            "cursor",
        ),
        (format!("cursor={forged}"), "invalid_cursor", "cursor"),
        ("cursor=not-a-cursor".to_owned(), "invalid_cursor", "cursor"),
        ("limit=0".to_owned(), "invalid_limit", "limit"),
        ("limit=101".to_owned(), "invalid_limit", "limit"),
        ("limit=abc".to_owned(), "invalid_limit", "limit"),
        (
            "parent_type=knowledge".to_owned(),
            "incomplete_parent_filter",
            "parent_id",
        ),
        ("status=deleted".to_owned(), "invalid_status", "status"),
        ("folder=docs".to_owned(), "invalid_id", "folder"),
        ("sort=name".to_owned(), "unknown_parameter", "sort"),
    ] {
        let r = app.get(&format!("/v1/files?{query}")).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (StatusCode::BAD_REQUEST, code, Some(param)),
            "{query}: {}",
            r.body
        );
    }
    let missing_folder = app
        .get("/v1/files?folder=fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")
        .await;
    assert_eq!(
        (missing_folder.status, missing_folder.code()),
        (StatusCode::NOT_FOUND, "folder_not_found")
    );
}

#[tokio::test]
async fn folders_list_by_parent_and_page() {
    let app = spawn_app().await;
    let top = app.create_folder("Top", None).await;
    let top_id = top["id"].as_str().unwrap();
    let mut children = Vec::new();
    for i in 0..5 {
        children.push(
            app.create_folder(&format!("child {i}"), Some(top_id)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let listed = ids_of(&all_pages(&app, &format!("/v1/folders?parent={top_id}&limit=2")).await);
    assert_eq!(listed, children.iter().rev().cloned().collect::<Vec<_>>());
    let root = ids_of(&all_pages(&app, "/v1/folders?parent=root").await);
    assert_eq!(root, [top_id]);
    let all: HashSet<String> = ids_of(&all_pages(&app, "/v1/folders?limit=100").await)
        .into_iter()
        .collect();
    assert_eq!(all.len(), 6);
    // Folders never show up as files, nor files as folders.
    declare(&app, 2, json!({"folder": top_id})).await;
    let files = ids_of(&all_pages(&app, &format!("/v1/files?folder={top_id}")).await);
    assert!(files.iter().all(|id| id.starts_with("file_")));
    let folders = ids_of(&all_pages(&app, &format!("/v1/folders?parent={top_id}&limit=100")).await);
    assert_eq!(folders.len(), 5);
}

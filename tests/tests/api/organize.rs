use filegate_tests::{bytes_of, pdf, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn rename_move_to_a_folder_and_back_to_the_root() {
    let app = spawn_app().await;
    let file = app
        .uploaded_file(pdf("draft.pdf", 10), &bytes_of(10, 1))
        .await;
    let id = file["id"].as_str().unwrap();
    let path = format!("/v1/files/{id}");
    let folder = app.create_folder("Signed", None).await;
    let folder_id = folder["id"].as_str().unwrap();

    let renamed = app.post(&path, &json!({"name": "Acme Co MSA.pdf"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "Acme Co MSA.pdf");
    assert_eq!(renamed.body["folder"], json!(null));

    let moved = app.patch(&path, &json!({"folder": folder_id})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["folder"], folder_id);
    assert_eq!(
        moved.body["name"], "Acme Co MSA.pdf",
        "a move keeps the name"
    );
    let in_folder = app.get(&format!("/v1/files?folder={folder_id}")).await;
    assert_eq!(in_folder.body["data"][0]["id"], id);
    assert_eq!(app.get(&path).await.body["folder"], folder_id);

    let unchanged = app.post(&path, &json!({"folder": folder_id})).await;
    assert_eq!(unchanged.status, StatusCode::OK);

    let to_root = app.post(&path, &json!({"folder": null})).await;
    assert_eq!(to_root.status, StatusCode::OK, "{}", to_root.body);
    assert_eq!(to_root.body["folder"], json!(null));
    let in_folder = app.get(&format!("/v1/files?folder={folder_id}")).await;
    assert_eq!(in_folder.body["data"], json!([]));

    assert_eq!(
        app.audit_actions(id).await,
        [
            "file.created",
            "file.uploaded",
            "file.renamed",
            "file.moved",
            "file.moved"
        ],
        "a no-op writes nothing"
    );
    // The folder is empty again, so it can go: the move gave its count back.
    let deleted = app.delete(&format!("/v1/folders/{folder_id}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}

#[tokio::test]
async fn moves_need_a_folder_of_the_callers_org_and_valid_input() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("a.pdf", 10)).await;
    let path = format!("/v1/files/{}", file["id"].as_str().unwrap());
    let other_org = app.token_for("org-other", None);
    let foreign = app
        .send(
            reqwest::Method::POST,
            "/v1/folders",
            Some(&other_org),
            Some(&json!({"name": "Theirs"})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::CREATED);
    let foreign_id = foreign.body["id"].as_str().unwrap();

    for (body, status, code, param) in [
        (
            json!({"folder": foreign_id}),
            404,
            "folder_not_found",
            "folder",
        ),
        (
            json!({"folder": "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z"}),
            404,
            "folder_not_found",
            "folder",
        ),
        (json!({"folder": "docs"}), 400, "invalid_id", "folder"),
        (json!({"name": ""}), 400, "name_empty", "name"),
        (
            json!({"name": "a/b"}),
            400,
            "name_invalid_character",
            "name",
        ),
        (
            json!({"name": "x", "colour": "red"}),
            400,
            "unknown_field",
            "colour",
        ),
        (json!({"name": 5}), 400, "invalid_type", "name"),
    ] {
        let r = app.post(&path, &body).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.param()),
            (status, code, Some(param)),
            "{body}"
        );
    }
    let after = app.get(&path).await.body;
    assert_eq!(
        (after["name"].clone(), after["folder"].clone()),
        (json!("a.pdf"), json!(null))
    );
}

#[tokio::test]
async fn status_transitions_follow_the_lifecycle() {
    let app = spawn_app().await;
    let file = app
        .uploaded_file(pdf("scan.pdf", 10), &bytes_of(10, 2))
        .await;
    let id = file["id"].as_str().unwrap();
    let status = |s: &str| format!("/v1/files/{s}/status");
    let set = |body| {
        let app = &app;
        let path = status(id);
        async move { app.post(&path, &body).await }
    };

    let r = set(json!({"status": "processing"})).await;
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (StatusCode::OK, json!("processing"))
    );
    let r = set(json!({"status": "uploaded"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "backwards"
    );
    let r = set(json!({"status": "failed"})).await;
    assert_eq!(
        (r.status, r.code(), r.param()),
        (
            StatusCode::BAD_REQUEST,
            "error_message_required",
            Some("error_message")
        )
    );
    let r = set(json!({"status": "ready", "error_message": "x"})).await;
    assert_eq!(r.code(), "error_message_not_allowed");
    let r = set(json!({"status": "ready"})).await;
    assert_eq!(
        (r.status, r.body["status"].clone()),
        (StatusCode::OK, json!("ready"))
    );
    for to in ["processing", "ready", "pending", "failed"] {
        let mut body = json!({ "status": to });
        if to == "failed" {
            body["error_message"] = "late".into();
        }
        let r = set(body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "invalid_transition"),
            "ready -> {to}"
        );
    }
    let r = set(json!({"status": "done"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_status")
    );
    assert_eq!(
        app.audit_actions(id).await,
        [
            "file.created",
            "file.uploaded",
            "file.status_changed",
            "file.status_changed"
        ]
    );

    // pending -> failed, with the message recorded; processing -> failed likewise.
    let pending = app.create_file(pdf("never.pdf", 10)).await;
    let pending_id = pending["id"].as_str().unwrap();
    let r = app
        .post(
            &status(pending_id),
            &json!({"status": "failed", "error_message": "client gave up"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "failed");
    assert_eq!(r.body["error_message"], "client gave up");
    let r = app
        .post(&status(pending_id), &json!({"status": "ready"}))
        .await;
    assert_eq!(r.code(), "invalid_transition");

    let other = app
        .uploaded_file(pdf("ocr.pdf", 10), &bytes_of(10, 3))
        .await;
    let other_id = other["id"].as_str().unwrap();
    let r = app
        .post(
            &status(other_id),
            &json!({"status": "failed", "error_message": "OCR"}),
        )
        .await;
    assert_eq!(
        r.code(),
        "invalid_transition",
        "uploaded -> failed is not in the lifecycle"
    );
}

#[tokio::test]
async fn delete_removes_object_and_row_and_keeps_the_audit_trail() {
    let app = spawn_app().await;
    let folder = app.create_folder("Tmp", None).await;
    let folder_id = folder["id"].as_str().unwrap();
    let mut body = pdf("gone.pdf", 10);
    body["folder"] = folder_id.into();
    let file = app.uploaded_file(body, &bytes_of(10, 4)).await;
    let id = file["id"].as_str().unwrap();
    assert!(app.head_object(id).await.is_some());

    let r = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"id": id, "object": "file", "deleted": true}));
    assert!(app.head_object(id).await.is_none(), "the object is gone");
    let get = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(
        (get.status, get.code()),
        (StatusCode::NOT_FOUND, "file_not_found")
    );
    let again = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let listed = app.get(&format!("/v1/files?folder={folder_id}")).await;
    assert_eq!(listed.body["data"], json!([]));

    let audit = app.get(&format!("/v1/files/{id}/audit")).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["file.created", "file.uploaded", "file.deleted"]);
    let deleted = &audit.body["data"][2];
    assert_eq!(deleted["object"], "audit_event");
    assert_eq!(deleted["file"], id);
    assert_eq!(deleted["actor"], json!({"type": "user", "id": "user_1"}));
    assert!(deleted["request_id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(deleted["ip"], "127.0.0.1");
    assert!(deleted["user_agent"].is_string() || deleted["user_agent"].is_null());
    // The folder gave back the file's place.
    let r = app.delete(&format!("/v1/folders/{folder_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A pending file deletes too; a PUT to its old upload URL then leaves an object without
    // a row, which the S3-event finalizer removes (tested in events).
    let pending = app.create_file(pdf("p.pdf", 10)).await;
    let pending_id = pending["id"].as_str().unwrap();
    let r = app.delete(&format!("/v1/files/{pending_id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/v1/files/{pending_id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_delete_interrupted_after_the_mark_is_finished_by_a_retry() {
    let app = spawn_app().await;
    let file = app
        .uploaded_file(pdf("crash.pdf", 10), &bytes_of(10, 5))
        .await;
    let id = file["id"].as_str().unwrap();
    let org = filegate_domain::ids::OrgId::parse(&app.org).unwrap();
    let file_id = filegate_domain::ids::FileId::parse(id).unwrap();
    // Step 1 only, as if the function died right after it.
    app.state()
        .files
        .store()
        .mark_deleting(&org, &file_id, filegate_domain::timestamp::Timestamp::now())
        .await
        .unwrap();
    // Marked rows are gone for every read, and cannot be changed or handed out.
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let download = app
        .post(&format!("/v1/files/{id}/download_url"), &json!({}))
        .await;
    assert_eq!(download.status, StatusCode::NOT_FOUND);
    let listed = app.get("/v1/files").await;
    assert_eq!(listed.body["data"], json!([]));
    assert!(app.head_object(id).await.is_some(), "not yet deleted");

    let retry = app.delete(&format!("/v1/files/{id}")).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert!(app.head_object(id).await.is_none());
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded", "file.deleted"]
    );
}

#[tokio::test]
async fn folders_refuse_cycles_and_deletes_while_not_empty() {
    let app = spawn_app().await;
    let a = app.create_folder("A", None).await;
    let a_id = a["id"].as_str().unwrap();
    let b = app.create_folder("B", Some(a_id)).await;
    let b_id = b["id"].as_str().unwrap();
    let c = app.create_folder("C", Some(b_id)).await;
    let c_id = c["id"].as_str().unwrap();
    assert_eq!(c["parent"], b_id);
    assert_eq!(c["object"], "folder");

    for target in [a_id, b_id, c_id] {
        let r = app
            .post(&format!("/v1/folders/{a_id}"), &json!({"parent": target}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "folder_cycle"),
            "A into {target}"
        );
    }
    let renamed = app
        .post(
            &format!("/v1/folders/{c_id}"),
            &json!({"name": "C2", "parent": null}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(
        (renamed.body["name"].clone(), renamed.body["parent"].clone()),
        (json!("C2"), json!(null))
    );
    // Now A into C is fine, and the tree is C2 > A > B.
    let r = app
        .post(&format!("/v1/folders/{a_id}"), &json!({"parent": c_id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(&format!("/v1/folders/{c_id}"), &json!({"parent": b_id}))
        .await;
    assert_eq!(r.code(), "folder_cycle");

    // Not empty: a sub-folder, a pending file, an uploaded file.
    let r = app.delete(&format!("/v1/folders/{a_id}")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "folder_not_empty")
    );
    let mut body = pdf("in-b.pdf", 10);
    body["folder"] = b_id.into();
    let pending = app.create_file(body.clone()).await;
    let r = app.delete(&format!("/v1/folders/{b_id}")).await;
    assert_eq!(r.code(), "folder_not_empty", "a pending file holds it");
    app.delete(&format!("/v1/files/{}", pending["id"].as_str().unwrap()))
        .await;
    let uploaded = app.uploaded_file(body, &bytes_of(10, 6)).await;
    let r = app.delete(&format!("/v1/folders/{b_id}")).await;
    assert_eq!(r.code(), "folder_not_empty", "an uploaded file holds it");
    let r = app
        .post(
            &format!("/v1/files/{}", uploaded["id"].as_str().unwrap()),
            &json!({"folder": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    for (id, name) in [(b_id, "B"), (a_id, "A"), (c_id, "C2")] {
        let r = app.delete(&format!("/v1/folders/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(
            r.body,
            json!({"id": id, "object": "folder", "deleted": true})
        );
        let gone = app.get(&format!("/v1/folders/{id}")).await;
        assert_eq!(
            (gone.status, gone.code()),
            (StatusCode::NOT_FOUND, "folder_not_found")
        );
    }
}

#[tokio::test]
async fn a_file_whose_folder_vanished_while_pending_lands_at_the_root() {
    let app = spawn_app().await;
    let folder = app.create_folder("Short-lived", None).await;
    let folder_id = folder["id"].as_str().unwrap();
    let mut body = pdf("late.pdf", 10);
    body["folder"] = folder_id.into();
    let file = app.create_file(body).await;
    let id = file["id"].as_str().unwrap();
    // The API refuses to delete a folder with a listed pending file; a folder deleted in the
    // instant before the file appears in the index is what the store must still handle.
    let org = filegate_domain::ids::OrgId::parse(&app.org).unwrap();
    let record = app
        .state()
        .files
        .store()
        .get_folder(
            &org,
            &filegate_domain::ids::FolderId::parse(folder_id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    app.state()
        .files
        .store()
        .delete_folder(&record)
        .await
        .unwrap();

    assert_eq!(app.upload(&file, &bytes_of(10, 7)).await, StatusCode::OK);
    let r = app.finalize(id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "uploaded");
    assert_eq!(r.body["folder"], json!(null), "moved to the root");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["folder"],
        json!(null)
    );
    let audit = app.get(&format!("/v1/files/{id}/audit")).await;
    assert_eq!(
        audit.body["data"][1]["details"]["folder_deleted"],
        folder_id
    );
}

/// Member rows alone (without the index check the API adds) keep a folder with a file in it
/// from being deleted, and follow the file when it moves out, back in, and is deleted.
#[tokio::test]
async fn member_rows_follow_finalize_moves_and_deletes() {
    use filegate_store::metadata::DeleteFolderError;
    let app = spawn_app().await;
    let folder = app.create_folder("Counted", None).await;
    let folder_id = folder["id"].as_str().unwrap();
    let org = filegate_domain::ids::OrgId::parse(&app.org).unwrap();
    let store = app.state().files.store();
    let record = store
        .get_folder(
            &org,
            &filegate_domain::ids::FolderId::parse(folder_id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let mut body = pdf("counted.pdf", 10);
    body["folder"] = folder_id.into();
    let file = app.uploaded_file(body.clone(), &bytes_of(10, 8)).await;
    let id = file["id"].as_str().unwrap();
    assert!(matches!(
        store.delete_folder(&record).await,
        Err(DeleteFolderError::NotEmptyOrGone)
    ));
    let r = app
        .post(&format!("/v1/files/{id}"), &json!({"folder": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post(&format!("/v1/files/{id}"), &json!({"folder": folder_id}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(store.delete_folder(&record).await.is_err(), "moved back in");
    app.delete(&format!("/v1/files/{id}")).await;
    store.delete_folder(&record).await.unwrap();
}

/// A finalize that read the file before a move must not count it in the folder it left: the
/// status change is conditional on the folder it was read in, and the retry counts it where
/// it is.
#[tokio::test]
async fn a_file_moved_while_being_finalized_counts_in_its_new_folder() {
    use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
    use filegate_domain::file::FileStatus;
    use filegate_domain::ids::{FileId, FolderId, OrgId};
    use filegate_domain::principal::Actor;
    use filegate_domain::timestamp::Timestamp;
    use filegate_store::metadata::{ChangeStatusError, StatusChange};

    let app = spawn_app().await;
    let a = app.create_folder("A", None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.create_folder("B", None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = pdf("moving.pdf", 10);
    body["folder"] = a.clone().into();
    let file = app.create_file(body).await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(app.upload(&file, &bytes_of(10, 9)).await, StatusCode::OK);

    let org = OrgId::parse(&app.org).unwrap();
    let store = app.state().files.store();
    let stale = store
        .get_file(&org, &FileId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    let r = app
        .patch(&format!("/v1/files/{id}"), &json!({"folder": b}))
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let now = Timestamp::now();
    let change = StatusChange {
        mismatch: None,
        from: FileStatus::Pending,
        to: FileStatus::Uploaded,
        at: now,
        error_message: None,
    };
    let event = AuditEvent::new(
        &org,
        stale.id,
        AuditAction::FileUploaded,
        &Actor::system("test"),
        &RequestOrigin::default(),
        now,
    );
    assert!(matches!(
        store.change_status(&stale, &change, &event).await,
        Err(ChangeStatusError::Conflict)
    ));
    let r = app.finalize(id).await;
    assert_eq!(
        (r.status, r.body["folder"].clone()),
        (StatusCode::OK, json!(b))
    );

    let folder = |id: &str| {
        let org = org.clone();
        let id = FolderId::parse(id).unwrap();
        async move { store.get_folder(&org, &id).await.unwrap().unwrap() }
    };
    assert!(
        store.delete_folder(&folder(&b).await).await.is_err(),
        "B holds it"
    );
    store.delete_folder(&folder(&a).await).await.unwrap();
}

fn folder_key(app: &filegate_tests::TestApp, folder_id: &str) -> (String, String) {
    (
        format!("ORG#{}#FOLDER#{folder_id}", app.org),
        "FOLDER".to_owned(),
    )
}

/// The rows in a folder's partition besides the folder's own: its member rows.
async fn member_rows(app: &filegate_tests::TestApp, folder_id: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = aws_sdk_dynamodb::Client::new(&app.deployment.sdk);
    let out = client
        .query()
        .table_name(&app.state().config.table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :m)")
        .expression_attribute_values(":pk", AttributeValue::S(folder_key(app, folder_id).0))
        .expression_attribute_values(":m", AttributeValue::S("MEMBER#".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.items().len()
}

/// A folder delete that died after marking its folder leaves the mark behind: the next file
/// to join the folder removes it (the folder is not empty, so that delete must not go on).
#[tokio::test]
async fn a_file_joining_a_marked_folder_removes_the_delete_mark() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = spawn_app().await;
    let folder_id = app.create_folder("Marked", None).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = aws_sdk_dynamodb::Client::new(&app.deployment.sdk);
    let table = app.state().config.table.clone();
    let (pk, sk) = folder_key(&app, &folder_id);
    let folder_row = || {
        client
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S(sk.clone()))
            .consistent_read(true)
            .send()
    };
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(sk.clone()))
        .update_expression("SET deleting = :mark")
        .expression_attribute_values(":mark", AttributeValue::S("a-crashed-delete".into()))
        .send()
        .await
        .unwrap();

    let mut body = pdf("joins.pdf", 10);
    body["folder"] = folder_id.clone().into();
    let file = app.uploaded_file(body, &bytes_of(10, 3)).await;
    assert_eq!(file["folder"], folder_id.as_str());
    let row = folder_row().await.unwrap().item.unwrap();
    assert!(!row.contains_key("deleting"), "mark left: {row:?}");
    assert_eq!(member_rows(&app, &folder_id).await, 1);
}

/// A folder delete that found no members, racing a file moving into the folder whose member
/// row lands after that check (each transaction held in flight 400 ms at the emulator, as a
/// slow DynamoDB would): the folder goes, and the file, finding its folder gone, moves to
/// the root, says so in the audit trail, and leaves no member row behind; the move answers
/// `404 folder_not_found`.
#[tokio::test]
async fn a_file_joining_a_folder_as_it_is_deleted_lands_at_the_root() {
    let app = filegate_tests::spawn_app_with(filegate_tests::TestOptions {
        own_emulator: true,
        ..Default::default()
    })
    .await;
    let folder = app.create_folder("Going", None).await;
    let folder_id = folder["id"].as_str().unwrap().to_owned();
    let file = app
        .uploaded_file(pdf("mover.pdf", 10), &bytes_of(10, 4))
        .await;
    let id = file["id"].as_str().unwrap().to_owned();
    let org = filegate_domain::ids::OrgId::parse(&app.org).unwrap();
    let record = app
        .state()
        .files
        .store()
        .get_folder(
            &org,
            &filegate_domain::ids::FolderId::parse(&folder_id).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let endpoint = app.emulator.as_ref().unwrap().endpoint().to_owned();
    let hold = |ms: u64| {
        let request = filegate_tests::http_builder()
            .build()
            .unwrap()
            .post(format!("{endpoint}/_filegate/transactions"))
            .json(&json!({"hold_ms": ms}))
            .send();
        async move { assert!(request.await.unwrap().status().is_success()) }
    };

    hold(400).await;
    let store = app.state().files.store().clone();
    let delete = tokio::spawn(async move { store.delete_folder(&record).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let moved = app
        .patch(&format!("/v1/files/{id}"), &json!({"folder": folder_id}))
        .await;
    delete
        .await
        .unwrap()
        .expect("the folder was empty when checked");
    hold(0).await;

    assert_eq!(
        (moved.status, moved.code()),
        (StatusCode::NOT_FOUND, "folder_not_found"),
        "{}",
        moved.body
    );
    let now = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(now.body["folder"], json!(null), "{}", now.body);
    let audit = app.get(&format!("/v1/files/{id}/audit")).await;
    let moved_event = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "file.moved")
        .cloned()
        .unwrap_or_else(|| panic!("{}", audit.body));
    assert_eq!(moved_event["details"]["folder_deleted"], folder_id.as_str());
    assert_eq!(member_rows(&app, &folder_id).await, 0);
    assert_eq!(
        app.get(&format!("/v1/folders/{folder_id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

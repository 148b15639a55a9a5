//! The sweeper repairs what crashes and abandoned clients leave: deletes stuck between their
//! steps, pending files whose S3 event was lost, pending files abandoned past their expiry.
//! Each repair happens once, however many sweeps run at the same time.

use filegate_core::sweeper::SweepReport;
use filegate_domain::ids::{FileId, OrgId};
use filegate_domain::timestamp::Timestamp;
use filegate_tests::{TestApp, bytes_of, pdf, spawn_app};
use reqwest::StatusCode;

fn ids(app: &TestApp, file: &serde_json::Value) -> (OrgId, FileId) {
    (
        OrgId::parse(&app.org).unwrap(),
        FileId::parse(file["id"].as_str().unwrap()).unwrap(),
    )
}

const TEN_MINUTES: u64 = 600;
const A_DAY_AND_MORE: u64 = 25 * 3600;

#[tokio::test]
async fn a_delete_that_died_after_any_of_its_steps_is_finished() {
    let app = spawn_app().await;
    let folder = app.create_folder("Contracts", None).await;
    let folder = folder["id"].as_str().unwrap();
    // Step 1 (row marked) and step 2 (object deleted) done; step 3 (row and audit) never.
    for steps_done in [1, 2] {
        let mut declaration = pdf("contract.pdf", 64);
        declaration["folder"] = folder.into();
        let file = app.uploaded_file(declaration, &bytes_of(64, 1)).await;
        let (org, id) = ids(&app, &file);
        let store = app.state().files.store();
        let marked = store
            .mark_deleting(&org, &id, Timestamp::now())
            .await
            .unwrap();
        if steps_done == 2 {
            app.state()
                .files
                .objects()
                .delete(&marked.object_key())
                .await
                .unwrap();
        }
        let r = app.delete(&format!("/v1/folders/{folder}")).await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "the half-deleted file still counts"
        );

        // A delete in progress is given time to finish by itself.
        assert_eq!(app.sweep_in(0).await, SweepReport::default());
        let report = app.sweep_in(TEN_MINUTES).await;
        assert_eq!(
            report.removals_finished, 1,
            "after step {steps_done}: {report}"
        );
        assert!(app.head_object(&id.to_string()).await.is_none());
        assert_eq!(store.get_file(&org, &id).await.unwrap(), None);
        assert_eq!(
            app.audit_actions(&id.to_string()).await,
            ["file.created", "file.uploaded", "file.deleted"]
        );
        assert_eq!(app.sweep_in(TEN_MINUTES).await, SweepReport::default());
    }
    let r = app.delete(&format!("/v1/folders/{folder}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn an_upload_whose_s3_event_was_lost_is_finalized() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("report.pdf", 64)).await;
    assert_eq!(app.upload(&file, &bytes_of(64, 2)).await, StatusCode::OK);
    let id = file["id"].as_str().unwrap();
    // Within the URL's lifetime the file is the client's.
    assert_eq!(app.sweep_in(0).await, SweepReport::default());
    let report = app.sweep_in(TEN_MINUTES).await;
    assert_eq!(report.finalized, 1, "{report}");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "uploaded"
    );
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
    assert_eq!(app.sweep_in(TEN_MINUTES).await, SweepReport::default());
}

#[tokio::test]
async fn a_pending_file_past_its_expiry_is_removed_with_its_bytes() {
    let app = spawn_app().await;
    let with_bytes = app.create_file(pdf("late.pdf", 64)).await;
    assert_eq!(
        app.upload(&with_bytes, &bytes_of(64, 3)).await,
        StatusCode::OK
    );
    let without = app.create_file(pdf("never.pdf", 64)).await;

    // Ten minutes on, the one without bytes waits for its expiry (the other is finalized
    // then; here the sweep jumps straight past the expiry for it).
    let report = app.sweep_in(A_DAY_AND_MORE).await;
    assert_eq!(report.expired, 2, "{report}");
    for file in [&with_bytes, &without] {
        let id = file["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("/v1/files/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(app.head_object(id).await.is_none());
        assert_eq!(
            app.audit_actions(id).await,
            ["file.created", "file.expired"]
        );
    }
    assert_eq!(app.sweep_in(A_DAY_AND_MORE).await, SweepReport::default());
}

#[tokio::test]
async fn a_pending_file_without_bytes_waits_for_its_expiry() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("slow.pdf", 64)).await;
    let id = file["id"].as_str().unwrap();
    let report = app.sweep_in(TEN_MINUTES).await;
    assert_eq!(report.rescheduled, 1, "{report}");
    assert_eq!(
        app.sweep_in(TEN_MINUTES).await,
        SweepReport::default(),
        "not due again yet"
    );
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );
    assert_eq!(app.sweep_in(A_DAY_AND_MORE).await.expired, 1);
}

#[tokio::test]
async fn concurrent_sweeps_repair_each_file_once() {
    let app = spawn_app().await;
    let store = app.state().files.store();
    let mut lost_events = Vec::new();
    let mut stuck_deletes = Vec::new();
    let mut abandoned = Vec::new();
    for i in 0..4u8 {
        let file = app.create_file(pdf("lost.pdf", 64)).await;
        assert_eq!(app.upload(&file, &bytes_of(64, i)).await, StatusCode::OK);
        lost_events.push(file["id"].as_str().unwrap().to_owned());

        let file = app
            .uploaded_file(pdf("stuck.pdf", 64), &bytes_of(64, i))
            .await;
        let (org, id) = ids(&app, &file);
        store
            .mark_deleting(&org, &id, Timestamp::now())
            .await
            .unwrap();
        stuck_deletes.push(id.to_string());

        let file = app.create_file(pdf("abandoned.pdf", 64)).await;
        abandoned.push(file["id"].as_str().unwrap().to_owned());
    }
    let (a, b) = tokio::join!(app.sweep_in(TEN_MINUTES), app.sweep_in(TEN_MINUTES));
    assert_eq!((a.errors, b.errors), (0, 0), "{a} / {b}");
    let (a, b) = tokio::join!(app.sweep_in(A_DAY_AND_MORE), app.sweep_in(A_DAY_AND_MORE));
    assert_eq!((a.errors, b.errors), (0, 0), "{a} / {b}");
    for id in &lost_events {
        assert_eq!(
            app.audit_actions(id).await,
            ["file.created", "file.uploaded"],
            "{id}"
        );
    }
    for id in &stuck_deletes {
        assert_eq!(
            app.audit_actions(id).await,
            ["file.created", "file.uploaded", "file.deleted"],
            "{id}"
        );
    }
    for id in &abandoned {
        assert_eq!(
            app.audit_actions(id).await,
            ["file.created", "file.expired"],
            "{id}"
        );
    }
    let r = app.get("/v1/files").await;
    assert_eq!(
        r.body["data"].as_array().unwrap().len(),
        lost_events.len(),
        "{}",
        r.body
    );
}

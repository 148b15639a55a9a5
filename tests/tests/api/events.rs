use aws_lambda_events::event::sqs::SqsEvent;
use filegate_finalize::events::{handle, handle_sqs};
use filegate_tests::{TestApp, TestOptions, bytes_of, pdf, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An S3 `ObjectCreated` notification as S3 sends it (key URL-encoded, `/` kept).
fn s3_notification(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "filegate-object-created",
               "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 10}}
    }]})
}

fn sqs_batch(bodies: &[(String, Value)]) -> SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": "rh", "body": body.to_string(),
                                 "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn bucket(app: &TestApp) -> String {
    app.state().config.bucket.clone()
}

#[tokio::test]
async fn an_upload_is_finalized_by_its_s3_event_without_a_call() {
    let app = spawn_app_with(TestOptions {
        event_poller: true,
        ..TestOptions::default()
    })
    .await;
    let file = app.create_file(pdf("no finalize call.pdf", 321)).await;
    let id = file["id"].as_str().unwrap();
    assert_eq!(app.upload(&file, &bytes_of(321, 3)).await, StatusCode::OK);
    let uploaded = app.wait_for_status(id, "uploaded").await;
    assert!(uploaded["uploaded_at"].is_string());
    assert_eq!(
        app.audit_actions(id).await,
        ["file.created", "file.uploaded"]
    );
    let org = filegate_domain::ids::OrgId::parse(&app.org).unwrap();
    let events = app
        .state()
        .files
        .store()
        .audit_events(
            &org,
            &filegate_domain::ids::FileId::parse(id).unwrap(),
            None,
            10,
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        events[1].actor.kind,
        filegate_domain::principal::ActorKind::System
    );
}

#[tokio::test]
async fn manual_finalize_racing_duplicate_events_makes_one_transition() {
    let app = spawn_app().await;
    for round in 0..5 {
        let file = app.create_file(pdf(&format!("race {round}.pdf"), 64)).await;
        let id = file["id"].as_str().unwrap().to_owned();
        app.upload(&file, &bytes_of(64, round)).await;
        let key = format!("{}/{id}", app.org);
        let event = || sqs_batch(&[(format!("m-{round}"), s3_notification(&bucket(&app), &key))]);
        let (manual, first, second) = tokio::join!(
            app.finalize(&id),
            handle_sqs(&app.state().files, event()),
            handle_sqs(&app.state().files, event()),
        );
        assert_eq!(
            (manual.status, manual.body["status"].as_str()),
            (StatusCode::OK, Some("uploaded"))
        );
        assert!(first.batch_item_failures.is_empty());
        assert!(second.batch_item_failures.is_empty());
        assert_eq!(
            app.audit_actions(&id).await,
            ["file.created", "file.uploaded"],
            "round {round}: exactly one transition and one audit row"
        );
    }
}

#[tokio::test]
async fn direct_s3_events_and_encoded_keys_are_accepted() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("direct.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    app.upload(&file, &bytes_of(10, 0)).await;
    // Some emulators encode the slash too.
    let key = format!("{}%2F{id}", app.org);
    let out = handle(
        &app.state().files,
        s3_notification(&bucket(&app), &key),
        "lambda-req-1",
    )
    .await;
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "uploaded"
    );
}

#[tokio::test]
async fn test_events_foreign_keys_and_other_buckets_are_ignored() {
    let app = spawn_app().await;
    let file = app.create_file(pdf("untouched.pdf", 10)).await;
    let id = file["id"].as_str().unwrap();
    app.upload(&file, &bytes_of(10, 0)).await;
    let key = format!("{}/{id}", app.org);
    let batch = sqs_batch(&[
        (
            "test".into(),
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": bucket(&app)}),
        ),
        (
            "foreign".into(),
            s3_notification(&bucket(&app), "uploads/photo+1.jpg"),
        ),
        (
            "other-bucket".into(),
            s3_notification("someone-elses-bucket", &key),
        ),
        ("garbage".into(), json!("not a notification")),
    ]);
    let response = handle_sqs(&app.state().files, batch).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["garbage"],
        "only the unreadable message goes back (and on to the DLQ)"
    );
    assert_eq!(
        app.get(&format!("/v1/files/{id}")).await.body["status"],
        "pending"
    );
}

#[tokio::test]
async fn an_object_without_a_file_is_removed() {
    let app = spawn_app().await;
    let s3 = filegate_store::clients::s3_client(&app.deployment.sdk, &app.state().config);
    let orphan = format!("{}/{}", app.org, filegate_domain::ids::FileId::new());
    s3.put_object()
        .bucket(bucket(&app))
        .key(&orphan)
        .body(b"stray".to_vec().into())
        .send()
        .await
        .unwrap();
    let response = handle_sqs(
        &app.state().files,
        sqs_batch(&[("m".into(), s3_notification(&bucket(&app), &orphan))]),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    let gone = s3
        .head_object()
        .bucket(bucket(&app))
        .key(&orphan)
        .send()
        .await;
    assert!(gone.is_err(), "orphan deleted");
}

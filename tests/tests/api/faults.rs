//! Faults at the emulator: paused (SIGSTOP) or killed in the middle of the API's work. The
//! caller gets a clear 503 within the configured timeouts, never a hang or a 500; nothing is
//! left half-written; once the emulator is back, the same request completes.

use std::time::{Duration, Instant};

use filegate_tests::{TestApp, TestOptions, TestResponse, bytes_of, pdf, spawn_app_with};
use reqwest::StatusCode;

/// An app on its own emulator, with short AWS timeouts (500 ms an attempt, 2 s in all).
async fn app() -> TestApp {
    spawn_app_with(TestOptions {
        own_emulator: true,
        aws_timeouts_ms: Some((500, 2_000)),
        ..TestOptions::default()
    })
    .await
}

fn signal(app: &TestApp, name: &str) {
    let pid = app.emulator.as_ref().unwrap().pid();
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// `request`'s answer, which must come within 10 s (the timeouts allow about 2 s).
async fn answered<F: Future<Output = TestResponse>>(what: &str, request: F) -> TestResponse {
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 10 s"));
    assert!(started.elapsed() < Duration::from_secs(10));
    r
}

fn assert_unavailable(what: &str, r: &TestResponse) {
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable"),
        "{what}: {}",
        r.body
    );
}

#[tokio::test]
async fn a_paused_emulator_is_503_and_the_same_requests_then_complete() {
    let app = app().await;
    let uploaded = app
        .uploaded_file(pdf("kept.pdf", 64), &bytes_of(64, 1))
        .await;
    let kept = uploaded["id"].as_str().unwrap().to_owned();
    let pending = app.create_file(pdf("late.pdf", 64)).await;
    assert_eq!(app.upload(&pending, &bytes_of(64, 2)).await, StatusCode::OK);
    let pending_id = pending["id"].as_str().unwrap().to_owned();
    let declaration = pdf("new.pdf", 10);

    signal(&app, "STOP");
    let initiate = answered("initiate", app.post("/v1/files", &declaration)).await;
    let finalize = answered("finalize", app.finalize(&pending_id)).await;
    let delete = answered("delete", app.delete(&format!("/v1/files/{kept}"))).await;
    signal(&app, "CONT");
    for (what, r) in [
        ("initiate", &initiate),
        ("finalize", &finalize),
        ("delete", &delete),
    ] {
        assert_unavailable(what, r);
    }

    let r = app.post("/v1/files", &declaration).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app.finalize(&pending_id).await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("uploaded")),
        "{}",
        r.body
    );
    let r = app.delete(&format!("/v1/files/{kept}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(app.head_object(&kept).await.is_none());
    assert_eq!(
        app.get(&format!("/v1/files/{kept}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_dead_emulator_is_503_at_once() {
    let mut app = app().await;
    let file = app.uploaded_file(pdf("a.pdf", 64), &bytes_of(64, 3)).await;
    let id = file["id"].as_str().unwrap().to_owned();
    signal(&app, "KILL");
    let _ = app.emulator.take();
    assert_unavailable(
        "initiate",
        &answered("initiate", app.post("/v1/files", &pdf("b.pdf", 10))).await,
    );
    assert_unavailable(
        "get",
        &answered("get", app.get(&format!("/v1/files/{id}"))).await,
    );
    assert_unavailable(
        "delete",
        &answered("delete", app.delete(&format!("/v1/files/{id}"))).await,
    );
}

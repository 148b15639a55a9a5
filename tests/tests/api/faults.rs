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

/// A stream through the proxy whose S3 pauses mid-body (SIGSTOP after the first bytes): the
/// stream ends short of its `Content-Length` once S3 has sent nothing for the stall limit
/// (2 s here) instead of holding the function until Lambda's timeout; a stream asked for
/// while S3 is paused is `502 upstream_timeout` within the proxy's header timeout (10 s);
/// once S3 is back, the same URL streams the whole object.
#[tokio::test]
async fn a_proxy_stream_whose_s3_pauses_ends_and_the_same_url_then_streams() {
    use futures_util::StreamExt as _;
    const SIZE: usize = 32 << 20;
    let app = spawn_app_with(TestOptions {
        own_emulator: true,
        aws_timeouts_ms: Some((500, 2_000)),
        proxy_stall_secs: Some(2),
        ..TestOptions::default()
    })
    .await;
    let bytes = bytes_of(SIZE, 5);
    let file = app.uploaded_file(pdf("big.pdf", SIZE), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/files/{id}/download_url"),
            &serde_json::json!({}),
        )
        .await;
    let url = r.body["url"].as_str().unwrap().to_owned();
    let http = filegate_tests::http_builder().build().unwrap();
    let stream = || {
        http.get(format!("{}/v1/proxy/file", app.base))
            .query(&[("presigned_url", &url)])
            .send()
    };

    let response = stream().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let length = response.content_length().unwrap();
    let mut body = response.bytes_stream();
    let mut received = body.next().await.unwrap().unwrap().len() as u64;
    signal(&app, "STOP");
    let started = Instant::now();
    let ended_with_error = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => received += chunk.len() as u64,
                Err(_) => return true,
            }
        }
        false
    })
    .await
    .expect("the stream hung with S3 paused");
    let waited = started.elapsed();
    assert!(
        ended_with_error && received < length,
        "{received} of {length} bytes, ended with an error: {ended_with_error}"
    );
    let asked = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(15), async {
        TestResponse::read(stream().await.unwrap()).await
    })
    .await
    .expect("a stream asked for with S3 paused got no answer");
    let asked = asked.elapsed();
    signal(&app, "CONT");
    assert!(waited < Duration::from_secs(10), "ended after {waited:?}");
    assert!(asked < Duration::from_secs(12), "answered after {asked:?}");
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "upstream_timeout"),
        "{}",
        r.body
    );

    let response = stream().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let whole = response.bytes().await.unwrap();
    assert!(whole == bytes, "the same bytes once S3 is back");
}

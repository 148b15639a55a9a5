//! The sample events in `events/` are real: each one goes through its function's handler code
//! (`lambda_http`'s own payload parsing, then the function's router, or the S3-event handler)
//! against the emulator, and gets the status it is meant to show.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use filegate_proxy_client::PresignedProxy;
use filegate_tests::{TestApp, bytes_of, pdf, spawn_app};
use http::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The ids the sample events use, replaced by ids of rows this test creates.
const SAMPLE_FILE: &str = "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z";
const SAMPLE_FOLDER: &str = "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X70";
const SAMPLE_KEY: &str = "key_01JD3Q5Z8K2M4N6P8R0T2V4X71";
/// A pending multipart file, for the part routes.
const SAMPLE_MULTIPART: &str = "file_01JD3Q5Z8K2M4N6P8R0T2V4X72";

/// Every HTTP sample, in an order that works as a story, with the status it shows.
const HTTP_EVENTS: &[(&str, u16)] = &[
    ("presign/create-file.json", 201),
    ("presign/create-files.json", 201),
    ("presign/sign-parts.json", 200),
    ("presign/list-parts.json", 200),
    ("finalize/finalize.json", 200),
    ("presign/download-url.json", 200),
    ("proxy/proxy-file.json", 206),
    ("proxy/file-content.json", 200),
    ("metadata/get-file.json", 200),
    ("metadata/list-files.json", 200),
    ("metadata/update-file.json", 200),
    ("metadata/patch-file.json", 200),
    ("metadata/change-status.json", 200),
    ("metadata/audit-trail.json", 200),
    ("metadata/create-folder.json", 201),
    ("metadata/list-folders.json", 200),
    ("metadata/get-folder.json", 200),
    ("metadata/update-folder.json", 200),
    ("metadata/create-api-key.json", 201),
    ("metadata/list-api-keys.json", 200),
    ("metadata/revoke-api-key.json", 200),
    ("metadata/delete-file.json", 200),
    ("metadata/delete-folder.json", 200),
];

const S3_EVENTS: &[&str] = &[
    "auto-finalize/sqs-s3-object-created.json",
    "auto-finalize/s3-object-created.json",
];

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The router a Lambda function runs, in the same layers.
fn function_router(app: &TestApp, function: &str) -> axum::Router {
    let state = app.state().clone();
    let routes = match function {
        "presign" => filegate_presign::router(state.clone()),
        "finalize" => filegate_finalize::router(state.clone()),
        "metadata" => filegate_metadata::router(state.clone()),
        "proxy" => {
            filegate_proxy::router(state.clone(), PresignedProxy::from_config(&state.config))
        }
        other => panic!("no HTTP function {other}"),
    };
    state.serve(routes)
}

#[tokio::test]
async fn every_sample_event_is_handled_by_its_function() {
    let app = spawn_app().await;
    let admin = app.token_for(&app.org, Some("admin"));
    let file = app
        .uploaded_file(pdf("report.pdf", 64), &bytes_of(64, 1))
        .await;
    let folder = app.create_folder("Contracts", None).await;
    let key = app
        .send(
            reqwest::Method::POST,
            "/v1/api_keys",
            Some(&admin),
            Some(&json!({"name": "sample", "scopes": ["files:read"]})),
        )
        .await;
    let mut multipart = pdf("scan.pdf", 20 << 20);
    multipart["multipart"] = true.into();
    // Declared with its checksum, so each part is signed with its own.
    multipart["checksum_sha256"] = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=".into();
    let multipart = app.create_file(multipart).await;
    let ids = [
        (
            SAMPLE_MULTIPART,
            multipart["id"].as_str().unwrap().to_owned(),
        ),
        (SAMPLE_FILE, file["id"].as_str().unwrap().to_owned()),
        (SAMPLE_FOLDER, folder["id"].as_str().unwrap().to_owned()),
        (SAMPLE_KEY, key.body["id"].as_str().unwrap().to_owned()),
    ];

    let presigned = app
        .post(&format!("/v1/files/{}/download_url", ids[1].1), &json!({}))
        .await;
    let presigned = presigned.body["url"].as_str().unwrap().to_owned();

    for (name, status) in HTTP_EVENTS {
        let mut text = read(name).replace("<JWT>", &admin);
        for (sample, real) in &ids {
            text = text.replace(sample, real);
        }
        let mut event: Value = serde_json::from_str(&text).unwrap();
        // The sample's presigned URL is for a bucket in AWS; the test's is the emulator's.
        if event["queryStringParameters"]["presigned_url"].is_string() {
            let query = reqwest::Url::parse_with_params(
                "http://127.0.0.1/",
                [("presigned_url", presigned.as_str())],
            )
            .unwrap();
            event["queryStringParameters"]["presigned_url"] = presigned.clone().into();
            event["rawQueryString"] = query.query().unwrap().into();
            text = event.to_string();
        }
        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not an API Gateway event: {e}"));
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
        let function = name.split('/').next().unwrap();
        let response = function_router(&app, function)
            .oneshot(request)
            .await
            .unwrap();
        let got = response.status();
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(
            got,
            StatusCode::from_u16(*status).unwrap(),
            "{name}: {}",
            String::from_utf8_lossy(&bytes)
        );
        // Behind API Gateway or a function URL, the request id is theirs.
        assert_eq!(request_id, event["requestContext"]["requestId"], "{name}");
    }
    // The samples ran as the story they tell: the file was renamed, processed and deleted.
    let audit = app.get(&format!("/v1/files/{}/audit", ids[1].1)).await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "file.created",
            "file.uploaded",
            "file.download_url_issued",
            "file.download_url_issued",
            "file.content_streamed",
            "file.renamed",
            "file.status_changed",
            "file.deleted"
        ]
    );
    // API Gateway's view of the caller is what the audit trail records.
    // ... and a function URL's (the proxy), for the streamed content.
    for event in [&audit.body["data"][5], &audit.body["data"][4]] {
        assert_eq!(event["ip"], "203.0.113.10", "{event}");
        assert_eq!(event["user_agent"], "curl/8.5.0", "{event}");
    }
}

#[tokio::test]
async fn the_s3_samples_finalize_an_upload() {
    for name in S3_EVENTS {
        let app = spawn_app().await;
        let file = app.create_file(pdf("report.pdf", 64)).await;
        assert_eq!(app.upload(&file, &bytes_of(64, 2)).await, StatusCode::OK);
        let id = file["id"].as_str().unwrap();
        let text = read(name)
            .replace(&format!("acme/{SAMPLE_FILE}"), &format!("{}/{id}", app.org))
            .replace("filegate-files", &app.state().config.bucket);
        let payload: Value = serde_json::from_str(&text).unwrap();
        let response = filegate_finalize::events::handle(&app.state().files, payload, "sample")
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.contains("sqs") {
            assert_eq!(response["batchItemFailures"], json!([]), "{name}");
        }
        assert_eq!(
            app.get(&format!("/v1/files/{id}")).await.body["status"],
            "uploaded",
            "{name}"
        );
    }
}

#[test]
fn every_event_file_is_exercised_and_every_route_has_one() {
    let mut on_disk = BTreeSet::new();
    for dir in std::fs::read_dir(events_dir()).unwrap() {
        let dir = dir.unwrap().path();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            on_disk.insert(format!(
                "{}/{}",
                dir.file_name().unwrap().to_str().unwrap(),
                file.file_name().unwrap().to_str().unwrap()
            ));
        }
    }
    let exercised: BTreeSet<String> = HTTP_EVENTS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .chain(S3_EVENTS.iter().map(|n| (*n).to_owned()))
        .collect();
    assert_eq!(on_disk, exercised);

    let routes: BTreeSet<String> = HTTP_EVENTS
        .iter()
        .map(|(name, _)| {
            let event: Value = serde_json::from_str(&read(name)).unwrap();
            match event["routeKey"].as_str().unwrap() {
                // A function URL has one route; the path says which of ours it is.
                "$default" => format!(
                    "{} {}",
                    event["requestContext"]["http"]["method"].as_str().unwrap(),
                    event["rawPath"]
                        .as_str()
                        .unwrap()
                        .replace(SAMPLE_FILE, "{id}")
                ),
                route => route.to_owned(),
            }
        })
        .collect();
    let documented: BTreeSet<String> = filegate_tests::documented_operations()
        .into_iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert_eq!(routes, documented);
}

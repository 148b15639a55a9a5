use filegate_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");

/// The committed `openapi.json` is what the code generates. Regenerate with
/// `cargo run -q -p filegate-local -- openapi > openapi.json`.
#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let generated = serde_json::to_value(filegate_local::openapi()).unwrap();
    let committed: Value = std::fs::read_to_string(COMMITTED)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    assert!(
        committed == generated,
        "openapi.json is stale: run `cargo run -q -p filegate-local -- openapi > openapi.json`"
    );
    // And the local API serves the same document.
    let app = spawn_app().await;
    let served = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, generated);
}

/// Every operation in the document is routed: without credentials each one answers 401, not
/// the router's 404 or 405; those documented as needing none (`security: [{}]`, the proxy)
/// reach their handler and refuse the empty request themselves.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = serde_json::to_value(filegate_local::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    let mut checked = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z");
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let r = app.send(method.clone(), &concrete, None, None).await;
            if operation["security"] == serde_json::json!([{}]) {
                assert!(
                    r.status.is_client_error() && ![401, 404, 405].contains(&r.status.as_u16()),
                    "{method} {path}: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path}: {}",
                    r.body
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
}

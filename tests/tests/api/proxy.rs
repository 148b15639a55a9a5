//! The streaming proxy (`GET /v1/proxy/file`) and `GET /v1/files/{id}/content`: bytes through
//! the API unchanged, ranges, the URL check through the running proxy, S3's refusals, and a
//! client that goes away. Every URL sent to the proxy here is on a loopback address or under
//! `.example` (never resolves), so even a broken check sends nothing beyond this machine.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use filegate_tests::checking_s3::CheckingS3;
use filegate_tests::{
    TestApp, TestOptions, TestResponse, noise, pdf, s3_client_at, spawn_app, spawn_app_with,
    spawn_proxy_against,
};
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const FILE: &str = "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z";
const SIGV4: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd";

async fn proxy(base: &str, presigned_url: Option<&str>, range: Option<&str>) -> reqwest::Response {
    let mut request = filegate_tests::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/v1/proxy/file"));
    if let Some(url) = presigned_url {
        request = request.query(&[("presigned_url", url)]);
    }
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

async fn content(app: &TestApp, id: &str, query: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}/v1/files/{id}/content{query}", app.base))
        .bearer_auth(app.token());
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

async fn download_url(app: &TestApp, id: &str) -> String {
    let r = app
        .post(&format!("/v1/files/{id}/download_url"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["url"].as_str().unwrap().to_owned()
}

/// Reads the body as it arrives, hashing it; never holds it whole.
async fn sha256_of_stream(response: reqwest::Response) -> (u64, Vec<u8>) {
    let mut stream = response.bytes_stream();
    let mut hasher = Sha256::new();
    let mut length = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        length += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (length, hasher.finalize().to_vec())
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String) {
    let r = TestResponse::read(response).await;
    (r.status, r.code().to_owned())
}

#[tokio::test]
async fn a_64_mib_object_streams_through_both_routes_unchanged() {
    let app = spawn_app().await;
    let bytes = noise(64 << 20, 64);
    let file = app
        .uploaded_file(pdf("Große Datei.pdf", bytes.len()), &bytes)
        .await;
    let id = file["id"].as_str().unwrap();
    let expected = Sha256::digest(&bytes).to_vec();

    let url = download_url(&app, id).await;
    let response = proxy(&app.base, Some(&url), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-length"],
        (64u64 << 20).to_string().as_str()
    );
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "inline; filename=\"Gro_e Datei.pdf\"; filename*=UTF-8''Gro%C3%9Fe%20Datei.pdf"
    );
    assert!(headers.contains_key("etag") && headers.contains_key("last-modified"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("x-amz-request-id").is_none());
    assert_eq!(
        sha256_of_stream(response).await,
        (64 << 20, expected.clone())
    );

    let response = content(&app, id, "?attachment=true", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"Gro_e Datei.pdf\"")
    );
    assert_eq!(sha256_of_stream(response).await, (64 << 20, expected));
    let audit = app.get(&format!("/v1/files/{id}/audit")).await;
    let streamed = &audit.body["data"][3];
    assert_eq!(
        streamed["action"], "file.content_streamed",
        "{}",
        audit.body
    );
    assert_eq!(streamed["details"]["disposition"], "attachment");
    assert_eq!(streamed["details"]["bytes"], (64u64 << 20).to_string());
}

#[tokio::test]
async fn ranges_come_back_as_206_with_content_range() {
    let app = spawn_app().await;
    let bytes = noise(10_000, 7);
    let file = app.uploaded_file(pdf("r.pdf", bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let url = download_url(&app, id).await;

    for (range, slice, content_range) in [
        ("bytes=0-99", &bytes[..100], "bytes 0-99/10000"),
        ("bytes=-100", &bytes[9_900..], "bytes 9900-9999/10000"),
        ("bytes=9990-", &bytes[9_990..], "bytes 9990-9999/10000"),
    ] {
        for response in [
            proxy(&app.base, Some(&url), Some(range)).await,
            content(&app, id, "", Some(range)).await,
        ] {
            assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
            assert_eq!(response.headers()["content-range"], content_range);
            assert_eq!(
                response.headers()["content-length"],
                slice.len().to_string().as_str()
            );
            assert_eq!(response.bytes().await.unwrap().as_ref(), slice, "{range}");
        }
    }
    // Past the end: 416, and the content route says how big the file is.
    let r = content(&app, id, "", Some("bytes=20000-")).await;
    assert_eq!(r.headers()["content-range"], "bytes */10000");
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable".into()
        )
    );
    let r = proxy(&app.base, Some(&url), Some("bytes=20000-")).await;
    assert_eq!(
        error_of(r).await,
        (
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable".into()
        )
    );
    // Other units and several ranges are ignored (RFC 9110 §14.2; S3 does the same): the
    // whole file. A malformed byte range is 400 naming the header.
    for range in ["lines=1-2", "bytes=0-1,5-6"] {
        for response in [
            proxy(&app.base, Some(&url), Some(range)).await,
            content(&app, id, "", Some(range)).await,
        ] {
            assert_eq!(response.status(), StatusCode::OK, "{range}");
            assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());
        }
    }
    for response in [
        proxy(&app.base, Some(&url), Some("bytes=5-1")).await,
        content(&app, id, "", Some("bytes=5-1")).await,
    ] {
        let r = TestResponse::read(response).await;
        assert_eq!(
            (r.status, r.code(), r.param()),
            (StatusCode::BAD_REQUEST, "invalid_range", Some("Range"))
        );
    }
    // GET only: a HEAD would read from S3 (and audit) for nothing.
    for path in [
        format!("/v1/files/{id}/content"),
        format!(
            "/v1/proxy/file?{}",
            reqwest::Url::parse_with_params("http://x/", [("presigned_url", url.as_str())])
                .unwrap()
                .query()
                .unwrap()
        ),
    ] {
        let r = app
            .http
            .head(format!("{}{path}", app.base))
            .bearer_auth(app.token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
}

#[tokio::test]
async fn refused_urls_get_their_status_and_the_json_error() {
    let app = spawn_app().await;
    let bucket = app.deployment.state.config.bucket.clone();
    let emulator = app.deployment.state.config.endpoint_url.clone().unwrap();
    let signed = |url: &str| format!("{url}?{SIGV4}");
    let cases: Vec<(String, u16, &str)> = vec![
        (
            signed("https://s3.amazonaws.com@evil.example/x"),
            403,
            "url_not_allowed",
        ),
        (
            signed(&format!(
                "https://{bucket}.s3.us-east-1.amazonaws.com.evil.example/acme/{FILE}"
            )),
            403,
            "url_not_allowed",
        ),
        (
            signed(&format!(
                "https://evil.example/{bucket}.s3.us-east-1.amazonaws.com/acme/{FILE}"
            )),
            403,
            "url_not_allowed",
        ),
        (
            signed("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"),
            403,
            "url_not_allowed",
        ),
        (
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next".into(),
            422,
            "not_presigned",
        ),
        (signed("file:///etc/passwd"), 403, "url_not_allowed"),
        ("file:///etc/passwd".into(), 422, "not_presigned"),
        // The emulator itself, but another bucket, another port, or not one of our keys.
        (
            signed(&format!("{emulator}/other-bucket/acme/{FILE}")),
            403,
            "url_not_allowed",
        ),
        (
            signed(&format!("{emulator}/{bucket}/acme/report.pdf")),
            403,
            "url_not_allowed",
        ),
        (
            signed(&format!(
                "http://127.0.0.2:{}/{bucket}/acme/{FILE}",
                emulator.rsplit(':').next().unwrap()
            )),
            403,
            "url_not_allowed",
        ),
        (
            signed(&format!(
                "http://user:pw@{}/{bucket}/acme/{FILE}",
                emulator.trim_start_matches("http://")
            )),
            403,
            "url_not_allowed",
        ),
        // A valid-looking URL without its signature.
        (
            format!(
                "{emulator}/{bucket}/acme/{FILE}?{}",
                SIGV4.split("&X-Amz-Signature").next().unwrap()
            ),
            422,
            "not_presigned",
        ),
        ("not a url".into(), 422, "invalid_presigned_url"),
    ];
    for (url, status, code) in &cases {
        let r = TestResponse::read(proxy(&app.base, Some(url), None).await).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.param()),
            (*status, *code, Some("presigned_url")),
            "{url}"
        );
    }
    let r = TestResponse::read(proxy(&app.base, None, None).await).await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (422, "presigned_url_missing")
    );
}

#[tokio::test]
async fn expired_and_tampered_urls_are_410_where_s3_checks_signatures() {
    let s3 = CheckingS3::start().await;
    let bucket = "filegate-signed";
    let client = s3_client_at(s3.endpoint()).await;
    client.create_bucket().bucket(bucket).send().await.unwrap();
    let key = format!("acme/{FILE}");
    let bytes = noise(1000, 3);
    client
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(bytes.clone().into())
        .send()
        .await
        .unwrap();
    let presign = |start: SystemTime, expires: u64| {
        let client = client.clone();
        let key = key.clone();
        async move {
            client
                .get_object()
                .bucket(bucket)
                .key(key)
                .presigned(
                    PresigningConfig::builder()
                        .start_time(start)
                        .expires_in(Duration::from_secs(expires))
                        .build()
                        .unwrap(),
                )
                .await
                .unwrap()
                .uri()
                .to_owned()
        }
    };
    let base = spawn_proxy_against(s3.endpoint(), bucket).await;

    // The same S3 serves a good URL: the 410s below are its signature and expiry checks.
    let valid = presign(SystemTime::now(), 300).await;
    let r = proxy(&base, Some(&valid), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let expired = presign(SystemTime::now() - Duration::from_secs(120), 60).await;
    assert_eq!(
        error_of(proxy(&base, Some(&expired), None).await).await,
        (StatusCode::GONE, "presigned_url_expired".into())
    );
    let last = valid.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &valid[..valid.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    assert_eq!(
        error_of(proxy(&base, Some(&tampered), None).await).await,
        (StatusCode::GONE, "presigned_url_invalid".into())
    );
    let other_key = valid.replace("X-Amz-Expires=300", "X-Amz-Expires=301");
    assert_eq!(
        error_of(proxy(&base, Some(&other_key), None).await).await,
        (StatusCode::GONE, "presigned_url_invalid".into())
    );
}

#[tokio::test]
async fn an_unreachable_s3_is_502() {
    // A port that was free a moment ago and that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let base = spawn_proxy_against(&endpoint, "bucket").await;
    let url = format!("{endpoint}/bucket/acme/{FILE}?{SIGV4}");
    assert_eq!(
        error_of(proxy(&base, Some(&url), None).await).await,
        (StatusCode::BAD_GATEWAY, "upstream_unreachable".into())
    );
}

/// A stand-in S3 on 127.0.0.1 that answers one request with `head` and then `body_len` zero
/// bytes, 64 KiB at a time; reports how many body bytes went out and whether the reader went
/// away first.
async fn scripted_s3(
    head: String,
    body_len: u64,
) -> (String, tokio::task::JoinHandle<(u64, bool)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the proxy closed before sending its request");
            request.extend_from_slice(&buf[..n]);
        }
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![0u8; 64 * 1024];
        let mut sent = 0u64;
        while sent < body_len {
            let n = chunk.len().min((body_len - sent) as usize);
            if socket.write_all(&chunk[..n]).await.is_err() {
                return (sent, true);
            }
            sent += n as u64;
        }
        (sent, false)
    });
    (endpoint, task)
}

#[tokio::test]
async fn redirects_from_upstream_are_not_followed() {
    let (endpoint, upstream) = scripted_s3(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n".into(),
        0,
    )
    .await;
    let base = spawn_proxy_against(&endpoint, "bucket").await;
    let url = format!("{endpoint}/bucket/acme/{FILE}?{SIGV4}");
    assert_eq!(
        error_of(proxy(&base, Some(&url), None).await).await,
        (StatusCode::BAD_GATEWAY, "upstream_redirect".into())
    );
    upstream.await.unwrap();
}

#[tokio::test]
async fn a_client_that_goes_away_stops_the_read_from_s3() {
    const LENGTH: u64 = 100 << 20;
    let (endpoint, upstream) = scripted_s3(
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {LENGTH}\r\n\r\n"),
        LENGTH,
    )
    .await;
    let base = spawn_proxy_against(&endpoint, "bucket").await;
    let url = format!("{endpoint}/bucket/acme/{FILE}?{SIGV4}");
    let response = proxy(&base, Some(&url), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.bytes_stream();
    let mut received = 0usize;
    while received < 1 << 20 {
        received += stream.next().await.unwrap().unwrap().len();
    }
    drop(stream);
    let (sent, reader_went_away) = tokio::time::timeout(Duration::from_secs(20), upstream)
        .await
        .expect("the proxy kept the S3 connection open after the client left")
        .unwrap();
    assert!(
        reader_went_away,
        "the proxy read all {sent} bytes for nobody"
    );
    assert!(
        sent < LENGTH / 2,
        "{sent} of {LENGTH} bytes were read from S3"
    );
}

#[tokio::test]
async fn bodies_over_the_proxy_limit_are_413_before_streaming_and_ranges_still_work() {
    let app = spawn_app_with(TestOptions {
        proxy_max_bytes: Some(1000),
        ..TestOptions::default()
    })
    .await;
    let bytes = noise(5000, 9);
    let file = app.uploaded_file(pdf("big.pdf", bytes.len()), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let url = download_url(&app, id).await;
    for response in [
        proxy(&app.base, Some(&url), None).await,
        content(&app, id, "", None).await,
    ] {
        let r = TestResponse::read(response).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::PAYLOAD_TOO_LARGE, "too_large_for_proxy")
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("download_url")
        );
    }
    for response in [
        content(&app, id, "", Some("bytes=1000-1999")).await,
        proxy(&app.base, Some(&url), Some("bytes=1000-1999")).await,
    ] {
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(response.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);
    }
    // A refused stream is not audited as streamed.
    assert_eq!(
        app.audit_actions(id).await,
        [
            "file.created",
            "file.uploaded",
            "file.download_url_issued",
            "file.content_streamed"
        ]
    );
}

/// An HTML page with a script: what must never be shown inline from the API's origin.
async fn uploaded_html(app: &TestApp) -> serde_json::Value {
    let page = b"<script>alert(document.domain)</script>";
    app.uploaded_file(
        json!({"name": "page.html", "content_type": "text/html", "size_bytes": page.len()}),
        page,
    )
    .await
}

#[tokio::test]
async fn content_is_scoped_checked_and_safe_to_serve_from_the_api() {
    let app = spawn_app().await;
    let html = uploaded_html(&app).await;
    let id = html["id"].as_str().unwrap();
    // Inline was asked for; an HTML page from the API's origin could run script there.
    let r = content(&app, id, "?attachment=false", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "private, no-store");

    // Another organisation's file is a 404; a pending file is 409; scope files:read needed.
    let other = app.token_for(&format!("{}-b", app.org), None);
    let r = app
        .send(
            Method::GET,
            &format!("/v1/files/{id}/content"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "file_not_found")
    );
    let pending = app.create_file(pdf("later.pdf", 10)).await;
    let pending = pending["id"].as_str().unwrap();
    let r = TestResponse::read(content(&app, pending, "", None).await).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "file_not_ready")
    );
    let writer = app.token_for(&app.org, Some("files:write"));
    let r = app
        .send(
            Method::GET,
            &format!("/v1/files/{id}/content"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(
            Method::GET,
            &format!("/v1/files/{id}/content?inline=1"),
            Some(&app.token()),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "unknown_parameter")
    );
    let r = app
        .send(
            Method::GET,
            &format!("/v1/files/{id}/content?attachment=maybe"),
            Some(&app.token()),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_proxy_never_serves_active_content_inline() {
    let app = spawn_app().await;
    let html = uploaded_html(&app).await;
    // filegate's own download URLs already say attachment for HTML; a URL signed by anyone
    // else with access to the bucket could ask for inline.
    let config = &app.deployment.state.config;
    let client = s3_client_at(config.endpoint_url.as_deref().unwrap()).await;
    let inline = client
        .get_object()
        .bucket(&config.bucket)
        .key(format!("{}/{}", app.org, html["id"].as_str().unwrap()))
        .response_content_type("text/html")
        .response_content_disposition("inline; filename=\"page.html\"")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = proxy(&app.base, Some(inline.uri()), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/html");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"page.html\""
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
}

/// Reads a streamed GET of `path_and_query` at about `bytes_per_sec` (`None`: as fast as it
/// can) through a small receive buffer; returns the bytes read before the stream ended.
async fn read_at(base: &str, path_and_query: &str, bytes_per_sec: Option<u64>) -> u64 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // A small window, so the server's sends follow the reads rather than the kernel's buffers.
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request =
        format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut total = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n as u64,
        }
        if let Some(rate) = bytes_per_sec {
            let pause = chunk.len() as f64 / rate as f64;
            tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        }
    }
}

/// A client reading below the minimum rate has its stream ended once the grace is over (the
/// route needs no credentials, and each stream holds a function instance); a client that
/// keeps up gets every byte.
#[tokio::test]
async fn a_reader_below_the_minimum_rate_is_cut_off() {
    let app = spawn_app_with(TestOptions {
        // 16 MiB/s after 1 s; at most 60 s.
        stream_pace: Some((16 << 20, 1, 60)),
        ..TestOptions::default()
    })
    .await;
    let size = 64 << 20;
    let bytes = noise(size, 11);
    let file = app.uploaded_file(pdf("big.pdf", size), &bytes).await;
    let id = file["id"].as_str().unwrap();
    let url = download_url(&app, id).await;
    let query = serde_urlencoded::to_string([("presigned_url", &url)]).unwrap();
    let path = format!("/v1/proxy/file?{query}");

    let started = std::time::Instant::now();
    let slow = read_at(&app.base, &path, Some(1 << 20)).await;
    assert!(slow < size as u64, "a 1 MiB/s reader got all {slow} bytes");
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );

    let fast = read_at(&app.base, &path, None).await;
    assert!(
        fast > size as u64,
        "a fast reader gets the body and its headers: {fast}"
    );
}

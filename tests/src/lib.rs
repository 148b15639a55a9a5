//! The one test harness: an emulator per test run, and per test its own table, bucket and
//! queue, with the real routers served on 127.0.0.1 on a free port.

pub mod checking_s3;
pub mod identity_provider;
pub mod lossy_link;
pub mod release_server;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use filegate_http::AppState;
use filegate_local::Deployment;
use filegate_local::emulator::Emulator;
use filegate_store::config::{AuthConfig, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const SECRET: &str = "test-secret-test-secret-test-secret!";

/// Started by the first test that needs it; the launcher exits when the test process does.
/// Should it die first, the run stops there and says so, rather than every later test
/// failing on 503s.
fn emulator_endpoint() -> &'static str {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR
        .get_or_init(|| {
            let mut emulator = Emulator::start(&Emulator::default_python())
                .unwrap_or_else(|e| panic!("{e} (scripts/setup installs it)"));
            emulator.on_exit(|| {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("the tests' emulator (moto) exited: stopping the test run");
                }
                std::process::exit(1);
            });
            emulator
        })
        .endpoint()
}

/// Per-test settings on top of the defaults.
#[derive(Debug, Default, Clone)]
pub struct TestOptions {
    pub event_poller: bool,
    pub max_upload_bytes: Option<u64>,
    pub allowed_content_types: Option<&'static str>,
    pub cors_allowed_origins: Option<&'static str>,
    pub public_base_url: Option<&'static str>,
    pub proxy_max_bytes: Option<u64>,
    /// Reach the emulator through a [`lossy_link::LossyLink`] (`TestApp::link`).
    pub lossy_link: bool,
    /// The streaming routes' pace: minimum rate (bytes/s), its grace and the cap (seconds).
    pub stream_pace: Option<(u64, u64, u64)>,
    /// An emulator of this test's own (`TestApp::emulator`), to pause or kill.
    pub own_emulator: bool,
    /// AWS attempt and operation timeouts, in milliseconds.
    pub aws_timeouts_ms: Option<(u64, u64)>,
    /// How long S3 may send nothing mid-stream, in seconds.
    pub proxy_stall_secs: Option<u64>,
    /// Leave `FILEGATE_JWT_SECRET` unset (a JWKS-only deployment).
    pub no_jwt_secret: bool,
    /// Any other settings, by name (`FILEGATE_JWT_JWKS_URL`, …).
    pub settings: Vec<(&'static str, String)>,
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub deployment: Deployment,
    /// This test's organisation; [`TestApp::token`] signs for it.
    pub org: String,
    /// The link to the emulator, with [`TestOptions::lossy_link`].
    pub link: Option<lossy_link::LossyLink>,
    /// This test's own emulator, with [`TestOptions::own_emulator`].
    pub emulator: Option<Emulator>,
}

/// An HTTP client builder for tests and benches: no proxy, and TLS on ring. (The CLI's
/// reqwest has TLS without a built-in crypto provider, and Cargo gives every crate of a
/// workspace build the same reqwest features, so one is installed here, once.)
pub fn http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let id = ulid::Ulid::generate().to_string().to_lowercase();
    let name = format!("fg-{id}");
    let emulator = options.own_emulator.then(|| {
        Emulator::start(&Emulator::default_python())
            .unwrap_or_else(|e| panic!("{e} (scripts/setup installs it)"))
    });
    let upstream = emulator.as_ref().map_or_else(
        || emulator_endpoint().to_owned(),
        |e| e.endpoint().to_owned(),
    );
    let link = match options.lossy_link {
        true => Some(lossy_link::LossyLink::start(&upstream).await),
        false => None,
    };
    let endpoint = link.as_ref().map_or(upstream, |l| l.endpoint.clone());
    // The emulator on a busy CI machine can be slower than AWS: patience unless a test asks.
    let (attempt, operation) = options.aws_timeouts_ms.unwrap_or((20_000, 60_000));
    let timeouts = Some((attempt.to_string(), operation.to_string()));
    let max_upload = options.max_upload_bytes.map(|n| n.to_string());
    let proxy_max = options.proxy_max_bytes.map(|n| n.to_string());
    let stall = options.proxy_stall_secs.map(|n| n.to_string());
    let pace = options
        .stream_pace
        .map(|(rate, grace, max)| (rate.to_string(), grace.to_string(), max.to_string()));
    let lookup = |key: &str| {
        match key {
            "AWS_REGION" => Some("us-east-1"),
            "AWS_ENDPOINT_URL" => Some(endpoint.as_str()),
            "FILEGATE_TABLE" | "FILEGATE_BUCKET" => Some(name.as_str()),
            "FILEGATE_JWT_SECRET" if !options.no_jwt_secret => Some(SECRET),
            "FILEGATE_MAX_UPLOAD_BYTES" => max_upload.as_deref(),
            "FILEGATE_ALLOWED_CONTENT_TYPES" => options.allowed_content_types,
            "FILEGATE_CORS_ALLOWED_ORIGINS" => options.cors_allowed_origins,
            "FILEGATE_PUBLIC_BASE_URL" => options.public_base_url,
            "FILEGATE_PROXY_MAX_BYTES" => proxy_max.as_deref(),
            "FILEGATE_AWS_ATTEMPT_TIMEOUT_MS" => timeouts.as_ref().map(|t| t.0.as_str()),
            "FILEGATE_AWS_OPERATION_TIMEOUT_MS" => timeouts.as_ref().map(|t| t.1.as_str()),
            "FILEGATE_PROXY_MIN_RATE" => pace.as_ref().map(|p| p.0.as_str()),
            "FILEGATE_PROXY_RATE_GRACE_SECS" => pace.as_ref().map(|p| p.1.as_str()),
            "FILEGATE_PROXY_MAX_SECS" => pace.as_ref().map(|p| p.2.as_str()),
            "FILEGATE_PROXY_STALL_SECS" => stall.as_deref(),
            other => options
                .settings
                .iter()
                .find(|(name, _)| *name == other)
                .map(|(_, value)| value.as_str()),
        }
        .map(str::to_owned)
    };
    let config = Config::from_lookup(lookup).expect("test config is valid");
    let auth = AuthConfig::from_lookup(lookup).expect("test auth config is valid");
    let deployment = Deployment::create(config, &auth, &name)
        .await
        .expect("provisioning");
    if options.event_poller {
        deployment.spawn_event_poller();
    }
    let base = serve(deployment.state.clone()).await;
    TestApp {
        base,
        http: http_builder().build().unwrap(),
        deployment,
        org: format!("org-{id}"),
        link,
        emulator,
    }
}

/// Serves every router on `state` at 127.0.0.1 and a free port; returns the base URL.
async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = filegate_local::app(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

/// Settings with `endpoint` as the only AWS endpoint.
fn config_at(endpoint: &str, bucket: &str) -> (Config, AuthConfig) {
    let lookup = |key: &str| {
        match key {
            "AWS_REGION" => Some("us-east-1"),
            "AWS_ENDPOINT_URL" => Some(endpoint),
            "FILEGATE_TABLE" | "FILEGATE_BUCKET" => Some(bucket),
            "FILEGATE_JWT_SECRET" => Some(SECRET),
            _ => None,
        }
        .map(str::to_owned)
    };
    (
        Config::from_lookup(lookup).expect("test config is valid"),
        AuthConfig::from_lookup(lookup).expect("test auth config is valid"),
    )
}

/// The API with `s3_endpoint` as its only AWS endpoint and nothing provisioned, for the
/// routes that need nothing but S3 (the presigned-URL proxy): against an S3 that checks
/// signatures, an unreachable one, or a scripted one.
pub async fn spawn_proxy_against(s3_endpoint: &str, bucket: &str) -> String {
    let (config, auth) = config_at(s3_endpoint, bucket);
    let sdk = filegate_store::clients::emulator_sdk_config(&config).await;
    let clients = filegate_store::clients::AwsClients::from_sdk_config(&sdk, &config);
    serve(AppState::new(config, &auth, &clients)).await
}

/// An S3 client for `endpoint`, built as filegate builds its own (path-style, the emulator
/// credentials).
pub async fn s3_client_at(endpoint: &str) -> aws_sdk_s3::Client {
    let (config, _) = config_at(endpoint, "unused");
    let sdk = filegate_store::clients::emulator_sdk_config(&config).await;
    filegate_store::clients::s3_client(&sdk, &config)
}

/// A response with its body read, checked for the headers every response must carry.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        let request_id = headers
            .get("x-request-id")
            .expect("every response carries x-request-id")
            .to_str()
            .unwrap()
            .to_owned();
        if !status.is_success() {
            // The one error format of API.md.
            assert_eq!(body["request_id"], request_id.as_str(), "{body}");
            assert!(body["error"]["type"].is_string(), "{body}");
            assert!(body["error"]["code"].is_string(), "{body}");
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn param(&self) -> Option<&str> {
        self.body["error"]["param"].as_str()
    }
}

impl TestApp {
    pub fn state(&self) -> &AppState {
        &self.deployment.state
    }

    pub fn token(&self) -> String {
        self.token_for(&self.org, None)
    }

    pub fn token_for(&self, org: &str, scope: Option<&str>) -> String {
        filegate_local::mint_token(SECRET, org, "user_1", scope, 3600)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        TestResponse::read(request.send().await.unwrap()).await
    }

    /// A request authenticated with `X-API-Key` instead of a bearer token.
    pub async fn send_with_api_key(
        &self,
        method: reqwest::Method,
        path: &str,
        api_key: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", api_key);
        if let Some(body) = body {
            request = request.json(body);
        }
        TestResponse::read(request.send().await.unwrap()).await
    }

    /// `POST` of a body exactly as given (JSON the `json!` macro cannot write: `1e3`, arrays
    /// in place of objects).
    pub async fn post_raw(&self, path: &str, body: String) -> TestResponse {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token())
            .header("content-type", "application/json")
            .body(body);
        TestResponse::read(request.send().await.unwrap()).await
    }

    /// A valid token of this test's org with `extra` claims added or replaced.
    pub fn token_with_claims(&self, extra: Value) -> String {
        let mut claims = json!({
            "sub": "user_1",
            "org": self.org,
            "exp": filegate_domain::timestamp::Timestamp::now().unix_seconds() + 3600,
        });
        for (k, v) in extra.as_object().expect("claims are an object") {
            claims[k] = v.clone();
        }
        filegate_local::sign_claims(SECRET, &claims)
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(reqwest::Method::DELETE, path, Some(&self.token()), None)
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some(&self.token()),
            Some(body),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(reqwest::Method::POST, path, Some(&self.token()), Some(body))
            .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(reqwest::Method::GET, path, Some(&self.token()), None)
            .await
    }

    /// `POST /v1/files`, expecting 201.
    pub async fn create_file(&self, body: Value) -> Value {
        let r = self.post("/v1/files", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// Declares, uploads and finalizes a file; returns the `uploaded` file.
    pub async fn uploaded_file(&self, declaration: Value, bytes: &[u8]) -> Value {
        let created = self.create_file(declaration).await;
        assert_eq!(self.upload(&created, bytes).await, StatusCode::OK);
        let id = created["id"].as_str().unwrap();
        let r = self.finalize(id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "uploaded");
        r.body
    }

    /// `POST /v1/folders`, expecting 201.
    pub async fn create_folder(&self, name: &str, parent: Option<&str>) -> Value {
        let r = self
            .post("/v1/folders", &json!({"name": name, "parent": parent}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    pub async fn finalize(&self, id: &str) -> TestResponse {
        self.send(
            reqwest::Method::POST,
            &format!("/v1/files/{id}/finalize"),
            Some(&self.token()),
            None,
        )
        .await
    }

    /// PUTs `bytes` to the presigned URL of `file["upload"]` with exactly its headers (the
    /// HTTP client sets Content-Length from the body, as browsers and curl do).
    pub async fn upload(&self, file: &Value, bytes: &[u8]) -> StatusCode {
        self.upload_with(file, bytes, |_| true).await
    }

    /// Like [`TestApp::upload`], sending only the headers `keep` accepts.
    pub async fn upload_with(
        &self,
        file: &Value,
        bytes: &[u8],
        keep: impl Fn(&str) -> bool,
    ) -> StatusCode {
        let upload = &file["upload"];
        assert_eq!(upload["method"], "PUT");
        let mut request = self
            .http
            .put(upload["url"].as_str().unwrap())
            .body(bytes.to_vec());
        for (name, value) in upload["headers"].as_object().unwrap() {
            if name != "content-length" && keep(name) {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        request.send().await.unwrap().status()
    }

    /// Like [`TestApp::upload`], adding headers the URL did not sign (S3 stores many of them).
    pub async fn upload_adding(
        &self,
        file: &Value,
        bytes: &[u8],
        extra: &[(&str, &str)],
    ) -> StatusCode {
        let upload = &file["upload"];
        let mut request = self
            .http
            .put(upload["url"].as_str().unwrap())
            .body(bytes.to_vec());
        for (name, value) in upload["headers"].as_object().unwrap() {
            if name != "content-length" {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap().status()
    }

    /// `POST /v1/files/{id}/parts` with `parts` (`[{"part_number": 1}, …]`).
    pub async fn sign_parts(&self, id: &str, parts: Value) -> TestResponse {
        self.post(&format!("/v1/files/{id}/parts"), &json!({ "parts": parts }))
            .await
    }

    /// PUTs `bytes` to one signed part (`data[i]` of a sign response) with exactly its
    /// headers; the HTTP client sets Content-Length from the body.
    pub async fn put_part(&self, ticket: &Value, bytes: &[u8]) -> StatusCode {
        assert_eq!(ticket["method"], "PUT");
        let mut request = self
            .http
            .put(ticket["url"].as_str().unwrap())
            .body(bytes.to_vec());
        for (name, value) in ticket["headers"].as_object().unwrap() {
            if name != "content-length" {
                request = request.header(name, value.as_str().unwrap());
            }
        }
        request.send().await.unwrap().status()
    }

    /// Signs and PUTs the parts `numbers` of a multipart `file` (its declaration's response),
    /// one after the other, expecting 200 for each; with each part's SHA-256 when the file was
    /// declared with its checksum.
    pub async fn upload_parts(&self, file: &Value, bytes: &[u8], numbers: &[u32]) {
        let id = file["id"].as_str().unwrap();
        let part_size: usize = file["upload"]["part_size"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let checksummed = file["checksum_sha256"].is_string();
        let parts: Vec<Value> = numbers
            .iter()
            .map(|&n| match checksummed {
                true => json!({"part_number": n, "checksum_sha256": sha256_base64(part_of(bytes, part_size, n))}),
                false => json!({ "part_number": n }),
            })
            .collect();
        let signed = self.sign_parts(id, Value::Array(parts)).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        for (ticket, &n) in signed.body["data"].as_array().unwrap().iter().zip(numbers) {
            let part = part_of(bytes, part_size, n);
            assert_eq!(
                self.put_part(ticket, part).await,
                StatusCode::OK,
                "part {n}"
            );
        }
    }

    /// How many multipart uploads S3 has in progress for a file's object.
    pub async fn multipart_uploads(&self, file_id: &str) -> usize {
        filegate_store::clients::s3_client(&self.deployment.sdk, &self.state().config)
            .list_multipart_uploads()
            .bucket(&self.state().config.bucket)
            .prefix(format!("{}/{file_id}", self.org))
            .send()
            .await
            .unwrap()
            .uploads()
            .len()
    }

    /// The tags of a file's object, as (key, value).
    pub async fn object_tags(&self, file_id: &str) -> Vec<(String, String)> {
        filegate_store::clients::s3_client(&self.deployment.sdk, &self.state().config)
            .get_object_tagging()
            .bucket(&self.state().config.bucket)
            .key(format!("{}/{file_id}", self.org))
            .send()
            .await
            .unwrap()
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }

    /// HeadObject of a file's object: `None` only when S3 says there is no such object. Any
    /// other failure (a refusal, a dead endpoint) fails the test, so that "object deleted"
    /// checks cannot pass because S3 could not be asked.
    pub async fn head_object(
        &self,
        file_id: &str,
    ) -> Option<aws_sdk_s3::operation::head_object::HeadObjectOutput> {
        let result = filegate_store::clients::s3_client(&self.deployment.sdk, &self.state().config)
            .head_object()
            .bucket(&self.state().config.bucket)
            .key(format!("{}/{file_id}", self.org))
            .send()
            .await;
        match result {
            Ok(head) => Some(head),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => None,
            Err(e) => panic!(
                "HeadObject of {file_id} failed: {}",
                filegate_domain::error::ErrorChain(&e)
            ),
        }
    }

    /// Every item in this test's table (a Scan is fine in a test).
    pub async fn table_items(&self) -> usize {
        aws_sdk_dynamodb::Client::new(&self.deployment.sdk)
            .scan()
            .table_name(&self.state().config.table)
            .send()
            .await
            .unwrap()
            .count as usize
    }

    /// One sweep as of `seconds` from now, as the scheduled sweeper runs it.
    pub async fn sweep_in(&self, seconds: u64) -> filegate_core::sweeper::SweepReport {
        self.state()
            .files
            .sweep(
                &filegate_domain::audit::RequestOrigin::default(),
                filegate_domain::timestamp::Timestamp::now().plus_seconds(seconds),
                10_000,
            )
            .await
    }

    /// The audit actions recorded for a file, oldest first.
    pub async fn audit_actions(&self, file_id: &str) -> Vec<String> {
        let org = filegate_domain::ids::OrgId::parse(&self.org).unwrap();
        let id = filegate_domain::ids::FileId::parse(file_id).unwrap();
        self.state()
            .files
            .store()
            .audit_events(&org, &id, None, 100)
            .await
            .unwrap()
            .items
            .iter()
            .map(|e| {
                serde_json::to_value(e.action)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    /// Polls `GET /v1/files/:id` until `status`, for up to 20 s.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..100 {
            last = self.get(&format!("/v1/files/{id}")).await.body;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("file never reached {status}: {last}");
    }
}

/// A file declaration with sensible defaults.
pub fn pdf(name: &str, size: usize) -> Value {
    json!({"name": name, "content_type": "application/pdf", "size_bytes": size.to_string()})
}

/// Deterministic bytes of a given size that start like a PDF (when there are at least five),
/// as finalize checks the first bytes against the declared type of [`pdf`].
pub fn bytes_of(size: usize, seed: u8) -> Vec<u8> {
    like_a_pdf(
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect(),
    )
}

/// Puts the PDF signature on the first bytes, when there are at least five.
fn like_a_pdf(mut bytes: Vec<u8>) -> Vec<u8> {
    const SIGNATURE: &[u8] = b"%PDF-";
    if bytes.len() >= SIGNATURE.len() {
        bytes[..SIGNATURE.len()].copy_from_slice(SIGNATURE);
    }
    bytes
}

/// Part `number` (1-based) of `bytes` cut into parts of `part_size`.
pub fn part_of(bytes: &[u8], part_size: usize, number: u32) -> &[u8] {
    let start = (number as usize - 1) * part_size;
    &bytes[start..(start + part_size).min(bytes.len())]
}

pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Every operation of the OpenAPI document, as (METHOD, path template).
pub fn documented_operations() -> std::collections::BTreeSet<(String, String)> {
    let doc = serde_json::to_value(filegate_local::openapi()).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// `size` bytes with no repeating pattern (xorshift), so misplaced chunks change the hash;
/// like [`bytes_of`] they start with the PDF signature.
pub fn noise(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size);
    like_a_pdf(out)
}

/// For benches: builds `args` (`-p …`, `--bins`) with the release profile and returns the
/// release target directory.
pub fn release_build(args: &[&str]) -> std::path::PathBuf {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A target directory of its own: `cargo bench -p filegate-tests` resolves features for
    // the tests' whole graph, `cargo build -p filegate-local` for the binary's alone, so in
    // one directory each would rebuild what the other just built, on every run.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("bench-binaries");
    let status = std::process::Command::new(cargo)
        .current_dir(&workspace)
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(&target)
        .args(args)
        .status()
        .expect("cargo build");
    assert!(status.success(), "release build failed");
    target.join("release")
}

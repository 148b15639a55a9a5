//! Load: N uploads (declare, PUT 1–2 KiB, finalize) with C in flight through a release
//! `filegate-local` on the embedded emulator, then a check that nothing was lost, the AWS
//! requests each upload cost (counted at the emulator) with a cost model at AWS list prices,
//! and whether latency grows with the data an organisation holds (100 files against 10,000).
//!
//! ```text
//! cargo bench -p filegate-tests --bench load                    # 1,000 uploads, 50 in flight
//! FILEGATE_BENCH_LONG=1 cargo bench -p filegate-tests --bench load    # 10,000
//! FILEGATE_BENCH_UPLOADS=300 FILEGATE_BENCH_IN_FLIGHT=30 cargo bench ...
//! ```

// A benchmark: the tables it prints are its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use filegate_local::emulator::Emulator;
use filegate_local::{DEV_JWT_SECRET, mint_token};
use filegate_tests::release_server::{Server, peak_rss_kib};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let long = std::env::var_os("FILEGATE_BENCH_LONG").is_some();
    let uploads = setting("FILEGATE_BENCH_UPLOADS", if long { 10_000 } else { 1_000 });
    let in_flight = setting("FILEGATE_BENCH_IN_FLIGHT", 50);
    let binary = filegate_tests::release_build(&["-p", "filegate-local"]).join("filegate-local");
    let emulator = Emulator::start(&Emulator::default_python()).expect("moto (scripts/setup)");
    // No periodic sweep during the run: every request counted is an upload's.
    let server = Server::start(
        &binary,
        emulator.endpoint(),
        &[("FILEGATE_LOCAL_SWEEP_SECS", "86400".to_owned())],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let busy = setting("FILEGATE_BENCH_BUSY_FOLDER", 500);
    if std::env::var("FILEGATE_BENCH_ONLY").as_deref() == Ok("busy-folder") {
        runtime.block_on(busy_folder(&Client::new(&server, busy), &emulator, busy));
        return;
    }
    runtime.block_on(run(&server, &emulator, uploads, in_flight));
    runtime.block_on(busy_folder(&Client::new(&server, busy), &emulator, busy));
}

/// How long each step of one upload took.
struct Steps {
    initiate: Duration,
    put: Duration,
    finalize: Duration,
}

struct Client {
    http: reqwest::Client,
    base: String,
    /// `503`s answered and retried, as the error tells a client to.
    retried: std::sync::atomic::AtomicUsize,
}

impl Client {
    fn new(server: &Server, in_flight: usize) -> Self {
        Self {
            http: filegate_tests::http_builder()
                .pool_max_idle_per_host(in_flight)
                .build()
                .unwrap(),
            base: server.base.clone(),
            retried: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends the request `make` builds, again after a backoff while the answer is `503`.
    async fn send(&self, make: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
        let mut backoff = Duration::from_millis(200);
        for _ in 0..6 {
            let response = make().send().await.unwrap();
            if response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
                return response;
            }
            self.retried
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        make().send().await.unwrap()
    }

    /// One upload (declare, PUT, finalize), into `folder` if given; `Err` says which step
    /// failed, and how, once the `503` retries ran out.
    async fn upload(&self, token: &str, i: usize, folder: Option<&str>) -> Result<Steps, String> {
        let size = 1024 + (i * 7919) % 1024;
        let mut bytes: Vec<u8> = (0..size).map(|b| (b * 31 + i) as u8).collect();
        bytes[..5].copy_from_slice(b"%PDF-");
        let started = Instant::now();
        let mut declaration = json!({"name": format!("doc-{i}.pdf"), "content_type": "application/pdf", "size_bytes": size});
        if let Some(folder) = folder {
            declaration["folder"] = json!(folder);
        }
        let created = self
            .send(|| {
                self.http
                    .post(format!("{}/v1/files", self.base))
                    .bearer_auth(token)
                    .json(&declaration)
            })
            .await;
        let status = created.status();
        let created: Value = created.json().await.unwrap();
        let initiate = started.elapsed();
        let Some(id) = created["id"].as_str().map(str::to_owned) else {
            return Err(format!("initiate {status}: {created}"));
        };
        let started = Instant::now();
        let mut put = self.http.put(created["upload"]["url"].as_str().unwrap());
        for (name, value) in created["upload"]["headers"].as_object().unwrap() {
            if name != "content-length" {
                put = put.header(name, value.as_str().unwrap());
            }
        }
        let status = put.body(bytes).send().await.unwrap().status();
        assert!(status.is_success(), "PUT {status}");
        let put = started.elapsed();
        let started = Instant::now();
        let finalized = self
            .send(|| {
                self.http
                    .post(format!("{}/v1/files/{id}/finalize", self.base))
                    .bearer_auth(token)
            })
            .await;
        if !finalized.status().is_success() {
            return Err(format!(
                "finalize {}: {}",
                finalized.status(),
                finalized.text().await.unwrap_or_default()
            ));
        }
        Ok(Steps {
            initiate,
            put,
            finalize: started.elapsed(),
        })
    }

    /// Every file of the token's organisation, by id, with its status.
    async fn all_files(&self, token: &str) -> BTreeMap<String, String> {
        self.files_where(token, &[]).await
    }

    /// Every file of the token's organisation that `filters` (list query parameters) keep,
    /// by id, with its status.
    async fn files_where(&self, token: &str, filters: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = self
                .http
                .get(format!("{}/v1/files", self.base))
                .bearer_auth(token)
                .query(&[("limit", "100")])
                .query(filters);
            if let Some(c) = &cursor {
                request = request.query(&[("cursor", c)]);
            }
            let page: Value = request.send().await.unwrap().json().await.unwrap();
            for file in page["data"].as_array().unwrap() {
                files.insert(
                    file["id"].as_str().unwrap().to_owned(),
                    file["status"].as_str().unwrap().to_owned(),
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return files,
            }
        }
    }

    /// `DELETE path`, retried while `503`: its status.
    async fn delete(&self, token: &str, path: &str) -> reqwest::StatusCode {
        self.send(|| {
            self.http
                .delete(format!("{}{path}", self.base))
                .bearer_auth(token)
        })
        .await
        .status()
    }
}

fn percentile(values: &mut [Duration], p: f64) -> Duration {
    values.sort();
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn request_counts(endpoint: &str) -> BTreeMap<String, f64> {
    reqwest::get(format!("{endpoint}/_filegate/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn run(server: &Server, emulator: &Emulator, uploads: usize, in_flight: usize) {
    let client = &Client::new(server, in_flight);
    let token = mint_token(DEV_JWT_SECRET, "load", "user_1", None, 24 * 3600);
    let token = &token;
    let before = request_counts(emulator.endpoint()).await;

    let started = Instant::now();
    let steps: Vec<Steps> = futures_util::stream::iter(0..uploads)
        .map(|i| async move { client.upload(token, i, None).await.unwrap() })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = started.elapsed();
    // Let the S3 events of the last uploads be handled (and counted) too.
    let mut after = request_counts(emulator.endpoint()).await;
    loop {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = request_counts(emulator.endpoint()).await;
        let settled = now
            .iter()
            .all(|(k, v)| k.starts_with("sqs.") || after.get(k) == Some(v));
        after = now;
        if settled {
            break;
        }
    }

    // Nothing lost: every upload is a row and an object, and nothing else is.
    let files = client.all_files(token).await;
    let uploaded = files.values().filter(|s| *s == "uploaded").count();
    let config = filegate_store::config::Config::from_lookup(|k| match k {
        "AWS_REGION" => Some("us-east-1".into()),
        "AWS_ENDPOINT_URL" => Some(emulator.endpoint().into()),
        "FILEGATE_TABLE" | "FILEGATE_BUCKET" => Some(server.name.clone()),
        _ => None,
    })
    .unwrap();
    let sdk = filegate_store::clients::emulator_sdk_config(&config).await;
    let s3 = filegate_store::clients::s3_client(&sdk, &config);
    let mut objects = BTreeSet::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(&server.name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            let key = object.key().unwrap();
            objects.insert(key.rsplit('/').next().unwrap().to_owned());
        }
    }
    let rows: BTreeSet<String> = files.keys().cloned().collect();
    let orphan_objects = objects.difference(&rows).count();
    let rows_without_object = rows.difference(&objects).count();

    println!("\n### {uploads} uploads, {in_flight} in flight\n");
    println!(
        "| uploads/s | initiate p50 / p99 | PUT p50 / p99 | finalize p50 / p99 | 503s retried | API peak RSS | emulator peak RSS | rows | uploaded | objects | orphan objects | rows without object |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let column = |f: fn(&Steps) -> Duration| {
        let mut values: Vec<Duration> = steps.iter().map(f).collect();
        format!(
            "{} / {}",
            ms(percentile(&mut values, 0.5)),
            ms(percentile(&mut values, 0.99))
        )
    };
    let (initiate, put, finalize) = (
        column(|s| s.initiate),
        column(|s| s.put),
        column(|s| s.finalize),
    );
    println!(
        "| {:.0} | {initiate} | {put} | {finalize} | {} | {:.1} MiB | {:.1} MiB | {} | {uploaded} | {} | {orphan_objects} | {rows_without_object} |",
        uploads as f64 / elapsed.as_secs_f64(),
        client.retried.load(std::sync::atomic::Ordering::Relaxed),
        server.peak_rss_kib() as f64 / 1024.0,
        peak_rss_kib(emulator.pid()) as f64 / 1024.0,
        rows.len(),
        objects.len(),
    );

    let per_upload: BTreeMap<String, f64> = after
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                (v - before.get(k).copied().unwrap_or(0.0)) / uploads as f64,
            )
        })
        .filter(|(_, v)| *v > 0.0)
        .collect();
    cost_model(&per_upload);
    latency_against_data_held(client).await;
}

/// AWS requests per upload, and what a million uploads cost at list prices (us-east-1,
/// December 2026; storage and data transfer not included).
fn cost_model(per_upload: &BTreeMap<String, f64>) {
    println!("\n### AWS requests per upload (counted at the emulator)\n");
    println!("| request | per upload |");
    println!("|---|---:|");
    for (name, n) in per_upload {
        println!("| {name} | {n:.2} |");
    }
    let count = |name: &str| per_upload.get(name).copied().unwrap_or(0.0);
    let of = |service: &str| -> f64 {
        per_upload
            .iter()
            // `dynamodb.TransactWriteItems.items` and `.conflicts` are not requests.
            .filter(|(k, _)| k.starts_with(service) && k.matches('.').count() == 1)
            .map(|(_, v)| v)
            .sum()
    };
    // Lambda: one HTTP invocation each for initiate and finalize, and one SQS batch of up
    // to 10 events; 256 MB arm64, 20 ms billed each (the local API's median is dominated by
    // the emulator, so this is an assumption, not a measurement).
    let invocations = 2.0 + 0.1;
    let lambda = invocations * 0.20 + invocations * 0.020 * 0.25 * 16.6667;
    // HTTP API: initiate and finalize.
    let http_api = 2.0 * 1.00;
    // DynamoDB on demand: a transactional write costs 2 WRU per item (items under 1 KB); each
    // file row written also updates its 4 global secondary indexes (1 WRU each); a
    // consistent read is 1 RRU, a Query page about 1 RRU.
    let transact_items = count("dynamodb.TransactWriteItems.items");
    let file_row_writes = 2.0;
    let wru = 2.0 * transact_items
        + count("dynamodb.UpdateItem")
        + count("dynamodb.PutItem")
        + 4.0 * file_row_writes;
    let rru = count("dynamodb.GetItem") + count("dynamodb.Query");
    let dynamodb = wru * 0.625 + rru * 0.125;
    // S3: PUT, COPY, POST, LIST at $5 per million; GET, HEAD and the rest at $0.40. The
    // event S3 sends to SQS is one more SQS request.
    let s3_class_a = ["s3.PutObject", "s3.PutObjectTagging", "s3.ListObjectsV2"]
        .iter()
        .map(|k| count(k))
        .sum::<f64>();
    let s3_class_b = of("s3.") - s3_class_a - count("s3.DeleteObject");
    let s3 = s3_class_a * 5.0 + s3_class_b * 0.40;
    // SQS standard: $0.40 per million requests; the send by S3, plus the receives and
    // deletes of the event source (the local poller's long polls stand in for Lambda's).
    let sqs = (1.0 + of("sqs.")) * 0.40;
    println!("\n### Modeled cost per million uploads (AWS list prices, us-east-1)\n");
    println!("| service | assumption | per million uploads |");
    println!("|---|---|---:|");
    println!(
        "| Lambda | {invocations:.1} invocations, 256 MB arm64, 20 ms each ($0.20/M requests, $16.67 per M GB-s) | ${lambda:.2} |"
    );
    println!("| API Gateway HTTP API | 2 requests ($1.00/M) | ${http_api:.2} |");
    println!(
        "| DynamoDB on demand | {wru:.1} WRU ($0.625/M), {rru:.1} RRU ($0.125/M) | ${dynamodb:.2} |"
    );
    println!(
        "| S3 | {s3_class_a:.1} PUT-class ($5/M), {s3_class_b:.1} GET-class ($0.40/M); storage not included | ${s3:.2} |"
    );
    println!(
        "| SQS | {:.1} requests ($0.40/M) | ${sqs:.2} |",
        1.0 + of("sqs.")
    );
    println!(
        "| **total** | | **${:.2}** |",
        lambda + http_api + dynamodb + s3 + sqs
    );
}

/// Latency of initiate, finalize, get and one page of list in an organisation holding 100
/// files and in one holding 10,000 (the table holds both, and the load's), rounds
/// interleaved.
async fn latency_against_data_held(client: &Client) {
    const ROUNDS: usize = 30;
    let small = mint_token(DEV_JWT_SECRET, "holds-100", "user_1", None, 24 * 3600);
    let large = mint_token(DEV_JWT_SECRET, "holds-10000", "user_1", None, 24 * 3600);
    // Declared in batches of ten (pending rows: no bytes, no S3 events to wait for); what
    // the measured operations touch does not depend on the files' status.
    for (token, held) in [(&small, 100), (&large, 10_000)] {
        futures_util::stream::iter(0..held / 10)
            .map(|batch| async move {
                let files: Vec<Value> = (0..10)
                    .map(|i| json!({"name": format!("held-{batch}-{i}.pdf"), "content_type": "application/pdf", "size_bytes": 1024}))
                    .collect();
                let r = client
                    .http
                    .post(format!("{}/v1/files/batch", client.base))
                    .bearer_auth(token)
                    .json(&json!({"files": files}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "batch {}", r.status());
            })
            .buffer_unordered(20)
            .collect::<Vec<_>>()
            .await;
    }
    let mut timings: BTreeMap<(&str, usize), Vec<Duration>> = BTreeMap::new();
    for round in 0..ROUNDS {
        for (token, held) in [(&small, 100), (&large, 10_000)] {
            let steps = client.upload(token, 1_000_000 + round, None).await.unwrap();
            timings
                .entry(("initiate", held))
                .or_default()
                .push(steps.initiate);
            timings
                .entry(("finalize", held))
                .or_default()
                .push(steps.finalize);
            let page: Value = client
                .http
                .get(format!("{}/v1/files", client.base))
                .bearer_auth(token)
                .query(&[("limit", "20")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = page["data"][0]["id"].as_str().unwrap().to_owned();
            let started = Instant::now();
            let got = client
                .http
                .get(format!("{}/v1/files/{id}", client.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert!(got.status().is_success());
            timings
                .entry(("get", held))
                .or_default()
                .push(started.elapsed());
            let started = Instant::now();
            let listed = client
                .http
                .get(format!("{}/v1/files", client.base))
                .bearer_auth(token)
                .query(&[("limit", "20")])
                .send()
                .await
                .unwrap();
            assert!(listed.status().is_success());
            timings
                .entry(("list (one page of 20)", held))
                .or_default()
                .push(started.elapsed());
        }
    }
    println!(
        "\n### Latency against the data an organisation holds ({ROUNDS} rounds, interleaved)\n"
    );
    println!("| operation | median at 100 files | median at 10,000 files | ratio |");
    println!("|---|---:|---:|---:|");
    for op in ["initiate", "finalize", "get", "list (one page of 20)"] {
        let small = percentile(timings.get_mut(&(op, 100)).unwrap(), 0.5);
        let large = percentile(timings.get_mut(&(op, 10_000)).unwrap(), 0.5);
        println!(
            "| {op} | {} | {} | {:.2} |",
            ms(small),
            ms(large),
            large.as_secs_f64() / small.as_secs_f64()
        );
    }
}

/// `uploads` uploads at once into one folder, then all of them deleted at once, then the
/// folder. Every file joining or leaving the folder changes what the folder counts, so in
/// AWS these transactions contend for one item: the emulator holds each transaction in
/// flight for [`HOLD_MS`] (DynamoDB's own take milliseconds too) and cancels any that
/// overlaps one in flight with `TransactionConflict`, as DynamoDB does.
async fn busy_folder(client: &Client, emulator: &Emulator, uploads: usize) {
    const HOLD_MS: u64 = 10;
    let token = mint_token(DEV_JWT_SECRET, "busy-folder", "user_1", None, 24 * 3600);
    let token = &token;
    let folder: Value = client
        .http
        .post(format!("{}/v1/folders", client.base))
        .bearer_auth(token)
        .json(&json!({"name": "busy"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let folder = folder["id"].as_str().unwrap().to_owned();
    let hold = |ms: u64| async move {
        let r = filegate_tests::http_builder()
            .build()
            .unwrap()
            .post(format!("{}/_filegate/transactions", emulator.endpoint()))
            .json(&json!({"hold_ms": ms}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    };
    hold(HOLD_MS).await;
    let before = request_counts(emulator.endpoint()).await;

    let started = Instant::now();
    let results: Vec<Result<Steps, String>> = futures_util::stream::iter(0..uploads)
        .map(|i| client.upload(token, i, Some(&folder)))
        .buffer_unordered(uploads)
        .collect()
        .await;
    let upload_seconds = started.elapsed().as_secs_f64();
    let upload_retries = client.retried.swap(0, std::sync::atomic::Ordering::Relaxed);
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let steps: Vec<&Steps> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let in_folder = client.files_where(token, &[("folder", &folder)]).await;
    let uploaded = in_folder.values().filter(|s| *s == "uploaded").count();
    let folder_path = format!("/v1/folders/{folder}");
    let while_full = client.delete(token, &folder_path).await;

    let started = Instant::now();
    let deletes: Vec<reqwest::StatusCode> = futures_util::stream::iter(in_folder.keys())
        .map(|id| async move { client.delete(token, &format!("/v1/files/{id}")).await })
        .buffer_unordered(uploads)
        .collect()
        .await;
    let delete_seconds = started.elapsed().as_secs_f64();
    let delete_retries = client.retried.swap(0, std::sync::atomic::Ordering::Relaxed);
    let deletes_failed = deletes.iter().filter(|s| !s.is_success()).count();
    let when_emptied = client.delete(token, &folder_path).await;
    hold(0).await;
    let after = request_counts(emulator.endpoint()).await;
    let delta =
        |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);

    println!(
        "\n### A busy folder: {uploads} uploads at once into one folder, then {uploads} deletes at once (transactions held {HOLD_MS} ms)\n"
    );
    println!(
        "| uploads failed | 503s retried (uploads / deletes) | transactions | cancelled by TransactionConflict | initiate p50 / p99 | finalize p50 / p99 | uploads took | uploaded in folder | folder delete while full | deletes failed | deletes took | folder delete once empty |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let column = |f: fn(&Steps) -> Duration| {
        let mut values: Vec<Duration> = steps.iter().map(|s| f(s)).collect();
        if values.is_empty() {
            return "-".to_owned();
        }
        format!(
            "{} / {}",
            ms(percentile(&mut values, 0.5)),
            ms(percentile(&mut values, 0.99))
        )
    };
    println!(
        "| {} | {upload_retries} / {delete_retries} | {:.0} | {:.0} | {} | {} | {upload_seconds:.1} s | {uploaded} | {} | {deletes_failed} | {delete_seconds:.1} s | {} |",
        failed.len(),
        delta("dynamodb.TransactWriteItems"),
        delta("dynamodb.TransactWriteItems.conflicts"),
        column(|s| s.initiate),
        column(|s| s.finalize),
        while_full.as_u16(),
        when_emptied.as_u16(),
    );
    for failure in failed.iter().take(3) {
        println!("\nfailed: {failure}");
    }
}

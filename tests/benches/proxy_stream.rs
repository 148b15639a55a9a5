//! The streaming proxy's throughput and memory: a 1 GiB object through `GET /v1/proxy/file`
//! against a direct GET of the same presigned URL from the emulator, in the same run, and the
//! proxy process's peak RSS for a 16 MiB and a 1 GiB object (each in a fresh process).
//!
//! `cargo bench -p filegate-tests --bench proxy_stream` builds the release `filegate-local`,
//! starts moto and prints a table. Everything listens on 127.0.0.1.

// A benchmark: the table it prints is its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use filegate_local::emulator::Emulator;
use filegate_local::{DEV_JWT_SECRET, mint_token};
use filegate_tests::release_server::Server;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

const ROUNDS: usize = 3;
const MIB: u64 = 1 << 20;

fn main() {
    let binary = filegate_tests::release_build(&["-p", "filegate-local"]).join("filegate-local");
    let emulator = Emulator::start(&Emulator::default_python()).expect("moto (scripts/setup)");
    let runtime = tokio::runtime::Runtime::new().unwrap();

    println!(
        "| object | route | median throughput | vs direct GET | proxy peak RSS | proxy CPU per GiB |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for size in [16 * MIB, 1024 * MIB] {
        let server = Server::start(
            &binary,
            emulator.endpoint(),
            // Lambda's 200 MB limit does not apply to the local API.
            &[("FILEGATE_PROXY_MAX_BYTES", (8 * 1024 * MIB).to_string())],
        );
        let idle_rss = server.peak_rss_kib();
        let (direct, proxied, cpu) = runtime.block_on(measure(&server, size));
        let peak = server.peak_rss_kib();
        let label = if size >= 1024 * MIB {
            format!("{} GiB", size / (1024 * MIB))
        } else {
            format!("{} MiB", size / MIB)
        };
        println!(
            "| {label} | direct GET from moto | {:.0} MiB/s | 1.00 | | |",
            direct
        );
        println!(
            "| {label} | through the proxy | {:.0} MiB/s | {:.2} | {:.1} MiB (idle {:.1} MiB) | {:.2} s |",
            proxied,
            proxied / direct,
            peak as f64 / 1024.0,
            idle_rss as f64 / 1024.0,
            cpu
        );
    }
}

/// Median MiB/s of a direct GET and of the proxy, rounds interleaved so that drift in the
/// machine's speed hits both alike; and the proxy process's CPU seconds per GiB proxied.
async fn measure(server: &Server, size: u64) -> (f64, f64, f64) {
    let http = filegate_tests::http_builder().build().unwrap();
    let presigned = upload(&http, &server.base, size).await;
    let proxied = reqwest::Url::parse_with_params(
        &format!("{}/v1/proxy/file", server.base),
        [("presigned_url", presigned.as_str())],
    )
    .unwrap();
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    let mut cpu = 0.0;
    for _ in 0..ROUNDS {
        direct.push(read_all(&http, presigned.as_str(), size).await);
        let before = server.cpu_seconds();
        through.push(read_all(&http, proxied.as_str(), size).await);
        cpu += server.cpu_seconds() - before;
    }
    let gib = (ROUNDS as u64 * size) as f64 / (1024.0 * MIB as f64);
    (median(direct), median(through), cpu / gib)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// GETs `url`, reading and discarding the body as it arrives; MiB/s.
async fn read_all(http: &reqwest::Client, url: &str, size: u64) -> f64 {
    let started = Instant::now();
    let response = http.get(url).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let mut stream = response.bytes_stream();
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        read += chunk.unwrap().len() as u64;
    }
    assert_eq!(read, size);
    (size as f64 / MIB as f64) / started.elapsed().as_secs_f64()
}

/// Declares, PUTs (streamed from a generator, never whole in memory) and finalizes a file;
/// returns a fresh presigned GET for it.
async fn upload(http: &reqwest::Client, base: &str, size: u64) -> String {
    let token = mint_token(DEV_JWT_SECRET, "bench", "user_1", None, 3600);
    let created: Value = http
        .post(format!("{base}/v1/files"))
        .bearer_auth(&token)
        .json(&json!({"name": "bench.bin", "content_type": "application/octet-stream", "size_bytes": size}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("file created").to_owned();
    let mut put = http.put(created["upload"]["url"].as_str().unwrap());
    for (name, value) in created["upload"]["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let chunks = (0..size.div_ceil(MIB)).map(move |i| {
        let len = MIB.min(size - i * MIB) as usize;
        Ok::<_, std::io::Error>(vec![(i % 251) as u8; len])
    });
    let status = put
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "PUT {status}");
    let finalized = http
        .post(format!("{base}/v1/files/{id}/finalize"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        finalized.status().is_success(),
        "finalize {}",
        finalized.status()
    );
    let download: Value = http
        .post(format!("{base}/v1/files/{id}/download_url"))
        .bearer_auth(&token)
        .json(&json!({"expires_in": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    download["url"].as_str().unwrap().to_owned()
}

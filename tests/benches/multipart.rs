//! Uploading 1 GiB through the local API: one presigned PUT against a multipart upload with 1,
//! 4 and 8 parts in flight, rounds interleaved in one run. Each upload runs in a fresh client
//! process (this binary, started again), so that its peak RSS is its own; the API's peak RSS
//! shows that the bytes never pass through it.
//!
//! `cargo bench -p filegate-tests --bench multipart` builds the release `filegate-local`,
//! starts moto and prints a table. Everything listens on 127.0.0.1.

// A benchmark: the table it prints is its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;
use std::time::Instant;

use filegate_local::emulator::Emulator;
use filegate_local::{DEV_JWT_SECRET, mint_token};
use filegate_tests::release_server::{Server, peak_rss_kib};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

const ROUNDS: usize = 3;
const MIB: u64 = 1 << 20;
const SIZE: u64 = 1024 * MIB;
/// 0: one PUT; n: multipart with n parts in flight.
const MODES: [usize; 4] = [0, 1, 4, 8];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("client") {
        return client(&args[2], args[3].parse().unwrap());
    }
    let binary = filegate_tests::release_build(&["-p", "filegate-local"]).join("filegate-local");
    let emulator = Emulator::start(&Emulator::default_python()).expect("moto (scripts/setup)");
    // Above the default threshold (100 MiB) every file is multipart: let 1 GiB go in one PUT
    // unless the client asks for parts.
    let server = Server::start(
        &binary,
        emulator.endpoint(),
        &[("FILEGATE_MULTIPART_THRESHOLD", (5 * SIZE).to_string())],
    );
    let idle = server.peak_rss_kib();
    let mut results: Vec<Vec<(f64, f64, u64)>> = vec![Vec::new(); MODES.len()];
    for round in 0..ROUNDS {
        for (i, mode) in MODES.iter().enumerate() {
            let out = Command::new(std::env::current_exe().unwrap())
                .args(["client", &server.base, &mode.to_string()])
                .output()
                .expect("client");
            assert!(
                out.status.success(),
                "client {mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8(out.stdout).unwrap();
            let mut fields = line.split_whitespace();
            let upload: f64 = fields.next().unwrap().parse().unwrap();
            let finalize: f64 = fields.next().unwrap().parse().unwrap();
            let rss: u64 = fields.next().unwrap().parse().unwrap();
            eprintln!("round {round} mode {mode}: {upload:.2} s + finalize {finalize:.2} s");
            results[i].push((upload, finalize, rss));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let throughput: Vec<f64> = results
        .iter()
        .map(|r| {
            median(
                r.iter()
                    .map(|(s, _, _)| SIZE as f64 / MIB as f64 / s)
                    .collect(),
            )
        })
        .collect();
    // Declaration to `uploaded`: the finalize of a multipart file completes the upload, which
    // costs moto (it joins the parts in Python) far more than it costs S3.
    let end_to_end: Vec<f64> = results
        .iter()
        .map(|r| median(r.iter().map(|(s, f, _)| s + f).collect()))
        .collect();
    println!(
        "| 1 GiB upload | median upload throughput | vs one PUT | median finalize | declaration to uploaded | client peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, mode) in MODES.iter().enumerate() {
        let label = match mode {
            0 => "one presigned PUT".to_owned(),
            n => format!("multipart, {n} part(s) in flight"),
        };
        let finalize = median(results[i].iter().map(|(_, f, _)| *f).collect());
        let rss = results[i].iter().map(|(_, _, r)| *r).max().unwrap();
        println!(
            "| {label} | {:.0} MiB/s | {:.2} | {:.2} s | {:.2} s | {:.1} MiB |",
            throughput[i],
            throughput[i] / throughput[0],
            finalize,
            end_to_end[i],
            rss as f64 / 1024.0
        );
    }
    println!(
        "\nAPI (filegate-local) peak RSS: {:.1} MiB after {} GiB uploaded (idle {:.1} MiB)",
        server.peak_rss_kib() as f64 / 1024.0,
        ROUNDS * MODES.len(),
        idle as f64 / 1024.0
    );
}

/// One upload of [`SIZE`] bytes to `base` (mode as in [`MODES`]), generated as it is sent and
/// never whole in memory; prints the upload's and the finalize's seconds and the process's
/// peak RSS in KiB, then deletes the file so the emulator does not keep the bytes.
fn client(base: &str, mode: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (upload, finalize) = runtime.block_on(async {
        let http = filegate_tests::http_builder().build().unwrap();
        let token = mint_token(DEV_JWT_SECRET, "bench", "user_1", None, 3600);
        let started = Instant::now();
        let mut declaration = json!({"name": "bench.bin", "content_type": "application/octet-stream", "size_bytes": SIZE});
        declaration["multipart"] = (mode > 0).into();
        let created: Value = http
            .post(format!("{base}/v1/files"))
            .bearer_auth(&token)
            .json(&declaration)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().expect("file created").to_owned();
        if mode == 0 {
            let ticket = &created["upload"];
            put(&http, ticket["url"].as_str().unwrap(), &ticket["headers"], 0, SIZE).await;
        } else {
            let part_size: u64 = created["upload"]["part_size"].as_str().unwrap().parse().unwrap();
            let count = created["upload"]["part_count"].as_u64().unwrap();
            let mut tickets = Vec::new();
            for first in (1..=count).step_by(100) {
                let parts: Vec<Value> = (first..=count.min(first + 99))
                    .map(|n| json!({"part_number": n}))
                    .collect();
                let signed: Value = http
                    .post(format!("{base}/v1/files/{id}/parts"))
                    .bearer_auth(&token)
                    .json(&json!({ "parts": parts }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                tickets.extend(signed["data"].as_array().unwrap().iter().cloned());
            }
            futures_util::stream::iter(tickets.iter().map(|t| {
                let http = &http;
                async move {
                    let n = t["part_number"].as_u64().unwrap();
                    let offset = (n - 1) * part_size;
                    let len = part_size.min(SIZE - offset);
                    put(http, t["url"].as_str().unwrap(), &t["headers"], offset, len).await;
                    Ok::<_, ()>(())
                }
            }))
            .buffer_unordered(mode)
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        }
        let uploaded = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let finalized = http
            .post(format!("{base}/v1/files/{id}/finalize"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(finalized.status().is_success(), "finalize {}", finalized.status());
        let finalize = started.elapsed().as_secs_f64();
        let deleted = http
            .delete(format!("{base}/v1/files/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "delete {}", deleted.status());
        (uploaded, finalize)
    });
    println!("{upload} {finalize} {}", peak_rss_kib(std::process::id()));
}

/// PUTs `len` bytes (those at `offset` of the bench's file) to a presigned URL, with its
/// headers, streamed in 1 MiB chunks.
async fn put(http: &reqwest::Client, url: &str, headers: &Value, offset: u64, len: u64) {
    let mut request = http.put(url);
    for (name, value) in headers.as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    let chunks = (0..len.div_ceil(MIB)).map(move |i| {
        let start = offset + i * MIB;
        let n = MIB.min(len - i * MIB) as usize;
        Ok::<_, std::io::Error>(vec![((start / MIB) % 251) as u8; n])
    });
    let status = request
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "PUT {status}");
}

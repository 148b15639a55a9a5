//! Cold start: time from `exec` to the function's first `GET /runtime/invocation/next`, i.e.
//! everything the function does before it can take a request (config, AWS clients, router).
//! A fake Lambda Runtime API on 127.0.0.1 records that moment; nothing leaves the machine.
//!
//! `cargo bench -p filegate-tests --bench cold_start` builds the release binaries and prints a
//! table; the budget is 1.5x the hello-world `lambda_http` binary's median.

// A benchmark: the table it prints is its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 40;
const BINARIES: &[&str] = &[
    "hello_lambda",
    "presign",
    "finalize",
    "auto-finalize",
    "metadata",
    "proxy",
];
/// The functions that verify callers, again configured for a JWKS-only identity provider
/// (keys are fetched on first need, so init should not change).
const WITH_JWKS: &[&str] = &["presign", "finalize", "metadata", "proxy"];

/// The HS256 secret every run gets, or a JWKS URL and cursor secret in its place.
#[derive(Clone, Copy)]
enum Identity {
    Hs256,
    Jwks,
}

fn main() {
    let target = filegate_tests::release_build(&[
        "-p",
        "filegate-presign",
        "-p",
        "filegate-finalize",
        "-p",
        "filegate-metadata",
        "-p",
        "filegate-proxy",
        "-p",
        "filegate-tests",
        "--bins",
    ]);

    // Rounds interleave the binaries, so drift in the machine's speed (it is shared) hits all
    // of them alike and the ratios stay comparable. One unmeasured round warms the page cache.
    let runs: Vec<(String, PathBuf, Identity)> = BINARIES
        .iter()
        .map(|name| (name.to_string(), target.join(name), Identity::Hs256))
        .chain(
            WITH_JWKS
                .iter()
                .map(|name| (format!("{name} (JWKS)"), target.join(name), Identity::Jwks)),
        )
        .collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(RUNS); runs.len()];
    for round in 0..=RUNS {
        for (i, (_, path, identity)) in runs.iter().enumerate() {
            let t = init_time(path, *identity);
            if round > 0 {
                samples[i].push(t);
            }
        }
    }
    println!("| binary | stripped size | init median | init p90 | vs hello-world (median) |");
    println!("|---|---:|---:|---:|---:|");
    let median_of = |v: &mut Vec<Duration>| {
        v.sort();
        (v[RUNS / 2], v[RUNS * 9 / 10])
    };
    let (baseline, _) = median_of(&mut samples[0].clone());
    for ((name, path, _), runs) in runs.iter().zip(samples.iter_mut()) {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let (median, p90) = median_of(runs);
        println!(
            "| {name} | {:.1} MiB | {:.2} ms | {:.2} ms | {:.2}x |",
            size as f64 / (1024.0 * 1024.0),
            ms(median),
            ms(p90),
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Starts the binary against a fake Runtime API and returns the time to its first `/next`.
fn init_time(binary: &Path, identity: Identity) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let started = Instant::now();
    let mut command = Command::new(binary);
    command.env_clear();
    match identity {
        Identity::Hs256 => command.env(
            "FILEGATE_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret",
        ),
        Identity::Jwks => command
            .env(
                "FILEGATE_JWT_JWKS_URL",
                "https://idp.example.com/.well-known/jwks.json",
            )
            .env("FILEGATE_JWT_ISSUER", "https://idp.example.com/")
            .env(
                "FILEGATE_CURSOR_SECRET",
                "bench-cursor-bench-cursor-bench-cursor",
            ),
    };
    let mut child = command
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "bench")
        .env("FILEGATE_TABLE", "filegate")
        .env("FILEGATE_BUCKET", "filegate-files")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function");
    let (stream, _) = listener
        .accept()
        .expect("the function calls the Runtime API");
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    let elapsed = started.elapsed();
    assert!(
        line.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "{line}"
    );
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

//! The cost of verifying JWKS tokens: the first request of a container, which fetches the
//! identity provider's keys, against the requests after it and against an HS256 request.
//!
//! `FILEGATE_MOTO_PYTHON=.venv/bin/python cargo bench -p filegate-tests --bench identity`
//! prints a table. Each round is a new app (a new container: an empty key cache) against the
//! one emulator and a JWKS server in this process on 127.0.0.1; the request is
//! `GET /v1/files` (authentication plus one DynamoDB query). Over loopback the fetch is plain
//! HTTP; in AWS add the provider's DNS, TCP and TLS round trips.

// A benchmark: the table it prints is its result.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use filegate_tests::identity_provider::{JwksServer, TestSigningKey};
use filegate_tests::{TestApp, TestOptions, spawn_app_with};
use serde_json::json;

const ROUNDS: usize = 30;

async fn timed(app: &TestApp, token: &str) -> Duration {
    let started = Instant::now();
    let r = app
        .http
        .get(format!("{}/v1/files", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.bytes().await.unwrap();
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let idp = JwksServer::start().await;
    let keys = [
        TestSigningKey::rs256("bench-rsa", 0),
        TestSigningKey::es256("bench-ec"),
        TestSigningKey::eddsa("bench-ed"),
    ];
    idp.publish(&keys.iter().collect::<Vec<_>>());
    let labels = [
        "first JWKS request (fetches the keys)",
        "later RS256 request",
        "later ES256 request",
        "later EdDSA request",
        "HS256 request",
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); labels.len()];
    for round in 0..=ROUNDS {
        let app = spawn_app_with(TestOptions {
            settings: vec![
                ("FILEGATE_JWT_JWKS_URL", idp.url()),
                ("FILEGATE_JWT_ISSUER", "https://idp.test".to_owned()),
            ],
            ..Default::default()
        })
        .await;
        let claims = json!({"sub": "bench", "org": app.org, "iss": "https://idp.test",
            "exp": filegate_domain::timestamp::Timestamp::now().unix_seconds() + 3600});
        let fetches = idp.fetches();
        // The first request of the round names a key by turns, so each algorithm pays once.
        let first = &keys[round % keys.len()];
        let t = timed(&app, &first.sign(&claims)).await;
        assert_eq!(idp.fetches(), fetches + 1);
        let mut later = vec![t];
        let hs256 = app.token();
        // Later requests in an order that turns with the round, so drift hits all alike.
        let order: Vec<usize> = (0..4).map(|i| (i + round) % 4).collect();
        let mut by_kind = [Duration::ZERO; 4];
        for kind in order {
            by_kind[kind] = match kind {
                3 => timed(&app, &hs256).await,
                k => timed(&app, &keys[k].sign(&claims)).await,
            };
        }
        later.extend(by_kind);
        assert_eq!(idp.fetches(), fetches + 1, "one fetch per container");
        if round > 0 {
            for (s, t) in samples.iter_mut().zip(later) {
                s.push(t);
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let baseline = median(&mut samples[4].clone());
    println!("| request | median | p90 | vs HS256 (median) |");
    println!("|---|---:|---:|---:|");
    for (label, runs) in labels.iter().zip(samples.iter_mut()) {
        let m = median(runs);
        let p90 = runs[runs.len() * 9 / 10];
        println!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2}x |",
            m.as_secs_f64() * 1000.0,
            p90.as_secs_f64() * 1000.0,
            m.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

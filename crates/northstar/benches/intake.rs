//! The public intake under load:
//!
//! 1. sealed requests (the browser path: sealed, proof of work solved) accepted
//!    per second with a durable commit, beside the raw durable insert rate of a
//!    SQLite file in the same folder, measured in the same run with the same
//!    number of writers;
//! 2. the latency of a staff request (`GET /api/intake/items`) while a second
//!    process floods the intake on loopback with junk requests and form posts.
//!
//! `cargo bench -p northstar --bench intake` runs it at full size. Without
//! `--bench` (as under `cargo test --all-targets`) it runs small and checks
//! its results, so the benchmark itself cannot rot.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/server.rs"]
mod server;

use std::time::{Duration, Instant};

use base64::Engine;
use northstar_client::Profile;
use northstar_crypto::intake;
use rand::RngCore;
use rand::rngs::OsRng;

const PASSPHRASE: &str = "benchmark passphrase, long enough";
const FLOOD_ENV: &str = "NORTHSTAR_BENCH_FLOOD";
/// Requests in flight at once, in both the accepted-rate run and the raw probe.
const WRITERS: usize = 8;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if let Ok(spec) = std::env::var(FLOOD_ENV) {
        let (url, seconds) = spec.split_once(' ').expect("URL SECONDS");
        runtime.block_on(flood(url, seconds.parse().expect("seconds")));
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    runtime.block_on(run(full));
}

/// An organization with its help desk open; returns the admin, signed in.
async fn organization(url: &str, profile_dir: &std::path::Path) -> northstar_client::Unlocked {
    let mut profile = Profile::load(profile_dir).unwrap();
    let (unlocked, _) = northstar_client::org_init(url, &mut profile, "Bench", "ada", PASSPHRASE)
        .await
        .unwrap();
    northstar_client::intake::keep_desk(&unlocked, &mut profile)
        .await
        .unwrap();
    unlocked
}

/// Ready-to-send browser-path requests: each sealed to the intake key with its
/// own solved challenge. The access hash and reply key are random bytes (the
/// server cannot tell), so preparing them costs no Argon2id per request.
async fn prepared_requests(url: &str, count: usize) -> Vec<serde_json::Value> {
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let config: serde_json::Value = http
            .get(format!("{url}/api/intake/config"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let org = northstar_crypto::OrgId::from_hex(config["org_id"].as_str().unwrap()).unwrap();
        let public: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(config["public_key"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(config["pow_challenge"].as_str().unwrap())
            .unwrap();
        let mut conversation = [0u8; 16];
        OsRng.fill_bytes(&mut conversation);
        let text = serde_json::json!({
            "contact": "signal", "when": "evenings", "where": "Kazan",
            "what": format!("request {i}: {}", "they came to my flat again and took my passport; ".repeat(4)),
            "urgency": "urgent", "lang": "en",
        });
        let sealed = intake::seal_request(
            &org,
            config["generation"].as_u64().unwrap() as u32,
            &public,
            &conversation,
            text.to_string().as_bytes(),
            &mut OsRng,
        )
        .unwrap();
        let (mut access, mut reply) = ([0u8; 32], [0u8; 32]);
        OsRng.fill_bytes(&mut access);
        OsRng.fill_bytes(&mut reply);
        let nonce = intake::pow_solve(&challenge, config["pow_bits"].as_u64().unwrap() as u8);
        out.push(serde_json::json!({
            "conversation_id": northstar_crypto::ids::to_hex(&conversation),
            "sealed": b64(&sealed),
            "access_hash": b64(&access),
            "reply_public": b64(&reply),
            "pow": {"challenge": config["pow_challenge"], "nonce": nonce},
        }));
    }
    out
}

/// Send every request, `WRITERS` at a time; returns accepted per second.
async fn submit_all(url: &str, requests: Vec<serde_json::Value>) -> f64 {
    let http = reqwest::Client::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(requests));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let (http, queue, url) = (http.clone(), queue.clone(), url.to_owned());
        tasks.spawn(async move {
            let mut accepted = 0usize;
            loop {
                let Some(body) = queue.lock().unwrap().pop() else {
                    return accepted;
                };
                let res = http
                    .post(format!("{url}/api/intake/requests"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
                accepted += 1;
            }
        });
    }
    let mut accepted = 0;
    while let Some(n) = tasks.join_next().await {
        accepted += n.unwrap();
    }
    accepted as f64 / start.elapsed().as_secs_f64()
}

/// The flooding process: junk requests (no valid proof) and form posts, as fast
/// as 32 connections go, for `seconds`. Prints what it got back.
async fn flood(url: &str, seconds: u64) {
    let http = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let (http, url) = (http.clone(), url.to_owned());
        tasks.spawn(async move {
            let mut statuses: std::collections::BTreeMap<u16, u64> = Default::default();
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let res = if (n + worker).is_multiple_of(4) {
                    http.post(format!("{url}/help"))
                        .form(&[("what", "junk <script>x</script>"), ("contact", "nobody")])
                        .send()
                        .await
                } else {
                    let mut junk = [0u8; 64];
                    OsRng.fill_bytes(&mut junk);
                    http.post(format!("{url}/api/intake/requests"))
                        .json(&serde_json::json!({
                            "conversation_id": northstar_crypto::ids::to_hex(&junk[..16]),
                            "sealed": b64(&[b"NSIN\x01\x01\x00\x00\x00\x00".as_slice(), &junk].concat()),
                            "access_hash": b64(&junk[..32]),
                            "reply_public": b64(&junk[32..]),
                            "pow": {"challenge": b64(&junk[..40]), "nonce": n},
                        }))
                        .send()
                        .await
                };
                if let Ok(r) = res {
                    *statuses.entry(r.status().as_u16()).or_default() += 1;
                }
            }
            statuses
        });
    }
    let mut total: std::collections::BTreeMap<u16, u64> = Default::default();
    while let Some(s) = tasks.join_next().await {
        for (k, v) in s.unwrap() {
            *total.entry(k).or_default() += v;
        }
    }
    println!("{}", serde_json::to_string(&total).unwrap());
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(full: bool) {
    let (count, flood_seconds, staff_requests) = if full { (3_000, 20, 400) } else { (150, 3, 40) };
    let dir = tempfile::tempdir().unwrap();

    // 1. Accepted sealed requests per second against the raw durable insert rate.
    let running = server::serve(
        &dir.path().join("throughput"),
        northstar_server::IntakeSettings {
            pow_bits: 8,
            requests_per_second: 1e9,
        },
    )
    .await;
    organization(&running.url, &dir.path().join("profile-1")).await;
    let requests = prepared_requests(&running.url, count).await;
    let sealed_len = requests[0]["sealed"].as_str().unwrap().len() * 3 / 4;
    let accepted = submit_all(&running.url, requests).await;
    running.stop().await;
    let raw = northstar_store_sqlite::SqliteStore::durable_insert_rate(
        &dir.path().join("throughput/raw-probe.sqlite3"),
        count,
        sealed_len,
        WRITERS,
    )
    .await
    .unwrap();
    println!(
        "intake, browser path: {count} sealed requests ({sealed_len} B) accepted at {accepted:.0}/s with a durable commit each, \
         = {:.0}% of the raw durable insert rate of the same disk ({raw:.0} single-row commits/s, {WRITERS} writers) [target ≥ 40%]",
        100.0 * accepted / raw
    );

    // 2. A staff request's latency while a second process floods the intake.
    let running = server::serve(
        &dir.path().join("flood"),
        northstar_server::IntakeSettings::default(),
    )
    .await;
    let admin = organization(&running.url, &dir.path().join("profile-2")).await;
    let quiet = staff_latencies(&admin, staff_requests / 4).await;
    let flooder = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(FLOOD_ENV, format!("{} {flood_seconds}", running.url))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let flooded = staff_latencies(&admin, staff_requests).await;
    let flood_out = flooder.wait_with_output().await.unwrap();
    assert!(flood_out.status.success(), "the flooding process failed");
    let flood_report: std::collections::BTreeMap<String, u64> =
        serde_json::from_slice(flood_out.stdout.trim_ascii()).unwrap();
    let flood_total: u64 = flood_report.values().sum();
    running.stop().await;
    println!(
        "staff GET /api/intake/items, quiet: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&quiet, 0.5),
        percentile(&quiet, 0.99)
    );
    println!(
        "staff GET /api/intake/items during a flood of {flood_total} requests in {flood_seconds} s from a second process \
         ({:.0}/s; answers by status {flood_report:?}): p50 {:.1} ms, p99 {:.1} ms [target p99 < 100 ms]",
        flood_total as f64 / flood_seconds as f64,
        percentile(&flooded, 0.5),
        percentile(&flooded, 0.99)
    );
    // The figures must make sense even when small, so the benchmark cannot rot.
    assert!(accepted > 0.0 && raw > 0.0);
    assert!(
        flood_report.contains_key("429"),
        "the flood met the intake's limits: {flood_report:?}"
    );
    assert!(
        !flood_report.keys().any(|s| s.starts_with('5')),
        "no server error under the flood"
    );
}

/// Sequential staff requests, spread over the flood; milliseconds, sorted.
async fn staff_latencies(admin: &northstar_client::Unlocked, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        admin.api.intake_items().await.unwrap();
        out.push(start.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out.sort_by(f64::total_cmp);
    out
}

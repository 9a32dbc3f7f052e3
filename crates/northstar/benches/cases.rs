//! One member with 100,000 cases, one summary record each: cold sync into the
//! local cache, offline unlock, list and search — each printed beside the raw
//! Ed25519-verify and XChaCha20-Poly1305 limits measured in the same run.
//!
//! `cargo bench -p northstar --bench cases` runs it at full size
//! (`NORTHSTAR_BENCH_CASES` changes the count). Without `--bench` (as under
//! `cargo test --all-targets`) it runs on 300 cases and checks its results,
//! so the benchmark itself cannot rot.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/many.rs"]
mod many;
#[path = "support/server.rs"]
mod server;

#[path = "../tests/support/seed.rs"]
mod seed;

use std::time::{Duration, Instant};

use northstar_client::Profile;
use northstar_client::sync::{LocalCache, Scope};
use rand::rngs::OsRng;

const PASSPHRASE: &str = "benchmark passphrase, long enough";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count: usize = match std::env::var("NORTHSTAR_BENCH_CASES") {
        Ok(v) => v.parse().expect("NORTHSTAR_BENCH_CASES is a number"),
        Err(_) if full => 100_000,
        Err(_) => 300,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(count, full));
}

/// Operations per second of `op` over about `budget`, on `threads` threads at once.
fn rate(threads: usize, budget: Duration, op: impl Fn() + Sync) -> f64 {
    let start = Instant::now();
    let done: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0usize;
                    while start.elapsed() < budget {
                        for _ in 0..64 {
                            op();
                        }
                        n += 64;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    done as f64 / start.elapsed().as_secs_f64()
}

struct Limits {
    cores: usize,
    verify_1: f64,
    open_1: f64,
    verify_n: f64,
    open_n: f64,
    /// Opening a grant's 32-byte key: what a kept grant costs its owner.
    open_key_n: f64,
    dh_n: f64,
}

/// The machine's raw limits for what a sync must do per record.
fn measure_limits(record_len: usize) -> Limits {
    use chacha20poly1305::aead::{Aead, KeyInit};
    use ed25519_dalek::{Signer, SigningKey, Verifier};
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let signing = SigningKey::generate(&mut OsRng);
    let message = vec![7u8; 200];
    let signature = signing.sign(&message);
    let verifying = signing.verifying_key();
    let verify = || {
        verifying
            .verify(std::hint::black_box(&message), &signature)
            .unwrap()
    };
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&[9u8; 32].into());
    let nonce = [3u8; 24].into();
    let sealed = cipher
        .encrypt(&nonce, vec![1u8; record_len].as_slice())
        .unwrap();
    let open = || {
        cipher
            .decrypt(&nonce, std::hint::black_box(sealed.as_slice()))
            .unwrap();
    };
    let sealed_key = cipher.encrypt(&nonce, [5u8; 32].as_slice()).unwrap();
    let open_key = || {
        cipher
            .decrypt(&nonce, std::hint::black_box(sealed_key.as_slice()))
            .unwrap();
    };
    let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
    let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::random_from_rng(OsRng));
    let dh = || {
        std::hint::black_box(secret.diffie_hellman(std::hint::black_box(&public)));
    };
    let budget = Duration::from_millis(700);
    Limits {
        cores,
        verify_1: rate(1, budget, verify),
        open_1: rate(1, budget, open),
        verify_n: rate(cores, budget, verify),
        open_n: rate(cores, budget, open),
        open_key_n: rate(cores, budget, open_key),
        dh_n: rate(cores, budget, dh),
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn run(count: usize, full: bool) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("server");
    let running = server::serve(&data_dir, Default::default()).await;
    let url = running.url.clone();

    let profile_dir = dir.path().join("profile");
    let mut profile = Profile::load(&profile_dir).unwrap();
    northstar_client::org_init(&url, &mut profile, "Bench", "ada", PASSPHRASE)
        .await
        .unwrap();
    let unlocked = northstar_client::login(&url, &mut profile, "ada", PASSPHRASE)
        .await
        .unwrap();

    // Seal the cases as a client would, on every core, then write them behind
    // the server in one transaction.
    let seal_started = Instant::now();
    let rows = many::seal_numbered_cases(&unlocked, count);
    let record_len = rows[0].2[0].entry.len();
    let tamper = northstar_store_sqlite::tamper::Tamper::open(&data_dir.join("northstar.sqlite3"))
        .await
        .unwrap();
    tamper.seed_cases(&rows).await.unwrap();
    drop(rows);
    let seeded_in = seal_started.elapsed();

    let limits = measure_limits(record_len);

    // Cold sync: an empty cache, every case fetched, verified, opened, sealed.
    let chain = northstar_client::verified_chain(&unlocked.api, &mut profile)
        .await
        .unwrap();
    let cache = LocalCache::open(profile.dir(), &unlocked.root, unlocked.account)
        .await
        .unwrap();
    let started = Instant::now();
    let report = northstar_client::sync::sync(&unlocked, &cache, &chain, Scope::All)
        .await
        .unwrap();
    let cold_sync = started.elapsed();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(report.entries as usize, count);
    let started = Instant::now();
    let again = northstar_client::sync::sync(&unlocked, &cache, &chain, Scope::All)
        .await
        .unwrap();
    let warm_sync = started.elapsed();
    assert_eq!(again.updated, 0);
    cache.close().await;

    // Offline unlock, then list and search from the cache alone.
    let started = Instant::now();
    let keys = northstar_client::unlock_offline(&mut profile, PASSPHRASE).unwrap();
    let cache = LocalCache::open(profile.dir(), &keys.root, keys.account)
        .await
        .unwrap();
    let unlock = started.elapsed();
    let started = Instant::now();
    let listed = cache.listings().await.unwrap();
    let list = started.elapsed();
    assert_eq!(listed.len(), count);
    let started = Instant::now();
    let hits: Vec<_> = cache
        .listings()
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.matches(many::NEEDLE))
        .collect();
    let search = started.elapsed();
    assert_eq!(hits.len(), 1, "exactly the one case holding the needle");
    cache.close().await;
    running.stop().await;

    let per_s = |d: Duration| count as f64 / d.as_secs_f64();
    let raw_1 = 1.0 / (1.0 / limits.verify_1 + 1.0 / limits.open_1);
    let raw_n = 1.0 / (1.0 / limits.verify_n + 1.0 / limits.open_n);
    // A one-record case also carries its grant. The member's own (kept, crypto §9.1)
    // costs one AEAD of a 32-byte key; one from another member would cost another
    // verify, an X25519 and an AEAD.
    let floor_n = 1.0 / (1.0 / limits.verify_n + 1.0 / limits.open_n + 1.0 / limits.open_key_n);
    let floor_shared_n = 1.0 / (2.0 / limits.verify_n + 2.0 / limits.open_n + 1.0 / limits.dh_n);
    let sync_rate = per_s(cold_sync);
    println!();
    println!(
        "{count} cases, one summary record each ({record_len}-byte entries), {} cores",
        limits.cores
    );
    println!(
        "seeded (sealed on every core + one transaction) in {:.1} s",
        seeded_in.as_secs_f64()
    );
    println!();
    println!("{:<46} {:>12} {:>14}", "measure", "figure", "beside");
    println!(
        "{:<46} {:>10.2} s {:>11.0}/s  = {:.0}% of raw verify+open on 1 core ({:.0}/s), {:.0}% on {} cores ({:.0}/s)",
        "cold sync (fetch, verify, open, seal, write)",
        cold_sync.as_secs_f64(),
        sync_rate,
        100.0 * sync_rate / raw_1,
        raw_1,
        100.0 * sync_rate / raw_n,
        limits.cores,
        raw_n
    );
    println!(
        "{:<46} {:>12} {:>14}  = {:.0}% of the raw floor per case incl. its kept grant on {} cores ({:.0}/s)",
        "",
        "",
        "",
        100.0 * sync_rate / floor_n,
        limits.cores,
        floor_n
    );
    println!(
        "{:<46} {:>12} {:>14}  (a case granted by another member would add a verify and an X25519: floor {:.0}/s)",
        "", "", "", floor_shared_n
    );
    println!(
        "{:<46} {:>10.3} s",
        "sync again, nothing changed",
        warm_sync.as_secs_f64()
    );
    println!(
        "{:<46} {:>10.3} s  (Argon2id m=64 MiB t=3 p=4 + slot + cache open)",
        "unlock offline",
        unlock.as_secs_f64()
    );
    println!(
        "{:<46} {:>10.3} s {:>11.0}/s  listings opened",
        "list from the cache",
        list.as_secs_f64(),
        per_s(list)
    );
    println!(
        "{:<46} {:>10.3} s",
        "search the cache",
        search.as_secs_f64()
    );
    println!(
        "{:<46} {:>10.3} s  (target: under 1 s)",
        "unlock + search",
        (unlock + search).as_secs_f64()
    );
    println!(
        "raw limits: Ed25519 verify {:.0}/s (1 core), {:.0}/s ({} cores); XChaCha20-Poly1305 open of {record_len} B {:.0}/s (1 core), {:.0}/s ({} cores); X25519 {:.0}/s ({} cores)",
        limits.verify_1,
        limits.verify_n,
        limits.cores,
        limits.open_1,
        limits.open_n,
        limits.cores,
        limits.dh_n,
        limits.cores
    );
    if let Some(mib) = peak_rss_mib() {
        println!(
            "peak resident memory of the whole run (server, seeding and client): {mib:.0} MiB"
        );
    }
    if !full {
        println!(
            "(a check run on {count} cases; `cargo bench -p northstar --bench cases` for the full size)"
        );
    }
}

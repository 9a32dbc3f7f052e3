//! The staff web app with 10,000 cases in headless Chromium: unlock and the
//! first page of the list, and a search keystroke over them (targets: under
//! 2 s and under 50 ms), each printed beside the floor measured in the same
//! browser (the cache's rows read back untouched; a bare scan of as many
//! strings). The cold first sign-in, which fetches and verifies every case,
//! is printed too.
//!
//! `cargo bench -p northstar --bench webapp` runs it at full size
//! (`NORTHSTAR_BENCH_CASES` changes the count). Without `--bench` (as under
//! `cargo test --all-targets`) it runs on 200 cases and checks its results.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/many.rs"]
mod many;
#[path = "support/server.rs"]
mod server;

#[path = "../tests/support/seed.rs"]
mod seed;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use northstar_client::Profile;

const PASSPHRASE: &str = "benchmark passphrase, long enough";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let count: usize = match std::env::var("NORTHSTAR_BENCH_CASES") {
        Ok(v) => v.parse().expect("NORTHSTAR_BENCH_CASES is a number"),
        Err(_) if full => 10_000,
        Err(_) => 200,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(count, full));
}

async fn run(count: usize, full: bool) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("server");
    let running = server::serve(&data_dir, Default::default()).await;
    let url = running.url.clone();

    let mut profile = Profile::load(&dir.path().join("profile")).unwrap();
    northstar_client::org_init(&url, &mut profile, "Bench", "ada", PASSPHRASE)
        .await
        .unwrap();
    let unlocked = northstar_client::login(&url, &mut profile, "ada", PASSPHRASE)
        .await
        .unwrap();
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rows = many::seal_numbered_cases(&unlocked, count);
    let tamper = northstar_store_sqlite::tamper::Tamper::open(&data_dir.join("northstar.sqlite3"))
        .await
        .unwrap();
    tamper.seed_cases(&rows).await.unwrap();
    drop(rows);
    let seeded = started.elapsed();

    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
    let out = Command::new("node")
        .arg(web.join("e2e/bench.mjs"))
        .args([
            url.as_str(),
            "ada",
            PASSPHRASE,
            &count.to_string(),
            many::NEEDLE,
        ])
        .current_dir(&web)
        .output()
        .expect("node is installed (cargo xtask test installs Chromium and the npm packages)");
    running.stop().await;
    assert!(
        out.status.success(),
        "bench.mjs failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let f: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bench.mjs printed no JSON ({e}): {stdout}"));
    let ms = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {f}"));
    assert_eq!(f["search_rows"], 1, "the keystroke finds the one case: {f}");
    assert_eq!(
        f["scan_hits"], 0,
        "the floor's haystack holds no needle: {f}"
    );

    println!();
    println!(
        "staff web app in headless Chromium, {count} cases (one summary record each), {cores} cores; seeded in {:.1} s",
        seeded.as_secs_f64()
    );
    println!("{:<52} {:>10}   beside", "measure", "figure");
    println!(
        "{:<52} {:>7.0} ms   (first sign-in on this browser: every case fetched, verified, sealed into its cache)",
        "cold: sign in to the first page of the list",
        ms("cold_first_page_ms")
    );
    println!(
        "{:<52} {:>7.0} ms   of which sign-in (OPAQUE with Argon2id m=64 MiB t=3 p=4, keys unlocked) {:.0} ms [target < 2000 ms]",
        "warm: sign in to the first page of the list",
        ms("warm_first_page_ms"),
        ms("warm_sign_in_ms")
    );
    println!(
        "{:<52} {:>7.0} ms   floor: reading the whole sealed cache back untouched from IndexedDB ({} records) {:.0} ms",
        "warm: the list once signed in",
        ms("warm_first_page_ms") - ms("warm_sign_in_ms"),
        f["indexeddb_rows"],
        ms("indexeddb_read_ms")
    );
    println!(
        "{:<52} {:>7.1} ms   floor: one pass of `includes` over {count} strings {:.1} ms [target < 50 ms]",
        "a search keystroke over every case",
        ms("search_keystroke_ms"),
        ms("scan_ms")
    );
    if !full {
        println!(
            "(a check run on {count} cases; `cargo bench -p northstar --bench webapp` for the full size)"
        );
    }
}

//! This device's encrypted copy: incremental sync, reading without the
//! server, a changed share picked up without a new entry, a damaged copy
//! refused, expiry after days without an unlock, and `lock`.

mod support;

use northstar_store_cache::{CacheDb, PageChanges};
use support::{Backend, Server};

fn case_ids(listed: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_copy_syncs_incrementally_reads_offline_and_expires() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, members) = support::org_with(&url, dir.path(), &[("bob", "caseworker")]);
    let bob = &members[0];

    let mut ids = vec![];
    for alias in ["Heron", "Kestrel", "Plover"] {
        let made = ada.json(&url, &["case", "new", "--alias", alias, "--country", "ru"]);
        ids.push(made["case_id"].as_str().unwrap().to_owned());
    }
    ada.ok(
        &url,
        &["case", "set", &ids[1], "identity.legal_name=Ruslan Ortega"],
    );

    // The first sync fetches everything; the second, nothing; a write, one entry.
    let first = ada.json(&url, &["sync"]);
    assert_eq!(first["cases"], 3, "{first}");
    let again = ada.json(&url, &["sync"]);
    assert_eq!(
        (again["updated"].as_u64(), again["entries"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
    ada.ok(
        &url,
        &[
            "case",
            "note",
            &ids[2],
            "--compartment",
            "story",
            "crossed at dawn",
        ],
    );
    let after_write = ada.json(&url, &["sync"]);
    assert_eq!(
        (
            after_write["updated"].as_u64(),
            after_write["entries"].as_u64()
        ),
        (Some(1), Some(1)),
        "only the case that moved, only its new entry: {after_write}"
    );

    // bob holds only logistics of Kestrel; a share moves no chain head, yet
    // his next list picks up the new key and can search identity.
    ada.ok(
        &url,
        &[
            "case",
            "share",
            &ids[1],
            "--with",
            "bob",
            "--compartment",
            "logistics",
        ],
    );
    assert_eq!(
        bob.json(&url, &["case", "list"])["cases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        bob.json(&url, &["case", "search", "ortega"])["cases"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    ada.ok(
        &url,
        &[
            "case",
            "share",
            &ids[1],
            "--with",
            "bob",
            "--compartment",
            "identity",
        ],
    );
    let hits = bob.json(&url, &["case", "search", "ortega"]);
    assert_eq!(case_ids(&hits), vec![ids[1].clone()], "{hits}");
    // And an unshare takes it away again, from the copy too.
    ada.ok(
        &url,
        &[
            "case",
            "unshare",
            &ids[1],
            "--with",
            "bob",
            "--compartment",
            "identity",
        ],
    );
    assert!(
        bob.json(&url, &["case", "search", "ortega"])["cases"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The server goes away: reading still works from the copy, writing does not.
    drop(server);
    let out = ada.run(&url, &["--json", "case", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this device's copy"),
        "says it is offline: {stderr}"
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(case_ids(&listed), expected);
    let hits = ada.json(&url, &["--offline", "case", "search", "DAWN"]);
    assert_eq!(case_ids(&hits), vec![ids[2].clone()]);
    let shown = ada.json(&url, &["--offline", "case", "show", &ids[1]]);
    assert_eq!(
        shown["compartments"]["identity"]["fields"]["legal_name"],
        "Ruslan Ortega"
    );
    let err = ada.fails(&url, &["case", "set", &ids[0], "story.x=y"]);
    assert!(err.contains("cannot reach the server"), "{err}");
    let err = ada.fails(
        &url,
        &[
            "--offline",
            "case",
            "note",
            &ids[0],
            "--compartment",
            "story",
            "x",
        ],
    );
    assert!(err.contains("needs the server"), "{err}");

    // A wrong passphrase opens nothing, with the sign-in message.
    let mut stranger = ada.clone();
    stranger.passphrase = "not the passphrase at all".into();
    let err = stranger.fails(&url, &["--offline", "case", "list"]);
    assert!(err.contains("wrong passphrase"), "{err}");

    // A byte changed in the copy on disk is refused, not shown.
    let cache_path = ada.profile.join("cache.sqlite3");
    {
        let db = CacheDb::open(&cache_path).await.unwrap();
        let mut pages = db.listing_pages().await.unwrap();
        let last = pages[0].sealed.len() - 1;
        pages[0].sealed[last] ^= 1;
        let changes = PageChanges {
            put: pages,
            drop: vec![],
        };
        db.put_cases(&[], &changes).await.unwrap();
        db.close().await;
    }
    let err = ada.fails(&url, &["--offline", "case", "list"]);
    assert!(err.contains("does not open"), "{err}");
    ada.ok(&url, &["cache", "clear"]);
    assert!(!cache_path.exists());
    let err = ada.fails(&url, &["--offline", "case", "list"]);
    assert!(err.contains("no offline copy"), "{err}");

    // Expiry: bob's copy goes after the configured days without an unlock.
    ada.ok(&url, &["cache", "expire-after", "1"]);
    let bob_cache = bob.profile.join("cache.sqlite3");
    assert!(bob_cache.exists());
    bob.ok(&url, &["cache", "expire-after", "2"]);
    let status = bob.json(&url, &["cache", "status"]);
    assert_eq!(status["expiry_days"], 2);
    let profile_file = bob.profile.join("profile.json");
    let mut data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&profile_file).unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    data["last_unlock"] = serde_json::json!(now - 3 * 86_400);
    std::fs::write(&profile_file, serde_json::to_vec(&data).unwrap()).unwrap();
    let out = bob.run(&url, &["--offline", "case", "list"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("was deleted: it was not unlocked for 2 day(s)")
    );
    assert!(!bob_cache.exists(), "the expired copy is gone from disk");
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_ends_the_session_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, _) = support::org_with(&url, dir.path(), &[]);
    let token_before = std::fs::read_to_string(ada.profile.join("profile.json")).unwrap();
    assert!(token_before.contains("session_token\": \""));
    let locked = ada.json(&url, &["lock"]);
    assert_eq!(locked["session_ended"], true);
    let profile = std::fs::read_to_string(ada.profile.join("profile.json")).unwrap();
    assert!(profile.contains("\"session_token\": null"), "{profile}");
    // Without the passphrase, nothing works any more.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_northstar"))
        .args(["whoami"])
        .env("NORTHSTAR_SERVER", &url)
        .env("NORTHSTAR_PROFILE", &ada.profile)
        .env_remove("NORTHSTAR_PASSPHRASE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not signed in"));
    // The old token is dead on the server too.
    let token = token_before
        .split("session_token\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let api = northstar_client::Api::new(&url)
        .unwrap()
        .with_token(Some(token.to_owned()));
    let err = api.me().await.unwrap_err();
    assert_eq!(
        err.api_code(),
        Some(northstar_protocol::ErrorCode::Unauthorized)
    );
}

//! The staff web app is served by the one binary at `/`, under its strict
//! policy; only the OPAQUE worker's script may compile WebAssembly.

mod support;

use support::{Backend, Server};

fn csp(response: &reqwest::blocking::Response) -> String {
    response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_app_and_its_assets_are_served_under_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for old in ["/app", "/app/"] {
        let moved = http.get(format!("{}{old}", server.url)).send().unwrap();
        assert_eq!(moved.status().as_u16(), 308, "{old}");
        assert_eq!(moved.headers()["location"], "/");
    }
    let index = http.get(format!("{}/", server.url)).send().unwrap();
    assert_eq!(index.status().as_u16(), 200);
    let page_policy = csp(&index);
    assert!(
        page_policy.starts_with("default-src 'none'"),
        "{page_policy}"
    );
    assert!(
        page_policy.contains("script-src 'self';") && page_policy.contains("worker-src 'self';"),
        "{page_policy}"
    );
    assert!(
        !page_policy.contains("unsafe"),
        "the page allows no eval of any kind and nothing inline: {page_policy}"
    );
    assert!(index.headers().get("set-cookie").is_none());
    let html = index.text().unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from another origin"
    );
    // Every script and stylesheet the page names is served, with its type and the page's policy.
    let mut served = 0;
    let mut main_script = String::new();
    for (attr, kind) in [
        ("src=\"./assets/", "text/javascript"),
        ("href=\"./assets/", "text/css"),
    ] {
        for part in html.split(attr).skip(1) {
            let name = &part[..part.find('"').unwrap()];
            let asset = http
                .get(format!("{}/assets/{name}", server.url))
                .send()
                .unwrap();
            assert_eq!(asset.status().as_u16(), 200, "{name}");
            assert!(
                asset.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(kind)
            );
            assert_eq!(csp(&asset), page_policy, "{name}");
            if kind == "text/javascript" {
                main_script = asset.text().unwrap();
            }
            served += 1;
        }
    }
    assert!(served >= 2, "the page names its script and its stylesheet");
    assert!(
        !main_script.contains("WebAssembly"),
        "the page's own script compiles no WebAssembly"
    );
    // The page starts its OPAQUE worker from a file whose policy alone allows WebAssembly.
    let worker = main_script
        .split(['"', '\'', '`'])
        .find_map(|s| {
            let at = s.find("opaque.worker-")?;
            Some(s[at..].to_owned())
        })
        .expect("the page names its OPAQUE worker");
    let worker = http
        .get(format!("{}/assets/{worker}", server.url))
        .send()
        .unwrap();
    assert_eq!(worker.status().as_u16(), 200);
    assert_eq!(
        csp(&worker),
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"
    );
    assert!(worker.text().unwrap().contains("WebAssembly"));
    let missing = http
        .get(format!("{}/assets/../../etc/passwd", server.url))
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

/// The brief's whole story in Chromium (web/e2e/story.mjs): an organization
/// set up in the browser, a caseworker joining in the browser and an
/// approver with the command line, a request from the public page, the case
/// through every stage with its guards, safe house, pathway, departure and
/// check-in, closure; the command line reading the browser's case and the
/// other way round; axe on every page; screenshots in artifacts/story.
#[test]
fn the_whole_story_runs_in_the_browser() {
    let shots = support::artifacts("story");
    let story = support::web_driver("story.mjs", &[shots.to_str().unwrap()]);
    let stages: Vec<&str> = story["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for stage in [
        "setup",
        "join",
        "intake-queue",
        "case-opened",
        "acceptance-refused",
        "accepted",
        "safe-house",
        "pathway",
        "departure",
        "closed",
        "cli-case-in-browser",
        "reports",
    ] {
        assert!(stages.contains(&stage), "{stage} missing from {stages:?}");
        assert!(
            std::fs::read_dir(&shots).unwrap().any(|f| f
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(&format!("-{stage}.png"))),
            "no screenshot of {stage}"
        );
    }
    assert!(
        story["acceptance_refusal"]
            .as_str()
            .unwrap()
            .contains("two different members"),
        "{story}"
    );
    assert_eq!(story["axe_pages"], 12, "{story}");
    assert!(
        !story["csp"].as_str().unwrap().contains("unsafe"),
        "{story}"
    );
}

/// Signing in to an organization the command line founded (web/e2e/app.mjs):
/// a wrong passphrase refused, keyboard-only sign-in, the CLI's fingerprints,
/// Lock ending the server session, the pin kept across Lock.
#[test]
fn the_browser_signs_in_to_an_organization_founded_by_the_command_line() {
    let shots = support::artifacts("app");
    let seen = support::web_driver("app.mjs", &[shots.to_str().unwrap()]);
    assert_eq!(seen["org_fingerprint"], seen["cli_fingerprint"], "{seen}");
    assert_eq!(seen["members"].as_array().unwrap().len(), 2, "{seen}");
    assert_eq!(seen["token_revoked_on_lock"], true, "{seen}");
}

/// Someone edits the database behind the server while a member works in the
/// browser: one case gets a flipped byte, another is rolled back to an
/// earlier head. The page says so, as the server's fault, for each case.
#[tokio::test(flavor = "multi_thread")]
async fn the_browser_names_a_case_the_server_altered_or_rolled_back() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    use northstar_crypto::envelope::entry_hash;
    use northstar_store_sqlite::tamper::Tamper;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, _) = support::org_with(&url, dir.path(), &[]);
    let mut ids = vec![];
    for alias in ["Flipped", "Rolled"] {
        let id = ada.json(&url, &["case", "new", "--alias", alias])["case_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..3 {
            ada.ok(
                &url,
                &["case", "set", &id, &format!("story.step{i}=value {i}")],
            );
        }
        ids.push(id);
    }
    let shots = support::artifacts("tamper");
    let mut driver = Command::new("node")
        .arg(support::repo_root().join("web/e2e/tamper.mjs"))
        .arg(&url)
        .arg(&shots)
        .args(&ids)
        .current_dir(support::repo_root().join("web"))
        .env("NORTHSTAR_USER", "ada")
        .env("NORTHSTAR_PASSPHRASE", &ada.passphrase)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is installed");
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("the driver says it is ready").unwrap();
    assert!(ready.contains("\"ready\":true"), "{ready}");

    let db = Tamper::open(&server.data_dir.join("northstar.sqlite3"))
        .await
        .unwrap();
    let id16 = |hex: &str| northstar_crypto::ids::from_hex::<16>(hex).unwrap();
    db.flip_entry_byte(&id16(&ids[0]), 2, 200).await.unwrap();
    let entry1 = db.entry(&id16(&ids[1]), 1).await.unwrap();
    db.roll_back(&id16(&ids[1]), 2, &entry_hash(&entry1))
        .await
        .unwrap();

    writeln!(driver.stdin.take().unwrap(), "go").unwrap();
    let outcome: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert!(driver.wait().unwrap().success(), "{outcome}");
    assert!(
        outcome["list_warning"]
            .as_str()
            .unwrap()
            .contains("did not verify"),
        "{outcome}"
    );
    let flipped = &outcome["cases"][&ids[0]];
    assert_eq!(flipped["server_fault"], true, "{outcome}");
    assert!(
        flipped["problem"].as_str().unwrap().contains("altered"),
        "{outcome}"
    );
    let rolled = &outcome["cases"][&ids[1]];
    assert_eq!(rolled["server_fault"], true, "{outcome}");
    assert!(
        rolled["problem"].as_str().unwrap().contains("rollback"),
        "{outcome}"
    );
}

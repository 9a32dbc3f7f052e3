//! The account and organization journey through the real binary, on SQLite and
//! on PostgreSQL: founding, inviting, joining, admitting, verifying, removing —
//! and every bad input refused with a clear error that changes nothing.

mod support;

use support::{Backend, Member, Server, last_word};

fn member_names(m: &Member, server: &str) -> Vec<String> {
    let list = m.json(server, &["member", "list"]);
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

fn journey(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &backend);
    let url = server.url.as_str();
    let ada = Member::new(dir.path(), "ada");

    let init = ada.json(
        url,
        &[
            "org",
            "init",
            "--org",
            "Rainbow Railroad Test",
            "--user",
            "ada",
        ],
    );
    assert_eq!(init["fingerprint"].as_array().unwrap().len(), 8, "{init}");
    let again = Member::new(dir.path(), "eve");
    let err = again.fails(url, &["org", "init", "--org", "Second", "--user", "eve"]);
    assert!(err.contains("already has an organization"), "{err}");

    // Invite, join, admit.
    let code = last_word(&ada.ok(url, &["invite", "--role", "caseworker"]));
    let bob = Member::new(dir.path(), "bob");
    let joined = bob.json(url, &["join", "--invite", &code, "--user", "bob"]);
    assert_eq!(
        joined["org_fingerprint"], init["fingerprint"],
        "the joiner sees the same organization fingerprint"
    );
    let me = bob.json(url, &["whoami"]);
    assert_eq!(me["status"], "pending");
    let bob_list_before = bob.fails(url, &["member", "list"]);
    assert!(
        bob_list_before.contains("waits for an admin"),
        "{bob_list_before}"
    );
    assert_eq!(member_names(&ada, url), vec!["ada", "bob"]);
    let me = bob.json(url, &["whoami"]);
    assert_eq!(
        (me["status"].as_str(), me["role"].as_str()),
        (Some("active"), Some("caseworker"))
    );
    assert_eq!(member_names(&bob, url), vec!["ada", "bob"]);

    // A used invitation is refused, and nothing changes.
    let dan = Member::new(dir.path(), "dan");
    let err = dan.fails(url, &["join", "--invite", &code, "--user", "dan"]);
    assert!(err.contains("already used"), "{err}");
    assert!(
        !dan.profile.join("profile.json").exists(),
        "a refused join leaves no profile"
    );
    // An expired one too.
    let short = last_word(&ada.ok(
        url,
        &["invite", "--role", "caseworker", "--valid-for-seconds", "1"],
    ));
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let err = dan.fails(url, &["join", "--invite", &short, "--user", "dan"]);
    assert!(err.contains("expired"), "{err}");
    // A code with a forged secret half joins the queue but is never admitted.
    let genuine = last_word(&ada.ok(url, &["invite", "--role", "admin"]));
    let forged = format!("{}-{}", genuine.split('-').next().unwrap(), "0".repeat(32));
    let mallory = Member::new(dir.path(), "mallory");
    mallory.ok(url, &["join", "--invite", &forged, "--user", "mallory"]);
    let out = ada.run(url, &["member", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Refused to admit 'mallory'"));
    assert_eq!(member_names(&ada, url), vec!["ada", "bob"]);
    // Bad codes and names are refused before anything is sent.
    let err = dan.fails(url, &["join", "--invite", "not-a-code", "--user", "dan"]);
    assert!(err.contains("invitation code"), "{err}");
    let err = dan.fails(url, &["join", "--invite", &short, "--user", " padded "]);
    assert!(err.contains("user name"), "{err}");
    // A caseworker cannot invite.
    let err = bob.fails(url, &["invite", "--role", "admin"]);
    assert!(err.contains("only an admin"), "{err}");
    let err = ada.fails(url, &["invite", "--role", "emperor"]);
    assert!(err.contains("unknown role"), "{err}");

    // Fingerprints: the right words verify, wrong ones are refused.
    let list = ada.json(url, &["member", "list"]);
    let bob_row = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "bob")
        .unwrap()
        .clone();
    let words: Vec<String> = bob_row["fingerprint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bob_row["verified"], false);
    let mut args = vec!["member", "verify", "bob"];
    args.extend(words.iter().map(String::as_str));
    ada.ok(url, &args);
    let list = ada.json(url, &["member", "list"]);
    assert!(
        list["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "bob" && m["verified"] == true)
    );
    let mut wrong = args.clone();
    wrong[3] = if words[0] == "zoom" { "abacus" } else { "zoom" };
    let err = ada.fails(url, &wrong);
    assert!(err.contains("do not match"), "{err}");

    // Wrong passphrase and unknown user: the same clear refusal.
    let wrong_pass = Member {
        passphrase: "not the passphrase at all".into(),
        profile: dir.path().join("profile-bob-2"),
        ..bob.clone()
    };
    let err = wrong_pass.fails(url, &["login", "--user", "bob"]);
    assert!(err.contains("unknown name or wrong passphrase"), "{err}");
    let nobody = Member::new(dir.path(), "nobody");
    let err = nobody.fails(url, &["login", "--user", "nobody"]);
    assert!(err.contains("unknown name or wrong passphrase"), "{err}");
    // The right passphrase from a second device works.
    let bob_laptop = Member {
        profile: dir.path().join("profile-bob-laptop"),
        ..bob.clone()
    };
    bob_laptop.ok(url, &["login", "--user", "bob"]);

    // Logout ends the session on the server.
    let token = bob_laptop_token(&bob_laptop);
    bob_laptop.ok(url, &["logout"]);
    assert_eq!(http_status_with_token(url, &token), 401);

    // Removal ends the member's sessions at once and refuses them afterwards.
    ada.ok(url, &["member", "remove", "bob"]);
    let err = bob.fails(url, &["member", "list"]);
    assert!(err.contains("removed"), "{err}");
    let err = bob.fails(url, &["login", "--user", "bob"]);
    assert!(err.contains("removed"), "{err}");
    assert_eq!(member_names(&ada, url), vec!["ada"]);
    let err = ada.fails(url, &["member", "remove", "ada"]);
    assert!(err.contains("without an admin"), "{err}");
}

fn bob_laptop_token(m: &Member) -> String {
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(m.profile.join("profile.json")).unwrap()).unwrap();
    profile["session_token"].as_str().unwrap().to_owned()
}

fn http_status_with_token(url: &str, token: &str) -> u16 {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{url}/api/me"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).parse().unwrap()
}

#[test]
fn the_member_journey_on_sqlite() {
    journey(Backend::Sqlite);
}

#[test]
fn the_member_journey_on_postgres() {
    journey(Backend::Postgres(support::fresh_postgres_database(
        "journey",
    )));
}

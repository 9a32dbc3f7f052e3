//! Malformed, oversized and forged requests straight at the HTTP API: each gets
//! a clear error from the closed table, nothing changes, and the server never
//! falls over.

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Backend, Member, Server};

fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("not a JSON error body: {body:?}"))
}

fn token(m: &Member) -> String {
    let profile: Value =
        serde_json::from_slice(&std::fs::read(m.profile.join("profile.json")).unwrap()).unwrap();
    profile["session_token"].as_str().unwrap().to_owned()
}

fn chain_len(url: &str, token: &str) -> usize {
    let (status, body) = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        &format!("{url}/api/org"),
    ]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["links"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn hostile_requests_get_clear_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, _) = support::org_with(&url, dir.path(), &[("bob", "caseworker")]);
    let ada_token = token(&ada);
    let links_before = chain_len(&url, &ada_token);

    let (status, body) = curl(&[&format!("{url}/api/openapi.json")]);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        paths.len() >= 15,
        "the OpenAPI document lists every endpoint"
    );
    let posts: Vec<&String> = paths
        .keys()
        .filter(|p| paths[p.as_str()].get("post").is_some())
        .collect();
    let gets: Vec<&String> = paths
        .keys()
        .filter(|p| paths[p.as_str()].get("get").is_some())
        .collect();

    let huge = dir.path().join("huge.json");
    std::fs::write(&huge, vec![b'a'; 20_000_000]).unwrap();
    let garbage: Vec<Vec<u8>> = vec![
        b"{\"garbage\":".to_vec(),
        b"[]".to_vec(),
        b"null".to_vec(),
        vec![0, 1, 2, 0xff, 0xfe],
        b"{\"username\":\"\xff\xfe\",\"credential_request\":\"AAAA\"}".to_vec(),
        b"{\"username\":\"<script>alert(1)</script>\",\"credential_request\":\"!!!\"}".to_vec(),
        b"{\"account_id\":\"zz\",\"username\":\"x\",\"registration_request\":\"AAAA\"}".to_vec(),
        format!(
            "{{\"register\":{{\"account_id\":\"{}\",\"username\":\"x\",\"registration_request\":\"AAAA\"}},\"invite_id\":\"{}\"}}",
            "0".repeat(32),
            "1".repeat(32)
        )
        .into_bytes(),
        b"{\"seq\":18446744073709551615,\"link\":\"AAAA\"}".to_vec(),
        b"{\"login_id\":\"00\",\"credential_finalization\":\"\"}".to_vec(),
    ];
    let garbage_files: Vec<String> = garbage
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let path = dir.path().join(format!("garbage-{i}"));
            std::fs::write(&path, g).unwrap();
            format!("@{}", path.display())
        })
        .collect();
    for path in &posts {
        let target = format!("{url}{path}");
        let (status, body) = curl(&[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data-binary",
            &format!("@{}", huge.display()),
            &target,
        ]);
        assert_eq!(status, 413, "20 MB to {path}: {body}");
        assert_eq!(error_code(&body), "payload_too_large");
        for g in &garbage_files {
            for auth in [None, Some(ada_token.as_str())] {
                // Logout takes no body: with a session it would simply sign ada out.
                if auth.is_some() && path.as_str() == "/api/auth/logout" {
                    continue;
                }
                let mut args = vec![
                    "-X".to_owned(),
                    "POST".into(),
                    "-H".into(),
                    "content-type: application/json".into(),
                    "--data-binary".into(),
                    g.clone(),
                ];
                if let Some(t) = auth {
                    args.extend(["-H".to_owned(), format!("Authorization: Bearer {t}")]);
                }
                args.push(target.clone());
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                let (status, body) = curl(&refs);
                assert!(
                    (400..500).contains(&status),
                    "{g:?} to {path} got {status}: {body}"
                );
                let code = error_code(&body);
                assert_ne!(code, "internal");
            }
        }
    }
    for path in &gets {
        // Public by design: health, the API description, and what the help page seals to.
        if ["/healthz", "/api/openapi.json", "/api/intake/config"].contains(&path.as_str()) {
            continue;
        }
        let (status, body) = curl(&[&format!("{url}{path}")]);
        assert_eq!(status, 401, "GET {path} without a session: {body}");
        assert_eq!(error_code(&body), "unauthorized");
        let (status, _) = curl(&[
            "-H",
            "Authorization: Bearer forged",
            &format!("{url}{path}"),
        ]);
        assert_eq!(status, 401);
    }
    let (status, body) = curl(&[&format!("{url}/api/no/such/thing")]);
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));

    // Forged membership links, sent with a real admin session.
    let link_post = |seq: usize, link: &str| {
        curl(&[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-H",
            &format!("Authorization: Bearer {ada_token}"),
            "--data-binary",
            &format!("{{\"seq\":{seq},\"link\":\"{link}\"}}"),
            &format!("{url}/api/org/links"),
        ])
    };
    let (status, body) = curl(&[
        "-H",
        &format!("Authorization: Bearer {ada_token}"),
        &format!("{url}/api/org"),
    ]);
    assert_eq!(status, 200);
    let chain: Value = serde_json::from_str(&body).unwrap();
    let last = chain["links"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    // A replay of an old link at the next position.
    let (status, body) = link_post(links_before, &last);
    assert_eq!(
        (status, error_code(&body).as_str()),
        (422, "chain_rejected"),
        "{body}"
    );
    // A link at a position the chain does not have.
    let (status, body) = link_post(links_before + 5, &last);
    assert_eq!(
        (status, error_code(&body).as_str()),
        (409, "conflict"),
        "{body}"
    );
    // Garbage where a link belongs.
    let (status, body) = link_post(links_before, "AAAAAAAA");
    assert_eq!(
        (status, error_code(&body).as_str()),
        (422, "chain_rejected"),
        "{body}"
    );
    assert_eq!(
        chain_len(&url, &ada_token),
        links_before,
        "no forged link was appended"
    );

    // A caseworker's session cannot append links or read invitations.
    let bob = Member::new(dir.path(), "bob");
    let bob_token = token(&bob);
    let (status, body) = curl(&[
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "-H",
        &format!("Authorization: Bearer {bob_token}"),
        "--data-binary",
        &format!("{{\"seq\":{links_before},\"link\":\"{last}\"}}"),
        &format!("{url}/api/org/links"),
    ]);
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "forbidden"),
        "{body}"
    );

    // Guessing passphrases is slowed down per name; the real owner still signs in
    // from the refill onwards, and other names are unaffected.
    let guesser = Member {
        passphrase: "a wrong guess of a passphrase".into(),
        profile: dir.path().join("profile-guesser"),
        ..ada.clone()
    };
    let mut refused = None;
    for attempt in 0..12 {
        let err = guesser.fails(&url, &["login", "--user", "ada"]);
        if err.contains("too many attempts") {
            refused = Some(attempt);
            break;
        }
        assert!(err.contains("wrong passphrase"), "{err}");
    }
    assert_eq!(
        refused,
        Some(10),
        "the 11th failed guess in a row is refused"
    );
    bob.ok(&url, &["login", "--user", "bob"]);

    assert!(server.is_running(), "the server survived every request");
    let log = server.log_text();
    assert!(!log.contains("panicked"), "a handler panicked:\n{log}");
}

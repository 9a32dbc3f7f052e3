//! The public intake end to end: a request through the browser path (the real
//! page in Chromium, sealed by its script) and through the no-JavaScript path
//! (a plain form post, sealed by the server), the queue, replies only a
//! codename opens, a case opened from a request, a blind server, and hostile
//! input refused with clear errors.

mod support;

use std::path::{Path, PathBuf};

use northstar_crypto::intake;
use support::{Backend, Server};

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\u{1b}[31m";

/// Where the browser test writes its screenshots.
fn artifacts() -> PathBuf {
    support::artifacts("intake")
}

/// Drive the real help page in Chromium (web/e2e/help.mjs); one JSON line out.
fn browser(args: &[&str]) -> serde_json::Value {
    support::web_driver("help.mjs", args)
}

fn form(client: &reqwest::blocking::Client, url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let res = client.post(url).form(fields).send().unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

/// The codename a result page shows.
fn codename_in(page: &str) -> String {
    let start = page
        .find("<code id=\"help-codename\">")
        .expect("a codename on the page")
        + 25;
    let end = start + page[start..].find("</code>").unwrap();
    page[start..end].to_owned()
}

/// A server on SQLite with the given intake settings, and its URL.
fn intake_server(dir: &Path, settings: &[&str]) -> (Server, String) {
    let server = Server::start_args(dir, "s", &Backend::Sqlite, None, settings);
    let url = server.url.clone();
    (server, url)
}

fn item_ids(listed: &serde_json::Value) -> Vec<(String, String)> {
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn scan_for(marker: &str, dirs: &[&Path], files: &[&Path]) {
    let mut all: Vec<PathBuf> = files.iter().map(|f| f.to_path_buf()).collect();
    for d in dirs {
        all.extend(support::files_under(d));
    }
    for f in all {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !support::contains(&bytes, marker.as_bytes()),
            "the marker {marker} is readable in {}",
            f.display()
        );
    }
}

#[test]
fn both_paths_reach_the_queue_and_only_the_codename_reads_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = intake_server(dir.path(), &["--intake-pow-bits", "12"]);
    let (ada, members) = support::org_with(
        &url,
        dir.path(),
        &[("ivy", "intake"), ("bob", "caseworker")],
    );
    let (ivy, bob) = (&members[0], &members[1]);
    let http = reqwest::blocking::Client::new();

    // The page: a strict policy, no cookie, a form that works without script.
    let page = http.get(format!("{url}/help")).send().unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(page.headers().get("set-cookie").is_none());
    let html = page.text().unwrap();
    assert!(html.contains("<form id=\"help-form\" method=\"post\" action=\"/help\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from another origin"
    );
    let arabic = http
        .get(format!("{url}/help?lang=ar"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"));
    // In Chromium at phone width, in every language, with and without JavaScript:
    // no sideways scrolling, no tiny text, the right direction, and axe finds no
    // serious or critical violation.
    let checked = browser(&["check", &url, artifacts().to_str().unwrap()]);
    assert_eq!(checked["pages"], 6, "{checked}");

    // No JavaScript: the server seals on receipt.
    let plain_marker = "ZQXPLAINPATH";
    let story = format!("{plain_marker} {HOSTILE}");
    let (status, result) = form(
        &http,
        &format!("{url}/help"),
        &[
            ("lang", "en"),
            ("contact", &format!("signal {plain_marker}")),
            ("when", "evenings"),
            ("where", "Grozny"),
            ("what", &story),
            ("urgency", "emergency"),
        ],
    );
    assert_eq!(status, 200, "{result}");
    assert!(
        result.contains("JavaScript turned off"),
        "the page says which path was used"
    );
    assert!(
        !result.contains("<script>alert"),
        "what was typed is never echoed as markup"
    );
    let plain_codename = codename_in(&result);
    assert_eq!(plain_codename.split(' ').count(), intake::CODENAME_WORDS);

    // JavaScript: the real page in Chromium seals it in the browser.
    let js_marker = "ZQXBROWSERPATH";
    let submitted = browser(&["submit", &url, js_marker, artifacts().to_str().unwrap()]);
    let js_codename = submitted["codename"].as_str().unwrap().to_owned();
    assert_eq!(js_codename.split(' ').count(), intake::CODENAME_WORDS);
    assert!(
        submitted["path_text"]
            .as_str()
            .unwrap()
            .contains("locked in your browser")
    );
    assert_eq!(submitted["foreign_requests"], serde_json::json!([]));
    assert_eq!(submitted["console_errors"], serde_json::json!([]));

    // The intake officer reads both, as plain text.
    let listed = ivy.json(&url, &["intake", "list"]);
    let items = item_ids(&listed);
    assert_eq!(items.len(), 2, "{listed}");
    let plain_id = items.iter().find(|(_, p)| p == "server").unwrap().0.clone();
    let js_id = items
        .iter()
        .find(|(_, p)| p == "browser")
        .unwrap()
        .0
        .clone();
    let shown = ivy.ok(&url, &["intake", "show", &plain_id]);
    assert!(
        shown.contains(plain_marker) && shown.contains("Grozny"),
        "{shown}"
    );
    assert!(
        shown.contains("<script>alert(1)</script>"),
        "markup is shown as the text it is"
    );
    assert!(
        !shown.contains('\u{1b}'),
        "terminal escapes are shown, not obeyed"
    );
    assert!(
        ivy.ok(&url, &["intake", "show", &js_id])
            .contains(js_marker)
    );
    // A caseworker is not on the intake team.
    let refused = bob.fails(&url, &["intake", "list"]);
    assert!(refused.contains("intake officers and admins"), "{refused}");

    // Replies: only the codename opens them.
    ivy.ok(
        &url,
        &[
            "intake",
            "reply",
            &plain_id,
            "ZQXREPLYPLAIN we will call at nine",
        ],
    );
    ivy.ok(&url, &["intake", "reply", &js_id, "ZQXREPLYJS we read you"]);
    let (status, back) = form(
        &http,
        &format!("{url}/help/return"),
        &[("codename", &plain_codename.to_uppercase()), ("lang", "en")],
    );
    assert_eq!(status, 200, "{back}");
    assert!(back.contains("ZQXREPLYPLAIN we will call at nine"));
    assert!(!back.contains("ZQXREPLYJS"));
    let read = browser(&["read", &url, &js_codename, artifacts().to_str().unwrap()]);
    let replies = read["replies"].to_string();
    assert!(
        replies.contains("ZQXREPLYJS we read you") && !replies.contains("ZQXREPLYPLAIN"),
        "{read}"
    );

    // A wrong codename and one never issued get the same answer.
    let words = intake::Codename::generate(&mut rand::rngs::OsRng);
    let (s1, wrong) = form(
        &http,
        &format!("{url}/help/return"),
        &[("codename", words.expose())],
    );
    let mut near = plain_codename
        .split(' ')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    near.swap(0, 1);
    let (s2, swapped) = form(
        &http,
        &format!("{url}/help/return"),
        &[("codename", &near.join(" "))],
    );
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(wrong, swapped);
    assert!(wrong.contains("Nothing was found for this codename"));
    let (s3, garbled) = form(
        &http,
        &format!("{url}/help/return"),
        &[("codename", "<b>x</b>")],
    );
    assert_eq!(s3, 400);
    assert!(garbled.contains("7 or 8 words") && !garbled.contains("<b>x</b>"));

    // The requester writes again; the officer sees it.
    let (status, sent) = form(
        &http,
        &format!("{url}/help/message"),
        &[
            ("codename", &plain_codename),
            ("what", "ZQXFOLLOWUP I moved to the north"),
        ],
    );
    assert_eq!(status, 200, "{sent}");
    assert!(
        ivy.ok(&url, &["intake", "show", &plain_id])
            .contains("ZQXFOLLOWUP")
    );

    // A case from a request: the conversation moves into its messages.
    let opened = ivy.json(
        &url,
        &["intake", "open-case", &plain_id, "--alias", "Marten"],
    );
    let case = opened["case_id"].as_str().unwrap();
    let case_text = ivy.ok(&url, &["case", "show", case]);
    assert!(
        case_text.contains(plain_marker) && case_text.contains("ZQXFOLLOWUP"),
        "{case_text}"
    );
    assert!(
        case_text.contains("emergency"),
        "priority follows the stated urgency"
    );
    ivy.ok(
        &url,
        &["intake", "dismiss", &js_id, "--reason", "duplicate"],
    );
    assert!(item_ids(&ivy.json(&url, &["intake", "list"])).is_empty());
    let everything = ivy.json(&url, &["intake", "list", "--all"]);
    let statuses: Vec<&str> = everything["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"opened") && statuses.contains(&"dismissed"));
    let history = ada.ok(&url, &["intake", "show", &js_id]);
    assert!(history.contains("ivy dismissed it: duplicate"), "{history}");

    // The server at rest (database, log) holds none of it in the clear.
    for marker in [
        plain_marker,
        js_marker,
        "ZQXREPLYPLAIN",
        "ZQXREPLYJS",
        "ZQXFOLLOWUP",
        "Grozny",
    ] {
        scan_for(marker, &[&server.data_dir], &[&server.log]);
    }
    for word in plain_codename.split(' ').chain(js_codename.split(' ')) {
        let log = std::fs::read_to_string(&server.log).unwrap();
        assert!(
            !log.contains(&plain_codename) && !log.contains(&js_codename),
            "{word}"
        );
    }
}

/// A valid browser-path request built with the Rust twin of the page's crypto.
struct Sealed {
    body: serde_json::Value,
}

fn sealed_request(url: &str, text: &str) -> Sealed {
    let config: serde_json::Value = reqwest::blocking::get(format!("{url}/api/intake/config"))
        .unwrap()
        .json()
        .unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let org = northstar_crypto::OrgId::from_hex(config["org_id"].as_str().unwrap()).unwrap();
    let public: [u8; 32] = b64
        .decode(config["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let conversation: [u8; 16] = rand::random();
    let codename = intake::Codename::generate(&mut rand::rngs::OsRng);
    let keys = intake::codename_keys(&codename, &org);
    let sealed = intake::seal_request(
        &org,
        config["generation"].as_u64().unwrap() as u32,
        &public,
        &conversation,
        serde_json::json!({"what": text}).to_string().as_bytes(),
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let challenge = b64
        .decode(config["pow_challenge"].as_str().unwrap())
        .unwrap();
    let nonce = intake::pow_solve(&challenge, config["pow_bits"].as_u64().unwrap() as u8);
    Sealed {
        body: serde_json::json!({
            "conversation_id": northstar_crypto::ids::to_hex(&conversation),
            "sealed": b64.encode(&sealed),
            "access_hash": b64.encode(intake::access_hash(keys.access())),
            "reply_public": b64.encode(keys.reply_public()),
            "pow": {"challenge": config["pow_challenge"], "nonce": nonce},
        }),
    }
}

fn post_json(url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let res = reqwest::blocking::Client::new()
        .post(format!("{url}/api/intake/requests"))
        .json(body)
        .send()
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn hostile_submissions_get_clear_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = intake_server(
        dir.path(),
        &["--intake-pow-bits", "10", "--intake-rate", "2"],
    );
    let (ada, _) = support::org_with(&url, dir.path(), &[]);
    let queue_len = || item_ids(&ada.json(&url, &["intake", "list", "--all"])).len();
    let http = reqwest::blocking::Client::new();

    let good = sealed_request(&url, "first");
    let (status, accepted) = post_json(&url, &good.body);
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["referred"], false);

    // The same proof twice: refused, even for another conversation.
    let mut replayed = sealed_request(&url, "second").body;
    replayed["pow"] = good.body["pow"].clone();
    let (status, err) = post_json(&url, &replayed);
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap().contains("already used"),
        "{err}"
    );
    // A forged challenge, a wrong nonce, no proof at all, a missing field, bad base64.
    let mut forged = sealed_request(&url, "x").body;
    forged["pow"]["challenge"] = serde_json::json!("AAAA");
    let mut lazy = sealed_request(&url, "x").body;
    lazy["pow"]["nonce"] = serde_json::json!(lazy["pow"]["nonce"].as_u64().unwrap() + 1);
    let mut bare = sealed_request(&url, "x").body;
    bare.as_object_mut().unwrap().remove("pow");
    let mut missing = sealed_request(&url, "x").body;
    missing.as_object_mut().unwrap().remove("reply_public");
    let mut garbled = sealed_request(&url, "x").body;
    garbled["sealed"] = serde_json::json!("<script>not base64</script>");
    let mut staff_kind = sealed_request(&url, "x").body;
    staff_kind["sealed"] = serde_json::json!("TlNJTgECAAAAAA");
    for (name, body) in [
        ("forged challenge", forged),
        ("no proof", bare),
        ("missing field", missing),
        ("bad base64", garbled),
        ("not a requester's message", staff_kind),
    ] {
        let (status, err) = post_json(&url, &body);
        assert_eq!(status, 400, "{name}: {err}");
        assert!(
            !err["message"].as_str().unwrap_or("").is_empty(),
            "{name}: a clear message"
        );
    }
    // A wrong nonce meets the difficulty by chance once in 2^10 tries.
    let (status, _) = post_json(&url, &lazy);
    assert!(status == 400 || status == 200);
    let after_lazy = queue_len();

    // A referral code skips the proof once, and is marked.
    let code = support::last_word(&ada.ok(&url, &["intake", "referral", "--uses", "1"]));
    let mut referred = sealed_request(&url, "by a partner").body;
    referred.as_object_mut().unwrap().remove("pow");
    referred["referral"] = serde_json::json!(code.to_lowercase());
    let (status, ok) = post_json(&url, &referred);
    assert_eq!(
        (status, ok["referred"].clone()),
        (200, serde_json::json!(true)),
        "{ok}"
    );
    let mut again = sealed_request(&url, "again").body;
    again.as_object_mut().unwrap().remove("pow");
    again["referral"] = serde_json::json!(code);
    let (status, err) = post_json(&url, &again);
    assert_eq!(status, 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown or used up")
    );
    assert_eq!(queue_len(), after_lazy + 1);

    // A huge body, a form with invalid UTF-8 and a form with nothing in it.
    let huge = http
        .post(format!("{url}/api/intake/requests"))
        .header("content-type", "application/json")
        .body(vec![b'a'; 20 * 1024 * 1024])
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(413);
    assert_eq!(huge, 413);
    let invalid = http
        .post(format!("{url}/help"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("what=%FF%FE%FD&contact=x")
        .send()
        .unwrap();
    let invalid_status = invalid.status().as_u16();
    let invalid_page = invalid.text().unwrap();
    assert!(
        invalid_status == 400 || invalid_page.contains("help-codename"),
        "invalid UTF-8 is refused or kept as inert text: {invalid_status}"
    );
    let (status, empty) = form(&http, &format!("{url}/help"), &[("lang", "ru")]);
    assert_eq!(status, 400);
    assert!(
        empty.contains("Пожалуйста, расскажите"),
        "the error is in the requester's language"
    );

    // A flood: the intake says it is busy, and staff work goes on.
    let mut busy = 0;
    for _ in 0..40 {
        let (status, _) = form(&http, &format!("{url}/help"), &[("what", "flood")]);
        if status == 429 {
            busy += 1;
        }
    }
    assert!(busy > 0, "the global intake limit held the flood back");
    ada.ok(&url, &["intake", "list"]);
    ada.ok(&url, &["whoami"]);
}

#[test]
fn removing_an_intake_officer_rotates_the_desk_and_the_team_reads_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, url) = intake_server(dir.path(), &["--intake-pow-bits", "6"]);
    let (ada, members) =
        support::org_with(&url, dir.path(), &[("ivy", "intake"), ("ivan", "intake")]);
    let (ivy, ivan) = (&members[0], &members[1]);
    let config = |url: &str| -> serde_json::Value {
        reqwest::blocking::get(format!("{url}/api/intake/config"))
            .unwrap()
            .json()
            .unwrap()
    };
    let before = config(&url);
    let (status, _) = post_json(&url, &sealed_request(&url, "ZQXBEFORE").body);
    assert_eq!(status, 200);
    assert!(
        ivy.ok(
            &url,
            &[
                "intake",
                "show",
                &item_ids(&ivy.json(&url, &["intake", "list"]))[0].0
            ]
        )
        .contains("ZQXBEFORE")
    );

    ada.ok(&url, &["member", "remove", "ivy"]);
    let after = config(&url);
    assert_eq!(
        after["generation"].as_u64(),
        Some(before["generation"].as_u64().unwrap() + 1)
    );
    assert_ne!(
        after["public_key"], before["public_key"],
        "a new intake key for new requests"
    );
    let (status, _) = post_json(&url, &sealed_request(&url, "ZQXAFTER").body);
    assert_eq!(status, 200);

    // The officer who stays reads the old request and the new one; the removed one, nothing.
    let listed = ivan.json(&url, &["intake", "list"]);
    let texts: Vec<String> = item_ids(&listed)
        .iter()
        .map(|(id, _)| ivan.ok(&url, &["intake", "show", id]))
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("ZQXBEFORE"))
            && texts.iter().any(|t| t.contains("ZQXAFTER")),
        "{texts:?}"
    );
    ivy.fails(&url, &["intake", "list"]);
}

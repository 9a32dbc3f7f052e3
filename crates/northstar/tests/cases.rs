//! End-to-end encrypted cases through the real binary: compartments, sharing,
//! unsharing with key rotation, concurrent edits, and nothing readable at rest.

mod support;

use northstar_client::Profile;
use northstar_core::Compartment;
use northstar_crypto::ObjectId;
use northstar_crypto::envelope::{open_record, parse_entry};
use northstar_crypto::grant::{CompartmentKey, Keyring};
use support::{Backend, Server};

const MARKER: &str = "ZQXMARKER";

#[tokio::test(flavor = "multi_thread")]
async fn compartments_share_unshare_and_nothing_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, members) = support::org_with(
        &url,
        dir.path(),
        &[("bob", "coordinator"), ("carl", "caseworker")],
    );
    let (bob, carl) = (&members[0], &members[1]);

    let created = ada.json(
        &url,
        &[
            "case",
            "new",
            "--alias",
            "Falcon",
            "--priority",
            "urgent",
            "--country",
            "ru",
        ],
    );
    let id = created["case_id"].as_str().unwrap().to_owned();
    let mut assignments = vec![];
    for c in Compartment::OF_CASE {
        assignments.push(format!("{}.secret={MARKER}-{}", c.name(), c.name()));
    }
    assignments.push("identity.legal_name=Ахмед Иванов".into());
    assignments.push("logistics.safe_house=Birch".into());
    let mut args = vec!["case", "set", id.as_str()];
    args.extend(assignments.iter().map(String::as_str));
    ada.ok(&url, &args);
    ada.ok(
        &url,
        &[
            "case",
            "note",
            &id,
            "--compartment",
            "story",
            &format!("{MARKER}-note"),
        ],
    );
    ada.ok(
        &url,
        &[
            "case",
            "share",
            &id,
            "--with",
            "bob",
            "--compartment",
            "logistics",
        ],
    );
    ada.ok(
        &url,
        &[
            "case",
            "share",
            &id,
            "--with",
            "carl",
            "--compartment",
            "identity,logistics",
        ],
    );

    // sync verifies the membership chain and every case bob holds a key for.
    let synced = bob.json(&url, &["sync"]);
    assert_eq!(
        (synced["cases"].as_u64(), synced["members"].as_u64()),
        (Some(1), Some(3)),
        "{synced}"
    );

    // bob reads logistics and nothing else.
    let shown = bob.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["compartments"]["logistics"]["fields"]["safe_house"],
        "Birch"
    );
    assert_eq!(shown["compartments"]["identity"]["access"], false);
    assert_eq!(shown["compartments"]["summary"]["access"], false);
    let listed = bob.json(&url, &["case", "list"]);
    assert_eq!(listed["cases"].as_array().unwrap().len(), 1);
    let err = bob.fails(
        &url,
        &["case", "set", &id, "identity.legal_name=Someone Else"],
    );
    assert!(
        err.contains("no access to the identity compartment"),
        "{err}"
    );

    // Even handed the identity records directly, bob's keys cannot open them.
    let mut ada_profile = Profile::load(&ada.profile).unwrap();
    let ada_unlocked = northstar_client::login(&url, &mut ada_profile, "ada", &ada.passphrase)
        .await
        .unwrap();
    let case = ObjectId::from_hex(&id).unwrap();
    let page = ada_unlocked.api.case_entries(&id, 0, 1000).await.unwrap();
    let mut bob_profile = Profile::load(&bob.profile).unwrap();
    let bob_unlocked = northstar_client::login(&url, &mut bob_profile, "bob", &bob.passphrase)
        .await
        .unwrap();
    let bob_rings = northstar_client::cases::case_keyrings(&bob_unlocked, &mut bob_profile, case)
        .await
        .unwrap();
    assert_eq!(
        bob_rings.keys().copied().collect::<Vec<_>>(),
        vec![Compartment::Logistics]
    );
    let bob_logistics = bob_rings[&Compartment::Logistics].newest().unwrap();
    let author = ada_unlocked_author(&ada_unlocked);
    let mut tried = 0;
    for e in &page.entries {
        let entry = b64d(&e.entry);
        let header = parse_entry(&entry).unwrap();
        if header.address.compartment != Compartment::Identity {
            continue;
        }
        let wrap = b64d(
            e.wrap
                .as_ref()
                .expect("ada holds identity, so she is served its wraps"),
        );
        // bob's only key, tried as if it were the identity key of that generation.
        let mut ring = Keyring::new(header.address.compartment_ref());
        ring.insert(CompartmentKey::from_bytes(
            header.generation,
            *bob_logistics.expose_for_cache(),
        ));
        let err = open_record(&entry, &wrap, &header.address, &ring, &author).unwrap_err();
        assert_eq!(err.code(), "decrypt");
        tried += 1;
    }
    assert!(tried >= 1);
    // And the server does not hand bob the identity wraps at all.
    let bob_page = bob_unlocked.api.case_entries(&id, 0, 1000).await.unwrap();
    for e in &bob_page.entries {
        let header = parse_entry(&b64d(&e.entry)).unwrap();
        assert_eq!(
            e.wrap.is_some(),
            header.address.compartment == Compartment::Logistics
        );
    }

    // Unshare: bob loses logistics; what ada writes next is under a new key.
    let old_key_bytes = *bob_logistics.expose_for_cache();
    let old_generation = bob_logistics.generation();
    let rotated = ada.json(&url, &["case", "unshare", &id, "--with", "bob"]);
    assert_eq!(rotated["rotated"], serde_json::json!(["logistics"]));
    ada.ok(&url, &["case", "set", &id, "logistics.safe_house=Oak"]);
    let err = bob.fails(&url, &["case", "show", &id]);
    assert!(err.contains("no such case"), "{err}");
    let page = ada_unlocked.api.case_entries(&id, 0, 1000).await.unwrap();
    let newest = page.entries.last().unwrap();
    let entry = b64d(&newest.entry);
    let header = parse_entry(&entry).unwrap();
    assert_eq!(header.address.compartment, Compartment::Logistics);
    assert!(header.generation > old_generation);
    let mut old_ring = Keyring::new(header.address.compartment_ref());
    old_ring.insert(CompartmentKey::from_bytes(old_generation, old_key_bytes));
    let err = open_record(
        &entry,
        &b64d(newest.wrap.as_ref().unwrap()),
        &header.address,
        &old_ring,
        &author,
    )
    .unwrap_err();
    assert_eq!(
        err.code(),
        "unknown-generation",
        "bob's old key cannot open what comes after"
    );

    // carl, still on the case, reads old and new.
    let shown = carl.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["compartments"]["logistics"]["fields"]["safe_house"],
        "Oak"
    );
    assert_eq!(
        shown["compartments"]["identity"]["fields"]["legal_name"],
        "Ахмед Иванов"
    );
    let history = carl.json(&url, &["case", "history", &id]);
    let text = history.to_string();
    assert!(text.contains("Birch") && text.contains("Oak"), "{text}");

    // Two members editing at once lose nothing: each write lands, later wins.
    let (a, c) = (ada.clone(), carl.clone());
    let (u1, u2, id1, id2) = (url.clone(), url.clone(), id.clone(), id.clone());
    let t1 =
        std::thread::spawn(move || a.ok(&u1, &["case", "set", &id1, "logistics.needs=insulin"]));
    let t2 =
        std::thread::spawn(move || c.ok(&u2, &["case", "set", &id2, "logistics.dependants=2"]));
    t1.join().unwrap();
    t2.join().unwrap();
    let shown = ada.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["compartments"]["logistics"]["fields"]["needs"],
        "insulin"
    );
    assert_eq!(
        shown["compartments"]["logistics"]["fields"]["dependants"],
        "2"
    );

    // Search finds what the member can read, and only that.
    let hits = carl.json(&url, &["case", "search", "oak"]);
    assert_eq!(hits["cases"].as_array().unwrap().len(), 1);
    let hits = carl.json(&url, &["case", "search", "Falcon"]);
    assert_eq!(
        hits["cases"].as_array().unwrap().len(),
        0,
        "carl cannot read the summary, so its alias does not match"
    );
    assert_eq!(
        ada.json(&url, &["case", "search", "falcon"])["cases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An export opens with the real age tool and holds exactly what carl can read.
    let identity = northstar_crypto::export::AgeIdentity::generate();
    let key_file = dir.path().join("export-key.txt");
    std::fs::write(&key_file, identity.to_secret_string().as_bytes()).unwrap();
    let out_file = dir.path().join("falcon.age");
    carl.ok(
        &url,
        &[
            "case",
            "export",
            &id,
            "--to",
            &identity.recipient(),
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    let opened = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&out_file)
        .output()
        .expect("the age tool");
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let exported: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    let mut names: Vec<&str> = exported["compartments"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    assert_eq!(names, vec!["identity", "logistics"]);
    assert_eq!(
        exported["compartments"]["identity"]["fields"]["legal_name"],
        "Ахмед Иванов"
    );
    let err = carl.fails(
        &url,
        &[
            "case",
            "export",
            &id,
            "--to",
            "age1nope",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(err.contains("not an age X25519 recipient"), "{err}");

    // Removing carl from the organization rotates what he held in every case.
    let removal = ada.json(&url, &["member", "remove", "carl"]);
    let rotated = removal["rotated"].as_array().unwrap();
    assert_eq!(rotated.len(), 1, "{removal}");
    assert_eq!(
        rotated[0]["compartments"],
        serde_json::json!(["identity", "logistics"])
    );
    ada.ok(
        &url,
        &[
            "case",
            "set",
            &id,
            "identity.legal_name=Ахмед Иванов-Петров",
        ],
    );
    let shown = ada.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["compartments"]["identity"]["fields"]["legal_name"],
        "Ахмед Иванов-Петров"
    );

    // Nothing written into any compartment is readable at rest or in the log,
    // on the server or in the members' local caches.
    drop(server);
    let mut files = support::files_under(&dir.path().join("s-data"));
    files.push(dir.path().join("s.log"));
    for m in [&ada, bob, carl] {
        files.extend(support::files_under(&m.profile));
    }
    assert!(
        files.iter().any(|f| f.ends_with("cache.sqlite3")),
        "the scan covers the caches"
    );
    for f in &files {
        let data = std::fs::read(f).unwrap();
        for needle in [MARKER.as_bytes(), "Ахмед".as_bytes(), b"Birch", b"insulin"] {
            assert!(
                !support::contains(&data, needle),
                "{} found in {}",
                String::from_utf8_lossy(needle),
                f.display()
            );
        }
    }
}

fn ada_unlocked_author(u: &northstar_client::Unlocked) -> northstar_crypto::identity::AuthorKey {
    northstar_crypto::identity::AuthorKey::new(u.keys.public()).unwrap()
}

fn b64d(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

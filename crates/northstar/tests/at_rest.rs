//! After a full run, the database files and the server's log hold no
//! passphrase and no private key material, in any common encoding.

mod support;

use base64::Engine;
use northstar_client::Profile;
use support::{Backend, Server};

fn encodings(bytes: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    vec![
        bytes.to_vec(),
        northstar_crypto::ids::to_hex(bytes).into_bytes(),
        northstar_crypto::ids::to_hex(bytes)
            .to_uppercase()
            .into_bytes(),
        // A prefix is enough to catch a key cut across lines or padding.
        b64.as_bytes()[..40].to_vec(),
        b64url.as_bytes()[..40].to_vec(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn no_passphrase_or_private_key_reaches_the_database_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, members) = support::org_with(
        &url,
        dir.path(),
        &[("bob", "caseworker"), ("carl", "approver")],
    );
    ada.ok(&url, &["member", "remove", "carl"]);

    // What must never be at rest: every passphrase and every private key.
    let mut secrets: Vec<(String, Vec<u8>)> = vec![];
    for m in std::iter::once(&ada).chain(members.iter().filter(|m| m.name != "carl")) {
        secrets.push((
            format!("{}'s passphrase", m.name),
            m.passphrase.as_bytes().to_vec(),
        ));
        let mut profile = Profile::load(&m.profile).unwrap();
        let unlocked = northstar_client::login(&url, &mut profile, &m.name, &m.passphrase)
            .await
            .unwrap();
        secrets.push((
            format!("{}'s root key", m.name),
            unlocked.root.bytes_for_leak_scan().to_vec(),
        ));
        let [seed, agreement] = unlocked.keys.bytes_for_leak_scan();
        secrets.push((format!("{}'s signing key", m.name), seed.to_vec()));
        secrets.push((format!("{}'s agreement key", m.name), agreement.to_vec()));
        if let Some(org_root) = &unlocked.org_root {
            secrets.push((
                "the organization root key".into(),
                org_root.bytes_for_leak_scan().to_vec(),
            ));
        }
    }
    assert!(secrets.len() >= 9);
    drop(server); // stop writing before reading the files

    let mut scanned = 0;
    let files: Vec<_> = support::files_under(&dir.path().join("s-data"))
        .into_iter()
        .chain([dir.path().join("s.log")])
        .collect();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        scanned += data.len();
        for (what, secret) in &secrets {
            for form in encodings(secret) {
                assert!(
                    !support::contains(&data, &form),
                    "{what} found in {}",
                    file.display()
                );
            }
        }
    }
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with(".sqlite3")),
        "the database was scanned"
    );
    assert!(
        scanned > 10_000,
        "the scan read the files ({scanned} bytes)"
    );
}

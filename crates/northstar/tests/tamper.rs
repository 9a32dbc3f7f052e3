//! An attacker edits the database behind the server: flips a byte, moves an
//! entry to another case, deletes one from the middle, swaps two, serves an
//! older head. Each time the client refuses and names what is wrong.

mod support;

use northstar_client::Profile;
use northstar_crypto::envelope::entry_hash;
use northstar_store_sqlite::tamper::Tamper;
use support::{Backend, Member, Server};

fn new_case(ada: &Member, url: &str, alias: &str, writes: usize) -> String {
    let id = ada.json(url, &["case", "new", "--alias", alias])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..writes {
        ada.ok(
            url,
            &["case", "set", &id, &format!("story.step{i}=value {i}")],
        );
    }
    // Reading once makes the profile remember the head.
    ada.ok(url, &["case", "show", &id]);
    id
}

fn id16(hex: &str) -> [u8; 16] {
    northstar_crypto::ids::from_hex::<16>(hex).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_edit_behind_the_server_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, members) = support::org_with(&url, dir.path(), &[("bob", "caseworker")]);
    let bob = &members[0];
    let db = Tamper::open(&server.data_dir.join("northstar.sqlite3"))
        .await
        .unwrap();

    let refused = |id: &str, expect: &str| {
        let err = ada.fails(&url, &["case", "show", id]);
        assert!(err.contains(expect), "expected '{expect}' in: {err}");
        err
    };

    // A flipped byte in the last entry: its signature fails.
    let flipped_last = new_case(&ada, &url, "flip-last", 3);
    let entries = ada.json(&url, &["case", "history", &flipped_last])["history"]
        .as_array()
        .unwrap()
        .len() as u64;
    db.flip_entry_byte(&id16(&flipped_last), entries - 1, 200)
        .await
        .unwrap();
    refused(&flipped_last, "signature");

    // A flipped byte in the middle: the next entry no longer links to it.
    let flipped_mid = new_case(&ada, &url, "flip-mid", 3);
    db.flip_entry_byte(&id16(&flipped_mid), 1, 200)
        .await
        .unwrap();
    refused(
        &flipped_mid,
        "chain entry 2 does not link to the entry before it",
    );

    // An entry moved in from another case.
    let victim = new_case(&ada, &url, "victim", 3);
    let donor = new_case(&ada, &url, "donor", 3);
    db.copy_entry_from(&id16(&donor), &id16(&victim), 2)
        .await
        .unwrap();
    refused(
        &victim,
        "chain entry 2 belongs to another organization or case",
    );

    // An entry deleted from the middle.
    let gap = new_case(&ada, &url, "gap", 3);
    db.delete_entry(&id16(&gap), 1).await.unwrap();
    refused(&gap, "entries 1..2 are missing");

    // Two entries swapped.
    let swapped = new_case(&ada, &url, "swapped", 3);
    db.swap_entries(&id16(&swapped), 1, 2).await.unwrap();
    refused(&swapped, "out of order");

    // An older head served as if it were current.
    let rolled = new_case(&ada, &url, "rolled", 3);
    let mut profile = Profile::load(&ada.profile).unwrap();
    let unlocked = northstar_client::login(&url, &mut profile, "ada", &ada.passphrase)
        .await
        .unwrap();
    let page = unlocked.api.case_entries(&rolled, 0, 100).await.unwrap();
    use base64::Engine;
    let entry1 = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&page.entries[1].entry)
        .unwrap();
    db.roll_back(&id16(&rolled), 2, &entry_hash(&entry1))
        .await
        .unwrap();
    refused(&rolled, "rolled the case back");

    // A member who lost access (so the case left their cache) and regained
    // it still catches a rollback below the head they saw.
    let regained = new_case(&ada, &url, "regained", 3);
    let share = [
        "case",
        "share",
        &regained,
        "--with",
        "bob",
        "--compartment",
        "summary,story",
    ];
    ada.ok(&url, &share);
    bob.ok(&url, &["case", "show", &regained]);
    ada.ok(&url, &["case", "unshare", &regained, "--with", "bob"]);
    let listed = bob.json(&url, &["case", "list"]);
    assert!(listed["cases"].as_array().unwrap().is_empty(), "{listed}");
    let page = unlocked.api.case_entries(&regained, 0, 100).await.unwrap();
    let entry1 = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&page.entries[1].entry)
        .unwrap();
    db.roll_back(&id16(&regained), 2, &entry_hash(&entry1))
        .await
        .unwrap();
    ada.ok(&url, &share);
    let err = bob.fails(&url, &["case", "show", &regained]);
    assert!(err.contains("rolled the case back"), "{err}");

    // Untouched cases still read.
    let fine = new_case(&ada, &url, "fine", 2);
    ada.ok(&url, &["case", "show", &fine]);
}

//! Two `northstar serve` processes on one PostgreSQL behave as one server: an
//! invitation made through one is accepted through the other, and a member
//! removed through one is refused by the other at once.

mod support;

use support::{Backend, Member, Server, last_word};

#[test]
fn two_servers_on_one_postgres_share_invitations_and_removals() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Postgres(support::fresh_postgres_database("two_servers"));
    // Both use one data folder for the shared seal key; the data itself is in PostgreSQL.
    let shared = dir.path().join("shared-data");
    let one = Server::start_with(dir.path(), "one", &backend, Some(&shared));
    let two = Server::start_with(dir.path(), "two", &backend, Some(&shared));

    let ada = Member::new(dir.path(), "ada");
    ada.ok(
        &one.url,
        &["org", "init", "--org", "Twin Org", "--user", "ada"],
    );
    let code = last_word(&ada.ok(&one.url, &["invite", "--role", "caseworker"]));
    let bob = Member::new(dir.path(), "bob");
    bob.ok(&two.url, &["join", "--invite", &code, "--user", "bob"]);
    // The same code is used up on both.
    let carl = Member::new(dir.path(), "carl");
    let err = carl.fails(&one.url, &["join", "--invite", &code, "--user", "carl"]);
    assert!(err.contains("already used"), "{err}");
    ada.ok(&one.url, &["member", "list"]);
    let list = bob.ok(&two.url, &["member", "list"]);
    assert!(list.contains("ada") && list.contains("bob"), "{list}");

    // bob signs in through server two; ada removes him through server one.
    bob.ok(&two.url, &["login", "--user", "bob"]);
    ada.ok(&one.url, &["member", "remove", "bob"]);
    let err = bob.fails(&two.url, &["member", "list"]);
    assert!(err.contains("removed"), "{err}");
    let err = bob.fails(&two.url, &["login", "--user", "bob"]);
    assert!(err.contains("removed"), "{err}");
}

//! The conformance suite: the behaviour every backend of [`Store`] must show,
//! written once and run against SQLite and PostgreSQL alike (BRIEF §8: "the
//! same conformance suite passes on SQLite and PostgreSQL").
//!
//! Every behaviour is a `pub async fn` that takes a store which is EMPTY (no
//! organization, no accounts, no secrets) and panics on the first deviation.
//! A backend's test file runs them one test each with [`conformance_tests!`]:
//!
//! ```text
//! async fn run(behaviour: northstar_store::conformance::Behaviour) {
//!     let store = /* a fresh, empty store */;
//!     behaviour(std::sync::Arc::new(store)).await;
//! }
//! northstar_store::conformance_tests!(run);
//! ```
//!
//! or all at once with [`run_all`].
//!
//! The racing behaviours start their contenders together from several tasks,
//! so they only race for real on a multi-threaded runtime (the tests that
//! [`conformance_tests!`] writes use one).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::{
    AccountRow, AccountStatus, CaseEntryRow, CaseRow, ConversationRow, GrantRow, Id, IntakeDeskRow,
    InviteRow, MembershipEffect, OrgRow, RotationRow, SessionRow, Store, StoreError, Time,
};

/// One behaviour of the suite, boxed so a list of them can be kept.
pub type Behaviour = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! behaviours {
    ($($name:ident),* $(,)?) => {
        /// Every behaviour of the suite, by name, in the order [`run_all`] runs them.
        pub const ALL: &[(&str, Behaviour)] = &[
            $((stringify!($name), |store| Box::pin($name(store)))),*
        ];
    };
}

behaviours!(
    secrets_put_if_absent_keeps_the_first_value,
    racing_secret_puts_agree_on_one_value,
    create_org_stores_org_founder_and_links,
    second_create_org_fails_and_changes_nothing,
    racing_create_orgs_exactly_one_wins,
    check_invite_reports_each_state,
    join_consumes_the_invite_and_adds_a_pending_account,
    join_unknown_or_expired_invite_changes_nothing,
    join_with_taken_username_leaves_invite_unused,
    join_with_taken_account_id_leaves_invite_unused,
    racing_joins_on_one_invite_exactly_one_wins,
    racing_joins_for_one_username_exactly_one_wins,
    create_invite_rejects_duplicates_and_unknown_creators,
    membership_append_needs_the_exact_position,
    membership_append_needs_an_organization,
    racing_appends_at_one_position_exactly_one_wins,
    membership_effects_change_the_account,
    membership_effect_on_unknown_account_appends_nothing,
    sessions_expire_and_can_be_deleted,
    sessions_cannot_outlive_a_racing_removal,
    delete_sessions_of_counts_only_that_account,
    login_state_is_single_use_and_expires,
    racing_login_state_takes_exactly_one_gets_it,
    purge_expired_removes_only_expired_sessions_and_logins,
    blobs_round_trip_byte_exact,
    unicode_usernames_round_trip_exactly,
    accounts_are_listed_oldest_first,
    invites_are_listed_newest_first,
    create_case_stores_the_case_and_its_grants,
    create_case_is_all_or_nothing,
    racing_create_cases_exactly_one_wins,
    case_append_needs_the_exact_position,
    racing_case_appends_at_one_position_exactly_one_wins,
    case_entries_are_paged_in_order,
    put_grants_is_all_or_nothing,
    revocation_deletes_exactly_the_named_grants,
    racing_grant_puts_for_one_key_exactly_one_wins,
    cases_for_account_lists_cases_with_a_grant_in_id_order,
    case_grants_and_rotations_are_listed_oldest_first,
    case_blobs_round_trip_byte_exact,
    case_bundles_hold_the_callers_grants_and_entries_from_where_asked,
    intake_desk_is_set_and_never_goes_back,
    intake_conversations_keep_every_message_in_order,
    intake_threads_list_the_most_recently_active_first,
    racing_intake_messages_all_land_with_distinct_numbers,
    referral_codes_are_spent_once_per_use,
    invitations_carry_intake_keys,
);

/// Run every behaviour, each against its own fresh store from `fresh`.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    for (_name, behaviour) in ALL {
        behaviour(fresh().await).await;
    }
}

/// Write one `#[tokio::test]` per behaviour of the suite, each calling
/// `$run(behaviour)`, where `$run` is an `async fn(Behaviour)` of the
/// backend's test file that makes a fresh, empty store, passes it to the
/// behaviour and cleans up. Also writes a test that the list is complete.
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).
#[macro_export]
macro_rules! conformance_tests {
    ($run:path) => {
        $crate::conformance_tests!(@each $run;
            secrets_put_if_absent_keeps_the_first_value,
            racing_secret_puts_agree_on_one_value,
            create_org_stores_org_founder_and_links,
            second_create_org_fails_and_changes_nothing,
            racing_create_orgs_exactly_one_wins,
            check_invite_reports_each_state,
            join_consumes_the_invite_and_adds_a_pending_account,
            join_unknown_or_expired_invite_changes_nothing,
            join_with_taken_username_leaves_invite_unused,
            join_with_taken_account_id_leaves_invite_unused,
            racing_joins_on_one_invite_exactly_one_wins,
            racing_joins_for_one_username_exactly_one_wins,
            create_invite_rejects_duplicates_and_unknown_creators,
            membership_append_needs_the_exact_position,
            membership_append_needs_an_organization,
            racing_appends_at_one_position_exactly_one_wins,
            membership_effects_change_the_account,
            membership_effect_on_unknown_account_appends_nothing,
            sessions_expire_and_can_be_deleted,
            sessions_cannot_outlive_a_racing_removal,
            delete_sessions_of_counts_only_that_account,
            login_state_is_single_use_and_expires,
            racing_login_state_takes_exactly_one_gets_it,
            purge_expired_removes_only_expired_sessions_and_logins,
            blobs_round_trip_byte_exact,
            unicode_usernames_round_trip_exactly,
            accounts_are_listed_oldest_first,
            invites_are_listed_newest_first,
            create_case_stores_the_case_and_its_grants,
            create_case_is_all_or_nothing,
            racing_create_cases_exactly_one_wins,
            case_append_needs_the_exact_position,
            racing_case_appends_at_one_position_exactly_one_wins,
            case_entries_are_paged_in_order,
            put_grants_is_all_or_nothing,
            revocation_deletes_exactly_the_named_grants,
            racing_grant_puts_for_one_key_exactly_one_wins,
            cases_for_account_lists_cases_with_a_grant_in_id_order,
            case_grants_and_rotations_are_listed_oldest_first,
            case_blobs_round_trip_byte_exact,
            case_bundles_hold_the_callers_grants_and_entries_from_where_asked,
            intake_desk_is_set_and_never_goes_back,
            intake_conversations_keep_every_message_in_order,
            intake_threads_list_the_most_recently_active_first,
            racing_intake_messages_all_land_with_distinct_numbers,
            referral_codes_are_spent_once_per_use,
            invitations_carry_intake_keys,
        );
    };
    (@each $run:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $run(|store| ::std::boxed::Box::pin($crate::conformance::$name(store))).await;
            }
        )*

        #[test]
        fn conformance_suite_is_complete() {
            let here: &[&str] = &[$(stringify!($name)),*];
            let all: ::std::vec::Vec<&str> =
                $crate::conformance::ALL.iter().map(|(name, _)| *name).collect();
            assert_eq!(here, all.as_slice(), "conformance_tests! and ALL list different behaviours");
        }
    };
}

// ---------------------------------------------------------------------------
// Fixtures

/// How many tasks race in the racing behaviours.
const RACERS: usize = 16;

/// How many times the racing behaviours race (a lost race is a matter of
/// timing, so one round could pass by luck).
const ROUNDS: usize = 8;

/// A fixed "now" so the times read well in failures.
const T0: Time = 1_700_000_000;

fn id(tag: u8, n: u8) -> Id {
    let mut id = [tag; 16];
    id[15] = n;
    id
}

fn token(n: u8) -> [u8; 32] {
    let mut t = [0x7a; 32];
    t[0] = n;
    t
}

fn org_row(n: u8) -> OrgRow {
    OrgRow {
        org_id: id(0x0a, n),
        name: format!("Northstar Shelter Network {n}"),
        root_public_key: vec![0x52, n, 0x00, 0xff],
        created_at: T0,
    }
}

fn founder_row(n: u8) -> AccountRow {
    AccountRow {
        account_id: id(0xf0, n),
        username: format!("founder{n}"),
        opaque_record: vec![1, n, 0, 0xff],
        slot: vec![2, n],
        keybox: vec![3, n],
        org_root_box: Some(vec![4, n]),
        signing_key: vec![5; 32],
        agreement_key: vec![6; 32],
        role: Some("admin".into()),
        status: AccountStatus::Active,
        invite_id: None,
        join_proof: None,
        created_at: T0,
    }
}

fn genesis_links(n: u8) -> Vec<Vec<u8>> {
    vec![vec![0x60, n, 0], vec![0x60, n, 1]]
}

fn pending_row(n: u8, username: &str, invite: Id, created_at: Time) -> AccountRow {
    AccountRow {
        account_id: id(0xac, n),
        username: username.into(),
        opaque_record: vec![0x11, n],
        slot: vec![0x12, n],
        keybox: vec![0x13, n],
        org_root_box: None,
        signing_key: vec![0x14; 32],
        agreement_key: vec![0x15; 32],
        role: None,
        status: AccountStatus::Pending,
        invite_id: Some(invite),
        join_proof: Some(vec![0x16, n]),
        created_at,
    }
}

fn invite_row(n: u8, created_by: Id, created_at: Time, expires_at: Time) -> InviteRow {
    InviteRow {
        invite_id: id(0x1e, n),
        role: "caseworker".into(),
        created_by,
        created_at,
        expires_at,
        used_by: None,
        used_at: None,
        sealed_secret: vec![0x5e, n, 0x00, 0xff],
    }
}

fn session_row(n: u8, account_id: Id, expires_at: Time) -> SessionRow {
    SessionRow {
        token_hash: token(n),
        account_id,
        created_at: T0,
        expires_at,
    }
}

/// Create the organization with founder 0 and two genesis links.
async fn found(store: &dyn Store) -> AccountRow {
    let founder = founder_row(0);
    store
        .create_org(&org_row(0), &founder, &genesis_links(0))
        .await
        .expect("create_org on an empty store");
    founder
}

/// Create invitation `n` (valid for an hour) and join with a pending account `n`.
async fn invite_and_join(store: &dyn Store, n: u8, username: &str, created_at: Time) -> AccountRow {
    let invite = invite_row(n, founder_row(0).account_id, created_at, created_at + 3600);
    store.create_invite(&invite).await.expect("create_invite");
    let account = pending_row(n, username, invite.invite_id, created_at);
    store
        .join(&invite.invite_id, &account, created_at)
        .await
        .expect("join with a fresh invitation");
    account
}

async fn invite_by_id(store: &dyn Store, invite_id: &Id) -> InviteRow {
    store
        .invites()
        .await
        .expect("invites")
        .into_iter()
        .find(|i| &i.invite_id == invite_id)
        .expect("the invitation is listed")
}

/// Deterministic bytes (xorshift) that contain every byte value.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    for b in 0..=255u8 {
        out[usize::from(b) * 3 % len] = b;
    }
    out
}

/// Start `RACERS` copies of `contender(i)` together and collect their results.
///
/// A round of reads from every task first lets a pooled backend open its
/// connections, so the contenders do not line up behind connection set-up
/// and really overlap.
async fn race<T, F, Fut>(store: &Arc<dyn Store>, contender: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut set = JoinSet::new();
    for i in 0..RACERS {
        let barrier = barrier.clone();
        let warm = store.clone();
        let run = contender(store.clone(), i);
        set.spawn(async move {
            barrier.wait().await;
            warm.get_org().await.expect("get_org while warming up");
            barrier.wait().await;
            run.await
        });
    }
    let mut results = Vec::with_capacity(RACERS);
    while let Some(joined) = set.join_next().await {
        results.push(joined.expect("a racing task panicked"));
    }
    results
}

fn racer(i: usize) -> u8 {
    u8::try_from(i).expect("fewer than 256 racers")
}

// ---------------------------------------------------------------------------
// Secrets

pub async fn secrets_put_if_absent_keeps_the_first_value(store: Arc<dyn Store>) {
    assert_eq!(store.get_secret("cookie-key").await.unwrap(), None);
    let first = store
        .put_secret_if_absent("cookie-key", b"first")
        .await
        .unwrap();
    assert_eq!(first, b"first");
    let second = store
        .put_secret_if_absent("cookie-key", b"second")
        .await
        .unwrap();
    assert_eq!(
        second, b"first",
        "a second put must return the stored value"
    );
    assert_eq!(
        store.get_secret("cookie-key").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    // Names are independent.
    assert_eq!(store.get_secret("other").await.unwrap(), None);
    assert_eq!(
        store.put_secret_if_absent("other", b"x").await.unwrap(),
        b"x"
    );
    assert_eq!(
        store.get_secret("cookie-key").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
}

pub async fn racing_secret_puts_agree_on_one_value(store: Arc<dyn Store>) {
    for round in 0..ROUNDS {
        let name = format!("server-key-{round}");
        let results = race(&store, |store, i| {
            let name = name.clone();
            async move {
                let value = format!("value-{i}").into_bytes();
                store.put_secret_if_absent(&name, &value).await
            }
        })
        .await;
        let stored = store.get_secret(&name).await.unwrap().unwrap();
        assert!(
            (0..RACERS).any(|i| stored == format!("value-{i}").into_bytes()),
            "the stored value is one of the racers'"
        );
        for r in results {
            assert_eq!(
                r.unwrap(),
                stored,
                "every racer is told the one stored value"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Organization

pub async fn create_org_stores_org_founder_and_links(store: Arc<dyn Store>) {
    assert_eq!(store.get_org().await.unwrap(), None);
    assert!(store.accounts().await.unwrap().is_empty());
    assert!(store.membership_links().await.unwrap().is_empty());

    let founder = found(&*store).await;
    assert_eq!(store.get_org().await.unwrap(), Some(org_row(0)));
    assert_eq!(
        store.account(&founder.account_id).await.unwrap(),
        Some(founder.clone())
    );
    assert_eq!(
        store.account_by_username("founder0").await.unwrap(),
        Some(founder.clone())
    );
    assert_eq!(store.accounts().await.unwrap(), vec![founder]);
    assert_eq!(store.membership_links().await.unwrap(), genesis_links(0));
}

pub async fn second_create_org_fails_and_changes_nothing(store: Arc<dyn Store>) {
    let founder = found(&*store).await;

    // A different organization with a different founder.
    let err = store
        .create_org(&org_row(1), &founder_row(1), &genesis_links(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OrgExists), "got {err:?}");
    // The same founder again: still OrgExists, not a name clash.
    let err = store
        .create_org(&org_row(0), &founder, &genesis_links(0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OrgExists), "got {err:?}");

    assert_eq!(store.get_org().await.unwrap(), Some(org_row(0)));
    assert_eq!(store.accounts().await.unwrap(), vec![founder]);
    assert_eq!(
        store.account(&founder_row(1).account_id).await.unwrap(),
        None
    );
    assert_eq!(store.membership_links().await.unwrap(), genesis_links(0));
}

pub async fn racing_create_orgs_exactly_one_wins(store: Arc<dyn Store>) {
    let results = race(&store, |store, i| async move {
        let n = racer(i);
        store
            .create_org(&org_row(n), &founder_row(n), &genesis_links(n))
            .await
            .map(|()| n)
    })
    .await;
    let mut winners = Vec::new();
    for r in results {
        match r {
            Ok(n) => winners.push(n),
            Err(StoreError::OrgExists) => {}
            Err(e) => panic!("a losing create_org must say OrgExists, got {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create_org wins: {winners:?}");
    let n = winners[0];
    assert_eq!(store.get_org().await.unwrap(), Some(org_row(n)));
    assert_eq!(store.accounts().await.unwrap(), vec![founder_row(n)]);
    assert_eq!(store.membership_links().await.unwrap(), genesis_links(n));
}

// ---------------------------------------------------------------------------
// Invitations and joining

pub async fn check_invite_reports_each_state(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let err = store.check_invite(&id(0x1e, 99), T0).await.unwrap_err();
    assert!(matches!(err, StoreError::InviteNotFound), "got {err:?}");

    // Checking does not consume: twice in a row is fine.
    assert_eq!(
        store.check_invite(&invite.invite_id, T0).await.unwrap(),
        invite
    );
    assert_eq!(
        store
            .check_invite(&invite.invite_id, T0 + 999)
            .await
            .unwrap(),
        invite
    );
    // Expired at expires_at exactly.
    let err = store
        .check_invite(&invite.invite_id, T0 + 1000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InviteExpired), "got {err:?}");

    let account = pending_row(1, "newcomer", invite.invite_id, T0 + 5);
    store
        .join(&invite.invite_id, &account, T0 + 5)
        .await
        .unwrap();
    let err = store
        .check_invite(&invite.invite_id, T0 + 6)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InviteUsed), "got {err:?}");
    // Used wins over expired: the more useful answer.
    let err = store
        .check_invite(&invite.invite_id, T0 + 5000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InviteUsed), "got {err:?}");
}

pub async fn join_consumes_the_invite_and_adds_a_pending_account(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let account = pending_row(1, "newcomer", invite.invite_id, T0 + 10);
    store
        .join(&invite.invite_id, &account, T0 + 10)
        .await
        .unwrap();
    assert_eq!(
        store.account(&account.account_id).await.unwrap(),
        Some(account.clone())
    );
    assert_eq!(
        store.account_by_username("newcomer").await.unwrap(),
        Some(account.clone())
    );
    let used = invite_by_id(&*store, &invite.invite_id).await;
    assert_eq!(
        used,
        InviteRow {
            used_by: Some(account.account_id),
            used_at: Some(T0 + 10),
            ..invite.clone()
        }
    );

    // A second join with the same invitation fails and adds nobody.
    let other = pending_row(2, "latecomer", invite.invite_id, T0 + 20);
    let err = store
        .join(&invite.invite_id, &other, T0 + 20)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InviteUsed), "got {err:?}");
    assert_eq!(store.account(&other.account_id).await.unwrap(), None);
    assert_eq!(store.account_by_username("latecomer").await.unwrap(), None);
    assert_eq!(invite_by_id(&*store, &invite.invite_id).await, used);
    assert_eq!(store.accounts().await.unwrap(), vec![founder, account]);
}

pub async fn join_unknown_or_expired_invite_changes_nothing(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let stranger = pending_row(1, "stranger", id(0x1e, 99), T0);
    let err = store.join(&id(0x1e, 99), &stranger, T0).await.unwrap_err();
    assert!(matches!(err, StoreError::InviteNotFound), "got {err:?}");

    let late = pending_row(2, "late", invite.invite_id, T0 + 1000);
    let err = store
        .join(&invite.invite_id, &late, T0 + 1000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InviteExpired), "got {err:?}");

    assert_eq!(store.accounts().await.unwrap(), vec![founder]);
    assert_eq!(invite_by_id(&*store, &invite.invite_id).await, invite);
    // Still usable before it expires.
    assert_eq!(
        store
            .check_invite(&invite.invite_id, T0 + 999)
            .await
            .unwrap(),
        invite
    );
}

pub async fn join_with_taken_username_leaves_invite_unused(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let clash = pending_row(1, &founder.username, invite.invite_id, T0 + 1);
    let err = store
        .join(&invite.invite_id, &clash, T0 + 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken), "got {err:?}");

    assert_eq!(store.account(&clash.account_id).await.unwrap(), None);
    assert_eq!(
        store.account_by_username(&founder.username).await.unwrap(),
        Some(founder.clone())
    );
    assert_eq!(invite_by_id(&*store, &invite.invite_id).await, invite);
    assert_eq!(
        store.check_invite(&invite.invite_id, T0 + 2).await.unwrap(),
        invite
    );

    // The invitation still works with a free name.
    let fine = pending_row(1, "free-name", invite.invite_id, T0 + 3);
    store.join(&invite.invite_id, &fine, T0 + 3).await.unwrap();
    assert_eq!(store.accounts().await.unwrap(), vec![founder, fine]);
}

pub async fn join_with_taken_account_id_leaves_invite_unused(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let clash = AccountRow {
        account_id: founder.account_id,
        ..pending_row(1, "impostor", invite.invite_id, T0 + 1)
    };
    let err = store
        .join(&invite.invite_id, &clash, T0 + 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AccountExists), "got {err:?}");

    assert_eq!(
        store.account(&founder.account_id).await.unwrap(),
        Some(founder.clone())
    );
    assert_eq!(store.account_by_username("impostor").await.unwrap(), None);
    assert_eq!(invite_by_id(&*store, &invite.invite_id).await, invite);
    assert_eq!(store.accounts().await.unwrap(), vec![founder]);
}

pub async fn racing_joins_on_one_invite_exactly_one_wins(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let mut members = vec![founder.clone()];
    for round in 0..ROUNDS {
        let invite = invite_row(racer(round), founder.account_id, T0, T0 + 1000);
        store.create_invite(&invite).await.unwrap();
        let invite_id = invite.invite_id;

        let results = race(&store, |store, i| async move {
            let n = racer(round * RACERS + i);
            let account = pending_row(n, &format!("joiner{n}"), invite_id, T0 + 1);
            store
                .join(&invite_id, &account, T0 + 1)
                .await
                .map(|()| account)
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(account) => winners.push(account),
                Err(StoreError::InviteUsed) => {}
                Err(e) => panic!("a losing join must say InviteUsed, got {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one join wins");
        let winner = winners.pop().unwrap();
        let used = invite_by_id(&*store, &invite_id).await;
        assert_eq!(used.used_by, Some(winner.account_id));
        assert_eq!(used.used_at, Some(T0 + 1));
        members.push(winner);
    }
    let mut accounts = store.accounts().await.unwrap();
    accounts.sort_by_key(|a| a.account_id);
    members.sort_by_key(|a| a.account_id);
    assert_eq!(accounts, members, "only the winners joined");
}

pub async fn racing_joins_for_one_username_exactly_one_wins(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    for n in 0..RACERS * ROUNDS {
        let invite = invite_row(racer(n), founder.account_id, T0, T0 + 1000);
        store.create_invite(&invite).await.unwrap();
    }
    let mut won = Vec::new();
    for round in 0..ROUNDS {
        let name = format!("river{round}");
        let results = race(&store, |store, i| {
            let name = name.clone();
            async move {
                let n = racer(round * RACERS + i);
                let invite_id = id(0x1e, n);
                let account = pending_row(n, &name, invite_id, T0 + 1);
                store.join(&invite_id, &account, T0 + 1).await.map(|()| n)
            }
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(n) => winners.push(n),
                Err(StoreError::UsernameTaken) => {}
                Err(e) => panic!("a losing join must say UsernameTaken, got {e:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "exactly one join gets the name: {winners:?}"
        );
        let river = store.account_by_username(&name).await.unwrap().unwrap();
        assert_eq!(river.account_id, id(0xac, winners[0]));
        won.push(winners[0]);
    }
    assert_eq!(store.accounts().await.unwrap().len(), 1 + ROUNDS);
    // Every losing invitation is still unused.
    for invite in store.invites().await.unwrap() {
        let n = invite.invite_id[15];
        if won.contains(&n) {
            assert_eq!(invite.used_by, Some(id(0xac, n)));
        } else {
            assert_eq!(invite.used_by, None, "a failed join consumed an invitation");
            assert_eq!(invite.used_at, None);
        }
    }
}

pub async fn create_invite_rejects_duplicates_and_unknown_creators(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let invite = invite_row(1, founder.account_id, T0, T0 + 1000);
    store.create_invite(&invite).await.unwrap();

    let again = InviteRow {
        role: "admin".into(),
        ..invite.clone()
    };
    let err = store.create_invite(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");

    let orphan = invite_row(2, id(0xee, 0), T0, T0 + 1000);
    let err = store.create_invite(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");

    assert_eq!(store.invites().await.unwrap(), vec![invite]);
}

// ---------------------------------------------------------------------------
// The membership chain

pub async fn membership_append_needs_the_exact_position(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let mut chain = genesis_links(0);

    let link = noise(300, 2);
    store
        .append_membership_link(2, &link, &MembershipEffect::None)
        .await
        .unwrap();
    chain.push(link);
    assert_eq!(store.membership_links().await.unwrap(), chain);

    for (seq, note) in [
        (3u64, "ok"),
        (2, "taken"),
        (0, "genesis"),
        (1, "old"),
        (7, "gap"),
    ] {
        if note == "ok" {
            let link = vec![0x70, 3];
            store
                .append_membership_link(seq, &link, &MembershipEffect::None)
                .await
                .unwrap();
            chain.push(link);
            continue;
        }
        // A wrong position changes nothing, not even the effect.
        let err = store
            .append_membership_link(
                seq,
                b"stale",
                &MembershipEffect::Remove {
                    account_id: founder.account_id,
                },
            )
            .await
            .unwrap_err();
        match err {
            StoreError::Conflict { expected, actual } => {
                assert_eq!((expected, actual), (seq, 4), "{note}");
            }
            e => panic!("{note}: expected Conflict, got {e:?}"),
        }
    }
    assert_eq!(store.membership_links().await.unwrap(), chain);
    assert_eq!(
        store.account(&founder.account_id).await.unwrap(),
        Some(founder)
    );
}

pub async fn membership_append_needs_an_organization(store: Arc<dyn Store>) {
    let err = store
        .append_membership_link(0, b"genesis", &MembershipEffect::None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OrgMissing), "got {err:?}");
    assert!(store.membership_links().await.unwrap().is_empty());
}

pub async fn racing_appends_at_one_position_exactly_one_wins(store: Arc<dyn Store>) {
    found(&*store).await;
    let mut chain = genesis_links(0);
    for round in 0..ROUNDS {
        let seq = u64::try_from(chain.len()).unwrap();
        let results = race(&store, |store, i| async move {
            let link = vec![0x77, racer(round), racer(i)];
            store
                .append_membership_link(seq, &link, &MembershipEffect::None)
                .await
                .map(|()| link)
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(link) => winners.push(link),
                Err(StoreError::Conflict { expected, actual }) => {
                    assert_eq!(
                        (expected, actual),
                        (seq, seq + 1),
                        "a loser sees the winner's link"
                    );
                }
                Err(e) => panic!("a losing append must say Conflict, got {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one append wins");
        chain.push(winners.pop().unwrap());
        assert_eq!(store.membership_links().await.unwrap(), chain);
    }
}

pub async fn membership_effects_change_the_account(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let member = invite_and_join(&*store, 1, "member", T0 + 1).await;
    let bystander = invite_and_join(&*store, 2, "bystander", T0 + 2).await;

    store
        .append_membership_link(
            2,
            b"activate",
            &MembershipEffect::Activate {
                account_id: member.account_id,
                role: "caseworker".into(),
            },
        )
        .await
        .unwrap();
    let active = AccountRow {
        status: AccountStatus::Active,
        role: Some("caseworker".into()),
        ..member.clone()
    };
    assert_eq!(
        store.account(&member.account_id).await.unwrap(),
        Some(active.clone())
    );

    store
        .append_membership_link(
            3,
            b"promote",
            &MembershipEffect::ChangeRole {
                account_id: member.account_id,
                role: "coordinator".into(),
            },
        )
        .await
        .unwrap();
    let promoted = AccountRow {
        role: Some("coordinator".into()),
        ..active
    };
    assert_eq!(
        store.account(&member.account_id).await.unwrap(),
        Some(promoted)
    );

    for (n, account) in [
        (1, member.account_id),
        (2, member.account_id),
        (3, founder.account_id),
    ] {
        store
            .create_session(&session_row(n, account, T0 + 10_000))
            .await
            .unwrap();
    }
    store
        .append_membership_link(
            4,
            b"remove",
            &MembershipEffect::Remove {
                account_id: member.account_id,
            },
        )
        .await
        .unwrap();
    let removed = store.account(&member.account_id).await.unwrap().unwrap();
    assert_eq!(removed.status, AccountStatus::Removed);
    assert_eq!(removed.username, "member");
    // Every session of the removed member ended with the link, no one else's.
    assert_eq!(store.session(&token(1), T0).await.unwrap(), None);
    assert_eq!(store.session(&token(2), T0).await.unwrap(), None);
    assert_eq!(
        store.delete_sessions_of(&member.account_id).await.unwrap(),
        0
    );
    assert_eq!(
        store.session(&token(3), T0).await.unwrap(),
        Some(session_row(3, founder.account_id, T0 + 10_000))
    );
    // A removed member cannot get a new session.
    let err = store
        .create_session(&session_row(4, member.account_id, T0 + 10_000))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(store.session(&token(4), T0).await.unwrap(), None);

    // Nobody else changed.
    assert_eq!(
        store.account(&founder.account_id).await.unwrap(),
        Some(founder)
    );
    assert_eq!(
        store.account(&bystander.account_id).await.unwrap(),
        Some(bystander)
    );
    assert_eq!(store.membership_links().await.unwrap().len(), 5);
}

pub async fn membership_effect_on_unknown_account_appends_nothing(store: Arc<dyn Store>) {
    found(&*store).await;
    let ghost = id(0xee, 1);
    for effect in [
        MembershipEffect::Activate {
            account_id: ghost,
            role: "caseworker".into(),
        },
        MembershipEffect::ChangeRole {
            account_id: ghost,
            role: "admin".into(),
        },
        MembershipEffect::Remove { account_id: ghost },
    ] {
        let err = store
            .append_membership_link(2, b"about a ghost", &effect)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound),
            "{effect:?}: got {err:?}"
        );
        assert_eq!(store.membership_links().await.unwrap(), genesis_links(0));
    }
    assert_eq!(store.account(&ghost).await.unwrap(), None);
    // The position is still free.
    store
        .append_membership_link(2, b"real", &MembershipEffect::None)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// Sessions and login states

pub async fn sessions_expire_and_can_be_deleted(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let s = session_row(1, founder.account_id, T0 + 600);
    store.create_session(&s).await.unwrap();

    assert_eq!(store.session(&token(1), T0).await.unwrap(), Some(s.clone()));
    assert_eq!(
        store.session(&token(1), T0 + 599).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(store.session(&token(1), T0 + 600).await.unwrap(), None);
    assert_eq!(store.session(&token(9), T0).await.unwrap(), None);

    // One token is one session.
    let again = session_row(1, founder.account_id, T0 + 99_999);
    let err = store.create_session(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    assert_eq!(store.session(&token(1), T0).await.unwrap(), Some(s));

    // Only existing accounts get sessions.
    let err = store
        .create_session(&session_row(2, id(0xee, 0), T0 + 600))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");

    store.delete_session(&token(1)).await.unwrap();
    assert_eq!(store.session(&token(1), T0).await.unwrap(), None);
    // Logging out twice is not an error.
    store.delete_session(&token(1)).await.unwrap();
}

pub async fn delete_sessions_of_counts_only_that_account(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let member = invite_and_join(&*store, 1, "member", T0).await;
    for n in 1..=3 {
        store
            .create_session(&session_row(n, member.account_id, T0 + 600))
            .await
            .unwrap();
    }
    // Expired sessions still count as rows of the account.
    store
        .create_session(&session_row(4, member.account_id, T0 - 1))
        .await
        .unwrap();
    store
        .create_session(&session_row(5, founder.account_id, T0 + 600))
        .await
        .unwrap();

    assert_eq!(
        store.delete_sessions_of(&member.account_id).await.unwrap(),
        4
    );
    for n in 1..=3 {
        assert_eq!(store.session(&token(n), T0).await.unwrap(), None);
    }
    assert!(store.session(&token(5), T0).await.unwrap().is_some());
    assert_eq!(
        store.delete_sessions_of(&member.account_id).await.unwrap(),
        0
    );
    assert_eq!(store.delete_sessions_of(&id(0xee, 0)).await.unwrap(), 0);
    assert_eq!(
        store.delete_sessions_of(&founder.account_id).await.unwrap(),
        1
    );
    assert_eq!(store.session(&token(5), T0).await.unwrap(), None);
}

pub async fn login_state_is_single_use_and_expires(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let login = id(0x10, 1);
    let state = noise(200, 3);
    store
        .put_login_state(&login, &founder.account_id, &state, T0 + 60)
        .await
        .unwrap();
    assert_eq!(
        store.take_login_state(&id(0x10, 9), T0).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_login_state(&login, T0 + 59).await.unwrap(),
        Some((founder.account_id, state.clone()))
    );
    assert_eq!(store.take_login_state(&login, T0 + 59).await.unwrap(), None);

    let late = id(0x10, 2);
    store
        .put_login_state(&late, &founder.account_id, &state, T0 + 60)
        .await
        .unwrap();
    assert_eq!(store.take_login_state(&late, T0 + 60).await.unwrap(), None);
    assert_eq!(store.take_login_state(&late, T0).await.unwrap(), None);

    // One id is one login; a second put does not replace the first.
    let twice = id(0x10, 3);
    store
        .put_login_state(&twice, &founder.account_id, b"first", T0 + 60)
        .await
        .unwrap();
    let err = store
        .put_login_state(&twice, &founder.account_id, b"second", T0 + 60)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    assert_eq!(
        store.take_login_state(&twice, T0).await.unwrap(),
        Some((founder.account_id, b"first".to_vec()))
    );

    // A sign-in for an unknown name runs under a dummy id that is no account.
    let dummy = id(0xee, 0);
    store
        .put_login_state(&id(0x10, 4), &dummy, b"decoy", T0 + 60)
        .await
        .unwrap();
    assert_eq!(
        store.take_login_state(&id(0x10, 4), T0).await.unwrap(),
        Some((dummy, b"decoy".to_vec()))
    );
    assert_eq!(store.account(&dummy).await.unwrap(), None);
}

pub async fn racing_login_state_takes_exactly_one_gets_it(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    for round in 0..ROUNDS {
        let login = id(0x10, racer(round));
        store
            .put_login_state(&login, &founder.account_id, b"half-done", T0 + 60)
            .await
            .unwrap();
        let results = race(&store, |store, _| async move {
            store.take_login_state(&login, T0).await
        })
        .await;
        let taken: Vec<_> = results.into_iter().filter_map(Result::unwrap).collect();
        assert_eq!(taken, vec![(founder.account_id, b"half-done".to_vec())]);
    }
}

pub async fn purge_expired_removes_only_expired_sessions_and_logins(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    let a = founder.account_id;
    let now = T0 + 1000;
    store
        .create_session(&session_row(1, a, now - 500))
        .await
        .unwrap();
    store.create_session(&session_row(2, a, now)).await.unwrap();
    store
        .create_session(&session_row(3, a, now + 1))
        .await
        .unwrap();
    store
        .put_login_state(&id(0x10, 1), &a, b"old", now)
        .await
        .unwrap();
    store
        .put_login_state(&id(0x10, 2), &a, b"fresh", now + 30)
        .await
        .unwrap();
    let old_invite = invite_row(1, a, T0, T0 + 10);
    store.create_invite(&old_invite).await.unwrap();

    assert_eq!(store.purge_expired(now).await.unwrap(), 3);
    assert_eq!(store.purge_expired(now).await.unwrap(), 0);

    // The live ones are untouched (asked about before they expire).
    assert_eq!(
        store.session(&token(3), now).await.unwrap(),
        Some(session_row(3, a, now + 1))
    );
    assert_eq!(store.delete_sessions_of(&a).await.unwrap(), 1);
    assert_eq!(
        store.take_login_state(&id(0x10, 1), T0).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_login_state(&id(0x10, 2), now).await.unwrap(),
        Some((a, b"fresh".to_vec()))
    );
    // Expired invitations stay listed for the admins.
    assert_eq!(store.invites().await.unwrap(), vec![old_invite]);
}

pub async fn sessions_cannot_outlive_a_racing_removal(store: Arc<dyn Store>) {
    found(&*store).await;
    let mut seq = 2;
    for round in 0..ROUNDS {
        let n = racer(round + 1);
        let member = invite_and_join(&*store, n, &format!("member{n}"), T0).await;
        let member_id = member.account_id;
        store
            .append_membership_link(
                seq,
                &[0x80, n],
                &MembershipEffect::Activate {
                    account_id: member_id,
                    role: "caseworker".into(),
                },
            )
            .await
            .unwrap();
        seq += 1;
        let remove_at = seq;
        // Task 0 removes the member while the others log in as the member.
        let results = race(&store, |store, i| async move {
            if i == 0 {
                let remove = MembershipEffect::Remove {
                    account_id: member_id,
                };
                store
                    .append_membership_link(remove_at, &[0x81, n], &remove)
                    .await
            } else {
                let t = racer(round * RACERS + i);
                match store
                    .create_session(&session_row(t, member_id, T0 + 600))
                    .await
                {
                    Err(StoreError::NotFound) => Ok(()),
                    other => other,
                }
            }
        })
        .await;
        seq += 1;
        for r in results {
            r.expect("the removal succeeds; a login either succeeds or finds no account");
        }
        for i in 1..RACERS {
            let t = racer(round * RACERS + i);
            assert_eq!(
                store.session(&token(t), T0).await.unwrap(),
                None,
                "a session of a removed member survived"
            );
        }
        assert_eq!(store.delete_sessions_of(&member_id).await.unwrap(), 0);
    }
}

// ---------------------------------------------------------------------------
// Round trips and ordering

pub async fn blobs_round_trip_byte_exact(store: Arc<dyn Store>) {
    const MIB: usize = 1 << 20;
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let big = noise(MIB, 0x5eed);
    assert!(big.contains(&0x00) && big.contains(&0xff));

    // Secrets.
    for (name, value) in [
        ("every-byte", every_byte.clone()),
        ("zeros", vec![0u8; 64]),
        ("ones", vec![0xffu8; 64]),
        ("big", big.clone()),
    ] {
        assert_eq!(
            store.put_secret_if_absent(name, &value).await.unwrap(),
            value
        );
        assert_eq!(store.get_secret(name).await.unwrap(), Some(value), "{name}");
    }

    // Organization and founder, every blob field distinct.
    let org = OrgRow {
        root_public_key: every_byte.clone(),
        ..org_row(0)
    };
    let founder = AccountRow {
        opaque_record: big.clone(),
        slot: vec![0x00, 0x00, 0xff, 0x00],
        keybox: noise(4096, 7),
        org_root_box: Some(vec![0xff; 33]),
        signing_key: vec![0x00; 32],
        agreement_key: vec![0xff; 32],
        ..founder_row(0)
    };
    let links = vec![every_byte.clone(), big.clone(), vec![0x00]];
    store.create_org(&org, &founder, &links).await.unwrap();
    assert_eq!(store.get_org().await.unwrap(), Some(org));
    assert_eq!(
        store.account(&founder.account_id).await.unwrap(),
        Some(founder.clone())
    );
    assert_eq!(store.membership_links().await.unwrap(), links);

    // Empty blobs stay empty (not NULL, not missing), None stays None.
    let invite = InviteRow {
        sealed_secret: big.clone(),
        ..invite_row(1, founder.account_id, T0, T0 + 1000)
    };
    store.create_invite(&invite).await.unwrap();
    assert_eq!(
        store.check_invite(&invite.invite_id, T0).await.unwrap(),
        invite
    );
    let joiner = AccountRow {
        slot: Vec::new(),
        org_root_box: Some(Vec::new()),
        join_proof: Some(every_byte.clone()),
        ..pending_row(1, "joiner", invite.invite_id, T0)
    };
    store.join(&invite.invite_id, &joiner, T0).await.unwrap();
    assert_eq!(
        store.account(&joiner.account_id).await.unwrap(),
        Some(joiner.clone())
    );
    assert_eq!(store.put_secret_if_absent("empty", b"").await.unwrap(), b"");
    assert_eq!(store.get_secret("empty").await.unwrap(), Some(Vec::new()));

    // Ids and token hashes made of 0x00 and 0xff.
    let zero_session = SessionRow {
        token_hash: [0x00; 32],
        ..session_row(0, founder.account_id, T0 + 60)
    };
    let ff_session = SessionRow {
        token_hash: [0xff; 32],
        ..session_row(0, joiner.account_id, T0 + 60)
    };
    store.create_session(&zero_session).await.unwrap();
    store.create_session(&ff_session).await.unwrap();
    assert_eq!(
        store.session(&[0x00; 32], T0).await.unwrap(),
        Some(zero_session)
    );
    assert_eq!(
        store.session(&[0xff; 32], T0).await.unwrap(),
        Some(ff_session)
    );

    store
        .put_login_state(&[0x00; 16], &founder.account_id, &big, T0 + 60)
        .await
        .unwrap();
    store
        .put_login_state(&[0xff; 16], &joiner.account_id, &every_byte, T0 + 60)
        .await
        .unwrap();
    assert_eq!(
        store.take_login_state(&[0xff; 16], T0).await.unwrap(),
        Some((joiner.account_id, every_byte))
    );
    assert_eq!(
        store.take_login_state(&[0x00; 16], T0).await.unwrap(),
        Some((founder.account_id, big))
    );
}

pub async fn unicode_usernames_round_trip_exactly(store: Arc<dyn Store>) {
    let org = OrgRow {
        name: "Ruta Norte — Красный Крест — 北极星 🌟".into(),
        ..org_row(0)
    };
    let founder = AccountRow {
        username: "Zoë".into(),
        role: Some("админ".into()),
        ..founder_row(0)
    };
    store
        .create_org(&org, &founder, &genesis_links(0))
        .await
        .unwrap();
    assert_eq!(store.get_org().await.unwrap(), Some(org));

    // Composed and decomposed forms, and letters of different case, are
    // different names to the store: normalizing is the server's business.
    let names = [
        "zoe\u{308}",
        "zoë",
        "ZOË",
        "Ольга",
        "محمد",
        "李小龙",
        "🦀 crab",
        "a\u{200d}b",
    ];
    let mut joined = vec![founder.clone()];
    for (n, name) in names.iter().enumerate() {
        let n = u8::try_from(n + 1).unwrap();
        joined.push(invite_and_join(&*store, n, name, T0 + i64::from(n)).await);
    }
    for account in &joined {
        assert_eq!(
            store.account_by_username(&account.username).await.unwrap(),
            Some(account.clone()),
            "lookup of {:?}",
            account.username
        );
    }
    assert_eq!(store.account_by_username("zoe").await.unwrap(), None);
    assert_eq!(store.account_by_username("ольга").await.unwrap(), None);
    assert_eq!(store.accounts().await.unwrap(), joined);
}

pub async fn accounts_are_listed_oldest_first(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    // Inserted out of time order; two share a time (then insertion order).
    let c = invite_and_join(&*store, 1, "c", T0 + 300).await;
    let a1 = invite_and_join(&*store, 2, "a1", T0 + 100).await;
    let b = invite_and_join(&*store, 3, "b", T0 + 200).await;
    let a2 = invite_and_join(&*store, 4, "a2", T0 + 100).await;
    assert_eq!(store.accounts().await.unwrap(), vec![founder, a1, a2, b, c]);
}

pub async fn invites_are_listed_newest_first(store: Arc<dyn Store>) {
    let founder = found(&*store).await;
    assert!(store.invites().await.unwrap().is_empty());
    let by = founder.account_id;
    // Inserted out of time order; two share a time (then newest insertion first).
    let i10 = invite_row(1, by, T0 + 10, T0 + 5000);
    let i30 = invite_row(2, by, T0 + 30, T0 + 5000);
    let i20a = invite_row(3, by, T0 + 20, T0 + 5000);
    let i20b = invite_row(4, by, T0 + 20, T0 + 5000);
    for invite in [&i10, &i30, &i20a, &i20b] {
        store.create_invite(invite).await.unwrap();
    }
    assert_eq!(store.invites().await.unwrap(), vec![i30, i20b, i20a, i10]);
}

// ---------------------------------------------------------------------------
// Cases: fixtures

fn case_row(case_id: Id, created_by: Id) -> CaseRow {
    CaseRow {
        case_id,
        created_by,
        created_at: T0,
        len: 0,
        head_hash: [0; 32],
        keys_version: 0,
    }
}

/// A grant by founder 0 at `T0`, its blob naming what it is.
fn grant(case_id: Id, compartment: u8, generation: u32, recipient: Id) -> GrantRow {
    GrantRow {
        case_id,
        compartment,
        generation,
        recipient,
        granted_by: founder_row(0).account_id,
        grant: vec![
            0x67,
            case_id[0],
            case_id[15],
            compartment,
            generation.to_le_bytes()[0],
            recipient[15],
            0x00,
            0xff,
        ],
        created_at: T0,
    }
}

fn rotation(case_id: Id, compartment: u8, new_generation: u32) -> RotationRow {
    RotationRow {
        case_id,
        compartment,
        new_generation,
        link: vec![
            0x72,
            case_id[15],
            compartment,
            new_generation.to_le_bytes()[0],
            0x00,
        ],
        created_at: T0,
    }
}

/// Entry `seq` of a case; `tag` makes racing writers' entries differ.
fn entry(case_id: Id, seq: u64, tag: u8) -> CaseEntryRow {
    CaseEntryRow {
        case_id,
        seq,
        compartment: tag % 4,
        record_id: id(0x2e, tag),
        generation: u32::from(tag),
        entry: vec![0x4e, case_id[15], seq.to_le_bytes()[0], tag, 0x00, 0xff],
        wrap: Some(vec![0x57, tag, 0x00]),
        created_at: T0 + i64::from(tag),
    }
}

fn head(a: u8, b: u8) -> [u8; 32] {
    let mut h = [0x4d; 32];
    h[0] = a;
    h[31] = b;
    h
}

/// Grants in key order, for comparing sets of grants.
fn sorted(mut grants: Vec<GrantRow>) -> Vec<GrantRow> {
    grants.sort_by_key(|g| (g.case_id, g.compartment, g.generation, g.recipient));
    grants
}

/// Create case `id(0xca, n)` by founder 0 with a compartment-0 grant to each of `members`.
async fn open_case(store: &dyn Store, n: u8, members: &[Id]) -> CaseRow {
    let case = case_row(id(0xca, n), founder_row(0).account_id);
    let grants: Vec<GrantRow> = members
        .iter()
        .map(|m| grant(case.case_id, 0, 0, *m))
        .collect();
    store
        .create_case(&case, &grants)
        .await
        .expect("create_case with fresh grants");
    case
}

/// The grants and rotation links of `case_id` are exactly these (grants in
/// any order).
async fn assert_keys(
    store: &dyn Store,
    case_id: &Id,
    grants: &[GrantRow],
    rotations: &[RotationRow],
    why: &str,
) {
    assert_eq!(
        sorted(store.case_grants(case_id).await.unwrap()),
        sorted(grants.to_vec()),
        "grants: {why}"
    );
    assert_eq!(
        store.case_rotations(case_id).await.unwrap(),
        rotations,
        "rotations: {why}"
    );
}

// ---------------------------------------------------------------------------
// Cases: creating

pub async fn create_case_stores_the_case_and_its_grants(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let case = case_row(id(0xca, 1), f);
    assert_eq!(store.case(&case.case_id).await.unwrap(), None);
    let grants = vec![grant(case.case_id, 0, 0, f), grant(case.case_id, 1, 0, f)];
    store.create_case(&case, &grants).await.unwrap();

    assert_eq!(store.case(&case.case_id).await.unwrap(), Some(case.clone()));
    assert_eq!(store.case_grants(&case.case_id).await.unwrap(), grants);
    assert!(
        store
            .case_rotations(&case.case_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .case_entries(&case.case_id, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.cases_for_account(&f, None, 10).await.unwrap(),
        vec![case.clone()]
    );
    assert_eq!(store.grants_for_account(&f).await.unwrap(), grants);

    // A case without grants exists, but nobody is listed as holding it.
    let bare = case_row(id(0xca, 2), f);
    store.create_case(&bare, &[]).await.unwrap();
    assert_eq!(store.case(&bare.case_id).await.unwrap(), Some(bare.clone()));
    assert!(store.case_grants(&bare.case_id).await.unwrap().is_empty());
    assert_eq!(
        store.cases_for_account(&f, None, 10).await.unwrap(),
        vec![case]
    );

    // The creator must be an account.
    let orphan = case_row(id(0xca, 3), id(0xee, 0));
    let err = store.create_case(&orphan, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(store.case(&orphan.case_id).await.unwrap(), None);
}

pub async fn create_case_is_all_or_nothing(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    let case = case_row(id(0xca, 1), f);
    let grants = vec![grant(case.case_id, 0, 0, f)];
    store.create_case(&case, &grants).await.unwrap();

    // The same id again, by someone else, with other grants: Duplicate, and
    // the first case and its grants stay as they were.
    let again = CaseRow {
        created_by: m,
        created_at: T0 + 5,
        ..case.clone()
    };
    let err = store
        .create_case(&again, &[grant(case.case_id, 1, 0, m)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    assert_eq!(store.case(&case.case_id).await.unwrap(), Some(case.clone()));
    assert_eq!(store.case_grants(&case.case_id).await.unwrap(), grants);
    assert!(store.grants_for_account(&m).await.unwrap().is_empty());

    // A new case whose grants clash among themselves: no case, no grant.
    let second = case_row(id(0xca, 2), f);
    let c2 = second.case_id;
    let clashing = [
        grant(c2, 0, 0, f),
        grant(c2, 1, 0, m),
        GrantRow {
            grant: vec![9, 9],
            ..grant(c2, 0, 0, f)
        },
    ];
    let err = store.create_case(&second, &clashing).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    assert_eq!(store.case(&c2).await.unwrap(), None);
    assert!(store.case_grants(&c2).await.unwrap().is_empty());
    assert!(store.grants_for_account(&m).await.unwrap().is_empty());
    assert!(
        store
            .cases_for_account(&m, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A grant to an account that does not exist: no case either.
    let err = store
        .create_case(&second, &[grant(c2, 0, 0, f), grant(c2, 0, 0, id(0xee, 1))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(store.case(&c2).await.unwrap(), None);
    assert!(store.case_grants(&c2).await.unwrap().is_empty());

    // A case that is not empty, or a grant for another case, is refused.
    let full = CaseRow {
        len: 3,
        head_hash: head(1, 2),
        ..second.clone()
    };
    assert!(store.create_case(&full, &[]).await.is_err());
    let stray = [grant(c2, 0, 0, f), grant(case.case_id, 2, 0, m)];
    assert!(store.create_case(&second, &stray).await.is_err());
    assert_eq!(store.case(&c2).await.unwrap(), None);
    assert_eq!(store.case_grants(&case.case_id).await.unwrap(), grants);

    // The id is still free.
    store
        .create_case(&second, &[grant(c2, 0, 0, m)])
        .await
        .unwrap();
    assert_eq!(store.case(&c2).await.unwrap(), Some(second.clone()));
    assert_eq!(
        store.cases_for_account(&m, None, 10).await.unwrap(),
        vec![second]
    );
}

pub async fn racing_create_cases_exactly_one_wins(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    for round in 0..ROUNDS {
        let case_id = id(0xca, racer(round));
        let results = race(&store, |store, i| async move {
            let case = CaseRow {
                created_at: T0 + i64::from(racer(i)),
                ..case_row(case_id, f)
            };
            let g = GrantRow {
                grant: vec![0x67, racer(i)],
                ..grant(case_id, 0, 0, f)
            };
            store
                .create_case(&case, std::slice::from_ref(&g))
                .await
                .map(|()| (case, g))
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(won) => winners.push(won),
                Err(StoreError::Duplicate) => {}
                Err(e) => panic!("a losing create_case must say Duplicate, got {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one create_case wins");
        let (case, grant) = winners.pop().unwrap();
        assert_eq!(store.case(&case_id).await.unwrap(), Some(case));
        assert_eq!(store.case_grants(&case_id).await.unwrap(), vec![grant]);
    }
}

// ---------------------------------------------------------------------------
// Cases: the chain

pub async fn case_append_needs_the_exact_position(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let case = open_case(&*store, 1, &[f]).await;
    let c = case.case_id;

    // No such case: NotFound, at any position.
    let missing = id(0xca, 99);
    for seq in [0, 5] {
        let err = store
            .append_case_entry(&entry(missing, seq, 1), &head(9, 9))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    }
    assert_eq!(store.case(&missing).await.unwrap(), None);
    assert!(
        store
            .case_entries(&missing, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let e0 = entry(c, 0, 1);
    store.append_case_entry(&e0, &head(0, 0)).await.unwrap();
    assert_eq!(
        store.case(&c).await.unwrap(),
        Some(CaseRow {
            len: 1,
            head_hash: head(0, 0),
            ..case.clone()
        })
    );
    let e1 = entry(c, 1, 2);
    store.append_case_entry(&e1, &head(0, 1)).await.unwrap();
    let after = CaseRow {
        len: 2,
        head_hash: head(0, 1),
        ..case.clone()
    };

    // A wrong position changes nothing: not the entries, not the head.
    for (seq, note) in [(1u64, "taken"), (0, "first"), (5, "gap"), (u64::MAX, "far")] {
        let err = store
            .append_case_entry(&entry(c, seq, 0x50), &head(0xbb, 0xbb))
            .await
            .unwrap_err();
        match err {
            StoreError::Conflict { expected, actual } => {
                assert_eq!((expected, actual), (seq, 2), "{note}");
            }
            e => panic!("{note}: expected Conflict, got {e:?}"),
        }
        assert_eq!(store.case(&c).await.unwrap(), Some(after.clone()), "{note}");
    }
    assert_eq!(
        store.case_entries(&c, 0, 100).await.unwrap(),
        vec![e0.clone(), e1.clone()]
    );

    // Each case has its own chain.
    let other = open_case(&*store, 2, &[f]).await;
    let o0 = entry(other.case_id, 0, 3);
    store.append_case_entry(&o0, &head(2, 0)).await.unwrap();
    assert_eq!(
        store.case_entries(&other.case_id, 0, 100).await.unwrap(),
        vec![o0]
    );
    assert_eq!(store.case(&c).await.unwrap(), Some(after));
    assert_eq!(
        store.case_entries(&c, 0, 100).await.unwrap(),
        vec![e0, e1.clone()]
    );
    // The position is still free.
    let e2 = entry(c, 2, 4);
    store.append_case_entry(&e2, &head(0, 2)).await.unwrap();
    assert_eq!(store.case(&c).await.unwrap().unwrap().len, 3);
}

pub async fn racing_case_appends_at_one_position_exactly_one_wins(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let case = open_case(&*store, 1, &[f]).await;
    let c = case.case_id;
    let mut chain = Vec::new();
    for round in 0..ROUNDS {
        let seq = u64::try_from(chain.len()).unwrap();
        let results = race(&store, |store, i| async move {
            let e = CaseEntryRow {
                entry: vec![0x77, racer(round), racer(i)],
                ..entry(c, seq, racer(i))
            };
            let h = head(racer(round), racer(i));
            store.append_case_entry(&e, &h).await.map(|()| (e, h))
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(won) => winners.push(won),
                Err(StoreError::Conflict { expected, actual }) => {
                    assert_eq!(
                        (expected, actual),
                        (seq, seq + 1),
                        "a loser sees the winner's entry"
                    );
                }
                Err(e) => panic!("a losing append must say Conflict, got {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one append wins");
        let (e, h) = winners.pop().unwrap();
        assert_eq!(
            store.case(&c).await.unwrap(),
            Some(CaseRow {
                len: seq + 1,
                head_hash: h,
                ..case.clone()
            }),
            "the head is the winner's"
        );
        chain.push(e);
        assert_eq!(store.case_entries(&c, 0, 1000).await.unwrap(), chain);
    }
}

pub async fn case_entries_are_paged_in_order(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let one = open_case(&*store, 1, &[f]).await.case_id;
    let two = open_case(&*store, 2, &[f]).await.case_id;
    let (mut all1, mut all2) = (Vec::new(), Vec::new());
    // Interleaved, so the order is not just insertion order.
    for seq in 0..10u64 {
        let tag = u8::try_from(seq).unwrap();
        let e = entry(one, seq, tag);
        store.append_case_entry(&e, &head(1, tag)).await.unwrap();
        all1.push(e);
        if seq < 3 {
            let e = entry(two, seq, 100 + tag);
            store.append_case_entry(&e, &head(2, tag)).await.unwrap();
            all2.push(e);
        }
    }
    let page = async |case: &Id, from: u64, limit: u32| -> Vec<CaseEntryRow> {
        store.case_entries(case, from, limit).await.unwrap()
    };
    assert_eq!(page(&one, 0, 100).await, all1);
    assert_eq!(page(&one, 0, 10).await, all1);
    assert_eq!(page(&one, 0, u32::MAX).await, all1);
    assert_eq!(page(&one, 3, 4).await, all1[3..7]);
    assert_eq!(page(&one, 8, 5).await, all1[8..]);
    assert_eq!(page(&one, 9, 1).await, all1[9..]);
    assert!(page(&one, 10, 5).await.is_empty());
    assert!(page(&one, 0, 0).await.is_empty());
    assert!(page(&one, u64::MAX, u32::MAX).await.is_empty());
    assert_eq!(page(&two, 0, 100).await, all2);
    assert_eq!(page(&two, 1, 100).await, all2[1..]);
    assert!(page(&id(0xca, 99), 0, 100).await.is_empty());

    // Paging with a small limit walks the whole chain once.
    let mut walked = Vec::new();
    loop {
        let from = u64::try_from(walked.len()).unwrap();
        let next = page(&one, from, 3).await;
        if next.is_empty() {
            break;
        }
        assert!(next.len() <= 3);
        walked.extend(next);
    }
    assert_eq!(walked, all1);
}

// ---------------------------------------------------------------------------
// Cases: grants and rotations

pub async fn put_grants_is_all_or_nothing(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    let o = invite_and_join(&*store, 2, "other", T0).await.account_id;
    let case = case_row(id(0xca, 1), f);
    let c = case.case_id;
    let initial = vec![grant(c, 0, 0, f), grant(c, 0, 0, m), grant(c, 1, 0, m)];
    store.create_case(&case, &initial).await.unwrap();
    let rotations = vec![rotation(c, 0, 1)];
    store.put_grants(&c, &[], &rotations, &[]).await.unwrap();
    // Every change to the keys moves the version; the refused ones below do not.
    let case = CaseRow {
        keys_version: 1,
        ..case
    };
    assert_eq!(store.case(&c).await.unwrap(), Some(case.clone()));

    let unchanged = async |why: &str| {
        assert_keys(&*store, &c, &initial, &rotations, why).await;
        assert_eq!(
            sorted(store.grants_for_account(&m).await.unwrap()),
            sorted(initial[1..].to_vec()),
            "{why}"
        );
        assert!(
            store.grants_for_account(&o).await.unwrap().is_empty(),
            "{why}"
        );
        assert!(
            store
                .cases_for_account(&o, None, 10)
                .await
                .unwrap()
                .is_empty(),
            "{why}"
        );
        assert_eq!(
            store.cases_for_account(&m, None, 10).await.unwrap(),
            vec![case.clone()],
            "{why}"
        );
    };

    // An existing grant among several new ones, with a rotation and revocations.
    let err = store
        .put_grants(
            &c,
            &[
                grant(c, 0, 1, f),
                grant(c, 0, 1, o),
                GrantRow {
                    grant: vec![1, 2, 3],
                    ..grant(c, 0, 0, m)
                },
            ],
            &[rotation(c, 0, 2)],
            &[(m, 0), (m, 1)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    unchanged("an existing grant").await;

    // The same grant twice in one call.
    let err = store
        .put_grants(
            &c,
            &[grant(c, 2, 0, o), grant(c, 2, 0, f), grant(c, 2, 0, o)],
            &[],
            &[(m, 1)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    unchanged("a grant twice").await;

    // An existing rotation link: the call's grants and revocations go too.
    let err = store
        .put_grants(
            &c,
            &[grant(c, 0, 1, f), grant(c, 0, 1, o)],
            &[rotation(c, 1, 1), rotation(c, 0, 1)],
            &[(m, 0)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    unchanged("an existing rotation").await;

    // The same rotation twice in one call.
    let err = store
        .put_grants(
            &c,
            &[grant(c, 1, 1, o)],
            &[rotation(c, 1, 1), rotation(c, 1, 1)],
            &[(m, 1)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "got {err:?}");
    unchanged("a rotation twice").await;

    // A grant to an account that does not exist.
    let err = store
        .put_grants(
            &c,
            &[grant(c, 0, 1, o), grant(c, 0, 1, id(0xee, 3))],
            &[rotation(c, 0, 2)],
            &[(m, 0)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    unchanged("an unknown recipient").await;

    // A grant or rotation for another case than the call's.
    let elsewhere = open_case(&*store, 2, &[f]).await.case_id;
    let stray_grant = store
        .put_grants(
            &c,
            &[grant(c, 0, 1, o), grant(elsewhere, 0, 1, o)],
            &[],
            &[(m, 0)],
        )
        .await;
    assert!(stray_grant.is_err());
    let stray_rotation = store
        .put_grants(
            &c,
            &[grant(c, 0, 1, o)],
            &[rotation(elsewhere, 0, 1)],
            &[(m, 0)],
        )
        .await;
    assert!(stray_rotation.is_err());
    unchanged("another case").await;
    assert_keys(
        &*store,
        &elsewhere,
        &[grant(elsewhere, 0, 0, f)],
        &[],
        "another case",
    )
    .await;

    // A case that does not exist: NotFound, and nothing stored anywhere.
    let missing = id(0xca, 99);
    let err = store
        .put_grants(
            &missing,
            &[grant(missing, 0, 0, o)],
            &[rotation(missing, 0, 1)],
            &[(m, 0)],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_keys(&*store, &missing, &[], &[], "a missing case").await;
    unchanged("a missing case").await;

    // The same unshare without the clash goes through, all of it.
    let new = [grant(c, 0, 1, f), grant(c, 0, 1, o)];
    store
        .put_grants(&c, &new, &[rotation(c, 0, 2)], &[(m, 0)])
        .await
        .unwrap();
    assert_keys(
        &*store,
        &c,
        &[
            grant(c, 0, 0, f),
            grant(c, 1, 0, m),
            new[0].clone(),
            new[1].clone(),
        ],
        &[rotation(c, 0, 1), rotation(c, 0, 2)],
        "after the unshare",
    )
    .await;
    assert_eq!(
        store.grants_for_account(&m).await.unwrap(),
        vec![grant(c, 1, 0, m)]
    );
    assert_eq!(
        store.grants_for_account(&o).await.unwrap(),
        vec![new[1].clone()]
    );
}

pub async fn revocation_deletes_exactly_the_named_grants(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    let o = invite_and_join(&*store, 2, "other", T0).await.account_id;
    let case = case_row(id(0xca, 1), f);
    let c = case.case_id;
    let kept = vec![
        grant(c, 0, 0, f),
        grant(c, 1, 0, m),
        grant(c, 0, 0, o),
        grant(c, 1, 0, o),
    ];
    let mut initial = kept.clone();
    // The member's compartment-0 grants of two generations.
    initial.extend([grant(c, 0, 0, m), grant(c, 0, 1, m)]);
    store.create_case(&case, &initial).await.unwrap();
    // The member's compartment 0 of another case is another matter.
    let other_case = open_case(&*store, 2, &[m]).await;

    // Unshare compartment 0 with the member: a new generation for those who stay.
    let new = [grant(c, 0, 2, f), grant(c, 0, 2, o)];
    store
        .put_grants(&c, &new, &[rotation(c, 0, 2)], &[(m, 0)])
        .await
        .unwrap();
    let mut expected = kept.clone();
    expected.extend(new.iter().cloned());
    assert_keys(&*store, &c, &expected, &[rotation(c, 0, 2)], "unshare").await;
    assert_keys(
        &*store,
        &other_case.case_id,
        &[grant(other_case.case_id, 0, 0, m)],
        &[],
        "the other case",
    )
    .await;
    // Still holding compartment 1 of the case.
    assert_eq!(
        store.cases_for_account(&m, None, 10).await.unwrap(),
        vec![
            CaseRow {
                keys_version: 1,
                ..case.clone()
            },
            other_case.clone()
        ]
    );

    // Revoking what is not there is no error and changes nothing.
    store
        .put_grants(&c, &[], &[], &[(m, 0), (id(0xee, 0), 0), (o, 7)])
        .await
        .unwrap();
    store.put_grants(&c, &[], &[], &[]).await.unwrap();
    assert_keys(&*store, &c, &expected, &[rotation(c, 0, 2)], "no-op").await;

    // Revoking the member's last compartment: the case is no longer listed.
    store.put_grants(&c, &[], &[], &[(m, 1)]).await.unwrap();
    assert_eq!(
        store.cases_for_account(&m, None, 10).await.unwrap(),
        vec![other_case.clone()]
    );
    assert_eq!(
        store.grants_for_account(&m).await.unwrap(),
        vec![grant(other_case.case_id, 0, 0, m)]
    );

    // Several pairs at once.
    store
        .put_grants(&c, &[], &[], &[(o, 0), (o, 1)])
        .await
        .unwrap();
    assert!(store.grants_for_account(&o).await.unwrap().is_empty());
    assert!(
        store
            .cases_for_account(&o, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_keys(
        &*store,
        &c,
        &[grant(c, 0, 0, f), grant(c, 0, 2, f)],
        &[rotation(c, 0, 2)],
        "after all revocations",
    )
    .await;
    // The case itself stays; each of the five calls moved its keys version.
    assert_eq!(
        store.case(&c).await.unwrap(),
        Some(CaseRow {
            keys_version: 5,
            ..case
        })
    );
}

pub async fn racing_grant_puts_for_one_key_exactly_one_wins(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let c = open_case(&*store, 1, &[f]).await.case_id;
    let mut stored = vec![grant(c, 0, 0, f)];
    for round in 0..ROUNDS {
        let generation = u32::try_from(round + 1).unwrap();
        let results = race(&store, |store, i| async move {
            let g = GrantRow {
                grant: vec![0x67, racer(round), racer(i)],
                ..grant(c, 0, generation, f)
            };
            let r = rotation(c, 0, generation);
            store
                .put_grants(&c, std::slice::from_ref(&g), &[r], &[])
                .await
                .map(|()| g)
        })
        .await;
        let mut winners = Vec::new();
        for r in results {
            match r {
                Ok(g) => winners.push(g),
                Err(StoreError::Duplicate) => {}
                Err(e) => panic!("a losing put_grants must say Duplicate, got {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one put_grants wins");
        stored.push(winners.pop().unwrap());
        assert_eq!(
            sorted(store.case_grants(&c).await.unwrap()),
            sorted(stored.clone())
        );
        assert_eq!(
            store.case_rotations(&c).await.unwrap().len(),
            round + 1,
            "one rotation link per generation"
        );
    }
}

pub async fn cases_for_account_lists_cases_with_a_grant_in_id_order(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    // Ids that differ in their first and last bytes, created out of order.
    let lowest = [0x00; 16];
    let b = id(0x10, 0xff);
    let c = id(0x11, 0x00);
    let d = id(0x7f, 0x01);
    let e = id(0x80, 0x00);
    let highest = [0xff; 16];
    for case_id in [d, highest, b, lowest, e, c] {
        store
            .create_case(&case_row(case_id, f), &[grant(case_id, 0, 0, f)])
            .await
            .unwrap();
    }
    // The member holds the lowest, c (shared last), d (two compartments) and
    // the highest; not b or e.
    for case_id in [lowest, d, highest] {
        store
            .put_grants(&case_id, &[grant(case_id, 1, 0, m)], &[], &[])
            .await
            .unwrap();
    }
    store
        .put_grants(&d, &[grant(d, 2, 0, m)], &[], &[])
        .await
        .unwrap();
    store
        .put_grants(&c, &[grant(c, 0, 0, m)], &[], &[])
        .await
        .unwrap();

    let list = async |account: &Id, after: Option<&Id>, limit: u32| -> Vec<Id> {
        store
            .cases_for_account(account, after, limit)
            .await
            .unwrap()
            .into_iter()
            .map(|case| case.case_id)
            .collect()
    };
    assert_eq!(list(&m, None, 100).await, vec![lowest, c, d, highest]);
    assert_eq!(list(&m, None, u32::MAX).await, vec![lowest, c, d, highest]);
    assert_eq!(list(&f, None, 100).await, vec![lowest, b, c, d, e, highest]);
    // Paging.
    assert_eq!(list(&m, None, 2).await, vec![lowest, c]);
    assert_eq!(list(&m, Some(&c), 2).await, vec![d, highest]);
    assert!(list(&m, Some(&highest), 2).await.is_empty());
    assert_eq!(list(&m, Some(&lowest), 1).await, vec![c]);
    // After an id the account does not hold, or no case has.
    assert_eq!(list(&m, Some(&b), 100).await, vec![c, d, highest]);
    assert_eq!(list(&m, Some(&e), 100).await, vec![highest]);
    assert_eq!(list(&m, Some(&id(0x7f, 0x00)), 100).await, vec![d, highest]);
    assert!(list(&m, None, 0).await.is_empty());
    assert!(list(&id(0xee, 0), None, 100).await.is_empty());

    // The rows carry the current heads.
    store
        .append_case_entry(&entry(d, 0, 1), &head(0xd, 0))
        .await
        .unwrap();
    let held = store.cases_for_account(&m, None, 100).await.unwrap();
    assert_eq!(
        held[2],
        CaseRow {
            len: 1,
            head_hash: head(0xd, 0),
            keys_version: 2,
            ..case_row(d, f)
        },
        "d's grants changed twice"
    );
    assert_eq!(
        held[0],
        CaseRow {
            keys_version: 1,
            ..case_row(lowest, f)
        }
    );

    // The member's grants, and no one else's.
    assert_eq!(
        sorted(store.grants_for_account(&m).await.unwrap()),
        sorted(vec![
            grant(lowest, 1, 0, m),
            grant(d, 1, 0, m),
            grant(highest, 1, 0, m),
            grant(d, 2, 0, m),
            grant(c, 0, 0, m),
        ])
    );

    // Listed until the last of the member's grants for the case is revoked.
    store.put_grants(&d, &[], &[], &[(m, 1)]).await.unwrap();
    assert_eq!(list(&m, None, 100).await, vec![lowest, c, d, highest]);
    store.put_grants(&d, &[], &[], &[(m, 2)]).await.unwrap();
    assert_eq!(list(&m, None, 100).await, vec![lowest, c, highest]);
    assert_eq!(list(&m, Some(&c), 1).await, vec![highest]);
    assert_eq!(list(&f, None, 100).await, vec![lowest, b, c, d, e, highest]);
}

pub async fn case_grants_and_rotations_are_listed_oldest_first(store: Arc<dyn Store>) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    let c = id(0xca, 1);
    let at = |g: GrantRow, t: Time| GrantRow {
        created_at: T0 + t,
        ..g
    };
    let rot_at = |r: RotationRow, t: Time| RotationRow {
        created_at: T0 + t,
        ..r
    };
    let g50 = at(grant(c, 0, 0, f), 50);
    store
        .create_case(&case_row(c, f), std::slice::from_ref(&g50))
        .await
        .unwrap();
    // Out of time order; equal times come in insertion order.
    let g30 = at(grant(c, 1, 0, m), 30);
    let g10 = at(grant(c, 1, 0, f), 10);
    let r40 = rot_at(rotation(c, 0, 1), 40);
    let r20a = rot_at(rotation(c, 1, 1), 20);
    store
        .put_grants(
            &c,
            &[g30.clone(), g10.clone()],
            &[r40.clone(), r20a.clone()],
            &[],
        )
        .await
        .unwrap();
    let g30b = at(grant(c, 0, 1, m), 30);
    let g30c = at(grant(c, 0, 1, f), 30);
    let r20b = rot_at(rotation(c, 2, 1), 20);
    store
        .put_grants(
            &c,
            &[g30b.clone(), g30c.clone()],
            std::slice::from_ref(&r20b),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        store.case_grants(&c).await.unwrap(),
        vec![g10, g30.clone(), g30b.clone(), g30c, g50]
    );
    assert_eq!(
        store.case_rotations(&c).await.unwrap(),
        vec![r20a, r20b, r40]
    );

    // Across cases too.
    let other = id(0xca, 2);
    let g20 = at(grant(other, 0, 0, m), 20);
    store
        .create_case(&case_row(other, f), std::slice::from_ref(&g20))
        .await
        .unwrap();
    assert_eq!(
        store.grants_for_account(&m).await.unwrap(),
        vec![g20, g30, g30b]
    );
}

pub async fn case_blobs_round_trip_byte_exact(store: Arc<dyn Store>) {
    const MIB: usize = 1 << 20;
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let big = noise(MIB, 0xca5e);
    let f = found(&*store).await.account_id;

    let c = [0xff; 16];
    let case = CaseRow {
        created_at: -1,
        ..case_row(c, f)
    };
    let grants = vec![
        GrantRow {
            compartment: u8::MAX,
            generation: u32::MAX,
            grant: big.clone(),
            ..grant(c, 0, 0, f)
        },
        GrantRow {
            grant: Vec::new(),
            ..grant(c, 0, 0, f)
        },
        GrantRow {
            grant: every_byte.clone(),
            ..grant(c, 1, 0, f)
        },
    ];
    store.create_case(&case, &grants).await.unwrap();
    assert_eq!(store.case(&c).await.unwrap(), Some(case.clone()));
    assert_eq!(store.case_grants(&c).await.unwrap(), grants);

    let entries = vec![
        CaseEntryRow {
            compartment: u8::MAX,
            generation: u32::MAX,
            record_id: [0x00; 16],
            entry: big.clone(),
            wrap: Some(every_byte.clone()),
            ..entry(c, 0, 1)
        },
        CaseEntryRow {
            entry: Vec::new(),
            wrap: None,
            ..entry(c, 1, 2)
        },
        CaseEntryRow {
            entry: every_byte.clone(),
            wrap: Some(Vec::new()),
            ..entry(c, 2, 3)
        },
        CaseEntryRow {
            compartment: 0,
            generation: 0,
            record_id: [0xff; 16],
            entry: vec![0x00; 64],
            wrap: Some(big.clone()),
            ..entry(c, 3, 4)
        },
    ];
    let heads = [[0xff; 32], head(0x00, 0xff), [0x00; 32], head(0xff, 0x00)];
    for (e, h) in entries.iter().zip(&heads) {
        store.append_case_entry(e, h).await.unwrap();
        assert_eq!(store.case(&c).await.unwrap().unwrap().head_hash, *h);
    }
    assert_eq!(store.case_entries(&c, 0, 10).await.unwrap(), entries);
    assert_eq!(store.case_entries(&c, 1, 1).await.unwrap()[0].wrap, None);
    assert_eq!(
        store.case_entries(&c, 2, 1).await.unwrap()[0].wrap,
        Some(Vec::new())
    );
    assert_eq!(
        store.case(&c).await.unwrap(),
        Some(CaseRow {
            len: 4,
            head_hash: heads[3],
            ..case.clone()
        })
    );

    let rotations = vec![
        RotationRow {
            compartment: u8::MAX,
            new_generation: u32::MAX,
            link: big.clone(),
            ..rotation(c, 0, 0)
        },
        RotationRow {
            link: Vec::new(),
            ..rotation(c, 0, 1)
        },
    ];
    store.put_grants(&c, &[], &rotations, &[]).await.unwrap();
    assert_eq!(store.case_rotations(&c).await.unwrap(), rotations);
    assert_eq!(store.grants_for_account(&f).await.unwrap(), grants);
    assert_eq!(
        store.cases_for_account(&f, None, 1).await.unwrap(),
        vec![CaseRow {
            len: 4,
            head_hash: heads[3],
            keys_version: 1,
            ..case
        }]
    );
}

pub async fn case_bundles_hold_the_callers_grants_and_entries_from_where_asked(
    store: Arc<dyn Store>,
) {
    let f = found(&*store).await.account_id;
    let m = invite_and_join(&*store, 1, "member", T0).await.account_id;
    let shared = open_case(&*store, 1, &[f, m]).await.case_id;
    let private = open_case(&*store, 2, &[f]).await.case_id;
    let quiet = open_case(&*store, 3, &[m]).await.case_id;
    for seq in 0..5 {
        store
            .append_case_entry(&entry(shared, seq, seq as u8), &head(1, seq as u8))
            .await
            .unwrap();
    }
    store
        .append_case_entry(&entry(private, 0, 9), &head(2, 0))
        .await
        .unwrap();
    store
        .put_grants(
            &shared,
            &[grant(shared, 1, 0, f)],
            &[rotation(shared, 0, 1)],
            &[],
        )
        .await
        .unwrap();

    // The member asks for all three, the shared one from position 2: the
    // private case is left out as if it did not exist.
    let bundles = store
        .case_bundles(&m, &[(private, 0), (shared, 2), (quiet, 0)], 1000)
        .await
        .unwrap();
    assert_eq!(
        bundles.iter().map(|b| b.case.case_id).collect::<Vec<_>>(),
        vec![shared, quiet],
        "in case id order, without the case the member holds no grant for"
    );
    let b = &bundles[0];
    assert_eq!(b.case.len, 5);
    assert_eq!(b.case.head_hash, head(1, 4));
    assert_eq!(
        b.grants,
        vec![grant(shared, 0, 0, m)],
        "only the caller's grants"
    );
    assert_eq!(b.rotations, vec![rotation(shared, 0, 1)]);
    assert_eq!(
        b.entries,
        (2..5)
            .map(|s| entry(shared, s, s as u8))
            .collect::<Vec<_>>()
    );
    assert!(bundles[1].entries.is_empty());
    assert_eq!(bundles[1].grants, vec![grant(quiet, 0, 0, m)]);

    // The entry limit counts across cases, in (case, seq) order.
    let limited = store
        .case_bundles(&f, &[(shared, 0), (private, 0)], 3)
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[0].entries.len(), 3);
    assert!(limited[1].entries.is_empty());
    assert_eq!(
        limited[1].case.len, 1,
        "the head still tells what is missing"
    );
    assert_eq!(limited[0].grants.len(), 2, "the founder's two grants");

    // From beyond the end, and from a position no entry reaches.
    let beyond = store
        .case_bundles(&f, &[(shared, 5), (private, u64::MAX)], 1000)
        .await
        .unwrap();
    assert!(beyond.iter().all(|b| b.entries.is_empty()));
    assert!(store.case_bundles(&f, &[], 1000).await.unwrap().is_empty());
    assert!(
        store
            .case_bundles(&f, &[(id(0xee, 1), 0)], 1000)
            .await
            .unwrap()
            .is_empty(),
        "an unknown case is left out"
    );

    // Too many cases, or one twice, are refused.
    let many: Vec<(Id, u64)> = (0..=crate::MAX_BUNDLE_CASES)
        .map(|i| (id(0x5a, (i % 256) as u8).map(|b| b ^ (i / 256) as u8), 0))
        .collect();
    assert!(matches!(
        store.case_bundles(&f, &many, 10).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .case_bundles(&f, &[(shared, 0), (shared, 1)], 10)
            .await,
        Err(StoreError::Invalid(_))
    ));
}

// ---- Intake ----

fn conversation(n: u8, at: Time) -> ConversationRow {
    ConversationRow {
        conversation_id: id(0x71, n),
        access_hash: [n; 32],
        reply_public: noise(32, u64::from(n)),
        path: if n.is_multiple_of(2) {
            "browser"
        } else {
            "server"
        }
        .to_owned(),
        referred: n.is_multiple_of(3),
        status: "open".to_owned(),
        created_at: at,
        updated_at: at,
    }
}

pub async fn intake_desk_is_set_and_never_goes_back(store: Arc<dyn Store>) {
    assert_eq!(store.intake_desk().await.unwrap(), None);
    let desk = IntakeDeskRow {
        desk_case_id: id(0x70, 1),
        generation: 2,
        public_key: noise(32, 9),
        updated_at: 100,
    };
    store.put_intake_desk(&desk).await.unwrap();
    assert_eq!(store.intake_desk().await.unwrap(), Some(desk.clone()));
    let older = IntakeDeskRow {
        generation: 1,
        public_key: noise(32, 10),
        ..desk.clone()
    };
    assert!(matches!(
        store.put_intake_desk(&older).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.intake_desk().await.unwrap(), Some(desk.clone()));
    let newer = IntakeDeskRow {
        generation: 3,
        updated_at: 200,
        ..desk
    };
    store.put_intake_desk(&newer).await.unwrap();
    assert_eq!(store.intake_desk().await.unwrap(), Some(newer));
}

pub async fn intake_conversations_keep_every_message_in_order(store: Arc<dyn Store>) {
    let first = noise(300, 1);
    store
        .create_conversation(&conversation(1, 10), &first)
        .await
        .unwrap();
    // Neither the id nor the access hash can be taken twice; nothing changes.
    let mut same_id = conversation(2, 11);
    same_id.conversation_id = id(0x71, 1);
    assert!(matches!(
        store.create_conversation(&same_id, b"x").await,
        Err(StoreError::Duplicate)
    ));
    let mut same_access = conversation(2, 11);
    same_access.access_hash = [1; 32];
    assert!(matches!(
        store.create_conversation(&same_access, b"x").await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(store.intake_threads(100).await.unwrap().len(), 1);

    assert_eq!(
        store
            .append_intake_entry(&id(0x71, 1), b"second", 20)
            .await
            .unwrap(),
        2
    );
    store
        .add_intake_note(&id(0x71, 1), b"note", Some(b"reply"), None, 30)
        .await
        .unwrap();
    store
        .add_intake_note(&id(0x71, 1), b"dismissal", None, Some("dismissed"), 40)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_intake_note(&id(0x71, 1), b"n", None, Some("lost"), 50)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.append_intake_entry(&id(0x71, 9), b"x", 20).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .add_intake_note(&id(0x71, 9), b"x", None, None, 20)
            .await,
        Err(StoreError::NotFound)
    ));

    let thread = store
        .intake_thread_by_access(&[1; 32])
        .await
        .unwrap()
        .expect("found by its access hash");
    assert_eq!(thread.conversation.status, "dismissed");
    assert_eq!(thread.conversation.updated_at, 40);
    assert_eq!(
        thread.conversation.reply_public,
        conversation(1, 10).reply_public
    );
    let entries: Vec<(u32, Vec<u8>)> = thread
        .entries
        .iter()
        .map(|e| (e.seq, e.sealed.clone()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (1, first),
            (2, b"second".to_vec()),
            (3, b"note".to_vec()),
            (4, b"dismissal".to_vec())
        ]
    );
    assert_eq!(thread.replies.len(), 1);
    assert_eq!(
        (thread.replies[0].seq, thread.replies[0].sealed.as_slice()),
        (1, &b"reply"[..])
    );
    assert_eq!(store.intake_thread_by_access(&[2; 32]).await.unwrap(), None);
}

pub async fn intake_threads_list_the_most_recently_active_first(store: Arc<dyn Store>) {
    for n in 1..=5u8 {
        store
            .create_conversation(&conversation(n, Time::from(n)), &[n])
            .await
            .unwrap();
    }
    store
        .append_intake_entry(&id(0x71, 2), b"later", 100)
        .await
        .unwrap();
    let threads = store.intake_threads(3).await.unwrap();
    let order: Vec<Id> = threads
        .iter()
        .map(|t| t.conversation.conversation_id)
        .collect();
    assert_eq!(order, vec![id(0x71, 2), id(0x71, 5), id(0x71, 4)]);
    assert_eq!(threads[0].entries.len(), 2);
    assert_eq!(threads[1].entries[0].sealed, vec![5]);
    assert!(!threads[2].conversation.referred);
    assert_eq!(threads[1].conversation.path, "server");
}

pub async fn racing_intake_messages_all_land_with_distinct_numbers(store: Arc<dyn Store>) {
    store
        .create_conversation(&conversation(1, 1), b"first")
        .await
        .unwrap();
    let seqs = race(&store, |store, i| async move {
        store
            .append_intake_entry(&id(0x71, 1), &[racer(i)], 10)
            .await
            .expect("append under contention")
    })
    .await;
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        RACERS,
        "every racing message got its own number"
    );
    let thread = store
        .intake_thread_by_access(&[1; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.entries.len(), RACERS + 1);
}

pub async fn referral_codes_are_spent_once_per_use(store: Arc<dyn Store>) {
    store.put_referral(&[7; 32], 2, 1).await.unwrap();
    assert!(matches!(
        store.put_referral(&[7; 32], 5, 1).await,
        Err(StoreError::Duplicate)
    ));
    assert!(store.use_referral(&[7; 32]).await.unwrap());
    assert!(store.use_referral(&[7; 32]).await.unwrap());
    assert!(!store.use_referral(&[7; 32]).await.unwrap());
    assert!(!store.use_referral(&[8; 32]).await.unwrap());
}

pub async fn invitations_carry_intake_keys(store: Arc<dyn Store>) {
    found(store.as_ref()).await;
    let invite = invite_row(1, founder_row(0).account_id, 10, 1000);
    store.create_invite(&invite).await.unwrap();
    assert_eq!(
        store.invite_intake_keys(&invite.invite_id).await.unwrap(),
        None
    );
    let sealed = noise(200, 3);
    store
        .put_invite_intake_keys(&invite.invite_id, &sealed)
        .await
        .unwrap();
    assert_eq!(
        store.invite_intake_keys(&invite.invite_id).await.unwrap(),
        Some(sealed)
    );
    assert!(matches!(
        store.put_invite_intake_keys(&id(0x33, 9), b"x").await,
        Err(StoreError::InviteNotFound)
    ));
}

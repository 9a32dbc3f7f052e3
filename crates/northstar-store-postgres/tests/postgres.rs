//! What only the PostgreSQL backend has to show: several servers (several
//! pools) starting together on one new database, and racing on it.

mod support;

use std::sync::Arc;

use northstar_store::{
    AccountRow, AccountStatus, CaseEntryRow, CaseRow, GrantRow, InviteRow, MembershipEffect,
    OrgRow, Store, StoreError,
};
use northstar_store_postgres::PostgresStore;
use support::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_together_migrate_once() {
    let db = TestDatabase::create().await;
    let url = Arc::new(db.url.clone());
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let url = url.clone();
        set.spawn(async move { PostgresStore::connect(&url).await });
    }
    let mut stores = Vec::new();
    while let Some(connected) = set.join_next().await {
        stores.push(
            connected
                .unwrap()
                .expect("every concurrent connect succeeds"),
        );
    }
    assert_eq!(
        stores[0].put_secret_if_absent("s", b"one").await.unwrap(),
        b"one"
    );
    for store in &stores {
        assert_eq!(store.get_secret("s").await.unwrap(), Some(b"one".to_vec()));
        store.close().await;
    }
}

#[tokio::test]
async fn a_missing_database_is_a_clear_error() {
    let err = PostgresStore::connect(&support::missing_database_url())
        .await
        .unwrap_err();
    match err {
        StoreError::Backend(message) => {
            assert!(message.contains("connecting to PostgreSQL"), "{message}");
            assert!(message.contains("does not exist"), "{message}");
        }
        e => panic!("expected a backend error, got {e:?}"),
    }
}

fn account(n: u8, status: AccountStatus, invite: Option<[u8; 16]>) -> AccountRow {
    AccountRow {
        account_id: [n; 16],
        username: format!("user{n}"),
        opaque_record: vec![n],
        slot: vec![n],
        keybox: vec![n],
        org_root_box: None,
        signing_key: vec![n; 32],
        agreement_key: vec![n; 32],
        role: Some("admin".into()),
        status,
        invite_id: invite,
        join_proof: None,
        created_at: 1,
    }
}

/// Two servers on one database: joins and appends race across pools.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_race_for_one_invite_and_one_position() {
    let db = TestDatabase::create().await;
    let a = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let b = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let org = OrgRow {
        org_id: [9; 16],
        name: "Org".into(),
        root_public_key: vec![1],
        created_at: 1,
    };
    a.create_org(&org, &account(1, AccountStatus::Active, None), &[vec![0]])
        .await
        .unwrap();
    let invite = InviteRow {
        invite_id: [7; 16],
        role: "caseworker".into(),
        created_by: [1; 16],
        created_at: 1,
        expires_at: 1000,
        used_by: None,
        used_at: None,
        sealed_secret: vec![0],
    };
    b.create_invite(&invite).await.unwrap();

    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut set = tokio::task::JoinSet::new();
    for n in 0..16u8 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            let joined = store
                .join(
                    &[7; 16],
                    &account(100 + n, AccountStatus::Pending, Some([7; 16])),
                    2,
                )
                .await;
            let appended = store
                .append_membership_link(1, &[n], &MembershipEffect::None)
                .await;
            (joined, appended)
        });
    }
    let (mut joins, mut appends) = (0, 0);
    while let Some(r) = set.join_next().await {
        let (joined, appended) = r.unwrap();
        match joined {
            Ok(()) => joins += 1,
            Err(StoreError::InviteUsed) => {}
            Err(e) => panic!("a losing join must say InviteUsed, got {e:?}"),
        }
        match appended {
            Ok(()) => appends += 1,
            Err(StoreError::Conflict {
                expected: 1,
                actual: 2,
            }) => {}
            Err(e) => panic!("a losing append must say Conflict, got {e:?}"),
        }
    }
    assert_eq!((joins, appends), (1, 1));
    assert_eq!(b.accounts().await.unwrap().len(), 2);
    assert_eq!(a.membership_links().await.unwrap().len(), 2);
    a.close().await;
    b.close().await;
}

/// Two servers race for one position of a case's chain, and for one grant:
/// one wins each, and the head is the winning append's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_race_for_one_case_position_and_one_grant() {
    let db = TestDatabase::create().await;
    let a = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let b = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    let org = OrgRow {
        org_id: [9; 16],
        name: "Org".into(),
        root_public_key: vec![1],
        created_at: 1,
    };
    a.create_org(&org, &account(1, AccountStatus::Active, None), &[vec![0]])
        .await
        .unwrap();
    let case = CaseRow {
        case_id: [0xca; 16],
        created_by: [1; 16],
        created_at: 1,
        len: 0,
        head_hash: [0; 32],
        keys_version: 0,
    };
    b.create_case(&case, &[]).await.unwrap();

    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut set = tokio::task::JoinSet::new();
    for n in 0..16u8 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let barrier = barrier.clone();
        set.spawn(async move {
            let entry = CaseEntryRow {
                case_id: [0xca; 16],
                seq: 0,
                compartment: 0,
                record_id: [n; 16],
                generation: 0,
                entry: vec![n],
                wrap: None,
                created_at: 2,
            };
            let grant = GrantRow {
                case_id: [0xca; 16],
                compartment: 0,
                generation: 0,
                recipient: [1; 16],
                granted_by: [1; 16],
                grant: vec![n],
                created_at: 2,
            };
            barrier.wait().await;
            let appended = store.append_case_entry(&entry, &[n; 32]).await.map(|()| n);
            let granted = store.put_grants(&[0xca; 16], &[grant], &[], &[]).await;
            (appended, granted)
        });
    }
    let (mut winners, mut grants) = (Vec::new(), 0);
    while let Some(r) = set.join_next().await {
        let (appended, granted) = r.unwrap();
        match appended {
            Ok(n) => winners.push(n),
            Err(StoreError::Conflict {
                expected: 0,
                actual: 1,
            }) => {}
            Err(e) => panic!("a losing append must say Conflict, got {e:?}"),
        }
        match granted {
            Ok(()) => grants += 1,
            Err(StoreError::Duplicate) => {}
            Err(e) => panic!("a losing put_grants must say Duplicate, got {e:?}"),
        }
    }
    assert_eq!((winners.len(), grants), (1, 1));
    let n = winners[0];
    let head = a.case(&case.case_id).await.unwrap().unwrap();
    assert_eq!((head.len, head.head_hash), (1, [n; 32]));
    let entries = b.case_entries(&case.case_id, 0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entry, vec![n]);
    assert_eq!(a.case_grants(&case.case_id).await.unwrap().len(), 1);
    a.close().await;
    b.close().await;
}

/// A refused row gives an error that names the problem but quotes none of
/// the row's blobs or ids (PostgreSQL's DETAIL would: it is left out).
#[tokio::test]
async fn errors_never_quote_blobs() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let org = OrgRow {
        org_id: [9; 16],
        name: "Org".into(),
        root_public_key: vec![1],
        created_at: 1,
    };
    store
        .create_org(
            &org,
            &account(0x41, AccountStatus::Active, None),
            &[vec![0]],
        )
        .await
        .unwrap();
    // Marked used without a time: the schema refuses it.
    let invite = InviteRow {
        invite_id: [0x42; 16],
        role: "caseworker".into(),
        created_by: [0x41; 16],
        created_at: 1,
        expires_at: 1000,
        used_by: Some([0x41; 16]),
        used_at: None,
        sealed_secret: b"TOP-SECRET-MARKER".to_vec(),
    };
    let err = store.create_invite(&invite).await.unwrap_err();
    let StoreError::Backend(message) = &err else {
        panic!("expected a backend error, got {err:?}");
    };
    for leak in [
        "TOP-SECRET",
        "544f50",
        "544F50",
        "4141414141",
        "Failing row",
    ] {
        assert!(!message.contains(leak), "{message:?} quotes {leak}");
        assert!(!format!("{err:?}").contains(leak));
    }
    assert!(message.contains("check constraint"), "{message}");
    store.close().await;
}

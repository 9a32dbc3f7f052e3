//! What only the SQLite backend has to show: a real file that survives a
//! killed server, and several pools (as several processes would) on one file.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use northstar_store::{
    AccountRow, AccountStatus, CaseEntryRow, CaseRow, InviteRow, OrgRow, Store, StoreError,
};
use northstar_store_sqlite::SqliteStore;

const CHILD_ENV: &str = "NORTHSTAR_SQLITE_CRASH_CHILD";
const ACKS_BEFORE_KILL: u64 = 200;

fn value(i: u64) -> Vec<u8> {
    let mut v = i.to_le_bytes().repeat(64);
    v.push(0xff);
    v
}

/// The child: write secrets one by one and acknowledge each on stdout after
/// the call returned, until it is killed.
fn crash_child(path: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(path).await.unwrap();
        let mut out = std::io::stdout().lock();
        for i in 0..1_000_000u64 {
            let stored = store
                .put_secret_if_absent(&format!("k{i}"), &value(i))
                .await
                .unwrap();
            assert_eq!(stored, value(i));
            writeln!(out, "ack {i}").unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        crash_child(Path::new(&path));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("northstar.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "acknowledged_writes_survive_sigkill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = None;
    for line in lines.by_ref() {
        if let Some(i) = line.unwrap().strip_prefix("ack ") {
            let i: u64 = i.parse().unwrap();
            acked = Some(i);
            if i + 1 == ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    assert_eq!(
        acked,
        Some(ACKS_BEFORE_KILL - 1),
        "the writer stopped early"
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no checkpoint, no close.
    // Acknowledgements printed before the kill landed still count.
    for line in lines {
        let Ok(line) = line else { break };
        if let Some(i) = line.strip_prefix("ack ") {
            acked = Some(i.parse().unwrap());
        }
    }
    child.wait().unwrap();
    let acked = acked.unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        for i in 0..=acked {
            assert_eq!(
                store.get_secret(&format!("k{i}")).await.unwrap(),
                Some(value(i)),
                "acknowledged write {i} of {acked} was lost"
            );
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_new_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path: Arc<PathBuf> = Arc::new(dir.path().join("new").join("northstar.db"));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let path = path.clone();
        set.spawn(async move { SqliteStore::open(&path).await });
    }
    let mut stores = Vec::new();
    while let Some(opened) = set.join_next().await {
        stores.push(opened.unwrap().expect("every concurrent open succeeds"));
    }
    // They share one working database.
    assert_eq!(
        stores[0].put_secret_if_absent("s", b"one").await.unwrap(),
        b"one"
    );
    for store in &stores {
        assert_eq!(store.get_secret("s").await.unwrap(), Some(b"one".to_vec()));
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
        role: None,
        status,
        invite_id: invite,
        join_proof: None,
        created_at: 1,
    }
}

/// Two pools on one file stand for two server processes: the write lock of
/// `BEGIN IMMEDIATE` is the file's, so they serialize like one pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_let_one_join_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("northstar.db");
    let a = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b = Arc::new(SqliteStore::open(&path).await.unwrap());
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
            store
                .join(
                    &[7; 16],
                    &account(100 + n, AccountStatus::Pending, Some([7; 16])),
                    2,
                )
                .await
        });
    }
    let mut wins = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::InviteUsed) => {}
            Err(e) => panic!("a losing join must say InviteUsed, got {e:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(a.accounts().await.unwrap().len(), 2);
    assert_eq!(b.accounts().await.unwrap().len(), 2);
}

/// A refused row gives an error that names the problem but quotes none of
/// the row's blobs or ids.
#[tokio::test]
async fn errors_never_quote_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("northstar.db"))
        .await
        .unwrap();
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
        "BBBBB",
        "AAAAA",
    ] {
        assert!(!message.contains(leak), "{message:?} quotes {leak}");
        assert!(!format!("{err:?}").contains(leak));
    }
    assert!(message.contains("CHECK"), "{message}");
}

/// Two pools on one file race for one position of a case's chain: one wins,
/// and the head is the winner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_let_one_case_append_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("northstar.db");
    let a = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b = Arc::new(SqliteStore::open(&path).await.unwrap());
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
            barrier.wait().await;
            store.append_case_entry(&entry, &[n; 32]).await.map(|()| n)
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(n) => winners.push(n),
            Err(StoreError::Conflict {
                expected: 0,
                actual: 1,
            }) => {}
            Err(e) => panic!("a losing append must say Conflict, got {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let n = winners[0];
    let head = a.case(&case.case_id).await.unwrap().unwrap();
    assert_eq!((head.len, head.head_hash), (1, [n; 32]));
    let entries = b.case_entries(&case.case_id, 0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entry, vec![n]);
}

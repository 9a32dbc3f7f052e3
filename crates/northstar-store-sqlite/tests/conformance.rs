//! The shared conformance suite on a real SQLite file, a fresh one per behaviour.

use std::sync::Arc;

use northstar_store::Store;
use northstar_store::conformance::{self, Behaviour};
use northstar_store_sqlite::SqliteStore;

/// A fresh store in a new temporary folder (kept until the behaviour ends).
async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // A folder that does not exist yet: `open` creates it.
    let store = SqliteStore::open(&dir.path().join("data").join("northstar.db"))
        .await
        .expect("open a new SQLite store");
    (dir, store)
}

async fn run(behaviour: Behaviour) {
    let (_dir, store) = fresh().await;
    behaviour(Arc::new(store.clone())).await;
    store.close().await;
}

northstar_store::conformance_tests!(run);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_runs_every_behaviour() {
    let dirs = std::sync::Mutex::new(Vec::new());
    conformance::run_all(|| async {
        let (dir, store) = fresh().await;
        dirs.lock().unwrap().push(dir);
        Arc::new(store) as Arc<dyn Store>
    })
    .await;
    assert_eq!(dirs.lock().unwrap().len(), conformance::ALL.len());
}

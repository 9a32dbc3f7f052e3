//! The shared conformance suite on a real PostgreSQL server, a fresh database
//! per behaviour. Needs a server: see `support::admin_url`.

mod support;

use std::sync::Arc;

use northstar_store::conformance::Behaviour;
use northstar_store_postgres::PostgresStore;
use support::TestDatabase;

async fn run(behaviour: Behaviour) {
    let db = TestDatabase::create().await;
    let store = PostgresStore::connect(&db.url)
        .await
        .expect("connect to a fresh database");
    behaviour(Arc::new(store.clone())).await;
    store.close().await;
}

northstar_store::conformance_tests!(run);

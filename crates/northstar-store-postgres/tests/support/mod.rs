//! A fresh PostgreSQL database per test, on the server the environment names,
//! dropped again afterwards (also when the test fails).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, PgConnection};

const HOW_TO_RUN: &str = "the PostgreSQL tests need a server: run them under `cargo xtask test` \
    (which starts PostgreSQL) or `pg_virtualenv cargo test -p northstar-store-postgres`, \
    or set NORTHSTAR_TEST_POSTGRES_URL (or PGHOST and the other PG* variables)";

/// The URL of a database on the test server to run CREATE/DROP DATABASE from:
/// NORTHSTAR_TEST_POSTGRES_URL, else the server named by the PG* variables.
/// Fails (never skips) when neither is set.
fn admin_url() -> String {
    if let Ok(url) = std::env::var("NORTHSTAR_TEST_POSTGRES_URL") {
        return url;
    }
    let Ok(host) = std::env::var("PGHOST") else {
        panic!("{HOW_TO_RUN}");
    };
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let mut url = String::from("postgres://");
    if let Some(user) = var("PGUSER") {
        url += &encode(&user);
        if let Some(password) = var("PGPASSWORD") {
            url += ":";
            url += &encode(&password);
        }
        url += "@";
    }
    let socket = host.starts_with('/');
    url += if socket { "localhost" } else { &host };
    if let Some(port) = var("PGPORT") {
        url += ":";
        url += &port;
    }
    url += "/";
    url += &encode(&var("PGDATABASE").unwrap_or_else(|| "postgres".into()));
    if socket {
        url += "?host=";
        url += &encode(&host);
    }
    url
}

/// Percent-encode everything but ASCII letters and digits.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `url` pointed at database `name` (the `dbname` parameter wins over the path).
fn with_database(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}dbname={name}")
}

/// A URL on the test server whose database does not exist.
#[allow(dead_code)] // used by postgres.rs, not by conformance.rs
pub fn missing_database_url() -> String {
    with_database(&admin_url(), &random_name())
}

fn random_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("northstar_test_{:016x}", h.finish())
}

/// A new, empty database; dropped (with its open connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    admin: String,
    name: String,
    /// Where the database is.
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = random_name();
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test server failed ({e}); {HOW_TO_RUN}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        let url = with_database(&admin, &name);
        TestDatabase { admin, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot block on itself.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await
            })
        })
        .join();
        if !std::thread::panicking() {
            dropped
                .expect("the cleanup thread panicked")
                .expect("DROP DATABASE");
        }
    }
}

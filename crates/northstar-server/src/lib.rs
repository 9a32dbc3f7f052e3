//! The Northstar server: untrusted storage and coordination.
//!
//! It stores and hands back sealed key material, signed membership links and
//! (with the next issues) sealed case envelopes. It checks what can be checked
//! without keys — sizes, signatures of public chains, single use, expiry, chain
//! positions — as defence in depth; clients verify everything themselves.
//!
//! Nothing here logs a body, a header, a token or a passphrase: the request
//! log has the method, the path, the status and the time taken.
#![forbid(unsafe_code)]

mod api;
mod cases;
mod error;
mod extract;
mod help;
mod intake;
mod limits;
mod openapi;
mod secrets;
mod state;
mod webapp;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use northstar_store::Store;

pub use help::CONTENT_SECURITY_POLICY;
pub use intake::IntakeSettings;
pub use openapi::openapi_json;
pub use state::AppState;
pub use webapp::{APP_CONTENT_SECURITY_POLICY, OPAQUE_WORKER_CONTENT_SECURITY_POLICY};

/// How the server is started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where SQLite lives (unless `database_url` is set) and where the seal key is kept.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL instead of the embedded SQLite.
    pub database_url: Option<String>,
    /// The key that seals the server's own secrets (its OPAQUE setup). Every
    /// server on one PostgreSQL must use the same one. Default: `<data dir>/server-seal.key`.
    pub seal_key_file: Option<PathBuf>,
    /// The public intake's proof-of-work difficulty and request rate.
    pub intake: IntakeSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database: {0}")]
    Store(#[from] northstar_store::StoreError),
    #[error("unsupported database URL (expected postgres://… or none for SQLite)")]
    DatabaseUrl,
    #[error(
        "the server's sealed secrets in the database do not open with the seal key at {0}: \
         every server on one database must start with the same seal key file"
    )]
    WrongSealKey(PathBuf),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// Open the database the configuration names, running its migrations.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    match &config.database_url {
        None => Ok(Arc::new(
            northstar_store_sqlite::SqliteStore::open(&config.data_dir.join("northstar.sqlite3"))
                .await?,
        )),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(
            Arc::new(northstar_store_postgres::PostgresStore::connect(url).await?),
        ),
        Some(_) => Err(ServerError::DatabaseUrl),
    }
}

/// Everything the handlers need, from a configuration.
pub async fn prepare(config: &Config) -> Result<AppState, ServerError> {
    let store = open_store(config).await?;
    let seal_key_path = config
        .seal_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("server-seal.key"));
    let seal_key = secrets::load_or_create_seal_key(&seal_key_path)?;
    AppState::new(store, seal_key, seal_key_path, config.intake).await
}

/// Serve until `shutdown` completes, then finish the requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    // Expired sessions and half-finished sign-ins are deleted, so the database
    // does not keep a history of who signed in when.
    let store = state.store.clone();
    let purger = tokio::spawn(async move {
        loop {
            match store.purge_expired(state::now()).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "purged expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
    let app = api::router(state);
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServerError::Serve);
    purger.abort();
    served
}

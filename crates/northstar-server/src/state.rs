use std::path::PathBuf;
use std::sync::Arc;

use northstar_crypto::opaque::Suite;
use northstar_crypto::opaque::opaque_ke::ServerSetup;
use northstar_store::Store;
use zeroize::Zeroizing;

use crate::ServerError;
use crate::intake::{IntakeGuard, IntakeSettings};
use crate::limits::RateLimits;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) opaque: Arc<ServerSetup<Suite>>,
    pub(crate) seal_key: Arc<Zeroizing<[u8; 32]>>,
    pub(crate) limits: Arc<RateLimits>,
    pub(crate) intake: Arc<IntakeGuard>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppState(redacted)")
    }
}

impl AppState {
    pub async fn new(
        store: Arc<dyn Store>,
        seal_key: Zeroizing<[u8; 32]>,
        seal_key_path: PathBuf,
        intake: IntakeSettings,
    ) -> Result<Self, ServerError> {
        let opaque =
            crate::secrets::opaque_setup(store.as_ref(), &seal_key, &seal_key_path).await?;
        Ok(AppState {
            store,
            opaque: Arc::new(opaque),
            seal_key: Arc::new(seal_key),
            limits: Arc::new(RateLimits::default()),
            intake: Arc::new(IntakeGuard::new(intake)),
        })
    }

    /// A key of the server's own for a purpose (login states, dummy ids).
    pub(crate) fn purpose_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        northstar_crypto::localseal::subkey(&self.seal_key, purpose)
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

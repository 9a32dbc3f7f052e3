//! The server's own secrets: the seal key (a file beside the data, 0600) and
//! the OPAQUE server setup, kept in the database sealed under that key, so a
//! database dump alone does not hold the OPAQUE keys.

use std::io::Write;
use std::path::Path;

use northstar_crypto::localseal;
use northstar_crypto::opaque::Suite;
use northstar_crypto::opaque::opaque_ke::ServerSetup;
use northstar_store::Store;
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::ServerError;

const OPAQUE_SETUP: &str = "northstar/v1/server/opaque-setup";

fn data_dir_error(path: &Path, source: std::io::Error) -> ServerError {
    ServerError::DataDir {
        path: path.to_path_buf(),
        source,
    }
}

pub fn load_or_create_seal_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, ServerError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                data_dir_error(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the seal key file must hold exactly 32 bytes",
                    ),
                )
            })?;
            Ok(Zeroizing::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(key.as_mut());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| data_dir_error(parent, e))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut f) => {
                    f.write_all(key.as_ref())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| data_dir_error(path, e))?;
                    Ok(key)
                }
                // Another server created it at the same moment: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_seal_key(path)
                }
                Err(e) => Err(data_dir_error(path, e)),
            }
        }
        Err(e) => Err(data_dir_error(path, e)),
    }
}

/// The OPAQUE server setup, created on first start and shared by every server
/// on the same database.
pub async fn opaque_setup(
    store: &dyn Store,
    seal_key: &[u8; 32],
    seal_key_path: &Path,
) -> Result<ServerSetup<Suite>, ServerError> {
    let fresh = ServerSetup::<Suite>::new(&mut OsRng);
    let key = localseal::subkey(seal_key, "opaque-setup");
    let sealed = localseal::seal(&key, OPAQUE_SETUP, &fresh.serialize(), &mut OsRng);
    let stored = store.put_secret_if_absent(OPAQUE_SETUP, &sealed).await?;
    let opened = localseal::open(&key, OPAQUE_SETUP, &stored)
        .map_err(|_| ServerError::WrongSealKey(seal_key_path.to_path_buf()))?;
    ServerSetup::<Suite>::deserialize(&opened)
        .map_err(|_| ServerError::WrongSealKey(seal_key_path.to_path_buf()))
}

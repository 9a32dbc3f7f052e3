//! The local profile: which server and organization this member trusts, and
//! what they have already verified. It holds no key: keys are unlocked in
//! memory from the passphrase for each command. The session token is a
//! short-lived bearer credential, kept in a 0600 file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ClientError, Result};

const FILE: &str = "profile.json";

/// Without an unlock for this long, the local cache is deleted.
pub const DEFAULT_CACHE_EXPIRY_DAYS: u32 = 14;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProfileData {
    pub server: Option<String>,
    pub username: Option<String>,
    pub account_id: Option<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    /// The organization root public key (base64url), pinned on first use.
    pub org_root_public_key: Option<String>,
    /// The server's OPAQUE public key (base64url), pinned at registration:
    /// a different key at sign-in means a different server.
    pub opaque_server_key: Option<String>,
    /// The highest membership chain seen: length and head hash (hex).
    pub membership_len: Option<u64>,
    pub membership_head: Option<String>,
    /// Members whose fingerprint words this member compared, by account id.
    #[serde(default)]
    pub verified: BTreeMap<String, Vec<String>>,
    /// This device's slot (base64url): the root key sealed under Argon2id of
    /// the passphrase, so the local cache opens without the server.
    #[serde(default)]
    pub device_slot: Option<String>,
    /// When this profile last unlocked (unix seconds). After
    /// `cache_expiry_days` without an unlock, the cache and the device slot
    /// are deleted.
    #[serde(default)]
    pub last_unlock: Option<i64>,
    #[serde(default)]
    pub cache_expiry_days: Option<u32>,
    /// The invitation this profile joined with, sealed under the root key:
    /// it opens the intake desk keys an intake officer's invitation carries.
    #[serde(default)]
    pub intake_invite: Option<String>,
    pub session_token: Option<String>,
    pub session_expires_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    dir: PathBuf,
    pub data: ProfileData,
}

impl Profile {
    /// Load the profile in `dir`, or an empty one if there is none yet.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ClientError::Profile {
                path: path.display().to_string(),
                reason: format!("unreadable ({e}); move it aside to start afresh"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ProfileData::default(),
            Err(e) => {
                return Err(ClientError::Profile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Ok(Profile {
            dir: dir.to_path_buf(),
            data,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Write atomically (temporary file, fsync, rename), readable by the owner only.
    pub fn save(&self) -> Result<()> {
        let err = |e: std::io::Error| ClientError::Profile {
            path: self.dir.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(err)?;
        }
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(err)?;
        let json = serde_json::to_vec_pretty(&self.data).expect("profile serializes");
        f.write_all(&json).and_then(|_| f.sync_all()).map_err(err)?;
        std::fs::rename(&tmp, self.dir.join(FILE)).map_err(err)?;
        Ok(())
    }

    /// The session token if it has not expired (with a minute to spare).
    pub fn live_token(&self) -> Option<String> {
        match (&self.data.session_token, self.data.session_expires_at) {
            (Some(t), Some(exp)) if exp > crate::now() + 60 => Some(t.clone()),
            _ => None,
        }
    }

    /// Days without an unlock after which the cache expires.
    pub fn cache_expiry_days(&self) -> u32 {
        self.data
            .cache_expiry_days
            .unwrap_or(DEFAULT_CACHE_EXPIRY_DAYS)
    }

    /// Delete the local cache and the device slot if this profile has not
    /// been unlocked for longer than its expiry. Returns whether it did.
    pub fn expire_cache_if_stale(&mut self) -> Result<bool> {
        let Some(last) = self.data.last_unlock else {
            return Ok(false);
        };
        let limit = i64::from(self.cache_expiry_days()) * 86_400;
        if crate::now() - last <= limit {
            return Ok(false);
        }
        self.forget_cache()?;
        Ok(true)
    }

    /// Delete the local cache and the device slot now.
    pub fn forget_cache(&mut self) -> Result<bool> {
        let deleted =
            crate::sync::LocalCache::delete(&self.dir).map_err(|e| ClientError::Profile {
                path: self.dir.display().to_string(),
                reason: format!("cannot delete the cache: {e}"),
            })?;
        let had_slot = self.data.device_slot.take().is_some();
        self.data.last_unlock = None;
        self.save()?;
        Ok(deleted || had_slot)
    }

    pub fn server(&self, given: Option<&str>) -> Result<String> {
        given
            .map(str::to_owned)
            .or_else(|| self.data.server.clone())
            .ok_or_else(|| {
                ClientError::Refused("no server: pass --server URL or set NORTHSTAR_SERVER".into())
            })
    }
}

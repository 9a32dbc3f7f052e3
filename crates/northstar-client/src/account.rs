//! Accounts: founding an organization, joining one, signing in and unlocking
//! the keys. The passphrase never leaves this process: OPAQUE turns it into an
//! export key that opens the password slot, which holds the account root key.

use northstar_crypto::identity::{
    MemberSecretKeys, OrgRootKey, org_fingerprint, unwrap_member_keys, unwrap_org_root,
    wrap_member_keys, wrap_org_root,
};
use northstar_crypto::invite::{JoinClaim, parse_code, prove};
use northstar_crypto::membership::{MembershipState, found_organization, valid_name};
use northstar_crypto::opaque::Suite;
use northstar_crypto::opaque::opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, ClientRegistration,
    ClientRegistrationFinishParameters, CredentialResponse, RegistrationResponse,
};
use northstar_crypto::slot::{
    RootKey, SlotKind, open_device_slot, open_slot, seal_device_slot, seal_slot,
};
use northstar_crypto::{AccountId, OrgId};
use northstar_protocol::{self as p};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::profile::Profile;
use crate::{Api, ClientError, Result, b64, unb64, unb64_array, unhex16};

/// A signed-in member with their keys unlocked in memory.
#[derive(Debug)]
pub struct Unlocked {
    pub api: Api,
    pub account: AccountId,
    pub username: String,
    pub org: OrgId,
    pub root: RootKey,
    pub keys: MemberSecretKeys,
    /// Held by the founding admin.
    pub org_root: Option<OrgRootKey>,
}

impl Unlocked {
    /// The key this member keeps its own grants under (crypto §9.1).
    pub fn keep_key(&self) -> northstar_crypto::grant::KeepKey {
        northstar_crypto::grant::KeepKey::from_root(&self.root)
    }
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ClientError::Refused(format!(
            "the {what} must be 1 to 64 bytes, without control characters or surrounding spaces"
        )))
    }
}

fn check_fresh_profile(profile: &Profile) -> Result<()> {
    if let Some(name) = &profile.data.username {
        return Err(ClientError::Refused(format!(
            "the profile at {} already belongs to '{name}': use another --profile",
            profile.dir().display()
        )));
    }
    Ok(())
}

fn opaque_failed(what: &str) -> ClientError {
    ClientError::Protocol(format!("the server's {what} is not a valid OPAQUE message"))
}

struct Registered {
    upload: String,
    export_key: Zeroizing<Vec<u8>>,
    server_key: String,
}

/// The client side of OPAQUE registration around a `start` call to the server.
async fn register<F, Fut>(passphrase: &str, start: F) -> Result<Registered>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<String>>,
{
    let started = ClientRegistration::<Suite>::start(&mut OsRng, passphrase.as_bytes())
        .map_err(|_| ClientError::Refused("the passphrase cannot be used".into()))?;
    let response_b64 = start(b64(&started.message.serialize())).await?;
    let response =
        RegistrationResponse::<Suite>::deserialize(&unb64("registration_response", &response_b64)?)
            .map_err(|_| opaque_failed("registration response"))?;
    let finished = started
        .state
        .finish(
            &mut OsRng,
            passphrase.as_bytes(),
            response,
            ClientRegistrationFinishParameters::default(),
        )
        .map_err(|_| opaque_failed("registration response"))?;
    Ok(Registered {
        upload: b64(&finished.message.serialize()),
        export_key: Zeroizing::new(finished.export_key.to_vec()),
        server_key: b64(&finished.server_s_pk.serialize()),
    })
}

fn seal_account(
    account: AccountId,
    export_key: &[u8],
    root: &RootKey,
    keys: &MemberSecretKeys,
) -> (String, String) {
    let mut slot_id = [0u8; 16];
    OsRng.fill_bytes(&mut slot_id);
    let slot = seal_slot(
        SlotKind::Password,
        export_key,
        account,
        slot_id,
        root,
        &mut OsRng,
    );
    let keybox = wrap_member_keys(root, account, keys, &mut OsRng);
    (b64(&slot), b64(&keybox))
}

fn public_keys(keys: &MemberSecretKeys) -> p::PublicKeys {
    let public = keys.public();
    p::PublicKeys {
        signing: b64(&public.signing),
        agreement: b64(&public.agreement),
    }
}

/// Found an organization on a server that has none: the first admin's account,
/// the organization root key and the first two membership links.
/// Returns the unlocked admin and the organization's fingerprint words.
pub async fn org_init(
    server: &str,
    profile: &mut Profile,
    org_name: &str,
    username: &str,
    passphrase: &str,
) -> Result<(Unlocked, Vec<&'static str>)> {
    check_fresh_profile(profile)?;
    check_name("organization name", org_name)?;
    check_name("user name", username)?;
    let api = Api::new(server)?;
    let account = AccountId::random(&mut OsRng);
    let org = OrgId::random(&mut OsRng);
    let root = RootKey::generate(&mut OsRng);
    let keys = MemberSecretKeys::generate(&mut OsRng);
    let org_root = OrgRootKey::generate(&mut OsRng);
    let registered = register(passphrase, |request| {
        let api = api.clone();
        let body = p::OrgInitStart {
            register: p::RegisterStart {
                account_id: account.to_hex(),
                username: username.to_owned(),
                registration_request: request,
            },
        };
        async move { Ok(api.org_init_start(&body).await?.registration_response) }
    })
    .await?;
    let links = found_organization(
        org,
        org_name,
        &org_root.0,
        crate::now() as u64,
        (account, username, keys.public()),
    )?;
    let chain = MembershipState::verify(&org_root.public_key(), &links)?;
    let (slot, keybox) = seal_account(account, &registered.export_key, &root, &keys);
    let org_root_box = wrap_org_root(&root, account, org, &org_root, &mut OsRng);
    let org_info = p::OrgInfo {
        org_id: org.to_hex(),
        name: org_name.to_owned(),
        root_public_key: b64(&org_root.public_key()),
    };
    let session = api
        .org_init_finish(&p::OrgInitFinish {
            account_id: account.to_hex(),
            username: username.to_owned(),
            registration_upload: registered.upload,
            org: org_info.clone(),
            links: links.iter().map(|l| b64(l)).collect(),
            material: p::KeyMaterial {
                keys: public_keys(&keys),
                slot,
                keybox,
                org_root_box: Some(b64(&org_root_box)),
            },
        })
        .await?;
    let d = &mut profile.data;
    d.server = Some(api.base().to_owned());
    d.username = Some(username.to_owned());
    d.account_id = Some(account.to_hex());
    d.org_id = Some(org_info.org_id);
    d.org_name = Some(org_name.to_owned());
    d.org_root_public_key = Some(org_info.root_public_key);
    d.opaque_server_key = Some(registered.server_key);
    d.membership_len = Some(chain.len());
    d.membership_head = Some(northstar_crypto::ids::to_hex(&chain.head()));
    d.session_token = Some(session.token.clone());
    d.session_expires_at = Some(session.expires_at);
    d.last_unlock = Some(crate::now());
    d.device_slot = Some(b64(&new_device_slot(passphrase, account, &root)?));
    profile.save()?;
    let words = org_fingerprint(&org_root.public_key());
    Ok((
        Unlocked {
            api: api.with_token(Some(session.token)),
            account,
            username: username.to_owned(),
            org,
            root,
            keys,
            org_root: Some(org_root),
        },
        words,
    ))
}

/// What a new member learns when joining.
#[derive(Debug, Clone)]
pub struct Joined {
    pub org_name: String,
    pub org_fingerprint: Vec<&'static str>,
    pub account: AccountId,
}

/// Join with an invitation code. The account waits until an admin who issued
/// the invitation checks the proof and adds it to the membership chain.
pub async fn join(
    server: &str,
    profile: &mut Profile,
    code: &str,
    username: &str,
    passphrase: &str,
) -> Result<Joined> {
    check_fresh_profile(profile)?;
    check_name("user name", username)?;
    let (invite_id, secret) = parse_code(code)?;
    let api = Api::new(server)?;
    let account = AccountId::random(&mut OsRng);
    let root = RootKey::generate(&mut OsRng);
    let keys = MemberSecretKeys::generate(&mut OsRng);
    let invite_hex = northstar_crypto::ids::to_hex(&invite_id);
    let mut org_info = None;
    let registered = register(passphrase, |request| {
        let api = api.clone();
        let body = p::JoinStart {
            invite_id: invite_hex.clone(),
            register: p::RegisterStart {
                account_id: account.to_hex(),
                username: username.to_owned(),
                registration_request: request,
            },
        };
        let org_info = &mut org_info;
        async move {
            let response = api.join_start(&body).await?;
            *org_info = Some(response.org);
            Ok(response.registration_response)
        }
    })
    .await?;
    let org_info = org_info.expect("set by join_start");
    let org = OrgId(unhex16("org_id", &org_info.org_id)?);
    let root_public_key: [u8; 32] = unb64_array("root_public_key", &org_info.root_public_key)?;
    let (slot, keybox) = seal_account(account, &registered.export_key, &root, &keys);
    let proof = prove(
        &secret,
        &JoinClaim {
            org,
            invite: invite_id,
            account,
            keys: keys.public(),
            name: username,
        },
    );
    let session = api
        .join_finish(&p::JoinFinish {
            invite_id: invite_hex,
            account_id: account.to_hex(),
            username: username.to_owned(),
            registration_upload: registered.upload,
            material: p::KeyMaterial {
                keys: public_keys(&keys),
                slot,
                keybox,
                org_root_box: None,
            },
            proof: b64(&proof),
        })
        .await?;
    let d = &mut profile.data;
    d.server = Some(api.base().to_owned());
    d.username = Some(username.to_owned());
    d.account_id = Some(account.to_hex());
    d.org_id = Some(org_info.org_id.clone());
    d.org_name = Some(org_info.name.clone());
    d.org_root_public_key = Some(org_info.root_public_key.clone());
    d.opaque_server_key = Some(registered.server_key);
    d.session_token = Some(session.token);
    d.session_expires_at = Some(session.expires_at);
    d.last_unlock = Some(crate::now());
    d.device_slot = Some(b64(&new_device_slot(passphrase, account, &root)?));
    crate::intake::remember_invite(profile, &root, &invite_id, &secret);
    profile.save()?;
    Ok(Joined {
        org_name: org_info.name,
        org_fingerprint: org_fingerprint(&root_public_key),
        account,
    })
}

/// Sign in with OPAQUE and unlock the account's keys in memory.
pub async fn login(
    server: &str,
    profile: &mut Profile,
    username: &str,
    passphrase: &str,
) -> Result<Unlocked> {
    if let Some(known) = &profile.data.username
        && known != username
    {
        return Err(ClientError::Refused(format!(
            "the profile at {} belongs to '{known}', not '{username}': use another --profile",
            profile.dir().display()
        )));
    }
    let mut api = Api::new(server)?;
    let started = ClientLogin::<Suite>::start(&mut OsRng, passphrase.as_bytes())
        .map_err(|_| ClientError::WrongPassphrase)?;
    let response = api
        .login_start(&p::LoginStart {
            username: username.to_owned(),
            credential_request: b64(&started.message.serialize()),
        })
        .await?;
    let credential_response = CredentialResponse::<Suite>::deserialize(&unb64(
        "credential_response",
        &response.credential_response,
    )?)
    .map_err(|_| opaque_failed("credential response"))?;
    // A wrong passphrase or an unknown name fails here, before anything is sent back.
    let finished = started
        .state
        .finish(
            &mut OsRng,
            passphrase.as_bytes(),
            credential_response,
            ClientLoginFinishParameters::default(),
        )
        .map_err(|_| ClientError::WrongPassphrase)?;
    let server_key = b64(&finished.server_s_pk.serialize());
    if let Some(pinned) = &profile.data.opaque_server_key
        && pinned != &server_key
    {
        return Err(ClientError::ServerChanged(
            "its sign-in key differs from the one pinned when this account was registered".into(),
        ));
    }
    let done = api
        .login_finish(&p::LoginFinish {
            login_id: response.login_id,
            credential_finalization: b64(&finished.message.serialize()),
        })
        .await?;
    let account = AccountId(unhex16("account_id", &done.account_id)?);
    if let Some(known) = &profile.data.account_id
        && known != &account.to_hex()
    {
        return Err(ClientError::ServerChanged(
            "it signed this name in as a different account".into(),
        ));
    }
    api.set_token(Some(done.session.token.clone()));
    let material = api.me_keys().await?;
    let root = open_slot(
        &unb64("slot", &material.slot)?,
        SlotKind::Password,
        &finished.export_key,
        account,
    )?;
    let keys = unwrap_member_keys(&unb64("keybox", &material.keybox)?, &root, account)?;
    let me = api.me().await?;
    let org = OrgId(unhex16("org_id", &me.org.org_id)?);
    pin_org(profile, &me.org)?;
    let org_root = material
        .org_root_box
        .as_deref()
        .map(|b| {
            unwrap_org_root(&unb64("org_root_box", b)?, &root, account, org)
                .map_err(ClientError::from)
        })
        .transpose()?;
    let d = &mut profile.data;
    d.server = Some(api.base().to_owned());
    d.username = Some(username.to_owned());
    d.account_id = Some(account.to_hex());
    d.opaque_server_key = Some(server_key);
    d.session_token = Some(done.session.token);
    d.session_expires_at = Some(done.session.expires_at);
    d.last_unlock = Some(crate::now());
    if d.device_slot.is_none() {
        d.device_slot = Some(b64(&new_device_slot(passphrase, account, &root)?));
    }
    profile.save()?;
    Ok(Unlocked {
        api,
        account,
        username: username.to_owned(),
        org,
        root,
        keys,
        org_root,
    })
}

/// Seal the root key into a slot this device opens with the passphrase alone.
fn new_device_slot(passphrase: &str, account: AccountId, root: &RootKey) -> Result<Vec<u8>> {
    let mut slot_id = [0u8; 16];
    OsRng.fill_bytes(&mut slot_id);
    Ok(seal_device_slot(
        passphrase.as_bytes(),
        account,
        slot_id,
        root,
        &mut OsRng,
    )?)
}

/// The keys that open the local cache, unlocked without the server.
#[derive(Debug)]
pub struct OfflineKeys {
    pub account: AccountId,
    pub org: OrgId,
    pub root: RootKey,
}

/// Unlock this device's slot with the passphrase (no server involved): it
/// opens the local cache only. A wrong passphrase gets the same message as a
/// failed sign-in.
pub fn unlock_offline(profile: &mut Profile, passphrase: &str) -> Result<OfflineKeys> {
    let d = &profile.data;
    let (Some(slot), Some(account), Some(org)) = (&d.device_slot, &d.account_id, &d.org_id) else {
        return Err(ClientError::Refused(
            "this profile has no offline copy: sign in once while the server is reachable".into(),
        ));
    };
    let account = AccountId(unhex16("account_id", account)?);
    let org = OrgId(unhex16("org_id", org)?);
    let slot = unb64("device slot", slot)?;
    let root = open_device_slot(&slot, passphrase.as_bytes(), account).map_err(|e| match e {
        northstar_crypto::CryptoError::Decrypt { .. } => ClientError::WrongPassphrase,
        other => ClientError::Profile {
            path: profile.dir().display().to_string(),
            reason: format!("the device slot is damaged ({other})"),
        },
    })?;
    profile.data.last_unlock = Some(crate::now());
    profile.save()?;
    Ok(OfflineKeys { account, org, root })
}

/// Pin the organization on first sight; refuse a different one afterwards.
pub(crate) fn pin_org(profile: &mut Profile, org: &p::OrgInfo) -> Result<()> {
    let d = &mut profile.data;
    match (&d.org_id, &d.org_root_public_key) {
        (Some(id), Some(root)) if id == &org.org_id && root == &org.root_public_key => Ok(()),
        (Some(_), Some(_)) => Err(ClientError::ServerChanged(
            "it presents another organization or root key than the one this profile pinned".into(),
        )),
        _ => {
            d.org_id = Some(org.org_id.clone());
            d.org_name = Some(org.name.clone());
            d.org_root_public_key = Some(org.root_public_key.clone());
            Ok(())
        }
    }
}

/// End the session on the server and forget it locally.
pub async fn logout(server: &str, profile: &mut Profile) -> Result<bool> {
    let Some(token) = profile.data.session_token.take() else {
        return Ok(false);
    };
    profile.data.session_expires_at = None;
    profile.save()?;
    let api = Api::new(server)?.with_token(Some(token));
    match api.logout().await {
        Ok(()) => Ok(true),
        // Already expired or revoked on the server: the local token is gone either way.
        Err(e) if e.api_code() == Some(northstar_protocol::ErrorCode::Unauthorized) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Who the server says this session belongs to.
pub async fn whoami(server: &str, profile: &Profile) -> Result<p::Me> {
    let token = profile.live_token().ok_or(ClientError::NotSignedIn)?;
    let me = Api::new(server)?.with_token(Some(token)).me().await?;
    if profile.data.account_id.as_deref() != Some(me.account_id.as_str()) {
        return Err(ClientError::ServerChanged(
            "it says this session belongs to another account".into(),
        ));
    }
    Ok(me)
}

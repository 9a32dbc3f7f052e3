//! Secret types are not `Clone`, not `Serialize`, and print nothing secret.

use northstar_crypto::envelope::DataKey;
use northstar_crypto::export::AgeIdentity;
use northstar_crypto::grant::{CompartmentKey, KeepKey};
use northstar_crypto::identity::{AgreementSecret, MemberSecretKeys, OrgRootKey};
use northstar_crypto::sig::SigningSecret;
use northstar_crypto::slot::RootKey;
use static_assertions::assert_not_impl_any;

assert_not_impl_any!(RootKey: Clone, Copy, serde::Serialize);
assert_not_impl_any!(SigningSecret: Clone, Copy, serde::Serialize);
assert_not_impl_any!(AgreementSecret: Clone, Copy, serde::Serialize);
assert_not_impl_any!(MemberSecretKeys: Clone, Copy, serde::Serialize);
assert_not_impl_any!(OrgRootKey: Clone, Copy, serde::Serialize);
assert_not_impl_any!(CompartmentKey: Clone, Copy, serde::Serialize);
assert_not_impl_any!(DataKey: Clone, Copy, serde::Serialize);
assert_not_impl_any!(KeepKey: Clone, Copy, serde::Serialize);
assert_not_impl_any!(AgeIdentity: Clone, Copy, serde::Serialize);

#[test]
fn debug_output_of_secrets_reveals_no_key_bytes() {
    let bytes = [0x5Au8; 32];
    let hex_of_bytes = "5a".repeat(8);
    let printed = [
        format!("{:?}", RootKey::from_bytes(bytes)),
        format!("{:?}", SigningSecret::from_seed(bytes)),
        format!("{:?}", AgreementSecret::from_bytes(bytes)),
        format!(
            "{:?}",
            MemberSecretKeys::new(
                SigningSecret::from_seed(bytes),
                AgreementSecret::from_bytes(bytes)
            )
        ),
        format!("{:?}", CompartmentKey::from_bytes(3, bytes)),
        format!("{:#?}", CompartmentKey::from_bytes(3, bytes)),
        format!("{:?}", KeepKey::from_root(&RootKey::from_bytes(bytes))),
    ];
    for p in printed {
        assert!(p.contains("redacted"), "{p}");
        assert!(!p.contains(&hex_of_bytes), "{p}");
        assert!(!p.contains("90, 90"), "{p}");
    }
    let age = AgeIdentity::generate();
    let line = age.to_secret_string();
    assert!(!format!("{age:?}").contains(line.as_str()));
}

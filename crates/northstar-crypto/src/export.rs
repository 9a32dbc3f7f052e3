//! Exports and backups as age files to X25519 recipients, so that the `age`
//! command-line tool can always open them and no organization is locked in.

use std::str::FromStr;

use age::secrecy::ExposeSecret;

use crate::CryptoError;

/// An age X25519 identity (private key). Not `Clone`, not printable.
pub struct AgeIdentity(age::x25519::Identity);

impl AgeIdentity {
    pub fn generate() -> Self {
        AgeIdentity(age::x25519::Identity::generate())
    }

    /// Parse `AGE-SECRET-KEY-1...`. The error never repeats the input.
    pub fn parse(s: &str) -> Result<Self, CryptoError> {
        age::x25519::Identity::from_str(s.trim())
            .map(AgeIdentity)
            .map_err(|_| CryptoError::Export("not an age X25519 identity".into()))
    }

    /// The recipient string, `age1...`.
    pub fn recipient(&self) -> String {
        self.0.to_public().to_string()
    }

    /// The identity file line, for writing a key file the user asked for.
    pub fn to_secret_string(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }
}

impl std::fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgeIdentity({}, redacted)", self.recipient())
    }
}

/// Check an `age1...` recipient string.
pub fn parse_recipient(s: &str) -> Result<age::x25519::Recipient, CryptoError> {
    age::x25519::Recipient::from_str(s.trim()).map_err(|_| {
        CryptoError::Export(format!(
            "'{}' is not an age X25519 recipient (age1...)",
            s.trim().chars().take(80).collect::<String>()
        ))
    })
}

/// Encrypt to one or more `age1...` recipients (binary age format).
pub fn export_to_recipients(plaintext: &[u8], recipients: &[&str]) -> Result<Vec<u8>, CryptoError> {
    if recipients.is_empty() {
        return Err(CryptoError::Export("no recipients".into()));
    }
    let parsed = recipients
        .iter()
        .map(|r| parse_recipient(r))
        .collect::<Result<Vec<_>, _>>()?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| CryptoError::Export(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| CryptoError::Export(e.to_string()))?;
    std::io::Write::write_all(&mut writer, plaintext)
        .map_err(|e| CryptoError::Export(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| CryptoError::Export(e.to_string()))?;
    Ok(out)
}

/// Decrypt an age file (binary or armored) with an identity.
pub fn import_with_identity(
    ciphertext: &[u8],
    identity: &AgeIdentity,
) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    let reader = age::armor::ArmoredReader::new(ciphertext);
    let decryptor = age::Decryptor::new(reader).map_err(|e| CryptoError::Export(e.to_string()))?;
    let mut r = decryptor
        .decrypt(std::iter::once(&identity.0 as &dyn age::Identity))
        .map_err(|e| CryptoError::Export(e.to_string()))?;
    let mut out = zeroize::Zeroizing::new(Vec::new());
    std::io::Read::read_to_end(&mut r, &mut out).map_err(|e| CryptoError::Export(e.to_string()))?;
    Ok(out)
}

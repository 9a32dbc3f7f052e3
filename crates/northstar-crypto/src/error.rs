use crate::ids::KeyId;

/// Why a signature was refused under the project's Ed25519 policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("public key is not a valid point encoding")]
    InvalidKey,
    #[error("public key uses a non-canonical encoding")]
    NonCanonicalKey,
    #[error("public key has small order")]
    SmallOrderKey,
    #[error("public key has a small-order component")]
    MixedOrderKey,
    #[error("signature R is not a valid point encoding")]
    InvalidR,
    #[error("signature R uses a non-canonical encoding")]
    NonCanonicalR,
    #[error("signature R has small order")]
    SmallOrderR,
    #[error("signature R has a small-order component")]
    MixedOrderR,
    #[error("signature does not verify")]
    Mismatch,
    #[error("X25519 agreement key has small order")]
    SmallOrderAgreementKey,
}

impl SignatureError {
    /// The stable code shared with the TypeScript twin.
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::InvalidKey => "sig-invalid-key",
            SignatureError::NonCanonicalKey => "sig-non-canonical-key",
            SignatureError::SmallOrderKey => "sig-small-order-key",
            SignatureError::MixedOrderKey => "sig-mixed-order-key",
            SignatureError::InvalidR => "sig-invalid-r",
            SignatureError::NonCanonicalR => "sig-non-canonical-r",
            SignatureError::SmallOrderR => "sig-small-order-r",
            SignatureError::MixedOrderR => "sig-mixed-order-r",
            SignatureError::Mismatch => "sig-mismatch",
            SignatureError::SmallOrderAgreementKey => "key-small-order-agreement",
        }
    }
}

/// What is wrong with a case's hash chain. Each variant names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error(
        "chain entry {found} arrived where entry {expected} belongs: entries {expected}..{found} are missing"
    )]
    Gap { expected: u64, found: u64 },
    #[error("chain entry {seq} appears twice")]
    Duplicate { seq: u64 },
    #[error("chain entry {found} appears where entry {expected} belongs: entries are out of order")]
    Reordered { expected: u64, found: u64 },
    #[error("chain entry {seq} does not link to the entry before it")]
    BrokenLink { seq: u64 },
    #[error(
        "chain head went back from entry {known} to entry {served}: the server rolled the case back"
    )]
    Rollback { known: u64, served: u64 },
    #[error("chain entry {seq} differs from the one seen before: the server forked this case")]
    Fork { seq: u64 },
    #[error("chain entry {seq} belongs to another organization or case")]
    ForeignEntry { seq: u64 },
}

impl ChainError {
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::Gap { .. } => "chain-gap",
            ChainError::Duplicate { .. } => "chain-duplicate",
            ChainError::Reordered { .. } => "chain-reordered",
            ChainError::BrokenLink { .. } => "chain-broken-link",
            ChainError::Rollback { .. } => "chain-rollback",
            ChainError::Fork { .. } => "chain-fork",
            ChainError::ForeignEntry { .. } => "chain-foreign-entry",
        }
    }
}

/// What is wrong with an organization's membership chain. Each variant names the link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("membership chain is empty")]
    Empty,
    #[error("membership link {seq} is malformed: {reason}")]
    Malformed { seq: u64, reason: &'static str },
    #[error("membership link {seq} has sequence number {found}")]
    OutOfSequence { seq: u64, found: u64 },
    #[error("membership link {seq} does not link to the link before it")]
    BrokenLink { seq: u64 },
    #[error("membership link {seq} belongs to another organization")]
    ForeignOrg { seq: u64 },
    #[error("membership link {seq} has a bad signature: {source}")]
    BadSignature { seq: u64, source: SignatureError },
    #[error("membership link {seq} is signed by a key that was never a member")]
    SignerUnknown { seq: u64 },
    #[error("membership link {seq} is signed by a member who was removed")]
    SignerRemoved { seq: u64 },
    #[error("membership link {seq} is signed by a member who is not an admin")]
    SignerNotAdmin { seq: u64 },
    #[error(
        "the first membership link must create the organization, signed by the pinned root key"
    )]
    BadGenesis,
    #[error("membership link {seq} adds an account that is or was already a member")]
    AlreadyMember { seq: u64 },
    #[error("membership link {seq} adds a member named '{name}', a name already in use")]
    NameTaken { seq: u64, name: String },
    #[error("membership link {seq} names an account that is not a member")]
    NotMember { seq: u64 },
    #[error("membership link {seq} registers a public key that fails the key policy: {source}")]
    WeakKey { seq: u64, source: SignatureError },
    #[error("membership link {seq} would leave the organization without an admin")]
    LastAdmin { seq: u64 },
    #[error("membership link {seq} registers a key that another member or the root already used")]
    KeyReused { seq: u64 },
}

impl MembershipError {
    pub fn code(&self) -> &'static str {
        match self {
            MembershipError::Empty => "membership-empty",
            MembershipError::Malformed { .. } => "membership-malformed",
            MembershipError::OutOfSequence { .. } => "membership-out-of-sequence",
            MembershipError::BrokenLink { .. } => "membership-broken-link",
            MembershipError::ForeignOrg { .. } => "membership-foreign-org",
            MembershipError::BadSignature { .. } => "membership-bad-signature",
            MembershipError::SignerUnknown { .. } => "membership-signer-unknown",
            MembershipError::SignerRemoved { .. } => "membership-signer-removed",
            MembershipError::SignerNotAdmin { .. } => "membership-signer-not-admin",
            MembershipError::BadGenesis => "membership-bad-genesis",
            MembershipError::AlreadyMember { .. } => "membership-already-member",
            MembershipError::NameTaken { .. } => "membership-name-taken",
            MembershipError::NotMember { .. } => "membership-not-member",
            MembershipError::WeakKey { .. } => "membership-weak-key",
            MembershipError::LastAdmin { .. } => "membership-last-admin",
            MembershipError::KeyReused { .. } => "membership-key-reused",
        }
    }
}

/// Every way opening, verifying or parsing a Northstar format can fail.
///
/// Messages never contain key material or plaintext: they name the object and
/// what is wrong with it, nothing more.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("malformed {format}: {reason}")]
    Malformed {
        format: &'static str,
        reason: &'static str,
    },
    #[error("unsupported {format} version or suite")]
    Unsupported { format: &'static str },
    #[error("{format} does not decrypt: wrong key, or the data was altered")]
    Decrypt { format: &'static str },
    #[error("record key commitment does not match its data key")]
    KeyCommitment,
    #[error("{format} signature refused: {source}")]
    Signature {
        format: &'static str,
        source: SignatureError,
    },
    #[error("{format} is bound to another {field} than expected: it was moved or swapped")]
    ContextMismatch {
        format: &'static str,
        field: &'static str,
    },
    #[error("no key for generation {generation} of this compartment")]
    UnknownGeneration { generation: u32 },
    #[error("grant is addressed to another key")]
    NotRecipient,
    #[error("signed by key {key_id}, which is not the expected author")]
    UnexpectedSigner { key_id: KeyId },
    #[error("public key refused: {0}")]
    WeakPublicKey(SignatureError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Membership(#[from] MembershipError),
    #[error("age export failed: {0}")]
    Export(String),
}

impl CryptoError {
    /// The stable code shared with the TypeScript twin and used by the vectors.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::Malformed { .. } => "malformed",
            CryptoError::Unsupported { .. } => "unsupported",
            CryptoError::Decrypt { .. } => "decrypt",
            CryptoError::KeyCommitment => "key-commitment",
            CryptoError::Signature { .. } => "signature",
            CryptoError::ContextMismatch { .. } => "context-mismatch",
            CryptoError::UnknownGeneration { .. } => "unknown-generation",
            CryptoError::NotRecipient => "not-recipient",
            CryptoError::UnexpectedSigner { .. } => "unexpected-signer",
            CryptoError::WeakPublicKey(_) => "weak-public-key",
            CryptoError::Chain(e) => e.code(),
            CryptoError::Membership(e) => e.code(),
            CryptoError::Export(_) => "export",
        }
    }
}

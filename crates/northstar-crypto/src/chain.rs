//! Each case's entries form one hash chain across all its compartments. Every
//! member can check the chain, readable compartments or not, and remembers the
//! highest head seen, so a server that drops, duplicates, reorders, forks or
//! rolls back entries is caught and named.

use crate::envelope::{entry_hash, parse_entry};
use crate::{ChainError, CryptoError, ObjectId, OrgId};

/// The newest entry a client has verified for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// Verifies entries one by one as they arrive.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    org: OrgId,
    case: ObjectId,
    head: Option<ChainHead>,
}

impl ChainVerifier {
    /// For a case whose chain is read from the start.
    pub fn new(org: OrgId, case: ObjectId) -> Self {
        ChainVerifier {
            org,
            case,
            head: None,
        }
    }

    /// For a case whose chain was verified up to `head` before.
    pub fn resume(org: OrgId, case: ObjectId, head: ChainHead) -> Self {
        ChainVerifier {
            org,
            case,
            head: Some(head),
        }
    }

    pub fn head(&self) -> Option<ChainHead> {
        self.head
    }

    /// Check that `entry` is the next link of the chain and advance. This checks
    /// structure and links only: callers also check each entry's signature with
    /// [`crate::envelope::verify_entry`], since links alone do not say who wrote it.
    pub fn push(&mut self, entry: &[u8]) -> Result<ChainHead, CryptoError> {
        let header = parse_entry(entry)?;
        let hash = entry_hash(entry);
        let seq = header.seq;
        if header.address.org != self.org || header.address.case != self.case {
            return Err(ChainError::ForeignEntry { seq }.into());
        }
        let expected = self.head.map_or(0, |h| h.seq + 1);
        if seq != expected {
            return Err(match self.head {
                Some(h) if seq == h.seq && hash == h.hash => ChainError::Duplicate { seq },
                Some(h) if seq == h.seq => ChainError::Fork { seq },
                Some(_) if seq > expected => ChainError::Gap {
                    expected,
                    found: seq,
                },
                None => ChainError::Gap {
                    expected,
                    found: seq,
                },
                Some(_) => ChainError::Reordered {
                    expected,
                    found: seq,
                },
            }
            .into());
        }
        let prev = self.head.map_or([0u8; 32], |h| h.hash);
        if header.prev_hash != prev {
            return Err(ChainError::BrokenLink { seq }.into());
        }
        let head = ChainHead { seq, hash };
        self.head = Some(head);
        Ok(head)
    }
}

/// Verify a whole served chain (or the part after `known`). When an entry is
/// missing where it should be but appears later in the list, the error says
/// the entries were reordered rather than dropped.
pub fn verify_chain<E: AsRef<[u8]>>(
    org: OrgId,
    case: ObjectId,
    known: Option<ChainHead>,
    entries: &[E],
) -> Result<Option<ChainHead>, CryptoError> {
    let mut v = match known {
        Some(h) => ChainVerifier::resume(org, case, h),
        None => ChainVerifier::new(org, case),
    };
    for (i, e) in entries.iter().enumerate() {
        if let Err(err) = v.push(e.as_ref()) {
            if let CryptoError::Chain(ChainError::Gap { expected, found }) = err {
                let later = entries[i + 1..]
                    .iter()
                    .filter_map(|e| parse_entry(e.as_ref()).ok())
                    .any(|h| h.seq == expected);
                if later {
                    return Err(ChainError::Reordered { expected, found }.into());
                }
            }
            return Err(err);
        }
    }
    Ok(v.head())
}

/// Compare the head a server reports with the highest one this client has seen.
pub fn check_served_head(known: ChainHead, served: ChainHead) -> Result<(), ChainError> {
    if served.seq < known.seq {
        Err(ChainError::Rollback {
            known: known.seq,
            served: served.seq,
        })
    } else if served.seq == known.seq && served.hash != known.hash {
        Err(ChainError::Fork { seq: served.seq })
    } else {
        Ok(())
    }
}

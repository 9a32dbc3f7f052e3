//! Cases sealed with the client's own code and handed back as store rows, for
//! tests and benchmarks that write many cases behind the server at once
//! (`northstar_store_sqlite::tamper::Tamper::seed_cases`).

use northstar_client::cases::RecordBody;
use northstar_core::Compartment;
use northstar_crypto::envelope::{ChainPosition, RecordAddress, entry_hash, seal_record};
use northstar_crypto::grant::{CompartmentKey, CompartmentRef, KeepKey, seal_kept_grant};
use northstar_crypto::{ObjectId, RecordId};
use northstar_store::{CaseEntryRow, CaseRow, GrantRow};
use rand::rngs::OsRng;

/// A case of the member's: a summary key kept for them (as `case new` keeps
/// the creator's keys) and `bodies` as the first entries of its chain.
pub fn seal_case(
    unlocked: &northstar_client::Unlocked,
    keep: &KeepKey,
    bodies: &[RecordBody],
) -> (CaseRow, Vec<GrantRow>, Vec<CaseEntryRow>) {
    let case = ObjectId::random(&mut OsRng);
    let compartment = Compartment::Summary;
    let key = CompartmentKey::generate(0, &mut OsRng);
    let target = CompartmentRef {
        org: unlocked.org,
        object: case,
        compartment,
    };
    let grant = seal_kept_grant(target, &key, &unlocked.keys, keep, &mut OsRng);
    let mut entries = vec![];
    let mut prev_hash = [0u8; 32];
    for (seq, body) in bodies.iter().enumerate() {
        let record = RecordId::random(&mut OsRng);
        let sealed = seal_record(
            RecordAddress {
                org: unlocked.org,
                case,
                compartment,
                record,
            },
            1,
            ChainPosition {
                seq: seq as u64,
                prev_hash,
            },
            &key,
            &unlocked.keys,
            &serde_json::to_vec(body).unwrap(),
            &mut OsRng,
        )
        .unwrap();
        prev_hash = entry_hash(&sealed.entry);
        entries.push(CaseEntryRow {
            case_id: case.0,
            seq: seq as u64,
            compartment: compartment.code(),
            record_id: record.0,
            generation: 0,
            entry: sealed.entry,
            wrap: Some(sealed.wrap),
            created_at: 1_700_000_000,
        });
    }
    (
        CaseRow {
            case_id: case.0,
            created_by: unlocked.account.0,
            created_at: 1_700_000_000,
            len: entries.len() as u64,
            head_hash: prev_hash,
            keys_version: 0,
        },
        vec![GrantRow {
            case_id: case.0,
            compartment: compartment.code(),
            generation: 0,
            recipient: unlocked.account.0,
            granted_by: unlocked.account.0,
            grant,
            created_at: 1_700_000_000,
        }],
        entries,
    )
}

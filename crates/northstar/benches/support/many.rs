//! Many cases of one member, one summary record each (alias `Case 000042`,
//! priority, country), sealed with the client's own code on every core; the
//! case in the middle carries `NEEDLE` in its alias, for searches.

use northstar_store::{CaseEntryRow, CaseRow, GrantRow};

pub const NEEDLE: &str = "NEEDLE-in-the-haystack";

pub type SealedCase = (CaseRow, Vec<GrantRow>, Vec<CaseEntryRow>);

pub fn seal_numbered_cases(unlocked: &northstar_client::Unlocked, count: usize) -> Vec<SealedCase> {
    let needle = count / 2;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let keep = unlocked.keep_key();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores)
            .map(|t| {
                let keep = &keep;
                s.spawn(move || {
                    (t..count)
                        .step_by(cores)
                        .map(|i| seal_case(unlocked, keep, i, i == needle))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn seal_case(
    unlocked: &northstar_client::Unlocked,
    keep: &northstar_crypto::grant::KeepKey,
    i: usize,
    needle: bool,
) -> SealedCase {
    let alias = if needle {
        format!("Case {i:06} {NEEDLE}")
    } else {
        format!("Case {i:06}")
    };
    let summary = northstar_client::cases::RecordBody::Fields {
        fields: [
            ("alias", alias.as_str()),
            ("priority", "normal"),
            ("country", "RU"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    crate::seed::seal_case(unlocked, keep, &[summary])
}

//! Pathways and travel, read from a case's `travel` fields.
//!
//! They are plain fields, so they merge like every other field (the later
//! entry wins, the earlier value stays in the history), under names that
//! say what they are: `pathway.N.kind`, `pathway.N.destination`,
//! `pathway.N.step.STEP` (a date), `leg.N.from`, `leg.N.to`, `leg.N.depart`,
//! `leg.N.checkin_by` (unix seconds), `leg.N.checked_in` (unix seconds).
//! This module names them and reads them back; it keeps no other state.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::UnknownName;

/// The legal routes out (brief §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathwayKind {
    HumanitarianVisa,
    TemporaryResidentPermit,
    UnhcrReferral,
    Sponsorship,
    VisaFree,
    Other,
}

impl PathwayKind {
    pub const ALL: [PathwayKind; 6] = [
        PathwayKind::HumanitarianVisa,
        PathwayKind::TemporaryResidentPermit,
        PathwayKind::UnhcrReferral,
        PathwayKind::Sponsorship,
        PathwayKind::VisaFree,
        PathwayKind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PathwayKind::HumanitarianVisa => "humanitarian-visa",
            PathwayKind::TemporaryResidentPermit => "temporary-resident-permit",
            PathwayKind::UnhcrReferral => "unhcr-referral",
            PathwayKind::Sponsorship => "sponsorship",
            PathwayKind::VisaFree => "visa-free",
            PathwayKind::Other => "other",
        }
    }
}

impl std::str::FromStr for PathwayKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PathwayKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "pathway",
                given: s.to_owned(),
                expected: PathwayKind::ALL.map(PathwayKind::name).join(", "),
            })
    }
}

/// The government's steps, in order.
pub const STEPS: [&str; 7] = [
    "submitted",
    "interview",
    "security-check",
    "medical-check",
    "decision",
    "issued",
    "expiry",
];

/// A pathway as its fields describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pathway {
    pub number: u32,
    pub kind: Option<String>,
    pub destination: Option<String>,
    /// Step → date (`YYYY-MM-DD`), in the order of [`STEPS`].
    pub steps: Vec<(String, String)>,
}

/// A leg of the journey as its fields describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Leg {
    pub number: u32,
    pub from: Option<String>,
    pub to: Option<String>,
    pub depart: Option<i64>,
    pub checkin_by: Option<i64>,
    pub checked_in: Option<i64>,
}

impl Leg {
    /// The check-in was due before `now` and has not come.
    pub fn missed(&self, now: i64) -> bool {
        self.checked_in.is_none() && self.checkin_by.is_some_and(|by| by < now)
    }
}

/// `prefix.N.rest` → (N, rest).
fn split_numbered<'a>(name: &'a str, prefix: &str) -> Option<(u32, &'a str)> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let (number, rest) = rest.split_once('.')?;
    Some((number.parse().ok()?, rest))
}

/// The pathways in a case's `travel` fields, by number.
pub fn pathways(fields: &BTreeMap<String, String>) -> Vec<Pathway> {
    let mut out: BTreeMap<u32, Pathway> = BTreeMap::new();
    for (name, value) in fields {
        let Some((number, rest)) = split_numbered(name, "pathway") else {
            continue;
        };
        let p = out.entry(number).or_insert_with(|| Pathway {
            number,
            ..Pathway::default()
        });
        match rest {
            "kind" => p.kind = Some(value.clone()),
            "destination" => p.destination = Some(value.clone()),
            _ => {
                if let Some(step) = rest.strip_prefix("step.")
                    && STEPS.contains(&step)
                    && !value.is_empty()
                {
                    p.steps.push((step.to_owned(), value.clone()));
                }
            }
        }
    }
    let mut list: Vec<Pathway> = out.into_values().collect();
    for p in &mut list {
        p.steps
            .sort_by_key(|(step, _)| STEPS.iter().position(|s| s == step));
    }
    list
}

/// The legs in a case's `travel` fields, by number.
pub fn legs(fields: &BTreeMap<String, String>) -> Vec<Leg> {
    let mut out: BTreeMap<u32, Leg> = BTreeMap::new();
    for (name, value) in fields {
        let Some((number, rest)) = split_numbered(name, "leg") else {
            continue;
        };
        let leg = out.entry(number).or_insert_with(|| Leg {
            number,
            ..Leg::default()
        });
        let time = value.parse::<i64>().ok();
        match rest {
            "from" => leg.from = Some(value.clone()),
            "to" => leg.to = Some(value.clone()),
            "depart" => leg.depart = time,
            "checkin_by" => leg.checkin_by = time,
            "checked_in" => leg.checked_in = time,
            _ => {}
        }
    }
    out.into_values().collect()
}

/// The next free number among `prefix.N.*` fields.
pub fn next_number(fields: &BTreeMap<String, String>, prefix: &str) -> u32 {
    fields
        .keys()
        .filter_map(|name| split_numbered(name, prefix).map(|(n, _)| n))
        .max()
        // After `prefix.4294967295.*` (only `case set` can write one) the
        // number wraps to 0, in every build, as the TypeScript twin does.
        .map_or(1, |n| n.wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn pathways_and_legs_are_read_back_in_order() {
        let f = fields(&[
            ("pathway.1.kind", "humanitarian-visa"),
            ("pathway.1.destination", "CA"),
            ("pathway.1.step.issued", "2026-03-01"),
            ("pathway.1.step.submitted", "2026-01-10"),
            ("pathway.1.step.bogus", "x"),
            ("pathway.2.kind", "unhcr-referral"),
            ("leg.1.from", "Grozny"),
            ("leg.1.to", "Moscow"),
            ("leg.1.checkin_by", "100"),
            ("leg.2.checkin_by", "200"),
            ("leg.2.checked_in", "150"),
            ("pathways", "not one of them"),
            ("legal_name", "x"),
        ]);
        let p = pathways(&f);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].destination.as_deref(), Some("CA"));
        assert_eq!(
            p[0].steps,
            vec![
                ("submitted".to_owned(), "2026-01-10".to_owned()),
                ("issued".to_owned(), "2026-03-01".to_owned())
            ]
        );
        assert_eq!(next_number(&f, "pathway"), 3);
        assert_eq!(next_number(&BTreeMap::new(), "leg"), 1);
        let last = fields(&[("pathway.4294967295.kind", "other")]);
        assert_eq!(
            next_number(&last, "pathway"),
            0,
            "wraps instead of panicking"
        );
        let l = legs(&f);
        assert_eq!(l.len(), 2);
        assert!(l[0].missed(101), "no check-in after its time");
        assert!(!l[0].missed(99));
        assert!(!l[1].missed(1000), "checked in");
    }

    #[test]
    fn kinds_parse_and_name_the_others_when_wrong() {
        for kind in PathwayKind::ALL {
            assert_eq!(kind.name().parse::<PathwayKind>().unwrap(), kind);
        }
        let err = "asylum".parse::<PathwayKind>().unwrap_err().to_string();
        assert!(err.contains("humanitarian-visa"), "{err}");
    }
}

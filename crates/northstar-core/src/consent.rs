//! Consent to disclose, per recipient and per field, read from a case's
//! `story` fields: `consent.<recipient>.<compartment>.<field>` = `given
//! YYYY-MM-DD` or `withdrawn YYYY-MM-DD`. The recipient is the age key the
//! package is sealed to, so consent names exactly who can open it. Like every
//! field, the latest record wins and the earlier ones stay in the history.

use std::collections::BTreeMap;

use crate::Compartment;

/// A field of a case, as `compartment.field` (the field may hold dots, as
/// `travel.pathway.1.kind` does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldPath {
    pub compartment: Compartment,
    pub field: String,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not COMPARTMENT.FIELD (e.g. identity.legal_name)");
        let (compartment, field) = text.split_once('.').ok_or_else(bad)?;
        let compartment: Compartment = compartment.parse().map_err(|_| bad())?;
        if !compartment.belongs_to(crate::ObjectKind::Case)
            || field.is_empty()
            || field.len() > 100
            || !field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(bad());
        }
        Ok(FieldPath {
            compartment,
            field: field.to_owned(),
        })
    }

    pub fn to_text(&self) -> String {
        format!("{}.{}", self.compartment.name(), self.field)
    }
}

/// The story field that records consent for `recipient` to see `path`.
pub fn consent_field(recipient: &str, path: &FieldPath) -> String {
    format!("consent.{recipient}.{}", path.to_text())
}

/// The fields `recipient` may receive now, with the day consent was given.
pub fn consented(story: &BTreeMap<String, String>, recipient: &str) -> Vec<(FieldPath, String)> {
    let prefix = format!("consent.{recipient}.");
    story
        .iter()
        .filter_map(|(name, value)| {
            let path = FieldPath::parse(name.strip_prefix(&prefix)?).ok()?;
            let day = value.strip_prefix("given ")?;
            Some((path, day.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_record_per_field_decides() {
        let r = "age1liaison";
        let story: BTreeMap<String, String> = [
            (
                "consent.age1liaison.identity.legal_name",
                "given 2026-01-02",
            ),
            (
                "consent.age1liaison.identity.date_of_birth",
                "withdrawn 2026-01-05",
            ),
            (
                "consent.age1liaison.travel.pathway.1.kind",
                "given 2026-01-02",
            ),
            ("consent.age1other.identity.legal_name", "given 2026-01-02"),
            ("consent.age1liaison.nonsense", "given 2026-01-02"),
            ("narrative", "given everything"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let fields: Vec<String> = consented(&story, r)
            .iter()
            .map(|(p, _)| p.to_text())
            .collect();
        assert_eq!(fields, vec!["identity.legal_name", "travel.pathway.1.kind"]);
        assert!(consented(&story, "age1nobody").is_empty());
    }

    #[test]
    fn field_paths_name_a_case_compartment() {
        assert_eq!(
            FieldPath::parse("identity.legal_name").unwrap().to_text(),
            "identity.legal_name"
        );
        for bad in [
            "legal_name",
            "address.street",
            "identity.",
            "identity.a b",
            "nowhere.x",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }
}

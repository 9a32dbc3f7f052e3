use crate::{UnknownCode, UnknownName};

/// The unit of sharing inside a case or a safe house. Each compartment has its
/// own key, so granting one never reveals another.
///
/// The numeric codes are part of every signed and encrypted format
/// (docs/crypto.md) and must never be renumbered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Compartment {
    /// Alias, stage, priority, flags, assignees, country, key dates.
    Summary,
    /// Legal name, date of birth, documents, photos, safe contact channels.
    Identity,
    /// Persecution narrative, risk assessment, evidence, verification, consent.
    Story,
    /// Current location, safe-house placement, needs, dependants.
    Logistics,
    /// Pathway, applications, government steps, itinerary, check-ins.
    Travel,
    /// Disbursements against the alias.
    Finance,
    /// The conversation with the requester.
    Messages,
    /// A safe house's address and access details (safe houses only).
    Address,
}

/// What kind of object a set of compartments belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Case,
    SafeHouse,
}

impl Compartment {
    pub const ALL: [Compartment; 8] = [
        Compartment::Summary,
        Compartment::Identity,
        Compartment::Story,
        Compartment::Logistics,
        Compartment::Travel,
        Compartment::Finance,
        Compartment::Messages,
        Compartment::Address,
    ];

    /// The compartments a case has (brief §3).
    pub const OF_CASE: [Compartment; 7] = [
        Compartment::Summary,
        Compartment::Identity,
        Compartment::Story,
        Compartment::Logistics,
        Compartment::Travel,
        Compartment::Finance,
        Compartment::Messages,
    ];

    /// The compartments a safe house has: the public-to-the-team part and the address.
    pub const OF_SAFE_HOUSE: [Compartment; 2] = [Compartment::Summary, Compartment::Address];

    pub fn code(self) -> u8 {
        match self {
            Compartment::Summary => 1,
            Compartment::Identity => 2,
            Compartment::Story => 3,
            Compartment::Logistics => 4,
            Compartment::Travel => 5,
            Compartment::Finance => 6,
            Compartment::Messages => 7,
            Compartment::Address => 8,
        }
    }

    pub fn from_code(code: u8) -> Result<Self, UnknownCode> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or(UnknownCode {
                kind: "compartment",
                code,
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Compartment::Summary => "summary",
            Compartment::Identity => "identity",
            Compartment::Story => "story",
            Compartment::Logistics => "logistics",
            Compartment::Travel => "travel",
            Compartment::Finance => "finance",
            Compartment::Messages => "messages",
            Compartment::Address => "address",
        }
    }

    pub fn belongs_to(self, kind: ObjectKind) -> bool {
        match kind {
            ObjectKind::Case => Self::OF_CASE.contains(&self),
            ObjectKind::SafeHouse => Self::OF_SAFE_HOUSE.contains(&self),
        }
    }
}

impl std::fmt::Display for Compartment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compartment {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "compartment",
                given: s.to_owned(),
                expected: Self::ALL.map(Compartment::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip_and_are_unique() {
        for c in Compartment::ALL {
            assert_eq!(Compartment::from_code(c.code()), Ok(c));
            assert_eq!(c.name().parse::<Compartment>(), Ok(c));
        }
        let mut codes: Vec<u8> = Compartment::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), Compartment::ALL.len());
    }

    #[test]
    fn unknown_names_and_codes_are_refused_with_the_choices() {
        let err = "passport".parse::<Compartment>().unwrap_err();
        assert!(err.to_string().contains("identity"), "{err}");
        assert!(Compartment::from_code(0).is_err());
        assert!(Compartment::from_code(9).is_err());
    }

    #[test]
    fn a_safe_house_has_an_address_and_a_case_does_not() {
        assert!(Compartment::Address.belongs_to(ObjectKind::SafeHouse));
        assert!(!Compartment::Address.belongs_to(ObjectKind::Case));
        assert!(!Compartment::Identity.belongs_to(ObjectKind::SafeHouse));
    }
}

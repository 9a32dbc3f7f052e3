use crate::{UnknownCode, UnknownName};

/// A member's role in an organization, recorded in the signed membership chain.
///
/// Codes are part of the membership link format (docs/crypto.md); never renumber.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Members, roles, keys and retention; signs membership links.
    Admin,
    /// The second pair of eyes on acceptance, spending and disclosure.
    Approver,
    /// Runs cases through their stages.
    Caseworker,
    /// Triages the intake queue and talks to requesters.
    Intake,
    /// Runs safe houses and travel.
    Coordinator,
    /// A member acting for a partner organization.
    Partner,
    /// Sees aggregate statistics only.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Approver,
        Role::Caseworker,
        Role::Intake,
        Role::Coordinator,
        Role::Partner,
        Role::Auditor,
    ];

    pub fn code(self) -> u8 {
        match self {
            Role::Admin => 1,
            Role::Approver => 2,
            Role::Caseworker => 3,
            Role::Intake => 4,
            Role::Coordinator => 5,
            Role::Partner => 6,
            Role::Auditor => 7,
        }
    }

    pub fn from_code(code: u8) -> Result<Self, UnknownCode> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or(UnknownCode { kind: "role", code })
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Approver => "approver",
            Role::Caseworker => "caseworker",
            Role::Intake => "intake",
            Role::Coordinator => "coordinator",
            Role::Partner => "partner",
            Role::Auditor => "auditor",
        }
    }

    /// Only admins may sign membership links (add, change role, remove).
    pub fn may_manage_members(self) -> bool {
        self == Role::Admin
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "role",
                given: s.to_owned(),
                expected: Self::ALL.map(Role::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Ok(r));
            assert_eq!(r.name().parse::<Role>(), Ok(r));
        }
        assert!(Role::from_code(0).is_err());
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_manage_members() {
        let managers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.may_manage_members())
            .collect();
        assert_eq!(managers, vec![Role::Admin]);
    }
}

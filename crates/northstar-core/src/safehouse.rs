//! Safe houses: a code name, a capacity, who is placed there now, and every
//! move in and out, folded from signed events in the safe house's own chain.
//!
//! Two coordinators placing people into the last bed at once both append to
//! the same chain; chain order decides, and the placement that would exceed
//! the capacity is skipped by every reader (and kept, with why, in
//! [`SafeHouse::rejected`]). Clients check before they append, so an honest
//! one only loses such a race, and is told so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Actor, Role};

/// What happens at a safe house.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HouseEvent {
    /// A case moves in.
    Place { case: String },
    /// A case moves out.
    Release { case: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum HouseRefusal {
    #[error("the safe house is full ({capacity} of {capacity} places taken)")]
    Full { capacity: u32 },
    #[error("that case is already placed here")]
    AlreadyPlaced,
    #[error("that case is not placed here")]
    NotPlaced,
    #[error("a {role} cannot place people in safe houses")]
    Role { role: Role },
    #[error("a case is named by its 32-hex-digit id")]
    BadCase,
}

/// One move in or out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub seq: u64,
    pub case: String,
    pub moved_in: bool,
    pub by: Actor,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeHouse {
    pub capacity: u32,
    /// Cases placed now, with the entry that placed them.
    pub occupants: BTreeMap<String, u64>,
    pub moves: Vec<Move>,
    pub rejected: Vec<(u64, HouseRefusal)>,
}

fn may_place(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Coordinator | Role::Partner)
}

fn valid_case(case: &str) -> bool {
    case.len() == 32
        && case
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

impl SafeHouse {
    pub fn occupancy(&self) -> u32 {
        self.occupants.len() as u32
    }

    pub fn check(&self, actor: &Actor, event: &HouseEvent) -> Result<(), HouseRefusal> {
        if !may_place(actor.role) {
            return Err(HouseRefusal::Role { role: actor.role });
        }
        match event {
            HouseEvent::Place { case } | HouseEvent::Release { case } if !valid_case(case) => {
                Err(HouseRefusal::BadCase)
            }
            HouseEvent::Place { case } if self.occupants.contains_key(case) => {
                Err(HouseRefusal::AlreadyPlaced)
            }
            HouseEvent::Place { .. } if self.occupancy() >= self.capacity => {
                Err(HouseRefusal::Full {
                    capacity: self.capacity,
                })
            }
            HouseEvent::Release { case } if !self.occupants.contains_key(case) => {
                Err(HouseRefusal::NotPlaced)
            }
            _ => Ok(()),
        }
    }

    pub fn apply(
        &mut self,
        seq: u64,
        actor: &Actor,
        event: &HouseEvent,
    ) -> Result<(), HouseRefusal> {
        self.check(actor, event)?;
        let (case, moved_in) = match event {
            HouseEvent::Place { case } => {
                self.occupants.insert(case.clone(), seq);
                (case, true)
            }
            HouseEvent::Release { case } => {
                self.occupants.remove(case);
                (case, false)
            }
        };
        self.moves.push(Move {
            seq,
            case: case.clone(),
            moved_in,
            by: actor.clone(),
        });
        Ok(())
    }

    /// Fold one event from the chain: applied, or kept in `rejected`.
    pub fn fold(&mut self, seq: u64, actor: &Actor, event: &HouseEvent) {
        if let Err(refusal) = self.apply(seq, actor, event) {
            self.rejected.push((seq, refusal));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coordinator(n: u8) -> Actor {
        Actor {
            account: format!("{n:032x}"),
            role: Role::Coordinator,
        }
    }

    fn case(n: u8) -> String {
        format!("{n:032x}")
    }

    #[test]
    fn capacity_is_enforced_and_moves_are_kept() {
        let mut house = SafeHouse {
            capacity: 2,
            ..SafeHouse::default()
        };
        let (a, b) = (coordinator(1), coordinator(2));
        house
            .apply(1, &a, &HouseEvent::Place { case: case(1) })
            .unwrap();
        assert_eq!(
            house.check(&a, &HouseEvent::Place { case: case(1) }),
            Err(HouseRefusal::AlreadyPlaced)
        );
        house
            .apply(2, &b, &HouseEvent::Place { case: case(2) })
            .unwrap();
        assert_eq!(
            house.check(&a, &HouseEvent::Place { case: case(3) }),
            Err(HouseRefusal::Full { capacity: 2 })
        );
        // Two placements raced for the last place: chain order decides.
        house.fold(3, &a, &HouseEvent::Place { case: case(3) });
        assert_eq!(house.occupancy(), 2);
        assert_eq!(
            house.rejected,
            vec![(3, HouseRefusal::Full { capacity: 2 })]
        );
        house
            .apply(4, &a, &HouseEvent::Release { case: case(1) })
            .unwrap();
        assert_eq!(
            house.check(&a, &HouseEvent::Release { case: case(1) }),
            Err(HouseRefusal::NotPlaced)
        );
        house
            .apply(5, &a, &HouseEvent::Place { case: case(3) })
            .unwrap();
        assert_eq!(
            house.occupants.keys().cloned().collect::<Vec<_>>(),
            vec![case(2), case(3)]
        );
        let moves: Vec<(u64, bool)> = house.moves.iter().map(|m| (m.seq, m.moved_in)).collect();
        assert_eq!(moves, vec![(1, true), (2, true), (4, false), (5, true)]);
    }

    #[test]
    fn only_coordinators_admins_and_partners_place_and_cases_are_ids() {
        let house = SafeHouse {
            capacity: 5,
            ..SafeHouse::default()
        };
        for role in [
            Role::Caseworker,
            Role::Approver,
            Role::Intake,
            Role::Auditor,
        ] {
            let actor = Actor {
                account: case(9),
                role,
            };
            assert_eq!(
                house.check(&actor, &HouseEvent::Place { case: case(1) }),
                Err(HouseRefusal::Role { role })
            );
        }
        for bad in ["", "xyz", &"A".repeat(32), &"0".repeat(31)] {
            assert_eq!(
                house.check(&coordinator(1), &HouseEvent::Place { case: bad.into() }),
                Err(HouseRefusal::BadCase),
                "{bad}"
            );
        }
    }
}

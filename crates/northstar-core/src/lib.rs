//! Northstar's domain model: what a case is made of and who may do what.
//!
//! This crate is pure: no I/O, no async, no clock. Everything here can be
//! reasoned about and tested as plain functions over values.
#![forbid(unsafe_code)]

mod compartment;
pub mod consent;
pub mod money;
pub mod object;
pub mod pathway;
pub mod report;
mod role;
pub mod safehouse;
pub mod time;
pub mod workflow;

pub use compartment::{Compartment, ObjectKind};
pub use object::{FieldHistory, HistoryItem, ObjectView, RecordBody};
pub use role::Role;
pub use safehouse::{HouseEvent, HouseRefusal, SafeHouse};
pub use workflow::{Actor, Event, Flag, Priority, Refusal, Stage, Task, Verdict, Workflow};

/// A value given as text that names none of the known variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{given}' (expected one of: {expected})")]
pub struct UnknownName {
    pub kind: &'static str,
    pub given: String,
    pub expected: String,
}

/// A wire code that names none of the known variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code {code}")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: u8,
}

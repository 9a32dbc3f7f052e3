//! An object (a case or a safe house) as a member can read it: its records'
//! plaintext, and the fold of its chain into fields, notes, the workflow and
//! the safe house. Every client folds the same verified entries in chain
//! order the same way (the browser's twin is web/src/lib/domain/object.ts,
//! held to the same vectors).
//!
//! Fields merge by chain order: the later entry wins, and every earlier
//! value stays in the history (docs/cases.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Actor, Compartment, Event, HouseEvent, Refusal, SafeHouse, Workflow};

/// The `kind` field of a safe house's first summary record.
pub const SAFE_HOUSE_KIND: &str = "safehouse";

/// A record's plaintext: `{"kind":"fields","fields":{…}}`, `{"kind":"note","text":"…"}`,
/// a workflow event or a safe-house move.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordBody {
    Fields {
        fields: BTreeMap<String, String>,
    },
    Note {
        text: String,
    },
    /// A workflow event (in `summary` only): a stage change, a verdict, a
    /// sign-off, a checklist item or a flag.
    Event {
        event: Event,
    },
    /// A move in or out of a safe house (in the house's `summary`).
    House {
        event: HouseEvent,
    },
}

/// One entry of an object's history, as this member can see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryItem {
    pub seq: u64,
    pub compartment: Compartment,
    pub author: String,
    /// `None` when this member cannot read the compartment.
    pub body: Option<RecordBody>,
}

/// A field's current value and the values it replaced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FieldHistory {
    pub value: String,
    pub set_by: String,
    pub seq: u64,
    /// Earlier values, oldest first: (value, author, seq).
    pub replaced: Vec<(String, String, u64)>,
}

/// What an object's verified entries fold into.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectView {
    pub fields: BTreeMap<Compartment, BTreeMap<String, FieldHistory>>,
    /// (compartment, author, text, seq).
    pub notes: Vec<(Compartment, String, String, u64)>,
    pub history: Vec<HistoryItem>,
    /// The stage, flags and guards, folded from the `summary` events.
    #[serde(default)]
    pub workflow: Workflow,
    /// Set when the object is a safe house (its first summary record says
    /// `kind = safehouse`): capacity, occupants and moves.
    #[serde(default)]
    pub house: Option<SafeHouse>,
}

impl ObjectView {
    /// Fold the next entry of the chain: fields merge by chain order (the
    /// later entry wins; the value it replaces stays in the history).
    pub fn apply(
        &mut self,
        seq: u64,
        compartment: Compartment,
        actor: &Actor,
        author: String,
        body: Option<RecordBody>,
    ) {
        if let (Some(RecordBody::Fields { fields }), Compartment::Summary) = (&body, compartment) {
            // Only the object's first summary record says what it is, so a
            // later `case set` cannot turn a case into a safe house (or hide it).
            let first_summary = self
                .history
                .iter()
                .all(|h| h.compartment != Compartment::Summary);
            if first_summary && fields.get("kind").map(String::as_str) == Some(SAFE_HOUSE_KIND) {
                self.house = Some(SafeHouse::default());
            }
            if let (Some(house), Some(capacity)) = (
                self.house.as_mut(),
                fields.get("capacity").and_then(|c| c.parse::<u32>().ok()),
            ) {
                house.capacity = capacity;
            }
        }
        match &body {
            Some(RecordBody::Fields { fields }) => {
                let slot = self.fields.entry(compartment).or_default();
                for (name, value) in fields {
                    let f = slot.entry(name.clone()).or_default();
                    if !f.set_by.is_empty() {
                        f.replaced.push((f.value.clone(), f.set_by.clone(), f.seq));
                    }
                    f.value = value.clone();
                    f.set_by = author.clone();
                    f.seq = seq;
                }
            }
            Some(RecordBody::Note { text }) => {
                self.notes
                    .push((compartment, author.clone(), text.clone(), seq))
            }
            // Only `summary` carries the workflow, so everyone on the case
            // folds the same events.
            Some(RecordBody::Event { event }) if compartment == Compartment::Summary => {
                self.workflow.fold(seq, actor, event)
            }
            Some(RecordBody::Event { .. }) => self
                .workflow
                .rejected
                .push((seq, Refusal::WrongCompartment { compartment })),
            Some(RecordBody::House { event }) if compartment == Compartment::Summary => {
                if let Some(house) = self.house.as_mut() {
                    house.fold(seq, actor, event);
                }
            }
            Some(RecordBody::House { .. }) | None => {}
        }
        self.history.push(HistoryItem {
            seq,
            compartment,
            author,
            body,
        });
    }

    /// A field's current value.
    pub fn field(&self, compartment: Compartment, name: &str) -> Option<&str> {
        self.fields
            .get(&compartment)?
            .get(name)
            .map(|f| f.value.as_str())
    }
}

//! The relocation workflow: a case's stage, flags and guards, moved only by
//! signed events folded in chain order.
//!
//! Every client folds the same events in the same order, so every member
//! who can read a case's `summary` sees the same stage. An event that breaks
//! a rule can still reach the chain (the server cannot read it, and a client
//! may be hostile or out of date); it is then skipped by everyone and kept,
//! with its reason, in [`Workflow::rejected`]. Clients check an event with
//! [`Workflow::check`] before they append it, so an honest one never writes
//! an event that will be skipped.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Role, UnknownName};

/// Where a case stands. The first ten are the path, in order; `declined`,
/// `withdrawn` and `closed` end it and can be reached from any open stage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    #[default]
    Intake,
    Screening,
    Verification,
    Accepted,
    Protection,
    Pathway,
    Departure,
    Arrival,
    Resettlement,
    Closed,
    Declined,
    Withdrawn,
}

impl Stage {
    pub const ALL: [Stage; 12] = [
        Stage::Intake,
        Stage::Screening,
        Stage::Verification,
        Stage::Accepted,
        Stage::Protection,
        Stage::Pathway,
        Stage::Departure,
        Stage::Arrival,
        Stage::Resettlement,
        Stage::Closed,
        Stage::Declined,
        Stage::Withdrawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Screening => "screening",
            Stage::Verification => "verification",
            Stage::Accepted => "accepted",
            Stage::Protection => "protection",
            Stage::Pathway => "pathway",
            Stage::Departure => "departure",
            Stage::Arrival => "arrival",
            Stage::Resettlement => "resettlement",
            Stage::Closed => "closed",
            Stage::Declined => "declined",
            Stage::Withdrawn => "withdrawn",
        }
    }

    /// Whether the case is still being worked on.
    pub fn is_open(self) -> bool {
        !matches!(self, Stage::Closed | Stage::Declined | Stage::Withdrawn)
    }

    /// The next stage on the path, if any.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Intake => Some(Stage::Screening),
            Stage::Screening => Some(Stage::Verification),
            Stage::Verification => Some(Stage::Accepted),
            Stage::Accepted => Some(Stage::Protection),
            Stage::Protection => Some(Stage::Pathway),
            Stage::Pathway => Some(Stage::Departure),
            Stage::Departure => Some(Stage::Arrival),
            Stage::Arrival => Some(Stage::Resettlement),
            Stage::Resettlement => Some(Stage::Closed),
            Stage::Closed | Stage::Declined | Stage::Withdrawn => None,
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Stage {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "stage",
                given: s.to_owned(),
                expected: Stage::ALL.map(Stage::name).join(", "),
            })
    }
}

/// Conditions that cut across stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    LostContact,
    OnHold,
    ThreatReported,
}

impl Flag {
    pub const ALL: [Flag; 3] = [Flag::LostContact, Flag::OnHold, Flag::ThreatReported];

    pub fn name(self) -> &'static str {
        match self {
            Flag::LostContact => "lost-contact",
            Flag::OnHold => "on-hold",
            Flag::ThreatReported => "threat-reported",
        }
    }
}

impl std::str::FromStr for Flag {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flag::ALL
            .into_iter()
            .find(|flag| flag.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "flag",
                given: s.to_owned(),
                expected: Flag::ALL.map(Flag::name).join(", "),
            })
    }
}

/// The outcome of verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Credible,
    NotCredible,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Credible => "credible",
            Verdict::NotCredible => "not-credible",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "credible" => Ok(Verdict::Credible),
            "not-credible" => Ok(Verdict::NotCredible),
            _ => Err(UnknownName {
                kind: "verdict",
                given: s.to_owned(),
                expected: "credible, not-credible".into(),
            }),
        }
    }
}

/// How fast a case must move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Emergency,
    Urgent,
    Normal,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Emergency, Priority::Urgent, Priority::Normal];

    pub fn name(self) -> &'static str {
        match self {
            Priority::Emergency => "emergency",
            Priority::Urgent => "urgent",
            Priority::Normal => "normal",
        }
    }

    /// The tasks a new case of this priority starts with (brief §2): every
    /// request is acknowledged within two hours (done when it reaches
    /// screening); an emergency case departs within seven days.
    pub fn deadline_tasks(self, now: i64) -> Vec<Event> {
        let mut tasks = vec![Event::Task {
            id: "acknowledge".into(),
            title: "Acknowledge the request".into(),
            due: now + 2 * 3600,
            closes_at: Some(Stage::Screening),
        }];
        if self == Priority::Emergency {
            tasks.push(Event::Task {
                id: "depart".into(),
                title: "Emergency: depart within 7 days".into(),
                due: now + 7 * 86_400,
                closes_at: Some(Stage::Departure),
            });
        }
        tasks
    }
}

impl std::str::FromStr for Priority {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "priority",
                given: s.to_owned(),
                expected: "emergency, urgent, normal".into(),
            })
    }
}

/// Something to do on a case by a time (unix seconds, UTC, written and
/// signed by the member who added it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub title: String,
    pub due: i64,
    pub done: bool,
    /// Done by itself when the case reaches this stage.
    pub closes_at: Option<Stage>,
}

/// Who did something: a member's account id (hex) and role, as the verified
/// membership chain says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account: String,
    pub role: Role,
}

/// What a member can do to a case's workflow. Each is one signed record in
/// the case's `summary`; the text that explains it may live in a more
/// private compartment (a verdict's reasoning goes to `story`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Move to another stage.
    Advance {
        to: Stage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Where a declined requester was referred instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referral: Option<String>,
    },
    /// The signed end of verification.
    Verdict { result: Verdict },
    /// One of the two sign-offs acceptance needs.
    SignOff,
    /// Add a document the departure checklist needs, or mark it done.
    Document { name: String, done: bool },
    /// Raise or clear a flag.
    Flag { flag: Flag, raised: bool },
    /// Add a task with a due time.
    Task {
        id: String,
        title: String,
        due: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        closes_at: Option<Stage>,
    },
    /// Mark a task done.
    TaskDone { id: String },
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Refusal {
    #[error("the case is {stage}; a {stage} case does not change any more")]
    Ended { stage: Stage },
    #[error("a case goes from {from} to {next} (or to declined, withdrawn or closed), not to {to}")]
    NotNext { from: Stage, to: Stage, next: Stage },
    #[error("the case is already {stage}")]
    Same { stage: Stage },
    #[error("a {role} cannot change a case's workflow")]
    Role { role: Role },
    #[error("verification ends only with a signed verdict: record one with `case verdict`")]
    NoVerdict,
    #[error("the verdict is not-credible: the case can be declined, not accepted")]
    NotCredible,
    #[error(
        "acceptance needs the sign-offs of two different members, the second an approver; it has {have}"
    )]
    SignOffs { have: usize },
    #[error("the second sign-off must come from an approver")]
    SecondNotApprover,
    #[error("you already signed off this case; the second sign-off must be someone else's")]
    SignedTwice,
    #[error("sign-offs are given during verification, after the verdict")]
    SignOffOutOfStage,
    #[error("a verdict is recorded during verification")]
    VerdictOutOfStage,
    #[error("the verdict was already recorded")]
    VerdictTwice,
    #[error("departure needs a complete documents checklist; missing: {}", missing.join(", "))]
    DocumentsIncomplete { missing: Vec<String> },
    #[error("departure needs a documents checklist: add the documents the journey needs")]
    NoDocuments,
    #[error("{to} needs a reason")]
    NeedsReason { to: Stage },
    #[error("a document needs a name of 1 to 100 characters")]
    BadDocument,
    #[error("a reason or referral is at most 2000 characters")]
    TooLong,
    #[error(
        "a task id is 1 to 32 lower-case letters, digits or dashes, and a title 1 to 200 characters"
    )]
    BadTask,
    #[error("the case already has a task '{id}'")]
    TaskExists { id: String },
    #[error("the case has no open task '{id}'")]
    NoSuchTask { id: String },
    #[error("workflow events belong in summary, not {compartment}")]
    WrongCompartment { compartment: crate::Compartment },
}

/// A stage change, as history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub seq: u64,
    pub from: Stage,
    pub to: Stage,
    pub by: Actor,
    pub reason: Option<String>,
}

/// The folded state of a case's workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub stage: Stage,
    pub verdict: Option<(Verdict, Actor)>,
    /// Sign-offs for acceptance, in order.
    pub sign_offs: Vec<Actor>,
    /// The departure checklist: document → done.
    pub documents: BTreeMap<String, bool>,
    pub flags: BTreeSet<Flag>,
    /// Tasks by id.
    #[serde(default)]
    pub tasks: BTreeMap<String, Task>,
    /// Why the case was declined, withdrawn or closed, and any referral.
    pub end_reason: Option<String>,
    pub referral: Option<String>,
    pub transitions: Vec<Transition>,
    /// Events that reached the chain but broke a rule: skipped by everyone.
    pub rejected: Vec<(u64, Refusal)>,
}

const MAX_TEXT: usize = 2000;

/// Roles that run cases. Partners and auditors only ever see what is shared.
fn may_run_cases(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::Approver | Role::Caseworker | Role::Intake | Role::Coordinator
    )
}

fn reason_given(reason: &Option<String>) -> bool {
    reason.as_deref().is_some_and(|r| !r.trim().is_empty())
}

impl Workflow {
    /// Whether `actor` may apply `event` now, and if not, why.
    pub fn check(&self, actor: &Actor, event: &Event) -> Result<(), Refusal> {
        if !may_run_cases(actor.role) {
            return Err(Refusal::Role { role: actor.role });
        }
        if !self.stage.is_open() {
            return Err(Refusal::Ended { stage: self.stage });
        }
        match event {
            Event::Advance {
                to,
                reason,
                referral,
            } => self.check_advance(*to, reason, referral),
            Event::Verdict { .. } => {
                if self.stage != Stage::Verification {
                    Err(Refusal::VerdictOutOfStage)
                } else if self.verdict.is_some() {
                    Err(Refusal::VerdictTwice)
                } else {
                    Ok(())
                }
            }
            Event::SignOff => {
                if self.stage != Stage::Verification {
                    Err(Refusal::SignOffOutOfStage)
                } else if self.verdict.is_none() {
                    Err(Refusal::NoVerdict)
                } else if self.sign_offs.iter().any(|a| a.account == actor.account) {
                    Err(Refusal::SignedTwice)
                } else if !self.sign_offs.is_empty() && actor.role != Role::Approver {
                    Err(Refusal::SecondNotApprover)
                } else if self.sign_offs.len() >= 2 {
                    Err(Refusal::SignOffs {
                        have: self.sign_offs.len(),
                    })
                } else {
                    Ok(())
                }
            }
            Event::Document { name, .. } => {
                let len = name.trim().chars().count();
                if len == 0 || len > 100 {
                    Err(Refusal::BadDocument)
                } else {
                    Ok(())
                }
            }
            Event::Flag { .. } => Ok(()),
            Event::Task { id, title, due, .. } => {
                let id_ok = (1..=32).contains(&id.len())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                let title_len = title.trim().chars().count();
                if !id_ok || title_len == 0 || title_len > 200 || *due <= 0 {
                    Err(Refusal::BadTask)
                } else if self.tasks.contains_key(id) {
                    Err(Refusal::TaskExists { id: id.clone() })
                } else {
                    Ok(())
                }
            }
            Event::TaskDone { id } => match self.tasks.get(id) {
                Some(task) if !task.done => Ok(()),
                _ => Err(Refusal::NoSuchTask { id: id.clone() }),
            },
        }
    }

    /// Open tasks, overdue first, then by due time. None once the case ended.
    pub fn open_tasks(&self) -> Vec<(&str, &Task)> {
        if !self.stage.is_open() {
            return vec![];
        }
        let mut open: Vec<(&str, &Task)> = self
            .tasks
            .iter()
            .filter(|(_, t)| !t.done)
            .map(|(id, t)| (id.as_str(), t))
            .collect();
        open.sort_by_key(|(id, t)| (t.due, *id));
        open
    }

    fn check_advance(
        &self,
        to: Stage,
        reason: &Option<String>,
        referral: &Option<String>,
    ) -> Result<(), Refusal> {
        let from = self.stage;
        if to == from {
            return Err(Refusal::Same { stage: from });
        }
        if [reason, referral]
            .iter()
            .any(|t| t.as_deref().is_some_and(|t| t.chars().count() > MAX_TEXT))
        {
            return Err(Refusal::TooLong);
        }
        match to {
            Stage::Closed | Stage::Declined => {
                return if reason_given(reason) {
                    Ok(())
                } else {
                    Err(Refusal::NeedsReason { to })
                };
            }
            Stage::Withdrawn => return Ok(()),
            _ => {}
        }
        let next = from.next().expect("open stages have a next stage");
        if to != next {
            return Err(Refusal::NotNext { from, to, next });
        }
        match to {
            Stage::Accepted => match &self.verdict {
                None => Err(Refusal::NoVerdict),
                Some((Verdict::NotCredible, _)) => Err(Refusal::NotCredible),
                Some(_) if self.sign_offs.len() < 2 => Err(Refusal::SignOffs {
                    have: self.sign_offs.len(),
                }),
                Some(_) => Ok(()),
            },
            Stage::Departure => {
                if self.documents.is_empty() {
                    return Err(Refusal::NoDocuments);
                }
                let missing: Vec<String> = self
                    .documents
                    .iter()
                    .filter(|(_, done)| !**done)
                    .map(|(name, _)| name.clone())
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(Refusal::DocumentsIncomplete { missing })
                }
            }
            _ => Ok(()),
        }
    }

    /// Apply an event if it is allowed; otherwise leave the state as it was.
    pub fn apply(&mut self, seq: u64, actor: &Actor, event: &Event) -> Result<(), Refusal> {
        self.check(actor, event)?;
        match event {
            Event::Advance {
                to,
                reason,
                referral,
            } => {
                self.transitions.push(Transition {
                    seq,
                    from: self.stage,
                    to: *to,
                    by: actor.clone(),
                    reason: reason.clone(),
                });
                if !to.is_open() {
                    self.end_reason = reason.clone();
                    self.referral = referral.clone();
                }
                self.stage = *to;
                for task in self.tasks.values_mut() {
                    if task.closes_at == Some(*to) {
                        task.done = true;
                    }
                }
            }
            Event::Verdict { result } => self.verdict = Some((*result, actor.clone())),
            Event::SignOff => self.sign_offs.push(actor.clone()),
            Event::Document { name, done } => {
                self.documents.insert(name.trim().to_owned(), *done);
            }
            Event::Flag { flag, raised } => {
                if *raised {
                    self.flags.insert(*flag);
                } else {
                    self.flags.remove(flag);
                }
            }
            Event::Task {
                id,
                title,
                due,
                closes_at,
            } => {
                self.tasks.insert(
                    id.clone(),
                    Task {
                        title: title.trim().to_owned(),
                        due: *due,
                        done: false,
                        closes_at: *closes_at,
                    },
                );
            }
            Event::TaskDone { id } => {
                if let Some(task) = self.tasks.get_mut(id) {
                    task.done = true;
                }
            }
        }
        Ok(())
    }

    /// Fold one event from the chain: applied, or kept in `rejected`.
    pub fn fold(&mut self, seq: u64, actor: &Actor, event: &Event) {
        if let Err(refusal) = self.apply(seq, actor, event) {
            self.rejected.push((seq, refusal));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(n: u8, role: Role) -> Actor {
        Actor {
            account: format!("{n:032x}"),
            role,
        }
    }

    fn caseworker() -> Actor {
        member(1, Role::Caseworker)
    }

    fn approver() -> Actor {
        member(2, Role::Approver)
    }

    fn advance(to: Stage) -> Event {
        Event::Advance {
            to,
            reason: None,
            referral: None,
        }
    }

    fn advance_because(to: Stage, reason: &str) -> Event {
        Event::Advance {
            to,
            reason: Some(reason.into()),
            referral: None,
        }
    }

    /// A case at `stage` with every guard on the way satisfied.
    fn at(stage: Stage) -> Workflow {
        let mut w = Workflow::default();
        let me = caseworker();
        for step in Stage::ALL.into_iter().take_while(|s| *s != stage) {
            if !step.is_open() {
                break;
            }
            if step == Stage::Verification {
                w.apply(
                    0,
                    &me,
                    &Event::Verdict {
                        result: Verdict::Credible,
                    },
                )
                .unwrap();
                w.apply(0, &me, &Event::SignOff).unwrap();
                w.apply(0, &approver(), &Event::SignOff).unwrap();
            }
            if step == Stage::Pathway {
                w.apply(
                    0,
                    &me,
                    &Event::Document {
                        name: "passport".into(),
                        done: true,
                    },
                )
                .unwrap();
            }
            let next = step.next().unwrap();
            if !next.is_open() {
                break;
            }
            w.apply(0, &me, &advance(next)).unwrap();
        }
        if !stage.is_open() {
            w.apply(0, &me, &advance_because(stage, "because")).unwrap();
        }
        assert_eq!(w.stage, stage);
        w
    }

    /// A case at `stage` with the guards for leaving it satisfied.
    fn ready_to_leave(stage: Stage) -> Workflow {
        let mut w = at(stage);
        let me = caseworker();
        if stage == Stage::Verification {
            w.apply(
                0,
                &me,
                &Event::Verdict {
                    result: Verdict::Credible,
                },
            )
            .unwrap();
            w.apply(0, &me, &Event::SignOff).unwrap();
            w.apply(0, &approver(), &Event::SignOff).unwrap();
        }
        if stage == Stage::Pathway {
            w.apply(
                0,
                &me,
                &Event::Document {
                    name: "passport".into(),
                    done: true,
                },
            )
            .unwrap();
        }
        w
    }

    /// Every (stage, target stage) pair, with every guard satisfied: the
    /// expected outcome is written out here, not derived from the code.
    #[test]
    fn every_stage_change_is_allowed_or_refused_as_the_table_says() {
        use Stage::*;
        // Rows: from; columns: to, in Stage::ALL order.
        // Y = allowed; n = not the next stage; s = same stage; e = the case has ended.
        let table: [(Stage, &str); 12] = [
            (Intake, "sYnnnnnnnYYY"),
            (Screening, "nsYnnnnnnYYY"),
            (Verification, "nnsYnnnnnYYY"),
            (Accepted, "nnnsYnnnnYYY"),
            (Protection, "nnnnsYnnnYYY"),
            (Pathway, "nnnnnsYnnYYY"),
            (Departure, "nnnnnnsYnYYY"),
            (Arrival, "nnnnnnnsYYYY"),
            (Resettlement, "nnnnnnnnsYYY"),
            (Closed, "eeeeeeeeeeee"),
            (Declined, "eeeeeeeeeeee"),
            (Withdrawn, "eeeeeeeeeeee"),
        ];
        for (from, row) in table {
            for (to, expect) in Stage::ALL.into_iter().zip(row.chars()) {
                let mut w = ready_to_leave(from);
                let before = w.clone();
                let event = advance_because(to, "a reason");
                let got = w.apply(1, &caseworker(), &event);
                match expect {
                    'Y' => {
                        assert_eq!(got, Ok(()), "{from} → {to}");
                        assert_eq!(w.stage, to);
                        assert_eq!(w.transitions.last().unwrap().from, from);
                    }
                    'n' => {
                        assert!(
                            matches!(got, Err(Refusal::NotNext { .. })),
                            "{from} → {to}: {got:?}"
                        );
                        assert_eq!(w, before, "a refusal changes nothing");
                    }
                    's' => assert_eq!(got, Err(Refusal::Same { stage: from }), "{from}"),
                    'e' => assert_eq!(got, Err(Refusal::Ended { stage: from }), "{from}"),
                    _ => unreachable!(),
                }
            }
        }
    }

    /// Every (stage, other action) pair.
    #[test]
    fn every_other_action_is_allowed_or_refused_as_the_table_says() {
        use Stage::*;
        // Columns: verdict, sign-off (with a verdict), document, flag, task,
        // marking an unknown task done.
        // Y = allowed; V = verdict out of stage; S = sign-off out of stage;
        // T = no such task; e = ended.
        let table: [(Stage, &str); 12] = [
            (Intake, "VSYYYT"),
            (Screening, "VSYYYT"),
            (Verification, "YYYYYT"),
            (Accepted, "VSYYYT"),
            (Protection, "VSYYYT"),
            (Pathway, "VSYYYT"),
            (Departure, "VSYYYT"),
            (Arrival, "VSYYYT"),
            (Resettlement, "VSYYYT"),
            (Closed, "eeeeee"),
            (Declined, "eeeeee"),
            (Withdrawn, "eeeeee"),
        ];
        for (stage, row) in table {
            let mut fresh = at(stage);
            if stage == Verification {
                // A fresh verification: no verdict, no sign-offs yet.
                fresh = at(Screening);
                fresh
                    .apply(1, &caseworker(), &advance(Verification))
                    .unwrap();
            }
            let actions = [
                Event::Verdict {
                    result: Verdict::Credible,
                },
                Event::SignOff,
                Event::Document {
                    name: "visa".into(),
                    done: false,
                },
                Event::Flag {
                    flag: Flag::OnHold,
                    raised: true,
                },
                Event::Task {
                    id: "call-lawyer".into(),
                    title: "Call the lawyer".into(),
                    due: 1_800_000_000,
                    closes_at: None,
                },
                Event::TaskDone {
                    id: "nothing-like-this".into(),
                },
            ];
            for (i, (event, expect)) in actions.iter().zip(row.chars()).enumerate() {
                let mut w = fresh.clone();
                if i == 1 && stage == Verification {
                    w.apply(
                        2,
                        &caseworker(),
                        &Event::Verdict {
                            result: Verdict::Credible,
                        },
                    )
                    .unwrap();
                }
                let got = w.apply(3, &caseworker(), event);
                let want = match expect {
                    'Y' => Ok(()),
                    'V' => Err(Refusal::VerdictOutOfStage),
                    'S' => Err(Refusal::SignOffOutOfStage),
                    'T' => Err(Refusal::NoSuchTask {
                        id: "nothing-like-this".into(),
                    }),
                    'e' => Err(Refusal::Ended { stage }),
                    _ => unreachable!(),
                };
                assert_eq!(got, want, "{stage}, {event:?}");
            }
        }
    }

    #[test]
    fn acceptance_needs_a_credible_verdict_and_two_sign_offs_the_second_an_approver() {
        let mut w = Workflow {
            stage: Stage::Verification,
            ..Workflow::default()
        };
        let (cw, ap) = (caseworker(), approver());
        assert_eq!(
            w.check(&cw, &advance(Stage::Accepted)),
            Err(Refusal::NoVerdict)
        );
        assert_eq!(w.check(&cw, &Event::SignOff), Err(Refusal::NoVerdict));
        w.apply(
            1,
            &cw,
            &Event::Verdict {
                result: Verdict::Credible,
            },
        )
        .unwrap();
        assert_eq!(
            w.check(
                &cw,
                &Event::Verdict {
                    result: Verdict::NotCredible
                }
            ),
            Err(Refusal::VerdictTwice)
        );
        assert_eq!(
            w.check(&cw, &advance(Stage::Accepted)),
            Err(Refusal::SignOffs { have: 0 })
        );
        w.apply(2, &cw, &Event::SignOff).unwrap();
        // One member alone is refused, twice over.
        assert_eq!(
            w.check(&cw, &advance(Stage::Accepted)),
            Err(Refusal::SignOffs { have: 1 })
        );
        assert_eq!(w.check(&cw, &Event::SignOff), Err(Refusal::SignedTwice));
        // A second caseworker is not an approver.
        assert_eq!(
            w.check(&member(3, Role::Caseworker), &Event::SignOff),
            Err(Refusal::SecondNotApprover)
        );
        w.apply(3, &ap, &Event::SignOff).unwrap();
        assert_eq!(w.check(&cw, &advance(Stage::Accepted)), Ok(()));
        assert_eq!(
            w.check(&member(4, Role::Approver), &Event::SignOff),
            Err(Refusal::SignOffs { have: 2 })
        );

        let mut doubtful = Workflow {
            stage: Stage::Verification,
            ..Workflow::default()
        };
        doubtful
            .apply(
                1,
                &cw,
                &Event::Verdict {
                    result: Verdict::NotCredible,
                },
            )
            .unwrap();
        assert_eq!(
            doubtful.check(&cw, &advance(Stage::Accepted)),
            Err(Refusal::NotCredible)
        );
        assert_eq!(
            doubtful.check(&cw, &advance(Stage::Declined)),
            Err(Refusal::NeedsReason {
                to: Stage::Declined
            })
        );
        let declined = Event::Advance {
            to: Stage::Declined,
            reason: Some("not credible".into()),
            referral: Some("Rainbow Railroad".into()),
        };
        doubtful.apply(2, &cw, &declined).unwrap();
        assert_eq!(doubtful.referral.as_deref(), Some("Rainbow Railroad"));
        assert_eq!(doubtful.end_reason.as_deref(), Some("not credible"));
    }

    #[test]
    fn departure_needs_a_complete_documents_checklist() {
        let mut w = at(Stage::Pathway);
        w.documents.clear();
        let cw = caseworker();
        assert_eq!(
            w.check(&cw, &advance(Stage::Departure)),
            Err(Refusal::NoDocuments)
        );
        for name in ["passport", "visa", "ticket"] {
            w.apply(
                1,
                &cw,
                &Event::Document {
                    name: name.into(),
                    done: false,
                },
            )
            .unwrap();
        }
        w.apply(
            2,
            &cw,
            &Event::Document {
                name: "visa".into(),
                done: true,
            },
        )
        .unwrap();
        assert_eq!(
            w.check(&cw, &advance(Stage::Departure)),
            Err(Refusal::DocumentsIncomplete {
                missing: vec!["passport".into(), "ticket".into()]
            })
        );
        for name in ["passport", "ticket"] {
            w.apply(
                3,
                &cw,
                &Event::Document {
                    name: name.into(),
                    done: true,
                },
            )
            .unwrap();
        }
        assert_eq!(w.check(&cw, &advance(Stage::Departure)), Ok(()));
        assert_eq!(
            w.check(
                &cw,
                &Event::Document {
                    name: " ".into(),
                    done: true
                }
            ),
            Err(Refusal::BadDocument)
        );
    }

    #[test]
    fn closing_needs_a_reason_and_partners_cannot_move_cases() {
        let w = at(Stage::Protection);
        let cw = caseworker();
        assert_eq!(
            w.check(&cw, &advance(Stage::Closed)),
            Err(Refusal::NeedsReason { to: Stage::Closed })
        );
        assert_eq!(
            w.check(&cw, &advance_because(Stage::Closed, "   ")),
            Err(Refusal::NeedsReason { to: Stage::Closed })
        );
        assert_eq!(w.check(&cw, &advance(Stage::Withdrawn)), Ok(()));
        let long = "x".repeat(2001);
        assert_eq!(
            w.check(&cw, &advance_because(Stage::Closed, &long)),
            Err(Refusal::TooLong)
        );
        for role in [Role::Partner, Role::Auditor] {
            assert_eq!(
                w.check(&member(9, role), &advance(Stage::Pathway)),
                Err(Refusal::Role { role })
            );
        }
    }

    #[test]
    fn a_bad_event_on_the_chain_is_skipped_and_remembered() {
        let mut w = at(Stage::Screening);
        w.fold(7, &caseworker(), &advance(Stage::Departure));
        w.fold(8, &caseworker(), &advance(Stage::Verification));
        assert_eq!(w.stage, Stage::Verification);
        assert_eq!(w.rejected.len(), 1);
        assert_eq!(w.rejected[0].0, 7);
        assert!(matches!(w.rejected[0].1, Refusal::NotNext { .. }));
    }

    #[test]
    fn deadlines_come_from_the_priority_and_close_with_the_stage() {
        let now = 1_800_000_000;
        let mut w = Workflow::default();
        let cw = caseworker();
        for event in Priority::Emergency.deadline_tasks(now) {
            w.apply(1, &cw, &event).unwrap();
        }
        let open = w.open_tasks();
        assert_eq!(open.len(), 2);
        assert_eq!(open[0], ("acknowledge", &w.tasks["acknowledge"]));
        assert_eq!(open[0].1.due, now + 7200, "acknowledged within two hours");
        assert_eq!(
            open[1].1.due,
            now + 7 * 86_400,
            "an emergency departs within a week"
        );
        assert_eq!(Priority::Normal.deadline_tasks(now).len(), 1);
        // Reaching screening acknowledges; a custom task is done by hand.
        w.apply(2, &cw, &advance(Stage::Screening)).unwrap();
        assert!(w.tasks["acknowledge"].done);
        let call = Event::Task {
            id: "call".into(),
            title: "Call back".into(),
            due: now - 10,
            closes_at: None,
        };
        w.apply(3, &cw, &call).unwrap();
        assert_eq!(
            w.check(&cw, &call),
            Err(Refusal::TaskExists { id: "call".into() })
        );
        assert_eq!(w.open_tasks()[0].0, "call", "the earliest due first");
        w.apply(4, &cw, &Event::TaskDone { id: "call".into() })
            .unwrap();
        assert_eq!(
            w.check(&cw, &Event::TaskDone { id: "call".into() }),
            Err(Refusal::NoSuchTask { id: "call".into() })
        );
        assert_eq!(w.open_tasks().len(), 1);
        for bad in ["", "Capital", "has space", &"x".repeat(33)] {
            let event = Event::Task {
                id: bad.into(),
                title: "t".into(),
                due: now,
                closes_at: None,
            };
            assert_eq!(w.check(&cw, &event), Err(Refusal::BadTask), "{bad:?}");
        }
        // An ended case has no open tasks.
        w.apply(5, &cw, &advance(Stage::Withdrawn)).unwrap();
        assert!(w.open_tasks().is_empty());
    }

    #[test]
    fn events_and_names_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(stage.name().parse::<Stage>().unwrap(), stage);
        }
        for flag in Flag::ALL {
            assert_eq!(flag.name().parse::<Flag>().unwrap(), flag);
        }
        assert!(
            "limbo"
                .parse::<Stage>()
                .unwrap_err()
                .to_string()
                .contains("intake, screening")
        );
        let event = Event::Advance {
            to: Stage::Declined,
            reason: Some("out of mandate".into()),
            referral: None,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"event":"advance","to":"declined","reason":"out of mandate"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
        let flag = serde_json::to_string(&Event::Flag {
            flag: Flag::LostContact,
            raised: true,
        })
        .unwrap();
        assert_eq!(
            flag,
            r#"{"event":"flag","flag":"lost-contact","raised":true}"#
        );
    }
}

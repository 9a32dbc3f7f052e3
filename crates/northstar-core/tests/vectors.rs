//! The frozen domain vectors in `testdata/vectors/` (workflow, safehouse,
//! pathway, time, report, record), checked against this crate. The
//! TypeScript twin in the browser checks the same files
//! (web/src/lib/domain/vectors.test.ts), so the two cannot drift apart.
//!
//! The expected values were written by hand from the rules and are judged
//! here: when this test and a vector disagree, the vector is wrong unless
//! the rule is.
//!
//! Objects are folded with this crate's own `ObjectView::apply`, the fold
//! every client uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use northstar_core::pathway::{self, PathwayKind};
use northstar_core::report::{self, Cell, Table};
use northstar_core::{
    Actor, Compartment, Event, Flag, HouseRefusal, ObjectView, Priority, RecordBody, Refusal,
    SafeHouse, Stage, Verdict, time,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

fn read(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("vector file {} is missing: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn list(value: &Value) -> &Vec<Value> {
    value.as_array().expect("a list")
}

fn string(value: &Value) -> &str {
    value.as_str().expect("a string")
}

fn from<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("vector value {value} does not read: {e}"))
}

fn to(value: impl Serialize) -> Value {
    serde_json::to_value(value).expect("serializes")
}

/// `Result<(), Refusal>` as the vectors write it: `"ok"` or the refusal.
fn outcome<R: Serialize>(result: Result<(), R>) -> Value {
    match result {
        Ok(()) => json!("ok"),
        Err(refusal) => to(refusal),
    }
}

/// An object folded step by step, as a client folds its verified entries.
#[derive(Debug, Default)]
struct View(ObjectView);

impl View {
    /// Fold one vector step: `{seq, by, compartment, body}`.
    fn step(&mut self, members: &Value, step: &Value) {
        let by = string(&step["by"]);
        self.0.apply(
            step["seq"].as_u64().expect("a seq"),
            from(&step["compartment"]),
            &from(&members[by]),
            by.to_owned(),
            from(&step["body"]),
        );
    }

    /// `Workflow::check` or `SafeHouse::check` for the event a step carries.
    fn check(&self, members: &Value, step: &Value) -> Value {
        let actor: Actor = from(&members[string(&step["by"])]);
        let compartment: Compartment = from(&step["compartment"]);
        assert_eq!(
            compartment,
            Compartment::Summary,
            "checks are of summary events"
        );
        match from::<RecordBody>(&step["body"]) {
            RecordBody::Event { event } => outcome(self.0.workflow.check(&actor, &event)),
            RecordBody::House { event } => outcome(
                self.0
                    .house
                    .as_ref()
                    .expect("a house check on a safe house")
                    .check(&actor, &event),
            ),
            other => panic!("a check of {other:?}"),
        }
    }

    /// The parts of the state a scenario names in `expect`.
    fn expected(&self, key: &str) -> Value {
        match key {
            "workflow" => to(&self.0.workflow),
            "open_tasks" => to(self.0.workflow.open_tasks()),
            "house" => to(&self.0.house),
            "occupancy" => json!(self.0.house.as_ref().map(SafeHouse::occupancy)),
            "fields" => to(&self.0.fields),
            "notes" => to(&self.0.notes),
            other => panic!("unknown expectation {other}"),
        }
    }
}

/// Fold every scenario of a file; returns every refusal an expectation names.
fn run_scenarios(file: &Value) -> BTreeSet<String> {
    let members = &file["members"];
    let mut named = BTreeSet::new();
    for scenario in list(&file["scenarios"]) {
        let name = string(&scenario["name"]);
        let mut view = View::default();
        for (i, step) in list(&scenario["steps"]).iter().enumerate() {
            assert_eq!(step["seq"], json!(i), "{name}: steps are numbered in order");
            if let Some(want) = step.get("check") {
                assert_eq!(view.check(members, step), *want, "{name}, step {i}");
                if let Some(reason) = want.get("reason") {
                    named.insert(string(reason).to_owned());
                }
            }
            view.step(members, step);
        }
        for (key, want) in scenario["expect"].as_object().expect("an expect") {
            assert_eq!(view.expected(key), *want, "{name}: {key}");
        }
        for (_, refusal) in &view.0.workflow.rejected {
            named.insert(to(refusal)["reason"].as_str().unwrap().to_owned());
        }
    }
    named
}

/// The kebab-case name of every refusal, by an exhaustive match: a new
/// variant does not compile until it is named here and given a vector.
fn refusal_name(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Ended { .. } => "ended",
        Refusal::NotNext { .. } => "not-next",
        Refusal::Same { .. } => "same",
        Refusal::Role { .. } => "role",
        Refusal::NoVerdict => "no-verdict",
        Refusal::NotCredible => "not-credible",
        Refusal::SignOffs { .. } => "sign-offs",
        Refusal::SecondNotApprover => "second-not-approver",
        Refusal::SignedTwice => "signed-twice",
        Refusal::SignOffOutOfStage => "sign-off-out-of-stage",
        Refusal::VerdictOutOfStage => "verdict-out-of-stage",
        Refusal::VerdictTwice => "verdict-twice",
        Refusal::DocumentsIncomplete { .. } => "documents-incomplete",
        Refusal::NoDocuments => "no-documents",
        Refusal::NeedsReason { .. } => "needs-reason",
        Refusal::BadDocument => "bad-document",
        Refusal::TooLong => "too-long",
        Refusal::BadTask => "bad-task",
        Refusal::TaskExists { .. } => "task-exists",
        Refusal::NoSuchTask { .. } => "no-such-task",
        Refusal::WrongCompartment { .. } => "wrong-compartment",
    }
}

fn house_refusal_name(refusal: &HouseRefusal) -> &'static str {
    match refusal {
        HouseRefusal::Full { .. } => "full",
        HouseRefusal::AlreadyPlaced => "already-placed",
        HouseRefusal::NotPlaced => "not-placed",
        HouseRefusal::Role { .. } => "role",
        HouseRefusal::BadCase => "bad-case",
    }
}

/// Every refusal the file lists is a serde name this crate uses, and a
/// vector expects each one at least once.
fn every_refusal_is_covered<R: for<'de> Deserialize<'de>>(
    file: &Value,
    named: &BTreeSet<String>,
    name_of: fn(&R) -> &'static str,
) {
    let listed: BTreeSet<String> = list(&file["refusals"])
        .iter()
        .map(|r| string(r).to_owned())
        .collect();
    for reason in &listed {
        assert!(named.contains(reason), "no vector expects '{reason}'");
    }
    for reason in named {
        assert!(listed.contains(reason), "'{reason}' is not listed");
    }
    // The names are the serde tags, and every variant is among them.
    for reason in named {
        let sample = named_sample(file, reason);
        let refusal: R = from(&sample);
        assert_eq!(name_of(&refusal), reason);
    }
}

/// The first refusal in a file with this reason.
fn named_sample(file: &Value, reason: &str) -> Value {
    fn find(value: &Value, reason: &str) -> Option<Value> {
        match value {
            Value::Object(map) if map.get("reason") == Some(&json!(reason)) => Some(value.clone()),
            Value::Object(map) => map.values().find_map(|v| find(v, reason)),
            Value::Array(items) => items.iter().find_map(|v| find(v, reason)),
            _ => None,
        }
    }
    find(file, reason).expect("a sample")
}

#[test]
fn workflow_names_and_deadlines() {
    let file = read("workflow.json");
    let stages: Vec<Value> = Stage::ALL
        .iter()
        .map(|s| json!({"name": s.name(), "open": s.is_open(), "next": s.next()}))
        .collect();
    assert_eq!(json!(stages), file["stages"]);
    for s in list(&file["stages"]) {
        assert_eq!(
            string(&s["name"]).parse::<Stage>().unwrap().name(),
            s["name"]
        );
    }
    assert_eq!(json!(Flag::ALL.map(Flag::name)), file["flags"]);
    for v in list(&file["verdicts"]) {
        assert_eq!(string(v).parse::<Verdict>().unwrap().name(), v);
    }
    for p in list(&file["priorities"]) {
        let priority: Priority = string(&p["name"]).parse().unwrap();
        let now = p["now"].as_i64().unwrap();
        assert_eq!(to(priority.deadline_tasks(now)), p["deadline_tasks"]);
    }
}

#[test]
fn workflow_scenarios_fold_to_the_expected_state() {
    let file = read("workflow.json");
    let mut named = run_scenarios(&file);
    let members = &file["members"];
    let path = list(&file["path"]);
    for check in list(&file["checks"]) {
        let name = string(&check["name"]);
        let mut view = View::default();
        let setup = path[..check["path"].as_u64().unwrap() as usize].iter();
        for (seq, step) in setup.chain(list(&check["then"])).enumerate() {
            let mut step = step.clone();
            step["seq"] = json!(seq);
            view.step(members, &step);
        }
        let actor: Actor = from(&members[string(&check["by"])]);
        let got = outcome(
            view.0
                .workflow
                .check(&actor, &from::<Event>(&check["event"])),
        );
        assert_eq!(got, check["expect"], "{name}");
        if let Some(reason) = check["expect"].get("reason") {
            named.insert(string(reason).to_owned());
        }
    }
    every_refusal_is_covered(&file, &named, refusal_name);
}

#[test]
fn safe_house_scenarios_fold_to_the_expected_state() {
    let file = read("safehouse.json");
    let named: BTreeSet<String> = run_scenarios(&file)
        .into_iter()
        .filter(|r| list(&file["refusals"]).contains(&json!(r)))
        .collect();
    every_refusal_is_covered(&file, &named, house_refusal_name);
}

#[test]
fn pathways_and_legs_read_back_as_expected() {
    let file = read("pathway.json");
    assert_eq!(
        json!(PathwayKind::ALL.map(PathwayKind::name)),
        file["kinds"]
    );
    for k in list(&file["kinds"]) {
        assert!(string(k).parse::<PathwayKind>().is_ok());
    }
    assert_eq!(json!(pathway::STEPS), file["steps"]);
    for case in list(&file["cases"]) {
        let name = string(&case["name"]);
        let fields: BTreeMap<String, String> = from(&case["fields"]);
        assert_eq!(to(pathway::pathways(&fields)), case["pathways"], "{name}");
        let legs = pathway::legs(&fields);
        assert_eq!(to(&legs), case["legs"], "{name}");
        for (prefix, n) in case["next_number"].as_object().unwrap() {
            assert_eq!(
                json!(pathway::next_number(&fields, prefix)),
                *n,
                "{name}: {prefix}"
            );
        }
        for m in list(&case["missed"]) {
            let now = m["now"].as_i64().unwrap();
            let missed: Vec<u32> = legs
                .iter()
                .filter(|l| l.missed(now))
                .map(|l| l.number)
                .collect();
            assert_eq!(json!(missed), m["legs"], "{name}: at {now}");
        }
    }
}

#[test]
fn due_times_parse_and_print_as_expected() {
    let file = read("time.json");
    for case in list(&file["parse_due"]) {
        let text = string(&case["text"]);
        let got = time::parse_due(text, case["now"].as_i64().unwrap()).ok();
        assert_eq!(json!(got), case["seconds"], "{text:?}");
    }
    for case in list(&file["format_utc"]) {
        let seconds = case["seconds"].as_i64().unwrap();
        assert_eq!(json!(time::format_utc(seconds)), case["text"], "{seconds}");
    }
}

fn table_of(value: &Value) -> Table {
    Table {
        dimension: string(&value["dimension"]).to_owned(),
        cells: list(&value["cells"])
            .iter()
            .map(|c| {
                let cell = match c[1].as_u64() {
                    Some(n) => Cell::Count(n),
                    None => Cell::Suppressed,
                };
                (string(&c[0]).to_owned(), cell)
            })
            .collect(),
        shown_total: value["shown_total"].as_u64().unwrap(),
        suppressed_cells: value["suppressed_cells"].as_u64().unwrap() as usize,
    }
}

#[test]
fn small_cells_are_suppressed_as_expected() {
    let file = read("report.json");
    assert_eq!(json!(report::DEFAULT_K), file["default_k"]);
    for case in list(&file["suppress"]) {
        let name = string(&case["name"]);
        let counts: BTreeMap<String, u64> = list(&case["counts"])
            .iter()
            .map(|c| (string(&c[0]).to_owned(), c[1].as_u64().unwrap()))
            .collect();
        let dimension = string(&case["table"]["dimension"]);
        let table = report::suppress(dimension, &counts, case["k"].as_u64().unwrap());
        assert_eq!(to(&table), case["table"], "{name}");
        let total = case["total"].as_u64().unwrap();
        assert_eq!(counts.values().sum::<u64>(), total, "{name}: the total");
        assert_eq!(
            json!(report::derivable(&table, total)),
            case["derivable"],
            "{name}"
        );
    }
    for case in list(&file["derivable"]) {
        let name = string(&case["name"]);
        let table = table_of(&case["table"]);
        assert_eq!(to(&table), case["table"], "{name}: the table reads back");
        let total = case["total"].as_u64().unwrap();
        assert_eq!(
            json!(report::derivable(&table, total)),
            case["derivable"],
            "{name}"
        );
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn records_read_as_the_client_reads_them() {
    let file = read("record.json");
    for case in list(&file["cases"]) {
        let name = string(&case["name"]);
        let bytes = match case.get("hex") {
            Some(hex) => unhex(string(hex)),
            None => string(&case["text"]).as_bytes().to_vec(),
        };
        let got = serde_json::from_slice::<RecordBody>(&bytes)
            .ok()
            .map(to)
            .unwrap_or(Value::Null);
        assert_eq!(got, case["body"], "{name}");
    }
}

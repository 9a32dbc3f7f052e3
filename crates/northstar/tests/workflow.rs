//! The workflow through the command line: every guard refuses with its
//! reason and accepts once satisfied, and an event that breaks a rule but
//! reaches the chain anyway is skipped by every reader.

mod support;

use northstar_client::Profile;
use northstar_client::cases::RecordBody;
use northstar_core::{Compartment, Event, Stage};

#[tokio::test(flavor = "multi_thread")]
async fn the_guards_refuse_then_accept_along_the_whole_path() {
    let team = support::team(&[
        ("ann", "approver"),
        ("cat", "caseworker"),
        ("pia", "partner"),
    ]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let (ann, cat, pia) = (&members[0], &members[1], &members[2]);
    let made = cat.json(
        &url,
        &["case", "new", "--alias", "Heron", "--priority", "emergency"],
    );
    let id = made["case_id"].as_str().unwrap().to_owned();
    cat.ok(
        &url,
        &[
            "case",
            "share",
            &id,
            "--with",
            "ann",
            "--compartment",
            "summary,story",
        ],
    );
    cat.ok(
        &url,
        &[
            "case",
            "share",
            &id,
            "--with",
            "pia",
            "--compartment",
            "summary",
        ],
    );
    let stage = |who: &support::Member| -> String {
        who.json(&url, &["case", "show", &id])["workflow"]["stage"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(stage(cat), "intake");
    let refused = |who: &support::Member, args: &[&str], why: &str| {
        let err = who.fails(&url, args);
        assert!(
            err.contains(why),
            "`{}`: expected '{why}' in {err}",
            args.join(" ")
        );
    };

    refused(
        cat,
        &["case", "advance", &id, "verification"],
        "goes from intake to screening",
    );
    refused(
        cat,
        &["case", "advance", &id, "limbo"],
        "unknown stage 'limbo'",
    );
    refused(
        pia,
        &["case", "advance", &id, "screening"],
        "a partner cannot change",
    );
    cat.ok(&url, &["case", "advance", &id, "screening"]);
    cat.ok(&url, &["case", "advance", &id, "verification"]);
    refused(cat, &["case", "advance", &id, "accepted"], "signed verdict");
    refused(cat, &["case", "approve", &id], "signed verdict");
    cat.ok(
        &url,
        &[
            "case",
            "verdict",
            &id,
            "--result",
            "credible",
            "--reason",
            "references from partner",
        ],
    );
    refused(
        cat,
        &[
            "case", "verdict", &id, "--result", "credible", "--reason", "again",
        ],
        "already recorded",
    );
    cat.ok(&url, &["case", "approve", &id]);
    refused(cat, &["case", "advance", &id, "accepted"], "it has 1");
    refused(cat, &["case", "approve", &id], "already signed off");
    ann.ok(&url, &["case", "approve", &id]);
    cat.ok(&url, &["case", "advance", &id, "accepted"]);
    // The verdict's reasoning went to story, where ann (story) reads it and pia cannot.
    let shown = ann.json(&url, &["case", "show", &id]);
    let story = shown["compartments"]["story"]["notes"].to_string();
    assert!(story.contains("references from partner"), "{story}");
    assert_eq!(shown["workflow"]["verdict"], "credible");
    assert_eq!(
        pia.json(&url, &["case", "show", &id])["compartments"]["story"]["access"],
        false
    );
    assert_eq!(
        stage(pia),
        "accepted",
        "everyone on the case folds the same stage"
    );

    cat.ok(&url, &["case", "advance", &id, "protection"]);
    cat.ok(&url, &["case", "advance", &id, "pathway"]);
    refused(
        cat,
        &["case", "advance", &id, "departure"],
        "needs a documents checklist",
    );
    cat.ok(&url, &["case", "document", &id, "passport"]);
    cat.ok(&url, &["case", "document", &id, "exit visa"]);
    cat.ok(&url, &["case", "document", &id, "passport", "--done"]);
    refused(
        cat,
        &["case", "advance", &id, "departure"],
        "missing: exit visa",
    );
    cat.ok(&url, &["case", "document", &id, "exit visa", "--done"]);
    cat.ok(&url, &["case", "advance", &id, "departure"]);
    cat.ok(&url, &["case", "flag", &id, "lost-contact"]);
    assert_eq!(
        cat.json(&url, &["case", "show", &id])["workflow"]["flags"],
        serde_json::json!(["lost-contact"])
    );
    cat.ok(&url, &["case", "flag", &id, "lost-contact", "--clear"]);
    cat.ok(&url, &["case", "advance", &id, "arrival"]);
    cat.ok(&url, &["case", "advance", &id, "resettlement"]);
    refused(
        cat,
        &["case", "advance", &id, "closed"],
        "closed needs a reason",
    );
    cat.ok(
        &url,
        &[
            "case",
            "advance",
            &id,
            "closed",
            "--reason",
            "resettled in Canada",
        ],
    );
    refused(
        cat,
        &["case", "flag", &id, "on-hold"],
        "does not change any more",
    );
    let listed = cat.json(&url, &["case", "list"]);
    assert_eq!(listed["cases"][0]["stage"], "closed");

    // History shows who moved the case and why.
    let history = cat.ok(&url, &["case", "history", &id]);
    assert!(
        history.contains("moved to closed — resettled in Canada"),
        "{history}"
    );

    // A second case: a client that skips the checks writes an event that
    // breaks a rule. Every reader skips it and says so.
    let other = cat.json(&url, &["case", "new", "--alias", "Stork"])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut profile = Profile::load(&cat.profile).unwrap();
    let unlocked = northstar_client::login(&url, &mut profile, "cat", &cat.passphrase)
        .await
        .unwrap();
    let case = northstar_client::cases::parse_case_id(&other).unwrap();
    let jump = RecordBody::Event {
        event: Event::Advance {
            to: Stage::Departure,
            reason: None,
            referral: None,
        },
    };
    northstar_client::cases::append(&unlocked, &mut profile, case, Compartment::Summary, &jump)
        .await
        .unwrap();
    let shown = cat.json(&url, &["case", "show", &other]);
    assert_eq!(shown["workflow"]["stage"], "intake");
    let rejected = shown["workflow"]["rejected"].to_string();
    assert!(
        rejected.contains("goes from intake to screening"),
        "{rejected}"
    );
    let text = cat.ok(&url, &["case", "show", &other]);
    assert!(
        text.contains("WARNING: entry #2 holds a workflow event that breaks a rule"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_carry_deadlines_and_overdue_ones_come_first() {
    let team = support::team(&[("cat", "caseworker")]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let cat = &members[0];
    let urgent = cat.json(
        &url,
        &["case", "new", "--alias", "Heron", "--priority", "emergency"],
    );
    let heron = urgent["case_id"].as_str().unwrap().to_owned();
    let calm = cat.json(&url, &["case", "new", "--alias", "Stork"]);
    let stork = calm["case_id"].as_str().unwrap().to_owned();

    let titles = |listed: &serde_json::Value| -> Vec<String> {
        listed["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = cat.json(&url, &["task", "list"]);
    let all = titles(&listed);
    assert_eq!(
        all.iter()
            .filter(|t| *t == "Acknowledge the request")
            .count(),
        2,
        "every request is acknowledged within two hours: {all:?}"
    );
    assert!(
        all.contains(&"Emergency: depart within 7 days".to_owned()),
        "{all:?}"
    );
    assert!(
        cat.json(&url, &["task", "list", "--overdue"])["tasks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A task already late comes first, in both lists.
    let added = cat.ok(
        &url,
        &[
            "case",
            "task",
            &stork,
            "Call the lawyer",
            "--due",
            "2020-01-01",
        ],
    );
    let task_id = support::last_word(&added);
    let listed = cat.json(&url, &["task", "list"]);
    assert_eq!(listed["tasks"][0]["title"], "Call the lawyer");
    assert_eq!(listed["tasks"][0]["overdue"], true);
    let overdue = cat.json(&url, &["task", "list", "--overdue"]);
    assert_eq!(titles(&overdue), vec!["Call the lawyer".to_owned()]);
    let text = cat.ok(&url, &["task", "list"]);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("OVERDUE 2020-01-01 00:00 UTC"),
        "{text}"
    );

    // Moving to screening acknowledges; a task is done by hand; bad input changes nothing.
    cat.ok(&url, &["case", "advance", &heron, "screening"]);
    cat.ok(&url, &["case", "task-done", &stork, &task_id]);
    let err = cat.fails(&url, &["case", "task-done", &stork, &task_id]);
    assert!(err.contains("no open task"), "{err}");
    let err = cat.fails(&url, &["case", "task", &stork, "Soon", "--due", "tomorrow"]);
    assert!(err.contains("is not a due time"), "{err}");
    let left = titles(&cat.json(&url, &["task", "list"]));
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"Emergency: depart within 7 days".to_owned()));
    assert!(
        left.contains(&"Acknowledge the request".to_owned()),
        "Stork's is still open"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_suppresses_small_cells_and_what_would_reveal_them() {
    let team = support::team(&[("cat", "caseworker")]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let cat = &members[0];
    let mut ids = vec![];
    for i in 0..8 {
        let made = cat.json(&url, &["case", "new", "--alias", &format!("Case {i}")]);
        ids.push(made["case_id"].as_str().unwrap().to_owned());
    }
    for id in &ids[..6] {
        cat.ok(&url, &["case", "set", id, "summary.destination=CA"]);
    }
    cat.ok(&url, &["case", "advance", &ids[0], "screening"]);

    let report = cat.json(&url, &["report"]);
    let table = |name: &str| -> serde_json::Value {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["dimension"] == name)
            .unwrap()
            .clone()
    };
    let cell = |t: &serde_json::Value, value: &str| -> serde_json::Value {
        t["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c[0] == value)
            .unwrap()[1]
            .clone()
    };
    // 7 at intake, 1 at screening: the 1 is hidden, and so is the 7, or
    // "8 cases, 7 shown" would give it away.
    let stages = table("stage");
    assert_eq!(cell(&stages, "screening"), serde_json::Value::Null);
    assert_eq!(cell(&stages, "intake"), serde_json::Value::Null);
    assert_eq!(cell(&stages, "closed"), 0);
    // 2 without a destination are below k; alone they could be worked out,
    // so the 6 to Canada are hidden with them.
    let destinations = table("destination");
    assert_eq!(destinations["suppressed_cells"], 2, "{destinations}");
    let months = table("month opened");
    assert_eq!(months["shown_total"], 8, "one month, all eight: {months}");

    let csv = cat.ok(&url, &["report", "--csv"]);
    assert!(csv.starts_with("dimension,value,count\n"), "{csv}");
    assert!(csv.contains("stage,screening,suppressed"), "{csv}");
    let bigger_k = cat.json(&url, &["report", "--k", "10"]);
    assert_eq!(bigger_k["k"], 10);
    let err = cat.fails(&url, &["report", "--k", "1"]);
    assert!(err.contains("at least 2"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn safe_houses_enforce_capacity_and_partners_see_placement_not_names() {
    let team = support::team(&[
        ("cat", "caseworker"),
        ("sam", "coordinator"),
        ("pia", "partner"),
    ]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let (cat, sam, pia) = (&members[0], &members[1], &members[2]);
    let made = sam.json(
        &url,
        &[
            "safehouse",
            "new",
            "--code-name",
            "Birch",
            "--capacity",
            "1",
            "--address",
            "12 Quiet Lane",
        ],
    );
    let house = made["id"].as_str().unwrap().to_owned();
    let mut cases = vec![];
    for alias in ["Heron", "Stork"] {
        let id = cat.json(&url, &["case", "new", "--alias", alias])["case_id"]
            .as_str()
            .unwrap()
            .to_owned();
        cat.ok(
            &url,
            &["case", "set", &id, "identity.legal_name=Secret Person"],
        );
        cat.ok(
            &url,
            &[
                "case",
                "share",
                &id,
                "--with",
                "sam",
                "--compartment",
                "logistics",
            ],
        );
        cat.ok(
            &url,
            &[
                "case",
                "share",
                &id,
                "--with",
                "pia",
                "--compartment",
                "logistics",
            ],
        );
        cases.push(id);
    }
    let err = cat.fails(&url, &["safehouse", "place", &house, "--case", &cases[0]]);
    assert!(
        err.contains("no such case") || err.contains("not a safe house"),
        "{err}"
    );

    sam.ok(&url, &["safehouse", "place", &house, "--case", &cases[0]]);
    let err = sam.fails(&url, &["safehouse", "place", &house, "--case", &cases[1]]);
    assert!(err.contains("the safe house is full (1 of 1"), "{err}");
    let listed = sam.json(&url, &["safehouse", "list"]);
    assert_eq!(listed["safehouses"][0]["occupancy"], 1);
    assert_eq!(listed["safehouses"][0]["capacity"], 1);
    assert!(
        !sam.json(&url, &["case", "list"])
            .to_string()
            .contains(&house),
        "a safe house is not a case"
    );

    // The partner sees where Heron sleeps, never who Heron is.
    let shown = pia.json(&url, &["case", "show", &cases[0]]);
    assert_eq!(
        shown["compartments"]["logistics"]["fields"]["safe_house"],
        "Birch"
    );
    assert_eq!(shown["compartments"]["identity"]["access"], false);
    assert!(!shown.to_string().contains("Secret Person"));

    // Moving out frees the place; both moves stay in the house's history.
    sam.ok(&url, &["safehouse", "release", &house, "--case", &cases[0]]);
    sam.ok(&url, &["safehouse", "place", &house, "--case", &cases[1]]);
    let shown = sam.json(&url, &["safehouse", "show", &house]);
    assert_eq!(shown["occupants"], serde_json::json!([cases[1].clone()]));
    assert_eq!(shown["moves"].as_array().unwrap().len(), 3);
    assert_eq!(shown["address"], "12 Quiet Lane");
    let heron = cat.json(&url, &["case", "show", &cases[0]]);
    assert_eq!(
        heron["compartments"]["logistics"]["fields"]["safe_house"],
        ""
    );
    let history = cat.ok(&url, &["case", "history", &cases[0]]);
    assert!(
        history.contains("safe_house=Birch"),
        "the move stays in the case's history: {history}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pathways_steps_legs_and_a_missed_check_in() {
    let team = support::team(&[("cat", "caseworker")]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let cat = &members[0];
    let id = cat.json(&url, &["case", "new", "--alias", "Heron"])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let added = cat.ok(
        &url,
        &[
            "case",
            "pathway",
            &id,
            "--kind",
            "humanitarian-visa",
            "--to",
            "ca",
        ],
    );
    assert_eq!(support::last_word(&added), "1");
    cat.ok(
        &url,
        &["case", "step", &id, "1", "submitted", "--on", "2026-01-10"],
    );
    let err = cat.fails(
        &url,
        &["case", "step", &id, "1", "bribe", "--on", "2026-01-10"],
    );
    assert!(err.contains("unknown step 'bribe'"), "{err}");
    let err = cat.fails(
        &url,
        &["case", "step", &id, "2", "issued", "--on", "2026-01-10"],
    );
    assert!(err.contains("no pathway 2"), "{err}");
    let err = cat.fails(
        &url,
        &["case", "pathway", &id, "--kind", "asylum", "--to", "CA"],
    );
    assert!(err.contains("humanitarian-visa"), "{err}");
    // An expiry raises a task due that day (long past here, so overdue).
    cat.ok(
        &url,
        &["case", "step", &id, "1", "expiry", "--on", "2020-06-01"],
    );
    let overdue = cat.json(&url, &["task", "list", "--overdue"]);
    assert!(
        overdue.to_string().contains("Pathway 1 expires"),
        "{overdue}"
    );
    let shown = cat.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["compartments"]["summary"]["fields"]["destination"],
        "CA"
    );
    assert_eq!(
        shown["compartments"]["travel"]["fields"]["pathway.1.step.submitted"],
        "2026-01-10"
    );

    // A leg whose check-in is long overdue: sync raises lost-contact and an
    // urgent task, once; the check-in closes its task.
    let err = cat.fails(
        &url,
        &[
            "case",
            "leg",
            &id,
            "--from",
            "Grozny",
            "--to",
            "Moscow",
            "--depart",
            "2020-01-02",
            "--checkin-by",
            "2020-01-01",
        ],
    );
    assert!(err.contains("before the departure"), "{err}");
    // `case travel` is the name the issue gives; `case leg` says what it adds.
    let leg = cat.ok(
        &url,
        &[
            "case",
            "travel",
            &id,
            "--from",
            "Grozny",
            "--to",
            "Moscow",
            "--depart",
            "2020-01-01",
            "--checkin-by",
            "2020-01-02",
        ],
    );
    assert_eq!(support::last_word(&leg), "1");
    let synced = cat.json(&url, &["sync"]);
    assert_eq!(synced["lost_contact"][0]["leg"], 1, "{synced}");
    let again = cat.json(&url, &["sync"]);
    assert!(
        again["lost_contact"].as_array().unwrap().is_empty(),
        "raised once: {again}"
    );
    let shown = cat.json(&url, &["case", "show", &id]);
    assert_eq!(
        shown["workflow"]["flags"],
        serde_json::json!(["lost-contact"])
    );
    let tasks = cat.json(&url, &["task", "list", "--overdue"]).to_string();
    assert!(tasks.contains("URGENT: no check-in after leg 1"), "{tasks}");
    cat.ok(&url, &["case", "checkin", &id, "1"]);
    let tasks = cat.json(&url, &["task", "list"]).to_string();
    assert!(!tasks.contains("Check-in after leg 1"), "{tasks}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_not_yet_admitted_lists_nothing_and_is_told_why() {
    let team = support::team(&[]);
    let (url, dir) = (team.url.clone(), team.dir.path());
    let (ada, _) = (&team.ada, &team.members);
    let code = support::last_word(&ada.ok(&url, &["invite", "--role", "coordinator"]));
    let sam = support::Member::new(dir, "sam");
    sam.ok(&url, &["join", "--invite", &code, "--user", "sam"]);
    for args in [
        &["safehouse", "list"][..],
        &["case", "list"][..],
        &["task", "list"][..],
        &["report"][..],
    ] {
        let out = sam.run(&url, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not admitted yet"),
            "{args:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn disbursements_add_up_per_case_and_per_month_per_currency() {
    let team = support::team(&[("cat", "caseworker"), ("pia", "partner")]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let (cat, pia) = (&members[0], &members[1]);
    let id = cat.json(&url, &["case", "new", "--alias", "Heron"])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pay = |amount: &str, currency: &str, on: &str| {
        cat.ok(
            &url,
            &[
                "case",
                "pay",
                &id,
                "--amount",
                amount,
                "--currency",
                currency,
                "--purpose",
                "bus tickets",
                "--on",
                on,
            ],
        )
    };
    assert_eq!(support::last_word(&pay("120.50", "eur", "2026-01-05")), "1");
    pay("9.5", "EUR", "2026-02-01");
    pay("50", "USD", "2026-02-03");
    let err = cat.fails(
        &url,
        &[
            "case",
            "pay",
            &id,
            "--amount",
            "12,50",
            "--currency",
            "EUR",
            "--purpose",
            "x",
        ],
    );
    assert!(err.contains("is not an amount"), "{err}");
    cat.ok(
        &url,
        &[
            "case",
            "share",
            &id,
            "--with",
            "pia",
            "--compartment",
            "logistics",
        ],
    );
    let err = pia.fails(
        &url,
        &[
            "case",
            "pay",
            &id,
            "--amount",
            "1",
            "--currency",
            "EUR",
            "--purpose",
            "x",
        ],
    );
    assert!(
        err.contains("no access to the finance compartment"),
        "{err}"
    );

    let money = cat.json(&url, &["money"]);
    assert_eq!(money["per_case"][0]["totals"]["EUR"], 13000, "{money}");
    assert_eq!(money["per_case"][0]["totals"]["USD"], 5000);
    assert_eq!(money["per_month"]["2026-01"]["EUR"], 12050);
    assert_eq!(money["per_month"]["2026-02"]["EUR"], 950);
    let february = cat.json(&url, &["money", "--month", "2026-02"]);
    assert_eq!(february["per_case"][0]["totals"]["EUR"], 950);
    assert!(cat.ok(&url, &["money"]).contains("130.00 EUR"));
    let none = pia.ok(&url, &["money"]);
    assert!(none.contains("No payments you can read"), "{none}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referral_package_holds_only_the_consented_fields() {
    let team = support::team(&[("cat", "caseworker")]);
    let (url, dir) = (team.url.clone(), team.dir.path());
    let (_ada, members) = (&team.ada, &team.members);
    let cat = &members[0];
    let id = cat.json(&url, &["case", "new", "--alias", "Heron"])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    cat.ok(
        &url,
        &[
            "case",
            "set",
            &id,
            "identity.legal_name=Ахмед Иванов",
            "identity.date_of_birth=1990-04-01",
            "identity.phone=+7 900 000",
        ],
    );
    cat.ok(
        &url,
        &[
            "case",
            "pathway",
            &id,
            "--kind",
            "humanitarian-visa",
            "--to",
            "CA",
        ],
    );
    let liaison = northstar_crypto::export::AgeIdentity::generate();
    let key_file = dir.join("liaison.key");
    std::fs::write(&key_file, liaison.to_secret_string().as_bytes()).unwrap();
    let to = liaison.recipient();
    let out = dir.join("heron.age");
    let package = [
        "case",
        "package",
        &id,
        "--for",
        &to,
        "--out",
        out.to_str().unwrap(),
    ];

    // Without consent, nothing is packaged.
    let err = cat.fails(&url, &package);
    assert!(err.contains("no consent is recorded"), "{err}");
    assert!(!out.exists());
    cat.ok(
        &url,
        &[
            "case",
            "consent",
            &id,
            "--for",
            &to,
            "--label",
            "IRCC liaison",
            "--fields",
            "identity.legal_name,identity.date_of_birth,travel.pathway.1.kind",
        ],
    );
    cat.ok(
        &url,
        &[
            "case",
            "consent",
            &id,
            "--for",
            &to,
            "--fields",
            "identity.date_of_birth",
            "--withdraw",
        ],
    );
    let err = cat.fails(
        &url,
        &[
            "case",
            "consent",
            &id,
            "--for",
            "age1nope",
            "--fields",
            "identity.legal_name",
        ],
    );
    assert!(err.contains("not an age X25519 recipient"), "{err}");
    let err = cat.fails(
        &url,
        &[
            "case",
            "consent",
            &id,
            "--for",
            &to,
            "--fields",
            "legal_name",
        ],
    );
    assert!(err.contains("is not COMPARTMENT.FIELD"), "{err}");
    cat.ok(&url, &package);

    // The liaison opens it with the age tool: JSON with exactly the consented
    // fields still consented, and a PDF.
    let opened = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&out)
        .output()
        .expect("the age tool");
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let mut archive = tar::Archive::new(opened.stdout.as_slice());
    let mut files = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut bytes = vec![];
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        files.insert(name, bytes);
    }
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        vec!["package.json", "summary.pdf"]
    );
    let json: serde_json::Value = serde_json::from_slice(&files["package.json"]).unwrap();
    let names: Vec<&String> = json["fields"].as_object().unwrap().keys().collect();
    assert_eq!(names, vec!["identity.legal_name", "travel.pathway.1.kind"]);
    assert_eq!(json["fields"]["identity.legal_name"], "Ахмед Иванов");
    assert_eq!(json["for"], "IRCC liaison");
    let pdf = &files["summary.pdf"];
    assert!(pdf.starts_with(b"%PDF-") && pdf.ends_with(b"%%EOF\n"));
    let everything = String::from_utf8_lossy(&opened.stdout).into_owned();
    assert!(!everything.contains("+7 900 000") && !everything.contains("1990-04-01"));

    // Another key cannot open it.
    let stranger = northstar_crypto::export::AgeIdentity::generate();
    let other_key = dir.join("stranger.key");
    std::fs::write(&other_key, stranger.to_secret_string().as_bytes()).unwrap();
    let refused = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&other_key)
        .arg(&out)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

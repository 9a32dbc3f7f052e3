//! The brief's story, one case from the first request to closure, through the
//! command line: intake → screening → verification (verdict) → accepted (two
//! sign-offs; one alone is refused) → protection (a safe house; a full one is
//! refused) → pathway (a humanitarian visa to Canada, its steps) → departure
//! (refused until the checklist is complete; check-ins, one missed) →
//! arrival → resettlement → closed.

mod support;

use support::Member;

#[tokio::test(flavor = "multi_thread")]
async fn one_case_from_request_to_resettlement() {
    let team = support::team(&[
        ("ann", "approver"),
        ("cat", "caseworker"),
        ("sam", "coordinator"),
        ("tom", "coordinator"),
    ]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let (ann, cat, sam, tom) = (&members[0], &members[1], &members[2], &members[3]);
    let run = |who: &Member, args: &[&str]| who.ok(&url, args);
    let refused = |who: &Member, args: &[&str], why: &str| {
        let err = who.fails(&url, args);
        assert!(
            err.contains(why),
            "`{}`: expected '{why}' in {err}",
            args.join(" ")
        );
    };
    let stage = |id: &str| -> String {
        cat.json(&url, &["case", "show", id])["workflow"]["stage"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Intake: an emergency request from Russia.
    let made = cat.json(
        &url,
        &[
            "case",
            "new",
            "--alias",
            "Heron",
            "--priority",
            "emergency",
            "--country",
            "RU",
        ],
    );
    let id = made["case_id"].as_str().unwrap().to_owned();
    let id = id.as_str();
    run(
        cat,
        &["case", "set", id, "identity.legal_name=Ruslan Ortega"],
    );
    run(
        cat,
        &[
            "case",
            "share",
            id,
            "--with",
            "ann",
            "--compartment",
            "summary,story",
        ],
    );
    run(
        cat,
        &[
            "case",
            "share",
            id,
            "--with",
            "sam",
            "--compartment",
            "summary,logistics",
        ],
    );
    run(
        cat,
        &[
            "case",
            "share",
            id,
            "--with",
            "tom",
            "--compartment",
            "travel",
        ],
    );

    // Screening, then verification, which ends only with a verdict.
    run(cat, &["case", "advance", id, "screening"]);
    run(cat, &["case", "advance", id, "verification"]);
    refused(cat, &["case", "advance", id, "accepted"], "signed verdict");
    run(
        cat,
        &[
            "case",
            "verdict",
            id,
            "--result",
            "credible",
            "--reason",
            "vouched for by a partner",
        ],
    );

    // Accepted: one sign-off alone is refused; an approver's second makes it.
    run(cat, &["case", "approve", id]);
    refused(cat, &["case", "advance", id, "accepted"], "it has 1");
    run(ann, &["case", "approve", id]);
    run(cat, &["case", "advance", id, "accepted"]);

    // Protection: a safe house with one place; a second case finds it full.
    run(cat, &["case", "advance", id, "protection"]);
    let house = sam.json(
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
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(sam, &["safehouse", "place", &house, "--case", id]);
    let other = cat.json(&url, &["case", "new", "--alias", "Stork"])["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(
        cat,
        &[
            "case",
            "share",
            &other,
            "--with",
            "sam",
            "--compartment",
            "logistics",
        ],
    );
    refused(
        sam,
        &["safehouse", "place", &house, "--case", &other],
        "the safe house is full",
    );

    // Pathway: a humanitarian visa to Canada, step by step.
    run(cat, &["case", "advance", id, "pathway"]);
    run(
        tom,
        &[
            "case",
            "pathway",
            id,
            "--kind",
            "humanitarian-visa",
            "--to",
            "CA",
        ],
    );
    for (step, day) in [
        ("submitted", "2026-01-10"),
        ("interview", "2026-02-02"),
        ("security-check", "2026-02-20"),
        ("medical-check", "2026-02-21"),
        ("decision", "2026-03-01"),
        ("issued", "2026-03-05"),
    ] {
        run(tom, &["case", "step", id, "1", step, "--on", day]);
    }

    // Departure: refused until the documents checklist is complete.
    run(cat, &["case", "document", id, "passport"]);
    run(cat, &["case", "document", id, "visa", "--pathway", "1"]);
    refused(
        cat,
        &["case", "document", id, "visa", "--pathway", "2"],
        "no pathway 2",
    );
    run(cat, &["case", "document", id, "passport", "--done"]);
    refused(
        cat,
        &["case", "advance", id, "departure"],
        "missing: pathway 1: visa",
    );
    run(
        cat,
        &["case", "document", id, "visa", "--pathway", "1", "--done"],
    );
    run(cat, &["case", "advance", id, "departure"]);
    run(sam, &["safehouse", "release", &house, "--case", id]);

    // Two legs: the first checks in, the second misses its check-in.
    let legs = [
        ("Moscow", "Istanbul", "2026-03-10T06:00", "2026-03-10T14:00"),
        (
            "Istanbul",
            "Toronto",
            "2026-03-11T09:00",
            "2026-03-11T21:00",
        ),
    ];
    for (from, to, depart, by) in legs {
        run(
            tom,
            &[
                "case",
                "leg",
                id,
                "--from",
                from,
                "--to",
                to,
                "--depart",
                depart,
                "--checkin-by",
                by,
            ],
        );
    }
    run(tom, &["case", "checkin", id, "1"]);
    let synced = cat.json(&url, &["sync"]);
    assert_eq!(synced["lost_contact"][0]["leg"], 2, "{synced}");
    assert_eq!(
        cat.json(&url, &["case", "show", id])["workflow"]["flags"],
        serde_json::json!(["lost-contact"])
    );
    // Contact again: the check-in comes late, the flag is cleared.
    run(tom, &["case", "checkin", id, "2"]);
    run(cat, &["case", "flag", id, "lost-contact", "--clear"]);

    // Arrival, resettlement, closed with a reason.
    run(cat, &["case", "advance", id, "arrival"]);
    run(cat, &["case", "advance", id, "resettlement"]);
    refused(
        cat,
        &["case", "advance", id, "closed"],
        "closed needs a reason",
    );
    run(
        cat,
        &[
            "case",
            "advance",
            id,
            "closed",
            "--reason",
            "resettled in Toronto",
        ],
    );
    assert_eq!(stage(id), "closed");

    // The record of it all: who moved the case, and the house's moves.
    let history = run(cat, &["case", "history", id]);
    for step in [
        "moved to screening",
        "verdict: credible",
        "signed off acceptance",
        "moved to departure",
        "moved to closed — resettled in Toronto",
    ] {
        assert!(history.contains(step), "'{step}' missing from:\n{history}");
    }
    let house_view = sam.json(&url, &["safehouse", "show", &house]);
    assert_eq!(house_view["moves"].as_array().unwrap().len(), 2);
    // The coordinator with logistics never saw the legal name.
    let seen_by_sam = sam.json(&url, &["case", "show", id]).to_string();
    assert!(!seen_by_sam.contains("Ruslan Ortega"));
}

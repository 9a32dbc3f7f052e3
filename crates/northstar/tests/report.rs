//! `northstar report` over 1,000 generated cases: small cells are hidden, and
//! no hidden cell can be worked out from what is printed, even knowing that
//! there are 1,000 cases.
//!
//! The cases are sealed with the client's own code (a summary record, then
//! the stage changes as signed events) and written behind the server in one
//! transaction, as the benchmark does; the report then syncs and reads them
//! like any other.

mod support;

use std::collections::BTreeMap;

use northstar_client::Profile;
use northstar_client::cases::RecordBody;
use northstar_core::{Event, Stage};
use support::seed::seal_case;

const CASES: usize = 1000;

/// A small deterministic generator, so a failure can be replayed.
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_on_1000_cases_hides_small_cells_and_nothing_hidden_can_be_derived() {
    let team = support::team(&[("cat", "caseworker")]);
    let url = team.url.clone();
    let (_ada, members) = (&team.ada, &team.members);
    let cat = &members[0];
    let mut profile = Profile::load(&cat.profile).unwrap();
    let unlocked = northstar_client::login(&url, &mut profile, "cat", &cat.passphrase)
        .await
        .unwrap();
    let keep = unlocked.keep_key();

    // Skewed on purpose: big cells, small cells and empty ones.
    let destinations = ["CA", "CA", "CA", "DE", "DE", "NL", "SE", "UY"];
    let pathways = [
        "humanitarian-visa",
        "humanitarian-visa",
        "sponsorship",
        "unhcr-referral",
        "visa-free",
    ];
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let mut truth: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    let mut rows = vec![];
    for i in 0..CASES {
        let destination = destinations[dice.next(destinations.len())];
        // A rare destination, so some cells are small.
        let destination = if i % 331 == 0 { "AR" } else { destination };
        let pathway = pathways[dice.next(pathways.len())];
        let month = if i % 97 == 0 {
            "2025-12".to_owned()
        } else {
            format!("2026-{:02}", 1 + dice.next(6))
        };
        let stage = match dice.next(100) {
            0..=2 => Stage::Withdrawn,
            3..=50 => Stage::Intake,
            51..=80 => Stage::Screening,
            _ => Stage::Verification,
        };
        for (dimension, value) in [
            ("stage", stage.name().to_owned()),
            ("month opened", month.clone()),
            ("destination", destination.to_owned()),
            ("pathway", pathway.to_owned()),
        ] {
            *truth
                .entry(dimension)
                .or_default()
                .entry(value)
                .or_default() += 1;
        }
        let summary = RecordBody::Fields {
            fields: BTreeMap::from([
                ("alias".to_owned(), format!("Case {i}")),
                ("opened".to_owned(), format!("{month}-03")),
                ("destination".to_owned(), destination.to_owned()),
                ("pathway".to_owned(), pathway.to_owned()),
            ]),
        };
        let mut bodies = vec![summary];
        let path = [Stage::Screening, Stage::Verification];
        match stage {
            Stage::Withdrawn => bodies.push(RecordBody::Event {
                event: Event::Advance {
                    to: Stage::Withdrawn,
                    reason: None,
                    referral: None,
                },
            }),
            Stage::Intake => {}
            reached => {
                for to in path.into_iter().take_while(|s| *s <= reached) {
                    bodies.push(RecordBody::Event {
                        event: Event::Advance {
                            to,
                            reason: None,
                            referral: None,
                        },
                    });
                }
            }
        }
        rows.push(seal_case(&unlocked, &keep, &bodies));
    }
    let tamper = northstar_store_sqlite::tamper::Tamper::open(
        &team.server.data_dir.join("northstar.sqlite3"),
    )
    .await
    .unwrap();
    tamper.seed_cases(&rows).await.unwrap();

    let k = 5;
    let report = cat.json(&url, &["report", "--k", "5"]);
    for table in report["tables"].as_array().unwrap() {
        let dimension = table["dimension"].as_str().unwrap();
        let true_counts = &truth[dimension];
        let mut hidden = 0u64;
        let mut shown = 0u64;
        for cell in table["cells"].as_array().unwrap() {
            let value = cell[0].as_str().unwrap();
            let real = true_counts.get(value).copied().unwrap_or(0);
            match cell[1].as_u64() {
                Some(n) => {
                    assert_eq!(n, real, "{dimension}/{value}: a shown count is exact");
                    assert!(
                        n == 0 || n >= k,
                        "{dimension}/{value}: {n} is below k and shown"
                    );
                    shown += n;
                }
                None => hidden += 1,
            }
        }
        assert_eq!(table["shown_total"], shown);
        // What an attacker learns: 1,000 cases in all, so the hidden cells sum to
        // 1,000 minus the shown ones. One hidden cell would be that sum; hidden
        // cells summing to their own number would each be 1.
        let hidden_sum = CASES as u64 - shown;
        assert_ne!(
            hidden, 1,
            "{dimension}: a lone hidden cell is derivable: {table}"
        );
        if hidden > 0 {
            let zeros_hidden = hidden as usize == table["cells"].as_array().unwrap().len();
            let floor = if zeros_hidden { 0 } else { hidden };
            assert_ne!(
                hidden_sum, floor,
                "{dimension}: every hidden cell is pinned: {table}"
            );
        }
    }
    // The generator made small cells on purpose; the report must have hidden some.
    let hidden_anywhere = report.to_string().matches("null").count();
    assert!(hidden_anywhere >= 2, "{report}");
    let text = cat.ok(&url, &["report"]);
    assert!(text.contains("hidden"), "{text}");
}

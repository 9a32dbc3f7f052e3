use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use northstar_client::{ClientError, Profile, Unlocked};
use northstar_core::Role;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{
    CacheCommand, CaseCommand, Cli, ClientArgs, Command, IntakeCommand, MemberCommand, OrgCommand,
    SafehouseCommand, ServeArgs, TaskCommand,
};

pub async fn run(cli: Cli) -> Result<()> {
    let out = Output { json: cli.json };
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Org(OrgCommand::Init { org, user }) => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let passphrase = new_passphrase()?;
            let (unlocked, words) =
                northstar_client::org_init(&server, &mut ctx.profile, &org, &user, &passphrase)
                    .await?;
            // Open the help desk at once, so the public page takes requests from the start.
            if let Err(e) = northstar_client::intake::keep_desk(&unlocked, &mut ctx.profile).await {
                eprintln!(
                    "warning: the help desk could not be opened yet ({e}); the next admin command retries"
                );
            }
            out.print(
                json!({"org": org, "org_id": unlocked.org.to_hex(), "user": user, "account_id": unlocked.account.to_hex(), "fingerprint": words}),
                format!(
                    "Created the organization '{org}'; you are its first admin, signed in as '{user}'.\n\
                     Its fingerprint — compare these words in person or on video with everyone who joins:\n{}",
                    words.join(" ")
                ),
            );
            Ok(())
        }
        Command::Login { user } => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let passphrase = passphrase()?;
            let unlocked =
                northstar_client::login(&server, &mut ctx.profile, &user, &passphrase).await?;
            out.print(
                json!({"user": unlocked.username, "account_id": unlocked.account.to_hex()}),
                format!("Signed in as '{}'.", unlocked.username),
            );
            Ok(())
        }
        Command::Logout => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let ended = northstar_client::logout(&server, &mut ctx.profile).await?;
            out.print(
                json!({"signed_out": ended}),
                if ended {
                    "Signed out."
                } else {
                    "Not signed in."
                }
                .to_owned(),
            );
            Ok(())
        }
        Command::Whoami => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let me = match northstar_client::whoami(&server, &ctx.profile).await {
                Err(ClientError::NotSignedIn)
                    if std::env::var_os("NORTHSTAR_PASSPHRASE").is_some() =>
                {
                    ctx.unlock().await?;
                    northstar_client::whoami(&server, &ctx.profile).await?
                }
                other => other?,
            };
            let status = serde_json::to_value(me.status)?;
            out.print(
                json!({"user": me.username, "account_id": me.account_id, "role": me.role, "status": status, "org": me.org.name, "org_id": me.org.org_id}),
                format!(
                    "{} ({}) in '{}' — {}",
                    me.username,
                    me.role.as_deref().unwrap_or("no role yet"),
                    me.org.name,
                    match me.status {
                        northstar_protocol::AccountStatus::Pending => "waiting for an admin to admit you",
                        northstar_protocol::AccountStatus::Active => "active member",
                        northstar_protocol::AccountStatus::Removed => "removed",
                    }
                ),
            );
            Ok(())
        }
        Command::Invite {
            role,
            valid_for_hours,
            valid_for_seconds,
        } => {
            let role: Role = role.parse()?;
            let seconds = valid_for_seconds.unwrap_or(valid_for_hours.saturating_mul(3600));
            let mut ctx = Context_::new(&cli.client)?;
            let unlocked = ctx.unlock().await?;
            let code =
                northstar_client::create_invite(&unlocked, &mut ctx.profile, role, seconds).await?;
            out.print(
                json!({"role": role.name(), "valid_for_seconds": seconds, "code": code}),
                format!(
                    "Invitation for a new {role}, valid for {}. Pass the code on in person or over a safe channel:\n{code}",
                    human_duration(seconds)
                ),
            );
            Ok(())
        }
        Command::Join { invite, user } => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let passphrase = new_passphrase()?;
            let joined =
                northstar_client::join(&server, &mut ctx.profile, &invite, &user, &passphrase)
                    .await?;
            out.print(
                json!({"org": joined.org_name, "user": user, "account_id": joined.account.to_hex(), "org_fingerprint": joined.org_fingerprint, "status": "pending"}),
                format!(
                    "Joined '{}' as '{user}'; an admin will admit you shortly.\n\
                     Compare the organization's fingerprint with your admin in person or on video:\n{}",
                    joined.org_name,
                    joined.org_fingerprint.join(" ")
                ),
            );
            Ok(())
        }
        Command::Member(MemberCommand::List) => {
            let mut ctx = Context_::new(&cli.client)?;
            // Unlocking as an admin admits whoever joined with this admin's invitations.
            let api = match ctx.unlock_if_admin().await? {
                Some(unlocked) => unlocked.api,
                None => ctx.session().await?,
            };
            let chain = northstar_client::verified_chain(&api, &mut ctx.profile).await?;
            let members = northstar_client::list_members(&chain, &ctx.profile);
            let rows: Vec<_> = members
                .iter()
                .map(|m| json!({"name": m.name, "role": m.role.name(), "account_id": m.account_id, "fingerprint": m.fingerprint, "verified": m.verified}))
                .collect();
            let text = members
                .iter()
                .map(|m| {
                    format!(
                        "{:<20} {:<12} {:<9} {}",
                        m.name,
                        m.role.name(),
                        if m.verified { "verified" } else { "unverified" },
                        m.fingerprint.join(" ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(json!({"org": chain.org_name, "members": rows}), text);
            Ok(())
        }
        Command::Member(MemberCommand::Verify { name, words }) => {
            let mut ctx = Context_::new(&cli.client)?;
            let api = ctx.session().await?;
            let chain = northstar_client::verified_chain(&api, &mut ctx.profile).await?;
            let member =
                northstar_client::verify_member(&chain, &mut ctx.profile, &name, &words.join(" "))?;
            out.print(
                json!({"name": member.name, "verified": true}),
                format!(
                    "The words match: {}'s keys are verified on this profile.",
                    member.name
                ),
            );
            Ok(())
        }
        Command::Case(command) => case_command(command, &cli.client, &out).await,
        Command::Sync => {
            let mut ctx = Context_::new(&cli.client)?;
            let unlocked = ctx.unlock().await?;
            let chain = northstar_client::verified_chain(&unlocked.api, &mut ctx.profile).await?;
            let (listings, report) =
                northstar_client::cases::list_cases(&unlocked, &mut ctx.profile).await?;
            let raised = raise_missed_checkins(&unlocked, &mut ctx.profile, &listings).await?;
            let refused: Vec<_> = report
                .refused
                .iter()
                .map(|(case, e)| json!({"case_id": case.to_hex(), "reason": e.to_string()}))
                .collect();
            let mut text = format!(
                "Verified the membership chain ({} members) and {} case(s); {} changed, {} new entries verified, {} no longer yours.",
                chain.members().count(),
                report.cases,
                report.updated,
                report.entries,
                report.removed,
            );
            for (case, e) in &report.refused {
                text.push_str(&format!(
                    "\nREFUSED case {}: {e}. The copy on this device was kept; tell your admin.",
                    case.to_hex()
                ));
            }
            for (case, leg) in &raised {
                text.push_str(&format!(
                    "\nLOST CONTACT: case {case} missed its check-in after leg {leg}; flagged, with an urgent task."
                ));
            }
            out.print(
                json!({"members": chain.members().count(), "cases": listings.len(), "updated": report.updated, "entries": report.entries, "removed": report.removed, "refused": refused, "lost_contact": raised.iter().map(|(c, l)| json!({"case_id": c, "leg": l})).collect::<Vec<_>>()}),
                text,
            );
            if !report.refused.is_empty() {
                bail!(
                    "{} case(s) failed verification (see above)",
                    report.refused.len()
                );
            }
            Ok(())
        }
        Command::Lock => {
            let mut ctx = Context_::new(&cli.client)?;
            let server = ctx.server()?;
            let ended = match northstar_client::logout(&server, &mut ctx.profile).await {
                Err(e @ ClientError::Network { .. }) => bail!(
                    "{e}\nThe session was deleted from this device, but the server could not be told: \
                     it stays valid there until it expires (at most an hour)."
                ),
                other => other?,
            };
            out.print(
                json!({"locked": true, "session_ended": ended}),
                "Locked: the session is ended and no key is held; the next command asks for the passphrase.".to_owned(),
            );
            Ok(())
        }
        Command::Task(TaskCommand::List { overdue }) => {
            let mut ctx = Context_::new(&cli.client)?;
            let listings = ctx.listings().await?;
            let now = now();
            let mut tasks: Vec<_> = listings
                .iter()
                .flat_map(|l| l.tasks.iter().map(move |t| (l, t)))
                .filter(|(_, t)| !overdue || t.due < now)
                .collect();
            // Overdue first (earliest first), then upcoming by due time.
            tasks.sort_by_key(|(l, t)| (t.due >= now, t.due, l.case_id.clone()));
            let rows: Vec<_> = tasks
                .iter()
                .map(|(l, t)| json!({"case_id": l.case_id, "alias": l.alias, "task": t.id, "title": t.title, "due": t.due, "overdue": t.due < now}))
                .collect();
            let text = tasks
                .iter()
                .map(|(l, t)| {
                    format!(
                        "{} {}  {}  {:<20} {} [{}]",
                        if t.due < now { "OVERDUE" } else { "due    " },
                        northstar_core::time::format_utc(t.due),
                        l.case_id,
                        l.alias.as_deref().unwrap_or("?"),
                        t.title,
                        t.id
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(
                json!({"tasks": rows}),
                if text.is_empty() {
                    "No open tasks.".into()
                } else {
                    text
                },
            );
            Ok(())
        }
        Command::Report { k, csv } => {
            if k < 2 {
                bail!("k must be at least 2: a cell of one case points at a person");
            }
            let mut ctx = Context_::new(&cli.client)?;
            let listings = ctx.listings().await?;
            let tables = report_tables(&listings, k);
            if csv {
                let mut text = String::from("dimension,value,count");
                for t in &tables {
                    for (value, cell) in &t.cells {
                        let count = match cell {
                            northstar_core::report::Cell::Count(n) => n.to_string(),
                            northstar_core::report::Cell::Suppressed => "suppressed".into(),
                        };
                        text.push_str(&format!("\n{},{},{count}", t.dimension, csv_field(value)));
                    }
                }
                println!("{text}");
            } else {
                let mut text = format!(
                    "Cases you can read. Cells below {k} are hidden, and so are as many others \
                     as it takes that no hidden cell can be worked out from the rest."
                );
                for t in &tables {
                    text.push_str(&format!("\n\nby {}", t.dimension));
                    for (value, cell) in &t.cells {
                        let shown = match cell {
                            northstar_core::report::Cell::Count(n) => n.to_string(),
                            // Hidden cells include some of k or more (hidden so
                            // that a small one cannot be worked out), so no "<k".
                            northstar_core::report::Cell::Suppressed => "hidden".to_owned(),
                        };
                        text.push_str(&format!("\n  {value:<16} {shown:>6}"));
                    }
                    text.push_str(&format!(
                        "\n  {:<16} {:>6}  (cells shown)",
                        "total", t.shown_total
                    ));
                }
                out.print(json!({"k": k, "tables": tables}), text);
            }
            Ok(())
        }
        Command::Money { month } => {
            use std::collections::BTreeMap;
            if let Some(m) = &month
                && (m.len() != 7 || northstar_core::time::parse_due(&format!("{m}-01"), 0).is_err())
            {
                bail!("a month is YYYY-MM");
            }
            let mut ctx = Context_::new(&cli.client)?;
            let listings = ctx.listings().await?;
            let fmt = northstar_core::money::format_amount;
            let mut per_month: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
            let mut per_case = vec![];
            for l in &listings {
                let chosen: Vec<_> = l
                    .payments
                    .iter()
                    .filter(|p| month.as_deref().is_none_or(|m| p.on.starts_with(m)))
                    .collect();
                if chosen.is_empty() {
                    continue;
                }
                for p in &chosen {
                    let key = p.on.get(..7).unwrap_or("unknown").to_owned();
                    *per_month
                        .entry(key)
                        .or_default()
                        .entry(p.currency.clone())
                        .or_default() += p.amount;
                }
                per_case.push((l, northstar_core::money::totals(chosen.iter().copied())));
            }
            let show = |t: &BTreeMap<String, i64>| {
                t.iter()
                    .map(|(c, a)| fmt(*a, c))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut text = String::from("per case:");
            for (l, t) in &per_case {
                text.push_str(&format!(
                    "\n  {}  {:<20} {}",
                    l.case_id,
                    l.alias.as_deref().unwrap_or("?"),
                    show(t)
                ));
            }
            text.push_str("\nper month:");
            for (m, t) in &per_month {
                text.push_str(&format!("\n  {m}  {}", show(t)));
            }
            out.print(
                json!({
                    "per_case": per_case.iter().map(|(l, t)| json!({"case_id": l.case_id, "alias": l.alias, "totals": t})).collect::<Vec<_>>(),
                    "per_month": per_month,
                }),
                if per_case.is_empty() { "No payments you can read.".into() } else { text },
            );
            Ok(())
        }
        Command::Safehouse(command) => safehouse_command(command, &cli.client, &out).await,
        Command::Intake(command) => intake_command(command, &cli.client, &out).await,
        Command::Cache(command) => {
            let mut ctx = Context_::new(&cli.client)?;
            match command {
                CacheCommand::Status => {
                    let path = northstar_client::sync::LocalCache::path(ctx.profile.dir());
                    let exists = path.exists();
                    let days = ctx.profile.cache_expiry_days();
                    let expires = ctx
                        .profile
                        .data
                        .last_unlock
                        .map(|t| t + i64::from(days) * 86_400);
                    out.print(
                        json!({"path": path.display().to_string(), "exists": exists, "offline_unlock": ctx.profile.data.device_slot.is_some(), "expiry_days": days, "expires_at": expires}),
                        format!(
                            "{} ({}); offline unlock {}; deleted after {days} day(s) without an unlock.",
                            path.display(),
                            if exists { "present" } else { "none yet" },
                            if ctx.profile.data.device_slot.is_some() { "set up" } else { "not set up" },
                        ),
                    );
                }
                CacheCommand::Clear => {
                    let deleted = ctx.profile.forget_cache()?;
                    out.print(
                        json!({"cleared": deleted}),
                        if deleted {
                            "Deleted this device's copy and its offline unlock."
                        } else {
                            "There was no copy on this device."
                        }
                        .to_owned(),
                    );
                }
                CacheCommand::ExpireAfter { days } => {
                    if days == 0 {
                        bail!(
                            "the copy must live at least one day; use `northstar cache clear` to delete it now"
                        );
                    }
                    ctx.profile.data.cache_expiry_days = Some(days);
                    ctx.profile.save()?;
                    out.print(
                        json!({"expiry_days": days}),
                        format!(
                            "This device's copy is deleted after {days} day(s) without an unlock."
                        ),
                    );
                }
            }
            Ok(())
        }
        Command::Member(MemberCommand::Remove { name }) => {
            let mut ctx = Context_::new(&cli.client)?;
            let unlocked = ctx.unlock().await?;
            let removed =
                northstar_client::remove_member(&unlocked, &mut ctx.profile, &name).await?;
            let rotation =
                northstar_client::cases::rotate_after_removal(&unlocked, &mut ctx.profile, removed)
                    .await?;
            let rotated: Vec<_> = rotation
                .rotated
                .iter()
                .map(|(case, cs)| json!({"case_id": case.to_hex(), "compartments": cs.iter().map(|c| c.name()).collect::<Vec<_>>()}))
                .collect();
            let skipped: Vec<_> = rotation
                .skipped
                .iter()
                .map(|(case, why)| json!({"case_id": case.to_hex(), "reason": why}))
                .collect();
            let mut text = format!(
                "Removed '{name}' from the organization; their sessions have ended. \
                 (They keep what they already downloaded.) Rotated their keys in {} case(s).",
                rotated.len()
            );
            for (case, why) in &rotation.skipped {
                text.push_str(&format!(
                    "\nCould not rotate case {}: {why}. Ask a member who holds it.",
                    case.to_hex()
                ));
            }
            out.print(
                json!({"removed": name, "rotated": rotated, "skipped": skipped}),
                text,
            );
            Ok(())
        }
    }
}

fn compartments(names: &[String]) -> Result<Vec<northstar_core::Compartment>> {
    names
        .iter()
        .map(|n| {
            let c: northstar_core::Compartment = n.trim().parse()?;
            if !c.belongs_to(northstar_core::ObjectKind::Case) {
                bail!("a case has no '{n}' compartment");
            }
            Ok(c)
        })
        .collect()
}

async fn case_command(command: CaseCommand, args: &ClientArgs, out: &Output) -> Result<()> {
    use northstar_client::cases::{self, RecordBody};
    use northstar_core::Compartment;
    use std::collections::BTreeMap;

    let mut ctx = Context_::new(args)?;
    // Reading works from this device's copy when the server is out of reach.
    match &command {
        CaseCommand::List | CaseCommand::Search { .. } => {
            let listings = ctx.listings().await?;
            let cases_only: Vec<_> = listings
                .into_iter()
                .filter(|l| !l.is_safe_house())
                .collect();
            print_listings(&command, cases_only, out)?;
            return Ok(());
        }
        CaseCommand::Show { id } | CaseCommand::History { id } => {
            let case = cases::parse_case_id(id)?;
            let view = match ctx.reading().await? {
                Reading::Online(unlocked) => {
                    cases::read_case(&unlocked, &mut ctx.profile, case).await?
                }
                Reading::Offline(cache) => cache
                    .view(case)
                    .await?
                    .with_context(|| format!("this device holds no copy of case {id}"))?,
            };
            match command {
                CaseCommand::Show { .. } => print_case(&view, out),
                _ => print_history(&view, out),
            }
            return Ok(());
        }
        _ => {}
    }
    if args.offline {
        bail!("this command changes the case, so it needs the server: drop --offline");
    }
    let unlocked = ctx.unlock().await?;
    let profile = &mut ctx.profile;
    match command {
        CaseCommand::New {
            alias,
            priority,
            country,
        } => {
            let id = new_case(&unlocked, profile, &alias, &priority, country.as_deref()).await?;
            out.print(
                json!({"case_id": id.to_hex(), "alias": alias}),
                format!("Opened case '{alias}': {}", id.to_hex()),
            );
        }
        CaseCommand::Set { id, assignments } => {
            let case = cases::parse_case_id(&id)?;
            let mut by_compartment: BTreeMap<Compartment, BTreeMap<String, String>> =
                BTreeMap::new();
            for a in &assignments {
                let (path, value) = a
                    .split_once('=')
                    .with_context(|| format!("'{a}' is not COMPARTMENT.FIELD=VALUE"))?;
                let (c, field) = path
                    .split_once('.')
                    .with_context(|| format!("'{path}' is not COMPARTMENT.FIELD"))?;
                let c = compartments(&[c.to_owned()])?[0];
                if field.is_empty()
                    || field.len() > 64
                    || !field
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    bail!("field names are 1 to 64 letters, digits or underscores (got '{field}')");
                }
                by_compartment
                    .entry(c)
                    .or_default()
                    .insert(field.to_owned(), value.to_owned());
            }
            let mut seqs = vec![];
            for (c, fields) in by_compartment {
                seqs.push(cases::append_fields(&unlocked, profile, case, c, fields).await?);
            }
            out.print(
                json!({"case_id": id, "entries": seqs}),
                format!("Saved {} field(s) in case {id}.", assignments.len()),
            );
        }
        CaseCommand::Note {
            id,
            compartment,
            text,
        } => {
            let case = cases::parse_case_id(&id)?;
            let c = compartments(&[compartment])?[0];
            if text.trim().is_empty() {
                bail!("the note is empty");
            }
            let seq =
                cases::append(&unlocked, profile, case, c, &RecordBody::Note { text }).await?;
            out.print(
                json!({"case_id": id, "seq": seq}),
                format!("Added a note to {c} of case {id}."),
            );
        }
        CaseCommand::Share {
            id,
            with,
            compartment,
        } => {
            let list = compartments(&compartment)?;
            cases::share(&unlocked, profile, cases::parse_case_id(&id)?, &with, &list).await?;
            let names: Vec<&str> = list.iter().map(|c| c.name()).collect();
            out.print(
                json!({"case_id": id, "with": with, "compartments": names}),
                format!("Shared {} of case {id} with '{with}'.", names.join(", ")),
            );
        }
        CaseCommand::Export { id, to, out: path } => {
            let recipients: Vec<&str> = to.iter().map(String::as_str).collect();
            let file =
                cases::export_case(&unlocked, profile, cases::parse_case_id(&id)?, &recipients)
                    .await?;
            std::fs::write(&path, &file)
                .with_context(|| format!("cannot write {}", path.display()))?;
            out.print(
                json!({"case_id": id, "out": path.display().to_string(), "bytes": file.len()}),
                format!(
                    "Exported case {id} to {} (open it with: age -d -i KEYFILE {}).",
                    path.display(),
                    path.display()
                ),
            );
        }
        CaseCommand::Advance {
            id,
            stage,
            reason,
            referral,
        } => {
            let to: northstar_core::Stage = stage.parse()?;
            let event = northstar_core::Event::Advance {
                to,
                reason,
                referral,
            };
            let workflow =
                cases::workflow_event(&unlocked, profile, cases::parse_case_id(&id)?, event)
                    .await?;
            out.print(
                json!({"case_id": id, "stage": workflow.stage.name()}),
                format!("Case {id} is now {}.", workflow.stage),
            );
        }
        CaseCommand::Verdict { id, result, reason } => {
            let result: northstar_core::Verdict = result.parse()?;
            if reason.trim().is_empty() {
                bail!("a verdict needs its reasoning (--reason)");
            }
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            if !view.readable.contains(&Compartment::Story) {
                bail!(
                    "the verdict's reasoning goes to the story compartment, which you cannot read"
                );
            }
            let event = northstar_core::Event::Verdict { result };
            cases::workflow_event(&unlocked, profile, case, event).await?;
            let note = format!("Verification verdict: {} — {reason}", result.name());
            cases::append(
                &unlocked,
                profile,
                case,
                Compartment::Story,
                &RecordBody::Note { text: note },
            )
            .await?;
            out.print(
                json!({"case_id": id, "verdict": result.name()}),
                format!("Recorded the verdict '{}' on case {id}.", result.name()),
            );
        }
        CaseCommand::Approve { id } => {
            let event = northstar_core::Event::SignOff;
            let workflow =
                cases::workflow_event(&unlocked, profile, cases::parse_case_id(&id)?, event)
                    .await?;
            let n = workflow.sign_offs.len();
            out.print(
                json!({"case_id": id, "sign_offs": n}),
                format!(
                    "Signed off case {id} ({n} of 2 sign-offs{}).",
                    if n >= 2 { "; it can be accepted" } else { "" }
                ),
            );
        }
        CaseCommand::Flag { id, flag, clear } => {
            let flag: northstar_core::Flag = flag.parse()?;
            let event = northstar_core::Event::Flag {
                flag,
                raised: !clear,
            };
            cases::workflow_event(&unlocked, profile, cases::parse_case_id(&id)?, event).await?;
            out.print(
                json!({"case_id": id, "flag": flag.name(), "raised": !clear}),
                format!(
                    "{} the flag {} on case {id}.",
                    if clear { "Cleared" } else { "Raised" },
                    flag.name()
                ),
            );
        }
        CaseCommand::Document {
            id,
            name,
            done,
            pathway,
        } => {
            let case = cases::parse_case_id(&id)?;
            // A pathway's checklist items carry its number, so each pathway has
            // its own list and the departure guard still sees them all.
            let name = match pathway {
                Some(n) => {
                    let view = cases::read_case(&unlocked, profile, case).await?;
                    let travel = readable_fields(&view, Compartment::Travel)?;
                    if !northstar_core::pathway::pathways(&travel)
                        .iter()
                        .any(|p| p.number == n)
                    {
                        bail!("case {id} has no pathway {n}");
                    }
                    format!("pathway {n}: {}", name.trim())
                }
                None => name,
            };
            let event = northstar_core::Event::Document {
                name: name.clone(),
                done,
            };
            let workflow = cases::workflow_event(&unlocked, profile, case, event).await?;
            let open = workflow.documents.values().filter(|d| !**d).count();
            out.print(
                json!({"case_id": id, "document": name, "done": done, "open": open}),
                format!(
                    "Checklist of case {id}: '{name}' {}; {open} document(s) still open.",
                    if done { "done" } else { "needed" }
                ),
            );
        }
        CaseCommand::Pathway { id, kind, to } => {
            let kind: northstar_core::pathway::PathwayKind = kind.parse()?;
            let to = country(&to)?;
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            let travel = readable_fields(&view, Compartment::Travel)?;
            let n = northstar_core::pathway::next_number(&travel, "pathway");
            let fields = BTreeMap::from([
                (format!("pathway.{n}.kind"), kind.name().to_owned()),
                (format!("pathway.{n}.destination"), to.clone()),
            ]);
            cases::append_fields(&unlocked, profile, case, Compartment::Travel, fields).await?;
            // Where to and by which route, coarsely, for the team and the
            // statistics — when this member holds the summary at all (a travel
            // coordinator may hold travel only).
            if view.readable.contains(&Compartment::Summary) {
                let summary = BTreeMap::from([
                    ("destination".to_owned(), to.clone()),
                    ("pathway".to_owned(), kind.name().to_owned()),
                ]);
                cases::append_fields(&unlocked, profile, case, Compartment::Summary, summary)
                    .await?;
            } else {
                eprintln!(
                    "(You hold no key for the case's summary, so its destination is left to a member who does.)"
                );
            }
            out.print(
                json!({"case_id": id, "pathway": n, "kind": kind.name(), "destination": to}),
                format!(
                    "Added pathway {n} ({} to {to}) to case {id}: {n}",
                    kind.name()
                ),
            );
        }
        CaseCommand::Step {
            id,
            pathway,
            step,
            on,
        } => {
            if !northstar_core::pathway::STEPS.contains(&step.as_str()) {
                bail!(
                    "unknown step '{step}' (expected one of: {})",
                    northstar_core::pathway::STEPS.join(", ")
                );
            }
            let day = northstar_core::time::parse_due(&on, now()).map_err(anyhow::Error::msg)?;
            if on.len() != 10 {
                bail!("a step is recorded by its day: YYYY-MM-DD");
            }
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            let travel = readable_fields(&view, Compartment::Travel)?;
            if !northstar_core::pathway::pathways(&travel)
                .iter()
                .any(|p| p.number == pathway)
            {
                bail!("case {id} has no pathway {pathway}");
            }
            let fields = BTreeMap::from([(format!("pathway.{pathway}.step.{step}"), on.clone())]);
            cases::append_fields(&unlocked, profile, case, Compartment::Travel, fields).await?;
            let mut text = format!("Pathway {pathway} of case {id}: {step} on {on}.");
            if step == "expiry" {
                let task = format!("pathway-{pathway}-expiry");
                if view.workflow.tasks.contains_key(&task) {
                    text.push_str(" (Its expiry task was already set.)");
                } else {
                    let event = northstar_core::Event::Task {
                        id: task,
                        title: format!("Pathway {pathway} expires: depart or renew"),
                        due: day,
                        closes_at: Some(northstar_core::Stage::Departure),
                    };
                    cases::workflow_event(&unlocked, profile, case, event).await?;
                    text.push_str(" Added a task due that day.");
                }
            }
            out.print(
                json!({"case_id": id, "pathway": pathway, "step": step, "on": on}),
                text,
            );
        }
        CaseCommand::Leg {
            id,
            from,
            to,
            depart,
            checkin_by,
        } => {
            let depart =
                northstar_core::time::parse_due(&depart, now()).map_err(anyhow::Error::msg)?;
            let checkin_by =
                northstar_core::time::parse_due(&checkin_by, now()).map_err(anyhow::Error::msg)?;
            if checkin_by < depart {
                bail!("the check-in cannot be due before the departure");
            }
            for place in [&from, &to] {
                if place.trim().is_empty() || place.chars().count() > 100 {
                    bail!("a place is 1 to 100 characters");
                }
            }
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            let travel = readable_fields(&view, Compartment::Travel)?;
            let n = northstar_core::pathway::next_number(&travel, "leg");
            let fields = BTreeMap::from([
                (format!("leg.{n}.from"), from.clone()),
                (format!("leg.{n}.to"), to.clone()),
                (format!("leg.{n}.depart"), depart.to_string()),
                (format!("leg.{n}.checkin_by"), checkin_by.to_string()),
            ]);
            cases::append_fields(&unlocked, profile, case, Compartment::Travel, fields).await?;
            // The check-in's task lives in the summary; without it, the team's
            // `sync` still sees the leg in travel and raises a missed check-in.
            if view.readable.contains(&Compartment::Summary) {
                let event = northstar_core::Event::Task {
                    id: format!("checkin-leg-{n}"),
                    title: format!("Check-in after leg {n}"),
                    due: checkin_by,
                    closes_at: None,
                };
                cases::workflow_event(&unlocked, profile, case, event).await?;
            }
            out.print(
                json!({"case_id": id, "leg": n, "checkin_by": checkin_by}),
                format!(
                    "Added leg {n} of case {id}, check-in due {}: {n}",
                    northstar_core::time::format_utc(checkin_by)
                ),
            );
        }
        CaseCommand::Checkin { id, leg } => {
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            let travel = readable_fields(&view, Compartment::Travel)?;
            if !northstar_core::pathway::legs(&travel)
                .iter()
                .any(|l| l.number == leg)
            {
                bail!("case {id} has no leg {leg}");
            }
            let fields = BTreeMap::from([(format!("leg.{leg}.checked_in"), now().to_string())]);
            cases::append_fields(&unlocked, profile, case, Compartment::Travel, fields).await?;
            let task = format!("checkin-leg-{leg}");
            if view.readable.contains(&Compartment::Summary)
                && view.workflow.tasks.get(&task).is_some_and(|t| !t.done)
            {
                cases::workflow_event(
                    &unlocked,
                    profile,
                    case,
                    northstar_core::Event::TaskDone { id: task },
                )
                .await?;
            }
            out.print(
                json!({"case_id": id, "leg": leg, "checked_in": true}),
                format!("Checked in after leg {leg} of case {id}."),
            );
        }
        CaseCommand::Pay {
            id,
            amount,
            currency,
            purpose,
            receipt,
            on,
        } => {
            let amount =
                northstar_core::money::parse_amount(&amount).map_err(anyhow::Error::msg)?;
            let currency =
                northstar_core::money::parse_currency(&currency).map_err(anyhow::Error::msg)?;
            if purpose.trim().is_empty() || purpose.chars().count() > 200 {
                bail!("a purpose is 1 to 200 characters");
            }
            let on = match on {
                Some(day) => {
                    northstar_core::time::parse_due(&day, now()).map_err(anyhow::Error::msg)?;
                    if day.len() != 10 {
                        bail!("the day paid is YYYY-MM-DD");
                    }
                    day
                }
                None => northstar_core::time::format_utc(now())[..10].to_owned(),
            };
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            let finance = readable_fields(&view, Compartment::Finance)?;
            let n = northstar_core::pathway::next_number(&finance, "payment");
            let mut fields = BTreeMap::from([
                (format!("payment.{n}.amount"), amount.to_string()),
                (format!("payment.{n}.currency"), currency.clone()),
                (format!("payment.{n}.purpose"), purpose.clone()),
                (format!("payment.{n}.on"), on.clone()),
            ]);
            if let Some(r) = receipt {
                fields.insert(format!("payment.{n}.receipt"), r);
            }
            cases::append_fields(&unlocked, profile, case, Compartment::Finance, fields).await?;
            let shown = northstar_core::money::format_amount(amount, &currency);
            out.print(
                json!({"case_id": id, "payment": n, "amount": amount, "currency": currency, "on": on}),
                format!("Recorded {shown} for '{purpose}' on case {id}: {n}"),
            );
        }
        CaseCommand::Consent {
            id,
            recipient,
            fields,
            label,
            withdraw,
        } => {
            northstar_crypto::export::parse_recipient(&recipient)?;
            let paths = fields
                .iter()
                .map(|f| northstar_core::consent::FieldPath::parse(f.trim()))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            if !view.readable.contains(&Compartment::Story) {
                bail!("consent is recorded in the story compartment, which you cannot read");
            }
            let today = northstar_core::time::format_utc(now())[..10].to_owned();
            let state = if withdraw { "withdrawn" } else { "given" };
            let mut record: BTreeMap<String, String> = paths
                .iter()
                .map(|p| {
                    (
                        northstar_core::consent::consent_field(&recipient, p),
                        format!("{state} {today}"),
                    )
                })
                .collect();
            if let Some(label) = &label {
                if label.trim().is_empty() || label.chars().count() > 100 {
                    bail!("a label is 1 to 100 characters");
                }
                record.insert(format!("consent.{recipient}.label"), label.clone());
            }
            cases::append_fields(&unlocked, profile, case, Compartment::Story, record).await?;
            let names: Vec<String> = paths.iter().map(|p| p.to_text()).collect();
            out.print(
                json!({"case_id": id, "recipient": recipient, "fields": names, "consent": state}),
                format!(
                    "Consent {state} on case {id} for {}: {}",
                    label.as_deref().unwrap_or(&recipient),
                    names.join(", ")
                ),
            );
        }
        CaseCommand::Package {
            id,
            recipient,
            out: path,
        } => {
            northstar_crypto::export::parse_recipient(&recipient)?;
            let case = cases::parse_case_id(&id)?;
            let view = cases::read_case(&unlocked, profile, case).await?;
            if !view.readable.contains(&Compartment::Story) {
                bail!(
                    "consent lives in the story compartment, which you cannot read, so no package can be built"
                );
            }
            let story = readable_fields(&view, Compartment::Story)?;
            let label = story
                .get(&format!("consent.{recipient}.label"))
                .cloned()
                .unwrap_or_else(|| recipient.clone());
            let consented = northstar_core::consent::consented(&story, &recipient);
            if consented.is_empty() {
                bail!("no consent is recorded for {label} on case {id}: nothing may be packaged");
            }
            let mut fields = serde_json::Map::new();
            let mut consent = serde_json::Map::new();
            let mut missing = vec![];
            for (p, day) in &consented {
                if !view.readable.contains(&p.compartment) {
                    bail!("the consent covers {}, which you cannot read", p.to_text());
                }
                match view.field(p.compartment, &p.field) {
                    Some(value) if !value.is_empty() => {
                        fields.insert(p.to_text(), json!(value));
                        consent.insert(p.to_text(), json!(day));
                    }
                    _ => missing.push(p.to_text()),
                }
            }
            let today = northstar_core::time::format_utc(now())[..10].to_owned();
            let package = json!({"for": label, "recipient": recipient, "prepared": today, "fields": fields, "consent_given": consent});
            let mut lines = vec![
                "Referral package".to_owned(),
                format!("Prepared {today} for {label}."),
                "It holds only what the person consented to share with this recipient.".to_owned(),
                String::new(),
            ];
            for (name, value) in &fields {
                lines.push(format!("{name}: {}", value.as_str().unwrap_or_default()));
            }
            lines.push(String::new());
            for (name, day) in &consent {
                lines.push(format!(
                    "Consent for {name} given {}.",
                    day.as_str().unwrap_or_default()
                ));
            }
            let json_bytes = serde_json::to_vec_pretty(&package)?;
            let pdf_bytes = crate::pdf::document(&lines);
            let mut archive = tar::Builder::new(Vec::new());
            for (name, bytes) in [("package.json", &json_bytes), ("summary.pdf", &pdf_bytes)] {
                let mut header = tar::Header::new_ustar();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o600);
                header.set_mtime(now().max(0) as u64);
                header.set_cksum();
                archive.append_data(&mut header, name, bytes.as_slice())?;
            }
            let plain = archive.into_inner()?;
            let sealed =
                northstar_crypto::export::export_to_recipients(&plain, &[recipient.as_str()])?;
            std::fs::write(&path, &sealed)
                .with_context(|| format!("cannot write {}", path.display()))?;
            if !missing.is_empty() {
                eprintln!(
                    "Consented but not recorded on the case, so left out: {}",
                    missing.join(", ")
                );
            }
            out.print(
                json!({"case_id": id, "out": path.display().to_string(), "fields": fields.keys().collect::<Vec<_>>()}),
                format!(
                    "Wrote the package for {label} to {} ({} field(s)); open it with: age -d -i KEY {} | tar x",
                    path.display(),
                    fields.len(),
                    path.display()
                ),
            );
        }
        CaseCommand::Task { id, title, due } => {
            let due = northstar_core::time::parse_due(&due, now()).map_err(anyhow::Error::msg)?;
            let task_id = format!("t{:06x}", rand_u32() & 0xff_ffff);
            let event = northstar_core::Event::Task {
                id: task_id.clone(),
                title: title.clone(),
                due,
                closes_at: None,
            };
            cases::workflow_event(&unlocked, profile, cases::parse_case_id(&id)?, event).await?;
            out.print(
                json!({"case_id": id, "task": task_id, "title": title, "due": due}),
                format!(
                    "Added the task '{title}' to case {id}, due {}: {task_id}",
                    northstar_core::time::format_utc(due)
                ),
            );
        }
        CaseCommand::TaskDone { id, task } => {
            let event = northstar_core::Event::TaskDone { id: task.clone() };
            cases::workflow_event(&unlocked, profile, cases::parse_case_id(&id)?, event).await?;
            out.print(
                json!({"case_id": id, "task": task, "done": true}),
                format!("Task {task} of case {id} is done."),
            );
        }
        CaseCommand::List
        | CaseCommand::Search { .. }
        | CaseCommand::Show { .. }
        | CaseCommand::History { .. } => unreachable!("answered above"),
        CaseCommand::Unshare {
            id,
            with,
            compartment,
        } => {
            let list = compartments(&compartment)?;
            let only = (!list.is_empty()).then_some(list.as_slice());
            let rotated =
                cases::unshare(&unlocked, profile, cases::parse_case_id(&id)?, &with, only).await?;
            let names: Vec<&str> = rotated.iter().map(|c| c.name()).collect();
            out.print(
                json!({"case_id": id, "with": with, "rotated": names}),
                if names.is_empty() {
                    format!("'{with}' holds no compartment of case {id}.")
                } else {
                    format!(
                        "'{with}' no longer receives {} of case {id}; those keys were rotated.",
                        names.join(", ")
                    )
                },
            );
        }
    }
    Ok(())
}

fn print_case(view: &northstar_client::cases::CaseView, out: &Output) {
    use northstar_core::Compartment;
    let mut json_compartments = serde_json::Map::new();
    let mut text = format!("Case {}", view.case_id);
    let mut workflow_json = serde_json::Value::Null;
    if view.readable.contains(&Compartment::Summary) {
        let w = &view.workflow;
        let flags: Vec<&str> = w.flags.iter().map(|f| f.name()).collect();
        text.push_str(&format!("\nstage: {}", w.stage));
        if !flags.is_empty() {
            text.push_str(&format!("  flags: {}", flags.join(", ")));
        }
        if let Some((verdict, _)) = &w.verdict {
            text.push_str(&format!("\nverdict: {}", verdict.name()));
        }
        if !w.sign_offs.is_empty() {
            text.push_str(&format!("\nsign-offs: {} of 2", w.sign_offs.len()));
        }
        if !w.documents.is_empty() {
            let items: Vec<String> = w
                .documents
                .iter()
                .map(|(name, done)| format!("{name} [{}]", if *done { "x" } else { " " }))
                .collect();
            text.push_str(&format!("\ndocuments: {}", items.join(", ")));
        }
        if let Some(reason) = &w.end_reason {
            text.push_str(&format!("\nreason: {reason}"));
        }
        if let Some(referral) = &w.referral {
            text.push_str(&format!("\nreferred to: {referral}"));
        }
        for (seq, refusal) in &w.rejected {
            text.push_str(&format!(
                "\nWARNING: entry #{seq} holds a workflow event that breaks a rule and was skipped: {refusal}"
            ));
        }
        workflow_json = json!({
            "stage": w.stage.name(),
            "flags": flags,
            "verdict": w.verdict.as_ref().map(|(v, _)| v.name()),
            "sign_offs": w.sign_offs.len(),
            "documents": w.documents,
            "reason": w.end_reason,
            "referral": w.referral,
            "rejected": w.rejected.iter().map(|(seq, r)| json!({"seq": seq, "reason": r.to_string()})).collect::<Vec<_>>(),
        });
    }
    for c in Compartment::OF_CASE {
        if !view.readable.contains(&c) {
            json_compartments.insert(c.name().into(), json!({"access": false}));
            text.push_str(&format!("\n[{c}] no access"));
            continue;
        }
        let fields = view.fields.get(&c).cloned().unwrap_or_default();
        let notes: Vec<_> = view
            .notes
            .iter()
            .filter(|n| n.0 == c)
            .map(|n| json!({"author": n.1, "text": n.2, "seq": n.3}))
            .collect();
        json_compartments.insert(
            c.name().into(),
            json!({"access": true, "fields": fields.iter().map(|(k, v)| (k.clone(), json!(v.value))).collect::<serde_json::Map<_, _>>(), "notes": notes}),
        );
        text.push_str(&format!("\n[{c}]"));
        for (k, v) in &fields {
            let earlier = if v.replaced.is_empty() {
                String::new()
            } else {
                format!("  (replaced {} earlier value(s))", v.replaced.len())
            };
            text.push_str(&format!("\n  {k} = {}  — {}{earlier}", v.value, v.set_by));
        }
        for n in view.notes.iter().filter(|n| n.0 == c) {
            text.push_str(&format!("\n  note by {}: {}", n.1, n.2));
        }
    }
    out.print(
        json!({"case_id": view.case_id, "workflow": workflow_json, "compartments": json_compartments}),
        text,
    );
}

fn describe_event(event: &northstar_core::Event) -> String {
    use northstar_core::Event;
    match event {
        Event::Advance {
            to,
            reason,
            referral,
        } => {
            let mut s = format!("moved to {to}");
            if let Some(r) = reason {
                s.push_str(&format!(" — {r}"));
            }
            if let Some(r) = referral {
                s.push_str(&format!(" (referred to {r})"));
            }
            s
        }
        Event::Verdict { result } => format!("verdict: {}", result.name()),
        Event::SignOff => "signed off acceptance".to_owned(),
        Event::Document { name, done: true } => format!("document done: {name}"),
        Event::Document { name, done: false } => format!("document needed: {name}"),
        Event::Flag { flag, raised: true } => format!("raised flag {}", flag.name()),
        Event::Flag {
            flag,
            raised: false,
        } => format!("cleared flag {}", flag.name()),
        Event::Task { id, title, due, .. } => format!(
            "task {id}: {title}, due {}",
            northstar_core::time::format_utc(*due)
        ),
        Event::TaskDone { id } => format!("task {id} done"),
    }
}

fn print_history(view: &northstar_client::cases::CaseView, out: &Output) {
    use northstar_client::cases::RecordBody;
    let rows: Vec<_> = view
        .history
        .iter()
        .map(|h| json!({"seq": h.seq, "compartment": h.compartment.name(), "author": h.author, "record": h.body.as_ref().map(|b| serde_json::to_value(b).unwrap_or_default())}))
        .collect();
    let text = view
        .history
        .iter()
        .map(|h| {
            let what = match &h.body {
                Some(RecordBody::Fields { fields }) => fields
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(RecordBody::Note { text }) => format!("note: {text}"),
                Some(RecordBody::Event { event }) => describe_event(event),
                Some(RecordBody::House {
                    event: northstar_core::HouseEvent::Place { case },
                }) => format!("placed case {case}"),
                Some(RecordBody::House {
                    event: northstar_core::HouseEvent::Release { case },
                }) => format!("released case {case}"),
                None => "(sealed: no access)".to_owned(),
            };
            format!(
                "#{:<4} {:<10} {:<16} {what}",
                h.seq,
                h.compartment.name(),
                h.author
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out.print(json!({"case_id": view.case_id, "history": rows}), text);
}

fn print_listings(
    command: &CaseCommand,
    listings: Vec<northstar_client::sync::Listing>,
    out: &Output,
) -> Result<()> {
    let unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    match command {
        CaseCommand::Search { text } => {
            if text.trim().is_empty() {
                bail!("search for at least one character");
            }
            let hits: Vec<_> = listings.iter().filter(|l| l.matches(text)).collect();
            let json_hits: Vec<_> = hits
                .iter()
                .map(|l| json!({"case_id": l.case_id, "alias": unknown(&l.alias)}))
                .collect();
            let lines = hits
                .iter()
                .map(|l| format!("{}  {}", l.case_id, unknown(&l.alias)))
                .collect::<Vec<_>>()
                .join("\n");
            out.print(
                json!({"query": text, "cases": json_hits}),
                if lines.is_empty() {
                    "No case matches.".into()
                } else {
                    lines
                },
            );
        }
        _ => {
            let json_rows: Vec<_> = listings
                .iter()
                .map(|l| json!({"case_id": l.case_id, "alias": unknown(&l.alias), "stage": unknown(&l.stage), "priority": unknown(&l.priority)}))
                .collect();
            let text = listings
                .iter()
                .map(|l| {
                    format!(
                        "{}  {:<24} {:<14} {}",
                        l.case_id,
                        unknown(&l.alias),
                        unknown(&l.stage),
                        unknown(&l.priority)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(
                json!({"cases": json_rows}),
                if text.is_empty() {
                    "No cases.".into()
                } else {
                    text
                },
            );
        }
    }
    Ok(())
}

/// Where a reading command gets its cases from.
enum Reading {
    Online(Box<Unlocked>),
    Offline(northstar_client::sync::LocalCache),
}

async fn safehouse_command(
    command: SafehouseCommand,
    args: &ClientArgs,
    out: &Output,
) -> Result<()> {
    use northstar_client::cases::{self, RecordBody, SAFE_HOUSE_KIND};
    use northstar_core::{Compartment, HouseEvent};
    use std::collections::BTreeMap;

    let mut ctx = Context_::new(args)?;
    if let SafehouseCommand::List = command {
        let listings = ctx.listings().await?;
        let houses: Vec<_> = listings.iter().filter(|l| l.is_safe_house()).collect();
        let rows: Vec<_> = houses
            .iter()
            .map(|h| json!({"id": h.case_id, "code_name": h.alias, "capacity": h.capacity, "occupancy": h.occupancy}))
            .collect();
        let text = houses
            .iter()
            .map(|h| {
                format!(
                    "{}  {:<20} {}/{} places taken",
                    h.case_id,
                    h.alias.as_deref().unwrap_or("?"),
                    h.occupancy.unwrap_or(0),
                    h.capacity.unwrap_or(0)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.print(
            json!({"safehouses": rows}),
            if text.is_empty() {
                "No safe houses you can see.".into()
            } else {
                text
            },
        );
        return Ok(());
    }
    if args.offline {
        bail!("this command needs the server: drop --offline");
    }
    let unlocked = ctx.unlock().await?;
    let profile = &mut ctx.profile;
    let placing = matches!(command, SafehouseCommand::Place { .. });
    match command {
        SafehouseCommand::List => unreachable!("answered above"),
        SafehouseCommand::New {
            code_name,
            capacity,
            address,
        } => {
            if code_name.trim().is_empty() || code_name.chars().count() > 64 {
                bail!("a code name is 1 to 64 characters");
            }
            if capacity == 0 || capacity > 1000 {
                bail!("a capacity is 1 to 1000 places");
            }
            if address.trim().is_empty() {
                bail!("the address is empty");
            }
            let summary = BTreeMap::from([
                ("kind".to_owned(), SAFE_HOUSE_KIND.to_owned()),
                ("alias".to_owned(), code_name.clone()),
                ("capacity".to_owned(), capacity.to_string()),
            ]);
            let address = BTreeMap::from([("address".to_owned(), address)]);
            let id = cases::create_object(
                &unlocked,
                profile,
                &Compartment::OF_SAFE_HOUSE,
                vec![
                    (Compartment::Summary, RecordBody::Fields { fields: summary }),
                    (Compartment::Address, RecordBody::Fields { fields: address }),
                ],
            )
            .await?;
            out.print(
                json!({"id": id.to_hex(), "code_name": code_name, "capacity": capacity}),
                format!(
                    "Opened the safe house '{code_name}' ({capacity} places): {}",
                    id.to_hex()
                ),
            );
        }
        SafehouseCommand::Show { id } => {
            let view = cases::read_case(&unlocked, profile, cases::parse_case_id(&id)?).await?;
            let house = view
                .house
                .as_ref()
                .with_context(|| format!("{id} is not a safe house"))?;
            let address = view
                .field(Compartment::Address, "address")
                .map(str::to_owned);
            let mut text = format!(
                "Safe house '{}' {id}: {}/{} places taken",
                view.field(Compartment::Summary, "alias").unwrap_or("?"),
                house.occupancy(),
                house.capacity
            );
            text.push_str(&format!(
                "\naddress: {}",
                address.as_deref().unwrap_or("(no access)")
            ));
            for case in house.occupants.keys() {
                text.push_str(&format!("\n  here now: case {case}"));
            }
            for m in &house.moves {
                text.push_str(&format!(
                    "\n  #{} {} case {}",
                    m.seq,
                    if m.moved_in { "in: " } else { "out:" },
                    m.case
                ));
            }
            for (seq, refusal) in &house.rejected {
                text.push_str(&format!("\n  WARNING: entry #{seq} was skipped: {refusal}"));
            }
            out.print(
                json!({"id": id, "code_name": view.field(Compartment::Summary, "alias"), "capacity": house.capacity, "occupancy": house.occupancy(), "occupants": house.occupants.keys().collect::<Vec<_>>(), "address": address, "moves": house.moves.iter().map(|m| json!({"seq": m.seq, "case": m.case, "in": m.moved_in})).collect::<Vec<_>>()}),
                text,
            );
        }
        SafehouseCommand::Place { id, case } | SafehouseCommand::Release { id, case } => {
            let house_id = cases::parse_case_id(&id)?;
            let case_id = cases::parse_case_id(&case)?;
            // The case side first as a check: its logistics must be writable.
            let case_view = cases::read_case(&unlocked, profile, case_id).await?;
            if !case_view.readable.contains(&Compartment::Logistics) {
                bail!(
                    "no access to the logistics compartment of case {case}, where the placement is recorded"
                );
            }
            let house_view = cases::read_case(&unlocked, profile, house_id).await?;
            let code_name = house_view
                .field(Compartment::Summary, "alias")
                .unwrap_or("?")
                .to_owned();
            let event = if placing {
                HouseEvent::Place {
                    case: case_id.to_hex(),
                }
            } else {
                HouseEvent::Release {
                    case: case_id.to_hex(),
                }
            };
            let house = cases::house_event(&unlocked, profile, house_id, event).await?;
            let today = northstar_core::time::format_utc(now())[..10].to_owned();
            let fields = if placing {
                BTreeMap::from([
                    ("safe_house".to_owned(), code_name.clone()),
                    ("placed_on".to_owned(), today),
                ])
            } else {
                BTreeMap::from([
                    ("safe_house".to_owned(), String::new()),
                    ("released_on".to_owned(), today),
                ])
            };
            cases::append_fields(&unlocked, profile, case_id, Compartment::Logistics, fields)
                .await?;
            out.print(
                json!({"id": id, "case_id": case, "placed": placing, "occupancy": house.occupancy(), "capacity": house.capacity}),
                format!(
                    "{} case {case} {} '{code_name}' ({}/{} places taken).",
                    if placing { "Placed" } else { "Released" },
                    if placing { "in" } else { "from" },
                    house.occupancy(),
                    house.capacity
                ),
            );
        }
    }
    Ok(())
}

/// Admissions go to standard error, so `--json` output stays one object.
fn report_approvals(approvals: &northstar_client::Approvals) {
    for name in &approvals.admitted {
        eprintln!("Admitted '{name}', who joined with your invitation.");
    }
    for name in &approvals.refused {
        eprintln!(
            "Refused to admit '{name}': their join does not prove knowledge of the invitation code. \
             Someone may be impersonating them, or the server is lying."
        );
    }
}

/// A check-in that did not come raises `lost-contact` and an urgent task,
/// once per leg. `sync` is the command run on a schedule, so it does this.
async fn raise_missed_checkins(
    unlocked: &Unlocked,
    profile: &mut Profile,
    listings: &[northstar_client::sync::Listing],
) -> Result<Vec<(String, u32)>> {
    use northstar_client::cases;
    let now = now();
    let mut raised = vec![];
    // Only cases whose workflow this member can write (it reads `summary`).
    for l in listings.iter().filter(|l| l.stage.is_some()) {
        for (leg, by) in &l.pending_checkins {
            if *by >= now {
                continue;
            }
            let case = cases::parse_case_id(&l.case_id)?;
            let view = cases::read_case(unlocked, profile, case).await?;
            let task = format!("lost-contact-leg-{leg}");
            if view.workflow.tasks.contains_key(&task) || !view.workflow.stage.is_open() {
                continue;
            }
            let urgent = northstar_core::Event::Task {
                id: task,
                title: format!("URGENT: no check-in after leg {leg}: reach the safe contact"),
                // Overdue from the moment it is raised: the check-in was due by then.
                due: *by,
                closes_at: None,
            };
            let flagged = view
                .workflow
                .flags
                .contains(&northstar_core::Flag::LostContact);
            // Refused (a role that may not change the workflow) or void (another
            // member's sync raised it first): say so, and go on with the rest.
            let mut outcome = cases::workflow_event(unlocked, profile, case, urgent).await;
            if outcome.is_ok() && !flagged {
                let flag = northstar_core::Event::Flag {
                    flag: northstar_core::Flag::LostContact,
                    raised: true,
                };
                outcome = cases::workflow_event(unlocked, profile, case, flag).await;
            }
            match outcome {
                Ok(_) => raised.push((l.case_id.clone(), *leg)),
                Err(ClientError::Refused(why)) => eprintln!(
                    "Case {} missed its check-in after leg {leg}, but this sync did not flag it: {why}",
                    l.case_id
                ),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(raised)
}

/// The report's one-dimensional tables over what this member can read.
fn report_tables(
    listings: &[northstar_client::sync::Listing],
    k: u64,
) -> Vec<northstar_core::report::Table> {
    use std::collections::BTreeMap;
    // Only cases whose summary this member reads have a stage at all (safe houses have none).
    let readable: Vec<_> = listings.iter().filter(|l| l.stage.is_some()).collect();
    let mut by_stage: BTreeMap<String, u64> = northstar_core::Stage::ALL
        .iter()
        .map(|s| (s.name().to_owned(), 0))
        .collect();
    let mut by_month = BTreeMap::new();
    let mut by_destination = BTreeMap::new();
    let mut by_pathway = BTreeMap::new();
    let or_none = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    for l in &readable {
        *by_stage.entry(or_none(&l.stage, "unknown")).or_default() += 1;
        let month = l
            .opened
            .as_deref()
            .and_then(|d| d.get(..7))
            .unwrap_or("unknown")
            .to_owned();
        *by_month.entry(month).or_default() += 1;
        *by_destination
            .entry(or_none(&l.destination, "none yet"))
            .or_default() += 1;
        *by_pathway
            .entry(or_none(&l.pathway, "none yet"))
            .or_default() += 1;
    }
    vec![
        northstar_core::report::suppress("stage", &by_stage, k),
        northstar_core::report::suppress("month opened", &by_month, k),
        northstar_core::report::suppress("destination", &by_destination, k),
        northstar_core::report::suppress("pathway", &by_pathway, k),
    ]
}

/// The current fields of a compartment of a case, or a refusal naming it
/// when this member cannot read it.
fn readable_fields(
    view: &northstar_client::cases::CaseView,
    compartment: northstar_core::Compartment,
) -> Result<std::collections::BTreeMap<String, String>> {
    view.current_fields(compartment)
        .with_context(|| format!("no access to the {compartment} compartment of this case"))
}

fn country(code: &str) -> Result<String> {
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        bail!("a country is a two-letter code such as CA or DE");
    }
    Ok(code.to_ascii_uppercase())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn rand_u32() -> u32 {
    use rand::RngCore;
    rand::rngs::OsRng.next_u32()
}

fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s % 86400 == 0 => format!("{} day(s)", s / 86400),
        s if s % 3600 == 0 => format!("{} hour(s)", s / 3600),
        s => format!("{s} second(s)"),
    }
}

struct Output {
    json: bool,
}

impl Output {
    fn print(&self, json: serde_json::Value, text: String) {
        if self.json {
            println!("{json}");
        } else {
            println!("{text}");
        }
    }
}

/// The profile and server a client command works with.
struct Context_ {
    profile: Profile,
    server_flag: Option<String>,
    offline: bool,
}

impl Context_ {
    fn new(args: &ClientArgs) -> Result<Self> {
        let dir = match &args.profile {
            Some(p) => p.clone(),
            None => default_profile_dir()?,
        };
        let mut profile = Profile::load(&dir)?;
        if profile.expire_cache_if_stale()? {
            eprintln!(
                "This device's copy of your cases was deleted: it was not unlocked for {} day(s).",
                profile.cache_expiry_days()
            );
        }
        Ok(Context_ {
            profile,
            server_flag: args.server.clone(),
            offline: args.offline,
        })
    }

    fn server(&self) -> Result<String> {
        Ok(self.profile.server(self.server_flag.as_deref())?)
    }

    fn username(&self) -> Result<String> {
        self.profile
            .data
            .username
            .clone()
            .ok_or_else(|| ClientError::NotSignedIn.into())
    }

    /// Sign in and unlock the keys (every command that signs or decrypts). An
    /// admin's unlocked client also admits whoever joined with its invitations.
    async fn unlock(&mut self) -> Result<Unlocked> {
        let server = self.server()?;
        let user = self.username()?;
        let passphrase = passphrase()?;
        let unlocked =
            northstar_client::login(&server, &mut self.profile, &user, &passphrase).await?;
        match northstar_client::approve_pending(&unlocked, &mut self.profile).await {
            Ok(approvals) => {
                report_approvals(&approvals);
                // Only an admin gets here: keep the intake desk in order.
                match northstar_client::intake::keep_desk(&unlocked, &mut self.profile).await {
                    Ok(upkeep) => {
                        if upkeep.created {
                            eprintln!(
                                "Opened the help desk: the public page at /help now takes requests."
                            );
                        }
                        if !upkeep.granted.is_empty() {
                            eprintln!(
                                "Gave the intake desk's key to: {}",
                                upkeep.granted.join(", ")
                            );
                        }
                    }
                    Err(e) => eprintln!("warning: the intake desk: {e}"),
                }
            }
            // Not an admin, or not a member yet: nobody to admit.
            Err(e)
                if matches!(
                    e.api_code(),
                    Some(
                        northstar_protocol::ErrorCode::Forbidden
                            | northstar_protocol::ErrorCode::PendingApproval
                    )
                ) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(unlocked)
    }

    /// Unlock online, or, with --offline or when the server cannot be
    /// reached, open this device's copy with the passphrase alone.
    async fn reading(&mut self) -> Result<Reading> {
        if !self.offline {
            match self.unlock().await {
                Ok(unlocked) => return Ok(Reading::Online(Box::new(unlocked))),
                Err(e) => match e.downcast_ref::<ClientError>() {
                    Some(ClientError::Network { .. }) => {
                        eprintln!("{e}\nShowing this device's copy instead.");
                    }
                    _ => return Err(e),
                },
            }
        }
        let passphrase = passphrase()?;
        let keys = northstar_client::unlock_offline(&mut self.profile, &passphrase)?;
        Ok(Reading::Offline(
            northstar_client::sync::LocalCache::open(self.profile.dir(), &keys.root, keys.account)
                .await?,
        ))
    }

    /// Every case and safe house this member can read: synced when the
    /// server answers, else from this device's copy. A member not yet
    /// admitted holds nothing, and is told why on standard error.
    async fn listings(&mut self) -> Result<Vec<northstar_client::sync::Listing>> {
        match self.reading().await? {
            Reading::Online(unlocked) => {
                match northstar_client::cases::list_cases(&unlocked, &mut self.profile).await {
                    Ok((listings, report)) => {
                        for (case, e) in &report.refused {
                            eprintln!(
                                "Warning: case {} failed verification and is shown as last verified: {e}",
                                case.to_hex()
                            );
                        }
                        Ok(listings)
                    }
                    Err(e)
                        if e.api_code() == Some(northstar_protocol::ErrorCode::PendingApproval) =>
                    {
                        eprintln!(
                            "You are not admitted yet, so you hold nothing: an admin who invited you \
                             admits you the next time they use Northstar."
                        );
                        Ok(vec![])
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Reading::Offline(cache) => Ok(cache.listings().await?),
        }
    }

    /// Unlock when this member is an admin and a passphrase is at hand (to admit joiners).
    async fn unlock_if_admin(&mut self) -> Result<Option<Unlocked>> {
        let api = self.session().await?;
        let me = api.me().await?;
        if me.role.as_deref() != Some("admin") || !passphrase_available() {
            return Ok(None);
        }
        Ok(Some(self.unlock().await?))
    }

    /// A session for reading: the stored one, or a fresh sign-in.
    async fn session(&mut self) -> Result<northstar_client::Api> {
        let server = self.server()?;
        if let Some(token) = self.profile.live_token() {
            let api = northstar_client::Api::new(&server)?.with_token(Some(token));
            // A session the server ended (logout elsewhere, removal) falls back to signing in,
            // which says why when it cannot.
            match api.me().await {
                Err(e) if e.api_code() == Some(northstar_protocol::ErrorCode::Unauthorized) => {
                    self.profile.data.session_token = None;
                    self.profile.save()?;
                }
                _ => return Ok(api),
            }
        }
        if !passphrase_available() {
            return Err(ClientError::NotSignedIn.into());
        }
        Ok(self.unlock().await?.api)
    }
}

fn default_profile_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("set --profile or NORTHSTAR_PROFILE (no HOME)")?;
    Ok(PathBuf::from(home).join(".northstar"))
}

fn passphrase_available() -> bool {
    std::env::var_os("NORTHSTAR_PASSPHRASE").is_some()
        || std::io::IsTerminal::is_terminal(&std::io::stdin())
}

/// The passphrase from NORTHSTAR_PASSPHRASE (for scripts) or the terminal.
fn passphrase() -> Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var("NORTHSTAR_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!("no passphrase: set NORTHSTAR_PASSPHRASE or run in a terminal");
    }
    Ok(Zeroizing::new(rpassword::prompt_password("Passphrase: ")?))
}

/// A new passphrase: asked twice at the terminal; at least 12 characters.
fn new_passphrase() -> Result<Zeroizing<String>> {
    let first = passphrase()?;
    if std::env::var_os("NORTHSTAR_PASSPHRASE").is_none() {
        let again = Zeroizing::new(rpassword::prompt_password("Passphrase again: ")?);
        if *again != *first {
            bail!("the two passphrases differ");
        }
    }
    if first.chars().count() < 12 {
        bail!(
            "choose a passphrase of at least 12 characters (several words are easiest to remember)"
        );
    }
    Ok(first)
}

async fn serve(args: ServeArgs) -> Result<()> {
    init_logging();
    let config = northstar_server::Config {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        seal_key_file: args.seal_key_file.clone(),
        intake: northstar_server::IntakeSettings {
            pow_bits: args.intake_pow_bits,
            requests_per_second: args.intake_rate,
        },
    };
    let state = northstar_server::prepare(&config).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let database = if args.database_url.is_some() {
        "PostgreSQL".to_owned()
    } else {
        format!("SQLite in {}", args.data_dir.display())
    };
    println!("Northstar is serving on http://{addr} ({database}). Stop it with Ctrl-C.");
    tracing::info!(%addr, "listening");
    northstar_server::run(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("NORTHSTAR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Open a case with its summary and the deadline tasks of its priority.
async fn new_case(
    unlocked: &northstar_client::Unlocked,
    profile: &mut northstar_client::Profile,
    alias: &str,
    priority: &str,
    country: Option<&str>,
) -> Result<northstar_crypto::ObjectId> {
    use northstar_client::cases;
    if !["emergency", "urgent", "normal"].contains(&priority) {
        bail!("priority must be emergency, urgent or normal");
    }
    if alias.trim().is_empty() || alias.len() > 200 {
        bail!("an alias is 1 to 200 characters");
    }
    let mut summary = BTreeMap::from([
        ("alias".to_owned(), alias.to_owned()),
        ("priority".to_owned(), priority.to_owned()),
        (
            "opened".to_owned(),
            northstar_core::time::format_utc(now())[..10].to_owned(),
        ),
    ]);
    if let Some(c) = country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            bail!("country must be a two-letter code such as RU or CA");
        }
        summary.insert("country".to_owned(), c.to_ascii_uppercase());
    }
    let id = cases::create_case(unlocked, profile, summary).await?;
    let priority: northstar_core::Priority = priority.parse()?;
    for task in priority.deadline_tasks(now()) {
        cases::workflow_event(unlocked, profile, id, task).await?;
    }
    Ok(id)
}

/// Text from outside (a requester) made safe for a terminal: control
/// characters, escape sequences among them, are shown, not obeyed.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = plain(text).split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

async fn intake_command(command: IntakeCommand, args: &ClientArgs, out: &Output) -> Result<()> {
    use northstar_client::intake::{self, Author};
    if args.offline {
        bail!("the intake queue lives on the server: drop --offline");
    }
    let mut ctx = Context_::new(args)?;
    let unlocked = ctx.unlock().await?;
    let profile = &mut ctx.profile;
    let queue = intake::queue(&unlocked, profile).await?;
    if queue.no_keys && !queue.items.is_empty() {
        eprintln!(
            "You hold no key of the intake desk yet: an admin's next command grants it to intake officers."
        );
    }
    let describe = |m: &intake::OpenedMessage| -> String {
        let when = northstar_core::time::format_utc(m.at);
        match &m.author {
            Author::Requester => {
                let mut lines = vec![format!("[{when}] requester:")];
                for key in ["urgency", "contact", "when", "where", "what"] {
                    if let Some(v) = m.fields.get(key).filter(|v| !v.trim().is_empty()) {
                        lines.push(format!("  {key}: {}", plain(v)));
                    }
                }
                for (k, v) in m.fields.iter().filter(|(k, _)| {
                    !["urgency", "contact", "when", "where", "what", "lang"].contains(&k.as_str())
                }) {
                    lines.push(format!("  {}: {}", plain(k), plain(v)));
                }
                lines.join("\n")
            }
            Author::Staff { name } => {
                let kind = m.fields.get("kind").map(String::as_str).unwrap_or("note");
                let text = m.fields.get("text").map(|t| plain(t)).unwrap_or_default();
                match kind {
                    "reply" => format!("[{when}] {name} replied: {text}"),
                    "dismissed" => format!("[{when}] {name} dismissed it: {text}"),
                    "opened" => format!(
                        "[{when}] {name} opened case {}",
                        m.fields.get("case").map(|c| plain(c)).unwrap_or_default()
                    ),
                    _ => format!("[{when}] {name}: {text}"),
                }
            }
        }
    };
    match command {
        IntakeCommand::List { all } => {
            let items: Vec<&intake::IntakeItem> = queue
                .items
                .iter()
                .filter(|i| all || i.status == "open")
                .collect();
            let rows: Vec<_> = items
                .iter()
                .map(|i| {
                    json!({
                        "id": i.id, "status": i.status, "path": i.path, "referred": i.referred,
                        "created_at": i.created_at, "updated_at": i.updated_at,
                        "urgency": i.first("urgency"), "where": i.first("where"),
                        "what": i.first("what"), "messages": i.messages.len(),
                        "unreadable": i.unreadable,
                    })
                })
                .collect();
            let text = items
                .iter()
                .map(|i| {
                    format!(
                        "{}  {:<9} {:<9} {:<7}{} {}  {}",
                        &i.id[..12],
                        i.status,
                        i.first("urgency").map(plain).unwrap_or_else(|| "?".into()),
                        i.path,
                        if i.referred { " referred" } else { "" },
                        northstar_core::time::format_utc(i.updated_at),
                        one_line(i.first("what").unwrap_or(""), 60),
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(
                json!({"items": rows}),
                if text.is_empty() {
                    "The intake queue is empty.".into()
                } else {
                    text
                },
            );
        }
        IntakeCommand::Show { id } => {
            let item = queue.find(&id)?;
            let mut text = format!(
                "Request {} — {}, came by the {} path{}; opened {}",
                item.id,
                item.status,
                item.path,
                if item.referred {
                    ", referred by a partner"
                } else {
                    ""
                },
                northstar_core::time::format_utc(item.created_at)
            );
            for m in &item.messages {
                text.push('\n');
                text.push_str(&describe(m));
            }
            for why in &item.unreadable {
                text.push_str(&format!("\n(could not open {why})"));
            }
            out.print(serde_json::to_value(item)?, text);
        }
        IntakeCommand::Reply { id, text } => {
            if text.trim().is_empty() || text.chars().count() > 10_000 {
                bail!("a reply is 1 to 10,000 characters");
            }
            let item = queue.find(&id)?;
            intake::add_note(
                &unlocked,
                &queue,
                item,
                BTreeMap::from([("kind", "reply".to_owned()), ("text", text.clone())]),
                Some(&text),
                None,
            )
            .await?;
            out.print(
                json!({"id": item.id, "replied": true}),
                format!(
                    "Replied to {}: only the requester's codename opens it.",
                    item.id
                ),
            );
        }
        IntakeCommand::Dismiss { id, reason } => {
            if reason.trim().is_empty() {
                bail!("say why the request is dismissed (--reason)");
            }
            let item = queue.find(&id)?;
            intake::add_note(
                &unlocked,
                &queue,
                item,
                BTreeMap::from([("kind", "dismissed".to_owned()), ("text", reason)]),
                None,
                Some("dismissed"),
            )
            .await?;
            out.print(
                json!({"id": item.id, "status": "dismissed"}),
                format!("Dismissed {}.", item.id),
            );
        }
        IntakeCommand::OpenCase { id, alias, country } => {
            use northstar_client::cases::{self, RecordBody};
            let item = queue.find(&id)?;
            if item.status == "opened" {
                bail!("a case was opened from {} already", item.id);
            }
            let priority = item
                .first("urgency")
                .filter(|u| ["emergency", "urgent"].contains(u))
                .unwrap_or("normal");
            let alias = alias.unwrap_or_else(|| format!("Intake {}", &item.id[..8]));
            let case = new_case(&unlocked, profile, &alias, priority, country.as_deref()).await?;
            for m in &item.messages {
                cases::append(
                    &unlocked,
                    profile,
                    case,
                    northstar_core::Compartment::Messages,
                    &RecordBody::Note { text: describe(m) },
                )
                .await?;
            }
            intake::add_note(
                &unlocked,
                &queue,
                item,
                BTreeMap::from([("kind", "opened".to_owned()), ("case", case.to_hex())]),
                None,
                Some("opened"),
            )
            .await?;
            out.print(
                json!({"id": item.id, "case_id": case.to_hex(), "alias": alias}),
                format!(
                    "Opened case '{alias}' from request {}, with its {} message(s) in messages: {}",
                    item.id,
                    item.messages.len(),
                    case.to_hex()
                ),
            );
        }
        IntakeCommand::Referral { uses } => {
            if !(1..=10_000).contains(&uses) {
                bail!("--uses is 1 to 10000");
            }
            let code = intake::new_referral(&unlocked, uses).await?;
            out.print(
                json!({"code": code, "uses": uses}),
                format!(
                    "Referral code for {uses} request(s); give it to the partner in person:\n{code}"
                ),
            );
        }
    }
    Ok(())
}

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Northstar: end-to-end encrypted case management for organizations that move people out of danger.
#[derive(Debug, Parser)]
#[command(name = "northstar", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server to talk to, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, env = "NORTHSTAR_SERVER")]
    pub server: Option<String>,
    /// The folder for this member's local state (several members can share a machine).
    #[arg(long, global = true, env = "NORTHSTAR_PROFILE")]
    pub profile: Option<PathBuf>,
    /// Read only this device's encrypted copy; never contact the server.
    #[arg(long, global = true)]
    pub offline: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SQLite under --data-dir unless --database-url is given).
    Serve(ServeArgs),
    /// Organization commands.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Sign in and unlock your keys.
    Login {
        #[arg(long)]
        user: String,
    },
    /// End this profile's session.
    Logout,
    /// Show who this profile is signed in as.
    Whoami,
    /// Invite a new member (admins); prints the code to pass on, in person or over a safe channel.
    Invite {
        /// admin, approver, caseworker, intake, coordinator, partner or auditor.
        #[arg(long)]
        role: String,
        /// How long the code works, in hours.
        #[arg(long, default_value_t = 72)]
        valid_for_hours: i64,
        /// How long the code works, in seconds (overrides --valid-for-hours).
        #[arg(long, hide = true)]
        valid_for_seconds: Option<i64>,
    },
    /// Join an organization with an invitation code.
    Join {
        #[arg(long)]
        invite: String,
        #[arg(long)]
        user: String,
    },
    /// Members of the organization.
    #[command(subcommand)]
    Member(MemberCommand),
    /// End-to-end encrypted cases.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Fetch and verify the membership chain and every case you hold keys for,
    /// into this device's encrypted copy.
    Sync,
    /// End the unlocked state now: the session ends on the server; the next
    /// command asks for the passphrase again. (Keys never outlive a command.)
    Lock,
    /// This device's encrypted copy of your cases.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Tasks across the cases you can read.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Money paid out: totals per case and per month, per currency.
    Money {
        /// Only this month (YYYY-MM).
        #[arg(long)]
        month: Option<String>,
    },
    /// Safe houses: capacity, who is placed there, every move.
    #[command(subcommand)]
    Safehouse(SafehouseCommand),
    /// The intake queue: requests from the public help page (intake officers and admins).
    #[command(subcommand)]
    Intake(IntakeCommand),
    /// Counts by stage, month opened, destination and pathway over the cases
    /// you can read, with every cell below k suppressed.
    Report {
        /// The smallest count shown.
        #[arg(long, default_value_t = 5)]
        k: u64,
        /// Print CSV (dimension,value,count) instead of text.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SafehouseCommand {
    /// Open a safe house; prints its id. The address is sealed in its own compartment.
    New {
        #[arg(long)]
        code_name: String,
        #[arg(long)]
        capacity: u32,
        #[arg(long)]
        address: String,
    },
    /// The safe houses you can see, with places taken.
    List,
    /// A safe house: capacity, who is there, every move in and out.
    Show { id: String },
    /// Place a case in a safe house (recorded in both; refused when full).
    Place {
        id: String,
        #[arg(long)]
        case: String,
    },
    /// A case leaves a safe house.
    Release {
        id: String,
        #[arg(long)]
        case: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// Requests, most recent activity first (open ones only, unless --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// One request and everything said since, as plain text.
    Show { id: String },
    /// Answer the requester: only their codename opens the answer.
    Reply { id: String, text: String },
    /// Open a case from a request and copy the conversation into its messages; prints the case id.
    OpenCase {
        id: String,
        #[arg(long)]
        alias: Option<String>,
        #[arg(long)]
        country: Option<String>,
    },
    /// Close a request without a case.
    Dismiss {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// A referral code for a partner to hand out: requests with it skip the proof of work.
    Referral {
        #[arg(long, default_value_t = 1)]
        uses: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Open tasks, overdue first, then by due time.
    List {
        /// Only the overdue ones.
        #[arg(long)]
        overdue: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Where the copy is, how many cases it holds, when it expires.
    Status,
    /// Delete the copy and the device's offline unlock now.
    Clear,
    /// Delete the copy after this many days without an unlock (default 14).
    ExpireAfter { days: u32 },
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a new case; prints its id.
    New {
        #[arg(long)]
        alias: String,
        /// emergency, urgent or normal.
        #[arg(long, default_value = "normal")]
        priority: String,
        /// The country the person is in now (ISO 3166 alpha-2, e.g. RU).
        #[arg(long)]
        country: Option<String>,
    },
    /// The cases you hold keys for.
    List,
    /// Every compartment you can read (and which you cannot).
    Show { id: String },
    /// Set fields: COMPARTMENT.FIELD=VALUE …
    Set {
        id: String,
        #[arg(required = true, num_args = 1..)]
        assignments: Vec<String>,
    },
    /// Add a note to a compartment.
    Note {
        id: String,
        #[arg(long)]
        compartment: String,
        text: String,
    },
    /// Every entry of the case, with its author; sealed where you have no key.
    History { id: String },
    /// Grant compartments to another member.
    Share {
        id: String,
        #[arg(long)]
        with: String,
        /// Comma-separated compartments, e.g. logistics,travel.
        #[arg(long, value_delimiter = ',', required = true)]
        compartment: Vec<String>,
    },
    /// Find cases whose readable fields or notes contain TEXT (case-insensitive).
    Search { text: String },
    /// Write an age file, openable with the `age` tool, holding every compartment you can read as JSON.
    Export {
        id: String,
        /// An age X25519 recipient (age1…); repeat for several.
        #[arg(long = "to", required = true)]
        to: Vec<String>,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Move the case to another stage (the next one, or declined, withdrawn, closed).
    Advance {
        id: String,
        /// intake, screening, verification, accepted, protection, pathway, departure,
        /// arrival, resettlement, closed, declined or withdrawn.
        stage: String,
        /// Why (needed to close or decline).
        #[arg(long)]
        reason: Option<String>,
        /// Where a declined requester was referred instead.
        #[arg(long)]
        referral: Option<String>,
    },
    /// Record the verification verdict (the reasoning goes to the story compartment).
    Verdict {
        id: String,
        /// credible or not-credible.
        #[arg(long)]
        result: String,
        #[arg(long)]
        reason: String,
    },
    /// Sign off acceptance: two different members, the second an approver.
    Approve { id: String },
    /// Raise (or with --clear, clear) a flag: lost-contact, on-hold, threat-reported.
    Flag {
        id: String,
        flag: String,
        #[arg(long)]
        clear: bool,
    },
    /// Add a document to the departure checklist, or with --done mark it done.
    Document {
        id: String,
        name: String,
        #[arg(long)]
        done: bool,
        /// The pathway whose checklist it is on (departure needs every one complete).
        #[arg(long)]
        pathway: Option<u32>,
    },
    /// Add a legal pathway out: its kind and destination country; prints its number.
    Pathway {
        id: String,
        /// humanitarian-visa, temporary-resident-permit, unhcr-referral,
        /// sponsorship, visa-free or other.
        #[arg(long)]
        kind: String,
        /// The destination country (ISO 3166 alpha-2, e.g. CA).
        #[arg(long)]
        to: String,
    },
    /// Record a government step of a pathway: submitted, interview, security-check,
    /// medical-check, decision, issued or expiry (expiry raises a task).
    Step {
        id: String,
        pathway: u32,
        step: String,
        /// The day (YYYY-MM-DD).
        #[arg(long)]
        on: String,
    },
    /// Add a leg of the journey with the time its check-in is due; prints its number.
    #[command(alias = "travel")]
    Leg {
        id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// +2h, +7d, 2026-12-01 or 2026-12-01T14:30 (UTC).
        #[arg(long)]
        depart: String,
        #[arg(long)]
        checkin_by: String,
    },
    /// The person checked in after a leg.
    Checkin { id: String, leg: u32 },
    /// Record a disbursement (in the finance compartment); prints its number.
    Pay {
        id: String,
        /// e.g. 120 or 120.50.
        #[arg(long)]
        amount: String,
        /// ISO 4217, e.g. EUR.
        #[arg(long)]
        currency: String,
        #[arg(long)]
        purpose: String,
        /// The receipt's reference.
        #[arg(long)]
        receipt: Option<String>,
        /// The day paid (YYYY-MM-DD; default today).
        #[arg(long)]
        on: Option<String>,
    },
    /// Record (or withdraw) the person's consent to share fields with one recipient.
    Consent {
        id: String,
        /// The recipient's age key (age1…): consent names exactly who can open the package.
        #[arg(long = "for")]
        recipient: String,
        /// Comma-separated COMPARTMENT.FIELD, e.g. identity.legal_name,travel.pathway.1.kind.
        #[arg(long, value_delimiter = ',', required = true)]
        fields: Vec<String>,
        /// A name for the recipient, shown on the package.
        #[arg(long)]
        label: Option<String>,
        /// Withdraw consent for these fields instead.
        #[arg(long)]
        withdraw: bool,
    },
    /// Build a referral package: an age file, for the recipient's key only, holding
    /// the consented fields as JSON and a printable PDF summary. Refused without consent.
    Package {
        id: String,
        #[arg(long = "for")]
        recipient: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Add a task with a due time; prints its id.
    Task {
        id: String,
        title: String,
        /// +2h, +7d, 2026-12-01 or 2026-12-01T14:30 (UTC).
        #[arg(long)]
        due: String,
    },
    /// Mark a task done.
    TaskDone { id: String, task: String },
    /// Take compartments away from a member: their keys are rotated.
    Unshare {
        id: String,
        #[arg(long)]
        with: String,
        /// Only these compartments (default: every one they hold).
        #[arg(long, value_delimiter = ',')]
        compartment: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the SQLite database and the server's seal key live.
    #[arg(long, default_value = "./northstar-data", env = "NORTHSTAR_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "NORTHSTAR_LISTEN")]
    pub listen: SocketAddr,
    /// postgres://… to use PostgreSQL (several servers may share it).
    #[arg(long, env = "NORTHSTAR_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The key sealing the server's own secrets; every server on one database needs the same.
    #[arg(long, env = "NORTHSTAR_SEAL_KEY_FILE")]
    pub seal_key_file: Option<PathBuf>,
    /// Leading zero bits of the help page's proof of work (17 ≈ a second on a phone).
    #[arg(long, default_value_t = 17, value_parser = clap::value_parser!(u8).range(0..=28), env = "NORTHSTAR_INTAKE_POW_BITS")]
    pub intake_pow_bits: u8,
    /// New help requests accepted per second overall, after a burst of ten times as many.
    #[arg(long, default_value_t = 20.0, env = "NORTHSTAR_INTAKE_RATE")]
    pub intake_rate: f64,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create the organization on a new server; you become its first admin.
    Init {
        #[arg(long)]
        org: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List the members, verified from the pinned organization root.
    List,
    /// Compare a member's fingerprint words (read out in person or on video).
    Verify {
        name: String,
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
    },
    /// Remove a member (admins): their sessions end at once.
    Remove { name: String },
}

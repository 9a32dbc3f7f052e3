//! The PostgreSQL backend of the Northstar store, for organizations that run
//! several stateless servers on one database.
//!
//! Concurrency: transactions run at PostgreSQL's default READ COMMITTED level,
//! and every read-check-write first locks the row it decides on, so racing
//! servers take turns exactly where it matters:
//!
//! - joining locks the invitation (`SELECT … FOR UPDATE`), so of racing joins
//!   with one invitation the second sees it used;
//! - appending to the membership chain locks the organization's one row, so
//!   racing appends at one position serialize and the second sees `Conflict`;
//! - appending to a case's chain locks the case's row, so racing appends at
//!   one position serialize and the second sees `Conflict`; changing a
//!   case's grants locks the same row, so shares and unshares of one case
//!   take turns too;
//! - creating a session share-locks the account, so it cannot slip past a
//!   racing removal (which updates that row, then deletes the sessions);
//! - unique constraints settle the rest (one organization, unique usernames
//!   and ids), the loser waiting for the winner's commit and then failing.
//!
//! A transaction that PostgreSQL aborts as a deadlock or serialization failure
//! is retried from the start, a few times.
//!
//! Migrations run at `connect`; sqlx's migrator holds an advisory lock while
//! it runs, so servers starting together apply each migration once.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use northstar_store::{
    AccountRow, AccountStatus, CaseBundle, CaseEntryRow, CaseRow, ConversationRow, GrantRow, Id,
    IntakeBlobRow, IntakeDeskRow, IntakeThread, InviteRow, MAX_INTAKE_THREADS, MembershipEffect,
    OrgRow, RotationRow, SessionRow, Store, StoreError, Time,
};
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

/// Connections per server process.
const MAX_CONNECTIONS: u32 = 16;

/// How often a transaction aborted by a deadlock or serialization failure is
/// tried again before the error is returned.
const MAX_RETRIES: u32 = 5;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to the database at `url` (`postgres://user:password@host/db`;
    /// unset parts come from the standard `PG*` environment variables) and
    /// bring its schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await
            .map_err(|e| sql("connecting to PostgreSQL", &e).into_store())?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating the database: {e}")))?;
        Ok(PostgresStore { pool })
    }

    /// Close every connection, waiting for running calls to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self, what: &'static str) -> Result<Transaction<'static, Postgres>, Failed> {
        self.pool.begin().await.map_err(|e| sql(what, &e))
    }
}

// ---------------------------------------------------------------------------
// Errors

/// Why a step failed: for good, or in a way that trying again may fix.
enum Failed {
    Store(StoreError),
    Retry(String),
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

impl Failed {
    fn into_store(self) -> StoreError {
        match self {
            Failed::Store(e) => e,
            Failed::Retry(message) => StoreError::Backend(message),
        }
    }
}

/// Run `$self.$method(args)` (a transaction returning `Result<_, Failed>`)
/// again while PostgreSQL aborts it as a deadlock or serialization failure.
macro_rules! retrying {
    ($self:ident . $method:ident ( $($arg:expr),* $(,)? )) => {{
        let mut retries = 0;
        loop {
            match $self.$method($($arg),*).await {
                Err(Failed::Retry(_)) if retries < MAX_RETRIES => retries += 1,
                other => break other.map_err(Failed::into_store),
            }
        }
    }};
}

/// Describe a database error with PostgreSQL's primary message and code only:
/// the DETAIL, which can quote key values, is left out, so blob contents never
/// appear.
fn sql(what: &str, e: &sqlx::Error) -> Failed {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let message = format!(
                "{what}: {} (code {})",
                db.message(),
                code.as_deref().unwrap_or("none")
            );
            // 40001 serialization_failure, 40P01 deadlock_detected.
            if matches!(code.as_deref(), Some("40001" | "40P01")) {
                Failed::Retry(message)
            } else {
                Failed::Store(StoreError::Backend(message))
            }
        }
        other => Failed::Store(StoreError::Backend(format!("{what}: {other}"))),
    }
}

/// Map a failed insert: a unique clash becomes `on_unique`, a missing
/// referenced row `NotFound`.
fn insert_failed(what: &str, e: &sqlx::Error, on_unique: StoreError) -> Failed {
    match e.as_database_error().map(|d| d.kind()) {
        Some(ErrorKind::UniqueViolation) => Failed::Store(on_unique),
        Some(ErrorKind::ForeignKeyViolation) => Failed::Store(StoreError::NotFound),
        _ => sql(what, e),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

// ---------------------------------------------------------------------------
// Rows

fn id_from(v: Vec<u8>, what: &str) -> Result<Id, StoreError> {
    v.try_into().map_err(|_| corrupt(what))
}

fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(col)
        .map_err(|e| StoreError::Backend(format!("reading column {col}: {e}")))
}

macro_rules! select_account {
    ($tail:literal) => {
        concat!(
            "SELECT account_id, username, opaque_record, slot, keybox, org_root_box, \
             signing_key, agreement_key, role, status, invite_id, join_proof, created_at \
             FROM accounts ",
            $tail
        )
    };
}

macro_rules! select_invite {
    ($tail:literal) => {
        concat!(
            "SELECT invite_id, role, created_by, created_at, expires_at, used_by, used_at, \
             sealed_secret FROM invites ",
            $tail
        )
    };
}

fn account_from(row: &PgRow) -> Result<AccountRow, StoreError> {
    let status: String = get(row, "status")?;
    Ok(AccountRow {
        account_id: id_from(get(row, "account_id")?, "account id")?,
        username: get(row, "username")?,
        opaque_record: get(row, "opaque_record")?,
        slot: get(row, "slot")?,
        keybox: get(row, "keybox")?,
        org_root_box: get(row, "org_root_box")?,
        signing_key: get(row, "signing_key")?,
        agreement_key: get(row, "agreement_key")?,
        role: get(row, "role")?,
        status: AccountStatus::parse(&status).ok_or_else(|| corrupt("account status"))?,
        invite_id: get::<Option<Vec<u8>>>(row, "invite_id")?
            .map(|v| id_from(v, "account invite id"))
            .transpose()?,
        join_proof: get(row, "join_proof")?,
        created_at: get(row, "created_at")?,
    })
}

fn invite_from(row: &PgRow) -> Result<InviteRow, StoreError> {
    Ok(InviteRow {
        invite_id: id_from(get(row, "invite_id")?, "invite id")?,
        role: get(row, "role")?,
        created_by: id_from(get(row, "created_by")?, "invite creator")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        used_by: get::<Option<Vec<u8>>>(row, "used_by")?
            .map(|v| id_from(v, "invite user"))
            .transpose()?,
        used_at: get(row, "used_at")?,
        sealed_secret: get(row, "sealed_secret")?,
    })
}

fn session_from(row: &PgRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        token_hash: get::<Vec<u8>>(row, "token_hash")?
            .try_into()
            .map_err(|_| corrupt("token hash"))?,
        account_id: id_from(get(row, "account_id")?, "session account")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
    })
}

/// Whether an invitation can be used at `now`.
fn usable(invite: InviteRow, now: Time) -> Result<InviteRow, StoreError> {
    if invite.used_by.is_some() || invite.used_at.is_some() {
        Err(StoreError::InviteUsed)
    } else if now >= invite.expires_at {
        Err(StoreError::InviteExpired)
    } else {
        Ok(invite)
    }
}

// ---------------------------------------------------------------------------
// Steps inside a transaction

async fn insert_account(conn: &mut PgConnection, a: &AccountRow) -> Result<(), Failed> {
    const WHAT: &str = "inserting an account";
    // A committed clash is found here; an uncommitted one makes the insert
    // wait for its transaction and then fail on the constraint.
    let id_taken = sqlx::query("SELECT 1 FROM accounts WHERE account_id = $1")
        .bind(&a.account_id[..])
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| sql(WHAT, &e))?;
    if id_taken.is_some() {
        return Err(StoreError::AccountExists.into());
    }
    let name_taken = sqlx::query("SELECT 1 FROM accounts WHERE username = $1")
        .bind(&a.username)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| sql(WHAT, &e))?;
    if name_taken.is_some() {
        return Err(StoreError::UsernameTaken.into());
    }
    sqlx::query(
        "INSERT INTO accounts (account_id, username, opaque_record, slot, keybox, org_root_box, \
         signing_key, agreement_key, role, status, invite_id, join_proof, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&a.account_id[..])
    .bind(&a.username)
    .bind(&a.opaque_record)
    .bind(&a.slot)
    .bind(&a.keybox)
    .bind(&a.org_root_box)
    .bind(&a.signing_key)
    .bind(&a.agreement_key)
    .bind(&a.role)
    .bind(a.status.as_str())
    .bind(a.invite_id.as_ref().map(|i| &i[..]))
    .bind(&a.join_proof)
    .bind(a.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        let constraint = e.as_database_error().and_then(|d| d.constraint());
        let clash = if constraint == Some("accounts_username_key") {
            StoreError::UsernameTaken
        } else {
            StoreError::AccountExists
        };
        insert_failed(WHAT, &e, clash)
    })?;
    Ok(())
}

async fn insert_link(conn: &mut PgConnection, seq: u64, link: &[u8]) -> Result<(), Failed> {
    let seq = i64::try_from(seq).map_err(|_| corrupt("chain position out of range"))?;
    sqlx::query("INSERT INTO membership_links (seq, link) VALUES ($1, $2)")
        .bind(seq)
        .bind(link)
        .execute(&mut *conn)
        .await
        .map_err(|e| sql("appending a membership link", &e))?;
    Ok(())
}

async fn apply_effect(conn: &mut PgConnection, effect: &MembershipEffect) -> Result<(), Failed> {
    const WHAT: &str = "applying a membership link";
    let (query, account_id) = match effect {
        MembershipEffect::None => return Ok(()),
        MembershipEffect::Activate { account_id, role } => (
            sqlx::query("UPDATE accounts SET status = 'active', role = $1 WHERE account_id = $2")
                .bind(role)
                .bind(&account_id[..]),
            account_id,
        ),
        MembershipEffect::ChangeRole { account_id, role } => (
            sqlx::query("UPDATE accounts SET role = $1 WHERE account_id = $2")
                .bind(role)
                .bind(&account_id[..]),
            account_id,
        ),
        MembershipEffect::Remove { account_id } => (
            sqlx::query("UPDATE accounts SET status = 'removed' WHERE account_id = $1")
                .bind(&account_id[..]),
            account_id,
        ),
    };
    let changed = query
        .execute(&mut *conn)
        .await
        .map_err(|e| sql(WHAT, &e))?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound.into());
    }
    if let MembershipEffect::Remove { .. } = effect {
        // A new statement sees every session committed before the UPDATE
        // above got the account's row lock.
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(&account_id[..])
            .execute(&mut *conn)
            .await
            .map_err(|e| sql(WHAT, &e))?;
    }
    Ok(())
}

async fn commit(tx: Transaction<'static, Postgres>, what: &str) -> Result<(), Failed> {
    tx.commit().await.map_err(|e| sql(what, &e))
}

// ---------------------------------------------------------------------------
// Cases

macro_rules! select_conversation {
    () => {
        "SELECT conversation_id, access_hash, reply_public, path, referred, status, created_at, \
         updated_at FROM intake_conversations"
    };
}

fn conversation_from(row: &PgRow) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        conversation_id: id_from(get(row, "conversation_id")?, "conversation id")?,
        access_hash: get::<Vec<u8>>(row, "access_hash")?
            .try_into()
            .map_err(|_| corrupt("access hash"))?,
        reply_public: get(row, "reply_public")?,
        path: get(row, "path")?,
        referred: get::<bool>(row, "referred")?,
        status: get(row, "status")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// Fill in the entries and replies of `conversations`, read with `filter`
/// (bound to the single conversation's id, or to `limit`) in the same transaction.
async fn intake_blobs_into(
    tx: &mut Transaction<'static, Postgres>,
    conversations: Vec<ConversationRow>,
    filter: &str,
    limit: Option<i64>,
) -> Result<Vec<IntakeThread>, StoreError> {
    const WHAT: &str = "reading intake messages";
    let mut tables = vec![];
    for table in ["intake_entries", "intake_replies"] {
        let statement = format!(
            "SELECT conversation_id, seq, sealed, created_at FROM {table} {filter} \
             ORDER BY conversation_id, seq"
        );
        // `table` and `filter` are constants of this file, never input.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
        query = match (limit, conversations.first()) {
            (Some(limit), _) => query.bind(limit),
            (None, Some(only)) => query.bind(only.conversation_id.to_vec()),
            (None, None) => return Ok(vec![]),
        };
        let rows = query
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?
            .iter()
            .map(|row| {
                Ok((
                    id_from(get(row, "conversation_id")?, "conversation id")?,
                    IntakeBlobRow {
                        seq: u32::try_from(get::<i64>(row, "seq")?)
                            .map_err(|_| corrupt("intake seq"))?,
                        sealed: get(row, "sealed")?,
                        created_at: get(row, "created_at")?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tables.push(rows);
    }
    let replies = tables.pop().unwrap_or_default();
    let entries = tables.pop().unwrap_or_default();
    Ok(IntakeThread::assemble(conversations, entries, replies))
}

macro_rules! select_case {
    ($tail:literal) => {
        concat!(
            "SELECT case_id, created_by, created_at, len, head_hash, keys_version FROM cases ",
            $tail
        )
    };
}

macro_rules! select_entry {
    ($tail:literal) => {
        concat!(
            "SELECT case_id, seq, compartment, record_id, generation, entry, wrap, created_at \
             FROM case_entries ",
            $tail
        )
    };
}

macro_rules! select_grant {
    ($tail:literal) => {
        concat!(
            "SELECT case_id, compartment, generation, recipient, granted_by, sealed_grant, \
             created_at FROM grants ",
            $tail
        )
    };
}

macro_rules! select_rotation {
    ($tail:literal) => {
        concat!(
            "SELECT case_id, compartment, new_generation, link, created_at FROM rotations ",
            $tail
        )
    };
}

fn to_seq(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt("negative chain position"))
}

fn compartment_from(v: i16) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| corrupt("compartment out of range"))
}

fn generation_from(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt("generation out of range"))
}

fn case_from(row: &PgRow) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        case_id: id_from(get(row, "case_id")?, "case id")?,
        created_by: id_from(get(row, "created_by")?, "case creator")?,
        created_at: get(row, "created_at")?,
        len: to_seq(get(row, "len")?)?,
        head_hash: get::<Vec<u8>>(row, "head_hash")?
            .try_into()
            .map_err(|_| corrupt("head hash"))?,
        keys_version: to_seq(get(row, "keys_version")?)?,
    })
}

fn entry_from(row: &PgRow) -> Result<CaseEntryRow, StoreError> {
    Ok(CaseEntryRow {
        case_id: id_from(get(row, "case_id")?, "entry case id")?,
        seq: to_seq(get(row, "seq")?)?,
        compartment: compartment_from(get(row, "compartment")?)?,
        record_id: id_from(get(row, "record_id")?, "record id")?,
        generation: generation_from(get(row, "generation")?)?,
        entry: get(row, "entry")?,
        wrap: get(row, "wrap")?,
        created_at: get(row, "created_at")?,
    })
}

fn grant_from(row: &PgRow) -> Result<GrantRow, StoreError> {
    Ok(GrantRow {
        case_id: id_from(get(row, "case_id")?, "grant case id")?,
        compartment: compartment_from(get(row, "compartment")?)?,
        generation: generation_from(get(row, "generation")?)?,
        recipient: id_from(get(row, "recipient")?, "grant recipient")?,
        granted_by: id_from(get(row, "granted_by")?, "grant giver")?,
        grant: get(row, "sealed_grant")?,
        created_at: get(row, "created_at")?,
    })
}

fn rotation_from(row: &PgRow) -> Result<RotationRow, StoreError> {
    Ok(RotationRow {
        case_id: id_from(get(row, "case_id")?, "rotation case id")?,
        compartment: compartment_from(get(row, "compartment")?)?,
        new_generation: generation_from(get(row, "new_generation")?)?,
        link: get(row, "link")?,
        created_at: get(row, "created_at")?,
    })
}

/// Refuse grants or rotations that name another case than the call: storing
/// them would change a case the call neither checked nor locked.
fn all_of_case(
    case_id: &Id,
    grants: &[GrantRow],
    rotations: &[RotationRow],
) -> Result<(), StoreError> {
    if grants.iter().any(|g| &g.case_id != case_id)
        || rotations.iter().any(|r| &r.case_id != case_id)
    {
        return Err(StoreError::Backend(
            "a grant or rotation names another case than the call".into(),
        ));
    }
    Ok(())
}

async fn insert_grant(conn: &mut PgConnection, g: &GrantRow) -> Result<(), Failed> {
    // A clash with an uncommitted grant waits for its transaction, then fails
    // on the primary key (or succeeds, if that transaction rolled back).
    sqlx::query(
        "INSERT INTO grants (case_id, compartment, generation, recipient, granted_by, \
         sealed_grant, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&g.case_id[..])
    .bind(i16::from(g.compartment))
    .bind(i64::from(g.generation))
    .bind(&g.recipient[..])
    .bind(&g.granted_by[..])
    .bind(&g.grant)
    .bind(g.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| insert_failed("storing a grant", &e, StoreError::Duplicate))?;
    Ok(())
}

async fn insert_rotation(conn: &mut PgConnection, r: &RotationRow) -> Result<(), Failed> {
    sqlx::query(
        "INSERT INTO rotations (case_id, compartment, new_generation, link, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&r.case_id[..])
    .bind(i16::from(r.compartment))
    .bind(i64::from(r.new_generation))
    .bind(&r.link)
    .bind(r.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| insert_failed("storing a rotation link", &e, StoreError::Duplicate))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Transactions, each tried again by `retrying!`

impl PostgresStore {
    async fn try_create_org(
        &self,
        org: &OrgRow,
        founder: &AccountRow,
        links: &[Vec<u8>],
    ) -> Result<(), Failed> {
        const WHAT: &str = "creating the organization";
        let mut tx = self.begin(WHAT).await?;
        let exists = sqlx::query("SELECT 1 FROM org")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?;
        if exists.is_some() {
            return Err(StoreError::OrgExists.into());
        }
        // A racing creator waits here for the first one's commit, then clashes.
        sqlx::query(
            "INSERT INTO org (singleton, org_id, name, root_public_key, created_at) \
             VALUES (1, $1, $2, $3, $4)",
        )
        .bind(&org.org_id[..])
        .bind(&org.name)
        .bind(&org.root_public_key)
        .bind(org.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_failed(WHAT, &e, StoreError::OrgExists))?;
        insert_account(&mut tx, founder).await?;
        for (seq, link) in (0u64..).zip(links) {
            insert_link(&mut tx, seq, link).await?;
        }
        commit(tx, WHAT).await
    }

    async fn try_join(
        &self,
        invite_id: &Id,
        account: &AccountRow,
        now: Time,
    ) -> Result<(), Failed> {
        const WHAT: &str = "joining with an invitation";
        let mut tx = self.begin(WHAT).await?;
        let row = sqlx::query(select_invite!("WHERE invite_id = $1 FOR UPDATE"))
            .bind(&invite_id[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?
            .ok_or(StoreError::InviteNotFound)?;
        usable(invite_from(&row)?, now)?;
        insert_account(&mut tx, account).await?;
        sqlx::query("UPDATE invites SET used_by = $1, used_at = $2 WHERE invite_id = $3")
            .bind(&account.account_id[..])
            .bind(now)
            .bind(&invite_id[..])
            .execute(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?;
        commit(tx, WHAT).await
    }

    async fn try_append(
        &self,
        seq: u64,
        link: &[u8],
        effect: &MembershipEffect,
    ) -> Result<(), Failed> {
        const WHAT: &str = "appending a membership link";
        let mut tx = self.begin(WHAT).await?;
        // The organization's row is the chain's lock.
        let org = sqlx::query("SELECT 1 FROM org FOR UPDATE")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?;
        if org.is_none() {
            return Err(StoreError::OrgMissing.into());
        }
        let row = sqlx::query("SELECT COALESCE(MAX(seq) + 1, 0) AS len FROM membership_links")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?;
        let actual = u64::try_from(get::<i64>(&row, "len")?)
            .map_err(|_| corrupt("negative chain position"))?;
        if seq != actual {
            return Err(StoreError::Conflict {
                expected: seq,
                actual,
            }
            .into());
        }
        insert_link(&mut tx, seq, link).await?;
        apply_effect(&mut tx, effect).await?;
        commit(tx, WHAT).await
    }

    async fn try_create_session(&self, session: &SessionRow) -> Result<(), Failed> {
        const WHAT: &str = "creating a session";
        let mut tx = self.begin(WHAT).await?;
        // FOR SHARE waits for a racing removal and then reads its result.
        let status: Option<String> =
            sqlx::query("SELECT status FROM accounts WHERE account_id = $1 FOR SHARE")
                .bind(&session.account_id[..])
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| sql(WHAT, &e))?
                .map(|row| get(&row, "status"))
                .transpose()?;
        match status.as_deref().and_then(AccountStatus::parse) {
            None | Some(AccountStatus::Removed) => return Err(StoreError::NotFound.into()),
            Some(AccountStatus::Pending | AccountStatus::Active) => {}
        }
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.token_hash[..])
        .bind(&session.account_id[..])
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_failed(WHAT, &e, StoreError::Duplicate))?;
        commit(tx, WHAT).await
    }

    async fn try_purge(&self, now: Time) -> Result<u64, Failed> {
        const WHAT: &str = "purging expired sessions";
        let mut tx = self.begin(WHAT).await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?
            .rows_affected();
        let logins = sqlx::query("DELETE FROM login_states WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?
            .rows_affected();
        commit(tx, WHAT).await?;
        Ok(sessions + logins)
    }

    async fn try_create_case(&self, case: &CaseRow, grants: &[GrantRow]) -> Result<(), Failed> {
        const WHAT: &str = "creating a case";
        let mut tx = self.begin(WHAT).await?;
        // A racing creator of the same id waits here for the first one's
        // commit, then clashes on the primary key.
        sqlx::query(
            "INSERT INTO cases (case_id, created_by, created_at, len, head_hash) \
             VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(&case.case_id[..])
        .bind(&case.created_by[..])
        .bind(case.created_at)
        .bind(&case.head_hash[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_failed(WHAT, &e, StoreError::Duplicate))?;
        for grant in grants {
            insert_grant(&mut tx, grant).await?;
        }
        commit(tx, WHAT).await
    }

    async fn try_append_case_entry(
        &self,
        entry: &CaseEntryRow,
        new_head_hash: &[u8; 32],
    ) -> Result<(), Failed> {
        const WHAT: &str = "appending a case entry";
        let mut tx = self.begin(WHAT).await?;
        // The case's row is its chain's lock: a racing append waits here and
        // then reads the winner's length.
        let row = sqlx::query("SELECT len FROM cases WHERE case_id = $1 FOR UPDATE")
            .bind(&entry.case_id[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?
            .ok_or(StoreError::NotFound)?;
        let actual = to_seq(get(&row, "len")?)?;
        if entry.seq != actual {
            return Err(StoreError::Conflict {
                expected: entry.seq,
                actual,
            }
            .into());
        }
        let seq = i64::try_from(entry.seq).map_err(|_| corrupt("chain position out of range"))?;
        sqlx::query(
            "INSERT INTO case_entries (case_id, seq, compartment, record_id, generation, entry, \
             wrap, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&entry.case_id[..])
        .bind(seq)
        .bind(i16::from(entry.compartment))
        .bind(&entry.record_id[..])
        .bind(i64::from(entry.generation))
        .bind(&entry.entry)
        .bind(&entry.wrap)
        .bind(entry.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e))?;
        let moved = sqlx::query(
            "UPDATE cases SET len = len + 1, head_hash = $1 WHERE case_id = $2 AND len = $3",
        )
        .bind(&new_head_hash[..])
        .bind(&entry.case_id[..])
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e))?
        .rows_affected();
        if moved != 1 {
            return Err(
                StoreError::Backend(format!("{WHAT}: the chain moved during the append")).into(),
            );
        }
        commit(tx, WHAT).await
    }

    async fn try_put_grants(
        &self,
        case_id: &Id,
        grants: &[GrantRow],
        rotations: &[RotationRow],
        revoke: &[(Id, u8)],
    ) -> Result<(), Failed> {
        const WHAT: &str = "changing grants";
        let mut tx = self.begin(WHAT).await?;
        // One change to a case's grants at a time (the update locks the row),
        // and every change moves the case's keys version.
        let case = sqlx::query(
            "UPDATE cases SET keys_version = keys_version + 1 WHERE case_id = $1 RETURNING 1",
        )
        .bind(&case_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e))?;
        if case.is_none() {
            return Err(StoreError::NotFound.into());
        }
        // Inserts first, so `Duplicate` is judged against the grants that
        // existed before the call; revocations last, so they always hold.
        for grant in grants {
            insert_grant(&mut tx, grant).await?;
        }
        for rotation in rotations {
            insert_rotation(&mut tx, rotation).await?;
        }
        for (recipient, compartment) in revoke {
            sqlx::query(
                "DELETE FROM grants WHERE case_id = $1 AND recipient = $2 AND compartment = $3",
            )
            .bind(&case_id[..])
            .bind(&recipient[..])
            .bind(i16::from(*compartment))
            .execute(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e))?;
        }
        commit(tx, WHAT).await
    }
}

// ---------------------------------------------------------------------------

#[async_trait]
impl Store for PostgresStore {
    async fn put_secret_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        const WHAT: &str = "storing a secret";
        // A racing insert waits for the first one's commit and does nothing;
        // the SELECT, a new statement, then sees the committed value.
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?;
        let row = sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        get(&row, "value")
    }

    async fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading a secret", &e).into_store())?
            .map(|row| get(&row, "value"))
            .transpose()
    }

    async fn create_org(
        &self,
        org: &OrgRow,
        founder: &AccountRow,
        links: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        retrying!(self.try_create_org(org, founder, links))
    }

    async fn get_org(&self) -> Result<Option<OrgRow>, StoreError> {
        let Some(row) = sqlx::query("SELECT org_id, name, root_public_key, created_at FROM org")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading the organization", &e).into_store())?
        else {
            return Ok(None);
        };
        Ok(Some(OrgRow {
            org_id: id_from(get(&row, "org_id")?, "organization id")?,
            name: get(&row, "name")?,
            root_public_key: get(&row, "root_public_key")?,
            created_at: get(&row, "created_at")?,
        }))
    }

    async fn check_invite(&self, invite_id: &Id, now: Time) -> Result<InviteRow, StoreError> {
        let row = sqlx::query(select_invite!("WHERE invite_id = $1"))
            .bind(&invite_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading an invitation", &e).into_store())?
            .ok_or(StoreError::InviteNotFound)?;
        usable(invite_from(&row)?, now)
    }

    async fn join(
        &self,
        invite_id: &Id,
        account: &AccountRow,
        now: Time,
    ) -> Result<(), StoreError> {
        retrying!(self.try_join(invite_id, account, now))
    }

    async fn account(&self, account_id: &Id) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(select_account!("WHERE account_id = $1"))
            .bind(&account_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading an account", &e).into_store())?
            .map(|row| account_from(&row))
            .transpose()
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(select_account!("WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading an account", &e).into_store())?
            .map(|row| account_from(&row))
            .transpose()
    }

    async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        sqlx::query(select_account!("ORDER BY created_at ASC, position ASC"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql("listing accounts", &e).into_store())?
            .iter()
            .map(account_from)
            .collect()
    }

    async fn membership_links(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        sqlx::query("SELECT link FROM membership_links ORDER BY seq ASC")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql("reading the membership chain", &e).into_store())?
            .iter()
            .map(|row| get(row, "link"))
            .collect()
    }

    async fn append_membership_link(
        &self,
        seq: u64,
        link: &[u8],
        effect: &MembershipEffect,
    ) -> Result<(), StoreError> {
        retrying!(self.try_append(seq, link, effect))
    }

    async fn create_invite(&self, invite: &InviteRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invites (invite_id, role, created_by, created_at, expires_at, used_by, \
             used_at, sealed_secret) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&invite.invite_id[..])
        .bind(&invite.role)
        .bind(&invite.created_by[..])
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .bind(invite.used_by.as_ref().map(|i| &i[..]))
        .bind(invite.used_at)
        .bind(&invite.sealed_secret)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            insert_failed("creating an invitation", &e, StoreError::Duplicate).into_store()
        })?;
        Ok(())
    }

    async fn invites(&self) -> Result<Vec<InviteRow>, StoreError> {
        sqlx::query(select_invite!("ORDER BY created_at DESC, position DESC"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql("listing invitations", &e).into_store())?
            .iter()
            .map(invite_from)
            .collect()
    }

    async fn create_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        retrying!(self.try_create_session(session))
    }

    async fn session(
        &self,
        token_hash: &[u8; 32],
        now: Time,
    ) -> Result<Option<SessionRow>, StoreError> {
        sqlx::query(
            "SELECT token_hash, account_id, created_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(&token_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| sql("reading a session", &e).into_store())?
        .map(|row| session_from(&row))
        .transpose()
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await
            .map_err(|e| sql("deleting a session", &e).into_store())?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account_id: &Id) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(&account_id[..])
            .execute(&self.pool)
            .await
            .map_err(|e| sql("deleting sessions", &e).into_store())?
            .rows_affected())
    }

    async fn put_login_state(
        &self,
        login_id: &Id,
        account_id: &Id,
        sealed_state: &[u8],
        expires_at: Time,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_states (login_id, account_id, sealed_state, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&login_id[..])
        .bind(&account_id[..])
        .bind(sealed_state)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            insert_failed("keeping a login state", &e, StoreError::Duplicate).into_store()
        })?;
        Ok(())
    }

    async fn take_login_state(
        &self,
        login_id: &Id,
        now: Time,
    ) -> Result<Option<(Id, Vec<u8>)>, StoreError> {
        // One statement: a racing DELETE waits on the row and then finds it gone.
        let Some(row) = sqlx::query(
            "DELETE FROM login_states WHERE login_id = $1 \
             RETURNING account_id, sealed_state, expires_at",
        )
        .bind(&login_id[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| sql("taking a login state", &e).into_store())?
        else {
            return Ok(None);
        };
        let expires_at: Time = get(&row, "expires_at")?;
        if now >= expires_at {
            return Ok(None);
        }
        Ok(Some((
            id_from(get(&row, "account_id")?, "login account")?,
            get(&row, "sealed_state")?,
        )))
    }

    async fn purge_expired(&self, now: Time) -> Result<u64, StoreError> {
        retrying!(self.try_purge(now))
    }

    async fn create_case(&self, case: &CaseRow, grants: &[GrantRow]) -> Result<(), StoreError> {
        if case.len != 0 || case.head_hash != [0; 32] {
            return Err(StoreError::Backend(
                "a new case must have an empty chain (len 0, zero head)".into(),
            ));
        }
        all_of_case(&case.case_id, grants, &[])?;
        retrying!(self.try_create_case(case, grants))
    }

    async fn case(&self, case_id: &Id) -> Result<Option<CaseRow>, StoreError> {
        sqlx::query(select_case!("WHERE case_id = $1"))
            .bind(&case_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading a case", &e).into_store())?
            .map(|row| case_from(&row))
            .transpose()
    }

    async fn append_case_entry(
        &self,
        entry: &CaseEntryRow,
        new_head_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        retrying!(self.try_append_case_entry(entry, new_head_hash))
    }

    async fn case_entries(
        &self,
        case_id: &Id,
        from: u64,
        limit: u32,
    ) -> Result<Vec<CaseEntryRow>, StoreError> {
        // No entry sits beyond i64::MAX.
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        sqlx::query(select_entry!(
            "WHERE case_id = $1 AND seq >= $2 ORDER BY seq ASC LIMIT $3"
        ))
        .bind(&case_id[..])
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql("reading case entries", &e).into_store())?
        .iter()
        .map(entry_from)
        .collect()
    }

    async fn put_grants(
        &self,
        case_id: &Id,
        grants: &[GrantRow],
        rotations: &[RotationRow],
        revoke: &[(Id, u8)],
    ) -> Result<(), StoreError> {
        all_of_case(case_id, grants, rotations)?;
        retrying!(self.try_put_grants(case_id, grants, rotations, revoke))
    }

    async fn case_grants(&self, case_id: &Id) -> Result<Vec<GrantRow>, StoreError> {
        sqlx::query(select_grant!(
            "WHERE case_id = $1 ORDER BY created_at ASC, position ASC"
        ))
        .bind(&case_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql("listing the grants of a case", &e).into_store())?
        .iter()
        .map(grant_from)
        .collect()
    }

    async fn case_rotations(&self, case_id: &Id) -> Result<Vec<RotationRow>, StoreError> {
        sqlx::query(select_rotation!(
            "WHERE case_id = $1 ORDER BY created_at ASC, position ASC"
        ))
        .bind(&case_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql("listing the rotation links of a case", &e).into_store())?
        .iter()
        .map(rotation_from)
        .collect()
    }

    async fn cases_for_account(
        &self,
        account_id: &Id,
        after: Option<&Id>,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        // BYTEA compares byte by byte, then by length, so the empty value
        // sorts before every id: "after nothing" is "from the start".
        let after: &[u8] = after.map_or(&[], |a| &a[..]);
        // The page is cut in the subquery, walking the (recipient, case_id)
        // index, so each page reads `limit` grants rather than every one after `after`.
        sqlx::query(select_case!(
            "WHERE case_id IN \
             (SELECT DISTINCT case_id FROM grants WHERE recipient = $2 AND case_id > $1 \
              ORDER BY case_id ASC LIMIT $3) \
             ORDER BY case_id ASC"
        ))
        .bind(after)
        .bind(&account_id[..])
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql("listing the cases of an account", &e).into_store())?
        .iter()
        .map(case_from)
        .collect()
    }

    async fn grants_for_account(&self, account_id: &Id) -> Result<Vec<GrantRow>, StoreError> {
        sqlx::query(select_grant!(
            "WHERE recipient = $1 ORDER BY created_at ASC, position ASC"
        ))
        .bind(&account_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql("listing the grants of an account", &e).into_store())?
        .iter()
        .map(grant_from)
        .collect()
    }
    async fn case_bundles(
        &self,
        account_id: &Id,
        wanted: &[(Id, u64)],
        entry_limit: u32,
    ) -> Result<Vec<CaseBundle>, StoreError> {
        const WHAT: &str = "reading cases to sync";
        northstar_store::check_bundle_request(wanted)?;
        if wanted.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<Vec<u8>> = wanted.iter().map(|(id, _)| id.to_vec()).collect();
        // No entry sits beyond i64::MAX.
        let froms: Vec<i64> = wanted
            .iter()
            .map(|(_, from)| i64::try_from(*from).unwrap_or(i64::MAX))
            .collect();
        let fail = |e: sqlx::Error| sql(WHAT, &e).into_store();
        // One snapshot for all four reads, so entries and heads agree.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(fail)?;
        let cases = sqlx::query(select_case!(
            "WHERE case_id = ANY($1) AND EXISTS \
             (SELECT 1 FROM grants WHERE grants.case_id = cases.case_id AND recipient = $2) \
             ORDER BY case_id ASC"
        ))
        .bind(&ids)
        .bind(&account_id[..])
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?
        .iter()
        .map(case_from)
        .collect::<Result<Vec<_>, _>>()?;
        let grants = sqlx::query(select_grant!(
            "WHERE recipient = $1 AND case_id = ANY($2) \
             ORDER BY case_id ASC, created_at ASC, position ASC"
        ))
        .bind(&account_id[..])
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?
        .iter()
        .map(grant_from)
        .collect::<Result<Vec<_>, _>>()?;
        let granted: Vec<Vec<u8>> = cases.iter().map(|c| c.case_id.to_vec()).collect();
        let rotations = sqlx::query(select_rotation!(
            "WHERE case_id = ANY($1) ORDER BY case_id ASC, created_at ASC, position ASC"
        ))
        .bind(&granted)
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?
        .iter()
        .map(rotation_from)
        .collect::<Result<Vec<_>, _>>()?;
        let entries = sqlx::query(select_entry!(
            "WHERE case_id = ANY($3) AND EXISTS (SELECT 1 FROM unnest($1::bytea[], $2::bigint[]) \
             AS wanted (case_id, from_seq) \
             WHERE wanted.case_id = case_entries.case_id AND case_entries.seq >= wanted.from_seq) \
             ORDER BY case_id ASC, seq ASC LIMIT $4"
        ))
        .bind(&ids)
        .bind(&froms)
        .bind(&granted)
        .bind(i64::from(entry_limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?
        .iter()
        .map(entry_from)
        .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await.map_err(fail)?;
        Ok(northstar_store::assemble_bundles(
            cases, grants, rotations, entries,
        ))
    }

    // ---- Intake ----

    async fn put_intake_desk(&self, desk: &IntakeDeskRow) -> Result<(), StoreError> {
        const WHAT: &str = "setting the intake desk";
        // One statement: racing admins cannot move the generation back.
        let changed = sqlx::query(
            "INSERT INTO intake_desk (singleton, desk_case_id, generation, public_key, updated_at) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (singleton) DO UPDATE SET \
             desk_case_id = excluded.desk_case_id, generation = excluded.generation, \
             public_key = excluded.public_key, updated_at = excluded.updated_at \
             WHERE intake_desk.generation <= excluded.generation",
        )
        .bind(&desk.desk_case_id[..])
        .bind(i64::from(desk.generation))
        .bind(&desk.public_key)
        .bind(desk.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Invalid("the intake key's generation went back"));
        }
        Ok(())
    }

    async fn intake_desk(&self) -> Result<Option<IntakeDeskRow>, StoreError> {
        const WHAT: &str = "reading the intake desk";
        let Some(row) =
            sqlx::query("SELECT desk_case_id, generation, public_key, updated_at FROM intake_desk")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| sql(WHAT, &e).into_store())?
        else {
            return Ok(None);
        };
        Ok(Some(IntakeDeskRow {
            desk_case_id: id_from(get(&row, "desk_case_id")?, "desk case id")?,
            generation: u32::try_from(get::<i64>(&row, "generation")?)
                .map_err(|_| corrupt("generation"))?,
            public_key: get(&row, "public_key")?,
            updated_at: get(&row, "updated_at")?,
        }))
    }

    async fn create_conversation(
        &self,
        c: &ConversationRow,
        first: &[u8],
    ) -> Result<(), StoreError> {
        const WHAT: &str = "starting an intake conversation";
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        sqlx::query(
            "INSERT INTO intake_conversations (conversation_id, access_hash, reply_public, path, \
             referred, status, created_at, updated_at, entry_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
        )
        .bind(&c.conversation_id[..])
        .bind(&c.access_hash[..])
        .bind(&c.reply_public)
        .bind(&c.path)
        .bind(c.referred)
        .bind(&c.status)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_failed(WHAT, &e, StoreError::Duplicate).into_store())?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES ($1, 1, $2, $3)",
        )
        .bind(&c.conversation_id[..])
        .bind(first)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?;
        commit(tx, WHAT).await.map_err(Failed::into_store)
    }

    async fn intake_thread_by_access(
        &self,
        access_hash: &[u8; 32],
    ) -> Result<Option<IntakeThread>, StoreError> {
        const WHAT: &str = "reading an intake conversation";
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        let Some(row) = sqlx::query(concat!(select_conversation!(), " WHERE access_hash = $1"))
            .bind(&access_hash[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?
        else {
            return Ok(None);
        };
        let conversation = conversation_from(&row)?;
        let mut threads = intake_blobs_into(
            &mut tx,
            vec![conversation],
            "WHERE conversation_id = $1",
            None,
        )
        .await?;
        Ok(threads.pop())
    }

    async fn append_intake_entry(
        &self,
        conversation_id: &Id,
        sealed: &[u8],
        now: Time,
    ) -> Result<u32, StoreError> {
        const WHAT: &str = "adding an intake message";
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE intake_conversations SET entry_count = entry_count + 1, updated_at = $1 \
             WHERE conversation_id = $2 RETURNING entry_count",
        )
        .bind(now)
        .bind(&conversation_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?
        .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&conversation_id[..])
        .bind(seq)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?;
        commit(tx, WHAT).await.map_err(Failed::into_store)?;
        u32::try_from(seq).map_err(|_| corrupt("intake seq"))
    }

    async fn add_intake_note(
        &self,
        conversation_id: &Id,
        note: &[u8],
        reply: Option<&[u8]>,
        status: Option<&str>,
        now: Time,
    ) -> Result<(), StoreError> {
        const WHAT: &str = "adding an intake note";
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        let row = sqlx::query(
            "UPDATE intake_conversations SET entry_count = entry_count + 1, \
             reply_count = reply_count + $1, status = coalesce($2::text, status), updated_at = $3 \
             WHERE conversation_id = $4 RETURNING entry_count, reply_count",
        )
        .bind(i64::from(reply.is_some()))
        .bind(status)
        .bind(now)
        .bind(&conversation_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| {
            if e.as_database_error().map(|d| d.kind()) == Some(ErrorKind::CheckViolation) {
                StoreError::Invalid("unknown intake status")
            } else {
                sql(WHAT, &e).into_store()
            }
        })?
        .ok_or(StoreError::NotFound)?;
        let seq: i64 = get(&row, "entry_count")?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&conversation_id[..])
        .bind(seq)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?;
        if let Some(reply) = reply {
            let reply_seq: i64 = get(&row, "reply_count")?;
            sqlx::query(
                "INSERT INTO intake_replies (conversation_id, seq, sealed, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&conversation_id[..])
            .bind(reply_seq)
            .bind(reply)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        }
        commit(tx, WHAT).await.map_err(Failed::into_store)
    }

    async fn intake_threads(&self, limit: u32) -> Result<Vec<IntakeThread>, StoreError> {
        const WHAT: &str = "listing intake conversations";
        let limit = i64::from(limit.min(MAX_INTAKE_THREADS));
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| sql(WHAT, &e).into_store())?;
        let conversations = sqlx::query(concat!(
            select_conversation!(),
            " ORDER BY updated_at DESC, conversation_id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| sql(WHAT, &e).into_store())?
        .iter()
        .map(conversation_from)
        .collect::<Result<Vec<_>, _>>()?;
        intake_blobs_into(
            &mut tx,
            conversations,
            "WHERE conversation_id IN (SELECT conversation_id FROM intake_conversations \
             ORDER BY updated_at DESC, conversation_id LIMIT $1)",
            Some(limit),
        )
        .await
    }

    async fn put_referral(
        &self,
        code_hash: &[u8; 32],
        uses: u32,
        now: Time,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO intake_referrals (code_hash, uses_left, created_at) VALUES ($1, $2, $3)",
        )
        .bind(&code_hash[..])
        .bind(i64::from(uses))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            insert_failed("registering a referral code", &e, StoreError::Duplicate).into_store()
        })?;
        Ok(())
    }

    async fn use_referral(&self, code_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let spent = sqlx::query(
            "UPDATE intake_referrals SET uses_left = uses_left - 1 WHERE code_hash = $1 AND uses_left > 0",
        )
        .bind(&code_hash[..])
        .execute(&self.pool)
        .await
        .map_err(|e| sql("spending a referral code", &e).into_store())?
        .rows_affected();
        Ok(spent == 1)
    }

    async fn put_invite_intake_keys(
        &self,
        invite_id: &Id,
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO invite_intake_keys (invite_id, sealed) VALUES ($1, $2)")
            .bind(&invite_id[..])
            .bind(sealed)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                match insert_failed(
                    "attaching intake keys to an invitation",
                    &e,
                    StoreError::Duplicate,
                )
                .into_store()
                {
                    StoreError::NotFound => StoreError::InviteNotFound,
                    other => other,
                }
            })?;
        Ok(())
    }

    async fn invite_intake_keys(&self, invite_id: &Id) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT sealed FROM invite_intake_keys WHERE invite_id = $1")
            .bind(&invite_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql("reading an invitation's intake keys", &e).into_store())
    }
}

//! The embedded SQLite backend of the Northstar store: one file under the
//! server's data folder.
//!
//! Durability: the database runs in WAL mode with `synchronous = FULL`, so a
//! write is on disk (the WAL is synced) before the call that made it returns,
//! and survives a crash or SIGKILL of the server right after.
//!
//! Concurrency: every read-check-write runs in a `BEGIN IMMEDIATE`
//! transaction, which takes SQLite's one write lock before it reads, so racing
//! writers — in this process or another on the same file — run one after the
//! other; a writer that finds the lock taken waits up to [`BUSY_TIMEOUT`]
//! instead of failing. Reads never wait (WAL).
#![forbid(unsafe_code)]

#[cfg(feature = "tamper")]
pub mod tamper;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use northstar_store::{
    AccountRow, AccountStatus, CaseBundle, CaseEntryRow, CaseRow, ConversationRow, GrantRow, Id,
    IntakeBlobRow, IntakeDeskRow, IntakeThread, InviteRow, MAX_INTAKE_THREADS, MembershipEffect,
    OrgRow, RotationRow, SessionRow, Store, StoreError, Time,
};
use sqlx::error::ErrorKind;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

/// How long a writer waits for another writer's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often an open that found the new file locked is tried again (about 7 s in all).
const OPEN_ATTEMPTS: u64 = 25;

/// SQLITE_BUSY, or one of its extended codes: another connection holds the
/// lock this one needs.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// Connections in the pool (each has its own worker thread; readers run in
/// parallel, writers take turns).
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The store on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Open (or create, with its parent folder) the database at `path` and
    /// bring its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Backend(format!(
                    "creating the database folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // Switching a new file to WAL needs a lock that SQLite does not wait
        // for through the busy handler: when several processes or stores open
        // the same new file at once, one may be told "database is locked" at
        // once. That open is tried again, briefly, rather than failed.
        let mut attempts = 0;
        let pool = loop {
            match SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .connect_with(options.clone())
                .await
            {
                Ok(pool) => break pool,
                Err(e) if is_busy(&e) && attempts < OPEN_ATTEMPTS => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempts)).await;
                }
                Err(e) => return Err(sql_error("opening the database", &e)),
            }
        };
        migrate(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The physical limit intake is measured against: single-row inserts of
    /// `blob_len` bytes, each its own durable transaction (WAL, `synchronous =
    /// FULL`, as the store), from `writers` tasks at once, into a fresh file at
    /// `path`. Returns inserts per second. For benchmarks; never used by the server.
    pub async fn durable_insert_rate(
        path: &Path,
        rows: usize,
        blob_len: usize,
        writers: usize,
    ) -> Result<f64, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|e| sql_error("opening the probe database", &e))?;
        sqlx::query("CREATE TABLE probe (id INTEGER PRIMARY KEY, blob BLOB NOT NULL) STRICT")
            .execute(&pool)
            .await
            .map_err(|e| sql_error("creating the probe table", &e))?;
        let blob = vec![0x5a_u8; blob_len];
        let start = std::time::Instant::now();
        let per_writer = rows.div_ceil(writers.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..writers.max(1) {
            let (pool, blob) = (pool.clone(), blob.clone());
            tasks.spawn(async move {
                for _ in 0..per_writer {
                    sqlx::query("INSERT INTO probe (blob) VALUES (?)")
                        .bind(&blob)
                        .execute(&pool)
                        .await
                        .map_err(|e| sql_error("inserting into the probe table", &e))?;
                }
                Ok::<_, StoreError>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| StoreError::Backend(format!("a probe writer failed: {e}")))??;
        }
        let rate = (per_writer * writers.max(1)) as f64 / start.elapsed().as_secs_f64();
        pool.close().await;
        Ok(rate)
    }

    /// Close every connection, waiting for running calls to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self, what: &'static str) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| sql_error(what, &e))
    }
}

/// Run the migrations. SQLite has no migration lock, so two processes opening
/// a new file at once can race; each migration is one transaction, so the
/// loser fails cleanly and, on the next try, finds the migration applied.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(_) if tries < 10 => tries += 1,
            Err(e) => return Err(StoreError::Backend(format!("migrating the database: {e}"))),
        }
    }
}

// ---------------------------------------------------------------------------
// Errors

/// Describe a database error without any bound value (blob contents never
/// appear in SQLite's or sqlx's messages; we add only the operation).
fn sql_error(what: &str, e: &sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => StoreError::Backend(format!(
            "{what}: {} (code {})",
            db.message(),
            db.code().as_deref().unwrap_or("none")
        )),
        other => StoreError::Backend(format!("{what}: {other}")),
    }
}

fn kind(e: &sqlx::Error) -> Option<ErrorKind> {
    e.as_database_error().map(|d| d.kind())
}

/// Map a failed insert: a unique clash becomes `on_unique`, a missing
/// referenced row `NotFound`, anything else a backend error.
fn insert_error(what: &str, e: &sqlx::Error, on_unique: StoreError) -> StoreError {
    match kind(e) {
        Some(ErrorKind::UniqueViolation) => on_unique,
        Some(ErrorKind::ForeignKeyViolation) => StoreError::NotFound,
        _ => sql_error(what, e),
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

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(col)
        .map_err(|e| StoreError::Backend(format!("reading column {col}: {e}")))
}

fn to_seq(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt("negative chain position"))
}

macro_rules! select_conversation {
    () => {
        "SELECT conversation_id, access_hash, reply_public, path, referred, status, created_at, \
         updated_at FROM intake_conversations"
    };
}

fn conversation_from(row: &SqliteRow) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        conversation_id: id_from(get(row, "conversation_id")?, "conversation id")?,
        access_hash: get::<Vec<u8>>(row, "access_hash")?
            .try_into()
            .map_err(|_| corrupt("access hash"))?,
        reply_public: get(row, "reply_public")?,
        path: get(row, "path")?,
        referred: get::<i64>(row, "referred")? != 0,
        status: get(row, "status")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// Fill in the entries and replies of `conversations`, read with `filter`
/// (bound to the single conversation's id, or to `limit`) in the same transaction.
async fn intake_blobs_into(
    tx: &mut Transaction<'static, Sqlite>,
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
            .map_err(|e| sql_error(WHAT, &e))?
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

fn account_from(row: &SqliteRow) -> Result<AccountRow, StoreError> {
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

fn invite_from(row: &SqliteRow) -> Result<InviteRow, StoreError> {
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

fn session_from(row: &SqliteRow) -> Result<SessionRow, StoreError> {
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

async fn insert_account(conn: &mut SqliteConnection, a: &AccountRow) -> Result<(), StoreError> {
    const WHAT: &str = "inserting an account";
    let id_taken = sqlx::query("SELECT 1 FROM accounts WHERE account_id = ?")
        .bind(&a.account_id[..])
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
    if id_taken.is_some() {
        return Err(StoreError::AccountExists);
    }
    let name_taken = sqlx::query("SELECT 1 FROM accounts WHERE username = ?")
        .bind(&a.username)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
    if name_taken.is_some() {
        return Err(StoreError::UsernameTaken);
    }
    sqlx::query(
        "INSERT INTO accounts (account_id, username, opaque_record, slot, keybox, org_root_box, \
         signing_key, agreement_key, role, status, invite_id, join_proof, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        // Both were checked under the write lock; this is a last resort.
        let clash = if e.to_string().contains("accounts.username") {
            StoreError::UsernameTaken
        } else {
            StoreError::AccountExists
        };
        insert_error(WHAT, &e, clash)
    })?;
    Ok(())
}

async fn insert_link(conn: &mut SqliteConnection, seq: u64, link: &[u8]) -> Result<(), StoreError> {
    let seq = i64::try_from(seq).map_err(|_| corrupt("chain position out of range"))?;
    sqlx::query("INSERT INTO membership_links (seq, link) VALUES (?, ?)")
        .bind(seq)
        .bind(link)
        .execute(&mut *conn)
        .await
        .map_err(|e| sql_error("appending a membership link", &e))?;
    Ok(())
}

async fn apply_effect(
    conn: &mut SqliteConnection,
    effect: &MembershipEffect,
) -> Result<(), StoreError> {
    const WHAT: &str = "applying a membership link";
    let (query, account_id) = match effect {
        MembershipEffect::None => return Ok(()),
        MembershipEffect::Activate { account_id, role } => (
            sqlx::query("UPDATE accounts SET status = 'active', role = ? WHERE account_id = ?")
                .bind(role)
                .bind(&account_id[..]),
            account_id,
        ),
        MembershipEffect::ChangeRole { account_id, role } => (
            sqlx::query("UPDATE accounts SET role = ? WHERE account_id = ?")
                .bind(role)
                .bind(&account_id[..]),
            account_id,
        ),
        MembershipEffect::Remove { account_id } => (
            sqlx::query("UPDATE accounts SET status = 'removed' WHERE account_id = ?")
                .bind(&account_id[..]),
            account_id,
        ),
    };
    let changed = query
        .execute(&mut *conn)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    if let MembershipEffect::Remove { .. } = effect {
        sqlx::query("DELETE FROM sessions WHERE account_id = ?")
            .bind(&account_id[..])
            .execute(&mut *conn)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Cases

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

fn compartment_from(v: i64) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| corrupt("compartment out of range"))
}

fn generation_from(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt("generation out of range"))
}

fn case_from(row: &SqliteRow) -> Result<CaseRow, StoreError> {
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

fn entry_from(row: &SqliteRow) -> Result<CaseEntryRow, StoreError> {
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

fn grant_from(row: &SqliteRow) -> Result<GrantRow, StoreError> {
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

fn rotation_from(row: &SqliteRow) -> Result<RotationRow, StoreError> {
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

async fn insert_grant(conn: &mut SqliteConnection, g: &GrantRow) -> Result<(), StoreError> {
    const WHAT: &str = "storing a grant";
    sqlx::query(
        "INSERT INTO grants (case_id, compartment, generation, recipient, granted_by, \
         sealed_grant, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&g.case_id[..])
    .bind(i64::from(g.compartment))
    .bind(i64::from(g.generation))
    .bind(&g.recipient[..])
    .bind(&g.granted_by[..])
    .bind(&g.grant)
    .bind(g.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| insert_error(WHAT, &e, StoreError::Duplicate))?;
    Ok(())
}

async fn insert_rotation(conn: &mut SqliteConnection, r: &RotationRow) -> Result<(), StoreError> {
    const WHAT: &str = "storing a rotation link";
    sqlx::query(
        "INSERT INTO rotations (case_id, compartment, new_generation, link, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&r.case_id[..])
    .bind(i64::from(r.compartment))
    .bind(i64::from(r.new_generation))
    .bind(&r.link)
    .bind(r.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| insert_error(WHAT, &e, StoreError::Duplicate))?;
    Ok(())
}

async fn commit(tx: Transaction<'static, Sqlite>, what: &str) -> Result<(), StoreError> {
    tx.commit().await.map_err(|e| sql_error(what, &e))
}

// ---------------------------------------------------------------------------

#[async_trait]
impl Store for SqliteStore {
    async fn put_secret_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        const WHAT: &str = "storing a secret";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        let row = sqlx::query("SELECT value FROM secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        let stored = get(&row, "value")?;
        commit(tx, WHAT).await?;
        Ok(stored)
    }

    async fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query("SELECT value FROM secrets WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading a secret", &e))?
            .map(|row| get(&row, "value"))
            .transpose()
    }

    async fn create_org(
        &self,
        org: &OrgRow,
        founder: &AccountRow,
        links: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        const WHAT: &str = "creating the organization";
        let mut tx = self.begin(WHAT).await?;
        let exists = sqlx::query("SELECT 1 FROM org")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        if exists.is_some() {
            return Err(StoreError::OrgExists);
        }
        sqlx::query(
            "INSERT INTO org (singleton, org_id, name, root_public_key, created_at) \
             VALUES (1, ?, ?, ?, ?)",
        )
        .bind(&org.org_id[..])
        .bind(&org.name)
        .bind(&org.root_public_key)
        .bind(org.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_error(WHAT, &e, StoreError::OrgExists))?;
        insert_account(&mut tx, founder).await?;
        for (seq, link) in (0u64..).zip(links) {
            insert_link(&mut tx, seq, link).await?;
        }
        commit(tx, WHAT).await
    }

    async fn get_org(&self) -> Result<Option<OrgRow>, StoreError> {
        let Some(row) = sqlx::query("SELECT org_id, name, root_public_key, created_at FROM org")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading the organization", &e))?
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
        let row = sqlx::query(select_invite!("WHERE invite_id = ?"))
            .bind(&invite_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading an invitation", &e))?
            .ok_or(StoreError::InviteNotFound)?;
        usable(invite_from(&row)?, now)
    }

    async fn join(
        &self,
        invite_id: &Id,
        account: &AccountRow,
        now: Time,
    ) -> Result<(), StoreError> {
        const WHAT: &str = "joining with an invitation";
        let mut tx = self.begin(WHAT).await?;
        let row = sqlx::query(select_invite!("WHERE invite_id = ?"))
            .bind(&invite_id[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
            .ok_or(StoreError::InviteNotFound)?;
        usable(invite_from(&row)?, now)?;
        insert_account(&mut tx, account).await?;
        sqlx::query("UPDATE invites SET used_by = ?, used_at = ? WHERE invite_id = ?")
            .bind(&account.account_id[..])
            .bind(now)
            .bind(&invite_id[..])
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        commit(tx, WHAT).await
    }

    async fn account(&self, account_id: &Id) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(select_account!("WHERE account_id = ?"))
            .bind(&account_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading an account", &e))?
            .map(|row| account_from(&row))
            .transpose()
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(select_account!("WHERE username = ?"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading an account", &e))?
            .map(|row| account_from(&row))
            .transpose()
    }

    async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        sqlx::query(select_account!("ORDER BY created_at ASC, position ASC"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql_error("listing accounts", &e))?
            .iter()
            .map(account_from)
            .collect()
    }

    async fn membership_links(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        sqlx::query("SELECT link FROM membership_links ORDER BY seq ASC")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql_error("reading the membership chain", &e))?
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
        const WHAT: &str = "appending a membership link";
        let mut tx = self.begin(WHAT).await?;
        let org = sqlx::query("SELECT 1 FROM org")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        if org.is_none() {
            return Err(StoreError::OrgMissing);
        }
        let row = sqlx::query("SELECT COALESCE(MAX(seq) + 1, 0) AS len FROM membership_links")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        let actual = to_seq(get(&row, "len")?)?;
        if seq != actual {
            return Err(StoreError::Conflict {
                expected: seq,
                actual,
            });
        }
        insert_link(&mut tx, seq, link).await?;
        apply_effect(&mut tx, effect).await?;
        commit(tx, WHAT).await
    }

    async fn create_invite(&self, invite: &InviteRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO invites (invite_id, role, created_by, created_at, expires_at, used_by, \
             used_at, sealed_secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        .map_err(|e| insert_error("creating an invitation", &e, StoreError::Duplicate))?;
        Ok(())
    }

    async fn invites(&self) -> Result<Vec<InviteRow>, StoreError> {
        sqlx::query(select_invite!("ORDER BY created_at DESC, position DESC"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| sql_error("listing invitations", &e))?
            .iter()
            .map(invite_from)
            .collect()
    }

    async fn create_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        const WHAT: &str = "creating a session";
        let mut tx = self.begin(WHAT).await?;
        let status: Option<String> =
            sqlx::query("SELECT status FROM accounts WHERE account_id = ?")
                .bind(&session.account_id[..])
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| sql_error(WHAT, &e))?
                .map(|row| get(&row, "status"))
                .transpose()?;
        match status.as_deref().and_then(AccountStatus::parse) {
            None | Some(AccountStatus::Removed) => return Err(StoreError::NotFound),
            Some(AccountStatus::Pending | AccountStatus::Active) => {}
        }
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&session.token_hash[..])
        .bind(&session.account_id[..])
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_error(WHAT, &e, StoreError::Duplicate))?;
        commit(tx, WHAT).await
    }

    async fn session(
        &self,
        token_hash: &[u8; 32],
        now: Time,
    ) -> Result<Option<SessionRow>, StoreError> {
        sqlx::query(
            "SELECT token_hash, account_id, created_at, expires_at FROM sessions \
             WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(&token_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| sql_error("reading a session", &e))?
        .map(|row| session_from(&row))
        .transpose()
    }

    async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await
            .map_err(|e| sql_error("deleting a session", &e))?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account_id: &Id) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE account_id = ?")
            .bind(&account_id[..])
            .execute(&self.pool)
            .await
            .map_err(|e| sql_error("deleting sessions", &e))?
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
             VALUES (?, ?, ?, ?)",
        )
        .bind(&login_id[..])
        .bind(&account_id[..])
        .bind(sealed_state)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| insert_error("keeping a login state", &e, StoreError::Duplicate))?;
        Ok(())
    }

    async fn take_login_state(
        &self,
        login_id: &Id,
        now: Time,
    ) -> Result<Option<(Id, Vec<u8>)>, StoreError> {
        // One statement: of racing takes only one gets the deleted row.
        let Some(row) = sqlx::query(
            "DELETE FROM login_states WHERE login_id = ? \
             RETURNING account_id, sealed_state, expires_at",
        )
        .bind(&login_id[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| sql_error("taking a login state", &e))?
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
        const WHAT: &str = "purging expired sessions";
        let mut tx = self.begin(WHAT).await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
            .rows_affected();
        let logins = sqlx::query("DELETE FROM login_states WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
            .rows_affected();
        commit(tx, WHAT).await?;
        Ok(sessions + logins)
    }

    async fn create_case(&self, case: &CaseRow, grants: &[GrantRow]) -> Result<(), StoreError> {
        const WHAT: &str = "creating a case";
        if case.len != 0 || case.head_hash != [0; 32] {
            return Err(StoreError::Backend(
                "a new case must have an empty chain (len 0, zero head)".into(),
            ));
        }
        all_of_case(&case.case_id, grants, &[])?;
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(
            "INSERT INTO cases (case_id, created_by, created_at, len, head_hash) \
             VALUES (?, ?, ?, 0, ?)",
        )
        .bind(&case.case_id[..])
        .bind(&case.created_by[..])
        .bind(case.created_at)
        .bind(&case.head_hash[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_error(WHAT, &e, StoreError::Duplicate))?;
        for grant in grants {
            insert_grant(&mut tx, grant).await?;
        }
        commit(tx, WHAT).await
    }

    async fn case(&self, case_id: &Id) -> Result<Option<CaseRow>, StoreError> {
        sqlx::query(select_case!("WHERE case_id = ?"))
            .bind(&case_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading a case", &e))?
            .map(|row| case_from(&row))
            .transpose()
    }

    async fn append_case_entry(
        &self,
        entry: &CaseEntryRow,
        new_head_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        const WHAT: &str = "appending a case entry";
        // BEGIN IMMEDIATE: the length read below cannot change until commit.
        let mut tx = self.begin(WHAT).await?;
        let row = sqlx::query("SELECT len FROM cases WHERE case_id = ?")
            .bind(&entry.case_id[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
            .ok_or(StoreError::NotFound)?;
        let actual = to_seq(get(&row, "len")?)?;
        if entry.seq != actual {
            return Err(StoreError::Conflict {
                expected: entry.seq,
                actual,
            });
        }
        let seq = i64::try_from(entry.seq).map_err(|_| corrupt("chain position out of range"))?;
        sqlx::query(
            "INSERT INTO case_entries (case_id, seq, compartment, record_id, generation, entry, \
             wrap, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&entry.case_id[..])
        .bind(seq)
        .bind(i64::from(entry.compartment))
        .bind(&entry.record_id[..])
        .bind(i64::from(entry.generation))
        .bind(&entry.entry)
        .bind(&entry.wrap)
        .bind(entry.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        let moved = sqlx::query(
            "UPDATE cases SET len = len + 1, head_hash = ? WHERE case_id = ? AND len = ?",
        )
        .bind(&new_head_hash[..])
        .bind(&entry.case_id[..])
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .rows_affected();
        if moved != 1 {
            return Err(StoreError::Backend(format!(
                "{WHAT}: the chain moved during the append"
            )));
        }
        commit(tx, WHAT).await
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
            "WHERE case_id = ? AND seq >= ? ORDER BY seq ASC LIMIT ?"
        ))
        .bind(&case_id[..])
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql_error("reading case entries", &e))?
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
        const WHAT: &str = "changing grants";
        all_of_case(case_id, grants, rotations)?;
        let mut tx = self.begin(WHAT).await?;
        // Every change to the keys moves the case's keys version.
        let case = sqlx::query(
            "UPDATE cases SET keys_version = keys_version + 1 WHERE case_id = ? RETURNING 1",
        )
        .bind(&case_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        if case.is_none() {
            return Err(StoreError::NotFound);
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
                "DELETE FROM grants WHERE case_id = ? AND recipient = ? AND compartment = ?",
            )
            .bind(&case_id[..])
            .bind(&recipient[..])
            .bind(i64::from(*compartment))
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        }
        commit(tx, WHAT).await
    }

    async fn case_grants(&self, case_id: &Id) -> Result<Vec<GrantRow>, StoreError> {
        sqlx::query(select_grant!(
            "WHERE case_id = ? ORDER BY created_at ASC, position ASC"
        ))
        .bind(&case_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql_error("listing the grants of a case", &e))?
        .iter()
        .map(grant_from)
        .collect()
    }

    async fn case_rotations(&self, case_id: &Id) -> Result<Vec<RotationRow>, StoreError> {
        sqlx::query(select_rotation!(
            "WHERE case_id = ? ORDER BY created_at ASC, position ASC"
        ))
        .bind(&case_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql_error("listing the rotation links of a case", &e))?
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
        // Blobs compare byte by byte, then by length, so the empty blob sorts
        // before every id: "after nothing" is "from the start".
        let after: &[u8] = after.map_or(&[], |a| &a[..]);
        // The page is cut in the subquery, walking the (recipient, case_id)
        // index, so each page reads `limit` grants rather than every one after `after`.
        sqlx::query(select_case!(
            "WHERE case_id IN \
             (SELECT DISTINCT case_id FROM grants WHERE recipient = ? AND case_id > ? \
              ORDER BY case_id ASC LIMIT ?) \
             ORDER BY case_id ASC"
        ))
        .bind(&account_id[..])
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql_error("listing the cases of an account", &e))?
        .iter()
        .map(case_from)
        .collect()
    }

    async fn grants_for_account(&self, account_id: &Id) -> Result<Vec<GrantRow>, StoreError> {
        sqlx::query(select_grant!(
            "WHERE recipient = ? ORDER BY created_at ASC, position ASC"
        ))
        .bind(&account_id[..])
        .fetch_all(&self.pool)
        .await
        .map_err(|e| sql_error("listing the grants of an account", &e))?
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
        // The wanted cases travel as one JSON parameter (`[["<hex id>", from], …]`)
        // so each statement has one text, prepared once: an IN list or an OR
        // chain of 256 bound terms is re-planned on every call (with STAT4 a
        // bound range like `seq >= ?` forces a re-prepare whenever it changes).
        let all = wanted_json(wanted.iter());
        // A deferred transaction: one WAL snapshot for all four reads.
        let mut tx = self.pool.begin().await.map_err(|e| sql_error(WHAT, &e))?;
        // Correlated, so each case costs one probe of the (recipient,
        // case_id) index rather than listing every grant of the account.
        let cases = sqlx::query(select_case!(
            "WHERE case_id IN (SELECT unhex(value ->> 0) FROM json_each(?1)) \
             AND EXISTS (SELECT 1 FROM grants WHERE grants.case_id = cases.case_id \
             AND recipient = ?2) ORDER BY case_id ASC"
        ))
        .bind(&all)
        .bind(account_id.to_vec())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .iter()
        .map(case_from)
        .collect::<Result<Vec<_>, _>>()?;
        let granted: std::collections::HashSet<Id> = cases.iter().map(|c| c.case_id).collect();
        let grants = sqlx::query(select_grant!(
            "WHERE recipient = ?2 AND case_id IN \
             (SELECT unhex(value ->> 0) FROM json_each(?1)) \
             ORDER BY case_id ASC, created_at ASC, position ASC"
        ))
        .bind(&all)
        .bind(account_id.to_vec())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .iter()
        .map(grant_from)
        .collect::<Result<Vec<_>, _>>()?;
        let rotations = sqlx::query(select_rotation!(
            "WHERE case_id IN (SELECT unhex(value ->> 0) FROM json_each(?1)) \
             ORDER BY case_id ASC, created_at ASC, position ASC"
        ))
        .bind(&all)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .iter()
        .map(rotation_from)
        .collect::<Result<Vec<_>, _>>()?;
        let mut entries = vec![];
        let asked: Vec<(Id, u64)> = wanted
            .iter()
            .filter(|(id, _)| granted.contains(id))
            .copied()
            .collect();
        if !asked.is_empty() {
            // The wanted list drives the join: one probe of the primary key
            // (case_id, seq) per case.
            entries = sqlx::query(
                "SELECT e.case_id, e.seq, e.compartment, e.record_id, e.generation, e.entry, \
                 e.wrap, e.created_at FROM json_each(?1) AS w CROSS JOIN case_entries AS e \
                 ON e.case_id = unhex(w.value ->> 0) AND e.seq >= (w.value ->> 1) \
                 ORDER BY e.case_id ASC, e.seq ASC LIMIT ?2",
            )
            .bind(wanted_json(asked.iter()))
            .bind(i64::from(entry_limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
            .iter()
            .map(entry_from)
            .collect::<Result<Vec<_>, _>>()?;
        }
        tx.commit().await.map_err(|e| sql_error(WHAT, &e))?;
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
             VALUES (1, ?, ?, ?, ?) ON CONFLICT (singleton) DO UPDATE SET \
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
        .map_err(|e| sql_error(WHAT, &e))?
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
                .map_err(|e| sql_error(WHAT, &e))?
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
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(
            "INSERT INTO intake_conversations (conversation_id, access_hash, reply_public, path, \
             referred, status, created_at, updated_at, entry_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(&c.conversation_id[..])
        .bind(&c.access_hash[..])
        .bind(&c.reply_public)
        .bind(&c.path)
        .bind(i64::from(c.referred))
        .bind(&c.status)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_error(WHAT, &e, StoreError::Duplicate))?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES (?, 1, ?, ?)",
        )
        .bind(&c.conversation_id[..])
        .bind(first)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        commit(tx, WHAT).await
    }

    async fn intake_thread_by_access(
        &self,
        access_hash: &[u8; 32],
    ) -> Result<Option<IntakeThread>, StoreError> {
        const WHAT: &str = "reading an intake conversation";
        let mut tx = self.pool.begin().await.map_err(|e| sql_error(WHAT, &e))?;
        let Some(row) = sqlx::query(concat!(select_conversation!(), " WHERE access_hash = ?"))
            .bind(&access_hash[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?
        else {
            return Ok(None);
        };
        let conversation = conversation_from(&row)?;
        let mut threads = intake_blobs_into(
            &mut tx,
            vec![conversation],
            "WHERE conversation_id = ?",
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
        let mut tx = self.begin(WHAT).await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE intake_conversations SET entry_count = entry_count + 1, updated_at = ? \
             WHERE conversation_id = ? RETURNING entry_count",
        )
        .bind(now)
        .bind(&conversation_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&conversation_id[..])
        .bind(seq)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        commit(tx, WHAT).await?;
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
        let mut tx = self.begin(WHAT).await?;
        let row = sqlx::query(
            "UPDATE intake_conversations SET entry_count = entry_count + 1, \
             reply_count = reply_count + ?, status = coalesce(?, status), updated_at = ? \
             WHERE conversation_id = ? RETURNING entry_count, reply_count",
        )
        .bind(i64::from(reply.is_some()))
        .bind(status)
        .bind(now)
        .bind(&conversation_id[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| {
            if kind(&e) == Some(ErrorKind::CheckViolation) {
                StoreError::Invalid("unknown intake status")
            } else {
                sql_error(WHAT, &e)
            }
        })?
        .ok_or(StoreError::NotFound)?;
        let seq: i64 = get(&row, "entry_count")?;
        sqlx::query(
            "INSERT INTO intake_entries (conversation_id, seq, sealed, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&conversation_id[..])
        .bind(seq)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?;
        if let Some(reply) = reply {
            let reply_seq: i64 = get(&row, "reply_count")?;
            sqlx::query(
                "INSERT INTO intake_replies (conversation_id, seq, sealed, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(&conversation_id[..])
            .bind(reply_seq)
            .bind(reply)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| sql_error(WHAT, &e))?;
        }
        commit(tx, WHAT).await
    }

    async fn intake_threads(&self, limit: u32) -> Result<Vec<IntakeThread>, StoreError> {
        const WHAT: &str = "listing intake conversations";
        let limit = i64::from(limit.min(MAX_INTAKE_THREADS));
        let mut tx = self.pool.begin().await.map_err(|e| sql_error(WHAT, &e))?;
        let conversations = sqlx::query(concat!(
            select_conversation!(),
            " ORDER BY updated_at DESC, conversation_id LIMIT ?"
        ))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| sql_error(WHAT, &e))?
        .iter()
        .map(conversation_from)
        .collect::<Result<Vec<_>, _>>()?;
        intake_blobs_into(
            &mut tx,
            conversations,
            "WHERE conversation_id IN (SELECT conversation_id FROM intake_conversations \
             ORDER BY updated_at DESC, conversation_id LIMIT ?)",
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
            "INSERT INTO intake_referrals (code_hash, uses_left, created_at) VALUES (?, ?, ?)",
        )
        .bind(&code_hash[..])
        .bind(i64::from(uses))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| insert_error("registering a referral code", &e, StoreError::Duplicate))?;
        Ok(())
    }

    async fn use_referral(&self, code_hash: &[u8; 32]) -> Result<bool, StoreError> {
        let spent = sqlx::query(
            "UPDATE intake_referrals SET uses_left = uses_left - 1 WHERE code_hash = ? AND uses_left > 0",
        )
        .bind(&code_hash[..])
        .execute(&self.pool)
        .await
        .map_err(|e| sql_error("spending a referral code", &e))?
        .rows_affected();
        Ok(spent == 1)
    }

    async fn put_invite_intake_keys(
        &self,
        invite_id: &Id,
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO invite_intake_keys (invite_id, sealed) VALUES (?, ?)")
            .bind(&invite_id[..])
            .bind(sealed)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                match insert_error(
                    "attaching intake keys to an invitation",
                    &e,
                    StoreError::Duplicate,
                ) {
                    StoreError::NotFound => StoreError::InviteNotFound,
                    other => other,
                }
            })?;
        Ok(())
    }

    async fn invite_intake_keys(&self, invite_id: &Id) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT sealed FROM invite_intake_keys WHERE invite_id = ?")
            .bind(&invite_id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| sql_error("reading an invitation's intake keys", &e))
    }
}

/// Cases to sync as one JSON parameter: `[["<hex id>", from], …]`.
fn wanted_json<'a>(cases: impl Iterator<Item = &'a (Id, u64)>) -> String {
    let terms: Vec<String> = cases
        .map(|(id, from)| {
            // No entry sits beyond i64::MAX.
            let from = i64::try_from(*from).unwrap_or(i64::MAX);
            format!("[\"{}\",{from}]", hex_id(id))
        })
        .collect();
    format!("[{}]", terms.join(","))
}

/// An id as the lowercase hex that SQLite's `unhex` reads back.
fn hex_id(id: &Id) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(id.len() * 2);
    for b in id {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings the durability and concurrency promises rest on are in
    /// force on every connection of the pool.
    #[tokio::test]
    async fn connections_are_durable_and_wait_for_writers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("n.db")).await.unwrap();
        let mut conns = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool.acquire().await.unwrap();
            let pragma = async |conn: &mut SqliteConnection, name: &'static str| -> String {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                match row.try_get::<String, _>(0) {
                    Ok(s) => s,
                    Err(_) => row.try_get::<i64, _>(0).unwrap().to_string(),
                }
            };
            assert_eq!(pragma(&mut conn, "journal_mode").await, "wal");
            // 2 = FULL: the WAL is synced at every commit.
            assert_eq!(pragma(&mut conn, "synchronous").await, "2");
            assert_eq!(pragma(&mut conn, "foreign_keys").await, "1");
            assert_eq!(pragma(&mut conn, "busy_timeout").await, "30000");
            conns.push(conn);
        }
    }
}

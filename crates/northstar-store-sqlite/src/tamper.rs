//! What an attacker with the database can do to a case's chain, for the tests
//! that prove clients detect and name it (feature `tamper`, tests only). The
//! server's own checks are bypassed on purpose: this edits the file directly.

use std::path::Path;

use northstar_store::{CaseEntryRow, CaseRow, GrantRow, Id, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("tamper: {e}"))
}

/// A second connection to a store's database file.
#[derive(Debug)]
pub struct Tamper {
    pool: SqlitePool,
}

impl Tamper {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(backend)?;
        Ok(Tamper { pool })
    }

    /// One stored entry, as the server would serve it.
    pub async fn entry(&self, case: &Id, seq: u64) -> Result<Vec<u8>, StoreError> {
        sqlx::query_scalar::<_, Vec<u8>>(
            "SELECT entry FROM case_entries WHERE case_id = ? AND seq = ?",
        )
        .bind(case.as_slice())
        .bind(seq as i64)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound)
    }

    async fn set_entry(&self, case: &Id, seq: u64, entry: &[u8]) -> Result<(), StoreError> {
        sqlx::query("UPDATE case_entries SET entry = ? WHERE case_id = ? AND seq = ?")
            .bind(entry)
            .bind(case.as_slice())
            .bind(seq as i64)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Flip one bit of one entry.
    pub async fn flip_entry_byte(
        &self,
        case: &Id,
        seq: u64,
        offset: usize,
    ) -> Result<(), StoreError> {
        let mut entry = self.entry(case, seq).await?;
        let i = offset % entry.len();
        entry[i] ^= 0x01;
        self.set_entry(case, seq, &entry).await
    }

    /// Put another case's entry at `seq` in place of this case's own.
    pub async fn copy_entry_from(&self, from: &Id, to: &Id, seq: u64) -> Result<(), StoreError> {
        let entry = self.entry(from, seq).await?;
        self.set_entry(to, seq, &entry).await
    }

    /// Delete one entry from the middle of the chain.
    pub async fn delete_entry(&self, case: &Id, seq: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM case_entries WHERE case_id = ? AND seq = ?")
            .bind(case.as_slice())
            .bind(seq as i64)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Swap the entries at two positions.
    pub async fn swap_entries(&self, case: &Id, a: u64, b: u64) -> Result<(), StoreError> {
        let (ea, eb) = (self.entry(case, a).await?, self.entry(case, b).await?);
        self.set_entry(case, a, &eb).await?;
        self.set_entry(case, b, &ea).await
    }

    /// Roll the case back to its first `len` entries, head and all.
    pub async fn roll_back(
        &self,
        case: &Id,
        len: u64,
        head_hash: &[u8; 32],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM case_entries WHERE case_id = ? AND seq >= ?")
            .bind(case.as_slice())
            .bind(len as i64)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query("UPDATE cases SET len = ?, head_hash = ? WHERE case_id = ?")
            .bind(len as i64)
            .bind(head_hash.as_slice())
            .bind(case.as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Write many cases, their grants and entries in one transaction, with
    /// none of the server's checks: how a benchmark fills a database with
    /// 100,000 sealed cases in seconds rather than one commit per case.
    pub async fn seed_cases(
        &self,
        cases: &[(CaseRow, Vec<GrantRow>, Vec<CaseEntryRow>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for (case, grants, entries) in cases {
            sqlx::query(
                "INSERT INTO cases (case_id, created_by, created_at, len, head_hash) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(case.case_id.as_slice())
            .bind(case.created_by.as_slice())
            .bind(case.created_at)
            .bind(case.len as i64)
            .bind(case.head_hash.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            for g in grants {
                sqlx::query(
                    "INSERT INTO grants (case_id, compartment, generation, recipient, \
                     granted_by, sealed_grant, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(g.case_id.as_slice())
                .bind(i64::from(g.compartment))
                .bind(i64::from(g.generation))
                .bind(g.recipient.as_slice())
                .bind(g.granted_by.as_slice())
                .bind(g.grant.as_slice())
                .bind(g.created_at)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
            for e in entries {
                sqlx::query(
                    "INSERT INTO case_entries (case_id, seq, compartment, record_id, \
                     generation, entry, wrap, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(e.case_id.as_slice())
                .bind(e.seq as i64)
                .bind(i64::from(e.compartment))
                .bind(e.record_id.as_slice())
                .bind(i64::from(e.generation))
                .bind(e.entry.as_slice())
                .bind(e.wrap.as_deref())
                .bind(e.created_at)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)
    }
}

//! The client's local case cache: one SQLite file in the member's profile.
//!
//! This crate only stores and returns blobs; it never sees a key or a
//! plaintext. The client seals every blob under a key derived from the
//! account root key (`northstar-client`'s `cache` module) and binds each blob
//! to its case id, so rows cannot be swapped or edited unnoticed.
//!
//! Durability: `synchronous = NORMAL` in WAL mode. A crash may lose the last
//! sync's writes, never corrupt the file; the next sync fetches them again.
#![forbid(unsafe_code)]

use std::path::Path;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub type CaseId = [u8; 16];

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the local cache at {path} cannot be used: {reason}")]
    Open { path: String, reason: String },
    #[error("the local cache failed while {what}: {reason}")]
    Backend { what: &'static str, reason: String },
    #[error("the local cache is damaged: {0}")]
    Corrupt(&'static str),
}

fn backend(what: &'static str) -> impl Fn(sqlx::Error) -> CacheError {
    move |e| CacheError::Backend {
        what,
        reason: match &e {
            // Messages only, never bound values.
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        },
    }
}

/// One cached case: where its sync stands, in the clear, and its sealed blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCase {
    pub case_id: CaseId,
    /// How many entries of the chain the cache holds.
    pub len: u64,
    /// The hash of the last of them (zeros when none).
    pub head_hash: [u8; 32],
    pub keys_version: u64,
    pub sealed_keys: Vec<u8>,
    pub sealed_state: Vec<u8>,
    /// The page holding the case's listing.
    pub listing_page: u64,
}

/// Sealed listings of many cases, read and written as one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPage {
    pub page: u64,
    /// How many cases it lists.
    pub listed: u64,
    pub sealed: Vec<u8>,
}

/// The listing pages a change rewrites, and those it leaves empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageChanges {
    pub put: Vec<ListingPage>,
    pub drop: Vec<u64>,
}

/// Where a cached case's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub case_id: CaseId,
    pub len: u64,
    pub head_hash: [u8; 32],
    pub keys_version: u64,
    pub listing_page: u64,
}

#[derive(Debug, Clone)]
pub struct CacheDb {
    pool: SqlitePool,
}

fn id_from(bytes: Vec<u8>) -> Result<CaseId, CacheError> {
    bytes
        .try_into()
        .map_err(|_| CacheError::Corrupt("a case id"))
}

fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32], CacheError> {
    bytes
        .try_into()
        .map_err(|_| CacheError::Corrupt("a head hash"))
}

fn count_from(v: i64) -> Result<u64, CacheError> {
    u64::try_from(v).map_err(|_| CacheError::Corrupt("a count"))
}

fn count_to(v: u64) -> i64 {
    // Counts beyond i64::MAX cannot come from a real chain; saturate rather than wrap.
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn case_from(row: &SqliteRow) -> Result<CachedCase, CacheError> {
    let get = |e: sqlx::Error| CacheError::Backend {
        what: "reading a cached case",
        reason: e.to_string(),
    };
    Ok(CachedCase {
        case_id: id_from(row.try_get("case_id").map_err(get)?)?,
        len: count_from(row.try_get("len").map_err(get)?)?,
        head_hash: hash_from(row.try_get("head_hash").map_err(get)?)?,
        keys_version: count_from(row.try_get("keys_version").map_err(get)?)?,
        sealed_keys: row.try_get("sealed_keys").map_err(get)?,
        sealed_state: row.try_get("sealed_state").map_err(get)?,
        listing_page: count_from(row.try_get("listing_page").map_err(get)?)?,
    })
}

impl CacheDb {
    /// Open (or create) the cache file, readable by its owner only.
    pub async fn open(path: &Path) -> Result<Self, CacheError> {
        let open_error = |reason: String| CacheError::Open {
            path: path.display().to_string(),
            reason,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(|e| open_error(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| open_error(e.to_string()))?;
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| open_error(format!("migrating: {e}")))?;
        Ok(CacheDb { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, CacheError> {
        sqlx::query("SELECT value FROM meta WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("reading the cache's metadata"))?
            .map(|row| {
                row.try_get("value")
                    .map_err(backend("reading the cache's metadata"))
            })
            .transpose()
    }

    pub async fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), CacheError> {
        sqlx::query(
            "INSERT INTO meta (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(backend("writing the cache's metadata"))?;
        Ok(())
    }

    /// Where every cached case stands, in case id order.
    pub async fn positions(&self) -> Result<Vec<Position>, CacheError> {
        sqlx::query(
            "SELECT case_id, len, head_hash, keys_version, listing_page FROM cases \
             ORDER BY case_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("listing cached cases"))?
        .iter()
        .map(|row| {
            let get = backend("listing cached cases");
            Ok(Position {
                case_id: id_from(row.try_get("case_id").map_err(&get)?)?,
                len: count_from(row.try_get("len").map_err(&get)?)?,
                head_hash: hash_from(row.try_get("head_hash").map_err(&get)?)?,
                keys_version: count_from(row.try_get("keys_version").map_err(&get)?)?,
                listing_page: count_from(row.try_get("listing_page").map_err(&get)?)?,
            })
        })
        .collect()
    }

    /// The cached cases among `ids` (at most 10,000 at once), in case id order.
    pub async fn cases(&self, ids: &[CaseId]) -> Result<Vec<CachedCase>, CacheError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT case_id, len, head_hash, keys_version, sealed_keys, sealed_state, \
             listing_page FROM cases WHERE case_id IN (",
        );
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.to_vec());
        }
        q.push(") ORDER BY case_id");
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(backend("reading cached cases"))?
            .iter()
            .map(case_from)
            .collect()
    }

    /// Write (or replace) cases, all in one transaction.
    pub async fn put_cases(
        &self,
        cases: &[CachedCase],
        pages: &PageChanges,
    ) -> Result<(), CacheError> {
        self.save(cases, pages, &[]).await
    }

    /// Remember the highest head verified for each case (only ever raised).
    pub async fn raise_known_heads(
        &self,
        heads: &[(CaseId, u64, [u8; 32])],
    ) -> Result<(), CacheError> {
        self.save(&[], &PageChanges::default(), heads).await
    }

    /// Write (or replace) cases with the listing pages they changed, and
    /// raise their remembered heads, in one transaction: a sync round costs
    /// one commit, and a crash never keeps a case without its listing or
    /// without the head it was verified against.
    pub async fn save(
        &self,
        cases: &[CachedCase],
        pages: &PageChanges,
        heads: &[(CaseId, u64, [u8; 32])],
    ) -> Result<(), CacheError> {
        let what = "writing cached cases";
        let mut tx = self.pool.begin().await.map_err(backend(what))?;
        // Rows go in as multi-row statements: each statement crosses to
        // SQLite's thread once. At most 7 parameters a row, well under
        // SQLite's limit of 32,766 a statement.
        for chunk in cases.chunks(512) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO cases (case_id, len, head_hash, keys_version, sealed_keys, \
                 sealed_state, listing_page) ",
            );
            q.push_values(chunk, |mut row, c| {
                row.push_bind(c.case_id.to_vec())
                    .push_bind(count_to(c.len))
                    .push_bind(c.head_hash.to_vec())
                    .push_bind(count_to(c.keys_version))
                    .push_bind(c.sealed_keys.clone())
                    .push_bind(c.sealed_state.clone())
                    .push_bind(count_to(c.listing_page));
            });
            q.push(
                " ON CONFLICT (case_id) DO UPDATE SET len = excluded.len, \
                 head_hash = excluded.head_hash, keys_version = excluded.keys_version, \
                 sealed_keys = excluded.sealed_keys, sealed_state = excluded.sealed_state, \
                 listing_page = excluded.listing_page",
            );
            q.build().execute(&mut *tx).await.map_err(backend(what))?;
        }
        write_pages(&mut tx, pages).await?;
        for chunk in heads.chunks(1000) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO known_heads (case_id, seq, hash) ");
            q.push_values(chunk, |mut row, (id, seq, hash)| {
                row.push_bind(id.to_vec())
                    .push_bind(count_to(*seq))
                    .push_bind(hash.to_vec());
            });
            q.push(
                " ON CONFLICT (case_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash \
                 WHERE excluded.seq > known_heads.seq",
            );
            q.build()
                .execute(&mut *tx)
                .await
                .map_err(backend("remembering chain heads"))?;
        }
        tx.commit().await.map_err(backend(what))
    }

    /// Replace one case's sealed keys (a grant opened since it was cached).
    pub async fn set_sealed_keys(&self, case: CaseId, sealed: &[u8]) -> Result<(), CacheError> {
        sqlx::query("UPDATE cases SET sealed_keys = ? WHERE case_id = ?")
            .bind(sealed)
            .bind(case.to_vec())
            .execute(&self.pool)
            .await
            .map_err(backend("writing a cached case's keys"))?;
        Ok(())
    }

    /// The highest heads remembered for cases the cache does not hold (the
    /// member lost access to them). A sync reads them once, up front, rather
    /// than asking for each round of cases it has never seen.
    pub async fn known_heads_uncached(&self) -> Result<Vec<(CaseId, u64, [u8; 32])>, CacheError> {
        let what = "reading remembered chain heads";
        sqlx::query(
            "SELECT case_id, seq, hash FROM known_heads \
             WHERE case_id NOT IN (SELECT case_id FROM cases) ORDER BY case_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?
        .iter()
        .map(|row| head_from(row, what))
        .collect()
    }

    /// Forget cases (the member lost access to them) with the listing
    /// pages that held them, in one transaction; their known heads stay.
    pub async fn remove_cases(
        &self,
        ids: &[CaseId],
        pages: &PageChanges,
    ) -> Result<(), CacheError> {
        let what = "removing cached cases";
        let mut tx = self.pool.begin().await.map_err(backend(what))?;
        for id in ids {
            sqlx::query("DELETE FROM cases WHERE case_id = ?")
                .bind(id.to_vec())
                .execute(&mut *tx)
                .await
                .map_err(backend(what))?;
        }
        write_pages(&mut tx, pages).await?;
        tx.commit().await.map_err(backend(what))
    }

    /// Every listing page, in page order.
    pub async fn listing_pages(&self) -> Result<Vec<ListingPage>, CacheError> {
        sqlx::query("SELECT page, listed, sealed FROM listing_pages ORDER BY page")
            .fetch_all(&self.pool)
            .await
            .map_err(backend("reading listing pages"))?
            .iter()
            .map(page_from)
            .collect()
    }

    /// The listing pages among `pages`, in page order.
    pub async fn listing_pages_among(&self, pages: &[u64]) -> Result<Vec<ListingPage>, CacheError> {
        if pages.is_empty() {
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT page, listed, sealed FROM listing_pages WHERE page IN (",
        );
        let mut list = q.separated(", ");
        for page in pages {
            list.push_bind(count_to(*page));
        }
        q.push(") ORDER BY page");
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(backend("reading listing pages"))?
            .iter()
            .map(page_from)
            .collect()
    }

    /// The highest page number in use and how many cases it lists, if any.
    pub async fn last_listing_page(&self) -> Result<Option<(u64, u64)>, CacheError> {
        let what = "reading listing pages";
        sqlx::query("SELECT page, listed FROM listing_pages ORDER BY page DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?
            .map(|row| {
                Ok((
                    count_from(row.try_get("page").map_err(backend(what))?)?,
                    count_from(row.try_get("listed").map_err(backend(what))?)?,
                ))
            })
            .transpose()
    }
}

fn head_from(row: &SqliteRow, what: &'static str) -> Result<(CaseId, u64, [u8; 32]), CacheError> {
    Ok((
        id_from(row.try_get("case_id").map_err(backend(what))?)?,
        count_from(row.try_get("seq").map_err(backend(what))?)?,
        hash_from(row.try_get("hash").map_err(backend(what))?)?,
    ))
}

fn page_from(row: &SqliteRow) -> Result<ListingPage, CacheError> {
    let get = backend("reading listing pages");
    Ok(ListingPage {
        page: count_from(row.try_get("page").map_err(&get)?)?,
        listed: count_from(row.try_get("listed").map_err(&get)?)?,
        sealed: row.try_get("sealed").map_err(&get)?,
    })
}

async fn write_pages(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    pages: &PageChanges,
) -> Result<(), CacheError> {
    let what = "writing listing pages";
    for page in &pages.put {
        sqlx::query(
            "INSERT INTO listing_pages (page, listed, sealed) VALUES (?, ?, ?) \
             ON CONFLICT (page) DO UPDATE SET listed = excluded.listed, sealed = excluded.sealed",
        )
        .bind(count_to(page.page))
        .bind(count_to(page.listed))
        .bind(page.sealed.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(backend(what))?;
    }
    for page in &pages.drop {
        sqlx::query("DELETE FROM listing_pages WHERE page = ?")
            .bind(count_to(*page))
            .execute(&mut **tx)
            .await
            .map_err(backend(what))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: u8, len: u64) -> CachedCase {
        CachedCase {
            case_id: [n; 16],
            len,
            head_hash: [n; 32],
            keys_version: u64::from(n),
            sealed_keys: vec![1, n],
            sealed_state: vec![2, n, 0, 255],
            listing_page: u64::from(n) % 2,
        }
    }

    fn page(page: u64, len: usize) -> ListingPage {
        ListingPage {
            page,
            listed: 1 + page % 3,
            // Every byte value, and a length that differs per page.
            sealed: (0..=255u8)
                .cycle()
                .skip(page as usize % 7)
                .take(len)
                .collect(),
        }
    }

    #[tokio::test]
    async fn listing_pages_come_back_whole_in_order_and_are_replaced_or_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = CacheDb::open(&dir.path().join("cache.sqlite"))
            .await
            .unwrap();
        assert_eq!(db.last_listing_page().await.unwrap(), None);
        let pages: Vec<ListingPage> = (0..40)
            .rev()
            .map(|n| page(n, 70_000 + n as usize))
            .collect();
        let changes = PageChanges {
            put: pages.clone(),
            drop: vec![],
        };
        db.put_cases(&[], &changes).await.unwrap();
        let mut expected = pages;
        expected.sort_by_key(|p| p.page);
        assert_eq!(db.listing_pages().await.unwrap(), expected);
        assert_eq!(db.last_listing_page().await.unwrap(), Some((39, 1)));
        assert_eq!(
            db.listing_pages_among(&[7, 3, 99]).await.unwrap(),
            vec![expected[3].clone(), expected[7].clone()]
        );
        let changes = PageChanges {
            put: vec![page(3, 10)],
            drop: vec![39, 7],
        };
        db.put_cases(&[], &changes).await.unwrap();
        let now = db.listing_pages().await.unwrap();
        assert_eq!(now.len(), 38);
        assert_eq!(now[3], page(3, 10), "replaced");
        assert!(now.iter().all(|p| p.page != 7 && p.page != 39), "dropped");
        assert_eq!(db.last_listing_page().await.unwrap(), Some((38, 3)));
    }

    #[tokio::test]
    async fn cases_round_trip_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite");
        let db = CacheDb::open(&path).await.unwrap();
        assert!(db.positions().await.unwrap().is_empty());
        let both = PageChanges {
            put: vec![page(0, 3), page(1, 4)],
            drop: vec![],
        };
        db.put_cases(&[case(2, 5), case(1, 3)], &both)
            .await
            .unwrap();
        assert_eq!(
            db.positions().await.unwrap(),
            vec![
                Position {
                    case_id: [1; 16],
                    len: 3,
                    head_hash: [1; 32],
                    keys_version: 1,
                    listing_page: 1,
                },
                Position {
                    case_id: [2; 16],
                    len: 5,
                    head_hash: [2; 32],
                    keys_version: 2,
                    listing_page: 0,
                }
            ]
        );
        db.put_cases(&[case(1, 9)], &PageChanges::default())
            .await
            .unwrap();
        assert_eq!(
            db.cases(&[[1; 16], [7; 16]]).await.unwrap(),
            vec![case(1, 9)]
        );
        db.set_sealed_keys([1; 16], &[8, 8]).await.unwrap();
        assert_eq!(
            db.cases(&[[1; 16]]).await.unwrap()[0].sealed_keys,
            vec![8, 8]
        );
        db.raise_known_heads(&[([1; 16], 4, [4; 32]), ([9; 16], 1, [9; 32])])
            .await
            .unwrap();
        assert_eq!(
            db.known_heads_uncached().await.unwrap(),
            vec![([9; 16], 1, [9; 32])],
            "only the heads of cases not cached"
        );
        let emptied = PageChanges {
            put: vec![],
            drop: vec![1],
        };
        db.remove_cases(&[[1; 16]], &emptied).await.unwrap();
        db.raise_known_heads(&[([1; 16], 2, [2; 32])])
            .await
            .unwrap();
        assert_eq!(
            db.known_heads_uncached().await.unwrap(),
            vec![([1; 16], 4, [4; 32]), ([9; 16], 1, [9; 32])],
            "kept when the case leaves the cache, and never lowered"
        );
        db.raise_known_heads(&[([1; 16], 6, [6; 32])])
            .await
            .unwrap();
        assert_eq!(
            db.known_heads_uncached().await.unwrap()[0],
            ([1; 16], 6, [6; 32])
        );
        assert_eq!(db.positions().await.unwrap().len(), 1);
        assert_eq!(db.listing_pages().await.unwrap(), vec![page(0, 3)]);
        db.set_meta("check", b"x").await.unwrap();
        db.set_meta("check", b"y").await.unwrap();
        assert_eq!(db.meta("check").await.unwrap(), Some(b"y".to_vec()));
        assert_eq!(db.meta("other").await.unwrap(), None);
        db.close().await;
        // It survives a reopen, and only its owner may read the file.
        let db = CacheDb::open(&path).await.unwrap();
        assert_eq!(db.positions().await.unwrap().len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

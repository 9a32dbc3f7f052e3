//! The cache's listings, sealed a page of cases at a time.
//!
//! A list or a search opens every listing. At 100,000 cases, reading
//! 100,000 rows out of SQLite took longer than opening them, so listings are
//! kept in pages of up to [`PAGE_SIZE`]: a full list reads a few hundred
//! rows and opens a few hundred AEAD blobs. Each case row names its page; a
//! change rewrites only the pages it touches, in the same transaction as the
//! rows (`CacheDb::save`, `CacheDb::remove_cases`).
//!
//! A page is sealed under the cache key and bound to its page number; every
//! listing in it names its case. Which cases share a page says only the order
//! they were first synced in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use northstar_crypto::localseal;
use northstar_store_cache::{CacheDb, CaseId, ListingPage, PageChanges};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::sync::{Listing, damaged};
use crate::{ClientError, Result};

/// Listings a page holds at most: about 150 KiB sealed.
pub(crate) const PAGE_SIZE: usize = 512;

fn label(page: u64) -> String {
    format!("northstar/v1/cache/listing-page/{page}")
}

fn cache_error(e: northstar_store_cache::CacheError) -> ClientError {
    ClientError::Cache(e.to_string())
}

pub(crate) fn seal(key: &[u8; 32], page: u64, listings: &[&Listing]) -> ListingPage {
    let json = Zeroizing::new(serde_json::to_vec(listings).expect("listings serialize"));
    ListingPage {
        page,
        listed: listings.len() as u64,
        sealed: localseal::seal(key, &label(page), &json, &mut OsRng),
    }
}

pub(crate) fn open(key: &[u8; 32], page: &ListingPage) -> Result<Vec<Listing>> {
    let plain = localseal::open(key, &label(page.page), &page.sealed).map_err(|_| {
        damaged(&format!(
            "the cached listing page {} does not open",
            page.page
        ))
    })?;
    let listings: Vec<Listing> = serde_json::from_slice(&plain).map_err(|_| {
        damaged(&format!(
            "the cached listing page {} is unreadable",
            page.page
        ))
    })?;
    if listings.len() as u64 != page.listed {
        return Err(damaged(&format!(
            "the cached listing page {} does not hold what its row says",
            page.page
        )));
    }
    Ok(listings)
}

/// Open every page, on every core, into one list in case id order. A case
/// listed twice means pages from different times were put together.
pub(crate) fn open_all(
    key: &[u8; 32],
    pages: &[ListingPage],
    workers: usize,
) -> Result<Vec<Listing>> {
    let chunk = pages.len().div_ceil(workers).max(1);
    let mut all = std::thread::scope(|s| {
        let handles: Vec<_> = pages
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut out = vec![];
                    for page in part {
                        out.extend(open(key, page)?);
                    }
                    Ok::<_, ClientError>(out)
                })
            })
            .collect();
        let mut all = vec![];
        for h in handles {
            all.extend(h.join().expect("opening listing pages does not panic")?);
        }
        Ok::<_, ClientError>(all)
    })?;
    all.sort_unstable_by(|a, b| a.case_id.cmp(&b.case_id));
    if let Some(twice) = all.windows(2).find(|w| w[0].case_id == w[1].case_id) {
        return Err(damaged(&format!(
            "case {} is listed on two cached pages",
            twice[0].case_id
        )));
    }
    Ok(all)
}

/// A case whose listing changes: where it is listed now (if anywhere) and
/// its new listing (none when it leaves the cache).
pub(crate) struct Change {
    pub case: CaseId,
    pub page: Option<u64>,
    pub listing: Option<Listing>,
}

/// The pages `changes` rewrite, and the page each listed case ends up on.
/// A changed case stays on its page. New ones join the last page while it
/// is less than half full, then go on new pages: a cold sync never opens a
/// page again to add to it, and a few new cases do not start a page each. Only one such plan may be in flight at a time per cache: the
/// caller writes it before making the next.
pub(crate) async fn plan(
    db: &CacheDb,
    key: &[u8; 32],
    changes: Vec<Change>,
) -> Result<(HashMap<CaseId, u64>, PageChanges)> {
    let mut wanted: BTreeSet<u64> = changes.iter().filter_map(|c| c.page).collect();
    let arriving = changes
        .iter()
        .any(|c| c.page.is_none() && c.listing.is_some());
    let last = db.last_listing_page().await.map_err(cache_error)?;
    let filling = last
        .filter(|&(_, listed)| arriving && listed < (PAGE_SIZE / 2) as u64)
        .map(|(page, _)| page);
    wanted.extend(filling);
    let wanted: Vec<u64> = wanted.into_iter().collect();
    let mut pages: BTreeMap<u64, BTreeMap<String, Listing>> = BTreeMap::new();
    for page in db.listing_pages_among(&wanted).await.map_err(cache_error)? {
        let listings = open(key, &page)?
            .into_iter()
            .map(|l| (l.case_id.clone(), l))
            .collect();
        pages.insert(page.page, listings);
    }
    if let Some(missing) = wanted.iter().find(|p| !pages.contains_key(p)) {
        return Err(damaged(&format!(
            "the cached listing page {missing} is missing"
        )));
    }
    let mut dirty = BTreeSet::new();
    for change in &changes {
        if let Some(page) = change.page {
            let hex = northstar_crypto::ids::to_hex(&change.case);
            pages.get_mut(&page).expect("loaded above").remove(&hex);
            dirty.insert(page);
        }
    }
    let mut next = last.map_or(0, |(page, _)| page + 1);
    let mut filling = filling;
    let mut placed = HashMap::new();
    for change in changes {
        let Some(listing) = change.listing else {
            continue;
        };
        let hex = northstar_crypto::ids::to_hex(&change.case);
        let page = match change.page {
            Some(page) => page,
            None => match filling {
                Some(page) if pages[&page].len() < PAGE_SIZE => page,
                _ => {
                    let page = next;
                    next += 1;
                    pages.insert(page, BTreeMap::new());
                    filling = Some(page);
                    page
                }
            },
        };
        pages
            .get_mut(&page)
            .expect("loaded or made above")
            .insert(hex, listing);
        placed.insert(change.case, page);
        dirty.insert(page);
    }
    let mut out = PageChanges::default();
    for page in dirty {
        let listings: Vec<&Listing> = pages[&page].values().collect();
        if listings.is_empty() {
            out.drop.push(page);
        } else {
            out.put.push(seal(key, page, &listings));
        }
    }
    Ok((placed, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn id(n: u32) -> CaseId {
        let mut id = [0u8; 16];
        id[12..].copy_from_slice(&n.to_be_bytes());
        id
    }

    fn listing(n: u32, alias: &str) -> Listing {
        Listing {
            case_id: northstar_crypto::ids::to_hex(&id(n)),
            alias: Some(alias.into()),
            ..Listing::default()
        }
    }

    async fn apply(db: &CacheDb, changes: Vec<Change>) -> HashMap<CaseId, u64> {
        let (placed, pages) = plan(db, &KEY, changes).await.unwrap();
        db.put_cases(&[], &pages).await.unwrap();
        placed
    }

    fn arriving(numbers: impl Iterator<Item = u32>) -> Vec<Change> {
        numbers
            .map(|n| Change {
                case: id(n),
                page: None,
                listing: Some(listing(n, "first")),
            })
            .collect()
    }

    #[tokio::test]
    async fn new_cases_fill_pages_and_changes_stay_on_their_page() {
        let dir = tempfile::tempdir().unwrap();
        let db = CacheDb::open(&dir.path().join("cache.sqlite3"))
            .await
            .unwrap();
        // Three rounds of new cases, in no particular order.
        let mut placed = apply(&db, arriving((0..300).rev())).await;
        placed.extend(apply(&db, arriving(300..700)).await);
        placed.extend(apply(&db, arriving(700..1300)).await);
        placed.extend(apply(&db, arriving(1300..1310)).await);
        let mut per_page: BTreeMap<u64, usize> = BTreeMap::new();
        for page in placed.values() {
            *per_page.entry(*page).or_default() += 1;
        }
        assert_eq!(
            per_page.into_values().collect::<Vec<_>>(),
            vec![300, 400, 512, 98],
            "a new page for each large round, filled up to its size; a few cases join a page less than half full"
        );
        let pages = db.listing_pages().await.unwrap();
        assert_eq!(pages.len(), 4);
        let all = open_all(&KEY, &pages, 2).unwrap();
        let ids: Vec<String> = all.iter().map(|l| l.case_id.clone()).collect();
        let expected: Vec<String> = (0..1310)
            .map(|n| northstar_crypto::ids::to_hex(&id(n)))
            .collect();
        assert_eq!(ids, expected, "every case once, in case id order");

        // A changed case is rewritten on its page; a removed one leaves it.
        let changes = vec![
            Change {
                case: id(5),
                page: Some(placed[&id(5)]),
                listing: Some(listing(5, "renamed")),
            },
            Change {
                case: id(6),
                page: Some(placed[&id(6)]),
                listing: None,
            },
        ];
        let (moved, written) = plan(&db, &KEY, changes).await.unwrap();
        assert_eq!(moved, HashMap::from([(id(5), placed[&id(5)])]));
        assert_eq!(written.put.len(), 1, "one page rewritten");
        db.put_cases(&[], &written).await.unwrap();
        let all = open_all(&KEY, &db.listing_pages().await.unwrap(), 2).unwrap();
        assert_eq!(all.len(), 1309);
        assert_eq!(all[5].alias.as_deref(), Some("renamed"));
        assert!(all.iter().all(|l| l.case_id != listing(6, "").case_id));

        // A page whose every case leaves is dropped.
        let last_page = placed[&id(1309)];
        let leaving: Vec<Change> = placed
            .iter()
            .filter(|(_, page)| **page == last_page)
            .map(|(case, page)| Change {
                case: *case,
                page: Some(*page),
                listing: None,
            })
            .collect();
        let (_, written) = plan(&db, &KEY, leaving).await.unwrap();
        assert_eq!(written.drop, vec![last_page]);
        assert!(written.put.is_empty());
    }

    #[tokio::test]
    async fn a_page_moved_or_repeated_is_refused_by_name() {
        let one = seal(&KEY, 3, &[&listing(1, "a")]);
        let moved = ListingPage {
            page: 4,
            ..one.clone()
        };
        let err = open_all(&KEY, &[moved], 1).unwrap_err().to_string();
        assert!(err.contains("listing page 4 does not open"), "{err}");
        let miscounted = ListingPage {
            listed: 2,
            ..one.clone()
        };
        let err = open_all(&KEY, &[miscounted], 1).unwrap_err().to_string();
        assert!(err.contains("does not hold what its row says"), "{err}");
        let again = seal(&KEY, 9, &[&listing(1, "b")]);
        let err = open_all(&KEY, &[one, again], 2).unwrap_err().to_string();
        assert!(err.contains("listed on two cached pages"), "{err}");
    }
}

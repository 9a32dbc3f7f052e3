//! Statistics with small cells suppressed, so a count can never point at a
//! person.
//!
//! Each table counts cases along one dimension (stage, month, destination,
//! pathway). A cell below `k` is suppressed (primary suppression). Totals
//! printed beside a table cover only the cells shown, and the number of
//! cases may be known from elsewhere, so the suppressed cells' sum must be
//! assumed known too. They must therefore never be pinned down by it: a
//! table never has exactly one suppressed cell, and the suppressed cells
//! never sum to their own number (which would make each exactly 1). When
//! either would happen, the smallest shown cell is suppressed as well
//! (secondary suppression), until neither does. Zero cells are shown as 0:
//! they describe nobody.
//!
//! Only one-dimensional tables are produced; cross-tables would add linear
//! constraints between tables that this rule does not cover.

use std::collections::BTreeMap;

use serde::Serialize;

/// The default smallest count shown.
pub const DEFAULT_K: u64 = 5;

/// One cell of a published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Count(u64),
    /// Fewer than k, or hidden so that one that is cannot be worked out.
    Suppressed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub dimension: String,
    pub cells: Vec<(String, Cell)>,
    /// The sum of the cells shown (never of the suppressed ones).
    pub shown_total: u64,
    pub suppressed_cells: usize,
}

/// Publish `counts` with cells below `k` suppressed, and as many more as
/// needed so that no suppressed cell can be derived.
pub fn suppress(dimension: &str, counts: &BTreeMap<String, u64>, k: u64) -> Table {
    let mut hidden: Vec<bool> = counts.values().map(|&n| n > 0 && n < k).collect();
    let values: Vec<u64> = counts.values().copied().collect();
    loop {
        let suppressed: Vec<u64> = values
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| **h)
            .map(|(v, _)| *v)
            .collect();
        let pinned = suppressed.len() == 1
            || (!suppressed.is_empty()
                && suppressed.iter().sum::<u64>() == suppressed.len() as u64);
        if !pinned {
            break;
        }
        // Hide the smallest non-zero cell still shown; with none left, hide nothing more
        // (then every non-zero cell is hidden and only their sum is known).
        let next = values
            .iter()
            .enumerate()
            .filter(|(i, v)| !hidden[*i] && **v > 0)
            .min_by_key(|(i, v)| (**v, *i))
            .map(|(i, _)| i);
        match next {
            Some(i) => hidden[i] = true,
            None => {
                // Every non-zero cell is hidden and still only one split fits
                // (say two cells of 1): hide the zeros too, so the split is open.
                hidden.iter_mut().for_each(|h| *h = true);
                break;
            }
        }
    }
    let cells: Vec<(String, Cell)> = counts
        .iter()
        .zip(&hidden)
        .map(|((name, n), h)| {
            (
                name.clone(),
                if *h {
                    Cell::Suppressed
                } else {
                    Cell::Count(*n)
                },
            )
        })
        .collect();
    Table {
        dimension: dimension.to_owned(),
        shown_total: cells
            .iter()
            .map(|(_, c)| match c {
                Cell::Count(n) => *n,
                Cell::Suppressed => 0,
            })
            .sum(),
        suppressed_cells: hidden.iter().filter(|h| **h).count(),
        cells,
    }
}

/// Whether any suppressed cell of `table` can be worked out from the cells
/// shown and the true number of cases `total` (which may be known from
/// elsewhere): true when the suppressed cells admit exactly one assignment.
/// Hidden cells are at least 1 while zeros are shown, at least 0 once a
/// table hides its zeros too. A table of one category says only how many
/// cases there are, which `total` already does; it is not counted.
pub fn derivable(table: &Table, total: u64) -> bool {
    let hidden = table.suppressed_cells as u64;
    if hidden == 0 || table.cells.len() == 1 {
        return false;
    }
    let zeros_hidden = table.suppressed_cells == table.cells.len();
    // A total below what is shown is the caller's mistake; it must not wrap.
    let sum = total.saturating_sub(table.shown_total);
    let floor = if zeros_hidden { 0 } else { hidden };
    hidden == 1 || sum == floor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn small_cells_are_hidden_and_a_lone_one_takes_another_with_it() {
        let t = suppress(
            "stage",
            &counts(&[("a", 12), ("b", 3), ("c", 7), ("d", 0)]),
            5,
        );
        assert_eq!(
            t.cells,
            vec![
                ("a".into(), Cell::Count(12)),
                ("b".into(), Cell::Suppressed),
                ("c".into(), Cell::Suppressed),
                ("d".into(), Cell::Count(0)),
            ],
            "b alone would be total minus the rest; c, the smallest shown, goes too"
        );
        assert_eq!(t.shown_total, 12);
        assert!(!derivable(&t, 22));
    }

    #[test]
    fn a_total_below_what_is_shown_answers_instead_of_wrapping() {
        let t = suppress("stage", &counts(&[("a", 12), ("b", 3), ("c", 7)]), 5);
        assert_eq!(t.shown_total, 12);
        assert!(!derivable(&t, 5), "two hidden cells summing to nothing");
    }

    #[test]
    fn hidden_cells_that_could_only_be_ones_take_another_with_them() {
        let t = suppress(
            "month",
            &counts(&[("a", 1), ("b", 1), ("c", 9), ("d", 20)]),
            5,
        );
        assert_eq!(t.suppressed_cells, 3, "{t:?}");
        assert_eq!(t.cells[2].1, Cell::Suppressed);
        assert!(!derivable(&t, 31));
    }

    #[test]
    fn a_table_that_cannot_hide_a_split_hides_its_zeros_too() {
        let t = suppress("x", &counts(&[("a", 1), ("b", 1), ("c", 0)]), 5);
        assert_eq!(t.suppressed_cells, 3);
        assert!(!derivable(&t, 2));
    }

    #[test]
    fn nothing_small_means_nothing_hidden() {
        let t = suppress("x", &counts(&[("a", 5), ("b", 50)]), 5);
        assert_eq!(t.suppressed_cells, 0);
        assert_eq!(t.shown_total, 55);
    }

    /// 1,000 cases spread over dimensions of every shape: no table ever lets
    /// a suppressed cell be derived, and every cell below k is hidden.
    #[test]
    fn no_suppressed_cell_is_ever_derivable() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2000 {
            let cells = 1 + (next() % 12) as usize;
            let k = 2 + next() % 9;
            let mut table = BTreeMap::new();
            let mut left = 1000u64;
            for i in 0..cells {
                // Skewed: many small cells, some big ones.
                let n = if i + 1 == cells {
                    left
                } else {
                    (next() % (left / 4 + 1)).min(left) >> (next() % 6)
                };
                left -= n;
                table.insert(format!("c{i:02}"), n);
            }
            let t = suppress("dim", &table, k);
            assert!(
                !derivable(&t, 1000),
                "round {round}, k {k}: {table:?} → {t:?}"
            );
            for ((_, n), (_, cell)) in table.iter().zip(&t.cells) {
                if *n > 0 && *n < k {
                    assert_eq!(*cell, Cell::Suppressed, "round {round}");
                }
                if let Cell::Count(shown) = cell {
                    assert_eq!(shown, n, "shown cells are exact");
                }
            }
        }
    }
}

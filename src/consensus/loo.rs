//! Leave-one-out majority vote: for every annotation, the majority label of the *other*
//! annotations on the same item, so an annotator can be scored against a consensus it did
//! not vote in. Majority vote as in crowd-kit's `MajorityVote` (see `majority.rs`).
//!
//! Tie rule: the label first in the dataset's label order, as `majority.rs`.
//!
//! Missing labels: only given labels vote; an annotation that is alone on its item has no
//! leave-one-out majority (`NO_LABEL`, share 0). Gold is not used.
//!
//! Cost: one sort of each item's labels, then O(log distinct labels) per annotation, using
//! the item's top counts (removing one vote changes the winner only in a few ways).

use rayon::prelude::*;

use super::{split_lengths, ITEM_CHUNK};
use crate::dataset::{Dataset, NO_LABEL};

/// Leave-one-out majority per annotation position (indexes match `ds.label`).
#[derive(Debug, Clone, PartialEq)]
pub struct LooMajority {
    /// Majority label of the other annotations on the item; `NO_LABEL` when there are none.
    pub label: Vec<u32>,
    /// Share of the other annotations that gave `label` (0 when there are none).
    pub share: Vec<f64>,
    /// Whether the top count among the other annotations was shared by several labels.
    pub tied: Vec<bool>,
}

/// Leave-one-out majority for every annotation, O(annotations · log) in total, parallel over
/// items and identical for any thread count.
pub fn leave_one_out_majority(ds: &Dataset) -> LooMajority {
    let n = ds.n_annotations();
    let mut out = LooMajority {
        label: vec![NO_LABEL; n],
        share: vec![0.0; n],
        tied: vec![false; n],
    };
    let n_items = ds.n_items();
    let lens: Vec<usize> = (0..n_items.div_ceil(ITEM_CHUNK))
        .map(|c| {
            let end = ((c + 1) * ITEM_CHUNK).min(n_items);
            ds.item_offsets[end] - ds.item_offsets[c * ITEM_CHUNK]
        })
        .collect();
    let labels = split_lengths(&mut out.label, &lens);
    let shares = split_lengths(&mut out.share, &lens);
    let tied = split_lengths(&mut out.tied, &lens);
    labels
        .into_par_iter()
        .zip(shares)
        .zip(tied)
        .enumerate()
        .for_each(|(chunk, ((labels, shares), tied))| {
            let first_item = chunk * ITEM_CHUNK;
            let base = ds.item_offsets[first_item];
            let mut runs: Vec<(u32, usize)> = Vec::new();
            let mut sorted: Vec<u32> = Vec::new();
            for item in first_item..((chunk + 1) * ITEM_CHUNK).min(n_items) {
                let range = ds.item_range(item);
                let n = range.len();
                if n < 2 {
                    continue;
                }
                sorted.clear();
                sorted.extend_from_slice(&ds.label[range.clone()]);
                sorted.sort_unstable();
                runs.clear();
                for &l in &sorted {
                    match runs.last_mut() {
                        Some((last, count)) if *last == l => *count += 1,
                        _ => runs.push((l, 1)),
                    }
                }
                let top = Top::of(&runs);
                for pos in range {
                    let l = ds.label[pos];
                    let count = runs
                        .binary_search_by_key(&l, |r| r.0)
                        .map_or(0, |i| runs[i].1);
                    let (winner, votes, is_tied) = top.without(l, count);
                    let j = pos - base;
                    labels[j] = winner;
                    shares[j] = votes as f64 / (n - 1) as f64;
                    tied[j] = is_tied;
                }
            }
        });
    out
}

/// The counts needed to know the majority after removing any one vote.
struct Top {
    /// Highest count and how many labels have it.
    max: usize,
    n_max: usize,
    /// Lowest and second-lowest labels with the highest count.
    first: u32,
    second: u32,
    /// How many labels have `max − 1` votes, and the lowest of them.
    n_below: usize,
    below: u32,
}

impl Top {
    /// `runs`: (label, count) sorted by label.
    fn of(runs: &[(u32, usize)]) -> Top {
        let max = runs.iter().map(|r| r.1).max().unwrap_or(0);
        let mut top = Top {
            max,
            n_max: 0,
            first: NO_LABEL,
            second: NO_LABEL,
            n_below: 0,
            below: NO_LABEL,
        };
        for &(l, c) in runs {
            if c == max {
                if top.n_max == 0 {
                    top.first = l;
                } else if top.n_max == 1 {
                    top.second = l;
                }
                top.n_max += 1;
            } else if c + 1 == max {
                if top.n_below == 0 {
                    top.below = l;
                }
                top.n_below += 1;
            }
        }
        top
    }

    /// (winner, its votes, tied) once one vote for `label` (which had `count`) is removed.
    fn without(&self, label: u32, count: usize) -> (u32, usize, bool) {
        if count < self.max {
            (self.first, self.max, self.n_max > 1)
        } else if self.n_max > 1 {
            let winner = if label == self.first {
                self.second
            } else {
                self.first
            };
            (winner, self.max, self.n_max > 2)
        } else {
            // `label` was the only leader and drops to max − 1, level with `below` labels.
            (label.min(self.below), self.max - 1, self.n_below > 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force: recount the other annotations for every position.
    fn brute(ds: &Dataset) -> LooMajority {
        let n = ds.n_annotations();
        let mut out = LooMajority {
            label: vec![NO_LABEL; n],
            share: vec![0.0; n],
            tied: vec![false; n],
        };
        for item in 0..ds.n_items() {
            let range = ds.item_range(item);
            for pos in range.clone() {
                let mut counts = vec![0usize; ds.n_labels()];
                for other in range.clone().filter(|&o| o != pos) {
                    counts[ds.label[other] as usize] += 1;
                }
                let max = counts.iter().copied().max().unwrap_or(0);
                if max == 0 {
                    continue;
                }
                out.label[pos] = counts.iter().position(|&c| c == max).unwrap() as u32;
                out.share[pos] = max as f64 / (range.len() - 1) as f64;
                out.tied[pos] = counts.iter().filter(|&&c| c == max).count() > 1;
            }
        }
        out
    }

    #[test]
    fn hand_checked_item() {
        // Item 1: a=x, b=x, c=y. Without a: x vs y tie -> x (first label), share 1/2.
        let ds = Dataset::from_triples([("1", "a", "x"), ("1", "b", "x"), ("1", "c", "y")]);
        let loo = leave_one_out_majority(&ds);
        assert_eq!(loo.label, vec![0, 0, 0]);
        assert_eq!(loo.share, vec![0.5, 0.5, 1.0]);
        assert_eq!(loo.tied, vec![true, true, false]);
        let alone = Dataset::from_triples([("1", "a", "x")]);
        assert_eq!(leave_one_out_majority(&alone).label, vec![NO_LABEL]);
    }

    proptest! {
        #[test]
        fn matches_brute_force(rows in proptest::collection::vec((0u8..6, 0u8..7, 0u8..4), 0..80)) {
            let strings: Vec<(String, String, String)> = rows
                .iter()
                .map(|(i, a, l)| (i.to_string(), format!("a{a}"), format!("l{l}")))
                .collect();
            let ds = Dataset::from_triples(
                strings.iter().map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
            );
            prop_assert_eq!(leave_one_out_majority(&ds), brute(&ds));
        }
    }
}

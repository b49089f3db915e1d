//! Majority vote, as crowd-kit's `MajorityVote` (no paper; the baseline of every truth
//! inference study, e.g. Snow et al. 2008, "Cheap and Fast — But is it Good?", EMNLP).
//!
//! Posteriors are vote shares. Tie rule: the tied label that comes first in the dataset's
//! label order (numbers by value, then strings by bytes, or `--order`). crowd-kit takes the
//! first column of its sorted label columns (`idxmax`), which is the same rule whenever the
//! two orders agree (e.g. single-digit or purely textual labels read as strings).
//!
//! Missing labels: only given labels vote; an item without any gets `NO_LABEL`. With
//! `use_gold`, gold items take their gold label (one-hot) and are not counted as ties.

use rayon::prelude::*;

use super::{Consensus, Method, Problem, ITEM_CHUNK};
use crate::dataset::NO_LABEL;

/// Vote shares per item (compact `items × k`), the compact winner per item and the number of
/// tied items. Shared with Dawid-Skene, which starts from these shares.
pub(crate) fn vote_shares(p: &Problem) -> (Vec<f64>, Vec<u32>, usize) {
    let k = p.k;
    let n_items = p.n_items();
    let mut post = vec![0.0; n_items * k];
    let mut winner = vec![NO_LABEL; n_items];
    if k == 0 {
        return (post, winner, 0);
    }
    let ties: Vec<usize> = post
        .par_chunks_mut(ITEM_CHUNK * k)
        .zip(winner.par_chunks_mut(ITEM_CHUNK))
        .enumerate()
        .map(|(chunk, (rows, wins))| {
            let mut ties = 0;
            for (j, (row, win)) in rows.chunks_mut(k).zip(wins.iter_mut()).enumerate() {
                let item = chunk * ITEM_CHUNK + j;
                let range = p.ds.item_range(item);
                if range.is_empty() {
                    continue;
                }
                let n = range.len() as f64;
                // Written before it is read: a fresh page read first maps the shared zero
                // page, and the first write then costs a second fault and a TLB shootdown.
                row.fill(0.0);
                for &l in &p.obs[range] {
                    row[l as usize] += 1.0;
                }
                let best = super::argmax(row);
                let gold = p.gold[item];
                if gold != NO_LABEL {
                    row.fill(0.0);
                    row[gold as usize] = 1.0;
                    *win = gold;
                    continue;
                }
                let top = row[best];
                ties += usize::from(row.iter().filter(|&&c| c == top).count() > 1);
                for v in row.iter_mut() {
                    *v /= n;
                }
                *win = best as u32;
            }
            ties
        })
        .collect();
    (post, winner, ties.iter().sum())
}

/// Majority vote consensus.
pub(crate) fn run(p: &Problem) -> Consensus {
    let (post, winner, ties) = vote_shares(p);
    let mut out = p.finish(Method::MajorityVote, &post);
    out.ties = ties;
    // Agreement of each annotator with the consensus, their own vote included (crowd-kit's
    // `skills_`).
    out.annotator_accuracy = (0..p.n_annotators())
        .into_par_iter()
        .map(|a| {
            let entries = p.annotator_entries(a);
            if entries.is_empty() {
                return f64::NAN;
            }
            let hits = entries
                .iter()
                .filter(|e| e.label == winner[e.item as usize])
                .count();
            hits as f64 / entries.len() as f64
        })
        .collect();
    out
}

//! Item ambiguity: an item is contested when the annotators are split (top vote share below
//! the policy's `contested_share`). For judging one annotator, the share is computed among
//! the OTHER annotators only (the leave-one-out share), so an annotator cannot make an item
//! clear or contested by its own vote.

use rayon::prelude::*;

use super::{ConsensusView, Policy, NO_LABEL};
use crate::Dataset;

/// Per annotation position: is the item clear for judging this annotation?
/// Clear = a leave-one-out label exists, at least `min_other_annotators` others, and the
/// others' top share is at least `contested_share`.
pub fn clear_positions(ds: &Dataset, view: &ConsensusView, policy: &Policy) -> Vec<bool> {
    let mut clear = vec![false; ds.n_annotations()];
    for item in 0..ds.n_items() {
        let range = ds.item_range(item);
        let others = range.len().saturating_sub(1);
        for pos in range {
            let label = view.loo_label.get(pos).copied().unwrap_or(NO_LABEL);
            let share = view.loo_share.get(pos).copied().unwrap_or(0.0);
            clear[pos] = label != NO_LABEL
                && others >= policy.min_other_annotators
                && share >= policy.contested_share;
        }
    }
    clear
}

/// Top vote share of an item among all its annotators (`None` with fewer than 2 votes).
pub fn item_top_share(labels: &[u32], scratch: &mut Vec<u32>) -> Option<f64> {
    if labels.len() < 2 {
        return None;
    }
    scratch.clear();
    scratch.extend_from_slice(labels);
    scratch.sort_unstable();
    let mut best = 0usize;
    let mut run = 0usize;
    for i in 0..scratch.len() {
        run = if i > 0 && scratch[i] == scratch[i - 1] {
            run + 1
        } else {
            1
        };
        best = best.max(run);
    }
    Some(best as f64 / labels.len() as f64)
}

/// Number of items (with at least two annotations) whose top vote share is below
/// `contested_share`.
pub fn contested_items(ds: &Dataset, contested_share: f64) -> usize {
    // A count: the same whatever the order or the number of threads.
    (0..ds.n_items())
        .into_par_iter()
        .map_init(Vec::new, |scratch, i| {
            item_top_share(ds.item_labels(i), scratch).is_some_and(|s| s < contested_share)
        })
        .filter(|&contested| contested)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contested_is_judged_without_the_annotator() {
        // Item 1: a,b,c say x, d says y -> for d the others are unanimous (clear),
        // for a the others are x,x,y (share 2/3 >= .6: clear).
        // Item 2: four different labels -> no leave-one-out majority for anyone (contested).
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "x"),
            ("1", "d", "y"),
            ("2", "a", "x"),
            ("2", "b", "y"),
            ("2", "c", "z"),
            ("2", "d", "w"),
        ]);
        let plain = crate::quality::PlainVote::new(&ds);
        let clear = clear_positions(&ds, &plain.view(), &Policy::default());
        assert_eq!(&clear[0..4], &[true, true, true, true]);
        assert_eq!(&clear[4..8], &[false, false, false, false]);
        assert_eq!(contested_items(&ds, 0.6), 1);
    }
}

//! What the per-annotator signals read about each annotation, in one small record.
//!
//! The dataset is sorted by item, so one annotator's annotations lie scattered over the
//! whole batch, and reading an annotation's item (its other labels, its gold label) through
//! `item_of` and `item_offsets` is a chain of dependent cache misses per annotation. The
//! records are filled in one pass over the items, where all of that is at hand, into one
//! contiguous slice per annotator, so that an annotator's work streams through memory.

use rayon::prelude::*;

use super::{LeaveOneOut, Policy, NO_LABEL};
use crate::Dataset;

/// Most other annotators whose labels a record holds itself.
const MAX_PACKED: usize = 6;
/// `n_packed` of a record whose item is read from the dataset instead.
const NOT_PACKED: u8 = u8::MAX;

/// One annotation, with what its annotator's signals need from the item.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Ann {
    /// The item's first position in the dataset columns: identifies the item and, as item
    /// ids grow with it, orders items like their ids.
    pub lo: u32,
    pub label: u32,
    /// Majority label of the other annotators (`NO_LABEL` when none or tied).
    pub loo: u32,
    /// The item's gold label (`NO_LABEL` when it is not a gold item).
    pub gold: u32,
    /// Labels of the other annotators in item order when they fit (labels below 256, at
    /// most `MAX_PACKED` others); else the item's number of annotations, little-endian.
    packed: [u8; MAX_PACKED],
    /// Number of labels in `packed`, or `NOT_PACKED`.
    n_packed: u8,
    /// The item is clear for judging this annotation (see `ambiguity::clear_positions`).
    pub clear: bool,
}

impl Ann {
    /// The item's range in the dataset columns.
    pub fn item_range(&self) -> std::ops::Range<usize> {
        let len = if self.n_packed == NOT_PACKED {
            let [a, b, c, d, ..] = self.packed;
            u32::from_le_bytes([a, b, c, d]) as usize
        } else {
            usize::from(self.n_packed) + 1
        };
        self.lo as usize..self.lo as usize + len
    }

    /// Labels of the other annotators on the item (`annotator` is this record's own).
    pub fn others<'a>(&self, ds: &Dataset, annotator: u32, out: &'a mut Vec<u32>) -> &'a [u32] {
        out.clear();
        if self.n_packed == NOT_PACKED {
            let range = self.item_range();
            let who = &ds.annotator[range.clone()];
            out.extend(
                who.iter()
                    .zip(&ds.label[range])
                    .filter(|(&b, _)| b != annotator)
                    .map(|(_, &l)| l),
            );
        } else {
            let n = usize::from(self.n_packed);
            out.extend(self.packed[..n].iter().map(|&l| u32::from(l)));
        }
        out
    }
}

/// Every annotator's annotations as contiguous records (CSR by annotator), in item order.
#[derive(Debug, Clone, Default)]
pub(super) struct ByAnnotator {
    /// `offsets[a]..offsets[a + 1]` is annotator `a`'s range in the columns below.
    pub offsets: Vec<usize>,
    pub anns: Vec<Ann>,
    /// Durations in the same order, when the dataset has them.
    pub duration_s: Option<Vec<f32>>,
    /// Submission times in the same order, when the dataset has them.
    pub submitted_at_ms: Option<Vec<i64>>,
}

impl ByAnnotator {
    pub fn range(&self, annotator: usize) -> std::ops::Range<usize> {
        self.offsets[annotator]..self.offsets[annotator + 1]
    }

    /// Annotator `a`'s records.
    pub fn anns(&self, annotator: usize) -> &[Ann] {
        &self.anns[self.range(annotator)]
    }

    /// Build the records. `pack` = false reads every item's other labels from the dataset
    /// (for tests of the packed path).
    pub fn build(ds: &Dataset, votes: &LeaveOneOut, policy: &Policy, pack: bool) -> Self {
        let n_ann = ds.n_annotators();
        let offsets = ds.annotator_offsets();
        let n = ds.n_annotations();
        let mut anns = vec![Ann::default(); n];
        let mut duration_s = ds.duration_s.as_ref().map(|_| vec![f32::NAN; n]);
        let mut submitted_at_ms = ds.submitted_at_ms.as_ref().map(|_| vec![i64::MIN; n]);
        let pack = pack && ds.n_labels() <= 256;

        // One block of annotators per thread, cut at about equal numbers of annotations.
        // Each block walks all items and fills only its own records: writes need no locks,
        // and the result does not depend on the number of threads.
        let blocks = rayon::current_num_threads().clamp(1, n_ann.max(1));
        let mut cuts: Vec<usize> = (0..=blocks)
            .map(|b| offsets.partition_point(|&o| o < n * b / blocks).min(n_ann))
            .collect();
        cuts[0] = 0;
        cuts[blocks] = n_ann;
        let mut parts = Vec::with_capacity(blocks);
        let (mut rest_a, mut rest_d, mut rest_t) = (
            &mut anns[..],
            duration_s.as_deref_mut(),
            submitted_at_ms.as_deref_mut(),
        );
        for w in cuts.windows(2) {
            let len = offsets[w[1]] - offsets[w[0]];
            let (a, ra) = rest_a.split_at_mut(len);
            let (d, rd) = split_opt(rest_d, len);
            let (t, rt) = split_opt(rest_t, len);
            (rest_a, rest_d, rest_t) = (ra, rd, rt);
            parts.push((w[0]..w[1], a, d, t));
        }
        parts
            .into_par_iter()
            .for_each(|(block, anns, mut dur, mut sub)| {
                let base = offsets[block.start];
                let mut next: Vec<usize> =
                    offsets[block.clone()].iter().map(|o| o - base).collect();
                for item in 0..ds.n_items() {
                    let range = ds.item_range(item);
                    let who = &ds.annotator[range.clone()];
                    let labels = &ds.label[range.clone()];
                    let others = range.len().saturating_sub(1);
                    for (k, &a) in who.iter().enumerate() {
                        if !block.contains(&(a as usize)) {
                            continue;
                        }
                        let pos = range.start + k;
                        let share = votes.share.get(pos).copied().unwrap_or(0.0);
                        let loo = votes.label.get(pos).copied().unwrap_or(NO_LABEL);
                        let mut rec = Ann {
                            lo: range.start as u32,
                            label: labels[k],
                            loo,
                            gold: ds.gold[item],
                            clear: loo != NO_LABEL
                                && others >= policy.min_other_annotators
                                && share >= policy.contested_share,
                            ..Ann::default()
                        };
                        if pack && others <= MAX_PACKED {
                            let others = labels.iter().enumerate().filter(|&(j, _)| j != k);
                            for (slot, (_, &l)) in rec.packed.iter_mut().zip(others) {
                                *slot = l as u8;
                            }
                            rec.n_packed = (range.len() - 1) as u8;
                        } else {
                            rec.packed[..4].copy_from_slice(&(range.len() as u32).to_le_bytes());
                            rec.n_packed = NOT_PACKED;
                        }
                        let slot = &mut next[a as usize - block.start];
                        anns[*slot] = rec;
                        if let (Some(out), Some(src)) = (dur.as_deref_mut(), &ds.duration_s) {
                            out[*slot] = src[pos];
                        }
                        if let (Some(out), Some(src)) = (sub.as_deref_mut(), &ds.submitted_at_ms) {
                            out[*slot] = src[pos];
                        }
                        *slot += 1;
                    }
                }
            });
        ByAnnotator {
            offsets,
            anns,
            duration_s,
            submitted_at_ms,
        }
    }
}

fn split_opt<T>(s: Option<&mut [T]>, at: usize) -> (Option<&mut [T]>, Option<&mut [T]>) {
    match s {
        Some(s) => {
            let (a, b) = s.split_at_mut(at);
            (Some(a), Some(b))
        }
        None => (None, None),
    }
}

#[cfg(test)]
impl ByAnnotator {
    /// Records with the plain leave-one-out majority as the consensus view.
    pub fn with_majority(ds: &Dataset, policy: &Policy, pack: bool) -> Self {
        let plain = super::PlainVote::new(ds);
        ByAnnotator::build(ds, &plain.view().leave_one_out(), policy, pack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{simulate, SimConfig};

    #[test]
    fn packed_records_match_the_dataset() {
        let ds = simulate(&SimConfig {
            items: 300,
            seed: 5,
            ..SimConfig::default()
        })
        .to_dataset();
        let policy = Policy::default();
        let packed = ByAnnotator::with_majority(&ds, &policy, true);
        let plain = ByAnnotator::with_majority(&ds, &policy, false);
        assert_eq!(packed.offsets, plain.offsets);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for a in 0..ds.n_annotators() {
            for (p, q) in packed.anns(a).iter().zip(plain.anns(a)) {
                assert_eq!(p.item_range(), q.item_range());
                assert_eq!(
                    (p.label, p.loo, p.gold, p.clear),
                    (q.label, q.loo, q.gold, q.clear)
                );
                assert_eq!(
                    p.others(&ds, a as u32, &mut x),
                    q.others(&ds, a as u32, &mut y)
                );
                // Item order, and the own label is in the item at the own position.
                let range = p.item_range();
                let at = range.start + ds.annotator[range].binary_search(&(a as u32)).unwrap();
                assert_eq!(ds.label[at], p.label);
            }
            assert!(packed.anns(a).windows(2).all(|w| w[0].lo < w[1].lo));
        }
    }
}

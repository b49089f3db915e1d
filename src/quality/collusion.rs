//! Collusion: pairs of annotators who agree on shared items far more than their individual
//! accuracies predict, above all on identical minority (likely wrong) answers.
//!
//! Pairs are enumerated through items (Σ k² work over items with at most
//! `max_annotators_per_item_for_pairs` annotators; never all A² pairs). For each pair with at
//! least `collusion_min_shared` shared items, the reference on each shared item is the clear
//! majority `c` of the OTHER annotators (excluding both), and each member's accuracy `a` is
//! its agreement with that reference on the pair's shared clear items — so a copier's
//! accuracy is not inflated by its partner's vote. Expected agreement is
//! `a_i a_j + (1−a_i)(1−a_j)/(q−1)`. Identical answers ≠ `c` are counted; under independence
//! an item contributes `(1−a_i)(1−a_j) Σ_{l≠c} w_l²`, where `w` is the item's error
//! distribution among the others (wrong votes, smoothed by ½ per label; uniform `1/(q−1)`
//! when nobody else erred), so labels that are easy to confuse on that item raise the
//! expectation. The count is tested against a Poisson with the summed mean (conservative for
//! a Poisson-binomial).

use std::ops::Range;

use rayon::prelude::*;
use statrs::distribution::{DiscreteCDF, Poisson};

use super::annotations::ByAnnotator;
use super::Policy;
use crate::Dataset;

/// One tested pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTest {
    pub a: u32,
    pub b: u32,
    pub shared_items: u64,
    /// Observed agreement on shared items.
    pub agreement: f64,
    /// `a_i a_j + (1−a_i)(1−a_j)/(q−1)` with pair-specific accuracies.
    pub expected_agreement: f64,
    /// Shared items where the others have a clear majority.
    pub clear_shared: u64,
    pub identical_minority_answers: u64,
    pub expected_identical: f64,
    pub p_value: f64,
    /// Enough identical minority answers, at least `collusion_min_ratio` times the expected
    /// number, agreement above expectation and at least `collusion_min_agreement`.
    pub gate: bool,
}

/// Shared-item counts of annotator pairs `((a, b), count)`.
type SharedCounts = Vec<((u32, u32), u32)>;

/// `P(X >= k)` for `X ~ Poisson(lambda)`.
pub fn poisson_sf_ge(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    match Poisson::new(lambda) {
        Ok(d) => d.sf(k - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Shared-item counts of all co-annotating pairs `(a < b)`, sorted by pair.
pub fn shared_counts(ds: &Dataset, max_per_item: usize) -> Vec<((u32, u32), u32)> {
    shared_counts_at_least(ds, max_per_item, 1)
}

/// Shared-item counts of the co-annotating pairs `(a < b)` sharing at least `min_shared`
/// items (counting items with at most `max_per_item` annotators), sorted by pair.
pub fn shared_counts_at_least(
    ds: &Dataset,
    max_per_item: usize,
    min_shared: usize,
) -> Vec<((u32, u32), u32)> {
    let index = ds.by_annotator();
    let item_of = ds.annotation_items();
    pairs_sharing(ds, max_per_item, min_shared, |a| {
        index
            .positions(a)
            .iter()
            .map(|&p| ds.item_range(item_of[p as usize] as usize))
    })
}

/// [`shared_counts_at_least`] over the item ranges `items(a)` of each annotator `a`.
///
/// Pairs are found through items, one first annotator at a time, its co-annotators counted
/// in a per-thread array indexed by annotator (only the touched entries are read back and
/// reset), so work is Σ_i m_i² and memory is one counter per annotator per thread plus the
/// pairs kept: never all A² pairs, nor every pair that shares a single item.
pub(super) fn pairs_sharing<I: Iterator<Item = Range<usize>>>(
    ds: &Dataset,
    max_per_item: usize,
    min_shared: usize,
    items: impl Fn(usize) -> I + Sync,
) -> Vec<((u32, u32), u32)> {
    let n_ann = ds.n_annotators();
    let per_annotator: Vec<SharedCounts> = (0..n_ann)
        .into_par_iter()
        .map_init(
            || (vec![0u32; n_ann], Vec::new()),
            |(count, touched), a| {
                touched.clear();
                for r in items(a).filter(|r| r.len() <= max_per_item) {
                    for &b in &ds.annotator[r] {
                        if b as usize > a {
                            let c = &mut count[b as usize];
                            if *c == 0 {
                                touched.push(b);
                            }
                            *c += 1;
                        }
                    }
                }
                let mut out = Vec::new();
                for &b in touched.iter() {
                    let c = std::mem::take(&mut count[b as usize]);
                    if c as usize >= min_shared.max(1) {
                        out.push(((a as u32, b), c));
                    }
                }
                out.sort_unstable();
                out
            },
        )
        .collect();
    per_annotator.into_iter().flatten().collect()
}

/// Test every pair with enough shared items (see the module documentation for the model).
pub(super) fn collusion_tests(ds: &Dataset, by: &ByAnnotator, policy: &Policy) -> Vec<PairTest> {
    let q = ds.n_labels().max(2);
    let mut counts = vec![0u32; q];
    let mut out = Vec::new();
    // Per shared clear item: (label a, label b, reference c, Σ_{l≠c} w_l²).
    let mut clear_items: Vec<(u32, u32, u32, f64)> = Vec::new();
    let pairs = pairs_sharing(
        ds,
        policy.max_annotators_per_item_for_pairs,
        policy.collusion_min_shared,
        |a| by.anns(a).iter().map(|ann| ann.item_range()),
    );
    for ((a, b), _) in pairs {
        let (pa, pb) = (by.anns(a as usize), by.anns(b as usize));
        let (mut i, mut j) = (0, 0);
        let (mut n, mut agree) = (0u64, 0u64);
        clear_items.clear();
        while i < pa.len() && j < pb.len() {
            let (ia, ib) = (pa[i].lo, pb[j].lo);
            if ia < ib {
                i += 1;
                continue;
            }
            if ib < ia {
                j += 1;
                continue;
            }
            let (la, lb) = (pa[i].label, pb[j].label);
            let range = pa[i].item_range();
            i += 1;
            j += 1;
            if range.len() > policy.max_annotators_per_item_for_pairs {
                continue;
            }
            n += 1;
            agree += u64::from(la == lb);
            // Others' votes on this item, excluding both members of the pair.
            counts.iter_mut().for_each(|c| *c = 0);
            let mut m = 0u32;
            for pos in range {
                let who = ds.annotator[pos];
                if who != a && who != b {
                    if let Some(c) = counts.get_mut(ds.label[pos] as usize) {
                        *c += 1;
                        m += 1;
                    }
                }
            }
            if (m as usize) < policy.min_other_annotators {
                continue;
            }
            let top = counts.iter().copied().max().unwrap_or(0);
            let ties = counts.iter().filter(|&&c| c == top).count();
            if ties != 1 || (top as f64 / m as f64) < policy.contested_share {
                continue;
            }
            let c = counts.iter().position(|&x| x == top).unwrap_or(0);
            let wrong = (m - top) as f64;
            let beta = 0.5;
            let denom = wrong + beta * (q - 1) as f64;
            let conc: f64 = (0..q)
                .filter(|&l| l != c)
                .map(|l| ((counts[l] as f64 + beta) / denom).powi(2))
                .sum();
            clear_items.push((la, lb, c as u32, conc));
        }
        if n == 0 || clear_items.is_empty() {
            continue;
        }
        let nc = clear_items.len() as f64;
        // Each member's accuracy against the others' reference on the shared clear items.
        let right_a = clear_items.iter().filter(|x| x.0 == x.2).count() as f64;
        let right_b = clear_items.iter().filter(|x| x.1 == x.2).count() as f64;
        let ai = (right_a / nc).clamp(0.01, 0.99);
        let aj = (right_b / nc).clamp(0.01, 0.99);
        let expected_agreement = ai * aj + (1.0 - ai) * (1.0 - aj) / (q - 1) as f64;
        let identical = clear_items
            .iter()
            .filter(|x| x.0 == x.1 && x.0 != x.2)
            .count() as u64;
        let lambda: f64 = clear_items
            .iter()
            .map(|x| (1.0 - ai) * (1.0 - aj) * x.3)
            .sum();
        let agreement = agree as f64 / n as f64;
        out.push(PairTest {
            a,
            b,
            shared_items: n,
            agreement,
            expected_agreement,
            clear_shared: clear_items.len() as u64,
            identical_minority_answers: identical,
            expected_identical: lambda,
            p_value: poisson_sf_ge(identical, lambda),
            gate: identical >= policy.collusion_min_identical
                && identical as f64 >= policy.collusion_min_ratio * lambda
                && agreement > expected_agreement
                && agreement >= policy.collusion_min_agreement,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail_matches_scipy() {
        // scipy.stats.poisson.sf(4, 1.5) = P(X >= 5) = 0.018575936222140675
        assert!((poisson_sf_ge(5, 1.5) - 0.018575936222140675).abs() < 1e-12);
        assert_eq!(poisson_sf_ge(0, 1.5), 1.0);
    }

    #[test]
    fn shared_counts_match_brute_force_in_pair_order() {
        let ds = crate::simulate::simulate(&crate::simulate::SimConfig {
            items: 300,
            seed: 9,
            ..crate::simulate::SimConfig::default()
        })
        .to_dataset();
        let items_of: Vec<std::collections::BTreeSet<usize>> = (0..ds.n_annotators())
            .map(|a| {
                (0..ds.n_items())
                    .filter(|&i| ds.item_annotators(i).contains(&(a as u32)))
                    .collect()
            })
            .collect();
        let mut want = Vec::new();
        for a in 0..ds.n_annotators() {
            for b in a + 1..ds.n_annotators() {
                let n = items_of[a].intersection(&items_of[b]).count() as u32;
                if n >= 2 {
                    want.push(((a as u32, b as u32), n));
                }
            }
        }
        assert!(want.len() > 10);
        assert_eq!(shared_counts_at_least(&ds, usize::MAX, 2), want);
    }

    #[test]
    fn copier_pair_is_found_and_counted_through_items() {
        // a and b always give the same answer; c, d, e, f are right ("t") on every item.
        // a/b are wrong ("w") on every fourth item: 8 of 30, accuracy 22/30 each, so
        // independence predicts 30 · (8/30)² = 2.13 identical wrong answers (q = 2).
        let mut rows = Vec::new();
        let names: Vec<String> = (0..30).map(|i| format!("{i:02}")).collect();
        for (i, item) in names.iter().enumerate() {
            let copied = if i % 4 == 0 { "w" } else { "t" };
            rows.push((item.as_str(), "a", copied));
            rows.push((item.as_str(), "b", copied));
            for o in ["c", "d", "e", "f"] {
                rows.push((item.as_str(), o, "t"));
            }
        }
        let ds = Dataset::from_triples(rows);
        let pairs = shared_counts(&ds, 50);
        assert_eq!(pairs.len(), 15);
        assert!(pairs.iter().all(|&(_, n)| n == 30));
        let by = ByAnnotator::with_majority(&ds, &Policy::default(), true);
        let tests = collusion_tests(&ds, &by, &Policy::default());
        let ab = tests.iter().find(|t| (t.a, t.b) == (0, 1)).unwrap();
        assert_eq!(ab.identical_minority_answers, 8);
        assert!((ab.expected_identical - 30.0 * (8.0f64 / 30.0).powi(2)).abs() < 1e-9);
        assert_eq!(ab.agreement, 1.0);
        assert!(ab.gate && ab.p_value < 0.01, "{ab:?}");
        let cd = tests.iter().find(|t| (t.a, t.b) == (2, 3)).unwrap();
        assert_eq!(cd.identical_minority_answers, 0);
        assert!(!cd.gate);
    }
}

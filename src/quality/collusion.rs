//! Collusion: pairs of annotators who agree on shared items far more than their individual
//! accuracies predict, above all on identical minority (likely wrong) answers.
//!
//! Pairs are enumerated through items (Σ k² work over items with at most
//! `max_annotators_per_item_for_pairs` annotators; never all A² pairs). For each pair with at
//! least `collusion_min_shared` shared items, on the shared items where the OTHER annotators
//! (excluding both) have a clear majority `c`, we count identical answers ≠ `c`. Under
//! independence each such item contributes probability
//! `max((1−a_i)(1−a_j)/(q−1), Σ_{l≠c} s_l²)` — the accuracy model, or the item's own spread of
//! answers among the others (`s_l` = smoothed share of label `l`) when that is larger, so
//! honest annotators on genuinely confusable items are not mistaken for copiers. The count is
//! tested against a Poisson with the summed mean (conservative for a Poisson-binomial).

use std::collections::HashMap;

use statrs::distribution::{DiscreteCDF, Poisson};

use super::Policy;
use crate::dataset::AnnotatorIndex;
use crate::Dataset;

/// One tested pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTest {
    pub a: u32,
    pub b: u32,
    pub shared_items: u64,
    /// Observed agreement on shared items.
    pub agreement: f64,
    /// `mean over shared items of a_i a_j + (1−a_i)(1−a_j)/(q−1)`.
    pub expected_agreement: f64,
    /// Shared items where the others have a clear majority.
    pub clear_shared: u64,
    pub identical_minority_answers: u64,
    pub expected_identical: f64,
    pub p_value: f64,
    /// Enough identical minority answers and agreement above expectation.
    pub gate: bool,
}

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
    let mut counts: HashMap<(u32, u32), u32> = HashMap::new();
    for item in 0..ds.n_items() {
        let anns = ds.item_annotators(item);
        if anns.len() > max_per_item {
            continue;
        }
        for (i, &a) in anns.iter().enumerate() {
            for &b in &anns[i + 1..] {
                let key = if a < b { (a, b) } else { (b, a) };
                *counts.entry(key).or_insert(0) += 1;
            }
        }
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_unstable();
    out
}

/// Test every pair with enough shared items. `accuracy[a]` is the accuracy estimate used in
/// the null model (clamped to [0.05, 0.99]).
pub fn collusion_tests(
    ds: &Dataset,
    index: &AnnotatorIndex,
    item_of: &[u32],
    accuracy: &[f64],
    policy: &Policy,
) -> Vec<PairTest> {
    let q = ds.n_labels().max(2);
    let mut counts = vec![0u32; q];
    let mut out = Vec::new();
    for ((a, b), shared) in shared_counts(ds, policy.max_annotators_per_item_for_pairs) {
        if (shared as usize) < policy.collusion_min_shared {
            continue;
        }
        let acc = |x: u32| accuracy.get(x as usize).copied().unwrap_or(0.5).clamp(0.05, 0.99);
        let (ai, aj) = (acc(a), acc(b));
        let per_item_agree = ai * aj + (1.0 - ai) * (1.0 - aj) / (q - 1) as f64;
        let per_item_same_wrong = (1.0 - ai) * (1.0 - aj) / (q - 1) as f64;
        let (pa, pb) = (index.positions(a as usize), index.positions(b as usize));
        let (mut i, mut j) = (0, 0);
        let (mut n, mut agree, mut clear, mut identical) = (0u64, 0u64, 0u64, 0u64);
        let mut lambda = 0.0;
        while i < pa.len() && j < pb.len() {
            let (ia, ib) = (item_of[pa[i] as usize], item_of[pb[j] as usize]);
            if ia < ib {
                i += 1;
                continue;
            }
            if ib < ia {
                j += 1;
                continue;
            }
            let (la, lb) = (ds.label[pa[i] as usize], ds.label[pb[j] as usize]);
            i += 1;
            j += 1;
            if ds.item_annotators(ia as usize).len() > policy.max_annotators_per_item_for_pairs {
                continue;
            }
            n += 1;
            agree += u64::from(la == lb);
            // Others' votes on this item, excluding both members of the pair.
            counts.iter_mut().for_each(|c| *c = 0);
            let mut m = 0u32;
            let range = ds.item_range(ia as usize);
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
            clear += 1;
            if la == lb && la as usize != c {
                identical += 1;
            }
            let alpha = 0.5;
            let denom = m as f64 + alpha * q as f64;
            let spread: f64 = (0..q)
                .filter(|&l| l != c)
                .map(|l| ((counts[l] as f64 + alpha) / denom).powi(2))
                .sum();
            lambda += per_item_same_wrong.max(spread);
        }
        if n == 0 {
            continue;
        }
        let agreement = agree as f64 / n as f64;
        out.push(PairTest {
            a,
            b,
            shared_items: n,
            agreement,
            expected_agreement: per_item_agree,
            clear_shared: clear,
            identical_minority_answers: identical,
            expected_identical: lambda,
            p_value: poisson_sf_ge(identical, lambda),
            gate: identical >= policy.collusion_min_identical && agreement > per_item_agree,
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
    fn copier_pair_is_found_and_counted_through_items() {
        // a and b always give the same answer; c, d, e are right (label "t") on every item.
        // a/b are wrong ("w") on every third item.
        let mut rows = Vec::new();
        let names: Vec<String> = (0..30).map(|i| format!("{i:02}")).collect();
        for (i, item) in names.iter().enumerate() {
            let copied = if i % 3 == 0 { "w" } else { "t" };
            rows.push((item.as_str(), "a", copied));
            rows.push((item.as_str(), "b", copied));
            for o in ["c", "d", "e"] {
                rows.push((item.as_str(), o, "t"));
            }
        }
        let ds = Dataset::from_triples(rows);
        let pairs = shared_counts(&ds, 50);
        assert_eq!(pairs.len(), 10);
        assert!(pairs.iter().all(|&(_, n)| n == 30));
        let idx = ds.by_annotator();
        let items = ds.annotation_items();
        let acc = vec![0.67, 0.67, 1.0, 1.0, 1.0];
        let tests = collusion_tests(&ds, &idx, &items, &acc, &Policy::default());
        let ab = tests.iter().find(|t| (t.a, t.b) == (0, 1)).unwrap();
        assert_eq!(ab.identical_minority_answers, 10);
        assert_eq!(ab.agreement, 1.0);
        assert!(ab.gate && ab.p_value < 0.01, "{ab:?}");
        let cd = tests.iter().find(|t| (t.a, t.b) == (2, 3)).unwrap();
        assert_eq!(cd.identical_minority_answers, 0);
        assert!(!cd.gate);
    }
}

//! Ranking tasks: the label format, the conversion to [`RankedItem`]s and the
//! `ranking_disagreement` rule.
//!
//! Format: one row per (item, annotator); the label lists the item's responses best first,
//! separated by `>`, with `=` joining tied responses: `r2>r1=r3>r4`. Every annotator of an
//! item should rank the same set of responses; an annotator whose set differs from the
//! item's union is left out of that item (counted in `rows_incomplete`).
//!
//! `ranking_disagreement`: per item, Spearman's rho of the annotator's ranking with the
//! leave-one-out consensus (mean rank of the other annotators). H0: the annotator is like
//! the cohort, so each item's rho falls below the cohort median rho with probability 1/2;
//! a one-sided sign test (exact binomial) counts the items below. Gate: the annotator's mean
//! rho is at least `ranking_min_gap` below the cohort median of the annotators' mean rho.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::feedback::kendall_w::{spearman_rho, RankedItem};
use crate::feedback::stats::{binomial_test, midranks};
use crate::quality::{Rule, RuleTest};

/// Responses grouped by rank, best first.
pub type Tiers = Vec<Vec<String>>;

/// Parse `r2>r1=r3` into tiers (best first). `None` when the text is not a ranking of at
/// least two distinct responses.
pub fn parse_ranking(label: &str) -> Option<Tiers> {
    if !label.contains('>') && !label.contains('=') {
        return None;
    }
    let mut seen = BTreeSet::new();
    let mut tiers = Vec::new();
    for tier in label.split('>') {
        let mut t = Vec::new();
        for r in tier.split('=') {
            let r = r.trim();
            if r.is_empty() || !seen.insert(r.to_string()) {
                return None;
            }
            t.push(r.to_string());
        }
        tiers.push(t);
    }
    (seen.len() >= 2).then_some(tiers)
}

/// Ranked items: `rows` holds `(item, annotator, label)`. Returns the items and the number
/// of rows left out because their response set differs from the item's.
pub fn ranked_items(rows: &[(u32, u32, &str)]) -> (Vec<RankedItem>, usize) {
    let mut by_item: BTreeMap<u32, Vec<(u32, Tiers)>> = BTreeMap::new();
    for &(item, annot, label) in rows {
        if let Some(t) = parse_ranking(label) {
            by_item.entry(item).or_default().push((annot, t));
        }
    }
    let mut out = Vec::new();
    let mut incomplete = 0;
    for (_, rankings) in by_item {
        let responses: BTreeSet<&String> = rankings
            .iter()
            .flat_map(|(_, t)| t.iter().flatten())
            .collect();
        let index: HashMap<&String, usize> =
            responses.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        let mut item = RankedItem {
            annotators: Vec::new(),
            ranks: Vec::new(),
        };
        for (annot, tiers) in &rankings {
            let count: usize = tiers.iter().map(Vec::len).sum();
            if count != responses.len() {
                incomplete += 1;
                continue;
            }
            // Position of the tier = score (smaller is better); midranks resolve ties.
            let mut score = vec![0.0; responses.len()];
            for (pos, tier) in tiers.iter().enumerate() {
                for r in tier {
                    if let Some(&i) = index.get(r) {
                        score[i] = pos as f64;
                    }
                }
            }
            item.annotators.push(*annot);
            item.ranks.push(midranks(&score));
        }
        out.push(item);
    }
    (out, incomplete)
}

/// Per annotator: the per-item Spearman rho with the leave-one-out consensus.
pub fn consensus_rhos(items: &[RankedItem]) -> BTreeMap<u32, Vec<f64>> {
    let mut out: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for item in items {
        let k = item.ranks.len();
        if k < 2 {
            continue;
        }
        let n = item.ranks[0].len();
        for i in 0..k {
            let consensus: Vec<f64> = (0..n)
                .map(|c| {
                    item.ranks
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, r)| r.get(c).copied().unwrap_or(0.0))
                        .sum::<f64>()
                        / (k - 1) as f64
                })
                .collect();
            if let Some(r) = spearman_rho(&item.ranks[i], &consensus) {
                out.entry(item.annotators[i]).or_default().push(r);
            }
        }
    }
    out
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[m - 1] + v[m]) / 2.0
    } else {
        v[m]
    })
}

/// Rule tests of `ranking_disagreement` (see the module docs).
pub fn disagreement_tests(rhos: &BTreeMap<u32, Vec<f64>>, min_gap: f64) -> Vec<RuleTest> {
    let mut means: Vec<f64> = rhos
        .values()
        .filter(|v| !v.is_empty())
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let Some(cohort) = median(&mut means) else {
        return Vec::new();
    };
    rhos.iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(&a, v)| {
            let n = v.len() as u64;
            let mean = v.iter().sum::<f64>() / n as f64;
            let below = v.iter().filter(|&&r| r < cohort).count() as u64;
            let p = binomial_test(below, n, 0.5)?.greater;
            Some(RuleTest {
                annotator: a,
                rule: Rule::RankingDisagreement,
                gate: mean <= cohort - min_gap,
                statistic: mean,
                cohort_reference: Some(cohort),
                threshold: cohort - min_gap,
                n,
                p_value: p,
                message: format!(
                    "rankings correlate with the other annotators' consensus at mean Spearman {mean:.2} over {n} items vs a cohort median of {cohort:.2}; {below} of {n} items fall below the cohort median (sign test p = {p:.2e}); clears when the mean is above {:.2} on re-checked items or a review finds the rankings deliberate.",
                    cohort - min_gap
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rankings_with_ties() {
        let t = parse_ranking("r2 > r1=r3").unwrap();
        assert_eq!(
            t,
            vec![vec!["r2".to_string()], vec!["r1".into(), "r3".into()]]
        );
        assert!(parse_ranking("r1").is_none());
        assert!(parse_ranking("r1>r1").is_none());
        assert!(parse_ranking("r1>>r2").is_none());
    }

    #[test]
    fn ranked_items_align_responses() {
        let rows = [(0, 0, "a>b>c"), (0, 1, "c>b>a"), (0, 2, "a>b")];
        let (items, incomplete) = ranked_items(&rows);
        assert_eq!(incomplete, 1);
        assert_eq!(items[0].ranks[0], vec![1.0, 2.0, 3.0]);
        assert_eq!(items[0].ranks[1], vec![3.0, 2.0, 1.0]);
    }
}

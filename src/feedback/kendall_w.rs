//! Agreement of rankings: Kendall's W, pairwise Spearman / Kendall tau-b, leave-one-out
//! consensus correlation per annotator.
//!
//! Sources: M. G. Kendall and B. Babington Smith (1939); the tie-corrected formula
//! W = 12 S / (m² (n³ − n) − m Σ T), T = Σ (t³ − t) over tie groups of each judge, and the
//! large-sample test χ² = m (n − 1) W with n − 1 df, as in S. Siegel, *Nonparametric
//! Statistics for the Behavioral Sciences* (McGraw-Hill, 1956), ch. 9, and NAG G08DAF.
//! Spearman's rho is the Pearson correlation of mid-ranks (scipy `spearmanr`); Kendall's
//! tau-b is (C − D) / √((n₀ − n₁)(n₀ − n₂)) (scipy `kendalltau`, variant "b").
//!
//! Input: per item (a response set), each annotator's ranks of the item's responses; any
//! numbers work (they are turned into mid-ranks; smaller = better, ties allowed).
//! Missing values: an annotator whose row for an item has the wrong length or a non-finite
//! value is left out of that item; items with fewer than 2 annotators or 2 responses are
//! skipped and counted. Kendall's W of the whole set is the mean of the per-item W.

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::stats::{median, midranks, pearson};
use crate::Dataset;

/// One item's rankings: `ranks[r][j]` is annotator `annotators[r]`'s rank of response `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedItem {
    /// Annotator ids, one per row of `ranks`.
    pub annotators: Vec<u32>,
    /// Rank (or score; smaller = better) of each response, one row per annotator.
    pub ranks: Vec<Vec<f64>>,
}

/// Kendall's W of one m × n block with its chi-square test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KendallW {
    /// Tie-corrected coefficient of concordance.
    pub w: f64,
    /// χ² = m (n − 1) W.
    pub chi2: f64,
    /// Degrees of freedom n − 1.
    pub df: usize,
    /// Upper-tail χ² p-value (approximation; exact tables are better for n ≤ 7).
    pub p_value: f64,
    /// Judges (annotators).
    pub m: usize,
    /// Objects (responses).
    pub n: usize,
    /// Σ over judges of Σ (t³ − t) over their tie groups.
    pub tie_sum: f64,
}

/// Kendall's W of `ranks` (one row per judge, one column per object); rows are mid-ranked.
pub fn kendall_w(ranks: &[Vec<f64>]) -> Result<KendallW, String> {
    let m = ranks.len();
    let n = ranks.first().map_or(0, Vec::len);
    if m < 2 || n < 2 {
        return Err("need at least 2 annotators and 2 responses".into());
    }
    if ranks
        .iter()
        .any(|r| r.len() != n || r.iter().any(|v| !v.is_finite()))
    {
        return Err("rows of unequal length or with non-finite ranks".into());
    }
    let mut sums = vec![0.0; n];
    let mut tie_sum = 0.0;
    for row in ranks {
        let r = midranks(row);
        for (s, v) in sums.iter_mut().zip(&r) {
            *s += v;
        }
        // Tie groups: equal mid-ranks.
        let mut sorted = r.clone();
        sorted.sort_by(f64::total_cmp);
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && sorted[j + 1] == sorted[i] {
                j += 1;
            }
            let t = (j - i + 1) as f64;
            tie_sum += t * t * t - t;
            i = j + 1;
        }
    }
    let (mf, nf) = (m as f64, n as f64);
    let mean = mf * (nf + 1.0) / 2.0;
    let s: f64 = sums.iter().map(|r| (r - mean).powi(2)).sum();
    let denom = mf * mf * (nf * nf * nf - nf) - mf * tie_sum;
    if denom <= 0.0 {
        return Err("every annotator tied all responses".into());
    }
    let w = 12.0 * s / denom;
    let chi2 = mf * (nf - 1.0) * w;
    let p_value = ChiSquared::new(nf - 1.0)
        .map(|d| d.sf(chi2))
        .map_err(|e| e.to_string())?;
    Ok(KendallW {
        w,
        chi2,
        df: n - 1,
        p_value,
        m,
        n,
        tie_sum,
    })
}

/// Spearman's rho (Pearson of mid-ranks); `None` when a side is constant or n < 2.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() {
        return None;
    }
    pearson(&midranks(x), &midranks(y))
}

/// Kendall's tau-b; `None` when a side is constant or n < 2.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let (mut c, mut d, mut tx, mut ty) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let sx = (x[i] - x[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            let sy = (y[i] - y[j]).partial_cmp(&0.0).map_or(0, |o| o as i64);
            if sx == 0 {
                tx += 1;
            }
            if sy == 0 {
                ty += 1;
            }
            match sx * sy {
                1 => c += 1,
                -1 => d += 1,
                _ => {}
            }
        }
    }
    let n0 = (n * (n - 1) / 2) as i64;
    let den = (((n0 - tx) * (n0 - ty)) as f64).sqrt();
    (den > 0.0).then(|| ((c - d) as f64 / den).clamp(-1.0, 1.0))
}

/// Mean pairwise correlations of one annotator pair over their shared items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairRankCorrelation {
    /// First annotator id (smaller).
    pub a: u32,
    /// Second annotator id.
    pub b: u32,
    /// Shared items with a defined rho.
    pub n_items: usize,
    /// Mean Spearman rho over shared items.
    pub spearman: Option<f64>,
    /// Mean Kendall tau-b over shared items.
    pub kendall_tau_b: Option<f64>,
}

/// Correlation of one annotator with the leave-one-out consensus (mean rank of the others).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsensusCorrelation {
    /// Annotator id.
    pub annotator: u32,
    /// Items where the correlation is defined.
    pub n_items: usize,
    /// Mean Spearman rho with the consensus of the others.
    pub spearman: Option<f64>,
    /// Cohort median of the annotators' mean rho (the comparison point).
    pub cohort_median: Option<f64>,
}

/// Ranking agreement of a whole task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingAgreement {
    /// Items with a defined W.
    pub items_used: usize,
    /// Items skipped (fewer than 2 usable annotators or 2 responses, or all ties).
    pub items_skipped: usize,
    /// Mean of the per-item W.
    pub mean_w: Option<f64>,
    /// Per-item W in input order (`None` for skipped items).
    pub per_item: Vec<Option<KendallW>>,
    /// Mean over pairs of the pair's mean Spearman rho.
    pub mean_pairwise_spearman: Option<f64>,
    /// Mean over pairs of the pair's mean Kendall tau-b.
    pub mean_pairwise_kendall_tau_b: Option<f64>,
    /// Pairs of annotators, ordered by (a, b).
    pub pairs: Vec<PairRankCorrelation>,
    /// Per annotator, ordered by id.
    pub annotators: Vec<ConsensusCorrelation>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Kendall's W, pairwise correlations and consensus correlations of ranked items.
pub fn ranking_agreement(items: &[RankedItem]) -> RankingAgreement {
    let mut per_item = Vec::with_capacity(items.len());
    let mut pair_acc: BTreeMap<(u32, u32), (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut loo_acc: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for item in items {
        let n = item.ranks.iter().map(Vec::len).max().unwrap_or(0);
        // Usable rows: right length, finite.
        let rows: Vec<(u32, Vec<f64>)> = item
            .annotators
            .iter()
            .zip(&item.ranks)
            .filter(|(_, r)| r.len() == n && r.iter().all(|v| v.is_finite()))
            .map(|(&a, r)| (a, midranks(r)))
            .collect();
        let block: Vec<Vec<f64>> = rows.iter().map(|(_, r)| r.clone()).collect();
        per_item.push(kendall_w(&block).ok());
        if rows.len() < 2 || n < 2 {
            continue;
        }
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                let (a, ra) = &rows[i];
                let (b, rb) = &rows[j];
                let key = if a <= b { (*a, *b) } else { (*b, *a) };
                let e = pair_acc.entry(key).or_default();
                if let Some(r) = spearman_rho(ra, rb) {
                    e.0.push(r);
                }
                if let Some(t) = kendall_tau_b(ra, rb) {
                    e.1.push(t);
                }
            }
            // Leave-one-out consensus: mean mid-rank of the other annotators.
            let others = (rows.len() - 1) as f64;
            let consensus: Vec<f64> = (0..n)
                .map(|c| {
                    rows.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, (_, r))| r[c])
                        .sum::<f64>()
                        / others
                })
                .collect();
            let e = loo_acc.entry(rows[i].0).or_default();
            if let Some(r) = spearman_rho(&rows[i].1, &consensus) {
                e.push(r);
            }
        }
    }
    let pairs: Vec<PairRankCorrelation> = pair_acc
        .into_iter()
        .map(|((a, b), (rho, tau))| PairRankCorrelation {
            a,
            b,
            n_items: rho.len(),
            spearman: mean(&rho),
            kendall_tau_b: mean(&tau),
        })
        .collect();
    let rho_means: Vec<f64> = pairs.iter().filter_map(|p| p.spearman).collect();
    let tau_means: Vec<f64> = pairs.iter().filter_map(|p| p.kendall_tau_b).collect();
    let annot_means: Vec<(u32, usize, Option<f64>)> = loo_acc
        .into_iter()
        .map(|(a, v)| (a, v.len(), mean(&v)))
        .collect();
    let cohort: Vec<f64> = annot_means.iter().filter_map(|x| x.2).collect();
    let cohort_median = median(&cohort);
    let ws: Vec<f64> = per_item.iter().flatten().map(|k| k.w).collect();
    RankingAgreement {
        items_used: ws.len(),
        items_skipped: items.len() - ws.len(),
        mean_w: mean(&ws),
        per_item,
        mean_pairwise_spearman: mean(&rho_means),
        mean_pairwise_kendall_tau_b: mean(&tau_means),
        pairs,
        annotators: annot_means
            .into_iter()
            .map(|(annotator, n_items, spearman)| ConsensusCorrelation {
                annotator,
                n_items,
                spearman,
                cohort_median,
            })
            .collect(),
    }
}

/// Ranked items from a dataset whose item names are `SET<sep>RESPONSE` and whose labels are
/// numeric ranks (or scores, smaller = better). Responses of a set are in the dataset's
/// canonical item order; an annotator who did not rank every response of a set gets a row
/// with NaN, which `ranking_agreement` leaves out. Items without the separator, or labels
/// that are not numbers, are skipped and counted. Returns the items, their set names and
/// the skipped-annotation count.
pub fn ranked_items_from_dataset(ds: &Dataset, sep: char) -> (Vec<RankedItem>, Vec<String>, usize) {
    let Some(values) = ds.label_values.as_ref() else {
        return (Vec::new(), Vec::new(), ds.n_annotations());
    };
    // Set name -> responses (item ids) in canonical order.
    let mut sets: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut skipped = 0;
    for item in 0..ds.n_items() {
        match ds.items[item].rsplit_once(sep) {
            Some((set, _)) => sets.entry(set).or_default().push(item),
            None => skipped += ds.item_range(item).len(),
        }
    }
    let mut out = Vec::with_capacity(sets.len());
    let mut names = Vec::with_capacity(sets.len());
    for (set, responses) in sets {
        let mut rows: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for (col, &item) in responses.iter().enumerate() {
            for pos in ds.item_range(item) {
                let row = rows
                    .entry(ds.annotator[pos])
                    .or_insert_with(|| vec![f64::NAN; responses.len()]);
                row[col] = values
                    .get(ds.label[pos] as usize)
                    .copied()
                    .unwrap_or(f64::NAN);
            }
        }
        let (annotators, ranks) = rows.into_iter().unzip();
        out.push(RankedItem { annotators, ranks });
        names.push(set.to_string());
    }
    (out, names, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siegel_1956_tie_example() {
        // Siegel (1956), ch. 9 tie example, 3 judges × 10 objects (NAG G08DAF example data):
        // published W = 0.8277 (Siegel: .828), P = 0.0078.
        let x = vec![
            vec![1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
            vec![2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
            vec![2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
        ];
        let w = kendall_w(&x).expect("defined");
        assert!((w.w - 0.8277).abs() < 5e-5, "{}", w.w);
        assert!((w.p_value - 0.0078).abs() < 5e-5, "{}", w.p_value);
        assert_eq!(w.df, 9);
    }

    #[test]
    fn perfect_agreement_and_reversal() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [4.0, 3.0, 2.0, 1.0];
        assert_eq!(spearman_rho(&a, &a), Some(1.0));
        assert_eq!(kendall_tau_b(&a, &b), Some(-1.0));
        assert_eq!(kendall_tau_b(&a, &[1.0; 4]), None);
        let w = kendall_w(&[a.to_vec(), a.to_vec(), a.to_vec()]).expect("defined");
        assert!((w.w - 1.0).abs() < 1e-12);
    }

    #[test]
    fn contrarian_has_lowest_consensus() {
        let good = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let bad = vec![5.0, 4.0, 3.0, 2.0, 1.0];
        let item = RankedItem {
            annotators: vec![0, 1, 2, 3],
            ranks: vec![good.clone(), good.clone(), good, bad],
        };
        let r = ranking_agreement(&[item.clone(), item]);
        assert_eq!(r.items_used, 2);
        assert_eq!(r.annotators[3].spearman, Some(-1.0));
        assert_eq!(r.annotators[0].spearman, Some(1.0));
        assert_eq!(r.pairs.len(), 6);
    }

    #[test]
    fn dataset_adapter_groups_responses_into_sets() {
        let ds = Dataset::from_triples([
            ("q1/r1", "amy", "1"),
            ("q1/r2", "amy", "2"),
            ("q1/r1", "bob", "2"),
            ("q1/r2", "bob", "1"),
            ("q2/r1", "amy", "1"),
            ("loose", "amy", "1"),
        ]);
        let (items, names, skipped) = ranked_items_from_dataset(&ds, '/');
        assert_eq!(names, vec!["q1", "q2"]);
        assert_eq!(skipped, 1);
        assert_eq!(items[0].ranks, vec![vec![1.0, 2.0], vec![2.0, 1.0]]);
        let r = ranking_agreement(&items);
        assert_eq!(r.items_used, 1);
        assert_eq!(r.pairs[0].spearman, Some(-1.0));
    }
}

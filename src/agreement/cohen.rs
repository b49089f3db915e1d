//! Cohen's kappa for two annotators (unweighted and weighted) and Light's kappa.
//!
//! Sources: J. Cohen (1960, 1968); asymptotic variances of J. L. Fleiss, J. Cohen and
//! B. S. Everitt, "Large sample standard errors of kappa and weighted kappa",
//! *Psychological Bulletin* 72(5):323–327, 1969 — formula by formula as statsmodels
//! `cohens_kappa` (which reproduces SAS PROC FREQ `AGREE`); R. J. Light (1971) for the mean
//! of pairwise kappas.
//!
//! Missing ratings: a pair's kappa uses only the items both annotators rated; pairs are
//! enumerated from the items (never from all annotator pairs), so a pair exists only if it
//! shares an item. The p-value is two-sided, standard normal, with the SE under H0: κ = 0.

use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

use super::cac::PE_EPS;
use super::{Estimate, Ratings, Status};
use crate::dataset::Level;

/// Weights of a Cohen's kappa: scores per category id (label id in the slices given).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KappaWeights<'a> {
    /// Unweighted kappa.
    Unweighted,
    /// Disagreement |s_i − s_j| (Cicchetti–Allison); `scores[label]`.
    Linear(&'a [f64]),
    /// Disagreement (s_i − s_j)² (Fleiss–Cohen); `scores[label]`.
    Quadratic(&'a [f64]),
}

/// Cohen's kappa with its asymptotic inference.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohenKappa {
    /// Kappa; `None` when undefined (see `reason`).
    pub value: Option<f64>,
    /// Asymptotic SE (Fleiss–Cohen–Everitt 1969).
    pub se: Option<f64>,
    /// SE under H0: κ = 0.
    pub se0: Option<f64>,
    /// κ / se0.
    pub z: Option<f64>,
    /// Two-sided normal p-value of z.
    pub p_value: Option<f64>,
    /// Items rated by both.
    pub n: usize,
    /// Observed (weighted) agreement.
    pub po: Option<f64>,
    /// Chance (weighted) agreement.
    pub pe: Option<f64>,
    /// Why the value is missing.
    pub reason: Option<String>,
}

fn undefined(n: usize, reason: &str) -> CohenKappa {
    CohenKappa {
        n,
        reason: Some(reason.to_string()),
        ..CohenKappa::default()
    }
}

/// Cohen's kappa of two aligned label slices (`a[i]`, `b[i]` rate the same item).
pub fn cohen_kappa(a: &[u32], b: &[u32], weights: KappaWeights<'_>) -> CohenKappa {
    if a.len() != b.len() {
        return undefined(a.len().min(b.len()), "label slices have different lengths");
    }
    // Compact to the categories either rater used: empty rows/columns change nothing.
    let mut cats: Vec<u32> = a.iter().chain(b).copied().collect();
    cats.sort_unstable();
    cats.dedup();
    let q = cats.len();
    let local = |l: u32| cats.binary_search(&l).unwrap_or(0);
    let mut table = vec![0.0; q * q];
    for (&x, &y) in a.iter().zip(b) {
        table[local(x) * q + local(y)] += 1.0;
    }
    let pick = |s: &[f64]| -> Option<Vec<f64>> {
        cats.iter().map(|&c| s.get(c as usize).copied()).collect()
    };
    match weights {
        KappaWeights::Unweighted => cohen_kappa_table(&table, q, KappaWeights::Unweighted),
        KappaWeights::Linear(s) => match pick(s) {
            Some(s) => cohen_kappa_table(&table, q, KappaWeights::Linear(&s)),
            None => undefined(a.len(), "a label has no score"),
        },
        KappaWeights::Quadratic(s) => match pick(s) {
            Some(s) => cohen_kappa_table(&table, q, KappaWeights::Quadratic(&s)),
            None => undefined(a.len(), "a label has no score"),
        },
    }
}

/// Cohen's kappa of a q × q contingency table (rows: rater A, columns: rater B); weights'
/// scores are indexed by table row.
pub fn cohen_kappa_table(table: &[f64], q: usize, weights: KappaWeights<'_>) -> CohenKappa {
    let total: f64 = table.iter().sum();
    let n = total.round() as usize;
    if table.len() != q * q || total <= 0.0 {
        return undefined(n, "no shared items");
    }
    let p: Vec<f64> = table.iter().map(|x| x / total).collect();
    let fr: Vec<f64> = (0..q).map(|i| (0..q).map(|j| p[i * q + j]).sum()).collect();
    let fc: Vec<f64> = (0..q).map(|j| (0..q).map(|i| p[i * q + j]).sum()).collect();
    // Disagreement weights d_ij in [0, 1]; identity when unweighted.
    let scores = match weights {
        KappaWeights::Unweighted => None,
        KappaWeights::Linear(s) | KappaWeights::Quadratic(s) => Some(s),
    };
    let mut d = vec![0.0; q * q];
    match scores {
        None => {
            for i in 0..q {
                for j in 0..q {
                    d[i * q + j] = if i == j { 0.0 } else { 1.0 };
                }
            }
        }
        Some(s) => {
            if s.len() != q {
                return undefined(n, "scores do not match the table");
            }
            let (min, max) = super::weights::min_max(s);
            if max <= min {
                return undefined(n, "one category only: chance agreement is 1");
            }
            let quad = matches!(weights, KappaWeights::Quadratic(_));
            for i in 0..q {
                for j in 0..q {
                    let x = (s[i] - s[j]).abs() / (max - min);
                    d[i * q + j] = if quad { x * x } else { x };
                }
            }
        }
    }
    let w: Vec<f64> = d.iter().map(|x| 1.0 - x).collect();
    let po: f64 = (0..q * q).map(|ij| w[ij] * p[ij]).sum();
    let pe: f64 = (0..q * q).map(|ij| w[ij] * fr[ij / q] * fc[ij % q]).sum();
    if 1.0 - pe < PE_EPS {
        let mut k = undefined(n, "chance agreement p_e is 1");
        k.po = Some(po);
        k.pe = Some(pe);
        return k;
    }
    let kappa = (po - pe) / (1.0 - pe);
    let fac = 1.0 / ((1.0 - pe).powi(2) * total);
    let (var, var0) = if scores.is_none() {
        let mut a = 0.0;
        let mut b = 0.0;
        for i in 0..q {
            a += p[i * q + i] * (1.0 - (fr[i] + fc[i]) * (1.0 - kappa)).powi(2);
            for j in 0..q {
                if i != j {
                    b += p[i * q + j] * (fc[i] + fr[j]).powi(2);
                }
            }
        }
        let b = (1.0 - kappa).powi(2) * b;
        let c = (kappa - pe * (1.0 - kappa)).powi(2);
        let t: f64 = (0..q).map(|i| fc[i] * fr[i] * (fc[i] + fr[i])).sum();
        ((a + b - c) * fac, (pe + pe * pe - t) * fac)
    } else {
        let w_row: Vec<f64> = (0..q)
            .map(|i| (0..q).map(|j| fc[j] * w[i * q + j]).sum())
            .collect();
        let w_col: Vec<f64> = (0..q)
            .map(|j| (0..q).map(|i| fr[i] * w[i * q + j]).sum())
            .collect();
        let (mut a, mut a0) = (0.0, 0.0);
        for i in 0..q {
            for j in 0..q {
                let ij = i * q + j;
                a += p[ij] * (w[ij] - (w_col[j] + w_row[i]) * (1.0 - kappa)).powi(2);
                a0 += fr[i] * fc[j] * (w[ij] - (w_col[j] + w_row[i])).powi(2);
            }
        }
        (
            (a - (kappa - pe * (1.0 - kappa)).powi(2)) * fac,
            (a0 - pe * pe) * fac,
        )
    };
    let sqrt = |v: f64| (v.is_finite()).then(|| v.max(0.0).sqrt());
    let se = sqrt(var);
    let se0 = sqrt(var0);
    let z = se0.filter(|&s| s > 0.0).map(|s| kappa / s);
    let p_value = z.and_then(|z| {
        Normal::new(0.0, 1.0)
            .ok()
            .map(|nd| (2.0 * nd.sf(z.abs())).min(1.0))
    });
    CohenKappa {
        value: Some(kappa),
        se,
        se0,
        z,
        p_value,
        n,
        po: Some(po),
        pe: Some(pe),
        reason: None,
    }
}

/// Kappas of one annotator pair (ids in the dataset, `a < b`).
#[derive(Debug, Clone)]
pub(crate) struct PairKappa {
    pub a: u32,
    pub b: u32,
    pub shared: usize,
    pub kappa: Estimate,
    pub linear: Option<Estimate>,
    pub quadratic: Option<Estimate>,
}

fn to_estimate(k: CohenKappa) -> Estimate {
    match k.value {
        Some(v) => {
            let mut e = Estimate::value(v, k.n);
            e.se = k.se;
            e.p_value = k.p_value;
            e.pa = k.po;
            e.pe = k.pe;
            e.checked()
        }
        None => Estimate::undefined(k.n, k.reason.unwrap_or_default()),
    }
}

/// Cohen's kappa of every pair sharing ≥ `min_shared` items, sorted by (a, b) ids.
/// `values` are the category scores (ranks at ordinal, values at interval/ratio).
pub(crate) fn pairwise(
    r: &Ratings,
    level: Level,
    values: &[f64],
    min_shared: usize,
) -> Vec<PairKappa> {
    // Pairs are found through items, one first annotator `a` at a time: a's records
    // (b, label of a, label of b) for every co-annotator b > a are sorted, which groups
    // the pairs. Work is Σ_i m_i² (never all A² pairs) and memory is one annotator's
    // records per thread, not one record per (pair, shared item) for the whole batch.
    // Output is in (a, b) order whatever the thread count.
    //
    // An item's ratings are sorted by annotator, so the co-annotators b > a of a rating are
    // the ratings after it in its item. Each annotator's ratings that have any are listed
    // in item order as (range of those ratings in `rater_cat`, category): the range itself,
    // not the item index, so that reading them is one cache miss instead of two dependent
    // ones (`rating_offsets`, then `rater_cat`).
    let mut offsets = vec![0usize; r.n_raters + 1];
    for i in 0..r.n() {
        let item = r.item_ratings(i);
        for &(a, _) in &item[..item.len().saturating_sub(1)] {
            offsets[a as usize + 1] += 1;
        }
    }
    for a in 0..r.n_raters {
        offsets[a + 1] += offsets[a];
    }
    let mut next = offsets.clone();
    let mut own = vec![(0u32, 0u32, 0u32); offsets[r.n_raters]];
    for i in 0..r.n() {
        let end = r.rating_offsets[i + 1];
        for pos in r.rating_offsets[i]..end.saturating_sub(1) {
            let (a, c) = r.rater_cat[pos];
            debug_assert!(r.rater_cat[pos + 1].0 > a, "ratings sorted by annotator");
            own[next[a as usize]] = (pos as u32 + 1, end as u32, c);
            next[a as usize] += 1;
        }
    }
    let weighted = level != Level::Nominal;
    // Annotators by their first item: those processed at about the same time then read
    // the same region of `rater_cat`, which stays in cache (annotators who work on the
    // same batch of items share them). Results go back to annotator order.
    let mut order: Vec<usize> = (0..r.n_raters)
        .filter(|&a| offsets[a + 1] > offsets[a])
        .collect();
    order.sort_unstable_by_key(|&a| own[offsets[a]].0);
    let found: Vec<(usize, Vec<PairKappa>)> = order
        .into_par_iter()
        .map_init(Scratch::default, |scratch, a| {
            let Scratch {
                shared,
                touched,
                rec,
            } = scratch;
            shared.resize(r.n_raters, 0);
            rec.clear();
            // Copy first, count after: the copy's reads (a cache miss per item) do not
            // wait on one another, so many are in flight at once.
            for &(start, end, la) in &own[offsets[a]..offsets[a + 1]] {
                rec.extend(
                    r.rater_cat[start as usize..end as usize]
                        .iter()
                        .map(|&(b, lb)| (b, la, lb)),
                );
            }
            for &(b, _, _) in rec.iter() {
                if shared[b as usize] == 0 {
                    touched.push(b);
                }
                shared[b as usize] += 1;
            }
            // Most co-annotators share only a few items: keep the records of the pairs
            // that reach `min_shared` before sorting (kappa only counts them, so the order
            // within a pair does not matter).
            let min = min_shared.max(1) as u32;
            rec.retain(|t| shared[t.0 as usize] >= min);
            for b in touched.drain(..) {
                shared[b as usize] = 0;
            }
            rec.sort_unstable();
            let mut out = Vec::new();
            let mut start = 0;
            while start < rec.len() {
                let b = rec[start].0;
                let mut end = start;
                while end < rec.len() && rec[end].0 == b {
                    end += 1;
                }
                let shared = end - start;
                if shared >= min_shared.max(1) {
                    let la: Vec<u32> = rec[start..end].iter().map(|t| t.1).collect();
                    let lb: Vec<u32> = rec[start..end].iter().map(|t| t.2).collect();
                    out.push(PairKappa {
                        a: a as u32,
                        b,
                        shared,
                        kappa: to_estimate(cohen_kappa(&la, &lb, KappaWeights::Unweighted)),
                        linear: weighted.then(|| {
                            to_estimate(cohen_kappa(&la, &lb, KappaWeights::Linear(values)))
                        }),
                        quadratic: weighted.then(|| {
                            to_estimate(cohen_kappa(&la, &lb, KappaWeights::Quadratic(values)))
                        }),
                    });
                }
                start = end;
            }
            (a, out)
        })
        .collect();
    let mut per_annotator: Vec<Vec<PairKappa>> = vec![Vec::new(); r.n_raters];
    for (a, pairs) in found {
        per_annotator[a] = pairs;
    }
    per_annotator.into_iter().flatten().collect()
}

/// Per-thread buffers of [`pairwise`]: items shared with each co-annotator (zeroed again
/// through `touched`) and the records of one first annotator.
#[derive(Default)]
struct Scratch {
    shared: Vec<u32>,
    touched: Vec<u32>,
    rec: Vec<(u32, u32, u32)>,
}

/// Light's kappa: the mean of the defined pairwise (unweighted) kappas. No SE: there is
/// no established variance for it with missing ratings, and we do not invent one.
pub(crate) fn light(pairs: &[PairKappa], n_items: usize) -> Estimate {
    let vals: Vec<f64> = pairs.iter().filter_map(|p| p.kappa.value).collect();
    if vals.is_empty() {
        let mut e = Estimate::undefined(
            n_items,
            "no annotator pair with enough shared items and a defined kappa",
        );
        e.n_pairs = Some(0);
        return e;
    }
    let mut e = Estimate::value(vals.iter().sum::<f64>() / vals.len() as f64, n_items);
    e.n_pairs = Some(vals.len());
    if e.status == Status::Ok {
        e.reason = Some("SE not computed: no established variance for Light's kappa".into());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_matches_brute_force_over_all_pairs() {
        let ds = crate::simulate::simulate(&crate::simulate::SimConfig {
            items: 400,
            seed: 3,
            ..crate::simulate::SimConfig::default()
        })
        .to_dataset();
        let r = Ratings::from_dataset(&ds);
        let min_shared = 4;
        let got = pairwise(&r, Level::Nominal, &[], min_shared);
        // Every annotator's label per item, then every pair (a < b) in id order.
        let mut label_of = vec![std::collections::BTreeMap::new(); r.n_raters];
        for i in 0..r.n() {
            for &(a, c) in r.item_ratings(i) {
                label_of[a as usize].insert(i, c);
            }
        }
        let mut want = Vec::new();
        for a in 0..r.n_raters {
            for b in a + 1..r.n_raters {
                let (la, lb): (Vec<u32>, Vec<u32>) = label_of[a]
                    .iter()
                    .filter_map(|(i, &x)| label_of[b].get(i).map(|&y| (x, y)))
                    .unzip();
                if la.len() >= min_shared {
                    let k = cohen_kappa(&la, &lb, KappaWeights::Unweighted);
                    want.push((a as u32, b as u32, la.len(), k.value));
                }
            }
        }
        let got: Vec<_> = got
            .iter()
            .map(|p| (p.a, p.b, p.shared, p.kappa.value))
            .collect();
        assert!(want.len() > 10);
        assert_eq!(got, want);
    }

    #[test]
    fn wiki_grant_example() {
        // Wikipedia "Cohen's kappa": 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4.
        let t = [20.0, 5.0, 10.0, 15.0];
        let k = cohen_kappa_table(&t, 2, KappaWeights::Unweighted);
        assert!((k.value.unwrap() - 0.4).abs() < 1e-15);
        assert!((k.po.unwrap() - 0.7).abs() < 1e-15);
    }

    #[test]
    fn constant_raters_are_undefined() {
        let k = cohen_kappa(&[1, 1, 1], &[1, 1, 1], KappaWeights::Unweighted);
        assert_eq!(k.value, None);
        assert!(k.reason.is_some());
        let k = cohen_kappa(&[1, 1], &[1, 1], KappaWeights::Linear(&[0.0, 1.0]));
        assert_eq!(k.value, None);
    }

    #[test]
    fn weighted_kappa_and_se_do_not_depend_on_score_scale_or_unused_categories() {
        // Label 2 is unused; scores (0,1,_,3) vs (0,10,_,30): same κ_w and SE (the
        // weights are normalised by the score span, and κ_w and its SE are scale-free).
        let a = [0, 1, 3, 3, 1, 0, 3];
        let b = [0, 3, 3, 1, 1, 1, 3];
        let k1 = cohen_kappa(&a, &b, KappaWeights::Linear(&[0.0, 1.0, 2.0, 3.0]));
        let k2 = cohen_kappa(&a, &b, KappaWeights::Linear(&[0.0, 10.0, 20.0, 30.0]));
        let (v1, v2) = (k1.value.unwrap_or(f64::NAN), k2.value.unwrap_or(0.0));
        assert!((v1 - v2).abs() < 1e-12);
        assert!((k1.se.unwrap_or(f64::NAN) - k2.se.unwrap_or(0.0)).abs() < 1e-12);
    }

    #[test]
    fn missing_score_is_an_error_not_a_panic() {
        let k = cohen_kappa(&[0, 5], &[5, 0], KappaWeights::Linear(&[0.0, 1.0]));
        assert_eq!(k.value, None);
    }
}

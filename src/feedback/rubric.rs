//! Rubric ratings: several numeric rating dimensions per annotation.
//!
//! Agreement per dimension: the existing engine (`agreement::compute`: Krippendorff's alpha,
//! Gwet's AC2, weighted kappas, ...) on a one-dimension `Dataset` at the ordinal or interval
//! level, plus ICC(2,1) / ICC(2,k) of Shrout & Fleiss (1979) from `icc.rs`.
//!
//! Signals:
//! - `flat_rating`: share of an annotator's annotations (with ≥ 2 scored dimensions) whose
//!   scored dimensions all have the same score, vs the other annotators on the same items;
//!   exact binomial test (see `cohort_rate_signals`), one-sided P(X ≥ k).
//! - `low_variance`: the annotator's within-annotator spread. Statistic: mean over
//!   dimensions of ln(SD_d + δ_d), SD_d the sample SD (ddof 1) of the annotator's scores on
//!   dimension d and δ_d = 0.05 × the pooled SD of d over all annotations (so a perfectly
//!   flat annotator has a finite log). Compared with the cohort by a robust z,
//!   (x − median) / (1.4826 MAD) over the annotators with at least `min_annotations`
//!   annotations; p-values treat the robust z as standard normal (one-sided: lower tail).
//!   We chose the robust z of log SD over a Levene/F test because annotators see different
//!   items and the cohort SDs are not one pooled sample; the median/MAD keep a few flat
//!   annotators from hiding each other. The p-value is an approximation; the z is the
//!   primary evidence.
//!
//! Missing values: a `None` or non-finite score is a skipped dimension; it is left out of
//! that dimension's dataset, SD and flatness check. ICC uses only items rated by every
//! annotator of the dimension (a fully crossed design; dropped items are counted).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::icc::{icc, IccForm};
use super::stats::{mad, median};
use super::{cohort_rate_signals, Signal};
use crate::agreement::{compute, AgreementOptions, AgreementReport};
use crate::{Dataset, Level};

/// One annotation: scores of every dimension (`None` = not scored).
#[derive(Debug, Clone, PartialEq)]
pub struct RubricAnnotation {
    /// Item id.
    pub item: u32,
    /// Annotator id.
    pub annotator: u32,
    /// Score per dimension, in the caller's dimension order.
    pub scores: Vec<Option<f64>>,
}

fn score(a: &RubricAnnotation, d: usize) -> Option<f64> {
    a.scores.get(d).copied().flatten().filter(|v| v.is_finite())
}

/// Agreement on one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionAgreement {
    /// Dimension name.
    pub dimension: String,
    /// The agreement engine's report at the requested level.
    pub agreement: AgreementReport,
    /// ICC(2,1) (McGraw–Wong ICC(A,1)) on the fully crossed part.
    pub icc_2_1: Option<IccForm>,
    /// ICC(2,k) (McGraw–Wong ICC(A,k)).
    pub icc_2_k: Option<IccForm>,
    /// Items used by the ICC (rated by every annotator of the dimension).
    pub icc_items: usize,
    /// Items dropped by the ICC.
    pub icc_items_dropped: usize,
    /// Why the ICC is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icc_reason: Option<String>,
}

fn name(names: &[String], id: u32) -> String {
    names
        .get(id as usize)
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// A one-dimension dataset (labels are the scores as numbers) for the agreement engine.
pub fn dimension_dataset(
    annotations: &[RubricAnnotation],
    dimension: usize,
    items: &[String],
    annotators: &[String],
) -> Dataset {
    let rows: Vec<(String, String, String)> = annotations
        .iter()
        .filter_map(|a| {
            score(a, dimension).map(|s| (name(items, a.item), name(annotators, a.annotator), s))
        })
        // `{}` prints 3.0 as "3", so labels read back as the same numbers.
        .map(|(i, a, s)| (i, a, format!("{s}")))
        .collect();
    Dataset::from_triples(
        rows.iter()
            .map(|(i, a, s)| (i.as_str(), a.as_str(), s.as_str())),
    )
}

/// Per-dimension agreement (engine at `level`, plus ICC(2,1) / ICC(2,k)).
pub fn rubric_agreement(
    annotations: &[RubricAnnotation],
    dimensions: &[String],
    items: &[String],
    annotators: &[String],
    level: Level,
    bootstrap: usize,
    seed: u64,
) -> Vec<DimensionAgreement> {
    dimensions
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            let ds = dimension_dataset(annotations, d, items, annotators);
            let opts = AgreementOptions {
                level,
                min_shared: 10,
                bootstrap,
                seed,
            };
            let agreement = compute(&ds, &opts);
            // Items × annotators matrix of this dimension.
            let mut cols: Vec<u32> = annotations
                .iter()
                .filter(|a| score(a, d).is_some())
                .map(|a| a.annotator)
                .collect();
            cols.sort_unstable();
            cols.dedup();
            let col_of: HashMap<u32, usize> =
                cols.iter().enumerate().map(|(j, &a)| (a, j)).collect();
            let mut rows: BTreeMap<u32, Vec<Option<f64>>> = BTreeMap::new();
            for a in annotations {
                if let (Some(s), Some(&j)) = (score(a, d), col_of.get(&a.annotator)) {
                    rows.entry(a.item).or_insert_with(|| vec![None; cols.len()])[j] = Some(s);
                }
            }
            let matrix: Vec<Vec<Option<f64>>> = rows.into_values().collect();
            let (icc_2_1, icc_2_k, icc_items, icc_items_dropped, icc_reason) = match icc(&matrix) {
                Ok(r) => (
                    r.get("ICC(2,1)").cloned(),
                    r.get("ICC(2,k)").cloned(),
                    r.n_targets,
                    r.targets_dropped,
                    None,
                ),
                Err(e) => (
                    None,
                    None,
                    0,
                    e.targets_dropped,
                    Some(format!(
                        "{} (ICC needs items rated by every annotator of the dimension)",
                        e.reason
                    )),
                ),
            };
            DimensionAgreement {
                dimension: dim.clone(),
                agreement,
                icc_2_1,
                icc_2_k,
                icc_items,
                icc_items_dropped,
                icc_reason,
            }
        })
        .collect()
}

/// Flat rating: all scored dimensions of an annotation have the same score.
pub fn flat_rating(annotations: &[RubricAnnotation]) -> Vec<Signal> {
    let obs: Vec<(u32, u32, Option<bool>)> = annotations
        .iter()
        .map(|a| {
            let s: Vec<f64> = (0..a.scores.len()).filter_map(|d| score(a, d)).collect();
            let flat = (s.len() >= 2).then(|| s.iter().all(|&v| v == s[0]));
            (a.item, a.annotator, flat)
        })
        .collect();
    cohort_rate_signals(&obs, "flat_rating", "gave every dimension the same score")
}

fn sample_sd(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64;
    Some(v.sqrt())
}

/// Low variance: robust z of the annotator's mean log SD vs the cohort (see module docs).
pub fn low_variance(annotations: &[RubricAnnotation], min_annotations: usize) -> Vec<Signal> {
    const NAME: &str = "low_variance";
    let n_dims = annotations
        .iter()
        .map(|a| a.scores.len())
        .max()
        .unwrap_or(0);
    let mut by_annot: BTreeMap<u32, Vec<&RubricAnnotation>> = BTreeMap::new();
    for a in annotations {
        by_annot.entry(a.annotator).or_default().push(a);
    }
    let delta: Vec<Option<f64>> = (0..n_dims)
        .map(|d| {
            let all: Vec<f64> = annotations.iter().filter_map(|a| score(a, d)).collect();
            sample_sd(&all).map(|sd| 0.05 * sd).filter(|&x| x > 0.0)
        })
        .collect();
    let stat: BTreeMap<u32, (usize, Option<f64>)> = by_annot
        .iter()
        .map(|(&a, anns)| {
            let logs: Vec<f64> = (0..n_dims)
                .filter_map(|d| {
                    let x: Vec<f64> = anns.iter().filter_map(|a| score(a, d)).collect();
                    Some((sample_sd(&x)? + delta[d]?).ln())
                })
                .collect();
            let v = (anns.len() >= min_annotations && !logs.is_empty())
                .then(|| logs.iter().sum::<f64>() / logs.len() as f64);
            (a, (anns.len(), v))
        })
        .collect();
    let cohort: Vec<f64> = stat.values().filter_map(|s| s.1).collect();
    let (med, scale) = (median(&cohort), mad(&cohort));
    let normal = Normal::new(0.0, 1.0).ok();
    stat.into_iter()
        .map(|(a, (n, v))| {
            let Some(v) = v else {
                return Signal::undefined(
                    NAME,
                    a,
                    n,
                    "too few annotations (or no dimension with 2 scores) for an SD",
                );
            };
            let (Some(med), Some(scale), Some(normal)) = (med, scale, normal) else {
                return Signal::undefined(NAME, a, n, "no cohort to compare with");
            };
            if cohort.len() < 3 || scale <= 0.0 {
                return Signal::undefined(
                    NAME,
                    a,
                    n,
                    "cohort spread is zero or fewer than 3 annotators qualify",
                );
            }
            let z = (v - med) / scale;
            Signal {
                signal: NAME,
                annotator: a,
                n,
                statistic: Some(v),
                expected: Some(med),
                effect_size: Some(z),
                p_value: Some((2.0 * normal.cdf(-z.abs())).min(1.0)),
                p_value_one_sided: Some(normal.cdf(z)),
                evidence: format!(
                    "mean log SD of scores {v:.3} vs cohort median {med:.3} (robust z {z:.2}, {} annotators)",
                    cohort.len()
                ),
                reason: None,
            }
            .checked()
        })
        .collect()
}

/// Rubric annotations from one dataset per dimension (numeric labels), merged by item and
/// annotator names. Returns the annotations with the item and annotator name tables.
pub fn annotations_from_datasets(
    dims: &[&Dataset],
) -> (Vec<RubricAnnotation>, Vec<String>, Vec<String>) {
    let mut items: Vec<String> = Vec::new();
    let mut annotators: Vec<String> = Vec::new();
    let mut item_id: HashMap<String, u32> = HashMap::new();
    let mut annot_id: HashMap<String, u32> = HashMap::new();
    let mut by_key: BTreeMap<(u32, u32), Vec<Option<f64>>> = BTreeMap::new();
    let intern = |names: &mut Vec<String>, ids: &mut HashMap<String, u32>, s: &str| -> u32 {
        *ids.entry(s.to_string()).or_insert_with(|| {
            names.push(s.to_string());
            (names.len() - 1) as u32
        })
    };
    for (d, ds) in dims.iter().enumerate() {
        for item in 0..ds.n_items() {
            for pos in ds.item_range(item) {
                let value = ds
                    .label_values
                    .as_ref()
                    .and_then(|v| v.get(ds.label[pos] as usize).copied());
                let i = intern(&mut items, &mut item_id, &ds.items[item]);
                let a = intern(
                    &mut annotators,
                    &mut annot_id,
                    &ds.annotators[ds.annotator[pos] as usize],
                );
                by_key
                    .entry((i, a))
                    .or_insert_with(|| vec![None; dims.len()])[d] = value;
            }
        }
    }
    let anns = by_key
        .into_iter()
        .map(|((item, annotator), scores)| RubricAnnotation {
            item,
            annotator,
            scores,
        })
        .collect();
    (anns, items, annotators)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 items, 5 annotators, 3 dimensions; annotator 0 gives the same score everywhere
    /// when `flat` (and 3 for everything when `constant`).
    fn data(flat: bool, constant: bool) -> Vec<RubricAnnotation> {
        let mut v = Vec::new();
        for item in 0..40u32 {
            for a in 0..5u32 {
                let scores = (0..3u32)
                    .map(|d| {
                        // Spread grows with the annotator id, so the cohort's SDs differ.
                        let base = f64::from((item * 7 + d * 3 + a) % (a + 3) + 1);
                        Some(if a == 0 && constant {
                            3.0
                        } else if a == 0 && flat {
                            f64::from(item % 5 + 1)
                        } else {
                            base
                        })
                    })
                    .collect();
                v.push(RubricAnnotation {
                    item,
                    annotator: a,
                    scores,
                });
            }
        }
        v
    }

    #[test]
    fn flat_rater_is_flagged() {
        let s = flat_rating(&data(true, false));
        assert_eq!(s[0].statistic, Some(1.0));
        assert!(
            s[0].p_value_one_sided.is_some_and(|p| p < 1e-6),
            "{:?}",
            s[0]
        );
        assert!(
            s[1].p_value_one_sided.is_some_and(|p| p > 0.05),
            "{:?}",
            s[1]
        );
    }

    #[test]
    fn constant_rater_has_low_variance() {
        let s = low_variance(&data(false, true), 5);
        assert!(s[0].effect_size.is_some_and(|z| z < -3.0), "{:?}", s[0]);
        assert!(s[0].p_value_one_sided.is_some_and(|p| p < 1e-3));
        assert!(s.iter().all(|x| x.statistic.is_some()));
    }

    #[test]
    fn agreement_per_dimension_with_icc() {
        let names: Vec<String> = ["clarity", "accuracy", "tone"].map(String::from).to_vec();
        let r = rubric_agreement(&data(false, false), &names, &[], &[], Level::Interval, 0, 0);
        assert_eq!(r.len(), 3);
        assert!(r[0].icc_2_1.as_ref().is_some_and(|f| f.value.is_some()));
        assert_eq!(r[0].icc_items, 40);
        assert!(r[0]
            .agreement
            .coefficients
            .krippendorff_alpha
            .value
            .is_some());
        let ds = dimension_dataset(&data(false, false), 0, &[], &[]);
        let (back, _, _) = annotations_from_datasets(&[&ds, &ds]);
        assert_eq!(back.len(), 200);
    }
}

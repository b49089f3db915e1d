//! Agreement on multi-label answers (label sets): per-label binary agreement and
//! Krippendorff's alpha with set distances (MASI, Jaccard).
//!
//! Source of the definitions: Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability"
//! (coincidence form, any distance δ); Passonneau (2006) "Measuring agreement on set-valued
//! items (MASI)", with M = 2/3 and 1/3 as in nltk 3.10's `masi_distance`, against which
//! it is verified (`fixtures/multilabel/`). Missing values: an annotator who gave no answer
//! for an item simply has no value there (alpha uses the pairable values only); an empty set
//! ("none of these") is a value. Two empty sets are at distance 0 (nltk divides by zero).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{compute, AgreementOptions, Estimate};
use crate::dataset::{Dataset, Level};
use crate::label_sets::LabelSets;

/// Multi-label agreement section (`agreement.multilabel`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiLabelAgreement {
    /// Distinct member labels.
    pub labels: usize,
    /// Distinct label sets given (the categories of the exact-set coefficients).
    pub distinct_sets: usize,
    /// Annotations whose answer was the empty set ("none of these").
    pub empty_sets: usize,
    /// Krippendorff's alpha with the MASI distance over sets.
    pub alpha_masi: Estimate,
    /// Krippendorff's alpha with the Jaccard distance over sets.
    pub alpha_jaccard: Estimate,
    /// Per member label: present/absent per annotation, through the nominal engine.
    pub per_label: Vec<BinaryLabelAgreement>,
}

/// Agreement on one member label, read as a yes/no question per annotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryLabelAgreement {
    pub label: String,
    /// Share of annotations (of items with two or more) that include the label.
    pub prevalence: Option<f64>,
    pub fleiss_kappa: Estimate,
    pub krippendorff_alpha: Estimate,
    pub gwet_ac1: Estimate,
    pub percent_agreement: Estimate,
}

/// Distance between two label sets (sorted member ids).
pub type SetDistance = fn(&[u32], &[u32]) -> f64;

/// `(|A ∩ B|, |A ∪ B|)` of two sorted id lists.
fn overlap(a: &[u32], b: &[u32]) -> (usize, usize) {
    let (mut i, mut j, mut inter) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (inter, a.len() + b.len() - inter)
}

/// Jaccard distance `1 − |A ∩ B| / |A ∪ B|`; 0 for two empty sets.
pub fn jaccard_distance(a: &[u32], b: &[u32]) -> f64 {
    let (inter, union) = overlap(a, b);
    if union == 0 {
        return 0.0;
    }
    1.0 - inter as f64 / union as f64
}

/// MASI distance `1 − J·M`: M = 1 for equal sets, 2/3 when one contains the other, 1/3
/// when they only overlap, 0 when disjoint (Passonneau 2006, nltk); 0 for two empty sets.
pub fn masi_distance(a: &[u32], b: &[u32]) -> f64 {
    let (inter, union) = overlap(a, b);
    if union == 0 {
        return 0.0;
    }
    let m = if a.len() == b.len() && a.len() == inter {
        1.0
    } else if inter == a.len().min(b.len()) {
        2.0 / 3.0
    } else if inter > 0 {
        1.0 / 3.0
    } else {
        0.0
    };
    1.0 - inter as f64 / union as f64 * m
}

/// Krippendorff's alpha over arbitrary values with a distance: `values[u]` are the value
/// ids given to item `u`, `delta[c][k]` the distance between values `c` and `k`.
/// Items with fewer than two values are not pairable and are left out.
pub fn alpha_with_distance(values: &[Vec<usize>], delta: &[Vec<f64>]) -> Estimate {
    let k = delta.len();
    let mut counts = vec![0f64; k];
    let mut n = 0f64;
    let mut d_o = 0f64;
    let mut items = 0usize;
    for vals in values.iter().filter(|v| v.len() >= 2) {
        items += 1;
        let m = vals.len() as f64;
        let mut sum = 0f64;
        for (i, &c) in vals.iter().enumerate() {
            counts[c] += 1.0;
            for (j, &v) in vals.iter().enumerate() {
                if i != j {
                    sum += delta[c][v];
                }
            }
        }
        d_o += sum / (m - 1.0);
        n += m;
    }
    if items == 0 {
        return Estimate::undefined(0, "no item has two or more answers");
    }
    d_o /= n;
    let mut d_e = 0f64;
    for c in 0..k {
        for v in 0..k {
            d_e += counts[c] * counts[v] * delta[c][v];
        }
    }
    d_e /= n * (n - 1.0);
    if d_e <= 0.0 {
        return Estimate::undefined(
            items,
            "every answer is the same set: expected disagreement is 0",
        );
    }
    Estimate::value(1.0 - d_o / d_e, items)
}

/// Alpha with `distance` over the distinct label sets of `sets` (per-annotation CSR).
pub fn set_alpha(ds: &Dataset, sets: &LabelSets, distance: SetDistance) -> Estimate {
    let mut distinct: BTreeMap<&[u32], usize> = BTreeMap::new();
    for pos in 0..ds.n_annotations() {
        let next = distinct.len();
        distinct.entry(sets.set(pos)).or_insert(next);
    }
    let keys: Vec<&[u32]> = {
        let mut k = vec![&[][..]; distinct.len()];
        for (set, &id) in &distinct {
            k[id] = set;
        }
        k
    };
    let delta: Vec<Vec<f64>> = keys
        .iter()
        .map(|a| keys.iter().map(|b| distance(a, b)).collect())
        .collect();
    let values: Vec<Vec<usize>> = (0..ds.n_items())
        .map(|item| ds.item_range(item).map(|p| distinct[sets.set(p)]).collect())
        .collect();
    alpha_with_distance(&values, &delta)
}

/// The multi-label section, or `None` when the dataset has no label sets.
pub fn multilabel(ds: &Dataset, opts: &AgreementOptions) -> Option<MultiLabelAgreement> {
    let sets = ds.label_sets.as_ref()?;
    let binary_opts = AgreementOptions {
        level: Level::Nominal,
        ..*opts
    };
    let per_label = (0..sets.names.len() as u32)
        .map(|m| {
            let bin = binary_dataset(ds, sets, m);
            let report = compute(&bin, &binary_opts);
            let (mut yes, mut all) = (0usize, 0usize);
            for item in 0..bin.n_items() {
                let labels = bin.item_labels(item);
                if labels.len() >= 2 {
                    all += labels.len();
                    yes += labels
                        .iter()
                        .filter(|&&l| bin.labels[l as usize] == "1")
                        .count();
                }
            }
            let c = report.coefficients;
            BinaryLabelAgreement {
                label: sets.names[m as usize].clone(),
                prevalence: (all > 0).then(|| yes as f64 / all as f64),
                fleiss_kappa: c.fleiss_kappa,
                krippendorff_alpha: c.krippendorff_alpha,
                gwet_ac1: c.gwet_ac1,
                percent_agreement: c.percent_agreement,
            }
        })
        .collect();
    let distinct: std::collections::BTreeSet<&[u32]> =
        (0..ds.n_annotations()).map(|p| sets.set(p)).collect();
    Some(MultiLabelAgreement {
        labels: sets.names.len(),
        distinct_sets: distinct.len(),
        empty_sets: (0..ds.n_annotations())
            .filter(|&p| sets.set(p).is_empty())
            .count(),
        alpha_masi: set_alpha(ds, sets, masi_distance),
        alpha_jaccard: set_alpha(ds, sets, jaccard_distance),
        per_label,
    })
}

/// The yes/no dataset of member `m`: label `1` when an annotation's set includes it, else `0`.
pub fn binary_dataset(ds: &Dataset, sets: &LabelSets, m: u32) -> Dataset {
    let mut out = Dataset {
        items: ds.items.clone(),
        annotators: ds.annotators.clone(),
        labels: vec!["0".into(), "1".into()],
        label_values: Some(vec![0.0, 1.0]),
        item_offsets: ds.item_offsets.clone(),
        annotator: ds.annotator.clone(),
        gold: vec![crate::dataset::NO_LABEL; ds.n_items()],
        ..Dataset::default()
    };
    out.label = (0..ds.n_annotations())
        .map(|p| u32::from(sets.set(p).binary_search(&m).is_ok()))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_distances_match_nltk_by_hand() {
        // nltk: masi_distance({a,b},{a}) = 1 - 1/2 * 2/3 = 2/3
        assert!((masi_distance(&[0, 1], &[0]) - 2.0 / 3.0).abs() < 1e-12);
        assert!((masi_distance(&[0, 1], &[1, 2]) - (1.0 - 1.0 / 9.0)).abs() < 1e-12);
        assert_eq!(masi_distance(&[0], &[1]), 1.0);
        assert_eq!(masi_distance(&[], &[]), 0.0);
        assert_eq!(masi_distance(&[], &[1]), 1.0);
        assert!((jaccard_distance(&[0, 1], &[1, 2]) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(jaccard_distance(&[2], &[2]), 0.0);
    }

    #[test]
    fn alpha_with_nominal_distance_is_nominal_alpha() {
        // Krippendorff (2011) is 1 - Do/De; two raters, items (a,a), (a,b), (b,b):
        // n = 6, Do = 2/6, De = 2*3*3/30 = 0.6 -> alpha = 1 - (1/3)/0.6 = 4/9.
        let delta = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        let est = alpha_with_distance(&[vec![0, 0], vec![0, 1], vec![1, 1]], &delta);
        assert!((est.value.unwrap_or(f64::NAN) - 4.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn singleton_sets_with_missing_answers_give_the_nominal_engine_alpha() {
        // On sets of one, Jaccard and MASI are the nominal 0/1 distance, so set alpha must
        // equal the engine's (verified) nominal alpha, here with an unbalanced design.
        use crate::dataset::{DatasetBuilder, Row};
        let rows = [
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "y"),
            ("2", "a", "y"),
            ("2", "b", "y"),
            ("3", "a", "z"),
            ("3", "c", "z"),
            ("3", "d", "x"),
            ("4", "b", "x"),
            ("4", "d", "x"),
            ("5", "a", "x"),
        ];
        let mut b = DatasetBuilder::default();
        for (item, annotator, label) in rows {
            let row = Row {
                item,
                annotator,
                label,
                ..Row::default()
            };
            b.push_set(row, &[label]);
        }
        let ds = b.build(None).expect("no order");
        let opts = AgreementOptions {
            bootstrap: 0,
            ..AgreementOptions::default()
        };
        let nominal = compute(&ds, &opts).coefficients.krippendorff_alpha.value;
        let ml = multilabel(&ds, &opts).expect("sets");
        let (j, m) = (ml.alpha_jaccard.value, ml.alpha_masi.value);
        let n = nominal.expect("defined");
        assert!((j.expect("defined") - n).abs() < 1e-12, "{j:?} vs {n}");
        assert!((m.expect("defined") - n).abs() < 1e-12, "{m:?} vs {n}");
    }
}

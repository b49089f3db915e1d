//! Per-annotator measurements (agreement tables, kappa, gold, label counts, support, runs,
//! effort) and cohort references; the raw material of the rules in `report.rs`.

use serde::Serialize;

use super::annotations::{Ann, ByAnnotator};
use super::effort::{effort, mad, median, Effort};
use super::label_bias::{runs_test, LabelCounts, Runs};
use super::loo_agreement::{cohen_kappa, AgreementCounts, Kappa, Table};
use super::random_clicking::{chi_square_independence, ChiSquare, ShareTable, Support};
use super::{Policy, Signal, NO_LABEL};
use crate::Dataset;

/// Every signal of one annotator (absent when it cannot be computed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Signals {
    /// Agreement with the leave-one-out majority on all items that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_all: Option<Signal>,
    /// The same on clear (uncontested) items only: the figure the rules use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_clear: Option<Signal>,
    /// Cohen's kappa vs the leave-one-out label on all items that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa_all: Option<Signal>,
    /// Cohen's kappa vs the leave-one-out label on clear items (Fleiss–Cohen–Everitt SE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kappa_clear: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gold_accuracy: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_accuracy: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spam_probability: Option<Signal>,
    /// Share of answers that another annotator also gave on the item (`expected`: the share
    /// if answers ignored the item; `p_value`: one-sided, small = follows the items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support: Option<Signal>,
    /// Chi-square test of independence from the consensus on all items (value = statistic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub independence_all: Option<Signal>,
    /// The same on clear items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub independence: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_label_share: Option<Signal>,
    /// Chi-square goodness of fit against the cohort on the same items (value = statistic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_distribution: Option<Signal>,
    /// Runs in submission order (value = runs; expected under random order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_duration_s: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fast_share: Option<Signal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_robust_z: Option<Signal>,
    /// Share of this annotator's items that are contested (or lack a clear LOO label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contested_share: Option<Signal>,
    /// Span datasets: exact-match span F1 against the other annotators (micro over their
    /// pairs, as `agreement.spans.annotators`); `cohort_median` over eligible annotators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_f1: Option<Signal>,
}

/// Per-annotator raw measurements, before cohort references and rules.
pub(super) struct Raw {
    pub(super) items: u64,
    pub(super) agreement: AgreementCounts,
    pub(super) kappa: Option<Kappa>,
    pub(super) independence: Option<ChiSquare>,
    pub(super) kappa_all: Option<Kappa>,
    pub(super) independence_all: Option<ChiSquare>,
    pub(super) support: Support,
    pub(super) gold: (u64, u64),
    /// Mean chance of a right gold answer for item-blind answers (own label distribution).
    pub(super) gold_chance: f64,
    pub(super) labels: LabelCounts,
    pub(super) runs: Option<Runs>,
    pub(super) effort: Option<Effort>,
}

/// Per-thread buffers of [`measure`], reused across annotators.
#[derive(Default)]
pub(super) struct Scratch {
    others: Vec<u32>,
    given: Vec<bool>,
    seq: Vec<u128>,
    seq_narrow: Vec<u64>,
    labels: Vec<u32>,
    shares: ShareTable,
}

/// Raw measurements of annotator `a` from its records (see `annotations`).
pub(super) fn measure(
    ds: &Dataset,
    policy: &Policy,
    by: &ByAnnotator,
    a: usize,
    scratch: &mut Scratch,
) -> Raw {
    let q = ds.n_labels();
    let anns = by.anns(a);
    let me = a as u32;
    let mut agreement = AgreementCounts::default();
    let mut table = Table::new(q);
    let mut table_all = Table::new(q);
    let mut observed = vec![0.0; q];
    let mut expected = vec![0.0; q];
    let (mut gold_right, mut gold_n) = (0u64, 0u64);
    for ann in anns {
        let label = ann.label;
        let loo = ann.loo;
        if loo != NO_LABEL {
            agreement.n_all += 1;
            agreement.agree_all += u64::from(label == loo);
            table_all.add(label, loo);
            if ann.clear {
                agreement.n_clear += 1;
                agreement.agree_clear += u64::from(label == loo);
                table.add(label, loo);
            }
        }
        if ann.gold != NO_LABEL {
            gold_n += 1;
            gold_right += u64::from(label == ann.gold);
        }
        // Expected label counts from the other annotators' shares on the same item.
        let others = ann.others(ds, me, &mut scratch.others);
        if !others.is_empty() {
            let w = 1.0 / others.len() as f64;
            for &l in others {
                if let Some(e) = expected.get_mut(l as usize) {
                    *e += w;
                }
            }
            if let Some(o) = observed.get_mut(label as usize) {
                *o += 1.0;
            }
        }
    }
    // Support: is the annotator's answer one that another annotator also gave?
    let total: f64 = observed.iter().sum();
    let marginal: Vec<f64> = observed
        .iter()
        .map(|&o| if total > 0.0 { o / total } else { 0.0 })
        .collect();
    let mut support = Support::default();
    let given = &mut scratch.given;
    given.clear();
    given.resize(q, false);
    // With few labels, the others' labels on an item are a bit set and its share one lookup.
    let shares = &mut scratch.shares;
    let by_set = shares.fill(&marginal);
    // Gold accuracy that answers drawn from the own label distribution would reach.
    let mut gold_chance = 0.0;
    for ann in anns {
        if ann.gold != NO_LABEL {
            gold_chance += marginal.get(ann.gold as usize).copied().unwrap_or(0.0);
        }
        let others = ann.others(ds, me, &mut scratch.others);
        if others.len() < policy.min_other_annotators {
            continue;
        }
        if by_set {
            // Labels outside 0..q count for nothing, as in `given` below.
            let set = others
                .iter()
                .filter(|&&l| (l as usize) < q)
                .fold(0u32, |set, &l| set | 1 << l);
            let own = (ann.label as usize) < q && set >> ann.label & 1 == 1;
            support.add_share(shares.share(set), own);
            continue;
        }
        for &l in others {
            if let Some(g) = given.get_mut(l as usize) {
                *g = true;
            }
        }
        support.add(ann.label, given, &marginal);
        for &l in others {
            if let Some(g) = given.get_mut(l as usize) {
                *g = false;
            }
        }
    }
    let gold = (gold_right, gold_n);
    let range = by.range(a);
    let runs = by.submitted_at_ms.as_ref().and_then(|t| {
        let labels = submission_order(anns, &t[range.clone()], scratch);
        if labels.len() < policy.runs_min_items {
            return None;
        }
        runs_test(labels)
    });
    let effort = by
        .duration_s
        .as_ref()
        .and_then(|d| effort(d[range].iter().copied(), policy.fast_floor_s));
    let items = anns.len() as u64;
    Raw {
        items,
        kappa: cohen_kappa(&table),
        independence: chi_square_independence(&table),
        kappa_all: cohen_kappa(&table_all),
        support,
        independence_all: chi_square_independence(&table_all),
        agreement,
        gold,
        gold_chance: if gold.1 > 0 {
            gold_chance / gold.1 as f64
        } else {
            0.0
        },
        labels: LabelCounts { observed, expected },
        runs,
        effort,
    }
}

/// The labels of one annotator's records in (submission time, item) order, skipping records
/// without a time (`i64::MIN`); `times` runs beside `anns`.
fn submission_order<'a>(anns: &[Ann], times: &[i64], scratch: &'a mut Scratch) -> &'a [u32] {
    let timed = || {
        anns.iter()
            .zip(times)
            .enumerate()
            .filter(|(_, (_, &t))| t != i64::MIN)
    };
    let (first, last) = timed().fold((i64::MAX, i64::MIN), |(lo, hi), (_, (_, &t))| {
        (lo.min(t), hi.max(t))
    });
    let labels = &mut scratch.labels;
    labels.clear();
    // Usually the times span less than 2^32 ms (49 days) and each item appears once: then
    // (time - first, record index) in one u64 sorts like (time, item), since records are in
    // item order, and sorts faster than the general u128 key.
    let narrow = last.checked_sub(first).is_some_and(|span| span < 1 << 32)
        && anns.windows(2).all(|w| w[0].lo < w[1].lo);
    if narrow {
        let seq = &mut scratch.seq_narrow;
        seq.clear();
        seq.extend(timed().map(|(j, (_, &t))| ((t - first) as u64) << 32 | j as u64));
        seq.sort_unstable();
        labels.extend(seq.iter().map(|&k| anns[k as u32 as usize].label));
    } else {
        // Time with its sign bit flipped, so unsigned order is signed order; `lo` orders
        // items as their ids do, and the label settles repeated items.
        let seq = &mut scratch.seq;
        seq.clear();
        seq.extend(timed().map(|(_, (ann, &t))| {
            let t = (t as u64 ^ (1 << 63)) as u128;
            t << 64 | u128::from(ann.lo) << 32 | u128::from(ann.label)
        }));
        seq.sort_unstable();
        labels.extend(seq.iter().map(|&k| k as u32));
    }
    labels
}

/// Cohort references over annotators with enough work.
pub(super) struct Cohort {
    pub(super) agreement_clear: Option<f64>,
    pub(super) kappa: Option<f64>,
    pub(super) median_s: Option<f64>,
    pub(super) log_median: Option<f64>,
    pub(super) log_mad: Option<f64>,
    pub(super) gold_accuracy: Option<f64>,
    pub(super) fast_share: Option<f64>,
    pub(super) agreement_all: Option<f64>,
}

pub(super) fn cohort(raw: &[Raw], eligible: &[bool]) -> Cohort {
    let pick = |f: &dyn Fn(&Raw) -> Option<f64>| -> Vec<f64> {
        raw.iter()
            .zip(eligible)
            .filter(|(_, &e)| e)
            .filter_map(|(r, _)| f(r))
            .collect()
    };
    let agree = pick(&|r| {
        (r.agreement.n_clear > 0)
            .then(|| r.agreement.agree_clear as f64 / r.agreement.n_clear as f64)
    });
    let kappa = pick(&|r| r.kappa.map(|k| k.kappa));
    let secs = pick(&|r| r.effort.map(|e| e.median_s));
    let logs = pick(&|r| r.effort.map(|e| e.median_log_s));
    let gold = pick(&|r| (r.gold.1 > 0).then(|| r.gold.0 as f64 / r.gold.1 as f64));
    let fast = pick(&|r| r.effort.map(|e| e.fast_share));
    let agree_all = pick(&|r| {
        (r.agreement.n_all > 0).then(|| r.agreement.agree_all as f64 / r.agreement.n_all as f64)
    });
    Cohort {
        gold_accuracy: median(&gold),
        fast_share: median(&fast),
        agreement_all: median(&agree_all),
        agreement_clear: median(&agree),
        kappa: median(&kappa),
        median_s: median(&secs),
        log_median: median(&logs),
        log_mad: mad(&logs),
    }
}

pub(super) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

pub(super) fn finite_signals(mut s: Signals) -> Signals {
    for slot in [
        &mut s.agreement_all,
        &mut s.agreement_clear,
        &mut s.kappa_all,
        &mut s.kappa_clear,
        &mut s.gold_accuracy,
        &mut s.model_accuracy,
        &mut s.spam_probability,
        &mut s.support,
        &mut s.independence_all,
        &mut s.independence,
        &mut s.top_label_share,
        &mut s.label_distribution,
        &mut s.runs,
        &mut s.median_duration_s,
        &mut s.fast_share,
        &mut s.duration_robust_z,
        &mut s.contested_share,
    ] {
        *slot = slot.take().map(Signal::finite);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general (u128) path: sort (time, item, label) tuples.
    fn by_tuples(anns: &[Ann], times: &[i64]) -> Vec<u32> {
        let mut seq: Vec<(i64, u32, u32)> = anns
            .iter()
            .zip(times)
            .filter(|(_, &t)| t != i64::MIN)
            .map(|(ann, &t)| (t, ann.lo, ann.label))
            .collect();
        seq.sort_unstable();
        seq.into_iter().map(|(_, _, label)| label).collect()
    }

    #[test]
    fn submission_order_sorts_by_time_then_item() {
        let record = |lo, label| {
            let mut ann = Ann::default();
            (ann.lo, ann.label) = (lo, label);
            ann
        };
        let mut scratch = Scratch::default();
        // Narrow: ties in time broken by item; a missing time skipped.
        let anns: Vec<Ann> = (0..8).map(|i| record(10 * i, (7 * i + 3) % 5)).collect();
        let times = [50, -20, 50, i64::MIN, 7, -20, 3_000_000_000, 50];
        let want = by_tuples(&anns, &times);
        assert_eq!(submission_order(&anns, &times, &mut scratch), &want[..]);
        assert_eq!(want.len(), 7);
        // Wide: times further apart than 2^32 ms, and a repeated item (same lo) whose labels
        // settle the tie.
        let times = [i64::MAX - 5, i64::MIN + 1, 0, 0, 9, 9, -1, 9];
        let mut anns = anns;
        anns[5].lo = anns[4].lo;
        anns[5].label = 0;
        anns[4].label = 4;
        let want = by_tuples(&anns, &times);
        assert_eq!(submission_order(&anns, &times, &mut scratch), &want[..]);
        let narrow_times = [4, 4, 2, 2, 9, 9, 1, 9];
        let want = by_tuples(&anns, &narrow_times);
        assert_eq!(
            submission_order(&anns, &narrow_times, &mut scratch),
            &want[..]
        );
    }
}

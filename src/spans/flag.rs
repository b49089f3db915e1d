//! `low_span_f1`: the quality rule of span datasets, as a rule test in the batch's
//! Benjamini–Hochberg family (the pattern of `tasks::rules`).
//!
//! Per item, an annotator's spans are compared with each other annotator's spans on that
//! item (exact matching on (start, end, label), edge whitespace trimmed as in
//! `agreement.spans`); the summed counts give a per-item F1 (items where neither side has a
//! span carry no information and are skipped). The statistic is the annotator's F1 over all
//! their pairs, the `span_f1` of `agreement.spans.annotators`; the cohort reference is the
//! median of that F1 over the annotators with at least `min_items` scored items.
//!
//! Test: a one-sided sign test (exact binomial, H0 probability 1/2) of "the annotator's
//! per-item F1 falls below the cohort median no more often than above it"; items exactly at
//! the median are dropped, as the sign test does with ties. Gate: the annotator's F1 is at
//! least `span_f1_min_gap` below the cohort median. A flag needs both (q ≤ fdr and the gate):
//! the sign test says the shortfall is consistent across items rather than a few bad items,
//! the gate that it is large. Like `ranking_disagreement`, the sign test compares per-item
//! values with a median of per-annotator values; the gate is the primary criterion.

use std::collections::BTreeMap;

use super::{compare, span_lists, Counts, SpanOptions};
use crate::dataset::Dataset;
use crate::feedback::stats::binomial_test;
use crate::quality::{Policy, Rule, RuleTest, Signal};

/// A one-sided sign test of "values tend to fall below `reference`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignTest {
    /// Values strictly below and strictly above the reference (ties dropped).
    pub below: u64,
    pub above: u64,
    /// P(X >= below) for X ~ Binomial(below + above, 1/2).
    pub p_value: f64,
}

/// Sign test of `values` against `reference`; `None` when every value ties with it.
pub fn sign_test_below(values: &[f64], reference: f64) -> Option<SignTest> {
    let below = values.iter().filter(|&&v| v < reference).count() as u64;
    let above = values.iter().filter(|&&v| v > reference).count() as u64;
    let p = binomial_test(below, below + above, 0.5)?.greater;
    Some(SignTest {
        below,
        above,
        p_value: p,
    })
}

/// One annotator's span F1 against the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotatorSpanF1 {
    /// Exact-match F1 over all pairs (`None` without any span on either side).
    pub f1: Option<f64>,
    /// Exact-match F1 per item with at least one span on either side.
    pub per_item: Vec<f64>,
}

/// Per annotator id: span F1 against the others, overall and per item. Empty without spans.
pub fn annotator_span_f1(ds: &Dataset, opts: &SpanOptions) -> BTreeMap<u32, AnnotatorSpanF1> {
    let mut out: BTreeMap<u32, (Counts, Vec<f64>)> = BTreeMap::new();
    let Some(sets) = ds.spans.as_ref() else {
        return BTreeMap::new();
    };
    let (lists, _) = span_lists(ds, sets, opts);
    for item in 0..ds.n_items() {
        let range = ds.item_range(item);
        if range.len() < 2 {
            continue;
        }
        for i in range.clone() {
            let mut c = Counts::default();
            for j in range.clone().filter(|&j| j != i) {
                c.add(compare(&lists[i], &lists[j]));
            }
            let e = out.entry(ds.annotator[i]).or_default();
            e.0.add(c);
            if let Some(f1) = c.scores().exact.f1 {
                e.1.push(f1);
            }
        }
    }
    out.into_iter()
        .map(|(a, (c, per_item))| {
            (
                a,
                AnnotatorSpanF1 {
                    f1: c.scores().exact.f1,
                    per_item,
                },
            )
        })
        .collect()
}

/// The `low_span_f1` tests of a span dataset and the per-annotator `span_f1` signals.
#[derive(Debug, Clone, Default)]
pub struct SpanRule {
    pub tests: Vec<RuleTest>,
    pub signals: BTreeMap<u32, Signal>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
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

/// `low_span_f1` (see the module docs); nothing for a dataset without spans.
pub fn low_span_f1(ds: &Dataset, policy: &Policy) -> SpanRule {
    let scores = annotator_span_f1(ds, &SpanOptions::default());
    let eligible = |s: &AnnotatorSpanF1| s.per_item.len() >= policy.min_items;
    let cohort = median(
        scores
            .values()
            .filter(|s| eligible(s))
            .filter_map(|s| s.f1)
            .collect(),
    );
    let mut out = SpanRule::default();
    for (&a, s) in &scores {
        let Some(f1) = s.f1 else { continue };
        let n = s.per_item.len() as u64;
        let test = cohort
            .filter(|_| eligible(s))
            .and_then(|c| Some((c, sign_test_below(&s.per_item, c)?)));
        out.signals.insert(
            a,
            Signal {
                cohort_median: cohort,
                p_value: test.map(|(_, t)| t.p_value),
                ..Signal::new(f1, n)
            }
            .finite(),
        );
        let Some((c, t)) = test else { continue };
        let threshold = c - policy.span_f1_min_gap;
        out.tests.push(RuleTest {
            annotator: a,
            rule: Rule::LowSpanF1,
            gate: f1 <= threshold,
            statistic: f1,
            cohort_reference: Some(c),
            threshold,
            n,
            p_value: t.p_value,
            message: format!(
                "span F1 {f1:.2} on {n} items vs cohort median {c:.2} (exact matching); {} of {} untied items fall below the cohort median (sign test p = {:.2e}); clears when span F1 reaches {threshold:.2} on re-checked items or a review finds the spans correct.",
                t.below,
                t.below + t.above,
                t.p_value
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_test_by_hand() {
        // 12 values against 0.5: 9 below, 1 above, 2 ties (dropped) -> n = 10,
        // P(X >= 9 | Bin(10, 1/2)) = (C(10,9) + C(10,10)) / 2^10 = 11/1024.
        let v = [0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2, 0.3, 0.9, 0.5, 0.5];
        let t = sign_test_below(&v, 0.5).expect("defined");
        assert_eq!((t.below, t.above), (9, 1));
        assert!((t.p_value - 11.0 / 1024.0).abs() < 1e-12, "{t:?}");
        // Balanced: 2 below, 2 above -> P(X >= 2 | Bin(4, 1/2)) = 11/16.
        let t = sign_test_below(&[0.1, 0.2, 0.8, 0.9], 0.5).expect("defined");
        assert!((t.p_value - 11.0 / 16.0).abs() < 1e-12);
        assert_eq!(sign_test_below(&[0.5, 0.5], 0.5), None);
        assert_eq!(sign_test_below(&[], 0.5), None);
    }
}

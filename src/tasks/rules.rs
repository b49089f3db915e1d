//! Feedback signals → rule tests in the batch's Benjamini–Hochberg family.
//!
//! Each test carries the one-sided p-value of the suspicious direction and an effect-size
//! gate; a flag needs both (q ≤ fdr and the gate), as for the classification rules.
//!
//! Two text signals have no p-value of their own, and we give each a test rather than a
//! non-FDR rule, so that every flag in a report means the same thing:
//! - `text_copying`: per answer, "near-identical (Jaccard ≥ `text_similarity`) to another
//!   annotator's answer on the same item"; the annotator's rate is tested against the other
//!   annotators' rate on the same items (exact binomial, `feedback::cohort_rate_signals`).
//!   Whoever was copied also has near-duplicates, but only on the share of items the copier
//!   shares with them, so the gate `text_copying_min_share` (default 50%) separates them.
//!   With two annotators per item copier and source are symmetric and cannot be told apart.
//! - `text_reuse`: the count of reused answers is tested against the cohort median share
//!   (floored at 1%) with an exact binomial test. Reused answers come in clusters, so this p
//!   is optimistic; the gate `text_reuse_min_share` (default 30%) is the primary criterion.

use std::collections::HashMap;

use crate::feedback::stats::binomial_test;
use crate::feedback::Signal;
use crate::quality::{Rule, RuleTest};

/// How a signal becomes a test: its rule, its gate and the sentences of the message.
pub struct Spec {
    pub rule: Rule,
    /// Gate on (statistic, expected, effect size); `threshold` is what the message quotes.
    pub gate: fn(f64, f64, Option<f64>, f64) -> bool,
    pub threshold: f64,
    /// How to clear the flag.
    pub clears: &'static str,
    /// The gate is on the effect size (a robust z): the flag then reports the z as its
    /// statistic and 0 (the cohort median) as its reference, so statistic and threshold
    /// are on one scale.
    pub on_effect: bool,
    /// The threshold is an excess over the cohort: the flag reports cohort + threshold, the
    /// value the statistic had to reach.
    pub relative: bool,
}

/// Gate: the rate exceeds the cohort's by at least the threshold.
pub fn excess_gate(stat: f64, expected: f64, _: Option<f64>, min: f64) -> bool {
    stat - expected >= min
}

/// Gate: the effect size (a robust z) is at or below the threshold.
pub fn z_gate(_: f64, _: f64, z: Option<f64>, max: f64) -> bool {
    z.is_some_and(|z| z <= max)
}

/// Gate: the statistic is at or below the threshold.
pub fn at_most_gate(stat: f64, _: f64, _: Option<f64>, max: f64) -> bool {
    stat <= max
}

/// Gate: the statistic is at or above the threshold.
pub fn at_least_gate(stat: f64, _: f64, _: Option<f64>, min: f64) -> bool {
    stat >= min
}

/// Turn signals into tests, mapping the signal's annotator id through `to_ds` (signals of
/// annotators not in the audited dataset are dropped). Signals without a one-sided p are
/// skipped: they are reported but not tested.
pub fn tests_from_signals(
    signals: &[Signal],
    spec: &Spec,
    to_ds: &HashMap<u32, u32>,
) -> Vec<RuleTest> {
    signals
        .iter()
        .filter_map(|s| {
            let annotator = *to_ds.get(&s.annotator)?;
            let stat = s.statistic?;
            let expected = s.expected.unwrap_or(0.0);
            let p = s.p_value_one_sided?;
            let (statistic, reference) = if spec.on_effect {
                (s.effect_size?, Some(0.0))
            } else {
                (stat, s.expected)
            };
            Some(RuleTest {
                annotator,
                rule: spec.rule,
                gate: (spec.gate)(stat, expected, s.effect_size, spec.threshold),
                statistic,
                cohort_reference: reference,
                threshold: if spec.relative {
                    expected + spec.threshold
                } else {
                    spec.threshold
                },
                n: s.n as u64,
                p_value: p,
                message: format!("{}; {}", s.evidence, spec.clears),
            })
        })
        .collect()
}

/// Give `text_reuse` signals (share, cohort median, no p) their binomial test.
pub fn with_reuse_test(mut signals: Vec<Signal>) -> Vec<Signal> {
    for s in &mut signals {
        if let (Some(share), Some(med)) = (s.statistic, s.expected) {
            let k = (share * s.n as f64).round() as u64;
            if let Some(t) = binomial_test(k, s.n as u64, med.max(0.01)) {
                s.p_value = Some(t.two_sided);
                s.p_value_one_sided = Some(t.greater);
            }
        }
    }
    signals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_map_to_tests_with_gates() {
        let sig = Signal {
            signal: "position_bias",
            annotator: 7,
            n: 100,
            statistic: Some(0.95),
            expected: Some(0.5),
            effect_size: Some(1.0),
            p_value: Some(1e-20),
            p_value_one_sided: Some(1e-21),
            evidence: "picked first".into(),
            reason: None,
        };
        let spec = Spec {
            rule: Rule::PositionBias,
            gate: excess_gate,
            threshold: 0.2,
            clears: "clears when …",
            on_effect: false,
            relative: true,
        };
        let map: HashMap<u32, u32> = [(7, 3)].into_iter().collect();
        let t = tests_from_signals(std::slice::from_ref(&sig), &spec, &map);
        assert_eq!(t.len(), 1);
        assert!(t[0].gate);
        assert_eq!(t[0].annotator, 3);
        assert!(tests_from_signals(&[sig], &spec, &HashMap::new()).is_empty());
    }
}

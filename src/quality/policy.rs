//! The written audit policy: every threshold, minimum sample size and the rule → action map,
//! read from TOML with a default for every field (`fixtures/policy.toml` documents them).
//!
//! Unknown keys are rejected (serde `deny_unknown_fields`) so that a typo in a policy file
//! cannot silently fall back to a default.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a rule does when it fires and survives false-discovery control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The rule is not tested at all (and takes no part in the FDR family).
    Off,
    /// A person looks at the work before it is paid.
    Review,
    /// Payment is held until the finding is cleared.
    Hold,
}

/// The action taken by each rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Actions {
    pub low_gold_accuracy: Action,
    pub low_agreement: Action,
    pub random_clicking: Action,
    pub straight_lining: Action,
    pub label_bias: Action,
    pub runs_anomaly: Action,
    pub fast_low_agreement: Action,
    pub collusion: Action,
    pub position_bias: Action,
    pub tie_overuse: Action,
    pub flat_rating: Action,
    pub low_variance: Action,
    pub text_reuse: Action,
    pub text_copying: Action,
    pub short_answers: Action,
    pub ranking_disagreement: Action,
    pub low_span_f1: Action,
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            low_gold_accuracy: Action::Hold,
            low_agreement: Action::Review,
            random_clicking: Action::Hold,
            straight_lining: Action::Hold,
            label_bias: Action::Review,
            runs_anomaly: Action::Review,
            fast_low_agreement: Action::Hold,
            collusion: Action::Review,
            position_bias: Action::Hold,
            tie_overuse: Action::Review,
            flat_rating: Action::Hold,
            low_variance: Action::Review,
            text_reuse: Action::Review,
            text_copying: Action::Hold,
            short_answers: Action::Review,
            ranking_disagreement: Action::Review,
            low_span_f1: Action::Review,
        }
    }
}

/// Thresholds, minimum sample sizes and actions of the annotator-quality audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Benjamini–Hochberg false-discovery rate over all tests of the batch.
    pub fdr: f64,
    /// Below this many annotations an annotator gets `insufficient_evidence` and no flag.
    pub min_items: usize,
    /// An item is contested for an annotator when the top share among the OTHER annotators
    /// is below this; quality signals use clear items only.
    pub contested_share: f64,
    /// Fewest other annotators on an item for its leave-one-out label to count as clear.
    pub min_other_annotators: usize,
    /// Accuracy standard on gold items (H0: accuracy >= standard).
    pub gold_standard: f64,
    /// Fewest gold items before the gold rule is tested.
    pub min_gold_items: usize,
    /// Agreement standard with the leave-one-out majority on clear items.
    pub agreement_standard: f64,
    /// Fewest clear items before agreement-based rules are tested.
    pub min_clear_items: usize,
    /// Random clicking: kappa against the consensus must be credibly above this.
    pub random_kappa_max: f64,
    /// Chi-square level at which answers read as "independent of the consensus" (random) or
    /// "systematic disagreement" (e.g. swapped labels) in the random-clicking message.
    pub independence_alpha: f64,
    /// Random clicking also needs the answers NOT to be shared with other annotators more
    /// often than chance (one-sided support test p >= this): protects honest annotators whose
    /// clear items are few and partly ambiguous.
    pub support_alpha: f64,
    /// Straight-lining: share of the most used label at or above this ...
    pub straight_line_share: f64,
    /// ... and at least this far above the cohort's share of that label on the same items.
    pub straight_line_excess: f64,
    /// Label bias is flagged only when the most over-used label's share exceeds the cohort's
    /// share on the same items by at least this (an effect size next to the p-value).
    pub label_bias_min_excess: f64,
    /// Fewest timestamped annotations before the runs test is done.
    pub runs_min_items: usize,
    /// Runs anomalies are flagged only when |z| is at least this.
    pub runs_min_abs_z: f64,
    /// Annotations faster than this many seconds count as fast.
    pub fast_floor_s: f64,
    /// Fast when at least this share of annotations is below the floor ...
    pub fast_share: f64,
    /// ... or when the robust z of the median log duration is at or below this.
    pub fast_robust_z: f64,
    /// Fewest shared items before a pair is tested for collusion.
    pub collusion_min_shared: usize,
    /// Fewest identical minority answers before a pair can be reported.
    pub collusion_min_identical: u64,
    /// Identical minority answers must be at least this many times the number expected
    /// under independence (an effect size next to the p-value).
    pub collusion_min_ratio: f64,
    /// Copying shows as high raw agreement on shared items; pairs below this are not reported
    /// (honest pairs sharing many confusable items agree far less than copiers).
    pub collusion_min_agreement: f64,
    /// Items with more annotators than this are skipped when counting pairs (bounds work).
    pub max_annotators_per_item_for_pairs: usize,
    /// low_span_f1: exact-match span F1 against the others at least this far below the
    /// cohort median of the annotators' span F1 (span datasets only).
    pub span_f1_min_gap: f64,
    /// Thresholds of the AI-feedback task rules (`[tasks]`; see `tasks::policy`).
    pub tasks: crate::tasks::TaskPolicy,
    /// Which rules lead to review and which to hold.
    pub actions: Actions,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fdr: 0.05,
            min_items: 20,
            contested_share: 0.6,
            min_other_annotators: 2,
            gold_standard: 0.7,
            min_gold_items: 10,
            agreement_standard: 0.6,
            min_clear_items: 20,
            random_kappa_max: 0.4,
            independence_alpha: 0.01,
            support_alpha: 0.001,
            straight_line_share: 0.6,
            straight_line_excess: 0.25,
            label_bias_min_excess: 0.1,
            runs_min_items: 20,
            runs_min_abs_z: 3.0,
            fast_floor_s: 3.0,
            fast_share: 0.5,
            fast_robust_z: -3.0,
            collusion_min_shared: 20,
            collusion_min_identical: 3,
            collusion_min_ratio: 3.0,
            collusion_min_agreement: 0.75,
            max_annotators_per_item_for_pairs: 50,
            span_f1_min_gap: 0.2,
            tasks: crate::tasks::TaskPolicy::default(),
            actions: Actions::default(),
        }
    }
}

impl Policy {
    /// Parse a policy; missing fields take their defaults, unknown keys are an error.
    pub fn from_toml_str(s: &str) -> Result<Policy> {
        let policy: Policy =
            toml::from_str(s).map_err(|e| Error::Usage(format!("policy: {}", e.message())))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Reject values that would make the statistics meaningless.
    pub fn validate(&self) -> Result<()> {
        let unit = [
            ("fdr", self.fdr),
            ("contested_share", self.contested_share),
            ("gold_standard", self.gold_standard),
            ("agreement_standard", self.agreement_standard),
            ("independence_alpha", self.independence_alpha),
            ("support_alpha", self.support_alpha),
            ("collusion_min_agreement", self.collusion_min_agreement),
            ("straight_line_share", self.straight_line_share),
            ("straight_line_excess", self.straight_line_excess),
            ("label_bias_min_excess", self.label_bias_min_excess),
            ("fast_share", self.fast_share),
            ("span_f1_min_gap", self.span_f1_min_gap),
        ];
        for (name, v) in unit {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::Usage(format!(
                    "policy: {name} must be strictly between 0 and 1, got {v}"
                )));
            }
        }
        if !(self.random_kappa_max > -1.0 && self.random_kappa_max < 1.0) {
            return Err(Error::Usage(
                "policy: random_kappa_max must be between -1 and 1".into(),
            ));
        }
        if !(self.collusion_min_ratio >= 1.0 && self.collusion_min_ratio.is_finite()) {
            return Err(Error::Usage(
                "policy: collusion_min_ratio must be a finite number >= 1".into(),
            ));
        }
        if !(self.fast_floor_s >= 0.0 && self.fast_robust_z.is_finite()) {
            return Err(Error::Usage(
                "policy: fast_floor_s must be >= 0 and fast_robust_z finite".into(),
            ));
        }
        if self.min_other_annotators == 0 || self.max_annotators_per_item_for_pairs < 2 {
            return Err(Error::Usage(
                "policy: min_other_annotators must be >= 1 and max_annotators_per_item_for_pairs >= 2"
                    .into(),
            ));
        }
        self.tasks.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_the_default() {
        assert_eq!(Policy::from_toml_str("").unwrap(), Policy::default());
    }

    #[test]
    fn fields_override_and_unknown_keys_are_named() {
        let p = Policy::from_toml_str("fdr = 0.1\n[actions]\ncollusion = \"hold\"\n").unwrap();
        assert_eq!(p.fdr, 0.1);
        assert_eq!(p.actions.collusion, Action::Hold);
        assert_eq!(p.actions.random_clicking, Action::Hold);
        let err = Policy::from_toml_str("fdrr = 0.1").unwrap_err().to_string();
        assert!(err.contains("fdrr"), "{err}");
        let err = Policy::from_toml_str("[actions]\nspeed = \"hold\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("speed"), "{err}");
        assert!(Policy::from_toml_str("fdr = 1.5").is_err());
    }

    #[test]
    fn fixture_is_the_default_policy() {
        let text = include_str!("../../fixtures/policy.toml");
        assert_eq!(Policy::from_toml_str(text).unwrap(), Policy::default());
    }
}

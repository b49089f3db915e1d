//! Flags and false-discovery control: every rule test of the batch (all annotators, all
//! rules, all pairs) forms one family; q-values are Benjamini–Hochberg (1995) adjusted
//! p-values, and a flag is raised only when its q is at or below the policy's FDR.

use serde::Serialize;

use super::policy::{Action, Actions};

/// The rules an annotator can be flagged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    LowGoldAccuracy,
    LowAgreement,
    RandomClicking,
    StraightLining,
    LabelBias,
    RunsAnomaly,
    FastLowAgreement,
    Collusion,
    /// Preference: picks the response shown first far more than the cohort.
    PositionBias,
    /// Preference: answers `tie` far more than the cohort.
    TieOveruse,
    /// Rubric: gives every dimension the same score far more than the cohort.
    FlatRating,
    /// Rubric: scores vary far less than the cohort's.
    LowVariance,
    /// Text: reuses near-identical answers across items.
    TextReuse,
    /// Text: answers near-identical to another annotator's answer on the same item.
    TextCopying,
    /// Text: answers far shorter than the others' on the same items.
    ShortAnswers,
    /// Ranking: rankings far less correlated with the others' consensus than the cohort's.
    RankingDisagreement,
    /// Spans: exact-match span F1 against the others far below the cohort's.
    LowSpanF1,
}

impl Rule {
    /// The rule's name as used in the policy file and the report.
    pub fn name(self) -> &'static str {
        match self {
            Rule::LowGoldAccuracy => "low_gold_accuracy",
            Rule::LowAgreement => "low_agreement",
            Rule::RandomClicking => "random_clicking",
            Rule::StraightLining => "straight_lining",
            Rule::LabelBias => "label_bias",
            Rule::RunsAnomaly => "runs_anomaly",
            Rule::FastLowAgreement => "fast_low_agreement",
            Rule::Collusion => "collusion",
            Rule::PositionBias => "position_bias",
            Rule::TieOveruse => "tie_overuse",
            Rule::FlatRating => "flat_rating",
            Rule::LowVariance => "low_variance",
            Rule::TextReuse => "text_reuse",
            Rule::TextCopying => "text_copying",
            Rule::ShortAnswers => "short_answers",
            Rule::RankingDisagreement => "ranking_disagreement",
            Rule::LowSpanF1 => "low_span_f1",
        }
    }

    /// The policy's action for this rule.
    pub fn action(self, actions: &Actions) -> Action {
        match self {
            Rule::LowGoldAccuracy => actions.low_gold_accuracy,
            Rule::LowAgreement => actions.low_agreement,
            Rule::RandomClicking => actions.random_clicking,
            Rule::StraightLining => actions.straight_lining,
            Rule::LabelBias => actions.label_bias,
            Rule::RunsAnomaly => actions.runs_anomaly,
            Rule::FastLowAgreement => actions.fast_low_agreement,
            Rule::Collusion => actions.collusion,
            Rule::PositionBias => actions.position_bias,
            Rule::TieOveruse => actions.tie_overuse,
            Rule::FlatRating => actions.flat_rating,
            Rule::LowVariance => actions.low_variance,
            Rule::TextReuse => actions.text_reuse,
            Rule::TextCopying => actions.text_copying,
            Rule::ShortAnswers => actions.short_answers,
            Rule::RankingDisagreement => actions.ranking_disagreement,
            Rule::LowSpanF1 => actions.low_span_f1,
        }
    }
}

/// How serious a raised flag is (ordered: `Hold` is worse than `Review`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Review,
    Hold,
}

/// One hypothesis test of one rule on one annotator, before FDR control.
#[derive(Debug, Clone)]
pub struct RuleTest {
    pub annotator: u32,
    pub rule: Rule,
    /// The effect-size condition of the rule (e.g. share above threshold) holds.
    pub gate: bool,
    pub statistic: f64,
    pub cohort_reference: Option<f64>,
    pub threshold: f64,
    pub n: u64,
    pub p_value: f64,
    /// Why the rule fires and what clears it; built-in rules leave it empty when `gate` is
    /// false (see [`message_if`]).
    pub message: String,
}

/// A test's message, formatted only when its gate holds: a test whose gate fails never
/// raises a flag (gates are only ever switched off afterwards), and in a large batch most
/// tests are of that kind, so formatting all of them cost more than the tests.
pub fn message_if(gate: bool, text: impl FnOnce() -> String) -> String {
    if gate {
        text()
    } else {
        String::new()
    }
}

/// A raised flag: a rule test that passed its gate and survived FDR control.
#[derive(Debug, Clone, Serialize)]
pub struct Flag {
    pub annotator: String,
    pub rule: Rule,
    pub severity: Severity,
    pub statistic: Option<f64>,
    pub cohort_reference: Option<f64>,
    pub threshold: Option<f64>,
    pub n: u64,
    pub p_value: f64,
    pub q_value: f64,
    pub message: String,
    #[serde(skip)]
    pub annotator_id: u32,
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input order.
///
/// `q_(i) = min_{j >= i} m p_(j) / j`, capped at 1. Non-finite p-values count as 1.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let clean = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            1.0
        }
    };
    let mut order: Vec<usize> = (0..m).collect();
    // Stable sort on a total order: ties keep input order, so the result is deterministic.
    order.sort_by(|&a, &b| clean(p[a]).total_cmp(&clean(p[b])));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for rank in (0..m).rev() {
        let i = order[rank];
        let v = clean(p[i]) * m as f64 / (rank + 1) as f64;
        running = running.min(v);
        q[i] = running.min(1.0);
    }
    q
}

/// Format a p- or q-value for a sentence.
pub fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

/// Format a proportion as a whole percentage.
pub fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_a_hand_worked_example() {
        // m = 5, sorted p: .01 .02 .03 .04 .20 -> m p / rank: .05 .05 .05 .05 .20;
        // running minimum from the top keeps them.
        let q = benjamini_hochberg(&[0.04, 0.01, 0.20, 0.03, 0.02]);
        let want = [0.05, 0.05, 0.20, 0.05, 0.05];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        // A non-monotone case: p = .01 .04 .045 -> 3p/r = .03 .06 .045 -> q = .03 .045 .045.
        let q = benjamini_hochberg(&[0.045, 0.01, 0.04]);
        let want = [0.045, 0.03, 0.045];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.5]), vec![1.0, 1.0]);
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn bh_agrees_with_scipy() {
        // scipy.stats.false_discovery_control([0.001, 0.008, 0.039, 0.041, 0.042, 0.06,
        //   0.074, 0.205, 0.212, 0.216], method='bh')
        let p = [
            0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216,
        ];
        let want = [
            0.01,
            0.04,
            0.084,
            0.084,
            0.084,
            0.1,
            0.1057142857142857,
            0.216,
            0.216,
            0.216,
        ];
        for (a, b) in benjamini_hochberg(&p).iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}

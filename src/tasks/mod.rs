//! AI-feedback task types on the command line: `--task preference|ranking|rubric|text`.
//!
//! The statistics live in [`crate::feedback`]; this module reads the task inputs
//! ([`input`]), turns the feedback signals into rule tests that join the SAME
//! Benjamini–Hochberg family as the classification rules ([`rules`]), and runs the audit
//! ([`audit`]) so that flags, decisions and every report format carry them. [`simulate`]
//! writes batches with honest and low-effort roles to measure detection.
//!
//! Each task also gets a classification view of the data so the existing consensus and
//! report machinery applies: preference → the choice (`A`/`B`/`tie`; classification rules
//! stay on), rubric → the first dimension, ranking → the top-ranked response, text → a
//! constant `answered` label. For rubric, ranking and text the classification rules are
//! switched off (that view is not what the annotators were asked).

pub mod audit;
pub mod input;
pub mod load;
pub mod ranking;
pub mod render;
pub mod report;
pub mod rules;
pub mod simulate;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The kind of annotation task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// One label per annotation from a fixed set.
    Classification,
    /// Pairwise preference between responses A and B.
    Preference,
    /// A ranking of several responses per item.
    Ranking,
    /// Several numeric rating dimensions per annotation.
    Rubric,
    /// Free text (rewrites, rationales).
    Text,
}

impl Task {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Preference => "preference",
            Task::Ranking => "ranking",
            Task::Rubric => "rubric",
            Task::Text => "text",
        }
    }
}

/// Preference labels written as words or arrows (numbers alone do not make a preference
/// task: a 1..5 scale is a classification).
fn is_preference_label(l: &str) -> bool {
    let t: String = l.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.to_ascii_lowercase();
    matches!(
        t.as_str(),
        "a" | "b" | "tie" | "a>>b" | "a>b" | "b>a" | "b>>a" | "a=b" | "equal" | "same"
    )
}

/// Detect the task from the distinct labels of a classification load: preference when every
/// label is a preference word and both `A` and `B` occur; ranking when every label is a
/// ranking of ≥ 2 responses with `>`; text when labels are long and nearly all distinct.
/// Anything else is classification.
pub fn detect(labels: &[String], annotations: usize) -> Task {
    if labels.is_empty() {
        return Task::Classification;
    }
    let lower: Vec<String> = labels
        .iter()
        .map(|l| l.trim().to_ascii_lowercase())
        .collect();
    if lower.iter().all(|l| is_preference_label(l))
        && lower.iter().any(|l| l == "a" || l.starts_with("a>"))
        && lower.iter().any(|l| l == "b" || l.starts_with("b>"))
    {
        return Task::Preference;
    }
    if labels
        .iter()
        .all(|l| l.contains('>') && ranking::parse_ranking(l).is_some())
    {
        return Task::Ranking;
    }
    let mean_len =
        labels.iter().map(|l| l.chars().count()).sum::<usize>() as f64 / labels.len() as f64;
    if annotations >= 20 && labels.len() as f64 >= 0.9 * annotations as f64 && mean_len >= 20.0 {
        return Task::Text;
    }
    Task::Classification
}

/// Thresholds of the task rules (`[tasks]` in the policy file). Each rule is a test in the
/// batch's false-discovery family AND an effect-size gate; both must hold for a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskPolicy {
    /// position_bias: first-shown pick rate at least this far above the cohort's.
    pub position_bias_min_excess: f64,
    /// tie_overuse: tie rate at least this far above the cohort's.
    pub tie_overuse_min_excess: f64,
    /// flat_rating: all-dimensions-equal rate at least this far above the cohort's.
    pub flat_rating_min_excess: f64,
    /// low_variance: robust z of the mean log SD at or below this.
    pub low_variance_max_z: f64,
    /// text: Jaccard similarity (character 5-shingles) at which answers are near-duplicates.
    pub text_similarity: f64,
    /// text_reuse: share of answers reused on other items at or above this.
    pub text_reuse_min_share: f64,
    /// text_copying: share of answers near-identical to another annotator's at or above this.
    pub text_copying_min_share: f64,
    /// short_answers: median length ratio to the others' answers at or below this.
    pub short_answer_max_ratio: f64,
    /// ranking_disagreement: mean Spearman with the consensus at least this far below the
    /// cohort median.
    pub ranking_min_gap: f64,
}

impl Default for TaskPolicy {
    fn default() -> Self {
        TaskPolicy {
            position_bias_min_excess: 0.2,
            tie_overuse_min_excess: 0.2,
            flat_rating_min_excess: 0.3,
            low_variance_max_z: -3.0,
            text_similarity: 0.8,
            text_reuse_min_share: 0.3,
            text_copying_min_share: 0.5,
            short_answer_max_ratio: 0.5,
            ranking_min_gap: 0.3,
        }
    }
}

impl TaskPolicy {
    /// Reject values that would make the rules meaningless.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("position_bias_min_excess", self.position_bias_min_excess),
            ("tie_overuse_min_excess", self.tie_overuse_min_excess),
            ("flat_rating_min_excess", self.flat_rating_min_excess),
            ("text_similarity", self.text_similarity),
            ("text_reuse_min_share", self.text_reuse_min_share),
            ("text_copying_min_share", self.text_copying_min_share),
            ("short_answer_max_ratio", self.short_answer_max_ratio),
            ("ranking_min_gap", self.ranking_min_gap),
        ] {
            if !(v > 0.0 && v < 2.0) {
                return Err(Error::Usage(format!(
                    "policy: tasks.{name} must be between 0 and 2, got {v}"
                )));
            }
        }
        if !self.low_variance_max_z.is_finite() {
            return Err(Error::Usage(
                "policy: tasks.low_variance_max_z must be finite".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn detects_unambiguous_tasks_only() {
        assert_eq!(detect(&s(&["A", "B", "tie"]), 100), Task::Preference);
        assert_eq!(detect(&s(&["A>>B", "B>A"]), 100), Task::Preference);
        assert_eq!(detect(&s(&["1", "0", "-1"]), 100), Task::Classification);
        assert_eq!(detect(&s(&["A", "C"]), 100), Task::Classification);
        assert_eq!(detect(&s(&["r1>r2>r3", "r2>r1=r3"]), 100), Task::Ranking);
        assert_eq!(detect(&s(&["cat", "dog"]), 100), Task::Classification);
    }
}

//! The task section of an audit report: task-specific agreement, the task signals of every
//! annotator, and the helpers that build them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Task;
use crate::agreement::AgreementReport;
use crate::feedback::kendall_w::RankingAgreement;
use crate::feedback::rubric::DimensionAgreement;
use crate::feedback::text::{jaccard, normalise, shingles, Answer, TextOptions};
use crate::feedback::Signal;
use crate::quality::RuleTest;
use crate::Level;

/// The task section of an audit report.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    /// The task audited.
    pub task: Task,
    /// Whether the task was detected from the labels (rather than given with `--task`).
    pub detected: bool,
    /// Task-specific agreement.
    pub agreement: TaskAgreement,
    /// Every task signal of every annotator (tested or not).
    pub signals: Vec<SignalRow>,
    /// What the classification view of the data is, and other caveats.
    pub notes: Vec<String>,
}

/// Task-specific agreement.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskAgreement {
    /// Choice (nominal) and signed strength (ordinal) agreement.
    Preference {
        choice: Box<AgreementReport>,
        strength: Box<AgreementReport>,
        judgments: usize,
        judgments_with_order: usize,
    },
    /// Per dimension: the engine's coefficients at `level` plus ICC(2,1) / ICC(2,k).
    Rubric {
        level: Level,
        dimensions: Vec<DimensionAgreement>,
    },
    /// Kendall's W per item (with its chi-square test), mean pairwise Spearman / Kendall.
    Ranking {
        items: usize,
        rows_incomplete: usize,
        /// Items whose W is significant at 5% (chi-square test).
        items_w_significant: usize,
        agreement: Box<RankingAgreement>,
    },
    /// No agreement coefficient for free text; a length and similarity summary instead.
    Text(TextSummary),
}

/// Length and within-item similarity of free-text answers.
#[derive(Debug, Clone, Serialize)]
pub struct TextSummary {
    pub answers: usize,
    pub empty_answers: usize,
    pub median_length_chars: Option<f64>,
    /// Mean Jaccard similarity (character 5-shingles) of answers to the same item.
    pub mean_within_item_similarity: Option<f64>,
    /// Pairs of answers to the same item at or above the near-duplicate threshold.
    pub near_duplicate_pairs: usize,
    pub similarity_threshold: f64,
}

/// One task signal of one annotator.
#[derive(Debug, Clone, Serialize)]
pub struct SignalRow {
    pub annotator: String,
    pub signal: &'static str,
    pub n: usize,
    pub statistic: Option<f64>,
    pub expected: Option<f64>,
    pub effect_size: Option<f64>,
    pub p_value: Option<f64>,
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub(super) fn rows_of(signals: &[Signal], names: &[String]) -> Vec<SignalRow> {
    signals
        .iter()
        .map(|s| SignalRow {
            annotator: names.get(s.annotator as usize).cloned().unwrap_or_default(),
            signal: s.signal,
            n: s.n,
            statistic: s.statistic,
            expected: s.expected,
            effect_size: s.effect_size,
            p_value: s.p_value_one_sided,
            evidence: s.evidence.clone(),
            reason: s.reason.clone(),
        })
        .collect()
}

/// The ranking test as a signal row for the report.
pub(super) fn ranking_signal(t: &RuleTest, annotator: u32) -> Signal {
    Signal {
        signal: "ranking_disagreement",
        annotator,
        n: t.n as usize,
        statistic: Some(t.statistic),
        expected: t.cohort_reference,
        effect_size: t.cohort_reference.map(|c| t.statistic - c),
        p_value: None,
        p_value_one_sided: Some(t.p_value),
        evidence: format!(
            "mean Spearman with the others' consensus {:.2}",
            t.statistic
        ),
        reason: None,
    }
    .checked()
}

pub(super) fn text_summary(
    answers: &[Answer<'_>],
    opts: &TextOptions,
    near_dups: usize,
) -> TextSummary {
    let norms: Vec<String> = answers.iter().map(|a| normalise(a.text)).collect();
    let mut lens: Vec<f64> = norms
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().count() as f64)
        .collect();
    lens.sort_by(f64::total_cmp);
    let median = (!lens.is_empty()).then(|| {
        let m = lens.len() / 2;
        if lens.len() % 2 == 0 {
            (lens[m - 1] + lens[m]) / 2.0
        } else {
            lens[m]
        }
    });
    let mut by_item: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, a) in answers.iter().enumerate() {
        if !norms[i].is_empty() {
            by_item.entry(a.item).or_default().push(i);
        }
    }
    let (mut sum, mut n) = (0.0, 0usize);
    for idx in by_item.values() {
        let sh: Vec<Vec<&str>> = idx
            .iter()
            .map(|&i| {
                let mut s = shingles(&norms[i], opts.shingle);
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        for x in 0..sh.len() {
            for y in x + 1..sh.len() {
                if let Some(j) = jaccard(&sh[x], &sh[y]) {
                    sum += j;
                    n += 1;
                }
            }
        }
    }
    TextSummary {
        answers: answers.len(),
        empty_answers: norms.iter().filter(|n| n.is_empty()).count(),
        median_length_chars: median,
        mean_within_item_similarity: (n > 0).then(|| sum / n as f64),
        near_duplicate_pairs: near_dups,
        similarity_threshold: opts.threshold,
    }
}

//! The report: one plain, serializable value that every renderer takes and nothing else.
//!
//! Keys and their order are stable (`schema_version` 1). Floats are finite or `null`; the same
//! input and options give the same bytes whatever the number of threads.

pub mod consensus;
pub mod dispute;
pub mod export;
pub mod multilabel_table;
pub mod scorecard;
pub mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::agreement::AgreementReport;
use crate::consensus::{Consensus, Method};
use crate::dataset::NO_LABEL;
use crate::ingest::{count_by_reason, InputFile, LabelHygiene, Loaded};
use crate::quality::{Decision, QualityReport};

/// Version of the JSON layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Who made the report.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "labelaudit",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// What was read, and what of it was not used (by reason).
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub files: Vec<InputFile>,
    pub annotations: usize,
    pub items: usize,
    pub annotators: usize,
    pub labels: Vec<String>,
    pub gold_items: usize,
    pub skipped: SkippedSummary,
    /// Trimming and NFC applied to ids and labels, and labels differing only by case or space.
    pub label_hygiene: LabelHygiene,
}

/// Rows read but not used as annotations, and items without agreement information.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedSummary {
    pub empty_label: u64,
    pub duplicate: u64,
    pub single_annotation_items: u64,
    /// Rows not used because of their status or the platform's own flags, by reason.
    pub by_reason: BTreeMap<String, u64>,
    /// Invalid records set aside by `--on-invalid skip`, by defect (the message without the
    /// value found); empty when nothing was set aside.
    pub invalid: BTreeMap<String, u64>,
}

impl InputSummary {
    pub fn from_loaded(loaded: &Loaded) -> Self {
        let ds = &loaded.dataset;
        InputSummary {
            files: loaded.files.clone(),
            annotations: ds.n_annotations(),
            items: ds.n_items(),
            annotators: ds.n_annotators(),
            labels: ds.labels.clone(),
            gold_items: (0..ds.n_items())
                .filter(|&i| ds.gold_label(i).is_some())
                .count(),
            skipped: SkippedSummary {
                empty_label: ds.skipped.empty_label,
                duplicate: ds.skipped.duplicate,
                single_annotation_items: ds.skipped.single_annotation_items,
                by_reason: loaded.skipped_by_reason.clone(),
                invalid: count_by_reason(&loaded.invalid),
            },
            label_hygiene: loaded.label_hygiene.clone(),
        }
    }
}

/// The agreement report (`labelaudit agreement`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub input: InputSummary,
    pub agreement: AgreementReport,
    /// The AI-feedback task section (`--task` other than classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<crate::tasks::audit::TaskReport>,
}

impl Report {
    pub fn new(input: InputSummary, agreement: AgreementReport) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            input,
            agreement,
            task: None,
        }
    }
}

/// Summary of the consensus the audit measured annotators against.
#[derive(Debug, Clone, Serialize)]
pub struct ConsensusSummary {
    pub method: Method,
    pub iterations: usize,
    pub converged: bool,
    /// Majority-vote ties broken by label order (0 for model-based methods).
    pub ties: usize,
    /// Items that received a consensus label.
    pub items: usize,
    /// Items whose consensus confidence is below 0.5.
    pub low_confidence_items: usize,
}

impl ConsensusSummary {
    /// One sentence for every report layout, e.g. "Consensus: dawid-skene (24 iterations,
    /// converged), 80 items, 3 below 50% confidence, 5 contested items."
    pub fn describe(&self, contested_items: u64) -> String {
        format!(
            "Consensus: {} ({} iterations, {}), {} items, {} below 50% confidence, {} contested items.",
            self.method.name(),
            self.iterations,
            if self.converged { "converged" } else { "not converged" },
            self.items,
            self.low_confidence_items,
            contested_items
        )
    }

    pub fn new(c: &Consensus) -> Self {
        ConsensusSummary {
            method: c.method,
            iterations: c.iterations,
            converged: c.converged,
            ties: c.ties,
            items: c.labels.iter().filter(|&&l| l != NO_LABEL).count(),
            low_confidence_items: c
                .labels
                .iter()
                .zip(&c.confidence)
                .filter(|(&l, &p)| l != NO_LABEL && p < 0.5)
                .count(),
        }
    }
}

/// The audit report (`labelaudit audit`): the agreement report plus consensus, annotators,
/// flags, pairs of concern and the effective policy.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub input: InputSummary,
    pub agreement: AgreementReport,
    pub consensus: ConsensusSummary,
    #[serde(flatten)]
    pub quality: QualityReport,
    /// The AI-feedback task section (`--task` other than classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<crate::tasks::audit::TaskReport>,
}

impl AuditReport {
    /// Whether any annotator's decision is `hold`.
    pub fn has_hold(&self) -> bool {
        self.quality
            .annotators
            .iter()
            .any(|a| a.decision == Decision::Hold)
    }
}

/// How to read a kappa-type value (Landis and Koch 1977).
pub fn landis_koch(value: f64) -> &'static str {
    match value {
        v if v < 0.0 => "poor (below chance)",
        v if v <= 0.20 => "slight",
        v if v <= 0.40 => "fair",
        v if v <= 0.60 => "moderate",
        v if v <= 0.80 => "substantial",
        _ => "almost perfect",
    }
}

/// How to read Krippendorff's alpha (Krippendorff 2004: 0.800 reliable, 0.667 tentative).
pub fn krippendorff_reading(value: f64) -> &'static str {
    match value {
        v if v >= 0.800 => "reliable",
        v if v >= 0.667 => "tentative conclusions only",
        _ => "unreliable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landis_koch_band_edges() {
        assert_eq!(landis_koch(-0.01), "poor (below chance)");
        assert_eq!(landis_koch(0.20), "slight");
        assert_eq!(landis_koch(0.21), "fair");
        assert_eq!(landis_koch(0.61), "substantial");
        assert_eq!(landis_koch(0.81), "almost perfect");
        assert_eq!(krippendorff_reading(0.8), "reliable");
        assert_eq!(krippendorff_reading(0.7), "tentative conclusions only");
        assert_eq!(krippendorff_reading(0.5), "unreliable");
    }
}

//! The dispute packet (`labelaudit explain`): everything an annotator contesting a decision
//! needs to check it, as one plain serializable value. Built by `crate::explain`; rendered by
//! the exporters like every other report.

use serde::Serialize;

use super::Tool;
use crate::consensus::Method;
use crate::ingest::InputFile;
use crate::quality::{AnnotatorReport, Decision, Flag, Rule};

/// The packet: provenance, decision, flags in context, item-level evidence, sensitivity.
#[derive(Debug, Clone, Serialize)]
pub struct DisputePacket {
    pub schema_version: u32,
    pub tool: Tool,
    pub provenance: Provenance,
    /// The annotator's line of the audit (signals, decision, rules, confusion matrix).
    pub annotator: AnnotatorReport,
    /// Annotators in the batch (the cohort the percentiles refer to).
    pub cohort_size: usize,
    /// The policy's false discovery rate (a flag needs q at or below it).
    pub fdr: f64,
    pub flags: Vec<FlagDetail>,
    pub evidence: Evidence,
    pub sensitivity: Vec<Scenario>,
}

/// How to reproduce the audit exactly.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// Input files (and the gold file) with their SHA-256.
    pub files: Vec<InputFile>,
    pub tool_version: &'static str,
    /// Where the policy came from: a file path, or `default`.
    pub policy_source: String,
    /// SHA-256 of `policy_toml`.
    pub policy_sha256: String,
    /// The policy in force, as TOML (the file's own text when one was given).
    pub policy_toml: String,
    pub method: Method,
    pub seed: u64,
    /// The command that rebuilds this packet (shell-quoted).
    pub command: String,
}

/// Where a value sits in the cohort.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Distribution {
    /// Annotators with a value.
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// One raised flag with its context.
#[derive(Debug, Clone, Serialize)]
pub struct FlagDetail {
    #[serde(flatten)]
    pub flag: Flag,
    /// The per-annotator signal the rule is about (report key), when there is one.
    pub signal: Option<&'static str>,
    /// This annotator's value of that signal.
    pub signal_value: Option<f64>,
    /// Percent of the cohort at or below this annotator's value (mid-rank for ties).
    pub percentile: Option<f64>,
    pub cohort: Option<Distribution>,
    /// Every cohort value of the signal, ascending (so the percentile can be checked).
    pub cohort_values: Vec<f64>,
    /// The finding in plain language.
    pub explanation: String,
}

/// Item-level evidence: the annotator's items where they differ from consensus or gold.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Items the annotator labelled.
    pub items_total: usize,
    pub disagree_with_consensus: usize,
    pub disagree_with_gold: usize,
    /// Of the listed items, how many are contested (not clear for judging this annotator).
    pub contested: usize,
    pub items: Vec<EvidenceItem>,
}

/// One item where the annotator's label differs from the consensus or the gold label.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceItem {
    pub item: String,
    pub label: String,
    pub consensus: Option<String>,
    /// Posterior (or vote share) of the consensus label.
    pub consensus_confidence: Option<f64>,
    pub gold: Option<String>,
    /// The other annotators' labels on this item, by annotator id.
    pub others: Vec<OtherLabel>,
    pub duration_s: Option<f64>,
    /// Top vote share among all annotators of the item.
    pub top_share: Option<f64>,
    /// Not clear for judging this annotator: the others are split (leave-one-out share
    /// below `contested_share`) or too few; such items do not count in the rules.
    pub contested: bool,
}

/// Another annotator's label on an evidence item.
#[derive(Debug, Clone, Serialize)]
pub struct OtherLabel {
    pub annotator: String,
    pub label: String,
}

/// The audit rerun under one change.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// `without_contested_items`, `thresholds_lenient`, `thresholds_strict`,
    /// `consensus_<method>`.
    pub name: String,
    pub description: String,
    /// The annotator's decision in this scenario (`None`: no annotations left).
    pub decision: Option<Decision>,
    /// Rules raised against the annotator in this scenario.
    pub flags: Vec<Rule>,
    /// For each flag of the real audit: does it still hold here?
    pub original_flags_hold: Vec<FlagHolds>,
}

/// Whether one original flag still holds in a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct FlagHolds {
    pub rule: Rule,
    pub holds: bool,
}

//! The dispute packet of one annotator (`labelaudit explain`): the audit's finding in
//! context, the items behind it, and whether it survives reasonable changes.
//!
//! Sensitivity reruns the same pipeline (`run::assess_batch`, `quality::assess`) on modified
//! inputs rather than approximating: (a) the batch without contested items, (b) the policy
//! with every threshold moved by a fixed margin towards leniency and towards strictness
//! ([`shifted_policy`] documents the margins), (c) the other consensus method (majority vote vs
//! Dawid-Skene). Each scenario reports the annotator's decision and whether each original
//! flag still holds.

use crate::dataset::{Dataset, NO_LABEL};
use crate::error::{Error, Result};
use crate::ingest::Loaded;
use crate::progress::Progress;
use crate::quality::ambiguity::{clear_positions, item_top_share};
use crate::quality::{self, AnnotatorReport, Flag, Policy, QualityReport, Rule};
use crate::report::dispute::{
    DisputePacket, Distribution, Evidence, EvidenceItem, FlagDetail, OtherLabel, Provenance,
};
use crate::report::export::signal_list;
use crate::report::{Tool, SCHEMA_VERSION};
use crate::run::{assess_batch_with, ModelSpec, QualityRun};

mod sensitivity;

pub use sensitivity::{shifted_policy, without_contested};

/// What `explain` needs besides the data.
pub struct ExplainRequest<'a> {
    /// The annotator id, as in the input.
    pub annotator: &'a str,
    /// Consensus model of the audit being explained.
    pub model: ModelSpec,
    /// Policy in force.
    pub policy: &'a Policy,
    /// `default` or the policy file's path.
    pub policy_source: String,
    /// The policy as TOML (the file's text when one was given).
    pub policy_toml: String,
    /// The command line that rebuilds the packet.
    pub command: String,
}

/// Build the dispute packet of one annotator.
pub fn explain(
    loaded: &Loaded,
    req: &ExplainRequest,
    progress: &Progress,
) -> Result<DisputePacket> {
    explain_with(loaded, req, progress, Vec::new())
}

/// [`explain`] with extra rule tests (AI-feedback task rules, measured on the whole batch)
/// in every run's false-discovery family.
pub fn explain_with(
    loaded: &Loaded,
    req: &ExplainRequest,
    progress: &Progress,
    extra: Vec<crate::quality::RuleTest>,
) -> Result<DisputePacket> {
    let ds = &loaded.dataset;
    let Some(index) = ds.annotators.iter().position(|a| a == req.annotator) else {
        return Err(not_found(ds, req.annotator));
    };
    let base = assess_batch_with(ds, &req.model, req.policy, progress, extra.clone());
    let me = annotator_line(&base.quality, req.annotator)
        .cloned()
        .ok_or_else(|| not_found(ds, req.annotator))?;
    let flags: Vec<&Flag> = base
        .quality
        .flags
        .iter()
        .filter(|f| f.annotator == req.annotator)
        .collect();
    let details = flags
        .iter()
        .map(|f| flag_detail(f, &me, &base.quality, req.policy))
        .collect();
    let evidence = evidence(ds, &base, req.policy, index);
    progress.stage("sensitivity");
    let sensitivity = sensitivity::sensitivity(ds, &base, req, &flags, &extra);
    Ok(DisputePacket {
        schema_version: SCHEMA_VERSION,
        tool: Tool::default(),
        provenance: Provenance {
            files: loaded.files.clone(),
            tool_version: env!("CARGO_PKG_VERSION"),
            policy_source: req.policy_source.clone(),
            policy_sha256: sha256_hex(req.policy_toml.as_bytes()),
            policy_toml: req.policy_toml.clone(),
            method: req.model.method,
            seed: req.model.seed,
            command: req.command.clone(),
        },
        annotator: me,
        cohort_size: ds.n_annotators(),
        fdr: req.policy.fdr,
        flags: details,
        evidence,
        sensitivity,
    })
}

fn annotator_line<'q>(q: &'q QualityReport, id: &str) -> Option<&'q AnnotatorReport> {
    q.annotators.iter().find(|a| a.id == id)
}

/// `annotator "X" not found (N annotators; closest: …)`.
fn not_found(ds: &Dataset, id: &str) -> Error {
    let mut by_distance: Vec<(usize, &String)> = ds
        .annotators
        .iter()
        .map(|a| (edit_distance(id, a), a))
        .collect();
    by_distance.sort();
    let closest: Vec<String> = by_distance
        .iter()
        .take(3)
        .map(|(_, a)| format!("{a:?}"))
        .collect();
    Error::Invalid(format!(
        "annotator {id:?} not found ({} annotators; closest: {})",
        ds.n_annotators(),
        closest.join(", ")
    ))
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The signal a rule is judged on.
pub fn rule_signal(rule: Rule) -> Option<&'static str> {
    match rule {
        Rule::LowGoldAccuracy => Some("gold_accuracy"),
        Rule::LowAgreement => Some("agreement_clear"),
        Rule::RandomClicking => Some("kappa_clear"),
        Rule::StraightLining => Some("top_label_share"),
        Rule::LabelBias => Some("label_distribution"),
        Rule::RunsAnomaly => Some("runs"),
        Rule::FastLowAgreement => Some("fast_share"),
        // A pair statistic: the pair's numbers are in the flag itself.
        Rule::Collusion => None,
        // AI-feedback task rules: their signals are in the report's `task` section.
        Rule::PositionBias
        | Rule::TieOveruse
        | Rule::FlatRating
        | Rule::LowVariance
        | Rule::TextReuse
        | Rule::TextCopying
        | Rule::ShortAnswers
        | Rule::RankingDisagreement => None,
        // Span rule: its signal (`span_f1`) and cohort median are in the flag itself.
        Rule::LowSpanF1 => None,
    }
}

/// What a rule means, in one sentence.
fn rule_meaning(rule: Rule) -> &'static str {
    match rule {
        Rule::LowGoldAccuracy => "accuracy on gold (known-answer) items is below the standard",
        Rule::LowAgreement => {
            "agreement with the other annotators' majority on clear items is below the standard"
        }
        Rule::RandomClicking => {
            "answers on clear items are not credibly better than chance (kappa against the others' majority)"
        }
        Rule::StraightLining => "one label is used far more than the cohort uses it on the same items",
        Rule::LabelBias => "the label distribution differs from the cohort's on the same items",
        Rule::RunsAnomaly => "the sequence of labels in submission order is not random-looking",
        Rule::FastLowAgreement => "many answers are very fast and agreement is low",
        Rule::Collusion => "answers coincide with another annotator's far more than chance",
        Rule::PositionBias => "picks the response shown first far more often than the others do",
        Rule::TieOveruse => "answers tie far more often than the others do on the same items",
        Rule::FlatRating => "gives every rubric dimension the same score far more often than the others",
        Rule::LowVariance => "rubric scores vary far less than the other annotators' scores",
        Rule::TextReuse => "reuses near-identical answers across different items",
        Rule::TextCopying => "answers are near-identical to another annotator's answer on the same item",
        Rule::ShortAnswers => "answers are far shorter than the others' answers to the same items",
        Rule::RankingDisagreement => "rankings agree far less with the others' consensus than the cohort's do",
        Rule::LowSpanF1 => "spans match the other annotators' spans far less often than the cohort's do (exact-match span F1)",
    }
}

/// Mid-rank percentile of `value` among `values` (percent at or below, ties half).
pub fn percentile(values: &[f64], value: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let below = values.iter().filter(|&&v| v < value).count() as f64;
    let equal = values.iter().filter(|&&v| v == value).count() as f64;
    Some(100.0 * (below + 0.5 * equal) / values.len() as f64)
}

/// Five-number summary (linear interpolation between order statistics).
pub fn distribution(values: &[f64]) -> Option<Distribution> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    Some(Distribution {
        n: v.len(),
        min: v[0],
        q1: q(0.25),
        median: q(0.5),
        q3: q(0.75),
        max: v[v.len() - 1],
    })
}

fn signal_value(a: &AnnotatorReport, key: &str) -> Option<f64> {
    signal_list(&a.signals)
        .into_iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, s)| s.and_then(|s| s.value))
}

fn flag_detail(f: &Flag, me: &AnnotatorReport, q: &QualityReport, policy: &Policy) -> FlagDetail {
    let signal = rule_signal(f.rule);
    let mut cohort: Vec<f64> = signal
        .map(|key| {
            q.annotators
                .iter()
                .filter_map(|a| signal_value(a, key))
                .collect()
        })
        .unwrap_or_default();
    cohort.sort_by(f64::total_cmp);
    let value = signal.and_then(|key| signal_value(me, key));
    let pct = value.and_then(|v| percentile(&cohort, v));
    let dist = distribution(&cohort);
    let num = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.3}"));
    let mut text = format!(
        "The audit found that {} (rule {}, action {}). Statistic {} against the threshold {} on n = {}; p {}, q {} after false-discovery control over the batch (a flag needs q ≤ {}).",
        rule_meaning(f.rule),
        f.rule.name(),
        match f.severity {
            quality::Severity::Hold => "hold",
            quality::Severity::Review => "review",
        },
        num(f.statistic),
        num(f.threshold),
        f.n,
        fmt_pq(f.p_value),
        fmt_pq(f.q_value),
        policy.fdr
    );
    if let Some(r) = f.cohort_reference {
        text.push_str(&format!(" Cohort reference: {r:.3}."));
    }
    if let (Some(key), Some(v), Some(p), Some(d)) = (signal, value, pct, &dist) {
        text.push_str(&format!(
            " This annotator's {key} is {v:.3}, at the {} percentile of {} annotators (cohort median {:.3}, middle half {:.3} to {:.3}).",
            ordinal(p.round() as u32), d.n, d.median, d.q1, d.q3
        ));
    }
    FlagDetail {
        flag: (*f).clone(),
        signal,
        signal_value: value,
        percentile: pct,
        cohort: dist,
        cohort_values: cohort,
        explanation: text,
    }
}

fn fmt_pq(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// 1st, 2nd, 3rd, 4th … 11th, 12th, 13th, 21st.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn label_name(ds: &Dataset, l: u32) -> Option<String> {
    (l != NO_LABEL)
        .then(|| ds.labels.get(l as usize).cloned())
        .flatten()
}

fn evidence(ds: &Dataset, base: &QualityRun, policy: &Policy, annotator: usize) -> Evidence {
    let view = base.view();
    let clear = clear_positions(ds, &view, policy);
    let index = ds.by_annotator();
    let item_of = ds.annotation_items();
    let positions = index.positions(annotator);
    let mut scratch = Vec::new();
    let mut items = Vec::new();
    let (mut dis_cons, mut dis_gold) = (0, 0);
    for &pos in positions {
        let pos = pos as usize;
        let item = item_of[pos] as usize;
        let label = ds.label[pos];
        let cons = base.model.labels.get(item).copied().unwrap_or(NO_LABEL);
        let gold = ds.gold_label(item);
        let off_consensus = cons != NO_LABEL && cons != label;
        let off_gold = gold.is_some_and(|g| g != label);
        dis_cons += usize::from(off_consensus);
        dis_gold += usize::from(off_gold);
        if !(off_consensus || off_gold) {
            continue;
        }
        let others = ds
            .item_range(item)
            .filter(|&p| p != pos)
            .map(|p| OtherLabel {
                annotator: ds.annotators[ds.annotator[p] as usize].clone(),
                label: label_name(ds, ds.label[p]).unwrap_or_default(),
            })
            .collect();
        items.push(EvidenceItem {
            item: ds.items[item].clone(),
            label: label_name(ds, label).unwrap_or_default(),
            consensus: label_name(ds, cons),
            consensus_confidence: base
                .model
                .confidence
                .get(item)
                .copied()
                .filter(|c| cons != NO_LABEL && c.is_finite()),
            gold: gold.and_then(|g| label_name(ds, g)),
            others,
            duration_s: ds
                .duration_s
                .as_ref()
                .and_then(|d| d.get(pos))
                .map(|&d| f64::from(d))
                .filter(|d| d.is_finite()),
            top_share: item_top_share(ds.item_labels(item), &mut scratch),
            contested: !clear[pos],
        });
    }
    Evidence {
        items_total: positions.len(),
        disagree_with_consensus: dis_cons,
        disagree_with_gold: dis_gold,
        contested: items.iter().filter(|i| i.contested).count(),
        items,
    }
}

/// Lowercase hex SHA-256 (as the input files' digests).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_and_distribution() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 1.0), Some(12.5));
        assert_eq!(percentile(&v, 4.0), Some(87.5));
        let d = distribution(&v).unwrap();
        assert_eq!((d.min, d.median, d.max), (1.0, 2.5, 4.0));
        assert_eq!(edit_distance("w07", "w7"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(ordinal(21), "21st");
        assert_eq!(ordinal(12), "12th");
    }
}

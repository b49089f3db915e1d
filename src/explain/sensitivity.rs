//! Sensitivity of a decision: the audit rerun (a) without contested items, (b) with every
//! threshold moved by a documented margin each way, (c) with the other consensus method.

use super::{annotator_line, ExplainRequest};
use crate::consensus::Method;
use crate::dataset::Dataset;
use crate::progress::Progress;
use crate::quality::ambiguity::item_top_share;
use crate::quality::RuleTest;
use crate::quality::{self, Flag, Policy, QualityReport, Rule};
use crate::report::dispute::{FlagHolds, Scenario};
use crate::run::{assess_batch_with, ModelSpec, QualityRun};

/// The policy with every threshold moved by its margin; `towards_lenient` makes flags
/// harder to raise. Margins: 0.05 on shares, accuracies, kappa and standards; 0.5 on z
/// limits; 20 % on the fast floor in seconds; 0.5 on the collusion ratio and 1 on the
/// identical-answer count. Values stay inside the policy's valid ranges.
pub fn shifted_policy(policy: &Policy, towards_lenient: bool) -> Policy {
    let s = if towards_lenient { 1.0 } else { -1.0 };
    let unit = |v: f64| v.clamp(0.01, 0.99);
    let mut p = policy.clone();
    p.gold_standard = unit(p.gold_standard - s * 0.05);
    p.agreement_standard = unit(p.agreement_standard - s * 0.05);
    p.random_kappa_max = (p.random_kappa_max - s * 0.05).clamp(-0.99, 0.99);
    p.straight_line_share = unit(p.straight_line_share + s * 0.05);
    p.straight_line_excess = unit(p.straight_line_excess + s * 0.05);
    p.label_bias_min_excess = unit(p.label_bias_min_excess + s * 0.05);
    p.runs_min_abs_z = (p.runs_min_abs_z + s * 0.5).max(0.0);
    p.fast_floor_s = (p.fast_floor_s * (1.0 - s * 0.2)).max(0.0);
    p.fast_share = unit(p.fast_share + s * 0.05);
    p.fast_robust_z -= s * 0.5;
    p.collusion_min_ratio = (p.collusion_min_ratio + s * 0.5).max(1.0);
    p.collusion_min_agreement = unit(p.collusion_min_agreement + s * 0.05);
    p.collusion_min_identical = if towards_lenient {
        p.collusion_min_identical + 1
    } else {
        p.collusion_min_identical.saturating_sub(1).max(1)
    };
    p
}

/// The dataset without the items whose top vote share is below `contested_share`. Item,
/// annotator and label ids are kept (removed items simply have no annotations), so every
/// per-annotator result stays comparable.
pub fn without_contested(ds: &Dataset, contested_share: f64) -> Dataset {
    let mut scratch = Vec::new();
    let keep_item: Vec<bool> = (0..ds.n_items())
        .map(|i| {
            item_top_share(ds.item_labels(i), &mut scratch).is_none_or(|s| s >= contested_share)
        })
        .collect();
    let mut out = Dataset {
        items: ds.items.clone(),
        annotators: ds.annotators.clone(),
        labels: ds.labels.clone(),
        label_values: ds.label_values.clone(),
        gold: ds.gold.clone(),
        skipped: ds.skipped.clone(),
        item_offsets: vec![0],
        duration_s: ds.duration_s.as_ref().map(|_| Vec::new()),
        submitted_at_ms: ds.submitted_at_ms.as_ref().map(|_| Vec::new()),
        ..Dataset::default()
    };
    for (item, &keep) in keep_item.iter().enumerate() {
        if keep {
            for pos in ds.item_range(item) {
                out.annotator.push(ds.annotator[pos]);
                out.label.push(ds.label[pos]);
                if let (Some(d), Some(o)) = (&ds.duration_s, &mut out.duration_s) {
                    o.push(d[pos]);
                }
                if let (Some(t), Some(o)) = (&ds.submitted_at_ms, &mut out.submitted_at_ms) {
                    o.push(t[pos]);
                }
            }
        }
        out.item_offsets.push(out.annotator.len());
    }
    out
}

fn scenario(
    name: String,
    description: String,
    q: &QualityReport,
    id: &str,
    original: &[&Flag],
) -> Scenario {
    let line = annotator_line(q, id);
    let rules: Vec<Rule> = line.map(|a| a.flags.clone()).unwrap_or_default();
    Scenario {
        name,
        description,
        decision: line
            .map(|a| a.decision)
            .filter(|_| line.is_some_and(|a| a.items > 0)),
        original_flags_hold: original
            .iter()
            .map(|f| FlagHolds {
                rule: f.rule,
                holds: rules.contains(&f.rule),
            })
            .collect(),
        flags: rules,
    }
}

pub(super) fn sensitivity(
    ds: &Dataset,
    base: &QualityRun,
    req: &ExplainRequest,
    original: &[&Flag],
    extra: &[RuleTest],
) -> Vec<Scenario> {
    // AI-feedback task tests are not recomputed per scenario: they re-enter each scenario's
    // false-discovery family as measured on the whole batch.
    let assess_batch = |ds: &Dataset, model, policy: &crate::quality::Policy, p: &Progress| {
        assess_batch_with(ds, model, policy, p, extra.to_vec())
    };
    let id = req.annotator;
    let policy = req.policy;
    let mut out = Vec::new();

    let reduced = without_contested(ds, policy.contested_share);
    let removed = (0..ds.n_items())
        .filter(|&i| !ds.item_range(i).is_empty() && reduced.item_range(i).is_empty())
        .count();
    let run = assess_batch(&reduced, &req.model, policy, &Progress::hidden());
    out.push(scenario(
        "without_contested_items".into(),
        format!(
            "The whole audit rerun without the {removed} contested items (top vote share below {}).",
            policy.contested_share
        ),
        &run.quality,
        id,
        original,
    ));

    for (name, towards_lenient, word) in [
        ("thresholds_lenient", true, "in the annotator's favour"),
        ("thresholds_strict", false, "against the annotator"),
    ] {
        let shifted = shifted_policy(policy, towards_lenient);
        let q = quality::assess_with(ds, &base.view(), &shifted, extra.to_vec());
        out.push(scenario(
            name.into(),
            format!(
                "Every threshold moved by its margin {word} (0.05 on shares, accuracies and kappa; 0.5 on z limits; 20% on the fast floor; 0.5 on the collusion ratio), same consensus."
            ),
            &q,
            id,
            original,
        ));
    }

    let other = if req.model.method == Method::MajorityVote {
        Method::DawidSkene
    } else {
        Method::MajorityVote
    };
    let other_model = ModelSpec {
        method: other,
        ..req.model
    };
    let run = assess_batch(ds, &other_model, policy, &Progress::hidden());
    out.push(scenario(
        format!("consensus_{}", other.name().replace('-', "_")),
        format!(
            "The audit rerun with {} consensus instead of {}.",
            other.name(),
            req.model.method.name()
        ),
        &run.quality,
        id,
        original,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_contested_items_keeps_ids() {
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "x"),
            ("2", "a", "x"),
            ("2", "b", "y"),
            ("2", "c", "z"),
        ]);
        let r = without_contested(&ds, 0.6);
        assert_eq!(r.items, ds.items);
        assert_eq!(r.n_annotations(), 3);
        assert!(r.item_range(1).is_empty());
    }
}

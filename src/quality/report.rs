//! The audit itself: per-annotator signals in parallel (rayon, collected in annotator order),
//! one Benjamini–Hochberg family over every rule test and every collusion pair of the batch,
//! flags, decisions and a deterministically ordered report.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::ambiguity::contested_items;
use super::annotations::ByAnnotator;
use super::collusion::{collusion_tests, PairTest};
use super::effort::{effort_signals, fast_low_agreement_test, robust_z};
use super::flags::{benjamini_hochberg, fmt_p, pct, Flag, Rule, RuleTest, Severity};
use super::gold_accuracy::{assess_gold, binomial_sf_ge};
use super::label_bias::{
    chi_square_gof, label_bias_test, runs_anomaly_test, straight_lining_test, top_share_signal,
};
use super::loo_agreement::{agreement_signal, kappa_signal, low_agreement_test};
pub use super::measure::Signals;
use super::measure::{cohort, finite, finite_signals, measure, Raw, Scratch};
use super::random_clicking::{independence_signal, random_clicking_test};
use super::{Action, ConsensusView, LeaveOneOut, Policy, Signal};
use crate::timings::stage;
use crate::Dataset;

/// Pay, review or hold; or too little work to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Hold,
    Review,
    Pay,
    InsufficientEvidence,
}

/// One annotator's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotatorReport {
    pub id: String,
    pub items: u64,
    pub decision: Decision,
    pub signals: Signals,
    /// Rules raised against this annotator (deduplicated, sorted).
    pub flags: Vec<Rule>,
    /// Dawid-Skene confusion matrix (rows: true label, columns: given label), when the
    /// consensus model has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<Vec<f64>>>,
    #[serde(skip)]
    pub index: u32,
    #[serde(skip)]
    pub min_q: Option<f64>,
}

/// A pair of annotators whose shared answers look copied.
#[derive(Debug, Clone, Serialize)]
pub struct PairOfConcern {
    pub a: String,
    pub b: String,
    pub shared_items: u64,
    pub agreement: f64,
    pub expected_agreement: f64,
    pub clear_shared_items: u64,
    pub identical_minority_answers: u64,
    pub expected_identical_minority_answers: f64,
    pub p_value: f64,
    pub q_value: f64,
}

/// The whole quality audit of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    pub annotators: Vec<AnnotatorReport>,
    pub flags: Vec<Flag>,
    pub pairs_of_concern: Vec<PairOfConcern>,
    /// Items whose top vote share is below `contested_share`.
    pub contested_items: u64,
    /// Number of hypotheses in the false-discovery family.
    pub tests: u64,
    pub policy: Policy,
}

/// Audit every annotator of a batch under `policy`.
pub fn assess(ds: &Dataset, consensus: &ConsensusView, policy: &Policy) -> QualityReport {
    assess_with(ds, consensus, policy, Vec::new())
}

/// [`assess`] with extra rule tests (the AI-feedback task rules) that join the same
/// Benjamini–Hochberg family. Tests on annotators below `min_items` or on rules whose action
/// is `off` are dropped, as for the built-in rules.
pub fn assess_with(
    ds: &Dataset,
    consensus: &ConsensusView,
    policy: &Policy,
    extra: Vec<RuleTest>,
) -> QualityReport {
    let mut report = assess_votes(ds, &consensus.leave_one_out(), policy, extra);
    report.add_model_signals(consensus.annotator_accuracy, consensus.spam_probability);
    report
}

impl QualityReport {
    /// Each annotator's model accuracy and spam probability (by annotator index), the only
    /// signals that come from the consensus model. No rule reads them, so adding them after
    /// [`assess_votes`] changes no flag, decision or order.
    pub fn add_model_signals(
        &mut self,
        annotator_accuracy: Option<&[f64]>,
        spam_probability: Option<&[f64]>,
    ) {
        for a in &mut self.annotators {
            let signal = |per_annotator: Option<&[f64]>| {
                per_annotator
                    .and_then(|v| v.get(a.index as usize))
                    .map(|&v| Signal::new(v, a.items).finite())
            };
            a.signals.model_accuracy = signal(annotator_accuracy);
            a.signals.spam_probability = signal(spam_probability);
        }
    }
}

/// The audit against the leave-one-out majorities alone: every signal, test, flag and
/// decision of [`assess_with`] except the model's signals (see
/// [`QualityReport::add_model_signals`]). Needs no consensus model, so it can run beside it.
pub fn assess_votes(
    ds: &Dataset,
    votes: &LeaveOneOut,
    policy: &Policy,
    extra: Vec<RuleTest>,
) -> QualityReport {
    let n_ann = ds.n_annotators();
    let mut by = stage("  quality_records", || {
        ByAnnotator::build(ds, votes, policy, true)
    });
    let raw: Vec<Raw> = stage("  quality_measure", || {
        (0..n_ann)
            .into_par_iter()
            .map_init(Scratch::default, |scratch, a| {
                measure(ds, policy, &by, a, scratch)
            })
            .collect()
    });
    // Durations and submission times are only measured: their memory goes back now.
    by.duration_s = None;
    by.submitted_at_ms = None;
    let eligible: Vec<bool> = raw
        .iter()
        .map(|r| r.items as usize >= policy.min_items)
        .collect();
    let co = cohort(&raw, &eligible);
    let z_of = |r: &Raw| {
        let e = r.effort?;
        robust_z(e.median_log_s, co.log_median?, co.log_mad?)
    };

    // Signals and rule tests per annotator (parallel, collected in annotator order).
    let mut per: Vec<(Signals, Vec<RuleTest>)> = stage("  quality_signals", || {
        (0..n_ann)
            .into_par_iter()
            .map(|a| {
                let r = &raw[a];
                let id = a as u32;
                let (gold_sig, gold_test) = assess_gold(
                    id,
                    r.gold.0,
                    r.gold.1,
                    policy.gold_standard,
                    policy.min_gold_items,
                    policy.fdr,
                );
                let top_label = r
                    .labels
                    .top()
                    .and_then(|(l, _, _)| ds.labels.get(l).cloned())
                    .unwrap_or_default();
                let gof = chi_square_gof(&r.labels.observed, &r.labels.expected);
                let z = z_of(r);
                let mut s = Signals {
                    agreement_all: agreement_signal(r.agreement.agree_all, r.agreement.n_all).map(
                        |s| Signal {
                            cohort_median: co.agreement_all,
                            ..s
                        },
                    ),
                    agreement_clear: agreement_signal(r.agreement.agree_clear, r.agreement.n_clear)
                        .map(|s| Signal {
                            cohort_median: co.agreement_clear,
                            ..s
                        }),
                    kappa_all: r.kappa_all.as_ref().map(kappa_signal),
                    kappa_clear: r.kappa.as_ref().map(|k| Signal {
                        cohort_median: co.kappa,
                        ..kappa_signal(k)
                    }),
                    gold_accuracy: gold_sig.map(|g| Signal {
                        cohort_median: co.gold_accuracy,
                        ..g
                    }),
                    support: (r.support.n > 0).then(|| Signal {
                        p_value: Some(r.support.p_value()),
                        expected: Some(r.support.expected / r.support.n as f64),
                        ..Signal::new(r.support.observed / r.support.n as f64, r.support.n)
                    }),
                    independence_all: r
                        .independence_all
                        .as_ref()
                        .map(|c| independence_signal(c, r.agreement.n_all)),
                    independence: r
                        .independence
                        .as_ref()
                        .map(|c| independence_signal(c, r.agreement.n_clear)),
                    top_label_share: top_share_signal(&r.labels, &top_label),
                    label_distribution: gof.as_ref().map(|g| Signal {
                        p_value: Some(g.p_value),
                        df: Some(g.df),
                        ..Signal::new(g.statistic, r.labels.n() as u64)
                    }),
                    runs: r.runs.as_ref().map(|x| Signal {
                        p_value: Some(x.p_value),
                        expected: Some(x.expected),
                        se: Some(((x.runs as f64 - x.expected) / x.z).abs()),
                        ..Signal::new(x.runs as f64, x.n)
                    }),
                    contested_share: (r.items > 0).then(|| {
                        Signal::new(1.0 - r.agreement.n_clear as f64 / r.items as f64, r.items)
                    }),
                    ..Signals::default()
                };
                if let Some(e) = &r.effort {
                    let (m, f, zs) = effort_signals(e, co.median_s, z);
                    s.median_duration_s = Some(m);
                    s.fast_share = Some(Signal {
                        cohort_median: co.fast_share,
                        ..f
                    });
                    s.duration_robust_z = zs;
                }
                if !eligible[a] {
                    return (finite_signals(s), Vec::new());
                }
                let mut tests: Vec<RuleTest> = Vec::new();
                tests.extend(gold_test);
                tests.extend(low_agreement_test(
                    id,
                    &r.agreement,
                    policy.agreement_standard,
                    policy.min_clear_items,
                    co.agreement_clear,
                    policy.fdr,
                ));
                // Direct evidence beats indirect: meeting the gold standard on enough gold items,
                // credibly above what item-blind answers would score (level fdr), contradicts
                // "no better than chance", whatever the leave-one-out picture.
                let gold_ok = r.gold.1 as usize >= policy.min_gold_items
                    && r.gold.0 as f64 >= policy.gold_standard * r.gold.1 as f64
                    && binomial_sf_ge(r.gold.0, r.gold.1, r.gold_chance) < policy.fdr;
                let mut hold_tests: Vec<RuleTest> = Vec::new();
                hold_tests.extend(random_clicking_test(
                    id,
                    r.kappa.as_ref(),
                    r.independence.as_ref(),
                    &r.support,
                    policy.random_kappa_max,
                    policy.independence_alpha,
                    policy.support_alpha,
                    policy.min_clear_items,
                    co.kappa,
                ));
                tests.extend(straight_lining_test(
                    id,
                    &r.labels,
                    &top_label,
                    policy.straight_line_share,
                    policy.straight_line_excess,
                ));
                if let Some(g) = &gof {
                    tests.push(label_bias_test(
                        id,
                        &r.labels,
                        g,
                        &ds.labels,
                        policy.label_bias_min_excess,
                    ));
                }
                if let Some(x) = &r.runs {
                    tests.push(runs_anomaly_test(id, x, policy.runs_min_abs_z));
                }
                if let Some(e) = &r.effort {
                    hold_tests.extend(fast_low_agreement_test(
                        id,
                        e,
                        z,
                        &r.agreement,
                        policy,
                        co.median_s,
                        co.fast_share,
                    ));
                }
                for mut t in hold_tests {
                    t.gate &= !gold_ok;
                    tests.push(t);
                }
                tests.retain(|t| t.rule.action(&policy.actions) != Action::Off);
                (finite_signals(s), tests)
            })
            .collect()
    });

    // Collusion pairs among annotators with enough work.
    let pairs: Vec<PairTest> = if policy.actions.collusion == Action::Off {
        Vec::new()
    } else {
        stage("  quality_collusion", || collusion_tests(ds, &by, policy))
            .into_iter()
            .filter(|p| eligible[p.a as usize] && eligible[p.b as usize])
            .collect()
    };

    let started = Instant::now();
    // One false-discovery family: every rule test and every pair.
    // The signals stay where they are until they move, once, into the sorted report: at
    // some kilobytes each, every copy of all of them costs page faults and memory traffic.
    let mut tests: Vec<RuleTest> =
        Vec::with_capacity(per.iter().map(|(_, t)| t.len()).sum::<usize>() + extra.len());
    for (_, t) in &mut per {
        tests.append(t);
    }
    tests.extend(extra.into_iter().filter(|t| {
        eligible.get(t.annotator as usize).copied().unwrap_or(false)
            && t.rule.action(&policy.actions) != Action::Off
    }));
    let p: Vec<f64> = tests
        .iter()
        .map(|t| t.p_value)
        .chain(pairs.iter().map(|p| p.p_value))
        .collect();
    let q = benjamini_hochberg(&p);
    let (q_tests, q_pairs) = q.split_at(tests.len());

    let name = |a: u32| ds.annotators.get(a as usize).cloned().unwrap_or_default();
    let severity = |rule: Rule| match rule.action(&policy.actions) {
        Action::Hold => Some(Severity::Hold),
        Action::Review => Some(Severity::Review),
        Action::Off => None,
    };
    let mut flags: Vec<Flag> = Vec::new();
    for (t, &qv) in tests.iter().zip(q_tests) {
        if t.gate && qv <= policy.fdr {
            if let Some(sev) = severity(t.rule) {
                flags.push(Flag {
                    annotator: name(t.annotator),
                    rule: t.rule,
                    severity: sev,
                    statistic: finite(t.statistic),
                    cohort_reference: t.cohort_reference.and_then(finite),
                    threshold: finite(t.threshold),
                    n: t.n,
                    p_value: t.p_value,
                    q_value: qv,
                    message: format!("{}: {}", name(t.annotator), t.message),
                    annotator_id: t.annotator,
                });
            }
        }
    }
    let mut pairs_of_concern = Vec::new();
    for (pt, &qv) in pairs.iter().zip(q_pairs) {
        if !(pt.gate && qv <= policy.fdr) {
            continue;
        }
        let (an, bn) = (name(pt.a), name(pt.b));
        pairs_of_concern.push(PairOfConcern {
            a: an.clone(),
            b: bn.clone(),
            shared_items: pt.shared_items,
            agreement: pt.agreement,
            expected_agreement: pt.expected_agreement,
            clear_shared_items: pt.clear_shared,
            identical_minority_answers: pt.identical_minority_answers,
            expected_identical_minority_answers: pt.expected_identical,
            p_value: pt.p_value,
            q_value: qv,
        });
        let Some(sev) = severity(Rule::Collusion) else {
            continue;
        };
        for (me, other) in [(pt.a, &bn), (pt.b, &an)] {
            flags.push(Flag {
                annotator: name(me),
                rule: Rule::Collusion,
                severity: sev,
                statistic: finite(pt.identical_minority_answers as f64),
                cohort_reference: finite(pt.expected_identical),
                threshold: finite(policy.collusion_min_identical as f64),
                n: pt.clear_shared,
                p_value: pt.p_value,
                q_value: qv,
                message: format!(
                    "{}: with {other}, gave the same minority answer on {} of {} shared clear items where about {:.1} are expected from their accuracies (agreement {} on {} shared items vs {} expected, {}); clears when a review shows the answers were made independently.",
                    name(me),
                    pt.identical_minority_answers,
                    pt.clear_shared,
                    pt.expected_identical,
                    pct(pt.agreement),
                    pt.shared_items,
                    pct(pt.expected_agreement),
                    fmt_p(pt.p_value)
                ),
                annotator_id: me,
            });
        }
    }
    flags.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(x.q_value.total_cmp(&y.q_value))
            .then(x.p_value.total_cmp(&y.p_value))
            .then_with(|| x.annotator.cmp(&y.annotator))
            .then(x.rule.cmp(&y.rule))
            .then_with(|| x.message.cmp(&y.message))
    });

    crate::timings::since("  quality_flags", started);
    // Each annotator's flags, in the flags' order (one pass, not one scan per annotator).
    let mut flags_of: Vec<Vec<&Flag>> = vec![Vec::new(); n_ann];
    for f in &flags {
        if let Some(mine) = flags_of.get_mut(f.annotator_id as usize) {
            mine.push(f);
        }
    }
    // Decision and strongest flag per annotator, then the report order (decision, min q,
    // id) on indices: ids are unique, so the order is total and the same as sorting the
    // finished reports.
    let judged: Vec<(Decision, Option<f64>, Vec<Rule>)> = flags_of
        .iter()
        .enumerate()
        .map(|(a, mine)| {
            let decision = if !eligible[a] {
                Decision::InsufficientEvidence
            } else {
                match mine.iter().map(|f| f.severity).max() {
                    Some(Severity::Hold) => Decision::Hold,
                    Some(Severity::Review) => Decision::Review,
                    None => Decision::Pay,
                }
            };
            let mut rules: Vec<Rule> = mine.iter().map(|f| f.rule).collect();
            rules.sort();
            rules.dedup();
            let min_q = mine.iter().map(|f| f.q_value).min_by(f64::total_cmp);
            (decision, min_q, rules)
        })
        .collect();
    drop(flags_of);
    let id = |a: usize| ds.annotators.get(a).map_or("", String::as_str);
    let mut order: Vec<usize> = (0..n_ann).collect();
    order.sort_by(|&x, &y| {
        let ((dx, qx, _), (dy, qy, _)) = (&judged[x], &judged[y]);
        dx.cmp(dy)
            .then(qx.unwrap_or(2.0).total_cmp(&qy.unwrap_or(2.0)))
            .then_with(|| id(x).cmp(id(y)))
    });
    let mut judged = judged;
    let annotators: Vec<AnnotatorReport> = order
        .into_iter()
        .map(|a| {
            let (decision, min_q, ref mut rules) = judged[a];
            AnnotatorReport {
                id: name(a as u32),
                items: raw[a].items,
                decision,
                signals: std::mem::take(&mut per[a].0),
                flags: std::mem::take(rules),
                confusion: None,
                index: a as u32,
                min_q,
            }
        })
        .collect();

    QualityReport {
        annotators,
        flags,
        pairs_of_concern,
        contested_items: stage("  quality_contested", || {
            contested_items(ds, policy.contested_share)
        }) as u64,
        tests: p.len() as u64,
        policy: policy.clone(),
    }
}

//! The audit of an AI-feedback task: task-specific agreement, task signals as rule tests in
//! the batch's false-discovery family, and the same consensus / flags / decisions / report
//! as classification (through `run::assess_batch_with`).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::input::TaskInput;
use super::ranking::{consensus_rhos, disagreement_tests, ranked_items};
use super::rules::{
    at_least_gate, at_most_gate, excess_gate, tests_from_signals, with_reuse_test, z_gate, Spec,
};
use super::Task;
use crate::agreement::{self, AgreementOptions, AgreementReport};
use crate::consensus::Method;
use crate::feedback::kendall_w::{ranking_agreement, RankingAgreement};
use crate::feedback::preference::{position_bias, preference_datasets, tie_overuse, Judgment};
use crate::feedback::rubric::{
    dimension_dataset, flat_rating, low_variance, rubric_agreement, DimensionAgreement,
    RubricAnnotation,
};
use crate::feedback::text::{
    copying_pairs, jaccard, normalise, self_reuse, shingles, short_answers, Answer, TextOptions,
};
use crate::feedback::{cohort_rate_signals, Signal};
use crate::ingest::Loaded;
use crate::progress::Progress;
use crate::quality::{Action, Policy, Rule, RuleTest};
use crate::report::{self, AuditReport, ConsensusSummary, InputSummary};
use crate::{Dataset, Level};

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

/// What the audit needs from a task input.
pub struct Prepared {
    /// The classification view of the data (see the module docs of `tasks`).
    pub base: Dataset,
    /// Agreement level of the classification view.
    pub base_level: Level,
    pub report: TaskReport,
    /// Tests with dataset annotator ids.
    pub tests: Vec<RuleTest>,
    /// The policy in force for this task.
    pub policy: Policy,
}

/// The policy for a task: rubric, ranking and text switch the classification rules off.
pub fn effective_policy(task: Task, policy: &Policy) -> Policy {
    let mut p = policy.clone();
    if matches!(task, Task::Rubric | Task::Ranking | Task::Text) {
        let a = &mut p.actions;
        for slot in [
            &mut a.low_gold_accuracy,
            &mut a.low_agreement,
            &mut a.random_clicking,
            &mut a.straight_lining,
            &mut a.label_bias,
            &mut a.runs_anomaly,
            &mut a.fast_low_agreement,
            &mut a.collusion,
        ] {
            *slot = Action::Off;
        }
    }
    p
}

struct Ids {
    items: Vec<String>,
    annotators: Vec<String>,
    /// (item id, annotator id, row index), first row per (item, annotator).
    rows: Vec<(u32, u32, usize)>,
    duplicates: usize,
}

fn intern(input: &TaskInput) -> Ids {
    let mut item_id: HashMap<&str, u32> = HashMap::new();
    let mut annot_id: HashMap<&str, u32> = HashMap::new();
    let mut ids = Ids {
        items: Vec::new(),
        annotators: Vec::new(),
        rows: Vec::new(),
        duplicates: 0,
    };
    let mut seen = HashSet::new();
    for (k, r) in input.rows.iter().enumerate() {
        let i = *item_id.entry(&r.item).or_insert_with(|| {
            ids.items.push(r.item.clone());
            (ids.items.len() - 1) as u32
        });
        let a = *annot_id.entry(&r.annotator).or_insert_with(|| {
            ids.annotators.push(r.annotator.clone());
            (ids.annotators.len() - 1) as u32
        });
        if seen.insert((i, a)) {
            ids.rows.push((i, a, k));
        } else {
            ids.duplicates += 1;
        }
    }
    ids
}

fn rows_of(signals: &[Signal], names: &[String]) -> Vec<SignalRow> {
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

/// Analyse a task input: agreement, signals, tests and the classification view.
pub fn prepare(
    task: Task,
    detected: bool,
    input: &TaskInput,
    policy: &Policy,
    opts: &AgreementOptions,
) -> Prepared {
    let ids = intern(input);
    let tp = &policy.tasks;
    let mut notes = Vec::new();
    if ids.duplicates > 0 {
        notes.push(format!(
            "{} repeated (item, annotator) annotation(s) ignored; the first one counts",
            ids.duplicates
        ));
    }
    let row = |k: usize| &input.rows[k];
    let mut signals: Vec<Signal> = Vec::new();
    let mut specs: Vec<(Vec<Signal>, Spec)> = Vec::new();
    let mut ranking_tests: Vec<(u32, RuleTest)> = Vec::new();
    let (base, base_level, agreement) = match task {
        Task::Preference | Task::Classification => {
            let judgments: Vec<Judgment> = ids
                .rows
                .iter()
                .filter_map(|&(item, annotator, k)| {
                    Some(Judgment {
                        item,
                        annotator,
                        strength: crate::feedback::preference::parse_strength(&row(k).label)?,
                        a_shown_first: row(k).shown_first,
                    })
                })
                .collect();
            let with_order = judgments
                .iter()
                .filter(|j| j.a_shown_first.is_some())
                .count();
            if with_order == 0 {
                notes.push("no shown_first column: position bias cannot be measured".into());
            }
            let (choice, strength) = preference_datasets(&judgments, &ids.items, &ids.annotators);
            let at = |level| AgreementOptions { level, ..*opts };
            let agreement = TaskAgreement::Preference {
                choice: Box::new(agreement::compute(&choice, &at(Level::Nominal))),
                strength: Box::new(agreement::compute(&strength, &at(Level::Ordinal))),
                judgments: judgments.len(),
                judgments_with_order: with_order,
            };
            specs.push((
                position_bias(&judgments),
                Spec {
                    rule: Rule::PositionBias,
                    gate: excess_gate,
                    threshold: tp.position_bias_min_excess,
                    clears: "clears when a review of the pairs finds the first-shown response was the better one, or a re-check batch with randomised order shows a first-shown rate near the cohort's.",
                },
            ));
            specs.push((
                tie_overuse(&judgments),
                Spec {
                    rule: Rule::TieOveruse,
                    gate: excess_gate,
                    threshold: tp.tie_overuse_min_excess,
                    clears: "clears when a review finds the tied pairs genuinely equal, or the tie rate on a re-check batch is near the cohort's.",
                },
            ));
            notes.push(
                "classification view: the choice (A, B, tie); classification rules apply to it"
                    .into(),
            );
            (choice, Level::Nominal, agreement)
        }
        Task::Rubric => {
            let annotations: Vec<RubricAnnotation> = ids
                .rows
                .iter()
                .map(|&(item, annotator, k)| RubricAnnotation {
                    item,
                    annotator,
                    scores: row(k).scores.clone(),
                })
                .collect();
            let level = if matches!(opts.level, Level::Interval | Level::Ratio) {
                Level::Interval
            } else {
                Level::Ordinal
            };
            let dimensions = rubric_agreement(
                &annotations,
                &input.dimensions,
                &ids.items,
                &ids.annotators,
                level,
                opts.bootstrap,
                opts.seed,
            );
            specs.push((
                flat_rating(&annotations),
                Spec {
                    rule: Rule::FlatRating,
                    gate: excess_gate,
                    threshold: tp.flat_rating_min_excess,
                    clears: "clears when a review finds the equal scores justified by the responses, or a re-check batch shows a flat rate near the cohort's.",
                },
            ));
            specs.push((
                low_variance(&annotations, policy.min_items),
                Spec {
                    rule: Rule::LowVariance,
                    gate: z_gate,
                    threshold: tp.low_variance_max_z,
                    clears: "clears when a review finds the narrow scores justified, or the spread on a re-check batch is within the cohort's.",
                },
            ));
            let first = input.dimensions.first().cloned().unwrap_or_default();
            notes.push(format!(
                "classification view: the first dimension ({first}); classification rules are off for rubric tasks"
            ));
            (
                dimension_dataset(&annotations, 0, &ids.items, &ids.annotators),
                level,
                TaskAgreement::Rubric { level, dimensions },
            )
        }
        Task::Ranking => {
            let triples: Vec<(u32, u32, &str)> = ids
                .rows
                .iter()
                .map(|&(i, a, k)| (i, a, row(k).label.as_str()))
                .collect();
            let (items, incomplete) = ranked_items(&triples);
            let agreement = ranking_agreement(&items);
            let significant = agreement
                .per_item
                .iter()
                .flatten()
                .filter(|w| w.p_value < 0.05)
                .count();
            for t in disagreement_tests(&consensus_rhos(&items), tp.ranking_min_gap) {
                ranking_tests.push((t.annotator, t));
            }
            let top: Vec<(String, String, String)> = ids
                .rows
                .iter()
                .filter_map(|&(i, a, k)| {
                    let tiers = super::ranking::parse_ranking(&row(k).label)?;
                    Some((
                        ids.items[i as usize].clone(),
                        ids.annotators[a as usize].clone(),
                        tiers.first()?.join("="),
                    ))
                })
                .collect();
            notes.push("classification view: the top-ranked response; classification rules are off for ranking tasks".into());
            (
                Dataset::from_triples(
                    top.iter()
                        .map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
                ),
                Level::Nominal,
                TaskAgreement::Ranking {
                    items: items.len(),
                    rows_incomplete: incomplete,
                    items_w_significant: significant,
                    agreement: Box::new(agreement),
                },
            )
        }
        Task::Text => {
            let answers: Vec<Answer<'_>> = ids
                .rows
                .iter()
                .map(|&(item, annotator, k)| Answer {
                    item,
                    annotator,
                    text: row(k).label.as_str(),
                })
                .collect();
            let topts = TextOptions {
                threshold: tp.text_similarity,
                ..TextOptions::default()
            };
            let pairs = copying_pairs(&answers, &topts);
            let copied: HashSet<(u32, u32)> = pairs
                .iter()
                .flat_map(|p| [(p.item, p.a), (p.item, p.b)])
                .collect();
            let obs: Vec<(u32, u32, Option<bool>)> = answers
                .iter()
                .map(|a| {
                    let empty = normalise(a.text).is_empty();
                    (
                        a.item,
                        a.annotator,
                        (!empty).then(|| copied.contains(&(a.item, a.annotator))),
                    )
                })
                .collect();
            specs.push((
                cohort_rate_signals(&obs, "text_copying", "answer near-identical to another annotator's on the same item"),
                Spec {
                    rule: Rule::TextCopying,
                    gate: at_least_gate,
                    threshold: tp.text_copying_min_share,
                    clears: "clears when a review of the matching answers shows they were written independently (e.g. a standard phrasing the task asks for).",
                },
            ));
            specs.push((
                with_reuse_test(self_reuse(&answers, &topts)),
                Spec {
                    rule: Rule::TextReuse,
                    gate: at_least_gate,
                    threshold: tp.text_reuse_min_share,
                    clears: "clears when a review finds the repeated answers fit each item.",
                },
            ));
            specs.push((
                short_answers(&answers, policy.min_items),
                Spec {
                    rule: Rule::ShortAnswers,
                    gate: at_most_gate,
                    threshold: tp.short_answer_max_ratio,
                    clears: "clears when a review finds the short answers complete, or the median length on a re-check batch is near the others'.",
                },
            ));
            let summary = text_summary(&answers, &topts, pairs.len());
            let trip: Vec<(String, String)> = ids
                .rows
                .iter()
                .map(|&(i, a, _)| {
                    (
                        ids.items[i as usize].clone(),
                        ids.annotators[a as usize].clone(),
                    )
                })
                .collect();
            notes.push(
                "text tasks have no agreement coefficient; classification rules are off".into(),
            );
            (
                Dataset::from_triples(
                    trip.iter()
                        .map(|(i, a)| (i.as_str(), a.as_str(), "answered")),
                ),
                Level::Nominal,
                TaskAgreement::Text(summary),
            )
        }
    };
    // Task ids → dataset annotator ids, by name.
    let ds_id: HashMap<&str, u32> = base
        .annotators
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let to_ds: HashMap<u32, u32> = ids
        .annotators
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((i as u32, *ds_id.get(n.as_str())?)))
        .collect();
    let mut tests = Vec::new();
    for (sigs, spec) in &specs {
        tests.extend(tests_from_signals(sigs, spec, &to_ds));
        signals.extend(sigs.iter().cloned());
    }
    for (a, mut t) in ranking_tests {
        let Some(&d) = to_ds.get(&a) else { continue };
        signals.push(ranking_signal(&t, a));
        t.annotator = d;
        tests.push(t);
    }
    Prepared {
        base,
        base_level,
        report: TaskReport {
            task,
            detected,
            agreement,
            signals: rows_of(&signals, &ids.annotators),
            notes,
        },
        tests,
        policy: effective_policy(task, policy),
    }
}

/// The ranking test as a signal row for the report.
fn ranking_signal(t: &RuleTest, annotator: u32) -> Signal {
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

fn text_summary(answers: &[Answer<'_>], opts: &TextOptions, near_dups: usize) -> TextSummary {
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

/// The full audit of a task input: the report the classification audit produces, with the
/// task section and the task flags.
pub fn audit(
    task: Task,
    detected: bool,
    input: &TaskInput,
    opts: &AgreementOptions,
    method: Method,
    policy: &Policy,
    progress: &Progress,
) -> AuditReport {
    progress.stage("agreement");
    let p = prepare(task, detected, input, policy, opts);
    let loaded = loaded_view(&p, input);
    let agreement = agreement::compute(
        &loaded.dataset,
        &AgreementOptions {
            level: p.base_level,
            ..*opts
        },
    );
    let run = crate::run::assess_batch_with(
        &loaded.dataset,
        method,
        opts.seed,
        &p.policy,
        progress,
        p.tests,
    );
    AuditReport {
        schema_version: report::SCHEMA_VERSION,
        tool: report::Tool::default(),
        input: InputSummary::from_loaded(&loaded),
        agreement,
        consensus: ConsensusSummary::new(&run.model),
        quality: run.quality,
        task: Some(p.report),
    }
}

/// `labelaudit agreement` on a task input: the classification view's agreement report and
/// the task section (with the task signals measured under the default policy).
pub fn agreement_only(
    task: Task,
    detected: bool,
    input: &TaskInput,
    opts: &AgreementOptions,
) -> (crate::report::Report, Option<TaskReport>) {
    let p = prepare(task, detected, input, &Policy::default(), opts);
    let loaded = loaded_view(&p, input);
    let agreement = agreement::compute(
        &loaded.dataset,
        &AgreementOptions {
            level: p.base_level,
            ..*opts
        },
    );
    (
        crate::report::Report::new(InputSummary::from_loaded(&loaded), agreement),
        Some(p.report),
    )
}

/// The classification view as a `Loaded`, for the parts of the pipeline that read one.
pub fn loaded_view(p: &Prepared, input: &TaskInput) -> Loaded {
    Loaded {
        dataset: p.base.clone(),
        files: input.files.clone(),
        skipped_by_reason: BTreeMap::new(),
        invalid: Vec::new(),
        label_hygiene: Default::default(),
    }
}

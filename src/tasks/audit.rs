//! The audit of an AI-feedback task: task-specific agreement, task signals as rule tests in
//! the batch's false-discovery family, and the same consensus / flags / decisions / report
//! as classification (through `run::assess_batch_with`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::input::TaskInput;
use super::ranking::{consensus_rhos, disagreement_tests, ranked_items};
use super::report::{ranking_signal, rows_of, text_summary};
pub use super::report::{SignalRow, TaskAgreement, TaskReport, TextSummary};
use super::rules::{
    at_least_gate, at_most_gate, excess_gate, tests_from_signals, with_reuse_test, z_gate, Spec,
};
use super::Task;
use crate::agreement::{self, AgreementOptions};
use crate::feedback::kendall_w::ranking_agreement;
use crate::feedback::preference::{position_bias, preference_datasets, tie_overuse, Judgment};
use crate::feedback::rubric::{
    dimension_dataset, flat_rating, low_variance, rubric_agreement, RubricAnnotation,
};
use crate::feedback::text::{
    copying_pairs, normalise, self_reuse, short_answers, Answer, TextOptions,
};
use crate::feedback::{cohort_rate_signals, Signal};
use crate::ingest::Loaded;
use crate::progress::Progress;
use crate::quality::{Action, Policy, Rule, RuleTest};
use crate::report::{self, AuditReport, ConsensusSummary, InputSummary};
use crate::{Dataset, Level};

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
                    relative: true,
                    on_effect: false,
                    clears: "clears when a review of the pairs finds the first-shown response was the better one, or a re-check batch with randomised order shows a first-shown rate near the cohort's.",
                },
            ));
            specs.push((
                tie_overuse(&judgments),
                Spec {
                    rule: Rule::TieOveruse,
                    gate: excess_gate,
                    threshold: tp.tie_overuse_min_excess,
                    relative: true,
                    on_effect: false,
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
                    relative: true,
                    on_effect: false,
                    clears: "clears when a review finds the equal scores justified by the responses, or a re-check batch shows a flat rate near the cohort's.",
                },
            ));
            specs.push((
                low_variance(&annotations, policy.min_items),
                Spec {
                    rule: Rule::LowVariance,
                    gate: z_gate,
                    threshold: tp.low_variance_max_z,
                    relative: false,
                    on_effect: true,
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
                    relative: false,
                    on_effect: false,
                    clears: "clears when a review of the matching answers shows they were written independently (e.g. a standard phrasing the task asks for).",
                },
            ));
            specs.push((
                with_reuse_test(self_reuse(&answers, &topts)),
                Spec {
                    rule: Rule::TextReuse,
                    gate: at_least_gate,
                    threshold: tp.text_reuse_min_share,
                    relative: false,
                    on_effect: false,
                    clears: "clears when a review finds the repeated answers fit each item.",
                },
            ));
            specs.push((
                short_answers(&answers, policy.min_items),
                Spec {
                    rule: Rule::ShortAnswers,
                    gate: at_most_gate,
                    threshold: tp.short_answer_max_ratio,
                    relative: false,
                    on_effect: false,
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

/// The full audit of a task input: the report the classification audit produces, with the
/// task section and the task flags.
pub fn audit(
    task: Task,
    detected: bool,
    input: &TaskInput,
    opts: &AgreementOptions,
    model: &crate::run::ModelSpec,
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
    let run = crate::run::assess_batch_with(&loaded.dataset, model, &p.policy, progress, p.tests);
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

//! Simulated AI-feedback batches with honest and low-effort roles, to measure detection.
//!
//! Every item gets `overlap` annotators drawn at random; about a fifth of the annotators
//! play a low-effort role (the rest are honest):
//! - preference: `position_biased` (picks the first-shown response 90% of the time),
//!   `tie_overuser` (answers tie 60% of the time); honest annotators prefer the better
//!   response with a probability that grows with the quality gap, tie ~8%.
//! - rubric (helpfulness, accuracy, safety; 1–5): `flat_rater` (one score for every
//!   dimension, 95%), `low_variance_rater` (3 or 4 whatever the response); honest scores are
//!   the true quality plus noise.
//! - text: `copy_paster` (copies another annotator's answer to the same item with a small
//!   edit, 90%), `short_answerer` (2–4 words), `template_reuser` (one of two stock answers);
//!   honest answers are 15–30 words.
//! - ranking (4 responses): `random_ranker` (a random order); honest rankings sort the true
//!   quality plus noise.
//!
//! Deterministic for a seed (ChaCha8). Written as `annotations.csv`, `roles.csv` and
//! `truth.csv`.

use std::path::Path;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::input::{TaskInput, TaskRow};
use super::Task;
use crate::error::{Error, Result};

/// Settings of a simulated task batch.
#[derive(Debug, Clone)]
pub struct TaskSimConfig {
    pub task: Task,
    pub items: usize,
    pub annotators: usize,
    pub overlap: usize,
    pub seed: u64,
    /// Share of annotators with a low-effort role (split evenly over the task's roles).
    pub low_effort_share: f64,
}

impl Default for TaskSimConfig {
    fn default() -> Self {
        TaskSimConfig {
            task: Task::Preference,
            items: 1000,
            annotators: 30,
            overlap: 3,
            seed: 0,
            low_effort_share: 0.2,
        }
    }
}

/// A simulated batch: annotations, each annotator's role and each item's truth.
#[derive(Debug, Clone)]
pub struct TaskSim {
    pub task: Task,
    pub dimensions: Vec<String>,
    pub rows: Vec<TaskRow>,
    /// (annotator, role) in annotator order.
    pub roles: Vec<(String, &'static str)>,
    /// (item, truth as text).
    pub truth: Vec<(String, String)>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 - u keeps the log finite.
    let u: f64 = rng.random();
    let v: f64 = rng.random();
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn roles_for(task: Task) -> &'static [&'static str] {
    match task {
        Task::Preference => &["position_biased", "tie_overuser"],
        Task::Rubric => &["flat_rater", "low_variance_rater"],
        Task::Text => &["copy_paster", "short_answerer", "template_reuser"],
        Task::Ranking => &["random_ranker"],
        Task::Classification => &[],
    }
}

const WORDS: &[&str] = &[
    "model",
    "answer",
    "clear",
    "because",
    "source",
    "detail",
    "correct",
    "missing",
    "tone",
    "example",
    "concise",
    "helpful",
    "fact",
    "error",
    "step",
    "explains",
    "reason",
    "user",
    "question",
    "response",
    "better",
    "worse",
    "covers",
    "ignores",
    "safety",
    "policy",
    "format",
    "list",
    "code",
    "bug",
    "output",
    "length",
    "style",
    "polite",
    "accurate",
    "vague",
    "specific",
    "cites",
    "claims",
    "wrong",
    "right",
    "partly",
    "fully",
    "context",
    "summary",
    "draft",
    "rewrite",
    "keeps",
    "drops",
    "meaning",
    "grammar",
    "word",
    "simple",
    "complex",
    "data",
    "table",
    "number",
    "date",
    "name",
    "place",
    "first",
    "second",
    "last",
    "part",
    "whole",
    "idea",
    "point",
    "argument",
    "evidence",
    "weak",
    "strong",
    "short",
    "long",
    "useful",
    "redundant",
    "repeats",
    "adds",
    "removes",
    "changes",
    "improves",
];

fn sentence(rng: &mut ChaCha8Rng, words: usize) -> String {
    (0..words)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Simulate a batch.
pub fn simulate(cfg: &TaskSimConfig) -> TaskSim {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n_ann = cfg.annotators.max(2);
    let kinds = roles_for(cfg.task);
    let n_low = ((n_ann as f64 * cfg.low_effort_share).round() as usize).min(n_ann);
    let roles: Vec<(String, &'static str)> = (0..n_ann)
        .map(|a| {
            let role = if a < n_low && !kinds.is_empty() {
                kinds[a % kinds.len()]
            } else {
                "honest"
            };
            (format!("w{a:03}"), role)
        })
        .collect();
    let dims: Vec<String> = match cfg.task {
        Task::Rubric => ["helpfulness", "accuracy", "safety"]
            .map(String::from)
            .to_vec(),
        _ => Vec::new(),
    };
    let templates = [sentence(&mut rng, 20), sentence(&mut rng, 20)];
    let mut rows = Vec::new();
    let mut truth = Vec::new();
    let overlap = cfg.overlap.clamp(1, n_ann);
    let mut pool: Vec<usize> = (0..n_ann).collect();
    for i in 0..cfg.items {
        let item = format!("q{i:05}");
        pool.shuffle(&mut rng);
        let mut chosen: Vec<usize> = pool[..overlap].to_vec();
        // Honest annotators first, so that a copier has something to copy.
        chosen.sort_by_key(|&a| (roles[a].1 != "honest", a));
        let mut answers: Vec<String> = Vec::new();
        let base = 3.0 + normal(&mut rng);
        let qual: Vec<f64> = (0..4).map(|_| normal(&mut rng)).collect();
        let gap = normal(&mut rng) * 1.2;
        truth.push((
            item.clone(),
            match cfg.task {
                Task::Preference => format!("{gap:.3}"),
                Task::Ranking => format!(
                    "{:?}",
                    qual.iter()
                        .map(|q| (q * 1000.0).round() / 1000.0)
                        .collect::<Vec<_>>()
                ),
                _ => format!("{base:.3}"),
            },
        ));
        let dim_q: Vec<f64> = (0..dims.len())
            .map(|_| base + 0.8 * normal(&mut rng))
            .collect();
        for &a in &chosen {
            let (name, role) = (&roles[a].0, roles[a].1);
            let mut row = TaskRow {
                item: item.clone(),
                annotator: name.clone(),
                label: String::new(),
                shown_first: None,
                scores: Vec::new(),
            };
            match cfg.task {
                Task::Preference => {
                    let a_first = rng.random_bool(0.5);
                    row.shown_first = Some(a_first);
                    let honest_strength = |rng: &mut ChaCha8Rng| -> i8 {
                        if rng.random_bool(0.08) {
                            return 0;
                        }
                        let seen = gap + 0.7 * normal(rng);
                        let s = if seen > 0.0 { 1 } else { -1 };
                        if seen.abs() > 1.2 {
                            2 * s
                        } else {
                            s
                        }
                    };
                    let strength = match role {
                        "position_biased" if rng.random_bool(0.9) => {
                            let s = if rng.random_bool(0.3) { 2 } else { 1 };
                            if a_first {
                                s
                            } else {
                                -s
                            }
                        }
                        "tie_overuser" if rng.random_bool(0.6) => 0,
                        _ => honest_strength(&mut rng),
                    };
                    row.label =
                        ["B>>A", "B>A", "tie", "A>B", "A>>B"][(strength + 2) as usize].into();
                }
                Task::Rubric => {
                    let clamp = |x: f64| x.round().clamp(1.0, 5.0);
                    row.scores = match role {
                        "flat_rater" if rng.random_bool(0.95) => {
                            let s = clamp(base + 0.8 * normal(&mut rng));
                            vec![Some(s); dims.len()]
                        }
                        "low_variance_rater" => (0..dims.len())
                            .map(|_| Some(if rng.random_bool(0.5) { 3.0 } else { 4.0 }))
                            .collect(),
                        _ => dim_q
                            .iter()
                            .map(|&q| Some(clamp(q + 0.6 * normal(&mut rng))))
                            .collect(),
                    };
                    row.label = row
                        .scores
                        .first()
                        .copied()
                        .flatten()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                }
                Task::Text => {
                    row.label = match role {
                        "copy_paster" if !answers.is_empty() && rng.random_bool(0.9) => {
                            let src = answers[rng.random_range(0..answers.len())].clone();
                            format!("{src} {}", WORDS[rng.random_range(0..WORDS.len())])
                        }
                        "short_answerer" => {
                            let n = rng.random_range(2..=4);
                            sentence(&mut rng, n)
                        }
                        "template_reuser" => templates[rng.random_range(0..2)].clone(),
                        _ => {
                            let n = rng.random_range(15..=30);
                            sentence(&mut rng, n)
                        }
                    };
                    answers.push(row.label.clone());
                }
                Task::Ranking => {
                    let mut order: Vec<usize> = (0..qual.len()).collect();
                    if role == "random_ranker" {
                        order.shuffle(&mut rng);
                    } else {
                        let seen: Vec<f64> =
                            qual.iter().map(|q| q + 0.6 * normal(&mut rng)).collect();
                        order.sort_by(|&x, &y| seen[y].total_cmp(&seen[x]));
                    }
                    row.label = order
                        .iter()
                        .map(|r| format!("r{}", r + 1))
                        .collect::<Vec<_>>()
                        .join(">");
                }
                Task::Classification => {}
            }
            rows.push(row);
        }
    }
    TaskSim {
        task: cfg.task,
        dimensions: dims,
        rows,
        roles,
        truth,
    }
}

impl TaskSim {
    /// The batch as the reader would return it.
    pub fn to_input(&self) -> TaskInput {
        TaskInput {
            dimensions: self.dimensions.clone(),
            rows: self.rows.clone(),
            files: Vec::new(),
        }
    }

    /// Write `annotations.csv`, `roles.csv` and `truth.csv` into `dir`.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let write = |name: &str, header: Vec<String>, rows: Vec<Vec<String>>| -> Result<()> {
            let path = dir.join(name);
            crate::output::write_atomic(&path, |out| {
                let mut w = csv::Writer::from_writer(out);
                let io = |e: csv::Error| Error::io(&path, std::io::Error::other(e));
                w.write_record(&header).map_err(io)?;
                for r in &rows {
                    w.write_record(r).map_err(io)?;
                }
                w.flush().map_err(|e| Error::io(&path, e))
            })
        };
        let mut header: Vec<String> = vec!["item".into(), "annotator".into()];
        match self.task {
            Task::Rubric => header.extend(self.dimensions.iter().cloned()),
            Task::Preference => header.extend(["label".to_string(), "shown_first".to_string()]),
            _ => header.push("label".into()),
        }
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let mut v = vec![r.item.clone(), r.annotator.clone()];
                match self.task {
                    Task::Rubric => v.extend(
                        r.scores
                            .iter()
                            .map(|s| s.map(|x| x.to_string()).unwrap_or_default()),
                    ),
                    Task::Preference => {
                        v.push(r.label.clone());
                        v.push(match r.shown_first {
                            Some(true) => "A".into(),
                            Some(false) => "B".into(),
                            None => String::new(),
                        });
                    }
                    _ => v.push(r.label.clone()),
                }
                v
            })
            .collect();
        write("annotations.csv", header, rows)?;
        write(
            "roles.csv",
            vec!["annotator".into(), "role".into()],
            self.roles
                .iter()
                .map(|(a, r)| vec![a.clone(), r.to_string()])
                .collect(),
        )?;
        write(
            "truth.csv",
            vec!["item".into(), "truth".into()],
            self.truth
                .iter()
                .map(|(i, t)| vec![i.clone(), t.clone()])
                .collect(),
        )
    }
}

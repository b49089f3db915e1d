//! A batch simulator with known truth, for testing the quality engine: honest annotators of
//! varied accuracy (some fast but accurate), honest annotators given mostly ambiguous items,
//! uniform spammers, straight-liners, fast random clickers, colluding groups copying a leader,
//! adversarial label-swappers and biased annotators; gold items; log-normal durations and
//! increasing timestamps per annotator. Deterministic for a seed (ChaCha8).

use std::collections::HashMap;

mod output;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::dataset::{DatasetBuilder, Row};
use crate::Dataset;

/// The behaviour an annotator is simulated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Honest,
    HonestAmbiguous,
    UniformSpammer,
    StraightLiner,
    FastClicker,
    Colluder,
    LabelSwapper,
    Biased,
}

impl Role {
    /// Name as written in `roles.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Honest => "honest",
            Role::HonestAmbiguous => "honest_ambiguous",
            Role::UniformSpammer => "uniform_spammer",
            Role::StraightLiner => "straight_liner",
            Role::FastClicker => "fast_clicker",
            Role::Colluder => "colluder",
            Role::LabelSwapper => "label_swapper",
            Role::Biased => "biased",
        }
    }

    /// Honest roles (should be paid).
    pub fn is_honest(self) -> bool {
        matches!(self, Role::Honest | Role::HonestAmbiguous)
    }
}

/// Simulation parameters. Role shares are fractions of the annotator count.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub items: usize,
    /// `None`: `items * overlap / 100` (about 100 items each).
    pub annotators: Option<usize>,
    /// Annotators per item.
    pub overlap: usize,
    pub labels: usize,
    pub seed: u64,
    /// Share of items that are gold (chosen among unambiguous items).
    pub gold_share: f64,
    /// Share of items that are ambiguous (honest annotators split between two labels).
    pub ambiguous_share: f64,
    pub honest_ambiguous_share: f64,
    pub uniform_spammer_share: f64,
    pub straight_liner_share: f64,
    pub fast_clicker_share: f64,
    pub label_swapper_share: f64,
    pub biased_share: f64,
    /// Share of honest annotators who work fast but accurately.
    pub honest_fast_share: f64,
    pub colluding_groups: usize,
    /// Leader plus followers.
    pub group_size: usize,
    /// Unix milliseconds of the batch start.
    pub start_ms: i64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            items: 1000,
            annotators: None,
            overlap: 5,
            labels: 4,
            seed: 0,
            gold_share: 0.1,
            ambiguous_share: 0.15,
            honest_ambiguous_share: 0.04,
            uniform_spammer_share: 0.06,
            straight_liner_share: 0.06,
            fast_clicker_share: 0.06,
            label_swapper_share: 0.04,
            biased_share: 0.04,
            honest_fast_share: 0.1,
            colluding_groups: 2,
            group_size: 3,
            start_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
        }
    }
}

/// One simulated annotation (ids index the `Simulation` name vectors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimRow {
    pub item: u32,
    pub annotator: u32,
    pub label: u32,
    pub duration_s: f32,
    pub submitted_at_ms: i64,
}

/// A simulated batch with its known truth.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub rows: Vec<SimRow>,
    pub truth: Vec<u32>,
    pub ambiguous: Vec<bool>,
    pub gold: Vec<bool>,
    pub roles: Vec<Role>,
    /// Colluding group of each annotator.
    pub group: Vec<Option<u32>>,
    pub item_names: Vec<String>,
    pub annotator_names: Vec<String>,
    pub label_names: Vec<String>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn other_label(rng: &mut ChaCha8Rng, q: usize, not: u32) -> u32 {
    let r = rng.random_range(0..q as u32 - 1);
    if r >= not {
        r + 1
    } else {
        r
    }
}

/// Per-annotator behaviour parameters.
#[derive(Debug, Clone, Copy)]
struct Params {
    accuracy: f64,
    favorite: u32,
    median_s: f64,
}

/// Run the simulation.
pub fn simulate(cfg: &SimConfig) -> Simulation {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let q = cfg.labels.max(2);
    let overlap = cfg.overlap.max(1);
    let group_size = cfg.group_size.max(2);
    let n_ann = cfg
        .annotators
        .unwrap_or(cfg.items * overlap / 100)
        .max(overlap + group_size);

    // Items: truth from a skewed prior, ambiguity, gold.
    let weights: Vec<f64> = (0..q).map(|k| 0.7f64.powi(k as i32)).collect();
    let total: f64 = weights.iter().sum();
    let mut truth = Vec::with_capacity(cfg.items);
    let mut alt = Vec::with_capacity(cfg.items);
    let mut ambiguous = Vec::with_capacity(cfg.items);
    let mut gold = Vec::with_capacity(cfg.items);
    for _ in 0..cfg.items {
        let mut r = rng.random::<f64>() * total;
        let mut t = q as u32 - 1;
        for (k, w) in weights.iter().enumerate() {
            if r < *w {
                t = k as u32;
                break;
            }
            r -= w;
        }
        truth.push(t);
        alt.push(other_label(&mut rng, q, t));
        let amb = rng.random::<f64>() < cfg.ambiguous_share;
        ambiguous.push(amb);
        let g =
            !amb && rng.random::<f64>() < cfg.gold_share / (1.0 - cfg.ambiguous_share).max(0.01);
        gold.push(g);
    }

    // Roles.
    let count = |share: f64| (share * n_ann as f64).round() as usize;
    let mut role_list: Vec<Role> = Vec::new();
    for (role, share) in [
        (Role::HonestAmbiguous, cfg.honest_ambiguous_share),
        (Role::UniformSpammer, cfg.uniform_spammer_share),
        (Role::StraightLiner, cfg.straight_liner_share),
        (Role::FastClicker, cfg.fast_clicker_share),
        (Role::LabelSwapper, cfg.label_swapper_share),
        (Role::Biased, cfg.biased_share),
    ] {
        role_list.extend(std::iter::repeat_n(role, count(share)));
    }
    let colluders = (cfg.colluding_groups * group_size).min(n_ann);
    role_list.truncate(n_ann - colluders);
    let mut slots: Vec<usize> = (0..n_ann).collect();
    slots.shuffle(&mut rng);
    let mut roles = vec![Role::Honest; n_ann];
    let mut group = vec![None; n_ann];
    let mut leader_of: Vec<Option<usize>> = vec![None; n_ann];
    let mut followers: Vec<Vec<usize>> = vec![Vec::new(); n_ann];
    let mut next = slots.into_iter();
    for g in 0..cfg.colluding_groups {
        let members: Vec<usize> = next.by_ref().take(group_size).collect();
        for (k, &m) in members.iter().enumerate() {
            roles[m] = Role::Colluder;
            group[m] = Some(g as u32);
            if k > 0 {
                leader_of[m] = Some(members[0]);
                followers[members[0]].push(m);
            }
        }
    }
    for role in role_list {
        if let Some(a) = next.next() {
            roles[a] = role;
        }
    }

    // Behaviour parameters.
    let params: Vec<Params> = roles
        .iter()
        .map(|&role| {
            let u: f64 = rng.random();
            let z = normal(&mut rng);
            let favorite = rng.random_range(0..q as u32);
            let honest_fast = rng.random::<f64>() < cfg.honest_fast_share;
            let (accuracy, median_s) = match role {
                Role::Honest if honest_fast => (0.8 + 0.17 * u, (4.0f64.ln() + 0.15 * z).exp()),
                Role::Honest => (0.75 + 0.22 * u, (12.0f64.ln() + 0.35 * z).exp()),
                Role::HonestAmbiguous => (0.8 + 0.15 * u, (14.0f64.ln() + 0.35 * z).exp()),
                Role::UniformSpammer => (0.0, (8.0f64.ln() + 0.35 * z).exp()),
                Role::StraightLiner => (0.0, (5.0f64.ln() + 0.3 * z).exp()),
                Role::FastClicker => (0.0, (1.5f64.ln() + 0.2 * z).exp()),
                Role::Colluder => (0.55 + 0.15 * u, (9.0f64.ln() + 0.35 * z).exp()),
                Role::LabelSwapper => (0.9, (11.0f64.ln() + 0.35 * z).exp()),
                Role::Biased => (0.85, (11.0f64.ln() + 0.35 * z).exp()),
            };
            Params {
                accuracy,
                favorite,
                median_s,
            }
        })
        .collect();

    // Assignment: each item goes to the `overlap` least-loaded annotators (random tie-break);
    // followers only ever join their leader; ambiguity-prone annotators prefer ambiguous items.
    let mut assigned: Vec<Vec<u32>> = vec![Vec::new(); n_ann];
    let mut load = vec![0.0f64; n_ann];
    let mut gold_load = vec![0.0f64; n_ann];
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(n_ann);
    for item in 0..cfg.items {
        order.clear();
        for a in 0..n_ann {
            if leader_of[a].is_some() {
                continue;
            }
            // Gold items are spread evenly over everyone (by gold load), as platforms inject
            // them into every worker's queue.
            let key = match (roles[a], ambiguous[item], gold[item]) {
                (_, _, true) => gold_load[a],
                (Role::HonestAmbiguous, true, _) => load[a] - 4.0,
                (Role::HonestAmbiguous, false, _) => load[a] + 2.0,
                _ => load[a],
            };
            order.push((key + 2.0 * rng.random::<f64>(), a));
        }
        let by_key = |x: &(f64, usize), y: &(f64, usize)| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1));
        // The order is total, so the smallest `head` keys sorted are exactly the first `head`
        // of the full sort: choose from them, and sort everything only if they run out.
        let head = (4 * overlap + 4 * group_size + 16).min(order.len());
        if head < order.len() {
            order.select_nth_unstable_by(head - 1, by_key);
        }
        order[..head].sort_by(by_key);
        let mut chosen: Vec<usize> = Vec::with_capacity(overlap);
        let pick = |chosen: &mut Vec<usize>, candidates: &[(f64, usize)]| {
            for &(_, a) in candidates {
                let need = overlap - chosen.len();
                if need == 0 {
                    return true;
                }
                if followers[a].len() < need {
                    chosen.push(a);
                    chosen.extend(&followers[a]);
                }
            }
            overlap == chosen.len()
        };
        if !pick(&mut chosen, &order[..head]) && head < order.len() {
            chosen.clear();
            order.sort_by(by_key);
            pick(&mut chosen, &order);
        }
        for a in chosen {
            load[a] += 1.0;
            if gold[item] {
                gold_load[a] += 1.0;
            }
            assigned[a].push(item as u32);
        }
    }

    // Answers, durations and timestamps in each annotator's own submission order.
    // Leaders answer before followers copy them.
    let mut answer: HashMap<(usize, u32), u32> = HashMap::new();
    let mut rows: Vec<SimRow> = Vec::new();
    let mut by_order: Vec<usize> = (0..n_ann).collect();
    by_order.sort_by_key(|&a| leader_of[a].is_some());
    for a in by_order {
        let p = params[a];
        let mut items = assigned[a].clone();
        items.shuffle(&mut rng);
        let mut t = cfg.start_ms + (rng.random::<f64>() * 8.0 * 3_600_000.0) as i64;
        let mut previous = p.favorite;
        for (k, &item) in items.iter().enumerate() {
            let i = item as usize;
            let honest = |rng: &mut ChaCha8Rng, acc: f64| -> u32 {
                let r: f64 = rng.random();
                if ambiguous[i] {
                    if r < 0.5 {
                        truth[i]
                    } else if r < 0.9 || q == 2 {
                        alt[i]
                    } else {
                        let mut l = other_label(rng, q, truth[i]);
                        if l == alt[i] {
                            l = truth[i];
                        }
                        l
                    }
                } else if r < acc {
                    truth[i]
                } else {
                    other_label(rng, q, truth[i])
                }
            };
            let label = match roles[a] {
                Role::Honest | Role::HonestAmbiguous => honest(&mut rng, p.accuracy),
                Role::UniformSpammer | Role::FastClicker => rng.random_range(0..q as u32),
                Role::StraightLiner => {
                    if rng.random::<f64>() >= 0.9 {
                        previous = if rng.random::<f64>() < 0.7 {
                            p.favorite
                        } else {
                            rng.random_range(0..q as u32)
                        };
                    }
                    previous
                }
                Role::Colluder => match leader_of[a] {
                    Some(l) if rng.random::<f64>() < 0.9 => answer
                        .get(&(l, item))
                        .copied()
                        .unwrap_or_else(|| honest(&mut rng, 0.6)),
                    Some(_) => honest(&mut rng, 0.6),
                    None => honest(&mut rng, p.accuracy),
                },
                Role::LabelSwapper => {
                    let l = honest(&mut rng, p.accuracy);
                    if rng.random::<f64>() < 0.8 {
                        (l + 1) % q as u32
                    } else {
                        l
                    }
                }
                Role::Biased => {
                    if rng.random::<f64>() < 0.35 {
                        p.favorite
                    } else {
                        honest(&mut rng, p.accuracy)
                    }
                }
            };
            // Only leaders' answers are ever looked up (by their followers).
            if !followers[a].is_empty() {
                answer.insert((a, item), label);
            }
            let duration = p.median_s * (0.45 * normal(&mut rng)).exp();
            let gap = -4.0 * rng.random::<f64>().max(1e-12).ln();
            if k > 0 && k % 50 == 0 {
                t += (rng.random_range(10.0..60.0) * 60_000.0) as i64;
            }
            t += ((duration + gap) * 1000.0) as i64;
            rows.push(SimRow {
                item,
                annotator: a as u32,
                label,
                duration_s: duration as f32,
                submitted_at_ms: t,
            });
        }
    }
    rows.sort_by_key(|r| (r.item, r.annotator));

    let width = |n: usize| n.saturating_sub(1).to_string().len();
    let (wi, wa, wl) = (width(cfg.items), width(n_ann), width(q));
    Simulation {
        rows,
        truth,
        ambiguous,
        gold,
        roles,
        group,
        item_names: (0..cfg.items).map(|i| format!("item{i:0wi$}")).collect(),
        annotator_names: (0..n_ann).map(|a| format!("w{a:0wa$}")).collect(),
        label_names: (0..q).map(|l| format!("L{l:0wl$}")).collect(),
    }
}

impl Simulation {
    /// Build the `Dataset` directly (durations, timestamps and gold included).
    pub fn to_dataset(&self) -> Dataset {
        let mut b = DatasetBuilder::default();
        for r in &self.rows {
            b.push(Row {
                item: &self.item_names[r.item as usize],
                annotator: &self.annotator_names[r.annotator as usize],
                label: &self.label_names[r.label as usize],
                duration_s: Some(r.duration_s),
                submitted_at_ms: Some(r.submitted_at_ms),
                gold: None,
            });
        }
        for (i, &g) in self.gold.iter().enumerate() {
            if g {
                b.set_gold(
                    &self.item_names[i],
                    &self.label_names[self.truth[i] as usize],
                );
            }
        }
        // set_gold never conflicts and no label order is given: build cannot fail.
        b.build(None).unwrap_or_default()
    }

    /// Role of an annotator by name.
    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.annotator_names
            .iter()
            .position(|n| n == name)
            .map(|a| self.roles[a])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_balanced() {
        let cfg = SimConfig {
            seed: 7,
            ..SimConfig::default()
        };
        let a = simulate(&cfg);
        let b = simulate(&cfg);
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.roles.len(), 50);
        let ds = a.to_dataset();
        assert_eq!(ds.n_annotations(), 5000);
        assert_eq!(ds.n_items(), 1000);
        let idx = ds.by_annotator();
        for x in 0..ds.n_annotators() {
            assert!(
                idx.positions(x).len() >= 50,
                "{} has too few items",
                ds.annotators[x]
            );
        }
        // Each annotator's timestamps increase in its own order of work.
        let mut per: HashMap<u32, Vec<i64>> = HashMap::new();
        for r in &a.rows {
            per.entry(r.annotator).or_default().push(r.submitted_at_ms);
        }
        assert!(per.values().all(|v| {
            let mut s = v.clone();
            s.sort_unstable();
            s.dedup();
            s.len() == v.len()
        }));
        assert!(a.gold.iter().filter(|&&g| g).count() > 50);
        assert_eq!(a.roles.iter().filter(|&&r| r == Role::Colluder).count(), 6);
    }

    #[test]
    fn writes_the_four_files() {
        let sim = simulate(&SimConfig {
            items: 100,
            annotators: Some(10),
            ..SimConfig::default()
        });
        let dir = tempfile::tempdir().unwrap();
        sim.write_dir(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("annotations.csv")).unwrap();
        let first = text.lines().nth(1).unwrap();
        assert!(first.ends_with('Z') && first.contains("T"), "{first}");
        for f in ["gold.csv", "truth.csv", "roles.csv"] {
            assert!(dir.path().join(f).exists());
        }
    }
}

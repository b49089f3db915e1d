//! Detection rates of the quality engine on simulated batches with known roles
//! (1,000 items, overlap 5, 50 annotators, default policy).
//!
//! - `cargo test --test integration quality_simulated -- --nocapture`: 5 seeds, asserts the
//!   targets and prints the rates.
//! - `cargo test --release --test integration rates_many_seeds -- --ignored --nocapture`:
//!   40 seeds with and without gold items (the figures in `docs/quality-rates.md`).

use std::collections::BTreeMap;

use labelaudit::quality::{Decision, Policy, QualityReport};
use labelaudit::simulate::{simulate, Role, SimConfig, Simulation};

/// Decisions per role and collusion pairs found, over a set of seeds.
#[derive(Default)]
struct Tally {
    /// role -> [annotators, held, reviewed, paid, insufficient]
    by_role: BTreeMap<Role, [usize; 5]>,
    colluding_pairs: usize,
    colluding_pairs_reported: usize,
    other_pairs_reported: usize,
    fast_honest: usize,
    fast_honest_held: usize,
}

impl Tally {
    fn rate(&self, role: Role, slot: usize) -> f64 {
        let c = self.by_role.get(&role).copied().unwrap_or_default();
        c[slot] as f64 / c[0].max(1) as f64
    }

    fn honest(&self) -> [usize; 5] {
        let mut acc = [0; 5];
        for r in [Role::Honest, Role::HonestAmbiguous] {
            if let Some(c) = self.by_role.get(&r) {
                for k in 0..5 {
                    acc[k] += c[k];
                }
            }
        }
        acc
    }

    fn print(&self, title: &str) {
        println!("{title}");
        println!("| role | annotators | hold | review | pay | insufficient |");
        println!("|---|---|---|---|---|---|");
        for (role, c) in &self.by_role {
            println!(
                "| {} | {} | {} ({:.1}%) | {} | {} | {} |",
                role.name(),
                c[0],
                c[1],
                100.0 * self.rate(*role, 1),
                c[2],
                c[3],
                c[4]
            );
        }
        println!(
            "colluding pairs reported {}/{}; other pairs reported {}; fast-but-accurate honest held {}/{}",
            self.colluding_pairs_reported,
            self.colluding_pairs,
            self.other_pairs_reported,
            self.fast_honest_held,
            self.fast_honest
        );
    }
}

/// The real pipeline users run (`labelaudit audit`): Dawid-Skene consensus with gold inside
/// the model, MACE spam probabilities, leave-one-out majorities, default policy.
fn audit(sim: &Simulation) -> QualityReport {
    let loaded = labelaudit::ingest::Loaded {
        dataset: sim.to_dataset(),
        files: Vec::new(),
        skipped_by_reason: Default::default(),
        invalid: Vec::new(),
        label_hygiene: Default::default(),
    };
    let options = labelaudit::agreement::AgreementOptions {
        bootstrap: 0,
        ..Default::default()
    };
    labelaudit::run::audit(
        &loaded,
        &options,
        &labelaudit::run::ModelSpec::default(),
        &Policy::default(),
        &labelaudit::progress::Progress::hidden(),
    )
    .quality
}

fn run(seeds: impl Iterator<Item = u64>, base: &SimConfig) -> Tally {
    let mut tally = Tally::default();
    for seed in seeds {
        let sim = simulate(&SimConfig {
            seed,
            ..base.clone()
        });
        let report = audit(&sim);
        // serde_json refuses NaN; the text must not hold it either.
        let json = serde_json::to_string(&report).expect("report serialises");
        assert!(!json.contains("NaN"));
        for a in &report.annotators {
            let role = sim.role_of(&a.id).expect("simulated annotator");
            let slot = match a.decision {
                Decision::Hold => 1,
                Decision::Review => 2,
                Decision::Pay => 3,
                Decision::InsufficientEvidence => 4,
            };
            if role.is_honest() && a.decision == Decision::Hold {
                // Show every honest hold so that a failure explains itself.
                for f in report.flags.iter().filter(|f| f.annotator == a.id) {
                    println!("seed {seed} honest held: {:?} {}", role, f.message);
                }
            }
            let e = tally.by_role.entry(role).or_default();
            e[0] += 1;
            e[slot] += 1;
            let fast = a
                .signals
                .fast_share
                .as_ref()
                .and_then(|s| s.value)
                .is_some_and(|v| v > 0.1);
            if role == Role::Honest && fast {
                tally.fast_honest += 1;
                tally.fast_honest_held += usize::from(a.decision == Decision::Hold);
            }
        }
        let group = |name: &str| {
            let i = sim.annotator_names.iter().position(|n| n == name)?;
            sim.group[i]
        };
        let n_groups = sim.group.iter().flatten().max().map_or(0, |g| g + 1);
        for g in 0..n_groups {
            let size = sim.group.iter().filter(|&&x| x == Some(g)).count();
            tally.colluding_pairs += size * (size - 1) / 2;
        }
        for p in &report.pairs_of_concern {
            match (group(&p.a), group(&p.b)) {
                (Some(x), Some(y)) if x == y => tally.colluding_pairs_reported += 1,
                _ => {
                    println!(
                        "seed {seed} pair of concern outside a colluding group: {:?} {:?} {p:?}",
                        sim.role_of(&p.a),
                        sim.role_of(&p.b)
                    );
                    tally.other_pairs_reported += 1
                }
            }
        }
    }
    tally
}

#[test]
fn detection_rates_meet_targets() {
    let t = run(1..=5, &SimConfig::default());
    t.print("5 seeds x 1,000 items, overlap 5, default policy");
    // Honest (including those given mostly ambiguous items) on hold: at most 1%.
    let honest = t.honest();
    assert!(honest[0] >= 100);
    assert!(
        honest[1] as f64 / honest[0] as f64 <= 0.01,
        "honest held {} of {}",
        honest[1],
        honest[0]
    );
    // Spammers, straight-liners and fast random clickers (all have >= 50 items): held >= 95%.
    for role in [Role::UniformSpammer, Role::StraightLiner, Role::FastClicker] {
        assert!(t.by_role[&role][0] >= 10);
        assert!(
            t.rate(role, 1) >= 0.95,
            "{} held {:.2}",
            role.name(),
            t.rate(role, 1)
        );
    }
    // Colluding pairs reported in >= 90% of cases; no other pair reported.
    assert!(t.colluding_pairs >= 20);
    let found = t.colluding_pairs_reported as f64 / t.colluding_pairs as f64;
    assert!(found >= 0.9, "collusion reported {found:.2}");
    assert_eq!(t.other_pairs_reported, 0);
    // Fast but accurate honest workers are never held.
    assert!(t.fast_honest >= 3 && t.fast_honest_held == 0);
}

#[test]
#[ignore = "slow in debug builds; run with --release for docs/quality-rates.md"]
fn rates_many_seeds() {
    run(100..140, &SimConfig::default()).print("40 seeds, default simulation (10% gold)");
    let no_gold = SimConfig {
        gold_share: 0.0,
        ..SimConfig::default()
    };
    run(100..140, &no_gold).print("40 seeds, no gold items");
    let variants = [
        (
            "20 seeds, everyone honest (no spammers, no colluders; 4% mostly-ambiguous)",
            SimConfig {
                uniform_spammer_share: 0.0,
                straight_liner_share: 0.0,
                fast_clicker_share: 0.0,
                label_swapper_share: 0.0,
                biased_share: 0.0,
                colluding_groups: 0,
                ..SimConfig::default()
            },
        ),
        (
            "20 seeds, overlap 3",
            SimConfig {
                overlap: 3,
                annotators: Some(30),
                ..SimConfig::default()
            },
        ),
        (
            "20 seeds, 2 labels",
            SimConfig {
                labels: 2,
                ..SimConfig::default()
            },
        ),
        (
            "20 seeds, 8 labels",
            SimConfig {
                labels: 8,
                ..SimConfig::default()
            },
        ),
        (
            "20 seeds, 30% ambiguous items, 10% ambiguity-prone honest workers",
            SimConfig {
                ambiguous_share: 0.3,
                honest_ambiguous_share: 0.1,
                ..SimConfig::default()
            },
        ),
        (
            "20 seeds, heavy spam (15% each of spammers, straight-liners, fast clickers)",
            SimConfig {
                uniform_spammer_share: 0.15,
                straight_liner_share: 0.15,
                fast_clicker_share: 0.15,
                ..SimConfig::default()
            },
        ),
    ];
    for (title, cfg) in variants {
        run(200..220, &cfg).print(title);
    }
}

#[test]
#[ignore = "prints one report as JSON for inspection"]
fn print_one_report() {
    let sim = simulate(&SimConfig {
        seed: 1,
        ..SimConfig::default()
    });
    let report = audit(&sim);
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}

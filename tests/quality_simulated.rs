//! Detection rates of the quality engine on simulated batches with known roles
//! (5 seeds × 1,000 items, overlap 5, 50 annotators, default policy).
//! `cargo test --test integration quality_simulated -- --nocapture` prints the rates.

use std::collections::BTreeMap;

use labelaudit::quality::{
    assess, leave_one_out_majority, majority, ConsensusView, Decision, Policy,
};
use labelaudit::simulate::{simulate, Role, SimConfig};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

#[derive(Default)]
struct Tally {
    /// role -> (annotators, held, reviewed, paid, insufficient)
    by_role: BTreeMap<Role, [usize; 5]>,
    colluding_pairs: usize,
    colluding_pairs_reported: usize,
    other_pairs_reported: usize,
    fast_honest: usize,
    fast_honest_held: usize,
}

fn run() -> Tally {
    let mut tally = Tally::default();
    let policy = Policy::default();
    for seed in SEEDS {
        let sim = simulate(&SimConfig {
            seed,
            ..SimConfig::default()
        });
        let ds = sim.to_dataset();
        let (label, conf) = majority(&ds);
        let (loo, share) = leave_one_out_majority(&ds);
        let view = ConsensusView {
            item_label: &label,
            item_confidence: &conf,
            loo_label: &loo,
            loo_share: &share,
            annotator_accuracy: None,
            spam_probability: None,
        };
        let report = assess(&ds, &view, &policy);
        // The report must serialise without NaN (serde_json refuses NaN as a number).
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
            let e = tally.by_role.entry(role).or_default();
            e[0] += 1;
            e[slot] += 1;
            if role == Role::Honest {
                let fast = a
                    .signals
                    .fast_share
                    .as_ref()
                    .and_then(|s| s.value)
                    .is_some_and(|v| v > 0.1);
                if fast {
                    tally.fast_honest += 1;
                    tally.fast_honest_held += usize::from(a.decision == Decision::Hold);
                }
            }
        }
        let group = |name: &str| {
            let i = sim.annotator_names.iter().position(|n| n == name)?;
            sim.group[i]
        };
        let n_groups = sim.group.iter().flatten().max().map_or(0, |g| g + 1) as usize;
        for g in 0..n_groups {
            let size = sim.group.iter().filter(|&&x| x == Some(g as u32)).count();
            tally.colluding_pairs += size * (size - 1) / 2;
        }
        for p in &report.pairs_of_concern {
            match (group(&p.a), group(&p.b)) {
                (Some(x), Some(y)) if x == y => tally.colluding_pairs_reported += 1,
                _ => tally.other_pairs_reported += 1,
            }
        }
    }
    tally
}

#[test]
fn detection_rates_meet_targets() {
    let t = run();
    println!("role: annotators held review pay insufficient");
    for (role, c) in &t.by_role {
        println!(
            "{:>16}: {:>3} {:>3} {:>3} {:>3} {:>3}",
            role.name(),
            c[0],
            c[1],
            c[2],
            c[3],
            c[4]
        );
    }
    println!(
        "colluding pairs reported {}/{}; other pairs reported {}; fast honest held {}/{}",
        t.colluding_pairs_reported,
        t.colluding_pairs,
        t.other_pairs_reported,
        t.fast_honest_held,
        t.fast_honest
    );
    let rate = |role: Role, slot: usize| {
        let c = t.by_role.get(&role).copied().unwrap_or_default();
        c[slot] as f64 / c[0].max(1) as f64
    };
    // Honest (including those given mostly ambiguous items) on hold: at most 1%.
    let honest: [usize; 5] = [Role::Honest, Role::HonestAmbiguous]
        .iter()
        .filter_map(|r| t.by_role.get(r))
        .fold([0; 5], |mut acc, c| {
            for k in 0..5 {
                acc[k] += c[k];
            }
            acc
        });
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
            rate(role, 1) >= 0.95,
            "{} held {:.2}",
            role.name(),
            rate(role, 1)
        );
    }
    // Colluding pairs reported in >= 90% of cases.
    assert!(t.colluding_pairs >= 20);
    let collusion = t.colluding_pairs_reported as f64 / t.colluding_pairs as f64;
    assert!(collusion >= 0.9, "collusion reported {collusion:.2}");
    // Fast but accurate honest workers are never held.
    assert!(t.fast_honest >= 3 && t.fast_honest_held == 0);
}

#[test]
#[ignore]
fn debug_dump() {
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let sim = simulate(&SimConfig {
        seed,
        ..SimConfig::default()
    });
    let ds = sim.to_dataset();
    let (label, conf) = majority(&ds);
    let (loo, share) = leave_one_out_majority(&ds);
    let view = ConsensusView {
        item_label: &label,
        item_confidence: &conf,
        loo_label: &loo,
        loo_share: &share,
        annotator_accuracy: None,
        spam_probability: None,
    };
    let report = assess(&ds, &view, &Policy::default());
    for a in &report.annotators {
        let role = sim.role_of(&a.id).unwrap();
        let s = &a.signals;
        let v = |x: &Option<labelaudit::quality::Signal>| {
            x.as_ref().and_then(|s| s.value).unwrap_or(f64::NAN)
        };
        let n = |x: &Option<labelaudit::quality::Signal>| x.as_ref().map(|s| s.n).unwrap_or(0);
        println!("{} {:>16} {:?} {:?} items={} agr_clear={:.2}/{} kappa={:.2} ci={:?} gold={:.2}/{} top={:.2} contested={:.2}",
            a.id, role.name(), a.decision, a.flags, a.items, v(&s.agreement_clear), n(&s.agreement_clear), v(&s.kappa_clear), s.kappa_clear.as_ref().and_then(|k| k.ci95), v(&s.gold_accuracy), n(&s.gold_accuracy), v(&s.top_label_share), v(&s.contested_share));
    }
    let pol = Policy::default();
    for p in labelaudit::quality::collusion::collusion_tests(
        &ds,
        &ds.by_annotator(),
        &ds.annotation_items(),
        &pol,
    ) {
        let (a, b) = (&ds.annotators[p.a as usize], &ds.annotators[p.b as usize]);
        if sim.role_of(a) == Some(Role::HonestAmbiguous)
            || sim.role_of(b) == Some(Role::HonestAmbiguous)
            || p.gate
            || p.p_value < 0.01
        {
            println!(
                "PAIR {a} {b} {:?} {:?} {:?}",
                sim.role_of(a),
                sim.role_of(b),
                p
            );
        }
    }
    for f in &report.flags {
        if sim.role_of(&f.annotator) != Some(Role::Honest) {
            continue;
        }
        println!("{:?} q={:.4} {}", f.rule, f.q_value, f.message);
    }
}

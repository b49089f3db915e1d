//! Tests of the whole audit (`assess`): evidence thresholds, JSON shape, ordering,
//! determinism and switching rules off.

use super::*;
use crate::quality::leave_one_out_majority;
use crate::simulate::{simulate, SimConfig};
use crate::Dataset;

fn run(ds: &Dataset, policy: &Policy) -> QualityReport {
    assess(ds, &PlainVote::new(ds).view(), policy)
}

#[test]
fn small_workers_get_insufficient_evidence_and_no_flag() {
    // a, b, c agree on 30 items; d labels 5 items, all against them.
    let names: Vec<String> = (0..30).map(|i| format!("{i}")).collect();
    let mut rows = Vec::new();
    for (i, item) in names.iter().enumerate() {
        let l = if i % 2 == 0 { "x" } else { "y" };
        for a in ["a", "b", "c"] {
            rows.push((item.as_str(), a, l));
        }
        if i < 5 {
            rows.push((item.as_str(), "d", if l == "x" { "y" } else { "x" }));
        }
    }
    let ds = Dataset::from_triples(rows);
    let report = run(&ds, &Policy::default());
    let last = report.annotators.last().unwrap();
    assert_eq!(last.id, "d");
    assert_eq!(last.decision, Decision::InsufficientEvidence);
    assert!(last.flags.is_empty());
    assert!(report.flags.iter().all(|f| f.annotator != "d"));
    for a in &report.annotators[..3] {
        assert_eq!(a.decision, Decision::Pay, "{}", a.id);
        let s = a.signals.agreement_clear.as_ref().unwrap();
        assert_eq!(s.value, Some(1.0));
    }
}

#[test]
fn report_is_deterministic_sorted_and_nan_free() {
    let sim = simulate(&SimConfig {
        items: 400,
        seed: 11,
        ..SimConfig::default()
    });
    let ds = sim.to_dataset();
    let a = run(&ds, &Policy::default());
    let b = run(&ds, &Policy::default());
    let ja = serde_json::to_value(&a).unwrap();
    assert_eq!(ja, serde_json::to_value(&b).unwrap());
    let text = ja.to_string();
    assert!(!text.contains("NaN") && !text.contains("inf"));
    for key in [
        "annotators",
        "flags",
        "pairs_of_concern",
        "contested_items",
        "policy",
    ] {
        assert!(ja.get(key).is_some(), "{key}");
    }
    let first = &ja["annotators"][0];
    for key in ["id", "items", "decision", "signals", "flags"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let flag = &ja["flags"][0];
    for key in [
        "annotator",
        "rule",
        "severity",
        "statistic",
        "cohort_reference",
        "threshold",
        "n",
        "p_value",
        "q_value",
        "message",
    ] {
        assert!(flag.get(key).is_some(), "{key}");
    }
    assert!(a
        .annotators
        .windows(2)
        .all(|w| w[0].decision <= w[1].decision));
    assert!(a.flags.iter().all(|f| f.q_value <= a.policy.fdr));
    assert!(a.flags.windows(2).all(|w| w[0].severity > w[1].severity
        || (w[0].severity == w[1].severity && w[0].q_value <= w[1].q_value)));
    // Every held annotator has a hold flag, and decisions follow the flags.
    for r in &a.annotators {
        let worst = a
            .flags
            .iter()
            .filter(|f| f.annotator == r.id)
            .map(|f| f.severity)
            .max();
        match r.decision {
            Decision::Hold => assert_eq!(worst, Some(Severity::Hold)),
            Decision::Review => assert_eq!(worst, Some(Severity::Review)),
            Decision::Pay | Decision::InsufficientEvidence => assert_eq!(worst, None),
        }
    }
}

#[test]
fn every_flag_explains_itself() {
    // Built-in rules format a message only when the gate holds: a raised flag always has one.
    let ds = simulate(&SimConfig {
        items: 600,
        seed: 4,
        ..SimConfig::default()
    })
    .to_dataset();
    let report = run(&ds, &Policy::default());
    let rules: std::collections::BTreeSet<Rule> = report.flags.iter().map(|f| f.rule).collect();
    assert!(rules.len() >= 3, "{rules:?}");
    for f in &report.flags {
        let text = f.message.strip_prefix(&format!("{}: ", f.annotator));
        assert!(text.is_some_and(|t| t.len() > 20), "{f:?}");
    }
}

#[test]
fn rules_turned_off_are_not_tested() {
    let sim = simulate(&SimConfig {
        items: 400,
        seed: 3,
        ..SimConfig::default()
    });
    let ds = sim.to_dataset();
    let full = run(&ds, &Policy::default());
    let mut policy = Policy::default();
    policy.actions.label_bias = Action::Off;
    policy.actions.collusion = Action::Off;
    let fewer = run(&ds, &policy);
    assert!(fewer.tests < full.tests);
    assert!(fewer
        .flags
        .iter()
        .all(|f| f.rule != Rule::LabelBias && f.rule != Rule::Collusion));
    assert!(fewer.pairs_of_concern.is_empty());
}

#[test]
fn model_signals_are_reported_when_the_view_has_them() {
    let sim = simulate(&SimConfig {
        items: 300,
        seed: 5,
        ..SimConfig::default()
    });
    let ds = sim.to_dataset();
    let (loo, share) = leave_one_out_majority(&ds);
    let acc: Vec<f64> = (0..ds.n_annotators()).map(|a| a as f64 / 100.0).collect();
    let spam = vec![f64::NAN; ds.n_annotators()];
    let view = ConsensusView {
        loo_label: &loo,
        loo_share: &share,
        annotator_accuracy: Some(&acc),
        spam_probability: Some(&spam),
    };
    let report = assess(&ds, &view, &Policy::default());
    let w3 = report.annotators.iter().find(|a| a.index == 3).unwrap();
    assert_eq!(
        w3.signals.model_accuracy.as_ref().unwrap().value,
        Some(0.03)
    );
    // A NaN from the model becomes null, never NaN in the JSON.
    assert_eq!(w3.signals.spam_probability.as_ref().unwrap().value, None);
    assert!(serde_json::to_string(&report).is_ok());
}

#[test]
fn empty_and_single_annotator_batches_do_not_panic() {
    let report = run(&Dataset::default(), &Policy::default());
    assert!(report.annotators.is_empty() && report.flags.is_empty());
    let rows: Vec<(String, &str, &str)> = (0..30).map(|i| (format!("{i}"), "solo", "x")).collect();
    let ds = Dataset::from_triples(rows.iter().map(|(i, a, l)| (i.as_str(), *a, *l)));
    let report = run(&ds, &Policy::default());
    assert_eq!(report.annotators.len(), 1);
    assert_eq!(report.annotators[0].decision, Decision::Pay);
    assert!(serde_json::to_string(&report).is_ok());
}

mod properties {
    use proptest::prelude::*;

    use crate::quality::benjamini_hochberg;
    use crate::quality::gold_accuracy::wilson_interval;

    proptest! {
        #[test]
        fn bh_q_values_bound_p_and_keep_order(p in proptest::collection::vec(0.0f64..=1.0, 0..40)) {
            let q = benjamini_hochberg(&p);
            for i in 0..p.len() {
                prop_assert!(q[i] >= p[i] - 1e-15 && q[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] < p[j] {
                        prop_assert!(q[i] <= q[j] + 1e-15);
                    }
                }
            }
        }

        #[test]
        fn wilson_contains_the_estimate(n in 1u64..500, frac in 0.0f64..=1.0) {
            let k = ((n as f64) * frac).round() as u64;
            let [lo, hi] = wilson_interval(k, n, 1.96).unwrap();
            let p = k as f64 / n as f64;
            prop_assert!(lo <= p + 1e-12 && p <= hi + 1e-12 && 0.0 <= lo && hi <= 1.0);
        }
    }
}

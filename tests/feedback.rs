//! Feedback statistics against published worked examples and Python oracles
//! (`fixtures/feedback/*.expected.json`, written by `fixtures/feedback/generate_oracles.py`
//! with pingouin 0.6.1 and scipy 1.12). Values to 1e-9, p-values and CIs to 1e-6; published
//! values to half a unit of their last printed decimal.

use std::path::Path;

use labelaudit::agreement::{compute, AgreementOptions};
use labelaudit::feedback::icc::icc;
use labelaudit::feedback::kendall_w::{
    kendall_tau_b, kendall_w, ranking_agreement, spearman_rho, RankedItem,
};
use labelaudit::feedback::preference::{position_bias, preference_datasets, tie_overuse, Judgment};
use labelaudit::feedback::rubric::{rubric_agreement, RubricAnnotation};
use labelaudit::feedback::stats::binomial_test;
use labelaudit::feedback::Signal;
use labelaudit::Level;
use serde_json::Value;

const VALUE_TOL: f64 = 1e-9;
const P_TOL: f64 = 1e-6;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/feedback")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("valid json")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(f).collect())
        .collect()
}

/// Track and check the largest deviation of one kind.
struct MaxDev(&'static str, f64, f64);

impl MaxDev {
    fn check(&mut self, what: &str, got: f64, want: f64) {
        let d = (got - want).abs();
        assert!(
            d <= self.2,
            "{}: {what}: got {got}, want {want} (|d| = {d:e})",
            self.0
        );
        self.1 = self.1.max(d);
    }
}

impl Drop for MaxDev {
    fn drop(&mut self) {
        eprintln!("max deviation {}: {:e}", self.0, self.1);
    }
}

#[test]
fn icc_matches_published_table4_and_pingouin() {
    let fixture = load("icc.expected.json");
    let mut values = MaxDev("icc value/F", 0.0, VALUE_TOL);
    let mut ps = MaxDev("icc p/CI", 0.0, P_TOL);
    for case in fixture["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let rows: Vec<Vec<Option<f64>>> = case["matrix"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                r.as_array()
                    .expect("row")
                    .iter()
                    .map(Value::as_f64)
                    .collect()
            })
            .collect();
        let r = icc(&rows).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let dropped = case["targets_dropped"].as_u64().unwrap_or(0) as usize;
        assert_eq!(r.targets_dropped, dropped, "{name}");
        if let Some(published) = case["published"].as_object() {
            for (form, want) in published {
                let got = r.get(form).and_then(|x| x.value).expect("value");
                assert!((got - f(want)).abs() <= 0.005, "{name} {form}: {got}");
            }
        }
        for (form, want) in case["pingouin"].as_object().expect("pingouin") {
            let got = r.get(form).unwrap_or_else(|| panic!("{form} missing"));
            let what = format!("{name} {form}");
            values.check(&what, got.value.expect("value"), f(&want["value"]));
            values.check(&what, got.f.expect("F"), f(&want["f"]));
            values.check(&what, got.df1, f(&want["df1"]));
            values.check(&what, got.df2, f(&want["df2"]));
            ps.check(&what, got.p_value.expect("p"), f(&want["p_value"]));
            let ci = got.ci95.expect("ci");
            ps.check(&what, ci[0], f(&want["ci95"][0]));
            ps.check(&what, ci[1], f(&want["ci95"][1]));
        }
    }
}

#[test]
fn kendall_w_matches_published_examples() {
    let fixture = load("kendall_w.expected.json");
    let mut ps = MaxDev("kendall W chi2 p vs scipy", 0.0, P_TOL);
    for case in fixture["w_cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let w = kendall_w(&matrix(&case["ranks"])).unwrap_or_else(|e| panic!("{name}: {e}"));
        let half = 0.5 * 10f64.powi(-(case["published_decimals"].as_i64().unwrap_or(2) as i32));
        assert!(
            (w.w - f(&case["published"]["w"])).abs() <= half,
            "{name}: W = {}",
            w.w
        );
        if let Some(p) = case["published"]["p_value"].as_f64() {
            assert!((w.p_value - p).abs() <= half, "{name}: p = {}", w.p_value);
        }
        if let Some(s) = case["published"]["s"].as_f64() {
            // S recovered from W and the published no-tie denominator m² (n³ − n) / 12.
            let (m, n) = (w.m as f64, w.n as f64);
            assert!((w.w * m * m * (n * n * n - n) / 12.0 - s).abs() < 1e-9);
        }
        ps.check(name, w.p_value, f(&case["scipy_chi2_sf"]));
    }
}

#[test]
fn rank_correlations_match_scipy() {
    let fixture = load("kendall_w.expected.json");
    let mut dev = MaxDev("spearman/tau-b vs scipy", 0.0, VALUE_TOL);
    for (i, c) in fixture["correlations"]
        .as_array()
        .expect("pairs")
        .iter()
        .enumerate()
    {
        let x: Vec<f64> = c["x"].as_array().expect("x").iter().map(f).collect();
        let y: Vec<f64> = c["y"].as_array().expect("y").iter().map(f).collect();
        let (rho, tau) = (spearman_rho(&x, &y), kendall_tau_b(&x, &y));
        match c["spearman"].as_f64() {
            Some(want) => dev.check(&format!("rho #{i}"), rho.expect("rho"), want),
            None => assert!(rho.is_none()),
        }
        match c["kendall_tau_b"].as_f64() {
            Some(want) => dev.check(&format!("tau #{i}"), tau.expect("tau"), want),
            None => assert!(tau.is_none()),
        }
    }
}

#[test]
fn binomial_test_matches_scipy() {
    let fixture = load("binomial.expected.json");
    let mut dev = MaxDev("binomtest p", 0.0, P_TOL);
    for c in fixture["cases"].as_array().expect("cases") {
        let (k, n, p) = (
            c["k"].as_u64().expect("k"),
            c["n"].as_u64().expect("n"),
            f(&c["p"]),
        );
        let b = binomial_test(k, n, p).expect("defined");
        let what = format!("k={k} n={n} p={p}");
        dev.check(&what, b.two_sided, f(&c["two_sided"]));
        dev.check(&what, b.greater, f(&c["greater"]));
        dev.check(&what, b.less, f(&c["less"]));
    }
}

#[test]
fn rubric_dimension_on_shrout_fleiss_matrix() {
    // One rubric dimension holding the Shrout–Fleiss matrix: the agreement engine's
    // interval alpha (reference-values §10: 0.147308) and pingouin's ICC(A,1) / ICC(A,k).
    let fixture = load("icc.expected.json");
    let case = &fixture["cases"][0];
    let anns: Vec<RubricAnnotation> = matrix(&case["matrix"])
        .iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row.iter().enumerate().map(move |(j, &v)| RubricAnnotation {
                item: i as u32,
                annotator: j as u32,
                scores: vec![Some(v)],
            })
        })
        .collect();
    let dims = vec!["score".to_string()];
    let r = rubric_agreement(&anns, &dims, &[], &[], Level::Interval, 0, 0);
    let alpha = r[0].agreement.coefficients.krippendorff_alpha.value;
    assert!((alpha.expect("alpha") - f(&case["krippendorff_alpha_interval"])).abs() < 1e-6);
    let icc21 = r[0].icc_2_1.as_ref().and_then(|x| x.value).expect("icc");
    assert!((icc21 - f(&case["pingouin"]["ICC(2,1)"]["value"])).abs() < VALUE_TOL);
    let icc2k = r[0].icc_2_k.as_ref().and_then(|x| x.value).expect("icc");
    assert!((icc2k - f(&case["pingouin"]["ICC(2,k)"]["value"])).abs() < VALUE_TOL);
}

fn check_cohort_signals(signals: &[Signal], want: &Value, values: &mut MaxDev, ps: &mut MaxDev) {
    let want = want.as_object().expect("per annotator");
    assert_eq!(signals.len(), want.len());
    for s in signals {
        let w = &want[&s.annotator.to_string()];
        let what = format!("{} annotator {}", s.signal, s.annotator);
        assert_eq!(s.n as u64, w["n"].as_u64().expect("n"), "{what}");
        values.check(&what, s.statistic.expect("rate"), f(&w["rate"]));
        values.check(&what, s.expected.expect("expected"), f(&w["expected"]));
        ps.check(&what, s.p_value.expect("p"), f(&w["two_sided"]));
        ps.check(&what, s.p_value_one_sided.expect("p"), f(&w["greater"]));
    }
}

#[test]
fn preference_signals_and_datasets_match_oracles() {
    let fixture = load("preference.expected.json");
    let judgments: Vec<Judgment> = fixture["judgments"]
        .as_array()
        .expect("judgments")
        .iter()
        .map(|j| Judgment {
            item: j[0].as_u64().expect("item") as u32,
            annotator: j[1].as_u64().expect("annotator") as u32,
            strength: j[2].as_i64().expect("strength") as i8,
            a_shown_first: j[3].as_bool(),
        })
        .collect();
    let mut values = MaxDev("preference rate/expected", 0.0, VALUE_TOL);
    let mut ps = MaxDev("preference binomial p", 0.0, P_TOL);
    let pos = position_bias(&judgments);
    check_cohort_signals(&pos, &fixture["position_bias"], &mut values, &mut ps);
    assert!(
        pos[0].p_value.is_some_and(|p| p < 1e-6),
        "biased annotator 0"
    );
    let ties = tie_overuse(&judgments);
    check_cohort_signals(&ties, &fixture["tie_overuse"], &mut values, &mut ps);
    assert!(
        ties[5].p_value_one_sided.is_some_and(|p| p < 1e-6),
        "tie lover 5"
    );

    let (choice, strength) = preference_datasets(&judgments, &[], &[]);
    let alpha = |ds, level| {
        let opts = AgreementOptions {
            level,
            min_shared: 1,
            bootstrap: 0,
            seed: 0,
        };
        compute(ds, &opts)
            .coefficients
            .krippendorff_alpha
            .value
            .expect("alpha")
    };
    let mut dev = MaxDev("preference alpha vs krippendorff", 0.0, VALUE_TOL);
    dev.check(
        "choice nominal",
        alpha(&choice, Level::Nominal),
        f(&fixture["krippendorff_alpha_choice_nominal"]),
    );
    dev.check(
        "strength ordinal",
        alpha(&strength, Level::Ordinal),
        f(&fixture["krippendorff_alpha_strength_ordinal"]),
    );
}

#[test]
fn ranking_consensus_and_pairs_match_scipy() {
    let fixture = load("rankings.expected.json");
    let items: Vec<RankedItem> = fixture["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|it| RankedItem {
            annotators: it["annotators"]
                .as_array()
                .expect("annotators")
                .iter()
                .map(|a| a.as_u64().expect("id") as u32)
                .collect(),
            ranks: matrix(&it["ranks"]),
        })
        .collect();
    let r = ranking_agreement(&items);
    let mut dev = MaxDev("ranking LOO / pairwise vs scipy", 0.0, VALUE_TOL);
    let loo = fixture["loo_spearman"].as_object().expect("loo");
    assert_eq!(r.annotators.len(), loo.len());
    for a in &r.annotators {
        let want = f(&loo[&a.annotator.to_string()]);
        dev.check(
            &format!("loo {}", a.annotator),
            a.spearman.expect("rho"),
            want,
        );
    }
    let rho = fixture["pair_spearman"].as_object().expect("pairs");
    let tau = fixture["pair_kendall_tau_b"].as_object().expect("pairs");
    for p in &r.pairs {
        let key = format!("{}-{}", p.a, p.b);
        match rho.get(&key) {
            Some(w) => dev.check(&key, p.spearman.expect("rho"), f(w)),
            None => assert!(p.spearman.is_none(), "{key}"),
        }
        match tau.get(&key) {
            Some(w) => dev.check(&key, p.kendall_tau_b.expect("tau"), f(w)),
            None => assert!(p.kendall_tau_b.is_none(), "{key}"),
        }
    }
    assert!(r.mean_w.is_some_and(|w| (0.0..=1.0).contains(&w)));
}

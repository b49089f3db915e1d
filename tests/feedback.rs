//! Feedback statistics against published worked examples and Python oracles
//! (`fixtures/feedback/*.expected.json`, written by `fixtures/feedback/generate_oracles.py`
//! with pingouin 0.6.1 and scipy 1.12). Values to 1e-9, p-values and CIs to 1e-6; published
//! values to half a unit of their last printed decimal.

use std::path::Path;

use labelaudit::feedback::icc::icc;
use labelaudit::feedback::kendall_w::{kendall_tau_b, kendall_w, spearman_rho};
use labelaudit::feedback::rubric::{rubric_agreement, RubricAnnotation};
use labelaudit::feedback::stats::binomial_test;
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
        let rows: Vec<Vec<Option<f64>>> = matrix(&case["matrix"])
            .into_iter()
            .map(|r| r.into_iter().map(Some).collect())
            .collect();
        let r = icc(&rows).unwrap_or_else(|e| panic!("{name}: {e:?}"));
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

//! Agreement coefficients against published values (`fixtures/reference/*.expected.json`,
//! transcribed from /work/shared/reference-values.md by `expected_reference.py`) and against
//! the Python oracles (`fixtures/reference/random/*.expected.json`, written by
//! `generate_random.py` with irrCAC, krippendorff, statsmodels and scikit-learn).

use std::path::{Path, PathBuf};

use labelaudit::agreement::{cohen_kappa, compute, AgreementOptions, KappaWeights};
use labelaudit::dataset::{DatasetBuilder, Row};
use labelaudit::{Dataset, Level};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference")
}

fn read_triples(path: &Path) -> Vec<(String, String, String)> {
    let mut rdr = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    rdr.records()
        .map(|r| {
            let r = r.expect("csv record");
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect()
}

fn build(triples: &[(String, String, String)], order: Option<Vec<String>>) -> Dataset {
    let it = triples
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()));
    match order {
        None => Dataset::from_triples(it),
        Some(order) => {
            // A user `--order` (the published category order of a weighted case).
            let mut b = DatasetBuilder::default();
            for (item, annotator, label) in it {
                b.push(Row {
                    item,
                    annotator,
                    label,
                    ..Row::default()
                });
            }
            b.build(Some(&order)).expect("order lists every label")
        }
    }
}

fn level_of(s: &str) -> Level {
    match s {
        "nominal" => Level::Nominal,
        "ordinal" => Level::Ordinal,
        "interval" => Level::Interval,
        "ratio" => Level::Ratio,
        other => panic!("unknown level {other}"),
    }
}

fn report(ds: &Dataset, level: Level, min_shared: usize) -> Value {
    let opts = AgreementOptions {
        level,
        min_shared,
        bootstrap: 0,
        seed: 0,
    };
    serde_json::to_value(compute(ds, &opts)).expect("report serialises")
}

/// Resolve `a.b.c` in the report; arrays `per_label` / `pairs` are keyed by label / "a|b".
fn lookup(v: &Value, path: &str) -> Option<f64> {
    let mut cur = v;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        cur = match (p, cur) {
            ("per_label", _) => {
                let key = parts.next()?;
                cur["per_label"]
                    .as_array()?
                    .iter()
                    .find(|x| x["label"] == key)?
            }
            ("pairs", _) => {
                let (a, b) = parts.next()?.split_once('|')?;
                cur["pairs"]
                    .as_array()?
                    .iter()
                    .find(|x| x["a"] == a && x["b"] == b)?
            }
            (_, Value::Array(arr)) => arr.get(p.parse::<usize>().ok()?)?,
            _ => cur.get(p)?,
        };
    }
    cur.as_f64()
}

/// `cohen2.<weights>.<field>`: Cohen's kappa of the dataset's first two annotators.
fn cohen2(ds: &Dataset, level: Level, weights: &str, field: &str) -> Option<f64> {
    let (mut la, mut lb) = (Vec::new(), Vec::new());
    for i in 0..ds.n_items() {
        let (ann, lab) = (ds.item_annotators(i), ds.item_labels(i));
        let x = ann.iter().position(|&a| a == 0);
        let y = ann.iter().position(|&a| a == 1);
        if let (Some(x), Some(y)) = (x, y) {
            la.push(lab[x]);
            lb.push(lab[y]);
        }
    }
    // Every label of these fixtures is used, so label id = rank among used categories.
    let scores: Vec<f64> = match (level, &ds.label_values) {
        (Level::Interval | Level::Ratio, Some(v)) => v.clone(),
        _ => (0..ds.n_labels()).map(|r| r as f64).collect(),
    };
    let w = match weights {
        "unweighted" => KappaWeights::Unweighted,
        "linear" => KappaWeights::Linear(&scores),
        "quadratic" => KappaWeights::Quadratic(&scores),
        other => panic!("unknown weights {other}"),
    };
    let k = cohen_kappa(&la, &lb, w);
    let z975 = 1.959_963_984_540_054;
    match field {
        "value" => k.value,
        "se" => k.se,
        "se0" => k.se0,
        "z" => k.z,
        "p_value" => k.p_value,
        "po" => k.po,
        "pe" => k.pe,
        "ci_lo" => Some(k.value? - z975 * k.se?),
        "ci_hi" => Some(k.value? + z975 * k.se?),
        other => panic!("unknown field {other}"),
    }
}

#[test]
fn published_reference_cases() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".expected.json").map(String::from))
        .collect();
    names.sort();
    assert!(names.len() >= 11, "missing reference fixtures: {names:?}");
    let mut failures = Vec::new();
    let mut n_checks = 0;
    let mut worst = 0.0f64;
    for name in &names {
        let dir = fixtures();
        let exp: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).expect("json"),
        )
        .expect("valid json");
        let order = exp["order"].as_array().map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        });
        let ds = build(&read_triples(&dir.join(format!("{name}.csv"))), order);
        let case_level = exp["level"].as_str().unwrap_or("nominal");
        let min_shared = exp["min_shared"].as_u64().unwrap_or(1) as usize;
        for chk in exp["checks"].as_array().expect("checks") {
            let level = level_of(chk["level"].as_str().unwrap_or(case_level));
            let path = chk["path"].as_str().expect("path");
            let expected =
                chk["expected"].as_f64().expect("expected") * chk["scale"].as_f64().unwrap_or(1.0);
            let tol = chk["tol"].as_f64().expect("tol");
            let got = match path.strip_prefix("cohen2.") {
                Some(rest) => {
                    let (w, f) = rest.split_once('.').expect("cohen2.<w>.<field>");
                    cohen2(&ds, level, w, f)
                }
                None => lookup(&report(&ds, level, min_shared), path),
            };
            n_checks += 1;
            match got {
                Some(g) if (g - expected).abs() <= tol => {
                    if tol > 0.0 {
                        let r = (g - expected).abs() / tol;
                        worst = worst.max(r);
                    }
                }
                other => failures.push(format!(
                    "{name} [{}] {path}: expected {expected} ± {tol}, got {other:?}",
                    level.name()
                )),
            }
        }
    }
    assert!(n_checks > 150, "only {n_checks} checks ran");
    eprintln!("published cases: {n_checks} checks, worst |diff|/tol {worst:.3}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

thread_local! {
    /// Largest |ours − oracle| seen, for values (tol 1e-9) and for SE/CI/p (tol 1e-6).
    static MAX_DIFF: std::cell::Cell<(f64, f64)> = const { std::cell::Cell::new((0.0, 0.0)) };
}

fn close(got: &Value, exp: &Value, tol: f64) -> bool {
    match (got.as_f64(), exp.as_f64()) {
        (Some(g), Some(e)) => {
            let d = (g - e).abs();
            MAX_DIFF.with(|m| {
                let (v, s) = m.get();
                m.set(if tol < 1e-7 {
                    (v.max(d), s)
                } else {
                    (v, s.max(d))
                });
            });
            d <= tol
        }
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn random_datasets_match_python_oracles() {
    let dir = fixtures().join("random");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("random fixtures dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".expected.json").map(String::from))
        .collect();
    names.sort();
    assert!(
        names.len() >= 12,
        "expected 12 random fixtures, got {}",
        names.len()
    );
    let mut failures = Vec::new();
    let mut fail = |msg: String| failures.push(msg);
    for name in &names {
        let exp: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).expect("json"),
        )
        .expect("valid json");
        let ds = build(&read_triples(&dir.join(format!("{name}.csv"))), None);
        let level = level_of(exp["level"].as_str().expect("level"));
        let min_shared = exp["min_shared"].as_u64().expect("min_shared") as usize;
        let rep = report(&ds, level, min_shared);
        let co = &rep["coefficients"];
        for (coef, e) in exp["coefficients"].as_object().expect("coefficients") {
            let g = &co[coef];
            let checks = [
                ("value", &g["value"], 1e-9),
                ("se", &g["se"], 1e-6),
                ("ci_lo", &g["ci95"][0], 1e-6),
                ("ci_hi", &g["ci95"][1], 1e-6),
                ("p_value", &g["p_value"], 1e-6),
            ];
            for (field, got, tol) in checks {
                if !close(got, &e[field], tol) {
                    fail(format!(
                        "{name} {coef}.{field}: expected {} got {got}",
                        e[field]
                    ));
                }
            }
        }
        let alpha = &co["krippendorff_alpha"]["value"];
        if !close(alpha, &exp["krippendorff_alpha"], 1e-9) {
            fail(format!(
                "{name} alpha: expected {} got {alpha}",
                exp["krippendorff_alpha"]
            ));
        }
        // irrCAC's weighted alpha equals Krippendorff's at nominal (identity) and interval
        // (quadratic = squared-difference metric); not at ordinal or ratio.
        if matches!(level, Level::Nominal | Level::Interval)
            && !close(alpha, &exp["irrcac_alpha_weighted"], 1e-9)
        {
            fail(format!(
                "{name} alpha vs irrCAC: {}",
                exp["irrcac_alpha_weighted"]
            ));
        }
        if level == Level::Nominal && !exp["statsmodels_fleiss_kappa"].is_null() {
            let g = &co["fleiss_kappa"]["value"];
            if !close(g, &exp["statsmodels_fleiss_kappa"], 1e-9) {
                fail(format!("{name} fleiss vs statsmodels: {g}"));
            }
        }
        let per = rep["per_label"].as_array().expect("per_label");
        for e in exp["per_label"].as_array().expect("per_label") {
            let Some(g) = per.iter().find(|g| g["label"] == e["label"]) else {
                fail(format!("{name} label {} missing", e["label"]));
                continue;
            };
            // `kappa` (statsmodels, complete data) and `kappa_irrcac` (irrCAC on the binary
            // recoding, any data) are both oracles of our per-label kappa.
            for (f, ours) in [
                ("specific_agreement", "specific_agreement"),
                ("kappa", "kappa"),
                ("kappa_irrcac", "kappa"),
            ] {
                let got = &g[ours];
                if e.get(f).is_some() && !close(got, &e[f], 1e-9) {
                    fail(format!(
                        "{name} per_label {} {f}: expected {} got {}",
                        e["label"], e[f], got
                    ));
                }
            }
        }
        let got_pairs = rep["pairs"].as_array().expect("pairs");
        let exp_pairs = exp["pairs"].as_array().expect("pairs");
        if got_pairs.len() != exp_pairs.len() {
            fail(format!(
                "{name}: {} pairs, expected {}",
                got_pairs.len(),
                exp_pairs.len()
            ));
        }
        for (g, e) in got_pairs.iter().zip(exp_pairs) {
            if g["a"] != e["a"] || g["b"] != e["b"] || g["shared_items"] != e["shared_items"] {
                fail(format!(
                    "{name}: pair {} {} vs {} {}",
                    g["a"], g["b"], e["a"], e["b"]
                ));
                continue;
            }
            for (f, ev) in e.as_object().expect("pair") {
                if ["a", "b", "shared_items"].contains(&f.as_str()) {
                    continue;
                }
                let tol = if f.ends_with("_se") || f.ends_with("p_value") {
                    1e-6
                } else {
                    1e-9
                };
                if !close(&g[f], ev, tol) {
                    fail(format!(
                        "{name} pair {}|{} {f}: expected {ev} got {}",
                        e["a"], e["b"], g[f]
                    ));
                }
            }
        }
    }
    let (dv, ds) = MAX_DIFF.with(|m| m.get());
    eprintln!("random fixtures: max |diff| values {dv:e}, SE/CI/p {ds:e}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

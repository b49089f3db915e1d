//! `labelaudit audit` end to end on the shipped example batch, whose annotator roles are
//! known (written by the simulator into `fixtures/example/roles.csv`).

use std::collections::HashMap;

use crate::harness::{fixture, labelaudit};

fn roles() -> HashMap<String, String> {
    let text = std::fs::read_to_string(fixture("example/roles.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let mut f = line.split(',');
            (f.next().unwrap().into(), f.next().unwrap().into())
        })
        .collect()
}

fn audit_json(extra: &[&str]) -> serde_json::Value {
    let annotations = fixture("example/annotations.csv");
    let gold = fixture("example/gold.csv");
    let mut args = vec!["audit", &annotations, "--gold", &gold, "--json"];
    args.extend_from_slice(extra);
    labelaudit(&args).expect_code(0).json()
}

#[test]
fn decisions_follow_the_known_roles() {
    let roles = roles();
    let report = audit_json(&[]);
    for a in report["annotators"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        let decision = a["decision"].as_str().unwrap();
        match roles[id].as_str() {
            "honest" | "honest_ambiguous" => assert_eq!(decision, "pay", "{id}: {a}"),
            "uniform_spammer" | "straight_liner" | "fast_clicker" | "label_swapper" => {
                assert_eq!(decision, "hold", "{id}: {a}")
            }
            "colluder" | "biased" => assert_eq!(decision, "review", "{id}: {a}"),
            other => panic!("unknown role {other}"),
        }
    }
}

#[test]
fn report_has_the_documented_top_level_keys() {
    let report = audit_json(&[]);
    for key in [
        "schema_version",
        "tool",
        "input",
        "agreement",
        "consensus",
        "annotators",
        "flags",
        "pairs_of_concern",
        "policy",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["input"]["annotations"], 5000);
    assert_eq!(report["consensus"]["method"], "dawid-skene");
    let flag = &report["flags"][0];
    for key in [
        "annotator",
        "rule",
        "severity",
        "statistic",
        "threshold",
        "n",
        "p_value",
        "q_value",
        "message",
    ] {
        assert!(flag.get(key).is_some(), "flag lacks {key}: {flag}");
    }
}

#[test]
fn same_bytes_for_any_thread_count() {
    let annotations = fixture("example/annotations.csv");
    let gold = fixture("example/gold.csv");
    let run = |threads: &str| {
        labelaudit(&[
            "audit",
            &annotations,
            "--gold",
            &gold,
            "--json",
            "--threads",
            threads,
        ])
        .expect_code(0)
        .stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}

#[test]
fn fail_on_hold_exits_3() {
    let annotations = fixture("example/annotations.csv");
    let run = labelaudit(&["audit", &annotations, "--fail-on-hold"]).expect_code(3);
    assert!(run.stdout.contains("Decisions:"), "{}", run.stdout);
}

#[test]
fn bad_policy_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "fdr = 0.05\nno_such_key = 1\n").unwrap();
    let annotations = fixture("example/annotations.csv");
    let run =
        labelaudit(&["audit", &annotations, "--policy", policy.to_str().unwrap()]).expect_code(2);
    assert!(run.stderr.contains("no_such_key"), "{}", run.stderr);
}

#[test]
fn shipped_policy_file_parses_and_matches_the_defaults() {
    let with_file = audit_json(&["--policy", &fixture("policy.toml")]);
    let defaults = audit_json(&[]);
    assert_eq!(with_file["policy"], defaults["policy"]);
}

#[test]
fn mace_spam_probability_is_opt_in() {
    let spam_of = |report: &serde_json::Value| -> Vec<Option<f64>> {
        report["annotators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["signals"]["spam_probability"]["value"].as_f64())
            .collect()
    };
    let plain = audit_json(&[]);
    assert!(spam_of(&plain).iter().all(Option::is_none));
    let with_mace = audit_json(&["--mace"]);
    let spam = spam_of(&with_mace);
    assert!(spam
        .iter()
        .all(|p| p.is_some_and(|p| (0.0..=1.0).contains(&p))));
    // The known spammers look like spammers to MACE; decisions do not depend on it.
    let roles = roles();
    for (a, p) in with_mace["annotators"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&spam)
    {
        let id = a["id"].as_str().unwrap();
        if roles[id] == "uniform_spammer" {
            assert!(p.unwrap() > 0.5, "{id}: {p:?}");
        }
    }
    let decisions = |r: &serde_json::Value| -> Vec<String> {
        r["annotators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["decision"].to_string())
            .collect()
    };
    assert_eq!(decisions(&plain), decisions(&with_mace));
}

#[test]
fn label_spaces_too_large_for_the_label_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // `labels` items, two annotators each, every item with a label of its own.
    let write = |name: &str, labels: usize| {
        let path = dir.path().join(name);
        let mut csv = String::from("item,annotator,label\n");
        for i in 0..labels {
            csv.push_str(&format!("i{i},a,L{i}\ni{i},b,L{i}\n"));
        }
        std::fs::write(&path, csv).unwrap();
        path.to_str().unwrap().to_string()
    };
    let too_many = write("many.csv", labelaudit::run::MAX_LABELS + 1);
    for command in ["audit", "agreement", "consensus"] {
        let run = labelaudit(&[command, &too_many]).expect_code(1);
        let want = format!(
            "many.csv: expected at most {} distinct labels for a classification audit, found {}",
            labelaudit::run::MAX_LABELS,
            labelaudit::run::MAX_LABELS + 1
        );
        assert!(run.stderr.contains(&want), "{command}: {}", run.stderr);
    }
    // At the limit, the batch is read and aggregated.
    let at_limit = write("limit.csv", labelaudit::run::MAX_LABELS);
    labelaudit(&["consensus", "--method", "majority-vote", &at_limit]).expect_code(0);
}

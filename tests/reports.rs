//! Exports and dispute packets end to end: `--export-*` flags, `-` to stdout, the CSV
//! layout, the HTML structure without a browser, escaping of hostile ids, and `explain` on
//! the example batch whose roles are known.

use std::collections::HashSet;

use crate::harness::{fixture, labelaudit};

fn example() -> (String, String) {
    (
        fixture("example/annotations.csv"),
        fixture("example/gold.csv"),
    )
}

/// Tags opened and closed in order, void elements and `<x/>` aside; no external reference,
/// no script. Returns the ids of the `<section>`s.
pub fn check_html(html: &str) -> Vec<String> {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];
    assert!(html.starts_with("<!DOCTYPE html>"), "no doctype");
    let lower = html.to_ascii_lowercase();
    for banned in [
        "http:", "https:", "src=", "<script", "<link", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "HTML contains {banned:?}");
    }
    let mut stack: Vec<String> = Vec::new();
    let mut sections = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').expect("unterminated tag");
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name == "section" {
            if let Some(id) = tag.split("id=\"").nth(1).and_then(|s| s.split('"').next()) {
                sections.push(id.to_string());
            }
        }
        if !(tag.ends_with('/') || VOID.contains(&name.as_str())) {
            stack.push(name);
        }
        // Text between tags must not hold a raw '>' that would betray an unescaped tag.
        let text_end = rest.find('<').unwrap_or(rest.len());
        assert!(
            !rest[..text_end].contains('>'),
            "raw '>' in text: {}",
            &rest[..text_end]
        );
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    sections
}

#[test]
fn several_exports_in_one_run() {
    let (annotations, gold) = example();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (json, csv, md, html) = (path("a.json"), path("a.csv"), path("a.md"), path("a.html"));
    let run = labelaudit(&[
        "audit",
        &annotations,
        "--gold",
        &gold,
        "--export-json",
        &json,
        "--export-csv",
        &csv,
        "--export-markdown",
        &md,
        "--export-html",
        &html,
    ])
    .expect_code(0);
    // The terminal scorecard still goes to stdout when no export claims it.
    assert!(run.stdout.contains("Decisions:"), "{}", run.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["input"]["annotations"], 5000);
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .starts_with("# Audit report"));
    let sections = check_html(&std::fs::read_to_string(&html).unwrap());
    for id in [
        "summary",
        "coefficients",
        "per-label",
        "pairwise-kappa",
        "scatter",
        "signals",
        "flags",
        "annotators",
        "confusion",
    ] {
        assert!(
            sections.iter().any(|s| s == id),
            "missing section {id}: {sections:?}"
        );
    }
    // One CSV row per annotator, a header naming every signal with its n and p.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    for col in [
        "annotator",
        "decision",
        "flags",
        "agreement_clear",
        "agreement_clear_n",
        "agreement_clear_p",
        "gold_accuracy",
        "kappa_clear",
        "fast_share",
        "median_duration_s",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "no column {col}: {header:?}"
        );
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 50);
    let ids: HashSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len(), 50);
    assert!(rows.iter().any(|r| &r[0] == "w17" && &r[2] == "hold"));
}

#[test]
fn dash_writes_to_stdout_instead_of_the_tables() {
    let (annotations, _) = example();
    let run = labelaudit(&["agreement", &annotations, "--export-csv", "-"]).expect_code(0);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("coefficient,value,se,ci95_low,ci95_high,p_value,n_items,status,reason")
    );
    assert!(run.stdout.contains("\nfleiss_kappa,"), "{}", run.stdout);
    assert!(!run.stdout.contains('┌'), "tables printed too");
    let both = labelaudit(&[
        "agreement",
        &annotations,
        "--export-csv",
        "-",
        "--export-json",
        "-",
    ]);
    let both = both.expect_code(2);
    assert!(both.stderr.contains("only one export"), "{}", both.stderr);
}

#[test]
fn export_failures_leave_inputs_and_targets_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a.csv");
    std::fs::copy(fixture("small/annotations.csv"), &data).unwrap();
    let data = data.display().to_string();
    let before = std::fs::read(&data).unwrap();
    let run = labelaudit(&["audit", &data, "--export-csv", &data]).expect_code(2);
    assert!(
        run.stderr.contains("refusing to overwrite an input"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&data).unwrap(), before);
    let missing = dir.path().join("no/such/dir/r.html").display().to_string();
    let run = labelaudit(&["audit", &data, "--export-html", &missing]).expect_code(1);
    assert!(run.stderr.contains("r.html"), "{}", run.stderr);
    // Nothing but the input is left in the folder (no stray temporary file).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn exports_are_identical_for_any_thread_count() {
    let (annotations, gold) = example();
    let run = |args: &[&str], threads: &str| {
        let mut all = args.to_vec();
        all.extend(["--gold", &gold, "--threads", threads]);
        labelaudit(&all).expect_code(0).stdout
    };
    for args in [
        [
            "explain",
            &annotations,
            "--annotator",
            "w07",
            "--export-html",
            "-",
        ],
        [
            "explain",
            &annotations,
            "--annotator",
            "w07",
            "--export-json",
            "-",
        ],
        [
            "audit",
            &annotations,
            "--bootstrap",
            "50",
            "--export-html",
            "-",
        ],
        [
            "audit",
            &annotations,
            "--bootstrap",
            "50",
            "--export-csv",
            "-",
        ],
    ] {
        assert_eq!(run(&args, "1"), run(&args, "2"), "{args:?}");
    }
}

#[test]
fn explain_and_agreement_html_have_their_sections() {
    let (annotations, gold) = example();
    let html = labelaudit(&[
        "explain",
        &annotations,
        "--gold",
        &gold,
        "--annotator",
        "w17",
        "--export-html",
        "-",
    ])
    .expect_code(0)
    .stdout;
    let sections = check_html(&html);
    assert_eq!(
        sections,
        [
            "summary",
            "provenance",
            "flags",
            "sensitivity",
            "evidence",
            "policy"
        ]
    );
    let html = labelaudit(&[
        "agreement",
        &annotations,
        "--bootstrap",
        "50",
        "--export-html",
        "-",
    ])
    .expect_code(0)
    .stdout;
    assert_eq!(
        check_html(&html),
        ["summary", "coefficients", "per-label", "pairwise-kappa"]
    );
}

#[test]
fn hostile_ids_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a.csv");
    let mut text = String::from("item,annotator,label\n");
    let names = ["<script>", "a&b", "\"q\"", "x|y"];
    for i in 0..30 {
        for (k, name) in names.iter().enumerate() {
            let label = if k == 0 && i % 3 == 0 { "<b>" } else { "ok" };
            let quoted = name.replace('"', "\"\"");
            text.push_str(&format!("i{i},\"{quoted}\",{label}\n"));
        }
    }
    std::fs::write(&data, text).unwrap();
    let data = data.display().to_string();
    for args in [
        vec!["audit", &data, "--export-html", "-"],
        vec![
            "explain",
            &data,
            "--annotator",
            "<script>",
            "--export-html",
            "-",
        ],
    ] {
        let html = labelaudit(&args).expect_code(0).stdout;
        check_html(&html);
        assert!(html.contains("&lt;script&gt;"), "id not shown escaped");
        assert!(html.contains("a&amp;b") && html.contains("&lt;b&gt;"));
    }
    let md = labelaudit(&["audit", &data, "--export-markdown", "-"])
        .expect_code(0)
        .stdout;
    assert!(md.contains("\\<script\\>") && md.contains("x\\|y"), "{md}");
    let csv = labelaudit(&["audit", &data, "--export-csv", "-"])
        .expect_code(0)
        .stdout;
    assert!(csv.contains("\"\"\"q\"\"\""), "{csv}");
}

#[test]
fn spammer_packet_has_flags_evidence_and_sensitivity() {
    let (annotations, gold) = example();
    let run = labelaudit(&[
        "explain",
        &annotations,
        "--gold",
        &gold,
        "--annotator",
        "w17",
        "--json",
    ])
    .expect_code(0);
    let p = run.json();
    assert_eq!(p["annotator"]["id"], "w17");
    assert_eq!(p["annotator"]["decision"], "hold");
    let rules: Vec<&str> = p["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"random_clicking"), "{rules:?}");
    for f in p["flags"].as_array().unwrap() {
        for key in [
            "statistic",
            "threshold",
            "n",
            "p_value",
            "q_value",
            "explanation",
            "message",
        ] {
            assert!(!f[key].is_null(), "flag lacks {key}: {f}");
        }
    }
    let items = p["evidence"]["items"].as_array().unwrap();
    assert!(items.len() > 20, "{}", items.len());
    let first = &items[0];
    for key in [
        "item",
        "label",
        "consensus",
        "consensus_confidence",
        "others",
        "duration_s",
        "contested",
    ] {
        assert!(first.get(key).is_some(), "evidence lacks {key}: {first}");
    }
    let scenarios: Vec<&str> = p["sensitivity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        scenarios,
        [
            "without_contested_items",
            "thresholds_lenient",
            "thresholds_strict",
            "consensus_majority_vote"
        ]
    );
    for s in p["sensitivity"].as_array().unwrap() {
        assert_eq!(
            s["original_flags_hold"].as_array().unwrap().len(),
            rules.len()
        );
    }
    assert_eq!(p["provenance"]["files"].as_array().unwrap().len(), 2);
    assert_eq!(p["provenance"]["policy_sha256"].as_str().unwrap().len(), 64);
    assert!(p["provenance"]["command"]
        .as_str()
        .unwrap()
        .contains("--annotator w17"));

    // The default text carries the same content.
    let text = labelaudit(&[
        "explain",
        &annotations,
        "--gold",
        &gold,
        "--annotator",
        "w17",
    ])
    .expect_code(0)
    .stdout;
    for needle in [
        "**Decision: hold**",
        "`random_clicking`",
        "## Sensitivity",
        "## Evidence",
        "SHA-256",
        "rerun: `labelaudit explain",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
}

#[test]
fn honest_packet_says_pay_with_no_flags() {
    let (annotations, gold) = example();
    let p = labelaudit(&[
        "explain",
        &annotations,
        "--gold",
        &gold,
        "--annotator",
        "w00",
        "--json",
    ])
    .expect_code(0)
    .json();
    assert_eq!(p["annotator"]["decision"], "pay");
    assert!(p["flags"].as_array().unwrap().is_empty());
    let text = labelaudit(&[
        "explain",
        &annotations,
        "--gold",
        &gold,
        "--annotator",
        "w00",
    ])
    .expect_code(0)
    .stdout;
    assert!(
        text.contains("**Decision: pay**") && text.contains("No flag was raised"),
        "{text}"
    );
}

#[test]
fn unknown_annotator_names_the_closest() {
    let (annotations, _) = example();
    let run = labelaudit(&["explain", &annotations, "--annotator", "w7"]).expect_code(1);
    assert_eq!(
        run.stderr.trim(),
        r#"error: annotator "w7" not found (50 annotators; closest: "w07", "w17", "w27")"#
    );
}

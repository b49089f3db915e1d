//! Multi-label and span inputs (`fixtures/multilabel/`, written by `make_multilabel.py`):
//! every format gives the same label sets; alpha with MASI / Jaccard distances and per-label
//! binary alpha match nltk / krippendorff; span F1 matches the script's direct computation,
//! whatever the format the spans came in.

use std::collections::BTreeSet;
use std::path::PathBuf;

use labelaudit::agreement::{compute, AgreementOptions};
use labelaudit::ingest::{self, IngestOptions, Loaded};
use labelaudit::Dataset;

use crate::harness::{fixture, labelaudit};

fn load(file: &str) -> Loaded {
    let path = PathBuf::from(fixture(&format!("multilabel/{file}")));
    ingest::load(&[path], &IngestOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// (item, annotator, sorted member names) of every annotation.
fn sets(ds: &Dataset) -> BTreeSet<(String, String, Vec<String>)> {
    let sets = ds.label_sets.as_ref().expect("label sets");
    let items = ds.annotation_items();
    (0..ds.n_annotations())
        .map(|p| {
            let mut names: Vec<String> = sets
                .set(p)
                .iter()
                .map(|&m| sets.names[m as usize].clone())
                .collect();
            names.sort();
            (
                ds.items[items[p] as usize].clone(),
                ds.annotators[ds.annotator[p] as usize].clone(),
                names,
            )
        })
        .collect()
}

fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(fixture("multilabel/expected.json")).expect("expected");
    serde_json::from_str(&text).expect("JSON")
}

fn opts() -> AgreementOptions {
    AgreementOptions {
        bootstrap: 0,
        ..AgreementOptions::default()
    }
}

fn close(a: Option<f64>, b: &serde_json::Value, what: &str) {
    let b = b
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no oracle value"));
    let a = a.unwrap_or_else(|| panic!("{what}: undefined, expected {b}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} vs oracle {b}");
}

#[test]
fn every_format_gives_the_same_label_sets() {
    let jsonl = load("canonical.jsonl");
    let all = sets(&jsonl.dataset);
    assert_eq!(all.len(), 30);
    // The empty set is an answer ("none of these"), not a skip, and is labelled `[]`.
    let empty: Vec<_> = all.iter().filter(|s| s.2.is_empty()).collect();
    assert_eq!(empty.len(), 2);
    assert!(jsonl.dataset.labels.contains(&"[]".to_string()));
    assert!(jsonl.dataset.labels.contains(&"battery|screen".to_string()));
    assert_eq!(sets(&load("canonical.csv").dataset), all);
    #[cfg(feature = "parquet")]
    assert_eq!(sets(&load("canonical.parquet").dataset), all);
    // Platforms cannot write an empty choice: the same sets minus the two empty ones.
    let non_empty: BTreeSet<_> = all.iter().filter(|s| !s.2.is_empty()).cloned().collect();
    let ls = load("label_studio.json");
    assert_eq!(sets(&ls.dataset), non_empty);
    assert_eq!(ls.skipped_by_reason.get("no_choice"), Some(&2));
    let prodigy = load("prodigy.jsonl");
    assert_eq!(sets(&prodigy.dataset), non_empty);
    assert_eq!(
        prodigy.skipped_by_reason.get("no_option_selected"),
        Some(&2)
    );
}

#[test]
fn set_alpha_and_per_label_alpha_match_nltk_and_krippendorff() {
    let oracle = expected();
    let mut files = vec![("canonical".to_string(), "canonical.jsonl".to_string())];
    files.extend((1..=5).map(|k| (format!("random_{k}"), format!("random_{k}.jsonl"))));
    for (name, file) in files {
        let report = compute(&load(&file).dataset, &opts());
        let ml = report.multilabel.expect("multilabel section");
        let o = &oracle[&name];
        close(
            ml.alpha_masi.value,
            &o["alpha_masi"],
            &format!("{name} masi"),
        );
        close(
            ml.alpha_jaccard.value,
            &o["alpha_jaccard"],
            &format!("{name} jaccard"),
        );
        for l in &ml.per_label {
            close(
                l.krippendorff_alpha.value,
                &o["per_label_alpha"][&l.label],
                &format!("{name} {}", l.label),
            );
        }
    }
}

#[test]
fn spans_give_the_same_f1_in_every_format() {
    let text = std::fs::read_to_string(fixture("multilabel/expected_spans.json")).expect("file");
    let oracle: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for file in [
        "spans.jsonl",
        "label_studio_spans.json",
        "prodigy_spans.jsonl",
    ] {
        let report = compute(&load(file).dataset, &opts());
        let spans = report.spans.expect("spans section");
        close(spans.overall.exact.f1, &oracle["exact_f1"], file);
        close(spans.overall.overlap.f1, &oracle["overlap_f1"], file);
        for a in &spans.annotators {
            close(a.span_f1, &oracle["annotator_exact_f1"][&a.annotator], file);
        }
        // sam's "Ada Lovelace " (trailing space) was trimmed against the item text.
        assert_eq!(spans.spans_trimmed, 1, "{file}");
    }
}

#[test]
fn audit_json_and_table_show_both_sections() {
    let run = labelaudit(&[
        "agreement",
        "--json",
        &fixture("multilabel/canonical.jsonl"),
    ])
    .expect_code(0);
    let v = run.json();
    assert!(
        v["agreement"]["multilabel"]["alpha_masi"]["value"].is_f64(),
        "{v}"
    );
    assert_eq!(
        v["agreement"]["multilabel"]["per_label"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    let table = labelaudit(&["agreement", &fixture("multilabel/spans.jsonl")]).expect_code(0);
    assert!(table.stdout.contains("Span agreement"), "{}", table.stdout);
    let table = labelaudit(&["agreement", &fixture("multilabel/canonical.jsonl")]).expect_code(0);
    assert!(
        table.stdout.contains("Multi-label agreement"),
        "{}",
        table.stdout
    );
}

/// The error of loading `path`; panics when it loads.
#[cfg(feature = "parquet")]
fn load_err(path: PathBuf) -> labelaudit::Error {
    match ingest::load(&[path], &IngestOptions::default()) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_type_errors_name_row_group_row_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.parquet");
    // The fixture batch with its label column cut off: a structural error, not a panic.
    let bytes = std::fs::read(fixture("formats/canonical.parquet")).expect("fixture");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let err = load_err(path);
    assert!(err.to_string().contains("bad.parquet"), "{err}");
    let typed = PathBuf::from(fixture("multilabel/bad_label_type.parquet"));
    let err = load_err(typed).to_string();
    assert!(
        err.contains("row group 0, row 0: column \"label\": expected utf8, int64 or list<utf8>, found double"),
        "{err}"
    );
}

fn load_text(name: &str, text: &str) -> labelaudit::Result<Loaded> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    ingest::load(&[path], &IngestOptions::default())
}

#[test]
fn csv_empty_list_is_an_answer_and_empty_cell_a_skip() {
    let text = "item,annotator,label\n1,a,\"[\"\"x\"\",\"\"y\"\"]\"\n1,b,[]\n1,c,\n2,a,x\n2,b,\"[\"\"x\"\"]\"\n";
    let loaded = load_text("ml.csv", text).unwrap_or_else(|e| panic!("{e}"));
    let ds = &loaded.dataset;
    assert_eq!(ds.n_annotations(), 4);
    assert_eq!(ds.skipped.empty_label, 1);
    assert_eq!(ds.labels, ["[]", "x", "x|y"]);
    // A plain label and a one-element list are the same set.
    let all = sets(ds);
    assert!(all.contains(&("2".into(), "a".into(), vec!["x".into()])));
    assert!(all.contains(&("2".into(), "b".into(), vec!["x".into()])));
    assert!(all.contains(&("1".into(), "b".into(), vec![])));
}

#[test]
fn malformed_lists_and_spans_are_located_errors() {
    let err = |name: &str, text: &str| match load_text(name, text) {
        Ok(_) => panic!("{name}: expected an error"),
        Err(e) => e.to_string(),
    };
    let e = err("bad.csv", "item,annotator,label\n1,a,[x\n");
    assert!(
        e.contains("bad.csv:2: field \"label\": expected a JSON array"),
        "{e}"
    );
    let e = err(
        "bad.jsonl",
        "{\"item\":1,\"annotator\":\"a\",\"label\":[\"x\",{}]}\n",
    );
    assert!(
        e.contains("bad.jsonl:1: field \"label\": expected a list of strings"),
        "{e}"
    );
    let e = err(
        "spans.jsonl",
        "{\"item\":1,\"annotator\":\"a\",\"spans\":[{\"start\":5,\"end\":2,\"label\":\"X\"}]}\n",
    );
    assert!(
        e.contains("spans.jsonl:1: span 5-2 \"X\": expected end >= start"),
        "{e}"
    );
    let e = err(
        "spans2.jsonl",
        "{\"item\":1,\"annotator\":\"a\",\"spans\":[{\"start\":-1,\"end\":2,\"label\":\"X\"}]}\n",
    );
    assert!(
        e.contains("expected a non-negative integer \"start\""),
        "{e}"
    );
}

//! `low_span_f1` end to end: `fixtures/spans/spans.jsonl` (written by `make_spans.py`) has
//! four honest span annotators and one (`rand1`) whose spans are random and misaligned.

use std::path::PathBuf;

use labelaudit::agreement::AgreementOptions;
use labelaudit::consensus::Method;
use labelaudit::ingest::{self, IngestOptions};
use labelaudit::progress::Progress;
use labelaudit::quality::{Policy, Rule};

use crate::harness::{fixture, labelaudit};

#[test]
fn misaligned_spans_are_flagged_and_honest_annotators_are_not() {
    let path = PathBuf::from(fixture("spans/spans.jsonl"));
    let loaded = ingest::load(&[path], &IngestOptions::default()).expect("loads");
    let report = labelaudit::run::audit(
        &loaded,
        &AgreementOptions {
            bootstrap: 0,
            ..AgreementOptions::default()
        },
        &labelaudit::run::ModelSpec {
            method: Method::MajorityVote,
            ..Default::default()
        },
        &Policy::default(),
        &Progress::new(false),
    );
    let q = &report.quality;
    let span_flags: Vec<_> = q
        .flags
        .iter()
        .filter(|f| f.rule == Rule::LowSpanF1)
        .collect();
    assert_eq!(span_flags.len(), 1, "{span_flags:#?}");
    let f = span_flags[0];
    assert_eq!(f.annotator, "rand1");
    let (stat, median) = (f.statistic.unwrap(), f.cohort_reference.unwrap());
    // The honest annotators' F1 also counts their pairs with rand1, hence a median near 0.6.
    assert!(stat < 0.1 && median > 0.5, "{f:#?}");
    assert!((f.threshold.unwrap() - (median - 0.2)).abs() < 1e-12);
    assert_eq!(f.n, 30);
    assert!(f.q_value <= 0.05 && f.message.contains("span F1"), "{f:#?}");
    // The flag's statistic is the span F1 of the agreement section, and each annotator's
    // report entry carries it as the `span_f1` signal.
    let spans = report.agreement.spans.as_ref().expect("spans section");
    for a in &q.annotators {
        let sig = a.signals.span_f1.as_ref().expect("span_f1 signal");
        let from_agreement = spans
            .annotators
            .iter()
            .find(|s| s.annotator == a.id)
            .and_then(|s| s.span_f1);
        assert_eq!(sig.value, from_agreement, "{}", a.id);
        assert_eq!(sig.cohort_median, Some(median));
        if a.id != "rand1" {
            assert!(!a.flags.contains(&Rule::LowSpanF1), "{}", a.id);
            assert!(sig.value.unwrap() > median - 0.2, "{}", a.id);
        }
    }
}

#[test]
fn span_flag_in_the_cli_report_and_off_in_the_policy() {
    let file = fixture("spans/spans.jsonl");
    let v = labelaudit(&["audit", "--json", "--quiet", &file])
        .expect_code(0)
        .json();
    let flagged: Vec<&str> = v["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .filter(|f| f["rule"] == "low_span_f1")
        .map(|f| f["annotator"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(flagged, ["rand1"], "{v}");
    assert!(v["annotators"][0]["signals"]["span_f1"]["value"].is_f64());

    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[actions]\nlow_span_f1 = \"off\"\n").expect("write");
    let v = labelaudit(&[
        "audit",
        "--json",
        "--quiet",
        "--policy",
        policy.to_str().unwrap(),
        &file,
    ])
    .expect_code(0)
    .json();
    assert!(!v["flags"].to_string().contains("low_span_f1"));
}

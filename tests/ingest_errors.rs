//! Bad input: one defect per file in `fixtures/malformed/`, each with its exact message and
//! exit status 1. Nothing panics, nothing is silently dropped.

use crate::harness::{fixture, labelaudit};

fn error_of(file: &str, extra: &[&str]) -> String {
    let path = fixture(&format!("malformed/{file}"));
    let mut args = vec!["agreement", path.as_str()];
    args.extend_from_slice(extra);
    let run = labelaudit(&args).expect_code(1);
    assert!(run.stdout.is_empty(), "no report on error: {}", run.stdout);
    run.stderr.trim_end().replace(&fixture("malformed/"), "")
}

#[test]
fn ragged_row() {
    assert_eq!(
        error_of("ragged_row.csv", &[]),
        "error: ragged_row.csv:3: expected 3 fields (item,annotator,label), found 2"
    );
}

#[test]
fn unterminated_quote() {
    assert_eq!(
        error_of("bad_quoting.csv", &[]),
        "error: bad_quoting.csv:2: field \"label\": expected a single-line value, found a line \
         break (an unterminated quote?)"
    );
}

#[test]
fn invalid_utf8() {
    assert_eq!(
        error_of("invalid_utf8.csv", &[]),
        "error: invalid_utf8.csv:3: field 3: expected UTF-8 text, found invalid byte 0xff"
    );
}

#[test]
fn truncated_json() {
    let err = error_of("truncated.jsonl", &[]);
    assert!(
        err.starts_with(
            "error: truncated.jsonl:2: expected a JSON object, found invalid JSON (EOF while parsing"
        ),
        "{err}"
    );
}

#[test]
fn empty_file() {
    assert_eq!(
        error_of("empty.csv", &[]),
        "error: empty.csv:1: expected a header line with item, annotator and label columns, \
         found an empty file"
    );
}

#[test]
fn header_only() {
    assert_eq!(
        error_of("header_only.csv", &[]),
        "error: header_only.csv: expected at least one annotation, found none"
    );
}

#[test]
fn duplicate_header() {
    assert_eq!(
        error_of("duplicate_header.csv", &[]),
        "error: duplicate_header.csv:1: expected distinct column names, found \"label\" twice \
         (fields 3 and 4)"
    );
}

#[test]
fn duration_overflow() {
    assert_eq!(
        error_of("duration_overflow.csv", &[]),
        "error: duration_overflow.csv:2: field \"duration_s\": expected a number of seconds >= 0, \
         found \"1e999\""
    );
}

#[test]
fn date_in_wrong_format() {
    assert_eq!(
        error_of("date_wrong_format.csv", &[]),
        "error: date_wrong_format.csv:2: field \"submitted_at\": expected an RFC 3339 timestamp \
         like 2024-05-02T10:05:01Z, found \"02/05/2024 10:00\""
    );
}

#[test]
fn empty_annotator_id() {
    assert_eq!(
        error_of("empty_annotator.csv", &[]),
        "error: empty_annotator.csv:3: expected an annotator id, found an empty field"
    );
}

#[test]
fn non_numeric_label_at_interval_level() {
    assert_eq!(
        error_of("non_numeric_interval.csv", &["--level", "interval"]),
        "error: non_numeric_interval.csv:3: field \"label\": expected a number at the interval \
         level, found \"good\""
    );
}

#[test]
fn missing_column() {
    assert_eq!(
        error_of("missing_column.csv", &[]),
        "error: missing_column.csv:1: missing annotator column: expected a column annotator (or \
         annotator_id, worker, worker_id, rater, performer), found columns item,label"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let run = labelaudit(&["agreement", "no/such/file.csv"]).expect_code(1);
    assert!(
        run.stderr.starts_with("error: no/such/file.csv: "),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_error_exits_2() {
    labelaudit(&["agreement"]).expect_code(2);
    labelaudit(&[
        "agreement",
        &fixture("malformed/bom_crlf.csv"),
        "--level",
        "banana",
    ])
    .expect_code(2);
}

#[test]
fn bom_and_crlf_are_read_cleanly() {
    let run =
        labelaudit(&["agreement", &fixture("malformed/bom_crlf.csv"), "--json"]).expect_code(0);
    let report = run.json();
    assert_eq!(report["input"]["annotations"], 2);
    assert_eq!(report["input"]["labels"], serde_json::json!(["x"]));
}

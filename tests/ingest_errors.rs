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

#[test]
fn nul_byte_in_label() {
    assert_eq!(
        error_of("nul_byte.csv", &[]),
        "error: nul_byte.csv:3: field \"label\": expected text without control characters, \
         found U+0000 at character 2"
    );
}

#[test]
fn json_label_that_is_an_object() {
    assert_eq!(
        error_of("label_object.jsonl", &[]),
        "error: label_object.jsonl:2: field \"label\": expected a string or number, found an object"
    );
}

#[test]
fn jsonl_line_over_the_record_limit() {
    assert_eq!(
        error_of("too_long.jsonl", &["--max-record-bytes", "200"]),
        "error: too_long.jsonl:2: expected a record of at most 200 bytes (--max-record-bytes), \
         found 360 bytes"
    );
}

#[test]
fn csv_record_over_the_record_limit() {
    assert_eq!(
        error_of("too_long.csv", &["--max-record-bytes", "200"]),
        "error: too_long.csv:3: expected a record of at most 200 bytes (--max-record-bytes), \
         found 306 bytes"
    );
}

#[test]
fn unterminated_quote_over_the_limit_names_where_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open_quote.csv");
    let mut text = String::from("item,annotator,label\n1,a,\"x\n");
    for i in 0..50 {
        text.push_str(&format!("{i},b,y\n"));
    }
    std::fs::write(&path, text).unwrap();
    let run = labelaudit(&[
        "agreement",
        path.to_str().unwrap(),
        "--max-record-bytes",
        "100",
    ])
    .expect_code(1);
    assert!(
        run.stderr
            .contains("open_quote.csv:2: expected a record of at most 100 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn structural_errors_stop_even_with_skip() {
    for (file, start) in [
        (
            "missing_column.csv",
            "error: missing_column.csv:1: missing annotator column",
        ),
        ("empty.csv", "error: empty.csv:1: expected a header line"),
    ] {
        let err = error_of(file, &["--on-invalid", "skip"]);
        assert!(err.starts_with(start), "{err}");
        assert_eq!(err.lines().count(), 1, "one clear error, not many: {err}");
    }
}

#[test]
fn usage_errors_of_the_new_flags_exit_2() {
    let ok = fixture("malformed/bom_crlf.csv");
    for extra in [
        &["--quarantine", "q.csv"][..],
        &["--on-invalid", "maybe"],
        &["--max-record-bytes", "0"],
        &["--on-invalid", "skip", "--quarantine", "-"],
    ] {
        let mut args = vec!["agreement", ok.as_str()];
        args.extend_from_slice(extra);
        labelaudit(&args).expect_code(2);
    }
    labelaudit(&["agreement", "-", "-"]).expect_code(2);
}

#[test]
fn crlf_files_report_physical_lines() {
    // The csv crate counts one line short after `\r\n`; lines are counted from the bytes.
    assert_eq!(
        error_of("ragged_row_crlf.csv", &[]),
        "error: ragged_row_crlf.csv:3: expected 3 fields (item,annotator,label), found 2"
    );
}

#[test]
fn annotation_error_wins_over_gold_file_error() {
    // The gold file is read beside the annotations, but reported as if read after them.
    let bad_gold = fixture("malformed/ragged_row.csv");
    assert_eq!(
        error_of("invalid_utf8.csv", &["--gold", &bad_gold]),
        "error: invalid_utf8.csv:3: field 3: expected UTF-8 text, found invalid byte 0xff"
    );
    assert_eq!(
        error_of("invalid_utf8.csv", &["--gold", "/nonexistent/gold.csv"]),
        "error: invalid_utf8.csv:3: field 3: expected UTF-8 text, found invalid byte 0xff"
    );
    let good = fixture("small/annotations.csv");
    let run = labelaudit(&["agreement", &good, "--gold", &bad_gold]).expect_code(1);
    assert_eq!(
        run.stderr.trim_end().replace(&fixture("malformed/"), ""),
        "error: ragged_row.csv:3: expected 3 fields (item,annotator,label), found 2"
    );
}

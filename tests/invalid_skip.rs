//! `--on-invalid skip`, the quarantine file, label hygiene, stdin, and outputs that never
//! touch inputs or leave partial files.

use std::fs;

use crate::harness::{fixture, labelaudit};

fn skip_run(file: &str, quarantine: &std::path::Path) -> serde_json::Value {
    let path = fixture(file);
    labelaudit(&[
        "agreement",
        &path,
        "--on-invalid",
        "skip",
        "--quarantine",
        quarantine.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--json",
    ])
    .expect_code(0)
    .json()
}

#[test]
fn skip_counts_by_reason_and_quarantines_the_original_lines() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("quarantine.csv");
    let report = skip_run("malformed/invalid_mixed.csv", &q);
    assert_eq!(report["input"]["annotations"], 5);
    assert_eq!(
        report["input"]["skipped"]["invalid"],
        serde_json::json!({
            "expected 4 fields (item,annotator,label,duration_s)": 1,
            "expected an annotator id": 1,
            "field \"duration_s\": expected a number of seconds >= 0": 2,
        })
    );
    let path = fixture("malformed/invalid_mixed.csv");
    let expected = format!(
        "file,line,reason,record\n\
         {path},3,\"field \"\"duration_s\"\": expected a number of seconds >= 0, found \"\"fast\"\"\",\"1,bob,pos,fast\"\n\
         {path},4,\"expected 4 fields (item,annotator,label,duration_s), found 3\",\"1,cat,neg\"\n\
         {path},6,\"field \"\"duration_s\"\": expected a number of seconds >= 0, found \"\"1e999\"\"\",\"2,bob,neg,1e999\"\n\
         {path},8,\"expected an annotator id, found an empty field\",\"3,,pos,1\"\n"
    );
    assert_eq!(fs::read_to_string(&q).unwrap(), expected);
}

#[test]
fn skip_table_says_what_was_not_used() {
    let run = labelaudit(&[
        "agreement",
        &fixture("malformed/invalid_mixed.csv"),
        "--on-invalid",
        "skip",
        "--bootstrap",
        "0",
    ])
    .expect_code(0);
    assert!(
        run.stdout
            .contains("note: 4 invalid record(s) set aside and not used (--on-invalid skip):"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("  2 × field \"duration_s\": expected a number of seconds >= 0"));
    assert!(run
        .stderr
        .contains("warning: 4 invalid record(s) set aside"));
}

#[test]
fn skip_keeps_exact_bytes_of_jsonl_and_binary_lines() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.csv");
    let report = skip_run("malformed/label_object.jsonl", &q);
    assert_eq!(report["input"]["annotations"], 1);
    let text = fs::read_to_string(&q).unwrap();
    assert!(
        text.ends_with(
            ",2,\"field \"\"label\"\": expected a string or number, found an object\",\
             \"{\"\"item\"\": \"\"1\"\", \"\"annotator\"\": \"\"b\"\", \"\"label\"\": {\"\"name\"\": \"\"x\"\"}}\"\n"
        ),
        "{text}"
    );
    let report = skip_run("malformed/invalid_utf8.csv", &q);
    assert_eq!(
        report["input"]["skipped"]["invalid"]["field 3: expected UTF-8 text"],
        1
    );
    let bytes = fs::read(&q).unwrap();
    assert!(bytes.windows(1).any(|w| w == b"\xff"), "raw byte kept");
}

#[test]
fn everything_invalid_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all_bad.csv");
    fs::write(
        &path,
        "item,annotator,label,duration_s\n1,a,x,-1\n1,b,x,-2\n",
    )
    .unwrap();
    let run =
        labelaudit(&["agreement", path.to_str().unwrap(), "--on-invalid", "skip"]).expect_code(1);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: {}:2: field \"duration_s\": expected a number of seconds >= 0, found \"-1\" \
             (and no record of this file is valid: 2 invalid; wrong format or --from?)",
            path.display()
        )
    );
}

#[test]
fn wrong_from_with_skip_is_one_error_not_a_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.csv");
    let run = labelaudit(&[
        "agreement",
        &fixture("formats/canonical.csv"),
        "--from",
        "jsonl",
        "--on-invalid",
        "skip",
        "--quarantine",
        q.to_str().unwrap(),
    ])
    .expect_code(1);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("wrong format or --from?"),
        "{}",
        run.stderr
    );
    assert!(!q.exists(), "no quarantine of a whole wrong-format file");
}

#[test]
fn label_hygiene_is_reported_not_silent() {
    let run = labelaudit(&[
        "agreement",
        &fixture("formats/label_variants.csv"),
        "--bootstrap",
        "0",
        "--json",
    ])
    .expect_code(0);
    let r = run.json();
    let h = &r["input"]["label_hygiene"];
    assert_eq!(h["values_trimmed"], 2);
    assert_eq!(h["values_nfc_normalized"], 1);
    // Trimming and NFC merge; case does not, and is reported.
    assert_eq!(
        r["input"]["labels"],
        serde_json::json!(["Negative", "Positive", "café", "negative", "positive"])
    );
    let groups = h["case_or_whitespace_variants"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(
        groups[2]["labels"],
        serde_json::json!(["Positive", "positive"])
    );
    assert_eq!(
        groups[2]["spellings"],
        serde_json::json!({"Positive": 1, "positive": 1, "positive ": 1})
    );
    let table = labelaudit(&[
        "agreement",
        &fixture("formats/label_variants.csv"),
        "--bootstrap",
        "0",
    ])
    .expect_code(0)
    .stdout;
    assert!(table.contains(
        "note: labels differ only by case, whitespace or Unicode form, kept as 2 different labels: \
         \"Positive\" (1), \"positive\" (1), \"positive \" (1)"
    ));
}

#[test]
fn stdin_reads_csv_tsv_and_jsonl() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let csv = "item,annotator,label\n1,a,x\n1,b,x\n2,a,y\n2,b,y\n";
    let tsv = csv.replace(',', "\t");
    let jsonl: String = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{{\"item\": \"{}\", \"annotator\": \"{}\", \"label\": \"{}\"}}\n",
                f[0], f[1], f[2]
            )
        })
        .collect();
    for (input, from) in [
        (csv.to_string(), None),
        (tsv, Some("tsv")),
        (jsonl.clone(), None),
        (jsonl, Some("jsonl")),
    ] {
        let mut args = vec!["agreement", "-", "--json", "--bootstrap", "0"];
        if let Some(f) = from {
            args.extend(["--from", f]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_labelaudit"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["input"]["annotations"], 4, "{from:?}");
    }
}

#[test]
fn inputs_are_never_modified_or_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    fs::copy(fixture("malformed/invalid_mixed.csv"), &input).unwrap();
    let before = fs::read(&input).unwrap();
    let run = labelaudit(&[
        "agreement",
        input.to_str().unwrap(),
        "--on-invalid",
        "skip",
        "--quarantine",
        input.to_str().unwrap(),
    ])
    .expect_code(2);
    assert!(run.stderr.contains("is also an input"), "{}", run.stderr);
    skip_run_at(&input, &dir.path().join("q.csv"));
    assert_eq!(fs::read(&input).unwrap(), before);
}

fn skip_run_at(input: &std::path::Path, q: &std::path::Path) {
    labelaudit(&[
        "agreement",
        input.to_str().unwrap(),
        "--on-invalid",
        "skip",
        "--quarantine",
        q.to_str().unwrap(),
        "--bootstrap",
        "0",
    ])
    .expect_code(0);
}

#[test]
fn unwritable_quarantine_fails_cleanly_without_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_dir").join("q.csv");
    let run = labelaudit(&[
        "agreement",
        &fixture("malformed/invalid_mixed.csv"),
        "--on-invalid",
        "skip",
        "--quarantine",
        missing.to_str().unwrap(),
    ])
    .expect_code(1);
    assert!(
        run.stderr
            .starts_with(&format!("error: {}: ", missing.display())),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no report without its quarantine");

    // A read-only folder: only meaningful when permissions bind (not for root).
    use std::os::unix::fs::PermissionsExt;
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(ro.join("probe"), "x").is_ok() {
        eprintln!("running as root: read-only folder test skipped");
        return;
    }
    let q = ro.join("q.csv");
    labelaudit(&[
        "agreement",
        &fixture("malformed/invalid_mixed.csv"),
        "--on-invalid",
        "skip",
        "--quarantine",
        q.to_str().unwrap(),
    ])
    .expect_code(1);
    assert_eq!(fs::read_dir(&ro).unwrap().count(), 0, "no partial file");
}

#[test]
fn platform_jsonl_lines_can_be_skipped_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("prodigy.jsonl");
    let mut text = fs::read_to_string(fixture("formats/prodigy.jsonl")).unwrap();
    text.push_str("{\"_view_id\": \"choice\", \"accept\": [\"pos\n");
    fs::write(&input, &text).unwrap();
    let q = dir.path().join("q.csv");
    let report = labelaudit(&[
        "agreement",
        input.to_str().unwrap(),
        "--on-invalid",
        "skip",
        "--quarantine",
        q.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--json",
    ])
    .expect_code(0)
    .json();
    let invalid = &report["input"]["skipped"]["invalid"];
    assert_eq!(invalid.as_object().unwrap().len(), 1, "{invalid}");
    let quarantine = fs::read_to_string(&q).unwrap();
    assert!(
        quarantine.contains(",37,\"expected a JSON object, found invalid JSON (EOF while parsing"),
        "{quarantine}"
    );
    assert!(
        quarantine.ends_with("\"{\"\"_view_id\"\": \"\"choice\"\", \"\"accept\"\": [\"\"pos\"\n")
    );
}

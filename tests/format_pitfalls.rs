//! One test per pitfall of `shared/formats.md` §10 that applies to the platform readers,
//! plus options (`--item-col`, `--from`) and refusals of what is not supported yet.

use std::collections::BTreeMap;

use labelaudit::ingest::{self, ColumnOverrides, Format, IngestOptions, Loaded};
use labelaudit::Result;

use crate::harness::{fixture, labelaudit};

/// Load `text` saved as `name` (the extension matters for detection).
fn load_text(name: &str, text: &str, opts: &IngestOptions) -> Result<Loaded> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    ingest::load(&[path], opts)
}

fn ok(name: &str, text: &str) -> Loaded {
    load_text(name, text, &IngestOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(name: &str, text: &str) -> String {
    let e = load_text(name, text, &IngestOptions::default()).expect_err("an error");
    // Drop the temp dir from the message: keep "NAME:LINE: …".
    let s = e.to_string();
    s[s.find(name).unwrap_or(0)..].to_string()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|&(k, n)| (k.to_string(), n)).collect()
}

fn ls_task(id: u64, annotations: &str) -> String {
    format!("{{\"id\": {id}, \"data\": {{\"text\": \"t{id}\"}}, \"annotations\": [{annotations}]}}")
}

fn ls_annotation(completed_by: &str, choice: &str, extra: &str) -> String {
    format!(
        "{{\"completed_by\": {completed_by}, \"lead_time\": 3.5, {extra} \"result\": [{{\"from_name\": \
         \"s\", \"to_name\": \"text\", \"type\": \"choices\", \"value\": {{\"choices\": [\"{choice}\"]}}}}]}}"
    )
}

/// §10 "Identity changed shape": `3` and `{id: 3, email: …}` are never merged.
#[test]
fn label_studio_int_and_object_users_stay_distinct() {
    let text = format!(
        "[{},\n{}]",
        ls_task(
            1,
            &[ls_annotation("3", "a", ""), ls_annotation("5", "a", "")].join(",")
        ),
        ls_task(
            2,
            &[
                ls_annotation("{\"id\": 3, \"email\": \"alex@x.com\"}", "b", ""),
                ls_annotation("{\"id\": 5, \"email\": \"\"}", "b", ""),
            ]
            .join(",")
        )
    );
    let loaded = ok("export.json", &text);
    assert_eq!(loaded.dataset.annotators, ["3", "5", "alex@x.com"]);
    // An object without an email falls back to its id: the same person as the int `5`.
    assert_eq!(loaded.dataset.n_annotations(), 4);
}

/// §10 "Format choice changes the counts" and "Skip rows parsed as labels": a cancelled
/// annotation is counted even when it still carries a result, and never becomes a label.
#[test]
fn label_studio_cancelled_annotations_are_counted_not_labels() {
    let text = format!(
        "[{}]",
        ls_task(
            1,
            &[
                ls_annotation("3", "a", ""),
                ls_annotation("4", "a", ""),
                ls_annotation("5", "zzz", "\"was_cancelled\": true,"),
                ls_annotation("6", "zzz", "\"skipped\": true,"),
            ]
            .join(",")
        )
    );
    let loaded = ok("export.json", &text);
    assert_eq!(loaded.dataset.labels, ["a"]);
    assert_eq!(loaded.skipped_by_reason, counts(&[("cancelled", 2)]));
}

/// Spans (`labels` results) and multi-choice answers are read, not dropped or refused.
#[test]
fn label_studio_spans_and_multi_choice_are_read() {
    let spans = "[\n{\"id\": 1, \"annotations\": [{\"completed_by\": 3, \"result\": [{\"from_name\": \
                 \"aspect\", \"type\": \"labels\", \"value\": {\"start\": 0, \"end\": 3, \"labels\": [\"X\"]}}]}]}]";
    let loaded = ok("spans.json", spans);
    assert_eq!(loaded.dataset.labels, ["0-3:X"]);
    let sets = loaded.dataset.spans.as_ref().map(|s| s.spans.len());
    assert_eq!(sets, Some(1));
    let multi = format!(
        "[\n{}]",
        ls_task(7, "{\"id\": 9, \"completed_by\": 3, \"result\": [{\"from_name\": \"s\", \"type\": \"choices\", \"value\": {\"choices\": [\"b\", \"a\"]}}]}")
    );
    let loaded = ok("multi.json", &multi);
    assert_eq!(loaded.dataset.labels, ["a|b"]);
    let names = loaded.dataset.label_sets.as_ref().map(|s| s.names.clone());
    assert_eq!(names, Some(vec!["a".to_string(), "b".to_string()]));
}

fn mturk_header(answers: &[&str]) -> String {
    let mut cols = vec![
        "HITId",
        "AssignmentId",
        "WorkerId",
        "AssignmentStatus",
        "AcceptTime",
        "SubmitTime",
        "WorkTimeInSeconds",
        "Input.item_id",
    ];
    cols.extend_from_slice(answers);
    cols.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(",")
}

/// §10 "MTurk answer columns sort as text": options are mapped by name, never by position.
#[test]
fn mturk_option_columns_are_mapped_by_name() {
    let header = mturk_header(&["Answer.c.Choice1", "Answer.c.Choice10", "Answer.c.Choice2"]);
    let row = |hit: &str, worker: &str, flags: &str| {
        format!("\"{hit}\",\"A{worker}\",\"{worker}\",\"Approved\",\"Thu May 02 03:04:40 PDT 2024\",\"Thu May 02 03:05:00 PDT 2024\",\"20\",\"r-1\",{flags}")
    };
    let text = [
        header,
        row("H1", "W1", "\"false\",\"false\",\"true\""),
        row("H1", "W2", "\"false\",\"true\",\"false\""),
        row("H1", "W3", "\"false\",\"false\",\"false\""),
    ]
    .join("\n");
    let opts = IngestOptions {
        columns: ColumnOverrides {
            item: Some("item_id".into()),
            ..ColumnOverrides::default()
        },
        ..IngestOptions::default()
    };
    let loaded = load_text("Batch_1_batch_results.csv", &text, &opts).unwrap();
    assert_eq!(loaded.files[0].format, Format::Mturk);
    assert_eq!(loaded.dataset.items, ["r-1"]);
    assert_eq!(loaded.dataset.labels, ["Choice10", "Choice2"]);
    // §10 "NaN labels": an assignment without an answer is counted, not dropped silently.
    assert_eq!(loaded.skipped_by_reason, counts(&[("no_answer", 1)]));
    let times = loaded.dataset.submitted_at_ms.unwrap();
    assert_eq!(times[0], 1_714_644_300_000, "PDT is UTC-7");
}

#[test]
fn mturk_several_answer_fields_need_label_col() {
    let text = format!(
        "{}\n",
        mturk_header(&["Answer.sentiment.label", "Answer.comment"])
    );
    assert_eq!(
        err("Batch_2_batch_results.csv", &text),
        "Batch_2_batch_results.csv:1: expected one answer field, found several (sentiment, \
         comment): choose one with --label-col"
    );
}

/// Toloka: no task id by default, so the item is a stable hash of the INPUT values; training
/// rows (with a hint), skipped, expired and empty outputs are all counted.
#[test]
fn toloka_items_are_hashed_and_every_row_is_accounted_for() {
    let text = "INPUT:text\tOUTPUT:s\tGOLDEN:s\tHINT:text\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:started\n\
                a\tx\tx\t\tw1\tAPPROVED\t2024-05-02T10:04:40.120\n\
                a\ty\tx\t\tw2\tSUBMITTED\t2024-05-02T10:04:40.120\n\
                b\tx\t\t\tw1\tACCEPTED\t2024-05-02T10:04:40.120\n\
                b\t\t\t\tw2\tAPPROVED\t2024-05-02T10:04:40.120\n\
                b\tx\t\t\tw3\tSKIPPED\t2024-05-02T10:04:40.120\n\
                b\tx\t\t\tw4\tEXPIRED\t2024-05-02T10:04:40.120\n\
                c\tx\t\tSee the word 'good'\tw1\tAPPROVED\t2024-05-02T10:04:40.120\n";
    let loaded = ok("assignments.tsv", text);
    assert_eq!(loaded.files[0].format, Format::Toloka);
    assert_eq!(loaded.dataset.n_items(), 2);
    assert!(loaded.dataset.items.iter().all(|i| i.starts_with("input-")));
    assert_eq!(loaded.dataset.n_annotations(), 3);
    assert!(loaded.dataset.has_gold());
    assert_eq!(
        loaded.skipped_by_reason,
        counts(&[
            ("expired", 1),
            ("no_label", 1),
            ("skipped", 1),
            ("training", 1)
        ])
    );
}

/// §10 "Type mismatch": one file, one kind of task; span views are read, image views refused.
#[test]
fn prodigy_mixed_or_image_views_are_refused() {
    let line = |view: &str, answer: &str| {
        format!("{{\"text\":\"a\",\"label\":\"POS\",\"accept\":[\"POS\"],\"options\":[],\"_input_hash\":-5,\"_view_id\":\"{view}\",\"answer\":\"{answer}\",\"_annotator_id\":\"d-alex\"}}")
    };
    let mixed = format!(
        "{}\n{}\n",
        line("choice", "accept"),
        line("classification", "accept")
    );
    assert_eq!(
        err("db.jsonl", &mixed),
        "db.jsonl:2: expected one kind of task per file (line 1 has _view_id \"choice\"), found \
         _view_id \"classification\""
    );
    let spans = format!("{}\n", line("ner_manual", "accept"));
    assert_eq!(ok("db.jsonl", &spans).dataset.labels, ["[]"]);
    let image = format!("{}\n", line("image_manual", "accept"));
    assert!(err("db.jsonl", &image).contains("image tasks are not supported yet"));
}

/// Binary views: reject is a real "no" vote; several questions on one input stay apart.
#[test]
fn prodigy_binary_answers_are_labels_per_question() {
    let line = |label: &str, who: &str, answer: &str| {
        format!("{{\"text\":\"a\",\"label\":\"{label}\",\"_input_hash\":-5,\"_view_id\":\"classification\",\"answer\":\"{answer}\",\"_session_id\":\"d-{who}\"}}")
    };
    let text = [
        line("POS", "alex", "accept"),
        line("POS", "sam", "reject"),
        line("NEG", "alex", "reject"),
        line("NEG", "sam", "ignore"),
    ]
    .join("\n");
    let loaded = ok("db.jsonl", &text);
    assert_eq!(loaded.dataset.items, ["-5/NEG", "-5/POS"]);
    assert_eq!(loaded.dataset.labels, ["accept", "reject"]);
    assert_eq!(loaded.skipped_by_reason, counts(&[("ignored", 1)]));
}

/// `--from` names the format; the report's input lists it per file.
#[test]
fn from_flag_reads_platform_exports() {
    labelaudit(&[
        "agreement",
        &fixture("formats/label_studio.csv"),
        "--from",
        "label-studio",
        "--label-col",
        "sentiment",
    ])
    .expect_code(0);
    let run = labelaudit(&["agreement", &fixture("formats/label_studio.csv")]).expect_code(1);
    assert!(
        run.stderr
            .contains("expected --label-col naming the choices control"),
        "{}",
        run.stderr
    );
    labelaudit(&[
        "agreement",
        &fixture("formats/mturk_batch_results.csv"),
        "--from",
        "mturk",
    ])
    .expect_code(0);
}

/// §10 "Ground Truth order": workers see objects shuffled; the folder number is the item,
/// whatever the file names or their order say.
#[test]
fn sagemaker_items_come_from_the_object_folder() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let response = |worker: &str, label: &str| {
        format!("{{\"answers\":[{{\"workerId\":\"{worker}\",\"acceptanceTime\":\"2024-05-02T10:04:40.120Z\",\"submissionTime\":\"2024-05-02T10:05:01.311Z\",\"timeSpentInSeconds\":19.8,\"answerContent\":{{\"crowd-classifier\":{{\"label\":\"{label}\"}}}}}}]}}")
    };
    let root = dir.path().join("annotations/worker-response/iteration-1");
    for (object, file, worker, label) in [
        ("7", "a.json", "w1", "cat"),
        ("0", "z.json", "w1", "dog"),
        ("7", "b.json", "w2", "cat"),
    ] {
        std::fs::create_dir_all(root.join(object)).unwrap();
        std::fs::write(root.join(object).join(file), response(worker, label)).unwrap();
    }
    let loaded = ingest::load(&[dir.path().to_path_buf()], &IngestOptions::default()).unwrap();
    assert_eq!(loaded.dataset.items, ["0", "7"]);
    assert_eq!(
        loaded.dataset.item_labels(0),
        [loaded
            .dataset
            .labels
            .iter()
            .position(|l| l == "dog")
            .unwrap() as u32]
    );
    assert_eq!(loaded.dataset.n_annotations(), 3);
    let stray = dir.path().join("stray.json");
    std::fs::write(&stray, response("w3", "cat")).unwrap();
    let err = ingest::load(&[stray], &IngestOptions::default()).unwrap_err();
    assert!(err.to_string().contains("object-index folder"), "{err}");
}

/// §10 "Converters and defaults hide annotators": doccano's collaborative all.jsonl has no
/// annotator and is refused with the setting to change.
#[test]
fn doccano_all_jsonl_is_refused() {
    let e = err(
        "all.jsonl",
        "{\"id\": 1, \"text\": \"a\", \"label\": [\"x\"], \"Comments\": []}\n",
    );
    assert!(e.starts_with("all.jsonl: expected per-user files"), "{e}");
    assert!(e.contains("Share annotations across all users"), "{e}");
}

/// §10 "Skip rows parsed as labels": a skipped Labelbox label never becomes a label, even
/// with an answer left in it; a row mixing projects is refused.
#[test]
fn labelbox_skips_are_counted_and_projects_not_mixed() {
    let label = |by: &str, skipped: bool| {
        format!("{{\"id\":\"l-{by}\",\"label_details\":{{\"created_by\":\"{by}\",\"created_at\":\"2024-05-02T10:05:01.000+00:00\"}},\"performance_details\":{{\"seconds_to_create\":19,\"skipped\":{skipped}}},\"annotations\":{{\"classifications\":[{{\"name\":\"s\",\"radio_answer\":{{\"name\":\"Skip\",\"value\":\"skip\"}}}}]}}}}")
    };
    let row = |project: &str, labels: &[String]| {
        format!(
            "{{\"data_row\":{{\"id\":\"d1\"}},\"projects\":{{\"{project}\":{{\"labels\":[{}]}}}}}}",
            labels.join(",")
        )
    };
    let text = row(
        "p1",
        &[
            label("a@x.com", false),
            label("b@x.com", false),
            label("c@x.com", true),
        ],
    );
    let loaded = ok("export.ndjson", &text);
    assert_eq!(loaded.dataset.n_annotations(), 2);
    assert_eq!(loaded.skipped_by_reason, counts(&[("skipped", 1)]));
    let mixed = format!("{}\n{}\n", text, row("p2", &[label("a@x.com", false)]));
    assert!(err("export.ndjson", &mixed)
        .contains("expected the labels of one project, found several (p1, p2)"));
}

/// No input panics: every fixture, cut short at many points and with bytes flipped, read
/// as every format, gives a dataset or a located error.
#[test]
fn damaged_exports_never_panic() {
    let formats = [
        Format::LabelStudio,
        Format::LabelStudioMin,
        Format::LabelStudioCsv,
        Format::Prodigy,
        Format::Mturk,
        Format::Toloka,
        Format::SagemakerGt,
        Format::Labelbox,
        Format::Doccano,
    ];
    let files = [
        "label_studio.json",
        "label_studio_min.json",
        "label_studio.csv",
        "prodigy.jsonl",
        "mturk_batch_results.csv",
        "toloka_assignments.tsv",
        "labelbox_export.ndjson",
        "doccano/alex.jsonl",
    ];
    let dir = tempfile::tempdir().expect("a temp dir");
    for file in files {
        let bytes = std::fs::read(fixture(&format!("formats/{file}"))).expect("fixture");
        for step in 1..12 {
            let mut damaged = bytes[..bytes.len() * step / 12].to_vec();
            if let Some(b) = damaged.get_mut(bytes.len() * step / 24) {
                *b = b"\"{[,\t\n\xff"[step % 7];
            }
            let path = dir.path().join(file.replace('/', "_"));
            std::fs::write(&path, &damaged).expect("write");
            for format in formats {
                let opts = IngestOptions {
                    format: Some(format),
                    ..IngestOptions::default()
                };
                let outcome =
                    std::panic::catch_unwind(|| ingest::load(std::slice::from_ref(&path), &opts));
                assert!(
                    outcome.is_ok(),
                    "{file} cut at {step}/12 read as {format:?} panicked"
                );
            }
        }
    }
}

/// Toloka: an exported `ASSIGNMENT:task_id` is the item; suite times give no duration.
#[test]
fn toloka_task_id_is_the_item_when_exported() {
    let text = "INPUT:text\tOUTPUT:s\tASSIGNMENT:task_id\tASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:started\tASSIGNMENT:submitted\n\
                a\tx\t0001\tw1\tAPPROVED\t2024-05-02T10:04:40.120\t2024-05-02T10:06:02.518\n\
                b\ty\t0002\tw1\tAPPROVED\t2024-05-02T10:04:40.120\t2024-05-02T10:06:02.518\n";
    let loaded = ok("results.tsv", text);
    assert_eq!(loaded.dataset.items, ["0001", "0002"]);
    assert!(loaded.dataset.duration_s.is_none());
    assert_eq!(
        loaded.dataset.submitted_at_ms.as_deref(),
        Some(&[1_714_644_362_518, 1_714_644_362_518][..]),
        "offset-less times are UTC"
    );
}

/// MTurk: `Answer.taskAnswers` JSON and a user-named gold column.
#[test]
fn mturk_task_answers_and_gold_column() {
    let header = mturk_header(&["Input.truth", "Answer.taskAnswers"]);
    let row = |worker: &str, truth: &str, label: &str| {
        format!("\"H1\",\"A{worker}\",\"{worker}\",\"Submitted\",\"\",\"\",\"\",\"r-1\",\"{truth}\",\"[{{\"\"sentiment\"\":{{\"\"label\"\":\"\"{label}\"\"}}}}]\"")
    };
    let text = [
        header,
        row("W1", "Positive", "Positive"),
        row("W2", "Positive", "Negative"),
    ]
    .join("\n");
    let opts = IngestOptions {
        gold_column: Some("truth".into()),
        ..IngestOptions::default()
    };
    let loaded = load_text("batch.csv", &text, &opts).unwrap();
    assert_eq!(loaded.dataset.labels, ["Negative", "Positive"]);
    assert_eq!(loaded.dataset.gold_label(0), Some(1));
}

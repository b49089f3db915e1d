//! Platform exports: one batch (`fixtures/formats/`, written by `make_fixtures.py`) in every
//! format, each loaded with `ingest::load` and compared with its canonical long form
//! `canonical.csv`, after mapping platform ids to canonical ids (`ids.json`). Each format is
//! compared on what it can express (formats.md §8), and its skip counts are checked by reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use labelaudit::ingest::{self, ColumnOverrides, Format, IngestOptions, Loaded};
use labelaudit::Dataset;

use crate::harness::fixture;

/// One annotation in long form: item, annotator, label, duration, submitted (ms).
type Long = (String, String, String, Option<String>, Option<i64>);

/// What a format carries besides item, annotator and label.
#[derive(Clone, Copy)]
struct Carries {
    duration: bool,
    submitted: bool,
    gold: bool,
}

fn load(file: &str, opts: IngestOptions) -> Loaded {
    let path = PathBuf::from(fixture(&format!("formats/{file}")));
    ingest::load(&[path], &opts).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn ids(format: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(fixture("formats/ids.json")).expect("ids.json");
    let all: serde_json::Value = serde_json::from_str(&text).expect("ids.json is JSON");
    let map = |kind: &str| -> BTreeMap<String, String> {
        serde_json::from_value(all[format][kind].clone()).expect("an id map")
    };
    (map("items"), map("annotators"))
}

/// The dataset's annotations and gold in canonical ids, restricted to what `carries` says.
fn long(
    ds: &Dataset,
    format: &str,
    carries: Carries,
) -> (BTreeSet<Long>, BTreeMap<String, String>) {
    let (items, annotators) = ids(format);
    let item_name = |i: usize| {
        items
            .get(&ds.items[i])
            .cloned()
            .unwrap_or_else(|| panic!("{format}: unmapped item {}", ds.items[i]))
    };
    let mut rows = BTreeSet::new();
    for (pos, &item) in ds.annotation_items().iter().enumerate() {
        let annotator = &ds.annotators[ds.annotator[pos] as usize];
        let duration = ds
            .duration_s
            .as_ref()
            .map(|d| d[pos])
            .filter(|d| !d.is_nan() && carries.duration)
            .map(|d| d.to_string());
        let submitted = ds
            .submitted_at_ms
            .as_ref()
            .map(|s| s[pos])
            .filter(|&s| s != i64::MIN && carries.submitted);
        rows.insert((
            item_name(item as usize),
            annotators
                .get(annotator)
                .cloned()
                .unwrap_or_else(|| panic!("{format}: unmapped annotator {annotator}")),
            ds.labels[ds.label[pos] as usize].clone(),
            duration,
            submitted,
        ));
    }
    let gold = (0..ds.n_items())
        .filter(|_| carries.gold)
        .filter_map(|i| Some((item_name(i), ds.labels[ds.gold_label(i)? as usize].clone())))
        .collect();
    (rows, gold)
}

fn canonical(carries: Carries) -> (BTreeSet<Long>, BTreeMap<String, String>) {
    let loaded = load("canonical.csv", IngestOptions::default());
    assert_eq!(
        counts(&loaded),
        counts_of(&[("rejected", 1), ("skipped", 1)])
    );
    let (rows, gold) = long(&loaded.dataset, "canonical", carries);
    // 12 items x 3 annotators, minus one skip and one rejection.
    assert_eq!(rows.len(), 34);
    assert_eq!(gold.len(), if carries.gold { 3 } else { 0 });
    (rows, gold)
}

fn counts(loaded: &Loaded) -> BTreeMap<String, u64> {
    loaded.skipped_by_reason.clone()
}

fn counts_of(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|&(k, n)| (k.to_string(), n)).collect()
}

fn with_label(label: &str) -> IngestOptions {
    IngestOptions {
        columns: ColumnOverrides {
            label: Some(label.into()),
            ..ColumnOverrides::default()
        },
        ..IngestOptions::default()
    }
}

const ALL: Carries = Carries {
    duration: true,
    submitted: true,
    gold: true,
};

#[test]
fn label_studio_json_equals_canonical() {
    let loaded = load("label_studio.json", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::LabelStudio);
    assert_eq!(long(&loaded.dataset, "label-studio", ALL), canonical(ALL));
    assert_eq!(
        counts(&loaded),
        counts_of(&[
            ("cancelled", 1),
            ("ground_truth", 3),
            ("no_annotations", 1),
            ("rejected", 1)
        ])
    );
    assert_eq!(loaded.dataset.n_items(), 12);
    assert_eq!(loaded.dataset.labels, ["mixed", "negative", "positive"]);
}

/// JSON-MIN and CSV drop cancelled annotations, `ground_truth` and reviews (pitfall §10):
/// the lead's reference answers become ordinary annotations and the rejection is kept.
fn check_label_studio_converter(file: &str, format: Format) {
    let loaded = load(file, with_label("sentiment"));
    assert_eq!(loaded.files[0].format, format);
    let carries = Carries { gold: false, ..ALL };
    let (rows, gold) = long(&loaded.dataset, "label-studio", carries);
    assert!(
        gold.is_empty(),
        "{file}: the converter does not carry ground_truth"
    );
    let (expected, canonical_gold) = canonical(carries);
    let (_, canonical_gold_labels) = canonical(ALL);
    assert!(canonical_gold.is_empty());
    let (lead, others): (BTreeSet<Long>, BTreeSet<Long>) =
        rows.into_iter().partition(|r| r.1 == "lead");
    let rejected: BTreeSet<Long> = others
        .iter()
        .filter(|r| r.0 == "r-09" && r.1 == "kim")
        .cloned()
        .collect();
    assert_eq!(
        rejected.len(),
        1,
        "{file}: the rejected annotation is exported as any other"
    );
    assert_eq!(&others - &rejected, expected);
    let lead_labels: BTreeMap<String, String> = lead.into_iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(lead_labels, canonical_gold_labels);
    assert_eq!(counts(&loaded), counts_of(&[("no_annotations", 1)]));
}

#[test]
fn label_studio_json_min_equals_canonical_minus_what_the_converter_drops() {
    check_label_studio_converter("label_studio_min.json", Format::LabelStudioMin);
}

#[test]
fn label_studio_csv_equals_canonical_minus_what_the_converter_drops() {
    check_label_studio_converter("label_studio.csv", Format::LabelStudioCsv);
}

#[test]
fn prodigy_equals_canonical_without_durations_or_gold() {
    let loaded = load("prodigy.jsonl", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::Prodigy);
    let carries = Carries {
        duration: false,
        gold: false,
        ..ALL
    };
    assert_eq!(
        long(&loaded.dataset, "prodigy", carries),
        canonical(carries)
    );
    assert!(loaded.dataset.duration_s.is_none());
    // `ignore` is a skip; `reject` in a choice view flags the example: neither is a label.
    assert_eq!(
        counts(&loaded),
        counts_of(&[("flagged", 1), ("ignored", 1)])
    );
}

#[test]
fn mturk_equals_canonical() {
    let loaded = load("mturk_batch_results.csv", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::Mturk);
    assert_eq!(long(&loaded.dataset, "mturk", ALL), canonical(ALL));
    // A returned HIT leaves no row: MTurk cannot show the skip.
    assert_eq!(counts(&loaded), counts_of(&[("rejected", 1)]));
}

#[test]
fn toloka_equals_canonical_without_durations() {
    let opts = IngestOptions {
        columns: ColumnOverrides {
            item: Some("INPUT:item_id".into()),
            ..ColumnOverrides::default()
        },
        ..IngestOptions::default()
    };
    let loaded = load("toloka_assignments.tsv", opts);
    assert_eq!(loaded.files[0].format, Format::Toloka);
    let carries = Carries {
        duration: false,
        ..ALL
    };
    assert_eq!(long(&loaded.dataset, "toloka", carries), canonical(carries));
    // `started` is per task suite: no per-task duration is invented.
    assert!(loaded.dataset.duration_s.is_none());
    assert_eq!(
        counts(&loaded),
        counts_of(&[("rejected", 1), ("skipped", 1)])
    );
}

/// Ground Truth has no skip, review or gold: a declined task leaves no file, and the
/// requester's rejection is invisible, so that answer stays an annotation.
#[test]
fn sagemaker_ground_truth_job_folder_equals_canonical() {
    let loaded = load("sagemaker_job", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::SagemakerGt);
    assert_eq!(loaded.files[0].rows, 35);
    let carries = Carries { gold: false, ..ALL };
    let (rows, _) = long(&loaded.dataset, "sagemaker-gt", carries);
    let (rejected, others): (BTreeSet<Long>, BTreeSet<Long>) = rows
        .into_iter()
        .partition(|r| r.0 == "r-09" && r.1 == "kim");
    assert_eq!(rejected.len(), 1);
    assert_eq!(others, canonical(carries).0);
    assert!(loaded.skipped_by_reason.is_empty());
}

/// Labelbox: the benchmark label is the gold; reviews are not read, so the rejected answer
/// stays an annotation.
#[test]
fn labelbox_equals_canonical() {
    let loaded = load("labelbox_export.ndjson", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::Labelbox);
    let (rows, gold) = long(&loaded.dataset, "labelbox", ALL);
    let (rejected, others): (BTreeSet<Long>, BTreeSet<Long>) = rows
        .into_iter()
        .partition(|r| r.0 == "r-09" && r.1 == "kim");
    assert_eq!(rejected.len(), 1);
    assert_eq!((others, gold), canonical(ALL));
    assert_eq!(
        counts(&loaded),
        counts_of(&[("benchmark", 3), ("skipped", 1)])
    );
}

/// doccano: one file per user, no times, no gold, no skip marker (an empty list).
#[test]
fn doccano_per_user_files_equal_canonical() {
    let paths: Vec<PathBuf> = ["alex", "sam", "kim", "lee"]
        .iter()
        .map(|u| PathBuf::from(fixture(&format!("formats/doccano/{u}.jsonl"))))
        .collect();
    let loaded = ingest::load(&paths, &IngestOptions::default()).expect("doccano loads");
    assert!(loaded.files.iter().all(|f| f.format == Format::Doccano));
    let carries = Carries {
        duration: false,
        submitted: false,
        gold: false,
    };
    let (rows, _) = long(&loaded.dataset, "doccano", carries);
    let (rejected, others): (BTreeSet<Long>, BTreeSet<Long>) = rows
        .into_iter()
        .partition(|r| r.0 == "r-09" && r.1 == "kim");
    assert_eq!(rejected.len(), 1);
    assert_eq!(others, canonical(carries).0);
    // 4 files x 12 examples, 35 labelled: the other 13 are empty lists.
    assert_eq!(counts(&loaded), counts_of(&[("no_label", 13)]));
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_equals_canonical() {
    let loaded = load("canonical.parquet", IngestOptions::default());
    assert_eq!(loaded.files[0].format, Format::Parquet);
    assert_eq!(long(&loaded.dataset, "canonical", ALL), canonical(ALL));
    let csv = load("canonical.csv", IngestOptions::default());
    assert_eq!(counts(&loaded), counts(&csv));
}

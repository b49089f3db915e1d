//! Property tests of ingest: the same annotations give the same `Dataset` and the same
//! agreement report whatever the row order, however the rows are split across files (CSV and
//! JSONL mixed), and whatever the number of threads.

use std::path::{Path, PathBuf};

use labelaudit::agreement::{compute, AgreementOptions};
use labelaudit::ingest::{load, IngestOptions, Loaded};
use labelaudit::Level;
use proptest::prelude::*;

/// One annotation: (item, annotator, label, duration in tenths of a second).
type Row = (String, String, String, u16);

/// A valid export: distinct (item, annotator) pairs, labels with stray spaces or case, and
/// ids that need CSV quoting.
fn rows() -> impl Strategy<Value = Vec<Row>> {
    let labels = prop::sample::select(vec!["pos", "neg", " neu", "Pos", "a,b", "café", "10", "9"]);
    (2usize..10, 2usize..5)
        .prop_flat_map(move |(items, annotators)| {
            prop::collection::vec(
                (prop::option::weighted(0.8, (labels.clone(), 0u16..600)),),
                items * annotators,
            )
            .prop_map(move |cells| {
                let mut out = Vec::new();
                for (k, (cell,)) in cells.into_iter().enumerate() {
                    if let Some((label, d)) = cell {
                        let (i, a) = (k / annotators, k % annotators);
                        out.push((format!("it {i}"), format!("ann\"{a}"), label.to_string(), d));
                    }
                }
                out
            })
        })
        .prop_filter("at least one annotation", |r| !r.is_empty())
}

fn csv_text(rows: &[Row]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("item,annotator,label,duration_s\n");
    for (i, a, l, d) in rows {
        out.push_str(&format!(
            "{},{},{},{}.{}\n",
            quote(i),
            quote(a),
            quote(l),
            d / 10,
            d % 10
        ));
    }
    out
}

fn jsonl_text(rows: &[Row]) -> String {
    rows.iter()
        .map(|(i, a, l, d)| {
            serde_json::json!({"item": i, "annotator": a, "label": l, "duration_s": f64::from(*d) / 10.0})
                .to_string()
                + "\n"
        })
        .collect()
}

/// Write `parts` as files (CSV or JSONL by `jsonl[k]`) in `dir` and load them together.
fn load_parts(dir: &Path, parts: &[&[Row]], jsonl: &[bool]) -> Loaded {
    let mut paths: Vec<PathBuf> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let as_jsonl = jsonl.get(k).copied().unwrap_or(false);
        let path = dir.join(format!(
            "part{k}.{}",
            if as_jsonl { "jsonl" } else { "csv" }
        ));
        let text = if as_jsonl {
            jsonl_text(part)
        } else {
            csv_text(part)
        };
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    load(&paths, &IngestOptions::default()).unwrap()
}

/// Everything that must not depend on how the input was laid out, as one comparable string.
fn fingerprint(l: &Loaded) -> String {
    let ds = &l.dataset;
    let durations: Option<Vec<u32>> = ds
        .duration_s
        .as_ref()
        .map(|v| v.iter().map(|d| d.to_bits()).collect());
    let opts = AgreementOptions {
        level: Level::Nominal,
        min_shared: 2,
        bootstrap: 20,
        seed: 7,
    };
    let agreement = serde_json::to_string(&compute(ds, &opts)).unwrap();
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        ds.items,
        ds.annotators,
        ds.labels,
        ds.item_offsets,
        ds.annotator,
        ds.label,
        durations,
        ds.skipped,
        l.label_hygiene,
        agreement
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn shuffled_rows_give_the_same_dataset(
        (rows, shuffled) in rows().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle()))
    ) {
        let dir = tempfile::tempdir().unwrap();
        let a = fingerprint(&load_parts(dir.path(), &[&rows], &[false]));
        let b = fingerprint(&load_parts(dir.path(), &[&shuffled], &[false]));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn split_across_files_gives_the_same_dataset(
        rows in rows(),
        cuts in prop::collection::vec(0.0f64..1.0, 0..4),
        jsonl in prop::collection::vec(any::<bool>(), 5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let whole = fingerprint(&load_parts(dir.path(), &[&rows], &[false]));
        let mut at: Vec<usize> = cuts.iter().map(|c| (c * rows.len() as f64) as usize).collect();
        at.push(0);
        at.push(rows.len());
        at.sort_unstable();
        // Empty parts would be header-only files; a real split has rows in every file.
        at.dedup();
        let parts: Vec<&[Row]> = at.windows(2).map(|w| &rows[w[0]..w[1]]).collect();
        let split_dir = tempfile::tempdir().unwrap();
        prop_assert_eq!(whole, fingerprint(&load_parts(split_dir.path(), &parts, &jsonl)));
    }

    #[test]
    fn thread_count_does_not_change_the_result(rows in rows(), threads in 2usize..5) {
        let dir = tempfile::tempdir().unwrap();
        let run = |n: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
                .install(|| fingerprint(&load_parts(dir.path(), &[&rows], &[false])))
        };
        prop_assert_eq!(run(1), run(threads));
    }
}

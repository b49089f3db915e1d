//! Format detection: `--from` wins; otherwise the first record decides, then the extension.
//!
//! Rules, in order (see `detect`):
//! - JSON array: tasks with `annotations`/`completions` → Label Studio JSON; flat records
//!   with `annotator` and `id` → Label Studio JSON-MIN.
//! - JSON object first: `_view_id`/`_input_hash`/`_annotator_id` → Prodigy; a task with
//!   `annotations` (cloud storage writes one per file) → Label Studio JSON; `answers[]` →
//!   a SageMaker Ground Truth worker-response file; `data_row` + `projects` → Labelbox;
//!   `id` + a `label` list and no annotator key → doccano; else JSONL.
//! - A folder → SageMaker Ground Truth job (handled in `load`, before reading bytes).
//! - Header line: `WorkerId` and `HITId` → MTurk; any `INPUT:`/`OUTPUT:`/`ASSIGNMENT:`/
//!   `GOLDEN:` column → Toloka; `annotation_id`, `annotator` and `id` → Label Studio CSV;
//!   else the canonical CSV/TSV by extension.

use std::path::Path;

use serde_json::{Map, Value};

use super::json_array::{first_byte, strip_bom};
use super::Format;

/// The format of one input file.
pub(crate) fn detect(path: &Path, bytes: &[u8], forced: Option<Format>) -> Format {
    match forced {
        // One `--from label-studio` covers the three exports; the content says which.
        Some(Format::LabelStudio) => label_studio_kind(bytes),
        Some(format) => format,
        None => sniff(path, bytes),
    }
}

/// [`detect`] for a file that starts with `start`, when the rest of it cannot change the
/// answer: the first record or header line is complete (and no whole-file scan is needed).
pub(crate) fn detect_from_start(
    path: &Path,
    start: &[u8],
    forced: Option<Format>,
) -> Option<Format> {
    let settled = match forced {
        Some(Format::LabelStudio) => false,
        Some(_) => true,
        None => match first_byte(start) {
            Some(b'[') | None => false,
            Some(b'{') => first_json_record(start).is_some(),
            Some(_) => memchr::memchr(b'\n', start).is_some(),
        },
    };
    settled.then(|| detect(path, start, forced))
}

fn label_studio_kind(bytes: &[u8]) -> Format {
    match first_byte(bytes) {
        // Not only the first record: JSON-MIN writes a task without annotations as a record
        // with no `annotator`, and that record may come first.
        Some(b'[' | b'{') => {
            if has_key(bytes, "annotations") || has_key(bytes, "completions") {
                Format::LabelStudio
            } else if has_key(bytes, "annotator") || has_key(bytes, "annotation_id") {
                Format::LabelStudioMin
            } else {
                Format::LabelStudio
            }
        }
        _ => Format::LabelStudioCsv,
    }
}

/// Whether `"key"` occurs as an object key anywhere (not inside a string: there its quotes
/// would be escaped). A linear scan, so detection costs no JSON parse of a large export.
fn has_key(bytes: &[u8], key: &str) -> bool {
    let needle = format!("\"{key}\"");
    let needle = needle.as_bytes();
    bytes.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && (i == 0 || bytes[i - 1] != b'\\')
            && bytes[i + needle.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                == Some(&b':')
    })
}

fn sniff(path: &Path, bytes: &[u8]) -> Format {
    // Parquet files start (and end) with the magic bytes `PAR1`.
    if bytes.starts_with(b"PAR1") {
        return Format::Parquet;
    }
    match first_byte(bytes) {
        Some(b'[') => label_studio_kind(bytes),
        Some(b'{') => {
            let Some(obj) = first_json_record(bytes) else {
                return Format::Jsonl;
            };
            if ["_view_id", "_input_hash", "_annotator_id"]
                .iter()
                .any(|k| obj.contains_key(*k))
            {
                Format::Prodigy
            } else if obj.contains_key("annotations") || obj.contains_key("completions") {
                Format::LabelStudio
            } else if obj.get("answers").is_some_and(Value::is_array) {
                Format::SagemakerGt
            } else if obj.contains_key("data_row") && obj.contains_key("projects") {
                Format::Labelbox
            } else if is_doccano(&obj) {
                Format::Doccano
            } else {
                Format::Jsonl
            }
        }
        _ => {
            let header = header_names(bytes);
            let has = |name: &str| header.iter().any(|h| h == name);
            if has("WorkerId") && has("HITId") {
                Format::Mturk
            } else if header.iter().any(|h| {
                ["INPUT:", "OUTPUT:", "ASSIGNMENT:", "GOLDEN:"]
                    .iter()
                    .any(|p| h.starts_with(p))
            }) {
                Format::Toloka
            } else if has("annotation_id") && has("annotator") && has("id") {
                Format::LabelStudioCsv
            } else {
                Format::from_path(path)
                    .filter(|f| matches!(f, Format::Csv | Format::Tsv))
                    .unwrap_or(Format::Csv)
            }
        }
    }
}

/// doccano: an example `id` with a `label` list and no annotator key (the canonical JSONL
/// always names its annotator).
fn is_doccano(obj: &Map<String, Value>) -> bool {
    let annotator_keys = [
        "annotator",
        "annotator_id",
        "worker",
        "worker_id",
        "rater",
        "performer",
    ];
    obj.contains_key("id")
        && obj
            .get("label")
            .or_else(|| obj.get("cats"))
            .is_some_and(Value::is_array)
        && !obj
            .keys()
            .any(|k| annotator_keys.contains(&k.to_ascii_lowercase().as_str()))
}

/// The first object of a JSON array, of a JSONL file, or a whole single-object document.
fn first_json_record(bytes: &[u8]) -> Option<Map<String, Value>> {
    let bytes = strip_bom(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = match bytes[start] {
        b'[' => &bytes[start + 1..],
        _ => &bytes[start..],
    };
    // A stream deserializer stops after the first value, whatever follows (`,` or a line).
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
    match stream.next() {
        Some(Ok(Value::Object(obj))) => Some(obj),
        _ => None,
    }
}

/// Column names of the first line, quotes removed; the delimiter is `,`, tab or `;`.
fn header_names(bytes: &[u8]) -> Vec<String> {
    let bytes = strip_bom(bytes);
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let delimiter = [',', '\t', ';']
        .into_iter()
        .max_by_key(|d| line.matches(*d).count())
        .unwrap_or(',');
    line.trim_end_matches('\r')
        .split(delimiter)
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniffed(name: &str, text: &str) -> Format {
        detect(Path::new(name), text.as_bytes(), None)
    }

    #[test]
    fn json_arrays_are_label_studio_json_or_min() {
        let tasks = "[{\"id\": 1, \"data\": {}, \"annotations\": []}]";
        assert_eq!(sniffed("export.json", tasks), Format::LabelStudio);
        let min =
            "[\n{\"text\": \"a\", \"id\": 1, \"sentiment\": \"Positive\", \"annotator\": 3}\n]";
        assert_eq!(sniffed("export.json", min), Format::LabelStudioMin);
        let min_empty_first = "[{\"text\": \"no annotations\", \"id\": 2},\n{\"text\": \"says \\\"annotations\\\": 1\", \"id\": 1, \"annotator\": 3}]";
        assert_eq!(
            sniffed("export.json", min_empty_first),
            Format::LabelStudioMin
        );
        let one_task = "{\n \"id\": 1,\n \"annotations\": []\n}";
        assert_eq!(sniffed("1.json", one_task), Format::LabelStudio);
        let response = "{\"answers\":[{\"workerId\":\"w\",\"answerContent\":{}}]}";
        assert_eq!(sniffed("1714644301.json", response), Format::SagemakerGt);
    }

    #[test]
    fn jsonl_with_prodigy_keys_is_prodigy() {
        let line =
            "{\"text\":\"a\",\"_input_hash\":-1,\"_view_id\":\"choice\",\"answer\":\"accept\"}\n";
        assert_eq!(sniffed("db.jsonl", line), Format::Prodigy);
        assert_eq!(sniffed("db", line), Format::Prodigy);
        let canonical = "{\"item\":\"1\",\"annotator\":\"a\",\"label\":\"x\"}\n";
        assert_eq!(sniffed("long.jsonl", canonical), Format::Jsonl);
        let multi = "{\"item\":\"1\",\"annotator\":\"a\",\"label\":[\"x\"],\"id\":3}\n";
        assert_eq!(sniffed("long.jsonl", multi), Format::Jsonl);
        let doccano = "{\"id\": 42, \"text\": \"a\", \"label\": [\"mixed\"], \"Comments\": []}\n";
        assert_eq!(sniffed("alex.jsonl", doccano), Format::Doccano);
        let labelbox = "{\"data_row\":{\"id\":\"c1\"},\"projects\":{}}\n";
        assert_eq!(sniffed("export.ndjson", labelbox), Format::Labelbox);
    }

    #[test]
    fn headers_decide_between_platform_tables() {
        let mturk = "\"HITId\",\"HITTypeId\",\"WorkerId\",\"Answer.sentiment.label\"\n";
        assert_eq!(sniffed("Batch_1_batch_results.csv", mturk), Format::Mturk);
        let toloka = "INPUT:text\tOUTPUT:sentiment\tASSIGNMENT:worker_id\n";
        assert_eq!(sniffed("assignments.tsv", toloka), Format::Toloka);
        let ls = "\"annotation_id\",\"annotator\",\"created_at\",\"id\",\"sentiment\"\n";
        assert_eq!(sniffed("project.csv", ls), Format::LabelStudioCsv);
        assert_eq!(sniffed("long.tsv", "item\tannotator\tlabel\n"), Format::Tsv);
        assert_eq!(sniffed("long.csv", "item,annotator,label\n"), Format::Csv);
        assert_eq!(sniffed("-", "item,annotator,label\n"), Format::Csv);
    }

    #[test]
    fn from_wins_and_label_studio_is_refined_by_content() {
        let ls_csv = "annotation_id,annotator,id\n";
        assert_eq!(
            detect(Path::new("x.csv"), ls_csv.as_bytes(), Some(Format::Csv)),
            Format::Csv
        );
        assert_eq!(
            detect(Path::new("x"), ls_csv.as_bytes(), Some(Format::LabelStudio)),
            Format::LabelStudioCsv
        );
        let min = "[{\"id\": 1, \"annotator\": \"a@x.com\", \"s\": \"A\"}]";
        assert_eq!(
            detect(Path::new("x"), min.as_bytes(), Some(Format::LabelStudio)),
            Format::LabelStudioMin
        );
    }

    /// Walk `dir` recursively, collecting files.
    fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn detection_from_the_start_agrees_with_the_whole_file() {
        let mut files = Vec::new();
        files_under(Path::new("fixtures"), &mut files);
        assert!(files.len() > 20);
        let mut settled = 0;
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            for forced in [None, Some(Format::Jsonl), Some(Format::LabelStudio)] {
                let whole = detect(&file, &bytes, forced);
                for len in [0, 1, 10, 40, 100, 1000, bytes.len()] {
                    let start = &bytes[..len.min(bytes.len())];
                    if let Some(format) = detect_from_start(&file, start, forced) {
                        assert_eq!(format, whole, "{} {len} {forced:?}", file.display());
                        settled += 1;
                    }
                }
            }
        }
        assert!(settled > 100);
        // A cut first record or header line settles nothing.
        let path = Path::new("x.jsonl");
        let prodigy = b"{\"text\":\"a\",\"_view_id\":\"choice\"}\n";
        assert_eq!(detect_from_start(path, &prodigy[..20], None), None);
        assert_eq!(
            detect_from_start(path, prodigy, None),
            Some(Format::Prodigy)
        );
        assert_eq!(detect_from_start(path, b"WorkerId,HIT", None), None);
    }
}

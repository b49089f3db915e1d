//! Label Studio JSON-MIN and CSV/TSV exports (`shared/formats.md` §1, mapping §11): the
//! converter's flat records, one per **non-cancelled** annotation.
//!
//! Quirks handled here:
//! - The converter drops cancelled annotations, `ground_truth` and reviews: these files carry
//!   no skips and no gold (pitfall §10 "Format choice changes the counts"). Read the JSON
//!   export when skip rates matter.
//! - Keys: `data` keys copied flat, `id` (item), one key per control `from_name`, `annotator`
//!   (an int id, `"3"` in CSV, or an email), `annotation_id`, `created_at`, `lead_time`, …
//!   Data keys cannot be told from controls without the label config, so `--label-col` names
//!   the control unless only one non-metadata key exists.
//! - Values are "prettified": one choice is a bare string, several are
//!   `[{"choices": [...]}]` (refused: multi-label), other types are lists of value dicts
//!   (refused: not classification). CSV cells hold those as JSON text.
//! - A task without annotations yields a record with no annotator: counted `no_annotations`;
//!   an empty label cell means "no result for that control": counted `no_choice`.

use std::path::Path;

use serde_json::Value;

use super::delimited;
use super::json_array::{self, id_text, kind};
use super::{Fields, Format, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Keys the converter writes besides `data` keys and controls.
const METADATA: &[&str] = &[
    "id",
    "annotator",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "agreement",
    "history",
];

/// Read a JSON-MIN export; returns the number of records.
pub(crate) fn read_json(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let records = json_array::elements(path, bytes)?;
    let mut keys: Vec<String> = Vec::new();
    for r in &records {
        for k in json_array::object(path, r)?.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let control = choose_control(path, &keys, opts.columns.label.as_deref())?;
    for r in &records {
        let obj = json_array::object(path, r)?;
        let text = |key: &str| -> Option<String> {
            match obj.get(key)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let record = Record {
            item: text("id"),
            annotator: obj.get("annotator").and_then(id_text),
            value: obj.get(control.as_str()).cloned(),
            created_at: text("created_at"),
            lead_time: text("lead_time"),
        };
        record.push(path, r.line, &control, sink)?;
    }
    Ok(records.len() as u64)
}

/// Read a CSV (or quoted TSV) export; returns the number of records.
pub(crate) fn read_csv(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    // The converter quotes every string (QUOTE_NONNUMERIC), in its TSV too: read with quoting.
    let mut rdr = delimited::reader(bytes, Format::Csv);
    let header = delimited::read_header(path, &mut rdr)?;
    let control = choose_control(path, &header, opts.columns.label.as_deref())?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (item_col, annotator_col) = (col("id"), col("annotator"));
    let (label_col, created_col, lead_col) = (col(&control), col("created_at"), col("lead_time"));
    let mut record = csv::ByteRecord::new();
    let mut lines = delimited::Lines::new(bytes);
    let mut rows = 0u64;
    while delimited::next_record(path, &header, &mut rdr, &mut record, &mut lines)? {
        let line = lines.of(&record);
        let cell = |i: Option<usize>| -> Result<Option<String>> {
            match i {
                Some(i) => Ok(Some(delimited::field(path, line, &record, i)?.to_string())
                    .filter(|s| !s.is_empty())),
                None => Ok(None),
            }
        };
        let value = match cell(label_col)? {
            // Non-string results are JSON text inside the cell.
            Some(s) if s.starts_with('[') || s.starts_with('{') => {
                Some(serde_json::from_str(&s).map_err(|e| {
                    Error::data(
                        path,
                        Some(line),
                        format!("field {control:?}: expected JSON in the cell, found {s:?} ({e})"),
                    )
                })?)
            }
            other => other.map(Value::String),
        };
        let r = Record {
            item: cell(item_col)?,
            annotator: cell(annotator_col)?,
            value,
            created_at: cell(created_col)?,
            lead_time: cell(lead_col)?,
        };
        r.push(path, line, &control, sink)?;
        rows += 1;
    }
    Ok(rows)
}

/// One converter record, as text.
struct Record {
    item: Option<String>,
    annotator: Option<String>,
    value: Option<Value>,
    created_at: Option<String>,
    lead_time: Option<String>,
}

impl Record {
    fn push(self, path: &Path, line: u64, control: &str, sink: &mut RecordSink<'_>) -> Result<()> {
        let fail = |m: String| Error::data(path, Some(line), m);
        let item = self
            .item
            .ok_or_else(|| fail("expected a task \"id\", found none".into()))?;
        let Some(annotator) = self.annotator else {
            // The converter writes a task without annotations as a record without annotator.
            sink.skip("no_annotations");
            return Ok(());
        };
        let label = match self.value {
            None | Some(Value::Null) => None,
            Some(v) => unwrap_choice(&v).map_err(|m| fail(format!("field {control:?}: {m}")))?,
        };
        let Some(label) = label.filter(|l| !l.is_empty()) else {
            sink.skip("no_choice");
            return Ok(());
        };
        sink.push(
            path,
            line,
            Fields {
                item: &item,
                annotator: &annotator,
                label: &label,
                duration_s: self.lead_time.as_deref(),
                submitted_at: self.created_at.as_deref(),
                ..Fields::default()
            },
        )
    }
}

/// Undo the converter's prettifying for a single-choice control.
fn unwrap_choice(v: &Value) -> std::result::Result<Option<String>, String> {
    match v {
        Value::String(_) | Value::Number(_) => Ok(id_text(v)),
        Value::Array(list) => {
            let choices: Option<Vec<&Value>> = list
                .iter()
                .map(|r| r.get("choices").and_then(Value::as_array))
                .try_fold(Vec::new(), |mut acc, c| {
                    acc.extend(c?);
                    Some(acc)
                });
            match choices.as_deref() {
                Some([]) => Ok(None),
                Some([one]) => Ok(id_text(one)),
                Some(many) => Err(format!(
                    "expected one choice, found {} (multi-label input is not supported yet)",
                    many.len()
                )),
                None => Err(
                    "expected a choice, found a list of non-choice results (only single-label \
                     classification is supported yet)"
                        .into(),
                ),
            }
        }
        other => Err(format!("expected a choice, found {}", kind(other))),
    }
}

/// The control to read: `--label-col`, or the only key that is not converter metadata.
fn choose_control(path: &Path, keys: &[String], chosen: Option<&str>) -> Result<String> {
    let candidates: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !METADATA.contains(k))
        .collect();
    match (chosen, candidates.as_slice()) {
        (Some(name), _) if keys.iter().any(|k| k == name) => Ok(name.to_string()),
        (Some(name), _) => Err(Error::data(
            path,
            Some(1),
            format!(
                "--label-col: expected a control (from_name) named {name:?}, found keys {}",
                keys.join(", ")
            ),
        )),
        (None, [one]) => Ok(one.to_string()),
        (None, _) => Err(Error::data(
            path,
            Some(1),
            format!(
                "expected --label-col naming the choices control: Label Studio JSON-MIN/CSV \
                 mixes task data and controls, found candidate keys {}",
                if candidates.is_empty() {
                    "(none)".to_string()
                } else {
                    candidates.join(", ")
                }
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prettified_values_unwrap_to_one_choice() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(unwrap_choice(&v("\"Mixed\"")), Ok(Some("Mixed".into())));
        assert_eq!(
            unwrap_choice(&v("[{\"choices\": [\"Mixed\"]}]")),
            Ok(Some("Mixed".into()))
        );
        assert!(unwrap_choice(&v("[{\"choices\": [\"A\", \"B\"]}]"))
            .unwrap_err()
            .contains("multi-label"));
        assert!(unwrap_choice(&v("[{\"rating\": 4}]")).is_err());
    }
}

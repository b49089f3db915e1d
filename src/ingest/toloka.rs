//! Toloka results TSV ("Download results", `shared/formats.md` §5, mapping §11): one row per
//! task within an assignment, tab-separated without quoting.
//!
//! Quirks handled here:
//! - item = `--item-col` (an `INPUT:` id column; `INPUT:` may be left out), else
//!   `ASSIGNMENT:task_id` when exported, else a stable hash of all `INPUT:*` values
//!   (`input-<16 hex>`), since the default export has no task id.
//! - annotator = `ASSIGNMENT:worker_id`; label = `OUTPUT:<name>` (`--label-col`, or the only
//!   `OUTPUT:` column); a JSON list there is multi-label: refused. An empty output is
//!   counted `no_label`.
//! - gold = a non-empty `GOLDEN:<name>` (control tasks); the worker's answer stays an
//!   annotation. Rows with a `HINT:text` come from training pools: counted `training`.
//! - `ASSIGNMENT:status`: `SUBMITTED`/`APPROVED`/`ACCEPTED` kept; `REJECTED`, `SKIPPED`,
//!   `EXPIRED`, `ACTIVE` counted under their lower-case name.
//! - submitted_at = `ASSIGNMENT:submitted` (no offset: UTC). `started` is per task suite, so
//!   no start time or duration is given per task: dividing the suite time would be a guess.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::delimited;
use super::{Fields, Format, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Read one results TSV; returns the number of rows.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let mut rdr = delimited::reader(bytes, Format::Tsv);
    let header = delimited::read_header(path, &mut rdr)?;
    let find = |name: &str| header.iter().position(|h| h == name);
    let with_prefix =
        |prefix: &str, name: &str| find(name).or_else(|| find(&format!("{prefix}{name}")));
    let located = |m: String| Error::data(path, Some(1), m);
    let item_col = match opts.columns.item.as_deref() {
        Some(name) => Some(with_prefix("INPUT:", name).ok_or_else(|| {
            located(format!(
                "--item-col: expected a column {name:?}, found columns {}",
                header.join(",")
            ))
        })?),
        None => find("ASSIGNMENT:task_id"),
    };
    let inputs: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("INPUT:"))
        .collect();
    if item_col.is_none() && inputs.is_empty() {
        return Err(located(format!(
            "expected INPUT: columns or ASSIGNMENT:task_id to identify items, found columns {}",
            header.join(",")
        )));
    }
    let worker_name = opts
        .columns
        .annotator
        .as_deref()
        .unwrap_or("ASSIGNMENT:worker_id");
    let worker_col = find(worker_name).ok_or_else(|| {
        located(format!(
            "missing annotator column: expected {worker_name:?}, found columns {}",
            header.join(",")
        ))
    })?;
    let outputs: Vec<&str> = header
        .iter()
        .filter_map(|h| h.strip_prefix("OUTPUT:"))
        .collect();
    let output = match (opts.columns.label.as_deref(), outputs.as_slice()) {
        (Some(name), _) => name.strip_prefix("OUTPUT:").unwrap_or(name),
        (None, [one]) => one,
        (None, _) => {
            return Err(located(format!(
                "expected one OUTPUT: column (or --label-col), found {}",
                if outputs.is_empty() {
                    "none".to_string()
                } else {
                    outputs.join(", ")
                }
            )))
        }
    }
    .to_string();
    let label_col = find(&format!("OUTPUT:{output}")).ok_or_else(|| {
        located(format!(
            "--label-col: expected a column \"OUTPUT:{output}\", found outputs {}",
            outputs.join(", ")
        ))
    })?;
    let golden_col = find(&format!("GOLDEN:{output}"));
    let hint_col = find("HINT:text");
    let status_col = find("ASSIGNMENT:status");
    let submitted_col = find("ASSIGNMENT:submitted");

    let mut record = csv::ByteRecord::new();
    let mut lines = delimited::Lines::new(bytes);
    let mut rows = 0u64;
    while delimited::next_record(path, &header, &mut rdr, &mut record, &mut lines)? {
        rows += 1;
        let line = lines.of(&record);
        let fail = |m: String| Error::data(path, Some(line), m);
        let cell = |i: usize| delimited::field(path, line, &record, i);
        let opt = |i: Option<usize>| -> Result<Option<&str>> {
            Ok(i.map(cell).transpose()?.filter(|s| !s.is_empty()))
        };
        if opt(hint_col)?.is_some() {
            sink.skip("training");
            continue;
        }
        match opt(status_col)? {
            None | Some("SUBMITTED" | "APPROVED" | "ACCEPTED") => {}
            Some(s @ ("REJECTED" | "SKIPPED" | "EXPIRED" | "ACTIVE")) => {
                sink.skip(&s.to_ascii_lowercase());
                continue;
            }
            Some(other) => {
                return Err(fail(format!(
                    "field \"ASSIGNMENT:status\": expected SUBMITTED, APPROVED, ACCEPTED, \
                     REJECTED, SKIPPED, EXPIRED or ACTIVE, found {other:?}"
                )))
            }
        }
        let label = cell(label_col)?;
        if label.starts_with('[') || label.starts_with('{') {
            return Err(fail(format!(
                "field \"OUTPUT:{output}\": expected one label, found JSON {label:?} \
                 (multi-label and structured outputs are not supported yet)"
            )));
        }
        if label.is_empty() {
            sink.skip("no_label");
            continue;
        }
        let item = match item_col {
            Some(i) => cell(i)?.to_string(),
            None => {
                let mut hasher = Sha256::new();
                for &i in &inputs {
                    hasher.update(cell(i)?.as_bytes());
                    hasher.update([0u8]);
                }
                let digest = hasher.finalize();
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("input-{hex}")
            }
        };
        sink.push(
            path,
            line,
            Fields {
                item: &item,
                annotator: cell(worker_col)?,
                label,
                submitted_at: opt(submitted_col)?,
                gold: opt(golden_col)?,
                ..Fields::default()
            },
        )?;
    }
    Ok(rows)
}

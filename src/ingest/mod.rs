//! Reading annotation exports into a `Dataset`.
//!
//! Each reader (`delimited`, `jsonl`) turns its records into borrowed `Fields`; `RecordSink`
//! validates them (numbers, timestamps, statuses), counts what it does not keep, and feeds the
//! `DatasetBuilder`. Every error names the file and the physical line.

mod columns;
mod delimited;
mod jsonl;
mod values;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use columns::{ColumnMap, ColumnOverrides};

use crate::dataset::{Dataset, DatasetBuilder, Level, Row};
use crate::error::{Error, Result};

/// Input formats this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-, tab- or semicolon-separated with a header (delimiter detected).
    Csv,
    /// Tab-separated with a header.
    Tsv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// Guess the format from a file name; `None` for stdin or an unknown extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub columns: ColumnOverrides,
    /// The format of every input; detected per file when `None`.
    pub format: Option<Format>,
    /// Measurement level: interval and ratio labels must be numbers.
    pub level: Level,
    /// Label order for ordinal data whose labels are not numbers (`--order`).
    pub label_order: Option<Vec<String>>,
    /// A separate gold file with columns `item,label` (or `item,gold_label`).
    pub gold_file: Option<PathBuf>,
}

/// One input file as read, for provenance in the report.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub format: Format,
    /// Data records read (header excluded).
    pub rows: u64,
}

/// The dataset plus what was read to make it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub dataset: Dataset,
    pub files: Vec<InputFile>,
    /// Rows not used because of their `status` column (`skipped`, `rejected`, …), by status.
    pub skipped_by_status: BTreeMap<String, u64>,
}

/// Read every input (and the gold file) into one dataset.
pub fn load(paths: &[PathBuf], opts: &IngestOptions) -> Result<Loaded> {
    if paths.is_empty() {
        return Err(Error::Usage("no input file given".into()));
    }
    let mut sink = RecordSink::new(opts);
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = read_input(path)?;
        let format = detect_format(path, &bytes, opts.format);
        let rows = match format {
            Format::Csv | Format::Tsv => delimited::read(path, &bytes, format, opts, &mut sink)?,
            Format::Jsonl => jsonl::read(path, &bytes, &mut sink)?,
        };
        files.push(InputFile {
            path: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            format,
            rows,
        });
    }
    if let Some(gold_path) = &opts.gold_file {
        let bytes = read_input(gold_path)?;
        delimited::read_gold(gold_path, &bytes, &mut sink.builder)?;
        files.push(InputFile {
            path: gold_path.display().to_string(),
            sha256: sha256_hex(&bytes),
            format: Format::Csv,
            rows: bytes.iter().filter(|&&b| b == b'\n').count() as u64,
        });
    }
    let label_order = opts.label_order.as_deref();
    let dataset = sink
        .builder
        .build(label_order)
        .map_err(|e| Error::Usage(e.to_string()))?;
    if dataset.n_annotations() == 0 {
        let path = paths.last().map(|p| p.as_path()).unwrap_or(Path::new("-"));
        return Err(Error::data(
            path,
            None,
            "expected at least one annotation, found none",
        ));
    }
    if opts.level == Level::Ordinal && dataset.label_values.is_none() && label_order.is_none() {
        return Err(Error::Usage(format!(
            "--level ordinal needs numeric labels or --order (labels found: {})",
            dataset.labels.join(",")
        )));
    }
    Ok(Loaded {
        dataset,
        files,
        skipped_by_status: sink.skipped_by_status,
    })
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    } else {
        bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(bytes)
}

/// Extension first; otherwise a first byte of `{` means JSONL, anything else CSV.
fn detect_format(path: &Path, bytes: &[u8], forced: Option<Format>) -> Format {
    if let Some(format) = forced.or_else(|| Format::from_path(path)) {
        return format;
    }
    let first = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        Format::Jsonl
    } else {
        Format::Csv
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One record's fields as text, before validation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub item: &'a str,
    pub annotator: &'a str,
    pub label: &'a str,
    pub duration_s: Option<&'a str>,
    pub started_at: Option<&'a str>,
    pub submitted_at: Option<&'a str>,
    pub gold: Option<&'a str>,
    pub is_gold: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// Validates records and feeds the builder; shared by every reader.
pub(crate) struct RecordSink<'o> {
    builder: DatasetBuilder,
    opts: &'o IngestOptions,
    skipped_by_status: BTreeMap<String, u64>,
}

impl<'o> RecordSink<'o> {
    fn new(opts: &'o IngestOptions) -> Self {
        RecordSink {
            builder: DatasetBuilder::default(),
            opts,
            skipped_by_status: BTreeMap::new(),
        }
    }

    /// Validate one record found at `path:line` and add it.
    pub fn push(&mut self, path: &Path, line: u64, f: Fields<'_>) -> Result<()> {
        let fail = |message: String| Error::data(path, Some(line), message);
        if f.item.is_empty() {
            return Err(fail("expected an item id, found an empty field".into()));
        }
        if f.annotator.is_empty() {
            return Err(fail(
                "expected an annotator id, found an empty field".into(),
            ));
        }
        for (name, value) in [
            ("item", f.item),
            ("annotator", f.annotator),
            ("label", f.label),
        ] {
            if value.contains(['\n', '\r']) {
                return Err(fail(format!(
                    "field \"{name}\": expected a single-line value, found a line break \
                     (an unterminated quote?)"
                )));
            }
        }
        let status = f.status.map(str::trim).unwrap_or("");
        if !status.is_empty() && !status.eq_ignore_ascii_case("submitted") {
            let known = ["skipped", "rejected"];
            if !known.iter().any(|k| status.eq_ignore_ascii_case(k)) {
                return Err(fail(format!(
                    "field \"status\": expected submitted, skipped or rejected, found {status:?}"
                )));
            }
            *self
                .skipped_by_status
                .entry(status.to_ascii_lowercase())
                .or_insert(0) += 1;
            return Ok(());
        }
        if !f.label.is_empty() && matches!(self.opts.level, Level::Interval | Level::Ratio) {
            values::check_numeric_label(f.label, self.opts.level).map_err(fail)?;
        }
        let duration_s = match f.duration_s.filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(values::parse_duration(s).map_err(fail)?),
            None => None,
        };
        let started = match f.started_at.filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(
                values::parse_timestamp_ms(s)
                    .map_err(|m| fail(format!("field \"started_at\": {m}")))?,
            ),
            None => None,
        };
        let submitted = match f.submitted_at.filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(
                values::parse_timestamp_ms(s)
                    .map_err(|m| fail(format!("field \"submitted_at\": {m}")))?,
            ),
            None => None,
        };
        // Without an explicit duration, the time between start and submission is the effort.
        let duration_s = duration_s.or_else(|| match (started, submitted) {
            (Some(s), Some(e)) if e >= s => Some((e - s) as f32 / 1000.0),
            _ => None,
        });
        let is_gold = match f.is_gold.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                values::parse_bool(s).map_err(|m| fail(format!("field \"is_gold\": {m}")))?
            }
            None => true,
        };
        let gold = f.gold.filter(|g| is_gold && !g.is_empty());
        self.builder.push(Row {
            item: f.item,
            annotator: f.annotator,
            label: f.label,
            duration_s,
            submitted_at_ms: submitted,
            gold,
        });
        Ok(())
    }
}

//! Reading annotation exports into a `Dataset`.
//!
//! Each reader turns its records into borrowed `Fields`; `RecordSink` validates them
//! (numbers, timestamps, statuses), counts what it does not keep by reason, and feeds the
//! `DatasetBuilder`. Every error names the file and the physical line.
//!
//! Readers: the canonical long form (`delimited`, `jsonl`) and platform exports as the
//! platforms write them (`label_studio`, `label_studio_min`, `prodigy`, `mturk`, `toloka`, `sagemaker`,
//! `labelbox`, `doccano`);
//! see `shared/formats.md` §11 for each mapping. `detect` picks the reader per file.

mod columns;
mod delimited;
mod detect;
mod doccano;
mod json_array;
mod jsonl;
mod label_studio;
mod label_studio_min;
mod labelbox;
mod mturk;
mod parallel;
mod prodigy;
mod sagemaker;
mod toloka;
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
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Canonical long form: comma-, tab- or semicolon-separated with a header.
    Csv,
    /// Canonical long form: tab-separated with a header.
    Tsv,
    /// Canonical long form: one JSON object per line.
    Jsonl,
    /// Label Studio JSON: an array of tasks with `annotations[]` (or one task object).
    /// With `--from label-studio`, JSON-MIN and CSV files are recognised by their content.
    LabelStudio,
    /// Label Studio JSON-MIN: an array of flat records, one per non-cancelled annotation.
    LabelStudioMin,
    /// Label Studio CSV/TSV: the JSON-MIN records as a table.
    LabelStudioCsv,
    /// Prodigy `db-out` JSONL: one line per annotation decision.
    Prodigy,
    /// Amazon Mechanical Turk batch results CSV: one row per assignment.
    Mturk,
    /// Toloka results TSV: one row per task within an assignment.
    Toloka,
    /// SageMaker Ground Truth worker responses: a job folder (or one response file).
    SagemakerGt,
    /// Labelbox NDJSON export (v2): one line per data row, labels nested per project.
    Labelbox,
    /// doccano per-user JSONL (`<username>.jsonl`), text classification.
    Doccano,
}

impl Format {
    /// Guess the format from a file name alone; `None` for stdin or an unknown extension.
    /// Platform formats need the content too: see `detect`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The name used by `--from` and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::LabelStudio => "label-studio",
            Format::LabelStudioMin => "label-studio-min",
            Format::LabelStudioCsv => "label-studio-csv",
            Format::Prodigy => "prodigy",
            Format::Mturk => "mturk",
            Format::Toloka => "toloka",
            Format::SagemakerGt => "sagemaker-gt",
            Format::Labelbox => "labelbox",
            Format::Doccano => "doccano",
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
    /// Platform exports: the column holding each item's gold label (MTurk `Input.*`).
    pub gold_column: Option<String>,
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
    /// Records read but not used as annotations, by reason: a `status` column value
    /// (`skipped`, `rejected`) or a platform reason (`cancelled`, `ignored`, `no_annotator`,
    /// `ground_truth` …; see each reader's `//!`).
    pub skipped_by_reason: BTreeMap<String, u64>,
}

/// Read every input (and the gold file) into one dataset.
pub fn load(paths: &[PathBuf], opts: &IngestOptions) -> Result<Loaded> {
    if paths.is_empty() {
        return Err(Error::Usage("no input file given".into()));
    }
    let mut sink = RecordSink::new(opts);
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        // A Ground Truth job is a folder of response files, not one file.
        if path.is_dir() {
            let (rows, sha256) = sagemaker::read_dir(path, opts, &mut sink)?;
            files.push(InputFile {
                path: path.display().to_string(),
                sha256,
                format: Format::SagemakerGt,
                rows,
            });
            continue;
        }
        let bytes = read_input(path)?;
        let format = detect::detect(path, &bytes, opts.format);
        let parallel_rows = parallel::read(path, &bytes, format, opts, &mut sink);
        let rows = match format {
            _ if parallel_rows.is_some() => parallel_rows.unwrap_or_default(),
            Format::Csv | Format::Tsv => delimited::read(path, &bytes, format, opts, &mut sink)?,
            Format::Jsonl => jsonl::read(path, &bytes, &mut sink)?,
            Format::LabelStudio => label_studio::read(path, &bytes, opts, &mut sink)?,
            Format::LabelStudioMin => label_studio_min::read_json(path, &bytes, opts, &mut sink)?,
            Format::LabelStudioCsv => label_studio_min::read_csv(path, &bytes, opts, &mut sink)?,
            Format::Prodigy => prodigy::read(path, &bytes, &mut sink)?,
            Format::Mturk => mturk::read(path, &bytes, opts, &mut sink)?,
            Format::Toloka => toloka::read(path, &bytes, opts, &mut sink)?,
            Format::SagemakerGt => sagemaker::read_file(path, &bytes, opts, &mut sink)?,
            Format::Labelbox => labelbox::read(path, &bytes, opts, &mut sink)?,
            Format::Doccano => doccano::read(path, &bytes, &mut sink)?,
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
        skipped_by_reason: sink.skipped_by_reason,
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
    skipped_by_reason: BTreeMap<String, u64>,
    platform_gold: BTreeMap<String, String>,
}

impl<'o> RecordSink<'o> {
    fn new(opts: &'o IngestOptions) -> Self {
        RecordSink {
            builder: DatasetBuilder::default(),
            opts,
            skipped_by_reason: BTreeMap::new(),
            platform_gold: BTreeMap::new(),
        }
    }

    /// Count a record that a platform reader does not turn into an annotation.
    pub fn skip(&mut self, reason: &str) {
        *self
            .skipped_by_reason
            .entry(reason.to_string())
            .or_insert(0) += 1;
    }

    /// Mark `item` as gold with `label`, without adding an annotation (a platform's
    /// reference answer, e.g. a Label Studio `ground_truth` annotation). Two different
    /// reference answers for one item are an error, not a silent overwrite.
    pub fn set_gold(&mut self, path: &Path, line: u64, item: &str, label: &str) -> Result<()> {
        if item.is_empty() || label.is_empty() {
            return Ok(());
        }
        match self.platform_gold.get(item) {
            Some(first) if first != label => Err(Error::data(
                path,
                Some(line),
                format!("expected one gold label for item {item:?}, found {first:?} and {label:?}"),
            )),
            Some(_) => Ok(()),
            None => {
                self.platform_gold
                    .insert(item.to_string(), label.to_string());
                self.builder.set_gold(item, label);
                Ok(())
            }
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
            self.skip(&status.to_ascii_lowercase());
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

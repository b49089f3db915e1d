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
mod hygiene;
mod invalid;
mod json_array;
mod jsonl;
mod label_studio;
mod label_studio_min;
mod labelbox;
mod mturk;
mod parallel;
#[cfg(feature = "parquet")]
mod parquet;
mod prodigy;
mod sagemaker;
mod sink;
mod toloka;
mod values;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use columns::{ColumnMap, ColumnOverrides};
pub use hygiene::{LabelHygiene, LabelVariants};
pub use invalid::{count_by_reason, write_quarantine, InvalidRecord, OnInvalid};
use parallel::Streaming;
pub(crate) use sink::{Fields, Payload, RecordSink};

use crate::dataset::{Dataset, Level};
use crate::error::{Error, Result};
use crate::timings::stage;

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
    /// Canonical long form as Parquet (cargo feature `parquet`, on by default).
    Parquet,
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
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Whether records are lines (or CSV rows) of the file, rather than parts of one JSON
    /// document: decides how a quarantined record's text is found and how sizes are checked.
    pub fn is_line_based(self) -> bool {
        !matches!(
            self,
            Format::LabelStudio | Format::LabelStudioMin | Format::SagemakerGt | Format::Parquet
        )
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
            Format::Parquet => "parquet",
        }
    }
}

/// Default `--max-record-bytes`: 1 MiB, far above any real annotation record.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;

/// How to read the inputs.
#[derive(Debug, Clone)]
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
    /// Stop at the first invalid record, or set invalid records aside (`--on-invalid`).
    pub on_invalid: OnInvalid,
    /// Longest record accepted, in bytes (`--max-record-bytes`).
    pub max_record_bytes: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            columns: ColumnOverrides::default(),
            format: None,
            level: Level::default(),
            label_order: None,
            gold_file: None,
            gold_column: None,
            on_invalid: OnInvalid::Error,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
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
    /// Records set aside by `--on-invalid skip`, in input order.
    pub invalid: Vec<InvalidRecord>,
    /// What trimming and NFC changed, and labels that differ only by case or whitespace.
    pub label_hygiene: LabelHygiene,
}

/// Read every input (and the gold file) into one dataset.
pub fn load(paths: &[PathBuf], opts: &IngestOptions) -> Result<Loaded> {
    if paths.is_empty() {
        return Err(Error::Usage("no input file given".into()));
    }
    // Standard input can be read once; a second `-` would silently read nothing.
    let stdin_uses = paths
        .iter()
        .chain(opts.gold_file.iter())
        .filter(|p| p.as_path() == Path::new("-"))
        .count();
    if stdin_uses > 1 {
        return Err(Error::Usage(
            "standard input (-) can be given only once".into(),
        ));
    }
    let mut sink = RecordSink::new(opts);
    // The gold file is read and parsed beside the annotation files, and applied after them
    // as before; an error in the annotation files is still the one reported.
    let (files, gold) = rayon::join(
        || read_annotation_files(paths, opts, &mut sink),
        || opts.gold_file.as_deref().map(read_gold_file),
    );
    let mut files = files?;
    if let Some(gold) = gold {
        let (records, file) = gold?;
        stage("ingest/gold", || records.apply(&mut sink));
        files.push(file);
    }
    let last = paths.last().map(|p| p.as_path()).unwrap_or(Path::new("-"));
    finish(sink, files, last, opts)
}

/// Read the annotation files into the sink, in order.
fn read_annotation_files(
    paths: &[PathBuf],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<Vec<InputFile>> {
    let mut files = Vec::with_capacity(paths.len() + 1);
    for path in paths {
        // A Ground Truth job is a folder of response files, not one file.
        if path.is_dir() {
            let (rows, sha256) = sagemaker::read_dir(path, opts, sink)?;
            files.push(InputFile {
                path: path.display().to_string(),
                sha256,
                format: Format::SagemakerGt,
                rows,
            });
            continue;
        }
        let (invalid_before, accepted_before) = (sink.invalid.len(), sink.accepted);
        // Large canonical, Toloka and MTurk files are streamed: read, hashed and parsed in
        // parallel pieces. Anything else, and anything unusual in them (an invalid record,
        // conflicting gold labels), is read whole and then sequentially, which locates it.
        let (format, sha256, rows) =
            match stage("ingest/stream", || parallel::stream_file(path, opts, sink)) {
                Streaming::Done(s) => (s.format, s.sha256, s.rows),
                Streaming::NotStreamable => read_whole(path, true, opts, sink)?,
                Streaming::NeedsSequential => read_whole(path, false, opts, sink)?,
            };
        if sink.accepted == accepted_before {
            if let Some(first) = sink.invalid.get(invalid_before) {
                return Err(nothing_valid(first, sink.invalid.len() - invalid_before));
            }
        }
        files.push(InputFile {
            path: path.display().to_string(),
            sha256,
            format,
            rows,
        });
    }
    Ok(files)
}

/// Read and parse a gold file (not yet applied to any sink), and describe it.
fn read_gold_file(path: &Path) -> Result<(delimited::GoldRecords, InputFile)> {
    let bytes = read_input(path)?;
    let records = delimited::read_gold(path, &bytes)?;
    let file = InputFile {
        path: path.display().to_string(),
        sha256: sha256_hex(&bytes),
        format: Format::Csv,
        rows: bytes.iter().filter(|&&b| b == b'\n').count() as u64,
    };
    Ok((records, file))
}

/// Read the file at `path` (or standard input) into memory and then into the sink, in
/// parallel pieces when `try_parallel` and they allow it; its format, SHA-256 and number of
/// records.
fn read_whole(
    path: &Path,
    try_parallel: bool,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<(Format, String, u64)> {
    let bytes = stage("ingest/read", || read_input(path))?;
    let format = detect::detect(path, &bytes, opts.format);
    let invalid_before = sink.invalid.len();
    // The digest is one sequential pass over the bytes: it runs beside the parsing.
    let (sha256, rows) = rayon::join(
        || stage("ingest/sha256", || sha256_hex(&bytes)),
        || {
            stage("ingest/parse", || {
                let in_parallel = try_parallel
                    .then(|| parallel::read(path, &bytes, format, opts, sink))
                    .flatten();
                match in_parallel {
                    Some(rows) => Ok(rows),
                    None => read_file(path, &bytes, format, opts, sink),
                }
            })
        },
    );
    let rows = rows?;
    if format.is_line_based() {
        invalid::fill_raw_lines(&mut sink.invalid[invalid_before..], path, &bytes);
    }
    Ok((format, sha256, rows))
}

/// Read one export held in memory, named `name` (its extension and file name guide format
/// detection as for a file). For fuzzing and embedding; the same checks as `load`.
pub fn load_bytes(name: &Path, bytes: &[u8], opts: &IngestOptions) -> Result<Loaded> {
    let mut sink = RecordSink::new(opts);
    let format = detect::detect(name, bytes, opts.format);
    let rows = read_file(name, bytes, format, opts, &mut sink)?;
    if let (0, Some(first)) = (sink.accepted, sink.invalid.first()) {
        return Err(nothing_valid(first, sink.invalid.len()));
    }
    if format.is_line_based() {
        invalid::fill_raw_lines(&mut sink.invalid, name, bytes);
    }
    let files = vec![InputFile {
        path: name.display().to_string(),
        sha256: sha256_hex(bytes),
        format,
        rows,
    }];
    finish(sink, files, name, opts)
}

/// A file none of whose records is valid is a structural problem (most often the wrong
/// format or `--from`), not thousands of bad records: one error, the first, with a hint.
fn nothing_valid(first: &InvalidRecord, n: usize) -> Error {
    Error::data(
        &first.path,
        Some(first.line),
        format!(
            "{} (and no record of this file is valid: {n} invalid; wrong format or --from?)",
            first.reason
        ),
    )
}

/// Build the dataset from everything read and check that it can be analysed.
fn finish(
    sink: RecordSink<'_>,
    files: Vec<InputFile>,
    last: &Path,
    opts: &IngestOptions,
) -> Result<Loaded> {
    let label_order = opts.label_order.as_deref();
    let dataset = stage("ingest/build", || sink.builder.build(label_order))
        .map_err(|e| Error::Usage(e.to_string()))?;
    if dataset.n_annotations() == 0 {
        let set_aside = match sink.invalid.len() {
            0 => String::new(),
            n => format!(" ({n} invalid records set aside)"),
        };
        return Err(Error::data(
            last,
            None,
            format!("expected at least one annotation, found none{set_aside}"),
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
        invalid: sink.invalid,
        label_hygiene: sink.hygiene.finish(),
    })
}

/// Read one file in `format` into the sink; returns the number of records.
fn read_file(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    // The canonical readers check each record's size themselves (so that `skip` applies);
    // the platform readers parse whole lines first, so an oversized line stops them here.
    if format.is_line_based() && !matches!(format, Format::Csv | Format::Tsv | Format::Jsonl) {
        check_line_lengths(path, bytes, opts.max_record_bytes)?;
    }
    match format {
        Format::Csv | Format::Tsv => delimited::read(path, bytes, format, opts, sink),
        Format::Jsonl => jsonl::read(path, bytes, sink),
        Format::LabelStudio => label_studio::read(path, bytes, opts, sink),
        Format::LabelStudioMin => label_studio_min::read_json(path, bytes, opts, sink),
        Format::LabelStudioCsv => label_studio_min::read_csv(path, bytes, opts, sink),
        Format::Prodigy => prodigy::read(path, bytes, sink),
        Format::Mturk => mturk::read(path, bytes, opts, sink),
        Format::Toloka => toloka::read(path, bytes, opts, sink),
        Format::SagemakerGt => sagemaker::read_file(path, bytes, opts, sink),
        Format::Labelbox => labelbox::read(path, bytes, opts, sink),
        Format::Doccano => doccano::read(path, bytes, sink),
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::read(path, bytes, sink),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(Error::Usage(format!(
            "{}: Parquet input needs labelaudit built with the `parquet` feature",
            path.display()
        ))),
    }
}

/// A located error for the first physical line longer than `max` bytes.
fn check_line_lengths(path: &Path, bytes: &[u8], max: usize) -> Result<()> {
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.len() > max {
            return Err(Error::data(
                path,
                Some(index as u64 + 1),
                format!(
                    "expected a record of at most {max} bytes (--max-record-bytes), found {} bytes",
                    line.len()
                ),
            ));
        }
    }
    Ok(())
}

/// `s` trimmed and in Unicode NFC: how ids and labels are compared everywhere.
pub fn clean_text(s: &str) -> String {
    hygiene::clean(s).0.into_owned()
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    } else {
        bytes = read_file_bytes(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(bytes)
}

/// Read a whole file; large files in parallel pieces, so that faulting in the fresh buffer's
/// pages and copying from the page cache use every core (one thread reads at about half the
/// speed of the parsing that follows).
#[cfg(unix)]
fn read_file_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    read_in_pieces(path, 16 << 20)
}

/// [`read_file_bytes`] with pieces of `piece_len` bytes (files under four pieces are read
/// in one go).
#[cfg(unix)]
fn read_in_pieces(path: &Path, piece_len: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = match usize::try_from(meta.len()) {
        Ok(len) if meta.is_file() && len >= 4 * piece_len => len,
        _ => return std::fs::read(path),
    };
    let mut bytes = vec![0u8; len];
    bytes
        .par_chunks_mut(piece_len)
        .enumerate()
        .try_for_each(|(i, piece)| file.read_exact_at(piece, (i * piece_len) as u64))?;
    // A file that grew while it was read: start again the ordinary way.
    let mut probe = [0u8; 1];
    if file.read_at(&mut probe, len as u64)? != 0 {
        return std::fs::read(path);
    }
    Ok(bytes)
}

#[cfg(not(unix))]
fn read_file_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A digest as lower-case hex.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, unix))]
mod read_tests {
    #[test]
    fn pieces_reassemble_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        let data: Vec<u8> = (0..10_007u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for piece in [1, 7, 1000, 2501, 1 << 20] {
            assert_eq!(
                super::read_in_pieces(&path, piece).unwrap(),
                data,
                "{piece}"
            );
        }
    }
}

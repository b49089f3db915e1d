//! Command-line arguments (clap derive). Doc comments are the `--help` text. Nothing outside
//! this module and `run` sees clap types: `InputArgs::ingest_options` turns them into
//! validated library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::consensus::Method;
use crate::dataset::Level;
use crate::error::{Error, Result};
use crate::ingest::{ColumnOverrides, Format, IngestOptions, OnInvalid};
use crate::report::export::{ExportFormat, ExportManager};

/// Audit human annotation data: how much annotators agree, and who is not doing the work.
#[derive(Debug, Parser)]
#[command(name = "labelaudit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inter-annotator agreement: every standard coefficient with its uncertainty.
    Agreement(AgreementArgs),
    /// Full audit: agreement, consensus, per-annotator signals, flags and pay/review/hold decisions.
    Audit(AuditArgs),
    /// Aggregate the labels of each item into one consensus label with its confidence.
    Consensus(ConsensusArgs),
    /// Write a synthetic export with known truth and known annotator roles.
    Simulate(SimulateArgs),
    /// Dispute packet of one annotator: provenance, decision, flags in context, the items
    /// behind them, and whether each flag survives reasonable changes.
    Explain(ExplainArgs),
}

/// Measurement level of the labels.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// Unordered categories: any two different labels disagree equally.
    Nominal,
    /// Ordered categories (numbers, or the order given by --order): near misses count less.
    Ordinal,
    /// Numbers whose differences matter (squared distance).
    Interval,
    /// Non-negative numbers with a true zero (relative distance).
    Ratio,
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Level {
        match level {
            LevelArg::Nominal => Level::Nominal,
            LevelArg::Ordinal => Level::Ordinal,
            LevelArg::Interval => Level::Interval,
            LevelArg::Ratio => Level::Ratio,
        }
    }
}

/// Input file format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Canonical long form: comma-, tab- or semicolon-separated with a header.
    Csv,
    /// Canonical long form: tab-separated with a header, no quoting.
    Tsv,
    /// Canonical long form: one JSON object per line.
    Jsonl,
    /// Label Studio export: JSON (tasks with annotations), JSON-MIN or CSV (told by content).
    LabelStudio,
    /// Prodigy `db-out` JSONL.
    Prodigy,
    /// Amazon Mechanical Turk batch results CSV.
    Mturk,
    /// Toloka results TSV ("Download results").
    Toloka,
    /// SageMaker Ground Truth worker responses: give the job folder.
    SagemakerGt,
    /// Labelbox NDJSON export (v2).
    Labelbox,
    /// doccano per-user JSONL files (`<username>.jsonl`).
    Doccano,
    /// Canonical long form as Parquet (utf8/int64 ids, list<utf8> multi-labels).
    Parquet,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Tsv => Format::Tsv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::LabelStudio => Format::LabelStudio,
            FormatArg::Prodigy => Format::Prodigy,
            FormatArg::Mturk => Format::Mturk,
            FormatArg::Toloka => Format::Toloka,
            FormatArg::SagemakerGt => Format::SagemakerGt,
            FormatArg::Labelbox => Format::Labelbox,
            FormatArg::Doccano => Format::Doccano,
            FormatArg::Parquet => Format::Parquet,
        }
    }
}

/// Where the annotations come from and how to read them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Export files: canonical long form (CSV, TSV or JSONL; `-` reads stdin) or platform
    /// exports (Label Studio, Prodigy, MTurk, Toloka, Labelbox, doccano; a Ground Truth job folder).
    /// Several files are read as one batch.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Input format; detected per file from its first record (header names, JSON keys),
    /// then its extension, when absent.
    #[arg(long = "from", value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,
    /// Measurement level of the labels.
    #[arg(long, value_enum, default_value = "nominal")]
    pub level: LevelArg,
    /// Order of non-numeric ordinal labels, lowest first, e.g. "bad,ok,good".
    #[arg(long, value_name = "LABELS", value_delimiter = ',')]
    pub order: Option<Vec<String>>,
    /// Column holding the item id (default: item, item_id, task or task_id).
    #[arg(long, value_name = "NAME")]
    pub item_col: Option<String>,
    /// Column holding the annotator id (default: annotator, worker, rater, performer, …).
    #[arg(long, value_name = "NAME")]
    pub annotator_col: Option<String>,
    /// Column holding the label (default: label, answer or response). Platform exports: the
    /// answer field (MTurk `Answer.NAME`), output (Toloka `OUTPUT:NAME`) or control
    /// (Label Studio `from_name`) to read.
    #[arg(long, value_name = "NAME")]
    pub label_col: Option<String>,
    /// Platform exports: column holding each item's gold label (MTurk default
    /// `Input.gold_label` when present).
    #[arg(long, value_name = "NAME")]
    pub gold_col: Option<String>,
    /// Gold file with columns item,label: the known right label of honeypot items.
    #[arg(long, value_name = "FILE")]
    pub gold: Option<PathBuf>,
    /// Worker threads (default: all cores). Results are identical for any value.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress display on stderr (it is shown only when stderr is a terminal).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// What to do with an invalid record: stop with a located error, or set it aside
    /// (counted by reason in the report, written to --quarantine) and go on. Structural
    /// problems (no header, a missing column, a wrong --from) stop the run either way.
    #[arg(long, value_enum, default_value = "error", value_name = "POLICY")]
    pub on_invalid: OnInvalidArg,
    /// With --on-invalid skip: write the records set aside to this CSV file
    /// (`file,line,reason,record`; `-` for stdout is not allowed, the report goes there).
    #[arg(long, value_name = "PATH")]
    pub quarantine: Option<PathBuf>,
    /// Longest record accepted, in bytes; a longer one is an invalid record.
    #[arg(long, value_name = "BYTES", default_value_t = crate::ingest::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_bytes: usize,
    /// Task type: classification, preference, ranking, rubric or text (docs/feedback-tasks.md).
    /// Without it, preference and ranking labels and free text are detected; anything else is
    /// classification.
    #[arg(long, value_enum, value_name = "TASK")]
    pub task: Option<crate::tasks::Task>,
}

/// What to do with an invalid record.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnInvalidArg {
    /// Stop at the first invalid record with FILE:LINE and what was wrong.
    Error,
    /// Set invalid records aside, count them by reason, and go on.
    Skip,
}

impl InputArgs {
    /// Validated ingest options.
    pub fn ingest_options(&self) -> Result<IngestOptions> {
        let level: Level = self.level.into();
        if self.order.is_some() && level != Level::Ordinal {
            return Err(Error::Usage(
                "--order only applies with --level ordinal".into(),
            ));
        }
        if self.quarantine.is_some() && matches!(self.on_invalid, OnInvalidArg::Error) {
            return Err(Error::Usage(
                "--quarantine only applies with --on-invalid skip".into(),
            ));
        }
        if self.quarantine.as_deref() == Some(std::path::Path::new("-")) {
            return Err(Error::Usage(
                "--quarantine needs a file: standard output carries the report".into(),
            ));
        }
        if self.max_record_bytes == 0 {
            return Err(Error::Usage("--max-record-bytes must be at least 1".into()));
        }
        Ok(IngestOptions {
            columns: ColumnOverrides {
                item: self.item_col.clone(),
                annotator: self.annotator_col.clone(),
                label: self.label_col.clone(),
            },
            format: self.format.map(Format::from),
            level,
            // `--order` names labels as the data will have them: trimmed, in NFC.
            label_order: self
                .order
                .as_ref()
                .map(|o| o.iter().map(|l| crate::ingest::clean_text(l)).collect()),
            gold_file: self.gold.clone(),
            gold_column: self.gold_col.clone(),
            on_invalid: match self.on_invalid {
                OnInvalidArg::Error => OnInvalid::Error,
                OnInvalidArg::Skip => OnInvalid::Skip,
            },
            max_record_bytes: self.max_record_bytes,
        })
    }
}

/// Options of the agreement coefficients.
#[derive(Debug, Args)]
pub struct AgreementOptionsArgs {
    /// Minimum number of co-annotated items for a pair's Cohen's kappa.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_shared: usize,
    /// Bootstrap replicates over items for Krippendorff's alpha (0 disables the interval).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap (and of every other random choice).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Report files; several may be given in one run, `-` writes to stdout (then the terminal
/// rendering is not printed).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the report as JSON to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub export_json: Option<PathBuf>,
    /// Write the report as CSV to PATH: audit, one row per annotator with every signal;
    /// agreement, one row per coefficient; explain, one row per evidence item.
    #[arg(long, value_name = "PATH")]
    pub export_csv: Option<PathBuf>,
    /// Write the report as Markdown to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub export_markdown: Option<PathBuf>,
    /// Write a self-contained HTML report (inline CSS and SVG, works offline) to PATH.
    #[arg(long, value_name = "PATH")]
    pub export_html: Option<PathBuf>,
}

impl ExportArgs {
    /// The export targets, validated (at most one to stdout).
    pub fn manager(&self) -> Result<ExportManager> {
        let targets = [
            (ExportFormat::Json, &self.export_json),
            (ExportFormat::Csv, &self.export_csv),
            (ExportFormat::Markdown, &self.export_markdown),
            (ExportFormat::Html, &self.export_html),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.clone().map(|p| (f, p)))
        .collect();
        ExportManager::new(targets)
    }
}

#[derive(Debug, Args)]
pub struct AgreementArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub agreement: AgreementOptionsArgs,
    /// Print the full report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub agreement: AgreementOptionsArgs,
    /// Policy file (TOML): thresholds, minimum evidence, false discovery rate, severities.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Consensus method the signals are measured against.
    #[arg(long, value_enum, default_value = "dawid-skene")]
    pub method: Method,
    /// Print the full report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when at least one annotator is on hold.
    #[arg(long)]
    pub fail_on_hold: bool,
    /// Also fit MACE to report each annotator's spam probability (no rule uses it; its ten
    /// restarts cost more than the rest of the audit on large batches).
    #[arg(long)]
    pub mace: bool,
    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The annotator whose packet to build (id as in the input).
    #[arg(long, value_name = "ID")]
    pub annotator: String,
    /// Policy file (TOML), as given to `audit`.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Consensus method, as given to `audit`.
    #[arg(long, value_enum, default_value = "dawid-skene")]
    pub method: Method,
    /// Seed, as given to `audit`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// `--mace`, as given to `audit`.
    #[arg(long)]
    pub mace: bool,
    /// Print the packet as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Debug, Args)]
pub struct ConsensusArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Consensus method.
    #[arg(long, value_enum, default_value = "dawid-skene")]
    pub method: Method,
    /// Write `item,label,confidence` CSV to this file (`-` for stdout, the default).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Print JSON (labels, confidence and the model's annotator estimates) instead of CSV.
    #[arg(long, conflicts_with = "out")]
    pub json: bool,
    /// Seed for methods with random restarts (MACE).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of items.
    #[arg(long, default_value_t = 1000)]
    pub items: usize,
    /// Number of annotators.
    #[arg(long, default_value_t = 50)]
    pub annotators: usize,
    /// Annotations per item.
    #[arg(long, default_value_t = 5)]
    pub overlap: usize,
    /// Number of labels (classes).
    #[arg(long, default_value_t = 4)]
    pub labels: usize,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Task type to simulate (preference, rubric, text, ranking use the task roles).
    #[arg(
        long,
        value_enum,
        default_value = "classification",
        value_name = "TASK"
    )]
    pub task: crate::tasks::Task,
}

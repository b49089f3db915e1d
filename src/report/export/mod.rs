//! Exporters: one file per format behind one [`Exporter`] trait, and an [`ExportManager`]
//! that writes every `--export-*` target of a run (after hyperfine's `src/export/`).
//!
//! Every exporter takes one [`Document`] (a plain serializable report value) and nothing
//! else, so what a file says is exactly what the JSON says. Files are written atomically;
//! `-` means stdout. Nothing time- or thread-dependent enters any output.

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::dispute::DisputePacket;
use super::{AuditReport, Report};
use crate::error::{Error, Result};
use crate::quality::{Signal, Signals};

/// The report value an exporter renders.
#[derive(Debug, Clone, Copy)]
pub enum Document<'a> {
    /// `labelaudit agreement`.
    Agreement(&'a Report),
    /// `labelaudit audit`.
    Audit(&'a AuditReport),
    /// `labelaudit explain`: one annotator's dispute packet.
    Dispute(&'a DisputePacket),
}

/// Renders a document in one format.
pub trait Exporter {
    /// Write the whole document to `out`.
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()>;
}

/// Output formats of `--export-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The report's own serialization.
    Json,
    /// One table per report kind (see `csv.rs`).
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML file.
    Html,
}

impl ExportFormat {
    /// The exporter of this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            ExportFormat::Json => Box::new(json::JsonExporter),
            ExportFormat::Csv => Box::new(csv::CsvExporter),
            ExportFormat::Markdown => Box::new(markdown::MarkdownExporter),
            ExportFormat::Html => Box::new(html::HtmlExporter),
        }
    }

    /// The flag that asks for this format.
    pub fn flag(self) -> &'static str {
        match self {
            ExportFormat::Json => "--export-json",
            ExportFormat::Csv => "--export-csv",
            ExportFormat::Markdown => "--export-markdown",
            ExportFormat::Html => "--export-html",
        }
    }
}

/// Every export target of one run.
#[derive(Debug, Clone, Default)]
pub struct ExportManager {
    targets: Vec<(ExportFormat, PathBuf)>,
}

impl ExportManager {
    /// Targets in the order given; at most one may be `-` (stdout), since two formats
    /// interleaved on one stream could be read by nobody.
    pub fn new(targets: Vec<(ExportFormat, PathBuf)>) -> Result<Self> {
        let to_stdout: Vec<&str> = targets
            .iter()
            .filter(|(_, p)| is_stdout(p))
            .map(|(f, _)| f.flag())
            .collect();
        if to_stdout.len() > 1 {
            return Err(Error::Usage(format!(
                "only one export can go to stdout (-), got {}",
                to_stdout.join(" and ")
            )));
        }
        Ok(ExportManager { targets })
    }

    /// Refuse to write over an input (or the gold file): the run reads it first, so the
    /// export would silently replace the data it came from.
    pub fn check_not_inputs<'p>(
        &self,
        inputs: impl IntoIterator<Item = &'p PathBuf>,
    ) -> Result<()> {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        };
        for input in inputs {
            for (format, path) in &self.targets {
                if !is_stdout(path) && same(path, input) {
                    return Err(Error::Usage(format!(
                        "{} {}: refusing to overwrite an input file",
                        format.flag(),
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether any target is stdout (then the terminal rendering is not printed).
    pub fn uses_stdout(&self) -> bool {
        self.targets.iter().any(|(_, p)| is_stdout(p))
    }

    /// Whether no export was asked for.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Write every target: files atomically, `-` to `stdout`.
    pub fn write_all(&self, doc: &Document, stdout: &mut dyn Write) -> Result<()> {
        for (format, path) in &self.targets {
            let exporter = format.exporter();
            if is_stdout(path) {
                exporter
                    .export(doc, stdout)
                    .map_err(|e| Error::io("<stdout>", e))?;
            } else {
                crate::output::write_atomic(path, |w| {
                    exporter.export(doc, w).map_err(|e| Error::io(path, e))
                })?;
            }
        }
        Ok(())
    }
}

fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

/// Every per-annotator signal with its report key, in report order: the columns of the CSV
/// export and the histograms of the HTML report.
pub fn signal_list(s: &Signals) -> [(&'static str, Option<&Signal>); 17] {
    [
        ("agreement_all", s.agreement_all.as_ref()),
        ("agreement_clear", s.agreement_clear.as_ref()),
        ("kappa_all", s.kappa_all.as_ref()),
        ("kappa_clear", s.kappa_clear.as_ref()),
        ("gold_accuracy", s.gold_accuracy.as_ref()),
        ("model_accuracy", s.model_accuracy.as_ref()),
        ("spam_probability", s.spam_probability.as_ref()),
        ("support", s.support.as_ref()),
        ("independence_all", s.independence_all.as_ref()),
        ("independence", s.independence.as_ref()),
        ("top_label_share", s.top_label_share.as_ref()),
        ("label_distribution", s.label_distribution.as_ref()),
        ("runs", s.runs.as_ref()),
        ("median_duration_s", s.median_duration_s.as_ref()),
        ("fast_share", s.fast_share.as_ref()),
        ("duration_robust_z", s.duration_robust_z.as_ref()),
        ("contested_share", s.contested_share.as_ref()),
    ]
}

/// A number with fixed decimals, or an empty string when absent (for CSV cells).
pub(crate) fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(String::new, |x| format!("{x:.decimals$}"))
}

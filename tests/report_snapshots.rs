//! Snapshots (insta) of every exporter on the small simulated batch `fixtures/small`, built
//! in-process so that file paths in the reports stay relative and the bytes are stable.

use std::path::PathBuf;

use labelaudit::agreement::{self, AgreementOptions};
use labelaudit::explain::{explain, ExplainRequest};
use labelaudit::ingest::{self, IngestOptions, Loaded};
use labelaudit::progress::Progress;
use labelaudit::quality::Policy;
use labelaudit::report::export::{Document, ExportFormat};
use labelaudit::report::{InputSummary, Report};

fn load() -> Loaded {
    // Relative paths: cargo runs integration tests in the package root.
    let options = IngestOptions {
        gold_file: Some(PathBuf::from("fixtures/small/gold.csv")),
        ..IngestOptions::default()
    };
    ingest::load(&[PathBuf::from("fixtures/small/annotations.csv")], &options).unwrap()
}

fn render(doc: &Document, format: ExportFormat) -> String {
    let mut out = Vec::new();
    format.exporter().export(doc, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

const FORMATS: [(ExportFormat, &str); 4] = [
    (ExportFormat::Json, "json"),
    (ExportFormat::Csv, "csv"),
    (ExportFormat::Markdown, "md"),
    (ExportFormat::Html, "html"),
];

#[test]
fn agreement_exports() {
    let loaded = load();
    let report = Report::new(
        InputSummary::from_loaded(&loaded),
        agreement::compute(&loaded.dataset, &AgreementOptions::default()),
    );
    for (format, ext) in FORMATS {
        insta::assert_snapshot!(
            format!("agreement_{ext}"),
            render(&Document::Agreement(&report), format)
        );
    }
}

#[test]
fn audit_exports() {
    let loaded = load();
    let report = labelaudit::run::audit(
        &loaded,
        &AgreementOptions::default(),
        &labelaudit::run::ModelSpec::default(),
        &Policy::default(),
        &Progress::hidden(),
    );
    for (format, ext) in FORMATS {
        insta::assert_snapshot!(
            format!("audit_{ext}"),
            render(&Document::Audit(&report), format)
        );
    }
}

#[test]
fn dispute_exports() {
    let loaded = load();
    let policy = Policy::default();
    let request = ExplainRequest {
        annotator: "w5",
        // With MACE, so the packet's spam probability rendering stays covered.
        model: labelaudit::run::ModelSpec {
            mace: true,
            ..Default::default()
        },
        policy: &policy,
        policy_source: "default".into(),
        policy_toml: toml::to_string(&policy).unwrap(),
        command: "labelaudit explain fixtures/small/annotations.csv --annotator w5".into(),
    };
    let packet = explain(&loaded, &request, &Progress::hidden()).unwrap();
    for (format, ext) in FORMATS {
        insta::assert_snapshot!(
            format!("dispute_{ext}"),
            render(&Document::Dispute(&packet), format)
        );
    }
}

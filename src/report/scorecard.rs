//! Terminal renderer of the audit: agreement summary, the per-annotator scorecard sorted by
//! concern, the flags with their evidence, the pairs of concern, and the decisions.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::table::{fmt3, fmt_p, render_agreement, render_input_notes};
use super::AuditReport;
use crate::quality::{Decision, Signal};

fn value(s: &Option<Signal>) -> Option<f64> {
    s.as_ref().and_then(|s| s.value)
}

fn pct(s: &Option<Signal>) -> String {
    value(s).map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0))
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Hold => "hold",
        Decision::Review => "review",
        Decision::Pay => "pay",
        Decision::InsufficientEvidence => "insufficient evidence",
    }
}

/// The whole audit for a terminal.
pub fn render(report: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let i = &report.input;
    writeln!(
        out,
        "{} annotations of {} items by {} annotators ({} labels, {} gold items)",
        i.annotations,
        i.items,
        i.annotators,
        i.labels.len(),
        i.gold_items
    )?;
    render_input_notes(i, out)?;
    render_agreement(&report.agreement, out)?;
    writeln!(
        out,
        "\n{}",
        report.consensus.describe(report.quality.contested_items)
    )?;

    let mut b = Builder::default();
    b.push_record([
        "annotator",
        "items",
        "decision",
        "agree (clear)",
        "kappa (clear)",
        "gold acc.",
        "model acc.",
        "top label",
        "median s",
        "fast",
        "flags",
    ]);
    for a in &report.quality.annotators {
        let s = &a.signals;
        b.push_record([
            a.id.clone(),
            a.items.to_string(),
            decision_name(a.decision).into(),
            pct(&s.agreement_clear),
            fmt3(value(&s.kappa_clear)),
            pct(&s.gold_accuracy),
            pct(&s.model_accuracy),
            pct(&s.top_label_share),
            value(&s.median_duration_s).map_or_else(|| "—".into(), |v| format!("{v:.1}")),
            pct(&s.fast_share),
            a.flags
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    let mut t = b.build();
    t.with(Style::sharp());
    writeln!(out, "\nAnnotators (most concerning first)\n{t}")?;

    if report.quality.flags.is_empty() {
        writeln!(out, "\nNo flags at the policy's false discovery rate.")?;
    } else {
        writeln!(out, "\nFlags")?;
        for f in &report.quality.flags {
            writeln!(
                out,
                "  [{}] {} {}: {} (n = {}, p = {}, q = {})",
                match f.severity {
                    crate::quality::Severity::Hold => "hold",
                    crate::quality::Severity::Review => "review",
                },
                f.annotator,
                f.rule.name(),
                f.message,
                f.n,
                fmt_p(Some(f.p_value)),
                fmt_p(Some(f.q_value))
            )?;
        }
    }
    if !report.quality.pairs_of_concern.is_empty() {
        let mut b = Builder::default();
        b.push_record([
            "annotator A",
            "annotator B",
            "shared",
            "agreement",
            "expected",
            "same minority answers",
            "expected",
            "q",
        ]);
        for p in &report.quality.pairs_of_concern {
            b.push_record([
                p.a.clone(),
                p.b.clone(),
                p.shared_items.to_string(),
                format!("{:.0}%", p.agreement * 100.0),
                format!("{:.0}%", p.expected_agreement * 100.0),
                p.identical_minority_answers.to_string(),
                format!("{:.1}", p.expected_identical_minority_answers),
                fmt_p(Some(p.q_value)),
            ]);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        writeln!(out, "\nPairs of concern (possible copying)\n{t}")?;
    }
    if let Some(task) = &report.task {
        crate::tasks::render::write_text(task, out)?;
    }
    let count = |d: Decision| {
        report
            .quality
            .annotators
            .iter()
            .filter(|a| a.decision == d)
            .count()
    };
    writeln!(
        out,
        "\nDecisions: {} pay, {} review, {} hold, {} insufficient evidence",
        count(Decision::Pay),
        count(Decision::Review),
        count(Decision::Hold),
        count(Decision::InsufficientEvidence)
    )
}

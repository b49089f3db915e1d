//! Terminal tables for the multi-label and span sections of the agreement report.
//! Undefined values print as a dash with their reason, never as NaN.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::table::fmt3;
use crate::agreement::multilabel::MultiLabelAgreement;
use crate::agreement::Estimate;
use crate::spans::SpanAgreement;

fn table(builder: Builder) -> String {
    let mut t = builder.build();
    t.with(Style::sharp());
    t.to_string()
}

fn note(e: &Estimate) -> String {
    e.reason.clone().unwrap_or_default()
}

/// Set-distance alphas and per-label yes/no agreement.
pub fn render_multilabel(m: &MultiLabelAgreement, out: &mut dyn Write) -> io::Result<()> {
    let mut b = Builder::default();
    b.push_record(["coefficient", "value", "items", "note"]);
    for (name, e) in [
        ("Krippendorff's alpha (MASI)", &m.alpha_masi),
        ("Krippendorff's alpha (Jaccard)", &m.alpha_jaccard),
    ] {
        b.push_record([name.into(), fmt3(e.value), e.n_items.to_string(), note(e)]);
    }
    writeln!(
        out,
        "\nMulti-label agreement ({} labels, {} distinct sets, {} empty sets)\n{}",
        m.labels,
        m.distinct_sets,
        m.empty_sets,
        table(b)
    )?;
    let mut b = Builder::default();
    b.push_record([
        "label",
        "prevalence",
        "Fleiss' kappa",
        "alpha",
        "AC1",
        "percent",
    ]);
    for l in &m.per_label {
        b.push_record([
            l.label.clone(),
            fmt3(l.prevalence),
            fmt3(l.fleiss_kappa.value),
            fmt3(l.krippendorff_alpha.value),
            fmt3(l.gwet_ac1.value),
            fmt3(l.percent_agreement.value),
        ]);
    }
    writeln!(out, "\nPer label, present vs absent\n{}", table(b))
}

/// Overall and per-label span F1, then each annotator against the others.
pub fn render_spans(s: &SpanAgreement, out: &mut dyn Write) -> io::Result<()> {
    let mut b = Builder::default();
    b.push_record(["label", "F1 exact", "F1 overlap", "spans compared"]);
    b.push_record([
        "(all)".into(),
        fmt3(s.overall.exact.f1),
        fmt3(s.overall.overlap.f1),
        (s.overall.spans_a + s.overall.spans_b).to_string(),
    ]);
    for l in &s.per_label {
        b.push_record([
            l.label.clone(),
            fmt3(l.scores.exact.f1),
            fmt3(l.scores.overlap.f1),
            (l.scores.spans_a + l.scores.spans_b).to_string(),
        ]);
    }
    let trimmed = if s.trim_whitespace {
        format!(", {} spans trimmed of edge whitespace", s.spans_trimmed)
    } else {
        String::new()
    };
    writeln!(out, "\nSpan agreement (pairwise F1{trimmed})\n{}", table(b))?;
    let mut b = Builder::default();
    b.push_record(["annotator", "pairs", "span F1 exact", "span F1 overlap"]);
    for a in &s.annotators {
        b.push_record([
            a.annotator.clone(),
            a.pairs.to_string(),
            fmt3(a.span_f1),
            fmt3(a.span_f1_overlap),
        ]);
    }
    writeln!(
        out,
        "\nSpan F1 of each annotator against the others\n{}",
        table(b)
    )
}

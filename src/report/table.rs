//! Terminal renderer: the report as tables (tabled), with a short reading of each value.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::{krippendorff_reading, landis_koch, InputSummary, Report};
use crate::agreement::{AgreementReport, Estimate};

/// A number with three decimals, or a dash when there is none.
pub fn fmt3(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

/// A p-value: three significant digits, `<0.001` below that.
pub fn fmt_p(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn fmt_ci(e: &Estimate) -> String {
    e.ci95
        .map_or_else(|| "—".into(), |[lo, hi]| format!("[{lo:.3}, {hi:.3}]"))
}

fn table(builder: Builder) -> String {
    let mut t = builder.build();
    t.with(Style::sharp());
    t.to_string()
}

fn reading(name: &str, e: &Estimate) -> String {
    match (e.value, &e.reason) {
        (None, Some(reason)) => format!("undefined: {reason}"),
        (None, None) => "undefined".into(),
        (Some(v), _) if name.starts_with("Krippendorff") => krippendorff_reading(v).into(),
        (Some(v), _) if name.starts_with("Percent") => format!("{:.1}% of pairs agree", v * 100.0),
        (Some(v), _) => landis_koch(v).into(),
    }
}

/// The coefficient table, the per-label table and the pairs with the lowest kappa.
pub fn render_agreement(a: &AgreementReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &a.coefficients;
    let mut rows: Vec<(&str, &Estimate)> = vec![
        ("Percent agreement", &c.percent_agreement),
        ("Fleiss' kappa", &c.fleiss_kappa),
        ("Conger's kappa", &c.conger_kappa),
        ("Brennan-Prediger", &c.brennan_prediger),
        ("Gwet's AC1", &c.gwet_ac1),
    ];
    if let Some(ac2) = &c.gwet_ac2 {
        rows.push(("Gwet's AC2", ac2));
    }
    rows.push(("Krippendorff's alpha", &c.krippendorff_alpha));
    rows.push(("Light's kappa", &c.light_kappa));
    let mut b = Builder::default();
    b.push_record([
        "coefficient",
        "value",
        "SE",
        "95% CI",
        "p",
        "items",
        "reading",
    ]);
    for (name, e) in rows {
        b.push_record([
            name.to_string(),
            fmt3(e.value),
            fmt3(e.se),
            fmt_ci(e),
            fmt_p(e.p_value),
            e.n_items.to_string(),
            reading(name, e),
        ]);
    }
    writeln!(
        out,
        "Agreement ({} level, {} weights): {} items, {} annotators, {} annotations used",
        a.level.name(),
        a.weights,
        a.items_used,
        a.annotators_used,
        a.annotations_used
    )?;
    writeln!(out, "{}", table(b))?;

    let mut b = Builder::default();
    b.push_record(["label", "specific agreement", "kappa", "annotations"]);
    for l in &a.per_label {
        b.push_record([
            l.label.clone(),
            fmt3(l.specific_agreement),
            fmt3(l.kappa),
            l.n.to_string(),
        ]);
    }
    writeln!(out, "\nPer label\n{}", table(b))?;

    let mut pairs: Vec<_> = a.pairs.iter().filter(|p| p.cohen_kappa.is_some()).collect();
    pairs.sort_by(|x, y| {
        x.cohen_kappa
            .unwrap_or(0.0)
            .total_cmp(&y.cohen_kappa.unwrap_or(0.0))
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    if pairs.is_empty() {
        writeln!(
            out,
            "\nNo annotator pair shares enough items for Cohen's kappa."
        )?;
    } else {
        let mut b = Builder::default();
        b.push_record([
            "annotator A",
            "annotator B",
            "shared items",
            "Cohen's kappa",
            "SE",
        ]);
        for p in pairs.iter().take(10) {
            b.push_record([
                p.a.clone(),
                p.b.clone(),
                p.shared_items.to_string(),
                fmt3(p.cohen_kappa),
                fmt3(p.cohen_kappa_se),
            ]);
        }
        writeln!(
            out,
            "\nLowest pairwise Cohen's kappa ({} of {} pairs)\n{}",
            pairs.len().min(10),
            pairs.len(),
            table(b)
        )?;
    }
    if let Some(m) = &a.multilabel {
        super::multilabel_table::render_multilabel(m, out)?;
    }
    if let Some(s) = &a.spans {
        super::multilabel_table::render_spans(s, out)?;
    }
    for note in &a.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// The whole agreement report for a terminal.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let i = &report.input;
    writeln!(
        out,
        "{} annotations of {} items by {} annotators ({} labels) from {} file(s)",
        i.annotations,
        i.items,
        i.annotators,
        i.labels.len(),
        i.files.len()
    )?;
    let s = &i.skipped;
    writeln!(
        out,
        "not used: {} empty labels, {} replaced duplicates, {} items with one annotation{}\n",
        s.empty_label,
        s.duplicate,
        s.single_annotation_items,
        s.by_reason
            .iter()
            .map(|(k, v)| format!(", {v} {k}"))
            .collect::<String>()
    )?;
    render_input_notes(i, out)?;
    render_agreement(&report.agreement, out)
}

/// Notes on what the audit did not use (invalid records) and on label hygiene, so that a
/// table reader learns it without opening the JSON.
pub fn render_input_notes(i: &InputSummary, out: &mut dyn Write) -> io::Result<()> {
    let invalid: u64 = i.skipped.invalid.values().sum();
    if invalid > 0 {
        writeln!(
            out,
            "note: {invalid} invalid record(s) set aside and not used (--on-invalid skip):"
        )?;
        for (reason, n) in &i.skipped.invalid {
            writeln!(out, "  {n} × {reason}")?;
        }
    }
    let h = &i.label_hygiene;
    if h.values_trimmed > 0 || h.values_nfc_normalized > 0 {
        writeln!(
            out,
            "note: {} id/label value(s) had surrounding whitespace trimmed, {} were normalized to Unicode NFC",
            h.values_trimmed, h.values_nfc_normalized
        )?;
    }
    for g in &h.case_or_whitespace_variants {
        let spellings: Vec<String> = g
            .spellings
            .iter()
            .map(|(s, n)| format!("{s:?} ({n})"))
            .collect();
        let kept = if g.labels.len() > 1 {
            format!("kept as {} different labels", g.labels.len())
        } else {
            "merged by trimming and NFC".to_string()
        };
        writeln!(
            out,
            "note: labels differ only by case, whitespace or Unicode form, {kept}: {}",
            spellings.join(", ")
        )?;
    }
    if invalid > 0 || h.values_trimmed > 0 || !h.case_or_whitespace_variants.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

//! CSV exporter (csv crate, so quoting is always right). Audit: one row per annotator with
//! the decision, the raised rules and, for every signal, its value, n and p-value. Agreement:
//! one row per coefficient. Explain: one row per evidence item. Floats have six decimals;
//! an absent value is an empty cell.

use std::io::{self, Write};

use super::{num, signal_list, Document, Exporter};
use crate::agreement::{AgreementReport, Estimate};
use crate::quality::Signals;
use crate::report::dispute::DisputePacket;
use crate::report::AuditReport;

/// `--export-csv`.
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Agreement(r) => agreement(&r.agreement, out),
            Document::Audit(r) => audit(r, out),
            Document::Dispute(r) => dispute(r, out),
        }
    }
}

/// The coefficients of an agreement report with their display names, in report order.
pub fn coefficient_list(a: &AgreementReport) -> Vec<(&'static str, &'static str, &Estimate)> {
    let c = &a.coefficients;
    let mut rows = vec![(
        "percent_agreement",
        "Percent agreement",
        &c.percent_agreement,
    )];
    if let Some(w) = &c.weighted_percent_agreement {
        rows.push((
            "weighted_percent_agreement",
            "Weighted percent agreement",
            w,
        ));
    }
    rows.extend([
        ("fleiss_kappa", "Fleiss' kappa", &c.fleiss_kappa),
        ("conger_kappa", "Conger's kappa", &c.conger_kappa),
        ("brennan_prediger", "Brennan-Prediger", &c.brennan_prediger),
        ("gwet_ac1", "Gwet's AC1", &c.gwet_ac1),
    ]);
    if let Some(ac2) = &c.gwet_ac2 {
        rows.push(("gwet_ac2", "Gwet's AC2", ac2));
    }
    rows.push((
        "krippendorff_alpha",
        "Krippendorff's alpha",
        &c.krippendorff_alpha,
    ));
    rows.push(("light_kappa", "Light's kappa", &c.light_kappa));
    rows
}

fn agreement(a: &AgreementReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "coefficient",
        "value",
        "se",
        "ci95_low",
        "ci95_high",
        "p_value",
        "n_items",
        "status",
        "reason",
    ])?;
    for (key, _, e) in coefficient_list(a) {
        let status = if e.value.is_some() { "ok" } else { "undefined" };
        w.write_record([
            key.to_string(),
            num(e.value, 6),
            num(e.se, 6),
            num(e.ci95.map(|c| c[0]), 6),
            num(e.ci95.map(|c| c[1]), 6),
            num(e.p_value, 6),
            e.n_items.to_string(),
            status.to_string(),
            e.reason.clone().unwrap_or_default(),
        ])?;
    }
    w.flush()
}

fn audit(r: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = ["annotator", "items", "decision", "flags"]
        .map(String::from)
        .to_vec();
    for (key, _) in signal_list(&Signals::default()) {
        header.extend([key.to_string(), format!("{key}_n"), format!("{key}_p")]);
    }
    // AI-feedback task signals: one (statistic, n, one-sided p) triple per signal name.
    let task_names = r
        .task
        .as_ref()
        .map(crate::tasks::render::signal_names)
        .unwrap_or_default();
    for key in &task_names {
        header.extend([key.to_string(), format!("{key}_n"), format!("{key}_p")]);
    }
    w.write_record(&header)?;
    for a in &r.quality.annotators {
        let mut row = vec![
            a.id.clone(),
            a.items.to_string(),
            decision_key(a.decision).to_string(),
            a.flags
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(";"),
        ];
        for (_, s) in signal_list(&a.signals) {
            row.push(num(s.and_then(|s| s.value), 6));
            row.push(s.map_or_else(String::new, |s| s.n.to_string()));
            row.push(num(s.and_then(|s| s.p_value), 6));
        }
        if let Some(t) = &r.task {
            row.extend(crate::tasks::render::csv_cells(t, &a.id, &task_names));
        }
        w.write_record(&row)?;
    }
    w.flush()
}

fn dispute(p: &DisputePacket, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "annotator",
        "item",
        "label",
        "consensus",
        "consensus_confidence",
        "gold",
        "contested",
        "top_share",
        "duration_s",
        "others",
    ])?;
    for e in &p.evidence.items {
        let others = e
            .others
            .iter()
            .map(|o| format!("{}={}", o.annotator, o.label))
            .collect::<Vec<_>>()
            .join(";");
        w.write_record([
            p.annotator.id.clone(),
            e.item.clone(),
            e.label.clone(),
            e.consensus.clone().unwrap_or_default(),
            num(e.consensus_confidence, 6),
            e.gold.clone().unwrap_or_default(),
            e.contested.to_string(),
            num(e.top_share, 6),
            num(e.duration_s, 3),
            others,
        ])?;
    }
    w.flush()
}

/// The decision as written in JSON.
pub fn decision_key(d: crate::quality::Decision) -> &'static str {
    use crate::quality::Decision;
    match d {
        Decision::Hold => "hold",
        Decision::Review => "review",
        Decision::Pay => "pay",
        Decision::InsufficientEvidence => "insufficient_evidence",
    }
}

//! Plain-text pieces of the task section, shared by the scorecard, Markdown, HTML and CSV
//! exporters so they all say the same thing.

use super::audit::{TaskAgreement, TaskReport};

fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

/// Mean linear-weighted Cohen's kappa over the pairs that have one.
fn mean_linear_kappa(r: &crate::agreement::AgreementReport) -> Option<f64> {
    let v: Vec<f64> = r
        .pairs
        .iter()
        .filter_map(|p| p.cohen_kappa_linear.flatten())
        .filter(|x| x.is_finite())
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// One line per agreement figure: (what, value).
pub fn agreement_lines(t: &TaskReport) -> Vec<(String, String)> {
    let mut out = vec![(
        "task".to_string(),
        format!(
            "{}{}",
            t.task.name(),
            if t.detected {
                " (detected from the labels)"
            } else {
                ""
            }
        ),
    )];
    match &t.agreement {
        TaskAgreement::Preference {
            choice,
            strength,
            judgments,
            judgments_with_order,
        } => {
            let c = &choice.coefficients;
            let s = &strength.coefficients;
            out.push((
                "judgments (with presentation order)".into(),
                format!("{judgments} ({judgments_with_order})"),
            ));
            out.push((
                "choice Fleiss' kappa (nominal)".into(),
                num(c.fleiss_kappa.value),
            ));
            out.push((
                "choice Krippendorff's alpha (nominal)".into(),
                num(c.krippendorff_alpha.value),
            ));
            out.push((
                "strength linear-weighted Cohen's kappa (ordinal, mean over pairs)".into(),
                num(mean_linear_kappa(strength)),
            ));
            out.push((
                "strength Gwet's AC2 (ordinal)".into(),
                num(s.gwet_ac2.as_ref().and_then(|e| e.value)),
            ));
            out.push((
                "strength Krippendorff's alpha (ordinal)".into(),
                num(s.krippendorff_alpha.value),
            ));
        }
        TaskAgreement::Rubric { level, dimensions } => {
            for d in dimensions {
                out.push((
                    format!("{}: Krippendorff's alpha ({})", d.dimension, level.name()),
                    num(d.agreement.coefficients.krippendorff_alpha.value),
                ));
                let icc = match (&d.icc_2_1, &d.icc_reason) {
                    (None, Some(reason)) => format!("not computed: {reason}"),
                    _ => format!(
                        "{} / {} ({} fully crossed items)",
                        num(d.icc_2_1.as_ref().and_then(|f| f.value)),
                        num(d.icc_2_k.as_ref().and_then(|f| f.value)),
                        d.icc_items
                    ),
                };
                out.push((format!("{}: ICC(2,1) / ICC(2,k)", d.dimension), icc));
            }
        }
        TaskAgreement::Ranking {
            items,
            rows_incomplete,
            items_w_significant,
            agreement,
        } => {
            out.push((
                "ranked items (rows with a different response set)".into(),
                format!("{items} ({rows_incomplete})"),
            ));
            out.push(("mean Kendall's W".into(), num(agreement.mean_w)));
            out.push((
                "items with W significant at 5% (chi-square)".into(),
                format!("{items_w_significant} of {}", agreement.items_used),
            ));
            out.push((
                "mean pairwise Spearman rho".into(),
                num(agreement.mean_pairwise_spearman),
            ));
            out.push((
                "mean pairwise Kendall tau-b".into(),
                num(agreement.mean_pairwise_kendall_tau_b),
            ));
        }
        TaskAgreement::Text(s) => {
            out.push((
                "answers (empty)".into(),
                format!("{} ({})", s.answers, s.empty_answers),
            ));
            out.push((
                "median length (characters)".into(),
                num(s.median_length_chars),
            ));
            out.push((
                "mean within-item similarity (Jaccard, 5-shingles)".into(),
                num(s.mean_within_item_similarity),
            ));
            out.push((
                format!(
                    "near-duplicate pairs (Jaccard ≥ {})",
                    s.similarity_threshold
                ),
                s.near_duplicate_pairs.to_string(),
            ));
        }
    }
    out
}

/// Signal table header.
pub const SIGNAL_HEADER: [&str; 7] = [
    "annotator",
    "signal",
    "n",
    "statistic",
    "cohort",
    "p (one-sided)",
    "evidence",
];

/// Signal table rows (cells as text), in report order.
pub fn signal_rows(t: &TaskReport) -> Vec<[String; 7]> {
    t.signals
        .iter()
        .map(|s| {
            [
                s.annotator.clone(),
                s.signal.to_string(),
                s.n.to_string(),
                num(s.statistic),
                num(s.expected),
                s.p_value
                    .map_or_else(|| "—".into(), crate::quality::flags::fmt_p),
                if s.evidence.is_empty() {
                    s.reason.clone().unwrap_or_default()
                } else {
                    s.evidence.clone()
                },
            ]
        })
        .collect()
}

/// The task section as plain text (the terminal scorecard): agreement lines only; the
/// signals are in the JSON, Markdown, HTML and CSV outputs.
pub fn write_text(t: &TaskReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "\nTask agreement")?;
    for (k, v) in agreement_lines(t) {
        writeln!(out, "  {k}: {v}")?;
    }
    for n in &t.notes {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// Distinct signal names in report order (the CSV columns).
pub fn signal_names(t: &TaskReport) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for s in &t.signals {
        if !names.contains(&s.signal) {
            names.push(s.signal);
        }
    }
    names
}

/// CSV cells (statistic, n, p) of one annotator for each name of `signal_names`.
pub fn csv_cells(t: &TaskReport, annotator: &str, names: &[&'static str]) -> Vec<String> {
    let mut out = Vec::with_capacity(names.len() * 3);
    for name in names {
        match t
            .signals
            .iter()
            .find(|s| s.signal == *name && s.annotator == annotator)
        {
            Some(s) => {
                let f = |x: Option<f64>| {
                    x.filter(|v| v.is_finite())
                        .map_or_else(String::new, |v| format!("{v:.6}"))
                };
                out.extend([f(s.statistic), s.n.to_string(), f(s.p_value)]);
            }
            None => out.extend([String::new(), String::new(), String::new()]),
        }
    }
    out
}

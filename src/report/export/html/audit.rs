//! The audit's HTML sections beyond agreement: the annotator scatter, one histogram per
//! signal with the policy's thresholds, flags, pairs of concern, the annotator table and the
//! Dawid-Skene confusion matrices.

use std::fmt::Write as _;

use super::svg::{histogram, scatter, Point};
use super::{agreement, decision_cell, decision_colour, esc, f3, fp, summary, table};
use crate::quality::{Decision, Policy};
use crate::report::export::csv::decision_key;
use crate::report::export::signal_list;
use crate::report::AuditReport;

/// The policy threshold drawn on a signal's histogram.
fn thresholds(key: &str, p: &Policy) -> Vec<(f64, String)> {
    let t = |v: f64, name: &str| vec![(v, format!("{name} {v}"))];
    match key {
        "agreement_clear" => t(p.agreement_standard, "agreement_standard"),
        "kappa_clear" => t(p.random_kappa_max, "random_kappa_max"),
        "gold_accuracy" => t(p.gold_standard, "gold_standard"),
        "top_label_share" => t(p.straight_line_share, "straight_line_share"),
        "fast_share" => t(p.fast_share, "fast_share"),
        "median_duration_s" => t(p.fast_floor_s, "fast_floor_s"),
        "duration_robust_z" => t(p.fast_robust_z, "fast_robust_z"),
        _ => Vec::new(),
    }
}

/// The whole audit report body.
pub(super) fn render(r: &AuditReport) -> String {
    let q = &r.quality;
    let count = |d: Decision| q.annotators.iter().filter(|a| a.decision == d).count();
    let extra = format!(
        "<p>Decisions: <strong>{} pay, {} review, {} hold, {} insufficient evidence</strong>; {} flags from {} tests at a false discovery rate of {}. {}</p>",
        count(Decision::Pay), count(Decision::Review), count(Decision::Hold), count(Decision::InsufficientEvidence),
        q.flags.len(), q.tests, q.policy.fdr, esc(&r.consensus.describe(q.contested_items))
    );
    let mut b = summary(&r.input, Some(extra));
    agreement(&r.agreement, &mut b);

    b.push_str("<section id=\"scatter\"><h2>Annotators: agreement and speed</h2>");
    let points: Vec<Point> = q
        .annotators
        .iter()
        .filter_map(|a| {
            let y = a.signals.agreement_clear.as_ref()?.value?;
            let x = a
                .signals
                .median_duration_s
                .as_ref()
                .and_then(|s| s.value)
                .unwrap_or(0.0);
            Some(Point {
                x,
                y,
                size: a.items as f64,
                colour: decision_colour(a.decision),
                name: format!("{} ({}, {} items)", a.id, decision_key(a.decision), a.items),
                label: (!a.flags.is_empty()).then(|| a.id.clone()),
            })
        })
        .collect();
    if points.is_empty() {
        b.push_str("<p>No annotator has an agreement value.</p>");
    } else {
        b.push_str(&scatter(
            &points,
            "median seconds per item",
            "agreement with consensus (clear items)",
            "Annotators by agreement and speed",
        ));
        let _ = write!(
            b,
            "<p class=\"legend\">Point area: items annotated. Colour: decision <span class=\"pay\">pay</span><span class=\"review\">review</span><span class=\"hold\">hold</span><span class=\"insufficient_evidence\">insufficient evidence</span>; flagged annotators are named. Agreement is with the majority of the other annotators on clear items{}.</p>",
            if q.annotators.iter().all(|a| a.signals.median_duration_s.is_none()) { "; the input has no timing, so every point sits at 0 seconds" } else { "" }
        );
    }
    b.push_str("</section>\n<section id=\"signals\"><h2>Signal distributions</h2><p class=\"note\">One histogram per signal over all annotators; dashed red lines are the policy's thresholds. A flag needs the threshold crossed <em>and</em> q ≤ the false discovery rate, so an annotator past a line is not necessarily flagged.</p><div class=\"grid\">");
    for (i, (key, _)) in signal_list(&Default::default()).iter().enumerate() {
        let values: Vec<f64> = q
            .annotators
            .iter()
            .filter_map(|a| signal_list(&a.signals)[i].1.and_then(|s| s.value))
            .collect();
        if values.is_empty() {
            continue;
        }
        let _ = write!(
            b,
            "<figure>{}<figcaption>{} (n = {})</figcaption></figure>",
            histogram(&values, &thresholds(key, &q.policy), key, key),
            esc(key),
            values.len()
        );
    }
    b.push_str("</div></section>\n<section id=\"flags\"><h2>Flags</h2>");
    if q.flags.is_empty() {
        b.push_str("<p>No flags at the policy's false discovery rate.</p>");
    } else {
        let rows: Vec<Vec<String>> = q
            .flags
            .iter()
            .map(|f| {
                let sev = format!("{:?}", f.severity).to_lowercase();
                vec![
                    format!("<td>{}</td>", esc(&f.annotator)),
                    format!("<td>{}</td>", esc(f.rule.name())),
                    format!("<td class=\"{sev}\">{sev}</td>"),
                    f3(f.statistic),
                    f3(f.threshold),
                    f.n.to_string(),
                    fp(Some(f.p_value)),
                    fp(Some(f.q_value)),
                    format!("<td>{}</td>", esc(&f.message)),
                ]
            })
            .collect();
        table(
            &mut b,
            &[
                "annotator",
                "rule",
                "action",
                "statistic",
                "threshold",
                "n",
                "p",
                "q",
                "finding and what clears it",
            ],
            &rows,
        );
    }
    if let Some(t) = &r.task {
        task_section(t, &mut b);
    }
    if !q.pairs_of_concern.is_empty() {
        b.push_str("<h3>Pairs of concern (possible copying)</h3>");
        let rows: Vec<Vec<String>> = q
            .pairs_of_concern
            .iter()
            .map(|p| {
                vec![
                    format!("<td>{}</td>", esc(&p.a)),
                    format!("<td>{}</td>", esc(&p.b)),
                    p.shared_items.to_string(),
                    format!("{:.3}", p.agreement),
                    format!("{:.3}", p.expected_agreement),
                    p.identical_minority_answers.to_string(),
                    format!("{:.1}", p.expected_identical_minority_answers),
                    fp(Some(p.q_value)),
                ]
            })
            .collect();
        table(
            &mut b,
            &[
                "annotator A",
                "annotator B",
                "shared",
                "agreement",
                "expected",
                "same minority answers",
                "expected",
                "q",
            ],
            &rows,
        );
    }
    b.push_str("</section>\n<section id=\"annotators\"><h2>Annotators</h2>");
    let rows: Vec<Vec<String>> = q
        .annotators
        .iter()
        .map(|a| {
            let v = |s: &Option<crate::quality::Signal>| f3(s.as_ref().and_then(|s| s.value));
            vec![
                format!("<td>{}</td>", esc(&a.id)),
                a.items.to_string(),
                decision_cell(a.decision),
                v(&a.signals.agreement_clear),
                v(&a.signals.kappa_clear),
                v(&a.signals.gold_accuracy),
                v(&a.signals.model_accuracy),
                v(&a.signals.median_duration_s),
                format!(
                    "<td>{}</td>",
                    esc(&a
                        .flags
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "))
                ),
            ]
        })
        .collect();
    table(
        &mut b,
        &[
            "annotator",
            "items",
            "decision",
            "agreement (clear)",
            "kappa (clear)",
            "gold accuracy",
            "model accuracy",
            "median s",
            "flags",
        ],
        &rows,
    );
    b.push_str("</section>\n");
    confusion(r, &mut b);
    b
}

fn confusion(r: &AuditReport, b: &mut String) {
    let labels = &r.input.labels;
    b.push_str("<section id=\"confusion\"><h2>Confusion matrices against consensus</h2><p class=\"note\">Dawid-Skene estimate per annotator: row = consensus (true) label, column = label given, each row sums to 1. An honest annotator has a dark diagonal; a spammer has flat rows; a label swapper has dark off-diagonal cells.</p>");
    let mut any = false;
    b.push_str("<div class=\"grid\">");
    for a in &r.quality.annotators {
        let Some(m) = &a.confusion else { continue };
        any = true;
        let _ = write!(b, "<figure><figcaption><strong>{}</strong> — {}</figcaption><table class=\"cm\"><tr><th>true \\ given</th>", esc(&a.id), decision_key(a.decision).replace('_', " "));
        for l in labels {
            let _ = write!(b, "<th>{}</th>", esc(l));
        }
        b.push_str("</tr>");
        for (i, row) in m.iter().enumerate() {
            let _ = write!(
                b,
                "<tr><th>{}</th>",
                esc(labels.get(i).map_or("", String::as_str))
            );
            for v in row {
                let alpha = v.clamp(0.0, 1.0);
                let _ = write!(
                    b,
                    "<td style=\"background:rgba(33,102,172,{alpha:.2});color:{}\">{v:.2}</td>",
                    if alpha > 0.6 { "#fff" } else { "#222" }
                );
            }
            b.push_str("</tr>");
        }
        b.push_str("</table></figure>");
    }
    b.push_str("</div>");
    if !any {
        b.push_str(
            "<p>The consensus method has no confusion matrices (only Dawid-Skene does).</p>",
        );
    }
    b.push_str("</section>\n");
}

/// The AI-feedback task section: what was audited, task agreement and every task signal.
pub(super) fn task_section(t: &crate::tasks::audit::TaskReport, b: &mut String) {
    let _ = write!(b, "<h3>Task: {}</h3>", esc(t.task.name()));
    let rows: Vec<Vec<String>> = crate::tasks::render::agreement_lines(t)
        .into_iter()
        .map(|(k, v)| vec![format!("<td>{}</td>", esc(&k)), esc(&v)])
        .collect();
    table(b, &["measure", "value"], &rows);
    for n in &t.notes {
        let _ = write!(b, "<p><em>{}</em></p>", esc(n));
    }
    let rows: Vec<Vec<String>> = crate::tasks::render::signal_rows(t)
        .into_iter()
        .map(|c| c.iter().map(|x| format!("<td>{}</td>", esc(x))).collect())
        .collect();
    table(b, &crate::tasks::render::SIGNAL_HEADER, &rows);
}

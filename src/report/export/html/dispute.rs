//! The dispute packet as HTML: decision, provenance, flags in context, sensitivity, the
//! item-level evidence and the policy in force.

use std::fmt::Write as _;

use super::svg::histogram;
use super::{decision_cell, esc, f3, files_table, table};
use crate::report::dispute::DisputePacket;
use crate::report::export::csv::decision_key;
use crate::report::export::markdown::no_flag_text;

/// The whole packet body.
pub(super) fn render(p: &DisputePacket) -> String {
    let a = &p.annotator;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<section id=\"summary\"><h2>Decision</h2><p>Annotator <strong>{}</strong>: <span class=\"{}\">&nbsp;{}&nbsp;</span> on {} items, {} flag(s), in a cohort of {} annotators (false discovery rate {}).</p></section>",
        esc(&a.id), decision_key(a.decision), decision_key(a.decision).replace('_', " "), a.items, p.flags.len(), p.cohort_size, p.fdr
    );
    let pr = &p.provenance;
    let _ = write!(
        b,
        "<section id=\"provenance\"><h2>Provenance</h2><p>labelaudit {}; consensus {}; seed {}; policy {} (SHA-256 <code>{}</code>).</p><p>Rerun: <code>{}</code></p>",
        esc(pr.tool_version), pr.method.name(), pr.seed, esc(&pr.policy_source), pr.policy_sha256, esc(&pr.command)
    );
    files_table(&mut b, &pr.files);
    b.push_str("</section>\n<section id=\"flags\"><h2>Flags</h2>");
    if p.flags.is_empty() {
        let _ = write!(b, "<p>{}</p>", esc(no_flag_text(p)));
    }
    for f in &p.flags {
        let _ = write!(
            b,
            "<h3>{}</h3><p>{}</p><p>{}</p>",
            esc(f.flag.rule.name()),
            esc(&f.explanation),
            esc(&f.flag.message)
        );
        if let (Some(d), Some(key)) = (&f.cohort, f.signal) {
            let mut lines = Vec::new();
            if let Some(v) = f.signal_value {
                lines.push((v, "this annotator".to_string()));
                // The threshold shares the signal's scale only when the rule's statistic is
                // the signal itself (not for chi-square or runs z rules).
                if let Some(t) = f
                    .flag
                    .threshold
                    .filter(|_| f.flag.statistic.is_some_and(|s| (s - v).abs() < 1e-9))
                {
                    lines.push((t, format!("threshold {t}")));
                }
            }
            let _ = write!(
                b,
                "<figure>{}<figcaption>Cohort {}: min {:.3}, quartiles {:.3} / {:.3} / {:.3}, max {:.3} (n = {}).</figcaption></figure>",
                histogram(&f.cohort_values, &lines, key, key),
                esc(key),
                d.min,
                d.q1,
                d.median,
                d.q3,
                d.max,
                d.n
            );
        }
    }
    b.push_str("</section>\n<section id=\"sensitivity\"><h2>Sensitivity</h2>");
    let rows: Vec<Vec<String>> = p
        .sensitivity
        .iter()
        .map(|s| {
            vec![
                format!("<td>{}</td>", esc(&s.name)),
                s.decision
                    .map_or_else(|| "<td>—</td>".into(), decision_cell),
                format!(
                    "<td>{}</td>",
                    esc(&s
                        .flags
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "))
                ),
                format!(
                    "<td>{}</td>",
                    esc(&s
                        .original_flags_hold
                        .iter()
                        .map(|h| format!(
                            "{}: {}",
                            h.rule.name(),
                            if h.holds { "holds" } else { "does not hold" }
                        ))
                        .collect::<Vec<_>>()
                        .join(", "))
                ),
                format!("<td>{}</td>", esc(&s.description)),
            ]
        })
        .collect();
    table(
        &mut b,
        &[
            "scenario",
            "decision",
            "flags",
            "original flags",
            "what changed",
        ],
        &rows,
    );
    let e = &p.evidence;
    let _ = write!(
        b,
        "</section>\n<section id=\"evidence\"><h2>Evidence</h2><p>Of {} items, the label differs from the consensus on {} and from the gold label on {}; {} of the listed items are contested (not counted by the rules).</p>",
        e.items_total, e.disagree_with_consensus, e.disagree_with_gold, e.contested
    );
    let rows: Vec<Vec<String>> = e
        .items
        .iter()
        .map(|i| {
            vec![
                format!("<td>{}</td>", esc(&i.item)),
                format!("<td>{}</td>", esc(&i.label)),
                format!(
                    "<td>{}</td>",
                    i.consensus.as_deref().map_or_else(|| "—".into(), esc)
                ),
                f3(i.consensus_confidence),
                format!(
                    "<td>{}</td>",
                    i.gold.as_deref().map_or_else(|| "—".into(), esc)
                ),
                format!(
                    "<td>{}</td>",
                    esc(&i
                        .others
                        .iter()
                        .map(|o| format!("{}: {}", o.annotator, o.label))
                        .collect::<Vec<_>>()
                        .join(", "))
                ),
                i.duration_s
                    .map_or_else(|| "—".into(), |d| format!("{d:.1}")),
                format!("<td>{}</td>", if i.contested { "yes" } else { "no" }),
            ]
        })
        .collect();
    table(
        &mut b,
        &[
            "item",
            "label",
            "consensus",
            "confidence",
            "gold",
            "others",
            "seconds",
            "contested",
        ],
        &rows,
    );
    let _ = write!(
        b,
        "</section>\n<section id=\"policy\"><h2>Policy in force</h2><pre>{}</pre></section>\n",
        esc(&pr.policy_toml)
    );
    b
}

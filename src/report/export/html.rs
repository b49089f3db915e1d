//! HTML exporter: one self-contained file (inline CSS, inline SVG drawn in Rust, no script,
//! no external request) that reads on a laptop screen and prints. Every user string goes
//! through [`esc`]. Sections carry stable ids (`summary`, `coefficients`, `per-label`,
//! `pairwise-kappa`, `scatter`, `signals`, `flags`, `confusion`; the dispute packet has
//! `provenance`, `flags`, `sensitivity`, `evidence`, `policy`) that tests and links rely on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::csv::{coefficient_list, decision_key};
use super::markdown::reading;
use super::svg::{heat_map, histogram, kappa_colour, scatter, Point};
use super::{signal_list, Document, Exporter};
use crate::agreement::AgreementReport;
use crate::dataset::canonical_cmp;
use crate::quality::{Decision, Policy};
use crate::report::dispute::DisputePacket;
use crate::report::{AuditReport, InputSummary};

/// `--export-html`.
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let (title, body) = match doc {
            Document::Agreement(r) => {
                let mut b = summary(&r.input, None);
                agreement(&r.agreement, &mut b);
                ("Agreement report".to_string(), b)
            }
            Document::Audit(r) => ("Audit report".to_string(), audit(r)),
            Document::Dispute(p) => (format!("Dispute packet: {}", p.annotator.id), dispute(p)),
        };
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n{body}\
             <footer>labelaudit {}</footer>\n</body>\n</html>\n",
            esc(&title),
            esc(&title),
            env!("CARGO_PKG_VERSION")
        )
    }
}

const CSS: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:1200px;margin:0 auto;padding:1em 2em}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.hold{color:#fff;background:#c0392b}.review{background:#f0b27a}.pay{background:#abebc6}.insufficient_evidence{background:#d5dbdb}\
.note{color:#555;font-size:.92em;max-width:60em}.grid{display:flex;flex-wrap:wrap;gap:1em}\
.grid figure{margin:0;border:1px solid #eee;padding:.4em}figcaption{font-size:.9em;color:#444}\
code{font-size:.9em;word-break:break-all}svg.plot{max-width:100%;height:auto;font-family:inherit}\
table.cm td{width:3.2em;text-align:right}.legend span{display:inline-block;padding:0 .5em;margin-right:.5em}\
footer{margin-top:3em;color:#777;font-size:.85em}\
@media print{body{max-width:none;padding:0;font-size:11px}section,figure,table{break-inside:avoid}h2{break-after:avoid}\
.hold,.review,.pay,.insufficient_evidence{print-color-adjust:exact;-webkit-print-color-adjust:exact}}";

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn f3(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.3}"))
}

fn fp(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(p) if p < 0.001 => "&lt;0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn decision_colour(d: Decision) -> &'static str {
    match d {
        Decision::Hold => "#c0392b",
        Decision::Review => "#e67e22",
        Decision::Pay => "#27ae60",
        Decision::InsufficientEvidence => "#95a5a6",
    }
}

fn decision_cell(d: Decision) -> String {
    let k = decision_key(d);
    format!("<td class=\"{k}\">{}</td>", k.replace('_', " "))
}

/// A table from a header and already-escaped cells (`td.n` for numbers).
fn table(b: &mut String, head: &[&str], rows: &[Vec<String>]) {
    b.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(b, "<th>{}</th>", esc(h));
    }
    b.push_str("</tr></thead><tbody>");
    for r in rows {
        b.push_str("<tr>");
        for c in r {
            if c.starts_with("<td") {
                b.push_str(c);
            } else {
                let numeric = c
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_digit() || ch == '-' || ch == '&' || ch == '—');
                let _ = write!(
                    b,
                    "<td{}>{c}</td>",
                    if numeric { " class=\"n\"" } else { "" }
                );
            }
        }
        b.push_str("</tr>");
    }
    b.push_str("</tbody></table>\n");
}

fn summary(i: &InputSummary, extra: Option<String>) -> String {
    let mut b = String::from("<section id=\"summary\"><h2>Batch summary</h2>");
    let _ = write!(
        b,
        "<p>{} annotations of {} items by {} annotators; {} labels ({}); {} gold items. Not used: {} empty labels, {} replaced duplicates, {} items with one annotation.</p>",
        i.annotations,
        i.items,
        i.annotators,
        i.labels.len(),
        esc(&i.labels.join(", ")),
        i.gold_items,
        i.skipped.empty_label,
        i.skipped.duplicate,
        i.skipped.single_annotation_items
    );
    if let Some(e) = extra {
        b.push_str(&e);
    }
    let rows: Vec<Vec<String>> = i
        .files
        .iter()
        .map(|f| {
            vec![
                esc(&f.path),
                f.format.name().into(),
                f.rows.to_string(),
                format!("<td><code>{}</code></td>", f.sha256),
            ]
        })
        .collect();
    table(&mut b, &["input file", "format", "rows", "SHA-256"], &rows);
    b.push_str("</section>\n");
    b
}

fn agreement(a: &AgreementReport, b: &mut String) {
    let _ = write!(
        b,
        "<section id=\"coefficients\"><h2>Agreement coefficients</h2><p>{} level, {} weights: {} items, {} annotators, {} annotations used.</p>",
        a.level.name(), esc(a.weights), a.items_used, a.annotators_used, a.annotations_used
    );
    let rows: Vec<Vec<String>> = coefficient_list(a)
        .into_iter()
        .map(|(key, name, e)| {
            vec![
                esc(name),
                f3(e.value),
                f3(e.se),
                e.ci95
                    .map_or_else(|| "—".into(), |[l, h]| format!("[{l:.3}, {h:.3}]")),
                fp(e.p_value),
                e.n_items.to_string(),
                format!("<td>{}</td>", esc(&reading(key, e))),
            ]
        })
        .collect();
    table(
        b,
        &[
            "coefficient",
            "value",
            "SE",
            "95% CI",
            "p",
            "items",
            "reading",
        ],
        &rows,
    );
    b.push_str(
        "<p class=\"note\">How to read: percent agreement is the share of agreeing annotator pairs per item, not corrected for chance. \
         The kappa-type coefficients (Fleiss, Conger, Brennan-Prediger, Gwet, Light) correct for chance agreement: 0 is chance level, 1 perfect; \
         bands follow Landis and Koch (1977): ≤ 0.20 slight, ≤ 0.40 fair, ≤ 0.60 moderate, ≤ 0.80 substantial, above almost perfect. \
         Krippendorff's alpha ≥ 0.800 is reliable, ≥ 0.667 allows tentative conclusions (Krippendorff 2004). \
         The 95% CI is the range of values compatible with the data; a CI that reaches across a band boundary means the band is not settled. \
         p tests the coefficient against 0 (chance), two-sided. Gwet's AC1 stays stable when one label dominates, where Fleiss' kappa drops (the kappa paradox).</p>",
    );
    for note in &a.notes {
        let _ = write!(b, "<p class=\"note\">note: {}</p>", esc(note));
    }
    b.push_str("</section>\n<section id=\"per-label\"><h2>Agreement per label</h2>");
    let rows: Vec<Vec<String>> = a
        .per_label
        .iter()
        .map(|l| {
            vec![
                format!("<td>{}</td>", esc(&l.label)),
                f3(l.specific_agreement),
                f3(l.kappa),
                l.n.to_string(),
            ]
        })
        .collect();
    table(
        b,
        &[
            "label",
            "specific agreement",
            "kappa (label vs rest)",
            "annotations",
        ],
        &rows,
    );
    b.push_str("<p class=\"note\">Specific agreement: given one annotator chose the label, the chance another did too. A label with low agreement is the one the guidelines leave unclear.</p></section>\n");

    b.push_str("<section id=\"pairwise-kappa\"><h2>Pairwise Cohen's kappa</h2>");
    let mut names: Vec<String> = a
        .pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    names.sort_by(|x, y| canonical_cmp(x, y));
    names.dedup();
    let pos: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut cells = vec![vec![None; names.len()]; names.len()];
    for p in &a.pairs {
        if let (Some(&i), Some(&j)) = (pos.get(p.a.as_str()), pos.get(p.b.as_str())) {
            cells[i][j] = p.cohen_kappa;
            cells[j][i] = p.cohen_kappa;
        }
    }
    if names.is_empty() {
        b.push_str("<p>No annotator pair shares enough items for Cohen's kappa.</p>");
    } else {
        b.push_str(&heat_map(
            &names,
            &cells,
            "Cohen's kappa of each annotator pair",
        ));
        let _ = write!(
            b,
            "<p class=\"legend\">Colour: <span style=\"background:{}\">κ ≤ 0</span><span style=\"background:{}\">κ 0.5</span><span style=\"background:{};color:#fff\">κ 1</span><span style=\"background:#dddddd\">too few shared items</span>. Hover a cell for its value. A dark row of red marks an annotator who agrees with nobody; a lone blue cell among red ones marks a pair that agrees only with each other.</p>",
            kappa_colour(0.0), kappa_colour(0.5), kappa_colour(1.0)
        );
    }
    b.push_str("</section>\n");
}

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

fn audit(r: &AuditReport) -> String {
    let q = &r.quality;
    let count = |d: Decision| q.annotators.iter().filter(|a| a.decision == d).count();
    let c = &r.consensus;
    let extra = format!(
        "<p>Decisions: <strong>{} pay, {} review, {} hold, {} insufficient evidence</strong>; {} flags from {} tests at a false discovery rate of {}. Consensus: {} ({} iterations{}), {} items, {} below 50% confidence, {} contested items.</p>",
        count(Decision::Pay), count(Decision::Review), count(Decision::Hold), count(Decision::InsufficientEvidence),
        q.flags.len(), q.tests, q.policy.fdr, c.method.name(), c.iterations,
        if c.converged { "" } else { ", not converged" }, c.items, c.low_confidence_items, q.contested_items
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

fn dispute(p: &DisputePacket) -> String {
    let a = &p.annotator;
    let mut b = String::new();
    let _ = write!(
        b,
        "<section id=\"summary\"><h2>Decision</h2><p>Annotator <strong>{}</strong>: <span class=\"{}\">&nbsp;{}&nbsp;</span> on {} items, {} flag(s), in a cohort of {} annotators (false discovery rate {}).</p></section>\n",
        esc(&a.id), decision_key(a.decision), decision_key(a.decision).replace('_', " "), a.items, p.flags.len(), p.cohort_size, p.fdr
    );
    let pr = &p.provenance;
    let _ = write!(
        b,
        "<section id=\"provenance\"><h2>Provenance</h2><p>labelaudit {}; consensus {}; seed {}; policy {} (SHA-256 <code>{}</code>).</p><p>Rerun: <code>{}</code></p>",
        esc(pr.tool_version), pr.method.name(), pr.seed, esc(&pr.policy_source), pr.policy_sha256, esc(&pr.command)
    );
    let rows: Vec<Vec<String>> = pr
        .files
        .iter()
        .map(|f| {
            vec![
                format!("<td>{}</td>", esc(&f.path)),
                f.format.name().into(),
                f.rows.to_string(),
                format!("<td><code>{}</code></td>", f.sha256),
            ]
        })
        .collect();
    table(&mut b, &["input file", "format", "rows", "SHA-256"], &rows);
    b.push_str("</section>\n<section id=\"flags\"><h2>Flags</h2>");
    if p.flags.is_empty() {
        b.push_str("<p>No flag was raised: nothing stands against payment.</p>");
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
            let _ = write!(b, "<p class=\"note\">Cohort {}: min {:.3}, quartiles {:.3} / {:.3} / {:.3}, max {:.3} (n = {}).</p>", esc(key), d.min, d.q1, d.median, d.q3, d.max, d.n);
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

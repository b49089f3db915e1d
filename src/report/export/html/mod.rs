//! HTML exporter: one self-contained file (inline CSS, inline SVG drawn in Rust, no script,
//! no external request) that reads on a laptop screen and prints. Every user string goes
//! through [`esc`]. Sections carry stable ids (`summary`, `coefficients`, `per-label`,
//! `pairwise-kappa`, `scatter`, `signals`, `flags`, `confusion`; the dispute packet has
//! `provenance`, `flags`, `sensitivity`, `evidence`, `policy`) that tests and links rely on.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

mod audit;
mod dispute;
mod svg;

use super::csv::{coefficient_list, decision_key};
use super::markdown::reading;
use super::{Document, Exporter};
use crate::agreement::AgreementReport;
use crate::dataset::canonical_cmp;
use crate::ingest::InputFile;
use crate::quality::Decision;
use crate::report::table::{fmt3 as f3, fmt_p};
use crate::report::InputSummary;
use svg::{heat_map, kappa_colour};

/// `--export-html`.
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let nav = match doc {
            Document::Agreement(_) => NAV_AGREEMENT,
            Document::Audit(_) => NAV_AUDIT,
            Document::Dispute(_) => NAV_DISPUTE,
        };
        let (title, body) = match doc {
            Document::Agreement(r) => {
                let mut b = summary(&r.input, None);
                agreement(&r.agreement, &mut b);
                if let Some(t) = &r.task {
                    audit::task_section(t, &mut b);
                }
                ("Agreement report".to_string(), b)
            }
            Document::Audit(r) => ("Audit report".to_string(), audit::render(r)),
            Document::Dispute(p) => (
                format!("Dispute packet: {}", p.annotator.id),
                dispute::render(p),
            ),
        };
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<nav>{nav}</nav>\n{body}\
             <footer>labelaudit {}</footer>\n</body>\n</html>\n",
            esc(&title),
            esc(&title),
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// In-page links to the sections (anchors only: nothing leaves the file).
const NAV_AGREEMENT: &str = "<a href=\"#summary\">Summary</a> · <a href=\"#coefficients\">Coefficients</a> · <a href=\"#per-label\">Per label</a> · <a href=\"#pairwise-kappa\">Pairwise kappa</a>";
const NAV_AUDIT: &str = "<a href=\"#summary\">Summary</a> · <a href=\"#coefficients\">Coefficients</a> · <a href=\"#per-label\">Per label</a> · <a href=\"#pairwise-kappa\">Pairwise kappa</a> · <a href=\"#scatter\">Annotators plot</a> · <a href=\"#signals\">Signals</a> · <a href=\"#flags\">Flags</a> · <a href=\"#annotators\">Annotators</a> · <a href=\"#confusion\">Confusion matrices</a>";
const NAV_DISPUTE: &str = "<a href=\"#summary\">Decision</a> · <a href=\"#provenance\">Provenance</a> · <a href=\"#flags\">Flags</a> · <a href=\"#sensitivity\">Sensitivity</a> · <a href=\"#evidence\">Evidence</a> · <a href=\"#policy\">Policy</a>";

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
footer{margin-top:3em;color:#777;font-size:.85em}nav{position:sticky;top:0;background:#fff;padding:.3em 0;border-bottom:1px solid #eee;z-index:1}\
a{color:#1f5fa8}\
@media print{nav{display:none}body{max-width:none;padding:0;font-size:11px}figure,tr,svg{break-inside:avoid}h2{break-after:avoid}\
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

/// A p-value as the text tables print it, escaped for HTML.
fn fp(v: Option<f64>) -> String {
    esc(&fmt_p(v))
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
/// One row per input file, with its format, rows and SHA-256. The path is a text cell even
/// when it starts with a digit.
fn files_table(b: &mut String, files: &[InputFile]) {
    let rows: Vec<Vec<String>> = files
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
    table(b, &["input file", "format", "rows", "SHA-256"], &rows);
}

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
    files_table(&mut b, &i.files);
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

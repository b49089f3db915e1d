//! Markdown exporter (GitHub-flavoured tables). The dispute packet's Markdown is also the
//! default text of `labelaudit explain`. Every user string (ids, labels, file names) goes
//! through [`escape`], so an annotator id cannot break a table or inject markup.

use std::io::{self, Write};

use super::csv::{coefficient_list, decision_key};
use super::{Document, Exporter};
use crate::agreement::{AgreementReport, Estimate};
use crate::ingest::InputFile;
use crate::report::dispute::DisputePacket;
use crate::report::table::{fmt3 as f3, fmt_p as fp};
use crate::report::{krippendorff_reading, landis_koch, AuditReport, InputSummary};

/// `--export-markdown`.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn export(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Agreement(r) => {
                writeln!(out, "# Agreement report\n")?;
                input(&r.input, out)?;
                agreement(&r.agreement, out)?;
                match &r.task {
                    Some(t) => task_section(t, out),
                    None => Ok(()),
                }
            }
            Document::Audit(r) => audit(r, out),
            Document::Dispute(r) => render_dispute(r, out),
        }
    }
}

/// The AI-feedback task section: what was audited, task agreement and every task signal.
fn task_section(t: &crate::tasks::audit::TaskReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n## Task: {}\n", t.task.name())?;
    header(out, &["measure", "value"])?;
    for (k, v) in crate::tasks::render::agreement_lines(t) {
        row(out, &[escape(&k), escape(&v)])?;
    }
    for n in &t.notes {
        writeln!(out, "\n_Note: {}_", escape(n))?;
    }
    writeln!(out, "\n### Task signals\n")?;
    header(out, &crate::tasks::render::SIGNAL_HEADER)?;
    for cells in crate::tasks::render::signal_rows(t) {
        row(out, &cells.map(|c| escape(&c)))?;
    }
    Ok(())
}

/// Escape text for Markdown: backslash-escape punctuation with meaning (including `<` and
/// `&`, so no raw HTML or entity gets through), and fold line breaks.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            // CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones
            // that start emphasis, code, links, tables, headings or raw HTML.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' | '{' | '}' | '<' | '>'
            | '&' => {
                o.push('\\');
                o.push(c);
            }
            '\n' | '\r' => o.push(' '),
            _ => o.push(c),
        }
    }
    o
}

fn row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    writeln!(out, "| {} |", cells.join(" | "))
}

fn header(out: &mut dyn Write, cells: &[&str]) -> io::Result<()> {
    writeln!(out, "| {} |", cells.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(cells.len()))
}

/// The reading of one coefficient, as the terminal table gives it.
pub fn reading(key: &str, e: &Estimate) -> String {
    match (e.value, &e.reason) {
        (None, Some(reason)) => format!("undefined: {reason}"),
        (None, None) => "undefined".into(),
        (Some(v), _) if key.starts_with("krippendorff") => krippendorff_reading(v).into(),
        (Some(v), _) if key.contains("percent") => format!("{:.1}% of pairs agree", v * 100.0),
        (Some(v), _) => landis_koch(v).into(),
    }
}

fn input(i: &InputSummary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} annotations of {} items by {} annotators; {} labels; {} gold items.\n",
        i.annotations,
        i.items,
        i.annotators,
        i.labels.len(),
        i.gold_items
    )?;
    files_table(out, "file", &i.files)?;
    writeln!(out)
}

/// One row per input file, with its format, rows and SHA-256.
fn files_table(out: &mut dyn Write, first_column: &str, files: &[InputFile]) -> io::Result<()> {
    header(out, &[first_column, "format", "rows", "SHA-256"])?;
    for f in files {
        row(
            out,
            &[
                escape(&f.path),
                f.format.name().into(),
                f.rows.to_string(),
                format!("`{}`", f.sha256),
            ],
        )?;
    }
    Ok(())
}

fn agreement(a: &AgreementReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## Agreement\n\n{} level, {} weights: {} items, {} annotators, {} annotations used.\n",
        a.level.name(),
        a.weights,
        a.items_used,
        a.annotators_used,
        a.annotations_used
    )?;
    header(
        out,
        &["coefficient", "value", "95% CI", "p", "items", "reading"],
    )?;
    for (key, name, e) in coefficient_list(a) {
        let ci = e
            .ci95
            .map_or_else(|| "—".into(), |[l, h]| format!("[{l:.3}, {h:.3}]"));
        row(
            out,
            &[
                name.replace('\'', "’"),
                f3(e.value),
                ci,
                fp(e.p_value),
                e.n_items.to_string(),
                escape(&reading(key, e)),
            ],
        )?;
    }
    writeln!(out, "\n### Per label\n")?;
    header(
        out,
        &["label", "specific agreement", "kappa", "annotations"],
    )?;
    for l in &a.per_label {
        row(
            out,
            &[
                escape(&l.label),
                f3(l.specific_agreement),
                f3(l.kappa),
                l.n.to_string(),
            ],
        )?;
    }
    for note in &a.notes {
        writeln!(out, "\n> note: {}", escape(note))?;
    }
    writeln!(out)
}

fn audit(r: &AuditReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Audit report\n")?;
    input(&r.input, out)?;
    agreement(&r.agreement, out)?;
    writeln!(
        out,
        "## Annotators\n\n{}\n",
        r.consensus.describe(r.quality.contested_items)
    )?;
    header(
        out,
        &[
            "annotator",
            "items",
            "decision",
            "agreement (clear)",
            "kappa (clear)",
            "gold accuracy",
            "median s",
            "flags",
        ],
    )?;
    for a in &r.quality.annotators {
        let s = &a.signals;
        let v = |x: &Option<crate::quality::Signal>| x.as_ref().and_then(|s| s.value);
        row(
            out,
            &[
                escape(&a.id),
                a.items.to_string(),
                decision_key(a.decision).into(),
                f3(v(&s.agreement_clear)),
                f3(v(&s.kappa_clear)),
                f3(v(&s.gold_accuracy)),
                v(&s.median_duration_s).map_or_else(|| "—".into(), |x| format!("{x:.1}")),
                escape(
                    &a.flags
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        )?;
    }
    writeln!(out, "\n## Flags\n")?;
    if r.quality.flags.is_empty() {
        writeln!(
            out,
            "No flags at the policy's false discovery rate ({}).",
            r.quality.policy.fdr
        )?;
    } else {
        header(
            out,
            &[
                "annotator",
                "rule",
                "severity",
                "statistic",
                "threshold",
                "n",
                "p",
                "q",
                "message",
            ],
        )?;
        for f in &r.quality.flags {
            row(
                out,
                &[
                    escape(&f.annotator),
                    escape(f.rule.name()),
                    format!("{:?}", f.severity).to_lowercase(),
                    f3(f.statistic),
                    f3(f.threshold),
                    f.n.to_string(),
                    fp(Some(f.p_value)),
                    fp(Some(f.q_value)),
                    escape(&f.message),
                ],
            )?;
        }
    }
    if let Some(t) = &r.task {
        task_section(t, out)?;
    }
    if !r.quality.pairs_of_concern.is_empty() {
        writeln!(out, "\n## Pairs of concern\n")?;
        header(
            out,
            &[
                "annotator A",
                "annotator B",
                "shared",
                "agreement",
                "same minority answers",
                "expected",
                "q",
            ],
        )?;
        for p in &r.quality.pairs_of_concern {
            row(
                out,
                &[
                    escape(&p.a),
                    escape(&p.b),
                    p.shared_items.to_string(),
                    format!("{:.3}", p.agreement),
                    p.identical_minority_answers.to_string(),
                    format!("{:.1}", p.expected_identical_minority_answers),
                    fp(Some(p.q_value)),
                ],
            )?;
        }
    }
    writeln!(out)
}

/// What an empty flag list means for this decision.
pub fn no_flag_text(p: &DisputePacket) -> &'static str {
    if p.annotator.decision == crate::quality::Decision::InsufficientEvidence {
        "No flag was raised, because there are fewer items than the policy's min_items: too little work to judge either way."
    } else {
        "No flag was raised: nothing stands against payment."
    }
}

/// The dispute packet as Markdown (the default output of `labelaudit explain`).
pub fn render_dispute(p: &DisputePacket, out: &mut dyn Write) -> io::Result<()> {
    let a = &p.annotator;
    writeln!(out, "# Dispute packet: annotator {}\n", escape(&a.id))?;
    writeln!(
        out,
        "**Decision: {}** ({} items; {} flag(s); cohort of {} annotators; false discovery rate {}).\n",
        decision_key(a.decision),
        a.items,
        p.flags.len(),
        p.cohort_size,
        p.fdr
    )?;

    writeln!(out, "## Provenance\n")?;
    writeln!(out, "- tool: labelaudit {}", p.provenance.tool_version)?;
    writeln!(
        out,
        "- consensus method: {}; seed: {}",
        p.provenance.method.name(),
        p.provenance.seed
    )?;
    writeln!(
        out,
        "- policy: {} (SHA-256 `{}`)",
        escape(&p.provenance.policy_source),
        p.provenance.policy_sha256
    )?;
    writeln!(
        out,
        "- rerun: `{}`\n",
        p.provenance.command.replace('`', "'")
    )?;
    files_table(out, "input file", &p.provenance.files)?;

    writeln!(out, "\n## Flags\n")?;
    if p.flags.is_empty() {
        writeln!(out, "{}", no_flag_text(p))?;
    }
    for f in &p.flags {
        writeln!(
            out,
            "### `{}` ({})\n",
            f.flag.rule.name(),
            format!("{:?}", f.flag.severity).to_lowercase()
        )?;
        writeln!(out, "{}\n", escape(&f.explanation))?;
        writeln!(
            out,
            "What was measured and what would clear it: {}\n",
            escape(&f.flag.message)
        )?;
        if let (Some(d), Some(key)) = (&f.cohort, f.signal) {
            writeln!(
                out,
                "Cohort {}: min {:.3}, quartiles {:.3} / {:.3} / {:.3}, max {:.3} (n = {}); this annotator {} (percentile {}).\n",
                key, d.min, d.q1, d.median, d.q3, d.max, d.n,
                f3(f.signal_value),
                f.percentile.map_or_else(|| "—".into(), |x| format!("{x:.0}"))
            )?;
        }
    }

    writeln!(out, "## Sensitivity\n")?;
    header(
        out,
        &[
            "scenario",
            "decision",
            "flags",
            "original flags still hold",
            "what changed",
        ],
    )?;
    for s in &p.sensitivity {
        let holds = if s.original_flags_hold.is_empty() {
            "—".to_string()
        } else {
            s.original_flags_hold
                .iter()
                .map(|h| format!("{}: {}", h.rule.name(), if h.holds { "yes" } else { "no" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        row(
            out,
            &[
                escape(&s.name),
                s.decision
                    .map_or_else(|| "—".into(), |d| decision_key(d).to_string()),
                escape(
                    &s.flags
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                escape(&holds),
                escape(&s.description),
            ],
        )?;
    }

    let e = &p.evidence;
    writeln!(
        out,
        "\n## Evidence\n\nOf {} items, the label differs from the consensus on {} and from the gold label on {}; {} of the listed items are contested (not counted by the rules).\n",
        e.items_total, e.disagree_with_consensus, e.disagree_with_gold, e.contested
    )?;
    if !e.items.is_empty() {
        header(
            out,
            &[
                "item",
                "label",
                "consensus (confidence)",
                "gold",
                "others",
                "seconds",
                "contested",
            ],
        )?;
        for i in &e.items {
            let others = i
                .others
                .iter()
                .map(|o| format!("{}: {}", o.annotator, o.label))
                .collect::<Vec<_>>()
                .join(", ");
            row(
                out,
                &[
                    escape(&i.item),
                    escape(&i.label),
                    match (&i.consensus, i.consensus_confidence) {
                        (Some(c), Some(p)) => format!("{} ({p:.2})", escape(c)),
                        (Some(c), None) => escape(c),
                        _ => "—".into(),
                    },
                    i.gold.as_deref().map_or_else(|| "—".into(), escape),
                    escape(&others),
                    i.duration_s
                        .map_or_else(|| "—".into(), |d| format!("{d:.1}")),
                    if i.contested { "yes" } else { "no" }.into(),
                ],
            )?;
        }
    }

    writeln!(
        out,
        "\n## Policy in force\n\n```toml\n{}```",
        p.provenance.policy_toml.replace("```", "'''")
    )
}

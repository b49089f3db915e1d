//! Runs one command: load, analyse, render. Returns the outcome; only `main` exits.

use std::io::Write;
use std::path::Path;

use crate::agreement::{self, AgreementOptions};
use crate::cli::{AgreementOptionsArgs, Cli, Command, ExplainArgs, InputArgs};
use crate::consensus::Consensus;
use crate::consensus::{self, ConsensusOptions, Method};
use crate::dataset::{drop_in_background, Dataset};
use crate::error::{Error, Result};
use crate::explain::{self, ExplainRequest};
use crate::ingest::{self, IngestOptions, Loaded};
use crate::output;
use crate::progress::Progress;
use crate::quality::QualityReport;
use crate::quality::{self, ConsensusView, LeaveOneOut, Policy};
use crate::report::consensus::ConsensusReport;
use crate::report::export::{self, Document, ExportManager, Exporter};
use crate::report::{self, AuditReport, ConsensusSummary, InputSummary, Report};
use crate::simulate::{self, SimConfig};
use crate::tasks::{self, load::TaskLoad};
use crate::timings::stage;

/// What a finished run means for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// Done, and `--fail-on-hold` was given and at least one annotator is on hold.
    Hold,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Hold => 3,
        }
    }
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::io("<stdout>", e)
}

/// Use `threads` worker threads for everything rayon runs (all cores when `None`).
fn configure_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        // A second call in the same process (tests) keeps the first pool: results do not
        // depend on the thread count, so that is harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    Ok(())
}

fn agreement_options(level: crate::Level, args: &AgreementOptionsArgs) -> AgreementOptions {
    AgreementOptions {
        level,
        min_shared: args.min_shared,
        bootstrap: args.bootstrap,
        seed: args.seed,
    }
}

/// Read the inputs of any command and write the quarantine file when one is asked for.
/// Every command that reads input goes through here, so `--on-invalid` means one thing.
pub fn load_input(input: &InputArgs) -> Result<(IngestOptions, Loaded)> {
    let options = input.ingest_options()?;
    if let Some(q) = &input.quarantine {
        let mut inputs = input.files.clone();
        inputs.extend(input.gold.iter().cloned());
        output::refuse_input_overwrite(q, &inputs)?;
    }
    let loaded = ingest::load(&input.files, &options)?;
    match &input.quarantine {
        Some(q) => output::write_atomic(q, |out| ingest::write_quarantine(&loaded.invalid, out))
            .map_err(|e| match e {
                Error::Io { source, .. } => Error::io(q, source),
                e => e,
            })?,
        None if !loaded.invalid.is_empty() => eprintln!(
            "warning: {} invalid record(s) set aside and not used; --quarantine PATH keeps them",
            loaded.invalid.len()
        ),
        None => {}
    }
    Ok((options, loaded))
}

/// The most distinct labels (answer labels and gold labels together) a classification batch
/// may have. Agreement, consensus and the quality signals keep label × label tables per
/// pair, per annotator and per bootstrap replicate, so time and memory grow with the square
/// of the label count: 1000 labels (ImageNet's classes) take minutes at 10^5 annotations,
/// and a label column of free text or a gold column of ids would exhaust memory.
pub const MAX_LABELS: usize = 1000;

/// Refuse a classification batch whose label space is too large for its label × label
/// tables (see [`MAX_LABELS`]), with what most often causes it.
pub fn check_label_count(loaded: &Loaded) -> Result<()> {
    let n = loaded.dataset.n_labels();
    if n <= MAX_LABELS {
        return Ok(());
    }
    let files: Vec<&str> = loaded.files.iter().map(|f| f.path.as_str()).collect();
    Err(Error::Invalid(format!(
        "{}: expected at most {MAX_LABELS} distinct labels for a classification audit, found \
         {n} (answer and gold labels together). A label column of free text, or a gold \
         column (--gold-col) that holds ids, gives one label per value; --task text audits \
         free-text answers",
        files.join(", ")
    )))
}

/// Read a policy file, or the documented defaults.
fn load_policy(path: Option<&Path>) -> Result<Policy> {
    match path {
        Some(path) => read_policy(path).map(|(policy, _)| policy),
        None => Ok(Policy::default()),
    }
}

/// Read and parse a policy file once, keeping its text (the dispute packet quotes it).
fn read_policy(path: &Path) -> Result<(Policy, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let policy = Policy::from_toml_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok((policy, text))
}

/// Consensus, leave-one-out majorities and the quality audit of one dataset: the part of
/// the audit that `explain` reruns on modified inputs (no agreement coefficients).
pub struct QualityRun {
    /// The consensus the signals are measured against.
    pub model: Consensus,
    /// Per annotation: majority label of the other annotators (`NO_LABEL` on ties).
    pub loo_label: Vec<u32>,
    /// Per annotation: the other annotators' share voting `loo_label`.
    pub loo_share: Vec<f64>,
    /// MACE spamming probabilities (from the model itself when it is MACE).
    pub spam: Option<Vec<f64>>,
    /// Signals, flags and decisions.
    pub quality: QualityReport,
}

impl QualityRun {
    /// The consensus as the quality engine sees it.
    pub fn view(&self) -> ConsensusView<'_> {
        ConsensusView {
            loo_label: &self.loo_label,
            loo_share: &self.loo_share,
            annotator_accuracy: Some(&self.model.annotator_accuracy),
            spam_probability: self.spam.as_deref(),
        }
    }
}

/// The consensus model an audit measures its signals against.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// Consensus method.
    pub method: Method,
    /// Seed of methods with random restarts (MACE).
    pub seed: u64,
    /// Also fit MACE for each annotator's spam probability when the method is not MACE.
    /// Opt-in: no rule uses it, and MACE's ten restarts cost more than the rest of the
    /// audit on large batches.
    pub mace: bool,
}

impl Default for ModelSpec {
    /// The audit's defaults: Dawid-Skene, seed 0, no MACE.
    fn default() -> Self {
        ModelSpec {
            method: Method::DawidSkene,
            seed: 0,
            mace: false,
        }
    }
}

/// Consensus (the chosen method, plus MACE for spam probabilities when asked), leave-one-out
/// majorities, per-annotator signals, flags and decisions, with each annotator's
/// Dawid-Skene confusion matrix attached when the model has one.
pub fn assess_batch(
    ds: &Dataset,
    model: &ModelSpec,
    policy: &Policy,
    progress: &Progress,
) -> QualityRun {
    assess_batch_with(ds, model, policy, progress, Vec::new())
}

/// [`assess_batch`] with extra rule tests (AI-feedback task rules) in the same FDR family.
pub fn assess_batch_with(
    ds: &Dataset,
    spec: &ModelSpec,
    policy: &Policy,
    progress: &Progress,
    mut extra: Vec<quality::RuleTest>,
) -> QualityRun {
    // Span datasets: the `low_span_f1` rule joins the same FDR family.
    let span_rule = ds
        .spans
        .is_some()
        .then(|| stage("span_f1", || crate::spans::flag::low_span_f1(ds, policy)));
    if let Some(r) = &span_rule {
        extra.extend(r.tests.iter().cloned());
    }
    progress.stage("consensus and signals");
    let infer = |method| {
        consensus::infer(
            ds,
            &ConsensusOptions {
                method,
                use_gold: true,
                seed: spec.seed,
                ..ConsensusOptions::default()
            },
        )
    };
    // Leave-one-out majorities, and the quality audit measured against them, do not depend
    // on the model: they run while it is fitted, and take the model's own signals after.
    let (model, ((loo_label, loo_share), mut quality)) = rayon::join(
        || stage("consensus", || infer(spec.method)),
        || {
            let (label, share) = stage("loo_majority", || quality::leave_one_out_majority(ds));
            let votes = LeaveOneOut {
                label: &label,
                share: &share,
            };
            let report = stage("quality", || {
                quality::assess_votes(ds, &votes, policy, extra)
            });
            ((label, share), report)
        },
    );
    let spam = if spec.method == Method::Mace {
        model.spam_probability.clone()
    } else if spec.mace {
        stage("consensus_mace", || infer(Method::Mace)).spam_probability
    } else {
        None
    };
    quality.add_model_signals(Some(&model.annotator_accuracy), spam.as_deref());
    if let Some(r) = &span_rule {
        for a in &mut quality.annotators {
            a.signals.span_f1 = r.signals.get(&a.index).cloned();
        }
    }
    if let Some(confusion) = &model.confusion {
        let q = model.n_labels;
        for a in &mut quality.annotators {
            let start = a.index as usize * q * q;
            if let Some(block) = confusion.get(start..start + q * q) {
                a.confusion = Some(block.chunks(q).map(<[f64]>::to_vec).collect());
            }
        }
    }
    QualityRun {
        model,
        loo_label,
        loo_share,
        spam,
        quality,
    }
}

/// The full audit: agreement plus [`assess_batch`].
pub fn audit(
    loaded: &ingest::Loaded,
    agreement_options: &AgreementOptions,
    model: &ModelSpec,
    policy: &Policy,
    progress: &Progress,
) -> AuditReport {
    let ds = &loaded.dataset;
    progress.stage("agreement and consensus");
    // Agreement and the consensus-to-flags chain share nothing but the dataset: running them
    // side by side lets each fill the other's sequential stretches. Both reduce in fixed
    // orders, so the report does not depend on how the two interleave.
    let (agreement, run) = rayon::join(
        || stage("agreement", || agreement::compute(ds, agreement_options)),
        || assess_batch(ds, model, policy, &Progress::hidden()),
    );
    let report = AuditReport {
        schema_version: report::SCHEMA_VERSION,
        tool: report::Tool::default(),
        input: InputSummary::from_loaded(loaded),
        agreement,
        consensus: ConsensusSummary::new(&run.model),
        quality: run.quality,
        task: None,
    };
    drop_in_background((run.model, run.loo_label, run.loo_share, run.spam));
    report
}

/// Print a command's document on stdout (as JSON, or in the command's own text layout)
/// unless an export already takes stdout, then write the `--export-*` files.
fn emit(
    exports: &ExportManager,
    doc: &Document,
    json: bool,
    out: &mut dyn Write,
    text: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if !exports.uses_stdout() {
        if json {
            export::json::JsonExporter.export(doc, out)
        } else {
            text(out)
        }
        .map_err(stdout_error)?;
    }
    exports.write_all(doc, out)
}

/// Run the parsed command line, writing the report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    match cli.command {
        Command::Agreement(args) => {
            configure_threads(args.input.threads)?;
            let exports = args.export.manager()?;
            exports.check_not_inputs(args.input.files.iter().chain(&args.input.gold))?;
            let progress = Progress::new(!args.input.quiet);
            progress.stage("reading");
            let (report, task) = match tasks::load::load(&args.input)? {
                TaskLoad::Classification(ingest_options, loaded) => {
                    let options = agreement_options(ingest_options.level, &args.agreement);
                    progress.stage("agreement");
                    let agreement = agreement::compute(&loaded.dataset, &options);
                    (
                        Report::new(InputSummary::from_loaded(&loaded), agreement),
                        None,
                    )
                }
                TaskLoad::Feedback {
                    task,
                    detected,
                    input,
                    options,
                } => {
                    progress.stage("agreement");
                    tasks::audit::agreement_only(
                        task,
                        detected,
                        &input,
                        &agreement_options(options.level, &args.agreement),
                    )
                }
            };
            let report = Report { task, ..report };
            progress.finish();
            emit(
                &exports,
                &Document::Agreement(&report),
                args.json,
                out,
                |out| {
                    report::table::render(&report, out).and_then(|()| match &report.task {
                        Some(t) => tasks::render::write_text(t, out),
                        None => Ok(()),
                    })
                },
            )?;
            Ok(Outcome::Done)
        }
        Command::Consensus(args) => {
            configure_threads(args.input.threads)?;
            if let Some(t) = args
                .input
                .task
                .filter(|&t| t != tasks::Task::Classification)
            {
                return Err(Error::Usage(format!(
                    "consensus labels are for classification; --task {} works with agreement, audit and explain",
                    t.name()
                )));
            }
            let (_, loaded) = stage("ingest", || load_input(&args.input))?;
            check_label_count(&loaded)?;
            let options = ConsensusOptions {
                method: args.method,
                use_gold: true,
                seed: args.seed,
                ..ConsensusOptions::default()
            };
            let result = consensus::infer(&loaded.dataset, &options);
            let report = ConsensusReport::new(&loaded.dataset, &result);
            if args.json {
                export::json::render(&report, out).map_err(stdout_error)?;
            } else {
                match args.out.as_deref() {
                    None => report.write_csv(out).map_err(stdout_error)?,
                    Some(path) if path == Path::new("-") => {
                        report.write_csv(out).map_err(stdout_error)?
                    }
                    Some(path) => crate::output::write_atomic(path, |w| {
                        report.write_csv(w).map_err(|e| Error::io(path, e))
                    })?,
                }
            }
            Ok(Outcome::Done)
        }
        Command::Audit(args) => {
            configure_threads(args.input.threads)?;
            let exports = args.export.manager()?;
            exports.check_not_inputs(args.input.files.iter().chain(&args.input.gold))?;
            let progress = Progress::new(!args.input.quiet);
            let policy = load_policy(args.policy.as_deref())?;
            progress.stage("reading");
            let model = ModelSpec {
                method: args.method,
                seed: args.agreement.seed,
                mace: args.mace,
            };
            let report = match stage("ingest", || tasks::load::load(&args.input))? {
                TaskLoad::Classification(ingest_options, loaded) => {
                    let report = audit(
                        &loaded,
                        &agreement_options(ingest_options.level, &args.agreement),
                        &model,
                        &policy,
                        &progress,
                    );
                    drop_in_background(loaded);
                    report
                }
                TaskLoad::Feedback {
                    task,
                    detected,
                    input,
                    options,
                } => tasks::audit::audit(
                    task,
                    detected,
                    &input,
                    &agreement_options(options.level, &args.agreement),
                    &model,
                    &policy,
                    &progress,
                ),
            };
            progress.finish();
            stage("report", || {
                emit(&exports, &Document::Audit(&report), args.json, out, |out| {
                    report::scorecard::render(&report, out)
                })
            })?;
            let outcome = if args.fail_on_hold && report.has_hold() {
                Outcome::Hold
            } else {
                Outcome::Done
            };
            drop_in_background(report);
            Ok(outcome)
        }
        Command::Explain(args) => {
            configure_threads(args.input.threads)?;
            let exports = args.export.manager()?;
            exports.check_not_inputs(args.input.files.iter().chain(&args.input.gold))?;
            let progress = Progress::new(!args.input.quiet);
            let (policy, policy_toml) = match args.policy.as_deref() {
                Some(path) => read_policy(path)?,
                None => {
                    let policy = Policy::default();
                    let text = toml::to_string(&policy)
                        .map_err(|e| Error::Usage(format!("policy: {e}")))?;
                    (policy, text)
                }
            };
            progress.stage("reading");
            let (loaded, extra, policy) = match tasks::load::load(&args.input)? {
                TaskLoad::Classification(_, loaded) => (*loaded, Vec::new(), policy),
                TaskLoad::Feedback {
                    task,
                    detected,
                    input,
                    options,
                } => {
                    let p = tasks::audit::prepare(
                        task,
                        detected,
                        &input,
                        &policy,
                        &agreement_options(
                            options.level,
                            &AgreementOptionsArgs {
                                min_shared: 10,
                                bootstrap: 0,
                                seed: args.seed,
                            },
                        ),
                    );
                    let loaded = tasks::audit::loaded_view(&p, &input);
                    (loaded, p.tests, p.policy)
                }
            };
            let request = ExplainRequest {
                annotator: &args.annotator,
                model: ModelSpec {
                    method: args.method,
                    seed: args.seed,
                    mace: args.mace,
                },
                policy: &policy,
                policy_source: args
                    .policy
                    .as_ref()
                    .map_or_else(|| "default".into(), |p| p.display().to_string()),
                policy_toml,
                command: rerun_command(&args),
            };
            let packet = explain::explain_with(&loaded, &request, &progress, extra)?;
            progress.finish();
            emit(
                &exports,
                &Document::Dispute(&packet),
                args.json,
                out,
                |out| export::markdown::render_dispute(&packet, out),
            )?;
            Ok(Outcome::Done)
        }
        Command::Simulate(args) if args.task != tasks::Task::Classification => {
            let sim = tasks::simulate::simulate(&tasks::simulate::TaskSimConfig {
                task: args.task,
                items: args.items,
                annotators: args.annotators,
                overlap: args.overlap,
                seed: args.seed,
                ..Default::default()
            });
            sim.write_dir(&args.out)?;
            writeln!(
                out,
                "wrote {} {} annotations of {} items by {} annotators to {}",
                sim.rows.len(),
                args.task.name(),
                sim.truth.len(),
                sim.roles.len(),
                args.out.display()
            )
            .map_err(stdout_error)?;
            Ok(Outcome::Done)
        }
        Command::Simulate(args) => {
            let config = SimConfig {
                items: args.items,
                annotators: Some(args.annotators),
                overlap: args.overlap,
                labels: args.labels,
                seed: args.seed,
                ..SimConfig::default()
            };
            let simulation = simulate::simulate(&config);
            simulation.write_dir(&args.out)?;
            writeln!(
                out,
                "wrote {} annotations of {} items by {} annotators to {}",
                simulation.rows.len(),
                simulation.item_names.len(),
                simulation.annotator_names.len(),
                args.out.display()
            )
            .map_err(stdout_error)?;
            Ok(Outcome::Done)
        }
    }
}

/// A word as a POSIX shell reads it back: bare when safe, else single-quoted.
fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that rebuilds an explain packet: the inputs and every option that changes
/// the result (not the output options, which only change where it goes).
fn rerun_command(args: &ExplainArgs) -> String {
    use clap::ValueEnum;
    let name = |v: Option<clap::builder::PossibleValue>| {
        v.map(|v| v.get_name().to_string()).unwrap_or_default()
    };
    let input = &args.input;
    let mut words: Vec<String> = vec!["labelaudit".into(), "explain".into()];
    words.extend(input.files.iter().map(|f| f.display().to_string()));
    let mut opt = |flag: &str, value: String| {
        words.push(flag.into());
        words.push(value);
    };
    if let Some(f) = input.format {
        opt("--from", name(f.to_possible_value()));
    }
    opt("--level", name(input.level.to_possible_value()));
    if let Some(order) = &input.order {
        opt("--order", order.join(","));
    }
    for (flag, value) in [
        ("--item-col", &input.item_col),
        ("--annotator-col", &input.annotator_col),
        ("--label-col", &input.label_col),
        ("--gold-col", &input.gold_col),
    ] {
        if let Some(v) = value {
            opt(flag, v.clone());
        }
    }
    if let Some(t) = input.task {
        opt("--task", t.name().into());
    }
    if let Some(g) = &input.gold {
        opt("--gold", g.display().to_string());
    }
    if matches!(input.on_invalid, crate::cli::OnInvalidArg::Skip) {
        opt("--on-invalid", "skip".into());
    }
    if input.max_record_bytes != crate::ingest::DEFAULT_MAX_RECORD_BYTES {
        opt("--max-record-bytes", input.max_record_bytes.to_string());
    }
    if let Some(p) = &args.policy {
        opt("--policy", p.display().to_string());
    }
    opt("--method", args.method.name().into());
    opt("--seed", args.seed.to_string());
    opt("--annotator", args.annotator.clone());
    if args.mace {
        words.push("--mace".into());
    }
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{simulate, SimConfig};

    fn report_json(run: &QualityRun) -> String {
        serde_json::to_string(&run.quality).unwrap()
    }

    #[test]
    fn batch_audit_beside_the_model_equals_the_audit_after_it() {
        let ds = simulate(&SimConfig {
            items: 400,
            seed: 3,
            ..SimConfig::default()
        })
        .to_dataset();
        let policy = Policy::default();
        let run = assess_batch(&ds, &ModelSpec::default(), &policy, &Progress::hidden());
        // The same audit in one piece, after the model, with the confusion blocks copied.
        let mut after = quality::assess_with(&ds, &run.view(), &policy, Vec::new());
        assert!(after
            .annotators
            .iter()
            .any(|a| a.signals.model_accuracy.is_some()));
        let mut confusion = run.quality.annotators.iter().map(|a| a.confusion.clone());
        for (a, c) in after.annotators.iter_mut().zip(&mut confusion) {
            a.confusion = c;
        }
        assert_eq!(report_json(&run), serde_json::to_string(&after).unwrap());
    }

    #[test]
    fn batch_audit_does_not_depend_on_the_thread_count() {
        let ds = simulate(&SimConfig {
            items: 600,
            seed: 8,
            ..SimConfig::default()
        })
        .to_dataset();
        let in_pool = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                report_json(&assess_batch(
                    &ds,
                    &ModelSpec::default(),
                    &Policy::default(),
                    &Progress::hidden(),
                ))
            })
        };
        assert_eq!(in_pool(1), in_pool(3));
    }
}

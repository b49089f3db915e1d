//! Runs one command: load, analyse, render. Returns the outcome; only `main` exits.

use std::io::Write;
use std::path::Path;

use crate::agreement::{self, AgreementOptions};
use crate::cli::{AgreementOptionsArgs, Cli, Command};
use crate::consensus::{self, ConsensusOptions, Method};
use crate::error::{Error, Result};
use crate::ingest;
use crate::quality::{self, ConsensusView, Policy};
use crate::report::consensus::ConsensusReport;
use crate::report::{self, AuditReport, ConsensusSummary, InputSummary, Report};
use crate::simulate::{self, SimConfig};
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

/// Read a policy file, or the documented defaults.
fn load_policy(path: Option<&Path>) -> Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Policy::from_toml_str(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

/// The full audit: agreement, consensus (the chosen method, plus MACE for spam
/// probabilities), leave-one-out majorities, per-annotator signals, flags and decisions.
pub fn audit(
    loaded: &ingest::Loaded,
    agreement_options: &AgreementOptions,
    method: Method,
    policy: &Policy,
) -> AuditReport {
    let ds = &loaded.dataset;
    let agreement = stage("agreement", || agreement::compute(ds, agreement_options));
    let infer = |method| {
        consensus::infer(
            ds,
            &ConsensusOptions {
                method,
                use_gold: true,
                seed: agreement_options.seed,
                ..ConsensusOptions::default()
            },
        )
    };
    let model = stage("consensus", || infer(method));
    let mace = if method == Method::Mace {
        None
    } else {
        Some(stage("consensus_mace", || infer(Method::Mace)))
    };
    let spam = mace.as_ref().unwrap_or(&model).spam_probability.clone();
    let (loo_label, loo_share) = stage("loo_majority", || quality::leave_one_out_majority(ds));
    let view = ConsensusView {
        item_label: &model.labels,
        item_confidence: &model.confidence,
        loo_label: &loo_label,
        loo_share: &loo_share,
        annotator_accuracy: Some(&model.annotator_accuracy),
        spam_probability: spam.as_deref(),
    };
    let mut quality = stage("quality", || quality::assess(ds, &view, policy));
    if let Some(confusion) = &model.confusion {
        let q = model.n_labels;
        for a in &mut quality.annotators {
            let block = &confusion[a.index as usize * q * q..(a.index as usize + 1) * q * q];
            a.confusion = Some(block.chunks(q).map(<[f64]>::to_vec).collect());
        }
    }
    AuditReport {
        schema_version: report::SCHEMA_VERSION,
        tool: report::Tool::default(),
        input: InputSummary::from_loaded(loaded),
        agreement,
        consensus: ConsensusSummary::new(&model),
        quality,
    }
}

/// Run the parsed command line, writing the report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    match cli.command {
        Command::Agreement(args) => {
            configure_threads(args.input.threads)?;
            let ingest_options = args.input.ingest_options()?;
            let loaded = ingest::load(&args.input.files, &ingest_options)?;
            let options = agreement_options(ingest_options.level, &args.agreement);
            let agreement = agreement::compute(&loaded.dataset, &options);
            let report = Report::new(InputSummary::from_loaded(&loaded), agreement);
            if args.json {
                report::json::render(&report, out)
            } else {
                report::table::render(&report, out)
            }
            .map_err(stdout_error)?;
            Ok(Outcome::Done)
        }
        Command::Consensus(args) => {
            configure_threads(args.input.threads)?;
            let ingest_options = args.input.ingest_options()?;
            let loaded = stage("ingest", || {
                ingest::load(&args.input.files, &ingest_options)
            })?;
            let options = ConsensusOptions {
                method: args.method,
                use_gold: true,
                seed: args.seed,
                ..ConsensusOptions::default()
            };
            let result = consensus::infer(&loaded.dataset, &options);
            let report = ConsensusReport::new(&loaded.dataset, &result);
            if args.json {
                report::json::render(&report, out).map_err(stdout_error)?;
            } else {
                match args.out.as_deref() {
                    None => report.write_csv(out).map_err(stdout_error)?,
                    Some(path) if path == Path::new("-") => {
                        report.write_csv(out).map_err(stdout_error)?
                    }
                    Some(path) => {
                        let mut file =
                            std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
                        report
                            .write_csv(&mut file)
                            .map_err(|e| Error::io(path, e))?;
                    }
                }
            }
            Ok(Outcome::Done)
        }
        Command::Audit(args) => {
            configure_threads(args.input.threads)?;
            let policy = load_policy(args.policy.as_deref())?;
            let ingest_options = args.input.ingest_options()?;
            let loaded = stage("ingest", || {
                ingest::load(&args.input.files, &ingest_options)
            })?;
            let report = audit(
                &loaded,
                &agreement_options(ingest_options.level, &args.agreement),
                args.method,
                &policy,
            );
            stage("render", || {
                if args.json {
                    report::json::render(&report, out)
                } else {
                    report::scorecard::render(&report, out)
                }
            })
            .map_err(stdout_error)?;
            Ok(if args.fail_on_hold && report.has_hold() {
                Outcome::Hold
            } else {
                Outcome::Done
            })
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

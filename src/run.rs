//! Runs one command: load, analyse, render. Returns the outcome; only `main` exits.

use std::io::Write;
use std::path::Path;

use crate::agreement::{self, AgreementOptions};
use crate::cli::{AgreementOptionsArgs, Cli, Command};
use crate::consensus::{self, ConsensusOptions};
use crate::error::{Error, Result};
use crate::ingest;
use crate::report::consensus::ConsensusReport;
use crate::report::{self, InputSummary, Report};

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
            let loaded = ingest::load(&args.input.files, &args.input.ingest_options()?)?;
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
        _ => Err(Error::Usage("not available yet".into())),
    }
}

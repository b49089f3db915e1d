//! Runs one command: load, analyse, render. Returns the outcome; only `main` exits.

use std::io::Write;

use crate::agreement::{self, AgreementOptions};
use crate::cli::{AgreementOptionsArgs, Cli, Command, InputArgs};
use crate::error::{Error, Result};
use crate::ingest::{self, IngestOptions, Loaded};
use crate::output;
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

/// Run the parsed command line, writing the report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    match cli.command {
        Command::Agreement(args) => {
            configure_threads(args.input.threads)?;
            let (ingest_options, loaded) = load_input(&args.input)?;
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
        _ => Err(Error::Usage("not available yet".into())),
    }
}

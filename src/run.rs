//! Runs one command: load, analyse, render. Returns the outcome; only `main` exits.

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::error::{Error, Result};
use crate::ingest;

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

/// Run the parsed command line, writing the report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome> {
    match cli.command {
        Command::Agreement(args) => {
            let loaded = ingest::load(&args.input.files, &args.input.ingest_options()?)?;
            writeln!(out, "{} annotations", loaded.dataset.n_annotations())
                .map_err(stdout_error)?;
            Ok(Outcome::Done)
        }
        _ => Err(Error::Usage("not available yet".into())),
    }
}

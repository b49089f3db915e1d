//! One error type for the whole library. Every variant that comes from input data names
//! the file and the line (or record) so that a user can jump straight to the problem.

use std::fmt;
use std::path::PathBuf;

/// Where in an input something went wrong. `line` is the physical line, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<u64>,
}

impl Location {
    pub fn new(path: impl Into<PathBuf>, line: Option<u64>) -> Self {
        Location {
            path: path.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.path.display(), line),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// Everything that can stop a run. Only `main` turns these into messages and exit codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input does not have the shape we need (missing column, ragged row, bad value).
    #[error("{location}: {message}")]
    Data { location: Location, message: String },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Options that contradict each other or a policy file that does not parse.
    #[error("{0}")]
    Usage(String),

    /// A request that the data cannot answer (for example an unknown annotator id).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn data(path: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Data {
            location: Location::new(path, line),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Process exit status: 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

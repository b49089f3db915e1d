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
    /// A data error at `path:line`. The message often quotes input (a header, a value), so
    /// control characters are escaped and the message is capped: an error must stay one
    /// readable line, whatever the file holds (no line breaks or terminal escapes from it).
    pub fn data(path: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Data {
            location: Location::new(path, line),
            message: one_line(message.into()),
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

/// Longest message kept, in characters; the rest is counted, not printed.
const MAX_MESSAGE_CHARS: usize = 400;

/// `message` with control characters escaped (`\n`, `\u{1b}`) and at most
/// `MAX_MESSAGE_CHARS` characters.
fn one_line(message: String) -> String {
    if message.len() <= MAX_MESSAGE_CHARS && !message.chars().any(char::is_control) {
        return message;
    }
    let mut out = String::new();
    let mut chars = message.chars();
    for (kept, c) in chars.by_ref().enumerate() {
        if kept >= MAX_MESSAGE_CHARS {
            let rest = 1 + chars.count();
            out.push_str(&format!("… ({rest} more characters)"));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_messages_are_one_bounded_line() {
        let e = Error::data("f.csv", Some(2), "found \"a\nb\u{1b}[31m\"");
        assert_eq!(e.to_string(), "f.csv:2: found \"a\\nb\\u{1b}[31m\"");
        let long = Error::data("f.csv", None, "x".repeat(1000)).to_string();
        assert!(long.ends_with("… (600 more characters)"), "{long}");
    }
}

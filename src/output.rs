//! Output files written atomically: all or nothing.
//!
//! Payments are decided from these files, so a half-written CSV (disk full, a killed run, a
//! failing renderer) must never be mistaken for a whole one. Every file output goes through
//! `AtomicOutput`: bytes go to a temporary file in the destination's own folder (so the final
//! rename stays on one file system and is atomic), and only `commit` renames it into place.
//! Dropping an uncommitted output removes the temporary file. `-` means standard output.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

enum Target {
    Stdout(BufWriter<io::Stdout>),
    File {
        tmp: BufWriter<NamedTempFile>,
        dest: PathBuf,
    },
}

/// A writer that replaces its destination only when `commit` succeeds.
pub struct AtomicOutput {
    target: Target,
}

impl AtomicOutput {
    /// Start writing to `dest` (`-` for standard output).
    pub fn create(dest: &Path) -> Result<Self> {
        if dest == Path::new("-") {
            return Ok(AtomicOutput {
                target: Target::Stdout(BufWriter::new(io::stdout())),
            });
        }
        if dest.is_dir() {
            return Err(Error::Usage(format!(
                "{}: expected an output file, found a folder",
                dest.display()
            )));
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".labelaudit-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(dest, e))?;
        Ok(AtomicOutput {
            target: Target::File {
                tmp: BufWriter::new(tmp),
                dest: dest.to_path_buf(),
            },
        })
    }

    /// Where this output goes, for messages.
    pub fn dest(&self) -> &Path {
        match &self.target {
            Target::Stdout(_) => Path::new("-"),
            Target::File { dest, .. } => dest,
        }
    }

    /// Flush, sync and rename into place. Until this returns `Ok`, `dest` is untouched.
    pub fn commit(self) -> Result<()> {
        match self.target {
            Target::Stdout(mut w) => w.flush().map_err(|e| Error::io("<stdout>", e)),
            Target::File { tmp, dest } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| Error::io(&dest, e.into_error()))?;
                tmp.as_file().sync_all().map_err(|e| Error::io(&dest, e))?;
                tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
                Ok(())
            }
        }
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Stdout(w) => w.write(buf),
            Target::File { tmp, .. } => tmp.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(w) => w.flush(),
            Target::File { tmp, .. } => tmp.flush(),
        }
    }
}

/// Write `dest` atomically with `fill`; on any error nothing is left at `dest` (an existing
/// file there keeps its old content) and no temporary file remains.
pub fn write_atomic(dest: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut out = AtomicOutput::create(dest)?;
    fill(&mut out)?;
    out.commit()
}

/// A usage error when an output would overwrite one of the inputs: inputs are never modified.
pub fn refuse_input_overwrite(output: &Path, inputs: &[PathBuf]) -> Result<()> {
    if output == Path::new("-") {
        return Ok(());
    }
    let Ok(out) = fs::canonicalize(output) else {
        return Ok(()); // does not exist yet, so it is no input
    };
    for input in inputs {
        if fs::canonicalize(input).is_ok_and(|i| i == out) {
            return Err(Error::Usage(format!(
                "{}: this output file is also an input; inputs are never overwritten",
                output.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails after `n` bytes, like a full disk or a killed renderer.
    fn fail_after(out: &mut dyn Write, n: usize) -> Result<()> {
        let chunk = [b'x'; 64];
        let mut written = 0;
        loop {
            if written >= n {
                return Err(Error::io("<test>", io::Error::other("disk full")));
            }
            out.write_all(&chunk).map_err(|e| Error::io("<test>", e))?;
            written += chunk.len();
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn failure_midway_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("consensus.csv");
        let err = write_atomic(&dest, |out| fail_after(out, 100_000)).unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[test]
    fn failure_keeps_the_old_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        fs::write(&dest, "old,complete\n").unwrap();
        assert!(write_atomic(&dest, |out| fail_after(out, 10_000)).is_err());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "old,complete\n");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn success_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        fs::write(&dest, "old\n").unwrap();
        write_atomic(&dest, |out| {
            out.write_all(b"new\n").map_err(|e| Error::io("<test>", e))
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&dest).unwrap(), "new\n");
        assert_eq!(entries(dir.path()), vec!["out.csv"]);
    }

    #[test]
    fn missing_folder_is_a_located_error() {
        let err = AtomicOutput::create(Path::new("/no/such/dir/out.csv"))
            .err()
            .unwrap();
        assert!(
            err.to_string().starts_with("/no/such/dir/out.csv: "),
            "{err}"
        );
    }

    #[test]
    fn an_input_is_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        fs::write(&input, "x").unwrap();
        assert!(refuse_input_overwrite(&input, std::slice::from_ref(&input)).is_err());
        assert!(refuse_input_overwrite(&dir.path().join("new.csv"), &[input]).is_ok());
    }
}

//! Invalid records: what `--on-invalid skip` sets aside, and the quarantine file.
//!
//! A record-level defect (a bad value, a ragged row, a broken JSON line) can be skipped; a
//! structural one (no header, a missing column, a wrong `--from`) always stops the run, because
//! every following record would fail the same way and a thousand-line quarantine of a wrong
//! format helps nobody.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What to do with a record that fails validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnInvalid {
    /// Stop at the first invalid record with a located error (the default).
    #[default]
    Error,
    /// Set the record aside (counted by reason, written to the quarantine) and go on.
    Skip,
}

/// One record set aside by `--on-invalid skip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    pub path: PathBuf,
    /// Physical line the record starts on.
    pub line: u64,
    /// The full message, as the error would have said it.
    pub reason: String,
    /// The original bytes of the record (its first physical line for multi-line records);
    /// empty when the format has no line-shaped records (JSON documents).
    pub raw: Vec<u8>,
}

impl InvalidRecord {
    /// The reason without the value found: `field "duration_s": expected a number …`. Records
    /// with the same defect share this key, so the report counts defects, not values.
    pub fn reason_key(&self) -> &str {
        let r = self.reason.as_str();
        r.find(", found").map_or(r, |i| &r[..i])
    }
}

/// Invalid records counted by `reason_key` (`input.skipped.invalid` in the report).
pub fn count_by_reason(records: &[InvalidRecord]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.reason_key().to_string()).or_insert(0) += 1;
    }
    out
}

/// Write the quarantine as CSV `file,line,reason,record`; the record keeps its exact bytes.
pub fn write_quarantine(records: &[InvalidRecord], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    let to_err = |e: csv::Error| Error::io("<quarantine>", std::io::Error::other(e.to_string()));
    w.write_record(["file", "line", "reason", "record"])
        .map_err(to_err)?;
    for r in records {
        let line = r.line.to_string();
        let path = r.path.display().to_string();
        w.write_record([
            path.as_bytes(),
            line.as_bytes(),
            r.reason.as_bytes(),
            r.raw.as_slice(),
        ])
        .map_err(to_err)?;
    }
    w.flush().map_err(|e| Error::io("<quarantine>", e))
}

/// Fill in the raw text of records from `path` that have none, from the file's own lines.
pub(crate) fn fill_raw_lines(records: &mut [InvalidRecord], path: &Path, bytes: &[u8]) {
    let wanted: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.raw.is_empty() && r.path == path && r.line > 0)
        .map(|(i, _)| i)
        .collect();
    if wanted.is_empty() {
        return;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for i in wanted {
        let r = &mut records[i];
        if let Some(raw) = lines.get((r.line - 1) as usize) {
            r.raw = raw.strip_suffix(b"\r").unwrap_or(raw).to_vec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(reason: &str, raw: &[u8]) -> InvalidRecord {
        InvalidRecord {
            path: "a.csv".into(),
            line: 2,
            reason: reason.into(),
            raw: raw.to_vec(),
        }
    }

    #[test]
    fn reasons_group_without_the_value() {
        let rs = [
            rec("field \"duration_s\": expected a number, found \"x\"", b""),
            rec("field \"duration_s\": expected a number, found \"y\"", b""),
        ];
        let counts = count_by_reason(&rs);
        assert_eq!(counts["field \"duration_s\": expected a number"], 2);
    }

    #[test]
    fn quarantine_keeps_bytes_and_quotes() {
        let mut out = Vec::new();
        write_quarantine(&[rec("bad, found \"x\"", b"i,a,\xff\0")], &mut out).unwrap();
        assert_eq!(
            out,
            b"file,line,reason,record\na.csv,2,\"bad, found \"\"x\"\"\",\"i,a,\xff\0\"\n"
        );
    }

    #[test]
    fn raw_lines_are_filled_from_the_file() {
        let mut rs = [rec("bad", b"")];
        fill_raw_lines(&mut rs, Path::new("a.csv"), b"h\r\nrow two\r\n");
        assert_eq!(rs[0].raw, b"row two");
    }
}

//! CSV and TSV readers (RFC 4180 via the `csv` crate). The delimiter of a CSV file is
//! detected from its header line (`,`, tab or `;`); TSV files are tab-separated without
//! quoting, as annotation platforms write them. A label cell starting with `[` is a
//! multi-label answer written as a JSON array (`[]` = "none of these"; an empty cell stays
//! a missing label).

use std::borrow::Cow;
use std::path::Path;

use super::{ColumnMap, Fields, Format, IngestOptions, Payload, RecordSink};
use crate::error::{Error, Result};

/// The delimiter that occurs most often outside quotes in the first line; `,` on a tie.
fn detect_delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0)];
    let mut quoted = false;
    for &b in bytes.iter().take_while(|&&b| b != b'\n') {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if b == *d {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// A CSV reader for `format`: TSV is tab-separated without quoting; anything else has its
/// delimiter detected and RFC 4180 quoting.
pub(crate) fn reader(bytes: &[u8], format: Format) -> csv::Reader<&[u8]> {
    builder(format, delimiter(bytes, format))
        .has_headers(true)
        .from_reader(bytes)
}

/// The delimiter of a `format` file whose header line starts `bytes`.
pub(crate) fn delimiter(bytes: &[u8], format: Format) -> u8 {
    match format {
        Format::Tsv => b'\t',
        _ => detect_delimiter(bytes),
    }
}

fn builder(format: Format, delimiter: u8) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .flexible(false)
        .delimiter(delimiter)
        .quoting(format != Format::Tsv);
    builder
}

/// Physical line numbers of CSV records, counted from the bytes. The csv crate's own line
/// count is one short after CRLF line ends (it takes the `\n` of a `\r\n` as the start of the
/// next record), and platform exports are often CRLF, so lines are counted here instead.
#[derive(Debug)]
pub(crate) struct Lines<'b> {
    bytes: &'b [u8],
    offset: usize,
    line: u64,
}

impl<'b> Lines<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        Lines {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The first byte of the record that the parser reports at `start` (line ends left over
    /// from the previous record skipped) and its physical line.
    pub fn at(&mut self, start: usize) -> (usize, u64) {
        let bytes = self.bytes;
        let start = start.min(bytes.len());
        let skip = bytes[start..]
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let start = start + skip;
        if start < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += bytes[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.offset = start;
        (start, self.line)
    }

    /// The physical line `record` starts on.
    pub fn of(&mut self, record: &csv::ByteRecord) -> u64 {
        let start = record.position().map_or(0, |p| p.byte() as usize);
        self.at(start).1
    }
}

fn csv_error(path: &Path, header: &[String], err: csv::Error) -> Error {
    let line = err.position().map(|p| p.line());
    match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::data(
            path,
            line,
            format!(
                "expected {expected_len} fields ({}), found {len}",
                header.join(",")
            ),
        ),
        csv::ErrorKind::Io(e) => Error::data(path, line, format!("read error: {e}")),
        _ => Error::data(path, line, err.to_string()),
    }
}

/// `err` at `line` (the csv crate's own line can be one short after CRLF line ends).
pub(crate) fn relocate(err: Error, line: u64) -> Error {
    match err {
        Error::Data { location, message } => Error::Data {
            location: crate::error::Location::new(location.path, Some(line)),
            message,
        },
        e => e,
    }
}

/// Field `i` of a record as UTF-8 text, or a located error.
pub(crate) fn field<'r>(
    path: &Path,
    line: u64,
    record: &'r csv::ByteRecord,
    i: usize,
) -> Result<&'r str> {
    let raw = record.get(i).unwrap_or_default();
    std::str::from_utf8(raw).map_err(|e| {
        Error::data(
            path,
            Some(line),
            format!(
                "field {}: expected UTF-8 text, found invalid byte 0x{:02x}",
                i + 1,
                raw[e.valid_up_to()]
            ),
        )
    })
}

/// The header names, or a located error for an empty file or non-UTF-8 names.
pub(crate) fn read_header(path: &Path, rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<String>> {
    let header = rdr.byte_headers().map_err(|e| csv_error(path, &[], e))?;
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Error::data(
            path,
            Some(1),
            "expected a header line with item, annotator and label columns, found an empty file",
        ));
    }
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| {
            Error::data(
                path,
                Some(1),
                format!("header field {}: expected UTF-8 text", i + 1),
            )
        })?;
        names.push(name.to_string());
    }
    Ok(names)
}

/// Read the next record into `record`; `false` at the end of the file. An error names the
/// physical line (counted by `lines`) the bad record starts on.
pub(crate) fn next_record(
    path: &Path,
    header: &[String],
    rdr: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
    lines: &mut Lines<'_>,
) -> Result<bool> {
    let start = rdr.position().byte() as usize;
    rdr.read_byte_record(record)
        .map_err(|e| relocate(csv_error(path, header, e), lines.at(start).1))
}

/// Read one CSV/TSV export into the sink; returns the number of data records.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let mut rdr = reader(bytes, format);
    let header = read_header(path, &mut rdr)?;
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    let map = ColumnMap::resolve(&names, &opts.columns, path)?;
    read_records(path, bytes, rdr, &header, &map, sink)
}

/// The header of a CSV/TSV file and its resolved columns, for reading its body in parts.
pub(crate) struct Header {
    pub names: Vec<String>,
    pub map: ColumnMap,
    pub delimiter: u8,
    pub format: Format,
}

/// Read and resolve the header line of `bytes`.
pub(crate) fn header(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
) -> Result<Header> {
    let mut rdr = reader(bytes, format);
    let names = read_header(path, &mut rdr)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let map = ColumnMap::resolve(&refs, &opts.columns, path)?;
    Ok(Header {
        names,
        map,
        delimiter: delimiter(bytes, format),
        format,
    })
}

/// Read a part of a file's body (whole records, no header line) into the sink, as `read`
/// would read them after `header`. Line numbers count from the part's first line, so a
/// caller that needs located errors reads the whole file with `read` instead.
pub(crate) fn read_body(
    path: &Path,
    body: &[u8],
    header: &Header,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let rdr = builder(header.format, header.delimiter)
        .has_headers(false)
        .from_reader(body);
    read_records(path, body, rdr, &header.names, &header.map, sink)
}

/// [`read_body`] for a body that quotes as RFC 4180 says (TSV has no quoting: there a quote
/// is text) and whose every `\r` is part of a `\r\n`. Lines and fields are cut directly
/// and handed to the sink as slices of the body, which is several times faster than the
/// csv crate's state machine plus a UTF-8 check per field.
///
/// `None` whenever `read_body` must decide, so that it gives the outcome and any error:
/// a quote that is not RFC 4180 (inside an unquoted cell, or text after a closing quote),
/// an unclosed quote, a bare `\r` (a record end to the csv crate), invalid UTF-8, a
/// ragged row, an oversized record, a label set cell (`[`), or a record the sink does not
/// accept as valid. The sink may then hold part of the body and must be dropped.
pub(crate) fn read_plain_body(
    path: &Path,
    body: &[u8],
    header: &Header,
    sink: &mut RecordSink<'_>,
) -> Option<u64> {
    if memchr::memchr_iter(b'\r', body).any(|i| body.get(i + 1) != Some(&b'\n')) {
        return None;
    }
    // One check for the whole body: cutting valid UTF-8 at ASCII bytes keeps it valid.
    let text = std::str::from_utf8(body).ok()?;
    if header.format != Format::Tsv && memchr::memchr(b'"', body).is_some() {
        return read_quoted_body(path, text, header, sink);
    }
    let bytes = text.as_bytes();
    let mut cells: Vec<&str> = Vec::with_capacity(header.names.len());
    let (mut rows, mut line) = (0u64, 0u64);
    let (mut record_start, mut cell_start) = (0, 0);
    // Every delimiter and line break, in one vectorised pass; the end closes the last record.
    let breaks = memchr::memchr2_iter(header.delimiter, b'\n', bytes);
    for end in breaks.chain(std::iter::once(bytes.len())) {
        cells.push(&text[cell_start..end]);
        cell_start = end + 1;
        if bytes.get(end).is_some_and(|&b| b != b'\n') {
            continue;
        }
        line += 1;
        let record = &text[record_start..end];
        record_start = end + 1;
        // `\r` occurs only before `\n` (checked above).
        let record = record.strip_suffix('\r').unwrap_or(record);
        if let Some(last) = cells.last_mut() {
            *last = last.strip_suffix('\r').unwrap_or(last);
        }
        // The csv crate skips blank lines.
        if !record.is_empty() {
            push_plain_record(path, line, record, &cells, header, sink)?;
            rows += 1;
        }
        cells.clear();
    }
    Some(rows)
}

/// [`read_plain_body`] for a CSV body with quotes. A cell that starts with a quote runs to
/// the quote that closes it (a doubled quote inside is one quote; a delimiter or a line
/// break inside is text) and must end right there, as the csv crate reads a strictly
/// quoted cell; any other quote is left to the csv crate. Cells are borrowed from the body
/// unless they hold a doubled quote.
fn read_quoted_body(
    path: &Path,
    text: &str,
    header: &Header,
    sink: &mut RecordSink<'_>,
) -> Option<u64> {
    let bytes = text.as_bytes();
    let delimiter = header.delimiter;
    let mut cells: Vec<Cow<'_, str>> = Vec::with_capacity(header.names.len());
    let (mut rows, mut line) = (0u64, 0u64);
    let mut at = 0;
    while at < bytes.len() {
        let record_start = at;
        // The csv crate skips blank lines.
        let blank = match bytes[at] {
            b'\n' => Some(1),
            b'\r' => Some(2),
            _ => None,
        };
        if let Some(len) = blank {
            (at, line) = (at + len, line + 1);
            continue;
        }
        line += 1;
        let first_line = line;
        // Cells up to the end of the record; `at` ends on its line break (or the end).
        loop {
            let end = if bytes.get(at) == Some(&b'"') {
                let (close, doubled) = closing_quote(bytes, at + 1)?;
                let inner = &text[at + 1..close];
                line += memchr::memchr_iter(b'\n', inner.as_bytes()).count() as u64;
                cells.push(match doubled {
                    true => Cow::Owned(inner.replace("\"\"", "\"")),
                    false => Cow::Borrowed(inner),
                });
                close + 1
            } else {
                let rest = &bytes[at..];
                let end =
                    memchr::memchr3(delimiter, b'\n', b'"', rest).map_or(bytes.len(), |i| at + i);
                let cell = &text[at..end];
                cells.push(Cow::Borrowed(match bytes.get(end) {
                    Some(b'"') => return None,
                    // `\r` occurs only before `\n` (checked by the caller): the line end's.
                    Some(b'\n') => cell.strip_suffix('\r').unwrap_or(cell),
                    _ => cell,
                }));
                end
            };
            match bytes.get(end) {
                Some(&b) if b == delimiter => at = end + 1,
                // The line end (`\r` only starts a `\r\n`), or the end of the body.
                None | Some(b'\n' | b'\r') => {
                    at = end;
                    break;
                }
                Some(_) => return None,
            }
        }
        let record = &text[record_start..at];
        let record = record.strip_suffix('\r').unwrap_or(record);
        push_plain_record(path, first_line, record, &cells, header, sink)?;
        rows += 1;
        cells.clear();
        // Past the line break.
        at += match bytes.get(at) {
            Some(b'\r') => 2,
            Some(_) => 1,
            None => 0,
        };
    }
    Some(rows)
}

/// The quote that closes a quoted cell whose text starts at `from`, and whether the text
/// holds a doubled quote; `None` when the quote is never closed.
fn closing_quote(bytes: &[u8], mut from: usize) -> Option<(usize, bool)> {
    let mut doubled = false;
    loop {
        let quote = from + memchr::memchr(b'"', &bytes[from..])?;
        if bytes.get(quote + 1) != Some(&b'"') {
            return Some((quote, doubled));
        }
        doubled = true;
        from = quote + 2;
    }
}

/// One record of [`read_plain_body`], cut into `cells`; `None` when `read_body` must decide.
fn push_plain_record<S: AsRef<str>>(
    path: &Path,
    line: u64,
    record: &str,
    cells: &[S],
    header: &Header,
    sink: &mut RecordSink<'_>,
) -> Option<()> {
    if cells.len() != header.names.len() || record.len() > sink.max_record_bytes() {
        return None;
    }
    let map = &header.map;
    let opt = |i: Option<usize>| i.map(|i| cells[i].as_ref());
    let fields = Fields {
        item: cells[map.item].as_ref(),
        annotator: cells[map.annotator].as_ref(),
        label: cells[map.label].as_ref(),
        duration_s: opt(map.duration_s),
        started_at: opt(map.started_at),
        submitted_at: opt(map.submitted_at),
        gold: opt(map.gold),
        is_gold: opt(map.is_gold),
        status: opt(map.status),
    };
    if is_label_set(fields.label) {
        return None;
    }
    sink.push_raw(path, line, Some(record.as_bytes()), fields)
        .ok()?;
    sink.invalid.is_empty().then_some(())
}

fn read_records(
    path: &Path,
    bytes: &[u8],
    mut rdr: csv::Reader<&[u8]>,
    header: &[String],
    map: &ColumnMap,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    let mut lines = Lines::new(bytes);
    loop {
        let start = rdr.position().byte() as usize;
        let read = rdr.read_byte_record(&mut record);
        let end = (rdr.position().byte() as usize).min(bytes.len());
        let (start, line) = lines.at(start);
        // The record's exact bytes, for the quarantine (a multi-line record stays whole).
        let raw = bytes
            .get(start..end.max(start))
            .map(|r| r.strip_suffix(b"\n").unwrap_or(r))
            .map(|r| r.strip_suffix(b"\r").unwrap_or(r));
        if matches!(read, Ok(false)) {
            break;
        }
        // Size first: an unterminated quote swallows the rest of the file into one record,
        // and "too long, starting at line N" is the clearest way to say so.
        let len = raw.map_or(end.saturating_sub(start), <[u8]>::len);
        if len > sink.max_record_bytes() {
            if let Err(e) = sink.check_size(path, line, len) {
                sink.invalid(e, raw.map(|r| &r[..r.len().min(sink.max_record_bytes())]))?;
            }
            rows += 1;
            continue;
        }
        // Without a header line the csv crate takes the part's first record's width as
        // the rule; the header's is the one that counts.
        let read = read.and_then(|r| {
            if record.len() == header.len() {
                return Ok(r);
            }
            Err(csv::Error::from(std::io::Error::other(format!(
                "expected {} fields ({}), found {}",
                header.len(),
                header.join(","),
                record.len()
            ))))
        });
        match read {
            Ok(_) => {}
            Err(e) => {
                // A ragged row is one bad record; the reader goes on after it.
                sink.invalid(relocate(csv_error(path, header, e), line), raw)?;
                rows += 1;
                continue;
            }
        }
        rows += 1;
        let opt = |i: Option<usize>| -> Result<Option<&str>> {
            i.map(|i| field(path, line, &record, i)).transpose()
        };
        let fields = (|| -> Result<Fields<'_>> {
            Ok(Fields {
                item: field(path, line, &record, map.item)?,
                annotator: field(path, line, &record, map.annotator)?,
                label: field(path, line, &record, map.label)?,
                duration_s: opt(map.duration_s)?,
                started_at: opt(map.started_at)?,
                submitted_at: opt(map.submitted_at)?,
                gold: opt(map.gold)?,
                is_gold: opt(map.is_gold)?,
                status: opt(map.status)?,
            })
        })();
        let set = fields.and_then(|f| Ok((f, label_set(path, line, f.label)?)));
        match set {
            Ok((fields, Some(set))) => {
                sink.push_payload(path, line, raw, fields, Payload::Set(&set))?
            }
            Ok((fields, None)) => sink.push_raw(path, line, raw, fields)?,
            Err(e) => sink.invalid(e, raw)?,
        }
    }
    Ok(rows)
}

/// Whether a label cell is a multi-label answer (a JSON array).
fn is_label_set(cell: &str) -> bool {
    cell.trim_start().starts_with('[')
}

/// A label cell that starts with `[`, parsed as a JSON array of labels.
fn label_set(path: &Path, line: u64, cell: &str) -> Result<Option<Vec<String>>> {
    if !is_label_set(cell) {
        return Ok(None);
    }
    let list: Vec<serde_json::Value> = serde_json::from_str(cell.trim()).map_err(|e| {
        Error::data(
            path,
            Some(line),
            format!("field \"label\": expected a JSON array of labels, found {cell:?} ({e})"),
        )
    })?;
    super::jsonl::label_list(path, line, "label", &list).map(Some)
}

/// The (item, label) records of a gold file, as written, in file order: parsed apart from
/// the sink, so that a gold file can be read while the annotations are.
#[derive(Debug, Default)]
pub(crate) struct GoldRecords {
    /// Every item and label, one after another.
    text: String,
    /// Where each record's item ends and its label ends in `text`.
    ends: Vec<(usize, usize)>,
}

impl GoldRecords {
    fn push(&mut self, item: &str, label: &str) {
        self.text.push_str(item);
        let item_end = self.text.len();
        self.text.push_str(label);
        self.ends.push((item_end, self.text.len()));
    }

    /// Give every record to the sink, in file order.
    pub(crate) fn apply(&self, sink: &mut RecordSink<'_>) {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        sink.set_gold_from_file(starts.zip(&self.ends).map(|(start, &(item_end, end))| {
            (&self.text[start..item_end], &self.text[item_end..end])
        }));
    }
}

/// Read a gold file (`item,label`, or `item,gold_label`); see [`GoldRecords::apply`].
pub(crate) fn read_gold(path: &Path, bytes: &[u8]) -> Result<GoldRecords> {
    let mut rdr = reader(bytes, Format::Csv);
    let header = read_header(path, &mut rdr)?;
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(item_col), Some(label_col)) = (
        find(&["item", "item_id", "task", "task_id"]),
        find(&["gold_label", "gold", "label", "true_label"]),
    ) else {
        return Err(Error::data(
            path,
            Some(1),
            format!(
                "expected gold columns item,label (or item,gold_label), found {}",
                header.join(",")
            ),
        ));
    };
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::new(bytes);
    let mut records = GoldRecords::default();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, &header, e)),
        }
        let line = lines.of(&record);
        let item = field(path, line, &record, item_col)?;
        let label = field(path, line, &record, label_col)?;
        if item.trim().is_empty() {
            return Err(Error::data(
                path,
                Some(line),
                "expected an item id, found an empty field",
            ));
        }
        records.push(item, label);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_physical_with_crlf_and_multiline_records() {
        let bytes = b"h1,h2\r\na,b\r\n\"x\r\ny\",c\r\nd,e\r\n";
        let mut rdr = reader(bytes, Format::Csv);
        rdr.byte_headers().unwrap();
        let mut lines = Lines::new(bytes);
        let mut record = csv::ByteRecord::new();
        let mut got = Vec::new();
        while rdr.read_byte_record(&mut record).unwrap() {
            got.push(lines.of(&record));
        }
        assert_eq!(got, vec![2, 3, 5]);
    }

    #[test]
    fn delimiter_is_detected_outside_quotes() {
        assert_eq!(detect_delimiter(b"item;annotator;label\n"), b';');
        assert_eq!(detect_delimiter(b"item\tannotator\tlabel\n"), b'\t');
        assert_eq!(detect_delimiter(b"\"a;b;c\",x,y\n"), b',');
    }
}

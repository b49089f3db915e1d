//! `RecordSink`: validates every record a reader hands over and feeds the `DatasetBuilder`.
//!
//! All readers share it, so every format gets the same checks: ids and labels trimmed and in
//! NFC (`hygiene`), no control characters, typed fields parsed, statuses counted, and, with
//! `--on-invalid skip`, invalid records set aside instead of stopping the run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use super::hygiene::{self, HygieneTracker};
use super::invalid::{InvalidRecord, OnInvalid};
use super::{values, IngestOptions};
use crate::dataset::{DatasetBuilder, Level, Row};
use crate::error::{Error, Result};
use crate::label_sets::{span_list_label, RawSpan, EMPTY_SET_LABEL};

/// One record's fields as text, before validation.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub item: &'a str,
    pub annotator: &'a str,
    pub label: &'a str,
    pub duration_s: Option<&'a str>,
    pub started_at: Option<&'a str>,
    pub submitted_at: Option<&'a str>,
    pub gold: Option<&'a str>,
    pub is_gold: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// What a record answers beyond its `label` text: a label set or a span list.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) enum Payload<'a> {
    /// A single label (`Fields::label`).
    #[default]
    Single,
    /// A multi-label answer; `Fields::label` is ignored. Empty = "none of these".
    Set(&'a [String]),
    /// A span answer and the item's text when known; `Fields::label` is ignored.
    Spans(&'a [RawSpan], Option<&'a str>),
}

/// Validates records and feeds the builder; shared by every reader.
pub(crate) struct RecordSink<'o> {
    pub(super) builder: DatasetBuilder,
    pub(super) opts: &'o IngestOptions,
    pub(super) skipped_by_reason: BTreeMap<String, u64>,
    /// Gold label per item as first given (platform reference answers and `gold` columns),
    /// so that a second, different one is a located error rather than a silent overwrite.
    pub(super) gold: BTreeMap<String, String>,
    pub(super) hygiene: HygieneTracker,
    pub(super) invalid: Vec<InvalidRecord>,
    /// Records that passed validation (kept or counted as a status skip).
    pub(super) accepted: u64,
}

impl<'o> RecordSink<'o> {
    pub(super) fn new(opts: &'o IngestOptions) -> Self {
        RecordSink {
            builder: DatasetBuilder::default(),
            opts,
            skipped_by_reason: BTreeMap::new(),
            gold: BTreeMap::new(),
            hygiene: HygieneTracker::default(),
            invalid: Vec::new(),
            accepted: 0,
        }
    }

    /// The largest record, in bytes, that readers accept (`--max-record-bytes`).
    pub fn max_record_bytes(&self) -> usize {
        self.opts.max_record_bytes
    }

    /// Count a record that a platform reader does not turn into an annotation.
    pub fn skip(&mut self, reason: &str) {
        *self
            .skipped_by_reason
            .entry(reason.to_string())
            .or_insert(0) += 1;
    }

    /// Handle a record-level error: with `--on-invalid skip`, a located data error is set
    /// aside (with `raw`, the record's bytes, when the reader has them) and `Ok` is returned;
    /// otherwise, or for errors without a line, the error is returned unchanged.
    pub fn invalid(&mut self, err: Error, raw: Option<&[u8]>) -> Result<()> {
        match (self.opts.on_invalid, err) {
            (
                OnInvalid::Skip,
                Error::Data {
                    location:
                        crate::error::Location {
                            path,
                            line: Some(line),
                        },
                    message,
                },
            ) => {
                self.invalid.push(InvalidRecord {
                    path,
                    line,
                    reason: message,
                    raw: raw.map(<[u8]>::to_vec).unwrap_or_default(),
                });
                Ok(())
            }
            (_, err) => Err(err),
        }
    }

    /// A located error for a record longer than `--max-record-bytes`, or `Ok`.
    pub fn check_size(&self, path: &Path, line: u64, len: usize) -> Result<()> {
        let max = self.opts.max_record_bytes;
        if len > max {
            return Err(Error::data(
                path,
                Some(line),
                format!(
                    "expected a record of at most {max} bytes (--max-record-bytes), found {len} bytes"
                ),
            ));
        }
        Ok(())
    }

    /// Mark `item` as gold with `label`, without adding an annotation (a platform's
    /// reference answer, e.g. a Label Studio `ground_truth` annotation). Two different
    /// reference answers for one item are an error, not a silent overwrite.
    pub fn set_gold(&mut self, path: &Path, line: u64, item: &str, label: &str) -> Result<()> {
        let item = self.hygiene.clean(item);
        let label = self.hygiene.clean(label);
        if item.is_empty() || label.is_empty() {
            return Ok(());
        }
        self.check_gold(path, line, &item, &label)?;
        self.builder.set_gold(&item, &label);
        Ok(())
    }

    /// Gold labels from a separate gold file, `(item, label)` in file order: the file is
    /// the authority, so they replace.
    pub fn set_gold_from_file<'r>(&mut self, records: impl Iterator<Item = (&'r str, &'r str)>) {
        let cleaned: Vec<_> = records
            .map(|(item, label)| (self.hygiene.clean(item), self.hygiene.clean(label)))
            .filter(|(item, label)| !item.is_empty() && !label.is_empty())
            .collect();
        self.builder.set_gold_all(&cleaned);
    }

    fn check_gold(&mut self, path: &Path, line: u64, item: &str, label: &str) -> Result<()> {
        match self.gold.get(item) {
            Some(first) if first != label => Err(Error::data(
                path,
                Some(line),
                format!("expected one gold label for item {item:?}, found {first:?} and {label:?}"),
            )),
            Some(_) => Ok(()),
            None => {
                self.gold.insert(item.to_string(), label.to_string());
                Ok(())
            }
        }
    }

    /// Validate one record found at `path:line` and add it; invalid records go through
    /// `invalid` (so `--on-invalid skip` applies to every reader).
    pub fn push(&mut self, path: &Path, line: u64, f: Fields<'_>) -> Result<()> {
        self.push_raw(path, line, None, f)
    }

    /// `push`, with the record's original bytes for the quarantine.
    pub fn push_raw(
        &mut self,
        path: &Path,
        line: u64,
        raw: Option<&[u8]>,
        f: Fields<'_>,
    ) -> Result<()> {
        self.push_payload(path, line, raw, f, Payload::Single)
    }

    /// `push_raw` for a record whose answer is a label set or a span list.
    pub fn push_payload(
        &mut self,
        path: &Path,
        line: u64,
        raw: Option<&[u8]>,
        f: Fields<'_>,
        payload: Payload<'_>,
    ) -> Result<()> {
        match self.validate(path, line, f, payload) {
            Ok(()) => Ok(()),
            Err(e) => self.invalid(e, raw),
        }
    }

    fn validate(
        &mut self,
        path: &Path,
        line: u64,
        f: Fields<'_>,
        payload: Payload<'_>,
    ) -> Result<()> {
        let fail = |message: String| Error::data(path, Some(line), message);
        // A set or span list becomes one canonical label text (see `label_sets`), checked
        // below like any label; its members are cleaned, sorted and deduplicated.
        let mut members: Vec<String> = Vec::new();
        let mut spans: Vec<RawSpan> = Vec::new();
        let set_label: Option<String> = match payload {
            Payload::Single => None,
            Payload::Set(set) => {
                for m in set {
                    if let Some((at, c)) = hygiene::control_char(m) {
                        return Err(fail(format!(
                            "field \"label\": expected labels without control characters, \
                             found U+{:04X} at character {at}",
                            c as u32
                        )));
                    }
                    let m = hygiene::clean(m).0;
                    if m.is_empty() {
                        return Err(fail(
                            "field \"label\": expected non-empty labels in the list, found \"\""
                                .into(),
                        ));
                    }
                    members.push(m.into_owned());
                }
                members.sort_by(|a, b| crate::dataset::canonical_cmp(a, b));
                members.dedup();
                Some(if members.is_empty() {
                    EMPTY_SET_LABEL.to_string()
                } else {
                    members.join("|")
                })
            }
            Payload::Spans(list, _) => {
                for sp in list {
                    if sp.end < sp.start {
                        return Err(fail(format!(
                            "span {}-{} {:?}: expected end >= start",
                            sp.start, sp.end, sp.label
                        )));
                    }
                    let label = hygiene::clean(&sp.label).0;
                    if label.is_empty() || hygiene::control_char(&label).is_some() {
                        return Err(fail(format!(
                            "span {}-{}: expected a label, found {:?}",
                            sp.start, sp.end, sp.label
                        )));
                    }
                    spans.push(RawSpan {
                        label: label.into_owned(),
                        ..sp.clone()
                    });
                }
                Some(span_list_label(&spans))
            }
        };
        let f = Fields {
            label: set_label.as_deref().unwrap_or(f.label),
            ..f
        };
        for (name, value) in [
            ("item", f.item),
            ("annotator", f.annotator),
            ("label", f.label),
        ] {
            // Printable ASCII (and tab) has neither line breaks nor control characters.
            if hygiene::printable_ascii(value.as_bytes())
                || value
                    .bytes()
                    .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
            {
                continue;
            }
            if value.contains(['\n', '\r']) {
                return Err(fail(format!(
                    "field \"{name}\": expected a single-line value, found a line break \
                     (an unterminated quote?)"
                )));
            }
            if let Some((at, c)) = hygiene::control_char(value) {
                return Err(fail(format!(
                    "field \"{name}\": expected text without control characters, found \
                     U+{:04X} at character {at}",
                    c as u32
                )));
            }
        }
        // Cleaning is counted only for records that pass the checks above, so that the
        // hygiene counts describe the data that is used.
        let cleaned = [
            hygiene::clean(f.item),
            hygiene::clean(f.annotator),
            hygiene::clean(f.label),
        ];
        let [(item, ..), (annotator, ..), (label, ..)]: &[(Cow<str>, bool, bool); 3] = &cleaned;
        if item.is_empty() {
            return Err(fail("expected an item id, found an empty field".into()));
        }
        if annotator.is_empty() {
            return Err(fail(
                "expected an annotator id, found an empty field".into(),
            ));
        }
        let status = f.status.map(hygiene::trim).unwrap_or("");
        if !status.is_empty() && !status.eq_ignore_ascii_case("submitted") {
            let known = ["skipped", "rejected"];
            if !known.iter().any(|k| status.eq_ignore_ascii_case(k)) {
                return Err(fail(format!(
                    "field \"status\": expected submitted, skipped or rejected, found {status:?}"
                )));
            }
            self.skip(&status.to_ascii_lowercase());
            self.accepted += 1;
            return Ok(());
        }
        if !label.is_empty() && matches!(self.opts.level, Level::Interval | Level::Ratio) {
            values::check_numeric_label(label, self.opts.level).map_err(fail)?;
        }
        let duration_s = match f.duration_s.filter(|s| !hygiene::trim(s).is_empty()) {
            Some(s) => Some(values::parse_duration(s).map_err(fail)?),
            None => None,
        };
        let started = match f.started_at.filter(|s| !hygiene::trim(s).is_empty()) {
            Some(s) => Some(
                values::parse_timestamp_ms(s)
                    .map_err(|m| fail(format!("field \"started_at\": {m}")))?,
            ),
            None => None,
        };
        let submitted = match f.submitted_at.filter(|s| !hygiene::trim(s).is_empty()) {
            Some(s) => Some(
                values::parse_timestamp_ms(s)
                    .map_err(|m| fail(format!("field \"submitted_at\": {m}")))?,
            ),
            None => None,
        };
        // Without an explicit duration, the time between start and submission is the effort.
        let duration_s = duration_s.or_else(|| match (started, submitted) {
            (Some(s), Some(e)) if e >= s => Some((e - s) as f32 / 1000.0),
            _ => None,
        });
        let is_gold = match f.is_gold.map(hygiene::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                values::parse_bool(s).map_err(|m| fail(format!("field \"is_gold\": {m}")))?
            }
            None => true,
        };
        let gold = match f.gold.filter(|_| is_gold) {
            Some(g) => {
                if let Some((at, c)) = hygiene::control_char(g) {
                    return Err(fail(format!(
                        "field \"gold\": expected text without control characters, found \
                         U+{:04X} at character {at}",
                        c as u32
                    )));
                }
                let g = hygiene::clean(g).0;
                if !g.is_empty() {
                    self.check_gold(path, line, item, &g)?;
                }
                Some(g)
            }
            None => None,
        };
        // The record is valid: count its cleaning and its label spelling.
        for (_, trimmed, nfc) in &cleaned {
            self.hygiene.count(*trimmed, *nfc);
        }
        if !label.is_empty() {
            self.hygiene.saw_label(f.label);
        }
        self.accepted += 1;
        let row = Row {
            item,
            annotator,
            label,
            duration_s,
            submitted_at_ms: submitted,
            gold: gold.as_deref().filter(|g| !g.is_empty()),
        };
        match payload {
            Payload::Single => self.builder.push(row),
            Payload::Set(_) => {
                let refs: Vec<&str> = members.iter().map(String::as_str).collect();
                self.builder.push_set(row, &refs);
            }
            Payload::Spans(_, text) => self.builder.push_spans(row, &spans, text),
        }
        Ok(())
    }
}

//! JSON Lines reader: one object per line. Ids and labels may be strings or integers (read
//! as text); blank lines are allowed; anything else is an error naming the line and field.
//! A label that is a list is a multi-label answer (`[]` = "none of these", `null` = missing);
//! a `spans` list of `{start, end, label}` (with an optional item `text`) is a span answer.

use std::borrow::Cow;
use std::path::Path;

use serde_json::{Map, Value};

use super::{Fields, Payload, RecordSink};
use crate::error::{Error, Result};
use crate::label_sets::RawSpan;

use super::columns::{ANNOTATOR, DURATION, GOLD, IS_GOLD, ITEM, LABEL, STARTED, STATUS, SUBMITTED};

fn lookup<'v>(obj: &'v Map<String, Value>, names: &[&str]) -> Option<(&'v str, &'v Value)> {
    names.iter().find_map(|&n| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(k, v)| (k.as_str(), v))
    })
}

fn text<'v>(line: u64, path: &Path, name: &str, v: &'v Value) -> Result<Cow<'v, str>> {
    match v {
        Value::String(s) => Ok(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Ok(Cow::Owned(n.to_string())),
        Value::Bool(b) => Ok(Cow::Owned(b.to_string())),
        Value::Null => Ok(Cow::Borrowed("")),
        Value::Array(_) => Err(Error::data(
            path,
            Some(line),
            format!("field {name:?}: expected a string or number, found a list"),
        )),
        Value::Object(_) => Err(Error::data(
            path,
            Some(line),
            format!("field {name:?}: expected a string or number, found an object"),
        )),
    }
}

/// Read one JSONL export into the sink; returns the number of records.
pub(crate) fn read(path: &Path, bytes: &[u8], sink: &mut RecordSink<'_>) -> Result<u64> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rows = 0u64;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        rows += 1;
        // Size before parsing: a huge line is refused without building its JSON value.
        let checked = sink
            .check_size(path, line, raw.len())
            .and_then(|()| read_line(path, line, raw, sink));
        if let Err(e) = checked {
            let max = sink.max_record_bytes();
            sink.invalid(e, Some(&raw[..raw.len().min(max)]))?;
        }
    }
    Ok(rows)
}

/// Parse one non-blank line and push it; any error is about this line alone.
fn read_line(path: &Path, line: u64, raw: &[u8], sink: &mut RecordSink<'_>) -> Result<()> {
    let text_line = std::str::from_utf8(raw).map_err(|e| {
        Error::data(
            path,
            Some(line),
            format!(
                "expected UTF-8 text, found invalid byte 0x{:02x} at column {}",
                raw[e.valid_up_to()],
                e.valid_up_to() + 1
            ),
        )
    })?;
    let obj: Map<String, Value> = serde_json::from_str(text_line).map_err(|e| {
        Error::data(
            path,
            Some(line),
            format!("expected a JSON object, found invalid JSON ({e})"),
        )
    })?;
    let required = |names: &[&str], role: &str| -> Result<Cow<'_, str>> {
        let (name, v) = lookup(&obj, names).ok_or_else(|| {
            Error::data(
                path,
                Some(line),
                format!("expected a field {:?} ({role}), found none", names[0]),
            )
        })?;
        text(line, path, name, v)
    };
    let optional = |names: &[&str]| -> Result<Option<Cow<'_, str>>> {
        lookup(&obj, names)
            .map(|(name, v)| text(line, path, name, v))
            .transpose()
    };
    let item = required(ITEM, "the item id")?;
    let annotator = required(ANNOTATOR, "the annotator id")?;
    let spans = match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("spans")) {
        Some((_, v)) => Some(span_list(path, line, v)?),
        None => None,
    };
    let mut set: Option<Vec<String>> = None;
    let label = match (lookup(&obj, LABEL), &spans) {
        (Some((name, Value::Array(list))), _) => {
            set = Some(label_list(path, line, name, list)?);
            Cow::Borrowed("")
        }
        (None, Some(_)) => Cow::Borrowed(""),
        _ => required(LABEL, "the label")?,
    };
    let text_field = optional(&["text"])?;
    let duration = optional(DURATION)?;
    let started = optional(STARTED)?;
    let submitted = optional(SUBMITTED)?;
    let gold = optional(GOLD)?;
    let is_gold = optional(IS_GOLD)?;
    let status = optional(STATUS)?;
    let payload = match (&set, &spans) {
        (_, Some(spans)) => Payload::Spans(spans, text_field.as_deref()),
        (Some(set), None) => Payload::Set(set),
        (None, None) => Payload::Single,
    };
    sink.push_payload(
        path,
        line,
        Some(raw),
        Fields {
            item: &item,
            annotator: &annotator,
            label: &label,
            duration_s: duration.as_deref(),
            started_at: started.as_deref(),
            submitted_at: submitted.as_deref(),
            gold: gold.as_deref(),
            is_gold: is_gold.as_deref(),
            status: status.as_deref(),
        },
        payload,
    )?;
    Ok(())
}

/// The members of a multi-label list: strings or numbers (read as text).
pub(crate) fn label_list(
    path: &Path,
    line: u64,
    name: &str,
    list: &[Value],
) -> Result<Vec<String>> {
    list.iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(Error::data(
                path,
                Some(line),
                format!("field {name:?}: expected a list of strings or numbers, found {other}"),
            )),
        })
        .collect()
}

/// A `spans` list: objects with integer `start`, `end` and a `label`.
pub(crate) fn span_list(path: &Path, line: u64, v: &Value) -> Result<Vec<RawSpan>> {
    let fail = |m: String| Error::data(path, Some(line), m);
    let list = match v {
        Value::Array(list) => list,
        Value::Null => return Ok(Vec::new()),
        other => {
            return Err(fail(format!(
                "field \"spans\": expected a list, found {other}"
            )))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let offset = |k: &str| {
                s.get(k).and_then(Value::as_u64).ok_or_else(|| {
                    fail(format!(
                        "field \"spans\"[{i}]: expected a non-negative integer {k:?}, found {}",
                        s.get(k).map_or("none".to_string(), Value::to_string)
                    ))
                })
            };
            let label = match s.get("label") {
                Some(Value::String(l)) => l.clone(),
                Some(Value::Number(n)) => n.to_string(),
                other => {
                    return Err(fail(format!(
                        "field \"spans\"[{i}]: expected a string \"label\", found {}",
                        other.map_or("none".to_string(), Value::to_string)
                    )))
                }
            };
            Ok(RawSpan {
                start: offset("start")?,
                end: offset("end")?,
                label,
            })
        })
        .collect()
}

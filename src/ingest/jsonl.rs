//! JSON Lines reader: one object per line. Ids and labels may be strings or integers (read
//! as text); blank lines are allowed; anything else is an error naming the line and field.
//! A label that is a list is a multi-label answer (`[]` = "none of these", `null` = missing);
//! a `spans` list of `{start, end, label}` (with an optional item `text`) is a span answer.

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;
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
    if let Some(flat) = std::str::from_utf8(raw)
        .ok()
        .and_then(|t| serde_json::from_str::<Flat<'_>>(t).ok())
    {
        if let Some(fields) = flat.fields() {
            return sink.push_payload(path, line, Some(raw), fields.fields(), Payload::Single);
        }
    }
    read_value(path, line, raw, sink)
}

/// `read_line` by way of a `serde_json::Value` per line: every shape and every error.
fn read_value(path: &Path, line: u64, raw: &[u8], sink: &mut RecordSink<'_>) -> Result<()> {
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

/// The common case of a record, read without building a `Value`: every field a scalar,
/// strings borrowed from the line. Anything else (lists, spans, a field named twice, a
/// missing required field) is left to `read_value`, which gives every error; so whenever
/// `Flat` gives fields they are the ones `read_value` would give.
#[derive(Default)]
struct Flat<'a> {
    /// One slot per role, in `ROLES` order: the value and whether the key was seen.
    slots: [Option<Scalar<'a>>; ROLES.len()],
    /// A key `Flat` does not handle (`spans`) or a role given twice.
    unusual: bool,
}

/// The roles `read_value` looks up, each with its accepted names.
const ROLES: [&[&str]; 10] = [
    ITEM,
    ANNOTATOR,
    LABEL,
    DURATION,
    STARTED,
    SUBMITTED,
    GOLD,
    IS_GOLD,
    STATUS,
    &["text"],
];

/// A scalar field value, borrowed when the JSON string has no escapes.
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    Null,
    /// A list or an object.
    Nested,
}

impl<'a> Scalar<'a> {
    /// The text `text` gives for the same `Value`; `None` for a list or an object.
    fn text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Scalar::Text(s) => Cow::Borrowed(&**s),
            Scalar::Number(n) => Cow::Owned(n.to_string()),
            Scalar::Bool(b) => Cow::Owned(b.to_string()),
            Scalar::Null => Cow::Borrowed(""),
            Scalar::Nested => return None,
        })
    }
}

/// A record's fields as text, owning what was not borrowed from the line.
struct FlatFields<'f>([Option<Cow<'f, str>>; ROLES.len()]);

impl<'f> FlatFields<'f> {
    fn fields(&self) -> Fields<'_> {
        let get = |i: usize| self.0[i].as_deref();
        Fields {
            item: get(0).unwrap_or_default(),
            annotator: get(1).unwrap_or_default(),
            label: get(2).unwrap_or_default(),
            duration_s: get(3),
            started_at: get(4),
            submitted_at: get(5),
            gold: get(6),
            is_gold: get(7),
            status: get(8),
        }
    }
}

impl<'a> Flat<'a> {
    fn fields(&self) -> Option<FlatFields<'_>> {
        if self.unusual || self.slots[..3].iter().any(Option::is_none) {
            return None;
        }
        let mut out: [Option<Cow<'_, str>>; ROLES.len()] = Default::default();
        for (slot, value) in out.iter_mut().zip(&self.slots) {
            if let Some(v) = value {
                *slot = Some(v.text()?);
            }
        }
        Some(FlatFields(out))
    }
}

impl<'de> serde::Deserialize<'de> for Flat<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(FlatVisitor)
    }
}

struct FlatVisitor;

impl<'de> serde::de::Visitor<'de> for FlatVisitor {
    type Value = Flat<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(
        self,
        mut map: M,
    ) -> std::result::Result<Flat<'de>, M::Error> {
        let mut flat = Flat::default();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            let key = &*key.0;
            let role = ROLES
                .iter()
                .position(|names| names.iter().any(|n| key.eq_ignore_ascii_case(n)));
            match role {
                Some(r) if flat.slots[r].is_none() => {
                    flat.slots[r] = Some(map.next_value::<Scalar<'de>>()?);
                }
                _ => {
                    flat.unusual |= role.is_some() || key.eq_ignore_ascii_case("spans");
                    // Parsed as `read_value` parses it, so the same lines are valid JSON.
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(flat)
    }
}

/// A JSON string, borrowed when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Str<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(b))
            }
            // Numbers become the `Number` a `Value` would hold.
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> std::result::Result<Scalar<'de>, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Scalar::Null, Scalar::Number))
            }
            fn visit_unit<E>(self) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<Scalar<'de>, A::Error> {
                Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Scalar::Nested)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Scalar<'de>, A::Error> {
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Scalar::Nested)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{IngestOptions, OnInvalid};

    /// What a sink holds after reading `lines` one by one with `read`, as comparable text.
    fn outcome(
        lines: &[&str],
        read: fn(&Path, u64, &[u8], &mut RecordSink<'_>) -> Result<()>,
    ) -> String {
        let opts = IngestOptions {
            on_invalid: OnInvalid::Skip,
            ..IngestOptions::default()
        };
        let mut sink = RecordSink::new(&opts);
        let mut errors = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if let Err(e) = read(Path::new("t"), i as u64 + 1, l.as_bytes(), &mut sink) {
                errors.push(e.to_string());
            }
        }
        let invalid: Vec<String> = sink.invalid.iter().map(|r| r.reason.clone()).collect();
        let ds = sink.builder.build(None).map(|d| format!("{d:?}"));
        format!(
            "{ds:?} {:?} {invalid:?} {errors:?} {:?}",
            sink.skipped_by_reason,
            sink.hygiene.finish()
        )
    }

    #[test]
    fn flat_records_read_as_through_values() {
        let lines = [
            r#"{"item":"a","annotator":"w1","label":"x","duration_s":8.252,"submitted_at":"2026-01-01T06:49:34.94Z"}"#,
            r#"{"Item":7,"WORKER":"w\u00e9","answer":1.50,"duration":3,"status":"submitted"}"#,
            r#"{"task":"a\"b","rater":"w2","label":true,"lead_time":null,"status":"skipped"}"#,
            r#"{"item":"a","annotator":"w3","label":null,"gold":"x","is_gold":"yes"}"#,
            r#"{"item":"b","annotator":"w1","label":"y","extra":{"deep":[1,2,{"k":null}]}}"#,
            r#"{"item":"b","item":"c","annotator":"w1","label":"y"}"#,
            r#"{"item":"b","task":"c","annotator":"w2","label":"y"}"#,
            r#"{"item":"b","annotator":"w4","label":["x","y"]}"#,
            r#"{"item":"b","annotator":"w5","spans":[{"start":0,"end":1,"label":"P"}],"text":"ab"}"#,
            r#"{"item":"b","annotator":"w6"}"#,
            r#"{"item":["b"],"annotator":"w6","label":"x"}"#,
            r#"{"item":"b","annotator":"w6","label":"x","text":{"a":1}}"#,
            r#"{"item":"b","annotator":"w7","label":"x","extra":1e400}"#,
            r#"{"item":"b","annotator":"w7","label":"x"} trailing"#,
            r#"["item","b"]"#,
            r#"{"item":" b ","annotator":"w8","label":" x","duration_s":"-1"}"#,
            r#"{"item":"b","annotator":"w9","label":"x","submitted_at":"2026-02-30T00:00:00Z"}"#,
            r#"{"item":"c","annotator":-3,"label":12345678901234567890,"duration_s":1e2}"#,
        ];
        assert_eq!(outcome(&lines, read_line), outcome(&lines, read_value));
        // The common shapes do take the fast way.
        for l in &lines[..4] {
            let flat = serde_json::from_str::<Flat<'_>>(l).unwrap();
            assert!(flat.fields().is_some(), "{l}");
        }
    }
}

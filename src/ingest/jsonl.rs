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
    let mut start = 0;
    // `bytes.split(|&b| b == b'\n')`, found with memchr.
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (index, end) in ends.enumerate() {
        let raw = &bytes[start..end];
        start = end + 1;
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
    if let Some(fields) = plain_fields(raw) {
        return sink.push_payload(path, line, Some(raw), fields.fields(), Payload::Single);
    }
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

/// The role of a record key (case-insensitive). Keys are most often the canonical names, as
/// written: tried first (no role's name equals another's ignoring case, so the order of the
/// two searches does not change the answer).
fn role_of(key: &str) -> Option<usize> {
    ROLES.iter().position(|names| names[0] == key).or_else(|| {
        ROLES
            .iter()
            .position(|names| names.iter().any(|n| key.eq_ignore_ascii_case(n)))
    })
}

/// The index of the duration role in `ROLES`.
const DURATION_ROLE: usize = 3;

/// The most common record line, scanned by hand without serde: one object whose values
/// are strings without escapes, `true`, `false`, `null` or plain unsigned numbers of at
/// most 15 digits (with a fraction only where the value is a duration or is not used), or
/// objects and lists under keys no role reads (checked by serde, then skipped), no role
/// given twice, no `spans`. `None` for anything else, which `Flat` and `read_value`
/// decide; whenever this gives fields they are the ones `Flat` gives: a string's text is
/// the string, an integer's is its digits, and a duration is read as a number either way
/// (`values::parse_duration` reads at most 15 digits exactly, so `8.2520` and serde's
/// `8.252` give the same value).
fn plain_fields(raw: &[u8]) -> Option<FlatFields<'_>> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut scan = Scan { text, at: 0 };
    let mut out: [Option<Cow<'_, str>>; ROLES.len()] = Default::default();
    scan.expect(b'{')?;
    loop {
        let key = scan.string()?;
        scan.expect(b':')?;
        if key.eq_ignore_ascii_case("spans") {
            return None;
        }
        let role = role_of(key);
        if role.is_none() && scan.nested_next() {
            // An object or list under a key no role reads (`meta`, `data`): only checked.
            scan.skip_value()?;
            match scan.next_token()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        let fraction_ok = matches!(role, None | Some(DURATION_ROLE));
        let value = scan.scalar(fraction_ok)?;
        if let Some(r) = role {
            if out[r].is_some() {
                return None;
            }
            out[r] = Some(Cow::Borrowed(value));
        }
        match scan.next_token()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    scan.skip_space();
    let complete = scan.at == text.len() && out[..3].iter().all(Option::is_some);
    complete.then_some(FlatFields(out))
}

/// A cursor over one line for `plain_fields`.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn skip_space(&mut self) {
        let bytes = self.text.as_bytes();
        while bytes.get(self.at).is_some_and(|b| b" \t\r\n".contains(b)) {
            self.at += 1;
        }
    }

    /// The next byte after any white space.
    fn next_token(&mut self) -> Option<u8> {
        self.skip_space();
        let b = *self.text.as_bytes().get(self.at)?;
        self.at += 1;
        Some(b)
    }

    /// Whether the next value (after any white space) is an object or a list.
    fn nested_next(&mut self) -> bool {
        self.skip_space();
        matches!(self.text.as_bytes().get(self.at), Some(b'{' | b'['))
    }

    /// Step over one JSON value, checked as serde checks it; `None` when it is not valid.
    fn skip_value(&mut self) -> Option<()> {
        let mut values = serde_json::Deserializer::from_str(&self.text[self.at..])
            .into_iter::<serde::de::IgnoredAny>();
        values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(())
    }

    fn expect(&mut self, token: u8) -> Option<()> {
        (self.next_token()? == token).then_some(())
    }

    /// A string without escapes or control characters (which JSON forbids unescaped).
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let bytes = &self.text.as_bytes()[self.at..];
        let len = bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if bytes[len] != b'"' {
            return None;
        }
        let s = &self.text[self.at..self.at + len];
        self.at += len + 1;
        Some(s)
    }

    /// A value as the text `Scalar::text` gives for it; `None` for lists, objects,
    /// escaped strings and numbers other than `0|[1-9][0-9]*` (`.[0-9]+` if `fraction_ok`)
    /// of at most 15 digits.
    fn scalar(&mut self, fraction_ok: bool) -> Option<&'a str> {
        self.skip_space();
        let rest = &self.text[self.at..];
        for (literal, text) in [("true", "true"), ("false", "false"), ("null", "")] {
            if rest.starts_with(literal) {
                self.at += literal.len();
                return Some(text);
            }
        }
        if rest.starts_with('"') {
            return self.string();
        }
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let int = digits(rest);
        if int == 0 || (int > 1 && rest.starts_with('0')) {
            return None;
        }
        let mut len = int;
        if fraction_ok && rest[len..].starts_with('.') {
            let fraction = digits(&rest[len + 1..]);
            if fraction == 0 {
                return None;
            }
            len += 1 + fraction;
        }
        if len - usize::from(len > int) > 15 || rest[len..].starts_with(['.', 'e', 'E']) {
            return None;
        }
        self.at += len;
        Some(&rest[..len])
    }
}

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
            let role = role_of(key);
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
        assert!(plain_fields(lines[0].as_bytes()).is_some());
        // An object under a key no role reads is stepped over.
        assert!(plain_fields(lines[4].as_bytes()).is_some());
    }

    #[test]
    fn role_names_are_disjoint_ignoring_case() {
        for (r, names) in ROLES.iter().enumerate() {
            for name in *names {
                assert_eq!(role_of(name), Some(r), "{name}");
                assert_eq!(role_of(&name.to_ascii_uppercase()), Some(r), "{name}");
            }
        }
    }

    #[test]
    fn plain_lines_read_as_through_values() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let values = [
            r#""a""#,
            r#""é ""#,
            r#""""#,
            r#""a\"b""#,
            r#""x\u0041""#,
            "7",
            "0",
            "07",
            "-3",
            "1.50",
            "8.2520",
            "1e2",
            "1.",
            "true",
            "false",
            "null",
            "nul",
            "[1]",
            r#"{"a":1}"#,
            r#"{"a":"}","b":["]","\"["],"c":{}}"#,
            r#"[ {"k": [null, true, 1.5e3]} ]"#,
            "[1,",
            r#"{"a":}"#,
            "[1 2]",
            r#"{"a":1}}"#,
            "[\"\u{0}\"]",
            "123456789012345",
            "1234567890123456",
            "12345678901234.5",
            " 3 ",
            "\"\t\"",
            r#""2026-01-01T06:49:34.94Z""#,
            r#""submitted""#,
            r#""skipped""#,
            r#""yes""#,
        ];
        let keys = [
            "item",
            "annotator",
            "label",
            "duration_s",
            "submitted_at",
            "status",
            "is_gold",
            "gold",
            "Item",
            "WORKER",
            "extra",
            "spans",
            "text",
            "lead_time",
        ];
        let mut lines = Vec::new();
        let (mut plain, mut nested) = (0, 0);
        for _ in 0..3000 {
            let mut fields = vec![
                format!(r#""item":"i{}""#, rng.random_range(0..50)),
                format!(r#""annotator":"w{}""#, rng.random_range(0..9)),
                format!(r#""label":"L{}""#, rng.random_range(0..3)),
            ];
            for _ in 0..rng.random_range(0..4) {
                let key = keys[rng.random_range(0..keys.len())];
                let value = values[rng.random_range(0..values.len())];
                let at = rng.random_range(0..=fields.len());
                fields.insert(at, format!(r#""{key}":{value}"#));
            }
            if rng.random_range(0..5) == 0 {
                fields.remove(rng.random_range(0..fields.len()));
            }
            let sep = [",", ", ", " ,"][rng.random_range(0..3)];
            let end = ["}", " } ", "},", "}x"][rng.random_range(0..4)];
            let line = format!("{{{}{end}", fields.join(sep));
            if plain_fields(line.as_bytes()).is_some() {
                plain += 1;
                nested += usize::from(line.contains(":{") || line.contains(":["));
            }
            lines.push(line);
        }
        assert!(plain > 300, "{plain}");
        // Objects and lists under keys no role reads are stepped over, not sent to serde.
        assert!(nested > 0, "{nested}");
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(outcome(&lines, read_line), outcome(&lines, read_value));
    }
}

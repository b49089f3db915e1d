//! Whole-file JSON documents (a top-level array of records, or one record) read element by
//! element, each with the physical line it starts on, so that errors can say "FILE:LINE".
//!
//! serde_json gives no positions for values inside a document, so the top level is split
//! by a small scanner (strings and escapes respected) and every element is parsed alone.

use std::path::Path;

use serde_json::{Map, Value};

use super::RecordSink;
use crate::error::{Error, Result};

/// One top-level record and the line its opening brace is on (1-based).
#[derive(Debug)]
pub(crate) struct Element {
    pub line: u64,
    pub value: Value,
}

/// The first non-whitespace byte after an optional UTF-8 BOM.
pub(crate) fn first_byte(bytes: &[u8]) -> Option<u8> {
    strip_bom(bytes)
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Split `[a, b, …]` (or a lone `{…}`) into parsed elements with their lines.
pub(crate) fn elements(path: &Path, bytes: &[u8]) -> Result<Vec<Element>> {
    let bytes = strip_bom(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        Error::data(
            path,
            Some(line),
            "expected UTF-8 text, found an invalid byte",
        )
    })?;
    let line_at = |offset: usize| {
        1 + text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
    };
    let parse = |start: usize, end: usize| -> Result<Element> {
        let line = line_at(start);
        let value = serde_json::from_str(&text[start..end]).map_err(|e| {
            Error::data(
                path,
                Some(line + e.line().saturating_sub(1) as u64),
                format!("expected a JSON object, found invalid JSON ({e})"),
            )
        })?;
        Ok(Element { line, value })
    };
    let Some(start) = text.find(|c: char| !c.is_ascii_whitespace()) else {
        return Err(Error::data(
            path,
            Some(1),
            "expected a JSON array, found an empty file",
        ));
    };
    if text.as_bytes()[start] == b'{' {
        return Ok(vec![parse(start, text.len())?]);
    }
    if text.as_bytes()[start] != b'[' {
        return Err(Error::data(
            path,
            Some(line_at(start)),
            "expected a JSON array of records, found other text",
        ));
    }
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut element_start = None;
    for (i, &b) in text.as_bytes().iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                if depth == 1 && element_start.is_none() {
                    element_start = Some(i);
                }
                depth += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    if let Some(s) = element_start.take() {
                        out.push(parse(s, i + 1)?);
                    }
                } else if depth == 0 {
                    return Ok(out);
                }
            }
            b',' if depth == 1 => element_start = None,
            _ if depth == 1 && !b.is_ascii_whitespace() && element_start.is_none() => {
                return Err(Error::data(
                    path,
                    Some(line_at(i)),
                    "expected a JSON object in the array, found a bare value",
                ));
            }
            _ => {}
        }
    }
    Err(Error::data(
        path,
        Some(line_at(text.len())),
        "expected the closing ] of the JSON array, found the end of the file (truncated?)",
    ))
}

/// The objects of a JSON Lines file with their line numbers; blank lines are skipped, and a
/// line that is not a JSON object goes to `sink.invalid` (set aside with `--on-invalid skip`).
pub(crate) fn lines(
    path: &Path,
    bytes: &[u8],
    sink: &mut RecordSink<'_>,
) -> Result<Vec<(u64, Map<String, Value>)>> {
    let mut out = Vec::new();
    for (index, raw) in strip_bom(bytes).split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Map<String, Value>>(raw) {
            Ok(obj) => out.push((line, obj)),
            Err(e) => {
                let err = Error::data(
                    path,
                    Some(line),
                    format!("expected a JSON object, found invalid JSON ({e})"),
                );
                sink.invalid(err, Some(raw.strip_suffix(b"\r").unwrap_or(raw)))?;
            }
        }
    }
    Ok(out)
}

/// The object inside an element, or a located error.
pub(crate) fn object<'v>(path: &Path, el: &'v Element) -> Result<&'v Map<String, Value>> {
    el.value.as_object().ok_or_else(|| {
        Error::data(
            path,
            Some(el.line),
            "expected a JSON object, found another JSON value",
        )
    })
}

/// An id as text: strings as written, integers in decimal (`3` → `"3"`); `None` otherwise.
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A short description of a JSON value's kind for "found …" messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_carry_their_lines() {
        let text = b"[\n {\"a\": \"}]\"},\n {\"b\": [1, {\"c\": 2}]}\n]\n";
        let els = elements(Path::new("x.json"), text).unwrap();
        assert_eq!(els.len(), 2);
        assert_eq!((els[0].line, els[1].line), (2, 3));
        assert_eq!(els[0].value["a"], "}]");
    }

    #[test]
    fn truncated_and_bare_values_are_located_errors() {
        let err = elements(Path::new("x.json"), b"[\n{\"a\": 1},\n{\"b\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.json:3: expected the closing ]"),
            "{err}"
        );
        let err = elements(Path::new("x.json"), b"[1, 2]").unwrap_err();
        assert!(err.to_string().contains("bare value"), "{err}");
        assert_eq!(
            elements(Path::new("x.json"), b"{\"id\": 1}").unwrap().len(),
            1
        );
    }
}

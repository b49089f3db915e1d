//! Prodigy `db-out` JSONL (`shared/formats.md` §2, mapping §11): one line per annotation
//! decision.
//!
//! Quirks handled here:
//! - item = `_input_hash` as written (signed); annotator = `_annotator_id`, else
//!   `_session_id`; neither → counted `no_annotator`.
//! - `_view_id` decides what `answer` means, and one file must hold one kind of task
//!   (pitfall §10 "Type mismatch"): span, manual-image and `review` views are refused.
//!   - binary `classification`: label = `accept`/`reject` (reject is a real "no" vote) for
//!     the task's `label`; when a file asks several questions (`label`s) of one input, each
//!     question is its own item `<_input_hash>/<label>`, so answers do not overwrite each other.
//!   - `choice` (and `blocks` with `options`): label = the one id in `accept`; several ids
//!     are a multi-label answer (a label set); an empty `accept` ("none apply") is counted
//!     `no_option_selected`; `reject` flags a broken example: counted `flagged`, not a label.
//!   - `ner_manual` / `spans_manual`: an accepted answer is the span list `spans`
//!     (`start`, `end`, `label`; `[]` = no span) with the item `text`; `reject` → `flagged`.
//!   - `ignore` is always a skip: counted `ignored`.
//! - submitted_at = `_timestamp` (Unix seconds, v1.11+); no start time, no duration (a gap
//!   between timestamps would include idle time).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::json_array::{self, id_text};
use super::{Fields, Payload, RecordSink};
use crate::error::{Error, Result};

/// The kind of task a `_view_id` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Binary,
    Choice,
    Spans,
}

fn kind_of(view: &str, obj: &Map<String, Value>) -> std::result::Result<Kind, String> {
    match view {
        "classification" => Ok(Kind::Binary),
        "choice" => Ok(Kind::Choice),
        "blocks" if obj.contains_key("options") => Ok(Kind::Choice),
        "ner_manual" | "spans_manual" => Ok(Kind::Spans),
        "review" => Err(
            "found _view_id \"review\": review datasets hold adjudicated (gold) answers, not \
             another rater; reading them as gold is not supported yet"
                .into(),
        ),
        other => Err(format!(
            "expected a classification or span view (classification, choice, ner_manual, \
             spans_manual), found _view_id {other:?} (image tasks are not supported yet)"
        )),
    }
}

/// Read one Prodigy export; returns the number of lines read.
pub(crate) fn read(path: &Path, bytes: &[u8], sink: &mut RecordSink<'_>) -> Result<u64> {
    let records = json_array::lines(path, bytes, sink)?;
    let mut first_kind: Option<(Kind, String, u64)> = None;
    let mut questions = BTreeSet::new();
    for (line, obj) in &records {
        let fail = |m: String| Error::data(path, Some(*line), m);
        let view = obj
            .get("_view_id")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("expected a string \"_view_id\", found none".into()))?;
        let kind = kind_of(view, obj).map_err(fail)?;
        match &first_kind {
            None => first_kind = Some((kind, view.to_string(), *line)),
            Some((k, v, l)) if *k != kind => {
                return Err(fail(format!(
                    "expected one kind of task per file (line {l} has _view_id {v:?}), found \
                     _view_id {view:?}"
                )))
            }
            _ => {}
        }
        if kind == Kind::Binary {
            questions.insert(obj.get("label").and_then(id_text).unwrap_or_default());
        }
    }
    let per_question = questions.len() > 1;
    for (line, obj) in &records {
        let line = *line;
        let fail = |m: String| Error::data(path, Some(line), m);
        let Some(mut item) = obj.get("_input_hash").and_then(id_text) else {
            return Err(fail("expected an \"_input_hash\", found none".into()));
        };
        let annotator = ["_annotator_id", "_session_id"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(id_text));
        let Some(annotator) = annotator else {
            sink.skip("no_annotator");
            continue;
        };
        let answer = obj.get("answer").and_then(Value::as_str).unwrap_or("");
        let view = obj.get("_view_id").and_then(Value::as_str).unwrap_or("");
        let kind = kind_of(view, obj).map_err(fail)?;
        let mut set: Option<Vec<String>> = None;
        let mut spans = None;
        let label = match (answer, kind) {
            ("ignore", _) => {
                sink.skip("ignored");
                continue;
            }
            ("accept" | "reject", Kind::Binary) => {
                if per_question {
                    let question = obj.get("label").and_then(id_text).unwrap_or_default();
                    item = format!("{item}/{question}");
                }
                answer.to_string()
            }
            ("reject", Kind::Choice | Kind::Spans) => {
                sink.skip("flagged");
                continue;
            }
            ("accept", Kind::Spans) => {
                let list = obj.get("spans").unwrap_or(&Value::Null);
                spans = Some(super::jsonl::span_list(path, line, list)?);
                String::new()
            }
            ("accept", Kind::Choice) => match obj.get("accept") {
                Some(Value::Array(ids)) => match ids.as_slice() {
                    [] => {
                        sink.skip("no_option_selected");
                        continue;
                    }
                    [one] => id_text(one).ok_or_else(|| {
                        fail("field \"accept\": expected an option id, found another value".into())
                    })?,
                    many => {
                        let ids: Option<Vec<String>> = many.iter().map(id_text).collect();
                        set = Some(ids.ok_or_else(|| {
                            fail(
                                "field \"accept\": expected option ids, found another value".into(),
                            )
                        })?);
                        String::new()
                    }
                },
                _ => return Err(fail("expected a list \"accept\", found none".into())),
            },
            (other, _) => {
                return Err(fail(format!(
                    "field \"answer\": expected accept, reject or ignore, found {other:?}"
                )))
            }
        };
        let submitted = match obj.get("_timestamp") {
            None | Some(Value::Null) => None,
            Some(v) => Some(unix_to_rfc3339(v).ok_or_else(|| {
                fail(format!(
                    "field \"_timestamp\": expected Unix seconds, found {v}"
                ))
            })?),
        };
        let text = obj.get("text").and_then(Value::as_str);
        let payload = match (&set, &spans) {
            (_, Some(spans)) => Payload::Spans(spans, text),
            (Some(set), None) => Payload::Set(set),
            (None, None) => Payload::Single,
        };
        sink.push_payload(
            path,
            line,
            None,
            Fields {
                item: &item,
                annotator: &annotator,
                label: &label,
                submitted_at: submitted.as_deref(),
                ..Fields::default()
            },
            payload,
        )?;
    }
    Ok(records.len() as u64)
}

fn unix_to_rfc3339(v: &Value) -> Option<String> {
    let seconds = v.as_i64()?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_utc_text() {
        assert_eq!(
            unix_to_rfc3339(&Value::from(1714644301)).as_deref(),
            Some("2024-05-02T10:05:01Z")
        );
        assert_eq!(unix_to_rfc3339(&Value::from("soon")), None);
    }

    #[test]
    fn views_map_to_kinds_or_clear_refusals() {
        let empty = Map::new();
        assert_eq!(kind_of("classification", &empty), Ok(Kind::Binary));
        assert_eq!(kind_of("choice", &empty), Ok(Kind::Choice));
        assert_eq!(kind_of("ner_manual", &empty), Ok(Kind::Spans));
        assert!(kind_of("image_manual", &empty)
            .unwrap_err()
            .contains("image"));
        assert!(kind_of("review", &empty).unwrap_err().contains("gold"));
    }
}

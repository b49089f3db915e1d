//! Label Studio JSON export (`shared/formats.md` §1, mapping §11): an array of tasks, each
//! with `annotations[]` (pre-1.0: `completions[]`); cloud storage writes one task per file.
//!
//! Quirks handled here:
//! - item = task `id`; annotator = `completed_by`, an int (`3` → `"3"`) or an object (its
//!   `email`, else its `id`). The two shapes are never merged: `3` and `a@x.com` stay two
//!   annotators unless the user maps them (pitfall §10 "Identity changed shape").
//! - `was_cancelled` (legacy `skipped`) → counted skip `cancelled`; an Enterprise review with
//!   `accepted: false` → status `rejected`; no annotator → `no_annotator`; a task without
//!   annotations → `no_annotations`; an annotation without an answer for the control →
//!   `no_choice`.
//! - `ground_truth: true` → the item's gold label, counted as `ground_truth` and not kept as an
//!   annotation: the dataset cannot exempt one annotation from gold scoring, and scoring it
//!   against itself would inflate its author's accuracy.
//! - label = `value.choices` of one `choices` control (`--label-col` names its `from_name`
//!   when there are several); several choices in one answer are a multi-label answer.
//! - a `labels` control (spans): every region of the control is a span `value.start`,
//!   `value.end`, one per `value.labels` entry; an annotation with no region of it is the
//!   answer "no span"; the task's `data.text` is kept for whitespace trimming.
//! - duration_s = `lead_time`; submitted_at = `created_at`; no start time is invented.
//! - `predictions` and `drafts` are model output and unsaved work: never annotators.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::json_array::{self, id_text, kind, Element};
use super::{Fields, IngestOptions, Payload, RecordSink};
use crate::error::{Error, Result};
use crate::label_sets::RawSpan;

/// What one annotation answers for the chosen control.
enum Answer {
    One(String),
    Set(Vec<String>),
    Spans(Vec<RawSpan>),
}

/// Read one Label Studio JSON export; returns the number of annotations read.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let tasks = json_array::elements(path, bytes)?;
    let control = choose_control(path, &tasks, opts.columns.label.as_deref())?;
    let spans_control = tasks
        .iter()
        .filter_map(|t| t.value.get("annotations").and_then(Value::as_array))
        .flatten()
        .filter_map(|a| a.get("result").and_then(Value::as_array))
        .flatten()
        .any(|r| {
            r.get("from_name").and_then(Value::as_str) == Some(control.as_str())
                && r.get("type").and_then(Value::as_str) == Some("labels")
        });
    let mut rows = 0u64;
    for task in &tasks {
        let obj = json_array::object(path, task)?;
        let line = task.line;
        let fail = |m: String| Error::data(path, Some(line), m);
        let item = obj.get("id").and_then(id_text).ok_or_else(|| {
            fail("expected a task \"id\" (a number or string), found none".into())
        })?;
        let annotations = match obj.get("annotations").or_else(|| obj.get("completions")) {
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(fail(format!(
                    "task {item}: expected \"annotations\" to be a list, found {}",
                    kind(other)
                )))
            }
            None => {
                return Err(fail(format!(
                    "task {item}: expected a list \"annotations\", found none (is this a \
                     JSON-MIN export? use --from label-studio)"
                )))
            }
        };
        if annotations.is_empty() {
            sink.skip("no_annotations");
        }
        for annotation in annotations {
            rows += 1;
            let Some(a) = annotation.as_object() else {
                return Err(fail(format!(
                    "task {item}: expected an annotation object, found {}",
                    kind(annotation)
                )));
            };
            let text = obj
                .get("data")
                .and_then(|d| d.get("text"))
                .and_then(Value::as_str);
            read_annotation(path, line, &item, a, &control, spans_control, text, sink)?;
        }
    }
    Ok(rows)
}

fn read_annotation(
    path: &Path,
    line: u64,
    item: &str,
    a: &Map<String, Value>,
    control: &str,
    spans_control: bool,
    text: Option<&str>,
    sink: &mut RecordSink<'_>,
) -> Result<()> {
    let fail = |m: String| Error::data(path, Some(line), m);
    let where_ = format!(
        "task {item}, annotation {}",
        a.get("id").and_then(id_text).unwrap_or_else(|| "?".into())
    );
    let flag = |key: &str| a.get(key).and_then(Value::as_bool).unwrap_or(false);
    let Some(annotator) = annotator_id(a.get("completed_by")) else {
        sink.skip("no_annotator");
        return Ok(());
    };
    if flag("was_cancelled") || flag("skipped") {
        sink.skip("cancelled");
        return Ok(());
    }
    let answer = match choices(a, control, spans_control) {
        Ok(Some(answer)) => answer,
        Ok(None) => {
            sink.skip("no_choice");
            return Ok(());
        }
        Err(found) => return Err(fail(format!("{where_}: {found}"))),
    };
    if flag("ground_truth") {
        match &answer {
            Answer::One(label) => sink.set_gold(path, line, item, label)?,
            Answer::Set(set) => {
                let mut set = set.clone();
                set.sort_by(|a, b| crate::dataset::canonical_cmp(a, b));
                set.dedup();
                sink.set_gold(path, line, item, &set.join("|"))?
            }
            // Span gold is not scored yet; the reference annotation is still not a rater.
            Answer::Spans(_) => {}
        }
        sink.skip("ground_truth");
        return Ok(());
    }
    let rejected = a
        .get("reviews")
        .and_then(Value::as_array)
        .is_some_and(|reviews| {
            reviews
                .iter()
                .any(|r| r.get("accepted").and_then(Value::as_bool) == Some(false))
        });
    let duration = match a.get("lead_time") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(fail(format!(
                "{where_}: field \"lead_time\": expected a number of seconds, found {}",
                kind(other)
            )))
        }
    };
    let created = a.get("created_at").and_then(Value::as_str);
    let (label, payload) = match &answer {
        Answer::One(label) => (label.as_str(), Payload::Single),
        Answer::Set(set) => ("", Payload::Set(set)),
        Answer::Spans(spans) => ("", Payload::Spans(spans, text)),
    };
    sink.push_payload(
        path,
        line,
        None,
        Fields {
            item,
            annotator: &annotator,
            label,
            duration_s: duration.as_deref(),
            submitted_at: created,
            status: rejected.then_some("rejected"),
            ..Fields::default()
        },
        payload,
    )
}

/// `completed_by` as an annotator id: an int as written, an object's `email`, else its `id`.
pub(crate) fn annotator_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(user) => user
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .or_else(|| user.get("id").and_then(id_text)),
        other => id_text(other),
    }
}

/// The answer given for `control`: `Ok(None)` when the annotation has none,
/// `Err(found …)` when it is not a choice or span answer.
fn choices(
    a: &Map<String, Value>,
    control: &str,
    spans_control: bool,
) -> std::result::Result<Option<Answer>, String> {
    let results = a.get("result").and_then(Value::as_array);
    let mut regions = results
        .into_iter()
        .flatten()
        .filter(|r| r.get("from_name").and_then(Value::as_str) == Some(control))
        .peekable();
    let Some(region) = regions.peek().copied() else {
        // For a span control, no region at all is the answer "no span", not a skip.
        return Ok(spans_control.then(|| Answer::Spans(Vec::new())));
    };
    if region.get("type").and_then(Value::as_str) == Some("labels") {
        let mut spans = Vec::new();
        for r in regions {
            let v = r.get("value");
            let offset = |k: &str| v.and_then(|v| v.get(k)).and_then(Value::as_u64);
            let (Some(start), Some(end)) = (offset("start"), offset("end")) else {
                return Err(format!(
                    "control {control:?}: expected integer \"start\" and \"end\" in a labels region"
                ));
            };
            let labels = v.and_then(|v| v.get("labels")).and_then(Value::as_array);
            for l in labels.into_iter().flatten() {
                let label = id_text(l)
                    .ok_or_else(|| format!("control {control:?}: expected a label string"))?;
                spans.push(RawSpan { start, end, label });
            }
        }
        return Ok(Some(Answer::Spans(spans)));
    }
    match region.get("value").and_then(|v| v.get("choices")) {
        Some(Value::Array(list)) => match list.as_slice() {
            [] => Ok(None),
            [one] => id_text(one).map(|l| Some(Answer::One(l))).ok_or_else(|| {
                format!(
                    "control {control:?}: expected a choice string, found {}",
                    kind(one)
                )
            }),
            many => many
                .iter()
                .map(|v| {
                    id_text(v).ok_or_else(|| {
                        format!(
                            "control {control:?}: expected choice strings, found {}",
                            kind(v)
                        )
                    })
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|set| Some(Answer::Set(set))),
        },
        _ => Err(format!(
            "control {control:?}: expected a \"choices\" result, found type {:?} (only \
             single-label classification is supported yet)",
            region.get("type").and_then(Value::as_str).unwrap_or("?")
        )),
    }
}

/// The `from_name` of the classification control to read: the user's, or the only one.
fn choose_control(path: &Path, tasks: &[Element], chosen: Option<&str>) -> Result<String> {
    let mut choice_controls = BTreeSet::new();
    let mut all_controls = BTreeSet::new();
    let results = tasks
        .iter()
        .filter_map(|t| {
            t.value
                .get("annotations")
                .or_else(|| t.value.get("completions"))
        })
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|a| a.get("result").and_then(Value::as_array))
        .flatten();
    for r in results {
        let Some(name) = r.get("from_name").and_then(Value::as_str) else {
            continue;
        };
        all_controls.insert(name.to_string());
        if matches!(
            r.get("type").and_then(Value::as_str),
            Some("choices" | "labels")
        ) {
            choice_controls.insert(name.to_string());
        }
    }
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    match chosen {
        Some(name) if all_controls.contains(name) || all_controls.is_empty() => {
            Ok(name.to_string())
        }
        Some(name) => Err(Error::data(
            path,
            None,
            format!(
                "--label-col: expected a control (from_name) named {name:?}, found {}",
                list(&all_controls)
            ),
        )),
        None if choice_controls.len() == 1 => Ok(list(&choice_controls)),
        None if choice_controls.is_empty() && all_controls.is_empty() => Ok(String::new()),
        None if choice_controls.is_empty() => Err(Error::data(
            path,
            None,
            format!(
                "expected a \"choices\" control (single-label classification), found only {} \
                 (spans, ratings and other types are not supported yet)",
                list(&all_controls)
            ),
        )),
        None => Err(Error::data(
            path,
            None,
            format!(
                "expected one \"choices\" control, found several ({}): name one with --label-col",
                list(&choice_controls)
            ),
        )),
    }
}

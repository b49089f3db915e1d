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
//!   when there are several); several choices in one answer (multi-label) are refused.
//! - duration_s = `lead_time`; submitted_at = `created_at`; no start time is invented.
//! - `predictions` and `drafts` are model output and unsaved work: never annotators.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::json_array::{self, id_text, kind, Element};
use super::{Fields, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Read one Label Studio JSON export; returns the number of annotations read.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let tasks = json_array::elements(path, bytes)?;
    let control = choose_control(path, &tasks, opts.columns.label.as_deref())?;
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
            read_annotation(path, line, &item, a, &control, sink)?;
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
    let label = match choices(a, control) {
        Ok(Some(label)) => label,
        Ok(None) => {
            sink.skip("no_choice");
            return Ok(());
        }
        Err(found) => return Err(fail(format!("{where_}: {found}"))),
    };
    if flag("ground_truth") {
        sink.set_gold(path, line, item, &label)?;
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
    sink.push(
        path,
        line,
        Fields {
            item,
            annotator: &annotator,
            label: &label,
            duration_s: duration.as_deref(),
            submitted_at: created,
            status: rejected.then_some("rejected"),
            ..Fields::default()
        },
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

/// The single choice given for `control`: `Ok(None)` when the annotation has none,
/// `Err(found …)` when it is not a single choice.
fn choices(a: &Map<String, Value>, control: &str) -> std::result::Result<Option<String>, String> {
    let results = a.get("result").and_then(Value::as_array);
    let Some(region) = results
        .into_iter()
        .flatten()
        .find(|r| r.get("from_name").and_then(Value::as_str) == Some(control))
    else {
        return Ok(None);
    };
    match region.get("value").and_then(|v| v.get("choices")) {
        Some(Value::Array(list)) => match list.as_slice() {
            [] => Ok(None),
            [one] => id_text(one).map(Some).ok_or_else(|| {
                format!(
                    "control {control:?}: expected a choice string, found {}",
                    kind(one)
                )
            }),
            _ => Err(format!(
                "control {control:?}: expected one choice, found {} (multi-label input is not \
                 supported yet)",
                list.len()
            )),
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
        if r.get("type").and_then(Value::as_str) == Some("choices") {
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

//! Labelbox NDJSON export, v2 (`shared/formats.md` §6, mapping §11): one line per data row,
//! every label of every project nested under `projects.<id>.labels[]`.
//!
//! Quirks handled here:
//! - item = `data_row.id` (`--item-col global_key` picks the global key); annotator =
//!   `label_details.created_by` (an email); no annotator → counted `no_annotator`.
//! - One file must hold one project: a Catalog export can mix projects and so ontologies;
//!   several project ids are refused rather than merged silently.
//! - label = `radio_answer.value` (else `.name`) of one global classification (`--label-col`
//!   names it, else the only radio classification); `checklist_answers` (multi-label) and
//!   `text_answer` are refused; a label without that classification → `no_choice`.
//! - `performance_details.skipped: true` → counted `skipped`, never a label (pitfall §10
//!   "Skip rows parsed as labels").
//! - Benchmark: the label that other labels name in `benchmark_reference_label` is the data
//!   row's gold label; it is counted `benchmark` and not kept as an annotation.
//! - submitted_at = `label_details.created_at`; duration_s =
//!   `performance_details.seconds_to_create`. Reviews are not read yet.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::json_array::{self, id_text, kind};
use super::{Fields, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Read one Labelbox v2 export; returns the number of labels read.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let rows = json_array::lines(path, bytes, sink)?;
    let mut projects = BTreeSet::new();
    let mut radios = BTreeSet::new();
    for (_, row) in &rows {
        for (id, project) in row
            .get("projects")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            projects.insert(id.clone());
            for c in classifications(project) {
                if c.get("radio_answer").is_some() {
                    if let Some(name) = c.get("name").and_then(Value::as_str) {
                        radios.insert(name.to_string());
                    }
                }
            }
        }
    }
    if projects.len() > 1 {
        return Err(Error::data(
            path,
            None,
            format!(
                "expected the labels of one project, found several ({}): export one project",
                projects.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let question = match (opts.columns.label.as_deref(), radios.len()) {
        (Some(name), _) => name.to_string(),
        (None, 1) => radios.into_iter().next().unwrap_or_default(),
        (None, _) => {
            return Err(Error::data(
                path,
                None,
                format!(
                    "expected one radio classification (or --label-col), found {}",
                    if radios.is_empty() {
                        "none".to_string()
                    } else {
                        radios.into_iter().collect::<Vec<_>>().join(", ")
                    }
                ),
            ))
        }
    };
    let item_key = opts.columns.item.as_deref().unwrap_or("id");
    let mut count = 0u64;
    for (line, row) in &rows {
        let line = *line;
        let fail = |m: String| Error::data(path, Some(line), m);
        let item = row
            .get("data_row")
            .and_then(|d| d.get(item_key))
            .and_then(id_text)
            .ok_or_else(|| fail(format!("expected \"data_row.{item_key}\", found none")))?;
        let labels: Vec<&Value> = row
            .get("projects")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.values())
            .filter_map(|p| p.get("labels").and_then(Value::as_array))
            .flatten()
            .collect();
        let benchmarks: BTreeSet<String> = labels
            .iter()
            .filter_map(|l| perf(l, "benchmark_reference_label").and_then(id_text))
            .collect();
        for label in labels {
            count += 1;
            let details = |key: &str| label.get("label_details").and_then(|d| d.get(key));
            if perf(label, "skipped").and_then(Value::as_bool) == Some(true) {
                sink.skip("skipped");
                continue;
            }
            let answer =
                answer_of(label, &question).map_err(|m| fail(format!("item {item}: {m}")))?;
            let is_benchmark = label
                .get("id")
                .and_then(id_text)
                .is_some_and(|id| benchmarks.contains(&id));
            let Some(answer) = answer else {
                sink.skip("no_choice");
                continue;
            };
            if is_benchmark {
                sink.set_gold(path, line, &item, &answer)?;
                sink.skip("benchmark");
                continue;
            }
            let Some(annotator) = details("created_by").and_then(id_text) else {
                sink.skip("no_annotator");
                continue;
            };
            let seconds = perf(label, "seconds_to_create").and_then(id_text);
            sink.push(
                path,
                line,
                Fields {
                    item: &item,
                    annotator: &annotator,
                    label: &answer,
                    duration_s: seconds.as_deref(),
                    submitted_at: details("created_at").and_then(Value::as_str),
                    ..Fields::default()
                },
            )?;
        }
    }
    Ok(count)
}

fn perf<'v>(label: &'v Value, key: &str) -> Option<&'v Value> {
    label.get("performance_details")?.get(key)
}

/// Every global classification of every label of a project.
fn classifications(project: &Value) -> impl Iterator<Item = &Value> {
    project
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("annotations")?.get("classifications")?.as_array())
        .flatten()
}

/// The radio answer to `question` in one label; `Ok(None)` when the label has none.
fn answer_of(label: &Value, question: &str) -> std::result::Result<Option<String>, String> {
    let found = label
        .get("annotations")
        .and_then(|a| a.get("classifications"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(question));
    let Some(c) = found else {
        return Ok(None);
    };
    if let Some(radio) = c.get("radio_answer") {
        let value = radio.get("value").or_else(|| radio.get("name"));
        return match value {
            Some(v) => id_text(v).map(Some).ok_or_else(|| {
                format!("{question:?}: expected an answer value, found {}", kind(v))
            }),
            None => Ok(None),
        };
    }
    Err(format!(
        "classification {question:?}: expected a radio answer, found {} (multi-label and \
         free-text answers are not supported yet)",
        if c.get("checklist_answers").is_some() {
            "a checklist"
        } else {
            "another kind"
        }
    ))
}

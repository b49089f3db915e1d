//! Reading AI-feedback task inputs: canonical long form, one annotation per CSV/TSV row or
//! JSONL line, with the columns `item`, `annotator` and `label` (names changeable with
//! `--item-col`, `--annotator-col`, `--label-col`).
//!
//! - preference: `label` is `A`, `B`, `tie`, `A>>B`, `A>B`, `B>A` or `B>>A`; an optional
//!   `shown_first` column (`A`/`B`, `left` = A shown first, `right` = B shown first) gives the
//!   presentation order.
//! - rubric: one numeric column per dimension (`--label-col helpfulness,accuracy,safety`), or
//!   in JSONL a `label` object of scores (`{"helpfulness": 5, "accuracy": 4}`; dimensions in
//!   name order, or in the order of a comma-separated `--label-col` naming top-level keys).
//! - ranking: `label` is the annotator's ranking of the item's responses, best first:
//!   `r2>r1>r3`; `=` joins tied responses (`r2=r1>r3`).
//! - text: `label` is the free text.
//!
//! Errors are located: `FILE:LINE: expected …, found …`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Task;
use crate::error::{Error, Result};
use crate::feedback::preference::parse_strength;
use crate::ingest::InputFile;

/// One annotation of a task input.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// Item (prompt / pair / response) id.
    pub item: String,
    /// Annotator id.
    pub annotator: String,
    /// The label as written (choice, ranking, text; the first score for rubric).
    pub label: String,
    /// Preference: `Some(true)` when response A was shown first.
    pub shown_first: Option<bool>,
    /// Rubric: one score per dimension (`None` = not scored).
    pub scores: Vec<Option<f64>>,
}

/// A whole task input.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    /// Rubric dimension names (empty for other tasks).
    pub dimensions: Vec<String>,
    /// Annotations in input order.
    pub rows: Vec<TaskRow>,
    /// Files read, for provenance.
    pub files: Vec<InputFile>,
}

/// Column names the reader uses.
#[derive(Debug, Clone)]
pub struct TaskColumns {
    pub item: Option<String>,
    pub annotator: Option<String>,
    /// One name, or several (comma-separated) rubric dimensions.
    pub label: Option<String>,
}

const ITEM: &[&str] = &["item", "item_id", "prompt_id", "pair_id", "task_id"];
const ANNOTATOR: &[&str] = &["annotator", "annotator_id", "worker", "worker_id", "rater"];
const LABEL: &[&str] = &["label", "answer", "choice", "ranking", "text"];

fn pick(names: &[String], wanted: Option<&str>, defaults: &[&str]) -> Option<usize> {
    match wanted {
        Some(w) => names.iter().position(|n| n == w),
        None => defaults
            .iter()
            .find_map(|d| names.iter().position(|n| n.eq_ignore_ascii_case(d))),
    }
}

fn data(path: &Path, line: u64, msg: String) -> Error {
    Error::data(path, Some(line), msg)
}

/// `A`/`left` → A first; `B`/`right` → B first; empty → unknown.
fn parse_shown_first(s: &str) -> std::result::Result<Option<bool>, ()> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "a" | "left" => Ok(Some(true)),
        "b" | "right" => Ok(Some(false)),
        _ => Err(()),
    }
}

fn parse_score(s: &str) -> std::result::Result<Option<f64>, ()> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or(())
}

/// Check a label against the task's format; `Err` holds what was expected.
fn check_label(task: Task, label: &str) -> std::result::Result<(), &'static str> {
    match task {
        Task::Preference if parse_strength(label).is_none() => {
            Err("a preference (A, B, tie, A>>B, A>B, B>A or B>>A)")
        }
        Task::Ranking if super::ranking::parse_ranking(label).is_none() => {
            Err("a ranking such as r2>r1>r3 (ties with =)")
        }
        _ => Ok(()),
    }
}

/// Read every file for `task`.
pub fn read(paths: &[PathBuf], task: Task, cols: &TaskColumns) -> Result<TaskInput> {
    let mut input = TaskInput::default();
    for path in paths {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| data(path, 1, "expected UTF-8 text, found invalid bytes".into()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson" || e == "json")
            || text.trim_start().starts_with('{');
        let before = input.rows.len();
        if is_json {
            read_jsonl(path, &text, task, cols, &mut input)?;
        } else {
            let tab = path.extension().is_some_and(|e| e == "tsv");
            read_delimited(
                path,
                &text,
                if tab { b'\t' } else { b',' },
                task,
                cols,
                &mut input,
            )?;
        }
        input.files.push(InputFile {
            path: path.display().to_string(),
            sha256: crate::explain::sha256_hex(&bytes),
            format: if is_json {
                crate::ingest::Format::Jsonl
            } else {
                crate::ingest::Format::Csv
            },
            rows: (input.rows.len() - before) as u64,
        });
    }
    if input.rows.is_empty() {
        return Err(Error::Invalid("no annotation found in the input".into()));
    }
    Ok(input)
}

fn read_delimited(
    path: &Path,
    text: &str,
    delim: u8,
    task: Task,
    cols: &TaskColumns,
    input: &mut TaskInput,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| data(path, 1, format!("expected a header row, found {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let need = |i: Option<usize>, what: &str, wanted: Option<&String>| {
        i.ok_or_else(|| {
            data(
                path,
                1,
                format!(
                    "expected a {what} column ({}), found columns {}",
                    wanted.map_or_else(|| "see --help".to_string(), |w| format!("{w:?}")),
                    header.join(", ")
                ),
            )
        })
    };
    let item = need(
        pick(&header, cols.item.as_deref(), ITEM),
        "item",
        cols.item.as_ref(),
    )?;
    let annot = need(
        pick(&header, cols.annotator.as_deref(), ANNOTATOR),
        "annotator",
        cols.annotator.as_ref(),
    )?;
    let label_cols: Vec<usize> = match (task, cols.label.as_deref()) {
        (Task::Rubric, Some(list)) => {
            let mut v = Vec::new();
            for name in list.split(',').map(str::trim) {
                v.push(need(pick(&header, Some(name), &[]), "rubric dimension", Some(&name.to_string()))?);
                if input.dimensions.len() < v.len() {
                    input.dimensions.push(name.to_string());
                }
            }
            v
        }
        (Task::Rubric, None) => {
            return Err(Error::Usage(
                "rubric input in CSV needs --label-col naming the dimensions, e.g. --label-col helpfulness,accuracy,safety".into(),
            ))
        }
        (_, l) => vec![need(pick(&header, l, LABEL), "label", cols.label.as_ref())?],
    };
    let shown = pick(&header, None, &["shown_first", "first_shown", "a_position"]);
    for (n, rec) in rdr.records().enumerate() {
        let line = n as u64 + 2;
        let rec = rec.map_err(|e| data(path, line, format!("expected a CSV record, found {e}")))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut row = TaskRow {
            item: get(item).to_string(),
            annotator: get(annot).to_string(),
            label: get(label_cols[0]).to_string(),
            shown_first: None,
            scores: Vec::new(),
        };
        if row.item.is_empty() || row.annotator.is_empty() {
            return Err(data(
                path,
                line,
                "expected an item and an annotator, found an empty value".into(),
            ));
        }
        if let Some(s) = shown {
            row.shown_first = parse_shown_first(get(s)).map_err(|()| {
                data(
                    path,
                    line,
                    format!(
                        "expected shown_first A, B, left or right, found {:?}",
                        get(s)
                    ),
                )
            })?;
        }
        if task == Task::Rubric {
            for (d, &c) in label_cols.iter().enumerate() {
                let v = parse_score(get(c)).map_err(|()| {
                    data(
                        path,
                        line,
                        format!(
                            "expected a number for {}, found {:?}",
                            input.dimensions[d],
                            get(c)
                        ),
                    )
                })?;
                row.scores.push(v);
            }
        } else if row.label.is_empty() {
            continue; // an empty label is no annotation
        } else if let Err(expected) = check_label(task, &row.label) {
            return Err(data(
                path,
                line,
                format!("expected {expected}, found {:?}", row.label),
            ));
        }
        input.rows.push(row);
    }
    Ok(())
}

fn json_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_jsonl(
    path: &Path,
    text: &str,
    task: Task,
    cols: &TaskColumns,
    input: &mut TaskInput,
) -> Result<()> {
    let key = |wanted: &Option<String>, defaults: &[&str], obj: &serde_json::Map<String, Value>| {
        match wanted {
            Some(w) => obj.get(w).cloned(),
            None => defaults.iter().find_map(|d| obj.get(*d).cloned()),
        }
    };
    let dims_wanted: Option<Vec<String>> = match (task, &cols.label) {
        (Task::Rubric, Some(list)) if list.contains(',') => {
            Some(list.split(',').map(|s| s.trim().to_string()).collect())
        }
        _ => None,
    };
    let mut dim_index: BTreeMap<String, usize> = input
        .dimensions
        .iter()
        .enumerate()
        .map(|(i, d)| (d.clone(), i))
        .collect();
    for (n, raw) in text.lines().enumerate() {
        let line = n as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(raw).map_err(|e| {
            data(
                path,
                line,
                format!("expected a JSON object, found invalid JSON ({e})"),
            )
        })?;
        let Value::Object(obj) = v else {
            return Err(data(
                path,
                line,
                "expected a JSON object, found another JSON value".into(),
            ));
        };
        let item = key(&cols.item, ITEM, &obj).as_ref().and_then(json_str);
        let annot = key(&cols.annotator, ANNOTATOR, &obj)
            .as_ref()
            .and_then(json_str);
        let (Some(item), Some(annotator)) = (item, annot) else {
            return Err(data(
                path,
                line,
                "expected \"item\" and \"annotator\" strings, found them missing".into(),
            ));
        };
        let mut row = TaskRow {
            item,
            annotator,
            label: String::new(),
            shown_first: None,
            scores: Vec::new(),
        };
        if let Some(s) = obj.get("shown_first").and_then(json_str) {
            row.shown_first = parse_shown_first(&s).map_err(|()| {
                data(
                    path,
                    line,
                    format!("expected shown_first A, B, left or right, found {s:?}"),
                )
            })?;
        }
        if task == Task::Rubric {
            let scores: Vec<(String, Option<f64>)> = match &dims_wanted {
                Some(dims) => dims
                    .iter()
                    .map(|d| {
                        score_value(obj.get(d).unwrap_or(&Value::Null)).map(|s| (d.clone(), s))
                    })
                    .collect::<std::result::Result<_, String>>()
                    .map_err(|found| data(path, line, format!("expected numeric scores, found {found}")))?,
                None => match key(&cols.label, &["label", "scores"], &obj) {
                    Some(Value::Object(m)) => m
                        .iter()
                        .map(|(d, v)| score_value(v).map(|s| (d.clone(), s)))
                        .collect::<std::result::Result<_, String>>()
                        .map_err(|found| data(path, line, format!("expected numeric scores, found {found}")))?,
                    other => {
                        return Err(data(
                            path,
                            line,
                            format!(
                                "expected a label object of scores such as {{\"helpfulness\": 5}}, found {}",
                                other.map_or("nothing".to_string(), |v| v.to_string())
                            ),
                        ))
                    }
                },
            };
            for (d, s) in scores {
                let next = dim_index.len();
                let i = *dim_index.entry(d.clone()).or_insert(next);
                if i == input.dimensions.len() {
                    input.dimensions.push(d);
                }
                if row.scores.len() <= i {
                    row.scores.resize(i + 1, None);
                }
                row.scores[i] = s;
            }
        } else {
            let label = key(&cols.label, LABEL, &obj);
            match label.as_ref().and_then(json_str) {
                Some(l) if l.is_empty() => continue,
                Some(l) => row.label = l,
                None if label.is_none() || label == Some(Value::Null) => continue,
                None => {
                    return Err(data(
                        path,
                        line,
                        "expected a string label, found another JSON value".into(),
                    ))
                }
            }
            if let Err(expected) = check_label(task, &row.label) {
                return Err(data(
                    path,
                    line,
                    format!("expected {expected}, found {:?}", row.label),
                ));
            }
        }
        input.rows.push(row);
    }
    let n = input.dimensions.len();
    for r in &mut input.rows {
        if task == Task::Rubric && r.scores.len() < n {
            r.scores.resize(n, None);
        }
    }
    Ok(())
}

fn score_value(v: &Value) -> std::result::Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or(n.to_string()),
        Value::String(s) => parse_score(s).map_err(|()| format!("{s:?}")),
        other => Err(other.to_string()),
    }
}

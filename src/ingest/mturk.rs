//! Amazon Mechanical Turk batch results CSV (`shared/formats.md` §4, mapping §11): one row
//! per assignment (one worker on one HIT), every cell quoted.
//!
//! Quirks handled here:
//! - Columns are found by name, never by position: answer columns sort as text
//!   (`Answer.Choice1, Answer.Choice10, Answer.Choice2`, pitfall §10).
//! - item = `--item-col` (a stable `Input.*` id; `Input.` may be left out), else `HITId`
//!   (which changes when a batch is re-published); annotator = `WorkerId`.
//! - label (`--label-col NAME`, or the only answer field): `Answer.NAME`, `Answer.NAME.label`
//!   (Crowd HTML), the one `true` among `Answer.NAME.<option>` columns (several `true` =
//!   multi-label: refused), or `NAME` inside the JSON of `Answer.taskAnswers`. An empty answer
//!   is counted `no_answer`.
//! - `AcceptTime`/`SubmitTime` look like `Thu May 02 03:04:40 PDT 2024` (US Pacific; `UTC`
//!   and `GMT` also read). duration_s = `WorkTimeInSeconds`, wall-clock including idle time.
//! - `AssignmentStatus` `Rejected` → status `rejected`; `Submitted`/`Approved` → kept.
//! - Gold: MTurk has none; the `--gold-col` column (default `Input.gold_label` when present)
//!   gives an item's gold label where it is not empty.

use std::path::Path;

use serde_json::Value;

use super::delimited;
use super::{Fields, Format, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Where the answer of one assignment is.
#[derive(Debug, PartialEq)]
enum Answer {
    /// One text column.
    Column(usize),
    /// Boolean columns, one per option: (option name, column).
    Options(Vec<(String, usize)>),
    /// `Answer.taskAnswers`, JSON; the field name inside, if known.
    TaskAnswers(usize, Option<String>),
}

/// Read one batch results file; returns the number of assignments.
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let mut rdr = delimited::reader(bytes, Format::Csv);
    let header = delimited::read_header(path, &mut rdr)?;
    let find = |name: &str| header.iter().position(|h| h == name);
    let find_input = |name: &str| find(name).or_else(|| find(&format!("Input.{name}")));
    let missing = |what: &str, name: &str| {
        Error::data(
            path,
            Some(1),
            format!(
                "missing {what} column: expected {name:?}, found columns {}",
                header.join(",")
            ),
        )
    };
    let item_name = opts.columns.item.as_deref().unwrap_or("HITId");
    let item_col = find_input(item_name).ok_or_else(|| missing("item", item_name))?;
    let worker_name = opts.columns.annotator.as_deref().unwrap_or("WorkerId");
    let worker_col = find(worker_name).ok_or_else(|| missing("annotator", worker_name))?;
    let answer = resolve_answer(&header, opts.columns.label.as_deref())
        .map_err(|m| Error::data(path, Some(1), m))?;
    let gold_col = match opts.gold_column.as_deref() {
        Some(name) => Some(find_input(name).ok_or_else(|| missing("gold", name))?),
        None => find("Input.gold_label"),
    };
    let (status_col, accept_col, submit_col, work_col) = (
        find("AssignmentStatus"),
        find("AcceptTime"),
        find("SubmitTime"),
        find("WorkTimeInSeconds"),
    );
    let mut record = csv::ByteRecord::new();
    let mut lines = delimited::Lines::new(bytes);
    let mut rows = 0u64;
    while delimited::next_record(path, &header, &mut rdr, &mut record, &mut lines)? {
        rows += 1;
        let line = lines.of(&record);
        let fail = |m: String| Error::data(path, Some(line), m);
        let cell = |i: usize| delimited::field(path, line, &record, i);
        let opt = |i: Option<usize>| -> Result<Option<&str>> {
            Ok(i.map(cell).transpose()?.filter(|s| !s.is_empty()))
        };
        let status = match opt(status_col)? {
            None | Some("Submitted" | "Approved") => None,
            Some("Rejected") => Some("rejected"),
            Some(other) => {
                return Err(fail(format!(
                    "field \"AssignmentStatus\": expected Submitted, Approved or Rejected, \
                     found {other:?}"
                )))
            }
        };
        let label = answer_of(&answer, &|i| cell(i)).map_err(fail)?;
        let Some(label) = label.filter(|l| !l.is_empty()) else {
            sink.skip("no_answer");
            continue;
        };
        let time = |i: Option<usize>, name: &str| -> Result<Option<String>> {
            opt(i)?
                .map(|s| pacific_to_rfc3339(s).map_err(|m| fail(format!("field {name:?}: {m}"))))
                .transpose()
        };
        let submitted = time(submit_col, "SubmitTime")?;
        let accepted = time(accept_col, "AcceptTime")?;
        sink.push(
            path,
            line,
            Fields {
                item: cell(item_col)?,
                annotator: cell(worker_col)?,
                label: &label,
                duration_s: opt(work_col)?,
                started_at: accepted.as_deref(),
                submitted_at: submitted.as_deref(),
                gold: opt(gold_col)?,
                status,
                ..Fields::default()
            },
        )?;
    }
    Ok(rows)
}

/// Find the answer columns for `--label-col` (or the only answer field), by name.
fn resolve_answer(header: &[String], chosen: Option<&str>) -> std::result::Result<Answer, String> {
    let find = |name: &str| header.iter().position(|h| h == name);
    let task_answers = find("Answer.taskAnswers");
    let by_name = |name: &str| -> Option<Answer> {
        let name = name.strip_prefix("Answer.").unwrap_or(name);
        if let Some(i) = find(name)
            .filter(|&i| header[i].starts_with("Answer."))
            .or_else(|| find(&format!("Answer.{name}")))
            .or_else(|| find(&format!("Answer.{name}.label")))
        {
            return Some(Answer::Column(i));
        }
        let prefix = format!("Answer.{name}.");
        let options: Vec<(String, usize)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((h.strip_prefix(&prefix)?.to_string(), i)))
            .collect();
        if !options.is_empty() {
            return Some(Answer::Options(options));
        }
        task_answers.map(|i| Answer::TaskAnswers(i, Some(name.to_string())))
    };
    // The answer fields of the form: `Answer.x`, `Answer.x.label`, `Answer.group.option`.
    let mut names: Vec<&str> = Vec::new();
    for h in header {
        let Some(rest) = h.strip_prefix("Answer.") else {
            continue;
        };
        let name = rest.split('.').next().unwrap_or(rest);
        if name != "taskAnswers" && !names.contains(&name) {
            names.push(name);
        }
    }
    match chosen {
        Some(name) => by_name(name).ok_or_else(|| {
            format!(
                "--label-col: expected an answer field {name:?} (Answer.{name}, \
                 Answer.{name}.label or Answer.{name}.<option>), found answer fields {}",
                names.join(", ")
            )
        }),
        None => match (names.as_slice(), task_answers) {
            ([one], _) => by_name(one).ok_or_else(|| format!("no answer field {one:?}")),
            ([], Some(i)) => Ok(Answer::TaskAnswers(i, None)),
            ([], None) => Err(format!(
                "expected Answer.* columns, found columns {}",
                header.join(",")
            )),
            (many, _) => Err(format!(
                "expected one answer field, found several ({}): choose one with --label-col",
                many.join(", ")
            )),
        },
    }
}

/// The label of one assignment; `Ok(None)` when it gave no answer.
fn answer_of<'r>(
    answer: &Answer,
    cell: &dyn Fn(usize) -> Result<&'r str>,
) -> std::result::Result<Option<String>, String> {
    let text = |i: usize| cell(i).map_err(|e| e.to_string());
    match answer {
        Answer::Column(i) => Ok(Some(text(*i)?.to_string())),
        Answer::Options(options) => {
            let mut chosen = Vec::new();
            for (option, i) in options {
                if text(*i)?.trim().eq_ignore_ascii_case("true") {
                    chosen.push(option.as_str());
                }
            }
            match chosen.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(one.to_string())),
                many => Err(format!(
                    "expected one option set to true, found {} ({}; multi-label input is not \
                     supported yet)",
                    many.len(),
                    many.join(", ")
                )),
            }
        }
        Answer::TaskAnswers(i, name) => {
            let raw = text(*i)?;
            if raw.trim().is_empty() {
                return Ok(None);
            }
            let v: Value = serde_json::from_str(raw).map_err(|e| {
                format!("field \"Answer.taskAnswers\": expected JSON, found {raw:?} ({e})")
            })?;
            let first = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
            let obj = first
                .as_object()
                .ok_or("field \"Answer.taskAnswers\": expected an object")?;
            let value = match name {
                Some(n) => obj.get(n),
                None if obj.len() == 1 => obj.values().next(),
                None => {
                    return Err(format!(
                        "field \"Answer.taskAnswers\": expected one answer field, found several \
                         ({}): choose one with --label-col",
                        obj.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                }
            };
            Ok(match value {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(o)) => match o.get("label") {
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            })
        }
    }
}

/// `Thu May 02 03:04:40 PDT 2024` → `2024-05-02T03:04:40-07:00`.
fn pacific_to_rfc3339(s: &str) -> std::result::Result<String, String> {
    let expected = || format!("expected a time like \"Thu May 02 03:04:40 PDT 2024\", found {s:?}");
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_weekday, month, day, clock, zone, year] = parts.as_slice() else {
        return Err(expected());
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| m == month)
        .ok_or_else(expected)?
        + 1;
    let offset = match *zone {
        "PDT" => "-07:00",
        "PST" => "-08:00",
        "UTC" | "GMT" => "Z",
        _ => return Err(expected()),
    };
    let day: u32 = day.parse().map_err(|_| expected())?;
    let year: u32 = year.parse().map_err(|_| expected())?;
    Ok(format!("{year:04}-{month:02}-{day:02}T{clock}{offset}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pacific_times_carry_their_offset() {
        assert_eq!(
            pacific_to_rfc3339("Thu May 02 03:04:40 PDT 2024").as_deref(),
            Ok("2024-05-02T03:04:40-07:00")
        );
        assert_eq!(
            pacific_to_rfc3339("Fri Jan 05 09:21:50 PST 2024").as_deref(),
            Ok("2024-01-05T09:21:50-08:00")
        );
        assert!(pacific_to_rfc3339("2024-05-02 03:04:40").is_err());
    }

    #[test]
    fn answer_fields_are_found_by_name() {
        let h = header(&["HITId", "Answer.q.label", "Answer.comment"]);
        assert_eq!(resolve_answer(&h, Some("q")), Ok(Answer::Column(1)));
        assert!(resolve_answer(&h, None)
            .unwrap_err()
            .contains("several (q, comment)"));
        // Text order puts Choice10 before Choice2; the option is named, not numbered.
        let h = header(&["Answer.c.Choice1", "Answer.c.Choice10", "Answer.c.Choice2"]);
        let a = resolve_answer(&h, None).unwrap();
        let cells = ["false", "false", "true"];
        let label = answer_of(&a, &|i| Ok(cells[i])).unwrap();
        assert_eq!(label.as_deref(), Some("Choice2"));
    }

    #[test]
    fn task_answers_json_is_read() {
        let h = header(&["WorkerId", "Answer.taskAnswers"]);
        let a = resolve_answer(&h, None).unwrap();
        let cells = ["W", "[{\"sentiment\":{\"label\":\"Positive\"}}]"];
        assert_eq!(
            answer_of(&a, &|i| Ok(cells[i])).unwrap().as_deref(),
            Some("Positive")
        );
    }
}

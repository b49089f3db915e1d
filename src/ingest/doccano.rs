//! doccano JSONL export (`shared/formats.md` §7, mapping §11), text classification.
//!
//! Quirks handled here:
//! - Only the per-user export is usable: with "Share annotations across all users" off, the
//!   zip holds one `<username>.jsonl` per member, and the annotator is the file stem (unzip
//!   it and pass the files). The collaborative `all.jsonl` merges everyone's labels with no
//!   annotator (doccano#2116, #2329), so it is refused with that explanation.
//! - item = `id`; label = `label`, a sorted list of category names: one name is the label;
//!   an empty list (the user did not label that example) is counted `no_label`; several
//!   names (multi-label) and `[start, end, label]` triples (spans) are refused.
//! - No timestamps, durations, gold or status exist in this format.

use std::path::Path;

use serde_json::Value;

use super::json_array::{self, id_text, kind};
use super::{Fields, RecordSink};
use crate::error::{Error, Result};

/// Read one user's file; returns the number of examples.
pub(crate) fn read(path: &Path, bytes: &[u8], sink: &mut RecordSink<'_>) -> Result<u64> {
    let annotator = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && *s != "-")
        .ok_or_else(|| {
            Error::data(
                path,
                None,
                "expected a per-user file <username>.jsonl (the annotator is the file name), \
                 found no file name",
            )
        })?;
    if annotator == "all" {
        return Err(Error::data(
            path,
            None,
            "expected per-user files (<username>.jsonl), found the collaborative all.jsonl, \
             which has no annotator: export with \"Share annotations across all users\" off",
        ));
    }
    let records = json_array::lines(path, bytes, sink)?;
    for (line, obj) in &records {
        let fail = |m: String| Error::data(path, Some(*line), m);
        let item = obj
            .get("id")
            .and_then(id_text)
            .ok_or_else(|| fail("expected an example \"id\", found none".into()))?;
        let label = match obj.get("label").or_else(|| obj.get("cats")) {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => match list.as_slice() {
                [] => None,
                [Value::Array(_), ..] => {
                    return Err(fail(
                        "field \"label\": expected category names, found [start, end, label] \
                         spans (sequence labelling is not supported yet)"
                            .into(),
                    ))
                }
                [one] => Some(id_text(one).ok_or_else(|| {
                    fail(format!(
                        "field \"label\": expected a name, found {}",
                        kind(one)
                    ))
                })?),
                many => {
                    return Err(fail(format!(
                        "field \"label\": expected one category, found {} (multi-label input \
                         is not supported yet)",
                        many.len()
                    )))
                }
            },
            Some(v) => Some(id_text(v).ok_or_else(|| {
                fail(format!(
                    "field \"label\": expected a list, found {}",
                    kind(v)
                ))
            })?),
        };
        let Some(label) = label else {
            sink.skip("no_label");
            continue;
        };
        sink.push(
            path,
            *line,
            Fields {
                item: &item,
                annotator,
                label: &label,
                ..Fields::default()
            },
        )?;
    }
    Ok(records.len() as u64)
}

//! Parquet reader for the canonical long form (`shared/formats.md` §9): one row per
//! (item, annotator) judgement, read through the `parquet` crate's record API (no Arrow).
//!
//! Column types: ids and labels utf8 or int64 (ints read as text); `label` may also be
//! `list<utf8>` (multi-label; an empty list is "none of these", a null is a missing label);
//! `started_at` / `submitted_at` `timestamp[ms|us, UTC]` or RFC 3339 strings; `duration_s`
//! float64 (or any number); `is_gold` bool (or text). Header aliases are those of the CSV
//! reader. Nulls are missing values, exactly like empty CSV cells. Errors name the file, row
//! group and row (0-based within the group); with `--on-invalid skip` a record's "line" is
//! its 1-based row number in the file. Compression: uncompressed and Snappy (the pyarrow
//! default); other codecs are refused by the crate with a message naming the codec.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{Fields, Payload, RecordSink};
use crate::error::{Error, Result};

/// Canonical role of each column name (case-insensitive), as in the CSV reader.
fn role(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "item" | "item_id" | "task" | "task_id" => "item",
        "annotator" | "annotator_id" | "worker" | "worker_id" | "rater" | "performer" => {
            "annotator"
        }
        "label" | "answer" | "response" => "label",
        "duration_s" => "duration_s",
        "started_at" => "started_at",
        "submitted_at" => "submitted_at",
        "gold_label" | "gold" => "gold",
        "is_gold" => "is_gold",
        "status" => "status",
        _ => return None,
    })
}

/// A scalar field as text; `None` for null. `what` lists the accepted types for errors.
fn scalar(field: &Field) -> std::result::Result<Option<String>, &'static str> {
    Ok(Some(match field {
        Field::Null => return Ok(None),
        Field::Str(s) => s.clone(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(v) => v.to_string(),
        Field::Short(v) => v.to_string(),
        Field::Int(v) => v.to_string(),
        Field::Long(v) => v.to_string(),
        Field::UByte(v) => v.to_string(),
        Field::UShort(v) => v.to_string(),
        Field::UInt(v) => v.to_string(),
        Field::ULong(v) => v.to_string(),
        Field::Float(v) => v.to_string(),
        Field::Double(v) => v.to_string(),
        Field::TimestampMillis(ms) => rfc3339(i128::from(*ms) * 1_000_000).ok_or("timestamp")?,
        Field::TimestampMicros(us) => rfc3339(i128::from(*us) * 1_000).ok_or("timestamp")?,
        _ => return Err(type_name(field)),
    }))
}

fn rfc3339(nanos: i128) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

fn type_name(field: &Field) -> &'static str {
    match field {
        Field::Null => "null",
        Field::Bool(_) => "bool",
        Field::Str(_) => "utf8",
        Field::Float(_) | Field::Float16(_) => "float",
        Field::Double(_) => "double",
        Field::Byte(_) | Field::Short(_) | Field::Int(_) => "int32",
        Field::Long(_) => "int64",
        Field::Bytes(_) => "binary",
        Field::Decimal(_) => "decimal",
        Field::Date(_) => "date32",
        Field::TimestampMillis(_) | Field::TimestampMicros(_) => "timestamp",
        Field::ListInternal(_) => "list",
        Field::MapInternal(_) => "map",
        Field::Group(_) => "struct",
        _ => "another type",
    }
}

/// What each role accepts, for the error message.
fn expected(role: &str) -> &'static str {
    match role {
        "label" => "utf8, int64 or list<utf8>",
        "started_at" | "submitted_at" => "timestamp or an RFC 3339 utf8",
        "duration_s" => "float64",
        "is_gold" => "bool",
        _ => "utf8 or int64",
    }
}

/// Read one Parquet file into the sink; returns the number of rows.
pub(crate) fn read(path: &Path, bytes: &[u8], sink: &mut RecordSink<'_>) -> Result<u64> {
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes)).map_err(|e| {
        Error::data(
            path,
            None,
            format!("expected a Parquet file, found an unreadable one ({e})"),
        )
    })?;
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    for needed in ["item", "annotator", "label"] {
        if !names.iter().any(|n| role(n) == Some(needed)) {
            return Err(Error::data(
                path,
                None,
                format!(
                    "expected a column {needed:?} (or an alias), found columns {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut record = 0u64;
    for group in 0..reader.num_row_groups() {
        let at = |row: usize, m: String| {
            Error::data(path, None, format!("row group {group}, row {row}: {m}"))
        };
        let unreadable = |e: parquet::errors::ParquetError| {
            at(0, format!("expected a readable row group ({e})"))
        };
        let group_reader = reader.get_row_group(group).map_err(unreadable)?;
        let rows = group_reader.get_row_iter(None).map_err(unreadable)?;
        for (row_index, row) in rows.enumerate() {
            record += 1;
            let row = row.map_err(|e| at(row_index, format!("expected a readable row ({e})")))?;
            let mut text: [Option<String>; 9] = Default::default();
            let mut set: Option<Vec<String>> = None;
            for (name, field) in row.get_column_iter() {
                let Some(role) = role(name) else { continue };
                let slot = ROLES.iter().position(|r| *r == role).unwrap_or(0);
                let bad = |found: &str| {
                    at(
                        row_index,
                        format!(
                            "column {name:?}: expected {}, found {found}",
                            expected(role)
                        ),
                    )
                };
                match (role, field) {
                    ("label", Field::ListInternal(list)) => {
                        let mut members = Vec::with_capacity(list.elements().len());
                        for e in list.elements() {
                            match e {
                                Field::Str(s) => members.push(s.clone()),
                                Field::Long(v) => members.push(v.to_string()),
                                Field::Int(v) => members.push(v.to_string()),
                                other => return Err(bad(&format!("list<{}>", type_name(other)))),
                            }
                        }
                        set = Some(members);
                    }
                    // A float label would print as "1.0" or "1": ambiguous, so refuse it.
                    (
                        "item" | "annotator" | "label" | "gold",
                        Field::Float(_) | Field::Double(_),
                    ) => return Err(bad(type_name(field))),
                    ("duration_s", Field::Str(_) | Field::Bool(_)) => {
                        return Err(bad(type_name(field)))
                    }
                    _ => text[slot] = scalar(field).map_err(bad)?,
                }
            }
            let get = |r: &str| text[ROLES.iter().position(|x| *x == r).unwrap_or(0)].as_deref();
            let fields = Fields {
                item: get("item").unwrap_or(""),
                annotator: get("annotator").unwrap_or(""),
                label: get("label").unwrap_or(""),
                duration_s: get("duration_s"),
                started_at: get("started_at"),
                submitted_at: get("submitted_at"),
                gold: get("gold"),
                is_gold: get("is_gold"),
                status: get("status"),
            };
            let payload = match &set {
                Some(set) => Payload::Set(set),
                None => Payload::Single,
            };
            sink.push_payload(path, record, None, fields, payload)
                .map_err(|e| relocate(e, group, row_index))?;
        }
    }
    Ok(record)
}

const ROLES: [&str; 9] = [
    "item",
    "annotator",
    "label",
    "duration_s",
    "started_at",
    "submitted_at",
    "gold",
    "is_gold",
    "status",
];

/// A sink error located by record number, relocated to "row group G, row R".
fn relocate(err: Error, group: usize, row: usize) -> Error {
    match err {
        Error::Data { location, message } if location.line.is_some() => Error::data(
            location.path,
            None,
            format!("row group {group}, row {row}: {message}"),
        ),
        other => other,
    }
}

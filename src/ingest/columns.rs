//! Header resolution for the canonical long form: which column holds what.
//!
//! Names are matched case-insensitively, with the aliases of `shared/formats.md` §9, so that
//! a crowd-kit CSV (`task,worker,label`) loads as is. User overrides (`--item-col` …) win.

use std::path::Path;

use crate::error::{Error, Result};

/// Column names chosen by the user (`--item-col`, `--annotator-col`, `--label-col`).
#[derive(Debug, Clone, Default)]
pub struct ColumnOverrides {
    pub item: Option<String>,
    pub annotator: Option<String>,
    pub label: Option<String>,
}

/// Positions of the known columns in a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub item: usize,
    pub annotator: usize,
    pub label: usize,
    pub duration_s: Option<usize>,
    pub started_at: Option<usize>,
    pub submitted_at: Option<usize>,
    pub gold: Option<usize>,
    pub is_gold: Option<usize>,
    pub status: Option<usize>,
    /// Number of fields every row must have.
    pub width: usize,
}

/// Accepted header names (case-insensitive) of each canonical column, first = canonical.
pub(crate) const ITEM: &[&str] = &["item", "item_id", "task", "task_id"];
pub(crate) const ANNOTATOR: &[&str] = &[
    "annotator",
    "annotator_id",
    "worker",
    "worker_id",
    "rater",
    "performer",
];
pub(crate) const LABEL: &[&str] = &["label", "answer", "response"];
pub(crate) const DURATION: &[&str] = &["duration_s", "duration", "lead_time"];
pub(crate) const STARTED: &[&str] = &["started_at"];
pub(crate) const SUBMITTED: &[&str] = &["submitted_at"];
pub(crate) const GOLD: &[&str] = &["gold", "gold_label"];
pub(crate) const IS_GOLD: &[&str] = &["is_gold"];
pub(crate) const STATUS: &[&str] = &["status"];

impl ColumnMap {
    /// Resolve the columns of `header`; `path` is only used for the error message.
    pub fn resolve(header: &[&str], overrides: &ColumnOverrides, path: &Path) -> Result<Self> {
        let find = |names: &[&str]| -> Option<usize> {
            names.iter().find_map(|name| {
                header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name))
            })
        };
        let required = |role: &str, chosen: &Option<String>, aliases: &[&str]| -> Result<usize> {
            let found = match chosen {
                Some(name) => header.iter().position(|h| h.trim() == name),
                None => find(aliases),
            };
            found.ok_or_else(|| {
                let expected = match chosen {
                    Some(name) => format!("a column named {name:?}"),
                    None => format!("a column {} (or {})", aliases[0], aliases[1..].join(", ")),
                };
                Error::data(
                    path,
                    Some(1),
                    format!(
                        "missing {role} column: expected {expected}, found columns {}",
                        header.join(",")
                    ),
                )
            })
        };
        for (i, name) in header.iter().enumerate() {
            let name = name.trim();
            if let Some(j) = header[i + 1..]
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
            {
                return Err(Error::data(
                    path,
                    Some(1),
                    format!(
                        "expected distinct column names, found {name:?} twice (fields {} and {})",
                        i + 1,
                        i + j + 2
                    ),
                ));
            }
        }
        Ok(ColumnMap {
            item: required("item", &overrides.item, ITEM)?,
            annotator: required("annotator", &overrides.annotator, ANNOTATOR)?,
            label: required("label", &overrides.label, LABEL)?,
            duration_s: find(DURATION),
            started_at: find(STARTED),
            submitted_at: find(SUBMITTED),
            gold: find(GOLD),
            is_gold: find(IS_GOLD),
            status: find(STATUS),
            width: header.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowd_kit_header_resolves_through_aliases() {
        let map = ColumnMap::resolve(
            &["Task", "worker", "label"],
            &ColumnOverrides::default(),
            Path::new("x.csv"),
        )
        .unwrap();
        assert_eq!((map.item, map.annotator, map.label), (0, 1, 2));
    }

    #[test]
    fn overrides_win_and_missing_columns_are_named() {
        let overrides = ColumnOverrides {
            label: Some("Answer.sentiment".into()),
            ..Default::default()
        };
        let map = ColumnMap::resolve(
            &["item", "annotator", "label", "Answer.sentiment"],
            &overrides,
            Path::new("x.csv"),
        )
        .unwrap();
        assert_eq!(map.label, 3);
        let err = ColumnMap::resolve(
            &["item", "label"],
            &ColumnOverrides::default(),
            Path::new("x.csv"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv:1: missing annotator column: expected a column annotator (or annotator_id, \
             worker, worker_id, rater, performer), found columns item,label"
        );
    }
}

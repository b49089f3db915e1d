//! Amazon SageMaker Ground Truth per-worker responses (`shared/formats.md` §3, mapping §11):
//! `annotations/worker-response/iteration-<n>/<object-index>/<timestamp>.json`, each file
//! `{"answers": [{workerId, acceptanceTime, submissionTime, timeSpentInSeconds,
//! answerContent}]}`. The input is the job folder (or its `worker-response` folder, or one
//! response file).
//!
//! Quirks handled here:
//! - item = the object-index folder name: the 0-based line of the input manifest. Workers see
//!   objects shuffled, so file order means nothing (pitfall §10 "Ground Truth order"); the
//!   folder is the join key. Files are read in sorted path order, so results do not depend
//!   on the file system.
//! - annotator = `workerId`; label = `answerContent.<name>.label` (`--label-col NAME`, or the
//!   only key); `.labels` (multi-label) is refused; no answer → counted `no_label`; an answer
//!   without `workerId` → `no_annotator`.
//! - started_at = `acceptanceTime`, submitted_at = `submissionTime`, duration_s =
//!   `timeSpentInSeconds` (active time, pauses excluded).
//! - No gold and no status: declined or expired tasks leave no file, so nothing to count.
//! - Later iterations may repeat an object: the later submission of a worker wins (counted
//!   as a duplicate by the dataset).

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::json_array::{id_text, kind};
use super::{Fields, IngestOptions, RecordSink};
use crate::error::{Error, Result};

/// Read a job folder; returns (answers read, SHA-256 over every file's path and bytes).
pub(crate) fn read_dir(
    dir: &Path,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<(u64, String)> {
    let nested = dir.join("annotations").join("worker-response");
    let root = if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    let mut files = Vec::new();
    collect_json(&root, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::data(
            dir,
            None,
            "expected Ground Truth worker-response files \
             (annotations/worker-response/iteration-N/<object>/<time>.json), found none",
        ));
    }
    let mut hasher = Sha256::new();
    let mut rows = 0u64;
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let relative = file.strip_prefix(dir).unwrap_or(file);
        hasher.update(relative.display().to_string().as_bytes());
        hasher.update([0u8]);
        hasher.update(&bytes);
        rows += read_file(file, &bytes, opts, sink)?;
    }
    let sha = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((rows, sha))
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        // `file_type` does not follow symlinks: a link back up the tree must not make the
        // walk endless, so linked folders are not entered.
        let is_dir = entry.file_type().map_err(|e| Error::io(&path, e))?.is_dir();
        if is_dir {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Read one response file; its parent folder names the data object.
pub(crate) fn read_file(
    path: &Path,
    bytes: &[u8],
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Result<u64> {
    let fail = |line: u64, m: String| Error::data(path, Some(line), m);
    let object = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Error::data(
                path,
                None,
                "expected the response file inside its object-index folder \
                 (iteration-N/<number>/<time>.json), found another folder",
            )
        })?;
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        fail(
            e.line() as u64,
            format!("expected a JSON object, found invalid JSON ({e})"),
        )
    })?;
    let Some(answers) = doc.get("answers").and_then(Value::as_array) else {
        return Err(fail(1, "expected a list \"answers\", found none".into()));
    };
    for answer in answers {
        let text = |key: &str| answer.get(key).and_then(id_text);
        let Some(worker) = text("workerId") else {
            sink.skip("no_annotator");
            continue;
        };
        let label = match label_of(answer.get("answerContent"), opts.columns.label.as_deref()) {
            Ok(Some(label)) => label,
            Ok(None) => {
                sink.skip("no_label");
                continue;
            }
            Err(m) => return Err(fail(1, format!("worker {worker}: {m}"))),
        };
        let (started, submitted) = (text("acceptanceTime"), text("submissionTime"));
        sink.push(
            path,
            1,
            Fields {
                item: object,
                annotator: &worker,
                label: &label,
                duration_s: text("timeSpentInSeconds").as_deref(),
                started_at: started.as_deref(),
                submitted_at: submitted.as_deref(),
                ..Fields::default()
            },
        )?;
    }
    Ok(answers.len() as u64)
}

/// `answerContent.<name>.label`: `Ok(None)` when absent; an error for multi-label answers.
fn label_of(
    content: Option<&Value>,
    chosen: Option<&str>,
) -> std::result::Result<Option<String>, String> {
    let Some(content) = content.and_then(Value::as_object) else {
        return Ok(None);
    };
    let element = match chosen {
        Some(name) => content.get(name),
        None if content.len() <= 1 => content.values().next(),
        None => {
            return Err(format!(
                "expected one answer element in answerContent, found several ({}): choose one \
                 with --label-col",
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    let Some(element) = element else {
        return Ok(None);
    };
    if element.get("labels").is_some() {
        return Err(
            "expected a single \"label\", found \"labels\" (multi-label input is not \
             supported yet)"
                .into(),
        );
    }
    match element.get("label") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => id_text(v)
            .map(Some)
            .ok_or_else(|| format!("expected a label string, found {}", kind(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_named_element() {
        let v: Value = serde_json::from_str(
            "{\"crowd-classifier\": {\"label\": \"mixed\"}, \"other\": {\"label\": \"x\"}}",
        )
        .unwrap();
        assert_eq!(
            label_of(Some(&v), Some("crowd-classifier")),
            Ok(Some("mixed".into()))
        );
        assert!(label_of(Some(&v), None).unwrap_err().contains("several"));
        let multi: Value = serde_json::from_str(
            "{\"crowd-image-classifier-multi-select\": {\"labels\": [\"a\"]}}",
        )
        .unwrap();
        assert!(label_of(Some(&multi), None)
            .unwrap_err()
            .contains("multi-label"));
    }
}

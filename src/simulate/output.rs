//! Writing a simulated batch as CSV files: `annotations.csv` (item, annotator, label,
//! duration_s, submitted_at as RFC 3339 UTC), `gold.csv` (item, label), `truth.csv` (item,
//! label, ambiguous, gold) and `roles.csv` (annotator, role, group).

use std::path::Path;

use super::Simulation;
use crate::error::{Error, Result};

impl Simulation {
    /// Write `annotations.csv`, `gold.csv`, `truth.csv` and `roles.csv` into `dir`.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let csv_err = |path: &Path, e: csv::Error| Error::io(path, std::io::Error::other(e));
        let write = |name: &str, header: &[&str], rows: Vec<Vec<String>>| -> Result<()> {
            let path = dir.join(name);
            let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
            w.write_record(header).map_err(|e| csv_err(&path, e))?;
            for r in rows {
                w.write_record(&r).map_err(|e| csv_err(&path, e))?;
            }
            w.flush().map_err(|e| Error::io(&path, e))
        };
        // Streamed row by row: a batch of millions of rows is never held as strings.
        {
            let path = dir.join("annotations.csv");
            let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
            w.write_record(["item", "annotator", "label", "duration_s", "submitted_at"])
                .map_err(|e| csv_err(&path, e))?;
            let mut duration = String::new();
            for r in &self.rows {
                use std::fmt::Write as _;
                duration.clear();
                let _ = write!(duration, "{:.3}", r.duration_s);
                w.write_record([
                    self.item_names[r.item as usize].as_str(),
                    self.annotator_names[r.annotator as usize].as_str(),
                    self.label_names[r.label as usize].as_str(),
                    duration.as_str(),
                    rfc3339(r.submitted_at_ms)?.as_str(),
                ])
                .map_err(|e| csv_err(&path, e))?;
            }
            w.flush().map_err(|e| Error::io(&path, e))?;
        }
        let label = |i: usize| self.label_names[self.truth[i] as usize].clone();
        write(
            "gold.csv",
            &["item", "label"],
            (0..self.truth.len())
                .filter(|&i| self.gold[i])
                .map(|i| vec![self.item_names[i].clone(), label(i)])
                .collect(),
        )?;
        write(
            "truth.csv",
            &["item", "label", "ambiguous", "gold"],
            (0..self.truth.len())
                .map(|i| {
                    vec![
                        self.item_names[i].clone(),
                        label(i),
                        self.ambiguous[i].to_string(),
                        self.gold[i].to_string(),
                    ]
                })
                .collect(),
        )?;
        write(
            "roles.csv",
            &["annotator", "role", "group"],
            (0..self.roles.len())
                .map(|a| {
                    vec![
                        self.annotator_names[a].clone(),
                        self.roles[a].name().to_string(),
                        self.group[a].map(|g| g.to_string()).unwrap_or_default(),
                    ]
                })
                .collect(),
        )
    }
}

fn rfc3339(ms: i64) -> Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| Error::Invalid(format!("timestamp {ms}: {e}")))?;
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Invalid(format!("timestamp {ms}: {e}")))
}

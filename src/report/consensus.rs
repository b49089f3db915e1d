//! The consensus output (`labelaudit consensus`): one aggregated label per item with its
//! confidence, as CSV (`item,label,confidence`) for training, or JSON with the model's
//! per-annotator estimates.

use std::io::{self, Write};

use serde::Serialize;

use crate::consensus::{Consensus, Method};
use crate::dataset::{Dataset, NO_LABEL};

/// One item's consensus.
#[derive(Debug, Clone, Serialize)]
pub struct ItemConsensus {
    pub item: String,
    pub label: String,
    pub confidence: f64,
}

/// One annotator as the model sees them.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotatorEstimate {
    pub id: String,
    /// Model-based accuracy (Dawid-Skene Σ prior·π_kk, one-coin skill, MACE competence,
    /// majority vote: share of labels equal to the consensus).
    pub accuracy: Option<f64>,
    /// MACE only: probability that the annotator is spamming.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spam_probability: Option<f64>,
}

/// The whole consensus report.
#[derive(Debug, Clone, Serialize)]
pub struct ConsensusReport {
    pub method: Method,
    pub iterations: usize,
    pub converged: bool,
    /// Majority-vote ties broken by label order.
    pub ties: usize,
    pub items: Vec<ItemConsensus>,
    pub annotators: Vec<AnnotatorEstimate>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl ConsensusReport {
    pub fn new(ds: &Dataset, c: &Consensus) -> Self {
        let items = (0..ds.n_items())
            .filter(|&i| c.labels[i] != NO_LABEL)
            .map(|i| ItemConsensus {
                item: ds.items[i].clone(),
                label: ds.labels[c.labels[i] as usize].clone(),
                confidence: finite(c.confidence[i]).unwrap_or(0.0),
            })
            .collect();
        let annotators = (0..ds.n_annotators())
            .map(|a| AnnotatorEstimate {
                id: ds.annotators[a].clone(),
                accuracy: c.annotator_accuracy.get(a).copied().and_then(finite),
                spam_probability: c
                    .spam_probability
                    .as_ref()
                    .and_then(|s| s.get(a).copied())
                    .and_then(finite),
            })
            .collect();
        ConsensusReport {
            method: c.method,
            iterations: c.iterations,
            converged: c.converged,
            ties: c.ties,
            items,
            annotators,
        }
    }

    /// `item,label,confidence`, one row per item that has annotations.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["item", "label", "confidence"])?;
        for row in &self.items {
            w.write_record([
                row.item.as_str(),
                row.label.as_str(),
                &format!("{:.6}", row.confidence),
            ])?;
        }
        w.flush()
    }
}

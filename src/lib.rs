//! labelaudit: audit human annotation data.
//!
//! Data flows one way: **ingest → Dataset → agreement + quality → Report → render**.

pub mod agreement;
pub mod cli;
pub mod consensus;
pub mod dataset;
pub mod error;
pub mod explain;
pub mod feedback;
pub mod ingest;
pub mod label_sets;
pub mod output;
pub mod progress;
pub mod quality;
pub mod report;
pub mod run;
pub mod simulate;
pub mod spans;
pub mod tasks;
pub mod timings;

pub use dataset::{Dataset, Level};
pub use error::{Error, Result};

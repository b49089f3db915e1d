//! labelaudit: audit human annotation data.
//!
//! Data flows one way: **ingest → Dataset → agreement + quality → Report → render**.

pub mod agreement;
pub mod cli;
pub mod dataset;
pub mod error;
pub mod ingest;
pub mod output;
pub mod report;
pub mod run;

pub use dataset::{Dataset, Level};
pub use error::{Error, Result};

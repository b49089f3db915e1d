//! labelaudit: audit human annotation data.
//!
//! Data flows one way: **ingest → Dataset → agreement + quality → Report → render**.

pub mod dataset;
pub mod error;
pub mod quality;
pub mod simulate;

pub use dataset::{Dataset, Level};
pub use error::{Error, Result};

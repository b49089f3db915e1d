//! labelaudit: audit human annotation data.
//!
//! Data flows one way: **ingest → Dataset → agreement + quality → Report → render**.

pub mod consensus;
pub mod dataset;
pub mod error;

pub use dataset::{Dataset, Level};
pub use error::{Error, Result};

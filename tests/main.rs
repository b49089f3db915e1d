//! Integration tests: one crate, one module per area.

/// Platform exports (Label Studio, Prodigy, MTurk, Toloka) against their canonical form.
mod formats;
/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;

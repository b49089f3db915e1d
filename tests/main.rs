//! Integration tests: one crate, one module per area.

/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;

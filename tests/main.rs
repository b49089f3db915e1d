//! Integration tests: one crate, one module per area.

/// Pitfalls of formats.md §10, refusals and options of the platform readers.
mod format_pitfalls;
/// Platform exports (Label Studio, Prodigy, MTurk, Toloka) against their canonical form.
mod formats;
/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;

//! Integration tests: one crate, one module per area.

/// Properties of the coefficients: invariances, perfect agreement, thread independence.
mod agreement_properties;
/// Published reference cases and randomized cases against Python oracles.
mod agreement_reference;
/// Platform pitfalls of shared/formats.md §10.
mod format_pitfalls;
/// One batch in every platform format gives the canonical dataset.
mod formats;
/// Fuzz-style harness: mutated fixtures never panic, errors stay located.
mod fuzz_inputs;
/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;
/// Ingest invariances: row order, file splits, thread count.
mod ingest_properties;
/// `--on-invalid skip`, quarantine, label hygiene, stdin and safe outputs.
mod invalid_skip;

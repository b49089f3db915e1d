//! Integration tests: one crate, one module per area.

/// Properties of the coefficients: invariances, perfect agreement, thread independence.
mod agreement_properties;
/// Published reference cases and randomized cases against Python oracles.
mod agreement_reference;
/// Feedback statistics (ICC, Kendall's W, rank correlations, binomial test) against
/// published examples and pingouin / scipy oracles.
mod feedback;
/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;

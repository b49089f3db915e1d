//! Integration tests: one crate, one module per area.

/// Properties of the coefficients: invariances, perfect agreement, thread independence.
mod agreement_properties;
/// Published reference cases and randomized cases against Python oracles.
mod agreement_reference;
/// `labelaudit audit` end to end on the example batch.
mod cli_audit;
/// `labelaudit consensus` end to end.
mod cli_consensus;
/// Consensus methods on real crowdsourcing data against crowd-kit.
mod consensus_datasets;
/// Feedback statistics (ICC, Kendall's W, rank correlations, binomial test) against
/// published examples and pingouin / scipy oracles.
mod feedback;
/// Platform pitfalls of shared/formats.md §10.
mod format_pitfalls;
/// One batch in every platform format gives the canonical dataset.
mod formats;
/// Runs the binary and compares output.
mod harness;
/// Malformed inputs: exact messages and exit codes.
mod ingest_errors;
/// Detection targets of the quality engine on simulated batches.
mod quality_simulated;

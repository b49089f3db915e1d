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
/// AI-feedback tasks: detection targets on simulated batches, CLI surface and outputs.
mod feedback_tasks;
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
/// Multi-label sets (every format, alpha-MASI/Jaccard vs nltk) and span F1.
mod multilabel_spans;
/// Detection targets of the quality engine on simulated batches.
mod quality_simulated;
/// insta snapshots of every exporter on `fixtures/small`.
mod report_snapshots;
/// `--export-*`, HTML structure and escaping, `explain` dispute packets.
mod reports;
/// `low_span_f1` on a span batch with one misaligned annotator (`fixtures/spans`).
mod spans_flag;

//! Criterion benchmarks of the audit stages on simulator batches (overlap 5, 5 labels,
//! about rows / 500 annotators): ingest of the canonical CSV, all agreement coefficients
//! together (with and without the Krippendorff bootstrap) and each one alone, Dawid-Skene,
//! MACE and the full audit.
//!
//! Sizes default to 10^4 and 10^5 rows so `cargo bench` takes minutes; set
//! `LABELAUDIT_BENCH_ROWS=10000,100000,1000000` for more. The end-to-end comparison with
//! the read baseline and the Python peer is `benches/compare.sh`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use labelaudit::agreement::{self, AgreementOptions};
use labelaudit::consensus::{self, ConsensusOptions, Method};
use labelaudit::ingest::{self, IngestOptions};
use labelaudit::quality::Policy;
use labelaudit::simulate::{simulate, SimConfig};

/// One coefficient computed from a dataset.
type Coefficient = fn(&labelaudit::Dataset) -> agreement::Estimate;

fn sizes() -> Vec<usize> {
    std::env::var("LABELAUDIT_BENCH_ROWS")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

/// A simulated batch written to a temporary folder: (folder guard, annotations, gold).
fn batch(rows: usize) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let sim = simulate(&SimConfig {
        items: rows / 5,
        annotators: Some((rows / 500).max(10)),
        overlap: 5,
        labels: 5,
        seed: 1,
        ..SimConfig::default()
    });
    sim.write_dir(dir.path()).expect("write batch");
    let (a, g) = (
        dir.path().join("annotations.csv"),
        dir.path().join("gold.csv"),
    );
    (dir, a, g)
}

fn benches(c: &mut Criterion) {
    for rows in sizes() {
        let (_guard, annotations, gold) = batch(rows);
        let opts = IngestOptions {
            gold_file: Some(gold.clone()),
            ..IngestOptions::default()
        };
        let files = vec![annotations.clone()];
        let loaded = ingest::load(&files, &opts).expect("load batch");
        let ds = &loaded.dataset;

        let mut g = c.benchmark_group("ingest_csv");
        g.sample_size(10);
        g.throughput(Throughput::Bytes(
            std::fs::metadata(&annotations)
                .map(|m| m.len())
                .unwrap_or(0),
        ));
        g.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |b, _| {
            b.iter(|| ingest::load(&files, &opts).expect("load"))
        });
        g.finish();

        let mut g = c.benchmark_group("agreement");
        g.sample_size(10);
        for bootstrap in [0, 1000] {
            let a = AgreementOptions {
                bootstrap,
                ..AgreementOptions::default()
            };
            g.bench_with_input(
                BenchmarkId::new(format!("bootstrap{bootstrap}"), rows),
                &rows,
                |b, _| b.iter(|| agreement::compute(ds, &a)),
            );
        }
        g.finish();

        let mut g = c.benchmark_group("coefficient");
        g.sample_size(10);
        use agreement::nominal;
        let single: [(&str, Coefficient); 5] = [
            ("percent_agreement", nominal::percent_agreement),
            ("fleiss_kappa", nominal::fleiss_kappa),
            ("conger_kappa", nominal::conger_kappa),
            ("brennan_prediger", nominal::brennan_prediger),
            ("gwet_ac1", nominal::gwet_ac1),
        ];
        for (name, f) in single {
            g.bench_with_input(BenchmarkId::new(name, rows), &rows, |b, _| b.iter(|| f(ds)));
        }
        g.bench_with_input(BenchmarkId::new("light_kappa", rows), &rows, |b, _| {
            b.iter(|| nominal::light_kappa(ds, 10))
        });
        g.bench_with_input(
            BenchmarkId::new("krippendorff_alpha_bootstrap1000", rows),
            &rows,
            |b, _| {
                b.iter(|| agreement::krippendorff_alpha(ds, labelaudit::Level::Nominal, 1000, 0))
            },
        );
        g.finish();

        let mut g = c.benchmark_group("consensus");
        g.sample_size(10);
        for (name, method) in [("dawid_skene", Method::DawidSkene), ("mace", Method::Mace)] {
            let o = ConsensusOptions {
                method,
                use_gold: true,
                ..ConsensusOptions::default()
            };
            g.bench_with_input(BenchmarkId::new(name, rows), &rows, |b, _| {
                b.iter(|| consensus::infer(ds, &o))
            });
        }
        g.finish();

        let mut g = c.benchmark_group("audit");
        g.sample_size(10);
        let policy = Policy::default();
        g.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |b, _| {
            b.iter(|| {
                labelaudit::run::audit(
                    &loaded,
                    &AgreementOptions::default(),
                    &labelaudit::run::ModelSpec::default(),
                    &policy,
                    &labelaudit::progress::Progress::hidden(),
                )
            })
        });
        g.finish();
    }
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);

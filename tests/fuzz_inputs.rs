//! Fuzz-style robustness harness on stable Rust (libFuzzer/cargo-fuzz is not used: see
//! `docs/robustness.md`). Every fixture is mutated byte-wise with a seeded RNG and fed through
//! the whole pipeline in-process: ingest (under a random `--from`, `--on-invalid`, level and
//! record limit), agreement, and both renderers. The properties:
//!
//! - nothing panics (a panic is caught, the input saved under `target/fuzz-crashes/`, and the
//!   test fails naming seed and iteration, so it can be replayed and made a fixture);
//! - a failure is a clean `Error`: data and I/O errors name the file they are about.
//!
//! `fuzz_fixtures_quick` runs in the normal suite for a few seconds; `fuzz_fixtures_long`
//! (`cargo test --test integration fuzz_fixtures_long -- --ignored`) runs for
//! `LABELAUDIT_FUZZ_SECS` seconds (default 300).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use labelaudit::agreement::{compute, AgreementOptions};
use labelaudit::ingest::{load, Format, IngestOptions, OnInvalid};
use labelaudit::report::{self, InputSummary, Report};
use labelaudit::{Error, Level};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FORMATS: [Option<Format>; 11] = [
    None,
    Some(Format::Csv),
    Some(Format::Tsv),
    Some(Format::Jsonl),
    Some(Format::LabelStudio),
    Some(Format::Prodigy),
    Some(Format::Mturk),
    Some(Format::Toloka),
    Some(Format::SagemakerGt),
    Some(Format::Labelbox),
    Some(Format::Doccano),
];

/// Bytes that matter to the parsers: delimiters, quotes, brackets, line ends, NUL, bad UTF-8.
const SPECIAL: &[u8] = b",;\t\"'\n\r\0{}[]:\\ -.0123456789eE\xff\xc3\xe2\x80";

/// Every fixture file (not scripts or docs): the seed corpus.
pub fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if !matches!(p.extension().and_then(|e| e.to_str()), Some("py" | "md")) {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut paths,
    );
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Apply 1 to 4 random mutations to `bytes`; `other` is another corpus file for splicing.
fn mutate(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..=len)
        };
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            1 => bytes.insert(at, SPECIAL[rng.random_range(0..SPECIAL.len())]),
            2 if len > 0 => {
                let i = rng.random_range(0..len);
                bytes[i] = SPECIAL[rng.random_range(0..SPECIAL.len())];
            }
            3 if at < len => {
                let end = (at + rng.random_range(1..64)).min(len);
                bytes.drain(at..end);
            }
            4 if at < len => {
                let end = (at + rng.random_range(1..256)).min(len);
                let chunk = bytes[at..end].to_vec();
                let to = rng.random_range(0..=len);
                bytes.splice(to..to, chunk);
            }
            5 => bytes.truncate(at),
            6 if !other.is_empty() => {
                let s = rng.random_range(0..other.len());
                let e = (s + rng.random_range(1..512)).min(other.len());
                bytes.splice(at..at, other[s..e].iter().copied());
            }
            7 => {
                let big: &[&[u8]] = &[b"1e999", b"-0", b"99999999999999999999", b"NaN", b"null"];
                bytes.splice(at..at, big[rng.random_range(0..big.len())].iter().copied());
            }
            _ => {
                let b = SPECIAL[rng.random_range(0..SPECIAL.len())];
                let n = rng.random_range(1..2048);
                bytes.splice(at..at, std::iter::repeat_n(b, n));
            }
        }
    }
}

/// Run the whole pipeline on one input: `Ok(true)` when it loaded, `Ok(false)` for a clean
/// error (a correct outcome), `Err` for a property violation.
fn check_one(path: &Path, opts: &IngestOptions) -> Result<bool, String> {
    match load(&[path.to_path_buf()], opts) {
        Ok(loaded) => {
            let options = AgreementOptions {
                level: opts.level,
                min_shared: 2,
                bootstrap: 5,
                seed: 1,
            };
            let r = Report::new(
                InputSummary::from_loaded(&loaded),
                compute(&loaded.dataset, &options),
            );
            let mut out = Vec::new();
            report::export::json::render(&r, &mut out).map_err(|e| e.to_string())?;
            report::table::render(&r, &mut out).map_err(|e| e.to_string())?;
            Ok(true)
        }
        Err(Error::Usage(_) | Error::Invalid(_)) => Ok(false),
        Err(e @ (Error::Data { .. } | Error::Io { .. })) => {
            let msg = e.to_string();
            if msg.starts_with(&path.display().to_string()) && !msg.contains('\n') {
                Ok(false)
            } else {
                Err(format!("error not located on one line: {msg}"))
            }
        }
    }
}

/// Statistics of one run, for `docs/robustness.md`.
#[derive(Debug, Default)]
pub struct FuzzStats {
    pub executions: u64,
    pub ok: u64,
    pub errors: u64,
}

/// Mutate and check until `budget` runs out or `max_iters` executions; panics (with the
/// saved input's path) on the first property violation.
pub fn fuzz(seed: u64, budget: Duration, max_iters: u64) -> FuzzStats {
    let corpus = corpus();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut stats = FuzzStats::default();
    while start.elapsed() < budget && stats.executions < max_iters {
        let iteration = stats.executions;
        let (seed_path, seed_bytes) = &corpus[rng.random_range(0..corpus.len())];
        let other = &corpus[rng.random_range(0..corpus.len())].1;
        let mut bytes = seed_bytes.clone();
        mutate(&mut rng, &mut bytes, other);
        // The file name (extension, `doccano` user name) is part of what detection sees.
        let path = dir.path().join(seed_path.file_name().unwrap());
        std::fs::write(&path, &bytes).unwrap();
        let opts = IngestOptions {
            // Mostly detected (deep paths of the right reader), sometimes a forced wrong one.
            format: if rng.random_bool(0.6) {
                None
            } else {
                FORMATS[rng.random_range(0..FORMATS.len())]
            },
            on_invalid: if rng.random_bool(0.5) {
                OnInvalid::Skip
            } else {
                OnInvalid::Error
            },
            level: [
                Level::Nominal,
                Level::Ordinal,
                Level::Interval,
                Level::Ratio,
            ][rng.random_range(0..4)],
            max_record_bytes: if rng.random_bool(0.2) { 64 } else { 1 << 20 },
            ..IngestOptions::default()
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| check_one(&path, &opts)));
        stats.executions += 1;
        let failure = match outcome {
            Ok(Ok(true)) => {
                stats.ok += 1;
                None
            }
            Ok(Ok(false)) => {
                stats.errors += 1;
                None
            }
            Ok(Err(violation)) => Some(violation),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(failure) = failure {
            let crashes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
            std::fs::create_dir_all(&crashes).unwrap();
            let saved = crashes.join(format!(
                "seed{seed}-iter{iteration}-{}",
                seed_path.file_name().unwrap().to_string_lossy()
            ));
            std::fs::write(&saved, &bytes).unwrap();
            panic!(
                "{failure}\n  seed {seed}, iteration {iteration}, from {}, options {opts:?}\n  input saved to {}",
                seed_path.display(),
                saved.display()
            );
        }
    }
    stats
}

#[test]
fn fuzz_fixtures_quick() {
    let stats = fuzz(20261127, Duration::from_secs(3), 3_000);
    eprintln!("fuzz quick: {stats:?}");
    assert!(stats.executions > 50, "{stats:?}");
}

#[test]
#[ignore = "long fuzz run: LABELAUDIT_FUZZ_SECS (default 300) and LABELAUDIT_FUZZ_SEED"]
fn fuzz_fixtures_long() {
    let secs = std::env::var("LABELAUDIT_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let seed = std::env::var("LABELAUDIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let stats = fuzz(seed, Duration::from_secs(secs), u64::MAX);
    eprintln!("fuzz long (seed {seed}, {secs} s): {stats:?}");
}

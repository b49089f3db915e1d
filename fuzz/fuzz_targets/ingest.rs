//! libFuzzer target: the first two bytes choose the file name (which guides detection) and
//! the options; the rest is the export. Loads in memory, then computes agreement and renders
//! both reports. Properties: no panic; errors are one line that names the file.
#![no_main]

use std::path::Path;

use labelaudit::agreement::{compute, AgreementOptions};
use labelaudit::ingest::{load_bytes, Format, IngestOptions, OnInvalid};
use labelaudit::report::{self, InputSummary, Report};
use labelaudit::{Error, Level};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "x.csv",
    "x.tsv",
    "x.jsonl",
    "x.json",
    "alex.jsonl",
    "x.ndjson",
    "x.txt",
    "response.json",
];
const FORMATS: [Option<Format>; 12] = [
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
    None,
];
const LEVELS: [Level; 4] = [
    Level::Nominal,
    Level::Ordinal,
    Level::Interval,
    Level::Ratio,
];

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let name = Path::new(NAMES[(*a as usize) % NAMES.len()]);
    let opts = IngestOptions {
        format: FORMATS[(*b as usize) % FORMATS.len()],
        level: LEVELS[((*a >> 4) as usize) % LEVELS.len()],
        on_invalid: if b & 0x80 != 0 {
            OnInvalid::Skip
        } else {
            OnInvalid::Error
        },
        max_record_bytes: if b & 0x40 != 0 { 64 } else { 1 << 20 },
        ..IngestOptions::default()
    };
    match load_bytes(name, rest, &opts) {
        Ok(loaded) => {
            let options = AgreementOptions {
                level: opts.level,
                min_shared: 2,
                bootstrap: 2,
                seed: 0,
            };
            let r = Report::new(
                InputSummary::from_loaded(&loaded),
                compute(&loaded.dataset, &options),
            );
            let mut out = Vec::new();
            report::json::render(&r, &mut out).unwrap();
            report::table::render(&r, &mut out).unwrap();
        }
        Err(e @ (Error::Data { .. } | Error::Io { .. })) => {
            let msg = e.to_string();
            assert!(msg.starts_with(name.to_str().unwrap()), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        Err(_) => {}
    }
});

//! Parallel reading of the canonical long form (CSV, TSV, JSONL) for large files.
//!
//! The data after the header is cut into chunks of about `CHUNK_BYTES` right after a line
//! break, so every chunk starts at a record. Each chunk is read by the ordinary sequential
//! reader (`delimited::read` with the header line put in front, or `jsonl::read`) into its
//! own `RecordSink`, in parallel with rayon; the chunks' builders are then appended in file
//! order. Appending keeps input order and ids are canonicalised when the dataset is built,
//! so the result is the one the sequential reader gives, for any thread count.
//!
//! Whenever this path might differ, it steps aside and the caller reads sequentially:
//! small files; a CSV whose data contains a double quote (a quoted field may hold a line
//! break, so a line break is not a safe cut); rows carrying gold labels (their first-wins
//! conflict rule is order-sensitive across chunks); and any error in any chunk, so errors
//! are reported by the sequential reader with the file and the line, exactly as before.

use std::path::Path;

use rayon::prelude::*;

use super::{delimited, jsonl, Format, IngestOptions, RecordSink};

/// Target chunk size.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// Read `bytes` in parallel into `sink`; the number of data records, or `None` when the
/// caller must read the file sequentially (then `sink` is untouched).
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Option<u64> {
    read_chunked(path, bytes, format, opts, sink, CHUNK_BYTES)
}

/// [`read`] with a chosen chunk size (tests use tiny chunks).
pub(crate) fn read_chunked(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
    chunk_bytes: usize,
) -> Option<u64> {
    let chunk_bytes = chunk_bytes.max(1);
    if bytes.len() < 2 * chunk_bytes {
        return None;
    }
    let (header, data) = match format {
        Format::Csv | Format::Tsv => {
            let end = bytes.iter().position(|&b| b == b'\n')? + 1;
            let data = &bytes[end..];
            if format == Format::Csv && data.contains(&b'"') {
                return None;
            }
            let header = delimited::header(path, &bytes[..end], format, opts).ok()?;
            (Some(header), data)
        }
        Format::Jsonl => (None, bytes),
        _ => return None,
    };
    let chunks = split_at_lines(data, chunk_bytes);
    // Chunks are read a few per thread at a time and appended as they finish, so only a
    // bounded number of chunk builders is alive at once.
    let batch = rayon::current_num_threads().max(1) * 2;
    let mut acc: Option<(RecordSink<'_>, u64)> = None;
    for group in chunks.chunks(batch) {
        let read: Vec<Option<(RecordSink<'_>, u64)>> = group
            .par_iter()
            .map(|chunk| read_chunk(path, header.as_ref(), chunk, opts))
            .collect();
        for part in read {
            let (part, rows) = part?;
            // Gold rows, label sets and spans are merged by the sequential reader only.
            if part.builder.has_gold() || !part.gold.is_empty() || part.builder.has_payload() {
                return None;
            }
            match acc.as_mut() {
                None => acc = Some((part, rows)),
                Some((into, total)) => {
                    absorb(into, part);
                    *total += rows;
                }
            }
        }
    }
    // The caller's sink is only touched once every chunk has been read.
    let (part, rows) = acc?;
    absorb(sink, part);
    Some(rows)
}

/// Append `part`'s rows and skip counts to `into` (`part` was read after `into`).
fn absorb(into: &mut RecordSink<'_>, part: RecordSink<'_>) {
    if into.builder.is_empty() {
        // The first input: take the builder as it is rather than re-interning every name
        // (which would hold two copies of every name at the peak).
        into.builder = part.builder;
    } else {
        into.builder.append(part.builder);
    }
    for (reason, n) in part.skipped_by_reason {
        *into.skipped_by_reason.entry(reason).or_insert(0) += n;
    }
    into.hygiene.absorb(part.hygiene);
    into.accepted += part.accepted;
}

/// Read one chunk with the sequential reader; `None` on any error.
fn read_chunk<'o>(
    path: &Path,
    header: Option<&delimited::Header>,
    chunk: &[u8],
    opts: &'o IngestOptions,
) -> Option<(RecordSink<'o>, u64)> {
    let mut sink = RecordSink::new(opts);
    let rows = match header {
        Some(header) => delimited::read_body(path, chunk, header, &mut sink).ok()?,
        None => jsonl::read(path, chunk, &mut sink).ok()?,
    };
    // A record set aside (`--on-invalid skip`) would carry a line number relative to the
    // chunk: let the sequential reader locate it instead.
    if !sink.invalid.is_empty() {
        return None;
    }
    Some((sink, rows))
}

/// Cut `data` into pieces of about `size` bytes, each ending right after a `\n` (the last
/// one at the end of the data).
fn split_at_lines(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let target = (start + size).min(data.len());
        let end = match data[target..].iter().position(|&b| b == b'\n') {
            Some(i) => target + i + 1,
            None => data.len(),
        };
        out.push(&data[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The dataset and skip counts the sequential reader gives, as comparable text.
    fn sequential(bytes: &[u8], format: Format, opts: &IngestOptions) -> Option<String> {
        let mut sink = RecordSink::new(opts);
        let path = Path::new("test");
        let rows = match format {
            Format::Jsonl => jsonl::read(path, bytes, &mut sink).ok()?,
            _ => delimited::read(path, bytes, format, opts, &mut sink).ok()?,
        };
        let ds = sink.builder.build(None).ok()?;
        Some(format!("{rows} {ds:?} {:?}", sink.skipped_by_reason))
    }

    fn chunked(
        bytes: &[u8],
        format: Format,
        opts: &IngestOptions,
        chunk: usize,
        threads: usize,
    ) -> Option<String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?;
        pool.install(|| {
            let mut sink = RecordSink::new(opts);
            let rows = read_chunked(Path::new("test"), bytes, format, opts, &mut sink, chunk)?;
            let ds = sink.builder.build(None).ok()?;
            Some(format!("{rows} {ds:?} {:?}", sink.skipped_by_reason))
        })
    }

    /// Random canonical rows: duplicates, skips (empty labels and a status column),
    /// numeric and text ids, CRLF line ends, blank lines; as CSV, TSV and JSONL.
    fn random_batch(seed: u64, rows: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut csv = b"item,annotator,label,duration_s,submitted_at,status\n".to_vec();
        let mut tsv = b"item\tannotator\tlabel\tduration_s\tsubmitted_at\tstatus\n".to_vec();
        let mut jsonl = Vec::new();
        for _ in 0..rows {
            let item = if rng.random::<bool>() {
                format!("{}", rng.random_range(0..200))
            } else {
                format!("it{}", rng.random_range(0..200))
            };
            let annotator = format!("w{}", rng.random_range(0..30));
            let label = match rng.random_range(0..10) {
                0 => String::new(),
                l => format!("L{}", l % 4),
            };
            let duration = format!("{:.2}", rng.random::<f64>() * 30.0);
            let at = format!(
                "2026-01-0{}T10:{:02}:00Z",
                rng.random_range(1..9),
                rng.random_range(0..60)
            );
            let status = ["", "", "", "submitted", "skipped", "rejected"][rng.random_range(0..6)];
            let end = if rng.random_range(0..5) == 0 {
                "\r\n"
            } else {
                "\n"
            };
            csv.extend(format!("{item},{annotator},{label},{duration},{at},{status}{end}").bytes());
            tsv.extend(
                format!("{item}\t{annotator}\t{label}\t{duration}\t{at}\t{status}{end}").bytes(),
            );
            jsonl.extend(
                format!(
                    "{{\"item\":\"{item}\",\"annotator\":\"{annotator}\",\"label\":\"{label}\",\
                     \"duration_s\":{duration},\"submitted_at\":\"{at}\",\"status\":\"{status}\"}}{end}"
                )
                .bytes(),
            );
            if rng.random_range(0..50) == 0 {
                csv.extend(b"\n");
                jsonl.extend(b"\n");
            }
        }
        (csv, tsv, jsonl)
    }

    #[test]
    fn chunked_reading_equals_sequential_on_random_batches() {
        let opts = IngestOptions::default();
        for seed in 0..6 {
            let (csv, tsv, jsonl) = random_batch(seed, 2000);
            for (bytes, format) in [
                (&csv, Format::Csv),
                (&tsv, Format::Tsv),
                (&jsonl, Format::Jsonl),
            ] {
                let want = sequential(bytes, format, &opts);
                assert!(want.is_some(), "{format:?}");
                for chunk in [1, 7, 100, 4096] {
                    for threads in [1, 3] {
                        assert_eq!(
                            chunked(bytes, format, &opts, chunk, threads),
                            want,
                            "{format:?} seed {seed} chunk {chunk} threads {threads}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn chunked_reading_equals_sequential_on_fixtures() {
        let opts = IngestOptions::default();
        for (file, format) in [
            ("fixtures/example/annotations.csv", Format::Csv),
            ("fixtures/formats/canonical.csv", Format::Csv),
        ] {
            let bytes = std::fs::read(file).unwrap_or_default();
            let want = sequential(&bytes, format, &opts);
            for chunk in [1, 64, 1000] {
                let got = chunked(&bytes, format, &opts, chunk, 2);
                // Steps aside (None) only where the sequential reader must decide.
                if got.is_some() {
                    assert_eq!(got, want, "{file} chunk {chunk}");
                }
            }
        }
        let example = std::fs::read("fixtures/example/annotations.csv").unwrap_or_default();
        assert!(chunked(&example, Format::Csv, &opts, 1000, 2).is_some());
    }

    #[test]
    fn steps_aside_for_quotes_gold_and_errors() {
        let opts = IngestOptions::default();
        let mut quoted = b"item,annotator,label\n".to_vec();
        let mut gold = b"item,annotator,label,gold\n".to_vec();
        let mut bad = b"item,annotator,label\n".to_vec();
        for i in 0..100 {
            quoted.extend(format!("{i},a,\"x\"\n").bytes());
            gold.extend(format!("{i},a,x,x\n").bytes());
            bad.extend(format!("{i},a,x\n").bytes());
        }
        bad.extend(b"7,a\n");
        for bytes in [&quoted, &gold, &bad] {
            let mut sink = RecordSink::new(&opts);
            let got = read_chunked(Path::new("t"), bytes, Format::Csv, &opts, &mut sink, 16);
            assert_eq!(got, None);
            assert_eq!(
                sink.builder.build(None).map(|d| d.n_annotations()).ok(),
                Some(0)
            );
        }
    }

    #[test]
    fn cuts_end_right_after_line_breaks() {
        let data = b"ab\ncd\nef\n";
        assert_eq!(
            split_at_lines(data, 1),
            vec![&b"ab\n"[..], b"cd\n", b"ef\n"]
        );
        assert_eq!(split_at_lines(data, 4), vec![&b"ab\ncd\n"[..], b"ef\n"]);
        assert_eq!(split_at_lines(b"ab", 1), vec![&b"ab"[..]]);
    }
}

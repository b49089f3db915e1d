//! Parallel reading of the canonical long form (CSV, TSV, JSONL) and of the platform
//! exports read row by row (Toloka's results TSV, MTurk's batch results CSV) for large
//! inputs.
//!
//! The input is read as a stream of pieces of about `PIECE_BYTES`, each cut right after a
//! record, so every piece starts at a record. Three stages run at once, with no barrier
//! between them: one thread reads the pieces in file order into a few reused buffers (fresh
//! memory as large as the file would cost a page fault per 4 KiB) and hashes them; the
//! rayon threads read each piece as it comes with the ordinary sequential reader
//! (`delimited::read_body` with the parsed header, `jsonl::read`, or the platform's reader
//! with the header line put in front; a CSV or TSV piece that quotes as RFC 4180 says is
//! split by `delimited::read_plain_body`) into its own `RecordSink`; a third thread
//! appends the pieces' builders in file order and hands their buffers back. Appending keeps input order and ids are canonicalised when the dataset is
//! built, so the result is the one the sequential reader gives, for any thread count.
//!
//! In a CSV with quotes a line break inside a quoted field is not a cut: cuts follow the
//! quote parity (`last_record_end`), and each piece is checked to quote strictly.
//!
//! Whenever this path might differ, it steps aside and the caller reads the whole input
//! sequentially: small inputs; a CSV with loose quoting (a quote inside an unquoted field),
//! where parity does not say where records end; a gold label that differs from an earlier
//! piece's for the same item (an error, or a skipped row, at its line); and any error in
//! any piece, so errors are reported by the sequential reader with the file and the line,
//! exactly as before. Label sets, span lists and item texts are appended with their rows.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{delimited, detect, jsonl, mturk, toloka, Format, IngestOptions, RecordSink};
use crate::dataset::KnownNames;

/// Target piece size.
pub(crate) const PIECE_BYTES: usize = 4 << 20;

/// The most annotators shared with pieces as known (a snapshot is a copy of them).
const KNOWN_MAX: usize = 1 << 18;

/// The least of a file read before its format is detected from it (a header line or first
/// record is far shorter).
const START_BYTES: usize = 64 << 10;

/// Read `bytes` in parallel into `sink`; the number of data records, or `None` when the
/// caller must read the input sequentially (then `sink` is untouched).
pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Option<u64> {
    read_in_pieces(path, bytes, format, opts, sink, PIECE_BYTES)
}

/// [`read`] with a chosen piece size (tests use tiny pieces).
pub(crate) fn read_in_pieces(
    path: &Path,
    bytes: &[u8],
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
    piece_bytes: usize,
) -> Option<u64> {
    let mut rest = bytes;
    let (first, at_end) = first_window(&mut rest, piece_bytes, 0)?;
    let input = Input {
        rest,
        first,
        at_end,
    };
    read_pieces(path, input, format, opts, sink, piece_bytes, None)
}

/// What [`stream_file`] did.
pub(crate) enum Streaming {
    /// The file was read into the sink.
    Done(Streamed),
    /// Not a large regular file in a canonical format (or standard input): read it whole.
    NotStreamable,
    /// Something in the file needs the sequential reader (the sink is untouched).
    NeedsSequential,
}

/// A file read by [`stream_file`].
pub(crate) struct Streamed {
    pub format: Format,
    /// Data records read.
    pub rows: u64,
    /// SHA-256 of the bytes read, in hex.
    pub sha256: String,
}

/// Read the file at `path` in parallel into `sink` without holding it in memory, hashing
/// it on the way. Its format is detected from its start; I/O errors make it
/// `NotStreamable`, and the caller's ordinary read reports them.
pub(crate) fn stream_file(
    path: &Path,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
) -> Streaming {
    stream_file_in_pieces(path, opts, sink, PIECE_BYTES)
}

/// [`stream_file`] with a chosen piece size (tests use tiny pieces).
fn stream_file_in_pieces(
    path: &Path,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
    piece_bytes: usize,
) -> Streaming {
    let start = || -> Option<_> {
        if path == Path::new("-") {
            return None;
        }
        let mut file = std::fs::File::open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        let (first, at_end) = first_window(&mut file, piece_bytes, START_BYTES)?;
        let format = detect::detect_from_start(path, &first, opts.format).filter(|f| {
            matches!(
                f,
                Format::Csv | Format::Tsv | Format::Jsonl | Format::Toloka | Format::Mturk
            )
        })?;
        Some((file, first, at_end, format))
    };
    let Some((file, first, at_end, format)) = start() else {
        return Streaming::NotStreamable;
    };
    let mut digest = Sha256::new();
    let input = Input {
        rest: file,
        first,
        at_end,
    };
    let read = read_pieces(
        path,
        input,
        format,
        opts,
        sink,
        piece_bytes,
        Some(&mut digest),
    );
    match read {
        Some(rows) => Streaming::Done(Streamed {
            format,
            rows,
            sha256: super::hex(&digest.finalize()),
        }),
        None => Streaming::NeedsSequential,
    }
}

/// The first window of `input` (at least `least` bytes, and two pieces) and whether it is
/// all of the input; `None` when the input is too small to be worth reading in parallel, or
/// cannot be read.
fn first_window(
    input: &mut impl Read,
    piece_bytes: usize,
    least: usize,
) -> Option<(Vec<u8>, bool)> {
    let size = (2 * piece_bytes.max(1)).max(least);
    let mut window = Vec::with_capacity(size);
    let at_end = fill(input, &mut window, size).ok()?;
    (!at_end || window.len() >= 2 * piece_bytes.max(1)).then_some((window, at_end))
}

/// Read from `input` onto the end of `buf` until it holds `len` bytes; whether the input
/// ended first.
fn fill(input: &mut impl Read, buf: &mut Vec<u8>, len: usize) -> std::io::Result<bool> {
    let want = len.saturating_sub(buf.len());
    let got = input.by_ref().take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// Read `more` bytes from `input` onto the end of `buf`; whether the input ended first.
fn grow(input: &mut impl Read, buf: &mut Vec<u8>, more: usize) -> Option<bool> {
    fill(input, buf, buf.len() + more).ok()
}

/// An input being read: what is left of it, and its first window (all of it when `at_end`).
struct Input<R> {
    rest: R,
    first: Vec<u8>,
    at_end: bool,
}

/// A piece of the input: `bytes[start..]` are whole records (`bytes[..start]` is the header
/// line, in the first piece only).
struct Piece {
    index: usize,
    bytes: Vec<u8>,
    start: usize,
}

/// A piece read into its own sink (`None`: it needs the sequential reader), with the
/// piece's buffer, to be reused once the piece is appended.
type Parsed<'o> = (usize, Option<(RecordSink<'o>, u64)>, Vec<u8>);

/// Read `input` piece by piece into `sink` (see the module comment); `digest` is fed every
/// byte.
fn read_pieces(
    path: &Path,
    input: Input<impl Read + Send>,
    format: Format,
    opts: &IngestOptions,
    sink: &mut RecordSink<'_>,
    piece_bytes: usize,
    digest: Option<&mut Sha256>,
) -> Option<u64> {
    let piece_bytes = piece_bytes.max(1);
    let Input {
        mut rest,
        first: mut window,
        mut at_end,
    } = input;
    let (body, start) = match format {
        Format::Csv | Format::Tsv | Format::Toloka | Format::Mturk => {
            let end = loop {
                if let Some(i) = memchr::memchr(b'\n', &window) {
                    break i + 1;
                }
                if at_end {
                    return None;
                }
                at_end = grow(&mut rest, &mut window, piece_bytes)?;
            };
            // A header with a line break inside quotes: rare enough to read sequentially.
            if memchr::memchr_iter(b'"', &window[..end]).count() % 2 == 1 {
                return None;
            }
            let body = match format {
                Format::Toloka | Format::Mturk => Body::Platform(format, window[..end].to_vec()),
                _ => Body::Delimited(delimited::header(path, &window[..end], format, opts).ok()?),
            };
            (body, end)
        }
        Format::Jsonl => (Body::Jsonl, 0),
        _ => return None,
    };
    let cutter = Cutter {
        rest,
        at_end,
        // RFC 4180 quoting (CSV, not TSV): a line break inside a quoted field is not a cut.
        quoting: matches!(format, Format::Csv | Format::Mturk),
        piece_bytes,
        // Pieces being read, parsed or waiting to be appended: enough to keep every thread
        // busy, few enough to bound memory.
        buffers: 2 * rayon::current_num_threads().max(1) + 2,
    };
    let failed = AtomicBool::new(false);
    // Annotators recur throughout a file: later pieces look them up in a snapshot of those
    // appended so far, rather than each interning them anew and appending them again.
    let known: Mutex<Option<Arc<KnownNames>>> = Mutex::new(None);
    let panicked: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);
    // Three stages run at once, with no barrier between them: one thread reads, cuts and
    // hashes pieces in file order; the rayon threads parse them as they come; another
    // thread appends them in file order and hands their buffers back to the reader.
    let (cut, appended) = std::thread::scope(|scope| {
        // The channels live in this closure: should parsing panic, unwinding drops them,
        // which ends both threads, so the scope can join them and go on unwinding.
        let (piece_tx, piece_rx) = mpsc::channel::<Piece>();
        let (parsed_tx, parsed_rx) = mpsc::channel::<Parsed<'_>>();
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let failed = &failed;
        let reader = scope.spawn(move || {
            let done = cutter.run(window, start, digest, &piece_tx, &free_rx, failed);
            if done.is_none() {
                failed.store(true, Ordering::Relaxed);
            }
            done
        });
        let known_ref = &known;
        let appender = scope.spawn(move || append_in_order(parsed_rx, &free_tx, known_ref, failed));
        piece_rx.into_iter().par_bridge().for_each(|piece| {
            let part = if failed.load(Ordering::Relaxed) {
                None
            } else {
                let known = known.lock().ok().and_then(|k| k.clone());
                let records = &piece.bytes[piece.start..];
                // A panic here would leave the other stages waiting for this piece: it is
                // caught, stops them like a failed piece, and goes on after the scope.
                let read = || {
                    #[cfg(test)]
                    if records.starts_with(tests::PANIC_MARKER) {
                        panic!("injected by a test");
                    }
                    read_piece(path, &body, records, opts, known.as_ref())
                };
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(
                    |panic| {
                        failed.store(true, Ordering::Relaxed);
                        if let Ok(mut first) = panicked.lock() {
                            first.get_or_insert(panic);
                        }
                        None
                    },
                )
            };
            // The appender has stopped only if a piece failed; then nothing is used.
            let _ = parsed_tx.send((piece.index, part, piece.bytes));
        });
        drop(parsed_tx);
        (joined(reader), joined(appender))
    });
    if let Some(panic) = panicked.into_inner().ok().flatten() {
        std::panic::resume_unwind(panic);
    }
    cut?;
    // The caller's sink is only touched once every piece has been read.
    let (part, rows) = appended?;
    absorb(sink, part);
    Some(rows)
}

/// What a scoped thread returned (its panic, if any, goes on unwinding here).
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The reading side of [`read_pieces`].
struct Cutter<R> {
    rest: R,
    at_end: bool,
    quoting: bool,
    piece_bytes: usize,
    /// How many buffers may be in use at once.
    buffers: usize,
}

impl<R: Read> Cutter<R> {
    /// Cut the input, from `buf[start..]` on, into pieces of about `piece_bytes` that end
    /// after a record, hash them in file order and send them on; a buffer is reused once
    /// `free` gives it back. `None` on a read error, or when the appender has stopped.
    fn run(
        mut self,
        mut buf: Vec<u8>,
        mut start: usize,
        mut digest: Option<&mut Sha256>,
        pieces: &mpsc::Sender<Piece>,
        free: &mpsc::Receiver<Vec<u8>>,
        failed: &AtomicBool,
    ) -> Option<()> {
        let mut allocated = 1;
        for index in 0.. {
            // Grow the buffer until it holds a whole record (or all of the input).
            let cut = loop {
                if self.at_end {
                    break buf.len();
                }
                if let Some(end) = last_record_end(&buf[start..], self.quoting) {
                    break start + end;
                }
                self.at_end = grow(&mut self.rest, &mut buf, self.piece_bytes)?;
            };
            if let Some(digest) = digest.as_mut() {
                digest.update(&buf[..cut]);
            }
            // Reused buffers: fresh memory for every piece would cost a page fault per 4 KiB.
            let mut next = if allocated < self.buffers {
                allocated += 1;
                Vec::with_capacity(self.piece_bytes + self.piece_bytes / 4)
            } else {
                free.recv().ok()?
            };
            next.clear();
            next.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
            if failed.load(Ordering::Relaxed) {
                return None;
            }
            let piece = Piece {
                index,
                bytes: buf,
                start,
            };
            pieces.send(piece).ok()?;
            if self.at_end {
                break;
            }
            self.at_end = fill(&mut self.rest, &mut next, self.piece_bytes).ok()?;
            (buf, start) = (next, 0);
        }
        Some(())
    }
}

/// The appending side of [`read_pieces`]: append parsed pieces in file order, give their
/// buffers back, and share a snapshot of the annotators seen so far when it has grown.
fn append_in_order<'o>(
    parsed: mpsc::Receiver<Parsed<'o>>,
    free: &mpsc::Sender<Vec<u8>>,
    known: &Mutex<Option<Arc<KnownNames>>>,
    failed: &AtomicBool,
) -> Option<(RecordSink<'o>, u64)> {
    let mut acc: Option<(RecordSink<'o>, u64)> = None;
    let mut early = BTreeMap::new();
    let (mut next, mut shared) = (0, 0usize);
    for (index, part, bytes) in parsed {
        early.insert(index, (part, bytes));
        while let Some((part, bytes)) = early.remove(&next) {
            next += 1;
            if append_part(&mut acc, part).is_none() {
                failed.store(true, Ordering::Relaxed);
                return None;
            }
            // The reader may be waiting for it; it stops on its own once this thread has.
            let _ = free.send(bytes);
            let Some((acc, _)) = acc.as_ref() else {
                continue;
            };
            let have = acc.builder.annotator_count();
            if have <= KNOWN_MAX && have > shared.saturating_add(shared / 4) {
                let snapshot = acc.builder.annotator_snapshot();
                shared = snapshot.as_ref().map_or(usize::MAX, |k| k.len());
                if let Ok(mut known) = known.lock() {
                    *known = snapshot;
                }
            }
        }
    }
    acc
}

/// The end of the last whole record in `data` (just after its line break), if any. With
/// `quoting`, `data` must start outside quotes, and a line break with an odd number of
/// quotes before it (inside a quoted field) ends no record.
fn last_record_end(data: &[u8], quoting: bool) -> Option<usize> {
    if !quoting {
        return memchr::memrchr(b'\n', data).map(|i| i + 1);
    }
    let mut quotes_before = memchr::memchr_iter(b'"', data).count();
    for i in memchr::memrchr2_iter(b'"', b'\n', data) {
        if data[i] == b'"' {
            quotes_before -= 1;
        } else if quotes_before % 2 == 0 {
            return Some(i + 1);
        }
    }
    None
}

/// Append a piece's result to `acc`, in file order; `None` when the piece failed or needs
/// the sequential reader.
fn append_part<'o>(
    acc: &mut Option<(RecordSink<'o>, u64)>,
    part: Option<(RecordSink<'o>, u64)>,
) -> Option<()> {
    let (part, rows) = part?;
    // A gold label that differs from an earlier piece's for the same item is an error at
    // its line (or, under `--on-invalid skip`, a skipped row): the sequential reader says
    // which. Gold labels that agree merge in any order.
    if let Some((into, _)) = acc.as_ref() {
        let conflict = part
            .gold
            .iter()
            .any(|(item, label)| into.gold.get(item).is_some_and(|first| first != label));
        if conflict {
            return None;
        }
    }
    match acc.as_mut() {
        None => *acc = Some((part, rows)),
        Some((into, total)) => {
            absorb(into, part);
            *total += rows;
        }
    }
    Some(())
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
    for (item, label) in part.gold {
        into.gold.entry(item).or_insert(label);
    }
    into.hygiene.absorb(part.hygiene);
    into.accepted += part.accepted;
}

/// How the pieces of a file are read.
enum Body {
    /// Canonical CSV or TSV, with its parsed header line.
    Delimited(delimited::Header),
    /// Canonical JSONL.
    Jsonl,
    /// A platform export read row by row (Toloka's TSV, MTurk's comma-separated CSV): the
    /// platform's reader, on the header line followed by the piece.
    Platform(Format, Vec<u8>),
}

/// Read one piece with the sequential reader; `None` on any error. `known`: annotators
/// of the builder the piece's will be appended to.
fn read_piece<'o>(
    path: &Path,
    body: &Body,
    piece: &[u8],
    opts: &'o IngestOptions,
    known: Option<&Arc<KnownNames>>,
) -> Option<(RecordSink<'o>, u64)> {
    let new_sink = || {
        let mut sink = RecordSink::new(opts);
        // Room for records of 40 bytes or more, rather than growing (and copying) the
        // annotations about a dozen times per piece.
        sink.builder.reserve(piece.len() / 40);
        sink.builder.set_lazy_items();
        if let Some(known) = known {
            sink.builder.set_known_annotators(Arc::clone(known));
        }
        sink
    };
    let mut sink = new_sink();
    let rows = match body {
        Body::Delimited(header) => {
            if let Some(rows) = delimited::read_plain_body(path, piece, header, &mut sink) {
                return Some((sink, rows));
            }
            // Quotes or anything unusual: the csv crate reads the piece, from scratch.
            sink = new_sink();
            if header.format == Format::Csv && !strictly_quoted(piece, header.delimiter) {
                return None;
            }
            delimited::read_body(path, piece, header, &mut sink).ok()?
        }
        Body::Jsonl => jsonl::read(path, piece, &mut sink).ok()?,
        Body::Platform(format, header_line) => {
            // MTurk's reader is the csv crate's, with the delimiter found in the header.
            let strict = || strictly_quoted(piece, delimited::delimiter(header_line, Format::Csv));
            if *format == Format::Mturk && !strict() {
                return None;
            }
            let text = [header_line.as_slice(), piece].concat();
            match format {
                Format::Toloka => toloka::read(path, &text, opts, &mut sink),
                _ => mturk::read(path, &text, opts, &mut sink),
            }
            .ok()?
        }
    };
    // A record set aside (`--on-invalid skip`) would carry a line number relative to the
    // piece: let the sequential reader locate it instead.
    if !sink.invalid.is_empty() {
        return None;
    }
    Some((sink, rows))
}

/// Whether `piece`, which must start at a record, quotes as RFC 4180 says (a quote opens
/// a field, closes it, or is doubled inside it) and ends outside quotes. Then its records
/// are the ones the sequential reader finds there, and its end is a record boundary.
/// Looser quoting (`5 "inch"`, which the csv crate reads as text) makes the caller read
/// the file sequentially.
fn strictly_quoted(piece: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    if memchr::memchr(b'"', piece).is_none() {
        return true;
    }
    let mut state = State::FieldStart;
    for &b in piece {
        let end_of_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => State::Quoted,
            (State::Unquoted, b'"') => return false,
            (_, _) if end_of_field => State::FieldStart,
            (State::QuoteInQuoted, _) => return false,
            (_, _) => State::Unquoted,
        };
    }
    !matches!(state, State::Quoted)
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
            Format::Toloka => toloka::read(path, bytes, opts, &mut sink).ok()?,
            Format::Mturk => mturk::read(path, bytes, opts, &mut sink).ok()?,
            _ => delimited::read(path, bytes, format, opts, &mut sink).ok()?,
        };
        let ds = sink.builder.build(None).ok()?;
        Some(format!("{rows} {ds:?} {:?}", sink.skipped_by_reason))
    }

    fn in_pieces(
        bytes: &[u8],
        format: Format,
        opts: &IngestOptions,
        piece: usize,
        threads: usize,
    ) -> Option<String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?;
        pool.install(|| {
            let mut sink = RecordSink::new(opts);
            let rows = read_in_pieces(Path::new("test"), bytes, format, opts, &mut sink, piece)?;
            let ds = sink.builder.build(None).ok()?;
            Some(format!("{rows} {ds:?} {:?}", sink.skipped_by_reason))
        })
    }

    /// Assert that `bytes`, read in pieces of each size in `pieces` on 1 and on 3 threads,
    /// gives what the sequential reader gives, and that the latter reads it (`what` names
    /// the case in messages).
    fn assert_pieces_read_as_sequential(
        bytes: &[u8],
        format: Format,
        opts: &IngestOptions,
        pieces: &[usize],
        what: &str,
    ) {
        let want = sequential(bytes, format, opts);
        assert!(want.is_some(), "{what}: the sequential reader refused it");
        for &piece in pieces {
            for threads in [1, 3] {
                assert_eq!(
                    in_pieces(bytes, format, opts, piece, threads),
                    want,
                    "{what} piece {piece} threads {threads}"
                );
            }
        }
    }

    /// Random multi-label and span rows: a CSV whose label cells are quoted JSON lists
    /// (some empty) or plain labels; a JSONL of label lists and plain labels; and a JSONL
    /// of span lists with item texts that differ between rows (the first one counts).
    fn random_payload_batch(seed: u64, rows: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut csv = b"item,annotator,label\n".to_vec();
        let (mut sets, mut spans) = (Vec::new(), Vec::new());
        for _ in 0..rows {
            let item = format!("i{}", rng.random_range(0..150));
            let annotator = format!("w{}", rng.random_range(0..25));
            let members: Vec<String> = (0..rng.random_range(0..4))
                .map(|_| format!("\"{}\"", ["a", "b", "c", "dé"][rng.random_range(0..4)]))
                .collect();
            let list = format!("[{}]", members.join(","));
            let cell = match rng.random_range(0..6) {
                0 => "a".to_string(),
                _ => format!("\"{}\"", list.replace('"', "\"\"")),
            };
            csv.extend(format!("{item},{annotator},{cell}\n").bytes());
            let label = match rng.random_range(0..4) {
                0 => "\"a\"".to_string(),
                _ => list,
            };
            sets.extend(
                format!(
                    "{{\"item\":\"{item}\",\"annotator\":\"{annotator}\",\"label\":{label}}}\n"
                )
                .bytes(),
            );
            let list: Vec<String> = (0..rng.random_range(0..3))
                .map(|_| {
                    let start = rng.random_range(0..20);
                    let end = start + rng.random_range(0..5);
                    let label = ["P", "L", "O"][rng.random_range(0..3)];
                    format!("{{\"start\":{start},\"end\":{end},\"label\":\"{label}\"}}")
                })
                .collect();
            let text = format!("text of {item}, version {}", rng.random_range(0..3));
            spans.extend(
                format!(
                    "{{\"item\":\"{item}\",\"annotator\":\"{annotator}\",\"spans\":[{}],\"text\":\"{text}\"}}\n",
                    list.join(",")
                )
                .bytes(),
            );
        }
        (csv, sets, spans)
    }

    /// A random Toloka results TSV: items named by their `INPUT:` values (no task id),
    /// statuses that are kept or counted, training rows, empty outputs and control tasks.
    fn random_toloka(seed: u64, rows: usize) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = "INPUT:item_id\tINPUT:text\tOUTPUT:result\tGOLDEN:result\tHINT:text\t\
                       ASSIGNMENT:worker_id\tASSIGNMENT:status\tASSIGNMENT:submitted\n"
            .to_string();
        for _ in 0..rows {
            let item = rng.random_range(0..120);
            let label = ["", "pos", "neg", "neg"][rng.random_range(0..4)];
            // Control tasks: items below 10, always with the same answer.
            let golden = if item < 10 {
                ["pos", "neg"][item % 2]
            } else {
                ""
            };
            let hint = if rng.random_range(0..30) == 0 {
                "hint"
            } else {
                ""
            };
            let status = ["APPROVED", "SUBMITTED", "REJECTED", "ACCEPTED"][rng.random_range(0..4)];
            out.push_str(&format!(
                "r-{item}\ttext {item}\t{label}\t{golden}\t{hint}\tw{}\t{status}\t\
                 2024-05-02T10:{:02}:{:02}.000\n",
                rng.random_range(0..20),
                rng.random_range(0..60),
                rng.random_range(0..60)
            ));
        }
        out.into_bytes()
    }

    #[test]
    fn toloka_results_are_read_in_pieces() {
        let opts = IngestOptions::default();
        for seed in 0..4 {
            let tsv = random_toloka(seed, 1500);
            let what = format!("seed {seed}");
            assert_pieces_read_as_sequential(&tsv, Format::Toloka, &opts, &[7, 300, 4096], &what);
        }
        // A status Toloka does not have is an error at its line: the pieces step aside.
        let mut bad = random_toloka(9, 500);
        bad.extend(b"r-1\tt\tpos\t\t\tw1\tLOST\t2024-05-02T10:00:00.000\n");
        let mut sink = RecordSink::new(&opts);
        let rows = read_in_pieces(Path::new("t"), &bad, Format::Toloka, &opts, &mut sink, 300);
        assert_eq!(rows, None);
    }

    /// The MTurk fixture's assignments copied `copies` times as new HITs, some with a line
    /// break inside a quoted cell.
    fn mturk_batch(copies: usize) -> Vec<u8> {
        let fixture = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/formats/mturk_batch_results.csv"
        ))
        .unwrap();
        let (header, body) = fixture.split_at(fixture.find('\n').unwrap() + 1);
        let mut out = header.to_string();
        for c in 0..copies {
            let copy = body.replace("EXAMPLEHITID", &format!("C{c}HITID"));
            out.push_str(&match c % 3 {
                0 => copy.replace("Great battery, awful", "Great battery,\nawful"),
                _ => copy,
            });
        }
        out.into_bytes()
    }

    #[test]
    fn mturk_results_are_read_in_pieces() {
        let opts = IngestOptions::default();
        let csv = mturk_batch(40);
        assert_pieces_read_as_sequential(&csv, Format::Mturk, &opts, &[7, 300, 4096], "mturk");
    }

    #[test]
    fn label_sets_and_spans_are_read_in_pieces() {
        let opts = IngestOptions::default();
        for seed in 0..4 {
            let (csv, sets, spans) = random_payload_batch(seed, 1500);
            for (bytes, format) in [
                (&csv, Format::Csv),
                (&sets, Format::Jsonl),
                (&spans, Format::Jsonl),
            ] {
                let mut sink = RecordSink::new(&opts);
                let rows = read_in_pieces(Path::new("t"), bytes, format, &opts, &mut sink, 300);
                assert!(rows.is_some(), "{format:?} seed {seed}: stepped aside");
                let ds = sink.builder.build(None).unwrap();
                assert!(ds.label_sets.is_some() || ds.spans.is_some());
                let what = format!("{format:?} seed {seed}");
                assert_pieces_read_as_sequential(bytes, format, &opts, &[7, 300, 4096], &what);
            }
        }
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
    fn piecewise_reading_equals_sequential_on_random_batches() {
        let opts = IngestOptions::default();
        for seed in 0..6 {
            let (csv, tsv, jsonl) = random_batch(seed, 2000);
            for (bytes, format) in [
                (&csv, Format::Csv),
                (&tsv, Format::Tsv),
                (&jsonl, Format::Jsonl),
            ] {
                let what = format!("{format:?} seed {seed}");
                assert_pieces_read_as_sequential(bytes, format, &opts, &[1, 7, 100, 4096], &what);
            }
        }
    }

    /// `random_batch`'s CSV with a gold column: items whose name ends in 3 carry their gold
    /// label (from the name's length) on every row. With `conflict`, the first row after
    /// the 1500th that repeats a gold item already given (on a row that is not a skip)
    /// gives it another gold label.
    fn with_gold_column(csv: &[u8], conflict: bool) -> Vec<u8> {
        let text = std::str::from_utf8(csv).unwrap();
        let mut lines = text.split_inclusive('\n');
        let header = lines.next().unwrap().trim_end();
        let mut out = format!("{header},gold\n");
        let mut given = std::collections::HashSet::new();
        let mut conflict = conflict;
        for (n, line) in lines.enumerate() {
            let record = line.trim_end_matches(['\r', '\n']);
            if record.is_empty() {
                out.push_str(line);
                continue;
            }
            let fields: Vec<&str> = record.split(',').collect();
            let (item, status) = (fields[0], fields[fields.len() - 1]);
            let mut gold = String::new();
            if item.ends_with('3') {
                gold = format!("G{}", item.len() % 3);
                let effective = !matches!(status, "skipped" | "rejected");
                if conflict && n > 1500 && effective && given.contains(item) {
                    gold = "Gx".into();
                    conflict = false;
                }
                if effective {
                    given.insert(item.to_string());
                }
            }
            out.push_str(&format!("{record},{gold}{}", &line[record.len()..]));
        }
        assert!(!conflict, "no row to conflict");
        out.into_bytes()
    }

    #[test]
    fn gold_columns_are_read_in_pieces_unless_two_pieces_disagree() {
        let opts = IngestOptions::default();
        let skip = IngestOptions {
            on_invalid: crate::ingest::OnInvalid::Skip,
            ..IngestOptions::default()
        };
        for seed in 0..4 {
            let (csv, _, _) = random_batch(seed, 2000);
            let agreeing = with_gold_column(&csv, false);
            let mut sink = RecordSink::new(&opts);
            delimited::read(Path::new("t"), &agreeing, Format::Csv, &opts, &mut sink).unwrap();
            assert!(sink.builder.build(None).unwrap().has_gold(), "seed {seed}");
            let what = format!("seed {seed}");
            assert_pieces_read_as_sequential(&agreeing, Format::Csv, &opts, &[7, 100, 4096], &what);
            // A second gold label for an item is an error (or a skipped row) at its line:
            // the pieces step aside for the sequential reader, whatever their size.
            let conflicting = with_gold_column(&csv, true);
            assert_eq!(sequential(&conflicting, Format::Csv, &opts), None);
            assert!(sequential(&conflicting, Format::Csv, &skip).is_some());
            for piece in [7, 100, 4096] {
                for o in [&opts, &skip] {
                    let mut sink = RecordSink::new(o);
                    let rows = read_in_pieces(
                        Path::new("t"),
                        &conflicting,
                        Format::Csv,
                        o,
                        &mut sink,
                        piece,
                    );
                    assert_eq!(rows, None, "seed {seed} piece {piece}");
                }
            }
        }
    }

    /// A random canonical table with `delimiter`, its columns in a random order: non-ASCII
    /// ids (some not in NFC), padded values, empty optional cells, a missing timestamp
    /// column on odd seeds, CRLF line ends and blank lines. No quotes.
    fn random_table(seed: u64, rows: usize, delimiter: char) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut names = vec!["duration_s", "label", "annotator", "status", "item"];
        if seed % 2 == 0 {
            names.push("submitted_at");
        }
        for i in (1..names.len()).rev() {
            names.swap(i, rng.random_range(0..=i));
        }
        let mut out = names.join(&delimiter.to_string()).into_bytes();
        out.extend(b"\n");
        for _ in 0..rows {
            let cells: Vec<String> = names
                .iter()
                .map(|&name| match name {
                    "item" => {
                        ["it", "ü", "e\u{301}", " x ", "日本"][rng.random_range(0..5)].to_string()
                            + &rng.random_range(0..100).to_string()
                    }
                    "annotator" => format!("w{}", rng.random_range(0..20)),
                    "label" => ["", "L1", " L1", "Ł2", "L3 "][rng.random_range(0..5)].into(),
                    "duration_s" => match rng.random_range(0..4) {
                        0 => String::new(),
                        1 => format!(" {}", rng.random_range(0..99)),
                        _ => format!("{:.3}", rng.random::<f64>() * 50.0),
                    },
                    "status" => ["", "", "submitted", "Skipped"][rng.random_range(0..4)].into(),
                    _ => match rng.random_range(0..3) {
                        0 => String::new(),
                        _ => format!(
                            "2026-01-0{}T10:00:{:02}Z",
                            rng.random_range(1..9),
                            rng.random_range(0..60)
                        ),
                    },
                })
                .collect();
            out.extend(cells.join(&delimiter.to_string()).bytes());
            out.extend(["\n", "\r\n", "\n\n"][rng.random_range(0..3)].bytes());
        }
        out
    }

    /// `table` (from [`random_table`], so without quotes) with about half of its body's cells
    /// quoted the simple way, `"text"`.
    fn quote_some_cells(table: &[u8], seed: u64, delimiter: char) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = std::str::from_utf8(table).unwrap();
        let (header, body) = text.split_at(text.find('\n').unwrap() + 1);
        let mut out = header.to_string();
        for line in body.split_inclusive('\n') {
            let (record, end) = match line.strip_suffix("\r\n") {
                Some(record) => (record, "\r\n"),
                None => (line.strip_suffix('\n').unwrap_or(line), "\n"),
            };
            if !record.is_empty() {
                let cells: Vec<String> = record
                    .split(delimiter)
                    .map(|cell| match rng.random_bool(0.5) {
                        true => format!("\"{cell}\""),
                        false => cell.to_string(),
                    })
                    .collect();
                out.push_str(&cells.join(&delimiter.to_string()));
            }
            out.push_str(end);
        }
        out.into_bytes()
    }

    /// `table` with a free-text column `comment` added: text with delimiters, line breaks
    /// (`\n` and `\r\n`) and doubled quotes inside quotes, or plain words unquoted.
    fn with_text_column(table: &[u8], seed: u64, delimiter: char) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = std::str::from_utf8(table).unwrap();
        let (header, body) = text.split_at(text.find('\n').unwrap());
        let mut out = format!("{}{delimiter}comment", header.trim_end_matches('\r'));
        let parts = [
            "ok",
            " fine",
            &delimiter.to_string(),
            "\"\"",
            "\n",
            "\r\n",
            "é",
            "",
        ];
        for line in body.split_inclusive('\n') {
            let record = line.trim_end_matches(['\r', '\n']);
            if record.is_empty() {
                out.push_str(line);
                continue;
            }
            let n = rng.random_range(0..5);
            let comment: String = (0..n)
                .map(|_| parts[rng.random_range(0..parts.len())])
                .collect();
            let plain = !comment.contains([delimiter, '"', '\n', '\r']);
            let cell = match plain && rng.random_bool(0.5) {
                true => comment,
                false => format!("\"{comment}\""),
            };
            out.push_str(&format!(
                "{record}{delimiter}{cell}{}",
                &line[record.len()..]
            ));
        }
        out.into_bytes()
    }

    #[test]
    fn plain_bodies_read_as_the_csv_crate_reads_them() {
        let opts = IngestOptions::default();
        let read = |bytes: &[u8], format: Format, plain: bool| {
            let path = Path::new("t");
            let end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
            let header = delimited::header(path, &bytes[..end], format, &opts).unwrap();
            let mut sink = RecordSink::new(&opts);
            let rows = if plain {
                delimited::read_plain_body(path, &bytes[end..], &header, &mut sink)
            } else {
                delimited::read_body(path, &bytes[end..], &header, &mut sink).ok()
            };
            let ds = sink.builder.build(None).ok();
            let hygiene = sink.hygiene.finish();
            rows.map(|rows| format!("{rows} {ds:?} {:?} {hygiene:?}", sink.skipped_by_reason))
        };
        for seed in 0..8 {
            for (delimiter, format) in [(',', Format::Csv), (';', Format::Csv), ('\t', Format::Tsv)]
            {
                let table = random_table(seed, 1500, delimiter);
                let want = read(&table, format, false);
                assert!(want.is_some());
                assert_eq!(
                    read(&table, format, true),
                    want,
                    "seed {seed} {delimiter:?}"
                );
                assert_eq!(
                    in_pieces(&table, format, &opts, 512, 2),
                    sequential(&table, format, &opts),
                    "seed {seed} {delimiter:?}"
                );
            }
        }
        // Quoted cells are read by the plain path, as the csv crate reads them.
        for seed in 0..8 {
            for delimiter in [',', ';'] {
                let table = quote_some_cells(&random_table(seed, 1500, delimiter), seed, delimiter);
                let table = match seed % 2 {
                    0 => with_text_column(&table, seed, delimiter),
                    _ => table,
                };
                let want = read(&table, Format::Csv, false);
                assert!(want.is_some());
                assert_eq!(
                    read(&table, Format::Csv, true),
                    want,
                    "quoted, seed {seed} {delimiter:?}"
                );
                assert_eq!(
                    in_pieces(&table, Format::Csv, &opts, 512, 2),
                    sequential(&table, Format::Csv, &opts),
                    "quoted, seed {seed} {delimiter:?}"
                );
            }
        }
        for body in [
            &b"item,annotator,label\n\"a\",w,x\n"[..],
            b"item,annotator,label\n\"a\",\"w\",\"x\"\r\n\"a\",\"v\",\"\"\n",
            b"item,annotator,label\n\"a\"\"b\",w,x\n",
            b"item,annotator,label\n\"a,b\",w,x\n\n",
            b"item,annotator,label\n\",\",w,x\r\n",
            b"item,annotator,label,note\n\"a\",w,x,\"a\nb\"\r\nc,w,x,\"x\r\n\"\"y\"\"\"",
        ] {
            assert!(read(body, Format::Csv, true).is_some(), "{body:?}");
            assert_eq!(
                read(body, Format::Csv, true),
                read(body, Format::Csv, false)
            );
        }
        // What only the csv crate decides: a quote that is not RFC 4180 (text before or
        // after a quoted part, a quote inside an unquoted cell), an unclosed quote, a bare
        // `\r`, a ragged row, bad records.
        for body in [
            &b"item,annotator,label\n \"a\",w,x\n"[..],
            b"item,annotator,label\na\"b,w,x\n",
            b"item,annotator,label\n\"a\"b,w,x\n",
            b"item,annotator,label\na,w,x\n\"\n",
            b"item,annotator,label\na,w,x\rb,w,y\n",
            b"item,annotator,label\na,w,x,y\n",
            b"item,annotator,label\na,,x\n",
            b"item,annotator,label\na,w,[\"x\"]\n",
            b"item,annotator,label\na,w,\xff\n",
        ] {
            assert_eq!(read(body, Format::Csv, true), None, "{body:?}");
        }
        // TSV has no quoting: a quote is text.
        let tsv = b"item\tannotator\tlabel\n\"a\tw\tx\n";
        assert!(read(tsv, Format::Tsv, true).is_some());
        assert_eq!(read(tsv, Format::Tsv, true), read(tsv, Format::Tsv, false));
    }

    #[test]
    fn piecewise_reading_equals_sequential_on_fixtures() {
        let opts = IngestOptions::default();
        for (file, format) in [
            ("fixtures/example/annotations.csv", Format::Csv),
            ("fixtures/formats/canonical.csv", Format::Csv),
        ] {
            let bytes = std::fs::read(file).unwrap_or_default();
            let want = sequential(&bytes, format, &opts);
            for piece in [1, 64, 1000] {
                let got = in_pieces(&bytes, format, &opts, piece, 2);
                // Steps aside (None) only where the sequential reader must decide.
                if got.is_some() {
                    assert_eq!(got, want, "{file} piece {piece}");
                }
            }
        }
        let example = std::fs::read("fixtures/example/annotations.csv").unwrap_or_default();
        assert!(in_pieces(&example, Format::Csv, &opts, 1000, 2).is_some());
    }

    /// Random CSV with RFC 4180 quoting: quoted ids and labels with commas and `""`, and a
    /// free-text column whose quoted values hold line breaks (CRLF too) and quotes.
    fn random_quoted(seed: u64, rows: usize) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut csv = b"item,comment,annotator,label,duration_s\n".to_vec();
        for _ in 0..rows {
            let item = match rng.random_range(0..3) {
                0 => format!("{}", rng.random_range(0..100)),
                1 => format!("\"it \"\"{}\"\", b\"", rng.random_range(0..100)),
                _ => format!("\"it{}\"", rng.random_range(0..100)),
            };
            let comment = match rng.random_range(0..4) {
                0 => String::new(),
                1 => "\"\"".to_string(),
                2 => "\"two\nlines, \"\"quoted\"\"\r\nthree\n\"".to_string(),
                _ => "\"\"\"\"\"\n\"".to_string(),
            };
            let annotator = format!("w{}", rng.random_range(0..20));
            let label = ["\"L1, a\"", "L2", "\"\"", "\"L\"\"3\"\"\""][rng.random_range(0..4)];
            let end = ["\n", "\r\n"][rng.random_range(0..2)];
            let duration = rng.random_range(0..30);
            csv.extend(format!("{item},{comment},{annotator},{label},{duration}{end}").bytes());
        }
        csv
    }

    #[test]
    fn quoted_csv_is_cut_outside_quotes() {
        let opts = IngestOptions::default();
        for seed in 0..6 {
            let csv = random_quoted(seed, 1500);
            let what = format!("seed {seed}");
            assert_pieces_read_as_sequential(&csv, Format::Csv, &opts, &[1, 7, 100, 4096], &what);
        }
    }

    #[test]
    fn streamed_files_read_and_hash_as_when_read_whole() {
        let opts = IngestOptions::default();
        let dir = tempfile::tempdir().unwrap();
        for seed in 0..3 {
            let (csv, tsv, jsonl) = random_batch(seed, 2000);
            let quoted = random_quoted(seed, 1500);
            for (bytes, name, format) in [
                (&csv, "a.csv", Format::Csv),
                (&tsv, "a.tsv", Format::Tsv),
                (&jsonl, "a.jsonl", Format::Jsonl),
                (&quoted, "q.csv", Format::Csv),
            ] {
                let path = dir.path().join(name);
                std::fs::write(&path, bytes).unwrap();
                let want = sequential(bytes, format, &opts);
                assert!(want.is_some());
                for piece in [1, 100, 4096] {
                    let mut sink = RecordSink::new(&opts);
                    let Streaming::Done(read) =
                        stream_file_in_pieces(&path, &opts, &mut sink, piece)
                    else {
                        panic!("{name} seed {seed} piece {piece} not streamed");
                    };
                    assert_eq!(read.format, format);
                    assert_eq!(read.sha256, crate::ingest::sha256_hex(bytes));
                    let ds = sink.builder.build(None).ok();
                    let got =
                        ds.map(|ds| format!("{} {ds:?} {:?}", read.rows, sink.skipped_by_reason));
                    assert_eq!(got, want, "{name} seed {seed} piece {piece}");
                }
            }
        }
    }

    #[test]
    fn streaming_steps_aside_for_small_files_stdin_and_gold_conflicts() {
        let opts = IngestOptions::default();
        let dir = tempfile::tempdir().unwrap();
        let mut gold = b"item,annotator,label,gold\n".to_vec();
        for i in 0..100 {
            gold.extend(format!("{i},a,x,x\n").bytes());
        }
        gold.extend(b"7,b,x,y\n");
        let path = dir.path().join("gold.csv");
        std::fs::write(&path, &gold).unwrap();
        let mut sink = RecordSink::new(&opts);
        let outcome = |piece, path: &Path, sink: &mut RecordSink<'_>| match stream_file_in_pieces(
            path, &opts, sink, piece,
        ) {
            Streaming::Done(_) => "done",
            Streaming::NotStreamable => "not streamable",
            Streaming::NeedsSequential => "sequential",
        };
        assert_eq!(outcome(16, &path, &mut sink), "sequential");
        assert!(sink.builder.is_empty());
        assert_eq!(outcome(gold.len(), &path, &mut sink), "not streamable");
        assert_eq!(outcome(16, Path::new("-"), &mut sink), "not streamable");
        assert_eq!(outcome(16, dir.path(), &mut sink), "not streamable");
        assert!(sink.builder.is_empty());
    }

    /// A record that makes the parsing of its piece panic (see `read_pieces`).
    pub(super) const PANIC_MARKER: &[u8] = b"panic-in-test,";

    #[test]
    fn a_panic_while_parsing_reaches_the_caller() {
        let mut csv = b"item,annotator,label\n".to_vec();
        for i in 0..300 {
            csv.extend(format!("{i},a,x\n").bytes());
            if i == 150 {
                csv.extend(PANIC_MARKER);
                csv.extend(b"a,x\n");
            }
        }
        // Pieces of one record each, so the marked record starts one. On another thread, so
        // that a pipeline stuck waiting fails the test rather than hangs it.
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let opts = IngestOptions::default();
            let outcome = std::panic::catch_unwind(|| {
                let mut sink = RecordSink::new(&opts);
                read_in_pieces(Path::new("t"), &csv, Format::Csv, &opts, &mut sink, 1)
            });
            let _ = done_tx.send(outcome.is_err());
        });
        let panicked = done_rx.recv_timeout(std::time::Duration::from_secs(60));
        assert_eq!(panicked, Ok(true));
    }

    #[test]
    fn windows_end_after_the_last_record() {
        assert_eq!(last_record_end(b"a\nb\nc", false), Some(4));
        assert_eq!(last_record_end(b"abc", false), None);
        // The last line break is inside an open quoted field.
        assert_eq!(last_record_end(b"a,\"x\ny\"\nb,\"z\n", true), Some(8));
        assert_eq!(last_record_end(b"a,\"x\ny", true), None);
        assert_eq!(last_record_end(b"a,\"x\ny", false), Some(5));
    }

    #[test]
    fn cuts_follow_quote_parity() {
        let data = b"a,\"x\ny\"\nb,\"\"\"\n\"\nc,d\n";
        // The line break after `"""` is inside the quoted field that the next `"` closes.
        assert_eq!(last_record_end(&data[..15], true), Some(8));
        assert_eq!(last_record_end(&data[..17], true), Some(16));
        assert_eq!(last_record_end(data, true), Some(data.len()));
        assert!(strictly_quoted(b"a,\"x\"\"\ny\",\"\"\r\n", b','));
        assert!(!strictly_quoted(b"a,5 \"inch\"\n", b','));
        assert!(!strictly_quoted(b"a,\"x\"y\n", b','));
        assert!(!strictly_quoted(b"a,\"x\n", b','));
    }

    #[test]
    fn steps_aside_for_loose_quotes_gold_conflicts_and_errors() {
        let opts = IngestOptions::default();
        let mut loose = b"item,annotator,label\n".to_vec();
        let mut gold = b"item,annotator,label,gold\n".to_vec();
        let mut bad = b"item,annotator,label\n".to_vec();
        for i in 0..100 {
            loose.extend(format!("{i},a,5 \"x\"\n").bytes());
            gold.extend(format!("{i},a,x,x\n").bytes());
            bad.extend(format!("{i},a,x\n").bytes());
        }
        gold.extend(b"7,b,x,y\n");
        bad.extend(b"7,a\n");
        for bytes in [&loose, &gold, &bad] {
            let mut sink = RecordSink::new(&opts);
            let got = read_in_pieces(Path::new("t"), bytes, Format::Csv, &opts, &mut sink, 16);
            assert_eq!(got, None);
            assert_eq!(
                sink.builder.build(None).map(|d| d.n_annotations()).ok(),
                Some(0)
            );
        }
    }
}

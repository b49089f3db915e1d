//! The dense, in-memory annotation dataset that every analysis reads.
//!
//! Item, annotator and label strings are interned once into dense `u32` ids. Annotations are
//! stored as parallel columns sorted by item (then annotator), with an item-to-range index
//! (`item_offsets`, CSR style), so statistics work on integer slices and rayon can split
//! items without locks. Ids are assigned in a canonical order (numbers numerically, then
//! strings lexicographically), so the same annotations give the same ids whatever the row
//! order of the input.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::label_sets::{LabelSets, PayloadBuilder, RawSpan, SpanSets, NO_EXTRA};

/// Sentinel for "no value" in the optional `u32` columns (gold label per item).
pub const NO_LABEL: u32 = u32::MAX;

/// Measurement level of the labels: decides which disagreements count as how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Nominal,
    Ordinal,
    Interval,
    Ratio,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Nominal => "nominal",
            Level::Ordinal => "ordinal",
            Level::Interval => "interval",
            Level::Ratio => "ratio",
        }
    }
}

/// Counts of input rows that were read but did not become annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Rows whose label was empty: a skip by the annotator, not an annotation.
    pub empty_label: u64,
    /// Earlier submissions of an (item, annotator) pair replaced by a later one.
    pub duplicate: u64,
    /// Items that ended up with exactly one annotation (no agreement information).
    pub single_annotation_items: u64,
}

/// The canonical, columnar annotation dataset.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Item names; index = item id.
    pub items: Vec<String>,
    /// Annotator names; index = annotator id.
    pub annotators: Vec<String>,
    /// Label names in label order (numeric, `--order`, or lexicographic); index = label id.
    pub labels: Vec<String>,
    /// Numeric value of each label when every label parses as a finite number.
    pub label_values: Option<Vec<f64>>,
    /// `item_offsets[i]..item_offsets[i + 1]` is the range of item `i` in the columns below.
    pub item_offsets: Vec<usize>,
    /// Annotator id of each annotation (sorted by annotator within an item).
    pub annotator: Vec<u32>,
    /// Label id of each annotation.
    pub label: Vec<u32>,
    /// Seconds spent on each annotation, `NaN` when unknown. `None` when the input has no timing.
    pub duration_s: Option<Vec<f32>>,
    /// Submission time (Unix milliseconds) of each annotation, `i64::MIN` when unknown.
    pub submitted_at_ms: Option<Vec<i64>>,
    /// Known right label of each item (`NO_LABEL` when the item is not a gold item).
    pub gold: Vec<u32>,
    /// Rows that were read but are not annotations, by reason.
    pub skipped: Skipped,
    /// Label set of each annotation, when the input had multi-label answers.
    pub label_sets: Option<LabelSets>,
    /// Spans of each annotation, when the input had span answers.
    pub spans: Option<SpanSets>,
}

impl Dataset {
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    pub fn n_annotators(&self) -> usize {
        self.annotators.len()
    }

    pub fn n_labels(&self) -> usize {
        self.labels.len()
    }

    pub fn n_annotations(&self) -> usize {
        self.label.len()
    }

    /// Index range of item `item` in the annotation columns.
    pub fn item_range(&self, item: usize) -> std::ops::Range<usize> {
        self.item_offsets[item]..self.item_offsets[item + 1]
    }

    /// Annotator ids of one item's annotations.
    pub fn item_annotators(&self, item: usize) -> &[u32] {
        &self.annotator[self.item_range(item)]
    }

    /// Label ids of one item's annotations.
    pub fn item_labels(&self, item: usize) -> &[u32] {
        &self.label[self.item_range(item)]
    }

    /// Gold label of an item, if it is a gold item.
    pub fn gold_label(&self, item: usize) -> Option<u32> {
        let g = self.gold[item];
        (g != NO_LABEL).then_some(g)
    }

    pub fn has_gold(&self) -> bool {
        self.gold.iter().any(|&g| g != NO_LABEL)
    }

    /// `offsets[a]..offsets[a + 1]`: where annotator `a`'s annotations go when they are
    /// listed annotator by annotator (prefix sums of the annotation counts).
    pub fn annotator_offsets(&self) -> Vec<usize> {
        let mut offsets = vec![0usize; self.n_annotators() + 1];
        for &a in &self.annotator {
            offsets[a as usize + 1] += 1;
        }
        for a in 0..self.n_annotators() {
            offsets[a + 1] += offsets[a];
        }
        offsets
    }

    /// The transposed index: for each annotator, the positions of its annotations.
    pub fn by_annotator(&self) -> AnnotatorIndex {
        AnnotatorIndex::build(self)
    }

    /// Ids of the items annotated at every position (the inverse of `item_offsets`).
    pub fn annotation_items(&self) -> Vec<u32> {
        let mut out = vec![0u32; self.n_annotations()];
        for item in 0..self.n_items() {
            for slot in &mut out[self.item_range(item)] {
                *slot = item as u32;
            }
        }
        out
    }

    /// Build a dataset from `(item, annotator, label)` triples in file order; for tests,
    /// the simulator and converters. Later duplicates of an (item, annotator) pair win.
    pub fn from_triples<'a, I>(triples: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    {
        let mut builder = DatasetBuilder::default();
        for (item, annotator, label) in triples {
            builder.push(Row {
                item,
                annotator,
                label,
                ..Row::default()
            });
        }
        builder
            .build(None)
            .expect("building without a label order cannot fail")
    }
}

/// Per-annotator positions into the item-sorted annotation columns (CSR).
#[derive(Debug, Clone)]
pub struct AnnotatorIndex {
    /// `offsets[a]..offsets[a + 1]` is the range of annotator `a` in `positions`.
    pub offsets: Vec<usize>,
    /// Positions in the dataset's annotation columns, in item order within each annotator.
    pub positions: Vec<u32>,
}

impl AnnotatorIndex {
    fn build(ds: &Dataset) -> Self {
        let offsets = ds.annotator_offsets();
        let mut next = offsets.clone();
        let mut positions = vec![0u32; ds.n_annotations()];
        for (pos, &a) in ds.annotator.iter().enumerate() {
            positions[next[a as usize]] = pos as u32;
            next[a as usize] += 1;
        }
        AnnotatorIndex { offsets, positions }
    }

    /// Positions of one annotator's annotations.
    pub fn positions(&self, annotator: usize) -> &[u32] {
        &self.positions[self.offsets[annotator]..self.offsets[annotator + 1]]
    }
}

/// One input row as a reader hands it over (borrowed; nothing is kept as owned rows).
#[derive(Debug, Clone, Copy, Default)]
pub struct Row<'a> {
    pub item: &'a str,
    pub annotator: &'a str,
    /// Empty means the annotator skipped the item.
    pub label: &'a str,
    pub duration_s: Option<f32>,
    pub submitted_at_ms: Option<i64>,
    /// The item's known right label, when the row says it is a gold item.
    pub gold: Option<&'a str>,
}

/// Why a dataset could not be built (mapped to a located `Error` by the ingest layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// A label that `--order` does not list.
    LabelNotInOrder { label: String },
    /// Two rows give different gold labels for one item.
    ConflictingGold {
        item: String,
        first: String,
        second: String,
    },
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::LabelNotInOrder { label } => {
                write!(f, "label {label:?} is not listed in --order")
            }
            BuildError::ConflictingGold {
                item,
                first,
                second,
            } => write!(
                f,
                "item {item:?} has two different gold labels: {first:?} and {second:?}"
            ),
        }
    }
}

/// Interns strings to dense ids in first-seen order; ids are canonicalised by `build`.
/// The table holds each name's 32-bit hash and id (each name is stored once, in `names`), so
/// that growing it never hashes a name again, and `append` moves names with their hashes;
/// eight bytes per entry keep the table of a piece's annotators in cache. The
/// last id found is tried first: exports are often grouped by item, so most rows repeat
/// the last item. While there are only a few names (labels, mostly) they are compared one
/// by one, which is cheaper than hashing.
pub(crate) struct Interner {
    ids: hashbrown::HashTable<(u32, u32)>,
    names: Vec<Box<str>>,
    last: Option<u32>,
    /// Which interner this is, or is a snapshot of (see [`Interner::snapshot`]).
    lineage: u64,
    /// Hashes of the names added by [`Interner::push_unless_last`], in id order; they are
    /// not in `ids`, and may repeat a name.
    unindexed: Option<Vec<u32>>,
}

impl Default for Interner {
    fn default() -> Self {
        static NEXT_LINEAGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Interner {
            ids: hashbrown::HashTable::new(),
            names: Vec::new(),
            last: None,
            lineage: NEXT_LINEAGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            unindexed: None,
        }
    }
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("names", &self.names)
            .finish()
    }
}

/// `a == b`, with the lengths and last bytes compared first: names of one kind often share
/// a prefix (`L0`, `L1`; `item000017`, `item000018`).
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.last() != b.last() {
        return false;
    }
    // Ids and labels are short: compare them a word at a time here (the last word
    // overlapping the one before it) rather than in a call to `memcmp`.
    let n = a.len();
    if n < 8 {
        let word =
            |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap_or_default());
        return match n {
            // Bytes 0, n / 2 and n - 1 are every byte of a text of 1 to 3 bytes.
            0..=3 => n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2]),
            _ => word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4),
        };
    }
    if n > 32 {
        return a == b;
    }
    let word =
        |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// Up to this many names, `Interner::intern` scans them instead of hashing.
const FEW_NAMES: usize = 8;

/// One hasher for every interner (fixed keys), so that a name's hash is the same in each
/// input piece's interner and in the one they are appended to. Hashes only affect speed.
static NAME_HASHER: ahash::RandomState = ahash::RandomState::with_seeds(
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
);

fn name_hash(name: &str) -> u32 {
    NAME_HASHER.hash_one(name) as u32
}

/// The table's 64-bit hash for a name's 32-bit one: hashbrown takes the bucket from the low
/// bits and the tag from the top seven.
fn table_hash(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

impl Interner {
    /// Only for an interner without unindexed names (see [`Interner::push_unless_last`]).
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        debug_assert!(self.unindexed.is_none());
        if let Some(last) = self.last {
            if same_text(&self.names[last as usize], s) {
                return last;
            }
        }
        let few = self.names.len() <= FEW_NAMES;
        let found = if few {
            self.names
                .iter()
                .position(|n| same_text(n, s))
                .map(|i| i as u32)
        } else {
            None
        };
        let id = found.unwrap_or_else(|| {
            let hash = name_hash(s);
            // A scan that found nothing has already looked at every name.
            let known = if few { None } else { self.find(hash, s) };
            known.unwrap_or_else(|| self.insert_new(hash, s.into()))
        });
        self.last = Some(id);
        id
    }

    /// The id of `name`, if it has one; only for an interner without unindexed names.
    fn get(&self, name: &str) -> Option<u32> {
        debug_assert!(self.unindexed.is_none());
        self.find(name_hash(name), name)
    }

    /// The id of `name`, whose hash is `hash`, if it has one.
    fn find(&self, hash: u32, name: &str) -> Option<u32> {
        self.ids
            .find(table_hash(hash), |&(h, id)| {
                h == hash && same_text(&self.names[id as usize], name)
            })
            .map(|&(_, id)| id)
    }

    /// Give `name` (not yet interned, hash `hash`) the next id.
    fn insert_new(&mut self, hash: u32, name: Box<str>) -> u32 {
        let id = self.names.len() as u32;
        self.names.push(name);
        self.ids
            .insert_unique(table_hash(hash), (hash, id), |&(h, _)| table_hash(h));
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// A frozen copy of the names, to share with readers of later input: names keep their
    /// ids, and [`Interner::extends`] says whether an interner still starts with them.
    /// `None` when the names are too long in all to be laid out in one string.
    pub(crate) fn snapshot(&self) -> Option<Arc<KnownNames>> {
        let total: usize = self.names.iter().map(|n| n.len()).sum();
        u32::try_from(total).ok()?;
        let mut text = String::with_capacity(total);
        let mut entries = Vec::with_capacity(self.names.len());
        for (id, name) in self.names.iter().enumerate() {
            entries.push((
                name_hash(name),
                id as u32,
                text.len() as u32,
                name.len() as u32,
            ));
            text.push_str(name);
        }
        let mut ids = hashbrown::HashTable::with_capacity(entries.len());
        for entry in entries {
            ids.insert_unique(table_hash(entry.0), entry, |e| table_hash(e.0));
        }
        Some(Arc::new(KnownNames {
            ids,
            text,
            len: self.names.len(),
            lineage: self.lineage,
        }))
    }

    /// Whether the names of `base` are this interner's first names, with the same ids: it
    /// is the interner `base` was taken from (names are only ever added).
    pub(crate) fn extends(&self, base: &KnownNames) -> bool {
        self.lineage == base.lineage && self.names.len() >= base.len
    }

    /// The id of `s` when it is the last name given out, else a new id for it without
    /// looking it up: ids may then repeat a name, so the interner can only be absorbed
    /// (which gives repeats one id) until [`Interner::reindexed`]. For names that are new
    /// or repeat the last one (items, in input grouped by item), it saves the lookup.
    pub(crate) fn push_unless_last(&mut self, s: &str) -> u32 {
        if let Some(last) = self.last {
            if same_text(&self.names[last as usize], s) {
                return last;
            }
        }
        let id = self.names.len() as u32;
        self.unindexed
            .get_or_insert_with(Vec::new)
            .push(name_hash(s));
        self.names.push(s.into());
        self.last = Some(id);
        id
    }

    /// An interner without unindexed names, and the old id -> new id; `None` when this one
    /// has none.
    pub(crate) fn reindexed(&mut self) -> Option<Vec<u32>> {
        self.unindexed.as_ref()?;
        let mut fresh = Interner::default();
        let map = fresh.absorb(std::mem::take(self));
        *self = fresh;
        Some(map)
    }

    /// Intern every name of `other`, moving them; returns other's id -> id here.
    pub(crate) fn absorb(&mut self, other: Interner) -> Vec<u32> {
        debug_assert!(self.unindexed.is_none());
        let hashes = match other.unindexed {
            Some(hashes) if other.ids.is_empty() => hashes,
            unindexed => {
                let mut hashes = vec![0u32; other.names.len()];
                for &(hash, id) in &other.ids {
                    hashes[id as usize] = hash;
                }
                if let Some(unindexed) = unindexed {
                    let first = other.names.len() - unindexed.len();
                    hashes[first..].copy_from_slice(&unindexed);
                }
                hashes
            }
        };
        other
            .names
            .into_iter()
            .zip(hashes)
            .map(|(name, hash)| match self.find(hash, &name) {
                Some(id) => id,
                None => self.insert_new(hash, name),
            })
            .collect()
    }

    /// The names, in id order.
    pub(crate) fn into_names(self) -> Vec<Box<str>> {
        self.names
    }

    /// Sort names canonically; returns the names in their new order and old-id -> new-id.
    pub(crate) fn canonical(
        self,
        order: Option<&[String]>,
    ) -> Result<(Vec<String>, Vec<u32>), BuildError> {
        let names = self.names;
        let idx: Vec<u32> = match order {
            Some(order) => {
                let rank: HashMap<&str, usize> = order
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i))
                    .collect();
                for name in &names {
                    if !rank.contains_key(&**name) {
                        return Err(BuildError::LabelNotInOrder {
                            label: name.to_string(),
                        });
                    }
                }
                let mut idx: Vec<u32> = (0..names.len() as u32).collect();
                idx.sort_by_key(|&i| rank[&*names[i as usize]]);
                idx
            }
            None => canonical_order(&names),
        };
        // Names often come in their canonical order already: nothing moves then.
        if idx
            .par_iter()
            .enumerate()
            .all(|(new, &old)| new == old as usize)
        {
            return Ok((names.into_par_iter().map(String::from).collect(), idx));
        }
        // Two independent sequential passes (random writes, random reads): side by side.
        let (remap, sorted) = rayon::join(
            || {
                let mut remap = vec![0u32; idx.len()];
                for (new, &old) in idx.iter().enumerate() {
                    remap[old as usize] = new as u32;
                }
                remap
            },
            || {
                // An empty `Box<str>` does not allocate: taking leaves a cheap placeholder.
                let mut names = names;
                idx.iter()
                    .map(|&old| std::mem::take(&mut names[old as usize]).into_string())
                    .collect()
            },
        );
        Ok((sorted, remap))
    }
}

/// The ids of `names` in canonical order (as [`canonical_cmp`]).
fn canonical_order(names: &[Box<str>]) -> Vec<u32> {
    let numbers: Vec<Option<f64>> = names.par_iter().map(|n| parse_number(n)).collect();
    // Strings compare by bytes. Ids of one dataset often share a long prefix
    // (`p-2026q4-batch3-item000017`): the 16 bytes after the prefix that every string
    // shares, as one big-endian integer, order most pairs without reading the names.
    let first = numbers.iter().position(Option::is_none);
    let shared = first.map_or(0, |first| {
        let first = names[first].as_bytes();
        names
            .par_iter()
            .zip(&numbers)
            .filter(|(_, x)| x.is_none())
            .map(|(n, _)| {
                let n = n.as_bytes();
                first.iter().zip(n).take_while(|(a, b)| a == b).count()
            })
            .min()
            .unwrap_or(0)
    });
    // (is a string, high and low key words, id): numbers first, by value (`total_cmp` as
    // an unsigned integer); keys that tie are decided by the names' bytes (for numbers of
    // equal value too, as in `canonical_cmp`).
    let keys: Vec<(bool, u64, u64, u32)> = names
        .par_iter()
        .zip(&numbers)
        .enumerate()
        .map(|(id, (name, number))| match number {
            Some(x) => {
                let bits = x.to_bits() as i64;
                let total = bits ^ ((((bits >> 63) as u64) >> 1) as i64);
                (false, (total as u64) ^ (1 << 63), 0, id as u32)
            }
            None => {
                let mut head = [0u8; 16];
                let rest = &name.as_bytes()[shared..];
                let n = rest.len().min(16);
                head[..n].copy_from_slice(&rest[..n]);
                let key = u128::from_be_bytes(head);
                (true, (key >> 64) as u64, key as u64, id as u32)
            }
        })
        .collect();
    let cmp = |a: &(bool, u64, u64, u32), b: &(bool, u64, u64, u32)| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| names[a.3 as usize].cmp(&names[b.3 as usize]))
    };
    let mut keys = keys;
    // Names often come in their canonical order already (exports sorted by item), or in a
    // few sorted runs (batches, files): one parallel pass counts the places where the order
    // breaks. None: no sort. Few: a merge sort, which takes the runs as they are. Else the
    // faster quicksort. A total order on distinct names, so every sort gives the same order.
    let breaks = keys
        .par_windows(2)
        .filter(|w| cmp(&w[0], &w[1]) != Ordering::Less)
        .count();
    if breaks > keys.len() / 64 {
        keys.par_sort_unstable_by(cmp);
    } else if breaks > 0 {
        keys.par_sort_by(cmp);
    }
    keys.into_par_iter().map(|k| k.3).collect()
}

/// A frozen [`Interner::snapshot`], looked up by many readers at once. Each table entry
/// holds the name's hash, id and place in `text` (all names, one after another), so a
/// lookup reads the table and the text only.
#[derive(Debug)]
pub(crate) struct KnownNames {
    ids: hashbrown::HashTable<(u32, u32, u32, u32)>,
    text: String,
    len: usize,
    lineage: u64,
}

impl KnownNames {
    /// The id of `name`, if it has one.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        let hash = name_hash(name);
        self.ids
            .find(table_hash(hash), |&(h, _, start, len)| {
                h == hash
                    && self
                        .text
                        .get(start as usize..(start + len) as usize)
                        .is_some_and(|n| same_text(n, name))
            })
            .map(|&(_, id, ..)| id)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The names in id order.
    fn names(&self) -> Vec<&str> {
        let mut names = vec![""; self.len];
        for &(_, id, start, len) in &self.ids {
            names[id as usize] = &self.text[start as usize..(start + len) as usize];
        }
        names
    }
}

/// Free `value` on a thread of its own. Freeing a large batch (millions of names, columns
/// of hundreds of megabytes) takes tenths of a second that the caller need not wait for;
/// a process that exits first simply does not wait for it.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// Whether every item's annotations are next to each other in `pending`.
fn grouped_by_item(pending: &[PendingAnnotation], n_items: usize) -> bool {
    // Item ids are given in first-seen order, so grouped rows mostly have increasing ids.
    if pending.par_windows(2).all(|w| w[0].item <= w[1].item) {
        return true;
    }
    // Each run of an item claims it; a second claim means its rows are apart.
    let seen: Vec<AtomicBool> = (0..n_items)
        .into_par_iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    !(0..pending.len()).into_par_iter().any(|i| {
        let item = pending[i].item;
        (i == 0 || pending[i - 1].item != item) && seen[item as usize].swap(true, Relaxed)
    })
}

/// `pending` (grouped by item) cut into parts of about 64k annotations, each holding whole
/// item runs, for resolving the groups in parallel.
fn split_between_items(pending: &mut [PendingAnnotation]) -> Vec<&mut [PendingAnnotation]> {
    const PART: usize = 1 << 16;
    let mut parts = Vec::with_capacity(pending.len() / PART + 1);
    let mut rest = pending;
    while !rest.is_empty() {
        let mut cut = PART.min(rest.len());
        while cut < rest.len() && rest[cut].item == rest[cut - 1].item {
            cut += 1;
        }
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(cut);
        parts.push(part);
        rest = tail;
    }
    parts
}

/// `pending` stably sorted by item.
fn counting_sort_by_item(
    pending: Vec<PendingAnnotation>,
    n_items: usize,
) -> Vec<PendingAnnotation> {
    let mut next = vec![0usize; n_items + 1];
    for p in &pending {
        next[p.item as usize + 1] += 1;
    }
    for i in 0..n_items {
        next[i + 1] += next[i];
    }
    let Some(&filler) = pending.first() else {
        return pending;
    };
    let mut sorted = vec![filler; pending.len()];
    for p in pending {
        let slot = &mut next[p.item as usize];
        sorted[*slot] = p;
        *slot += 1;
    }
    sorted
}

/// Resolve duplicates in one item's annotations, sorted by annotator: the last of each
/// annotator's run wins and is moved to the front; returns how many are kept.
fn keep_last_per_annotator(group: &mut [PendingAnnotation]) -> usize {
    let mut len = 0usize;
    for i in 0..group.len() {
        let p = group[i];
        match len.checked_sub(1).map(|l| &mut group[l]) {
            Some(last) if last.annotator == p.annotator => *last = p,
            _ => {
                group[len] = p;
                len += 1;
            }
        }
    }
    len
}

/// The annotation columns of a [`Dataset`].
struct Columns {
    annotator: Vec<u32>,
    label: Vec<u32>,
    duration_s: Option<Vec<f32>>,
    submitted_at_ms: Option<Vec<i64>>,
}

/// The columns of the kept annotations (`kept[item]`, at `item_offsets[item]`), item by
/// item. They are filled in parallel parts of whole items, each column in turn while the
/// part's annotations are in cache; the columns are fresh memory, so the page faulting is
/// parallel too.
fn gather(
    kept: &[&[PendingAnnotation]],
    item_offsets: &[usize],
    duration: bool,
    submitted: bool,
) -> Columns {
    const PART_ITEMS: usize = 1 << 13;
    let part_lens: Vec<usize> = (0..kept.len())
        .step_by(PART_ITEMS)
        .map(|start| item_offsets[(start + PART_ITEMS).min(kept.len())] - item_offsets[start])
        .collect();
    let n = item_offsets[kept.len()];
    let mut annotator = vec![0u32; n];
    let mut label = vec![0u32; n];
    let mut duration_s = vec![0f32; if duration { n } else { 0 }];
    let mut submitted_at_ms = vec![0i64; if submitted { n } else { 0 }];
    kept.par_chunks(PART_ITEMS)
        .zip(split_parts(&mut annotator, &part_lens))
        .zip(split_parts(&mut label, &part_lens))
        .zip(split_parts(&mut duration_s, &part_lens))
        .zip(split_parts(&mut submitted_at_ms, &part_lens))
        .for_each(|((((groups, a), l), d), s)| {
            let annotations = || groups.iter().flat_map(|g| g.iter());
            for (slot, p) in a.iter_mut().zip(annotations()) {
                *slot = p.annotator;
            }
            for (slot, p) in l.iter_mut().zip(annotations()) {
                *slot = p.label;
            }
            // An absent column has empty parts: nothing is read for it.
            for (slot, p) in d.iter_mut().zip(annotations()) {
                *slot = p.duration_s;
            }
            for (slot, p) in s.iter_mut().zip(annotations()) {
                *slot = p.submitted_at_ms;
            }
        });
    Columns {
        annotator,
        label,
        duration_s: duration.then_some(duration_s),
        submitted_at_ms: submitted.then_some(submitted_at_ms),
    }
}

/// `column` cut into consecutive parts of `lens` (shorter, or empty, where it runs out).
fn split_parts<'a, T>(column: &'a mut [T], lens: &[usize]) -> Vec<&'a mut [T]> {
    let mut rest = column;
    lens.iter()
        .map(|&len| {
            let len = len.min(rest.len());
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(len);
            rest = tail;
            part
        })
        .collect()
}

/// Numbers before strings, numbers by value, strings by bytes: a total, locale-free order.
pub fn canonical_cmp(a: &str, b: &str) -> Ordering {
    match (parse_number(a), parse_number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A label or id read as a finite number, if it is one.
pub fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[derive(Debug, Clone, Copy)]
struct PendingAnnotation {
    item: u32,
    annotator: u32,
    label: u32,
    duration_s: f32,
    submitted_at_ms: i64,
    /// Label-set or span-list index in `DatasetBuilder::payload`, `NO_EXTRA` for a plain label.
    extra: u32,
}

/// Accumulates rows, then builds the canonical `Dataset`.
#[derive(Debug, Default)]
pub struct DatasetBuilder {
    items: Interner,
    annotators: Interner,
    labels: Interner,
    pending: Vec<PendingAnnotation>,
    gold: HashMap<u32, u32>,
    gold_conflict: Option<BuildError>,
    has_duration: bool,
    has_submitted: bool,
    empty_label: u64,
    /// Label sets and span lists of the rows that have them.
    payload: PayloadBuilder,
    /// Annotators already known from earlier input (a snapshot of the interner this builder
    /// will be appended to): a known name's id is its id there, and `annotators` holds only
    /// the others, whose ids here are `known.len()` + their id in `annotators`.
    known_annotators: Option<Arc<KnownNames>>,
    /// Items are added with [`Interner::push_unless_last`] (for builders that are only
    /// appended: `append` gives repeated names one id).
    lazy_items: bool,
}

impl DatasetBuilder {
    /// Add one row. Empty labels are counted as skips and not stored.
    pub fn push(&mut self, row: Row<'_>) {
        self.push_extra(row, NO_EXTRA);
    }

    /// Add one multi-label row: `row.label` is the set's canonical label (see
    /// `label_sets`), `members` its labels (an empty slice is "none of these").
    pub fn push_set(&mut self, row: Row<'_>, members: &[&str]) {
        let extra = self.payload.push_set(members);
        self.push_extra(row, extra);
    }

    /// Add one span row: `row.label` is the list's canonical label, `spans` the spans (an
    /// empty slice is "no span"), `text` the item's text when known.
    pub fn push_spans(&mut self, row: Row<'_>, spans: &[RawSpan], text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            let item = self.items_indexed().intern(row.item);
            self.payload.set_text(item, t);
        }
        let extra = self.payload.push_spans(spans);
        self.push_extra(row, extra);
    }

    /// Give indexed `item` the gold `label` unless it has one; a different one is the
    /// builder's first gold conflict (reported by `build`).
    fn add_gold(&mut self, item: u32, label: u32) {
        let first = *self.gold.entry(item).or_insert(label);
        if first != label && self.gold_conflict.is_none() {
            self.gold_conflict = Some(BuildError::ConflictingGold {
                item: self.items.names[item as usize].to_string(),
                first: self.labels.names[first as usize].to_string(),
                second: self.labels.names[label as usize].to_string(),
            });
        }
    }

    fn push_extra(&mut self, row: Row<'_>, extra: u32) {
        let item = if self.lazy_items && row.gold.is_none() {
            self.items.push_unless_last(row.item)
        } else {
            self.items_indexed().intern(row.item)
        };
        if let Some(gold) = row.gold.filter(|g| !g.is_empty()) {
            let label = self.labels.intern(gold);
            self.add_gold(item, label);
        }
        if row.label.is_empty() {
            self.empty_label += 1;
            return;
        }
        let annotator = match &self.known_annotators {
            None => self.annotators.intern(row.annotator),
            Some(known) => known
                .get(row.annotator)
                .unwrap_or_else(|| known.len() as u32 + self.annotators.intern(row.annotator)),
        };
        let label = self.labels.intern(row.label);
        self.has_duration |= row.duration_s.is_some();
        self.has_submitted |= row.submitted_at_ms.is_some();
        self.pending.push(PendingAnnotation {
            item,
            annotator,
            label,
            duration_s: row.duration_s.unwrap_or(f32::NAN),
            submitted_at_ms: row.submitted_at_ms.unwrap_or(i64::MIN),
            extra,
        });
    }

    /// Append the rows of `other`, read from input that follows this builder's rows (a
    /// parallel reader builds one builder per input piece and appends them in file order).
    /// The result is the builder that pushing `other`'s rows here would give: ids are
    /// canonicalised by `build`, and annotations keep their input order, with their label
    /// sets and span lists. An item's gold label stays the first one given; the parallel
    /// reader appends only pieces whose gold labels agree with the earlier ones (it reads
    /// conflicts sequentially, to report them).
    pub fn append(&mut self, mut other: DatasetBuilder) {
        self.resolve_known_annotators();
        self.items_indexed();
        // `other`'s known annotators keep their ids when they are this builder's first ones.
        if let Some(known) = other.known_annotators.as_ref() {
            if !self.annotators.extends(known) {
                other.resolve_known_annotators();
            }
        }
        let known = other.known_annotators.as_ref().map_or(0, |k| k.len());
        let items = self.items.absorb(other.items);
        let annotators = self.annotators.absorb(other.annotators);
        let labels = self.labels.absorb(other.labels);
        let annotator = |a: u32| match (a as usize).checked_sub(known) {
            None => a,
            Some(new) => annotators[new],
        };
        let shift = self.payload.append(other.payload, &items);
        self.pending.reserve(other.pending.len());
        self.pending
            .extend(other.pending.into_iter().map(|p| PendingAnnotation {
                item: items[p.item as usize],
                annotator: annotator(p.annotator),
                label: labels[p.label as usize],
                extra: match p.extra {
                    NO_EXTRA => NO_EXTRA,
                    extra => extra + shift,
                },
                ..p
            }));
        // In item order, so that a conflict (which the parallel reader never appends) would
        // still be the same one whatever the hash order.
        let mut gold: Vec<(u32, u32)> = other.gold.into_iter().collect();
        gold.sort_unstable();
        for (item, label) in gold {
            self.add_gold(items[item as usize], labels[label as usize]);
        }
        if self.gold_conflict.is_none() {
            self.gold_conflict = other.gold_conflict;
        }
        self.has_duration |= other.has_duration;
        self.has_submitted |= other.has_submitted;
        self.empty_label += other.empty_label;
    }

    /// Look annotators up in `known` (a snapshot of the interner of the builder this one
    /// will be appended to) before interning them here; only for an empty builder.
    /// Make room for `rows` more annotations (capacity that is never used is never touched,
    /// so it costs address space, not memory).
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.pending.reserve(rows);
    }

    /// Add items without looking them up (see [`Interner::push_unless_last`]): for a builder
    /// that is only appended to another, of input grouped by item.
    pub(crate) fn set_lazy_items(&mut self) {
        self.lazy_items = true;
    }

    /// The item interner, its unindexed names (if any) given their own ids first.
    fn items_indexed(&mut self) -> &mut Interner {
        self.lazy_items = false;
        if let Some(map) = self.items.reindexed() {
            // Gold labels and item texts are only added to indexed items.
            for p in &mut self.pending {
                p.item = map[p.item as usize];
            }
            self.gold = std::mem::take(&mut self.gold)
                .into_iter()
                .map(|(item, label)| (map[item as usize], label))
                .collect();
        }
        &mut self.items
    }

    pub(crate) fn set_known_annotators(&mut self, known: Arc<KnownNames>) {
        debug_assert!(self.annotators.len() == 0 && self.pending.is_empty());
        if self.annotators.len() == 0 && self.pending.is_empty() {
            self.known_annotators = Some(known);
        }
    }

    /// How many annotators have ids here so far.
    pub(crate) fn annotator_count(&self) -> usize {
        self.known_annotators.as_ref().map_or(0, |k| k.len()) + self.annotators.len()
    }

    /// A snapshot of the annotators, for [`DatasetBuilder::set_known_annotators`] of builders
    /// that will be appended to this one; `None` when this builder has known annotators.
    pub(crate) fn annotator_snapshot(&self) -> Option<Arc<KnownNames>> {
        match self.known_annotators {
            None => self.annotators.snapshot(),
            Some(_) => None,
        }
    }

    /// Fold the known annotators into `annotators`, so that ids are this builder's own:
    /// the known names first, with their ids, then the others.
    fn resolve_known_annotators(&mut self) {
        let Some(known) = self.known_annotators.take() else {
            return;
        };
        let mut all = Interner::default();
        for name in known.names() {
            all.intern(name);
        }
        let others = all.absorb(std::mem::take(&mut self.annotators));
        let n = known.len();
        for p in &mut self.pending {
            if let Some(new) = (p.annotator as usize).checked_sub(n) {
                p.annotator = others[new];
            }
        }
        self.annotators = all;
    }

    /// Whether nothing has been added yet.
    pub fn is_empty(&self) -> bool {
        self.items.names.is_empty()
            && self.annotators.names.is_empty()
            && self.labels.names.is_empty()
            && self.pending.is_empty()
            && self.gold.is_empty()
            && self.gold_conflict.is_none()
            && self.empty_label == 0
            && !self.has_duration
            && !self.has_submitted
    }

    /// Mark an item as gold with a known label (from a separate gold file).
    pub fn set_gold(&mut self, item: &str, label: &str) {
        let item = self.items_indexed().intern(item);
        let label = self.labels.intern(label);
        self.gold.insert(item, label);
    }

    /// [`DatasetBuilder::set_gold`] for each `(item, label)` in order. Known items (most
    /// of them: a gold file names items of the annotations) are looked up in parallel;
    /// each lookup is a few cache misses in a table of every item.
    pub fn set_gold_all<S: AsRef<str> + Sync>(&mut self, records: &[(S, S)]) {
        let items = self.items_indexed();
        let found: Vec<Option<u32>> = records
            .par_iter()
            .map(|(item, _)| items.get(item.as_ref()))
            .collect();
        self.gold.reserve(records.len());
        for ((item, label), found) in records.iter().zip(found) {
            // A new item may come twice: the first time interns it.
            let item = found.unwrap_or_else(|| self.items.intern(item.as_ref()));
            let label = self.labels.intern(label.as_ref());
            self.gold.insert(item, label);
        }
    }

    /// Canonicalise ids, resolve duplicates (later submission wins, by `submitted_at` when
    /// both have it, else by input order) and sort annotations by item.
    pub fn build(mut self, label_order: Option<&[String]>) -> Result<Dataset, BuildError> {
        self.resolve_known_annotators();
        self.items_indexed();
        if let Some(conflict) = self.gold_conflict {
            return Err(conflict);
        }
        // Item ids are only needed to place each item's annotations at the end: the item
        // names (the most by far) are sorted while the annotations are grouped by their
        // first-seen item ids and resolved.
        let n_items = self.items.len();
        let (annotators_in, labels_in) = (self.annotators, self.labels);
        let mut annotations = self.pending;
        let pending = &mut annotations;
        let (items, resolved) = rayon::join(
            || self.items.canonical(None),
            move || -> Result<_, BuildError> {
                let (annotators, annotator_map) = annotators_in.canonical(None)?;
                let (labels, label_map) = labels_in.canonical(label_order)?;
                // Exports are mostly grouped by item (each item's rows together, the items
                // in any order): each group is then resolved where it is, and the columns
                // are filled group by group in item order. Otherwise a stable counting sort
                // by item groups them first (into a fresh, page-faulting copy), keeping
                // input order within an item.
                if !grouped_by_item(pending, n_items) {
                    *pending = counting_sort_by_item(std::mem::take(pending), n_items);
                }
                let n_pending = pending.len();
                let groups: Vec<&[PendingAnnotation]> = split_between_items(pending)
                    .into_par_iter()
                    .flat_map_iter(|part| {
                        part.chunk_by_mut(|a, b| a.item == b.item).map(|group| {
                            // Canonical ids here, while the group is in cache, rather than
                            // in a pass of their own over all annotations.
                            for p in group.iter_mut() {
                                p.annotator = annotator_map[p.annotator as usize];
                                p.label = label_map[p.label as usize];
                            }
                            // Stable: rows that tie keep their input order, so input order
                            // is the last key.
                            group.sort_by_key(|a| (a.annotator, a.submitted_at_ms));
                            let kept = keep_last_per_annotator(group);
                            &group[..kept]
                        })
                    })
                    .collect();
                Ok((annotators, labels, label_map, groups, n_pending))
            },
        );
        let (items, item_map) = items?;
        let (annotators, labels, label_map, groups, n_pending) = resolved?;
        // Each item's kept annotations, in item order (an item may have none). Every item
        // has at most one group, so the groups can say where they go in parallel.
        let group_of: Vec<AtomicU32> = (0..n_items)
            .into_par_iter()
            .map(|_| AtomicU32::new(u32::MAX))
            .collect();
        groups.par_iter().enumerate().for_each(|(g, group)| {
            group_of[item_map[group[0].item as usize] as usize].store(g as u32, Relaxed);
        });
        let kept: Vec<&[PendingAnnotation]> = group_of
            .into_par_iter()
            .map(|g| {
                groups
                    .get(g.into_inner() as usize)
                    .copied()
                    .unwrap_or_default()
            })
            .collect();
        let item_offsets: Vec<usize> = std::iter::once(0)
            .chain(kept.iter().scan(0, |end, group| {
                *end += group.len();
                Some(*end)
            }))
            .collect();
        let n_kept = item_offsets[n_items];
        let duplicate = (n_pending - n_kept) as u64;
        let single_annotation_items = kept.par_iter().filter(|g| g.len() == 1).count() as u64;

        let mut gold = vec![NO_LABEL; items.len()];
        for (item, label) in self.gold {
            gold[item_map[item as usize] as usize] = label_map[label as usize];
        }
        // Sets and spans follow the kept annotations (after duplicates are resolved).
        let (label_sets, spans): (Option<LabelSets>, Option<SpanSets>) = if self.payload.is_empty()
        {
            (None, None)
        } else {
            let kept_payload: Vec<(u32, &str)> = kept
                .iter()
                .flat_map(|g| g.iter())
                .map(|p| (p.extra, labels[p.label as usize].as_str()))
                .collect();
            self.payload.finish(&kept_payload, &item_map, items.len())
        };
        let label_values = labels
            .iter()
            .map(|l| parse_number(l))
            .collect::<Option<Vec<f64>>>()
            .filter(|v| !v.is_empty());

        let Columns {
            annotator,
            label,
            duration_s,
            submitted_at_ms,
        } = gather(&kept, &item_offsets, self.has_duration, self.has_submitted);
        // Freeing the pending annotations (320 MB at 10^7) takes a few hundredths of a
        // second that the caller need not wait for.
        if annotations.len() >= 1 << 20 {
            drop_in_background(annotations);
        }
        Ok(Dataset {
            items,
            annotators,
            labels,
            label_values,
            item_offsets,
            annotator,
            label,
            duration_s,
            submitted_at_ms,
            gold,
            skipped: Skipped {
                empty_label: self.empty_label,
                duplicate,
                single_annotation_items,
            },
            label_sets,
            spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_canonical_whatever_the_row_order() {
        let a = Dataset::from_triples([("2", "bob", "x"), ("10", "amy", "y"), ("2", "amy", "x")]);
        let b = Dataset::from_triples([("2", "amy", "x"), ("10", "amy", "y"), ("2", "bob", "x")]);
        assert_eq!(a.items, vec!["2", "10"]);
        assert_eq!(a.annotators, vec!["amy", "bob"]);
        assert_eq!(a.annotator, b.annotator);
        assert_eq!(a.label, b.label);
        assert_eq!(a.item_offsets, vec![0, 2, 3]);
        assert_eq!(a.skipped.single_annotation_items, 1);
    }

    #[test]
    fn later_duplicate_wins_and_is_counted() {
        let ds = Dataset::from_triples([("i", "a", "x"), ("i", "a", "y"), ("i", "b", "y")]);
        assert_eq!(ds.n_annotations(), 2);
        assert_eq!(ds.labels[ds.label[0] as usize], "y");
        assert_eq!(ds.skipped.duplicate, 1);
    }

    #[test]
    fn submitted_at_beats_file_order() {
        let mut b = DatasetBuilder::default();
        let row = |label, t| Row {
            item: "i",
            annotator: "a",
            label,
            submitted_at_ms: Some(t),
            ..Row::default()
        };
        b.push(row("late", 2000));
        b.push(row("early", 1000));
        let ds = b.build(None).unwrap();
        assert_eq!(ds.labels[ds.label[0] as usize], "late");
    }

    #[test]
    fn empty_label_is_a_counted_skip() {
        let ds = Dataset::from_triples([("i", "a", ""), ("i", "b", "y")]);
        assert_eq!(ds.n_annotations(), 1);
        assert_eq!(ds.skipped.empty_label, 1);
    }

    #[test]
    fn numeric_labels_sort_by_value_and_carry_values() {
        let ds = Dataset::from_triples([("i", "a", "10"), ("i", "b", "9"), ("j", "a", "2.5")]);
        assert_eq!(ds.labels, vec!["2.5", "9", "10"]);
        assert_eq!(ds.label_values, Some(vec![2.5, 9.0, 10.0]));
    }

    #[test]
    fn label_order_is_respected_and_checked() {
        let mut b = DatasetBuilder::default();
        for (i, l) in [("1", "good"), ("2", "bad"), ("3", "ok")] {
            b.push(Row {
                item: i,
                annotator: "a",
                label: l,
                ..Row::default()
            });
        }
        let order: Vec<String> = ["bad", "ok", "good"].map(String::from).to_vec();
        let ds = b.build(Some(&order)).unwrap();
        assert_eq!(ds.labels, order);
        let mut b = DatasetBuilder::default();
        b.push(Row {
            item: "1",
            annotator: "a",
            label: "great",
            ..Row::default()
        });
        assert!(matches!(
            b.build(Some(&order)),
            Err(BuildError::LabelNotInOrder { .. })
        ));
    }

    #[test]
    fn rows_grouped_in_item_order_build_as_any_rows() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut rows = Vec::new();
        for item in 0..300 {
            for _ in 0..rng.random_range(1..6) {
                let annotator = format!("w{}", rng.random_range(0..6));
                let label = ["x", "y", "z"][rng.random_range(0..3)];
                let at = (rng.random_range(0..3) > 0).then(|| rng.random_range(0..4i64));
                rows.push((item.to_string(), annotator, label, at));
            }
        }
        let build = |first: Option<&str>| {
            let mut b = DatasetBuilder::default();
            let extra = first.map(|item| (item.to_string(), "w0".to_string(), "x", None));
            for (item, annotator, label, at) in extra.iter().chain(&rows) {
                b.push(Row {
                    item,
                    annotator,
                    label,
                    submitted_at_ms: *at,
                    duration_s: at.map(|t| t as f32),
                    ..Row::default()
                });
            }
            b.build(None).unwrap()
        };
        // A first row for an item that sorts last: still grouped, no longer in item order.
        let (in_order, counted) = (build(None), build(Some("zz")));
        assert!(in_order.skipped.duplicate > 0);
        let n = in_order.n_annotations();
        assert_eq!(counted.items[..300], in_order.items[..]);
        assert_eq!(counted.item_offsets[..301], in_order.item_offsets[..]);
        assert_eq!(counted.annotator[..n], in_order.annotator[..]);
        assert_eq!(counted.label[..n], in_order.label[..]);
        assert_eq!(
            counted.submitted_at_ms.unwrap()[..n],
            in_order.submitted_at_ms.unwrap()[..]
        );
        let bits = |d: &[f32]| d.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&counted.duration_s.unwrap()[..n]),
            bits(&in_order.duration_s.unwrap())
        );
        assert_eq!(counted.skipped.duplicate, in_order.skipped.duplicate);
    }

    #[test]
    fn interleaved_and_reordered_groups_build_as_grouped_rows() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // Rows of each item, in input order within the item.
        let mut groups = Vec::new();
        for item in 0..200 {
            let rows: Vec<_> = (0..rng.random_range(1..7))
                .map(|_| {
                    let annotator = format!("w{}", rng.random_range(0..5));
                    let label = ["x", "y", "z"][rng.random_range(0..3)];
                    let at = (rng.random_range(0..3) > 0).then(|| rng.random_range(0..4i64));
                    (item.to_string(), annotator, label, at)
                })
                .collect();
            groups.push(rows);
        }
        let build = |rows: &[&(String, String, &str, Option<i64>)]| {
            let mut b = DatasetBuilder::default();
            for (item, annotator, label, at) in rows.iter().copied() {
                b.push(Row {
                    item,
                    annotator,
                    label,
                    submitted_at_ms: *at,
                    duration_s: at.map(|t| t as f32 / 2.0),
                    ..Row::default()
                });
            }
            (
                grouped_by_item(&b.pending, b.items.names.len()),
                format!("{:?}", b.build(None)),
            )
        };
        let grouped: Vec<_> = groups.iter().flatten().collect();
        let reversed: Vec<_> = groups.iter().rev().flatten().collect();
        // Round robin: every item's first row, then every second row, and so on.
        let longest = groups.iter().map(Vec::len).max().unwrap();
        let interleaved: Vec<_> = (0..longest)
            .flat_map(|k| groups.iter().filter_map(move |g| g.get(k)))
            .collect();
        let (was_grouped, want) = build(&grouped);
        assert!(was_grouped && want.contains("duplicate: "));
        assert_eq!(build(&reversed), (true, want.clone()));
        assert_eq!(build(&interleaved), (false, want));
    }

    #[test]
    fn builders_with_known_annotators_and_lazy_items_append_as_pushed_rows() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let rows: Vec<(String, String, &str)> = (0..3000)
            .map(|k| {
                // Mostly grouped items, some coming back later; annotators recur.
                let item = if rng.random_range(0..10) == 0 {
                    rng.random_range(0..k / 3 + 1)
                } else {
                    k / 3
                };
                let annotator = format!("w{}", rng.random_range(0..(40 + k / 20)));
                let label = ["x", "y", "z", ""][rng.random_range(0..4)];
                (format!("it{item}"), annotator, label)
            })
            .collect();
        let push = |b: &mut DatasetBuilder, rows: &[(String, String, &str)]| {
            for (item, annotator, label) in rows {
                b.push(Row {
                    item,
                    annotator,
                    label,
                    ..Row::default()
                });
            }
        };
        let mut all = DatasetBuilder::default();
        push(&mut all, &rows);
        let want = format!("{:?}", all.build(None));
        let want_tail = {
            let mut b = DatasetBuilder::default();
            push(&mut b, &rows[1000..]);
            format!("{:?}", b.build(None))
        };
        let part = |known: Option<Arc<KnownNames>>, rows| {
            let mut b = DatasetBuilder::default();
            b.set_lazy_items();
            if let Some(known) = known {
                b.set_known_annotators(known);
            }
            push(&mut b, rows);
            b
        };
        for cut in [0, 1, 500, 1000, 2999] {
            let mut acc = part(None, &rows[..cut]);
            let mut known = None;
            for piece in rows[cut..].chunks(250) {
                acc.append(part(known.clone(), piece));
                known = acc.annotator_snapshot();
                assert!(known.as_ref().is_some_and(|k| acc.annotators.extends(k)));
            }
            assert_eq!(format!("{:?}", acc.build(None)), want, "cut {cut}");
        }
        // A part with known annotators built alone, or appended to another builder.
        let mut head = DatasetBuilder::default();
        push(&mut head, &rows[..1000]);
        let known = head.annotator_snapshot();
        assert!(known.as_ref().is_some_and(|k| k.len() > 40));
        let tail = part(known.clone(), &rows[1000..]);
        assert_eq!(format!("{:?}", tail.build(None)), want_tail);
        let mut other = DatasetBuilder::default();
        other.append(part(known, &rows[1000..]));
        assert_eq!(format!("{:?}", other.build(None)), want_tail);
        // A gold row makes a lazy builder index its items first.
        let mut lazy = part(None, &rows[..1000]);
        let mut eager = DatasetBuilder::default();
        push(&mut eager, &rows[..1000]);
        for b in [&mut lazy, &mut eager] {
            b.push(Row {
                item: "it3",
                annotator: "w1",
                label: "x",
                gold: Some("y"),
                ..Row::default()
            });
            b.set_gold("it0", "z");
        }
        assert_eq!(
            format!("{:?}", lazy.build(None)),
            format!("{:?}", eager.build(None))
        );
    }

    #[test]
    fn unindexed_names_absorb_to_one_id_each() {
        let mut lazy = Interner::default();
        let ids: Vec<u32> = ["a", "a", "b", "a", "c", "b"]
            .iter()
            .map(|n| lazy.push_unless_last(n))
            .collect();
        assert_eq!(ids, vec![0, 0, 1, 2, 3, 4]);
        let mut into = Interner::default();
        into.intern("c");
        assert_eq!(into.absorb(lazy), vec![1, 2, 1, 0, 2]);
        assert!(same_text("vendor-3-w0412", "vendor-3-w0412"));
        assert!(!same_text("vendor-3-w0412", "vendor-3-w0413"));
        assert!(!same_text(
            "p-2026q4-batch3-item000123",
            "p-2026q4-batch3-item100123"
        ));
        assert!(!same_text(
            "p-2026q4-batch3-item000123",
            "q-2026q4-batch3-item000123"
        ));
        assert!(same_text(
            "p-2026q4-batch3-item000123",
            "p-2026q4-batch3-item000123"
        ));
    }

    #[test]
    fn a_second_gold_label_is_a_conflict_when_pushed_or_appended() {
        let row = |item, annotator, gold| Row {
            item,
            annotator,
            label: "x",
            gold: Some(gold),
            ..Row::default()
        };
        let want = BuildError::ConflictingGold {
            item: "i1".into(),
            first: "a".into(),
            second: "b".into(),
        };
        // In one builder: the first label stays, the second is the conflict.
        let mut one = DatasetBuilder::default();
        for r in [
            row("i0", "w1", "b"),
            row("i1", "w1", "a"),
            row("i1", "w2", "b"),
        ] {
            one.push(r);
        }
        assert_eq!(one.build(None).err(), Some(want.clone()));
        // Across an append, the earlier builder's label comes first.
        let (mut first, mut second) = (DatasetBuilder::default(), DatasetBuilder::default());
        first.push(row("i1", "w1", "a"));
        second.push(row("i0", "w1", "b"));
        second.push(row("i1", "w2", "b"));
        first.append(second);
        assert_eq!(first.build(None).err(), Some(want));
        // Agreeing labels are no conflict.
        let mut agree = DatasetBuilder::default();
        agree.push(row("i1", "w1", "a"));
        let mut more = DatasetBuilder::default();
        more.push(row("i1", "w2", "a"));
        agree.append(more);
        assert!(agree.build(None).unwrap().has_gold());
    }

    #[test]
    fn same_text_is_equality_at_every_length() {
        // Every length up to past the word paths, each byte changed in turn.
        for n in 0..40usize {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same_text(&a, &a.clone()), "{a}");
            for at in 0..n {
                let mut b = a.clone().into_bytes();
                b[at] = b'Z';
                let b = String::from_utf8(b).unwrap_or_default();
                assert!(!same_text(&a, &b), "{a} {b}");
                assert!(!same_text(&b, &a), "{b} {a}");
            }
            assert!(!same_text(&a, &format!("{a}a")));
        }
    }

    #[test]
    fn annotator_index_lists_positions_in_item_order() {
        let ds = Dataset::from_triples([("1", "a", "x"), ("1", "b", "x"), ("2", "a", "y")]);
        let idx = ds.by_annotator();
        assert_eq!(idx.positions(0), &[0, 2]);
        assert_eq!(idx.positions(1), &[1]);
    }

    #[test]
    fn canonical_order_matches_canonical_cmp() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pieces = [
            "",
            "a",
            "b",
            "\u{0}",
            "ä",
            "p-2026q4-batch",
            "item0000000000000000",
            "1",
        ];
        for prefix in ["", "p-2026q4-batch", "same-prefix-longer-than-sixteen-"] {
            let mut names: Vec<String> = (0..400)
                .map(|_| match rng.random_range(0..6) {
                    0 => format!("{}", rng.random_range(-20..20) as f64 / 4.0),
                    1 => format!("{:03}", rng.random_range(0..30)),
                    _ => (0..rng.random_range(0..5))
                        .map(|_| pieces[rng.random_range(0..pieces.len())])
                        .fold(prefix.to_string(), |s, p| s + p),
                })
                .collect();
            names.extend(["-0", "0", "0.0", "1e3", prefix].map(String::from));
            names.sort();
            names.dedup();
            // Shuffled, already in canonical order, and in two sorted runs (the quicksort,
            // no sort, the merge sort).
            for order in ["shuffled", "sorted", "runs"] {
                if order == "shuffled" {
                    for i in (1..names.len()).rev() {
                        names.swap(i, rng.random_range(0..=i));
                    }
                } else if order == "runs" {
                    let third = names.len() / 3;
                    names.rotate_left(third);
                }
                let mut want = names.clone();
                want.sort_by(|a, b| canonical_cmp(a, b));
                let mut interner = Interner::default();
                for n in &names {
                    interner.intern(n);
                }
                let (got, remap) = interner.canonical(None).unwrap();
                assert_eq!(got, want, "prefix {prefix:?}, {order}");
                for (old, n) in names.iter().enumerate() {
                    assert_eq!(&want[remap[old] as usize], n);
                }
                names = want;
            }
        }
    }
}

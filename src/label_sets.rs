//! Per-annotation payloads beyond the single label: multi-label sets and span lists.
//!
//! Both are CSR columns aligned with the `Dataset`'s annotation positions (`offsets[pos]..
//! offsets[pos + 1]`). They exist only when the input had multi-label or span answers; a
//! missing label never gets here (it is a skip), while an empty set or an empty span list is
//! a real answer ("none of these") and is stored as an empty range.
//!
//! The `Dataset`'s single `label` column stays meaningful: a set is interned as its canonical
//! sorted members joined by `|` (`a|b`), a span list as `start-end:label` joined by `|`, and
//! an empty set or list as `[]` ([`EMPTY_SET_LABEL`]). Classic agreement on that column is
//! therefore exact agreement on the whole answer.

use std::collections::HashMap;

use crate::dataset::Interner;

/// The interned label of an empty set or span list ("none of these").
pub const EMPTY_SET_LABEL: &str = "[]";

/// The label sets of a multi-label dataset (a single label counts as a set of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSets {
    /// Member label names in canonical order; index = member id (not the `Dataset` label id).
    pub names: Vec<String>,
    /// `offsets[pos]..offsets[pos + 1]` is annotation `pos`'s range in `ids`.
    pub offsets: Vec<usize>,
    /// Member ids, sorted ascending within each annotation.
    pub ids: Vec<u32>,
}

impl LabelSets {
    /// The member ids of annotation `pos` (empty for "none of these").
    pub fn set(&self, pos: usize) -> &[u32] {
        &self.ids[self.offsets[pos]..self.offsets[pos + 1]]
    }
}

/// One span: half-open character offsets `[start, end)` and a span label id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u64,
    pub end: u64,
    pub label: u32,
}

/// The span annotations of a span dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanSets {
    /// Span label names in canonical order; index = span label id.
    pub labels: Vec<String>,
    /// `offsets[pos]..offsets[pos + 1]` is annotation `pos`'s range in `spans`.
    pub offsets: Vec<usize>,
    /// Spans sorted by (start, end, label) within each annotation, duplicates removed.
    pub spans: Vec<Span>,
    /// The item's text when the input carried it (empty when unknown), for trimming.
    pub texts: Vec<String>,
}

impl SpanSets {
    /// The spans of annotation `pos`.
    pub fn spans(&self, pos: usize) -> &[Span] {
        &self.spans[self.offsets[pos]..self.offsets[pos + 1]]
    }
}

/// A span as a reader hands it over, before interning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSpan {
    pub start: u64,
    pub end: u64,
    pub label: String,
}

/// The canonical single label of a span list: `start-end:label|…`, or `[]` when empty.
pub fn span_list_label(spans: &[RawSpan]) -> String {
    let mut sorted: Vec<&RawSpan> = spans.iter().collect();
    sorted.sort_by(|a, b| (a.start, a.end, &a.label).cmp(&(b.start, b.end, &b.label)));
    sorted.dedup();
    if sorted.is_empty() {
        return EMPTY_SET_LABEL.to_string();
    }
    sorted
        .iter()
        .map(|s| format!("{}-{}:{}", s.start, s.end, s.label))
        .collect::<Vec<_>>()
        .join("|")
}

/// `PendingAnnotation::extra` of an annotation with a plain single label.
pub(crate) const NO_EXTRA: u32 = u32::MAX;

/// Where a pending annotation's label set or span list lies in the flat buffers.
#[derive(Debug, Clone, Copy)]
enum Extra {
    Set { start: usize, len: usize },
    Spans { start: usize, len: usize },
}

/// Collects label sets and span lists while rows arrive (raw, first-seen ids); `finish`
/// canonicalises ids and lays them out along the kept annotations.
#[derive(Debug, Default)]
pub(crate) struct PayloadBuilder {
    extras: Vec<Extra>,
    members: Interner,
    set_members: Vec<u32>,
    span_labels: Interner,
    span_flat: Vec<Span>,
    /// Item text by raw item id.
    texts: HashMap<u32, String>,
}

impl PayloadBuilder {
    pub(crate) fn is_empty(&self) -> bool {
        self.extras.is_empty()
    }

    /// Store a label set; returns its index for `PendingAnnotation::extra`.
    pub(crate) fn push_set(&mut self, members: &[&str]) -> u32 {
        let start = self.set_members.len();
        for m in members {
            let id = self.members.intern(m);
            self.set_members.push(id);
        }
        self.extras.push(Extra::Set {
            start,
            len: members.len(),
        });
        self.extras.len() as u32 - 1
    }

    /// Store a span list; returns its index for `PendingAnnotation::extra`.
    pub(crate) fn push_spans(&mut self, spans: &[RawSpan]) -> u32 {
        let start = self.span_flat.len();
        for s in spans {
            let label = self.span_labels.intern(&s.label);
            self.span_flat.push(Span {
                start: s.start,
                end: s.end,
                label,
            });
        }
        self.extras.push(Extra::Spans {
            start,
            len: spans.len(),
        });
        self.extras.len() as u32 - 1
    }

    /// The text of a raw item id; the first one given is kept.
    pub(crate) fn set_text(&mut self, item: u32, text: &str) {
        self.texts.entry(item).or_insert_with(|| text.to_string());
    }

    /// Append `other`, collected from the input that follows this one's; `items` maps its
    /// raw item ids to this builder's. Returns what to add to `other`'s extra indices.
    /// Member and span label ids are first-seen ids, canonicalised by `finish` (so the
    /// order they are merged in does not matter); an item's text stays the first one given.
    pub(crate) fn append(&mut self, other: PayloadBuilder, items: &[u32]) -> u32 {
        let shift = self.extras.len() as u32;
        let (set_start, span_start) = (self.set_members.len(), self.span_flat.len());
        let members = self.members.absorb(other.members);
        let span_labels = self.span_labels.absorb(other.span_labels);
        self.set_members
            .extend(other.set_members.iter().map(|&m| members[m as usize]));
        self.span_flat.extend(other.span_flat.iter().map(|sp| Span {
            label: span_labels[sp.label as usize],
            ..*sp
        }));
        self.extras.extend(other.extras.iter().map(|e| match *e {
            Extra::Set { start, len } => Extra::Set {
                start: set_start + start,
                len,
            },
            Extra::Spans { start, len } => Extra::Spans {
                start: span_start + start,
                len,
            },
        }));
        // Earlier input's text first; `other` has one text per item.
        for (item, text) in other.texts {
            self.texts.entry(items[item as usize]).or_insert(text);
        }
        shift
    }

    /// Lay sets and spans out along the kept annotations, given as (extra index, canonical
    /// label name). In a multi-label dataset a plain single label is a set of one.
    pub(crate) fn finish(
        mut self,
        kept: &[(u32, &str)],
        item_map: &[u32],
        n_items: usize,
    ) -> (Option<LabelSets>, Option<SpanSets>) {
        let has_sets = self.extras.iter().any(|e| matches!(e, Extra::Set { .. }));
        let has_spans = self.extras.iter().any(|e| matches!(e, Extra::Spans { .. }));
        let label_sets = has_sets.then(|| {
            let singles: Vec<Option<u32>> = kept
                .iter()
                .map(|&(extra, name)| (extra == NO_EXTRA).then(|| self.members.intern(name)))
                .collect();
            let members = std::mem::take(&mut self.members);
            let (names, remap) = members.canonical(None).unwrap_or_default();
            let mut offsets = Vec::with_capacity(kept.len() + 1);
            offsets.push(0);
            let mut ids = Vec::new();
            for (&(extra, _), single) in kept.iter().zip(&singles) {
                let start = ids.len();
                if let Some(&Extra::Set { start: s, len }) = self.extras.get(extra as usize) {
                    ids.extend(
                        self.set_members[s..s + len]
                            .iter()
                            .map(|&m| remap[m as usize]),
                    );
                }
                ids.extend(single.map(|m| remap[m as usize]));
                ids[start..].sort_unstable();
                offsets.push(ids.len());
            }
            LabelSets {
                names,
                offsets,
                ids,
            }
        });
        let spans = has_spans.then(|| {
            let span_labels = std::mem::take(&mut self.span_labels);
            let (labels, remap) = span_labels.canonical(None).unwrap_or_default();
            let mut offsets = Vec::with_capacity(kept.len() + 1);
            offsets.push(0);
            let mut flat: Vec<Span> = Vec::new();
            for &(extra, _) in kept {
                let start = flat.len();
                if let Some(&Extra::Spans { start: s, len }) = self.extras.get(extra as usize) {
                    flat.extend(self.span_flat[s..s + len].iter().map(|sp| Span {
                        label: remap[sp.label as usize],
                        ..*sp
                    }));
                }
                flat[start..].sort_unstable();
                let mut run = flat.split_off(start);
                run.dedup();
                flat.extend(run);
                offsets.push(flat.len());
            }
            let mut texts = vec![String::new(); n_items];
            for (item, text) in std::mem::take(&mut self.texts) {
                if let Some(&canonical) = item_map.get(item as usize) {
                    texts[canonical as usize] = text;
                }
            }
            SpanSets {
                labels,
                offsets,
                spans: flat,
                texts,
            }
        });
        (label_sets, spans)
    }
}

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

//! Span agreement between annotators: precision, recall and F1 with exact and overlap
//! matching, per label, per annotator pair and per annotator.
//!
//! Source: the pairwise-F1 practice for span annotation (Hripcsak & Rothschild 2005,
//! "Agreement, the F-measure, and reliability in information retrieval": with no negative
//! class, inter-annotator F1 is the agreement measure), with the fixes of `shared/formats.md`
//! §10 (label-studio#8950): spans match on (start, end, label) as a set, whatever their
//! order; overlapping spans are allowed; whitespace at a span's edges can be trimmed when the
//! item text is known. Missing values: only items that both annotators of a pair answered
//! count for that pair; an empty span list is an answer ("no span") whose spans count 0; a
//! ratio with a zero denominator is `null`, never NaN.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dataset::Dataset;
use crate::label_sets::{Span, SpanSets};

pub mod flag;

/// How spans are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanOptions {
    /// Shrink each span past whitespace at its edges, when the item text is known.
    pub trim_whitespace: bool,
}

impl Default for SpanOptions {
    fn default() -> Self {
        SpanOptions {
            trim_whitespace: true,
        }
    }
}

/// Matched counts between a span list `a` ("predicted") and `b` ("reference").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Spans of `a` and of `b`.
    pub n_a: u64,
    pub n_b: u64,
    /// Spans found in both with the same (start, end, label).
    pub exact: u64,
    /// Spans of `a` that overlap a span of `b` with the same label, and vice versa.
    pub overlap_a: u64,
    pub overlap_b: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.n_a += o.n_a;
        self.n_b += o.n_b;
        self.exact += o.exact;
        self.overlap_a += o.overlap_a;
        self.overlap_b += o.overlap_b;
    }

    /// The same counts seen from `b`'s side.
    fn swapped(self) -> Counts {
        Counts {
            n_a: self.n_b,
            n_b: self.n_a,
            exact: self.exact,
            overlap_a: self.overlap_b,
            overlap_b: self.overlap_a,
        }
    }

    /// Exact and overlap precision, recall and F1 of `a` against `b`.
    pub fn scores(&self) -> SpanScores {
        SpanScores {
            exact: Prf::new(self.exact, self.n_a, self.exact, self.n_b),
            overlap: Prf::new(self.overlap_a, self.n_a, self.overlap_b, self.n_b),
            spans_a: self.n_a,
            spans_b: self.n_b,
        }
    }
}

/// Precision, recall, F1; `null` when a denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

impl Prf {
    fn new(tp_a: u64, n_a: u64, tp_b: u64, n_b: u64) -> Prf {
        let ratio = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64);
        let (precision, recall) = (ratio(tp_a, n_a), ratio(tp_b, n_b));
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            // One side has spans, the other none: nothing matched.
            (Some(_), None) | (None, Some(_)) => Some(0.0),
            (None, None) => None,
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Scores of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpanScores {
    pub exact: Prf,
    pub overlap: Prf,
    /// Spans on each side (`a` is the first annotator, the one scored).
    pub spans_a: u64,
    pub spans_b: u64,
}

/// Compare two span lists (each sorted, without duplicates).
pub fn compare(a: &[Span], b: &[Span]) -> Counts {
    let overlaps = |x: &Span, y: &Span| x.label == y.label && x.start < y.end && y.start < x.end;
    let matched = |from: &[Span], to: &[Span]| {
        from.iter()
            .filter(|x| to.iter().any(|y| y == *x || overlaps(x, y)))
            .count() as u64
    };
    Counts {
        n_a: a.len() as u64,
        n_b: b.len() as u64,
        exact: a.iter().filter(|x| b.binary_search(x).is_ok()).count() as u64,
        overlap_a: matched(a, b),
        overlap_b: matched(b, a),
    }
}

/// `span` without whitespace at its edges, using the item's characters (offsets are in
/// characters, as Label Studio and Prodigy write them). Out-of-range spans are left as is.
pub fn trim(span: Span, chars: &[char]) -> Span {
    let (mut s, mut e) = (span.start as usize, span.end as usize);
    if e > chars.len() || s > e {
        return span;
    }
    while s < e && chars[s].is_whitespace() {
        s += 1;
    }
    while e > s && chars[e - 1].is_whitespace() {
        e -= 1;
    }
    Span {
        start: s as u64,
        end: e as u64,
        ..span
    }
}

/// Span agreement section (`agreement.spans`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanAgreement {
    /// Whether edge whitespace was trimmed, and how many spans it changed.
    pub trim_whitespace: bool,
    pub spans_trimmed: u64,
    /// Spans in all annotations.
    pub spans: u64,
    /// Micro-averaged over every annotator pair and shared item (symmetric).
    pub overall: SpanScores,
    /// The same, per span label.
    pub per_label: Vec<LabelSpanScores>,
    /// Per annotator pair with at least one shared item.
    pub pairs: Vec<PairSpanScores>,
    /// Each annotator against the others, micro-averaged over their pairs: the per-annotator
    /// quality signal for span work.
    pub annotators: Vec<AnnotatorSpanScores>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelSpanScores {
    pub label: String,
    #[serde(flatten)]
    pub scores: SpanScores,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairSpanScores {
    pub a: String,
    pub b: String,
    pub shared_items: usize,
    #[serde(flatten)]
    pub scores: SpanScores,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnotatorSpanScores {
    pub annotator: String,
    pub pairs: usize,
    /// Span F1 against the others, exact matching (`null` without any span on either side).
    pub span_f1: Option<f64>,
    /// The same with overlap matching.
    pub span_f1_overlap: Option<f64>,
    #[serde(flatten)]
    pub scores: SpanScores,
}

/// Span agreement of a span dataset; `None` when it has no spans.
pub fn agreement(ds: &Dataset, opts: &SpanOptions) -> Option<SpanAgreement> {
    let sets = ds.spans.as_ref()?;
    let (lists, trimmed) = span_lists(ds, sets, opts);
    let n_labels = sets.labels.len();
    let mut overall = Counts::default();
    let mut per_label = vec![Counts::default(); n_labels];
    // (a, b) with a < b -> (shared items, counts of a against b).
    let mut pairs: BTreeMap<(u32, u32), (usize, Counts)> = BTreeMap::new();
    let mut by_label: Vec<Vec<Span>> = vec![Vec::new(); 2 * n_labels];
    for item in 0..ds.n_items() {
        let range = ds.item_range(item);
        for i in range.clone() {
            for j in range.clone().filter(|&j| j > i) {
                let (a, b) = (&lists[i], &lists[j]);
                let c = compare(a, b);
                overall.add(c);
                let pair = pairs
                    .entry((ds.annotator[i], ds.annotator[j]))
                    .or_insert((0, Counts::default()));
                pair.0 += 1;
                pair.1.add(c);
                for l in by_label.iter_mut() {
                    l.clear();
                }
                for s in a {
                    by_label[s.label as usize].push(*s);
                }
                for s in b {
                    by_label[n_labels + s.label as usize].push(*s);
                }
                for l in 0..n_labels {
                    per_label[l].add(compare(&by_label[l], &by_label[n_labels + l]));
                }
            }
        }
    }
    let mut per_annotator: BTreeMap<u32, (usize, Counts)> = BTreeMap::new();
    for (&(a, b), &(_, c)) in &pairs {
        for (who, counts) in [(a, c), (b, c.swapped())] {
            let e = per_annotator.entry(who).or_default();
            e.0 += 1;
            e.1.add(counts);
        }
    }
    let name = |a: u32| ds.annotators[a as usize].clone();
    Some(SpanAgreement {
        trim_whitespace: opts.trim_whitespace,
        spans_trimmed: trimmed,
        spans: lists.iter().map(|l| l.len() as u64).sum(),
        overall: overall.scores(),
        per_label: per_label
            .iter()
            .enumerate()
            .map(|(l, c)| LabelSpanScores {
                label: sets.labels[l].clone(),
                scores: c.scores(),
            })
            .collect(),
        pairs: pairs
            .iter()
            .map(|(&(a, b), &(shared, c))| PairSpanScores {
                a: name(a),
                b: name(b),
                shared_items: shared,
                scores: c.scores(),
            })
            .collect(),
        annotators: per_annotator
            .iter()
            .map(|(&a, &(n, c))| {
                let scores = c.scores();
                AnnotatorSpanScores {
                    annotator: name(a),
                    pairs: n,
                    span_f1: scores.exact.f1,
                    span_f1_overlap: scores.overlap.f1,
                    scores,
                }
            })
            .collect(),
    })
}

/// Each annotation's spans, trimmed if asked (then re-sorted and deduplicated), and the
/// number of spans that trimming changed.
fn span_lists(ds: &Dataset, sets: &SpanSets, opts: &SpanOptions) -> (Vec<Vec<Span>>, u64) {
    let mut trimmed = 0u64;
    let mut lists = Vec::with_capacity(ds.n_annotations());
    for item in 0..ds.n_items() {
        let text = sets.texts.get(item).map(String::as_str).unwrap_or("");
        let chars: Vec<char> = if opts.trim_whitespace {
            text.chars().collect()
        } else {
            Vec::new()
        };
        for pos in ds.item_range(item) {
            let mut list: Vec<Span> = sets.spans(pos).to_vec();
            if !chars.is_empty() {
                for s in list.iter_mut() {
                    let t = trim(*s, &chars);
                    trimmed += u64::from(t != *s);
                    *s = t;
                }
                list.sort_unstable();
                list.dedup();
            }
            lists.push(list);
        }
    }
    (lists, trimmed)
}

#[cfg(test)]
mod tests;

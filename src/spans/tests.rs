//! Hand-worked span agreement cases and the `shared/formats.md` §10 span pitfalls.

use super::*;
use crate::dataset::{DatasetBuilder, Row};
use crate::label_sets::{span_list_label, RawSpan};

fn sp(start: u64, end: u64, label: &str) -> RawSpan {
    RawSpan {
        start,
        end,
        label: label.into(),
    }
}

/// A span dataset from (item, annotator, spans, text).
fn dataset(rows: &[(&str, &str, Vec<RawSpan>)], text: Option<&str>) -> Dataset {
    let mut b = DatasetBuilder::default();
    for (item, annotator, spans) in rows {
        let label = span_list_label(spans);
        b.push_spans(
            Row {
                item,
                annotator,
                label: &label,
                ..Row::default()
            },
            spans,
            text,
        );
    }
    b.build(None).expect("no label order")
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn hand_worked_exact_and_overlap_f1() {
    // a: [0,5) PER, [10,15) LOC, [20,25) ORG; b: [0,5) PER, [10,16) LOC, [30,35) ORG.
    // Exact: 1 match of 3 vs 3 -> P = R = F1 = 1/3.
    // Overlap: a's PER, LOC match (2/3); b's PER, LOC match (2/3) -> F1 = 2/3.
    let ds = dataset(
        &[
            (
                "d",
                "a",
                vec![sp(0, 5, "PER"), sp(10, 15, "LOC"), sp(20, 25, "ORG")],
            ),
            (
                "d",
                "b",
                vec![sp(0, 5, "PER"), sp(10, 16, "LOC"), sp(30, 35, "ORG")],
            ),
        ],
        None,
    );
    let r = agreement(&ds, &SpanOptions::default()).expect("spans");
    assert!(close(r.overall.exact.f1, 1.0 / 3.0));
    assert!(close(r.overall.overlap.f1, 2.0 / 3.0));
    let per: Vec<_> = r
        .per_label
        .iter()
        .map(|l| (l.label.as_str(), l.scores.exact.f1))
        .collect();
    assert_eq!(per[0].0, "LOC");
    assert!(close(per[0].1, 0.0));
    assert!(close(per[2].1, 1.0)); // PER
    assert!(close(r.annotators[0].span_f1, 1.0 / 3.0));
}

#[test]
fn per_annotator_f1_is_micro_averaged_over_pairs() {
    // a=b exactly on [0,3) X; c finds nothing. Pairs: (a,b) 1/1/1; (a,c) 1 vs 0; (b,c) same.
    // a: TP 1, own 2, others 1 -> F1 = 2*1/(2+1) = 2/3 (P 1/2, R 1). c: own 0, others 2 -> 0.
    let ds = dataset(
        &[
            ("d", "a", vec![sp(0, 3, "X")]),
            ("d", "b", vec![sp(0, 3, "X")]),
            ("d", "c", vec![]),
        ],
        None,
    );
    let r = agreement(&ds, &SpanOptions::default()).expect("spans");
    let f = |n: &str| {
        r.annotators
            .iter()
            .find(|a| a.annotator == n)
            .and_then(|a| a.span_f1)
    };
    assert!(close(f("a"), 2.0 / 3.0));
    assert!(close(f("c"), 0.0));
    assert_eq!(r.pairs.len(), 3);
}

#[test]
fn both_empty_is_undefined_not_nan() {
    let ds = dataset(&[("d", "a", vec![]), ("d", "b", vec![])], None);
    let r = agreement(&ds, &SpanOptions::default()).expect("spans");
    assert_eq!(r.overall.exact.f1, None);
    assert!(!serde_json::to_string(&r)
        .unwrap_or_default()
        .contains("NaN"));
}

#[test]
fn pitfall_region_order_does_not_matter() {
    let fwd = vec![sp(0, 4, "A"), sp(6, 9, "B"), sp(12, 14, "A")];
    let mut rev = fwd.clone();
    rev.reverse();
    let ds1 = dataset(&[("d", "a", fwd.clone()), ("d", "b", fwd.clone())], None);
    let ds2 = dataset(&[("d", "a", fwd), ("d", "b", rev)], None);
    let (r1, r2) = (
        agreement(&ds1, &SpanOptions::default()),
        agreement(&ds2, &SpanOptions::default()),
    );
    assert_eq!(r1, r2);
    assert!(close(r2.expect("spans").overall.exact.f1, 1.0));
}

#[test]
fn pitfall_overlapping_spans_are_allowed_and_matched_each() {
    // Nested and overlapping spans with different labels: each is matched on its own label,
    // so an overlapping second label is not punished (IoU-style one-to-one matching did).
    let spans = vec![sp(0, 10, "ORG"), sp(0, 4, "PER"), sp(2, 8, "LOC")];
    let ds = dataset(&[("d", "a", spans.clone()), ("d", "b", spans)], None);
    let r = agreement(&ds, &SpanOptions::default()).expect("spans");
    assert!(close(r.overall.exact.f1, 1.0));
    assert!(close(r.overall.overlap.f1, 1.0));
    assert_eq!(r.spans, 6);
}

#[test]
fn pitfall_trailing_space_is_trimmed_when_text_is_known() {
    // "Ada Lovelace wrote" : one annotator selected "Ada Lovelace " (with the space).
    let text = "Ada Lovelace wrote";
    let rows = [
        ("d", "a", vec![sp(0, 12, "PER")]),
        ("d", "b", vec![sp(0, 13, "PER")]),
    ];
    let trimmed = agreement(&dataset(&rows, Some(text)), &SpanOptions::default()).expect("spans");
    assert!(close(trimmed.overall.exact.f1, 1.0));
    assert_eq!(trimmed.spans_trimmed, 1);
    let raw = agreement(
        &dataset(&rows, Some(text)),
        &SpanOptions {
            trim_whitespace: false,
        },
    )
    .expect("spans");
    assert!(close(raw.overall.exact.f1, 0.0));
    assert!(close(raw.overall.overlap.f1, 1.0));
    // Without the text there is nothing to trim against.
    let no_text = agreement(&dataset(&rows, None), &SpanOptions::default()).expect("spans");
    assert!(close(no_text.overall.exact.f1, 0.0));
}

#[test]
fn trim_handles_multibyte_text_and_bad_offsets() {
    let chars: Vec<char> = " é b ".chars().collect();
    let s = Span {
        start: 0,
        end: 5,
        label: 0,
    };
    assert_eq!(
        trim(s, &chars),
        Span {
            start: 1,
            end: 4,
            ..s
        }
    );
    let out_of_range = Span { end: 99, ..s };
    assert_eq!(trim(out_of_range, &chars), out_of_range);
}

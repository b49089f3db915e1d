//! Cross-method unit tests for the consensus methods (Dawid & Skene 1979; Zhang et al. 2016;
//! Hovy et al. 2013; majority vote): hand-checkable cases, gold clamping, edge cases (items
//! with no annotation, labels only gold uses, empty data) and determinism across thread
//! counts. Missing labels are exercised by the items-without-annotations case.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::dataset::{DatasetBuilder, Row};

fn opts(method: Method) -> ConsensusOptions {
    ConsensusOptions {
        method,
        ..ConsensusOptions::default()
    }
}

const ALL: [Method; 4] = [
    Method::MajorityVote,
    Method::DawidSkene,
    Method::OneCoinDawidSkene,
    Method::Mace,
];

#[test]
fn majority_vote_shares_ties_and_agreement() {
    // Item 1: x,x,y -> x (2/3). Item 2: x,y -> tie -> x (first label), counted.
    let ds = Dataset::from_triples([
        ("1", "a", "x"),
        ("1", "b", "x"),
        ("1", "c", "y"),
        ("2", "a", "y"),
        ("2", "b", "x"),
    ]);
    let c = infer(&ds, &opts(Method::MajorityVote));
    assert_eq!(c.labels, vec![0, 0]);
    assert_eq!(c.ties, 1);
    assert_eq!(c.posteriors, vec![2.0 / 3.0, 1.0 / 3.0, 0.5, 0.5]);
    assert_eq!(c.confidence, vec![2.0 / 3.0, 0.5]);
    // a: agrees on item 1 only; b: both; c: neither.
    assert_eq!(c.annotator_accuracy, vec![0.5, 1.0, 0.0]);
}

#[test]
fn numeric_labels_break_ties_by_value() {
    // "10" sorts after "9" by value: the tie goes to 9.
    let ds = Dataset::from_triples([("1", "a", "10"), ("1", "b", "9")]);
    let c = infer(&ds, &opts(Method::MajorityVote));
    assert_eq!(ds.labels[c.labels[0] as usize], "9");
}

#[test]
fn items_without_annotations_get_no_label() {
    let mut b = DatasetBuilder::default();
    for (item, annotator, label) in [("1", "a", "x"), ("1", "b", "x"), ("2", "a", "y")] {
        b.push(Row {
            item,
            annotator,
            label,
            ..Row::default()
        });
    }
    // Item 3 exists only as a gold item, with a label nobody gave.
    b.set_gold("3", "z");
    let ds = b.build(None).unwrap();
    for method in ALL {
        for use_gold in [false, true] {
            let o = ConsensusOptions {
                use_gold,
                ..opts(method)
            };
            let c = infer(&ds, &o);
            assert_eq!(c.labels.len(), 3);
            assert_eq!(c.labels[2], NO_LABEL, "{method:?}");
            assert_eq!(c.confidence[2], 0.0);
            assert!(c.posteriors[6..9].iter().all(|&v| v == 0.0));
            assert_eq!(c.labels[0], 0, "{method:?}");
            assert_eq!(c.n_labels, 3);
            assert!(c.posteriors.iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn empty_dataset_is_fine() {
    let ds = Dataset::from_triples(std::iter::empty());
    for method in ALL {
        let c = infer(&ds, &opts(method));
        assert!(c.labels.is_empty() && c.posteriors.is_empty());
    }
}

/// Two annotators, always opposite; only gold can say who is right.
fn opposite_pair() -> Dataset {
    let mut b = DatasetBuilder::default();
    let truth = ["x", "y", "x", "y", "y", "x", "y", "y"];
    for (i, t) in truth.iter().enumerate() {
        let item = i.to_string();
        let other = if *t == "x" { "y" } else { "x" };
        for (annotator, label) in [("good", *t), ("bad", other)] {
            b.push(Row {
                item: &item,
                annotator,
                label,
                ..Row::default()
            });
        }
        if i < 2 {
            b.set_gold(&item, t);
        }
    }
    b.build(None).unwrap()
}

#[test]
fn gold_clamping_decides_who_is_right() {
    let ds = opposite_pair();
    let y = 1u32;
    let truth: Vec<u32> = ["x", "y", "x", "y", "y", "x", "y", "y"]
        .iter()
        .map(|&t| u32::from(t == "y"))
        .collect();
    for method in [Method::DawidSkene, Method::OneCoinDawidSkene, Method::Mace] {
        let o = ConsensusOptions {
            use_gold: true,
            ..opts(method)
        };
        let c = infer(&ds, &o);
        assert_eq!(c.labels, truth, "{method:?}");
        // Gold items are one-hot.
        assert_eq!(c.posteriors[0..2], [1.0, 0.0]);
        assert_eq!(c.posteriors[2..4], [0.0, 1.0]);
        let good = ds.annotators.iter().position(|a| a == "good").unwrap();
        let bad = 1 - good;
        assert!(
            c.annotator_accuracy[good] > c.annotator_accuracy[bad],
            "{method:?} {:?}",
            c.annotator_accuracy
        );
    }
    // Without gold the vote is tied everywhere and goes to x.
    let c = infer(&ds, &opts(Method::MajorityVote));
    assert!(c.labels.iter().all(|&l| l != y));
    assert_eq!(c.ties, 8);
}

/// Random crowd: `n_items` items, 5 labels of 40 annotators with mixed accuracy.
pub(crate) fn random_crowd(n_items: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let skill: Vec<f64> = (0..40).map(|_| rng.random_range(0.3..0.95)).collect();
    let mut triples = Vec::new();
    for item in 0..n_items {
        let truth = rng.random_range(0..3u32);
        for _ in 0..5 {
            let a = rng.random_range(0..40usize);
            let label = if rng.random::<f64>() < skill[a] {
                truth
            } else {
                rng.random_range(0..3u32)
            };
            triples.push((item.to_string(), format!("w{a}"), label.to_string()));
        }
    }
    Dataset::from_triples(
        triples
            .iter()
            .map(|(i, a, l)| (i.as_str(), a.as_str(), l.as_str())),
    )
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn identical_for_any_thread_count() {
    // More items than one chunk, so the chunked reductions are exercised.
    let ds = random_crowd(2 * ITEM_CHUNK + 123, 7);
    let run = |threads: usize, method: Method| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let o = ConsensusOptions {
                    max_iter: 15,
                    ..opts(method)
                };
                (infer(&ds, &o), leave_one_out_majority(&ds))
            })
    };
    for method in ALL {
        let (one, loo_one) = run(1, method);
        let (four, loo_four) = run(4, method);
        assert_eq!(bits(&one.posteriors), bits(&four.posteriors), "{method:?}");
        assert_eq!(
            bits(&one.annotator_accuracy),
            bits(&four.annotator_accuracy)
        );
        assert_eq!(one.iterations, four.iterations);
        assert_eq!(one.labels, four.labels);
        assert_eq!(loo_one, loo_four);
    }
}

#[test]
fn scatter_and_gather_sums_agree() {
    let ds = random_crowd(3 * ITEM_CHUNK, 5);
    let p = Problem::new(&ds, false);
    let width = p.k + 1;
    let starts: Vec<usize> = (0..=p.n_annotators()).map(|a| a * width).collect();
    let value = |item: usize| ((item * 7919) % 13) as f64 / 13.0;
    let add = |_: usize, item: usize, label: u32, slot: &mut [f64]| {
        slot[label as usize] += value(item);
        slot[width - 1] += 1.0;
    };
    let run = |layout: Layout| {
        let mut out = vec![f64::NAN; starts[p.n_annotators()]];
        annotator_sums_with(&p, &starts, &mut out, layout, add);
        out
    };
    let (scatter, blocks, gather) = (run(Layout::Parts), run(Layout::Blocks), run(Layout::Plain));
    // Reference orders: one table per item range summed in range order; and straight item
    // order per annotator. The layouts must reproduce them bit for bit.
    let bounds = item_parts(&ds);
    let mut grouped = vec![0.0; scatter.len()];
    let mut plain = vec![0.0; scatter.len()];
    for part in 0..PARTS {
        let mut acc = vec![0.0; scatter.len()];
        for item in bounds[part]..bounds[part + 1] {
            for pos in ds.item_range(item) {
                let a = ds.annotator[pos] as usize;
                add(a, item, p.obs[pos], &mut acc[starts[a]..starts[a + 1]]);
                add(a, item, p.obs[pos], &mut plain[starts[a]..starts[a + 1]]);
            }
        }
        for (g, v) in grouped.iter_mut().zip(&acc) {
            *g += v;
        }
    }
    assert_eq!(bits(&scatter), bits(&grouped));
    assert_eq!(bits(&blocks), bits(&grouped));
    assert_eq!(bits(&gather), bits(&plain));
    for (x, y) in scatter.iter().zip(&gather) {
        assert!((x - y).abs() < 1e-9, "{x} {y}");
    }
    // The count column is the number of annotations per annotator.
    let total: f64 = scatter.chunks(width).map(|c| c[width - 1]).sum();
    assert_eq!(total as usize, ds.n_annotations());
}

#[test]
fn models_beat_chance_on_a_random_crowd() {
    let ds = random_crowd(600, 11);
    // Truth is not stored; check the models agree with majority vote most of the time and
    // that posteriors are proper distributions.
    let mv = infer(&ds, &opts(Method::MajorityVote));
    for method in [Method::DawidSkene, Method::OneCoinDawidSkene, Method::Mace] {
        let c = infer(&ds, &opts(method));
        let same = c
            .labels
            .iter()
            .zip(&mv.labels)
            .filter(|(a, b)| a == b)
            .count();
        assert!(same as f64 > 0.8 * 600.0, "{method:?} {same}");
        for row in c.posteriors.chunks(c.n_labels) {
            let s: f64 = row.iter().sum();
            assert!((s - 1.0).abs() < 1e-9);
        }
    }
}

#[test]
fn long_items_do_not_underflow() {
    // 2000 annotators on one item: a product of raw probabilities would underflow to 0.
    let names: Vec<String> = (0..2000).map(|a| format!("a{a}")).collect();
    let mut triples: Vec<(&str, &str, &str)> = Vec::new();
    for (a, name) in names.iter().enumerate() {
        triples.push(("1", name, if a % 3 == 0 { "y" } else { "x" }));
        triples.push(("2", name, if a % 3 == 0 { "x" } else { "y" }));
    }
    let ds = Dataset::from_triples(triples);
    for method in [Method::DawidSkene, Method::OneCoinDawidSkene, Method::Mace] {
        let c = infer(&ds, &opts(method));
        assert!(c.posteriors.iter().all(|v| v.is_finite()), "{method:?}");
        assert_eq!(c.labels, vec![0, 1], "{method:?}");
    }
}

#[test]
fn method_names_parse() {
    use clap::ValueEnum;
    for method in ALL {
        assert_eq!(Method::from_str(method.name(), false), Ok(method));
        let json = serde_json::to_string(&method).unwrap();
        assert_eq!(json, format!("\"{}\"", method.name()));
    }
}

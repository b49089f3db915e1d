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
    let (scatter, gather) = (run(Layout::Parts), run(Layout::Plain));
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

/// Random crowd on `n_labels` labels with gold on every 7th item, annotators that never give
/// some labels (missing error rows) and a gold item nobody labelled.
fn gold_crowd(n_items: usize, n_labels: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let skill: Vec<f64> = (0..30).map(|_| rng.random_range(0.3..0.95)).collect();
    let mut b = DatasetBuilder::default();
    let names: Vec<String> = (0..30).map(|a| format!("w{a}")).collect();
    let labels: Vec<String> = (0..n_labels).map(|l| l.to_string()).collect();
    for item in 0..n_items {
        let id = item.to_string();
        let truth = rng.random_range(0..n_labels);
        for _ in 0..rng.random_range(1..6) {
            let a = rng.random_range(0..30usize);
            let mut label = if rng.random::<f64>() < skill[a] {
                truth
            } else {
                rng.random_range(0..n_labels)
            };
            // The first ten annotators never give one label.
            if a < 10 && label == a % n_labels {
                label = (label + 1) % n_labels;
            }
            b.push(Row {
                item: &id,
                annotator: &names[a],
                label: &labels[label],
                gold: (item % 7 == 0).then_some(labels[truth].as_str()),
                ..Row::default()
            });
        }
    }
    b.set_gold("unlabelled", "1");
    b.build(None).unwrap()
}

/// Straightforward EM in crowd-kit's order (E-step, priors, M-step, bound), with posteriors
/// stored and every sum taken over annotations: the reference for the fused pass. Returns the
/// posteriors, the (annotator, given, true) log error rates and the iterations.
fn unfused_em(p: &Problem, opts: &ConsensusOptions, one_coin: bool) -> (Vec<f64>, Vec<f64>, usize) {
    let (k, n_ann) = (p.k, p.n_annotators());
    let (mut post, _, _) = majority::vote_shares(p);
    let n_active = p.n_active as f64;
    let items = |f: &mut dyn FnMut(usize, std::ops::Range<usize>)| {
        for item in 0..p.n_items() {
            let range = p.ds.item_range(item);
            if !range.is_empty() {
                f(item, range);
            }
        }
    };
    let mut priors = vec![0.0; k];
    items(&mut |item, _| {
        for c in 0..k {
            priors[c] += post[item * k + c] / n_active;
        }
    });
    let m_step = |post: &[f64], log_err: &mut [f64]| -> f64 {
        let mut counts = vec![0.0; n_ann * k * k];
        let mut used = vec![false; n_ann * k];
        let mut n_given = vec![0.0; n_ann];
        for item in 0..p.n_items() {
            for pos in p.ds.item_range(item) {
                let (a, l) = (p.ds.annotator[pos] as usize, p.obs[pos] as usize);
                used[a * k + l] = true;
                n_given[a] += 1.0;
                for t in 0..k {
                    counts[(a * k + l) * k + t] += post[item * k + t];
                }
            }
        }
        let mut joint = 0.0;
        for a in 0..n_ann {
            if one_coin {
                let s: f64 = (0..k).map(|l| counts[(a * k + l) * k + l]).sum();
                let skill = s / n_given[a];
                let right = skill.clamp(EPS, 1.0 - EPS).ln();
                let wrong = ((1.0 - skill) / (k - 1) as f64).clamp(EPS, 1.0 - EPS).ln();
                for l in 0..k {
                    for t in 0..k {
                        log_err[(a * k + l) * k + t] = if l == t { right } else { wrong };
                    }
                }
                joint += s * right + (n_given[a] - s) * wrong;
                continue;
            }
            for t in 0..k {
                let rows = (0..k).filter(|&l| used[a * k + l]);
                let total: f64 = rows
                    .clone()
                    .map(|l| counts[(a * k + l) * k + t].max(EPS))
                    .sum();
                for l in rows {
                    let c = counts[(a * k + l) * k + t];
                    let e = c.max(EPS).ln() - total.ln();
                    joint += c * e;
                    log_err[(a * k + l) * k + t] = e;
                }
            }
        }
        joint
    };
    let mut log_err = vec![0.0; n_ann * k * k];
    m_step(&post, &mut log_err);
    let (mut loss, mut iterations) = (f64::NEG_INFINITY, 0);
    for _ in 0..opts.max_iter {
        let (mut sum, mut weighted, mut entropy) = (vec![0.0; k], vec![0.0; k], 0.0);
        items(&mut |item, range| {
            let row = &mut post[item * k..(item + 1) * k];
            if p.gold[item] != NO_LABEL {
                row.fill(0.0);
                row[p.gold[item] as usize] = 1.0;
            } else {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = priors[c].max(EPS).ln();
                    for pos in range.clone() {
                        let (a, l) = (p.ds.annotator[pos] as usize, p.obs[pos] as usize);
                        *v += log_err[(a * k + l) * k + c];
                    }
                }
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                row.iter_mut().for_each(|v| *v = (*v - max).exp());
                let z: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= z);
            }
            for c in 0..k {
                sum[c] += row[c];
                weighted[c] += range.len() as f64 * row[c];
                let q = row[c].max(EPS);
                entropy -= q * q.ln();
            }
        });
        priors = sum.iter().map(|s| s / n_active).collect();
        let joint = m_step(&post, &mut log_err);
        let prior_term: f64 = (0..k).map(|c| weighted[c] * priors[c].max(EPS).ln()).sum();
        let new_loss = (prior_term + joint + entropy) / p.obs.len() as f64;
        iterations += 1;
        if new_loss - loss < opts.tol {
            break;
        }
        loss = new_loss;
    }
    (post, log_err, iterations)
}

#[test]
fn fused_em_matches_an_unfused_reference() {
    let ds = gold_crowd(3000, 3, 3);
    for method in [Method::DawidSkene, Method::OneCoinDawidSkene] {
        let o = ConsensusOptions {
            use_gold: true,
            ..opts(method)
        };
        let p = Problem::new(&ds, true);
        assert_eq!(p.k, 3);
        let (post, log_err, iterations) = unfused_em(&p, &o, method == Method::OneCoinDawidSkene);
        let c = infer(&ds, &o);
        assert_eq!(c.iterations, iterations, "{method:?}");
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12;
        for (x, y) in c.posteriors.iter().zip(&post) {
            assert!(close(*x, *y), "{method:?} {x} {y}");
        }
        if let Some(conf) = &c.confusion {
            for a in 0..p.n_annotators() {
                for g in 0..3 {
                    for t in 0..3 {
                        let want = log_err[(a * 3 + g) * 3 + t];
                        let got = conf[a * 9 + t * 3 + g];
                        // Labels the annotator never gave have no row (0 in the output).
                        if got != 0.0 {
                            assert!(close(got, want.exp()), "{a} {g} {t} {got} {want}");
                        }
                    }
                }
            }
        } else {
            // One-coin: the skill is exp(log rate of the given label) before clipping.
            for a in 0..p.n_annotators() {
                assert!(close(c.annotator_accuracy[a], log_err[a * 9].exp()));
            }
        }
        // Bit-identical with 1 and 3 threads.
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| infer(&ds, &o))
        };
        let (one, three) = (run(1), run(3));
        assert_eq!(bits(&one.posteriors), bits(&three.posteriors));
        assert_eq!(
            bits(&one.annotator_accuracy),
            bits(&three.annotator_accuracy)
        );
        let conf = |c: &Consensus| bits(c.confusion.as_deref().unwrap_or_default());
        assert_eq!(conf(&one), conf(&three));
        assert_eq!(one.iterations, three.iterations);
    }
}

/// The E-step specialised to a compile-time label count must do exactly the dynamic path's
/// arithmetic, in the same order: same posteriors, priors and error rates, bit for bit.
#[test]
fn fixed_and_dynamic_label_counts_fit_the_same_bits() {
    fn check<const K: usize>(seed: u64) {
        let ds = gold_crowd(2 * ITEM_CHUNK + 77, K, seed);
        let p = Problem::new(&ds, true);
        assert_eq!(p.k, K);
        let o = ConsensusOptions {
            use_gold: true,
            ..opts(Method::DawidSkene)
        };
        let mut m_step = |p: &Problem, rows: &em::Rows, acc: &[f64], log_err: &mut [f64]| {
            dawid_skene::m_step(p, &rows.block_lens(p.k), acc, log_err)
        };
        let fixed = em::fit_in(em::Fixed::<K>, &p, &o, &mut m_step);
        let dynamic = em::fit_in(em::Dynamic(K), &p, &o, &mut m_step);
        assert!(fixed.iterations > 2, "{K}: {}", fixed.iterations);
        assert_eq!(fixed.iterations, dynamic.iterations, "{K}");
        assert_eq!(bits(&fixed.post), bits(&dynamic.post), "{K}");
        assert_eq!(bits(&fixed.priors), bits(&dynamic.priors), "{K}");
        assert_eq!(bits(&fixed.log_err), bits(&dynamic.log_err), "{K}");
    }
    check::<3>(11);
    check::<5>(12);
}

/// Manual benchmark, CPU time of one Dawid-Skene fit on one thread, specialised and dynamic
/// (CPU time, not wall: robust on a busy machine). Run with
/// `LABELAUDIT_EM_BENCH=dir cargo test --release em_cpu_time -- --ignored --nocapture`,
/// `dir` holding `annotations.csv` and `gold.csv`.
#[test]
#[ignore]
fn em_cpu_time() {
    let dir = std::path::PathBuf::from(std::env::var("LABELAUDIT_EM_BENCH").unwrap());
    let ingest_opts = crate::ingest::IngestOptions {
        gold_file: Some(dir.join("gold.csv")),
        ..Default::default()
    };
    let loaded = crate::ingest::load(&[dir.join("annotations.csv")], &ingest_opts).unwrap();
    let p = Problem::new(&loaded.dataset, true);
    let o = ConsensusOptions {
        use_gold: true,
        ..opts(Method::DawidSkene)
    };
    // Nanoseconds this thread has run (the pool's only worker runs all the parallel work).
    let cpu_ns = || -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        stat.split_whitespace().next().unwrap().parse().unwrap()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut m_step = |p: &Problem, rows: &em::Rows, acc: &[f64], log_err: &mut [f64]| {
        dawid_skene::m_step(p, &rows.block_lens(p.k), acc, log_err)
    };
    for round in 0..3 {
        let (fixed, dynamic) = pool.install(|| {
            let t0 = cpu_ns();
            let a = em::fit(&p, &o, &mut m_step);
            let t1 = cpu_ns();
            let b = em::fit_in(em::Dynamic(p.k), &p, &o, &mut m_step);
            let t2 = cpu_ns();
            assert_eq!(bits(&a.post), bits(&b.post));
            (t1 - t0, t2 - t1)
        });
        eprintln!(
            "round {round}: k = {}, fit {:.3} s, dynamic {:.3} s (CPU)",
            p.k,
            fixed as f64 * 1e-9,
            dynamic as f64 * 1e-9
        );
    }
}

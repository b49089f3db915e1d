//! Dawid-Skene: A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer
//! Error-Rates Using the EM Algorithm", Applied Statistics 28(1), 1979, pp. 20–28.
//!
//! Each annotator has a full confusion matrix P(given label | true label); classes have
//! priors. Matches crowd-kit 1.4.2 `DawidSkene(n_iter=100, tol=1e-5)`: majority-vote start,
//! M-step counts floored at 1e-10 *before* normalising, log-space E-step, stop when the
//! evidence lower bound per annotation improves by less than `tol` (see `em.rs`).
//!
//! Missing labels: a label an annotator never gave has no row in that annotator's matrix
//! (crowd-kit groups by the (annotator, label) pairs that occur), so the 1e-10 floor is only
//! spread over labels the annotator used; its confusion output row is 0. Items are summed
//! over the annotations they have.

use rayon::prelude::*;

use super::em::{self, Rows};
use super::{split_lengths, Consensus, ConsensusOptions, Method, Problem, EPS};

/// Dawid-Skene consensus.
pub(crate) fn run(p: &Problem, opts: &ConsensusOptions) -> Consensus {
    // Block lengths of the error rates, fixed for the whole fit (allocating them every
    // iteration is slow in a heap fragmented by ingest).
    let mut lens: Option<Vec<usize>> = None;
    let fit = crate::timings::stage("  em_fit", || {
        em::fit(
            p,
            opts,
            &mut |p: &Problem, rows: &Rows, acc: &[f64], log_err: &mut [f64]| {
                let lens = lens.get_or_insert_with(|| rows.block_lens(p.k));
                m_step(p, lens, acc, log_err)
            },
        )
    });
    let k = p.k;
    let mut out = p.finish(Method::DawidSkene, &fit.post);
    out.iterations = fit.iterations;
    out.converged = fit.converged;

    let n_labels = p.ds.n_labels();
    let n_ann = p.n_annotators();
    let mut confusion = vec![0.0; n_ann * n_labels * n_labels];
    let priors: Vec<f64> = fit.priors.iter().map(|&v| v.max(EPS)).collect();
    for a in 0..n_ann {
        let (start, end) = (fit.rows.offsets[a], fit.rows.offsets[a + 1]);
        let matrix = &mut confusion[a * n_labels * n_labels..(a + 1) * n_labels * n_labels];
        let mut accuracy = 0.0;
        for r in start..end {
            let given = fit.rows.label[r] as usize;
            for truth in 0..k {
                let e = fit.log_err[r * k + truth].exp();
                matrix[p.space[truth] as usize * n_labels + p.space[given] as usize] = e;
                if truth == given {
                    accuracy += priors[truth] * e;
                }
            }
        }
        out.annotator_accuracy[a] = if start == end { f64::NAN } else { accuracy };
    }
    out.confusion = Some(confusion);
    out
}

/// Full-confusion M-step: counts[row][true] = Σ posteriors of the annotations in the row
/// (`acc`), floored at EPS, normalised over the annotator's rows for each true label.
pub(super) fn m_step(p: &Problem, lens: &[usize], acc: &[f64], log_err: &mut [f64]) -> f64 {
    log_err.copy_from_slice(acc);
    let joint: Vec<f64> = split_lengths(log_err, lens)
        .into_par_iter()
        .map(|block| normalize_block(block, p.k))
        .collect();
    joint.iter().sum()
}

/// Floor one annotator's counts at EPS and turn them into log error rates, normalised over
/// its rows for each true label; returns Σ count·log rate.
fn normalize_block(block: &mut [f64], k: usize) -> f64 {
    let n_rows = block.len() / k.max(1);
    let mut joint = 0.0;
    for truth in 0..k {
        let total: f64 = (0..n_rows).map(|r| block[r * k + truth].max(EPS)).sum();
        let log_total = total.ln();
        for r in 0..n_rows {
            let count = block[r * k + truth];
            let log_e = count.max(EPS).ln() - log_total;
            joint += count * log_e;
            block[r * k + truth] = log_e;
        }
    }
    joint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::infer;
    use crate::Dataset;

    /// Three annotators on six items; "c" always swaps x and y, "a" and "b" are right.
    fn swapped() -> Dataset {
        let mut rows = Vec::new();
        let truth = ["x", "y", "x", "x", "y", "y"];
        let items = ["1", "2", "3", "4", "5", "6"];
        for (item, t) in items.iter().zip(truth) {
            let swap = if t == "x" { "y" } else { "x" };
            rows.push((*item, "a", t));
            rows.push((*item, "b", t));
            rows.push((*item, "c", swap));
        }
        Dataset::from_triples(rows)
    }

    #[test]
    fn recovers_truth_and_the_swapping_annotator() {
        let ds = swapped();
        let opts = ConsensusOptions::default();
        let c = infer(&ds, &opts);
        let x = ds.labels.iter().position(|l| l == "x").unwrap() as u32;
        let y = 1 - x;
        let want: Vec<u32> = [x, y, x, x, y, y].to_vec();
        assert_eq!(c.labels, want);
        assert!(c.confidence.iter().all(|&v| v > 0.999));
        let conf = c.confusion.as_ref().unwrap();
        let at = |a: usize, t: u32, g: u32| conf[a * 4 + t as usize * 2 + g as usize];
        // Annotator "c" (id 2): true x is given as y, true y as x.
        assert!(at(2, x, y) > 0.999 && at(2, y, x) > 0.999);
        assert!(at(2, x, x) < 1e-6 && at(2, y, y) < 1e-6);
        // "a" is perfect: accuracy = Σ prior·π_kk = 1.
        assert!((c.annotator_accuracy[0] - 1.0).abs() < 1e-6);
        assert!(c.annotator_accuracy[2] < 1e-6);
        assert!(c.converged);
    }

    #[test]
    fn rows_of_unused_labels_are_zero_and_columns_sum_to_one() {
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("2", "a", "y"),
            ("2", "b", "z"),
            ("3", "a", "z"),
            ("3", "b", "z"),
        ]);
        let c = infer(&ds, &ConsensusOptions::default());
        let conf = c.confusion.unwrap();
        // Annotator "b" never gave "y" (label 1): that column of its matrix is 0.
        for t in 0..3 {
            assert_eq!(conf[9 + t * 3 + 1], 0.0);
            let row: f64 = (0..3).map(|g| conf[9 + t * 3 + g]).sum();
            assert!((row - 1.0).abs() < 1e-9, "{row}");
        }
    }
}

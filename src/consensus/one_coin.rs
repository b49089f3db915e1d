//! One-coin Dawid-Skene: Y. Zhang, X. Chen, D. Zhou and M. I. Jordan, "Spectral Methods Meet
//! EM: A Provably Optimal Algorithm for Crowdsourcing", JMLR 17 (2016). The Dawid & Skene
//! (1979) model with one parameter per annotator: P(given = true) = s, every wrong label
//! (1 − s)/(K − 1).
//!
//! Matches crowd-kit 1.4.2 `OneCoinDawidSkene(n_iter=100)`: skill = mean posterior of the
//! annotator's own labels, error rates clipped to [1e-10, 1 − 1e-10] and not renormalised,
//! same EM loop and stopping rule as Dawid-Skene (`em.rs`). K counts every label in the label
//! space (crowd-kit: every label in the data).
//!
//! Missing labels: the skill averages over the annotations the annotator made; items sum
//! over the annotations they have. With `use_gold`, gold items are clamped in every E-step
//! (an extension: crowd-kit's one-coin model takes no gold).

use rayon::prelude::*;

use super::em::{self, Rows};
use super::{split_lengths, Consensus, ConsensusOptions, Method, Problem, EPS};

/// One-coin Dawid-Skene consensus.
pub(crate) fn run(p: &Problem, opts: &ConsensusOptions) -> Consensus {
    let mut skills = vec![f64::NAN; p.n_annotators()];
    let fit = em::fit(
        p,
        opts,
        &mut |p: &Problem, rows: &Rows, acc: &[f64], log_err: &mut [f64]| {
            m_step(p, rows, acc, log_err, &mut skills)
        },
    );
    let mut out = p.finish(Method::OneCoinDawidSkene, &fit.post);
    out.iterations = fit.iterations;
    out.converged = fit.converged;
    out.annotator_accuracy = skills;
    out
}

/// Skill per annotator, then its error rows; returns the annotator part of the lower bound.
fn m_step(p: &Problem, rows: &Rows, acc: &[f64], log_err: &mut [f64], skills: &mut [f64]) -> f64 {
    let k = p.k;
    let blocks = split_lengths(log_err, &rows.block_lens(k));
    let joint: Vec<f64> = blocks
        .into_par_iter()
        .zip(skills.par_iter_mut())
        .enumerate()
        .map(|(a, (block, skill))| {
            let n_given = p.annotator_entries(a).len();
            if n_given == 0 {
                return 0.0;
            }
            let first = rows.offsets[a];
            // S = Σ posterior of the annotator's own label over its annotations: each row's
            // sum at its given label.
            let s_sum: f64 = (first..rows.offsets[a + 1])
                .map(|r| acc[r * k + rows.label[r] as usize])
                .sum();
            let n = n_given as f64;
            *skill = s_sum / n;
            let log_right = skill.clamp(EPS, 1.0 - EPS).ln();
            let log_wrong = if k > 1 {
                ((1.0 - *skill) / (k - 1) as f64).clamp(EPS, 1.0 - EPS).ln()
            } else {
                0.0
            };
            for (r, row) in block.chunks_mut(k).enumerate() {
                let given = rows.label[first + r] as usize;
                row.fill(log_wrong);
                row[given] = log_right;
            }
            // Σ_pos Σ_k post·ln e = S·ln s + (n − S)·ln((1 − s)/(K − 1)), as posteriors sum
            // to one per item.
            s_sum * log_right + (n - s_sum) * log_wrong
        })
        .collect();
    joint.iter().sum()
}

#[cfg(test)]
mod tests {
    use crate::consensus::{infer, ConsensusOptions, Method};
    use crate::Dataset;

    #[test]
    fn skills_follow_agreement_with_the_truth() {
        // "a" and "b" always agree; "c" is right on 2 of 4 items.
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "x"),
            ("2", "a", "y"),
            ("2", "b", "y"),
            ("2", "c", "x"),
            ("3", "a", "x"),
            ("3", "b", "x"),
            ("3", "c", "y"),
            ("4", "a", "y"),
            ("4", "b", "y"),
            ("4", "c", "y"),
        ]);
        let opts = ConsensusOptions {
            method: Method::OneCoinDawidSkene,
            ..ConsensusOptions::default()
        };
        let c = infer(&ds, &opts);
        assert_eq!(c.labels, vec![0, 1, 0, 1]);
        assert!(c.annotator_accuracy[0] > 0.99 && c.annotator_accuracy[1] > 0.99);
        // c's skill is its mean posterior of being right: two sure hits out of four.
        assert!((c.annotator_accuracy[2] - 0.5).abs() < 0.01);
    }
}

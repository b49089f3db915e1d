//! MACE: D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy, "Learning Whom to Trust with
//! MACE", NAACL-HLT 2013, pp. 1120–1130.
//!
//! The true label is uniform over K labels; on each item an annotator either knows (prob. θ,
//! then gives the true label) or spams (prob. 1 − θ, then draws from a strategy ξ). Trained
//! like crowd-kit 1.4.2 `MACE()` defaults: variational Bayes with Beta(0.5, 0.5) on the
//! knowing/spamming split and symmetric Dirichlet(10) on ξ, 10 restarts from U(1, 2.5)
//! weights normalised per annotator, the restart with the best marginal log-likelihood wins.
//!
//! Deliberate differences from crowd-kit: (1) restarts use different seeds (crowd-kit reseeds
//! every restart with the same `random_state`, so its restarts are identical) drawn from
//! ChaCha8 with `seed`; (2) the E-step is in log space and the likelihood is exact (crowd-kit
//! multiplies raw probabilities and adds 1e-8 inside the log, which swamps items with ~30+
//! annotations); (3) crowd-kit's strategy counts come out of a sorted `groupby` while its
//! parameters are indexed in first-appearance order, which mismatches annotators and labels
//! unless the input happens to be sorted; here every array is indexed by id; (4) up to
//! `max_iter` iterations, stopping early when the log-likelihood per annotation changes by
//! less than `tol` (crowd-kit always runs 50).
//!
//! Missing labels: only given labels enter an item's likelihood and an annotator's counts.
//! With `use_gold`, gold items are clamped to their label in every E-step.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::function::gamma::digamma;

use super::{annotator_sums, Consensus, ConsensusOptions, Method, Problem, ITEM_CHUNK};
use crate::dataset::NO_LABEL;

/// Random restarts (crowd-kit `n_restarts`).
const RESTARTS: u64 = 10;
/// Beta prior on (spam, know) counts (crowd-kit `alpha`, `beta`).
const ALPHA: f64 = 0.5;
const BETA: f64 = 0.5;
/// Symmetric Dirichlet prior on each annotator's spamming strategy.
const STRATEGY_PRIOR: f64 = 10.0;

/// Per-annotator parameters (VB geometric means, so `spam + know` is a little below 1).
#[derive(Clone)]
struct Params {
    spam: Vec<f64>,
    know: Vec<f64>,
    /// `annotators × k` spamming strategy.
    strategy: Vec<f64>,
}

/// MACE consensus.
pub(crate) fn run(p: &Problem, opts: &ConsensusOptions) -> Consensus {
    let k = p.k;
    let n_ann = p.n_annotators();
    let mut post = vec![0.0; p.n_items() * k];
    let mut best: Option<(f64, Params, usize, bool)> = None;
    if k > 0 && !p.obs.is_empty() {
        for restart in 0..RESTARTS {
            let mut params = init(p, opts.seed, restart);
            let mut ll = e_step(p, &params, &mut post);
            let (mut iterations, mut converged) = (0, false);
            for iteration in 0..opts.max_iter {
                params = m_step(p, &params, &post);
                let new_ll = e_step(p, &params, &mut post);
                iterations = iteration + 1;
                let change = (new_ll - ll).abs() / p.obs.len() as f64;
                ll = new_ll;
                if change < opts.tol {
                    converged = true;
                    break;
                }
            }
            crate::timings::note(|| {
                format!("mace restart {restart}: {iterations} iterations, ll {ll}")
            });
            // Strictly better only: ties keep the earlier restart.
            if best.as_ref().is_none_or(|b| ll > b.0) {
                best = Some((ll, params, iterations, converged));
            }
        }
    }
    let Some((_, params, iterations, converged)) = best else {
        return p.finish(Method::Mace, &post);
    };
    e_step(p, &params, &mut post);
    let mut out = p.finish(Method::Mace, &post);
    out.iterations = iterations;
    out.converged = converged;
    let mut spam_probability = vec![f64::NAN; n_ann];
    for a in 0..n_ann {
        if p.annotator_entries(a).is_empty() {
            continue;
        }
        let competence = params.know[a] / (params.know[a] + params.spam[a]);
        out.annotator_accuracy[a] = competence;
        spam_probability[a] = 1.0 - competence;
    }
    out.spam_probability = Some(spam_probability);
    out
}

/// U(1, 2.5) weights normalised per annotator, as crowd-kit's `_initialize`.
fn init(p: &Problem, seed: u64, restart: u64) -> Params {
    let k = p.k;
    let n_ann = p.n_annotators();
    // Distinct, well-mixed stream per restart.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(restart);
    let mut draw = || 1.0 + 1.5 * rng.random::<f64>();
    let mut params = Params {
        spam: vec![0.0; n_ann],
        know: vec![0.0; n_ann],
        strategy: vec![0.0; n_ann * k],
    };
    for a in 0..n_ann {
        let (s, t) = (draw(), draw());
        params.spam[a] = s / (s + t);
        params.know[a] = t / (s + t);
        let row = &mut params.strategy[a * k..(a + 1) * k];
        for v in row.iter_mut() {
            *v = draw();
        }
        let z: f64 = row.iter().sum();
        for v in row.iter_mut() {
            *v /= z;
        }
    }
    params
}

/// Posteriors of the true label (log space); returns Σ_items log P(item's labels).
fn e_step(p: &Problem, params: &Params, post: &mut [f64]) -> f64 {
    let k = p.k;
    let log_k = (k as f64).ln();
    // P(label | T) = spam·ξ[label] + know·[label == T]: a factor common to every T, times a
    // gain on T = label. Both logs depend only on (annotator, label): tabulate them once.
    let (log_spam, log_gain): (Vec<f64>, Vec<f64>) = (0..params.strategy.len())
        .into_par_iter()
        .map(|i| {
            let spam_part = params.spam[i / k] * params.strategy[i];
            let log_spam = spam_part.ln();
            (log_spam, (spam_part + params.know[i / k]).ln() - log_spam)
        })
        .unzip();
    let partial: Vec<f64> = post
        .par_chunks_mut(ITEM_CHUNK * k)
        .enumerate()
        .map(|(chunk, block)| {
            let mut ll = 0.0;
            for (j, row) in block.chunks_mut(k).enumerate() {
                let item = chunk * ITEM_CHUNK + j;
                let range = p.ds.item_range(item);
                if range.is_empty() {
                    continue;
                }
                row.fill(0.0);
                let mut base = -log_k;
                // Labels given on this item (k ≤ 64); the others all end up exactly `base`.
                let mut given = 0u64;
                for pos in range {
                    let l = p.obs[pos] as usize;
                    let i = p.ds.annotator[pos] as usize * k + l;
                    base += log_spam[i];
                    row[l] += log_gain[i];
                    given |= 1u64.checked_shl(l as u32).unwrap_or(0);
                }
                for v in row.iter_mut() {
                    *v += base;
                }
                let gold = p.gold[item];
                if gold != NO_LABEL {
                    ll += row[gold as usize];
                    row.fill(0.0);
                    row[gold as usize] = 1.0;
                } else {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    // One exp per label, and a single one shared by all labels nobody gave
                    // (their values are all exactly `base`): the same terms are summed.
                    let all_given = k > 64 || given.count_ones() as usize == k;
                    let shared = if all_given {
                        f64::NAN
                    } else {
                        (base - max).exp()
                    };
                    for (l, v) in row.iter_mut().enumerate() {
                        *v = if !all_given && given & (1u64 << l) == 0 {
                            shared
                        } else {
                            // exp(0) = 1 exactly: the maximum needs no call.
                            let d = *v - max;
                            if d == 0.0 {
                                1.0
                            } else {
                                d.exp()
                            }
                        };
                    }
                    let z: f64 = row.iter().sum();
                    ll += max + z.ln();
                    for v in row.iter_mut() {
                        *v /= z;
                    }
                }
            }
            ll
        })
        .collect();
    partial.iter().sum()
}

/// Variational M-step: expected spam/know counts and strategy counts per annotator, then
/// exp(ψ(count + prior) − ψ(total + priors)).
fn m_step(p: &Problem, old: &Params, post: &[f64]) -> Params {
    let k = p.k;
    let n_ann = p.n_annotators();
    // Per annotator: [expected spam count, expected know count, strategy counts (k)].
    let width = k + 2;
    let starts: Vec<usize> = (0..=n_ann).map(|a| a * width).collect();
    let mut counts = vec![0.0; n_ann * width];
    // P(spamming | T = l) = spam·ξ / (spam·ξ + know); when T ≠ l it must be spam. It depends
    // only on (annotator, label): tabulate it once instead of once per annotation.
    let spam_if_right_table: Vec<f64> = (0..old.strategy.len())
        .map(|i| {
            let spam_part = old.spam[i / k] * old.strategy[i];
            spam_part / (spam_part + old.know[i / k])
        })
        .collect();
    annotator_sums(p, &starts, &mut counts, |a, item, label, slot| {
        let l = label as usize;
        let right = post[item * k + l];
        let spam_if_right = spam_if_right_table[a * k + l];
        let spam = (1.0 - right) + right * spam_if_right;
        slot[0] += spam;
        slot[1] += right * (1.0 - spam_if_right);
        slot[2 + l] += spam;
    });
    let mut params = Params {
        spam: vec![0.0; n_ann],
        know: vec![0.0; n_ann],
        strategy: vec![0.0; n_ann * k],
    };
    params
        .spam
        .par_iter_mut()
        .zip(params.know.par_iter_mut())
        .zip(params.strategy.par_chunks_mut(k.max(1)))
        .zip(counts.par_chunks(width))
        .for_each(|(((spam, know), strategy), c)| {
            let total = digamma(c[0] + c[1] + ALPHA + BETA);
            *spam = (digamma(c[0] + ALPHA) - total).exp();
            *know = (digamma(c[1] + BETA) - total).exp();
            let given: f64 = c[2..].iter().sum();
            let strategy_total = digamma(given + STRATEGY_PRIOR * k as f64);
            for (v, &n) in strategy.iter_mut().zip(&c[2..]) {
                *v = (digamma(n + STRATEGY_PRIOR) - strategy_total).exp();
            }
        });
    params
}

#[cfg(test)]
mod tests {
    use crate::consensus::{infer, ConsensusOptions, Method};
    use crate::Dataset;

    #[test]
    fn spammer_who_always_says_x_gets_low_competence() {
        // Three reliable annotators agree with a hidden truth; "s" answers "x" every time.
        let truth = ["x", "y", "y", "x", "y", "y", "x", "y", "y", "y"];
        let mut rows = Vec::new();
        let items: Vec<String> = (0..truth.len()).map(|i| i.to_string()).collect();
        for (item, t) in items.iter().zip(truth) {
            for a in ["a", "b", "c"] {
                rows.push((item.as_str(), a, t));
            }
            rows.push((item.as_str(), "s", "x"));
        }
        let ds = Dataset::from_triples(rows);
        let opts = ConsensusOptions {
            method: Method::Mace,
            ..ConsensusOptions::default()
        };
        let c = infer(&ds, &opts);
        let want: Vec<u32> = truth.iter().map(|&t| u32::from(t == "y")).collect();
        assert_eq!(c.labels, want);
        let spam = c.spam_probability.as_ref().unwrap();
        assert!(spam[3] > 0.5, "{spam:?}");
        assert!(spam[0] < 0.3, "{spam:?}");
        // Same seed, same answer.
        let again = infer(&ds, &opts);
        assert_eq!(again.posteriors, c.posteriors);
    }
}

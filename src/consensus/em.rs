//! The EM loop shared by Dawid-Skene (Dawid & Skene 1979, Applied Statistics 28(1)) and its
//! one-coin variant (Zhang et al. 2016, JMLR 17), following crowd-kit 1.4.2's `DawidSkene.fit`:
//! start from majority-vote shares, M-step, then repeat E-step → priors → M-step → evidence
//! lower bound per annotation, and stop once the bound improves by less than `tol`.
//!
//! Missing labels: an annotator's error rows exist only for labels that annotator gave
//! ("rows"), exactly like crowd-kit's `groupby(["worker", "label"])`; the E-step sums log
//! error rates over the annotations that exist, in log space, so long items do not underflow.

use rayon::prelude::*;

use super::{majority, ConsensusOptions, Problem, EPS, ITEM_CHUNK};
use crate::dataset::NO_LABEL;

/// The (annotator, given label) pairs that occur, annotator-major and label-ascending: each
/// owns a `k`-vector over true labels of P(given label | true label).
pub(crate) struct Rows {
    /// `offsets[a]..offsets[a + 1]`: annotator `a`'s rows.
    pub offsets: Vec<usize>,
    /// Compact given label of each row.
    pub label: Vec<u32>,
    /// Row of each annotation.
    pub pos_row: Vec<u32>,
    /// Row of each (annotator, given label) pair, at `annotator * k + label` (only pairs that
    /// occur are set).
    pub row_of: Vec<u32>,
}

impl Rows {
    pub fn build(p: &Problem) -> Rows {
        let n_ann = p.n_annotators();
        let mut offsets = Vec::with_capacity(n_ann + 1);
        offsets.push(0);
        let mut label = Vec::new();
        // Dense seen-label scratch, reset through the labels touched.
        let mut seen = vec![false; p.k];
        let mut row_of = vec![u32::MAX; n_ann * p.k];
        for a in 0..n_ann {
            let start = label.len();
            for e in p.annotator_entries(a) {
                if !std::mem::replace(&mut seen[e.label as usize], true) {
                    label.push(e.label);
                }
            }
            label[start..].sort_unstable();
            for (r, &l) in label.iter().enumerate().skip(start) {
                seen[l as usize] = false;
                row_of[a * p.k + l as usize] = r as u32;
            }
            offsets.push(label.len());
        }
        let pos_row =
            p.ds.annotator
                .par_iter()
                .zip(p.obs.par_iter())
                .map(|(&a, &l)| row_of[a as usize * p.k + l as usize])
                .collect();
        Rows {
            offsets,
            label,
            pos_row,
            row_of,
        }
    }

    /// Number of error-rate values per annotator block (`rows × k`).
    pub fn block_lens(&self, k: usize) -> Vec<usize> {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) * k).collect()
    }

    /// Start of each annotator's block of error-rate values (`offsets × k`).
    pub fn block_starts(&self, k: usize) -> Vec<usize> {
        self.offsets.iter().map(|&o| o * k).collect()
    }
}

/// What a fitted EM run leaves behind.
pub(crate) struct EmFit {
    /// Compact `items × k` posteriors.
    pub post: Vec<f64>,
    /// Class priors (mean posterior over items with annotations).
    pub priors: Vec<f64>,
    /// `rows × k` natural-log error rates.
    pub log_err: Vec<f64>,
    pub rows: Rows,
    pub iterations: usize,
    pub converged: bool,
}

/// The M-step: fill `log_err` from the posteriors and return Σ over annotations of
/// Σ_k post·log(error rate), the annotator part of the evidence lower bound.
pub(crate) type MStep<'s> = dyn FnMut(&Problem, &Rows, &[f64], &mut [f64]) -> f64 + 's;

/// Run EM from majority-vote shares. `m_step` decides the error model.
pub(crate) fn fit(p: &Problem, opts: &ConsensusOptions, m_step: &mut MStep) -> EmFit {
    let k = p.k;
    let rows = Rows::build(p);
    let (mut post, _, _) = majority::vote_shares(p);
    let n_active = p.n_active.max(1) as f64;
    let mut priors: Vec<f64> = p
        .posterior_sums(&post)
        .into_iter()
        .map(|s| s / n_active)
        .collect();
    let mut log_err = vec![0.0; rows.label.len() * k];
    m_step(p, &rows, &post, &mut log_err);
    let mut fit = EmFit {
        post: Vec::new(),
        priors: Vec::new(),
        log_err: Vec::new(),
        rows,
        iterations: 0,
        converged: false,
    };
    let n_obs = p.obs.len();
    if k == 0 || n_obs == 0 {
        fit.post = post;
        fit.priors = priors;
        fit.log_err = log_err;
        fit.converged = true;
        return fit;
    }
    let mut loss = f64::NEG_INFINITY;
    for iteration in 0..opts.max_iter {
        let log_prior: Vec<f64> = priors.iter().map(|&v| v.max(EPS).ln()).collect();
        let stats = e_step(p, &fit.rows, &log_err, &log_prior, &mut post);
        priors = stats.sum.iter().map(|s| s / n_active).collect();
        let joint = m_step(p, &fit.rows, &post, &mut log_err);
        // crowd-kit's `_evidence_lower_bound`: every annotation row carries log prior too.
        let prior_term: f64 = stats
            .weighted
            .iter()
            .zip(&priors)
            .map(|(w, &pi)| w * pi.max(EPS).ln())
            .sum();
        let new_loss = (prior_term + joint + stats.entropy) / n_obs as f64;
        fit.iterations = iteration + 1;
        if new_loss - loss < opts.tol {
            fit.converged = true;
            break;
        }
        loss = new_loss;
    }
    crate::timings::note(|| format!("em: {} iterations", fit.iterations));
    fit.post = post;
    fit.priors = priors;
    fit.log_err = log_err;
    fit
}

/// Per-item sums from one E-step.
#[derive(Default)]
struct ItemStats {
    /// Σ_items posterior, per label.
    sum: Vec<f64>,
    /// Σ_items (annotations on the item) · posterior, per label.
    weighted: Vec<f64>,
    /// Σ_items −Σ_k p·ln p, with p floored at EPS (crowd-kit clips before the log).
    entropy: f64,
}

impl ItemStats {
    fn add(&mut self, other: &ItemStats) {
        for (s, o) in self.sum.iter_mut().zip(&other.sum) {
            *s += o;
        }
        for (s, o) in self.weighted.iter_mut().zip(&other.weighted) {
            *s += o;
        }
        self.entropy += other.entropy;
    }
}

/// Posterior of each item's true label given priors and error rates; gold items clamped.
fn e_step(
    p: &Problem,
    rows: &Rows,
    log_err: &[f64],
    log_prior: &[f64],
    post: &mut [f64],
) -> ItemStats {
    let k = p.k;
    let partial: Vec<ItemStats> = post
        .par_chunks_mut(ITEM_CHUNK * k)
        .enumerate()
        .map(|(chunk, block)| {
            let mut st = ItemStats {
                sum: vec![0.0; k],
                weighted: vec![0.0; k],
                entropy: 0.0,
            };
            // The floored term, the same value `q * q.ln()` gives at q = EPS.
            let eps_term = EPS * EPS.ln();
            for (j, row) in block.chunks_mut(k).enumerate() {
                let item = chunk * ITEM_CHUNK + j;
                let range = p.ds.item_range(item);
                if range.is_empty() {
                    continue;
                }
                let n = range.len() as f64;
                let gold = p.gold[item];
                if gold != NO_LABEL {
                    row.fill(0.0);
                    row[gold as usize] = 1.0;
                } else {
                    row.copy_from_slice(log_prior);
                    for pos in range {
                        let r = rows.pos_row[pos] as usize;
                        for (v, e) in row.iter_mut().zip(&log_err[r * k..(r + 1) * k]) {
                            *v += e;
                        }
                    }
                    normalize_log_row(row);
                }
                for c in 0..k {
                    st.sum[c] += row[c];
                    st.weighted[c] += n * row[c];
                    // Skip the log where its value is known: floored (the term at EPS) or
                    // exactly 1 (the term is 0, and subtracting 0 changes nothing).
                    let q = row[c];
                    if q > EPS {
                        if q != 1.0 {
                            st.entropy -= q * q.ln();
                        }
                    } else {
                        st.entropy -= eps_term;
                    }
                }
            }
            st
        })
        .collect();
    let mut total = ItemStats {
        sum: vec![0.0; k],
        weighted: vec![0.0; k],
        entropy: 0.0,
    };
    for st in &partial {
        total.add(st);
    }
    total
}

/// Turn a row of log-likelihoods into probabilities (max-shifted, so no underflow).
pub(crate) fn normalize_log_row(row: &mut [f64]) {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for v in row.iter_mut() {
        // exp(0) = 1 exactly: the maximum needs no call.
        let d = *v - max;
        *v = if d == 0.0 { 1.0 } else { d.exp() };
        z += *v;
    }
    for v in row.iter_mut() {
        *v /= z;
    }
}

//! Consensus (truth inference): one label per item from many annotators' labels, with a
//! posterior per label and a quality estimate per annotator.
//!
//! Methods: majority vote; Dawid & Skene (1979), "Maximum Likelihood Estimation of Observer
//! Error-Rates Using the EM Algorithm", Applied Statistics 28(1); the one-coin Dawid-Skene
//! model of Zhang, Chen, Zhou & Jordan (2016), JMLR 17; MACE of Hovy, Berg-Kirkpatrick,
//! Vaswani & Hovy (2013), NAACL-HLT. Each follows crowd-kit 1.4.2 (see each file for the
//! places where it deliberately does not).
//!
//! Missing labels: an (item, annotator) pair without a label contributes nothing: every
//! model sums only over the annotations that exist, so nothing is imputed. An item with no
//! annotation at all gets `NO_LABEL`, an all-zero posterior row and confidence 0, and is left
//! out of class priors. Repeated labels of one pair are already reduced to the last one by
//! the `Dataset` (crowd-kit would count every repeat).
//!
//! Label space: the labels of `ds.labels` that occur in an annotation or as a gold label.
//! Output arrays are indexed by the dataset's label ids (unused labels get probability 0).
//!
//! Determinism: items are processed in fixed-size chunks and annotators one by one, and every
//! sum over chunks or annotators is folded in index order, so results are bit-identical for
//! any rayon thread count.

mod dawid_skene;
mod em;
mod loo;
mod mace;
mod majority;
mod one_coin;

use std::borrow::Cow;

use rayon::prelude::*;
use serde::Serialize;

use crate::dataset::{Dataset, NO_LABEL};

pub use loo::{leave_one_out_majority, LooMajority};

/// Items per parallel work unit. Fixed (not derived from the thread count) so that sums
/// over chunks come out the same whatever the number of threads.
pub(crate) const ITEM_CHUNK: usize = 4096;

/// Number of item ranges that group the terms of per-annotator sums (one partial sum per
/// range, folded in range order; see `annotator_sums`). Fixed, for determinism.
pub(crate) const PARTS: usize = 16;

/// Above this many values over all parts (256 MB, the memory the grouping once took),
/// `annotator_sums` adds in plain item order instead (the sums it always gave there).
const SCATTER_BUDGET: usize = 32 << 20;

/// Floor for probabilities before a log, as crowd-kit's `_EPS` (1e-10).
pub(crate) const EPS: f64 = 1e-10;

/// Truth-inference method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Most frequent label; ties go to the label first in the dataset's label order.
    #[value(name = "majority-vote")]
    MajorityVote,
    /// Dawid-Skene EM with a full confusion matrix per annotator.
    #[value(name = "dawid-skene")]
    DawidSkene,
    /// Dawid-Skene with one accuracy per annotator (errors spread evenly).
    #[value(name = "one-coin")]
    #[serde(rename = "one-coin")]
    OneCoinDawidSkene,
    /// MACE: per-annotator competence and spamming strategy (variational Bayes).
    #[value(name = "mace")]
    Mace,
}

impl Method {
    /// The command-line / report name.
    pub fn name(self) -> &'static str {
        match self {
            Method::MajorityVote => "majority-vote",
            Method::DawidSkene => "dawid-skene",
            Method::OneCoinDawidSkene => "one-coin",
            Method::Mace => "mace",
        }
    }
}

/// How to run [`infer`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusOptions {
    /// Which model to fit. Default Dawid-Skene.
    pub method: Method,
    /// Cap on EM iterations (per restart for MACE). Default 100.
    pub max_iter: usize,
    /// Stop when the objective per annotation improves by less than this. Default 1e-5.
    pub tol: f64,
    /// Clamp gold items to their gold label inside the model (and in the output).
    pub use_gold: bool,
    /// Seed for methods with random initialisation (MACE).
    pub seed: u64,
}

impl Default for ConsensusOptions {
    fn default() -> Self {
        ConsensusOptions {
            method: Method::DawidSkene,
            max_iter: 100,
            tol: 1e-5,
            use_gold: false,
            seed: 0,
        }
    }
}

/// The result of [`infer`]. Per-item arrays are indexed by item id, per-annotator arrays by
/// annotator id, label dimensions by the dataset's label id.
#[derive(Debug, Clone, Serialize)]
pub struct Consensus {
    /// The method that produced this result.
    pub method: Method,
    /// Consensus label per item; `NO_LABEL` when the item has no annotation.
    pub labels: Vec<u32>,
    /// Posterior probability of the chosen label (vote share for majority vote).
    pub confidence: Vec<f64>,
    /// `items × n_labels` row-major posteriors (vote shares for majority vote).
    pub posteriors: Vec<f64>,
    /// Number of labels per posterior row (`ds.n_labels()`).
    pub n_labels: usize,
    /// Majority-vote items whose top count was shared (broken by label order); 0 for models.
    pub ties: usize,
    /// EM iterations run (of the chosen restart for MACE); 0 for majority vote.
    pub iterations: usize,
    /// Whether the tolerance was reached before the iteration cap (true for majority vote).
    pub converged: bool,
    /// Per annotator: DS `Σ_k prior_k·π_kk`; one-coin skill; MACE competence θ (the VB
    /// knowing weight over knowing + spamming); majority vote: share of the annotator's
    /// labels equal to the consensus. NaN for an annotator with no annotations.
    pub annotator_accuracy: Vec<f64>,
    /// Dawid-Skene only: `annotators × n_labels × n_labels`, row = true label, column =
    /// given label. The column of a label the annotator never gave is 0 (crowd-kit has no
    /// such row in its given-label-major `errors_`).
    pub confusion: Option<Vec<f64>>,
    /// MACE only: per annotator, 1 − competence.
    pub spam_probability: Option<Vec<f64>>,
}

/// Run truth inference on `ds`. Deterministic: the same data, options and seed give
/// bit-identical results for any rayon thread count. Never fails; an empty dataset gives
/// empty arrays.
pub fn infer(ds: &Dataset, opts: &ConsensusOptions) -> Consensus {
    let p = crate::timings::stage("  consensus_prepare", || Problem::new(ds, opts.use_gold));
    match opts.method {
        Method::MajorityVote => majority::run(&p),
        Method::DawidSkene => dawid_skene::run(&p, opts),
        Method::OneCoinDawidSkene => one_coin::run(&p, opts),
        Method::Mace => mace::run(&p, opts),
    }
}

/// A dataset prepared for inference: compact label ids `0..k` and the indexes every method
/// needs.
pub(crate) struct Problem<'a> {
    pub ds: &'a Dataset,
    /// Size of the compact label space.
    pub k: usize,
    /// Dataset label id of each compact label (ascending, so label order is preserved).
    pub space: Vec<u32>,
    /// Compact label of each annotation.
    pub obs: Cow<'a, [u32]>,
    /// Every annotation from its annotator's side, built on first use (Dawid-Skene never
    /// needs it: its pass is item-major).
    by_annotator: std::sync::OnceLock<AnnotatorEntries>,
    /// Compact gold label per item, `NO_LABEL` where none or when gold is not used.
    pub gold: Vec<u32>,
    /// Items with at least one annotation (the items crowd-kit sees).
    pub n_active: usize,
    /// [`item_parts`] of the dataset.
    pub part_items: Vec<usize>,
}

impl<'a> Problem<'a> {
    pub fn new(ds: &'a Dataset, use_gold: bool) -> Self {
        let n_labels = ds.n_labels();
        let mut used = vec![false; n_labels];
        for &l in ds.label.iter().chain(ds.gold.iter()) {
            if let Some(u) = used.get_mut(l as usize) {
                *u = true;
            }
        }
        let space: Vec<u32> = (0..n_labels as u32).filter(|&l| used[l as usize]).collect();
        let mut compact = vec![NO_LABEL; n_labels];
        for (c, &l) in space.iter().enumerate() {
            compact[l as usize] = c as u32;
        }
        // Usually every label is used: then the dataset's column can be borrowed as is.
        let obs = if space.len() == n_labels {
            Cow::Borrowed(ds.label.as_slice())
        } else {
            Cow::Owned(ds.label.iter().map(|&l| compact[l as usize]).collect())
        };
        // Read gold defensively: a hand-built Dataset may leave `gold` empty.
        let gold = (0..ds.n_items())
            .map(|i| match ds.gold.get(i).copied().unwrap_or(NO_LABEL) {
                g if use_gold && g != NO_LABEL => {
                    compact.get(g as usize).copied().unwrap_or(NO_LABEL)
                }
                _ => NO_LABEL,
            })
            .collect();
        let n_active = (0..ds.n_items())
            .filter(|&i| !ds.item_range(i).is_empty())
            .count();
        let part_items = item_parts(ds);
        Problem {
            ds,
            part_items,
            k: space.len(),
            space,
            obs,
            by_annotator: std::sync::OnceLock::new(),
            gold,
            n_active,
        }
    }

    pub fn n_items(&self) -> usize {
        self.ds.n_items()
    }

    pub fn n_annotators(&self) -> usize {
        self.ds.n_annotators()
    }

    /// Annotator `a`'s annotations, in item order.
    pub fn annotator_entries(&self, a: usize) -> &[Entry] {
        let index = self.by_annotator.get_or_init(|| {
            let ann_item = self.ds.annotation_items();
            let by_ann = self.ds.by_annotator();
            let entries = by_ann
                .positions
                .par_iter()
                .map(|&pos| Entry {
                    item: ann_item[pos as usize],
                    label: self.obs[pos as usize],
                })
                .collect();
            AnnotatorEntries {
                offsets: by_ann.offsets,
                entries,
            }
        });
        &index.entries[index.offsets[a]..index.offsets[a + 1]]
    }

    /// Expand compact `items × k` posteriors into a `Consensus` skeleton (labels by argmax,
    /// first maximum wins, i.e. the label first in label order, as pandas `idxmax`).
    pub fn finish(&self, method: Method, post: &[f64]) -> Consensus {
        let k = self.k;
        let n_labels = self.ds.n_labels();
        let n_items = self.n_items();
        let mut posteriors = vec![0.0; n_items * n_labels];
        let mut labels = vec![NO_LABEL; n_items];
        let mut confidence = vec![0.0; n_items];
        if k > 0 {
            posteriors
                .par_chunks_mut(n_labels)
                .zip(labels.par_iter_mut())
                .zip(confidence.par_iter_mut())
                .enumerate()
                .for_each(|(item, ((out, label), conf))| {
                    if self.ds.item_range(item).is_empty() {
                        return;
                    }
                    let row = &post[item * k..(item + 1) * k];
                    for (c, &v) in row.iter().enumerate() {
                        out[self.space[c] as usize] = v;
                    }
                    let best = argmax(row);
                    *label = self.space[best];
                    *conf = row[best];
                });
        }
        Consensus {
            method,
            labels,
            confidence,
            posteriors,
            n_labels,
            ties: 0,
            iterations: 0,
            converged: true,
            annotator_accuracy: vec![f64::NAN; self.n_annotators()],
            confusion: None,
            spam_probability: None,
        }
    }

    /// Sum of each label's posterior over items, folded in fixed chunk order.
    pub fn posterior_sums(&self, post: &[f64]) -> Vec<f64> {
        let k = self.k;
        let partial: Vec<Vec<f64>> = post
            .par_chunks(ITEM_CHUNK * k.max(1))
            .map(|block| {
                let mut sum = vec![0.0; k];
                for row in block.chunks(k.max(1)) {
                    for (s, &v) in sum.iter_mut().zip(row) {
                        *s += v;
                    }
                }
                sum
            })
            .collect();
        let mut sum = vec![0.0; k];
        for part in partial {
            for (s, v) in sum.iter_mut().zip(part) {
                *s += v;
            }
        }
        sum
    }
}

/// Item boundaries of `PARTS` consecutive ranges holding about equal numbers of annotations.
pub(crate) fn item_parts(ds: &Dataset) -> Vec<usize> {
    item_ranges(ds, PARTS)
}

/// Item boundaries of `n_parts` consecutive ranges holding about equal numbers of annotations.
pub(crate) fn item_ranges(ds: &Dataset, n_parts: usize) -> Vec<usize> {
    let n = ds.n_annotations();
    let n_items = ds.n_items();
    (0..=n_parts)
        .map(|i| {
            let target = n * i / n_parts;
            ds.item_offsets
                .partition_point(|&o| o < target)
                .min(n_items)
        })
        .collect()
}

/// Per-annotator sums over annotations: annotator `a` owns `out[starts[a]..starts[a + 1]]`,
/// and `add(a, item, label, slot)` adds one annotation's contribution to its slot. `out` is
/// zeroed first. MACE's M-step is built on this (Dawid-Skene and one-coin sum in their
/// fused pass, see `em.rs`).
///
/// Order of additions (fixed, so results do not depend on the thread count): each
/// annotator's terms in item order, grouped by the `PARTS` item ranges of [`item_parts`]:
/// one partial sum per range, folded in range order. Very large tables (more than
/// `SCATTER_BUDGET` values over all parts) are summed straight in item order instead.
pub(crate) fn annotator_sums<F>(p: &Problem, starts: &[usize], out: &mut [f64], add: F)
where
    F: Fn(usize, usize, u32, &mut [f64]) + Sync,
{
    let layout = if out.len().saturating_mul(PARTS) > SCATTER_BUDGET {
        Layout::Plain
    } else {
        Layout::Parts
    };
    annotator_sums_with(p, starts, out, layout, add);
}

/// How [`annotator_sums_with`] orders and splits the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Grouped sums, one table per item range.
    Parts,
    /// Plain item-order sums, one task per annotator (very large tables).
    Plain,
}

/// [`annotator_sums`] with the layout chosen by the caller (for tests).
pub(crate) fn annotator_sums_with<F>(
    p: &Problem,
    starts: &[usize],
    out: &mut [f64],
    layout: Layout,
    add: F,
) where
    F: Fn(usize, usize, u32, &mut [f64]) + Sync,
{
    if layout == Layout::Parts {
        return part_sums(p, starts, out, add);
    }
    let lens: Vec<usize> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    split_lengths(out, &lens)
        .into_par_iter()
        .enumerate()
        .for_each(|(a, slot)| {
            slot.fill(0.0);
            for e in p.annotator_entries(a) {
                add(a, e.item as usize, e.label, slot);
            }
        });
}

/// The grouped sums of [`annotator_sums`]: one table per part, filled in item order, then
/// added up in part order.
fn part_sums<F>(p: &Problem, starts: &[usize], out: &mut [f64], add: F)
where
    F: Fn(usize, usize, u32, &mut [f64]) + Sync,
{
    let len = out.len();
    if len == 0 {
        return;
    }
    let bounds = &p.part_items;
    let mut partials = vec![0.0; PARTS * len];
    partials
        .par_chunks_mut(len)
        .enumerate()
        .for_each(|(part, acc)| {
            for item in bounds[part]..bounds[part + 1] {
                for pos in p.ds.item_range(item) {
                    let a = p.ds.annotator[pos] as usize;
                    add(a, item, p.obs[pos], &mut acc[starts[a]..starts[a + 1]]);
                }
            }
        });
    out.par_chunks_mut(ITEM_CHUNK)
        .enumerate()
        .for_each(|(c, o)| {
            o.fill(0.0);
            for acc in partials.chunks(len) {
                for (x, v) in o.iter_mut().zip(&acc[c * ITEM_CHUNK..]) {
                    *x += v;
                }
            }
        });
}

/// Every annotation as (item, compact label), annotator-major and item-ascending.
struct AnnotatorEntries {
    /// `offsets[a]..offsets[a + 1]`: annotator `a`'s slice of `entries`.
    offsets: Vec<usize>,
    entries: Vec<Entry>,
}

/// One annotation seen from its annotator: the item and the compact label given.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub item: u32,
    pub label: u32,
}

/// Index of the first maximum (lowest label on ties); 0 for an empty row.
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Split `data` into consecutive pieces of `lens[i]` elements each (for parallel writes into
/// variable-sized per-annotator blocks without unsafe code).
pub(crate) fn split_lengths<'s, T>(mut data: &'s mut [T], lens: &[usize]) -> Vec<&'s mut [T]> {
    let mut out = Vec::with_capacity(lens.len());
    for &len in lens {
        let (head, tail) = data.split_at_mut(len);
        out.push(head);
        data = tail;
    }
    out
}

#[cfg(test)]
mod tests;

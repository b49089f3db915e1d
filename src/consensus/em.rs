//! The EM loop shared by Dawid-Skene (Dawid & Skene 1979, Applied Statistics 28(1)) and its
//! one-coin variant (Zhang et al. 2016, JMLR 17), following crowd-kit 1.4.2's `DawidSkene.fit`:
//! start from majority-vote shares, M-step, then repeat E-step → priors → M-step → evidence
//! lower bound per annotation, and stop once the bound improves by less than `tol`.
//!
//! Each iteration is one fused pass over items: an item's posterior (E-step) is added
//! straight into the per-row sums `acc` the M-step needs, so posteriors are neither stored
//! nor re-read between iterations (the pass was bound by memory traffic, not arithmetic).
//! The M-step and the annotator part of the bound then only read `acc` (rows × k).
//! Posteriors are written once, after the loop, by repeating the last E-step.
//!
//! Determinism: items are split into a fixed number of ranges (it depends on the data's
//! shape, never on the thread count), each with its own `acc` table and item sums, added
//! up in range order; so results are bit-identical for any number of threads.
//!
//! Missing labels: an annotator's error rows exist only for labels that annotator gave
//! ("rows"), exactly like crowd-kit's `groupby(["worker", "label"])`; the E-step multiplies
//! the error rates of the annotations that exist (and sums their logs, which take over
//! where a long item's product would underflow).

use rayon::prelude::*;

use super::{item_ranges, majority, ConsensusOptions, Problem, EPS, ITEM_CHUNK, PARTS};
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
}

impl Rows {
    pub fn build(p: &Problem) -> Rows {
        let (n_ann, k) = (p.n_annotators(), p.k);
        // Which labels each annotator gave, at `annotator * k + label`: one pass over the
        // annotations in storage order (a small table, so the writes stay in cache).
        let mut gave = vec![false; n_ann * k];
        for (&a, &l) in p.ds.annotator.iter().zip(p.obs.iter()) {
            gave[a as usize * k + l as usize] = true;
        }
        let mut offsets = Vec::with_capacity(n_ann + 1);
        offsets.push(0);
        let mut label = Vec::new();
        // Row of each (annotator, given label) pair that occurs, at `annotator * k + label`.
        let mut row_of = vec![u32::MAX; n_ann * k];
        for a in 0..n_ann {
            for l in 0..k {
                if gave[a * k + l] {
                    row_of[a * k + l] = label.len() as u32;
                    label.push(l as u32);
                }
            }
            offsets.push(label.len());
        }
        let pos_row =
            p.ds.annotator
                .par_iter()
                .zip(p.obs.par_iter())
                .map(|(&a, &l)| row_of[a as usize * k + l as usize])
                .collect();
        Rows {
            offsets,
            label,
            pos_row,
        }
    }

    /// Number of error-rate values per annotator block (`rows × k`).
    pub fn block_lens(&self, k: usize) -> Vec<usize> {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) * k).collect()
    }
}

/// What a fitted EM run leaves behind.
pub(crate) struct EmFit {
    /// Compact `items × k` posteriors (of the last E-step).
    pub post: Vec<f64>,
    /// Class priors (mean posterior over items with annotations).
    pub priors: Vec<f64>,
    /// `rows × k` natural-log error rates.
    pub log_err: Vec<f64>,
    pub rows: Rows,
    pub iterations: usize,
    pub converged: bool,
}

/// The M-step: fill `log_err` from `acc` (`rows × k`: Σ posteriors of the annotations in each
/// row) and return Σ over annotations of Σ_k post·log(error rate), the annotator part of the
/// evidence lower bound.
pub(crate) type MStep<'s> = dyn FnMut(&Problem, &Rows, &[f64], &mut [f64]) -> f64 + 's;

/// Above this many accumulator values over all item ranges (256 MB), use fewer ranges.
const ACC_BUDGET: usize = 32 << 20;

/// Run EM from majority-vote shares. `m_step` decides the error model.
pub(crate) fn fit(p: &Problem, opts: &ConsensusOptions, m_step: &mut MStep) -> EmFit {
    match p.k {
        2 => fit_in(Fixed::<2>, p, opts, m_step),
        3 => fit_in(Fixed::<3>, p, opts, m_step),
        4 => fit_in(Fixed::<4>, p, opts, m_step),
        5 => fit_in(Fixed::<5>, p, opts, m_step),
        6 => fit_in(Fixed::<6>, p, opts, m_step),
        7 => fit_in(Fixed::<7>, p, opts, m_step),
        8 => fit_in(Fixed::<8>, p, opts, m_step),
        k => fit_in(Dynamic(k), p, opts, m_step),
    }
}

/// The number of labels `k`: a compile-time constant for small label spaces, so that the
/// per-label loops of the E-step are unrolled and free of bounds checks, or a runtime value.
/// Both run the same operations in the same order, so their results are bit-identical.
pub(crate) trait Width: Copy + Send + Sync {
    /// A `k`-vector (posterior row, scratch, per-label sums).
    type Row: AsRef<[f64]> + AsMut<[f64]> + Send;
    fn k(self) -> usize;
    fn zeros(self) -> Self::Row;
}

/// `k` known at compile time.
#[derive(Clone, Copy)]
pub(crate) struct Fixed<const K: usize>;

impl<const K: usize> Width for Fixed<K> {
    type Row = [f64; K];
    fn k(self) -> usize {
        K
    }
    fn zeros(self) -> [f64; K] {
        [0.0; K]
    }
}

/// `k` known at run time only (any label space).
#[derive(Clone, Copy)]
pub(crate) struct Dynamic(pub usize);

impl Width for Dynamic {
    type Row = Vec<f64>;
    fn k(self) -> usize {
        self.0
    }
    fn zeros(self) -> Vec<f64> {
        vec![0.0; self.0]
    }
}

/// [`fit`] with the label count given as `width` (`width.k()` must equal `p.k`).
pub(crate) fn fit_in<W: Width>(
    width: W,
    p: &Problem,
    opts: &ConsensusOptions,
    m_step: &mut MStep,
) -> EmFit {
    let k = width.k();
    debug_assert_eq!(k, p.k);
    let rows = Rows::build(p);
    let (mut post, _, _) = majority::vote_shares(p);
    let n_active = p.n_active.max(1) as f64;
    let mut priors: Vec<f64> = p
        .posterior_sums(&post)
        .into_iter()
        .map(|s| s / n_active)
        .collect();
    let len = rows.label.len() * k;
    let mut fit = EmFit {
        post: Vec::new(),
        priors: Vec::new(),
        log_err: vec![0.0; len],
        rows,
        iterations: 0,
        converged: false,
    };
    let n_obs = p.obs.len();
    if k == 0 || n_obs == 0 {
        m_step(p, &fit.rows, &[], &mut fit.log_err);
        fit.post = post;
        fit.priors = priors;
        fit.converged = true;
        return fit;
    }
    // The number of ranges depends only on the data's shape (determinism).
    let n_parts = (ACC_BUDGET / len).clamp(1, PARTS);
    let mut sums = Sums::new(p, &fit.rows, n_parts, len);
    sums.pass(width, p, &fit.rows, &Shares { width, post: &post });
    m_step(p, &fit.rows, &sums.acc, &mut fit.log_err);
    // The last E-step (it holds its own copy of the rates), to write its posteriors at the end.
    let mut last_e_step = None;
    let mut loss = f64::NEG_INFINITY;
    for iteration in 0..opts.max_iter {
        let log_prior: Vec<f64> = priors.iter().map(|&v| v.max(EPS).ln()).collect();
        let e_step = EStep::new(width, p, &fit.rows, &fit.log_err, log_prior);
        let stats = sums.pass(width, p, &fit.rows, &e_step);
        priors = stats.sum.as_ref().iter().map(|s| s / n_active).collect();
        last_e_step = Some(e_step);
        let joint = m_step(p, &fit.rows, &sums.acc, &mut fit.log_err);
        // crowd-kit's `_evidence_lower_bound`: every annotation row carries log prior too.
        let prior_term: f64 = stats
            .weighted
            .as_ref()
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
    drop(sums);
    if let Some(e_step) = last_e_step {
        post.par_chunks_mut(ITEM_CHUNK * k)
            .enumerate()
            .for_each(|(chunk, block)| {
                let (mut row, mut logs) = (width.zeros(), width.zeros());
                for (j, out) in block.chunks_mut(k).enumerate() {
                    let item = chunk * ITEM_CHUNK + j;
                    if !p.ds.item_range(item).is_empty() {
                        e_step.load(item, &mut row, &mut logs);
                        e_step.finish(item, &mut row, &logs);
                        out.copy_from_slice(row.as_ref());
                    }
                }
            });
    }
    crate::timings::note(|| format!("em: {} iterations", fit.iterations));
    fit.post = post;
    fit.priors = priors;
    fit
}

/// How a pass makes each item's posterior row, in two steps: `load` does the item's memory
/// reads, `finish` the arithmetic that follows. The pass loads the next item before it
/// finishes the current one, so the random reads of error rows overlap the arithmetic.
trait ItemRows<W: Width>: Sync {
    /// Read what `item`'s row needs into `row` and `logs`.
    fn load(&self, item: usize, row: &mut W::Row, logs: &mut W::Row);
    /// Turn the loaded `row` into `item`'s posterior; returns its entropy.
    fn finish(&self, item: usize, row: &mut W::Row, logs: &W::Row) -> f64;
}

/// The rows of the first pass: majority-vote shares, as they are (entropy unused).
struct Shares<'s, W> {
    width: W,
    post: &'s [f64],
}

impl<W: Width> ItemRows<W> for Shares<'_, W> {
    #[inline(always)]
    fn load(&self, item: usize, row: &mut W::Row, _: &mut W::Row) {
        let k = self.width.k();
        row.as_mut().copy_from_slice(&self.post[item * k..][..k]);
    }

    #[inline(always)]
    fn finish(&self, _: usize, _: &mut W::Row, _: &W::Row) -> f64 {
        0.0
    }
}

/// Below this, an item's largest unnormalised posterior is too close to underflow for the
/// product form: its posterior is computed from the log-space sums instead.
const PRODUCT_FLOOR: f64 = 1e-280;

/// The E-step: posterior of each item's true label given priors and error rates; gold
/// items are clamped. Used by the fused pass and for the final posteriors, so both agree
/// bit for bit.
///
/// The posterior is the normalised product prior · Π error rates, from rates and priors
/// exponentiated once per M-step, so the per-item work is multiplications rather than an
/// `exp` per label (which was the E-step's largest cost). The same sums in log space give
/// `ln p` for the entropy, and the posterior itself when the product would underflow
/// (items with very many annotations).
struct EStep<'s, W> {
    width: W,
    p: &'s Problem<'s>,
    rows: &'s Rows,
    log_prior: Vec<f64>,
    /// Per row, its `k` error rates then their `k` logs: an annotation's reads are one
    /// stretch of memory.
    rates: Vec<f64>,
    /// `exp(log_prior)`.
    prior: Vec<f64>,
}

impl<'s, W: Width> EStep<'s, W> {
    fn new(
        width: W,
        p: &'s Problem<'s>,
        rows: &'s Rows,
        log_err: &[f64],
        log_prior: Vec<f64>,
    ) -> Self {
        let k = width.k();
        let mut rates = vec![0.0; 2 * log_err.len()];
        rates
            .par_chunks_mut(2 * k)
            .zip(log_err.par_chunks(k))
            .for_each(|(out, logs)| {
                let (lin, log) = out.split_at_mut(k);
                for ((e, l), &v) in lin.iter_mut().zip(log).zip(logs) {
                    (*e, *l) = (v.exp(), v);
                }
            });
        EStep {
            width,
            p,
            rows,
            prior: log_prior.iter().map(|v| v.exp()).collect(),
            log_prior,
            rates,
        }
    }
}

impl<W: Width> ItemRows<W> for EStep<'_, W> {
    /// Unnormalised posterior (`row`) and its log (`logs`): prior times the error rows of
    /// the annotations (nothing for gold items).
    #[inline(always)]
    fn load(&self, item: usize, row: &mut W::Row, logs: &mut W::Row) {
        let (k, p) = (self.width.k(), self.p);
        if p.gold[item] != NO_LABEL {
            return;
        }
        let (row, logs) = (row.as_mut(), logs.as_mut());
        row.copy_from_slice(&self.prior[..k]);
        logs.copy_from_slice(&self.log_prior[..k]);
        for &r in &self.rows.pos_row[p.ds.item_range(item)] {
            let r = r as usize;
            let (lin, log) = self.rates[2 * r * k..][..2 * k].split_at(k);
            for (v, e) in row.iter_mut().zip(lin) {
                *v *= e;
            }
            for (v, e) in logs.iter_mut().zip(log) {
                *v += e;
            }
        }
    }

    /// Normalise; the entropy is −Σ_k p·ln p, with p floored at EPS (crowd-kit clips before
    /// the log).
    #[inline(always)]
    fn finish(&self, item: usize, row: &mut W::Row, logs: &W::Row) -> f64 {
        let k = self.width.k();
        let (row, logs) = (row.as_mut(), logs.as_ref());
        // The floored term, the value `q * q.ln()` has at q = EPS.
        let eps_term = EPS * EPS.ln();
        let gold = self.p.gold[item];
        if gold != NO_LABEL {
            row.fill(0.0);
            row[gold as usize] = 1.0;
            // k − 1 floored zeros; the 1 adds nothing.
            return -((k - 1) as f64) * eps_term;
        }
        let log_z = normalize_product(row, logs).unwrap_or_else(|| normalize_logs(row, logs));
        let mut entropy = 0.0;
        for (v, l) in row.iter().zip(logs.iter()) {
            entropy -= if *v > EPS { *v * (l - log_z) } else { eps_term };
        }
        entropy
    }
}

/// Normalise the unnormalised posterior `row` in place, given its logs `logs`; returns the
/// log of its sum. `None` (and `row` untouched) when its largest value is so small that the
/// product may have lost precision to underflow.
#[inline(always)]
fn normalize_product(row: &mut [f64], logs: &[f64]) -> Option<f64> {
    let (top, &max) =
        row.iter().enumerate().fold(
            (0, &f64::NEG_INFINITY),
            |a, b| if b.1 > a.1 { b } else { a },
        );
    if max <= PRODUCT_FLOOR {
        return None;
    }
    let z: f64 = row.iter().sum();
    for v in row.iter_mut() {
        *v /= z;
    }
    // ln z = ln max + ln(1 + rest). For a confident item `rest` is tiny and the series
    // (truncation error below rest⁵/5) saves the log call.
    let rest = (z - max) / max;
    let log1p = if rest < 1e-3 {
        rest * (1.0 - rest * (0.5 - rest * (1.0 / 3.0 - rest * 0.25)))
    } else {
        rest.ln_1p()
    };
    Some(logs[top] + log1p)
}

/// Normalise from the logs alone (max-shifted softmax, which cannot underflow); returns
/// the log of the unnormalised sum.
fn normalize_logs(row: &mut [f64], logs: &[f64]) -> f64 {
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for (v, &l) in row.iter_mut().zip(logs) {
        *v = (l - max).exp();
        z += *v;
    }
    for v in row.iter_mut() {
        *v /= z;
    }
    max + z.ln()
}

/// The per-row posterior sums of one pass, with their per-range tables (kept between
/// iterations: reallocating them is slow in a heap fragmented by ingest).
struct Sums {
    /// Item boundaries of the ranges.
    bounds: Vec<usize>,
    /// One `rows × k` table per range.
    parts: Vec<f64>,
    /// Per range, the span of its table that its annotations touch (the rest stays 0).
    /// Annotators often work on a stretch of the batch (a project, a shift), so a
    /// range's span is usually a small part of its table, and only the spans are cleared
    /// and added up.
    spans: Vec<std::ops::Range<usize>>,
    /// Their sum, in range order.
    acc: Vec<f64>,
}

impl Sums {
    fn new(p: &Problem, rows: &Rows, n_parts: usize, len: usize) -> Sums {
        let k = p.k;
        let bounds = item_ranges(p.ds, n_parts);
        let spans = bounds
            .par_windows(2)
            .map(|w| {
                let positions = p.ds.item_offsets[w[0]]..p.ds.item_offsets[w[1]];
                let touched = rows.pos_row[positions].iter().map(|&r| r as usize);
                match touched.clone().min().zip(touched.max()) {
                    Some((lo, hi)) => lo * k..(hi + 1) * k,
                    None => 0..0,
                }
            })
            .collect();
        Sums {
            bounds,
            parts: vec![0.0; n_parts * len],
            spans,
            acc: vec![0.0; len],
        }
    }

    /// One pass over items: `source` gives each item's posterior row (and its entropy),
    /// which is added into `acc[row of the annotation]` for each of the item's annotations.
    /// Returns the item sums.
    fn pass<W: Width>(
        &mut self,
        width: W,
        p: &Problem,
        rows: &Rows,
        source: &impl ItemRows<W>,
    ) -> ItemStats<W> {
        let len = self.acc.len();
        let (bounds, spans) = (&self.bounds, &self.spans);
        let partial: Vec<ItemStats<W>> = self
            .parts
            .par_chunks_mut(len)
            .enumerate()
            .map(|(part, table)| {
                // Taken here, not captured: a captured `k` is read from memory at run time,
                // while `width.k()` is a constant for `Fixed` widths.
                let k = width.k();
                table[spans[part].clone()].fill(0.0);
                let mut st = ItemStats::new(width);
                let mut items =
                    (bounds[part]..bounds[part + 1]).filter(|&i| !p.ds.item_range(i).is_empty());
                // `row` is finished while `next` is loaded.
                let (mut row, mut logs) = (width.zeros(), width.zeros());
                let (mut next, mut next_logs) = (width.zeros(), width.zeros());
                let mut pending = items.next();
                if let Some(item) = pending {
                    source.load(item, &mut next, &mut next_logs);
                }
                while let Some(item) = pending {
                    std::mem::swap(&mut row, &mut next);
                    std::mem::swap(&mut logs, &mut next_logs);
                    pending = items.next();
                    if let Some(following) = pending {
                        source.load(following, &mut next, &mut next_logs);
                    }
                    st.entropy += source.finish(item, &mut row, &logs);
                    let range = p.ds.item_range(item);
                    let row = row.as_ref();
                    st.add_row(row, range.len() as f64);
                    for &r in &rows.pos_row[range] {
                        let r = r as usize;
                        for (a, &q) in table[r * k..][..k].iter_mut().zip(row) {
                            *a += q;
                        }
                    }
                }
                st
            })
            .collect();
        let parts = &self.parts;
        self.acc
            .par_chunks_mut(ITEM_CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                out.fill(0.0);
                let chunk = c * ITEM_CHUNK..c * ITEM_CHUNK + out.len();
                // Outside its span a table is 0, and x + 0 = x: only the overlap is added.
                for (table, span) in parts.chunks(len).zip(spans) {
                    let (lo, hi) = (chunk.start.max(span.start), chunk.end.min(span.end));
                    if lo < hi {
                        for (x, v) in out[lo - chunk.start..hi - chunk.start]
                            .iter_mut()
                            .zip(&table[lo..hi])
                        {
                            *x += v;
                        }
                    }
                }
            });
        let mut total = ItemStats::new(width);
        for st in &partial {
            total.add(st);
        }
        total
    }
}

/// Item sums from one E-step.
struct ItemStats<W: Width> {
    /// Σ_items posterior, per label.
    sum: W::Row,
    /// Σ_items (annotations on the item) · posterior, per label.
    weighted: W::Row,
    /// Σ_items −Σ_k p·ln p, with p floored at EPS (crowd-kit clips before the log).
    entropy: f64,
}

impl<W: Width> ItemStats<W> {
    fn new(width: W) -> ItemStats<W> {
        ItemStats {
            sum: width.zeros(),
            weighted: width.zeros(),
            entropy: 0.0,
        }
    }

    /// Add one item's posterior row; `n` is its number of annotations.
    #[inline(always)]
    fn add_row(&mut self, row: &[f64], n: f64) {
        let (sum, weighted) = (self.sum.as_mut(), self.weighted.as_mut());
        for ((s, w), &q) in sum.iter_mut().zip(weighted.iter_mut()).zip(row) {
            *s += q;
            *w += n * q;
        }
    }

    fn add(&mut self, other: &ItemStats<W>) {
        for (s, o) in self.sum.as_mut().iter_mut().zip(other.sum.as_ref()) {
            *s += o;
        }
        for (s, o) in self
            .weighted
            .as_mut()
            .iter_mut()
            .zip(other.weighted.as_ref())
        {
            *s += o;
        }
        self.entropy += other.entropy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The product form and the log-space softmax agree on posteriors and on ln z, from
    /// undecided items to items decided by hundreds of nats (where the series replaces
    /// the log), with and without underflowing labels.
    #[test]
    fn product_and_log_normalisations_agree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut series_used = 0;
        for case in 0..20_000 {
            let k = 2 + case % 6;
            // Log posteriors: a leader, others behind it by 0 to 700 nats.
            let lead: f64 = rng.random_range(-200.0..0.0);
            let spread = [1.0, 10.0, 40.0, 700.0][case % 4];
            let leader = rng.random_range(0..k);
            let logs: Vec<f64> = (0..k)
                .map(|c| {
                    if c == leader {
                        lead
                    } else {
                        lead - rng.random_range(0.0..spread)
                    }
                })
                .collect();
            let mut by_product: Vec<f64> = logs.iter().map(|l| l.exp()).collect();
            let mut by_logs = by_product.clone();
            let max = by_product.iter().copied().fold(0.0, f64::max);
            let rest = by_product.iter().sum::<f64>() / max - 1.0;
            series_used += usize::from(rest < 1e-3);
            let log_z = normalize_product(&mut by_product, &logs).expect("no underflow");
            let want_log_z = normalize_logs(&mut by_logs, &logs);
            // ln z − lead is ln(1 + rest): compared apart from `lead`, whose size would hide
            // an error in the series (the log form itself is only good to a few 1e-16).
            let (got, want) = (log_z - lead, want_log_z - lead);
            assert!(
                (got - want).abs() <= 2e-15 * (1.0 + lead.abs()),
                "{logs:?}: {log_z} vs {want_log_z}"
            );
            for (a, b) in by_product.iter().zip(&by_logs) {
                assert!((a - b).abs() <= 1e-14 + 1e-12 * b, "{logs:?}: {a} vs {b}");
            }
        }
        assert!(series_used > 5_000, "{series_used}");
    }

    #[test]
    fn tiny_products_go_to_the_log_form() {
        let logs: [f64; 3] = [-700.0, -705.0, -1000.0];
        let mut row: Vec<f64> = logs.iter().map(|l| l.exp()).collect();
        assert_eq!(normalize_product(&mut row, &logs), None);
        let log_z = normalize_logs(&mut row, &logs);
        assert!((row[0] - 1.0 / (1.0 + (-5.0f64).exp())).abs() < 1e-15);
        assert!((log_z - (-700.0 + (1.0 + (-5.0f64).exp()).ln())).abs() < 1e-12);
    }
}

//! Statistical core for AI-feedback tasks: rankings, rubric ratings, pairwise preferences
//! and written answers.
//!
//! Every function here works on plain slices and matrices; the thin adapters that read a
//! [`crate::Dataset`] or build one (so the existing agreement engine computes kappa/alpha)
//! live next to them. Sources are cited at the top of each file:
//! - `icc.rs`: Shrout & Fleiss (1979) intraclass correlations with McGraw & Wong (1996)
//!   F tests and confidence intervals, formula by formula as pingouin `intraclass_corr`.
//! - `kendall_w.rs`: Kendall's W with the tie correction (Siegel 1956), Spearman's rho and
//!   Kendall's tau-b as scipy `spearmanr` / `kendalltau`.
//! - `preference.rs`: pairwise preferences, position bias and tie overuse.
//! - `rubric.rs`: multi-dimension ratings, flat-rating and low-variance signals.
//! - `text.rs`: written answers: near-duplicate reuse, copying, short answers.
//! - `stats.rs`: shared helpers (exact binomial test as scipy `binomtest`, mid-ranks,
//!   median / MAD).
//!
//! Public API (pure functions first, `Dataset` adapters last):
//! - `icc::icc(&[Vec<Option<f64>>]) -> Result<Icc, IccUndefined>` (all six forms),
//!   `icc::icc_complete`.
//! - `kendall_w::kendall_w`, `spearman_rho`, `kendall_tau_b`,
//!   `ranking_agreement(&[RankedItem]) -> RankingAgreement`, `ranked_items_from_dataset`.
//! - `preference::parse_strength`, `position_bias`, `tie_overuse` (→ `Vec<Signal>`),
//!   `preference_datasets(...) -> (Dataset, Dataset)` (choice: nominal, strength: ordinal;
//!   feed each to `agreement::compute`), `judgments_from_dataset`.
//! - `rubric::rubric_agreement` (engine + ICC(2,1)/(2,k) per dimension), `flat_rating`,
//!   `low_variance`, `dimension_dataset`, `annotations_from_datasets`.
//! - `text::self_reuse`, `copying_pairs`, `short_answers`, `answers_from_dataset`.
//!
//! Every signal is a self-contained, `Serialize` [`Signal`] with `n`, a statistic, a p-value
//! where a test applies and a short evidence string, ready for a Benjamini–Hochberg flag
//! layer. No NaN reaches an output: a value that cannot be computed is `None` with a reason.

pub mod icc;
pub mod kendall_w;
pub mod preference;
pub mod rubric;
pub mod stats;
pub mod text;

use std::collections::HashMap;

use serde::Serialize;

use stats::{binomial_test, cohens_h};

/// One per-annotator quality signal. Every float is finite or `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Signal name, e.g. `position_bias`, `tie_overuse`, `flat_rating`.
    pub signal: &'static str,
    /// Annotator id (index into the caller's / dataset's annotator list).
    pub annotator: u32,
    /// Number of observations the statistic is based on.
    pub n: usize,
    /// The annotator's statistic (a rate, a share, a robust z, ...; see `evidence`).
    pub statistic: Option<f64>,
    /// What the cohort gives for the same statistic (the null value of the test).
    pub expected: Option<f64>,
    /// Effect size (documented per signal: rate difference, Cohen's h, robust z).
    pub effect_size: Option<f64>,
    /// Two-sided p-value, where a test applies.
    pub p_value: Option<f64>,
    /// One-sided p-value in the suspicious direction, where a test applies.
    pub p_value_one_sided: Option<f64>,
    /// Short human-readable evidence.
    pub evidence: String,
    /// Why statistic or p-value is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Signal {
    /// A signal that could not be computed, with the reason.
    pub fn undefined(signal: &'static str, annotator: u32, n: usize, reason: &str) -> Self {
        Signal {
            signal,
            annotator,
            n,
            statistic: None,
            expected: None,
            effect_size: None,
            p_value: None,
            p_value_one_sided: None,
            evidence: String::new(),
            reason: Some(reason.to_string()),
        }
    }

    /// Replace non-finite floats by `None` (defence in depth: nothing should be non-finite).
    pub fn checked(mut self) -> Self {
        let fin = |x: Option<f64>| x.filter(|v| v.is_finite());
        self.statistic = fin(self.statistic);
        self.expected = fin(self.expected);
        self.effect_size = fin(self.effect_size);
        self.p_value = fin(self.p_value);
        self.p_value_one_sided = fin(self.p_value_one_sided);
        if self.statistic.is_none() && self.reason.is_none() {
            self.reason = Some("statistic is not defined".into());
        }
        self
    }
}

/// Rate of a yes/no outcome per annotator vs the OTHER annotators' rate on the same items.
///
/// `obs` holds `(item, annotator, outcome)`; `None` outcomes are not usable and are left
/// out. For each usable observation of annotator `a` on item `i`, the cohort rate is the
/// rate among the other annotators' usable observations of `i` (items with none are left
/// out of `a`'s test). The expected rate is the mean of those item rates, and `a`'s count is
/// tested with the exact binomial test against it (the exact null is Poisson-binomial, whose
/// variance the binomial with the mean rate bounds from above: conservative). Effect size:
/// Cohen's h of the annotator's rate vs the expected rate; one-sided p: P(X ≥ k).
/// Linear in `obs` (leave-one-out from per-item totals).
pub(crate) fn cohort_rate_signals(
    obs: &[(u32, u32, Option<bool>)],
    name: &'static str,
    what: &str,
) -> Vec<Signal> {
    let mut item_tot: HashMap<u32, (u64, u64)> = HashMap::new();
    let mut per_annot: HashMap<u32, Vec<(u32, bool)>> = HashMap::new();
    for &(item, annotator, outcome) in obs {
        if let Some(hit) = outcome {
            let e = item_tot.entry(item).or_default();
            e.0 += u64::from(hit);
            e.1 += 1;
            per_annot.entry(annotator).or_default().push((item, hit));
        }
    }
    let mut annotators: Vec<u32> = obs.iter().map(|o| o.1).collect();
    annotators.sort_unstable();
    annotators.dedup();
    annotators
        .into_iter()
        .map(|a| {
            let own = per_annot.get(&a).map_or(&[][..], Vec::as_slice);
            let (mut k, mut n, mut expected_sum) = (0u64, 0u64, 0.0);
            for &(item, hit) in own {
                let (h, u) = item_tot.get(&item).copied().unwrap_or_default();
                let (oh, ou) = (h - u64::from(hit), u.saturating_sub(1));
                if ou == 0 {
                    continue;
                }
                expected_sum += oh as f64 / ou as f64;
                k += u64::from(hit);
                n += 1;
            }
            if n == 0 {
                return Signal::undefined(
                    name,
                    a,
                    0,
                    "no item where both this annotator and another gave a usable answer",
                );
            }
            let rate = k as f64 / n as f64;
            let expected = expected_sum / n as f64;
            let test = binomial_test(k, n, expected);
            Signal {
                signal: name,
                annotator: a,
                n: n as usize,
                statistic: Some(rate),
                expected: Some(expected),
                effect_size: Some(cohens_h(rate, expected)),
                p_value: test.map(|t| t.two_sided),
                p_value_one_sided: test.map(|t| t.greater),
                evidence: format!(
                    "{what} in {k} of {n} ({:.1}%) vs {:.1}% by the others on the same items",
                    100.0 * rate,
                    100.0 * expected
                ),
                reason: None,
            }
            .checked()
        })
        .collect()
}

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
//! Every signal is a self-contained, `Serialize` [`Signal`] with `n`, a statistic, a p-value
//! where a test applies and a short evidence string, ready for a Benjamini–Hochberg flag
//! layer. No NaN reaches an output: a value that cannot be computed is `None` with a reason.

pub mod icc;
pub mod kendall_w;
pub mod preference;
pub mod rubric;
pub mod stats;
pub mod text;

use serde::Serialize;

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

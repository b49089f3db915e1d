//! Annotator quality: per-annotator signals (each with its n and uncertainty), rule tests
//! under one Benjamini–Hochberg false-discovery family, flags with evidence, and a
//! pay / review / hold decision per annotator under a written [`Policy`].
//!
//! Consensus comes from elsewhere through a [`ConsensusView`]: the leave-one-out majorities
//! ([`leave_one_out_majority`]) and the model's per-annotator figures. [`majority`] is the
//! plain vote per item, for use without a model.
//! Everything but the model's own per-annotator figures is measured against the
//! leave-one-out majorities alone ([`assess_votes`]), so it can run while the model is fitted
//! and take those figures afterwards ([`QualityReport::add_model_signals`]).

pub mod ambiguity;
mod annotations;
pub mod collusion;
pub mod effort;
pub mod flags;
pub mod gold_accuracy;
pub mod label_bias;
pub mod loo_agreement;
mod measure;
pub mod policy;
pub mod random_clicking;
mod report;

#[cfg(test)]
mod assess_tests;

use rayon::prelude::*;
use serde::Serialize;

pub use crate::dataset::NO_LABEL;
pub use flags::{benjamini_hochberg, Flag, Rule, RuleTest, Severity};
pub use policy::{Action, Actions, Policy};
pub use report::{
    assess, assess_votes, assess_with, AnnotatorReport, Decision, PairOfConcern, QualityReport,
    Signals,
};

use crate::Dataset;

/// What the quality engine needs from the consensus engine.
#[derive(Debug, Clone, Copy)]
pub struct ConsensusView<'a> {
    /// Per annotation position: majority label of the OTHER annotators on that item
    /// (`NO_LABEL` if none or tie).
    pub loo_label: &'a [u32],
    /// Per annotation position: share of the other annotators voting `loo_label`.
    pub loo_share: &'a [f64],
    /// Model-based (Dawid–Skene) accuracy per annotator, if available.
    pub annotator_accuracy: Option<&'a [f64]>,
    /// MACE spamming probability per annotator, if available.
    pub spam_probability: Option<&'a [f64]>,
}

impl<'a> ConsensusView<'a> {
    /// The part of the view that does not come from the consensus model.
    pub fn leave_one_out(&self) -> LeaveOneOut<'a> {
        LeaveOneOut {
            label: self.loo_label,
            share: self.loo_share,
        }
    }
}

/// Per annotation position: the majority label of the other annotators on the item and
/// their share voting it (as in [`ConsensusView`]); all that the signals and rules read.
#[derive(Debug, Clone, Copy)]
pub struct LeaveOneOut<'a> {
    pub label: &'a [u32],
    pub share: &'a [f64],
}

/// One measured quantity with its sample size and, where defined, its uncertainty.
/// Non-finite numbers never appear: they become `null` / absent.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Signal {
    pub value: Option<f64>,
    pub n: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub se: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Expected value under the cohort / chance (e.g. cohort share, expected runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort_median: Option<f64>,
    /// The label the signal is about (e.g. the most used label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Signal {
    /// A bare value with its sample size.
    pub fn new(value: f64, n: u64) -> Self {
        Signal {
            value: Some(value),
            n,
            ..Signal::default()
        }
    }

    /// Drop every non-finite number (so that the JSON never holds NaN or infinity).
    pub fn finite(mut self) -> Self {
        let f = |x: Option<f64>| x.filter(|v| v.is_finite());
        self.value = f(self.value);
        self.ci95 = self.ci95.filter(|c| c.iter().all(|v| v.is_finite()));
        self.se = f(self.se);
        self.p_value = f(self.p_value);
        self.df = f(self.df);
        self.expected = f(self.expected);
        self.cohort_median = f(self.cohort_median);
        self
    }
}

/// [`leave_one_out_majority`], owned: the plain-vote consensus tests use when they need a
/// [`ConsensusView`] without a model.
#[cfg(test)]
pub(crate) struct PlainVote {
    loo_label: Vec<u32>,
    loo_share: Vec<f64>,
}

#[cfg(test)]
impl PlainVote {
    pub fn new(ds: &Dataset) -> Self {
        let (loo_label, loo_share) = leave_one_out_majority(ds);
        PlainVote {
            loo_label,
            loo_share,
        }
    }

    pub fn view(&self) -> ConsensusView<'_> {
        ConsensusView {
            loo_label: &self.loo_label,
            loo_share: &self.loo_share,
            annotator_accuracy: None,
            spam_probability: None,
        }
    }
}

/// Plurality label and its vote share per item (`NO_LABEL`, 0 for empty items or ties): the
/// consensus module's majority vote, with ties left undecided rather than broken.
pub fn majority(ds: &Dataset) -> (Vec<u32>, Vec<f64>) {
    let mv = crate::consensus::infer(
        ds,
        &crate::consensus::ConsensusOptions {
            method: crate::consensus::Method::MajorityVote,
            use_gold: false,
            ..Default::default()
        },
    );
    let q = mv.n_labels;
    (0..ds.n_items())
        .map(|item| {
            let row = &mv.posteriors[item * q..(item + 1) * q];
            let top = mv.confidence[item];
            let tied = row.iter().filter(|&&p| p == top).count() > 1;
            if mv.labels[item] == NO_LABEL || tied {
                (NO_LABEL, 0.0)
            } else {
                (mv.labels[item], top)
            }
        })
        .unzip()
}

/// Per annotation position: the plurality label of the OTHER annotators on the same item and
/// their share voting it (`NO_LABEL`, 0 when there are no others or the others tie). Ties are
/// left undecided because a tie-break would count against whoever disagreed with it.
pub fn leave_one_out_majority(ds: &Dataset) -> (Vec<u32>, Vec<f64>) {
    let crate::consensus::LooMajority {
        mut label,
        mut share,
        tied,
    } = crate::consensus::leave_one_out_majority(ds);
    // In place: new vectors as long as the batch would cost their memory and page faults.
    label
        .par_iter_mut()
        .zip(share.par_iter_mut())
        .zip(tied.par_iter())
        .for_each(|((label, share), &tied)| {
            if tied || *label == NO_LABEL {
                (*label, *share) = (NO_LABEL, 0.0);
            }
        });
    (label, share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_and_leave_one_out() {
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "y"),
            ("2", "a", "x"),
            ("2", "b", "y"),
            ("3", "a", "y"),
        ]);
        let (label, share) = majority(&ds);
        assert_eq!(label, vec![0, NO_LABEL, 1]);
        assert!((share[0] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(share[2], 1.0);
        let (loo, loo_share) = leave_one_out_majority(&ds);
        // Item 1: a sees b,c = x,y (tie); b sees a,c (tie); c sees a,b = x,x.
        assert_eq!(&loo[0..3], &[NO_LABEL, NO_LABEL, 0]);
        assert_eq!(loo_share[2], 1.0);
        // Item 2: a sees y, b sees x. Item 3: nobody else.
        assert_eq!(&loo[3..6], &[1, 0, NO_LABEL]);
    }

    #[test]
    fn signal_finite_drops_nan() {
        let s = Signal {
            ci95: Some([f64::NAN, 1.0]),
            ..Signal::new(f64::NAN, 3)
        }
        .finite();
        assert_eq!(s.value, None);
        assert_eq!(s.ci95, None);
        assert_eq!(s.n, 3);
    }
}

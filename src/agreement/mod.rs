//! Inter-annotator agreement: every coefficient of the `agreement` report.
//!
//! Sources, one file per family:
//! - `cac.rs`: percent agreement, Fleiss' kappa, Brennan-Prediger, Gwet's AC1/AC2 in the
//!   raw-data framework of Gwet, *Handbook of Inter-Rater Reliability* (4th ed., 2014),
//!   chapters 2–5, as implemented by irrCAC (R 1.0 / Python 0.4.4).
//! - `conger.rs`: Conger's (1980) kappa with Gwet's linearised variance (irrCAC `conger`).
//! - `krippendorff.rs`: Krippendorff's alpha from the coincidence matrix (Krippendorff,
//!   "Computing Krippendorff's Alpha-Reliability", 2011), bootstrap SE over items.
//! - `cohen.rs`: pairwise Cohen's kappa (Cohen 1960/1968) with the Fleiss–Cohen–Everitt
//!   (1969) asymptotic SE, as statsmodels `cohens_kappa`; Light's (1971) kappa.
//! - `per_label.rs`: category-specific agreement and Fleiss' (1971) per-category kappa.
//! - `weights.rs`: weight matrices per measurement level.
//!
//! Missing ratings: annotators need not rate every item. As in Gwet's handbook / irrCAC,
//! an item with at least one rating counts in `n` (the chance marginals and the variance),
//! observed agreement is averaged over the items with two or more ratings, and the variance
//! assumes sampling of subjects from an infinite population (f = 0). Krippendorff's alpha
//! drops items with a single rating (they are unpairable). Items without ratings do not exist.
//!
//! Inference conventions (fixed here, not inherited from any one irrCAC version):
//! - 95 % CIs of the Gwet-framework coefficients use the Student t quantile with n − 1
//!   degrees of freedom and clip the upper limit at 1 (as irrCAC); the lower limit is not
//!   clipped.
//! - Every p-value is TWO-sided against zero: `2 * P(T > |value / se|)` with t(n − 1) for
//!   the Gwet framework and the standard normal with the null SE for Cohen's kappa.
//!   irrCAC 0.4.4 reports a one-sided p for Brennan-Prediger only; we double it.
//!
//! Weight conventions (see `weights.rs`): nominal uses identity weights everywhere. At the
//! ordinal level the weighted Gwet-framework coefficients use irrCAC's "ordinal" weights on
//! category ranks and pairwise Cohen weights use category ranks; at interval/ratio they use
//! quadratic (and linear) weights on the label values.
//!
//! Degenerate data never produce NaN or a fake 1.0: the estimate is `status: "undefined"`,
//! `value: null`, with a `reason`.

mod cac;
mod cohen;
mod conger;
mod krippendorff;
pub mod multilabel;
mod per_label;
mod ratings;
mod weights;

use serde::Serialize;

use crate::dataset::{Dataset, Level};
pub(crate) use ratings::Ratings;

pub use cohen::{cohen_kappa, cohen_kappa_table, CohenKappa, KappaWeights};
pub use krippendorff::{krippendorff_alpha, AlphaEstimate};
pub use weights::{ordinal_weights, quadratic_weights, WeightScheme};

/// Each nominal coefficient on its own, from a dataset, for callers (and the benchmarks) that
/// need just one; [`compute`] gives them all at once, with weights for other levels.
pub mod nominal {
    use super::{cac, cohen, conger, weights, Dataset, Estimate, Level, Ratings};

    /// Ratings, identity weights and the shared pieces of the coefficients.
    fn prepared(ds: &Dataset) -> (Ratings, Vec<f64>, cac::Base) {
        let r = Ratings::from_dataset(ds);
        let identity = weights::identity(r.q);
        let b = cac::base(&r, &identity);
        (r, identity, b)
    }

    pub fn percent_agreement(ds: &Dataset) -> Estimate {
        cac::percent_agreement(&prepared(ds).2)
    }

    pub fn fleiss_kappa(ds: &Dataset) -> Estimate {
        let (r, w, b) = prepared(ds);
        cac::fleiss(&r, &w, &b)
    }

    pub fn conger_kappa(ds: &Dataset) -> Estimate {
        let (r, w, b) = prepared(ds);
        conger::conger(&r, &w, &b)
    }

    pub fn brennan_prediger(ds: &Dataset) -> Estimate {
        let (r, w, b) = prepared(ds);
        cac::brennan_prediger(&r, &w, &b)
    }

    pub fn gwet_ac1(ds: &Dataset) -> Estimate {
        let (r, w, b) = prepared(ds);
        cac::gwet(&r, &w, &b)
    }

    /// Light's kappa: Cohen's kappa of every pair sharing at least `min_shared` items, averaged.
    pub fn light_kappa(ds: &Dataset, min_shared: usize) -> Estimate {
        let r = Ratings::from_dataset(ds);
        let pairs = cohen::pairwise(&r, Level::Nominal, &[], min_shared);
        let rated = r.r.iter().filter(|&&m| m >= 2).count();
        cohen::light(&pairs, rated)
    }
}

/// Options of the agreement analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgreementOptions {
    /// Measurement level of the labels.
    pub level: Level,
    /// Minimum number of co-annotated items for a pair to get a Cohen's kappa.
    pub min_shared: usize,
    /// Bootstrap replicates for Krippendorff's alpha (0 = no SE / CI).
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for AgreementOptions {
    fn default() -> Self {
        AgreementOptions {
            level: Level::Nominal,
            min_shared: 10,
            bootstrap: 1000,
            seed: 0,
        }
    }
}

/// Whether an estimate could be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The value is defined and finite.
    Ok,
    /// The value is not defined for these data (see `reason`).
    Undefined,
}

/// One coefficient with its uncertainty. Every float is finite or `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Point estimate; `null` when undefined.
    pub value: Option<f64>,
    /// Standard error; `null` when not available.
    pub se: Option<f64>,
    /// 95 % confidence interval `[lo, hi]`.
    pub ci95: Option<[f64; 2]>,
    /// Two-sided p-value for H0: coefficient = 0.
    pub p_value: Option<f64>,
    /// Number of items the estimate is based on.
    pub n_items: usize,
    /// `ok` or `undefined`.
    pub status: Status,
    /// Why the value (or its SE) is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Observed agreement p_a (weighted where the coefficient is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pa: Option<f64>,
    /// Chance agreement p_e.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<f64>,
    /// Number of annotator pairs averaged (Light's kappa).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_pairs: Option<usize>,
    /// Bootstrap replicates that gave a defined value (Krippendorff's alpha).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_replicates: Option<usize>,
}

impl Estimate {
    /// An undefined estimate with a reason.
    pub fn undefined(n_items: usize, reason: impl Into<String>) -> Self {
        Estimate {
            value: None,
            se: None,
            ci95: None,
            p_value: None,
            n_items,
            status: Status::Undefined,
            reason: Some(reason.into()),
            pa: None,
            pe: None,
            n_pairs: None,
            n_replicates: None,
        }
    }

    /// A defined value without uncertainty yet.
    pub fn value(value: f64, n_items: usize) -> Self {
        Estimate {
            value: Some(value),
            status: Status::Ok,
            reason: None,
            ..Estimate::undefined(n_items, "")
        }
        .checked()
    }

    /// Gwet-framework inference from a linearised SE: t(n − 1) CI clipped at 1 above,
    /// two-sided t p-value. `df_n` is the `n` whose `n − 1` gives the degrees of freedom.
    pub fn with_t_inference(mut self, se: Option<f64>, df_n: usize) -> Self {
        let (Some(v), Some(se)) = (self.value, se) else {
            return self.checked();
        };
        self.se = Some(se);
        if df_n >= 2 {
            let df = (df_n - 1) as f64;
            if let Ok(t) = statrs::distribution::StudentsT::new(0.0, 1.0, df) {
                use statrs::distribution::ContinuousCDF;
                let q = t.inverse_cdf(0.975);
                self.ci95 = Some([v - q * se, (v + q * se).min(1.0)]);
                self.p_value = Some(if se > 0.0 {
                    (2.0 * t.sf((v / se).abs())).min(1.0)
                } else if v == 0.0 {
                    1.0
                } else {
                    0.0
                });
            }
        }
        self.checked()
    }

    /// Replace every non-finite float by `null`; a non-finite value makes it undefined.
    pub fn checked(mut self) -> Self {
        let fin = |x: Option<f64>| x.filter(|v| v.is_finite());
        if self.value.is_some() && fin(self.value).is_none() {
            return Estimate::undefined(self.n_items, "computation gave a non-finite value");
        }
        self.se = fin(self.se);
        self.p_value = fin(self.p_value);
        self.pa = fin(self.pa);
        self.pe = fin(self.pe);
        self.ci95 = self.ci95.filter(|c| c[0].is_finite() && c[1].is_finite());
        self
    }
}

/// All coefficients of the report. Weighted ones use the level's weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficients {
    /// Exact-match pairwise percent agreement (identity weights at every level).
    pub percent_agreement: Estimate,
    /// Percent agreement with the level's weights (ordinal/interval/ratio only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_percent_agreement: Option<Estimate>,
    /// Fleiss' kappa (weighted at ordinal/interval/ratio).
    pub fleiss_kappa: Estimate,
    /// Conger's kappa (weighted at ordinal/interval/ratio).
    pub conger_kappa: Estimate,
    /// Brennan-Prediger (weighted at ordinal/interval/ratio).
    pub brennan_prediger: Estimate,
    /// Gwet's AC1 (always unweighted).
    pub gwet_ac1: Estimate,
    /// Krippendorff's alpha with the level's metric.
    pub krippendorff_alpha: Estimate,
    /// Light's kappa: mean of the pairwise (unweighted) Cohen kappas.
    pub light_kappa: Estimate,
    /// Gwet's AC2 with the level's weights (ordinal/interval/ratio only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gwet_ac2: Option<Estimate>,
}

/// Agreement on one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelAgreement {
    /// Label name.
    pub label: String,
    /// Specific agreement Σ r_ik(r_ik−1) / Σ r_ik(r_i−1).
    pub specific_agreement: Option<f64>,
    /// Fleiss (1971) kappa of this category against all others.
    pub kappa: Option<f64>,
    /// Number of ratings with this label.
    pub n: usize,
}

/// Cohen's kappa of one annotator pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairAgreement {
    /// First annotator (earlier in the dataset's canonical order).
    pub a: String,
    /// Second annotator.
    pub b: String,
    /// Items rated by both.
    pub shared_items: usize,
    /// Unweighted Cohen's kappa.
    pub cohen_kappa: Option<f64>,
    /// Its asymptotic SE (Fleiss–Cohen–Everitt).
    pub cohen_kappa_se: Option<f64>,
    /// Two-sided p-value (normal, null SE).
    pub cohen_kappa_p_value: Option<f64>,
    /// Linear-weighted kappa (ordinal: ranks, interval/ratio: values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohen_kappa_linear: Option<Option<f64>>,
    /// SE of the linear-weighted kappa.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohen_kappa_linear_se: Option<Option<f64>>,
    /// Quadratic-weighted kappa.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohen_kappa_quadratic: Option<Option<f64>>,
    /// SE of the quadratic-weighted kappa.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohen_kappa_quadratic_se: Option<Option<f64>>,
    /// Why the unweighted kappa is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The agreement section of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementReport {
    /// Measurement level used.
    pub level: Level,
    /// Weight scheme of the weighted coefficients.
    pub weights: &'static str,
    /// Items with at least one rating.
    pub items_used: usize,
    /// Annotators with at least one rating.
    pub annotators_used: usize,
    /// Ratings used.
    pub annotations_used: usize,
    /// Labels used by at least one rating, in label order.
    pub categories: Vec<String>,
    /// The coefficients.
    pub coefficients: Coefficients,
    /// Per-label agreement, in label order.
    pub per_label: Vec<LabelAgreement>,
    /// Pairs with at least `min_shared` shared items, by (a, b) in canonical order.
    pub pairs: Vec<PairAgreement>,
    /// Caveats about the computation (for example fallbacks).
    pub notes: Vec<String>,
    /// Multi-label agreement (label sets), when the input had multi-label answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multilabel: Option<multilabel::MultiLabelAgreement>,
    /// Span agreement (pairwise F1), when the input had span answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spans: Option<crate::spans::SpanAgreement>,
}

/// Compute the full agreement report.
pub fn compute(ds: &Dataset, opts: &AgreementOptions) -> AgreementReport {
    let ratings = crate::timings::stage("  ratings", || Ratings::from_dataset(ds));
    let mut notes = Vec::new();
    let scheme = WeightScheme::for_level(opts.level);
    let values = weights::category_values(ds, &ratings.cat_label, opts.level, &mut notes);
    let identity = weights::identity(ratings.q);
    let level_w = match scheme {
        WeightScheme::Identity => identity.clone(),
        WeightScheme::Ordinal => ordinal_weights(ratings.q),
        WeightScheme::Quadratic => quadratic_weights(&values),
    };
    let weighted = opts.level != Level::Nominal;

    let n = ratings.n();
    // p_a and π once per weight matrix, shared by every coefficient that uses it.
    let (identity_base, level_base) = crate::timings::stage("  cac_base", || {
        let identity_base = cac::base(&ratings, &identity);
        let level_base = weighted.then(|| cac::base(&ratings, &level_w));
        (identity_base, level_base)
    });
    let level_base = level_base.as_ref().unwrap_or(&identity_base);
    let (percent_agreement, weighted_percent_agreement, gwet_ac1, gwet_ac2) =
        crate::timings::stage("  gwet_family", || {
            (
                cac::percent_agreement(&identity_base),
                weighted.then(|| cac::percent_agreement(level_base)),
                cac::gwet(&ratings, &identity, &identity_base),
                weighted.then(|| cac::gwet(&ratings, &level_w, level_base)),
            )
        });
    let (fleiss_kappa, brennan_prediger) = crate::timings::stage("  fleiss_bp", || {
        (
            cac::fleiss(&ratings, &level_w, level_base),
            cac::brennan_prediger(&ratings, &level_w, level_base),
        )
    });
    let conger_kappa = crate::timings::stage("  conger", || {
        conger::conger(&ratings, &level_w, level_base)
    });
    let alpha = crate::timings::stage("  krippendorff", || {
        krippendorff::alpha_for_ratings(&ratings, opts.level, &values, opts.bootstrap, opts.seed)
    });

    let pair_set = crate::timings::stage("  cohen_pairs", || {
        cohen::pairwise(&ratings, opts.level, &values, opts.min_shared)
    });
    let n2 = ratings.r.iter().filter(|&&m| m >= 2).count();
    let light_kappa = cohen::light(&pair_set, n2);
    let pairs = pair_set
        .into_iter()
        .map(|p| PairAgreement {
            a: ds.annotators[p.a as usize].clone(),
            b: ds.annotators[p.b as usize].clone(),
            shared_items: p.shared,
            cohen_kappa: p.kappa.value,
            cohen_kappa_se: p.kappa.se,
            cohen_kappa_p_value: p.kappa.p_value,
            cohen_kappa_linear: p.linear.as_ref().map(|k| k.value),
            cohen_kappa_linear_se: p.linear.as_ref().map(|k| k.se),
            cohen_kappa_quadratic: p.quadratic.as_ref().map(|k| k.value),
            cohen_kappa_quadratic_se: p.quadratic.as_ref().map(|k| k.se),
            reason: p.kappa.reason,
        })
        .collect();

    let per_label = crate::timings::stage("  per_label", || per_label::per_label(&ratings))
        .into_iter()
        .zip(&ratings.cat_label)
        .map(|(s, &l)| LabelAgreement {
            label: ds.labels[l as usize].clone(),
            specific_agreement: s.specific_agreement,
            kappa: s.kappa,
            n: s.n,
        })
        .collect();

    let mut annotator_used = vec![false; ds.n_annotators()];
    for &a in &ds.annotator {
        annotator_used[a as usize] = true;
    }
    AgreementReport {
        level: opts.level,
        weights: scheme.name(),
        items_used: n,
        annotators_used: annotator_used.iter().filter(|&&u| u).count(),
        annotations_used: ratings.rater_cat.len(),
        categories: ratings
            .cat_label
            .iter()
            .map(|&l| ds.labels[l as usize].clone())
            .collect(),
        coefficients: Coefficients {
            percent_agreement,
            weighted_percent_agreement,
            fleiss_kappa,
            conger_kappa,
            brennan_prediger,
            gwet_ac1,
            krippendorff_alpha: alpha.into_estimate(),
            light_kappa,
            gwet_ac2,
        },
        per_label,
        pairs,
        notes,
        multilabel: multilabel::multilabel(ds, opts),
        spans: crate::spans::agreement(ds, &crate::spans::SpanOptions::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_coefficients_equal_the_full_report() {
        let rows: Vec<(String, String, String)> = (0..60u32)
            .flat_map(|i| {
                (0..4u32).map(move |a| {
                    let label = if (i + a) % 5 == 0 { (i + 1) % 3 } else { i % 3 };
                    (i.to_string(), format!("w{a}"), format!("L{label}"))
                })
            })
            .collect();
        let ds = Dataset::from_triples(
            rows.iter()
                .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        );
        let full = compute(&ds, &AgreementOptions::default()).coefficients;
        assert_eq!(nominal::percent_agreement(&ds), full.percent_agreement);
        assert_eq!(nominal::fleiss_kappa(&ds), full.fleiss_kappa);
        assert_eq!(nominal::conger_kappa(&ds), full.conger_kappa);
        assert_eq!(nominal::brennan_prediger(&ds), full.brennan_prediger);
        assert_eq!(nominal::gwet_ac1(&ds), full.gwet_ac1);
        let min_shared = AgreementOptions::default().min_shared;
        assert_eq!(nominal::light_kappa(&ds, min_shared), full.light_kappa);
        assert!(full.fleiss_kappa.value.is_some_and(|k| k > 0.3 && k < 0.9));
    }

    #[test]
    fn report_does_not_depend_on_the_thread_count() {
        // Per-item terms and per-annotator pairs run in parallel; every sum must still run
        // in item order and every list in annotator order, bit for bit.
        let ds = crate::simulate::simulate(&crate::simulate::SimConfig {
            items: 3000,
            seed: 11,
            ..crate::simulate::SimConfig::default()
        })
        .to_dataset();
        for level in [Level::Nominal, Level::Ordinal] {
            let opts = AgreementOptions {
                level,
                min_shared: 3,
                bootstrap: 10,
                ..AgreementOptions::default()
            };
            let in_pool = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map(|pool| pool.install(|| compute(&ds, &opts)))
                    .ok()
            };
            let one = in_pool(1);
            assert!(one.as_ref().is_some_and(|r| !r.pairs.is_empty()));
            assert_eq!(one, in_pool(3));
        }
    }

    fn report(rows: &[(&str, &str, &str)], level: Level) -> serde_json::Value {
        let ds = Dataset::from_triples(rows.iter().copied());
        let opts = AgreementOptions {
            level,
            min_shared: 1,
            bootstrap: 20,
            ..AgreementOptions::default()
        };
        serde_json::to_value(compute(&ds, &opts)).unwrap_or_default()
    }

    #[test]
    fn one_category_is_undefined_with_reason_and_null_value() {
        // reference-values §12: two raters, three items, every rating "a".
        let rows = [
            ("1", "r", "a"),
            ("1", "s", "a"),
            ("2", "r", "a"),
            ("2", "s", "a"),
            ("3", "r", "a"),
            ("3", "s", "a"),
        ];
        let v = report(&rows, Level::Nominal);
        for name in [
            "fleiss_kappa",
            "conger_kappa",
            "brennan_prediger",
            "gwet_ac1",
            "krippendorff_alpha",
            "light_kappa",
        ] {
            let c = &v["coefficients"][name];
            assert_eq!(c["status"], "undefined", "{name}");
            assert!(c["value"].is_null(), "{name}");
            assert!(c["reason"].is_string(), "{name}");
        }
        assert_eq!(v["coefficients"]["percent_agreement"]["value"], 1.0);
        assert!(v["pairs"][0]["cohen_kappa"].is_null());
        assert!(!v.to_string().contains("NaN"));
    }

    #[test]
    fn no_item_with_two_ratings_is_undefined() {
        let v = report(&[("1", "r", "a"), ("2", "s", "b")], Level::Ordinal);
        assert_eq!(
            v["coefficients"]["percent_agreement"]["status"],
            "undefined"
        );
        assert_eq!(v["coefficients"]["gwet_ac2"]["status"], "undefined");
        assert_eq!(v["pairs"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn json_shape_by_level() {
        let rows = [
            ("1", "r", "1"),
            ("1", "s", "2"),
            ("2", "r", "2"),
            ("2", "s", "2"),
            ("3", "r", "3"),
            ("3", "s", "3"),
        ];
        let nominal = report(&rows, Level::Nominal);
        assert!(nominal["coefficients"].get("gwet_ac2").is_none());
        assert!(nominal["pairs"][0].get("cohen_kappa_linear").is_none());
        assert_eq!(nominal["level"], "nominal");
        assert_eq!(nominal["categories"], serde_json::json!(["1", "2", "3"]));
        let interval = report(&rows, Level::Interval);
        assert!(interval["coefficients"]["gwet_ac2"]["value"].is_f64());
        assert!(interval["pairs"][0]["cohen_kappa_quadratic"].is_f64());
        assert_eq!(interval["weights"], "quadratic_values");
        let ci = &interval["coefficients"]["krippendorff_alpha"]["ci95"];
        assert!(ci[0].as_f64() <= ci[1].as_f64());
    }
}

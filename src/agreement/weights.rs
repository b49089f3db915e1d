//! Agreement weight matrices per measurement level (Gwet 2014, ch. 3; irrCAC `Weights`).
//!
//! Weights are agreement weights: w_kk = 1, 0 ≤ w_kl ≤ 1, stored row-major `q × q` over
//! the categories actually used (missing ratings play no role here).
//!
//! Conventions chosen for the Gwet-framework coefficients (Fleiss, Conger, Brennan-Prediger,
//! AC2, weighted percent agreement):
//! - nominal: identity;
//! - ordinal: irrCAC "ordinal" weights on category ranks, w_kl = 1 − C(|k−l|+1, 2) / max,
//!   which depend only on the order of the categories, not on their values;
//! - interval and ratio: irrCAC "quadratic" weights on the label values,
//!   w_kl = 1 − ((x_k − x_l) / (x_max − x_min))².
//!
//! Pairwise Cohen's kappa uses linear and quadratic weights on category *scores*: ranks
//! among the dataset's used categories at ordinal (the R irr `kappa2` convention), label
//! values at interval/ratio (the irrCAC convention).

use crate::dataset::{Dataset, Level};

/// Which weight matrix the weighted Gwet-framework coefficients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightScheme {
    /// Identity (unweighted).
    Identity,
    /// irrCAC ordinal weights on ranks.
    Ordinal,
    /// Quadratic weights on label values.
    Quadratic,
}

impl WeightScheme {
    /// The scheme used at a measurement level.
    pub fn for_level(level: Level) -> Self {
        match level {
            Level::Nominal => WeightScheme::Identity,
            Level::Ordinal => WeightScheme::Ordinal,
            Level::Interval | Level::Ratio => WeightScheme::Quadratic,
        }
    }

    /// Name shown in the report.
    pub fn name(self) -> &'static str {
        match self {
            WeightScheme::Identity => "identity",
            WeightScheme::Ordinal => "ordinal_ranks",
            WeightScheme::Quadratic => "quadratic_values",
        }
    }
}

/// Identity weights.
pub fn identity(q: usize) -> Vec<f64> {
    let mut w = vec![0.0; q * q];
    for k in 0..q {
        w[k * q + k] = 1.0;
    }
    w
}

/// irrCAC ordinal weights for `q` ordered categories (identity when q < 3 makes no difference).
pub fn ordinal_weights(q: usize) -> Vec<f64> {
    if q < 2 {
        return identity(q);
    }
    let raw = |k: usize, l: usize| {
        let n = k.abs_diff(l) as f64 + 1.0;
        n * (n - 1.0) / 2.0
    };
    let max = raw(0, q - 1);
    let mut w = vec![0.0; q * q];
    for k in 0..q {
        for l in 0..q {
            w[k * q + l] = 1.0 - raw(k, l) / max;
        }
    }
    w
}

/// Quadratic weights on category values; identity when all values are equal.
pub fn quadratic_weights(values: &[f64]) -> Vec<f64> {
    let q = values.len();
    let (min, max) = min_max(values);
    if q < 2 || max <= min {
        return identity(q);
    }
    let mut w = vec![0.0; q * q];
    for k in 0..q {
        for l in 0..q {
            let d = (values[k] - values[l]) / (max - min);
            w[k * q + l] = 1.0 - d * d;
        }
    }
    w
}

/// Smallest and largest value (0, 0 for an empty slice).
pub(crate) fn min_max(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    }
}

/// Score of each used category: its value at interval/ratio (when every label is numeric),
/// else its rank 0..q−1 among the used categories (with a note when a value was wanted).
pub(crate) fn category_values(
    ds: &Dataset,
    cat_label: &[u32],
    level: Level,
    notes: &mut Vec<String>,
) -> Vec<f64> {
    let ranks = || (0..cat_label.len()).map(|r| r as f64).collect();
    match level {
        Level::Nominal | Level::Ordinal => ranks(),
        Level::Interval | Level::Ratio => match &ds.label_values {
            Some(v) => cat_label.iter().map(|&l| v[l as usize]).collect(),
            None => {
                notes.push(format!(
                    "labels are not all numeric: {} level uses category ranks 0..q-1 as values",
                    level.name()
                ));
                ranks()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinal_weights_match_irrcac_for_five_categories() {
        // irrCAC Weights([1,2,3,4,5]).ordinal(): raw 0,1,3,6,10 over max 10.
        let w = ordinal_weights(5);
        assert_eq!(&w[0..5], &[1.0, 0.9, 0.7, 0.4, 0.0]);
        assert_eq!(w[5 + 3], 0.7);
    }

    #[test]
    fn quadratic_weights_use_values_not_ranks() {
        // Values 1,2,3,4,6: weight of (4,6) is 1 - (2/5)^2 = 0.84, not 1 - (1/4)^2.
        let w = quadratic_weights(&[1.0, 2.0, 3.0, 4.0, 6.0]);
        assert!((w[3 * 5 + 4] - 0.84).abs() < 1e-15);
        assert_eq!(quadratic_weights(&[2.0, 2.0]), identity(2));
    }
}

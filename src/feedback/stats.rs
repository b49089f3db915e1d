//! Shared statistical helpers of the feedback signals.
//!
//! - Exact binomial test: the two-sided p-value sums the probabilities of every outcome no
//!   more likely than the observed one (relative tolerance 1e-7), as scipy `binomtest`
//!   (Virtanen et al. 2020, scipy 1.12 `_binomtest.py`); one-sided p-values are the tails.
//! - Mid-ranks ("average" ties) as scipy `rankdata`.
//! - Median and MAD scaled by 1.4826 (consistent for the normal SD).
//!
//! Missing values: callers pass finite data only; empty inputs give `None`.

use statrs::function::gamma::ln_gamma;

/// Exact binomial test of `k` successes in `n` trials against success probability `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Binomial {
    /// Two-sided p-value (scipy `binomtest(..., alternative="two-sided")`).
    pub two_sided: f64,
    /// P(X >= k).
    pub greater: f64,
    /// P(X <= k).
    pub less: f64,
}

fn ln_pmf(i: u64, n: u64, p: f64) -> f64 {
    let (i_f, n_f) = (i as f64, n as f64);
    let ln_choose = ln_gamma(n_f + 1.0) - ln_gamma(i_f + 1.0) - ln_gamma(n_f - i_f + 1.0);
    // 0 * ln(0) is 0 here: the degenerate p in {0, 1} is handled by the caller.
    ln_choose + i_f * p.ln() + (n_f - i_f) * (1.0 - p).ln()
}

/// Exact binomial test; `None` when `n == 0`, `k > n` or `p` is not in `[0, 1]`.
pub fn binomial_test(k: u64, n: u64, p: f64) -> Option<Binomial> {
    if n == 0 || k > n || !(0.0..=1.0).contains(&p) {
        return None;
    }
    if p == 0.0 || p == 1.0 {
        // Degenerate null: only one outcome has probability 1.
        let sure = if p == 0.0 { 0 } else { n };
        let hit = if k == sure { 1.0 } else { 0.0 };
        return Some(Binomial {
            two_sided: hit,
            greater: if k <= sure { 1.0 } else { 0.0 },
            less: if k >= sure { 1.0 } else { 0.0 },
        });
    }
    let pmf: Vec<f64> = (0..=n).map(|i| ln_pmf(i, n, p).exp()).collect();
    let k_us = k as usize;
    let less: f64 = pmf[..=k_us].iter().sum::<f64>().min(1.0);
    let greater: f64 = pmf[k_us..].iter().sum::<f64>().min(1.0);
    // scipy returns exactly 1 when k equals the mean.
    let two_sided = if (k as f64) == p * n as f64 {
        1.0
    } else {
        let d = pmf[k_us] * (1.0 + 1e-7);
        pmf.iter().filter(|&&x| x <= d).sum::<f64>().min(1.0)
    };
    Some(Binomial {
        two_sided,
        greater,
        less,
    })
}

/// Cohen's h effect size of two proportions: 2 asin √p1 − 2 asin √p2.
pub fn cohens_h(p1: f64, p2: f64) -> f64 {
    2.0 * p1.clamp(0.0, 1.0).sqrt().asin() - 2.0 * p2.clamp(0.0, 1.0).sqrt().asin()
}

/// Mid-ranks (1-based; ties get the mean of their positions), as scipy `rankdata`.
pub fn midranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &t in &idx[i..=j] {
            out[t] = r;
        }
        i = j + 1;
    }
    out
}

/// Median of the finite values; `None` when empty (the quality module's helper).
pub use crate::quality::effort::median;

/// Median absolute deviation scaled by 1.4826 (consistent for the normal SD); `None` when
/// empty.
pub fn mad(x: &[f64]) -> Option<f64> {
    crate::quality::effort::mad(x).map(|d| 1.4826 * d)
}

/// Pearson correlation; `None` when fewer than 2 points or a constant side.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    (sxx > 0.0 && syy > 0.0 && r.is_finite()).then(|| r.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_matches_scipy_small_case() {
        // scipy.stats.binomtest(3, 10, 0.5): two-sided 0.34375, greater 0.9453125, less 0.171875
        let b = binomial_test(3, 10, 0.5).expect("defined");
        assert!((b.two_sided - 0.34375).abs() < 1e-12);
        assert!((b.greater - 0.9453125).abs() < 1e-12);
        assert!((b.less - 0.171875).abs() < 1e-12);
        assert_eq!(binomial_test(5, 10, 0.5).map(|b| b.two_sided), Some(1.0));
        assert!(binomial_test(1, 0, 0.5).is_none());
    }

    #[test]
    fn midranks_average_ties() {
        assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }
}

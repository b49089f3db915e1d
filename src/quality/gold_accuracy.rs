//! Accuracy on gold items: Wilson (1927) score interval and an exact one-sided binomial
//! test of H0: accuracy >= the policy's standard (lower tail, statrs `Binomial`).

use std::cell::RefCell;
use std::collections::HashMap;

use statrs::distribution::{Binomial, DiscreteCDF};

use super::flags::{fmt_p, message_if, pct, Rule, RuleTest};
use super::{Signal, NO_LABEL};
use crate::Dataset;

/// Wilson score interval for `k` successes in `n` trials at normal quantile `z`.
pub fn wilson_interval(k: u64, n: u64, z: f64) -> Option<[f64; 2]> {
    if n == 0 || k > n {
        return None;
    }
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// `P(X <= k)` for `X ~ Binomial(n, p)`.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    match Binomial::new(p.clamp(0.0, 1.0), n) {
        Ok(b) => b.cdf(k).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// `P(X >= k)` for `X ~ Binomial(n, p)` (computed as a survival function, not 1 - cdf).
pub fn binomial_sf_ge(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    match Binomial::new(p.clamp(0.0, 1.0), n) {
        Ok(b) => b.sf(k - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Smallest `k` out of `n` for which the lower-tail test at level `alpha` no longer rejects
/// H0: p >= p0 (what an annotator needs to clear a flag).
pub fn min_successes_to_clear(n: u64, p0: f64, alpha: f64) -> u64 {
    // Annotators share few distinct (n, p0, alpha): remember the answers per thread.
    thread_local! {
        static SEEN: RefCell<HashMap<(u64, u64, u64), u64>> = RefCell::default();
    }
    let key = (n, p0.to_bits(), alpha.to_bits());
    if let Some(k) = SEEN.with(|s| s.borrow().get(&key).copied()) {
        return k;
    }
    let k = first_k_above(n, p0, alpha);
    SEEN.with(|s| s.borrow_mut().insert(key, k));
    k
}

fn first_k_above(n: u64, p0: f64, alpha: f64) -> u64 {
    // The cdf grows with k: bisect for the first k above alpha (log n cdf evaluations
    // instead of one per k, which cost seconds over a large batch).
    let (mut lo, mut hi) = (0, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if binomial_cdf(mid, n, p0) > alpha {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo.min(n)
}

/// Number right and number of gold items among an annotator's annotations.
pub fn gold_counts(ds: &Dataset, items: &[u32], positions: &[u32]) -> (u64, u64) {
    let (mut k, mut n) = (0u64, 0u64);
    for &pos in positions {
        let g = ds.gold[items[pos as usize] as usize];
        if g != NO_LABEL {
            n += 1;
            k += u64::from(ds.label[pos as usize] == g);
        }
    }
    (k, n)
}

/// The gold-accuracy signal and, with enough gold items, the `low_gold_accuracy` test.
pub fn assess_gold(
    annotator: u32,
    k: u64,
    n: u64,
    standard: f64,
    min_gold: usize,
    alpha: f64,
) -> (Option<Signal>, Option<RuleTest>) {
    if n == 0 {
        return (None, None);
    }
    let acc = k as f64 / n as f64;
    let p = binomial_cdf(k, n, standard);
    let ci = wilson_interval(k, n, 1.959_963_984_540_054);
    let signal = Signal {
        p_value: Some(p),
        ci95: ci,
        ..Signal::new(acc, n)
    };
    if (n as usize) < min_gold {
        return (Some(signal), None);
    }
    let gate = acc < standard;
    let message = message_if(gate, || {
        let need = min_successes_to_clear(n, standard, alpha);
        let [lo, hi] = ci.unwrap_or([0.0, 1.0]);
        format!(
            "{k} of {n} gold items right ({}, 95% CI {:.0}–{}); the standard is {}: needs at least {need} of {n} to clear ({}).",
            pct(acc),
            100.0 * lo,
            pct(hi),
            pct(standard),
            fmt_p(p)
        )
    });
    let test = RuleTest {
        annotator,
        rule: Rule::LowGoldAccuracy,
        gate,
        statistic: acc,
        cohort_reference: None,
        threshold: standard,
        n,
        p_value: p,
        message,
    };
    (Some(signal), Some(test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_scipy() {
        // scipy.stats.binomtest(17, 30).proportion_ci(method='wilson')
        let [lo, hi] = wilson_interval(17, 30, 1.959_963_984_540_054).unwrap();
        assert!((lo - 0.3919730700081361).abs() < 1e-9, "{lo}");
        assert!((hi - 0.7262251442353347).abs() < 1e-9, "{hi}");
        // scipy.stats.binomtest(0, 10).proportion_ci(method='wilson'): (0.0, 0.27753279986288926)
        let [lo, hi] = wilson_interval(0, 10, 1.959_963_984_540_054).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.27753279986288926).abs() < 1e-9);
        // Closed form at p = 1/2: centre exactly 1/2.
        let [lo, hi] = wilson_interval(5, 10, 2.0).unwrap();
        assert!((lo + hi - 1.0).abs() < 1e-12);
        assert!(wilson_interval(0, 0, 1.96).is_none());
    }

    #[test]
    fn binomial_tails_match_scipy_and_closed_form() {
        // scipy.stats.binom.cdf(17, 30, 0.7) = 0.08447006036015123
        assert!((binomial_cdf(17, 30, 0.7) - 0.08447006036015123).abs() < 1e-10);
        // scipy.stats.binom.sf(7, 10, 0.3) = P(X >= 8) = 0.0015903863999999995
        assert!((binomial_sf_ge(8, 10, 0.3) - 0.0015903864).abs() < 1e-12);
        // Closed form: P(X <= 0 | n = 3, p = .5) = 1/8.
        assert!((binomial_cdf(0, 3, 0.5) - 0.125).abs() < 1e-12);
        assert_eq!(binomial_sf_ge(0, 3, 0.5), 1.0);
    }

    #[test]
    fn bisection_finds_the_first_k_that_clears() {
        for n in [0u64, 1, 2, 7, 30, 101, 500] {
            for p0 in [0.0, 0.3, 0.7, 0.95, 1.0] {
                for alpha in [0.0, 0.01, 0.05, 0.5] {
                    let linear = (0..=n)
                        .find(|&k| binomial_cdf(k, n, p0) > alpha)
                        .unwrap_or(n);
                    assert_eq!(
                        min_successes_to_clear(n, p0, alpha),
                        linear,
                        "{n} {p0} {alpha}"
                    );
                }
            }
        }
    }

    #[test]
    fn gold_message_says_what_clears_it() {
        let (sig, test) = assess_gold(0, 17, 30, 0.7, 10, 0.05);
        let sig = sig.unwrap();
        assert_eq!(sig.n, 30);
        let test = test.unwrap();
        assert!(test.gate);
        let need = min_successes_to_clear(30, 0.7, 0.05);
        // P(X <= 16) <= .05 < P(X <= 17) for Binomial(30, .7)
        assert_eq!(need, 17);
        assert!(test
            .message
            .starts_with("17 of 30 gold items right (57%, 95% CI 39–73%)"));
        assert!(test.message.contains("needs at least 17 of 30"));
        assert!(assess_gold(0, 5, 5, 0.7, 10, 0.05).1.is_none());
    }
}

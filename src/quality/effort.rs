//! Effort: median duration, share of annotations faster than the policy floor, and a robust
//! z-score of the annotator's median log duration against the cohort (median and
//! MAD × 1.4826, Iglewicz & Hoaglin 1993). Speed alone never raises a flag: the
//! `fast_low_agreement` rule needs fast work AND agreement below the standard.

use super::flags::{fmt_p, message_if, pct, Rule, RuleTest};
use super::gold_accuracy::{binomial_cdf, min_successes_to_clear};
use super::loo_agreement::AgreementCounts;
use super::Signal;

/// Median of the finite values of a slice. `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    median_in_place(&mut v)
}

/// Median of `v` (finite values), reordering it: selection, not a full sort. Values that
/// compare equal under `total_cmp` are identical, so this is the sorted-copy median exactly.
fn median_in_place(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let m = n / 2;
    let (below, &mut mid, _) = v.select_nth_unstable_by(m, f64::total_cmp);
    Some(if n % 2 == 1 {
        mid
    } else {
        let lower = below.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
        (lower + mid) / 2.0
    })
}

/// Median absolute deviation from the median (unscaled).
pub fn mad(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    let dev: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    median(&dev)
}

/// Robust z of `x` against a cohort: `(x − median) / (1.4826 · MAD)`; `None` if MAD is 0.
pub fn robust_z(x: f64, cohort_median: f64, cohort_mad: f64) -> Option<f64> {
    let s = 1.4826 * cohort_mad;
    (s > 0.0 && x.is_finite()).then(|| (x - cohort_median) / s)
}

/// Per-annotator timing summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effort {
    /// Annotations with a known duration.
    pub n: u64,
    pub median_s: f64,
    pub median_log_s: f64,
    /// Share of known durations below the floor.
    pub fast_share: f64,
}

/// Timing summary of one annotator's known durations (`None` if none are known).
pub fn effort(durations: impl Iterator<Item = f32>, floor_s: f64) -> Option<Effort> {
    let mut d: Vec<f64> = durations
        .map(f64::from)
        .filter(|x| x.is_finite() && *x >= 0.0)
        .collect();
    let fast = d.iter().filter(|&&x| x < floor_s).count();
    let median_s = median_in_place(&mut d)?;
    // Durations of 0 s would make log undefined; clamp to 10 ms.
    let median_log_s = median_s.max(0.01).ln();
    Some(Effort {
        n: d.len() as u64,
        median_s,
        median_log_s,
        fast_share: fast as f64 / d.len() as f64,
    })
}

/// Signals of effort: median duration, fast share, robust z.
pub fn effort_signals(
    e: &Effort,
    cohort_median_s: Option<f64>,
    z: Option<f64>,
) -> (Signal, Signal, Option<Signal>) {
    let median = Signal {
        cohort_median: cohort_median_s,
        ..Signal::new(e.median_s, e.n)
    };
    let fast = Signal::new(e.fast_share, e.n);
    let zsig = z.map(|z| Signal::new(z, e.n));
    (median, fast, zsig)
}

/// `fast_low_agreement`: gate = fast (share below floor, or robust z) AND clear-item
/// agreement below the standard; p = exact lower-tail binomial test of that agreement.
pub fn fast_low_agreement_test(
    annotator: u32,
    e: &Effort,
    z: Option<f64>,
    c: &AgreementCounts,
    policy: &super::Policy,
    cohort_median_s: Option<f64>,
    cohort_fast_share: Option<f64>,
) -> Option<RuleTest> {
    if (c.n_clear as usize) < policy.min_clear_items || c.n_clear == 0 {
        return None;
    }
    let fast = e.fast_share >= policy.fast_share || z.is_some_and(|z| z <= policy.fast_robust_z);
    let (k, n) = (c.agree_clear, c.n_clear);
    let rate = k as f64 / n as f64;
    let p = binomial_cdf(k, n, policy.agreement_standard);
    let gate = fast && rate < policy.agreement_standard;
    Some(RuleTest {
        annotator,
        rule: Rule::FastLowAgreement,
        gate,
        statistic: e.fast_share,
        cohort_reference: cohort_fast_share,
        threshold: policy.fast_share,
        n,
        p_value: p,
        message: message_if(gate, || {
            let need = min_successes_to_clear(n, policy.agreement_standard, policy.fdr);
            let cohort = cohort_median_s
                .map(|m| format!("{m:.1} s"))
                .unwrap_or_else(|| "unknown".into());
            format!(
                "{} of annotations took under {} s (median {:.1} s vs cohort median {cohort}) while agreement with the others on clear items was {k} of {n} ({}), below the {} standard ({}); clears with at least {need} of {n} in agreement, whatever the speed.",
                pct(e.fast_share),
                policy.fast_floor_s,
                e.median_s,
                pct(rate),
                pct(policy.agreement_standard),
                fmt_p(p)
            )
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_mad_and_robust_z() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        // |x − 3| for 1,2,3,4,100 = 2,1,0,1,97 -> MAD 1.
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some(1.0));
        let z = robust_z(0.0, 3.0, 1.0).unwrap();
        assert!((z + 3.0 / 1.4826).abs() < 1e-12);
        assert!(robust_z(1.0, 1.0, 0.0).is_none());
    }

    #[test]
    fn median_by_selection_matches_the_sorted_median() {
        let mut x = 0x2545_f491_u64;
        for n in 1..60 {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ((x % 50) as f64 - 25.0) / 4.0
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let m = n / 2;
            let want = if n % 2 == 1 {
                sorted[m]
            } else {
                (sorted[m - 1] + sorted[m]) / 2.0
            };
            assert_eq!(median(&v).map(f64::to_bits), Some(want.to_bits()));
        }
    }

    #[test]
    fn speed_alone_is_not_a_flag() {
        let e = effort([1.0f32, 1.5, 2.0, 30.0, f32::NAN].into_iter(), 3.0).unwrap();
        assert_eq!(e.n, 4);
        assert!((e.fast_share - 0.75).abs() < 1e-12);
        let policy = super::super::Policy::default();
        let accurate = AgreementCounts {
            agree_clear: 45,
            n_clear: 50,
            ..Default::default()
        };
        let t = fast_low_agreement_test(0, &e, None, &accurate, &policy, Some(12.0), Some(0.0))
            .unwrap();
        assert!(!t.gate);
        let sloppy = AgreementCounts {
            agree_clear: 15,
            n_clear: 50,
            ..Default::default()
        };
        let t =
            fast_low_agreement_test(0, &e, None, &sloppy, &policy, Some(12.0), Some(0.0)).unwrap();
        assert!(t.gate && t.p_value < 1e-4);
    }
}

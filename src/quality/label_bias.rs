//! Straight-lining and label bias: share of the most used label; Pearson chi-square
//! goodness of fit of the annotator's label counts against expected counts built from the
//! OTHER annotators' label shares on the same items; an exact binomial upper-tail test of the
//! top label's count; and the Wald–Wolfowitz runs test generalised to k categories
//! (mean and variance of Barton & David 1957) on labels in submission order.

use super::flags::{fmt_p, message_if, pct, Rule, RuleTest};
use super::gold_accuracy::{binomial_sf_ge, wilson_interval};
use super::random_clicking::{chi_square_sf, normal_cdf, ChiSquare};
use super::Signal;

/// Observed and cohort-expected label counts of one annotator on the items it labelled.
#[derive(Debug, Clone)]
pub struct LabelCounts {
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
}

impl LabelCounts {
    pub fn n(&self) -> f64 {
        self.observed.iter().sum()
    }

    /// The most used label (lowest id on ties), its count and the cohort-expected count.
    pub fn top(&self) -> Option<(usize, f64, f64)> {
        let mut best: Option<usize> = None;
        for (l, &o) in self.observed.iter().enumerate() {
            if best.is_none_or(|b| o > self.observed[b]) {
                best = Some(l);
            }
        }
        best.map(|l| (l, self.observed[l], self.expected[l]))
    }
}

/// Pearson goodness of fit; categories with expected count below 5 are pooled (and the pool
/// joins the smallest remaining category if it is still below 5). `None` if df < 1.
pub fn chi_square_gof(observed: &[f64], expected: &[f64]) -> Option<ChiSquare> {
    let mut big: Vec<(f64, f64)> = Vec::new();
    let (mut po, mut pe) = (0.0, 0.0);
    for (&o, &e) in observed.iter().zip(expected) {
        if e >= 5.0 {
            big.push((o, e));
        } else {
            po += o;
            pe += e;
        }
    }
    if pe > 0.0 || po > 0.0 {
        if pe >= 5.0 || big.is_empty() {
            big.push((po, pe));
        } else {
            let mut smallest = 0;
            for (i, b) in big.iter().enumerate() {
                if b.1 < big[smallest].1 {
                    smallest = i;
                }
            }
            big[smallest].0 += po;
            big[smallest].1 += pe;
        }
    }
    if big.len() < 2 || big.iter().any(|b| b.1 <= 0.0) {
        return None;
    }
    let x2: f64 = big.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    let df = (big.len() - 1) as f64;
    Some(ChiSquare {
        statistic: x2,
        df,
        p_value: chi_square_sf(x2, df),
    })
}

/// Result of the runs test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Runs {
    pub runs: u64,
    pub expected: f64,
    pub z: f64,
    /// Two-sided p-value (normal approximation).
    pub p_value: f64,
    pub n: u64,
}

/// Runs test on a sequence of categories. Under random order, with `N` items and category
/// counts `n_i`: `E[R] = 1 + (N² − Σn_i²)/N`,
/// `Var[R] = [Σn_i² (Σn_i² + N(N+1)) − 2N Σn_i³ − N³] / (N² (N − 1))`.
/// `None` with fewer than 2 items or a single category (variance 0).
pub fn runs_test(seq: &[u32]) -> Option<Runs> {
    let n = seq.len();
    if n < 2 {
        return None;
    }
    let counts = category_counts(seq);
    let nf = n as f64;
    let s2: f64 = counts.iter().map(|c| c * c).sum();
    let s3: f64 = counts.iter().map(|c| c * c * c).sum();
    let mean = 1.0 + (nf * nf - s2) / nf;
    let var = (s2 * (s2 + nf * (nf + 1.0)) - 2.0 * nf * s3 - nf.powi(3)) / (nf * nf * (nf - 1.0));
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    let runs = 1 + seq.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    let z = (runs as f64 - mean) / var.sqrt();
    Some(Runs {
        runs,
        expected: mean,
        z,
        p_value: (2.0 * normal_cdf(-z.abs())).min(1.0),
        n: n as u64,
    })
}

/// Counts of the categories present, in ascending category order.
fn category_counts(seq: &[u32]) -> Vec<f64> {
    let max = seq.iter().copied().max().unwrap_or(0) as usize;
    if max <= 4 * seq.len() + 256 {
        // Small ids (label ids): count in place.
        let mut dense = vec![0.0; max + 1];
        for &s in seq {
            dense[s as usize] += 1.0;
        }
        dense.retain(|&c| c > 0.0);
        dense
    } else {
        let mut sorted = seq.to_vec();
        sorted.sort_unstable();
        sorted
            .chunk_by(|a, b| a == b)
            .map(|run| run.len() as f64)
            .collect()
    }
}

/// Signals: top label share (Wilson interval), goodness of fit, runs.
pub fn top_share_signal(c: &LabelCounts, label: &str) -> Option<Signal> {
    let (_, o, e) = c.top()?;
    let n = c.n();
    (n > 0.0).then(|| Signal {
        ci95: wilson_interval(o as u64, n as u64, 1.96),
        expected: Some(e / n),
        label: Some(label.to_string()),
        ..Signal::new(o / n, n as u64)
    })
}

/// `straight_lining`: exact upper-tail binomial test of the top label's count against the
/// cohort's mean share of that label on the same items (binomial with the mean
/// probability is conservative for the heterogeneous per-item probabilities).
pub fn straight_lining_test(
    annotator: u32,
    c: &LabelCounts,
    label: &str,
    share_min: f64,
    excess_min: f64,
) -> Option<RuleTest> {
    let (_, o, e) = c.top()?;
    let n = c.n();
    if n <= 0.0 {
        return None;
    }
    let (share, cohort) = (o / n, e / n);
    let p = binomial_sf_ge(o as u64, n as u64, cohort.clamp(1e-9, 1.0 - 1e-9));
    let gate = share >= share_min && share - cohort >= excess_min;
    Some(RuleTest {
        annotator,
        rule: Rule::StraightLining,
        gate,
        statistic: share,
        cohort_reference: Some(cohort),
        threshold: share_min,
        n: n as u64,
        p_value: p,
        message: message_if(gate, || {
            format!(
                "used label {label:?} for {o:.0} of {n:.0} items ({}) where the other annotators on the same items used it {} of the time ({}); clears when that share is below {} and within {:.0} points of the cohort's.",
                pct(share),
                pct(cohort),
                fmt_p(p),
                pct(share_min),
                100.0 * excess_min
            )
        }),
    })
}

/// `label_bias`: chi-square goodness of fit against the cohort on the same items.
pub fn label_bias_test(
    annotator: u32,
    c: &LabelCounts,
    gof: &ChiSquare,
    labels: &[String],
    min_excess: f64,
) -> RuleTest {
    let n = c.n();
    // The most over-used label, to make the finding concrete.
    let mut over = 0;
    for l in 0..c.observed.len() {
        if c.observed[l] - c.expected[l] > c.observed[over] - c.expected[over] {
            over = l;
        }
    }
    let name = labels.get(over).map(String::as_str).unwrap_or("?");
    let share = if n > 0.0 { c.observed[over] / n } else { 0.0 };
    let cohort = if n > 0.0 { c.expected[over] / n } else { 0.0 };
    let gate = share - cohort >= min_excess;
    RuleTest {
        annotator,
        rule: Rule::LabelBias,
        gate,
        statistic: gof.statistic,
        cohort_reference: Some(cohort),
        threshold: gof.df,
        n: n as u64,
        p_value: gof.p_value,
        message: message_if(gate, || {
            format!(
                "label distribution differs from the cohort's on the same items (chi-square {:.1}, df {:.0}, {}), most over-used label {name:?} ({} vs {}); clears when no label is used {:.0} points more than the cohort uses it on the same items.",
                gof.statistic,
                gof.df,
                fmt_p(gof.p_value),
                pct(share),
                pct(cohort),
                100.0 * min_excess
            )
        }),
    }
}

/// `runs_anomaly`: too few runs (streaks of one answer) or too many (alternation).
pub fn runs_anomaly_test(annotator: u32, r: &Runs, min_abs_z: f64) -> RuleTest {
    let what = if r.z < 0.0 {
        "long streaks of the same answer"
    } else {
        "answers alternate more than chance allows"
    };
    let gate = r.z.abs() >= min_abs_z;
    RuleTest {
        annotator,
        rule: Rule::RunsAnomaly,
        gate,
        statistic: r.z,
        cohort_reference: Some(r.expected),
        threshold: 0.0,
        n: r.n,
        p_value: r.p_value,
        message: message_if(gate, || {
            format!(
                "in submission order the {} answers form {} runs where about {:.0} are expected by chance (z = {:.1}, {}): {what}; clears when |z| stays below {min_abs_z}, i.e. answers follow the items rather than the order.",
                r.n,
                r.runs,
                r.expected,
                r.z,
                fmt_p(r.p_value)
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_test_on_a_hand_counted_sequence() {
        // A A B B B A B A A B: n_A = 5, n_B = 5, N = 10; runs: AA|BBB|A|B|AA|B = 6.
        // Two-category formulas: E = 1 + 2·5·5/10 = 6, Var = 2·25·(50 − 10)/(100·9) = 20/9.
        let seq = [0, 0, 1, 1, 1, 0, 1, 0, 0, 1];
        let r = runs_test(&seq).unwrap();
        assert_eq!(r.runs, 6);
        assert!((r.expected - 6.0).abs() < 1e-12);
        assert!(r.z.abs() < 1e-12 && (r.p_value - 1.0).abs() < 1e-12);
        // A A A A A B B B B B: 2 runs, z = (2 − 6)/sqrt(20/9) = −2.6832815729997477.
        let r = runs_test(&[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]).unwrap();
        assert_eq!(r.runs, 2);
        assert!((r.z + 2.6832815729997477).abs() < 1e-12);
        // Perfect alternation: 10 runs, z = +2.683...
        let r = runs_test(&[0, 1, 0, 1, 0, 1, 0, 1, 0, 1]).unwrap();
        assert!((r.z - 2.6832815729997477).abs() < 1e-12);
        assert!(runs_test(&[2, 2, 2]).is_none());
        // Large category ids take the sorting path and give the same moments.
        let big = runs_test(&[
            7,
            7,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            7,
            u32::MAX,
            7,
            7,
            u32::MAX,
        ]);
        assert_eq!(big, runs_test(&seq));
    }

    #[test]
    fn runs_moments_match_enumeration_for_three_categories() {
        // Enumerating all 210 orderings of 0,0,0,1,1,2,2 (python itertools.permutations):
        // mean 5.571428571428571, variance 1.0068027210884354.
        let r = runs_test(&[0, 0, 0, 1, 1, 2, 2]).unwrap();
        assert!((r.expected - 5.571428571428571).abs() < 1e-12);
        let var = ((r.runs as f64 - r.expected) / r.z).powi(2);
        assert!((var - 1.0068027210884354).abs() < 1e-9);
    }

    #[test]
    fn goodness_of_fit_matches_scipy_and_pools() {
        // scipy.stats.chisquare([30, 10, 10], [20, 15, 15]): statistic 8.333333333333334,
        // pvalue 0.015503853599009307
        let c = chi_square_gof(&[30.0, 10.0, 10.0], &[20.0, 15.0, 15.0]).unwrap();
        assert!((c.statistic - 8.333333333333334).abs() < 1e-12);
        assert!((c.p_value - 0.015503853599009307).abs() < 1e-12);
        // Expected 2 and 1 are pooled into a bucket of 3 (< 5) that joins the smallest.
        let c = chi_square_gof(&[10.0, 8.0, 1.0, 1.0], &[10.0, 7.0, 2.0, 1.0]).unwrap();
        assert_eq!(c.df, 1.0);
        assert!(chi_square_gof(&[3.0, 1.0], &[2.0, 2.0]).is_none());
    }

    #[test]
    fn straight_lining_gate_needs_share_and_excess() {
        let c = LabelCounts {
            observed: vec![80.0, 10.0, 5.0, 5.0],
            expected: vec![30.0, 30.0, 20.0, 20.0],
        };
        let t = straight_lining_test(0, &c, "a", 0.6, 0.25).unwrap();
        assert!(t.gate && t.p_value < 1e-12);
        let honest = LabelCounts {
            observed: vec![62.0, 20.0, 10.0, 8.0],
            expected: vec![60.0, 20.0, 10.0, 10.0],
        };
        assert!(
            !straight_lining_test(0, &honest, "a", 0.6, 0.25)
                .unwrap()
                .gate
        );
    }
}

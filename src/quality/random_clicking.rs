//! Random clicking: Pearson's chi-square test of independence on the annotator-vs-consensus
//! contingency table (a high p means the answers look independent of the consensus), and a
//! one-sided z test that Cohen's kappa against the consensus is below the policy's ceiling,
//! using the Fleiss–Cohen–Everitt standard error.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::flags::{fmt_p, Rule, RuleTest};
use super::loo_agreement::{Kappa, Table};
use super::Signal;

/// Result of a chi-square test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    pub statistic: f64,
    pub df: f64,
    pub p_value: f64,
}

/// Upper tail of the chi-square distribution.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    match ChiSquared::new(df) {
        Ok(d) if x.is_finite() => d.sf(x.max(0.0)).clamp(0.0, 1.0),
        _ => 1.0,
    }
}

/// Standard normal lower tail.
pub fn normal_cdf(z: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(d) => d.cdf(z),
        Err(_) => 0.5,
    }
}

/// Pearson chi-square test of independence (no continuity correction) on the non-empty rows
/// and columns. `None` when fewer than two non-empty rows or columns (df would be 0).
pub fn chi_square_independence(t: &Table) -> Option<ChiSquare> {
    let q = t.q;
    let rows: Vec<usize> = (0..q)
        .filter(|&i| (0..q).any(|j| t.get(i, j) > 0))
        .collect();
    let cols: Vec<usize> = (0..q)
        .filter(|&j| (0..q).any(|i| t.get(i, j) > 0))
        .collect();
    if rows.len() < 2 || cols.len() < 2 {
        return None;
    }
    let n = t.total() as f64;
    let rs: Vec<f64> = rows
        .iter()
        .map(|&i| cols.iter().map(|&j| t.get(i, j) as f64).sum())
        .collect();
    let cs: Vec<f64> = cols
        .iter()
        .map(|&j| rows.iter().map(|&i| t.get(i, j) as f64).sum())
        .collect();
    let mut x2 = 0.0;
    for (ri, &i) in rows.iter().enumerate() {
        for (ci, &j) in cols.iter().enumerate() {
            let e = rs[ri] * cs[ci] / n;
            let d = t.get(i, j) as f64 - e;
            x2 += d * d / e;
        }
    }
    let df = ((rows.len() - 1) * (cols.len() - 1)) as f64;
    Some(ChiSquare {
        statistic: x2,
        df,
        p_value: chi_square_sf(x2, df),
    })
}

/// The independence signal: value = chi-square statistic, with df and p.
pub fn independence_signal(c: &ChiSquare, n: u64) -> Signal {
    Signal {
        p_value: Some(c.p_value),
        df: Some(c.df),
        ..Signal::new(c.statistic, n)
    }
}

/// One-sided p-value of H0: kappa >= `ceiling` (small p: kappa credibly below the ceiling).
pub fn kappa_below_p(k: &Kappa, ceiling: f64) -> f64 {
    if k.se > 0.0 && k.se.is_finite() {
        normal_cdf((k.kappa - ceiling) / k.se)
    } else if k.kappa < ceiling {
        0.0
    } else {
        1.0
    }
}

/// The `random_clicking` test on clear items: kappa against the consensus credibly below the
/// ceiling. Gate: kappa below the ceiling AND either the answers look independent of the
/// consensus (chi-square p >= `independence_alpha`) or kappa is at most half the ceiling —
/// answers that clearly depend on the consensus with a middling kappa are an honest
/// annotator on hard items, not a random clicker.
pub fn random_clicking_test(
    annotator: u32,
    kappa: Option<&Kappa>,
    independence: Option<&ChiSquare>,
    ceiling: f64,
    independence_alpha: f64,
    min_clear: usize,
    cohort_median: Option<f64>,
) -> Option<RuleTest> {
    let k = kappa?;
    if (k.n as usize) < min_clear {
        return None;
    }
    let p = kappa_below_p(k, ceiling);
    let how = match independence {
        Some(c) if c.p_value >= independence_alpha => format!(
            "answers look independent of the consensus (chi-square {})",
            fmt_p(c.p_value)
        ),
        Some(c) => format!(
            "answers depend on the consensus but disagree with it systematically (chi-square {}), as in label swapping",
            fmt_p(c.p_value)
        ),
        None => "almost every answer is the same label".to_string(),
    };
    Some(RuleTest {
        annotator,
        rule: Rule::RandomClicking,
        gate: k.kappa < ceiling
            && (independence.is_none_or(|c| c.p_value >= independence_alpha)
                || k.kappa <= ceiling / 2.0),
        statistic: k.kappa,
        cohort_reference: cohort_median,
        threshold: ceiling,
        n: k.n,
        p_value: p,
        message: format!(
            "agreement with the consensus is no better than chance: kappa {:.2} (95% CI {:.2} to {:.2}) on {} clear items, and {how}; clears when kappa is credibly above {:.2} ({}).",
            k.kappa,
            k.kappa - 1.96 * k.se,
            k.kappa + 1.96 * k.se,
            k.n,
            ceiling,
            fmt_p(p)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi_square_matches_scipy() {
        // scipy.stats.chi2_contingency([[20,5,3],[4,18,6],[2,7,15]], correction=False):
        // statistic = 41.516788766788764, dof = 4, pvalue = 2.1007322875364906e-08
        let mut t = Table::new(3);
        t.counts = vec![20, 5, 3, 4, 18, 6, 2, 7, 15];
        let c = chi_square_independence(&t).unwrap();
        assert!((c.statistic - 41.516788766788764).abs() < 1e-9);
        assert_eq!(c.df, 4.0);
        assert!((c.p_value - 2.1007322875364906e-08).abs() < 1e-14);
        // scipy.stats.chi2.sf(7.815, 3) = 0.049993902974883875 (the textbook 5% point)
        assert!((chi_square_sf(7.815, 3.0) - 0.049993902974883875).abs() < 1e-10);
    }

    #[test]
    fn empty_rows_and_columns_are_dropped() {
        let mut t = Table::new(3);
        t.counts = vec![10, 0, 0, 0, 0, 0, 5, 0, 0];
        // Only one non-empty column: no test.
        assert!(chi_square_independence(&t).is_none());
        t.counts = vec![10, 0, 10, 0, 0, 0, 10, 0, 10];
        let c = chi_square_independence(&t).unwrap();
        assert_eq!(c.df, 1.0);
        assert!(c.statistic.abs() < 1e-12 && (c.p_value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn kappa_ceiling_test() {
        let k = Kappa {
            kappa: 0.0,
            se: 0.05,
            n: 100,
        };
        // z = -0.2 / 0.05 = -4: Phi(-4) = 3.167124183311986e-05 (scipy.stats.norm.cdf(-4))
        assert!((kappa_below_p(&k, 0.2) - 3.167124183311986e-05).abs() < 1e-12);
        let t = random_clicking_test(1, Some(&k), None, 0.2, 0.05, 20, None).unwrap();
        assert!(t.gate && t.message.contains("same label"));
        let good = Kappa { kappa: 0.7, ..k };
        assert!(kappa_below_p(&good, 0.2) > 0.99);
    }
}

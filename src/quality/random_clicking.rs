//! Random clicking: Pearson's chi-square test of independence on the annotator-vs-consensus
//! contingency table (a high p means the answers look independent of the consensus), a
//! one-sided z test that Cohen's kappa against the consensus is below the policy's ceiling,
//! using the Fleiss–Cohen–Everitt standard error, and a "support" test: how often the
//! annotator's answer is one that at least one other annotator also gave on the item, against
//! what answers drawn independently of the item from the annotator's own label distribution
//! would achieve (Poisson-binomial mean and variance, normal approximation).

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::flags::{fmt_p, message_if, Rule, RuleTest};
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

/// Support of an annotator's answers by the other annotators on the same items.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Support {
    /// Items where another annotator gave the same answer.
    pub observed: f64,
    /// Expected count if answers were drawn from the annotator's own label distribution
    /// independently of the item: `Σ_items Σ_{l given by others} p(l)`.
    pub expected: f64,
    /// Poisson-binomial variance `Σ r (1 − r)`.
    pub variance: f64,
    pub n: u64,
}

impl Support {
    /// Add one item: `own` is the annotator's answer, `others` flags the labels given by
    /// others, `marginal` the annotator's own label distribution.
    pub fn add(&mut self, own: u32, others: &[bool], marginal: &[f64]) {
        let r: f64 = others
            .iter()
            .zip(marginal)
            .filter(|(&o, _)| o)
            .map(|(_, &p)| p)
            .sum::<f64>()
            .clamp(0.0, 1.0);
        self.add_share(r, others.get(own as usize).copied().unwrap_or(false));
    }

    /// [`Support::add`] with the chance share `r` of the others' labels already summed (see
    /// [`ShareTable`]) and whether the own answer is among them.
    pub fn add_share(&mut self, r: f64, own_given: bool) {
        self.expected += r;
        self.variance += r * (1.0 - r);
        self.observed += f64::from(u8::from(own_given));
        self.n += 1;
    }

    /// One-sided p-value of "no more support than chance" (small p: the answers follow the
    /// items, which random clicking cannot do).
    pub fn p_value(&self) -> f64 {
        if self.variance <= 0.0 {
            return if self.observed > self.expected {
                0.0
            } else {
                1.0
            };
        }
        // Continuity correction of 1/2 for the discrete count.
        1.0 - normal_cdf((self.observed - self.expected - 0.5) / self.variance.sqrt())
    }
}

/// The chance share `r` of [`Support::add`] for every set of labels the others can give,
/// as a bit set over at most [`ShareTable::MAX_LABELS`] labels: one lookup per item instead
/// of a pass over all labels. Each entry adds the shares in label order, as `add` does, so
/// the sums are the same to the bit.
#[derive(Debug, Clone, Default)]
pub struct ShareTable {
    r: Vec<f64>,
}

impl ShareTable {
    /// Most labels a table covers (256 entries).
    pub const MAX_LABELS: usize = 8;

    /// Fill the table for `marginal` (reusing its memory); false when there are too many
    /// labels for a table.
    pub fn fill(&mut self, marginal: &[f64]) -> bool {
        if marginal.len() > Self::MAX_LABELS {
            return false;
        }
        // Unclamped sums first: a set's sum is its set without the highest label, plus
        // that label's share (the last term of the sum in label order).
        let sets = 1usize << marginal.len();
        self.r.clear();
        self.r.push(std::iter::empty::<f64>().sum());
        for set in 1..sets {
            let top = usize::BITS - 1 - set.leading_zeros();
            let sum = self.r[set & !(1 << top)] + marginal[top as usize];
            self.r.push(sum);
        }
        for r in &mut self.r {
            *r = r.clamp(0.0, 1.0);
        }
        true
    }

    /// The share of the labels in `set` (bit `l` for label `l`).
    pub fn share(&self, set: u32) -> f64 {
        self.r[set as usize]
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

/// The `random_clicking` test: kappa against the consensus on clear items credibly below the
/// ceiling (the p-value). Gate: kappa below the ceiling AND the answers are not shared with
/// other annotators more often than chance (support p >= `support_alpha`). An honest
/// annotator given mostly ambiguous items can look random against a majority, but it picks
/// one of the labels the others hesitate between; a random clicker, a straight-liner or a
/// label swapper does not. The chi-square test only shapes the message.
pub fn random_clicking_test(
    annotator: u32,
    kappa: Option<&Kappa>,
    independence: Option<&ChiSquare>,
    support: &Support,
    ceiling: f64,
    independence_alpha: f64,
    support_alpha: f64,
    min_clear: usize,
    cohort_median: Option<f64>,
) -> Option<RuleTest> {
    let k = kappa?;
    if (k.n as usize) < min_clear {
        return None;
    }
    let p = kappa_below_p(k, ceiling);
    let follows_items = support.n > 0 && support.p_value() < support_alpha;
    let gate = k.kappa < ceiling && !follows_items;
    Some(RuleTest {
        annotator,
        rule: Rule::RandomClicking,
        gate,
        statistic: k.kappa,
        cohort_reference: cohort_median,
        threshold: ceiling,
        n: k.n,
        p_value: p,
        message: message_if(gate, || {
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
            format!(
                "agreement with the consensus is no better than chance: kappa {:.2} (95% CI {:.2} to {:.2}) on {} clear items, {how}, and another annotator gave the same answer on {:.0} of {} items where {:.0} are expected by chance; clears when kappa is credibly above {:.2} ({}).",
                k.kappa,
                k.kappa - 1.96 * k.se,
                k.kappa + 1.96 * k.se,
                k.n,
                support.observed,
                support.n,
                support.expected,
                ceiling,
                fmt_p(p)
            )
        }),
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
    fn share_table_sums_like_support_add() {
        // Shares that do not add up exactly in floating point, so that the order matters.
        let marginal = [0.1, 0.2, 0.3, 1e-17, 0.15, 0.25, 1.0 / 3.0, 0.7];
        for q in [1, 2, 5, 8] {
            let marginal = &marginal[..q];
            let mut table = ShareTable::default();
            assert!(table.fill(marginal));
            for set in 0..1u32 << q {
                let given: Vec<bool> = (0..q).map(|l| set >> l & 1 == 1).collect();
                for own in 0..q as u32 {
                    let (mut by_add, mut by_table) = (Support::default(), Support::default());
                    by_add.add(own, &given, marginal);
                    by_table.add_share(table.share(set), given[own as usize]);
                    assert_eq!(by_add, by_table, "q {q} set {set:b} own {own}");
                    assert_eq!(by_add.expected.to_bits(), by_table.expected.to_bits());
                }
            }
        }
        assert!(!ShareTable::default().fill(&[0.1; 9]));
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
        let t = random_clicking_test(
            1,
            Some(&k),
            None,
            &Support::default(),
            0.2,
            0.05,
            0.001,
            20,
            None,
        )
        .unwrap();
        assert!(t.gate && t.message.contains("same label"));
        // An annotator whose answers are shared with others far more than chance is not
        // clicking at random, whatever kappa says.
        let mut support = Support::default();
        for i in 0..40u32 {
            support.add(
                i % 2,
                &[true, i % 2 == 1, false, false],
                &[0.5, 0.5, 0.0, 0.0],
            );
        }
        // Observed 40; expected Σ r = 20 · 0.5 + 20 · 1.0 = 30; variance 20 · 0.25 = 5.
        assert_eq!(support.observed, 40.0);
        assert!((support.expected - 30.0).abs() < 1e-12);
        assert!((support.variance - 5.0).abs() < 1e-12);
        assert!(support.p_value() < 1e-4);
        let t =
            random_clicking_test(1, Some(&k), None, &support, 0.2, 0.05, 0.001, 20, None).unwrap();
        assert!(!t.gate);
        let good = Kappa { kappa: 0.7, ..k };
        assert!(kappa_below_p(&good, 0.2) > 0.99);
    }
}

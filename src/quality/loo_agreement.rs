//! Agreement with the leave-one-out consensus (the majority of the OTHER annotators on each
//! item): raw agreement with a Wilson interval, and Cohen's (1960) kappa of annotator vs
//! LOO label with the large-sample standard error of Fleiss, Cohen & Everitt (1969).

use super::flags::{fmt_p, message_if, pct, Rule, RuleTest};
use super::gold_accuracy::{binomial_cdf, min_successes_to_clear, wilson_interval};
use super::Signal;

/// Cohen's kappa and its asymptotic standard error (not under the null).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kappa {
    pub kappa: f64,
    pub se: f64,
    pub n: u64,
}

/// Square `q × q` contingency table, rows = annotator's label, columns = reference label.
#[derive(Debug, Clone)]
pub struct Table {
    pub q: usize,
    pub counts: Vec<u64>,
}

impl Table {
    pub fn new(q: usize) -> Self {
        Table {
            q,
            counts: vec![0; q * q],
        }
    }
    pub fn add(&mut self, row: u32, col: u32) {
        let (r, c) = (row as usize, col as usize);
        if r < self.q && c < self.q {
            self.counts[r * self.q + c] += 1;
        }
    }
    pub fn get(&self, r: usize, c: usize) -> u64 {
        self.counts[r * self.q + c]
    }
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Cohen's kappa with the Fleiss–Cohen–Everitt (1969) standard error, computed by the
/// agreement engine's `cohen_kappa_table`. `None` when kappa is undefined (chance agreement 1).
pub fn cohen_kappa(t: &Table) -> Option<Kappa> {
    let counts: Vec<f64> = t.counts.iter().map(|&c| c as f64).collect();
    let k = crate::agreement::cohen_kappa_table(
        &counts,
        t.q,
        crate::agreement::KappaWeights::Unweighted,
    );
    Some(Kappa {
        kappa: k.value?,
        se: k.se?,
        n: t.total(),
    })
}

/// Agreement counts of one annotator with the LOO label, on all items and on clear items.
#[derive(Debug, Clone, Default)]
pub struct AgreementCounts {
    pub agree_all: u64,
    pub n_all: u64,
    pub agree_clear: u64,
    pub n_clear: u64,
}

/// Raw agreement signal (value, n, Wilson 95% interval).
pub fn agreement_signal(k: u64, n: u64) -> Option<Signal> {
    (n > 0).then(|| Signal {
        ci95: wilson_interval(k, n, 1.959_963_984_540_054),
        ..Signal::new(k as f64 / n as f64, n)
    })
}

/// Kappa signal (value, n, 95% interval κ ± 1.96 SE).
pub fn kappa_signal(k: &Kappa) -> Signal {
    Signal {
        ci95: Some([k.kappa - 1.96 * k.se, k.kappa + 1.96 * k.se]),
        se: Some(k.se),
        ..Signal::new(k.kappa, k.n)
    }
}

/// The `low_agreement` test: exact lower-tail binomial test of H0: agreement >= standard on
/// clear items.
pub fn low_agreement_test(
    annotator: u32,
    c: &AgreementCounts,
    standard: f64,
    min_clear: usize,
    cohort_median: Option<f64>,
    alpha: f64,
) -> Option<RuleTest> {
    if (c.n_clear as usize) < min_clear || c.n_clear == 0 {
        return None;
    }
    let (k, n) = (c.agree_clear, c.n_clear);
    let rate = k as f64 / n as f64;
    let p = binomial_cdf(k, n, standard);
    let gate = rate < standard;
    Some(RuleTest {
        annotator,
        rule: Rule::LowAgreement,
        gate,
        statistic: rate,
        cohort_reference: cohort_median,
        threshold: standard,
        n,
        p_value: p,
        message: message_if(gate, || {
            let [lo, hi] = wilson_interval(k, n, 1.96).unwrap_or([0.0, 1.0]);
            let need = min_successes_to_clear(n, standard, alpha);
            format!(
                "agreed with the other annotators' majority on {k} of {n} clear items ({}, 95% CI {:.0}–{}); the standard is {}: needs at least {need} of {n} to clear ({}).",
                pct(rate),
                100.0 * lo,
                pct(hi),
                pct(standard),
                fmt_p(p)
            )
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[u64]]) -> Table {
        let q = rows.len();
        let mut t = Table::new(q);
        for (i, r) in rows.iter().enumerate() {
            for (j, &v) in r.iter().enumerate() {
                t.counts[i * q + j] = v;
            }
        }
        t
    }

    #[test]
    fn kappa_and_se_match_statsmodels() {
        // statsmodels.stats.inter_rater.cohens_kappa([[20,5,3],[4,18,6],[2,7,15]]):
        // kappa = 0.4924812030075188, std_kappa = 0.07949519821605712
        let k = cohen_kappa(&table(&[&[20, 5, 3], &[4, 18, 6], &[2, 7, 15]])).unwrap();
        assert!((k.kappa - 0.4924812030075188).abs() < 1e-12);
        assert!((k.se - 0.07949519821605712).abs() < 1e-12);
        assert_eq!(k.n, 80);
    }

    #[test]
    fn kappa_edge_cases() {
        // Perfect agreement: kappa 1 and SE 0.
        let k = cohen_kappa(&table(&[&[10, 0], &[0, 10]])).unwrap();
        assert!((k.kappa - 1.0).abs() < 1e-12 && k.se.abs() < 1e-12);
        // Independent margins: kappa 0 (hand count: po = .5, pe = .5).
        let k = cohen_kappa(&table(&[&[5, 5], &[5, 5]])).unwrap();
        assert!(k.kappa.abs() < 1e-12 && k.se > 0.0);
        // Everyone says one label: chance agreement 1, kappa undefined.
        assert!(cohen_kappa(&table(&[&[10, 0], &[0, 0]])).is_none());
        assert!(cohen_kappa(&Table::new(3)).is_none());
    }

    #[test]
    fn low_agreement_needs_enough_clear_items() {
        let c = AgreementCounts {
            agree_clear: 10,
            n_clear: 40,
            ..Default::default()
        };
        let t = low_agreement_test(3, &c, 0.6, 20, Some(0.8), 0.05).unwrap();
        assert!(t.gate && t.p_value < 1e-4);
        assert!(t.message.contains("10 of 40 clear items (25%"));
        let c = AgreementCounts { n_clear: 10, ..c };
        assert!(low_agreement_test(3, &c, 0.6, 20, None, 0.05).is_none());
    }
}

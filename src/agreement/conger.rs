//! Conger's kappa for many raters with missing ratings.
//!
//! Source: A. J. Conger, "Integration and generalization of kappas for multiple raters",
//! *Psychological Bulletin* 88(2):322–328, 1980; variance by Gwet (2014, ch. 5), as irrCAC
//! (R `conger.kappa.raw`, Python 0.4.4 `CAC.conger`), reproduced formula by formula.
//!
//! Missing ratings: rater g's marginals p_gk are taken over the n_g items g rated; p_a is
//! averaged over items with ≥ 2 ratings; the variance runs over all n items with ≥ 1 rating.
//! The per-item chance term of irrCAC sums a term λ_ig over *all* raters, including those who
//! did not rate item i; we split it into a per-rater constant (the unrated case) plus a
//! correction for the raters present, so the cost is O(ratings · q) instead of O(n · raters).

use super::cac::{chance_corrected, precheck, Base};
use super::{Estimate, Ratings};

/// Conger's kappa with weights `w` (row-major q × q).
pub fn conger(r: &Ratings, w: &[f64], b: &Base) -> Estimate {
    if let Some(why) = precheck(r, b) {
        return Estimate::undefined(b.n, why);
    }
    let q = r.q;
    let n = b.n as f64;
    // Compact rater ids to the raters with at least one rating.
    let mut classif = vec![0.0f64; r.n_raters * q];
    for &(a, c) in &r.rater_cat {
        classif[a as usize * q + c as usize] += 1.0;
    }
    let mut ng: Vec<f64> = Vec::new();
    let mut slot = vec![usize::MAX; r.n_raters];
    let mut p: Vec<f64> = Vec::new(); // p_gk, row per compact rater
    for a in 0..r.n_raters {
        let row = &classif[a * q..(a + 1) * q];
        let total: f64 = row.iter().sum();
        if total > 0.0 {
            slot[a] = ng.len();
            ng.push(total);
            p.extend(row.iter().map(|x| x / total));
        }
    }
    let raters = ng.len();
    if raters < 2 {
        return Estimate::undefined(b.n, "fewer than two annotators");
    }
    let rf = raters as f64;
    let pbar: Vec<f64> = (0..q)
        .map(|k| (0..raters).map(|g| p[g * q + k]).sum::<f64>() / rf)
        .collect();
    // p_e = Σ w_kl (p̄_k p̄_l − s²_kl / r), s²_kl the between-rater covariance of p_gk, p_gl.
    let mut pe = 0.0;
    for k in 0..q {
        for l in 0..q {
            let cross: f64 = (0..raters).map(|g| p[g * q + k] * p[g * q + l]).sum();
            let s2 = (cross - rf * pbar[k] * pbar[l]) / (rf - 1.0);
            pe += w[k * q + l] * (pbar[k] * pbar[l] - s2 / rf);
        }
    }
    // a_gk = r p̄_k − p_gk; u_gk = Σ_l w_kl p_gl; c_g = Σ_k u_gk a_gk (λ_ig of an unrated item);
    // bw_gc = Σ_k w_kc a_gk (enters λ_ig when g rated item i as c).
    let mut c_total = 0.0;
    let mut c_g = vec![0.0; raters];
    let mut bw = vec![0.0; raters * q];
    for g in 0..raters {
        let a_g: Vec<f64> = (0..q).map(|k| rf * pbar[k] - p[g * q + k]).collect();
        for k in 0..q {
            let u: f64 = (0..q).map(|l| w[k * q + l] * p[g * q + l]).sum();
            c_g[g] += u * a_g[k];
        }
        for c in 0..q {
            bw[g * q + c] = (0..q).map(|k| w[k * q + c] * a_g[k]).sum();
        }
        c_total += c_g[g];
    }
    let pe_i = |i: usize| {
        let mut s = c_total;
        for &(a, c) in r.item_ratings(i) {
            let g = slot[a as usize];
            s += n / ng[g] * (bw[g * q + c as usize] - c_g[g]);
        }
        s / (rf * (rf - 1.0))
    };
    chance_corrected(b, r, pe, Some(&pe_i))
}

#[cfg(test)]
mod tests {
    use super::super::cac::base;
    use super::super::{weights, Ratings, Status};
    use super::*;
    use crate::Dataset;

    #[test]
    fn two_raters_complete_equals_cohen() {
        // Conger's kappa with two raters and no missing data is Cohen's kappa:
        // table [[2,1],[0,1]]: p_o = 3/4, p_e = (3/4·1/2 + 1/4·1/2) = 1/2, κ = 1/2.
        let rows = [
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("2", "a", "x"),
            ("2", "b", "x"),
            ("3", "a", "x"),
            ("3", "b", "y"),
            ("4", "a", "y"),
            ("4", "b", "y"),
        ];
        let r = Ratings::from_dataset(&Dataset::from_triples(rows));
        let w = weights::identity(2);
        let e = conger(&r, &w, &base(&r, &w));
        assert!((e.value.unwrap() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn one_rater_is_undefined() {
        let rows = [("1", "a", "x"), ("2", "a", "y")];
        let r = Ratings::from_dataset(&Dataset::from_triples(rows));
        let w = weights::identity(2);
        assert_eq!(conger(&r, &w, &base(&r, &w)).status, Status::Undefined);
    }
}

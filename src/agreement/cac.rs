//! Percent agreement, Fleiss' kappa, Brennan-Prediger and Gwet's AC1/AC2 for raw ratings.
//!
//! Source: K. L. Gwet, *Handbook of Inter-Rater Reliability*, 4th ed. (2014), ch. 2–5, and
//! its reference implementation irrCAC (R `pa.coeff.raw`, `fleiss.kappa.raw`, `bp.coeff.raw`,
//! `gwet.ac1.raw`; Python 0.4.4 `CAC.fleiss/bp/gwet`), reproduced formula by formula.
//!
//! Missing ratings: item i has r_i ≥ 1 ratings. The chance marginals π_k = (1/n) Σ_i r_ik/r_i
//! average over all n items, observed agreement p_a over the n₂ items with r_i ≥ 2, and the
//! linearised variance v = Σ_i (κ*_i − κ)² / (n(n − 1)) runs over all n items, with
//! κ_i = (n/n₂)(p_a,i − p_e·[r_i ≥ 2])/(1 − p_e) and κ*_i = κ_i − 2(1 − κ)(p_e,i − p_e)/(1 − p_e)
//! (sampling of subjects only, finite-population factor f = 0).

use rayon::prelude::*;

use super::{Estimate, Ratings};

/// Threshold below which 1 − p_e counts as zero (chance agreement is certain).
pub(crate) const PE_EPS: f64 = 1e-12;

/// Pieces shared by every coefficient of the family.
pub(crate) struct Base {
    /// Items with ≥ 1 rating.
    pub n: usize,
    /// Items with ≥ 2 ratings.
    pub n2: usize,
    /// Weighted observed agreement over the n₂ items.
    pub pa: f64,
    /// Per-item weighted agreement Σ_k r_ik (r*_ik − 1) / (r_i(r_i − 1)), 0 when r_i < 2.
    pub pa_i: Vec<f64>,
    /// Chance marginals π_k.
    pub pi: Vec<f64>,
}

/// p_a and π for weights `w` (row-major q × q). Every coefficient with the same weights
/// reads the same `Base`: compute it once per weight matrix.
pub(crate) fn base(r: &Ratings, w: &[f64]) -> Base {
    let (n, q) = (r.n(), r.q);
    // The per-item agreement in parallel; the sums below stay sequential, in item order.
    let pa_i: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            if r.r[i] < 2 {
                return 0.0;
            }
            let item = r.item(i);
            let ri = f64::from(r.r[i]);
            let mut sum_q = 0.0;
            for &(k, xk) in item {
                let wx: f64 = item
                    .iter()
                    .map(|&(l, xl)| w[k as usize * q + l as usize] * f64::from(xl))
                    .sum();
                sum_q += f64::from(xk) * (wx - 1.0);
            }
            sum_q / (ri * (ri - 1.0))
        })
        .collect();
    let mut pi = vec![0.0; q];
    let mut n2 = 0usize;
    let mut pa_sum = 0.0;
    for i in 0..n {
        let ri = f64::from(r.r[i]);
        for &(k, x) in r.item(i) {
            pi[k as usize] += f64::from(x) / ri;
        }
        if r.r[i] >= 2 {
            pa_sum += pa_i[i];
            n2 += 1;
        }
    }
    for p in &mut pi {
        *p /= n as f64;
    }
    let pa = if n2 > 0 { pa_sum / n2 as f64 } else { 0.0 };
    Base {
        n,
        n2,
        pa,
        pa_i,
        pi,
    }
}

/// Why a kappa-type coefficient is undefined before any arithmetic, if it is.
pub(crate) fn precheck(r: &Ratings, b: &Base) -> Option<&'static str> {
    if b.n2 == 0 {
        Some("no item has two or more ratings")
    } else if r.q < 2 {
        Some("only one category is used: chance agreement is 1")
    } else {
        None
    }
}

/// Linearised SE from per-item terms: sqrt(Σ (x_i − c)² / (n(n − 1))); None when n < 2.
pub(crate) fn linearised_se(terms: impl Iterator<Item = f64>, c: f64, n: usize) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let ss: f64 = terms.map(|x| (x - c) * (x - c)).sum();
    Some((ss / (n as f64 * (n as f64 - 1.0))).sqrt())
}

/// Coefficient (p_a − p_e)/(1 − p_e) with the general per-item chance term `pe_i`.
/// `pe_i = None` means p_e is fixed (Brennan-Prediger): no chance-term correction.
/// The per-item terms are computed in parallel and summed in item order.
pub(crate) fn chance_corrected(
    b: &Base,
    r: &Ratings,
    pe: f64,
    pe_i: Option<&(dyn Fn(usize) -> f64 + Sync)>,
) -> Estimate {
    if 1.0 - pe < PE_EPS {
        let mut e = Estimate::undefined(b.n, "chance agreement p_e is 1");
        e.pa = Some(b.pa);
        e.pe = Some(pe);
        return e;
    }
    let coef = (b.pa - pe) / (1.0 - pe);
    let scale = b.n as f64 / b.n2 as f64;
    let terms: Vec<f64> = (0..b.n)
        .into_par_iter()
        .map(|i| {
            let has2 = if r.r[i] >= 2 { 1.0 } else { 0.0 };
            let k_i = scale * (b.pa_i[i] - pe * has2) / (1.0 - pe);
            match pe_i {
                Some(f) => k_i - 2.0 * (1.0 - coef) * (f(i) - pe) / (1.0 - pe),
                None => k_i,
            }
        })
        .collect();
    let se = linearised_se(terms.into_iter(), coef, b.n);
    let mut e = Estimate::value(coef, b.n).with_t_inference(se, b.n);
    e.pa = Some(b.pa);
    e.pe = Some(pe);
    e.checked()
}

/// Pairwise percent agreement p_a (weighted by `w`) with Gwet's SE (R `pa.coeff.raw`).
pub fn percent_agreement(b: &Base) -> Estimate {
    if b.n2 == 0 {
        return Estimate::undefined(b.n, "no item has two or more ratings");
    }
    let scale = b.n as f64 / b.n2 as f64;
    let se = linearised_se(b.pa_i.iter().map(|&p| scale * p), b.pa, b.n);
    let mut e = Estimate::value(b.pa, b.n).with_t_inference(se, b.n);
    e.pa = Some(b.pa);
    e
}

/// Fleiss' generalised kappa (Fleiss 1971; weighted and with missing ratings as irrCAC).
pub fn fleiss(r: &Ratings, w: &[f64], b: &Base) -> Estimate {
    if let Some(why) = precheck(r, b) {
        return Estimate::undefined(b.n, why);
    }
    let q = r.q;
    let mut pe = 0.0;
    // π_w,k = ((Wπ)_k + (Wᵀπ)_k)/2: the symmetric chance weight of category k.
    let mut pi_w = vec![0.0; q];
    for k in 0..q {
        for l in 0..q {
            pe += w[k * q + l] * b.pi[k] * b.pi[l];
            pi_w[k] += (w[k * q + l] + w[l * q + k]) / 2.0 * b.pi[l];
        }
    }
    let pe_i = |i: usize| {
        let s: f64 = r
            .item(i)
            .iter()
            .map(|&(k, x)| f64::from(x) * pi_w[k as usize])
            .sum();
        s / f64::from(r.r[i])
    };
    chance_corrected(b, r, pe, Some(&pe_i))
}

/// Gwet's AC1 (identity weights) or AC2 (other weights).
pub fn gwet(r: &Ratings, w: &[f64], b: &Base) -> Estimate {
    if let Some(why) = precheck(r, b) {
        return Estimate::undefined(b.n, why);
    }
    let q = r.q as f64;
    let t_w: f64 = w.iter().sum::<f64>() / (q * (q - 1.0));
    let pe = t_w * b.pi.iter().map(|p| p * (1.0 - p)).sum::<f64>();
    let pe_i = |i: usize| {
        let s: f64 = r
            .item(i)
            .iter()
            .map(|&(k, x)| f64::from(x) * (1.0 - b.pi[k as usize]))
            .sum();
        t_w * s / f64::from(r.r[i])
    };
    chance_corrected(b, r, pe, Some(&pe_i))
}

/// Brennan-Prediger (1981): p_e = Σ w_kl / q², fixed.
pub fn brennan_prediger(r: &Ratings, w: &[f64], b: &Base) -> Estimate {
    if let Some(why) = precheck(r, b) {
        return Estimate::undefined(b.n, why);
    }
    let pe = w.iter().sum::<f64>() / (r.q * r.q) as f64;
    chance_corrected(b, r, pe, None)
}

#[cfg(test)]
mod tests {
    use super::super::{weights, Ratings, Status};
    use super::*;
    use crate::Dataset;

    fn ratings(rows: &[(&str, &str, &str)]) -> Ratings {
        Ratings::from_dataset(&Dataset::from_triples(rows.iter().copied()))
    }

    #[test]
    fn two_item_example_matches_hand_computation() {
        // Items: (x,x), (x,y). p_a = 1/2; π = (3/4, 1/4); Fleiss p_e = 10/16;
        // κ = (1/2 − 5/8)/(3/8) = −1/3. Gwet p_e = 2·(3/16)/2... = 3/8, AC1 = (1/2−3/8)/(5/8) = 0.2.
        let r = ratings(&[
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("2", "a", "x"),
            ("2", "b", "y"),
        ]);
        let w = weights::identity(2);
        let b = base(&r, &w);
        let f = fleiss(&r, &w, &b);
        assert!((f.value.unwrap() + 1.0 / 3.0).abs() < 1e-15);
        let g = gwet(&r, &w, &b);
        assert!((g.value.unwrap() - 0.2).abs() < 1e-15);
        let bp = brennan_prediger(&r, &w, &b);
        assert!((bp.value.unwrap() - 0.0).abs() < 1e-15);
        assert_eq!(percent_agreement(&b).value, Some(0.5));
    }

    #[test]
    fn single_category_is_undefined_but_percent_agreement_is_one() {
        let r = ratings(&[
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("2", "a", "x"),
            ("2", "b", "x"),
        ]);
        let w = weights::identity(1);
        let b = base(&r, &w);
        for e in [
            fleiss(&r, &w, &b),
            gwet(&r, &w, &b),
            brennan_prediger(&r, &w, &b),
        ] {
            assert_eq!(e.status, Status::Undefined);
            assert_eq!(e.value, None);
        }
        assert_eq!(percent_agreement(&b).value, Some(1.0));
    }

    #[test]
    fn no_pairable_item_is_undefined() {
        let r = ratings(&[("1", "a", "x"), ("2", "b", "y")]);
        let w = weights::identity(2);
        let b = base(&r, &w);
        assert_eq!(fleiss(&r, &w, &b).status, Status::Undefined);
        assert_eq!(percent_agreement(&b).status, Status::Undefined);
    }
}

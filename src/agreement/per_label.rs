//! Agreement on each label: specific agreement and Fleiss' per-category kappa.
//!
//! Sources: J. L. Fleiss, "Measuring nominal scale agreement among many raters",
//! *Psychological Bulletin* 76(5):378–382, 1971, eq. (15)–(17): κ_j is the kappa of the
//! binary category-j-versus-rest ratings; category-specific (positive) agreement
//! ps_k = Σ_i r_ik(r_ik − 1) / Σ_i r_ik(r_i − 1) (Uebersax 1982; Fleiss 1971 §"agreement on
//! a particular category").
//!
//! Missing ratings: κ_j is computed exactly as our (irrCAC-style) Fleiss' kappa on the binary
//! data: π_j = (1/n) Σ_i r_ij / r_i over items with ≥ 1 rating, p_a over items with ≥ 2
//! ratings, p_e = π_j² + (1 − π_j)². With a constant number m of ratings this is Fleiss'
//! κ_j = 1 − Σ_i x_ij(m − x_ij) / (n m (m − 1) p_j q_j). Items with one rating add nothing
//! to ps_k (both sums are 0 for them).

use super::cac::PE_EPS;
use super::Ratings;

/// Agreement on one category (by compact category index).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CategoryAgreement {
    pub specific_agreement: Option<f64>,
    pub kappa: Option<f64>,
    pub n: usize,
}

/// Specific agreement and per-category kappa of every used category.
pub(crate) fn per_label(r: &Ratings) -> Vec<CategoryAgreement> {
    let q = r.q;
    let mut num = vec![0.0; q]; // Σ x(x−1)
    let mut den = vec![0.0; q]; // Σ x(r−1)
    let mut pi = vec![0.0; q];
    let mut n_ratings = vec![0usize; q];
    // Binary disagreement per category: Σ over items with r ≥ 2 of 2x(r−x)/(r(r−1)),
    // i.e. 1 − binary p_a,i (0 for items without the category).
    let mut dis = vec![0.0; q];
    let mut n2 = 0usize;
    for i in 0..r.n() {
        let ri = f64::from(r.r[i]);
        for &(k, x) in r.item(i) {
            let (k, x) = (k as usize, f64::from(x));
            num[k] += x * (x - 1.0);
            den[k] += x * (ri - 1.0);
            pi[k] += x / ri;
            n_ratings[k] += x as usize;
            if r.r[i] >= 2 {
                dis[k] += 2.0 * x * (ri - x) / (ri * (ri - 1.0));
            }
        }
        if r.r[i] >= 2 {
            n2 += 1;
        }
    }
    let n = r.n() as f64;
    (0..q)
        .map(|k| {
            let p = pi[k] / n;
            let pe = p * p + (1.0 - p) * (1.0 - p);
            let kappa = (n2 > 0 && 1.0 - pe >= PE_EPS).then(|| {
                let pa = 1.0 - dis[k] / n2 as f64;
                (pa - pe) / (1.0 - pe)
            });
            CategoryAgreement {
                specific_agreement: (den[k] > 0.0).then(|| num[k] / den[k]),
                kappa: kappa.filter(|v| v.is_finite()),
                n: n_ratings[k],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;

    #[test]
    fn hand_computed_two_items() {
        // Items (x,x,y) and (x,y,y): ps_x = (2+0)/(3·2... ) = Σx(x−1)=2 / Σx(r−1)=(2·2+1·2)=6.
        let ds = Dataset::from_triples([
            ("1", "a", "x"),
            ("1", "b", "x"),
            ("1", "c", "y"),
            ("2", "a", "x"),
            ("2", "b", "y"),
            ("2", "c", "y"),
        ]);
        let out = per_label(&Ratings::from_dataset(&ds));
        assert!((out[0].specific_agreement.unwrap() - 2.0 / 6.0).abs() < 1e-15);
        // Binary Fleiss: p_a = 1/3, π = 1/2, p_e = 1/2 → κ = −1/3.
        assert!((out[0].kappa.unwrap() + 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(out[1].n, 3);
    }
}

//! Intraclass correlation coefficients on a targets × judges matrix.
//!
//! Source: P. E. Shrout and J. L. Fleiss, "Intraclass correlations: uses in assessing rater
//! reliability", *Psychological Bulletin* 86(2):420–428, 1979 (forms ICC(1,1), (2,1), (3,1)
//! and their k-judge means); F tests and 95 % confidence intervals of K. O. McGraw and
//! S. P. Wong, "Forming inferences about some intraclass correlation coefficients",
//! *Psychological Methods* 1(1):30–46, 1996, formula by formula as pingouin 0.6.1
//! `intraclass_corr` (ICC(1,1), ICC(A,1), ICC(C,1), ICC(1,k), ICC(A,k), ICC(C,k)).
//!
//! Missing values: the forms need a fully crossed design. Rows (targets) with any missing
//! (`None` or non-finite) rating are dropped and counted in `targets_dropped` (pingouin's
//! `nan_policy="omit"` does the same: listwise deletion of targets).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// One ICC form with its F test and 95 % CI. Floats are finite or `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IccForm {
    /// Shrout–Fleiss name, e.g. `ICC(2,1)`.
    pub form: &'static str,
    /// McGraw–Wong / pingouin name, e.g. `ICC(A,1)`.
    pub mcgraw_wong: &'static str,
    /// Coefficient.
    pub value: Option<f64>,
    /// F statistic of H0: ICC = 0.
    pub f: Option<f64>,
    /// Numerator degrees of freedom.
    pub df1: f64,
    /// Denominator degrees of freedom.
    pub df2: f64,
    /// One-sided p-value P(F > f) (as pingouin).
    pub p_value: Option<f64>,
    /// 95 % confidence interval.
    pub ci95: Option<[f64; 2]>,
}

/// All six forms of a complete targets × judges matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Icc {
    /// Targets used (complete rows).
    pub n_targets: usize,
    /// Judges (columns).
    pub k_judges: usize,
    /// Targets dropped because a rating was missing.
    pub targets_dropped: usize,
    /// ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k), in that order.
    pub forms: Vec<IccForm>,
}

impl Icc {
    /// The form with the given Shrout–Fleiss name (`ICC(2,1)`, `ICC(3,k)`, ...).
    pub fn get(&self, form: &str) -> Option<&IccForm> {
        self.forms.iter().find(|f| f.form == form)
    }
}

/// Why the ICC could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IccUndefined {
    /// Reason.
    pub reason: String,
    /// Targets dropped for missing ratings.
    pub targets_dropped: usize,
}

/// ICCs of `rows` (one row per target, one column per judge; `None` = missing).
pub fn icc(rows: &[Vec<Option<f64>>]) -> Result<Icc, IccUndefined> {
    let k = rows.first().map_or(0, Vec::len);
    let complete: Vec<Vec<f64>> = rows
        .iter()
        .filter(|r| r.len() == k && r.iter().all(|v| v.is_some_and(f64::is_finite)))
        .map(|r| r.iter().map(|v| v.unwrap_or(0.0)).collect())
        .collect();
    let dropped = rows.len() - complete.len();
    let undefined = |reason: &str| IccUndefined {
        reason: reason.to_string(),
        targets_dropped: dropped,
    };
    if k < 2 {
        return Err(undefined("need at least 2 judges"));
    }
    if complete.len() < 2 {
        return Err(undefined("need at least 2 targets rated by every judge"));
    }
    icc_complete(&complete, k).map(|mut r| {
        r.targets_dropped = dropped;
        r
    })
}

/// ICCs of a complete matrix given as rows of equal length `k`.
pub fn icc_complete(rows: &[Vec<f64>], k: usize) -> Result<Icc, IccUndefined> {
    let n = rows.len();
    let undefined = |reason: &str| IccUndefined {
        reason: reason.to_string(),
        targets_dropped: 0,
    };
    if n < 2 || k < 2 || rows.iter().any(|r| r.len() != k) {
        return Err(undefined(
            "need a complete matrix of at least 2 targets × 2 judges",
        ));
    }
    let (nf, kf) = (n as f64, k as f64);
    let grand = rows.iter().flatten().sum::<f64>() / (nf * kf);
    let row_means: Vec<f64> = rows.iter().map(|r| r.iter().sum::<f64>() / kf).collect();
    let col_means: Vec<f64> = (0..k)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / nf)
        .collect();
    let ss_total: f64 = rows.iter().flatten().map(|x| (x - grand).powi(2)).sum();
    let ss_r = kf * row_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_c = nf * col_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_e = ss_total - ss_r - ss_c;
    let (df_r, df_c, df_e) = (nf - 1.0, kf - 1.0, (nf - 1.0) * (kf - 1.0));
    let msb = ss_r / df_r;
    let msw = (ss_c + ss_e) / (df_c + df_e);
    let msj = ss_c / df_c;
    let mse = ss_e / df_e;
    if !(msw > 0.0 && mse > 0.0) {
        // Every judge agrees exactly (or the matrix is constant): F is infinite.
        return Err(undefined(
            "no within-target variance: the F ratios are infinite",
        ));
    }
    let icc1 = (msb - msw) / (msb + (kf - 1.0) * msw);
    let icc2 = (msb - mse) / (msb + (kf - 1.0) * mse + kf * (msj - mse) / nf);
    let icc3 = (msb - mse) / (msb + (kf - 1.0) * mse);
    let icc1k = (msb - msw) / msb;
    let icc2k = (msb - mse) / (msb + (msj - mse) / nf);
    let icc3k = (msb - mse) / msb;

    let f1 = msb / msw;
    let df1kd = nf * (kf - 1.0);
    let f3 = msb / mse;
    let df2kd = df_e;
    let sf = |f: f64, d1: f64, d2: f64| FisherSnedecor::new(d1, d2).ok().map(|d| d.sf(f));
    let q975 = |d1: f64, d2: f64| {
        FisherSnedecor::new(d1, d2)
            .ok()
            .map(|d| d.inverse_cdf(0.975))
    };
    let p1 = sf(f1, df_r, df1kd);
    let p3 = sf(f3, df_r, df2kd);

    // Cases 1 and 3: exact F-based limits.
    let ci_from_f = |f: f64, d2: f64| -> Option<([f64; 2], [f64; 2])> {
        let fl = f / q975(df_r, d2)?;
        let fu = f * q975(d2, df_r)?;
        let single = [(fl - 1.0) / (fl + kf - 1.0), (fu - 1.0) / (fu + kf - 1.0)];
        let average = [1.0 - 1.0 / fl, 1.0 - 1.0 / fu];
        Some((single, average))
    };
    let ci1 = ci_from_f(f1, df1kd);
    let ci3 = ci_from_f(f3, df2kd);
    // Case 2: Satterthwaite-approximated df v (McGraw & Wong 1996, Table 7).
    let ci2 = (|| -> Option<([f64; 2], [f64; 2])> {
        let fj = msj / mse;
        let a = nf * (1.0 + (kf - 1.0) * icc2) - kf * icc2;
        let vn = df2kd * (kf * icc2 * fj + a).powi(2);
        let vd = df_r * kf * kf * icc2 * icc2 * fj * fj + a * a;
        let v = vn / vd;
        if !(v.is_finite() && v > 0.0) {
            return None;
        }
        let f2u = q975(nf - 1.0, v)?;
        let f2l = q975(v, nf - 1.0)?;
        let c = kf * msj + (kf * nf - kf - nf) * mse;
        let l2 = nf * (msb - f2u * mse) / (f2u * c + nf * msb);
        let u2 = nf * (f2l * msb - mse) / (c + nf * f2l * msb);
        let avg = |x: f64| x * kf / (1.0 + x * (kf - 1.0));
        Some(([l2, u2], [avg(l2), avg(u2)]))
    })();

    let fin = |x: f64| x.is_finite().then_some(x);
    let fin_ci = |c: Option<[f64; 2]>| c.filter(|c| c[0].is_finite() && c[1].is_finite());
    let form =
        |form, mw, value: f64, f: f64, d2: f64, p: Option<f64>, ci: Option<[f64; 2]>| IccForm {
            form,
            mcgraw_wong: mw,
            value: fin(value),
            f: fin(f),
            df1: df_r,
            df2: d2,
            p_value: p.and_then(fin),
            ci95: fin_ci(ci),
        };
    let forms = vec![
        form(
            "ICC(1,1)",
            "ICC(1,1)",
            icc1,
            f1,
            df1kd,
            p1,
            ci1.map(|c| c.0),
        ),
        form(
            "ICC(2,1)",
            "ICC(A,1)",
            icc2,
            f3,
            df2kd,
            p3,
            ci2.map(|c| c.0),
        ),
        form(
            "ICC(3,1)",
            "ICC(C,1)",
            icc3,
            f3,
            df2kd,
            p3,
            ci3.map(|c| c.0),
        ),
        form(
            "ICC(1,k)",
            "ICC(1,k)",
            icc1k,
            f1,
            df1kd,
            p1,
            ci1.map(|c| c.1),
        ),
        form(
            "ICC(2,k)",
            "ICC(A,k)",
            icc2k,
            f3,
            df2kd,
            p3,
            ci2.map(|c| c.1),
        ),
        form(
            "ICC(3,k)",
            "ICC(C,k)",
            icc3k,
            f3,
            df2kd,
            p3,
            ci3.map(|c| c.1),
        ),
    ];
    Ok(Icc {
        n_targets: n,
        k_judges: k,
        targets_dropped: 0,
        forms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sf_table2() -> Vec<Vec<Option<f64>>> {
        // Shrout & Fleiss (1979) Table 2: 6 targets × 4 judges.
        [
            [9., 2., 5., 8.],
            [6., 1., 3., 2.],
            [8., 4., 6., 8.],
            [7., 1., 2., 6.],
            [10., 5., 6., 9.],
            [6., 2., 4., 7.],
        ]
        .iter()
        .map(|r| r.iter().map(|&v| Some(v)).collect())
        .collect()
    }

    #[test]
    fn shrout_fleiss_table4_published_values() {
        let r = icc(&sf_table2()).expect("defined");
        // Table 4 prints two decimals.
        for (form, published) in [
            ("ICC(1,1)", 0.17),
            ("ICC(2,1)", 0.29),
            ("ICC(3,1)", 0.71),
            ("ICC(1,k)", 0.44),
            ("ICC(2,k)", 0.62),
            ("ICC(3,k)", 0.91),
        ] {
            let v = r.get(form).and_then(|f| f.value).expect("value");
            assert!((v - published).abs() <= 0.005, "{form}: {v} vs {published}");
        }
        let f = r.get("ICC(3,1)").and_then(|f| f.f).expect("F");
        assert!((f - 11.027).abs() < 1e-3);
    }

    #[test]
    fn incomplete_targets_are_dropped_and_counted() {
        let mut rows = sf_table2();
        rows.push(vec![Some(1.0), None, Some(2.0), Some(3.0)]);
        let r = icc(&rows).expect("defined");
        assert_eq!((r.n_targets, r.targets_dropped), (6, 1));
        let constant = vec![vec![Some(1.0); 3]; 4];
        assert!(icc(&constant).is_err());
    }
}

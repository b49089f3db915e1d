//! Krippendorff's alpha at the nominal, ordinal, interval and ratio levels.
//!
//! Source: K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (Annenberg School
//! for Communication, 2011): coincidence matrix o_ck = Σ_u Σ_{pairs in u} / (m_u − 1),
//! α = 1 − (n.. − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, with the difference functions of §C–F
//! (ordinal δ² from the coincidence marginals, interval (c − k)², ratio ((c − k)/(c + k))²).
//!
//! Missing ratings: a unit contributes its m_u ≥ 2 pairable values; units with a single
//! value are dropped (unpairable), exactly as Krippendorff prescribes.
//!
//! Uncertainty: a nonparametric bootstrap over pairable units. Units with the same count
//! pattern contribute the same coincidences, so each distinct pattern's (c, k, o_uck) list is
//! computed once and a replicate only draws how often each pattern is resampled (a
//! multinomial, as a chain of binomials), then applies the O(q²) alpha formula; the ordinal
//! metric is recomputed from each replicate's own marginals. Replicate r draws with its own
//! `ChaCha8Rng::seed_from_u64(seed ^ splitmix64(r))`, replicates run in parallel with rayon
//! and are collected in replicate order, so results are bit-identical for any thread count.
//! SE = sample standard deviation (n − 1) of the defined replicates; CI = 2.5 % and 97.5 %
//! percentiles with linear interpolation (numpy's default). Replicates where alpha is
//! undefined (no disagreement expected) are left out and counted.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;

use super::{weights, Estimate, Ratings, Status};
use crate::dataset::{Dataset, Level};

/// Krippendorff's alpha with its bootstrap uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaEstimate {
    /// Point estimate; `None` when undefined.
    pub value: Option<f64>,
    /// Why it is undefined.
    pub reason: Option<String>,
    /// Pairable units (≥ 2 values).
    pub n_items: usize,
    /// Pairable values n...
    pub n_values: usize,
    /// Bootstrap SE (sd of the replicates).
    pub se: Option<f64>,
    /// Percentile 95 % CI.
    pub ci95: Option<[f64; 2]>,
    /// Replicates with a defined alpha.
    pub n_replicates: usize,
}

impl AlphaEstimate {
    /// Convert to the report's generic estimate (no p-value: the bootstrap gives none).
    pub fn into_estimate(self) -> Estimate {
        let mut e = match self.value {
            Some(v) => Estimate::value(v, self.n_items),
            None => Estimate::undefined(
                self.n_items,
                self.reason.clone().unwrap_or_else(|| "undefined".into()),
            ),
        };
        if e.status == Status::Ok {
            e.se = self.se;
            e.ci95 = self.ci95;
            e.n_replicates = Some(self.n_replicates);
        }
        e.checked()
    }
}

/// Krippendorff's alpha of a dataset at `level` (label values for interval/ratio; ranks when
/// labels are not numeric), with `bootstrap` replicates (0 = none).
pub fn krippendorff_alpha(
    ds: &Dataset,
    level: Level,
    bootstrap: usize,
    seed: u64,
) -> AlphaEstimate {
    let r = Ratings::from_dataset(ds);
    let values = weights::category_values(ds, &r.cat_label, level, &mut Vec::new());
    alpha_for_ratings(&r, level, &values, bootstrap, seed)
}

/// Precomputed coincidence contributions of each pairable unit, deduplicated: a unit's
/// contributions depend only on its category counts, and real batches have few distinct
/// count patterns (126 for five ratings over five labels), so each unit stores a pattern id
/// and the patterns' entry lists stay in cache during the bootstrap. Entries are added in
/// exactly the order of the per-unit lists, so sums are bit-identical to them.
struct Units {
    /// Pattern of each pairable unit, in unit order.
    pattern: Vec<u32>,
    /// `offsets[p]..offsets[p + 1]` is the range of pattern `p` in `entries`.
    offsets: Vec<usize>,
    entries: Vec<(u32, u32, f64)>,
}

impl Units {
    fn n_units(&self) -> usize {
        self.pattern.len()
    }

    fn n_patterns(&self) -> usize {
        self.offsets.len() - 1
    }

    fn pattern_entries(&self, p: usize) -> &[(u32, u32, f64)] {
        &self.entries[self.offsets[p]..self.offsets[p + 1]]
    }

    fn entries(&self, unit: usize) -> &[(u32, u32, f64)] {
        self.pattern_entries(self.pattern[unit] as usize)
    }

    /// How many units have each pattern.
    fn pattern_frequencies(&self) -> Vec<u64> {
        let mut frequency = vec![0u64; self.n_patterns()];
        for &p in &self.pattern {
            frequency[p as usize] += 1;
        }
        frequency
    }
}

fn units(r: &Ratings) -> Units {
    let mut u = Units {
        pattern: Vec::new(),
        offsets: vec![0],
        entries: Vec::new(),
    };
    let mut seen: ahash::AHashMap<&[(u32, u32)], u32> = ahash::AHashMap::new();
    for i in 0..r.n() {
        let m = r.r[i];
        if m < 2 {
            continue;
        }
        let item = r.item(i);
        if let Some(&p) = seen.get(item) {
            u.pattern.push(p);
            continue;
        }
        let p = (u.offsets.len() - 1) as u32;
        seen.insert(item, p);
        u.pattern.push(p);
        let denom = f64::from(m - 1);
        for &(c, xc) in item {
            for &(k, xk) in item {
                let pairs = if c == k {
                    f64::from(xc) * f64::from(xc - 1)
                } else {
                    f64::from(xc) * f64::from(xk)
                };
                if pairs > 0.0 {
                    u.entries.push((c, k, pairs / denom));
                }
            }
        }
        u.offsets.push(u.entries.len());
    }
    u
}

/// Alpha from a coincidence matrix `o` (row-major q × q); `None` when D_e = 0.
pub(crate) fn alpha_from_coincidences(
    o: &[f64],
    q: usize,
    level: Level,
    values: &[f64],
) -> Option<f64> {
    let marg: Vec<f64> = (0..q).map(|c| o[c * q..(c + 1) * q].iter().sum()).collect();
    let n: f64 = marg.iter().sum();
    if n <= 1.0 {
        return None;
    }
    // Cumulative marginals for the ordinal metric: cum[k] = Σ_{g<k} n_g.
    let mut cum = vec![0.0; q + 1];
    for k in 0..q {
        cum[k + 1] = cum[k] + marg[k];
    }
    let delta = |c: usize, k: usize| -> f64 {
        if c == k {
            return 0.0;
        }
        match level {
            Level::Nominal => 1.0,
            Level::Ordinal => {
                let (lo, hi) = (c.min(k), c.max(k));
                let d = cum[hi + 1] - cum[lo] - (marg[c] + marg[k]) / 2.0;
                d * d
            }
            Level::Interval => (values[c] - values[k]).powi(2),
            Level::Ratio => {
                let s = values[c] + values[k];
                if s == 0.0 {
                    0.0
                } else {
                    ((values[c] - values[k]) / s).powi(2)
                }
            }
        }
    };
    let (mut d_o, mut d_e) = (0.0, 0.0);
    for c in 0..q {
        for k in 0..q {
            let d = delta(c, k);
            d_o += o[c * q + k] * d;
            d_e += marg[c] * marg[k] * d;
        }
    }
    if d_e <= 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * d_o / d_e)
}

/// SplitMix64 finaliser: decorrelates the per-replicate seeds.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Alpha for compacted ratings with category scores `values`.
pub(crate) fn alpha_for_ratings(
    r: &Ratings,
    level: Level,
    values: &[f64],
    bootstrap: usize,
    seed: u64,
) -> AlphaEstimate {
    let q = r.q;
    let u = units(r);
    let n_units = u.n_units();
    let mut o = vec![0.0; q * q];
    for i in 0..n_units {
        for &(c, k, v) in u.entries(i) {
            o[c as usize * q + k as usize] += v;
        }
    }
    let n_values: usize = (0..r.n())
        .filter(|&i| r.r[i] >= 2)
        .map(|i| r.r[i] as usize)
        .sum();
    let mut out = AlphaEstimate {
        value: None,
        reason: None,
        n_items: n_units,
        n_values,
        se: None,
        ci95: None,
        n_replicates: 0,
    };
    if n_units == 0 {
        out.reason = Some("no item has two or more ratings".into());
        return out;
    }
    match alpha_from_coincidences(&o, q, level, values) {
        Some(a) => out.value = Some(a),
        None => {
            out.reason = Some("no disagreement is possible (expected disagreement is 0)".into());
            return out;
        }
    }
    if bootstrap == 0 {
        return out;
    }
    // Units with the same count pattern contribute the same coincidences, so a replicate
    // only needs how many times each pattern is drawn: n draws with replacement from the
    // units are Multinomial(n, pattern frequency / n) over patterns, sampled as a chain of
    // binomials. Exactly the same distribution as drawing unit by unit, at O(patterns)
    // cost instead of O(units) per replicate.
    let frequency = u.pattern_frequencies();
    let reps: Vec<Option<f64>> = (0..bootstrap as u64)
        .into_par_iter()
        .map(|rep| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ splitmix64(rep));
            let mut o = vec![0.0; q * q];
            let (mut draws_left, mut weight_left) = (n_units as u64, n_units as u64);
            for (p, &weight) in frequency.iter().enumerate() {
                if draws_left == 0 {
                    break;
                }
                let times = if weight >= weight_left {
                    draws_left
                } else {
                    let share = weight as f64 / weight_left as f64;
                    Binomial::new(draws_left, share)
                        .expect("0 <= share < 1")
                        .sample(&mut rng)
                };
                draws_left -= times;
                weight_left -= weight;
                if times > 0 {
                    for &(c, k, v) in u.pattern_entries(p) {
                        o[c as usize * q + k as usize] += times as f64 * v;
                    }
                }
            }
            alpha_from_coincidences(&o, q, level, values)
        })
        .collect();
    let mut vals: Vec<f64> = reps.into_iter().flatten().collect();
    out.n_replicates = vals.len();
    if vals.len() >= 2 {
        let m = vals.iter().sum::<f64>() / vals.len() as f64;
        let ss: f64 = vals.iter().map(|v| (v - m) * (v - m)).sum();
        out.se = Some((ss / (vals.len() - 1) as f64).sqrt());
        vals.sort_by(f64::total_cmp);
        out.ci95 = Some([percentile(&vals, 0.025), percentile(&vals, 0.975)]);
    }
    out
}

/// Percentile of sorted values, linear interpolation at h = (N − 1) p.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_pair_gives_minus_half() {
        // reference-values §12: ratings (A,B) and (B,A): D_o = 1, D_e = 2/3, α = −0.5.
        let ds = Dataset::from_triples([
            ("1", "r", "A"),
            ("1", "s", "B"),
            ("2", "r", "B"),
            ("2", "s", "A"),
        ]);
        let a = krippendorff_alpha(&ds, Level::Nominal, 0, 0);
        assert!((a.value.unwrap() + 0.5).abs() < 1e-15);
        assert_eq!(a.se, None);
    }

    #[test]
    fn constant_data_is_undefined_not_one() {
        let ds = Dataset::from_triples([
            ("1", "r", "a"),
            ("1", "s", "a"),
            ("2", "r", "a"),
            ("2", "s", "a"),
        ]);
        let a = krippendorff_alpha(&ds, Level::Nominal, 10, 0);
        assert_eq!(a.value, None);
        assert!(a.reason.is_some());
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // numpy.percentile([1,2,3,4], 2.5) = 1.075
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 0.025) - 1.075).abs() < 1e-15);
    }

    #[test]
    fn bootstrap_is_reproducible_for_a_seed() {
        let rows: Vec<(String, String, String)> = (0..30)
            .flat_map(|i| {
                (0..3).map(move |a| {
                    (
                        i.to_string(),
                        a.to_string(),
                        ((i * (a + 1)) % 3).to_string(),
                    )
                })
            })
            .collect();
        let ds = Dataset::from_triples(
            rows.iter()
                .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        );
        let a1 = krippendorff_alpha(&ds, Level::Nominal, 50, 7);
        let a2 = krippendorff_alpha(&ds, Level::Nominal, 50, 7);
        let a3 = krippendorff_alpha(&ds, Level::Nominal, 50, 8);
        assert_eq!(a1, a2);
        assert_ne!(a1.se, a3.se);
    }

    /// SE of alpha from a plain unit-by-unit bootstrap: the textbook resampling that the
    /// pattern-count multinomial must reproduce in distribution.
    fn unit_by_unit_se(r: &Ratings, level: Level, values: &[f64], reps: u64) -> f64 {
        use rand::Rng;
        let u = units(r);
        let q = r.q;
        let n = u.n_units();
        let mut rng = ChaCha8Rng::seed_from_u64(12345);
        let vals: Vec<f64> = (0..reps)
            .filter_map(|_| {
                let mut o = vec![0.0; q * q];
                for _ in 0..n {
                    for &(c, k, v) in u.entries(rng.random_range(0..n)) {
                        o[c as usize * q + k as usize] += v;
                    }
                }
                alpha_from_coincidences(&o, q, level, values)
            })
            .collect();
        let m = vals.iter().sum::<f64>() / vals.len() as f64;
        let ss: f64 = vals.iter().map(|v| (v - m) * (v - m)).sum();
        (ss / (vals.len() - 1) as f64).sqrt()
    }

    #[test]
    fn pattern_bootstrap_matches_unit_by_unit_resampling() {
        // 200 units of 2-5 ratings over 4 ordinal labels, noisy around a latent label.
        let mut rows = Vec::new();
        let mut state = 7u64;
        for i in 0..200u64 {
            state = splitmix64(state);
            let truth = state % 4;
            for a in 0..(2 + i % 4) {
                state = splitmix64(state);
                let label = if state % 3 == 0 {
                    (truth + state % 4) % 4
                } else {
                    truth
                };
                rows.push((i.to_string(), a.to_string(), label.to_string()));
            }
        }
        let ds = Dataset::from_triples(
            rows.iter()
                .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
        );
        for level in [Level::Nominal, Level::Ordinal] {
            let fast = krippendorff_alpha(&ds, level, 4000, 3);
            let (r, values) = (Ratings::from_dataset(&ds), vec![0.0, 1.0, 2.0, 3.0]);
            let slow = unit_by_unit_se(&r, level, &values, 4000);
            let se = fast.se.unwrap();
            // Two independent 4000-replicate SE estimates differ by ~1.6 % (sd); allow 8 %.
            assert!((se / slow - 1.0).abs() < 0.08, "{level:?}: {se} vs {slow}");
            let [lo, hi] = fast.ci95.unwrap();
            let a = fast.value.unwrap();
            assert!(lo < a && a < hi && hi - lo > 2.0 * se, "{lo} {a} {hi} {se}");
        }
    }
}

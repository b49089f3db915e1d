//! Property tests of the agreement coefficients: perfect agreement gives 1, relabelling
//! nominal categories and permuting items or annotators change nothing, and the bootstrap is
//! bit-identical whatever the number of rayon threads.

use labelaudit::agreement::{compute, krippendorff_alpha, AgreementOptions, AgreementReport};
use labelaudit::{Dataset, Level};
use proptest::prelude::*;

/// Ratings matrix: `cells[item][rater]` = label index or missing.
fn matrix() -> impl Strategy<Value = Vec<Vec<Option<u8>>>> {
    (2usize..6, 2u8..5).prop_flat_map(|(raters, q)| {
        prop::collection::vec(
            prop::collection::vec(prop::option::weighted(0.8, 0..q), raters),
            3..25,
        )
    })
}

fn triples(
    cells: &[Vec<Option<u8>>],
    item: impl Fn(usize) -> String,
    rater: impl Fn(usize) -> String,
    label: impl Fn(u8) -> String,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, row) in cells.iter().enumerate() {
        for (g, cell) in row.iter().enumerate() {
            if let Some(l) = cell {
                out.push((item(i), rater(g), label(*l)));
            }
        }
    }
    out
}

fn dataset(t: &[(String, String, String)]) -> Dataset {
    Dataset::from_triples(
        t.iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())),
    )
}

fn opts(bootstrap: usize) -> AgreementOptions {
    AgreementOptions {
        level: Level::Nominal,
        min_shared: 2,
        bootstrap,
        seed: 42,
    }
}

/// (name, value) of every coefficient, in a fixed order.
fn values(r: &AgreementReport) -> Vec<(&'static str, Option<f64>)> {
    let c = &r.coefficients;
    vec![
        ("percent_agreement", c.percent_agreement.value),
        ("fleiss", c.fleiss_kappa.value),
        ("conger", c.conger_kappa.value),
        ("bp", c.brennan_prediger.value),
        ("ac1", c.gwet_ac1.value),
        ("alpha", c.krippendorff_alpha.value),
        ("light", c.light_kappa.value),
        ("fleiss_se", c.fleiss_kappa.se),
        ("conger_se", c.conger_kappa.se),
        ("ac1_se", c.gwet_ac1.se),
    ]
}

fn assert_same(a: &AgreementReport, b: &AgreementReport) -> Result<(), TestCaseError> {
    for ((name, x), (_, y)) in values(a).into_iter().zip(values(b)) {
        match (x, y) {
            (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-12, "{name}: {x} vs {y}"),
            (x, y) => prop_assert_eq!(x, y, "{}", name),
        }
    }
    let mut ka: Vec<Option<f64>> = a.pairs.iter().map(|p| p.cohen_kappa).collect();
    let mut kb: Vec<Option<f64>> = b.pairs.iter().map(|p| p.cohen_kappa).collect();
    let key = |x: &Option<f64>| x.map(|v| (v * 1e9).round() as i64);
    ka.sort_by_key(key);
    kb.sort_by_key(key);
    prop_assert_eq!(ka.len(), kb.len());
    for (x, y) in ka.iter().zip(&kb) {
        let same = match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-12,
            (x, y) => x == y,
        };
        prop_assert!(same, "pair kappa {:?} vs {:?}", x, y);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn perfect_agreement_gives_one(cells in matrix()) {
        // Every rater of an item gives the item's label (item index mod q').
        let agreed: Vec<Vec<Option<u8>>> = cells
            .iter()
            .enumerate()
            .map(|(i, row)| row.iter().map(|c| c.map(|_| (i % 3) as u8)).collect())
            .collect();
        let t = triples(&agreed, |i| format!("i{i}"), |g| format!("g{g}"), |l| format!("c{l}"));
        let ds = dataset(&t);
        let rep = compute(&ds, &opts(0));
        let mut pairable = 0;
        let mut cats = std::collections::BTreeSet::new();
        for (i, row) in agreed.iter().enumerate() {
            if row.iter().flatten().count() >= 2 {
                pairable += 1;
                cats.insert(i % 3);
            }
        }
        prop_assume!(pairable >= 2 && cats.len() >= 2);
        for (name, v) in values(&rep).into_iter().take(7) {
            if let Some(v) = v {
                prop_assert!((v - 1.0).abs() < 1e-12, "{name} = {v}");
            } else {
                prop_assert!(name == "light", "{name} undefined on perfect agreement");
            }
        }
    }

    #[test]
    fn renaming_nominal_categories_changes_nothing(cells in matrix(), shift in 1u8..4) {
        let t1 = triples(&cells, |i| format!("i{i}"), |g| format!("g{g}"), |l| format!("c{l}"));
        // A bijective renaming that also reverses the label order.
        let t2 = triples(&cells, |i| format!("i{i}"), |g| format!("g{g}"), |l| format!("z{}", 9 - (l + shift)));
        assert_same(&compute(&dataset(&t1), &opts(0)), &compute(&dataset(&t2), &opts(0)))?;
    }

    #[test]
    fn permuting_items_and_annotators_changes_nothing(cells in matrix(), rot in 1usize..7) {
        let n_items = cells.len();
        let n_raters = cells[0].len();
        let t1 = triples(&cells, |i| format!("i{i:03}"), |g| format!("g{g}"), |l| format!("c{l}"));
        // Rename items and raters by a rotation, which permutes their canonical order,
        // and feed the rows in reverse order.
        let mut t2 = triples(
            &cells,
            |i| format!("i{:03}", (i + rot) % n_items),
            |g| format!("g{}", (g + rot) % n_raters),
            |l| format!("c{l}"),
        );
        t2.reverse();
        assert_same(&compute(&dataset(&t1), &opts(0)), &compute(&dataset(&t2), &opts(0)))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn bootstrap_is_identical_for_1_and_4_threads(cells in matrix(), seed in any::<u64>()) {
        let t = triples(&cells, |i| format!("i{i}"), |g| format!("g{g}"), |l| format!("c{l}"));
        let ds = dataset(&t);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| krippendorff_alpha(&ds, Level::Ordinal, 200, seed))
        };
        let (a, b) = (run(1), run(4));
        prop_assert_eq!(a.se.map(f64::to_bits), b.se.map(f64::to_bits));
        prop_assert_eq!(a.ci95.map(|c| c.map(f64::to_bits)), b.ci95.map(|c| c.map(f64::to_bits)));
        prop_assert_eq!(a, b);
    }
}

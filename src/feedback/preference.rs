//! Pairwise preferences (response A vs response B): parsing, position bias, tie overuse, and
//! the two datasets on which the agreement engine computes kappa / alpha.
//!
//! Scale: a judgment is a signed strength in −2..=2, positive when A is preferred:
//! `A>>B` = 2, `A>B` = 1, `tie` = 0, `B>A` = −1, `B>>A` = −2; plain choices `A` / `B` map
//! to ±1. With the shown order, the strength is re-signed so that positive means "picked the
//! response shown first (left)".
//!
//! Signals compare an annotator with the cohort ON THE SAME ITEMS: for each of the
//! annotator's items, the cohort rate is the rate among the OTHER annotators of that item;
//! the expected rate is the mean of those item rates, and the annotator's count is tested
//! with the exact binomial test (scipy `binomtest`) against it. The exact null is Poisson-
//! binomial; the binomial with the mean rate has at least its variance, so the test is
//! conservative. Effect size: Cohen's h (1988) of the annotator's rate vs the expected rate.
//!
//! Missing values: judgments without a shown order do not enter position bias; ties do not
//! enter position bias (no side was picked); items where no other annotator gives a usable
//! judgment are left out of that annotator's test (the count is in `n`).

use serde::Serialize;

use super::{cohort_rate_signals, Signal};
use crate::Dataset;

/// One pairwise judgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Judgment {
    /// Item (prompt with its response pair) id.
    pub item: u32,
    /// Annotator id.
    pub annotator: u32,
    /// Signed strength −2..=2, positive = A preferred.
    pub strength: i8,
    /// Whether A was shown first (left); `None` when unknown.
    pub a_shown_first: Option<bool>,
}

impl Judgment {
    /// Strength re-signed so that positive = the first-shown response was preferred.
    pub fn first_shown_strength(&self) -> Option<i8> {
        self.a_shown_first.map(|a_first| {
            if a_first {
                self.strength
            } else {
                -self.strength
            }
        })
    }
}

/// Parse a choice or a strength: `A`, `B`, `tie`, `A>>B`, `A>B`, `B>A`, `B>>A` (case and
/// surrounding spaces ignored; `A<B` / `B<<A` style, `=` / `equal` / `same` and the numbers
/// −2..=2 accepted).
pub fn parse_strength(s: &str) -> Option<i8> {
    let t: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match t.as_str() {
        "a>>b" | "b<<a" => 2,
        "a>b" | "b<a" | "a" => 1,
        "tie" | "=" | "a=b" | "equal" | "same" => 0,
        "b>a" | "a<b" | "b" => -1,
        "b>>a" | "a<<b" => -2,
        // The numeric scale itself (what `preference_datasets` writes).
        "2" | "+2" => 2,
        "1" | "+1" => 1,
        "0" => 0,
        "-1" => -1,
        "-2" => -2,
        _ => return None,
    })
}

/// Label of a strength on the choice scale: `A`, `B` or `tie`.
pub fn choice_label(strength: i8) -> &'static str {
    match strength.signum() {
        1 => "A",
        -1 => "B",
        _ => "tie",
    }
}

/// Position bias: rate of picking the first-shown response among decisive judgments with a
/// known order, vs the other annotators' rate on the same items. One-sided p: P(X ≥ k)
/// (primacy); the two-sided p also catches a recency bias.
pub fn position_bias(judgments: &[Judgment]) -> Vec<Signal> {
    // Per item: (picked first, decisive) per annotator.
    let obs: Vec<(u32, u32, Option<bool>)> = judgments
        .iter()
        .map(|j| {
            let picked_first = j.first_shown_strength().filter(|&s| s != 0).map(|s| s > 0);
            (j.item, j.annotator, picked_first)
        })
        .collect();
    cohort_rate_signals(&obs, "position_bias", "picked the first-shown response")
}

/// Tie overuse: rate of `tie` judgments vs the other annotators' tie rate on the same items;
/// one-sided p: P(X ≥ k).
pub fn tie_overuse(judgments: &[Judgment]) -> Vec<Signal> {
    let obs: Vec<(u32, u32, Option<bool>)> = judgments
        .iter()
        .map(|j| (j.item, j.annotator, Some(j.strength == 0)))
        .collect();
    cohort_rate_signals(&obs, "tie_overuse", "answered tie")
}

/// Two datasets for the agreement engine: the choice (`A` / `B` / `tie`; analyse at the
/// nominal level) and the signed strength (`-2`..`2`; analyse at the ordinal level).
/// `items[id]` / `annotators[id]` name the ids; an id without a name is written as a number.
pub fn preference_datasets(
    judgments: &[Judgment],
    items: &[String],
    annotators: &[String],
) -> (Dataset, Dataset) {
    let name = |names: &[String], id: u32| {
        names
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let rows: Vec<(String, String, i8)> = judgments
        .iter()
        .map(|j| {
            (
                name(items, j.item),
                name(annotators, j.annotator),
                j.strength,
            )
        })
        .collect();
    let strengths: Vec<String> = rows.iter().map(|r| r.2.to_string()).collect();
    let choice = Dataset::from_triples(
        rows.iter()
            .map(|(i, a, s)| (i.as_str(), a.as_str(), choice_label(*s))),
    );
    let strength = Dataset::from_triples(
        rows.iter()
            .zip(&strengths)
            .map(|((i, a, _), s)| (i.as_str(), a.as_str(), s.as_str())),
    );
    (choice, strength)
}

/// Judgments from a dataset whose labels are choices or strengths; `a_shown_first[pos]` is
/// the order of the annotation at that position (empty slice = unknown for all). Returns the
/// judgments and the number of annotations whose label did not parse.
pub fn judgments_from_dataset(
    ds: &Dataset,
    a_shown_first: &[Option<bool>],
) -> (Vec<Judgment>, usize) {
    let parsed: Vec<Option<i8>> = ds.labels.iter().map(|l| parse_strength(l)).collect();
    let mut out = Vec::with_capacity(ds.n_annotations());
    let mut bad = 0;
    for item in 0..ds.n_items() {
        for pos in ds.item_range(item) {
            match parsed.get(ds.label[pos] as usize).copied().flatten() {
                Some(strength) => out.push(Judgment {
                    item: item as u32,
                    annotator: ds.annotator[pos],
                    strength,
                    a_shown_first: a_shown_first.get(pos).copied().flatten(),
                }),
                None => bad += 1,
            }
        }
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 60 items; annotators 1..=4 pick the first-shown response on alternate items (50 %),
    /// annotator 0 always picks the first-shown one.
    fn cohort(biased_rate_all: bool) -> Vec<Judgment> {
        let mut v = Vec::new();
        for item in 0..60u32 {
            let a_first = item % 3 != 0;
            for a in 0..5u32 {
                let picks_first = if a == 0 && biased_rate_all {
                    true
                } else {
                    (item + a) % 2 == 0
                };
                let strength = if picks_first == a_first { 1 } else { -1 };
                v.push(Judgment {
                    item,
                    annotator: a,
                    strength,
                    a_shown_first: Some(a_first),
                });
            }
        }
        v
    }

    #[test]
    fn parse_the_scale() {
        assert_eq!(parse_strength(" A >> B "), Some(2));
        assert_eq!(parse_strength("b"), Some(-1));
        assert_eq!(parse_strength("Tie"), Some(0));
        assert_eq!(parse_strength("B>>A"), Some(-2));
        assert_eq!(parse_strength("maybe"), None);
        let j = Judgment {
            item: 0,
            annotator: 0,
            strength: 2,
            a_shown_first: Some(false),
        };
        assert_eq!(j.first_shown_strength(), Some(-2));
    }

    #[test]
    fn always_first_is_flagged_and_typical_is_not() {
        let s = position_bias(&cohort(true));
        let biased = &s[0];
        assert_eq!(biased.n, 60);
        assert_eq!(biased.statistic, Some(1.0));
        assert!(biased.p_value.is_some_and(|p| p < 1e-6), "{biased:?}");
        assert!(biased.p_value_one_sided.is_some_and(|p| p < 1e-6));
        let typical = position_bias(&cohort(false));
        for sig in &typical {
            assert!(sig.p_value.is_some_and(|p| p > 0.05), "{sig:?}");
        }
    }

    #[test]
    fn tie_overuse_flags_the_tie_lover() {
        let mut v = cohort(false);
        for j in v.iter_mut().filter(|j| j.annotator == 2 && j.item % 4 != 0) {
            j.strength = 0;
        }
        for j in v
            .iter_mut()
            .filter(|j| j.annotator != 2 && j.item % 10 == 0)
        {
            j.strength = 0;
        }
        let s = tie_overuse(&v);
        assert!(
            s[2].p_value_one_sided.is_some_and(|p| p < 1e-6),
            "{:?}",
            s[2]
        );
        // The others include the tie lover, so a typical annotator ties LESS than expected:
        // not an overuse.
        assert!(
            s[1].p_value_one_sided.is_some_and(|p| p > 0.05),
            "{:?}",
            s[1]
        );
    }

    #[test]
    fn datasets_for_the_agreement_engine() {
        let v = cohort(false);
        let (choice, strength) = preference_datasets(&v, &[], &[]);
        assert_eq!(choice.labels, vec!["A", "B"]);
        assert_eq!(strength.labels, vec!["-1", "1"]);
        assert_eq!(choice.n_annotations(), 300);
        let (back, bad) = judgments_from_dataset(&strength, &[]);
        assert_eq!((back.len(), bad), (300, 0));
    }
}

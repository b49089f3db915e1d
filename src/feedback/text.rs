//! Written answers: near-duplicate reuse by one annotator, copying between annotators, and
//! answers far shorter than the cohort's.
//!
//! Similarity: Jaccard similarity of the sets of character 5-shingles (Broder 1997, "On the
//! resemblance and containment of documents") of the normalised text (lower case, runs of
//! whitespace collapsed, trimmed; a text shorter than one shingle is its own single
//! shingle). Candidates for reuse come from MinHash LSH banding (Leskovec, Rajaraman &
//! Ullman, *Mining of Massive Datasets*, ch. 3) with the `gaoya` crate: for thresholds
//! ≥ 0.7, 100 hash functions in 20 bands of 5 rows (a pair at Jaccard 0.8 becomes a
//! candidate with probability 1 − (1 − 0.8⁵)²⁰ ≈ 0.9996; see `lsh_shape` for lower
//! thresholds), fixed FNV hasher and gaoya's fixed seed, so results are deterministic. Every reported similarity is the EXACT Jaccard of the shingle sets,
//! recomputed for the candidates; the LSH only bounds the work.
//!
//! Bounded work: reuse is searched within each annotator's answers through the LSH index
//! (never all pairs); exact duplicates are grouped by text first. Copying compares the
//! answers of one item with each other (items have few answers), never across items.
//!
//! Missing values: empty answers (after normalisation) are left out of every signal.

use std::collections::{BTreeMap, HashMap};

use gaoya::minhash::{MinHashIndex, MinHasher, MinHasher64V1};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::stats::{mad, median};
use super::Signal;
use crate::Dataset;

/// One written answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer<'a> {
    /// Item id.
    pub item: u32,
    /// Annotator id.
    pub annotator: u32,
    /// The answer text.
    pub text: &'a str,
}

/// Options of the text signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextOptions {
    /// Shingle length in characters.
    pub shingle: usize,
    /// Jaccard similarity at or above which two answers are near-duplicates.
    pub threshold: f64,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            shingle: 5,
            threshold: 0.8,
        }
    }
}

/// LSH shape (bands, rows per band) for a Jaccard threshold: the probability that a pair AT
/// the threshold becomes a candidate, 1 − (1 − tʳ)ᵇ, is ≥ 0.95 for t ≥ 0.3 and ≥ 0.9996 for
/// t ≥ 0.8.
fn lsh_shape(threshold: f64) -> (usize, usize) {
    if threshold >= 0.7 {
        (20, 5)
    } else if threshold >= 0.5 {
        (32, 3)
    } else {
        (32, 2)
    }
}

/// Lower case, whitespace runs collapsed to one space, trimmed.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Sorted, deduplicated character shingles of a normalised text.
pub fn shingles(norm: &str, size: usize) -> Vec<&str> {
    let mut v: Vec<&str> = gaoya::text::shingle_text(norm, size.max(1)).collect();
    if v.is_empty() && !norm.is_empty() {
        v.push(norm);
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Exact Jaccard similarity of two sorted, deduplicated sets; `None` when both are empty.
pub fn jaccard(a: &[&str], b: &[&str]) -> Option<f64> {
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    (union > 0).then(|| inter as f64 / union as f64)
}

/// Near-duplicate reuse: share of an annotator's answers that have a near-duplicate among
/// the same annotator's answers to OTHER items. `expected` is the cohort median share. No
/// p-value: reused answers come in clusters, so answers are not independent trials.
pub fn self_reuse(answers: &[Answer<'_>], opts: &TextOptions) -> Vec<Signal> {
    const NAME: &str = "text_reuse";
    let norms: Vec<String> = answers.iter().map(|a| normalise(a.text)).collect();
    let mut by_annot: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, a) in answers.iter().enumerate() {
        if !norms[i].is_empty() {
            by_annot.entry(a.annotator).or_default().push(i);
        }
    }
    let (bands, rows) = lsh_shape(opts.threshold);
    let hasher = MinHasher64V1::new(bands * rows);
    let shares: Vec<(u32, usize, usize)> = by_annot
        .iter()
        .map(|(&annot, idx)| {
            // Exact duplicates first: one representative text, the set of its items.
            let mut groups: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
            for &i in idx {
                groups
                    .entry(norms[i].as_str())
                    .or_default()
                    .push(answers[i].item);
            }
            let texts: Vec<(&str, Vec<u32>)> = groups.into_iter().collect();
            let sets: Vec<Vec<&str>> = texts.iter().map(|t| shingles(t.0, opts.shingle)).collect();
            let mut index: MinHashIndex<u64, usize> = MinHashIndex::new(bands, rows, 0.0);
            let sigs: Vec<Vec<u64>> = sets
                .iter()
                .map(|s| hasher.create_signature(s.iter()))
                .collect();
            for (t, sig) in sigs.iter().enumerate() {
                index.insert(t, sig.clone());
            }
            let mut reused = 0usize;
            for (t, (_, items)) in texts.iter().enumerate() {
                let distinct_items = items.iter().any(|&x| x != items[0]);
                let near = distinct_items || {
                    let mut cands: Vec<usize> = index.query_owned(&sigs[t]).into_iter().collect();
                    cands.sort_unstable();
                    cands.into_iter().any(|c| {
                        c != t
                            // Here all of `t`'s items are `items[0]`: the match must be elsewhere.
                            && texts[c].1.iter().any(|&x| x != items[0])
                            && jaccard(&sets[t], &sets[c]).is_some_and(|j| j >= opts.threshold)
                    })
                };
                if near {
                    reused += items.len();
                }
            }
            (annot, reused, idx.len())
        })
        .collect();
    let cohort: Vec<f64> = shares.iter().map(|s| s.1 as f64 / s.2 as f64).collect();
    let expected = median(&cohort);
    shares
        .into_iter()
        .map(|(a, k, n)| {
            let share = k as f64 / n as f64;
            Signal {
                signal: NAME,
                annotator: a,
                n,
                statistic: Some(share),
                expected,
                effect_size: expected.map(|e| share - e),
                p_value: None,
                p_value_one_sided: None,
                evidence: format!(
                    "{k} of {n} answers have a near-duplicate (Jaccard ≥ {}) among the annotator's answers to other items",
                    opts.threshold
                ),
                reason: None,
            }
            .checked()
        })
        .collect()
}

/// Two annotators' answers to the same item that are (near-)identical.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyPair {
    /// Item id.
    pub item: u32,
    /// First annotator id (smaller).
    pub a: u32,
    /// Second annotator id.
    pub b: u32,
    /// Exact shingle Jaccard similarity.
    pub similarity: f64,
    /// Identical after normalisation.
    pub identical: bool,
}

/// Pairs of different annotators whose answers to the same item have Jaccard ≥ threshold,
/// ordered by (item, a, b). Work: Σ over items of (answers per item)².
pub fn copying_pairs(answers: &[Answer<'_>], opts: &TextOptions) -> Vec<CopyPair> {
    let mut by_item: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    for a in answers {
        let norm = normalise(a.text);
        if !norm.is_empty() {
            by_item.entry(a.item).or_default().push((a.annotator, norm));
        }
    }
    let mut out = Vec::new();
    for (item, list) in by_item {
        let sets: Vec<Vec<&str>> = list
            .iter()
            .map(|(_, t)| shingles(t, opts.shingle))
            .collect();
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                if list[i].0 == list[j].0 {
                    continue;
                }
                let identical = list[i].1 == list[j].1;
                let sim = if identical {
                    Some(1.0)
                } else {
                    jaccard(&sets[i], &sets[j])
                };
                if let Some(similarity) = sim.filter(|&s| s >= opts.threshold) {
                    let (a, b) = (list[i].0.min(list[j].0), list[i].0.max(list[j].0));
                    out.push(CopyPair {
                        item,
                        a,
                        b,
                        similarity,
                        identical,
                    });
                }
            }
        }
    }
    out.sort_by_key(|p| (p.item, p.a, p.b));
    out
}

/// Short answers: per answer, ratio of its length (characters of the normalised text) to
/// the median length of the OTHER annotators' answers to the same item. Per annotator the
/// statistic is the geometric median ratio exp(median ln ratio); it is compared with the
/// cohort by a robust z of the median log ratio ((x − median) / (1.4826 MAD) over annotators
/// with at least `min_answers` comparable answers; p-values treat z as standard normal,
/// one-sided = lower tail). Answers on items without another non-empty answer are left out.
pub fn short_answers(answers: &[Answer<'_>], min_answers: usize) -> Vec<Signal> {
    const NAME: &str = "short_answers";
    let lens: Vec<usize> = answers
        .iter()
        .map(|a| normalise(a.text).chars().count())
        .collect();
    let mut by_item: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, a) in answers.iter().enumerate() {
        if lens[i] > 0 {
            by_item.entry(a.item).or_default().push(i);
        }
    }
    let mut logs: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (i, a) in answers.iter().enumerate() {
        let entry = logs.entry(a.annotator).or_default();
        if lens[i] == 0 {
            continue;
        }
        let others: Vec<f64> = by_item
            .get(&a.item)
            .map(|v| {
                v.iter()
                    .filter(|&&j| answers[j].annotator != a.annotator)
                    .map(|&j| lens[j] as f64)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(m) = median(&others).filter(|&m| m > 0.0) {
            entry.push((lens[i] as f64 / m).ln());
        }
    }
    let per: Vec<(u32, usize, Option<f64>)> = logs
        .into_iter()
        .map(|(a, v)| {
            (
                a,
                v.len(),
                median(&v).filter(|_| v.len() >= min_answers.max(1)),
            )
        })
        .collect();
    let cohort: Vec<f64> = per.iter().filter_map(|p| p.2).collect();
    let (med, scale) = (median(&cohort), mad(&cohort));
    let normal = Normal::new(0.0, 1.0).ok();
    per.into_iter()
        .map(|(a, n, v)| {
            let Some(v) = v else {
                return Signal::undefined(NAME, a, n, "too few answers with a cohort to compare");
            };
            let ratio = v.exp();
            let mut s = Signal {
                signal: NAME,
                annotator: a,
                n,
                statistic: Some(ratio),
                expected: med.map(f64::exp),
                effect_size: None,
                p_value: None,
                p_value_one_sided: None,
                evidence: format!(
                    "median answer is {:.0}% of the length of the others' answers to the same item",
                    100.0 * ratio
                ),
                reason: None,
            };
            match (med, scale, normal) {
                (Some(m), Some(sc), Some(nd)) if sc > 0.0 && cohort.len() >= 3 => {
                    let z = (v - m) / sc;
                    s.effect_size = Some(z);
                    s.p_value = Some((2.0 * nd.cdf(-z.abs())).min(1.0));
                    s.p_value_one_sided = Some(nd.cdf(z));
                    s.evidence.push_str(&format!(" (robust z {z:.2})"));
                }
                _ => {
                    s.reason = Some("cohort spread is zero or fewer than 3 annotators".into());
                }
            }
            s.checked()
        })
        .collect()
}

/// Answers from a dataset whose labels are the answer texts (borrowed from `ds.labels`).
pub fn answers_from_dataset(ds: &Dataset) -> Vec<Answer<'_>> {
    let mut out = Vec::with_capacity(ds.n_annotations());
    for item in 0..ds.n_items() {
        for pos in ds.item_range(item) {
            if let Some(text) = ds.labels.get(ds.label[pos] as usize) {
                out.push(Answer {
                    item: item as u32,
                    annotator: ds.annotator[pos],
                    text,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [&str; 6] = [
        "The first response is more accurate because it cites the correct year.",
        "Response B explains the algorithm step by step and includes an example.",
        "Both are fluent, but A hallucinates a function that does not exist.",
        "I prefer the second answer: it is shorter and answers the actual question.",
        "A is rude to the user; B is polite and equally correct.",
        "Neither answer handles the edge case of an empty list, B at least mentions it.",
    ];

    #[test]
    fn reuse_and_copying_are_found() {
        let mut texts: Vec<(u32, u32, String)> = Vec::new();
        for item in 0..6u32 {
            for a in 0..4u32 {
                let t = match a {
                    // Annotator 0 pastes the same answer everywhere, with a tiny edit.
                    0 => format!(
                        "This answer is clearly better and more helpful overall {}.",
                        item % 2
                    ),
                    // Annotator 3 copies annotator 1 (whitespace and case changes only).
                    3 => format!("{} (1)", BASE[(item as usize + 2) % 6])
                        .to_uppercase()
                        .replace(' ', "  "),
                    _ => format!("{} ({a})", BASE[(item as usize + a as usize * 2) % 6]),
                };
                texts.push((item, a, t));
            }
        }
        let answers: Vec<Answer<'_>> = texts
            .iter()
            .map(|(item, annotator, t)| Answer {
                item: *item,
                annotator: *annotator,
                text: t,
            })
            .collect();
        let opts = TextOptions::default();
        let reuse = self_reuse(&answers, &opts);
        assert_eq!(reuse[0].statistic, Some(1.0));
        assert_eq!(reuse[1].statistic, Some(0.0));
        let pairs = copying_pairs(&answers, &opts);
        assert!(pairs.iter().all(|p| p.b == 3), "{pairs:?}");
        assert!(pairs.iter().any(|p| p.a == 1 && p.b == 3 && p.identical));
        assert!(jaccard(&[], &[]).is_none());
    }

    #[test]
    fn lsh_finds_what_brute_force_finds() {
        // 120 answers of one annotator built from a small vocabulary: many pairs near any
        // threshold. The LSH share must equal the all-pairs exact share.
        let words = [
            "good", "bad", "clear", "wrong", "helpful", "short", "long", "safe",
        ];
        let texts: Vec<String> = (0..120usize)
            .map(|i| {
                (0..8)
                    .map(|w| words[(i / (w + 1) + w * 3 + i % 3 * (w % 2)) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let answers: Vec<Answer<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Answer {
                item: i as u32,
                annotator: 7,
                text: t,
            })
            .collect();
        for threshold in [0.4, 0.5, 0.6, 0.7] {
            let opts = TextOptions {
                shingle: 5,
                threshold,
            };
            let norms: Vec<String> = texts.iter().map(|t| normalise(t)).collect();
            let sets: Vec<Vec<&str>> = norms.iter().map(|t| shingles(t, 5)).collect();
            let brute = (0..sets.len())
                .filter(|&i| {
                    (0..sets.len()).any(|j| {
                        j != i && jaccard(&sets[i], &sets[j]).is_some_and(|x| x >= threshold)
                    })
                })
                .count();
            let got = self_reuse(&answers, &opts);
            let share = got[0].statistic.unwrap_or(-1.0);
            let want = brute as f64 / 120.0;
            // LSH may miss a pair with probability ≤ 5 % at the threshold; allow 2 answers.
            assert!(
                (share - want).abs() <= 2.0 / 120.0,
                "t={threshold}: {share} vs {want}"
            );
            assert!(share <= want + 1e-12, "LSH never invents a pair");
        }
    }

    #[test]
    fn dataset_adapter_and_determinism() {
        let ds = Dataset::from_triples([
            ("1", "amy", "Great answer, very helpful."),
            ("1", "bob", "great answer,   very helpful."),
            ("2", "amy", "Great answer, very helpful!"),
        ]);
        let answers = answers_from_dataset(&ds);
        assert_eq!(answers.len(), 3);
        let opts = TextOptions::default();
        let pairs = copying_pairs(&answers, &opts);
        assert_eq!(pairs.len(), 1);
        assert!(pairs[0].identical);
        let first = self_reuse(&answers, &opts);
        assert_eq!(first, self_reuse(&answers, &opts));
        assert_eq!(first[0].statistic, Some(1.0));
    }

    #[test]
    fn short_answerer_is_flagged() {
        let long = "a reasonably detailed explanation of why one response wins ".repeat(3);
        let mut texts = Vec::new();
        for item in 0..30u32 {
            for a in 0..6u32 {
                let t = if a == 0 {
                    "ok".to_string()
                } else {
                    long[..long.len() - (a as usize * 7 + item as usize % 5)].to_string()
                };
                texts.push((item, a, t));
            }
        }
        let answers: Vec<Answer<'_>> = texts
            .iter()
            .map(|(i, a, t)| Answer {
                item: *i,
                annotator: *a,
                text: t,
            })
            .collect();
        let s = short_answers(&answers, 5);
        assert!(s[0].statistic.is_some_and(|r| r < 0.05), "{:?}", s[0]);
        assert!(
            s[0].p_value_one_sided.is_some_and(|p| p < 1e-6),
            "{:?}",
            s[0]
        );
        assert!(s[1].p_value.is_some_and(|p| p > 0.05), "{:?}", s[1]);
    }
}

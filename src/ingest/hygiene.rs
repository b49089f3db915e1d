//! Label hygiene: ids and labels are trimmed and put in Unicode NFC before they are used,
//! and labels that still differ only by case or inner whitespace are reported, not merged.
//!
//! Why: exports often carry `"positive "` or a decomposed `"é"` from copy-paste; treating those
//! as distinct labels splits votes and lowers agreement, while silently merging `Positive` and
//! `positive` could hide two real categories. Trimming and NFC are safe (they never change what
//! a person reads), so they are applied and counted; case is left alone and reported.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::dataset::Interner;

/// `str::trim`, with a shortcut for the usual value that starts and ends with a visible
/// ASCII character (every Unicode space is ASCII whitespace or non-ASCII).
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b.is_ascii());
    let bytes = s.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        return s;
    }
    s.trim()
}

/// Whether every byte of `s` is printable ASCII (`' '..='~'`), eight bytes at a time: a
/// word has a byte below `0x20` when subtracting `0x20` from each byte borrows into a high
/// bit not set before, and one above `0x7e` when adding 1 sets a high bit (or it was set).
pub(crate) fn printable_ascii(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bad = |w: u64| (w.wrapping_sub(0x20 * ONES) & !w | w.wrapping_add(ONES) | w) & HIGH != 0;
    let word = |b: &[u8]| {
        let mut w = [b'a'; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let mut words = s.chunks_exact(8);
    if words.any(|w| bad(word(w))) {
        return false;
    }
    let rest = words.remainder();
    rest.is_empty() || !bad(word(rest))
}

/// `s` without surrounding whitespace, in NFC; borrowed when nothing changes.
/// Returns `(value, trimmed, nfc_changed)`.
pub(crate) fn clean(s: &str) -> (Cow<'_, str>, bool, bool) {
    let t = trim(s);
    let trimmed = t.len() != s.len();
    let nfc_ok = t.is_ascii() || is_nfc_quick(t.chars()) == IsNormalized::Yes;
    if nfc_ok {
        return (Cow::Borrowed(t), trimmed, false);
    }
    let n: String = t.nfc().collect();
    let changed = n != t;
    (Cow::Owned(n), trimmed, changed)
}

/// The key under which labels count as "the same but for case or whitespace".
fn fold(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// One group of labels that differ only by case or whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelVariants {
    /// The distinct labels in this group after trimming and NFC (kept apart by the dataset).
    pub labels: Vec<String>,
    /// Every spelling found in the input, as written, with how many records used it.
    pub spellings: BTreeMap<String, u64>,
}

/// What label hygiene changed and what it found (`input.label_hygiene` in the report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelHygiene {
    /// Ids and labels that had surrounding whitespace removed.
    pub values_trimmed: u64,
    /// Ids and labels rewritten to Unicode NFC.
    pub values_nfc_normalized: u64,
    /// Labels that differ only by case or whitespace; each group is one possible category.
    pub case_or_whitespace_variants: Vec<LabelVariants>,
}

/// Collects hygiene counts while records are read.
#[derive(Debug, Default)]
pub(crate) struct HygieneTracker {
    trimmed: u64,
    nfc: u64,
    /// Raw label spellings (few, mostly), interned as the dataset interns names…
    raw_labels: Interner,
    /// …and the records of each, by id.
    raw_counts: Vec<u64>,
}

impl HygieneTracker {
    /// Clean one id or label and count what changed.
    pub fn clean<'s>(&mut self, s: &'s str) -> Cow<'s, str> {
        let (v, trimmed, nfc) = clean(s);
        self.count(trimmed, nfc);
        v
    }

    /// Count what `clean` reported for one value.
    pub fn count(&mut self, trimmed: bool, nfc: bool) {
        self.trimmed += u64::from(trimmed);
        self.nfc += u64::from(nfc);
    }

    /// Add the counts of a tracker that read a later part of the same input.
    pub fn absorb(&mut self, other: HygieneTracker) {
        self.trimmed += other.trimmed;
        self.nfc += other.nfc;
        let remap = self.raw_labels.absorb(other.raw_labels);
        for (id, n) in remap.into_iter().zip(other.raw_counts) {
            self.add(id, n);
        }
    }

    /// Remember how an annotation label was spelled before cleaning.
    pub fn saw_label(&mut self, raw: &str) {
        let id = self.raw_labels.intern(raw);
        self.add(id, 1);
    }

    fn add(&mut self, id: u32, n: u64) {
        let id = id as usize;
        if id >= self.raw_counts.len() {
            self.raw_counts.resize(id + 1, 0);
        }
        self.raw_counts[id] += n;
    }

    /// The final summary: groups with more than one spelling, in a stable order.
    pub fn finish(self) -> LabelHygiene {
        let mut groups: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, u64>)> =
            BTreeMap::new();
        for (raw, n) in self
            .raw_labels
            .into_names()
            .into_iter()
            .zip(self.raw_counts)
        {
            let cleaned = clean(&raw).0.into_owned();
            if cleaned.is_empty() {
                continue;
            }
            let g = groups.entry(fold(&cleaned)).or_default();
            g.0.insert(cleaned);
            g.1.insert(raw.into_string(), n);
        }
        LabelHygiene {
            values_trimmed: self.trimmed,
            values_nfc_normalized: self.nfc,
            case_or_whitespace_variants: groups
                .into_values()
                .filter(|(_, spellings)| spellings.len() > 1)
                .map(|(labels, spellings)| LabelVariants {
                    labels: labels.into_iter().collect(),
                    spellings,
                })
                .collect(),
        }
    }
}

/// The first control character (other than tab) in `s`, with its 1-based character position.
pub(crate) fn control_char(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && c != '\t')
        .map(|(i, c)| (i + 1, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_checks_every_byte() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let naive = |s: &[u8]| s.iter().all(|b| (b' '..=b'~').contains(b));
        for _ in 0..50_000 {
            let len = rng.random_range(0..40);
            let mut s: Vec<u8> = (0..len).map(|_| rng.random_range(b' '..=b'~')).collect();
            if len > 0 && rng.random_range(0..2) == 0 {
                let at = rng.random_range(0..len);
                s[at] = rng.random();
            }
            assert_eq!(printable_ascii(&s), naive(&s), "{s:?}");
        }
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 16, 23] {
                for at in [0, len / 2, len - 1] {
                    let mut s = vec![b'x'; len];
                    s[at] = b;
                    assert_eq!(printable_ascii(&s), naive(&s), "{b} {len} {at}");
                }
            }
        }
        assert!(printable_ascii(b""));
    }

    #[test]
    fn trackers_of_parts_add_up_to_one_tracker_of_the_whole() {
        // More spellings than the interner scans, so both its ways of finding a name count.
        let spellings = [
            "Yes", "yes", " yes", "No", "no ", "NO", "Maybe", "maybe", "x", "y", "z", "Z", "é",
            "e\u{301}",
        ];
        let labels: Vec<&str> = (0..200).map(|i| spellings[(i * 7) % 13 + i % 2]).collect();
        let mut whole = HygieneTracker::default();
        labels.iter().for_each(|l| whole.saw_label(l));
        let (mut first, mut second) = (HygieneTracker::default(), HygieneTracker::default());
        labels[..77].iter().for_each(|l| first.saw_label(l));
        labels[77..].iter().for_each(|l| second.saw_label(l));
        first.absorb(second);
        let (whole, parts) = (whole.finish(), first.finish());
        assert_eq!(parts, whole);
        let yes = whole
            .case_or_whitespace_variants
            .iter()
            .find(|g| g.labels.contains(&"yes".to_string()))
            .unwrap();
        let n = |s: &str| labels.iter().filter(|&&l| l == s).count() as u64;
        assert_eq!(yes.spellings.get("Yes"), Some(&n("Yes")));
        assert_eq!(yes.spellings.get(" yes"), Some(&n(" yes")));
    }

    #[test]
    fn trim_equals_str_trim() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\t",
            "a b",
            "\u{a0}a",
            "a\u{3000}",
            "\u{85}",
            "é",
            "\u{7f}",
            "x\u{2003}",
            "~",
            "!a!",
            "\u{1680}x",
        ];
        for s in cases {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn trims_and_normalizes() {
        assert_eq!(clean(" positive "), ("positive".into(), true, false));
        assert_eq!(clean("e\u{301}"), ("\u{e9}".into(), false, true));
        assert_eq!(clean("ok"), ("ok".into(), false, false));
    }

    #[test]
    fn case_and_space_variants_are_grouped_not_merged() {
        let mut t = HygieneTracker::default();
        for raw in ["Positive", "positive ", "positive", "negative"] {
            t.clean(raw);
            t.saw_label(raw);
        }
        let h = t.finish();
        assert_eq!(h.values_trimmed, 1);
        assert_eq!(h.case_or_whitespace_variants.len(), 1);
        let g = &h.case_or_whitespace_variants[0];
        assert_eq!(g.labels, vec!["Positive", "positive"]);
        assert_eq!(g.spellings.len(), 3);
    }

    #[test]
    fn control_characters_are_found() {
        assert_eq!(control_char("a\0b"), Some((2, '\0')));
        assert_eq!(control_char("a\tb"), None);
    }
}

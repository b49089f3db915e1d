//! Ratings compacted for the estimators: items with at least one rating, categories used.
//!
//! Source: the raw-data layout of Gwet (2014), ch. 2 (subject × category counts r_ik plus the
//! rater × subject ratings for rater-specific coefficients). Missing ratings are simply
//! absent: an item lists only the ratings it received; items without ratings and labels that
//! no rating uses (for example labels that occur only as gold) are dropped.

use rayon::prelude::*;

use crate::dataset::Dataset;

/// One chunk of items' sparse counts and the number of entries of each item.
type CountsChunk = (Vec<(u32, u32)>, Vec<usize>);

/// Prefix sums `0, n0, n0 + n1, …` of lengths.
fn offsets(lens: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut out = vec![0];
    let mut total = 0;
    out.extend(lens.map(|n| {
        total += n;
        total
    }));
    out
}

/// Ratings compacted to the categories actually used: the common input of all estimators.
#[derive(Debug, Clone)]
pub(crate) struct Ratings {
    /// Number of used categories q.
    pub q: usize,
    /// Dataset label id of each used category.
    pub cat_label: Vec<u32>,
    /// Per item (with ≥ 1 rating): sparse counts `(category, count)` sorted by category.
    pub item_offsets: Vec<usize>,
    pub counts: Vec<(u32, u32)>,
    /// Per item: number of ratings r_i.
    pub r: Vec<u32>,
    /// Per item and rating: `(annotator, category)`, for rater-specific coefficients.
    pub rating_offsets: Vec<usize>,
    pub rater_cat: Vec<(u32, u32)>,
    /// Number of annotators (ids as in the dataset).
    pub n_raters: usize,
}

impl Ratings {
    /// Compact a dataset: drop items without ratings and labels nobody used.
    pub fn from_dataset(ds: &Dataset) -> Self {
        let mut used = vec![false; ds.n_labels()];
        for &l in &ds.label {
            used[l as usize] = true;
        }
        let cat_label: Vec<u32> = (0..ds.n_labels() as u32)
            .filter(|&l| used[l as usize])
            .collect();
        let mut cat_of = vec![u32::MAX; ds.n_labels()];
        for (c, &l) in cat_label.iter().enumerate() {
            cat_of[l as usize] = c as u32;
        }
        // Items with at least one rating, in item order. Annotations are stored grouped by
        // item, so the rated items' ratings are all the annotations, in storage order.
        let rated: Vec<usize> = (0..ds.n_items())
            .filter(|&i| !ds.item_range(i).is_empty())
            .collect();
        let r: Vec<u32> = rated
            .iter()
            .map(|&i| ds.item_range(i).len() as u32)
            .collect();
        let rating_offsets = offsets(r.iter().map(|&n| n as usize));
        let rater_cat: Vec<(u32, u32)> = ds
            .annotator
            .par_iter()
            .zip(ds.label.par_iter())
            .map(|(&a, &l)| (a, cat_of[l as usize]))
            .collect();
        // Sparse counts per item, built in fixed item chunks and concatenated in order.
        let chunks: Vec<CountsChunk> = rated
            .par_chunks(1 << 14)
            .map(|chunk| {
                let mut counts = Vec::with_capacity(chunk.len() * 4);
                let mut lens = Vec::with_capacity(chunk.len());
                let mut tmp: Vec<u32> = Vec::new();
                for &item in chunk {
                    tmp.clear();
                    tmp.extend(ds.item_labels(item).iter().map(|&l| cat_of[l as usize]));
                    tmp.sort_unstable();
                    let before = counts.len();
                    for run in tmp.chunk_by(|x, y| x == y) {
                        counts.push((run[0], run.len() as u32));
                    }
                    lens.push(counts.len() - before);
                }
                (counts, lens)
            })
            .collect();
        let item_offsets = offsets(chunks.iter().flat_map(|(_, lens)| lens.iter().copied()));
        let counts = chunks.into_iter().flat_map(|(c, _)| c).collect();
        Ratings {
            q: cat_label.len(),
            cat_label,
            item_offsets,
            counts,
            r,
            rating_offsets,
            rater_cat,
            n_raters: ds.n_annotators(),
        }
    }

    /// Number of items with at least one rating.
    pub fn n(&self) -> usize {
        self.r.len()
    }

    /// Sparse category counts of item `i`.
    pub fn item(&self, i: usize) -> &[(u32, u32)] {
        &self.counts[self.item_offsets[i]..self.item_offsets[i + 1]]
    }

    /// `(annotator, category)` ratings of item `i`.
    pub fn item_ratings(&self, i: usize) -> &[(u32, u32)] {
        &self.rater_cat[self.rating_offsets[i]..self.rating_offsets[i + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetBuilder, Row};

    #[test]
    fn drops_unrated_items_and_unused_labels() {
        let mut b = DatasetBuilder::default();
        let row = |item, annotator, label| Row {
            item,
            annotator,
            label,
            ..Row::default()
        };
        b.push(row("1", "a", "x"));
        b.push(row("1", "b", "z"));
        b.push(row("1", "c", "x"));
        b.push(row("2", "a", "")); // a skip: item 2 has no rating
        b.set_gold("3", "y"); // label y only as gold, item 3 unrated
        let ds = b.build(None).unwrap_or_default();
        let r = Ratings::from_dataset(&ds);
        assert_eq!(r.n(), 1);
        assert_eq!(r.q, 2);
        assert_eq!(r.item(0), &[(0, 2), (1, 1)]);
        assert_eq!(r.item_ratings(0), &[(0, 0), (1, 1), (2, 0)]);
        assert_eq!(r.r, vec![3]);
    }
}

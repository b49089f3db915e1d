#!/usr/bin/env python3
"""The Python peer that labelaudit's full audit is measured against (issue 6).

A careful, vectorised pandas pipeline doing the same work as `labelaudit audit`:
  * read the CSV export (pandas),
  * agreement: Fleiss' kappa (statsmodels) and Krippendorff's alpha (krippendorff),
  * consensus: majority vote and Dawid-Skene (crowd-kit),
  * per-annotator signals: agreement with the consensus, gold accuracy, median duration,
    share of fast answers, label-share concentration,
  * pairwise collusion screening: agreement of every pair of annotators that share items.
No Python loops over rows: groupby / merge / numpy only.

Usage: python3 benches/python_pipeline.py annotations.csv [gold.csv]
Prints one JSON line with the timing of each stage.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import krippendorff
from statsmodels.stats.inter_rater import fleiss_kappa, aggregate_raters
from crowdkit.aggregation import DawidSkene, MajorityVote


def main(path, gold_path=None):
    t = {}
    t0 = time.perf_counter()
    df = pd.read_csv(path, dtype={"item": str, "annotator": str, "label": str})
    df = df.dropna(subset=["label"]).drop_duplicates(["item", "annotator"], keep="last")
    t["read"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    item_codes, items = pd.factorize(df["item"])
    ann_codes, annotators = pd.factorize(df["annotator"])
    label_codes, labels = pd.factorize(df["label"], sort=True)
    n_items, n_labels = len(items), len(labels)
    counts = np.zeros((n_items, n_labels), dtype=np.int64)
    np.add.at(counts, (item_codes, label_codes), 1)
    # statsmodels' Fleiss needs equal raters per item: keep items with the modal count.
    per_item = counts.sum(axis=1)
    modal = np.bincount(per_item).argmax()
    fk = fleiss_kappa(counts[per_item == modal])
    # krippendorff accepts the value-count matrix directly (no reliability matrix needed).
    alpha = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    t["agreement"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    frame = pd.DataFrame({"task": item_codes, "worker": ann_codes, "label": label_codes})
    mv = MajorityVote().fit_predict(frame)
    t["majority_vote"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    ds = DawidSkene(n_iter=100, tol=1e-5).fit_predict(frame)
    t["dawid_skene"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    frame["consensus"] = ds.reindex(frame["task"]).to_numpy()
    frame["agree"] = frame["label"] == frame["consensus"]
    signals = frame.groupby("worker").agg(items=("task", "size"), agreement=("agree", "mean"))
    label_share = frame.groupby(["worker", "label"]).size().groupby(level=0).max() / signals["items"]
    signals["top_label_share"] = label_share
    if "duration_s" in df.columns:
        frame["duration"] = df["duration_s"].to_numpy()
        d = frame.groupby("worker")["duration"]
        signals["median_duration"] = d.median()
        signals["fast_share"] = frame.assign(fast=frame["duration"] < 2.0).groupby("worker")["fast"].mean()
    if gold_path:
        gold = pd.read_csv(gold_path, dtype=str)
        gold_codes = pd.Series(pd.Categorical(gold.iloc[:, 1], categories=labels).codes,
                               index=pd.Index(items).get_indexer(gold.iloc[:, 0]))
        gold_codes = gold_codes[gold_codes.index >= 0]
        g = frame[frame["task"].isin(gold_codes.index)]
        signals["gold_accuracy"] = pd.Series(
            (g["label"].to_numpy() == gold_codes.reindex(g["task"]).to_numpy()), index=g["worker"]
        ).groupby(level=0).mean()
    t["signals"] = time.perf_counter() - t4

    t5 = time.perf_counter()
    # Pairs of annotators sharing an item: a self-merge on item, then agreement per pair.
    left = frame[["task", "worker", "label"]]
    pairs = left.merge(left, on="task", suffixes=("_a", "_b"))
    pairs = pairs[pairs["worker_a"] < pairs["worker_b"]]
    pairs["same"] = pairs["label_a"] == pairs["label_b"]
    pair_stats = pairs.groupby(["worker_a", "worker_b"])["same"].agg(["size", "mean"])
    suspicious = pair_stats[(pair_stats["size"] >= 20) & (pair_stats["mean"] > 0.95)]
    t["collusion"] = time.perf_counter() - t5

    t["total"] = time.perf_counter() - t0
    print(json.dumps({
        "rows": int(len(df)), "items": int(n_items), "annotators": int(len(annotators)),
        "fleiss_kappa": float(fk), "krippendorff_alpha": float(alpha),
        "suspicious_pairs": int(len(suspicious)), "seconds": {k: round(v, 3) for k, v in t.items()},
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)

#!/usr/bin/env python3
"""The Python peer that labelaudit's full audit is measured against (issue 6).

A careful, vectorised pandas pipeline doing the same work as `labelaudit audit`:
  * read the CSV export (pandas),
  * agreement: Fleiss' kappa (statsmodels), Krippendorff's alpha (krippendorff) with a
    1000-replicate bootstrap over items (numpy: items with the same count pattern share one
    coincidence row, a replicate draws the pattern counts from a multinomial, as labelaudit
    does, then one matrix-vector product), pairwise Cohen's kappa of every annotator pair
    sharing at least 10 items (groupby on the pair records),
  * consensus: majority vote and Dawid-Skene (crowd-kit; MACE is opt-in in labelaudit
    (`--mace`) and so left out here too),
  * per-annotator signals: agreement with the consensus, gold accuracy, median duration,
    share of fast answers, label-share concentration,
  * pairwise collusion screening: agreement of every pair of annotators that share items.
No Python loops over rows: groupby / merge / numpy only (the only Python loop is over the
1000 bootstrap replicates, each one vectorised).

labelaudit does more than this (Gwet's AC1, Conger, Brennan-Prediger with SEs, per-label
agreement, leave-one-out majorities, timing and label-bias tests, flags), so the ratio is
conservative: the Python side is not charged for that work.

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
    if "submitted_at" in df.columns:
        df["submitted_at"] = pd.to_datetime(df["submitted_at"], utc=True, format="ISO8601")
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
    # Bootstrap over pairable items: item u adds (n_uc n_uk - [c == k] n_uc) / (m_u - 1) to
    # the coincidence matrix; a replicate is a multiplicity-weighted sum of those rows.
    pairable, frequency = np.unique(counts[per_item >= 2], axis=0, return_counts=True)
    pairable = pairable.astype(np.float64)
    n_pairable = int(frequency.sum())
    m = pairable.sum(axis=1)
    coinc = (pairable[:, :, None] * pairable[:, None, :]
             - pairable[:, :, None] * np.eye(n_labels)[None, :, :]) / (m - 1)[:, None, None]
    coinc = coinc.reshape(len(pairable), -1)
    off_diag = 1.0 - np.eye(n_labels).ravel()
    rng = np.random.default_rng(0)
    boot = np.empty(1000)
    for b in range(len(boot)):
        w = rng.multinomial(n_pairable, frequency / n_pairable)
        o = w @ coinc
        marg = o.reshape(n_labels, n_labels).sum(axis=1)
        n_dot = marg.sum()
        d_e = n_dot * n_dot - (marg * marg).sum()
        boot[b] = 1.0 - (n_dot - 1.0) * (o @ off_diag) / d_e
    alpha_se = float(np.std(boot, ddof=1))
    alpha_ci = np.percentile(boot, [2.5, 97.5])
    t["agreement"] = time.perf_counter() - t1

    t1b = time.perf_counter()
    # Pairwise Cohen's kappa: pair records from a self-merge on item, then per pair the
    # observed agreement and the chance agreement from each side's label marginals.
    rec = pd.DataFrame({"task": item_codes, "worker": ann_codes, "label": label_codes})
    pr = rec.merge(rec, on="task", suffixes=("_a", "_b"))
    pr = pr[pr["worker_a"] < pr["worker_b"]]
    key = ["worker_a", "worker_b"]
    size = pr.groupby(key).size().rename("n")
    pr = pr.join(size, on=key)
    pr = pr[pr["n"] >= 10]
    po = (pr["label_a"] == pr["label_b"]).groupby([pr["worker_a"], pr["worker_b"]]).mean()
    ma = pr.groupby(key + ["label_a"]).size().rename("ca").reset_index()
    mb = pr.groupby(key + ["label_b"]).size().rename("cb").reset_index()
    mm = ma.merge(mb, left_on=key + ["label_a"], right_on=key + ["label_b"])
    mm = mm.join(size, on=key)
    pe = (mm["ca"] * mm["cb"] / (mm["n"] * mm["n"])).groupby([mm["worker_a"], mm["worker_b"]]).sum()
    pe = pe.reindex(po.index, fill_value=0.0)
    kappa = (po - pe) / (1.0 - pe)
    t["cohen_pairs"] = time.perf_counter() - t1b

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
        "krippendorff_alpha_se": alpha_se, "krippendorff_alpha_ci95": [float(c) for c in alpha_ci],
        "cohen_pairs": int(kappa.notna().sum()),
        "suspicious_pairs": int(len(suspicious)), "seconds": {k: round(v, 3) for k, v in t.items()},
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)

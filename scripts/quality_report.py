#!/usr/bin/env python3
"""Scores the quality benchmark's lists with the shared scorer and prints our rows beside the
peers' rows from PEERS.md. Usage: quality_report.py OUT_DIR SHARED_DIR [random|temporal]"""
import os
import re
import sys

out, shared = sys.argv[1], sys.argv[2]
name_split = sys.argv[3] if len(sys.argv) > 3 else "random"
sys.path.insert(0, os.path.join(shared, "eval"))
import evaluate  # noqa: E402  (the shared scorer)

split = os.path.join(shared, "eval", "splits", name_split)
recs = os.path.join(shared, "eval", "recs", name_split)
ev = evaluate.Evaluator.from_split_dir(split)
DS = ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"]


def score(path):
    return ev.evaluate(evaluate.read_recs(path), ks=(10, 20), per_user=True)


def peers_table(title_start):
    """Rows of the PEERS.md table whose bold title starts with title_start: {method: {col: value}}."""
    text = open(os.path.join(shared, "eval", "PEERS.md")).read()
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith(title_start):
            break
    else:
        return {}, []
    rows, header = {}, None
    for line in lines[n + 1:]:
        if not line.startswith("|"):
            if header:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(cells[0]) <= set("-:"):
            continue
        rows[cells[0]] = dict(zip(header[1:], cells[1:]))
    return rows, header


res = {}
for d in DS:
    r10 = score(os.path.join(out, f"ours_k10_d{d}.csv"))
    r20 = score(os.path.join(out, f"ours_k20_d{d}.csv"))
    res[d] = (r10, r20)
ease = score(os.path.join(recs, "EASE.csv"))
als = score(os.path.join(recs, "ALS.csv"))
extra_peers = [(n, score(os.path.join(recs, n + ".csv"))) for n in ("SLIST", "EASE-decay") if os.path.exists(os.path.join(recs, n + ".csv"))]

f = lambda x: f"{x:.4f}"
print(f"## Quality on MovieLens-100k ({name_split} split, relevant = rating >= 4)\n")
print(open(os.path.join(out, "train.txt")).read().strip().splitlines()[-1:] and "")
for k, title in ((10, f"**{name_split} split, relevant = test rating >= 4, @10**"), (20, f"**{name_split} split, relevant = test rating >= 4, @20**")):
    peers, header = peers_table(title)
    cols = ["P", "R", "NDCG", "MAP", "HR", "Cov", "ILD", "Genres", "Nov", "PopOnly"]
    print(f"| method | " + " | ".join(f"{c}@{k}" for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name in ("Popularity", "ItemKNN-BM25", "ALS", "EASE"):
        if name in peers:
            print(f"| {name} (peer) | " + " | ".join(peers[name].get(f"{c}@{k}", "") for c in cols) + " |")
    for name, r in extra_peers:
        m = r[k]
        print(f"| {name} (peer, lists scored here) | " + " | ".join(
            f"{v:.3f}" if c in ("Cov", "ILD") else (f"{v:.2f}" if c in ("Genres", "Nov") else f"{v:.4f}")
            for c, v in zip(cols, [m["precision"], m["recall"], m["ndcg"], m["map"], m["hit_rate"], m["catalog_coverage"], m["ild"],
                                   m["genre_coverage"], m["novelty"], m["pop_only_lists"]])) + " |")
    m = res["0"][0 if k == 10 else 1][k]
    vals = [m["precision"], m["recall"], m["ndcg"], m["map"], m["hit_rate"], m["catalog_coverage"], m["ild"],
            m["genre_coverage"], m["novelty"], m["pop_only_lists"]]
    print(f"| **recommender** (recommend(u, {k}, 0)) | " + " | ".join(
        f"{v:.3f}" if c in ("Cov", "ILD") else (f"{v:.2f}" if c in ("Genres", "Nov") else f"{v:.4f}")
        for c, v in zip(cols, vals)) + " |")
    print()

print("Paired per-user difference (ours - peer), mean +- SE, t, users better/worse:\n")
print("| vs | NDCG@10 | t | better/worse | NDCG@20 | t | Recall@20 diff | t |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, peer in [("EASE", ease), ("ALS", als)] + extra_peers:
    a10 = evaluate.paired_difference(res["0"][0], peer, 10)
    a20 = evaluate.paired_difference(res["0"][1], peer, 20)
    r20 = evaluate.paired_difference(res["0"][1], peer, 20, metric="recall")
    print(f"| {name} | {a10['mean_diff']:+.4f} +- {a10['se']:.4f} | {a10['t']:.1f} | {a10['users_a_better']}/{a10['users_b_better']} "
          f"| {a20['mean_diff']:+.4f} +- {a20['se']:.4f} | {a20['t']:.1f} | {r20['mean_diff']:+.4f} | {r20['t']:.1f} |")
print()

print("Diversity knob (recommend(u, k, d); lists at k = 10 and k = 20):\n")
print("| diversity | NDCG@10 | P@10 | R@10 | ILD@10 | Genres@10 | Cov@10 | Nov@10 | PopOnly@10 | NDCG@20 | R@20 | ILD@20 | Genres@20 |")
print("|---|" + "---:|" * 12)
curve = []
for d in DS:
    a, b = res[d][0][10], res[d][1][20]
    curve.append((float(d), a["ild"], a["ndcg"]))
    print(f"| {d} | {a['ndcg']:.4f} | {a['precision']:.4f} | {a['recall']:.4f} | {a['ild']:.3f} | {a['genre_coverage']:.2f} | "
          f"{a['catalog_coverage']:.3f} | {a['novelty']:.2f} | {a['pop_only_lists']:.3f} | {b['ndcg']:.4f} | {b['recall']:.4f} | {b['ild']:.3f} | {b['genre_coverage']:.2f} |")
print()
rer, _ = peers_table(f"Diversity re-ranking of EASE (top-100 EASE candidates, {name_split} split")
print("Peers' re-rankers (PEERS.md) and our NDCG@10 at the same ILD@10 (linear interpolation on our curve):\n")
print("| re-ranker | ILD@10 | NDCG@10 | ours at that ILD | ours - peer |")
print("|---|---:|---:|---:|---:|")
pts = sorted((ild, nd) for _, ild, nd in curve)


def ours_at(x):
    if x < pts[0][0] or x > pts[-1][0]:
        return None
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


below = 0
beat = 0
for name, row in rer.items():
    try:
        ild, nd = float(row["ILD@10"]), float(row["NDCG@10"])
    except (KeyError, ValueError):
        continue
    o = ours_at(ild)
    if o is None:
        print(f"| {name} | {ild:.3f} | {nd:.4f} | (outside our range) | |")
        continue
    below += o < nd - 1e-4
    beat += o > nd + 1e-4
    print(f"| {name} | {ild:.3f} | {nd:.4f} | {o:.4f} | {o - nd:+.4f} |")
mono = all(b[1] >= a[1] - 1e-9 for a, b in zip(curve, curve[1:]))
print(f"\ncurve: {'on or above' if below == 0 else 'BELOW'} the peers at {len(rer) - below} of {len(rer)} points, above at {beat}; "
      f"ILD monotone in diversity: {'yes' if mono else 'NO'}; ILD range {curve[0][1]:.3f} .. {curve[-1][1]:.3f}")
print()
# What each idea bought on the test split: the chosen configuration without the recency floor, without recency weighting,
# without the sequential component, and without both (lists abl_*.csv, written by quality.sh).
abl = [(n, os.path.join(out, f"abl_{n}.csv")) for n in ("chosen", "no_floor", "no_recency", "no_sequence", "neither")]
abl = [(n, p) for n, p in abl if os.path.exists(p)]
if abl:
    print("Ablation on the test split (the chosen configuration with parts switched off; paired NDCG@10 vs EASE):\n")
    print("| configuration | NDCG@10 | R@20 | NDCG@10 - EASE (SE, t) |")
    print("|---|---:|---:|---:|")
    for n, p in abl:
        r = score(p)
        d = evaluate.paired_difference(r, ease, 10)
        print(f"| {n} | {r[10]['ndcg']:.4f} | {r[20]['recall']:.4f} | {d['mean_diff']:+.4f} +- {d['se']:.4f} ({d['t']:.1f}) |")
    print()
print(open(os.path.join(out, "explanations.txt")).read().strip())

# The SQL evaluation function against the shared scorer on the same lists (k = 10, d = 0).
sql = dict(line.split("=", 1) for line in open(os.path.join(out, "sql_eval_k10_d0.txt")).read().split())
m = res["0"][0][10]
pairs = [("precision", "precision"), ("recall", "recall"), ("ndcg", "ndcg"), ("map", "map"), ("hit_rate", "hit_rate"),
         ("catalog_coverage", "catalog_coverage"), ("ild", "ild"), ("categories_per_list", "genre_coverage"),
         ("novelty", "novelty"), ("popular_only_lists", "pop_only_lists"), ("popular_share", "pop_item_share")]
worst = max(abs(float(sql[a]) - m[b]) for a, b in pairs)
print(f"recommender.evaluate() vs evaluate.py on the same lists: largest difference over {len(pairs)} metrics = {worst:.2e}"
      f" ({'agree' if worst < 1e-9 else 'DISAGREE'})")

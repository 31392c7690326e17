#!/usr/bin/env python3
"""New-item part of the quality benchmark: scores lists against the held-out items only.
Usage: cold_report.py OUT_DIR SHARED_DIR"""
import csv, os, random, sys, tempfile
out, shared = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(shared, "eval"))
import evaluate  # noqa: E402

split = os.path.join(shared, "eval", "splits", "random")
cold = {int(r["item_id"]) for r in csv.DictReader(open(os.path.join(out, "cold_items.csv")))}
# a split whose test set keeps only the interactions with held-out items
d = tempfile.mkdtemp()
os.symlink(os.path.join(split, "train.csv"), os.path.join(d, "train.csv"))
with open(os.path.join(split, "test.csv")) as f, open(os.path.join(d, "test.csv"), "w", newline="") as g:
    rd = csv.DictReader(f); w = csv.DictWriter(g, fieldnames=rd.fieldnames); w.writeheader()
    for row in rd:
        if int(row["item_id"]) in cold:
            w.writerow(row)
ev = evaluate.Evaluator.from_split_dir(d)
# random order of the held-out items (same lists for every run: seeded), the floor
rng = random.Random(42)
coldl = sorted(cold)
rand = {u: rng.sample(coldl, 10) for u in ev.test_users}
rows = []
for name, path in (("random order of the new items", None),
                   ("without content vectors, new items only", "cold_none_new_only.csv"),
                   ("with content vectors, new items only", "cold_content_new_only.csv")):
    recs = rand if path is None else evaluate.read_recs(os.path.join(out, path))
    m = ev.evaluate(recs, ks=(10,))[10]
    listed = sum(1 for u in ev.test_users if recs.get(u))
    rows.append((name, m, listed))
print(f"## New items: {len(cold)} films (item_id % 10 = 3) held out of training entirely\n")
print(f"Test users with a relevant (rating >= 4) held-out film: {ev.evaluate({}, ks=(10,))['diag']['n_accuracy_users']}\n")
print("| lists | users with a list | P@10 | R@10 | NDCG@10 | HR@10 |")
print("|---|---:|---:|---:|---:|---:|")
for name, m, listed in rows:
    print(f"| {name} | {listed} | {m['precision']:.4f} | {m['recall']:.4f} | {m['ndcg']:.4f} | {m['hit_rate']:.4f} |")
# whole-catalog lists: how often new items appear, and their hits
print()
print("| whole-catalog recommend(u, 20, 0) | new items per list | hits on new items (users) |")
print("|---|---:|---:|")
test_rel = {}
for row in csv.DictReader(open(os.path.join(d, "test.csv"))):
    if float(row["rating"]) >= 4:
        test_rel.setdefault(int(row["user_id"]), set()).add(int(row["item_id"]))
for name, path in (("without content vectors", "cold_none_all.csv"), ("with content vectors", "cold_content_all.csv")):
    recs = evaluate.read_recs(os.path.join(out, path))
    per = [sum(1 for i in l if i in cold) for l in recs.values()]
    hits = sum(1 for u, l in recs.items() if test_rel.get(u, set()) & set(l))
    print(f"| {name} | {sum(per) / max(len(per), 1):.2f} | {hits} |")

#!/usr/bin/env python3
"""Offline prototype (numpy), not part of the product: would a sequential part that the sparse
kind could form cheaply -- a transition matrix added to the item-item weights -- buy what the
dense kind's joint solve (SLIST, Choi et al., WWW 2021) buys? On the shared temporal split
(train -> test, relevant = rating >= 4, NDCG@10): EASE (lambda 200, log(1 + rating) values),
with recency at scoring (half-life 3 age ranks, floor 0.2), plus w x T, T counting what followed
an item within 8 positions (a step d further counting 0.5^((d - 1) / 2)), normalised by
sqrt(row sum x column sum), and plus w x P T (P the inverse of the regularised Gram matrix;
the sparse kind does not form it). The README's Limits quote its figures.
Usage: python3 scripts/seq_sparse_prototype.py [temporal|random]  (needs ../shared; a few minutes)"""
import csv, os, sys
from collections import defaultdict
import numpy as np

split = sys.argv[1] if len(sys.argv) > 1 else 'temporal'
S = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'eval', 'splits', split)


def load(f):
    return [(int(r['user_id']), int(r['item_id']), int(r['rating']), int(r['timestamp'])) for r in csv.DictReader(open(f))]


tr, te = load(S + '/train.csv'), load(S + '/test.csv')
items = sorted({i for _, i, _, _ in tr}); idx = {i: k for k, i in enumerate(items)}; n = len(items)
hist = defaultdict(list)
for u, i, r, t in tr:
    hist[u].append((t, i, r))
for u in hist:
    hist[u].sort()
users = sorted(hist); uidx = {u: k for k, u in enumerate(users)}
X = np.zeros((len(users), n))
for u, i, r, t in tr:
    X[uidx[u], idx[i]] = np.log1p(r)
G = X.T @ X
P = np.linalg.inv(G + 200 * np.eye(n))
B = -P / np.diag(P); np.fill_diagonal(B, 0)
T = np.zeros((n, n))
for hs in hist.values():
    seq = [idx[i] for _, i, _ in hs]
    for p in range(len(seq)):
        for d in range(1, 9):
            if p + d < len(seq):
                T[seq[p], seq[p + d]] += 0.5 ** ((d - 1) / 2)
np.fill_diagonal(T, 0)
rel = defaultdict(set)
for u, i, r, t in te:
    if r >= 4:
        rel[u].add(i)


def ndcg(W, half=3, floor=0.2, k=10):
    tot = cnt = 0
    for u, R in rel.items():
        if u not in hist:
            continue
        x = np.zeros(n)
        for rank, (t, i, r) in enumerate(reversed(hist[u])):
            x[idx[i]] += np.log1p(r) * ((floor + (1 - floor) * 0.5 ** (rank / half)) if half > 0 else 1)
        s = x @ W; s[[idx[i] for _, i, _ in hist[u]]] = -np.inf
        top = np.argsort(-s)[:k]
        dcg = sum(1 / np.log2(p + 2) for p, j in enumerate(top) if items[j] in R)
        tot += dcg / sum(1 / np.log2(p + 2) for p in range(min(k, len(R)))); cnt += 1
    return tot / cnt


print('EASE %.4f; with recency %.4f' % (ndcg(B, 0, 0), ndcg(B)))
cos = T / np.sqrt(np.outer(np.maximum(T.sum(1), 1e-9), np.maximum(T.sum(0), 1e-9)))
PT = P @ T
for name, M, ws in (('+ w x T (normalised)', cos, (0.05, 0.1, 0.15, 0.25, 0.5, 1)), ('+ w x P T', PT, (0.25, 0.5, 1, 2))):
    sc = np.abs(B).sum() / np.abs(M).sum()   # w is relative to the EASE weights' total size
    print(name, ', '.join('w %g: %.4f' % (w, ndcg(B + w * sc * M)) for w in ws))

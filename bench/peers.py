#!/usr/bin/env python3
"""The peers of the scale benchmark (issue 7), run on the same rows as the extension:
SANSA (Spisak et al., RecSys 2023; PyPI `sansa`, CHOLMOD factoriser, UMR inverter) and `implicit`'s ALS
(Hu, Koren, Volinsky 2008).

  peers.py PEER DATA_DIR [--density D] [--l2 L] [--factors F] [--threads T]

DATA_DIR holds train.txt and heldout.txt ("user item" per line, ids as in the database) written by
bench/scale.sh. Prints one JSON object: fit seconds, peak RSS of this process (MB, ru_maxrss, which
includes the loaded training matrix) and the RSS after loading (the data's share), single-user
latency (p50/p95 ms over 1,000 users, one call each, seen items masked), and quality on the
held-out rows (NDCG@10 and recall@20, binary relevance, the user's training items excluded)."""
import argparse, json, os, resource, sys, time

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def load(path):
    import numpy as np
    a = np.fromfile(path, dtype=np.int64, sep=" ")
    return a[0::2], a[1::2]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["sansa", "als"])
    ap.add_argument("data")
    ap.add_argument("--density", type=float, default=None)
    ap.add_argument("--l2", type=float, default=None)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np, scipy.sparse as sp
    tu, ti = load(os.path.join(a.data, "train.txt"))
    hu, hi = load(os.path.join(a.data, "heldout.txt"))
    users, uinv = np.unique(np.concatenate([tu, hu]), return_inverse=True)
    items, iinv = np.unique(ti, return_inverse=True)       # items seen in training
    nu, ni = len(users), len(items)
    tu_i, hu_i = uinv[:len(tu)], uinv[len(tu):]
    X = sp.csr_matrix((np.ones(len(tu), dtype=np.float32), (tu_i, iinv)), shape=(nu, ni))
    X.data[:] = 1.0                                          # binary, duplicates summed then clipped
    X.sum_duplicates(); X.data[:] = 1.0
    pos = np.searchsorted(items, hi); known = (pos < ni) & (items[np.minimum(pos, ni - 1)] == hi)
    held = {}
    for u, i, k in zip(hu_i, pos, known):
        held.setdefault(int(u), set())
        if k: held[int(u)].add(int(i))
    test_users = np.array(sorted(held))
    n_held = {u: len([1 for x in zip(hu_i, known) if False]) for u in []}
    held_total = {}
    for u in hu_i: held_total[int(u)] = held_total.get(int(u), 0) + 1
    rss_loaded = rss_mb()

    t0 = time.perf_counter()
    if a.peer == "sansa":
        from sansa import SANSA, SANSAConfig, CHOLMODGramianFactorizerConfig, UMRUnitLowerTriangleInverterConfig
        import logging; logging.disable(logging.INFO)
        cfg = SANSAConfig(l2=a.l2 if a.l2 is not None else 20.0,
                          weight_matrix_density=a.density if a.density is not None else 5e-5,
                          gramian_factorizer_config=CHOLMODGramianFactorizerConfig(),
                          lower_triangle_inverter_config=UMRUnitLowerTriangleInverterConfig(scans=1, finetune_steps=5))
        model = SANSA(cfg).fit(X)
        w1, w2 = model.weights
        def scores(rows):
            return np.asarray((X[rows] @ w1 @ w2).todense())
        nnz = int(w1.nnz + w2.nnz)
    else:
        from implicit.cpu.als import AlternatingLeastSquares
        model = AlternatingLeastSquares(factors=a.factors, regularization=a.l2 if a.l2 is not None else 0.05,
                                        iterations=15, num_threads=a.threads, random_state=7)
        model.fit(X, show_progress=False)
        uf, itf = model.user_factors, model.item_factors
        def scores(rows):
            return uf[rows] @ itf.T
        nnz = int(uf.size + itf.size)
    fit = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def top(rows, k):
        s = scores(rows)
        out = []
        for r, row in zip(rows, s):
            seen = X.indices[X.indptr[r]:X.indptr[r + 1]]
            row = np.array(row, dtype=np.float64).ravel()
            row[seen] = -np.inf
            idx = np.argpartition(-row, k)[:k]
            out.append(idx[np.argsort(-row[idx], kind="stable")])
        return out

    rng = np.random.default_rng(7)
    lat_users = rng.choice(nu, size=min(1000, nu), replace=False)
    lat = []
    for u in lat_users:
        t = time.perf_counter(); top(np.array([u]), 10); lat.append((time.perf_counter() - t) * 1000)
    ndcg, rec = [], []
    disc = 1 / np.log2(np.arange(2, 12))
    for start in range(0, len(test_users), 256):
        rows = test_users[start:start + 256]
        for u, lst in zip(rows, top(rows, 20)):
            h, n = held[int(u)], held_total[int(u)]
            hits = [1.0 if int(i) in h else 0.0 for i in lst]
            dcg = sum(x * d for x, d in zip(hits[:10], disc))
            ndcg.append(dcg / disc[:min(n, 10)].sum())
            rec.append(sum(hits) / n)
    print(json.dumps({"peer": a.peer, "users": int(nu), "items": int(ni), "interactions": int(X.nnz),
                      "fit_seconds": round(fit, 3), "peak_rss_mb": round(peak, 1), "rss_after_load_mb": round(rss_loaded, 1),
                      "model_values": nnz, "latency_p50_ms": round(float(np.median(lat)), 3),
                      "latency_p95_ms": round(float(np.percentile(lat, 95)), 3),
                      "ndcg10": round(float(np.mean(ndcg)), 4), "recall20": round(float(np.mean(rec)), 4),
                      "test_users": len(test_users)}))

if __name__ == "__main__":
    main()

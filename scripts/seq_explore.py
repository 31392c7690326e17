#!/usr/bin/env python3
"""Offline exploration of temporal ideas (issue 9, second round) on the shared splits, in numpy/scipy,
with the pipeline of recommend(): log(1 + rating) values, SLIST's joint solve (SequenceJoint.swift),
SLIT window 8 / position half-life 2, recency 0.5^(age rank / h) at scoring, NDCG@10 with
relevant = rating >= 4. Every configuration is measured on validation (valid_train -> valid_test)
AND on test (train -> test).  Usage: python3 scripts/seq_explore.py [idea ...]  (needs ../shared)"""
import numpy as np, scipy.sparse as sp, csv, os, sys, itertools
from collections import defaultdict
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'eval', 'splits')

def rd(f): return [tuple(int(x) for x in r) for r in list(csv.reader(open(f)))[1:]]

class Split:
    def __init__(s, split, tr, te):
        D = os.path.join(ROOT, split)
        A = rd(os.path.join(D, tr)); T = rd(os.path.join(D, te))
        s.items = np.array(sorted(set(r[1] for r in A))); idx = {v: i for i, v in enumerate(s.items)}
        s.n = n = len(s.items)
        byu = defaultdict(list)
        for u, i, r, t in A: byu[u].append((t, i, r))
        s.users = sorted(byu); s.seq = {}; s.val = {}; s.tim = {}; s.rank = {}
        for u in s.users:
            l = sorted(byu[u])
            s.seq[u] = np.array([idx[i] for t, i, r in l]); s.val[u] = np.log1p(np.array([r for t, i, r in l], float))
            s.tim[u] = np.array([t for t, i, r in l], float)
            ts = np.sort(s.tim[u])[::-1]; s.rank[u] = np.searchsorted(-ts, -s.tim[u], side='left')
        tb = defaultdict(list)
        for u, i, r, t in T: tb[u].append((i, r, t))
        s.rel = {}; s.ttime = {}
        for u, l in tb.items():
            nr = sum(1 for i, r, t in l if r >= 4)
            if nr > 0: s.rel[u] = (set(idx[i] for i, r, t in l if r >= 4 and i in idx), nr)
        # item first-seen time, interaction times per item (for time-aware priors)
        s.all_t = np.array([t for u, i, r, t in A], float); s.all_i = np.array([idx[i] for u, i, r, t in A])
        s.tmax = s.all_t.max()

    def X(s, rownorm=0.0, train_hl=0.0, global_days=0.0):
        rows, cols, vals = [], [], []
        for k, u in enumerate(s.users):
            q = s.seq[u]; v = s.val[u].copy()
            if train_hl > 0: v = v * 0.5 ** (s.rank[u] / train_hl)
            if global_days > 0: v = v * 0.5 ** ((s.tmax - s.tim[u].max()) / (global_days * 86400))
            f = len(q) ** (-rownorm) if rownorm else 1.0
            rows += [k] * len(q); cols += list(q); vals += list(v * f)
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(s.users), s.n))

    def ST(s, rownorm=0.0, W=8, h=2.0, train_hl=0.0, order='first', gap=0, cross=1):
        rs, cs, vs, rt, ct, vt = [], [], [], [], [], []
        r = 0
        for u in s.users:
            q = s.seq[u]; v = s.val[u].copy(); L = len(q)
            if train_hl > 0: v = v * 0.5 ** (s.rank[u] / train_hl)
            f = np.sqrt(L ** (-rownorm)) if rownorm else 1.0
            tm = s.tim[u]
            for t in range(L - 1):
                lo = max(0, t - W + 1); hi = min(L - 1, t + W)
                if gap > 0:   # SLIST's sessions: a step's window stays within its session (time gap > gap seconds ends one)
                    while lo < t and np.any(np.diff(tm[lo:t + 1]) > gap): lo += 1
                    while hi > t + 1 and np.any(np.diff(tm[t + 1:hi + 1]) > gap): hi -= 1
                    if tm[t + 1] - tm[t] > gap and cross == 0: continue
                p = np.arange(lo, t + 1); rs += [r] * len(p); cs += list(q[p]); vs += list(f * v[p] * 0.5 ** ((t - p) / h))
                p = np.arange(t + 1, hi + 1); rt += [r] * len(p); ct += list(q[p]); vt += list(f * v[p] * 0.5 ** ((p - t - 1) / h))
                r += 1
        S = sp.csr_matrix((vs, (rs, cs)), shape=(r, s.n)); T = sp.csr_matrix((vt, (rt, ct)), shape=(r, s.n))
        return (S.T @ S).toarray(), (S.T @ T).toarray()

    def ndcg(s, B, hl, prior=None, per_user=False, floor=0.0):
        disc = 1 / np.log2(np.arange(2, 12)); out = []
        for u, (R, nr) in s.rel.items():
            if u not in s.seq: out.append(0.0); continue
            q = s.seq[u]; w = floor + (1 - floor) * 0.5 ** (s.rank[u] / hl) if hl > 0 else 1.0
            x = np.zeros(s.n); x[q] = s.val[u] * w
            sc = x @ B
            if prior is not None: sc = sc + prior(s, u)
            sc[q] = -np.inf
            top = np.argpartition(-sc, 10)[:10]; top = top[np.argsort(-sc[top])]
            hits = np.array([1.0 if i in R else 0 for i in top])
            out.append((hits * disc).sum() / disc[:min(nr, 10)].sum())
        return np.array(out) if per_user else float(np.mean(out))

def joint(G, SS, ST, w, lam, p=0.0):
    n = G.shape[0]
    if w == 0:
        M = G.copy(); M[np.diag_indices(n)] += lam + p / (1 - p) * np.diag(G)
        P = np.linalg.inv(M); B = -P / np.diag(P); np.fill_diagonal(B, 0); return B
    c = np.trace(G) / np.trace(SS)
    A = (1 - w) * G + w * c * SS; H = (1 - w) * G + w * c * ST
    M = A.copy(); M[np.diag_indices(n)] += lam + p / (1 - p) * np.diag(A)
    P = np.linalg.inv(M); PH = P @ H
    mu = np.diag(PH) / np.diag(P)
    B = PH - P * mu[None, :]; np.fill_diagonal(B, 0); return B

def fit(s, cfg):
    X = s.X(cfg.get('rn', 0), cfg.get('thl', 0), cfg.get('gdays', 0))
    G = (X.T @ X).toarray()
    if cfg.get('w', 0) > 0:
        SS, ST = s.ST(cfg.get('rn', 0), cfg.get('W', 8), cfg.get('h', 2.0), cfg.get('thl', 0) if cfg.get('seqthl', True) else 0,
                      gap=cfg.get('gap', 0), cross=cfg.get('cross', 1))
    else: SS = ST = None
    if SS is not None and cfg.get('tpop', 0) > 0:   # targets of popular items count less in the transitions
        pop = np.maximum(np.diag(G), 1e-12); f = pop ** -cfg['tpop']; f = f / f[np.diag(G) > 0].mean()
        ST = ST * f[None, :]
    return joint(G, SS, ST, cfg.get('w', 0), cfg['lam'], cfg.get('p', 0))

_cache = {}
def split(name, which):
    k = (name, which)
    if k not in _cache:
        _cache[k] = Split(name, 'valid_train.csv', 'valid_test.csv') if which == 'valid' else Split(name, 'train.csv', 'test.csv')
    return _cache[k]

def run(label, cfg, splitname='temporal', test=True, prior=None):
    v = split(splitname, 'valid'); Bv = fit(v, cfg); nv = v.ndcg(Bv, cfg.get('hl', 0), prior, floor=cfg.get('floor', 0))
    nt = float('nan')
    if test:
        t = split(splitname, 'test'); Bt = fit(t, cfg); nt = t.ndcg(Bt, cfg.get('hl', 0), prior, floor=cfg.get('floor', 0))
    print('%-58s valid %.4f  test %.4f' % (label, nv, nt), flush=True)
    return nv, nt

def crossST(s, W, h, raw, tf):
    rs, cs, vs, rt, ct, vt = [], [], [], [], [], []
    r = 0
    for u in s.users:
        q = s.seq[u]; v = s.val[u]; vtg = tf(np.rint(raw[u])); L = len(q)
        for t in range(L - 1):
            lo = max(0, t - W + 1); hi = min(L - 1, t + W)
            p = np.arange(lo, t + 1); rs += [r] * len(p); cs += list(q[p]); vs += list(v[p] * 0.5 ** ((t - p) / h))
            p = np.arange(t + 1, hi + 1); rt += [r] * len(p); ct += list(q[p]); vt += list(vtg[p] * 0.5 ** ((p - t - 1) / h))
            r += 1
    S = sp.csr_matrix((vs, (rs, cs)), shape=(r, s.n)); T = sp.csr_matrix((vt, (rt, ct)), shape=(r, s.n))
    return None, (S.T @ T).toarray()

BASE = dict(lam=100, p=0.5, rn=0, hl=10, w=0.6)   # what tune() chose in the last quality.sh run
if __name__ == '__main__':
    ideas = sys.argv[1:] or ['base']
    if 'base' in ideas:
        run('tune() choice (log, p .5, lam 100, hl 10, w .6)', BASE)
        run('offline best (rn .25, lam 18.75, hl 6, w .85)', dict(lam=18.75, rn=0.25, hl=6, w=0.85))
    if 'thl' in ideas:   # recency of each user's rows in the training Gram (and S, T)
        for thl in (5, 10, 20, 40, 80):
            run('train recency half-life %g' % thl, dict(BASE, thl=thl))
        for thl in (10, 40):
            run('train recency half-life %g on X only' % thl, dict(BASE, thl=thl, seqthl=False))
    if 'slit' in ideas:
        for W, h in ((4, 1), (8, 1), (8, 4), (16, 4), (16, 8)):
            run('SLIT window %d half-life %g' % (W, h), dict(BASE, W=W, h=h))
    if 'grid' in ideas:
        for w, lam, p, hl in itertools.product((0.5, 0.7, 0.85), (25, 100), (0.25, 0.5, 0.75), (6, 10)):
            run('w %g lam %g p %g hl %g' % (w, lam, p, hl), dict(lam=lam, p=p, w=w, hl=hl))
    if 'prior' in ideas:   # popularity around the user's last event (other users' events), as an explained additive part
        def mkprior(beta, days, past_only, anchor_end=False):
            def pr(s, u):
                key = ('pop', days, past_only, anchor_end)
                if key not in s.__dict__:
                    s.__dict__[key] = {}
                c = s.__dict__[key]
                t0 = s.tmax if anchor_end else s.tim[u].max()
                if t0 not in c:
                    d = (s.all_t - t0) / 86400.0
                    m = (d <= 0) if past_only else np.ones(len(d), bool)
                    wts = 0.5 ** (np.abs(d[m]) / days)
                    p = np.bincount(s.all_i[m], weights=wts, minlength=s.n)
                    c[t0] = np.log1p(p) / max(np.log1p(p).max(), 1e-9)
                return beta * c[t0]
            return pr
        B = {}
        for which in ('valid', 'test'):
            s = split('temporal', which); B[which] = fit(s, BASE)
        for beta, days, po, ae in ((0.05, 7, True, False), (0.1, 7, True, False), (0.2, 7, True, False), (0.1, 2, True, False),
                                   (0.1, 30, True, False), (0.1, 7, False, False), (0.1, 14, True, True)):
            pr = mkprior(beta, days, po, ae)
            nv = split('temporal', 'valid').ndcg(B['valid'], BASE['hl'], pr); nt = split('temporal', 'test').ndcg(B['test'], BASE['hl'], pr)
            print('%-58s valid %.4f  test %.4f' % ('prior beta %g half-life %g d %s%s' % (beta, days, 'past' if po else 'both', ' at data end' if ae else ''), nv, nt), flush=True)
    if 'gdays' in ideas:   # SLIST's global time decay of whole sessions (here: users) by their last event's age
        for d in (30, 60, 120):
            run('global time decay of users, half-life %g days' % d, dict(BASE, gdays=d))
    if 'tpop' in ideas:
        for a in (0.1, 0.25, 0.5):
            run('transition targets scaled by popularity^-%g' % a, dict(BASE, tpop=a))
    if 'h4grid' in ideas:
        for w, lam, p in ((0.6, 100, 0.5), (0.7, 100, 0.5), (0.5, 100, 0.5), (0.6, 50, 0.5), (0.6, 200, 0.5), (0.6, 100, 0.75)):
            for h, W in ((4, 16),):
                run('h %g W %d w %g lam %g p %g' % (h, W, w, lam, p), dict(BASE, h=h, W=W, w=w, lam=lam, p=p))
    if 'target' in ideas:   # asymmetric: inputs log(1 + rating), targets another weighting of the rating
        import types
        B4 = dict(BASE, h=4, W=16, lam=225)
        for name, tf in (('liked (rating >= 4)', lambda r: (r >= 4).astype(float) * np.log1p(5)),
                         ('(rating/5)^2 x log 6', lambda r: (r / 5.0) ** 2 * np.log1p(5)),
                         ('log(1 + rating) (same)', lambda r: np.log1p(r))):
            def fitT(s, cfg, tf=tf):
                raw = {u: np.expm1(s.val[u]) for u in s.users}
                Xi = s.X(); old = s.val
                s.val = {u: tf(np.rint(raw[u])) for u in s.users}; Xt = s.X(); s.val = old
                G = (Xi.T @ Xi).toarray(); Hx = (Xi.T @ Xt).toarray()
                SS, ST = s.ST(0, cfg['W'], cfg['h'])
                # transitions: input values as they are, target values by tf (S_in^T T_tgt)
                n = G.shape[0]; w = cfg['w']; lam = cfg['lam']; p = cfg['p']
                Sin, Ttg = crossST(s, cfg['W'], cfg['h'], raw, tf)
                c = np.trace(G) / np.trace(SS)
                A = (1 - w) * G + w * c * SS; H = (1 - w) * Hx + w * c * Ttg
                M = A.copy(); M[np.diag_indices(n)] += lam + p / (1 - p) * np.diag(A)
                P = np.linalg.inv(M); PH = P @ H; mu = np.diag(PH) / np.diag(P)
                B = PH - P * mu[None, :]; np.fill_diagonal(B, 0); return B
            nv = split('temporal', 'valid').ndcg(fitT(split('temporal', 'valid'), B4), B4['hl'])
            nt = split('temporal', 'test').ndcg(fitT(split('temporal', 'test'), B4), B4['hl'])
            print('%-58s valid %.4f  test %.4f' % ('targets ' + name, nv, nt), flush=True)

    if 'floor' in ideas:   # third round: a recency floor, f + (1 - f) x 0.5^(age rank / h) (recency_floor)
        B4 = dict(BASE, h=4, W=16, lam=225)
        Bv = fit(split('temporal', 'valid'), B4); Bt = fit(split('temporal', 'test'), B4)
        for hl in (2, 3, 5, 8, 10, 12):
            for f in (0, 0.05, 0.1, 0.15, 0.25):
                nv = split('temporal', 'valid').ndcg(Bv, hl, floor=f); nt = split('temporal', 'test').ndcg(Bt, hl, floor=f)
                print('%-58s valid %.4f  test %.4f' % ('recency half-life %g, floor %g' % (hl, f), nv, nt), flush=True)
    if 'session' in ideas:
        B4 = dict(BASE, h=4, W=16, lam=225)
        for gap, cross in ((3600, 1), (86400, 1), (3600, 0)):
            run('sessions cut at %d s gaps%s' % (gap, '' if cross else ', no step across sessions'), dict(B4, gap=gap, cross=cross))

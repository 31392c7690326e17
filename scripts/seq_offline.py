#!/usr/bin/env python3
"""Offline check of the sequential component on the shared temporal validation split (numpy):
the former blend of two closed forms against SLIST's joint solve (README, "Quality"), with the
pipeline of recommend(): log(1 + rating) values, row_norm 0.25 (rows scaled by |history|^-0.25),
SLIT window 8 / position half-life 2, recency 0.5^(age rank / h) at scoring, NDCG@10 with
relevant = rating >= 4. Usage: python3 scripts/seq_offline.py  (needs ../shared; about a minute)"""
import numpy as np, sys, time, csv, os
from collections import defaultdict
D=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'eval', 'splits', 'temporal') + '/'
import os
TR=os.environ.get('TR','valid_train.csv'); TE=os.environ.get('TE','valid_test.csv')
def rd(f): return [tuple(int(x) for x in r) for r in list(csv.reader(open(D+f)))[1:]]
A=rd(TR); Bt=rd(TE)
items=np.array(sorted(set(r[1] for r in A))); idx={v:i for i,v in enumerate(items)}
n=len(items)
byu=defaultdict(list)
for u,i,r,t in A: byu[u].append((t,i,r))
seqs={}; vals={}; times={}
for u,l in byu.items():
    l.sort(); seqs[u]=np.array([idx[i] for t,i,r in l]); vals[u]=np.log1p(np.array([r for t,i,r in l],float)); times[u]=np.array([t for t,i,r in l],float)
tb=defaultdict(list)
for u,i,r,t in Bt: tb[u].append((i,r))
rel={}
for u,l in tb.items():
    nr=sum(1 for i,r in l if r>=4)
    if nr>0: rel[u]=(set(idx[i] for i,r in l if r>=4 and i in idx),nr)
disc=1/np.log2(np.arange(2,12))
def ndcg(B, hl, mode='rank', tau=None):
    tot=0; cnt=0
    for u,(R,nr) in rel.items():
        if u not in seqs: cnt+=1; continue
        s=seqs[u]; v=vals[u]; t=times[u]
        if hl>0:
            if mode=='rank':
                # rank = number of distinct items with strictly later time
                ts=np.sort(t)[::-1]
                rk=np.searchsorted(-ts, -t, side='left')
                w=0.5**(rk/hl)
            elif mode=='pos':
                L=len(s); w=0.5**((L-1-np.arange(L))/hl)
            elif mode=='time':
                w=0.5**((t.max()-t)/(hl*86400))
        else: w=np.ones(len(s))
        x=np.zeros(n); x[s]=v*w
        sc=x@B; sc[s]=-np.inf
        top=np.argpartition(-sc,10)[:10]; top=top[np.argsort(-sc[top])]
        hits=np.array([1.0 if i in R else 0 for i in top])
        tot+=(hits*disc).sum()/disc[:min(nr,10)].sum(); cnt+=1
    return tot/cnt
def gram(rownorm):
    G=np.zeros((n,n))
    for u in seqs:
        x=np.zeros(n); x[seqs[u]]=vals[u]
        f=len(seqs[u])**(-rownorm) if rownorm else 1
        nz=seqs[u]; xv=x[nz]
        G[np.ix_(nz,nz)]+=f*f*np.outer(xv,xv)
    return G
def seqgrams(rownorm, W=8, h=2.0, full=False):
    SS=np.zeros((n,n)); ST=np.zeros((n,n))
    for u in seqs:
        s=seqs[u]; v=vals[u]; L=len(s)
        f=L**(-rownorm) if rownorm else 1
        for t in range(L-1):
            lo=0 if full else max(0,t-W+1); hi=L-1 if full else min(L-1,t+W)
            pi=s[lo:t+1]; pv=v[lo:t+1]*0.5**((t-np.arange(lo,t+1))/h)
            qi=s[t+1:hi+1]; qv=v[t+1:hi+1]*0.5**((np.arange(t+1,hi+1)-t-1)/h)
            a=np.zeros(n); a[pi]+=pv; b=np.zeros(n); b[qi]+=qv
            nzp=np.nonzero(a)[0]; nzq=np.nonzero(b)[0]
            SS[np.ix_(nzp,nzp)]+=f*np.outer(a[nzp],a[nzp]); ST[np.ix_(nzp,nzq)]+=f*np.outer(a[nzp],b[nzq])
    return SS,ST
def ease(G,lam,p=0):
    M=G.copy(); M[np.diag_indices(n)]+=lam+p/(1-p)*np.diag(G)
    P=np.linalg.inv(M); B=-P/np.diag(P); np.fill_diagonal(B,0); return B
def joint(G,SS,ST,w,lam,scale=True):
    c = np.trace(G)/np.trace(SS) if scale else 1.0
    Gin=(1-w)*G+w*c*SS; H=(1-w)*G+w*c*ST
    M=Gin.copy(); M[np.diag_indices(n)]+=lam
    P=np.linalg.inv(M); PH=P@H
    mu=np.diag(PH)/np.diag(P)
    B=PH-P*mu[None,:]; np.fill_diagonal(B,0); return B

G=gram(0.25); SS,ST=seqgrams(0.25)
lam=18.75
Be=ease(G,lam); ls=lam*np.trace(SS)/np.trace(G)
M=SS.copy(); M[np.diag_indices(n)]+=ls; Bs=np.linalg.solve(M,ST); np.fill_diagonal(Bs,0)
c=np.linalg.norm(Be)/np.linalg.norm(Bs)
print('blend  lambda 18.75 w 0.5  half-life 6: NDCG@10 %.4f' % ndcg(0.5*Be+0.5*c*Bs,6))
for w in (0.75,0.85):
    B=joint(G,SS,ST,w,lam)
    print('joint  lambda 18.75 w %.2f half-life 6: NDCG@10 %.4f (by position: %.4f)' % (w, ndcg(B,6), ndcg(B,6,'pos')))
for d in (3,30):
    print('joint  w 0.85, recency by elapsed time, half-life %d days: NDCG@10 %.4f' % (d, ndcg(B,d,'time')))

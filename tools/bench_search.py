#!/usr/bin/env python
"""Gallery-scale search: build time, memory, queries per second and recall of reid_nb.search's index kinds on a million
synthetic re-ID features, and k-reciprocal re-ranking on each query's candidates against full re-ranking at Market scale.

    python tools/bench_search.py [--json benchmarks/search.json] [--n 1000000] [--dim 512]

Features: identities are Gaussian centres, an image is its identity's centre plus noise, L2-normalised (cosine search).
Recall is measured against the exact (flat) index in the same run: recall@1 is the share of queries whose first result is
exact search's first, recall@10 the share of exact search's top 10 found in the approximate top 10. Queries/second are
for a batch of queries searched at once on every core; ratios are against the flat index's, measured in the same process.
"""
import argparse, json, os, time, tracemalloc
from pathlib import Path
import numpy as np

HERE = Path(__file__).resolve().parent

def clustered(n, dim, per=10, groups=1000, spread=(1.0, 1.0, 0.5), seed=0, chunk=100_000):
    """n unit-norm float32 features of n/per identities, made in chunks, and the identity centres. Identities belong to
    `groups` appearance groups (people dressed alike): centre = group centre + offset; image = centre + noise, with the
    per-dimension scales `spread` = (group, identity, image); groups=0 gives identities with no shared structure"""
    rng = np.random.default_rng(seed)
    ids = n // per
    base = (spread[0] * rng.standard_normal((groups, dim), dtype=np.float32))[rng.integers(0, groups, ids)] if groups else 0
    centres = base + spread[1] * rng.standard_normal((ids, dim), dtype=np.float32)
    x = np.empty((n, dim), np.float32)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        x[s:e] = centres[np.arange(s, e) // per] + spread[2] * rng.standard_normal((e - s, dim), dtype=np.float32)
        x[s:e] /= np.linalg.norm(x[s:e], axis=1, keepdims=True)
    return x, centres

def timed(f):
    t = time.perf_counter(); r = f(); return r, time.perf_counter() - t

def recall(approx, exact):
    r1 = float((approx[:, 0] == exact[:, 0]).mean())
    r10 = float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(approx[:, :10], exact[:, :10])]))
    return r1, r10

def million(n, dim, nq=1000, k=10, groups=1000, probes=(2, 4, 8, 16), pq=True, rerank=True):
    import faiss
    from reid_nb.search import GalleryIndex
    x, centres = clustered(n, dim, groups=groups)
    rng = np.random.default_rng(1)
    q = centres[rng.integers(0, len(centres), nq)] + 0.5 * rng.standard_normal((nq, dim), dtype=np.float32)
    out = dict(n=n, dim=dim, queries=nq, k=k, groups=groups, threads=faiss.omp_get_max_threads(), kinds={})
    def one_by_one(ix, m=100):   # interactive use: one query at a time
        t = time.perf_counter()
        for r in range(m): ix.search(q[r:r + 1], k)
        return m / (time.perf_counter() - t)
    flat, secs = timed(lambda: GalleryIndex(dim, 'flat').add(x))
    (d, exact), qs = timed(lambda: flat.search(q, k))
    out['kinds']['flat'] = dict(build_s=secs, mem_mb=len(faiss.serialize_index(flat.index)) / 2**20, qps=nq / qs, qps_single=one_by_one(flat),
                                recall1=1.0, recall10=1.0)
    print('flat', out['kinds']['flat'], flush=True)
    del flat
    todo = [('ivf', dict(nlist=1024), probes)] + ([('ivfpq', dict(nlist=1024, pq_m=64), probes[-2:])] if pq else [])
    for kind, kw, ps in todo:
        ix, secs = timed(lambda: GalleryIndex(dim, kind, **kw).add(x))
        mem = len(faiss.serialize_index(ix.index)) / 2**20
        for p in ps:
            ix.index.nprobe = p
            ix.search(q[:10], k)   # warm
            (d, i), qs = timed(lambda: ix.search(q, k))
            r1, r10 = recall(i, exact)
            out['kinds'][f'{kind} nprobe={p}'] = dict(kind=kind, **kw, nprobe=p, build_s=secs, mem_mb=mem, qps=nq / qs, qps_single=one_by_one(ix),
                                                      recall1=r1, recall10=r10)
            print(kind, p, out['kinds'][f'{kind} nprobe={p}'], flush=True)
        if kind == 'ivf' and rerank:   # re-ranking on the candidates at this scale (full re-ranking would need 1M x 1M neighbourhoods)
            ix.index.nprobe = 8
            tracemalloc.start()
            _, secs = timed(lambda: ix.search(q, k, rerank=True, candidates=100))
            out['rerank_candidates'] = dict(kind='ivf nprobe=8', candidates=100, rerank_batch=256, queries=nq, secs=secs,
                                            ms_per_query=1000 * secs / nq, peak_numpy_mb=tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop(); print(out['rerank_candidates'], flush=True)
        del ix
    f = out['kinds']['flat']
    for v in out['kinds'].values(): v['speedup'], v['speedup_single'] = v['qps'] / f['qps'], v['qps_single'] / f['qps_single']
    out['meets_target'] = [k for k, v in out['kinds'].items() if v['recall10'] >= 0.95 and v['speedup'] >= 10]
    return out

def market_scale(dim=512, seed=0):
    "Synthetic Market-sized query/gallery features (identity centres, camera shifts, noise); full vs candidate re-ranking"
    from reid_nb.search import GalleryIndex, evaluate_index
    from reid_nb.rerank import k_reciprocal_rerank
    from reid_nb.metrics import evaluate_rank, compute_distance
    rng = np.random.default_rng(seed)
    n_ids, n_cams = 750, 6
    centres = rng.standard_normal((n_ids + 900, dim)).astype(np.float32)
    cam_shift = 0.8 * rng.standard_normal((n_cams, dim)).astype(np.float32)   # noise set for a plain mAP near 50%
    q, g = [], []
    for p in range(n_ids):   # Market-sized: ~4.5 queries and ~20 gallery images per identity, in 2-6 cameras
        for c in rng.choice(n_cams, rng.integers(2, n_cams + 1), replace=False):
            q += [(p, int(c))] * (1 + (rng.random() < 0.12))
            g += [(p, int(c))] * int(rng.integers(3, 8))
    g += [(n_ids + i, int(rng.integers(n_cams))) for i in range(900)]   # distractors: identities never queried
    def feats(items):
        pid = np.array([a for a, _ in items]); cam = np.array([b for _, b in items])
        f = centres[pid] + cam_shift[cam] + 1.35 * rng.standard_normal((len(items), dim)).astype(np.float32)
        return f / np.linalg.norm(f, axis=1, keepdims=True), pid, cam
    qf, qp, qc = feats(q); gf, gp, gc = feats(g)
    res = dict(queries=len(qf), gallery=len(gf), dim=dim)
    plain = evaluate_rank(compute_distance(qf, gf, 'cosine'), qp, gp, qc, gc)
    tracemalloc.start()
    d, secs = timed(lambda: k_reciprocal_rerank(qf, gf))
    peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    full = evaluate_rank(d, qp, gp, qc, gc)
    res['plain'] = dict(mAP=plain.mAP, R1=plain.rank(1))
    res['full_rerank'] = dict(mAP=full.mAP, R1=full.rank(1), secs=secs, peak_mb=peak / 2**20)
    ix = GalleryIndex(dim, 'flat').add(gf, [('', int(a), int(b)) for a, b in zip(gp, gc)])
    for c in (100, 200):
        tracemalloc.start()
        r, secs = timed(lambda: evaluate_index(ix, qf, qp, qc, k=c, rerank=True, candidates=c))
        peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
        res[f'candidates_{c}'] = dict(mAP=r.mAP, R1=r.rank(1), secs=secs, peak_mb=peak / 2**20,
                                      mAP_diff_vs_full=r.mAP - full.mAP, time_ratio=secs / res['full_rerank']['secs'],
                                      mem_ratio=peak / 2**20 / res['full_rerank']['peak_mb'])
        print(c, res[f'candidates_{c}'], flush=True)
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--json', default=str(HERE.parent/'benchmarks'/'search.json'))
    p.add_argument('--n', type=int, default=1_000_000)
    p.add_argument('--dim', type=int, default=512)
    p.add_argument('--only', default='market,million,unstructured')
    a = p.parse_args()
    out = Path(a.json); res = json.loads(out.read_text()) if out.exists() else {}
    if 'market' in a.only: res['rerank_market'] = market_scale(); print(res['rerank_market'], flush=True)
    if 'million' in a.only: res['million'] = million(a.n, a.dim)
    if 'unstructured' in a.only: res['unstructured'] = million(a.n, a.dim, groups=0, probes=(8, 32, 128), pq=False, rerank=False)
    res['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()

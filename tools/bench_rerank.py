#!/usr/bin/env python
"""Time and peak memory of `reid_nb.rerank` against the dense reference pipeline and the all-pairs GEMM floor.

Every case runs in a fresh process; peak memory is the growth of `ru_maxrss` over the process's resident size
once its inputs exist (it sees NumPy, SciPy and torch allocations alike). Features are synthetic identities
(about 17 images each, as in Market-1501), L2-normalised.

    python tools/bench_rerank.py --scale moderate   # Q=1,000, G=5,000, d=256; Jaccard N=5,000 (a minute or two)
    python tools/bench_rerank.py --scale market     # Q=3,368, G=15,913, d=2048; Jaccard N=12,936 (many minutes)
"""
import argparse, json, os, resource, subprocess, sys, time

SCALES = dict(moderate=dict(Q=1000, G=5000, d=256, N=5000), market=dict(Q=3368, G=15913, d=2048, N=12936),
              tiny=dict(Q=100, G=400, d=32, N=500))

def features(n, d, seed=0):
    "Synthetic L2-normalised features of n // 17 identities, written in chunks (no big temporaries)"
    import numpy as np
    rng = np.random.default_rng(seed)
    ids = max(2, n // 17)
    centres = rng.standard_normal((ids, d), dtype=np.float32)
    lab = rng.integers(0, ids, n)
    x = np.empty((n, d), np.float32)
    for s in range(0, n, 4096):
        e = min(n, s + 4096)
        x[s:e] = centres[lab[s:e]] + rng.standard_normal((e - s, d), dtype=np.float32)
        x[s:e] /= np.linalg.norm(x[s:e], axis=1, keepdims=True)
    return x

def rss_kb():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024

def child(case, Q, G, d, N):
    "Run one case in this process; print a JSON line with seconds and peak MB above the starting footprint"
    import numpy as np, torch
    from reid_nb.rerank import k_reciprocal_rerank, k_reciprocal_rerank_dense, jaccard_distance, knn_sqeuclidean
    if case == 'knn_faiss': import faiss
    x = features(Q + G if case in ('rerank', 'dense', 'gemm_qg') else N, d)
    y = x.copy() if case in ('gemm_n', 'gemm_n_torch', 'jaccard_ratio') else None   # a second operand: a true GEMM, not x @ x.T
    if case in ('dbscan_sparse', 'jaccard_dbscan'): from reid_nb.cluster import dbscan_cluster, pseudo_labels
    if case == 'dbscan_sparse': m = jaccard_distance(x, sparse=True)
    torch.set_num_threads(os.cpu_count())
    base = rss_kb()
    t = time.perf_counter()
    if case == 'rerank': out = k_reciprocal_rerank(x[:Q], x[Q:])
    elif case == 'dense':  # the reference pipeline: torch distance matrices as torchreid's engine, then re_ranking
        q, g = torch.from_numpy(x[:Q]), torch.from_numpy(x[Q:])
        sqd = lambda a, b: torch.addmm((a * a).sum(1, keepdim=True) + (b * b).sum(1)[None], a, b.T, alpha=-2).numpy()
        out = k_reciprocal_rerank_dense(sqd(q, g), sqd(q, q), sqd(g, g))
    elif case in ('gemm_qg', 'syrk_n'): out = x @ x.T   # NumPy (BLAS) sees x @ x.T and computes only half of it
    elif case == 'gemm_n': out = x @ y.T
    elif case == 'gemm_n_torch': out = torch.from_numpy(x) @ torch.from_numpy(y).T
    elif case == 'knn_tiles': out = knn_sqeuclidean(x, 60, with_max=False)   # the Jaccard's pass
    elif case == 'knn_faiss':  # faiss's exact search, as Cluster Contrast's CPU option
        index = faiss.IndexFlatL2(d); index.add(x); out = index.search(x, 60)
    elif case == 'jaccard': out = jaccard_distance(x, sparse=True)
    elif case == 'jaccard_dense': out = jaccard_distance(x)
    elif case == 'dbscan_sparse': out = dbscan_cluster(m, eps=0.6, min_samples=4)
    elif case == 'jaccard_dbscan': out = pseudo_labels(x, eps=0.6, min_samples=4)   # the library's step: Jaccard within eps, DBSCAN
    elif case == 'jaccard_ratio': out = ratio_rounds(x, y)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = dict(case=case, s=dt, peak_mb=max(0, peak - base) / 1024)
    if case == 'jaccard_ratio': res.update(s=out['jaccard'], rounds=out['rounds'], ratio=out['ratio'])   # s: the median Jaccard
    print(json.dumps(res))

def ratio_rounds(x, y, rounds=5):
    "Jaccard against one N×d×N GEMM (the faster of torch and NumPy), alternated in this process: the machine's noise hits both"
    import statistics, torch
    from reid_nb.rerank import jaccard_distance
    def timed(f):
        t = time.perf_counter(); f(); return time.perf_counter() - t
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    res = []
    for _ in range(rounds):
        r = dict(gemm_torch=timed(lambda: tx @ ty.T), gemm_numpy=timed(lambda: x @ y.T), jaccard=timed(lambda: jaccard_distance(x, sparse=True)))
        res.append(dict(r, ratio=r['jaccard'] / min(r['gemm_torch'], r['gemm_numpy'])))
    return dict(rounds=res, jaccard=statistics.median(r['jaccard'] for r in res), ratio=statistics.median(r['ratio'] for r in res))

def run(case, sc, repeat=1):
    "The fastest of `repeat` fresh processes (the machines are shared: the minimum is the least disturbed run)"
    best = None
    for _ in range(repeat):
        r = subprocess.run([sys.executable, __file__, '--child', case, '--scale', sc], capture_output=True, text=True)
        if r.returncode: return dict(case=case, s=float('nan'), peak_mb=float('nan'), err=r.stderr[-500:])
        got = json.loads(r.stdout.strip().splitlines()[-1])
        if best is None or got['s'] < best['s']: best = got
    return best

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--scale', default='moderate', choices=SCALES)
    p.add_argument('--child', default=None)
    p.add_argument('--skip-dense', action='store_true', help='do not run the dense reference (needs ~(Q+G)² × 30 bytes)')
    p.add_argument('--repeat', type=int, default=1, help='run every case but the dense reference this many times; keep the fastest')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    S = SCALES[a.scale]
    if a.child: return child(a.child, **S)
    Q, G, d, N = S['Q'], S['G'], S['d'], S['N']
    print(f"scale {a.scale}: Q={Q:,} G={G:,} d={d}; Jaccard N={N:,}; {os.cpu_count()} CPU cores; "
          f"fastest of {a.repeat} run(s) per case (the dense reference: 1)")
    cases = [('gemm_qg', f'x @ x.T, (Q+G)x{d} fp32 (numpy; symmetric: half a GEMM)'), ('rerank', 'k_reciprocal_rerank'),
             ('dense', 'dense reference (torch distmats + re_ranking)'),
             ('gemm_n', f'GEMM Nx{d}xN fp32 (numpy, x @ y.T)'), ('gemm_n_torch', f'GEMM Nx{d}xN fp32 (torch, x @ y.T)'),
             ('syrk_n', f'x @ x.T, Nx{d} fp32 (numpy; symmetric: half a GEMM)'), ('knn_tiles', 'knn_sqeuclidean, 60 neighbours (N), no row maxima'),
             ('knn_faiss', 'faiss IndexFlatL2 search, 60 neighbours (N)'), ('jaccard', 'jaccard_distance(sparse=True)'),
             ('dbscan_sparse', 'dbscan_cluster(eps=0.6) on the sparse Jaccard'),
             ('jaccard_dbscan', 'pseudo_labels(eps=0.6): Jaccard within eps + DBSCAN'),
             ('jaccard_ratio', 'jaccard_distance(sparse=True), median of 5 rounds alternated with GEMMs (peak: both)')]
    if a.skip_dense: cases = [c for c in cases if c[0] != 'dense']
    r = {}
    print(f"{'case':50s} {'time s':>9s} {'peak MB':>9s}")
    for c, label in cases:
        r[c] = run(c, a.scale, 1 if c in ('dense', 'jaccard_ratio') else a.repeat)   # the ratio: its own 5 rounds, all kept (no pick)
        print(f"{label:50s} {r[c]['s']:9.2f} {r[c]['peak_mb']:9.0f}" + (f"  FAILED: {r[c]['err']}" if 'err' in r[c] else ''), flush=True)
    if 'dense' in r:
        print(f"re-ranking: {r['dense']['s'] / r['rerank']['s']:.1f}x faster than the dense reference, "
              f"{r['rerank']['peak_mb'] / max(r['dense']['peak_mb'], 1e-9):.3f} of its peak memory")
    print(f"re-ranking: {r['rerank']['s'] / r['gemm_qg']['s']:.2f}x the time of numpy's symmetric (Q+G)² product x @ x.T")
    jr = r['jaccard_ratio']
    rounds = ', '.join(f"{q['ratio']:.2f}" for q in jr.get('rounds', []))
    print(f"Jaccard: {jr.get('ratio', float('nan')):.2f}x the time of one N² GEMM, the faster of torch and numpy, alternated in one process "
          f"(rounds: {rounds}; target <= 1.5x); {r['jaccard']['s'] / r['syrk_n']['s']:.2f}x numpy's symmetric x @ x.T (half the products), fresh processes")
    if a.scale == 'market':  # Cluster Contrast's own code cannot run here; its times were measured on these machines (issue 5)
        print(f"Jaccard + DBSCAN: {r['jaccard_dbscan']['s']:.2f} s against Cluster Contrast's 11.6 s + 2.8 s reported on these machines: "
              f"x{14.4 / r['jaccard_dbscan']['s']:.2f} faster (target >= 2.5x)")
    gemm = min(r['gemm_n']['s'], r['gemm_n_torch']['s'])
    print(f"neighbour pass: {r['knn_tiles']['s'] / gemm:.2f}x the N² GEMM; faiss exact search: {r['knn_faiss']['s'] / gemm:.2f}x")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(scale=a.scale, **S, repeat=a.repeat, labels=dict(cases), results=r), f, indent=1)

if __name__ == '__main__': main()

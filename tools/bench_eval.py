#!/usr/bin/env python
"""Benchmark reid_nb.metrics at Market-1501 / MSMT17 scale on random clustered features; prints a table.

  python tools/bench_eval.py [--scale market|msmt] [--dim 2048]

Each measurement runs in a fresh subprocess so its peak memory (max RSS) is its own. The reference
("peer-equivalent") pipeline is what every peer does before its ranking loop: a full torch distance matrix
(squared norms broadcast, then an in-place addmm, written here independently of reid_nb), then a full argsort
of every row; our pipelines are `evaluate_features` (fused and chunked) and
`evaluate_rank` on a given distance matrix.
"""
import argparse, json, subprocess, sys, time

SCALES = {'market': (3368, 15913, 751), 'msmt': (11659, 82161, 3060)}

def make(nq, ng, nids, dim, seed=0):
    import torch
    g = torch.Generator().manual_seed(seed)
    centres = 0.5 * torch.randn(nids + 1, dim, generator=g)  # weak identity signal: metrics well below 100%
    gp = torch.randint(1, nids + 1, (ng,), generator=g); qp = torch.randint(1, nids + 1, (nq,), generator=g)
    def feats(pids):  # filled in chunks, so making the inputs does not raise the peak memory measured afterwards
        out = torch.empty(len(pids), dim)
        for i in range(0, len(pids), 1024): out[i:i+1024] = centres[pids[i:i+1024]] + 1.5 * torch.randn(len(pids[i:i+1024]), dim, generator=g)
        return out
    gf, qf = feats(gp), feats(qp)
    return qf, gf, qp, gp, torch.randint(0, 6, (nq,), generator=g), torch.randint(0, 6, (ng,), generator=g)

def peer_distmat(qf, gf):
    "The peers' distance matrix, independent of reid_nb: squared norms broadcast to a full Q×G matrix, then one in-place addmm"
    d = (qf * qf).sum(1, keepdim=True) + (gf * gf).sum(1)[None]
    return d.addmm_(qf, gf.T, alpha=-2)

def job(name, nq, ng, nids, dim):
    import resource, numpy as np, torch
    from reid_nb.metrics import compute_distance, evaluate_rank, evaluate_features
    qf, gf, qp, gp, qc, gc = make(nq, ng, nids, dim)
    rss = lambda: int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 1024  # current RSS, KiB
    extra = {}
    if name in ('evaluate_rank', 'argsort'): d = compute_distance(qf, gf)
    base = rss()
    t = time.perf_counter()
    if name == 'gemm_numpy': a, b = qf.numpy(), gf.numpy(); _ = a @ b.T
    elif name == 'gemm_torch': _ = qf @ gf.T
    elif name == 'peer': d = peer_distmat(qf, gf); idx = np.argsort(d.numpy(), axis=1)
    elif name == 'argsort': idx = np.argsort(d.numpy(), axis=1)
    elif name == 'evaluate_rank': r = evaluate_rank(d, qp, gp, qc, gc); extra = r.summary()
    elif name == 'evaluate_features': r = evaluate_features(qf, gf, qp, gp, qc, gc); extra = r.summary()
    elif name == 'ratio':   # both pipelines alternated in one process, so the machine's drift hits both alike
        rounds = []
        for _ in range(3):
            t0 = time.perf_counter(); d = peer_distmat(qf, gf); idx = np.argsort(d.numpy(), axis=1); del d, idx; tp = time.perf_counter() - t0
            t0 = time.perf_counter(); evaluate_features(qf, gf, qp, gp, qc, gc); te = time.perf_counter() - t0
            rounds.append(dict(peer=tp, evaluate_features=te, ratio=tp / te))
        extra = dict(rounds=rounds, ratio=float(np.median([x['ratio'] for x in rounds])))
    secs = time.perf_counter() - t
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 2**20  # KiB -> GiB
    print(json.dumps(dict(name=name, secs=secs, peak_gib=peak, **extra)))

def run(name, *a):
    out = subprocess.run([sys.executable, __file__, '--job', name, *map(str, a)], capture_output=True, text=True)
    if out.returncode: sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--scale', default='market', choices=SCALES); p.add_argument('--dim', type=int, default=2048)
    p.add_argument('--job'); p.add_argument('rest', nargs='*')
    p.add_argument('--json', default=None, help='also write the results to this JSON file')
    a = p.parse_args()
    if a.job: job(a.job, *map(int, a.rest)); sys.exit()
    nq, ng, nids = SCALES[a.scale]
    print(f'{a.scale} scale: {nq} queries x {ng} gallery, {a.dim}-d, {nids} ids, 6 cameras')
    names = ['gemm_numpy', 'gemm_torch', 'peer', 'evaluate_features', 'argsort', 'evaluate_rank', 'ratio']
    res = {n: run(n, nq, ng, nids, a.dim) for n in names}
    print(f"{'step':<48}{'seconds':>9}{'peak GiB above inputs':>26}")
    label = {'gemm_numpy': 'floor: fp32 GEMM (numpy)', 'gemm_torch': 'floor: fp32 GEMM (torch)',
             'peer': 'peer-equivalent: distmat + argsort of every row', 'evaluate_features': 'reid_nb evaluate_features (features -> metrics)',
             'argsort': 'peer ranking alone: argsort of a given distmat', 'evaluate_rank': 'reid_nb evaluate_rank (distmat -> metrics)',
             'ratio': 'peer pipeline and evaluate_features, 3 rounds alternated in one process'}
    for n in names: print(f"{label[n]:<48}{res[n]['secs']:>9.2f}{res[n]['peak_gib']:>26.2f}")
    print(f"features -> metrics: x{res['peer']['secs']/res['evaluate_features']['secs']:.2f} faster than the peer-equivalent pipeline, "
          f"x{res['evaluate_features']['secs']/min(res['gemm_numpy']['secs'], res['gemm_torch']['secs']):.2f} the GEMM floor")
    print(f"distmat -> metrics: x{res['argsort']['secs']/res['evaluate_rank']['secs']:.2f} faster than argsort alone")
    print(f"features -> metrics, alternated in one process: x{res['ratio']['ratio']:.2f} faster than the peer-equivalent pipeline "
          "(median of rounds " + ', '.join(f"{x['ratio']:.2f}" for x in res['ratio']['rounds']) + ")")
    print('metrics:', {k: v for k, v in res['evaluate_features'].items() if k not in ('name', 'secs', 'peak_gib')})
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(scale=a.scale, nq=nq, ng=ng, nids=nids, dim=a.dim, labels=label, results=res), f, indent=1)

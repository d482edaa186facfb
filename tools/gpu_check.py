"""The GPU check: what only a CUDA machine can show, in one command of under 8 minutes.

1. the `#| cuda` cells of the notebooks (each notebook run with the cuda flag, as `nbdev_test --flags cuda`);
2. the GPU neighbour pass (`knn_sqeuclidean` on CUDA) against the CPU one, on 12,936 x 2,048 features (Market-1501's training set);
3. every method's paper preset on the Market-1501-scale synthetic set (tools/market_dry_run.py), ~20 iterations of every stage,
   with AMP off (fp32, as most official codes) and on ('auto': bf16 where supported), printing images/s, peak GPU memory, losses.

Writes benchmarks/gpu_check.json (and copies it to $OUT when set). Run from the repository root with the machine's own torch:
    bash tools/gpu_check.sh [--budget SECONDS] [--iters N] [--skip-cells] [METHOD ...]

`--rehearse` runs the same steps on the CPU at toy sizes (a few minutes), so the check is known to work before a GPU is lent.
"""
import argparse, json, os, platform, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO/'benchmarks'/'gpu_check.json'

def cuda_cells(budget_end):
    "Run every notebook that has `#| cuda` cells with the cuda flag on; one record per notebook"
    recs = []
    for nb in sorted((REPO/'nbs').rglob('*.ipynb')):
        if '#| cuda' not in nb.read_text(): continue
        left = budget_end - time.time()
        if left < 30: recs.append(dict(notebook=nb.name, skipped='time budget')); continue
        t0 = time.time()
        try:
            r = subprocess.run(['nbdev_test', '--path', str(nb), '--flags', 'cuda'], capture_output=True, text=True, cwd=REPO, timeout=min(left, 240))
            recs.append(dict(notebook=nb.name, passed=r.returncode == 0, seconds=round(time.time() - t0, 1),
                             tail=None if r.returncode == 0 else (r.stdout + r.stderr)[-1500:]))
        except subprocess.TimeoutExpired: recs.append(dict(notebook=nb.name, passed=False, seconds=round(time.time() - t0, 1), tail='timeout'))
        print(f"cuda cells  {nb.name:<32} {'ok' if recs[-1].get('passed') else 'FAILED'}  {recs[-1].get('seconds')} s", flush=True)
    return recs

def neighbour_pass(n=12936, d=2048, k=31, device='cuda'):
    "The k-nearest-neighbour pass of re-ranking and clustering on the GPU against the CPU's, on the same features"
    import numpy as np, torch
    from reid_nb.rerank import knn_sqeuclidean
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)
    t0 = time.time(); dc, ic, _ = knn_sqeuclidean(x.numpy(), k); cpu_s = time.time() - t0
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    xg = x.to(device); knn_sqeuclidean(xg[:512], k, device=device)          # warm-up
    sync(); t0 = time.time(); dg, ig, _ = knn_sqeuclidean(xg, k, device=device); sync(); gpu_s = time.time() - t0
    dg, ig = (v.cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v) for v in (dg, ig))
    same = float((np.sort(ic, 1) == np.sort(ig, 1)).all(1).mean())
    rec = dict(n=n, d=d, k=k, device=device, cpu_s=round(cpu_s, 2), gpu_s=round(gpu_s, 3), speedup=round(cpu_s / gpu_s, 1),
               rows_with_identical_neighbours=same, max_abs_distance_diff=float(np.abs(np.asarray(dc) - dg).max()))
    print(f"neighbours  {n} x {d}, k {k}: NumPy {rec['cpu_s']} s, torch on {device} {rec['gpu_s']} s; identical neighbour sets in {same:.4%} of rows, "
          f"distances within {rec['max_abs_distance_diff']:.2e}", flush=True)
    return rec

def methods(names, iters, budget_end, rehearse=False):
    "Every method's paper preset on the Market-scale set, AMP off and on (tools/market_dry_run.py, one process per run)"
    out = REPO/'benchmarks'/('gpu_check_rehearsal_methods.json' if rehearse else 'gpu_check_methods.json')
    dev = ['--device', 'cpu', '--tiny'] if rehearse else ['--device', 'cuda']
    for amp in ('off', 'auto'):
        for n in names:
            if budget_end - time.time() < 40: print(f"methods     {n} amp {amp}: skipped (time budget)", flush=True); continue
            subprocess.run([sys.executable, str(REPO/'tools'/'market_dry_run.py'), n, *dev, '--iters', str(iters),
                            '--amp', amp, '--out', str(out)], cwd=REPO, timeout=max(30, budget_end - time.time()))
    return json.loads(out.read_text()) if out.exists() else {}

def parse(argv):
    p = argparse.ArgumentParser(prog='tools/gpu_check.py', description=__doc__.splitlines()[0])
    from market_dry_run import ORDER
    p.add_argument('methods', nargs='*', help=f"methods to time (default: all of {', '.join(ORDER)})")
    p.add_argument('--budget', type=float, default=450, help='seconds for the whole check')
    p.add_argument('--iters', type=int, default=None, help='iterations per stage (default: 20; 2 with --rehearse)')
    p.add_argument('--skip-cells', action='store_true', help="don't run the notebooks' cuda cells")
    p.add_argument('--rehearse', action='store_true', help='the same steps on the CPU at toy sizes')
    a = p.parse_args(argv)
    if unknown := [m for m in a.methods if m not in ORDER]: p.error(f"unknown method {unknown[0]!r}; choose from {', '.join(ORDER)}")
    return a

def main(argv):
    t_start = time.time()
    a = parse(argv)
    budget_end = t_start + a.budget
    import torch
    rehearse = a.rehearse
    if not rehearse and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device is visible to this torch; run it on a machine with an NVIDIA GPU (or --rehearse on the CPU)")
    cuda = torch.cuda.is_available()
    rec = dict(when=time.strftime('%Y-%m-%d %H:%M:%S'), rehearsal=rehearse, python=platform.python_version(), torch=torch.__version__,
               cuda=torch.version.cuda, gpu=torch.cuda.get_device_name() if cuda else None, bf16=cuda and torch.cuda.is_bf16_supported(),
               cpus=os.cpu_count())
    print(json.dumps(rec), flush=True)
    if not (a.skip_cells or rehearse): rec['cuda_cells'] = cuda_cells(t_start + 150)
    rec['neighbours'] = neighbour_pass(3000, 256, device='cpu') if rehearse else neighbour_pass()
    from market_dry_run import ORDER
    iters = a.iters if a.iters is not None else (2 if rehearse else 20)
    rec['methods'] = methods(a.methods or list(ORDER), iters, budget_end, rehearse)
    rec['seconds'] = round(time.time() - t_start)
    out = OUT.with_name('gpu_check_rehearsal.json') if rehearse else OUT
    out.write_text(json.dumps(rec, indent=1))
    if os.environ.get('OUT'): (Path(os.environ['OUT'])/out.name).write_text(json.dumps(rec, indent=1))
    print(f"gpu_check: {rec['seconds']} s; written to {out}")

if __name__ == '__main__':
    sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO)]
    main(sys.argv[1:])

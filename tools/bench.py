#!/usr/bin/env python
"""Run every reid_nb benchmark and write its results, with a description of the machine, into benchmarks/*.json.

    python tools/bench.py [--out benchmarks] [--only eval,rerank,jaccard,overhead,synthetic]

The docs' benchmarks page (nbs/benchmarks.ipynb) is generated from these files. Run it on a quiet machine: every
figure is a ratio against a reference measured in the same run, but absolute times depend on the load.
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent

def machine() -> dict:
    "CPU model, cores, memory, GPUs and library versions of this machine"
    import torch
    from reid_nb.core import env_info
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) if os.path.exists('/proc/cpuinfo') else platform.processor()
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30 if hasattr(os, 'sysconf') else float('nan')
    info = env_info()
    return dict(cpu=cpu, cores=os.cpu_count(), torch_threads=torch.get_num_threads(), mem_gib=round(mem, 1), gpus=info['gpus'],
                python=info['python'], torch=info['torch'], faiss=info['faiss'], reid_nb=info['reid_nb'], platform=platform.platform(),
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))

def tool(script, *args, out):
    "Run one of the tools/bench_*.py scripts with --json"
    subprocess.run([sys.executable, str(HERE/script), *args, '--json', str(out)], check=True)
    return json.loads(Path(out).read_text())

def overhead(reps=5) -> dict:
    from reid_nb.train import trainer_overhead
    r = trainer_overhead(reps=reps)
    return dict(ratio=r, overhead_pct=100 * (r - 1), reps=reps, what='ResNet-18, 6 batches of 8×3×128×64, fp32 CPU')

def synthetic() -> dict:
    "Images per second of the synthetic generator on 1 process and on every core"
    from reid_nb.data.synthetic import make_synthetic_reid
    res = {}
    for w in sorted({1, min(os.cpu_count() or 1, 8)}):
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            root = make_synthetic_reid(d, workers=w, progress=False)
            secs = time.perf_counter() - t
            n = sum(1 for p in Path(root).rglob('*.jpg') if 'render' not in str(p))
        res[f'workers_{w}'] = dict(secs=secs, images=n, images_per_s=n / secs)
    return res

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=str(HERE.parent/'benchmarks'))
    p.add_argument('--only', default='eval,rerank,overhead,synthetic', help='any of eval,rerank,overhead,synthetic and the long ones '
                   'eval_msmt (MSMT17-scale evaluation, ~12 GB for the peer pipeline) and rerank_market (Market-scale re-ranking and Jaccard, ~11 GB)')
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    todo = a.only.split(',')
    (out/'machine.json').write_text(json.dumps(machine(), indent=1))
    if 'eval' in todo: tool('bench_eval.py', '--scale', 'market', out=out/'eval_market.json')
    if 'eval_msmt' in todo: tool('bench_eval.py', '--scale', 'msmt', out=out/'eval_msmt.json')
    if 'rerank' in todo: tool('bench_rerank.py', '--scale', 'moderate', '--repeat', '2', out=out/'rerank_moderate.json')
    if 'rerank_market' in todo: tool('bench_rerank.py', '--scale', 'market', '--repeat', '2', out=out/'rerank_market.json')
    if 'overhead' in todo: (out/'overhead.json').write_text(json.dumps(overhead(), indent=1))
    if 'synthetic' in todo: (out/'synthetic.json').write_text(json.dumps(synthetic(), indent=1))
    print(f'benchmarks written to {out}')

if __name__ == '__main__': main()

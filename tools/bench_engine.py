#!/usr/bin/env python
"""Training-engine measurements: what fresh draws per pass change in a short Cluster Contrast run, and what float32 loss
math costs next to losses computed under bfloat16 autocast.

    python tools/bench_engine.py [--json benchmarks/engine.json] [--seeds 0,1,2] [--old COMMIT]

`fresh_draws`: the same short Cluster Contrast run on the synthetic data (same seeds) with the code of COMMIT (whose loader
restarted every pass of an epoch with the epoch's seed, replaying its batches) and with the working tree's. Each run is a
separate process with its own PYTHONPATH; mean and sd of the final mAP over the seeds.
`loss_precision`: one process, ResNet-18 training steps at 128x64 with the baseline's losses (label-smoothed CE + batch-hard
triplet) and Cluster Contrast's memory loss, bf16 autocast around the whole step (losses in bf16) against bf16 autocast
around the forward only (losses in float32), alternated; plus how often the triplet loss's hardest positive or negative
changes when its distances are computed in bf16 instead of float32 on the same features.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CC = dict(dataset='synthetic', backbone='resnet18', pooling='avg', height=64, width=32, pad=3, epochs=5, iters=20, batch_size=64,
          num_instances=4, k1=20, k2=6, eps=0.4, cam_norm=True, step_size=20, eval_every=5, test_batch_size=128, num_workers=0, amp='off')

def cc_run(seed:int, data:str) -> dict:
    "One short Cluster Contrast run with the reid_nb on sys.path (API common to old and new code)"
    import reid_nb
    from reid_nb.data.datasets import get_dataset
    from reid_nb.methods.cluster_contrast import ClusterContrastConfig, cc_trainer
    ds = get_dataset('synthetic', data)
    t0 = time.time()
    t = cc_trainer(ClusterContrastConfig(**CC, seed=seed), ds, device='cpu', progress=False)
    h = t.fit()
    return dict(seed=seed, mAP=h[-1]['mAP'], R1=h[-1]['R1'], n_clusters=[r.get('n_clusters') for r in h], secs=time.time() - t0,
                code=reid_nb.__file__)

def fresh_draws(seeds, old):
    from reid_nb.data.synthetic import make_synthetic_reid
    data = Path(tempfile.gettempdir())/'reid_nb-bench-engine'/'synthetic'
    make_synthetic_reid(data, seed=0, structure=False, progress=False)
    wt = Path(tempfile.mkdtemp())/'old'
    subprocess.run(['git', '-C', str(HERE.parent), 'worktree', 'add', '--detach', str(wt), old], check=True, capture_output=True)
    res = {}
    try:
        for name, path in (('replayed', wt), ('fresh', HERE.parent)):
            runs = []
            for s in seeds:
                env = {**os.environ, 'PYTHONPATH': str(path), 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
                r = subprocess.run([sys.executable, __file__, '--cc-run', str(s), '--data', str(data)], capture_output=True, text=True, env=env)
                if r.returncode: raise RuntimeError(r.stderr[-3000:])
                runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
                print(name, runs[-1], flush=True)
            maps = [r['mAP'] for r in runs]
            res[name] = dict(runs=runs, mAP_mean=statistics.mean(maps), mAP_sd=statistics.stdev(maps) if len(maps) > 1 else 0.)
    finally: subprocess.run(['git', '-C', str(HERE.parent), 'worktree', 'remove', '--force', str(wt)], capture_output=True)
    return dict(config=CC, old_commit=old, **res)

def loss_precision(reps=3, n=4, bs=32):
    import torch, torchvision
    from torch import nn
    from reid_nb.core import autocast
    from reid_nb.losses import cross_entropy_ls, triplet_loss
    from reid_nb.memory import ClusterMemory
    from reid_nb.train import AmpForward
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=64).to(memory_format=torch.channels_last)
    mem = ClusterMemory(64, 64, temp=0.05, momentum=0.1)
    mem.set_features(nn.functional.normalize(torch.randn(64, 64), dim=1))
    x = torch.randn(bs, 3, 128, 64).contiguous(memory_format=torch.channels_last)
    y = torch.arange(bs) % 8
    opt = torch.optim.SGD(m.parameters(), lr=0.001)
    def loss(out): return cross_entropy_ls(out, y) + triplet_loss(out, y) + mem(nn.functional.normalize(out, dim=1), y)
    def whole():   # losses inside autocast, as the engine ran them before
        with autocast('cpu', 'bf16'): l = loss(m(x))
        opt.zero_grad(); l.backward(); opt.step()
    fwd = AmpForward(m, torch.device('cpu'), 'bf16')
    def forward_only():
        l = loss(fwd(x)); opt.zero_grad(); l.backward(); opt.step()
    def timed(f):
        f(); t = time.perf_counter()
        for _ in range(n): f()
        return (time.perf_counter() - t) / n
    tw, tf = [], []
    for _ in range(reps): tw.append(timed(whole)); tf.append(timed(forward_only))
    # hardest positive / negative of the batch-hard triplet loss: distances in bf16 (autocast) vs float32, same features
    g = torch.Generator().manual_seed(1)
    f = nn.functional.normalize(torch.randn(256, 2048, generator=g) + 3 * torch.randn(16, 2048, generator=g).repeat_interleave(16, 0), dim=1)
    lab = torch.arange(16).repeat_interleave(16)
    def hardest(d):
        same = lab[:, None] == lab[None]
        return (d.masked_fill(~same, -1e9).argmax(1), d.masked_fill(same, 1e9).argmin(1))
    with autocast('cpu', 'bf16'): d16 = f @ f.T
    p16, n16 = hardest(-d16.float()); p32, n32 = hardest(-(f @ f.T))
    changed = float(((p16 != p32) | (n16 != n32)).float().mean())
    return dict(what=f'ResNet-18 training step, batch {bs} at 128x64, CE + triplet + cluster-memory loss, bf16 autocast on the CPU',
                secs_losses_bf16=statistics.median(tw), secs_losses_fp32=statistics.median(tf),
                ratio_fp32_losses=statistics.median(tf) / statistics.median(tw), reps=reps, steps_per_rep=n,
                triplet_hardest_changed_frac=changed, triplet_what='256 normalised 2048-d features, 16 ids x 16 images; a pair '
                'counts as changed when the hardest positive or negative differs between bf16 and float32 similarities')

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--json', default=str(HERE.parent/'benchmarks'/'engine.json'))
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--old', default='1abd10c', help='the commit whose loader replayed batches within an epoch')
    p.add_argument('--only', default='fresh_draws,loss_precision')
    p.add_argument('--cc-run', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--data', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.cc_run is not None: return print(json.dumps(cc_run(a.cc_run, a.data)))
    out = Path(a.json); res = json.loads(out.read_text()) if out.exists() else {}
    todo = a.only.split(',')
    if 'loss_precision' in todo: res['loss_precision'] = loss_precision(); print(res['loss_precision'], flush=True)
    if 'fresh_draws' in todo: res['fresh_draws'] = fresh_draws([int(s) for s in a.seeds.split(',')], a.old)
    res['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()

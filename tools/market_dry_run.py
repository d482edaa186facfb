"""Paper-setting runs of every method at Market-1501 scale, a few iterations of every stage.

Each method runs from its Market-1501 preset (ResNet-50 at the paper's input size) on synthetic data with Market-1501's
exact counts, in its own process: N training iterations of every stage (2 by default), after the stage's full preparation
(for the unsupervised methods one feature extraction and clustering of all 12,936 training images; PAUL's memory fill of
every image). Per stage it records the preparation's and the iterations' wall time, images per second, peak memory
(resident on the CPU, allocated on a GPU), the cluster count and every iteration's losses. A finished method is skipped
when the same output file is written again.

    python tools/market_dry_run.py [METHOD ...] [--device cpu|cuda] [--iters N] [--amp off|auto] [--out FILE] [--root DIR] [--tiny]

`--tiny` rehearses the same plumbing in seconds: each method's tiny CPU setting on the tiny synthetic sets.

On the CPU the 256-image batches of Cluster Contrast, GCL's stage 1 and camera-aware learning are cut to 64: ResNet-50 at
256x128 needs about 25 GB of activations for 256 images, more than a 24 GB machine has. GCL loads its images in the main process
on the CPU (`num_workers=0`): a forked loader worker shares the trainer's memory copy-on-write, and stage 3 rewrites the
~11 GB its CPU activations occupy, so every live worker ends up holding a copy; with its workers GCL's run was killed for
memory at the start of stage 3. (On a GPU the activations are not in the process's memory.)
"""
import argparse, json, math, os, subprocess, sys, threading, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ORDER = ('verif', 'baseline', 'cluster_contrast', 'paul_pretrain', 'paul', 'camera_aware', 'gcl')
# per method: dataset preset, overrides beyond the paper preset on every device, and on the CPU only
PLAN = {
    'verif': ('market1501', {}, {}),
    'baseline': ('market1501', {}, {}),
    'cluster_contrast': ('market1501', {}, dict(batch_size=64)),
    'paul_pretrain': ('msmt17', {}, {}),
    'paul': ('market1501', {}, {}),
    'camera_aware': ('duke2market', {}, dict(batch_size=64)),
    'gcl': ('market1501', dict(structure='grey'), dict(warmup_batch_size=64, num_workers=0)),
}
NOTES = dict(paul='no stage-1 checkpoint: PatchNet from random weights', camera_aware='labelled source: the MSMT17-scale set',
             gcl='grey structure maps (no meshes rendered)')

def rss_mb() -> float:
    "This process's resident memory in MB (Linux)"
    try:
        for l in open('/proc/self/status'):
            if l.startswith('VmRSS:'): return int(l.split()[1]) / 1024
    except OSError: pass
    return float('nan')

class Peak:
    "The peak memory between two `take()`s: resident memory sampled every 50 ms, or the GPU's allocator peak"
    def __init__(self, cuda:bool):
        self.cuda, self.peak = cuda, rss_mb()
        if not cuda: threading.Thread(target=self._run, daemon=True).start()
    def _run(self):
        while True: self.peak = max(self.peak, rss_mb()); time.sleep(0.05)
    def take(self) -> int:
        if self.cuda:
            import torch
            p = torch.cuda.max_memory_allocated() / 2**20; torch.cuda.reset_peak_memory_stats()
            return round(p)
        p, self.peak = max(self.peak, rss_mb()), rss_mb()
        return round(p)

def datasets(root, tiny=False):
    "The Market-1501-scale target and the MSMT17-scale labelled set (written once, then reused); tiny sets with `tiny`"
    from reid_nb.data.synthetic import make_synthetic_reid
    from reid_nb.data.datasets import get_dataset
    out = {}
    for name, seed in (('market1501', 0), ('msmt17', 1)):
        d = Path(root)/f"{name}-{'tiny' if tiny else 'scale'}"
        make_synthetic_reid(d, preset='tiny' if tiny else name, seed=seed, structure=False, progress=not tiny)
        out[name] = get_dataset('synthetic', d)
    return out

def _n_images(b) -> int:
    "Images in a batch: the first dimension of its first 4-D tensor"
    import torch
    if isinstance(b, torch.Tensor): return math.prod(b.shape[:-3]) if b.ndim >= 4 else 0   # (B, [V,] C, H, W)
    if isinstance(b, dict): b = list(b.values())
    if isinstance(b, (list, tuple)): return next((n for n in map(_n_images, b) if n), 0)
    return 0

def run_one(name, root, device, iters, amp, tiny=False):
    "Run one method in this process and return its record"
    import torch
    from reid_nb.methods.protocol import get_method, configure
    from reid_nb.train import Callback, StopAfter
    m = get_method(name)
    preset, over, cpu_over = PLAN[name]
    fields = m.config.__dataclass_fields__
    weights = {k: None for k in ('pretrained', 'imagenet') if k in fields}   # no ImageNet weights can be downloaded here
    over = {**over, **(cpu_over if device == 'cpu' and not tiny else {})}
    if tiny and m.config.preset_field: over[m.config.preset_field] = m.config.tiny_settings.get(m.config.preset_field, preset)
    over = {'num_workers': 0 if tiny else min(8, os.cpu_count() or 1), **over}   # a plan's num_workers wins
    cfg = configure(m, preset, tiny=tiny, **weights, **over, device=device, amp=amp)
    data = datasets(root, tiny)
    ds = data['msmt17' if name == 'paul_pretrain' else 'market1501']
    extra = dict(source=data['msmt17']) if m.needs_source(cfg) else {}
    peak, stages, cuda = Peak(device.startswith('cuda')), [], device.startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    class Start(Callback):
        order = -1000  # before every callback: a method's own before_fit (PAUL's memory fill, GCL's memory) is preparation
        def before_fit(self):
            sync(); probe.t0, probe.ticks, probe.images, probe.losses = time.time(), [], [], []
            peak.take()

    class Probe(Callback):
        order = 90  # after the method's own callbacks (which prepare the epoch), before StopAfter
        def before_batch(self):
            sync(); self.ticks.append(time.time())
            if len(self.ticks) == 1: self.prep_peak = peak.take()
            self.images.append(_n_images(self.trainer.batch))
        def after_batch(self): self.losses.append({k: round(v, 4) for k, v in self.trainer.out.items()})
        def after_fit(self):
            sync(); t, now = self.trainer, time.time()
            labels = next((c.labels for c in t.cbs if getattr(c, 'labels', None) is not None), None)
            first = self.ticks[0] if self.ticks else now
            steady = now - self.ticks[1] if len(self.ticks) > 1 else float('nan')   # the first iteration warms up
            stage = str(t.run_dir.relative_to(run_root)) if t.run_dir and t.run_dir != run_root else 'main'
            stages.append(dict(stage=stage, prepare_s=round(first - self.t0, 1), prepare_peak_mb=getattr(self, 'prep_peak', None),
                               iterations=len(self.losses), train_s=round(now - first, 2),
                               img_per_s=round(sum(self.images[1:]) / steady, 1) if len(self.ticks) > 1 else None,
                               train_peak_mb=peak.take(), n_clusters=None if labels is None else len(set(labels.tolist()) - {-1}),
                               losses=self.losses))

    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        run_root = Path(tmp)/'run'
        t0 = time.time()
        probe = Probe()
        t = m.trainer(cfg, ds, run_dir=run_root, evaluate=False, progress=False, cbs=[StopAfter(iters), Start(), probe],
                      **extra)
        build_s = time.time() - t0
        t.fit()
    return dict(method=name, preset=preset, device=device, amp=amp, note=NOTES.get(name, ''),
                tiny=tiny, cut_for_cpu={k: [getattr(m.config(**({m.config.preset_field: preset} if m.config.preset_field else {})), k), v]
                                        for k, v in (cpu_over if device == 'cpu' and not tiny else {}).items()},
                backbone=cfg.backbone, input=[cfg.height, cfg.width], train_images=len(ds.train),
                parameters_m=round(sum(p.numel() for p in t.module.parameters()) / 1e6, 2), build_s=round(build_s, 1), stages=stages,
                torch=torch.__version__, threads=torch.get_num_threads(),
                gpu=torch.cuda.get_device_name() if cuda else None)

def parse(argv):
    p = argparse.ArgumentParser(prog='tools/market_dry_run.py', description=__doc__.splitlines()[0])
    p.add_argument('methods', nargs='*', help=f"methods to run (default: all of {', '.join(ORDER)})")
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    p.add_argument('--iters', type=int, default=2, help='training iterations per stage')
    p.add_argument('--amp', default='off', choices=('off', 'auto'), help='precision')
    p.add_argument('--out', type=Path, default=REPO/'benchmarks'/'market_dry_run.json', help='the JSON file (resumed)')
    p.add_argument('--root', type=Path, default=Path.home()/'.cache'/'reid_nb'/'market-scale', help='data folder')
    p.add_argument('--tiny', action='store_true', help="each method's tiny setting on tiny sets (seconds)")
    p.add_argument('--one', choices=ORDER, help=argparse.SUPPRESS)   # internal: run one method in this process
    a = p.parse_args(argv)
    if unknown := [m for m in a.methods if m not in ORDER]: p.error(f"unknown method {unknown[0]!r}; choose from {', '.join(ORDER)}")
    return a

def main(argv):
    a = parse(argv)
    root, device, iters, amp, tiny = a.root, a.device, a.iters, a.amp, a.tiny
    if a.one:
        print('RESULT ' + json.dumps(run_one(a.one, root, device, iters, amp, tiny)))
        return
    out = a.out
    names = a.methods or list(ORDER)
    res = json.loads(out.read_text()) if out.exists() else {}
    if not tiny and not all((root/f'{n}-scale'/'Market-1501-v15.09.15'/'synthetic.json').exists() for n in ('market1501', 'msmt17')):
        t0 = time.time(); datasets(root)
        res['_data'] = dict(seconds=round(time.time() - t0), cpus=os.cpu_count())
    for n in names:
        key = f'{n}@{device}/{amp}'
        if key in res and 'error' not in res[key]: continue
        print(f'== {key}', flush=True)
        load0 = os.getloadavg()[0]
        r = subprocess.run([sys.executable, __file__, '--one', n, '--root', str(root), '--device', device, '--iters', str(iters), '--amp', amp]
                           + (['--tiny'] if tiny else []),
                           capture_output=True, text=True, cwd=REPO)
        line = next((l for l in r.stdout.splitlines() if l.startswith('RESULT ')), None)
        res[key] = json.loads(line[7:]) if line else dict(method=n, device=device, amp=amp, error=(r.stderr or r.stdout)[-3000:])
        res[key]['load_average'] = [round(load0, 1), round(os.getloadavg()[0], 1)]   # above the cores' count: other jobs shared them
        s = res[key].get('stages', [])
        print('   ' + ('ERROR ' + res[key]['error'][-400:] if 'error' in res[key] else
                       '; '.join(f"{x['stage']}: prepare {x['prepare_s']} s, {x['iterations']} it {x['train_s']} s, "
                                 f"peak {x['train_peak_mb']} MB, clusters {x['n_clusters']}, loss {x['losses'][-1].get('loss') if x['losses'] else None}"
                                 for x in s)), flush=True)
        out.parent.mkdir(exist_ok=True); out.write_text(json.dumps(res, indent=1))

if __name__ == '__main__':
    sys.path.insert(0, str(REPO))
    main(sys.argv[1:])

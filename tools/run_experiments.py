#!/usr/bin/env python
"""Controlled experiments on the synthetic data: each method's arms × 3 seeds, cached in benchmarks/experiments/METHOD.json.

  python tools/run_experiments.py baseline     # runs what is missing from the JSON (interrupt and rerun: it resumes)
  python tools/run_experiments.py gcl --seeds 0,1 --threads 1 & python tools/run_experiments.py gcl --seeds 2 --threads 1
                                               # two processes share one JSON, each with its seeds

The data is the demo's: the default synthetic set (seed 0), generated once and cached in ~/.cache/reid_nb/synthetic-demo.
Models are ResNet-18 from random weights at 64x32, the demo's CPU schedules; every arm differs from its control in one thing.
"""
import sys, dataclasses, torch
from pathlib import Path
from reid_nb.cli import demo_datasets, DEMO_MODES
from reid_nb.experiment import run_grid, grid_table

OUT = Path(__file__).resolve().parent.parent/'benchmarks'/'experiments'
THREADS = 2   # torch threads per run (--threads): a run repeats exactly at a fixed count

def baseline():
    "Bag of tricks on the synthetic target: ID loss only, + triplet, + BNNeck"
    from reid_nb.methods.baseline import BaselineConfig, baseline_trainer
    ds, _ = demo_datasets('full', progress=False)
    base = BaselineConfig.tiny(height=64, width=32, interpolation='bicubic', erasing='log', **DEMO_MODES['full']['baseline'])  # as the cached grid ran
    base = dataclasses.replace(base, eval_every=base.epochs, num_workers=0)
    arms = {'ID only': dataclasses.replace(base, tri_weight=0., neck=False),
            'ID + triplet': dataclasses.replace(base, neck=False),
            'ID + triplet + BNNeck': base}
    def train(cfg, seed):
        torch.set_num_threads(THREADS)
        t = baseline_trainer(dataclasses.replace(cfg, seed=seed), ds, device='cpu', progress=False)
        t.fit()
        return {k: v for k, v in t.history[-1].items() if k in ('mAP', 'R1', 'mINP', 'loss', 'time')}
    return arms, train

def cluster_contrast():
    "Cluster Contrast on the synthetic target from random weights: plain clustering, camera-normalised clustering, + hard memory update"
    from reid_nb.methods.cluster_contrast import ClusterContrastConfig, cc_trainer
    ds, _ = demo_datasets('full', progress=False)
    base = ClusterContrastConfig.tiny(height=64, width=32, erasing='log', **DEMO_MODES['full']['cluster_contrast'])  # as the cached grid ran
    base = dataclasses.replace(base, eval_every=1, num_workers=0)
    arms = {'plain clustering': dataclasses.replace(base, cam_norm=False),
            'camera-normalised clustering': base,
            'camera-normalised + hard memory update': dataclasses.replace(base, use_hard=True)}
    keys = ('epoch', 'mAP', 'R1', 'n_clusters', 'n_outliers', 'purity', 'cam_purity', 'loss')
    def train(cfg, seed):
        torch.set_num_threads(THREADS)
        t = cc_trainer(dataclasses.replace(cfg, seed=seed), ds, device='cpu', progress=False)
        t.fit()
        last = t.history[-1]
        return dict({k: last[k] for k in keys if k in last}, history=[{k: r[k] for k in keys if k in r} for r in t.history])
    return arms, train

def camera_aware(cam_shift:float=1.):
    "Camera-aware invariance learning across two synthetic domains (other people, other cameras): source only, + intra, + inter, + mixup"
    import copy, logging
    from reid_nb.data.datasets import get_dataset
    from reid_nb.data.synthetic import make_synthetic_reid
    from reid_nb.methods.camera_aware import CameraAwareConfig, camera_aware_trainer
    root = Path.home()/'.cache'/'reid_nb'/'experiments'/('camera_aware' + (f'_cam_shift{cam_shift:g}' if cam_shift != 1 else ''))
    kw = dict(n_train_ids=40, n_test_ids=30, n_cams=4, imgs_per_cam=2, n_distractors=20, n_junk=5, height=64, width=32, structure=False, progress=False,
              **({'cam_shift': cam_shift} if cam_shift != 1 else {}))   # cam_shift: how far each camera's look departs from neutral
    make_synthetic_reid(root/'src', seed=1, **kw); make_synthetic_reid(root/'tgt', seed=2, **kw)   # reused when already there
    src, tgt = get_dataset('synthetic', root/'src'), get_dataset('synthetic', root/'tgt')
    small = dict(backbone='resnet18', pretrained=None, height=32, width=16, pad=1, batch_size=32, test_batch_size=128, num_workers=0, amp='off',
                 interpolation='bicubic')  # the resize the cached runs used
    base = CameraAwareConfig(setting='cross_domain', epochs=6, lr_step=5, intra_start=1, inter_start=3, mix_start=1, eval_every=6, **small)
    arms = {'source only': dataclasses.replace(base, neighbor_mode='none', mixup=False), '+ intra': dataclasses.replace(base, inter_weight=0., mixup=False),
            '+ inter': dataclasses.replace(base, mixup=False), '+ mixup (full)': base}
    log, pretrained = logging.getLogger('experiment'), {}
    def source_model(seed):
        "The source-trained start of every arm with this seed (trained once per seed)"
        if seed not in pretrained:
            cfg = CameraAwareConfig(setting='single_domain', epochs=15, lr_step=15, eval_every=15, random_erase=False, seed=seed, **small)
            pre = camera_aware_trainer(cfg, src, device='cpu', progress=False, logger=log); pre.fit()
            pretrained[seed] = pre.module
        return copy.deepcopy(pretrained[seed])
    def train(cfg, seed):
        torch.set_num_threads(THREADS)
        t = camera_aware_trainer(dataclasses.replace(cfg, seed=seed), tgt, source=src, device='cpu', progress=False, logger=log,
                                 model=source_model(seed))
        t.fit()
        return {k: v for k, v in t.history[-1].items() if k in ('mAP', 'R1', 'mINP', 'loss')}
    return arms, train

def paul(misalign:float=1., stand_in:bool=False, epochs:int=3):
    "PAUL from a labelled synthetic source A to an unlabelled target B: the full method, a BN-statistics-only control, each loss alone"
    from reid_nb.data.datasets import get_dataset
    from reid_nb.data.samplers import build_loaders
    from reid_nb.data.transforms import build_test_transform
    from reid_nb.evaluate import extract_features
    from reid_nb.experiment import pretrain_synthetic
    from reid_nb.methods.paul import PaulPretrainConfig, PaulConfig, paul_pretrain_trainer, paul_trainer, neighbour_precision
    root = Path.home()/'.cache'/'reid_nb'/'experiments'/('paul' + (f'_misalign{misalign:g}' if misalign != 1 else ''))
    synth = dict(n_train_ids=50, n_test_ids=30, n_cams=4, imgs_per_cam=2, n_distractors=20, n_junk=5, structure=False, progress=False,
                 **({'misalign': misalign} if misalign != 1 else {}))   # misalign: how far each image's body placement strays
    src, tgt = get_dataset('synthetic', root/'A', seed=1, **synth), get_dataset('synthetic', root/'B', seed=2, **synth)
    base = PaulConfig(dataset='synthetic', pretrained='(per seed)', backbone='resnet18', height=64, width=48, batch_size=32, epochs=epochs,
                      eval_every=3, test_batch_size=128, num_workers=0, amp='off', memory_fill='eval', ap='step')
    arms = {'BN statistics only (lr 1e-12)': dataclasses.replace(base, lr=1e-12), 'PAUL (PEDAL + IPFL)': base,
            'PEDAL only': dataclasses.replace(base, ipfl_weight=0.), 'IPFL only': dataclasses.replace(base, pedal_weight=0.)}
    if misalign != 1 or stand_in or epochs != 3: arms = {a: arms[a] for a in list(arms)[:2]}   # other settings: the method against its control
    if epochs > 3:   # PAUL takes ~18,000 steps at lr 1e-4 on Market; here an epoch is 9 steps: larger rates to match lr x steps
        arms.update({f'PAUL, lr {lr:g}': dataclasses.replace(base, lr=lr) for lr in (1e-3, 1e-2)})
    # stage 1 from the synthetic pre-training (the ImageNet stand-in) instead of random weights
    init = str(pretrain_synthetic('resnet18', (64, 32), num_workers=0, progress=True)) if stand_in else None
    def stage1(seed):
        "The supervised pre-training on A for this seed (trained once, kept in the cache)"
        out = root/(f'pre-standin-seed{seed}' if stand_in else f'pre-seed{seed}')
        if not (out/'pretrained.pth').is_file():
            pcfg = PaulPretrainConfig(backbone='resnet18', imagenet=init, height=64, width=48, batch_size=16, epochs=3, milestones_generator=(1, 2),
                                      lr_generator=(0., 1e-5, 0.), milestones_new=(2,), milestones_backbone=(2,), test_batch_size=128,
                                      num_workers=0, amp='off', seed=seed)
            paul_pretrain_trainer(pcfg, src, run_dir=out, device='cpu', progress=False).fit()
        return str(out)
    def precision(model):
        "PEDAL's neighbour precision on B's training images (eval-mode patch features, k = 10), and its chance level"
        dl = build_loaders(test=tgt.train, test_transform=build_test_transform((64, 48), interpolation='bilinear'), batch_size=128,
                           num_workers=0, device='cpu')[1]
        f = extract_features(model, dl, normalize=False, device='cpu', amp='off', progress=False)[0]
        p, chance, _ = neighbour_precision(f.view(len(f), base.n_patches, base.dim), [r.pid for r in tgt.train], k=base.k)
        return round(p.mean().item(), 4), round(chance, 4)
    def train(cfg, seed):
        torch.set_num_threads(THREADS)
        t = paul_trainer(dataclasses.replace(cfg, seed=seed, pretrained=stage1(seed)), tgt, device='cpu', progress=False)
        start = precision(t.module)[0]
        w0 = [p.detach().clone() for p in t.module.parameters() if p.requires_grad]
        t.fit()
        end, chance = precision(t.module)
        moved = sum((p.detach() - q).pow(2).sum() for p, q in zip([p for p in t.module.parameters() if p.requires_grad], w0)) ** .5
        return dict({k: v for k, v in t.history[-1].items() if k in ('mAP', 'R1', 'mINP', 'loss', 'pedal', 'ipfl')},
                    history=[{k: r[k] for k in ('epoch', 'mAP', 'R1', 'loss') if k in r} for r in t.history],
                    nn_precision_start=start, nn_precision=end, nn_chance=chance, threads=THREADS,
                    weight_change=round(float(moved / sum(q.pow(2).sum() for q in w0) ** .5), 6))   # ||w - w0|| / ||w0||, trained weights
    return arms, train

def verif():
    "ID + verification on the demo's synthetic data: ID only, + the release's verification head, + the head on un-normalised features"
    from reid_nb.methods.verif import VerifConfig, verif_trainer, verif_pair_scores
    ds, _ = demo_datasets('full', progress=False)
    base = VerifConfig(backbone='resnet18', pretrained=None, height=64, width=32, pad=3, batch_size=16, epochs=6, iters=25,
                       milestones=(5,), lr=0.01, backbone_lr_mult=1., eval_every=6, test_batch_size=128, num_workers=0, amp='off')
    arms = {'ID only': dataclasses.replace(base, alpha=0.),
            'ID + verification (normalised features, the release)': base,
            'ID + verification (un-normalised features, the paper)': dataclasses.replace(base, verif_input='bn')}
    def train(cfg, seed):
        torch.set_num_threads(THREADS)
        t = verif_trainer(dataclasses.replace(cfg, seed=seed), ds, device='cpu', progress=False)
        t.fit()
        out = {k: v for k, v in t.history[-1].items() if k in ('mAP', 'R1', 'mINP', 'loss', 'loss_id', 'loss_verif', 'acc_verif', 'time')}
        return out if cfg.alpha == 0 else dict(out, **verif_pair_scores(t, cfg, ds.query, ds.gallery))
    return arms, train

def cluster_contrast_ghost_bn():
    "Cluster Contrast (camera-normalised, random weights) at the paper's batch of 256: one BatchNorm over the batch vs ghost BN over 4 x 64"
    arms, train = cluster_contrast()
    base = dataclasses.replace(arms['camera-normalised clustering'], batch_size=256)
    return {'one BatchNorm over 256 images': dataclasses.replace(base, bn_split=None),
            'ghost BatchNorm, 4 x 64 images (the paper on 4 GPUs)': dataclasses.replace(base, bn_split=64)}, train

def cluster_contrast_pretrained():
    "Cluster Contrast as in `cluster_contrast`, from the synthetic pre-training (`pretrain_synthetic`) instead of random weights"
    from reid_nb.experiment import pretrain_synthetic
    arms, train = cluster_contrast()
    w = pretrain_synthetic('resnet18', (64, 32), num_workers=0, progress=True)
    (OUT/'pretrain_synthetic.json').write_text(w.with_suffix('.json').read_text())   # its size, time and accuracy, for the docs
    w = str(w)
    arms = {a: dataclasses.replace(arms[a], pretrained=w) for a in ('plain clustering', 'camera-normalised clustering')}
    return arms, train

def gcl(view_bias:float|None=None):
    "GCL on the synthetic data set with its structure maps: stage 1 alone (Cluster Contrast), stages 2-3 without the novel views, the full method"
    import shutil
    from reid_nb.data.datasets import get_dataset
    from reid_nb.methods.gcl import GCLConfig, gcl_trainer
    root = Path.home()/'.cache'/'reid_nb'/'experiments'/('gcl' + (f'_view_bias{view_bias:g}' if view_bias is not None else ''))
    # the generator's defaults: 100 train ids, 6 cameras, structure maps; view_bias: how few sides each camera sees
    ds = get_dataset('synthetic', root/'data', progress=False, **({} if view_bias is None else {'view_bias': view_bias}))
    base = GCLConfig.tiny(gen_dim=8, n_res=2, mlp_dim=64, dis_dim=16, batch_size=16, warmup_epochs=12, warmup_iters=20, warmup_batch_size=64,
                          warmup_num_instances=4, warmup_eps=0.4, warmup_cam_norm=True, stage2_epochs=4, epochs=6, iters=40, k1=20, k2=6,
                          rho=0.005, cam_norm=True, gen_bn_stats=False, lr_g=5e-4, lr_d=5e-4, sample_every=10, display_size=8,
                          test_batch_size=128, eval_every=1)   # the notebook's CPU run
    arms = {'stage 1 only': ('stage1', base), 'stages 2-3, memory loss on the original views': ('ablation', dataclasses.replace(base, mem_novel_view=False)),
            'full GCL (memory loss on the novel views)': ('full', base)}
    keys, runs = ('epoch', 'mAP', 'R1', 'mINP', 'loss', 'n_clusters', 'purity', 'eps'), {}
    def full(seed):
        "The whole pipeline for this seed, once per process (resumed from its folder when it ran before)"
        if seed not in runs:
            t = gcl_trainer(dataclasses.replace(base, seed=seed), ds, run_dir=root/f'seed{seed}'/'full', device='cpu', progress=False)
            t.fit(resume=True)
            runs[seed] = t
        return runs[seed]
    def result(t, **extra):
        last = t.history[-1]
        return dict({k: last[k] for k in keys if k in last}, history=[{k: r[k] for k in keys if k in r} for r in t.history],
                    l1=[round(s['l1'], 4) for s in t.gcl.samples], threads=THREADS, **extra)
    def train(arm, seed):
        torch.set_num_threads(THREADS)
        kind, cfg = arm
        t = full(seed)
        if kind == 'stage1': return dict(t.metrics['stage1'], threads=THREADS)
        if kind == 'ablation':                          # stage 3 again from the same stage-1 encoder and stage-2 generator
            d = root/f'seed{seed}'/'ablation'
            for s in ('stage1', 'stage2'): shutil.copytree(root/f'seed{seed}'/'full'/s, d/s, dirs_exist_ok=True)
            t = gcl_trainer(dataclasses.replace(cfg, seed=seed), ds, run_dir=d, device='cpu', progress=False)
            t.fit(resume=True)
        return result(t, stage1_mAP=t.metrics['stage1']['mAP'])
    return arms, train

METHODS = dict(gcl_view_bias0_05=lambda: gcl(view_bias=0.05), paul_stand_in=lambda: paul(stand_in=True), paul_stand_in_12ep=lambda: paul(stand_in=True, epochs=12), gcl=gcl, cluster_contrast_ghost_bn=cluster_contrast_ghost_bn, paul_misalign3=lambda: paul(misalign=3.), camera_aware_cam_shift2=lambda: camera_aware(cam_shift=2.), camera_aware_cam_shift0=lambda: camera_aware(cam_shift=0.), cluster_contrast_pretrained=cluster_contrast_pretrained, verif=verif, baseline=baseline, cluster_contrast=cluster_contrast, camera_aware=camera_aware, paul=paul)

if __name__ == '__main__':
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('method', choices=list(METHODS))
    ap.add_argument('--seeds', default='0,1,2', help='comma-separated seeds this process runs (default 0,1,2)')
    ap.add_argument('--threads', type=int, default=THREADS, help=f'torch threads per run (default {THREADS})')
    a = ap.parse_args()
    THREADS, name = a.threads, a.method
    arms, train = METHODS[name]()
    rec = run_grid(arms, train, seeds=tuple(int(x) for x in a.seeds.split(',')), out=OUT/f'{name}.json', progress=True)
    print(grid_table(rec)); print(f"{rec['seconds'] / 60:.1f} min of training")

#!/usr/bin/env python
"""Controlled experiments on the synthetic data: each method's arms × 3 seeds, cached in benchmarks/experiments/METHOD.json.

  python tools/run_experiments.py baseline     # runs what is missing from the JSON (interrupt and rerun: it resumes)

The data is the demo's: the default synthetic set (seed 0), generated once and cached in ~/.cache/reid_nb/synthetic-demo.
Models are ResNet-18 from random weights at 64x32, the demo's CPU schedules; every arm differs from its control in one thing.
"""
import sys, dataclasses, torch
from pathlib import Path
from reid_nb.cli import demo_datasets, DEMO_MODES
from reid_nb.experiment import run_grid, grid_table

OUT = Path(__file__).resolve().parent.parent/'benchmarks'/'experiments'

def baseline():
    "Bag of tricks on the synthetic target: ID loss only, + triplet, + BNNeck"
    from reid_nb.methods.baseline import BaselineConfig, baseline_trainer
    ds, _ = demo_datasets('full', progress=False)
    base = BaselineConfig.tiny(height=64, width=32, **DEMO_MODES['full']['baseline'])
    base = dataclasses.replace(base, eval_every=base.epochs, num_workers=0)
    arms = {'ID only': dataclasses.replace(base, tri_weight=0., neck=False),
            'ID + triplet': dataclasses.replace(base, neck=False),
            'ID + triplet + BNNeck': base}
    def train(cfg, seed):
        torch.set_num_threads(2)
        t = baseline_trainer(dataclasses.replace(cfg, seed=seed), ds, device='cpu', progress=False)
        t.fit()
        return {k: v for k, v in t.history[-1].items() if k in ('mAP', 'R1', 'mINP', 'loss', 'time')}
    return arms, train

METHODS = dict(baseline=baseline)

if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in METHODS: sys.exit(__doc__ + f'\nmethods: {", ".join(METHODS)}')
    name = sys.argv[1]
    arms, train = METHODS[name]()
    rec = run_grid(arms, train, seeds=(0, 1, 2), out=OUT/f'{name}.json', progress=True)
    print(grid_table(rec)); print(f"{rec['seconds'] / 60:.1f} min of training")

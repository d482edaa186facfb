#!/usr/bin/env python
"""Record a `reid_demo` report as benchmarks/demo.json (the numbers the README's demo table is generated from).

  reid_demo --device cpu --out REPORT            # the full demo, timed by this machine's clock
  python tools/record_demo.py REPORT SECONDS     # SECONDS: its wall time
"""
import csv, json, os, platform, sys
from pathlib import Path
import torch

def main(report, seconds):
    rows = list(csv.DictReader(open(Path(report)/'metrics.csv')))
    num = lambda v: round(float(v), 2) if v not in ('', 'nan') else None
    rec = dict(command='reid_demo --device cpu', wall_minutes=round(float(seconds) / 60, 1), cpu_count=os.cpu_count(),
               torch=torch.__version__, python=platform.python_version(),
               header=(Path(report)/'README.md').read_text().split('\n\n')[1],
               rows=[{k: (num(v) if k not in ('model', 'training') else v) for k, v in r.items()} for r in rows])
    out = Path(__file__).resolve().parent.parent/'benchmarks'/'demo.json'
    out.write_text(json.dumps(rec, indent=1) + '\n')
    print(f'{out}: {len(rows)} models, {rec["wall_minutes"]} min')

if __name__ == '__main__':
    if len(sys.argv) != 3: sys.exit(__doc__)
    main(*sys.argv[1:])

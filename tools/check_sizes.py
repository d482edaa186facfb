#!/usr/bin/env python
"""Repository weight: fail when a notebook or one of its figures outgrows its budget.

Budgets: a notebook at most 1.5 MB on disk; one image output at most 100 KB. Figures of photos are drawn as JPEG at
quality 60: `set_matplotlib_formats('jpeg', pil_kwargs={'quality': 60})` in the notebook. A notebook over budget has too
much recorded output: a slow cell that prints a log, a figure drawn as PNG, a table that belongs in benchmarks/*.json.
"""
import base64, json, sys
from pathlib import Path

NOTEBOOK_MB, IMAGE_KB = 1.5, 100

def problems(root):
    out = []
    for p in sorted(Path(root).rglob('*.ipynb')):
        if '.ipynb_checkpoints' in p.parts: continue
        size = p.stat().st_size
        if size > NOTEBOOK_MB * 1e6: out.append(f"{p}: {size / 1e6:.2f} MB (budget {NOTEBOOK_MB} MB)")
        for c in json.loads(p.read_text())['cells']:
            for o in c.get('outputs', []):
                for kind, v in o.get('data', {}).items():
                    if not kind.startswith('image/') or kind == 'image/svg+xml': continue
                    kb = len(base64.b64decode(''.join(v))) / 1e3
                    if kb > IMAGE_KB: out.append(f"{p}, cell {c.get('id')}: a {kind} of {kb:.0f} KB (budget {IMAGE_KB} KB)")
    return out

if __name__ == '__main__':
    found = problems(sys.argv[1] if len(sys.argv) > 1 else 'nbs')
    if found: sys.exit('sizes: ' + '\n       '.join(found))
    nbs = sorted(Path('nbs').rglob('*.ipynb'), key=lambda p: -p.stat().st_size)
    print(f"sizes: every notebook under {NOTEBOOK_MB} MB (largest {nbs[0]}: {nbs[0].stat().st_size / 1e6:.2f} MB), every figure under {IMAGE_KB} KB")

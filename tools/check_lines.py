#!/usr/bin/env python
"""Exported code stays readable: every line of the library at most 120 characters.

Exempt: `_modidx.py` and the `__all__ = [...]` line, both written by nbdev. A long line is mended in its notebook cell
(the message names it), then `nbdev_export`.
"""
import re, sys
from pathlib import Path

MAX = 120

def source_of(lines, i):
    "The notebook and cell of line `i`, from the `# %% ../nbs/NB.ipynb N` marker above it"
    for l in reversed(lines[:i]):
        if m := re.match(r'# %% (\S+\.ipynb) #?(\S+)', l): return f'{Path(m[1]).name}, cell id {m[2]}'
    return '?'

def problems(root='reid_nb'):
    out = []
    for p in sorted(Path(root).rglob('*.py')):
        if p.name == '_modidx.py': continue
        lines = p.read_text().splitlines()
        for i, l in enumerate(lines):
            if len(l) > MAX and not l.startswith('__all__ = '):
                out.append(f'{p}:{i + 1}: {len(l)} characters ({source_of(lines, i)})')
    return out

if __name__ == '__main__':
    found = problems(sys.argv[1] if len(sys.argv) > 1 else 'reid_nb')
    if found: sys.exit(f'lines over {MAX} characters: {len(found)}\n  ' + '\n  '.join(found[:50]))
    print(f'lines: every exported line within {MAX} characters')

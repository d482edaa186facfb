#!/usr/bin/env python
"""The git hooks are nbdev's own (`.pre-commit-config.yaml`), pinned to the nbdev, execnb and fastcore of constraints.txt.

Fails when the config no longer names nbdev's `nbdev_clean` and `nbdev_export` hooks, or when its pins drift from
constraints.txt (pre-commit builds the hooks' environment from them; nbdev 2.4.14 breaks with the newest execnb).
"""
import sys, subprocess
from pathlib import Path
import yaml

def problems(root='.'):
    root = Path(root)
    if subprocess.run(['pre-commit', 'validate-config', str(root / '.pre-commit-config.yaml')]).returncode:
        return ['.pre-commit-config.yaml: pre-commit validate-config failed']
    pins = [l.strip() for l in (root / 'constraints.txt').read_text().splitlines() if l.strip() and not l.startswith('#')]
    pin = {p.split('=')[0].split('>')[0].split('<')[0]: p for p in pins}
    repos = [r for r in yaml.safe_load((root / '.pre-commit-config.yaml').read_text())['repos']
             if r['repo'].rstrip('/').endswith('fastai/nbdev')]
    if not repos: return ['.pre-commit-config.yaml: no hooks from https://github.com/fastai/nbdev']
    out, r = [], repos[0]
    if pin['nbdev'] != f"nbdev=={r['rev']}": out.append(f"nbdev hooks at rev {r['rev']}, constraints.txt pins {pin['nbdev']}")
    hooks = {h['id']: h for h in r['hooks']}
    for hid in ('nbdev_clean', 'nbdev_export'):
        if hid not in hooks: out.append(f'.pre-commit-config.yaml: hook {hid} missing'); continue
        deps = set(hooks[hid].get('additional_dependencies', []))
        for lib in ('execnb', 'fastcore'):
            if pin[lib] not in deps: out.append(f"hook {hid}: additional_dependencies lack {pin[lib]!r} (constraints.txt)")
    return out

if __name__ == '__main__':
    found = problems()
    if found: sys.exit('hooks: ' + '\n       '.join(found))
    print('hooks: nbdev_clean and nbdev_export from fastai/nbdev, pinned as constraints.txt')

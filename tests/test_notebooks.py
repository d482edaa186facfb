"""Run every notebook in nbs/ with nbdev's own test runner (`nbdev.test.test_nb`), one pytest test per notebook.

It keeps nbdev_test's rules: cells flagged with a `tst_flags` flag (`#| slow`, `#| cuda`) are skipped unless named in
$REID_NB_TEST_FLAGS, `#| eval: false` cells, `skip_exec` notebooks and `.notest` folders are skipped. Each notebook
has a time limit ($REID_NB_NB_TIMEOUT seconds, default 600) so a hung cell fails with the notebook's name.

The notebooks share this process (nbdev_test gives each its own): a notebook that re-runs a library cell registers its
own method, dataset or backbone under the library's name. The registries are restored after each notebook, so every
notebook starts from the library's own.
"""
import os, signal
import pytest
import nbdev.test as nbt
from nbdev.config import get_config
from nbdev.doclinks import nbglob

cfg = get_config()
FORCE = os.environ.get('REID_NB_TEST_FLAGS', '').split()
TIMEOUT = int(os.environ.get('REID_NB_NB_TIMEOUT', 600))
NBS = [f.absolute() for f in sorted(nbglob(cfg.nbs_path, as_path=True)) if nbt._keep_file(f, '.notest')]

def _registries():
    "The library's registries, by name, that notebook cells write to, each holding all of the library's own entries"
    import reid_nb.all  # noqa: F401  every module is imported, so the registries hold what the library registers
    from reid_nb.methods.protocol import METHODS, _import_methods
    _import_methods()
    from reid_nb.data.datasets import _DATASETS
    from reid_nb.models.backbones import BACKBONES
    return dict(METHODS=METHODS, DATASETS=_DATASETS, BACKBONES=BACKBONES)

def _too_long(signum, frame): raise TimeoutError(f'notebook ran longer than REID_NB_NB_TIMEOUT={TIMEOUT}s')

@pytest.mark.parametrize('nb', NBS, ids=[str(f.relative_to(cfg.nbs_path.absolute())) for f in NBS])
def test_notebook(nb):
    saved = {k: dict(v) for k, v in _registries().items()}
    old = signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(TIMEOUT)
    try:
        with nbt.working_directory(cfg.nbs_path):
            ok, secs = nbt.test_nb(nb, skip_flags=cfg.tst_flags.split(), force_flags=FORCE, basepath=cfg.config_path)
    finally:
        signal.alarm(0); signal.signal(signal.SIGALRM, old)
        for k, v in _registries().items(): v.clear(); v.update(saved[k])
    assert ok, f'{nb.name} failed: its traceback, "While Executing Cell #N", is in the captured stderr above'

def test_found_notebooks(): assert len(NBS) > 0, f'no notebooks found under {cfg.nbs_path}'

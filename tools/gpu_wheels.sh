#!/usr/bin/env bash
# Download, here, the wheels of what reid_nb needs beyond a CUDA machine's PyTorch image (Python 3.12, x86-64) into .whl/.
# The list: reid_nb's own dependencies and the notebook runner's that such an image lacks (see tools/gpu_check.sh).
set -e
mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
for p in fastcore execnb nbdev ghapi astunparse watchdog asttokens ipython ipython-pygments-lexers traitlets jedi parso \
         prompt-toolkit wcwidth pexpect ptyprocess decorator matplotlib-inline stack-data executing pure-eval faiss-cpu; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl "$p"
done
du -sh .whl

#!/usr/bin/env bash
# The GPU check on a CUDA machine with its own torch, from the repository root: bash tools/gpu_check.sh [gpu_check.py options]
# The pure-Python packages such a machine may lack travel as wheels in .whl/ (made here by `bash tools/gpu_wheels.sh`).
set -o pipefail
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PYTHONPATH PATH=/tmp/site/bin:$PATH
fi
export PYTHONPATH=$PWD:$PYTHONPATH PYTHONUNBUFFERED=1
python3 tools/gpu_check.py "$@"

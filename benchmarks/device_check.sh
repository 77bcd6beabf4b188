#!/usr/bin/env bash
# fpsolve's GPU checks as one command for a lent GPU machine (its python3 has torch with CUDA,
# numpy, scipy and numba, but not pyamg, which travels as a wheel):
#
#   here, once:  mkdir -p .git/info && echo /.whl/ >> .git/info/exclude
#                python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#                  --implementation cp --platform manylinux_2_28_x86_64 -d .whl pyamg==5.4.1
#   there:       bash benchmarks/device_check.sh          (carry: .whl; about 5 minutes)
#
# It runs the device-path tests on CUDA (against the CPU path, 1e-10) and the 3D implicit
# time-stepping benchmark at 128³ (CPU path beside it) and 256³; the files land in $OUT.
set -euo pipefail
OUT=${OUT:-/tmp/fpsolve-device}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest -q -p no:cacheprovider tests/numerics/test_torch_implicit.py 2>&1 \
    | tee "$OUT/tests.log"
python3 benchmarks/bench_implicit.py --paths torch,cpu --device cuda --sizes 128,256 \
    --cpu-sizes 128 --repeat 3 --json "$OUT/implicit_gpu.json" 2>&1 | tee "$OUT/bench.log"

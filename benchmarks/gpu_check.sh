#!/usr/bin/env bash
# The GPU checks in one command, for a bare GPU machine that has torch but cannot install from the network.
#
#   bash benchmarks/gpu_check.sh --prepare   # here, with a network: fetch the wheels it carries into .gpu/
#   bash benchmarks/gpu_check.sh             # there: install .gpu/*.whl, run the checks, write the figures
#
# It runs every test marked `cuda`, the training, sampling and classifier speed benchmarks, and the recipe's
# default (GPU-sized) profile, and writes every figure to $OUT/gpu_check.txt (or ./gpu_check.txt), each under
# the command that printed it. Without CUDA the CUDA parts are skipped and the file says so. Each part has its
# own time limit so that the whole stays within about 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=.gpu
if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$WHEELS"
  # pure-Python packages the GPU machine lacks (its own torch, numpy, scikit-learn, scipy, pandas, matplotlib,
  # pytest, hypothesis and joblib are used as they are)
  python -m pip download --no-deps --only-binary=:all: -d "$WHEELS" mlxtend imbalanced-learn sklearn-compat threadpoolctl
  ls -l "$WHEELS"
  exit 0
fi
export NO_ALBUMENTATIONS_UPDATE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${OUT:-.}"; mkdir -p "$out"; report="$out/gpu_check.txt"; : > "$report"
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  python -m pip install --no-deps --no-index --quiet "$WHEELS"/*.whl || echo "wheel install failed" >> "$report"
fi
python - >> "$report" <<'PY'
import platform, torch
print(f"machine: {platform.machine()}, torch {torch.__version__}, CUDA {torch.cuda.is_available()}"
      + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
PY
cuda=$(python -c "import torch; print(int(torch.cuda.is_available()))")
status=0
run() {  # run LIMIT_SECONDS COMMAND...: the command and its output go into the report
  local limit=$1; shift
  echo; echo "\$ $*" ; local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tail -n 40
  local rc=${PIPESTATUS[0]}
  echo "(exit $rc, $((SECONDS - t0)) s)"
  [ "$rc" -eq 0 ] || status=1
} >> "$report"
run 240 python -m pytest -q -m cuda -p no:cacheprovider --no-header -rs tests
if [ "$cuda" = 1 ]; then
  run 60 python benchmarks/train_speed.py --device cuda --steps 300 --batch-size 32
  run 60 python benchmarks/train_speed.py --device cuda --steps 300 --batch-size 32 --architecture warp
  run 60 python benchmarks/train_speed.py --device cuda --steps 300
  run 60 python benchmarks/sample_speed.py --device cuda --n 1000000 --batch-size 65536
  run 60 python benchmarks/classifier_speed.py --device cuda
  run 330 python recipes/mnist_augment.py --device cuda --out "$out/recipe"
  [ -f "$out/recipe/summary.md" ] && cat "$out/recipe/summary.md" >> "$report"
else
  echo "no CUDA device: the speed benchmarks and the recipe's GPU profile were skipped" >> "$report"
fi
cat "$report"
exit $status

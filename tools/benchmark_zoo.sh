#!/usr/bin/env bash
# Time the model zoo (checkpoints/metafile.yml) for its latency columns: each shipped file deployed and as ONNX
# Runtime runs its export, batch 1 at 384x512, one thread pinned to core 1, on a BCCD test image of tests/data;
# three reports, each timing every model. Run it with nothing else on the machine, then tools/model_zoo.py --update.
#   bash tools/benchmark_zoo.sh [OUT_PREFIX]      (default docs/model_zoo/benchmark: _run1.json ... _run3.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
OUT="${1:-docs/model_zoo/benchmark}"
mkdir -p "$(dirname "$OUT")"
read -r -a MODELS < <("$PY" tools/model_zoo.py --benchmark-args)
for run in 1 2 3; do
  taskset -c 1 "$PY" tools/benchmark.py --device cpu --threads 1 --parts detector "${MODELS[@]}" \
    --sizes 384x512 --batch-sizes 1 --modes inference --repeats 10 --warmup 2 --keep-freed-memory --onnxruntime \
    --image tests/data/bccd/BCCD/JPEGImages/BloodImage_00011.jpg \
    --out "${OUT}_run$run.json" > "${OUT}_run$run.txt"
  echo "[zoo] ${OUT}_run$run.json"
done

#!/usr/bin/env bash
# The README's main job, offline on CPU: make the demo data if absent, train RetinaNet-GhostNet-GhostFPN on it,
# evaluate COCO bbox mAP on its val split, and say where everything is.
#   bash tools/demo.sh            (after `make setup`; `make demo` does both)
# The data goes to data/demo (the config's data_root); WORK_DIR (default work_dirs/demo) can be overridden. A second run resumes
# from the last checkpoint in WORK_DIR instead of starting again, so an interrupted demo continues.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
# torch/oneDNN pick AVX-512 kernels where the CPU has them, which changes the demo figures: use the AVX2 ones everywhere
export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
CONFIG=configs/demo/retinanet_ghostnet_ghostpan_1xb16-48e_demo.py
WORK_DIR="${WORK_DIR:-work_dirs/demo}"
start=$(date +%s)

echo "[demo] 1/3 demo data in data/demo"
"$PY" tools/make_demo_data.py --out-dir data/demo

echo "[demo] 2/3 training $CONFIG on CPU (progress every 10 iterations; about 8 minutes on 2 cores)"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --resume

CHECKPOINT="$(cat "$WORK_DIR/last_checkpoint")"
echo "[demo] 3/3 evaluating $CHECKPOINT on the val split (COCO bbox mAP)"
mkdir -p "$WORK_DIR/test"
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test" --out "$WORK_DIR/test/predictions.pkl" \
  | tee "$WORK_DIR/test/test.log"
grep "^metrics:" "$WORK_DIR/test/test.log" > "$WORK_DIR/test/metrics.txt"

echo "[demo] done in $(( $(date +%s) - start )) s"
echo "[demo]   checkpoint:  $CHECKPOINT"
echo "[demo]   train logs:  $WORK_DIR/<timestamp>/ (text log, vis_data/scalars.json)"
echo "[demo]   metrics:     $WORK_DIR/test/metrics.txt and $WORK_DIR/test/<timestamp>/"
echo "[demo]   predictions: $WORK_DIR/test/predictions.pkl"

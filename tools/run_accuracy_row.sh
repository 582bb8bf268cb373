#!/usr/bin/env bash
# One row of the BCCD accuracy study (docs/accuracy.md): train CONFIG from scratch with SEED, keep the best
# checkpoint by val bbox mAP, evaluate it on the test split, and copy the small result files (training log,
# scalars, test metrics, wall times) into docs/accuracy/runs/<config name>_seed<SEED>/, with the test metrics of
# the best checkpoint's float16 weights (float16_test_metrics.json). The weights themselves stay in the work dir
# (<work dir>/published/<config name>.pth and metafile.yml: tools/publish_weights.py); only the model zoo's are
# committed (publish them into checkpoints/ with tools/publish_weights.py: docs/development.md).
# A row that was stopped (e.g. at the end of a working session) continues from its last checkpoint when the same
# command is run again; its training time is then the sum over the starts of the work kept
# (mmdet_ghostnet/engine/training_record.py).
#   bash tools/run_accuracy_row.sh configs/bccd/retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py 0
# Environment: PY (default .venv/bin/python), WORK_ROOT (default work_dirs/bccd), BCCD_ROOT (default data/bccd/),
# RESULTS_ROOT (default docs/accuracy/runs),
# CFG_OPTIONS (more --cfg-options for training and testing, space-separated).
# The study ran each row on one core with one thread: taskset -c 0 env OMP_NUM_THREADS=1 bash tools/...
# run.json records the threads and whether glibc kept freed memory (train.py and test.py do by default;
# KEEP_FREED_MEMORY=0 runs them with --no-keep-freed-memory), since both change the training time (not the losses,
# which stay bit-identical for the allocator setting: docs/benchmarks.md "Training speed").
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="$1"
SEED="${2:-0}"
PY="${PY:-.venv/bin/python}"
NAME="$(basename "$CONFIG" .py)_seed$SEED"
WORK_DIR="${WORK_ROOT:-work_dirs/bccd}/$NAME"
RESULTS="${RESULTS_ROOT:-docs/accuracy/runs}/$NAME"

ALLOCATOR=()
[ "${KEEP_FREED_MEMORY:-1}" = 0 ] && ALLOCATOR=(--no-keep-freed-memory)

"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --resume "${ALLOCATOR[@]}" \
  --cfg-options "randomness.seed=$SEED" ${CFG_OPTIONS:-}

BEST="$(ls "$WORK_DIR"/best_coco_bbox_mAP_epoch_*.pth | tail -n 1)"
mkdir -p "$WORK_DIR/test"
start=$(date +%s)
"$PY" tools/test.py "$CONFIG" "$BEST" --work-dir "$WORK_DIR/test" "${ALLOCATOR[@]}" \
  --cfg-options "randomness.seed=$SEED" ${CFG_OPTIONS:-} | tee "$WORK_DIR/test/test.log"
test_s=$(( $(date +%s) - start ))

mkdir -p "$RESULTS"
read -r train_s starts < <("$PY" -m mmdet_ghostnet.engine.training_record "$WORK_DIR" --out "$RESULTS")
TEST_RUN="$(ls -d "$WORK_DIR"/test/2*/ | tail -n 1)"
cp "$TEST_RUN"/*.json "$RESULTS/test_metrics.json"
cp "$TEST_RUN"/*.log "$RESULTS/test.log"
printf '{"config": "%s", "seed": %s, "best_checkpoint": "%s", "train_wall_s": %s, "train_starts": %s, "test_wall_s": %s, "threads": "%s", "keep_freed_memory": %s, "date": "%s"}\n' \
  "$CONFIG" "$SEED" "$(basename "$BEST")" "$train_s" "$starts" "$test_s" "${OMP_NUM_THREADS:-default}" \
  "$([ "${KEEP_FREED_MEMORY:-1}" != 0 ] || [ "${MALLOC_MMAP_MAX_:-}" = 0 ] && echo true || echo false)" "$(date -u +%F)" \
  > "$RESULTS/run.json"

"$PY" tools/publish_weights.py "$CONFIG" "$BEST" --metrics "$RESULTS/test_metrics.json" --out-dir "$WORK_DIR/published"
mkdir -p "$WORK_DIR/test_float16"
"$PY" tools/test.py "$CONFIG" "$WORK_DIR/published/$(basename "$CONFIG" .py).pth" --work-dir "$WORK_DIR/test_float16" \
  "${ALLOCATOR[@]}" --cfg-options "randomness.seed=$SEED" ${CFG_OPTIONS:-} > "$WORK_DIR/test_float16/test.log"
cp "$(ls -d "$WORK_DIR"/test_float16/2*/ | tail -n 1)"/*.json "$RESULTS/float16_test_metrics.json"
echo "[row] $NAME: train ${train_s}s, test ${test_s}s, results in $RESULTS"

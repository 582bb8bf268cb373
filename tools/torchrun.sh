#!/usr/bin/env bash
# Shared launcher of dist_train.sh and dist_test.sh: run tools/SCRIPT under torchrun with NPROC processes per node.
#   bash tools/torchrun.sh SCRIPT NPROC [script arguments]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT from the environment; PYTHON picks the interpreter.
set -euo pipefail
TOOLS="$(cd "$(dirname "$0")" && pwd)"
SCRIPT=$1
NPROC=$2
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$TOOLS/$SCRIPT" "${@:3}"

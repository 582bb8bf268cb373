#!/usr/bin/env bash
# Distributed training with torchrun, as MMDetection's tools/dist_train.sh:
#   bash tools/dist_train.sh CONFIG NPROC_PER_NODE [tools/train.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT from the environment. Without CUDA the gloo backend is used.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: bash $0 CONFIG NPROC_PER_NODE [tools/train.py options]" >&2
  exit 2
fi
exec bash "$(dirname "$0")/torchrun.sh" train.py "$2" "$1" --launcher pytorch "${@:3}"

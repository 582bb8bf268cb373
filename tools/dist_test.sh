#!/usr/bin/env bash
# Distributed testing with torchrun, as MMDetection's tools/dist_test.sh:
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC_PER_NODE [tools/test.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT from the environment. Without CUDA the gloo backend is used.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: bash $0 CONFIG CHECKPOINT NPROC_PER_NODE [tools/test.py options]" >&2
  exit 2
fi
exec bash "$(dirname "$0")/torchrun.sh" test.py "$3" "$1" "$2" --launcher pytorch "${@:4}"

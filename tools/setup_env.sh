#!/usr/bin/env bash
# Build the development environment inside the checkout (.venv), offline-friendly and idempotent.
#
#   bash tools/setup_env.sh          # create or update .venv
#
# mmcv 2.1.0 ships no wheel for this stack, so it is compiled once with its CPU ops and the wheel is cached
# outside the repository, keyed by the torch and Python versions:
#   ${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}/mmcv-2.1.0/torch<ver>-py<ver>/
# A second set-up reuses it and takes seconds. Override the interpreter with PYTHON=..., the venv with VENV=...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
MMCV_VERSION="2.1.0"
CACHE_ROOT="${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}"

step() { CURRENT_STEP="$1"; echo "[setup] $1"; }
fail() { echo "[setup] FAILED at step '${CURRENT_STEP:-start}' (exit $1). Scroll up for the failing command's output." >&2; }
trap 'fail $?' ERR

# The stamp records what the venv was built from; when it matches, set-up is a no-op.
STAMP_INPUT="$(cat "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh"; echo "$PYTHON $TORCH_VERSION $MMCV_VERSION")"
STAMP_HASH="$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -d' ' -f1)"
if [[ -f "$VENV/.setup-stamp" && "$(cat "$VENV/.setup-stamp")" == "$STAMP_HASH" ]]; then
  echo "[setup] environment $VENV is up to date"
  exit 0
fi

step "create virtual environment $VENV"
"$PYTHON" -m venv "$VENV"
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip install --disable-pip-version-check -q)

step "install torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION and build tools"
# setuptools < 70 keeps pkg_resources, which mmcv's build and mmengine's 'mmdet::' config lookup need.
"${PIP[@]}" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" wheel ninja numpy
# torch declares a newer setuptools than mmcv's build can use; pip only warns about this second install.
"${PIP[@]}" "setuptools<70"

TORCH_TAG="$("$VPY" -c 'import torch; print(torch.__version__.split("+")[0])')"
PY_TAG="$("$VPY" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"
WHEEL_DIR="$CACHE_ROOT/mmcv-$MMCV_VERSION/torch$TORCH_TAG-py$PY_TAG"

if ! compgen -G "$WHEEL_DIR/mmcv-$MMCV_VERSION-*.whl" >/dev/null; then
  step "compile mmcv $MMCV_VERSION with CPU ops (about 10-12 minutes on 2 cores; cached in $WHEEL_DIR)"
  BUILD="$(mktemp -d)"
  "$VPY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$BUILD" "mmcv==$MMCV_VERSION"
  tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0's setup.py asks for C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
  (cd "$BUILD/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$VPY" -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation -w "$BUILD/dist" .)
  mkdir -p "$WHEEL_DIR"
  # Move into place last so that an interrupted build never leaves a half-written wheel in the cache.
  WHEEL="$(ls "$BUILD"/dist/mmcv-*.whl)"
  cp "$WHEEL" "$WHEEL_DIR/.partial" && mv "$WHEEL_DIR/.partial" "$WHEEL_DIR/$(basename "$WHEEL")"
  rm -rf "$BUILD"
else
  step "reuse cached mmcv wheel from $WHEEL_DIR"
fi

step "install mmcv, mmengine, mmdet, pycocotools and mmdet-ghostnet with its test and deploy extras"
"${PIP[@]}" "$WHEEL_DIR"/mmcv-$MMCV_VERSION-*.whl "mmengine==0.10.7" "mmdet==3.3.0" pycocotools \
  -e "$ROOT[test,deploy]"
# Resolving torch's requirements above upgrades setuptools again; mmengine needs pkg_resources at run time.
"${PIP[@]}" "setuptools<70"
echo "[setup] (pip's note that torch wants setuptools>=77 is expected and harmless: torch runs without it)"

step "check that the compiled ops, the plugin and ONNX Runtime import"
"$VPY" -c 'import pkg_resources, mmcv.ops, mmdet, mmdet_ghostnet, onnxruntime; from mmcv.ops import nms
print("[setup] mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "onnxruntime", onnxruntime.__version__, "ok")'

echo "$STAMP_HASH" > "$VENV/.setup-stamp"
echo "[setup] done: activate with 'source $VENV/bin/activate'"

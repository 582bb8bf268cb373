#!/usr/bin/env bash
# Build the development environment inside the checkout (.venv), offline-friendly and idempotent.
#
#   bash tools/setup_env.sh          # create or update .venv
#   bash tools/setup_env.sh --plan   # print how mmcv would be built (CPU or CUDA ops) and why; installs nothing
#
# Every package of the environment is pinned in requirements/constraints.txt: the set-up installs exactly that list
# (--no-deps, so nothing unpinned enters), then checks that the installed set equals the list and runs pip check.
#
# mmcv 2.1.0 ships no wheel for this stack, so it is compiled once and the wheel is cached outside the repository:
#   ${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}/mmcv-2.1.0/<key>/
# <key> is torch<ver>-py<ver> for the CPU ops, torch<ver>-py<ver>-cu<nvcc ver>-sm<archs> for the CUDA ops.
# CUDA or CPU ops: MMCV_CUDA=1 forces the CUDA ops, MMCV_CUDA=0 the CPU ops; unset, the CUDA ops are built where
# `nvidia-smi -L` lists a GPU (then an nvcc of torch's CUDA major version is needed: PATH or CUDA_HOME), else the CPU
# ops. A second set-up reuses the wheel and takes seconds. Override the interpreter with PYTHON=..., the venv with VENV=...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
CACHE_ROOT="${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}"
# The CUDA version the pinned torch wheel was built with (torch.version.cuda; its cuda-toolkit pin says the same).
# Checked after torch is installed; the --plan decision uses it, so it needs no torch.
TORCH_CUDA="13.0"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
PLAN_ONLY=0
case "${1:-}" in
  "") ;;
  --plan) PLAN_ONLY=1 ;;
  -h|--help) usage; exit 0 ;;
  *) echo "[setup] unknown argument '$1' (allowed: --plan, --help)" >&2; exit 2 ;;
esac

pin() {  # pin NAME: the version requirements/constraints.txt pins NAME to
  local v
  v="$(sed -n "s/^$1==\([^[:space:]#]*\).*/\1/p" "$CONSTRAINTS" | head -n 1)"
  [[ -n "$v" ]] || { echo "[setup] $CONSTRAINTS pins no '$1'" >&2; exit 2; }
  echo "$v"
}
[[ -f "$CONSTRAINTS" ]] || { echo "[setup] missing $CONSTRAINTS" >&2; exit 2; }
TORCH_VERSION="$(pin torch)"
TORCHVISION_VERSION="$(pin torchvision)"
MMCV_VERSION="$(pin mmcv)"

# ---- the mmcv decision: CPU ops, CUDA ops, or stop with what to do -------------------------------------------------
major() { echo "${1%%.*}"; }
GPUS=""
if command -v nvidia-smi >/dev/null 2>&1; then
  GPUS="$(nvidia-smi -L 2>/dev/null | grep '^GPU [0-9]' || true)"
  GPU_WHY="nvidia-smi -L lists no GPU"
else
  GPU_WHY="no nvidia-smi on PATH"
fi
N_GPUS=0; [[ -n "$GPUS" ]] && N_GPUS="$(printf '%s\n' "$GPUS" | wc -l)"
[[ -n "$GPUS" ]] && GPU_WHY="nvidia-smi -L lists $N_GPUS GPU(s): $(printf '%s\n' "$GPUS" | head -n 1 | sed 's/ (UUID.*//')"

NVCC=""; NVCC_CUDA=""; NVCC_WHY=""
if [[ -n "${CUDA_HOME:-}" ]]; then
  if [[ -x "$CUDA_HOME/bin/nvcc" ]]; then NVCC="$CUDA_HOME/bin/nvcc"; else NVCC_WHY="CUDA_HOME=$CUDA_HOME has no bin/nvcc"; fi
else
  NVCC="$(command -v nvcc || true)"
  [[ -n "$NVCC" ]] || NVCC_WHY="no nvcc on PATH and CUDA_HOME is unset"
fi
if [[ -n "$NVCC" ]]; then
  NVCC_CUDA="$("$NVCC" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1 || true)"
  [[ -n "$NVCC_CUDA" ]] || NVCC_WHY="$NVCC --version prints no CUDA release"
fi

TOOLKIT_FIX="install the CUDA toolkit $TORCH_CUDA (nvcc $(major "$TORCH_CUDA").x, the CUDA torch $TORCH_VERSION is built with) and put its bin/ on PATH or set CUDA_HOME to it, then run the set-up again"
CPU_FIX="or build mmcv with its CPU ops only: MMCV_CUDA=0 bash tools/setup_env.sh"
WANT_CUDA=0
case "${MMCV_CUDA-}" in
  "") if [[ -n "$GPUS" ]]; then WANT_CUDA=1; WHY="$GPU_WHY"; else WHY="no GPU ($GPU_WHY); MMCV_CUDA=1 forces the CUDA ops"; fi ;;
  0) WHY="MMCV_CUDA=0 asks for the CPU ops ($GPU_WHY)" ;;
  1) WANT_CUDA=1; WHY="MMCV_CUDA=1 asks for the CUDA ops ($GPU_WHY)" ;;
  *) echo "[setup] MMCV_CUDA='$MMCV_CUDA' is not valid: allowed values are 0 (mmcv's CPU ops), 1 (its CUDA ops) or unset (CUDA ops where nvidia-smi -L lists a GPU)" >&2
     exit 2 ;;
esac

if [[ "$WANT_CUDA" == 0 && -n "$NVCC_CUDA" ]]; then WHY="$WHY; nvcc $NVCC (CUDA $NVCC_CUDA) is not used"; fi
MMCV_OPS=cpu; STOP=""; ARCHS=""; CUDA_HOME_BUILD=""
if [[ "$WANT_CUDA" == 1 ]]; then
  if [[ -z "$NVCC_CUDA" ]]; then
    STOP="torch $TORCH_VERSION is a CUDA $TORCH_CUDA build but there is no usable nvcc ($NVCC_WHY): $TOOLKIT_FIX; $CPU_FIX"
  elif [[ "$(major "$NVCC_CUDA")" != "$(major "$TORCH_CUDA")" ]]; then
    STOP="nvcc $NVCC is CUDA $NVCC_CUDA, but torch $TORCH_VERSION is a CUDA $TORCH_CUDA build (the major versions must match): $TOOLKIT_FIX; $CPU_FIX"
  else
    MMCV_OPS=cuda
    WHY="$WHY; torch $TORCH_VERSION is a CUDA $TORCH_CUDA build and nvcc $NVCC is CUDA $NVCC_CUDA, which matches"
    # The GPU architectures to compile for: TORCH_CUDA_ARCH_LIST, else those of the GPUs present.
    ARCHS="${TORCH_CUDA_ARCH_LIST:-}"
    if [[ -z "$ARCHS" && -n "$GPUS" ]]; then
      ARCHS="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | grep '^[0-9][0-9]*\.[0-9]' \
        | sort -u | tr '\n' ';' | sed 's/;$//' || true)"
    fi
    if [[ -z "$ARCHS" ]]; then
      MMCV_OPS=cpu
      STOP="the GPU architectures to compile for are unknown (no GPU answers nvidia-smi --query-gpu=compute_cap): set TORCH_CUDA_ARCH_LIST, e.g. TORCH_CUDA_ARCH_LIST=9.0 for an H100; $CPU_FIX"
    fi
    # torch's extension builder finds the toolkit through CUDA_HOME; nvcc may be a wrapper outside it.
    CUDA_HOME_BUILD="${CUDA_HOME:-$(dirname "$(dirname "$(readlink -f "$NVCC")")")}"
    if [[ ! -f "$CUDA_HOME_BUILD/include/cuda_runtime.h" ]]; then
      for d in "/usr/local/cuda-$NVCC_CUDA" /usr/local/cuda; do
        [[ -f "$d/include/cuda_runtime.h" ]] && { CUDA_HOME_BUILD="$d"; break; }
      done
    fi
  fi
fi

PY_TAG="$("$PYTHON" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")' 2>/dev/null || echo "?")"
KEY="torch$TORCH_VERSION-py$PY_TAG"
if [[ "$MMCV_OPS" == cuda ]]; then
  KEY="$KEY-cu${NVCC_CUDA//./}-sm$(printf '%s' "$ARCHS" | sed 's/+PTX/ptx/g; s/\.//g; s/[^0-9a-z]\{1,\}/_/g')"
fi
WHEEL_DIR="$CACHE_ROOT/mmcv-$MMCV_VERSION/$KEY"
CACHED=0; compgen -G "$WHEEL_DIR/mmcv-$MMCV_VERSION-*.whl" >/dev/null && CACHED=1

if [[ -n "$STOP" ]]; then
  echo "[setup] plan: stop, mmcv $MMCV_VERSION cannot be built as asked"
  echo "[setup]   why: $WHY"
  echo "[setup]   what to do: $STOP"
  exit 3
fi
if [[ "$MMCV_OPS" == cuda ]]; then
  BUILD_WHAT="CUDA ops (FORCE_CUDA=1, CUDA $NVCC_CUDA, GPU architectures $ARCHS, CUDA_HOME=$CUDA_HOME_BUILD)"
  BUILD_TIME="longer than the CPU ops' 12-35 minutes on 2 cores; MAX_JOBS sets the parallel compiles"
else
  BUILD_WHAT="CPU ops"
  BUILD_TIME="about 12-35 minutes on 2 cores"
fi

# The stamp records what the venv was built from; when it matches, set-up is a no-op.
STAMP_INPUT="$(cat "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh" "$CONSTRAINTS"; echo "$PYTHON $KEY")"
STAMP_HASH="$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -d' ' -f1)"
UP_TO_DATE=0
[[ -f "$VENV/.setup-stamp" && "$(cat "$VENV/.setup-stamp")" == "$STAMP_HASH" ]] && UP_TO_DATE=1

if [[ "$PLAN_ONLY" == 1 ]]; then
  echo "[setup] plan: mmcv $MMCV_VERSION with its $BUILD_WHAT"
  echo "[setup]   why: $WHY"
  if [[ "$CACHED" == 1 ]]; then echo "[setup]   wheel: cached in $WHEEL_DIR"
  else echo "[setup]   wheel: not cached, compiled into $WHEEL_DIR ($BUILD_TIME)"; fi
  echo "[setup]   packages: $(grep -c '^[A-Za-z0-9]' "$CONSTRAINTS") pinned in $CONSTRAINTS, installed with --no-deps"
  if [[ "$UP_TO_DATE" == 1 ]]; then echo "[setup]   venv: $VENV is up to date (stamp $STAMP_HASH)"
  else echo "[setup]   venv: $VENV is built or updated (stamp $STAMP_HASH)"; fi
  exit 0
fi
if [[ "$UP_TO_DATE" == 1 ]]; then
  echo "[setup] environment $VENV is up to date"
  exit 0
fi

step() { CURRENT_STEP="$1"; echo "[setup] $1"; }
fail() { echo "[setup] FAILED at step '${CURRENT_STEP:-start}' (exit $1). Scroll up for the failing command's output." >&2; }
trap 'fail $?' ERR

echo "[setup] mmcv $MMCV_VERSION with its $BUILD_WHAT: $WHY"
step "create virtual environment $VENV"
"$PYTHON" -m venv "$VENV"
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip install --disable-pip-version-check -q)

step "install the $(grep -c '^[A-Za-z0-9]' "$CONSTRAINTS") packages pinned in requirements/constraints.txt (torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION, ...)"
"${PIP[@]}" "pip==$(pin pip)"
# --no-deps: exactly the listed versions, nothing that a dependency would pull in besides; pip check below verifies
# that the list is complete. mmcv comes from the compiled wheel, not from the index.
"${PIP[@]}" --no-deps -r <(grep -v -e '^mmcv==' -e '^pip==' "$CONSTRAINTS")
TORCH_CUDA_HAVE="$("$VPY" -c 'import torch; print(torch.version.cuda)')"
if [[ "$TORCH_CUDA_HAVE" != "$TORCH_CUDA" ]]; then
  echo "[setup] torch $TORCH_VERSION here is built with CUDA $TORCH_CUDA_HAVE, but this script says $TORCH_CUDA: update TORCH_CUDA in tools/setup_env.sh" >&2
  false
fi

if [[ "$CACHED" == 0 ]]; then
  step "compile mmcv $MMCV_VERSION with its $BUILD_WHAT ($BUILD_TIME; cached in $WHEEL_DIR)"
  BUILD="$(mktemp -d)"
  "$VPY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$BUILD" "mmcv==$MMCV_VERSION"
  tar -xzf "$BUILD/mmcv-$MMCV_VERSION.tar.gz" -C "$BUILD"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0's setup.py asks for C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
  if [[ "$MMCV_OPS" == cuda ]]; then
    (cd "$BUILD/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=1 CUDA_HOME="$CUDA_HOME_BUILD" \
      TORCH_CUDA_ARCH_LIST="$ARCHS" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "$VPY" -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation -w "$BUILD/dist" .)
  else
    # No visible GPU during the build: mmcv's setup.py builds the CUDA ops wherever torch.cuda.is_available().
    (cd "$BUILD/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES="" \
      MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "$VPY" -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation -w "$BUILD/dist" .)
  fi
  mkdir -p "$WHEEL_DIR"
  # Move into place last so that an interrupted build never leaves a half-written wheel in the cache.
  WHEEL="$(ls "$BUILD"/dist/mmcv-*.whl)"
  cp "$WHEEL" "$WHEEL_DIR/.partial" && mv "$WHEEL_DIR/.partial" "$WHEEL_DIR/$(basename "$WHEEL")"
  rm -rf "$BUILD"
else
  step "reuse cached mmcv wheel from $WHEEL_DIR"
fi

step "install mmcv from the wheel and mmdet-ghostnet (editable)"
"${PIP[@]}" --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"

step "check that the installed packages are exactly the pinned ones"
"$VPY" - "$CONSTRAINTS" <<'EOF'
import importlib.metadata as md, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
pins = {}
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, version = line.partition("==")
        pins[norm(name)] = version
have = {norm(d.metadata["Name"]): d.version for d in md.distributions()}
have.pop("mmdet-ghostnet", None)
bad = [f"{n} {v} is not pinned" for n, v in sorted(have.items()) if n not in pins]
bad += [f"{n} is {have[n]}, pinned {v}" for n, v in sorted(pins.items()) if n in have and have[n] != v]
bad += [f"{n}=={v} is pinned but not installed" for n, v in sorted(pins.items()) if n not in have]
if bad:
    sys.exit("[setup] the environment differs from requirements/constraints.txt (uninstall what is not pinned, "
             "or delete the venv and run the set-up again):\n  " + "\n  ".join(bad))
print(f"[setup] {len(pins)} packages, each at its pinned version")
EOF
# pip check must find nothing but torch's declared setuptools>=77: mmcv's build and mmengine's 'mmdet::' config
# lookup need setuptools < 70 (pkg_resources), and torch runs without the newer one.
CHECK="$("$VPY" -m pip check 2>&1 || true)"
OTHER="$(printf '%s\n' "$CHECK" | grep -v -e '^No broken requirements found' -e "^torch $TORCH_VERSION has requirement setuptools>=77.0.3, but you have setuptools $(pin setuptools)\.\$" || true)"
if [[ -n "$OTHER" ]]; then
  printf '[setup] pip check:\n%s\n' "$CHECK" >&2
  false
fi
echo "[setup] pip check: no broken requirements besides torch's setuptools>=77 (expected: torch runs with $(pin setuptools))"

step "check that the compiled ops, the plugin and ONNX Runtime import"
MMCV_OPS="$MMCV_OPS" "$VPY" -c 'import os, pkg_resources, mmcv.ops, mmdet, mmdet_ghostnet, onnxruntime; from mmcv.ops import nms
cuda = mmcv.ops.get_compiling_cuda_version()
assert os.environ["MMCV_OPS"] == "cpu" or cuda != "not available", "mmcv was compiled without its CUDA ops"
print("[setup] mmcv", mmcv.__version__, "(CUDA ops: " + cuda + ")", "mmdet", mmdet.__version__, "onnxruntime", onnxruntime.__version__, "ok")'

echo "$STAMP_HASH" > "$VENV/.setup-stamp"
echo "[setup] done: activate with 'source $VENV/bin/activate'"

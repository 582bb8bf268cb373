#!/usr/bin/env bash
# Build the development environment inside the checkout (.venv), offline-friendly and idempotent.
#
#   bash tools/setup_env.sh          # create or update .venv
#
# Every package of the environment is pinned in requirements/constraints.txt: the set-up installs exactly that list
# (--no-deps, so nothing unpinned enters), then checks that the installed set equals the list and runs pip check.
#
# mmcv 2.1.0 ships no wheel for this stack, so it is compiled once with its CPU ops and the wheel is cached
# outside the repository, keyed by the torch and Python versions:
#   ${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}/mmcv-2.1.0/torch<ver>-py<ver>/
# A second set-up reuses it and takes seconds. Override the interpreter with PYTHON=..., the venv with VENV=...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
CACHE_ROOT="${MMDET_GHOSTNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-ghostnet}"
# The CUDA version the pinned torch wheel was built with (torch.version.cuda; its cuda-toolkit pin says the same).
TORCH_CUDA="13.0"

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

PY_TAG="$("$PYTHON" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")' 2>/dev/null || echo "?")"
KEY="torch$TORCH_VERSION-py$PY_TAG"
WHEEL_DIR="$CACHE_ROOT/mmcv-$MMCV_VERSION/$KEY"
CACHED=0; compgen -G "$WHEEL_DIR/mmcv-$MMCV_VERSION-*.whl" >/dev/null && CACHED=1

BUILD_WHAT="CPU ops"
BUILD_TIME="about 12-35 minutes on 2 cores"

# The stamp records what the venv was built from; when it matches, set-up is a no-op.
STAMP_INPUT="$(cat "$ROOT/pyproject.toml" "$ROOT/tools/setup_env.sh" "$CONSTRAINTS"; echo "$PYTHON $KEY")"
STAMP_HASH="$(printf '%s' "$STAMP_INPUT" | sha256sum | cut -d' ' -f1)"
if [[ -f "$VENV/.setup-stamp" && "$(cat "$VENV/.setup-stamp")" == "$STAMP_HASH" ]]; then
  echo "[setup] environment $VENV is up to date"
  exit 0
fi

step() { CURRENT_STEP="$1"; echo "[setup] $1"; }
fail() { echo "[setup] FAILED at step '${CURRENT_STEP:-start}' (exit $1). Scroll up for the failing command's output." >&2; }
trap 'fail $?' ERR

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
"$VPY" -c 'import pkg_resources, mmcv.ops, mmdet, mmdet_ghostnet, onnxruntime; from mmcv.ops import nms
print("[setup] mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "onnxruntime", onnxruntime.__version__, "ok")'

echo "$STAMP_HASH" > "$VENV/.setup-stamp"
echo "[setup] done: activate with 'source $VENV/bin/activate'"

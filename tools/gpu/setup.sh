#!/usr/bin/env bash
# Prepares an offline CUDA build of singerid (`--features cuda`; issue 17, docs/gpu.md).
#
# burn-cuda (cubecl-cuda 0.11) links LLVM through cubecl-llvm, whose build dependency
# tracel-llvm-bundler 23.1.0-4 would download LLVM from GitHub. Its build script skips the
# download when `<data dir>/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed` exists and
# then asks `<that dir>/bin/llvm-config --link-static` what to link. The PyPI wheels
# mlc-llvm-static(-extra-targets) 23.1.1.post0 carry static LLVM 23.1 with the NVPTX target,
# its headers and such an llvm-config; this script installs them into a cache folder and
# points the bundler's directory at them. At run time burn-cuda also needs libdevice.10.bc
# (from the nvidia-cuda-nvcc-cu12 wheel, found through CUDA_PATH) and the driver's libcuda.
#
# Idempotent: a second run changes nothing. Nothing here touches the default CPU build.
#
# Usage (repository root):
#   tools/gpu/setup.sh                       # installs, then prints the build command
#   source "$(tools/gpu/setup.sh --env)"     # the environment for building and running
#   CARGO_TARGET_DIR=target/cuda cargo build --release -p singerid-cli --features cuda
#
# Settings (environment): SINGERID_GPU_SDK (default ~/.cache/singerid/gpu-sdk),
# CUDARC_CUDA_VERSION (default: the driver's, from nvidia-smi, else 12080 = CUDA 12.8),
# PYTHON (default python3).
set -euo pipefail

BUNDLER_VERSION=23.1.0-4          # tracel-llvm-bundler in Cargo.lock
WHEEL_VERSION=23.1.1.post0        # mlc-llvm-static wheels with LLVM 23.1 (NVPTX included)
NVCC_WHEEL="nvidia-cuda-nvcc-cu12==12.8.93"
SDK=${SINGERID_GPU_SDK:-${XDG_CACHE_HOME:-$HOME/.cache}/singerid/gpu-sdk}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
BUNDLER_DIR="$DATA/tracel/tracel-llvm-$BUNDLER_VERSION"
PYTHON=${PYTHON:-python3}
ENV_FILE="$SDK/env.sh"

if [[ "${1:-}" == "--env" ]]; then
  [[ -f "$ENV_FILE" ]] || { echo "run tools/gpu/setup.sh first" >&2; exit 1; }
  echo "$ENV_FILE"
  exit 0
fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

step() { echo "== $*" >&2; }

# 1. Static LLVM with NVPTX, from PyPI (about 90 MB of wheels).
if [[ ! -x "$SDK/llvm/mlc_llvm_static/static/bin/llvm-config" ]]; then
  step "installing mlc-llvm-static $WHEEL_VERSION into $SDK/llvm"
  "$PYTHON" -m pip install --quiet --no-deps --target "$SDK/llvm.partial" \
    "mlc-llvm-static==$WHEEL_VERSION" "mlc-llvm-static-extra-targets==$WHEEL_VERSION"
  rm -rf "$SDK/llvm"
  mv "$SDK/llvm.partial" "$SDK/llvm"
fi
STATIC="$SDK/llvm/mlc_llvm_static/static"
chmod +x "$STATIC/bin/"* 2>/dev/null || true
"$STATIC/bin/llvm-config" --components | tr ' ' '\n' | grep -qx nvptxcodegen \
  || { echo "the LLVM in $STATIC has no NVPTX target" >&2; exit 1; }

# 2. The bundler's directory -> that LLVM, marked installed.
if [[ -e "$BUNDLER_DIR" && ! -L "$BUNDLER_DIR" ]]; then
  echo "$BUNDLER_DIR exists and is not this script's link; move it away first" >&2
  exit 1
fi
if [[ "$(readlink "$BUNDLER_DIR" 2>/dev/null)" != "$STATIC" ]]; then
  step "linking $BUNDLER_DIR -> $STATIC"
  mkdir -p "$(dirname "$BUNDLER_DIR")"
  ln -sfn "$STATIC" "$BUNDLER_DIR"
fi
touch "$BUNDLER_DIR/.tracel-llvm-installed"

# 3. libdevice for run time (about 0.5 MB of the nvcc wheel is used).
if [[ ! -f "$SDK/cuda/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc" ]]; then
  step "installing $NVCC_WHEEL into $SDK/cuda (for libdevice.10.bc)"
  "$PYTHON" -m pip install --quiet --no-deps --target "$SDK/cuda.partial" "$NVCC_WHEEL"
  rm -rf "$SDK/cuda"
  mv "$SDK/cuda.partial" "$SDK/cuda"
fi

# 4. The environment: CUDA_PATH for libdevice; the CUDA version cudarc binds to.
version=${CUDARC_CUDA_VERSION:-}
if [[ -z "$version" ]] && command -v nvidia-smi >/dev/null; then
  v=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -1)
  [[ -n "$v" ]] && version=$(printf '%d%03d' ${v% *} $(( ${v#* } * 10 )))
fi
version=${version:-12080}
cat > "$ENV_FILE" <<ENV
# Written by tools/gpu/setup.sh: the environment for \`cargo build --features cuda\` and its binary.
export CUDA_PATH="$SDK/cuda/nvidia/cuda_nvcc"
export CUDARC_CUDA_VERSION="$version"
ENV
step "ready (CUDA $version). Build with:"
echo "  source $ENV_FILE && CARGO_TARGET_DIR=target/cuda cargo build --release -p singerid-cli --features cuda" >&2

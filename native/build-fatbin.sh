#!/usr/bin/env bash
# native/build-fatbin.sh OUT_DIR — compile every native/*.cu into one fatbin, OUT_DIR/kdrec.fatbin:
# SASS for sm_80 (A100) and sm_90 (H100/H200) plus compute_90 PTX that newer GPUs JIT-compile.
# The Maven build runs this in generate-resources, so the fatbin lands in the jar at
# /kdrec/native/kdrec.fatbin, where kdrec.gpu.Cuda loads it with cuModuleLoadData.
#
# nvcc is looked for on the PATH, then in $CUDA_HOME/bin, then /usr/local/cuda/bin. Without it the
# script says so and exits 0: the CPU build goes on and the CUDA backend reports itself unavailable.
# The family files are compiled as one translation unit (a generated file that #includes them all),
# so each keeps its device helpers in its own namespace and its kernels extern "C" kdrec_<family>_*.
# Up to date (fatbin newer than every source) means no compile. The fatbin is written to a temp
# file and renamed, so an interrupted build leaves no half-written fatbin behind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:?usage: native/build-fatbin.sh OUT_DIR}"
out="$out_dir/kdrec.fatbin"

nvcc=""
for c in "$(command -v nvcc 2>/dev/null || true)" "${CUDA_HOME:+$CUDA_HOME/bin/nvcc}" /usr/local/cuda/bin/nvcc; do
  if [ -n "$c" ] && [ -x "$c" ]; then nvcc="$c"; break; fi
done
if [ -z "$nvcc" ]; then
  echo "native: nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin); building without CUDA kernels"
  rm -f "$out"
  exit 0
fi

shopt -s nullglob
sources=("$here"/*.cu)
headers=("$here"/*.cuh)
if [ ${#sources[@]} -eq 0 ]; then echo "native: no .cu sources"; rm -f "$out"; exit 0; fi
if [ -f "$out" ] && [ -z "$(find "${sources[@]}" "${headers[@]}" "$0" -newer "$out" -print -quit)" ]; then
  exit 0
fi

mkdir -p "$out_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unity="$work/kdrec_all.cu"
for s in "${sources[@]}"; do echo "#include \"$s\""; done > "$unity"
echo "native: $("$nvcc" --version | tail -n 1 | sed 's/^Build //') compiling ${#sources[@]} CUDA sources into $out"
# --no-compress keeps kernel names readable in the fatbin (CudaProbeTest checks every launched name is there).
"$nvcc" -fatbin -O3 -std=c++17 -I"$here" --threads 2 -Werror all-warnings --no-compress \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -o "$work/kdrec.fatbin" "$unity"
mv -f "$work/kdrec.fatbin" "$out.tmp" && mv -f "$out.tmp" "$out"

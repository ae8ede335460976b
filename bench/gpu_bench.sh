#!/usr/bin/env bash
# kdrec's CUDA kernels and PyTorch CUDA on the same shapes, in one run, and their ratios:
# GEMM NN/NT/TN (kdrec GFLOP/s as % of torch.matmul, TF32 off) and fused score->top-100 (speedup over
# torch.topk(torch.matmul(U, I^T), 100); and over kdrec's block-merge selection, timed in the same process), full-softmax CE forward + backward against torch's, and HSTU's
# pointwise attention forward + backward against the torch composition. See jmh/kdrec/bench/GpuBench.java,
# GpuCeBench.java, GpuAttentionBench.java, bench/torch_gpu.py, torch_gpu_ce.py and torch_gpu_attention.py.
# Usage: bench/gpu_bench.sh [reps] [warmup]. Without an NVIDIA GPU it says so in one line and exits 0.
#        bench/gpu_bench.sh --log FILE: only the ratios, from a log holding both programs' lines (e.g. the
#        bench.log that bench/gpu_check.sh writes on the GPU machine, which has no Maven to build with).
set -euo pipefail
cd "$(dirname "$0")/.."
ratios() {  # joins "torch ..." and "kdrec ..." lines on "<what> <shape>": the text between prefix and median_ms=
  awk '
  function key(   s) { s = $0; sub(/^[a-z]+ /, "", s); sub(/ median_ms=.*/, "", s); return s }
  function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
  /^torch (gemm|topk|attention) / { tms[key()] = field("median_ms"); tgf[key()] = field("gflops") }
  /^kdrec (gemm|topk|attention) / { order[++n] = key(); kms[key()] = field("median_ms"); kgf[key()] = field("gflops") }
  /^kdrec topk_block / { b = key(); sub(/^topk_block/, "topk", b); bms[b] = field("median_ms") }
  END {
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (!(k in tms)) { printf "%s: kdrec %s ms (no torch timing)\n", k, kms[k]; continue }
      if (k ~ /^gemm /) printf "%s: kdrec %.1f GFLOP/s = %.0f%% of torch (%.1f)\n", k, kgf[k], 100 * kgf[k] / tgf[k], tgf[k]
      else if (k ~ /^attention /) printf "%s: kdrec fwd+bwd %.3f ms, torch %.3f ms, speedup %.2fx\n", k, kms[k], tms[k], tms[k] / kms[k]
      else {
        printf "%s: kdrec fused %.3f ms, torch matmul+topk %.3f ms, speedup %.2fx", k, kms[k], tms[k], tms[k] / kms[k]
        if (k in bms) printf " (block-merge selection %.3f ms: %.2fx)", bms[k], bms[k] / kms[k]
        printf "\n"
      }
    }
  }'
}
usage="usage: bench/gpu_bench.sh [reps=20] [warmup=5] | bench/gpu_bench.sh --log FILE"
case "${1:-}" in -h|--help) echo "$usage" >&2; exit 2 ;; esac
if [ "${1:-}" = --log ]; then
  [ -f "${2:-}" ] || { echo "gpu_bench: --log needs a log file, got '${2:-}'" >&2; echo "$usage" >&2; exit 2; }
  ratios < "$2"; exit 0
fi
[ $# -le 2 ] || { echo "gpu_bench: at most 2 arguments, got $#" >&2; echo "$usage" >&2; exit 2; }
for a in "${1:-20}" "${2:-5}"; do
  case "$a" in ''|*[!0-9]*) echo "gpu_bench: reps and warmup are non-negative integers, got '$a'" >&2; echo "$usage" >&2; exit 2 ;; esac
done
[ "${1:-20}" -ge 1 ] || { echo "gpu_bench: reps must be >= 1" >&2; echo "$usage" >&2; exit 2; }
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_bench: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to measure"
  exit 0
fi
. scripts/jdk.sh
kdrec_find_jdk
reps=${1:-20}; warmup=${2:-5}
[ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh native -path jmh/results -prune -o -newer target/benchmarks.jar -print -quit)" ] \
  || ./build -q -Pjmh -DskipTests package >&2
py=""
for c in /usr/bin/python3 python3; do
  if command -v "$c" >/dev/null && "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
torch_out=$("${py:-python3}" bench/torch_gpu.py "$reps" "$warmup")
echo "$torch_out"
kd_out=$("$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "target/benchmarks.jar:target/lib/*" kdrec.bench.GpuBench "$reps" "$warmup" 2> >(grep -v '^WARNING: Using incubator' >&2))
echo "$kd_out"
printf '%s\n%s\n' "$torch_out" "$kd_out" | ratios
# Full-softmax CE forward + backward (the JCuda jars are not in benchmarks.jar: target/lib holds them).
"$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "target/benchmarks.jar:target/lib/*" kdrec.bench.GpuCeBench "$reps" "$warmup" 2> >(grep -v '^WARNING: Using incubator' >&2)
"${py:-python3}" bench/torch_gpu_ce.py "$reps" "$warmup"
# HSTU's pointwise attention, forward + backward, and its ratio to the torch composition
att_kd=$("$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "target/benchmarks.jar:target/lib/*" kdrec.bench.GpuAttentionBench "$reps" "$warmup" 2> >(grep -v '^WARNING: Using incubator' >&2))
att_torch=$("${py:-python3}" bench/torch_gpu_attention.py "$reps" "$warmup")
printf '%s\n%s\n' "$att_torch" "$att_kd"
printf '%s\n%s\n' "$att_torch" "$att_kd" | ratios

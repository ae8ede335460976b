#!/usr/bin/env bash
# One training step of kdrec and of PyTorch CPU on the same problem, in one run, and their ratio.
# See bench/torch_step.py for the step. Usage: bench/peer_step.sh [steps] [warmup] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
kdrec_find_jdk
usage="usage: bench/peer_step.sh [steps=60] [warmup=40] [threads=2]"
for a in "$@"; do
  case "$a" in
    -h|--help) echo "$usage" >&2; exit 2 ;;
    *[!0-9]*|'') echo "peer_step: arguments are non-negative integers, got '$a'" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
[ $# -le 3 ] || { echo "peer_step: at most 3 arguments, got $#" >&2; echo "$usage" >&2; exit 2; }
[ "${1:-60}" -ge 1 ] && [ "${3:-2}" -ge 1 ] || { echo "peer_step: steps and threads must be >= 1" >&2; echo "$usage" >&2; exit 2; }
steps=${1:-60}; warmup=${2:-40}; threads=${3:-2}
[ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh -path jmh/results -prune -o -newer target/benchmarks.jar -print -quit)" ] \
  || ./build -q -Pjmh -DskipTests package >&2
py=""
for c in /usr/bin/python3 python3; do
  if command -v "$c" >/dev/null && "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
if [ -n "$py" ]; then torch_out=$("$py" bench/torch_step.py "$steps" 20 "$threads"); else torch_out=$(python3 bench/torch_step.py); fi
echo "$torch_out"
kd_out=$("$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -Dkdrec.threads="$threads" -cp target/benchmarks.jar kdrec.bench.PeerStep "$steps" "$warmup" 2> >(grep -v '^WARNING: Using incubator' >&2))
echo "$kd_out"
t=$(echo "$torch_out" | sed -n 's/^torch_step_ms median=\([0-9.]*\).*/\1/p')
k=$(echo "$kd_out" | sed -n 's/^kdrec_step_ms median=\([0-9.]*\).*/\1/p')
if [ -n "$t" ] && [ -n "$k" ]; then
  awk -v t="$t" -v k="$k" 'BEGIN { printf "peer step (median ms): pytorch %.2f, kdrec %.2f, pytorch/kdrec = %.2fx\n", t, k, t / k }'
else
  echo "peer step: kdrec ${k:-?} ms (no PyTorch timing)"
fi

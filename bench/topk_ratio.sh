#!/usr/bin/env bash
# Fused score -> top-K against GEMM NT alone and GEMM + select, interleaved in one process (kdrec.bench.TopKRatio):
# per-round ratios for a loaded box.
# Usage: bench/topk_ratio.sh [rounds=15] [threads=2] [m=2048] [n=41000] [d=64] [k=100]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main TopKRatio "$@"

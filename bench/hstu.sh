#!/usr/bin/env bash
# HSTU training throughput (sequences/s) of the teacher (8 blocks), the student (1 block) and the
# student under RCE-KD, on the Markov sequential generator.
# Usage: bench/hstu.sh [data=markov:...] [epochs=3] [teacher_blocks=8] [student_blocks=1] [dim=64 heads=4 max_len=100 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main HstuBench "$@"

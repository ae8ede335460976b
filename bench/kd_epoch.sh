#!/usr/bin/env bash
# One distillation epoch vs one plain BPR epoch of the same student (MF d=20) on a Gowalla-sized
# synthetic set with an MF d=300 teacher. Usage: bench/kd_epoch.sh [method (rcekd)] [epochs (4)] [preset (gowalla), - for none] [key=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main KdEpochBench "$@"

#!/usr/bin/env bash
# Seconds for one MF-BPR epoch and one full evaluation pass on a Gowalla-sized synthetic set
# (30k users, 41k items, ~810k train interactions). Usage: bench/train_epoch.sh [dim] [epochs] [model] [lazyAdam]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main EpochBench "$@"

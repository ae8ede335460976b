#!/usr/bin/env bash
# One FreqD step (KD forward + backward, users + positive + negative items) on a Gowalla-sized
# synthetic set at LightGCN-teacher scale, split into closure / projector / filter / distance, for the
# batch's 1-hop-closure path and the authors' full-table path.
# Usage: bench/freqd_step.sh [d_t=2000] [steps=4] [paths=closure,full] [freqd key=value ...]
# Memory: the full-table path projects all 41k item rows through 5 experts and keeps every
# intermediate and gradient of the three calls in off-heap scratch: peak RSS was 11 GB at d_t=300
# (2 threads); it grows about linearly with d_t, so the full path at d_t=2000 needs a large-memory
# machine (run `bench/freqd_step.sh 2000 4 closure` alone otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main FreqdStepBench "$@"

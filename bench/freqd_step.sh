#!/usr/bin/env bash
# One FreqD step (KD forward + backward, users + positive + negative items) on a Gowalla-sized
# synthetic set at LightGCN-teacher scale, split into closure / projector / filter / distance, for the
# batch's 1-hop-closure path and the authors' full-table path.
# Usage: bench/freqd_step.sh [d_t=2000] [steps=4] [paths=closure,full] [freqd key=value ...]
# (a path written closure/composed or full/composed runs the pre-fusion projector as a baseline).
# Memory: the projector (5 experts d_s -> d_t -> d_t) is one op (ExpertMlp) that keeps only its output
# and recomputes its hidden layer per row chunk in backward, and the filter's temporaries are released,
# so a call keeps about 4 (rows x d_t) floats on the full path (projector and filter outputs and their
# gradients; rows = 41k items) and 2 on the closure path. Measured (2 threads, -Xmx8g): scratch
# high-water 1.2 GB (closure) / 4.0 GB (full) at d_t=2000, peak RSS 10.0 GiB for both paths in one run
# (scratch's first-step growth, the teacher model and tables 1.1 GB, a Java heap that ParallelGC grows
# to ~3 GB on GEMM-store garbage). The composed projector kept ~50 (rows x d_t) buffers per call:
# 8.2 GB of scratch and 11.7 GiB RSS already at d_t=300, so d_t=2000 was killed for memory.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-main.sh
kdrec_bench_main FreqdStepBench "$@"

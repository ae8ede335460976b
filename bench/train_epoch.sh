#!/usr/bin/env bash
# Seconds for one MF-BPR epoch and one full evaluation pass on a Gowalla-sized synthetic set
# (30k users, 41k items, ~810k train interactions). Usage: bench/train_epoch.sh [dim] [epochs] [model] [lazyAdam]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
kdrec_find_jdk
[ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh -newer target/benchmarks.jar -print -quit)" ] \
  || ./build -q -Pjmh -DskipTests package >&2
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx8g \
  -cp target/benchmarks.jar kdrec.bench.EpochBench "$@" 2> >(grep -v '^WARNING: Using incubator' >&2)

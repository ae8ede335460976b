#!/usr/bin/env bash
# One distillation epoch vs one plain BPR epoch of the same student (MF d=20) on a Gowalla-sized
# synthetic set with an MF d=300 teacher. Usage: bench/kd_epoch.sh [method=rcekd] [epochs=4] [preset=gowalla] [key=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
kdrec_find_jdk
[ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh -newer target/benchmarks.jar -print -quit)" ] \
  || ./build -q -Pjmh -DskipTests package >&2
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx8g \
  -cp target/benchmarks.jar kdrec.bench.KdEpochBench "$@" 2> >(grep -v '^WARNING: Using incubator' >&2)

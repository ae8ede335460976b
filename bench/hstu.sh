#!/usr/bin/env bash
# HSTU training throughput (sequences/s) of the teacher (8 blocks), the student (1 block) and the
# student under RCE-KD, on the Markov sequential generator.
# Usage: bench/hstu.sh [data=markov:...] [epochs=3] [teacher_blocks=8] [student_blocks=1] [dim=64 heads=4 max_len=100 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/jdk.sh
kdrec_find_jdk
[ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh -newer target/benchmarks.jar -print -quit)" ] \
  || ./build -q -Pjmh -DskipTests package >&2
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx8g \
  -cp target/benchmarks.jar kdrec.bench.HstuBench "$@" 2> >(grep -v '^WARNING: Using incubator' >&2)

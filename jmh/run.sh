#!/usr/bin/env bash
# jmh/run.sh [REGEX]  —  build the benchmarks jar, run JMH, print a markdown report.
#
# REGEX selects benchmarks (JMH syntax, default: all). PeakBench (the FMA peak the report's "% peak"
# column divides by) is added to any selection unless JMH_PEAK=0.
# Environment overrides (defaults in brackets):
#   JMH_FORKS [2]  JMH_WARMUP_ITERS [3]  JMH_WARMUP_TIME [1s]  JMH_ITERS [5]  JMH_TIME [1s]
#   JMH_ARGS  extra JMH arguments, e.g. JMH_ARGS="-p threads=2 -p shape=1024x4000x64"
#   JMH_SKIP_BUILD=1  reuse target/benchmarks.jar
# Output: jmh/results/<timestamp>.json (raw JMH) and jmh/results/<timestamp>.md (the table, also on stdout).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
wanted="${1:-.*}"
regex="$wanted"
if [ "${JMH_PEAK:-1}" != 0 ] && [ "$regex" != ".*" ]; then regex="(${regex})|PeakBench"; fi

if [ "${JMH_SKIP_BUILD:-0}" != 1 ]; then
  ./build -q -Pjmh -DskipTests package
fi
. scripts/jdk.sh
kdrec_find_jdk

# a selection that matches nothing fails here, before PeakBench runs and result files are made
listed="$("$JAVA_HOME/bin/java" -jar target/benchmarks.jar -l "$wanted" 2>/dev/null || true)"
if [ "$(printf '%s\n' "$listed" | sed -n '2,$p' | grep -c .)" = 0 ]; then
  echo "jmh/run.sh: no benchmark matches '$wanted' (list them: $JAVA_HOME/bin/java -jar target/benchmarks.jar -l)" >&2
  exit 2
fi

mkdir -p jmh/results
ts="$(date -u +%Y%m%dT%H%M%SZ)"
json="jmh/results/$ts.json"
md="jmh/results/$ts.md"

# shellcheck disable=SC2086  # JMH_ARGS is meant to split into words
"$JAVA_HOME/bin/java" -jar target/benchmarks.jar "$regex" \
  -f "${JMH_FORKS:-2}" -wi "${JMH_WARMUP_ITERS:-3}" -w "${JMH_WARMUP_TIME:-1s}" \
  -i "${JMH_ITERS:-5}" -r "${JMH_TIME:-1s}" -rf json -rff "$json" ${JMH_ARGS:-} >&2

# the report loads the bench classes for their FlopCount, some of which touch the Vector API
"$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector -cp target/benchmarks.jar kdrec.bench.Report "$json" 2>/dev/null > "$md"
cat "$md"
echo "(saved $json and $md)" >&2

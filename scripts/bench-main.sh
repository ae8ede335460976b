# Sourced by the bench/*.sh scripts: kdrec_bench_main CLASS [args...] builds target/benchmarks.jar when
# any source is newer, then runs kdrec.bench.CLASS's main with the JVM flags every kdrec JVM needs
# (the JDK's one-line incubator warning filtered out of stderr).
kdrec_bench_main() {
  local cls="$1"; shift
  . scripts/jdk.sh
  kdrec_find_jdk
  [ -f target/benchmarks.jar ] && [ -z "$(find kernels engine jmh -path jmh/results -prune -o -newer target/benchmarks.jar -print -quit)" ] \
    || ./build -q -Pjmh -DskipTests package >&2
  exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
    ${KDREC_BENCH_JAVA_OPTS:--Xmx8g} -cp target/benchmarks.jar "kdrec.bench.$cls" "$@" 2> >(grep -v '^WARNING: Using incubator' >&2)
}

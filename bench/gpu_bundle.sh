#!/usr/bin/env bash
# bench/gpu_bundle.sh — pack what the GPU machine needs for kdrec's GPU tests and benchmarks into
# .gpu/kdrec-gpu.tar.xz (git-ignored). That machine has CUDA, nvcc and PyTorch but no JDK and no
# Maven, and takes at most 64 MiB of files, so the bundle holds: a jlink'd Java runtime (java.base,
# the Vector API, java.logging, jdk.unsupported, java.management; ~45 MB unpacked), kdrec's classes
# with the CUDA fatbin, the test classes, the JCuda and JUnit jars and the GPU benchmark mains.
# Run it here (needs nvcc for the fatbin), then on the device: bench/gpu_check.sh with `.gpu` carried.
set -euo pipefail
[ $# -eq 0 ] || { echo "usage: bench/gpu_bundle.sh (no arguments; it writes .gpu/kdrec-gpu.tar.xz)" >&2; exit 2; }
cd "$(dirname "$0")/.."
. scripts/jdk.sh
kdrec_find_jdk
./build -q test-compile
[ -f target/classes/kdrec/native/kdrec.fatbin ] \
  || { echo "gpu_bundle: target/classes/kdrec/native/kdrec.fatbin is missing; the build needs nvcc" >&2; exit 1; }
stage=target/gpu-bundle
rm -rf "$stage" && mkdir -p "$stage"
cp -r target/classes "$stage/classes"
cp -r target/test-classes "$stage/test-classes"
./build -q dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$stage/lib" \
  -DincludeGroupIds=org.jcuda,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,it.unimi.dsi,me.tongfei,org.jline,com.google.code.gson,org.yaml,info.picocli
# The GPU benchmark mains need only kdrec's classes and JCuda, not the JMH jar (34 MB).
mkdir -p "$stage/bench"
# plus the KD-epoch bench (GPU vs CPU RCE-KD epoch) and EpochBench, whose median it uses: plain mains too
# and the launch-overhead bench (package kdrec.gpu: it switches Cuda's launch mode)
# and HstuBench (HSTU training throughput, run on the device with negatives per batch and per position)
# (BenchArgs: the argument checks those mains share)
mapfile -t benches < <(ls jmh/kdrec/bench/Gpu*.java jmh/kdrec/bench/KdEpochBench.java jmh/kdrec/bench/EpochBench.java \
  jmh/kdrec/bench/HstuBench.java jmh/kdrec/bench/BenchArgs.java jmh/kdrec/gpu/*.java 2>/dev/null || true)
if [ ${#benches[@]} -gt 0 ]; then
  "$JAVA_HOME/bin/javac" --add-modules=jdk.incubator.vector -nowarn \
    -cp "target/classes:$stage/lib/*" -d "$stage/bench" "${benches[@]}"
fi
# The training path (--device cuda tests, KdEpochBench) needs fastutil, whose jar is 24 MB: keep only the
# static closure (jdeps) of the fastutil classes that kdrec's classes reference, ~1 MB, so the bundle stays
# well under the device machine's 64 MiB.
fu_jar=$(realpath "$stage"/lib/fastutil-*.jar)
fu_dir=$(mktemp -d)
(cd "$fu_dir" && "$JAVA_HOME/bin/jar" xf "$fu_jar")
"$JAVA_HOME/bin/jdeps" -verbose:class -filter:none "$fu_dir" > "$fu_dir.edges"
"$JAVA_HOME/bin/jdeps" --multi-release 25 -verbose:class -filter:none -cp "$stage/lib/*" "$stage/classes" "$stage/test-classes" "$stage/bench" > "$fu_dir.seeds"
python3 - "$fu_dir" <<'PY'
import re, sys, os
root = sys.argv[1]
edge = re.compile(r'^\s+(\S+)\s+->\s+(it\.unimi\.dsi\.fastutil\.\S+)')
deps = {}
for line in open(root + '.edges'):
    m = edge.match(line)
    if m: deps.setdefault(m.group(1), set()).add(m.group(2))
todo = [m.group(2) for m in map(edge.match, open(root + '.seeds')) if m]
keep = set()
while todo:
    c = todo.pop()
    if c in keep: continue
    keep.add(c)
    todo.extend(deps.get(c, ()))
with open(root + '.keep', 'w') as f:
    for c in sorted(keep):
        path = c.replace('.', '/') + '.class'
        if os.path.exists(os.path.join(root, path)): f.write(path + '\n')
print(f"gpu_bundle: fastutil trimmed to {len(keep)} classes")
PY
(cd "$fu_dir" && "$JAVA_HOME/bin/jar" cf "$fu_jar.min" @"$fu_dir.keep") && mv -f "$fu_jar.min" "$fu_jar"
rm -rf "$fu_dir" "$fu_dir.edges" "$fu_dir.seeds" "$fu_dir.keep"
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,jdk.unsupported,java.management,jdk.management \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$stage/jre" 2> >(grep -v 'incubator' >&2)
mkdir -p .gpu
tar -C "$stage" -cJf .gpu/kdrec-gpu.tar.xz.tmp . && mv -f .gpu/kdrec-gpu.tar.xz.tmp .gpu/kdrec-gpu.tar.xz
echo "gpu_bundle: .gpu/kdrec-gpu.tar.xz $(du -h .gpu/kdrec-gpu.tar.xz | cut -f1); on the GPU machine run bench/gpu_check.sh with .gpu carried"

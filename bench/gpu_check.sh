#!/usr/bin/env bash
# bench/gpu_check.sh — the one prepared run for a GPU machine (see README, "GPU"). It unpacks
# .gpu/kdrec-gpu.tar.xz (made here by bench/gpu_bundle.sh), runs the GPU tests against the Java
# reference kernels, then the GPU benchmarks against PyTorch on the same shapes, and writes every log
# under $OUT (the device tool's output folder; target/gpu-check elsewhere).
#   bench/gpu_check.sh [tests|bench|all]   (default all)
# Time: the tests are bounded by TEST_TIMEOUT (default 420 s; their CPU references are single-threaded),
# each benchmark program by BENCH_TIMEOUT (default 120 s), each of the three KdEpochBench runs (GPU, CPU,
# GPU under the device profile) by KD_TIMEOUT (default 240 s), the three HstuBench runs by HSTU_TIMEOUT (90 s each). On a 15-minute lease run `tests` and `bench` as
# two calls, so that a slow first part cannot starve the second; KD_CPU=0 skips the CPU KdEpochBench run. TEST_TIMEOUT / BENCH_TIMEOUT (seconds)
# bound each part so that a hung kernel cannot eat the session's device time.
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
case "$what" in
  tests|bench|all) ;;
  -h|--help) echo "usage: bench/gpu_check.sh [tests|bench|all]   (on the GPU machine, .gpu carried; see the header)" >&2; exit 2 ;;
  *) echo "gpu_check: unknown part '$what'; allowed: tests, bench, all" >&2; exit 2 ;;
esac
out="${OUT:-target/gpu-check}"
mkdir -p "$out"
bundle=/tmp/kdrec-gpu
[ -f .gpu/kdrec-gpu.tar.xz ] || { echo "gpu_check: .gpu/kdrec-gpu.tar.xz is missing: run bench/gpu_bundle.sh here and carry .gpu" >&2; exit 1; }
rm -rf "$bundle" && mkdir -p "$bundle" && tar -C "$bundle" -xJf .gpu/kdrec-gpu.tar.xz
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1; } | tee "$out/device.txt"
java=("$bundle/jre/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g)
cp="$bundle/classes:$bundle/test-classes:$bundle/bench:$bundle/lib/*"
status=0

if [ "$what" = tests ] || [ "$what" = all ]; then
  # kdrec.cuda.sync: synchronise after every launch so that a failing kernel is named in its own test.
  # Three packages: the kernels against their CPU twins (kdrec.gpu), then --device cuda training against
  # the CPU path (kdrec.device), then RCE-KD's device-built epoch sets against the host's (kdrec.kd).
  # The last two run with kdrec.cuda.check too: the CE wrappers then download and check the CSRs
  # (monotone ptr, split points, ids in range) that the device path builds.
  # The kernels run with packed launch parameters strictly (kdrec.gpu.LaunchParams: a layout the driver
  # refuses fails there; CudaSmokeGpuTest compares both modes); the training packages keep the default, which
  # falls back to one pointer per argument, so that they still run if it does.
  for pkg in kdrec.gpu kdrec.device kdrec.kd; do
    check="-Dkdrec.cuda.launch=packed"
    [ "$pkg" != kdrec.gpu ] && check="-Dkdrec.cuda.check=true"
    timeout "${TEST_TIMEOUT:-420}" "${java[@]}" -Dkdrec.cuda.sync=true $check -cp "$cp" kdrec.gpu.GpuTestMain "$pkg" 2>&1 \
      | grep -v 'Using incubator' | tee -a "$out/tests.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  done
fi

if [ "$what" = bench ] || [ "$what" = all ]; then
  for cls in $(cd "$bundle/bench" 2>/dev/null && ls kdrec/bench/Gpu*.class 2>/dev/null | grep -v '\$' | sed 's|/|.|g; s|\.class$||'); do
    echo "== $cls" | tee -a "$out/bench.log"
    timeout "${BENCH_TIMEOUT:-120}" "${java[@]}" -cp "$cp" "$cls" 2>&1 | grep -v 'Using incubator' | tee -a "$out/bench.log"
  done
  # host time per launch call: packed parameter buffer vs one JCuda pointer per argument (kdrec.gpu.LaunchParams)
  echo "== kdrec.gpu.LaunchOverheadBench" | tee -a "$out/bench.log"
  timeout "${BENCH_TIMEOUT:-120}" "${java[@]}" -cp "$cp" kdrec.gpu.LaunchOverheadBench 2>&1 | grep -v 'Using incubator' | tee -a "$out/bench.log"
  for py in bench/torch_gpu*.py; do
    [ -f "$py" ] || continue
    echo "== $py" | tee -a "$out/bench.log"
    PYTHONUNBUFFERED=1 timeout "${BENCH_TIMEOUT:-120}" python3 "$py" 2>&1 | tee -a "$out/bench.log"
  done
  # One RCE-KD epoch and one BPR epoch of the same student on the Gowalla-sized synthetic set, on the
  # GPU (--device cuda) and then on this machine's CPU cores, in separate JVMs.
  # KD_CPU=0 leaves out the CPU run (its numbers are in the README; it takes a minute or two of the lease).
  backends="cuda panama"; [ "${KD_CPU:-1}" = 0 ] && backends="cuda"
  for backend in $backends; do
    echo "== KdEpochBench rcekd, kdrec.backend=$backend" | tee -a "$out/bench.log"
    timeout "${KD_TIMEOUT:-240}" "${java[@]}" -Dkdrec.backend=$backend -cp "$cp" kdrec.bench.KdEpochBench rcekd 3 2>&1 \
      | grep -v 'Using incubator' | tee -a "$out/bench.log"
  done
  # The same GPU runs under the device profile (kdrec.device.StepProfile): per epoch, where the time of a
  # BPR and an RCE-KD epoch goes (host work, uploads, each launch group, the per-epoch hook, the trainer's
  # own time between steps). Every phase boundary synchronises, so its epoch times are not the ones above.
  echo "== KdEpochBench rcekd, kdrec.backend=cuda, kdrec.device.profile=true" | tee -a "$out/bench.log"
  timeout "${KD_TIMEOUT:-240}" "${java[@]}" -Dkdrec.backend=cuda -Dkdrec.device.profile=true -cp "$cp" kdrec.bench.KdEpochBench rcekd 3 2>&1 \
    | grep -v 'Using incubator' | tee -a "$out/bench.log"
  # The ratios: GEMM as % of torch.matmul, fused top-K vs matmul + topk, fused CE vs torch's.
  { bench/gpu_bench.sh --log "$out/bench.log"; grep '^ce_fwd_bwd_ms' "$out/bench.log"; } | tee "$out/ratios.txt"
  # HSTU training on the device (HstuBench's markov set and shape: d 64, 4 heads, max_len 100, 512 negatives),
  # the negatives shared by a batch (one GEMM) and drawn per position (the presets' value: ids drawn on the
  # device, gathered dots), then the presets' whole setting (also a student encoding per KD term, the
  # method's loss on the host). Last, under its own bound (HSTU_TIMEOUT, default 90 s each).
  for keys in "negatives_per=batch" "negatives_per=position" "negatives_per=position kd_encoding=per_term"; do
    echo "== HstuBench $keys, kdrec.backend=cuda" | tee -a "$out/bench.log"
    # shellcheck disable=SC2086 # the keys are separate arguments
    timeout "${HSTU_TIMEOUT:-90}" "${java[@]}" -Dkdrec.backend=cuda -cp "$cp" kdrec.bench.HstuBench $keys epochs=3 2>&1 \
      | grep -v 'Using incubator' | tee -a "$out/bench.log"
  done
fi
exit "$status"

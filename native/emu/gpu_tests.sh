#!/usr/bin/env bash
# native/emu/gpu_tests.sh [TestClassPattern] — runs the GPU tests (tag "gpu") on the emulated CUDA driver:
# builds it (native/emu/driver/build.sh) into target/emu-driver/libcuda.so.1 and runs the pom's gpu-emu
# surefire execution, whose forked JVM has LD_LIBRARY_PATH=target/emu-driver, so CudaProbe, JCuda, Cuda.java
# and the Gpu* wrappers run unchanged, with every kernel executed on CPU threads. Only the gpu-tagged tests
# run, once (no default-test, no SIMD-width executions). Reports: target/surefire-reports-gpu-emu/.
#   native/emu/gpu_tests.sh                  # every GPU test class
#   native/emu/gpu_tests.sh 'Spmm*'          # surefire -Dtest pattern
# Extra Maven arguments may follow the pattern (e.g. -Dkdrec.cuda.sync=true).
set -euo pipefail
cd "$(dirname "$0")/../.."
pattern="${1:-}"
[ $# -gt 0 ] && shift
args=(-o test-compile surefire:test@gpu-emu -Dkdrec.gpu.emu.skip=false)
[ -n "$pattern" ] && args+=("-Dtest=$pattern" -Dsurefire.failIfNoSpecifiedTests=false)
start=$(date +%s)
set +e
./build "${args[@]}" "$@"
rc=$?
set -e
echo "gpu_tests.sh: $(( $(date +%s) - start )) s (exit $rc); reports in target/surefire-reports-gpu-emu/"
exit $rc

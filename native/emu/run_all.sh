#!/usr/bin/env bash
# native/emu/run_all.sh — builds and runs every emulator harness (see cuda_shim.h for what is modelled):
# the shim's selftest, then each family's harness three ways: plain (-O2, full sweep), AddressSanitizer +
# UBSan (quick sweep: out-of-bounds reads/writes of global and shared arrays), ThreadSanitizer (quick
# sweep: missing __syncthreads / shared-memory races). A family whose .cu is not in native/ yet (still
# on a branch) is built from a copy in EMU_EXTRA=/path (default /tmp/emu/src), else skipped with a line.
#   native/emu/run_all.sh [family ...]      (default: every family)   EMU_SAN=0 skips the sanitizer builds
set -u
cd "$(dirname "$0")"
EXTRA=${EMU_EXTRA:-/tmp/emu/src}
OUT=${EMU_OUT:-/tmp/emu/bin}
mkdir -p "$OUT"
CXX="g++ -std=c++20 -pthread -ffp-contract=off -Wall -Wno-unknown-pragmas -I. -I.."
status=0
fams=("$@")
[ ${#fams[@]} -eq 0 ] && fams=(selftest fft spmm embedding adam elementwise layernorm subset_ce softmax_ce gemm topk attention)
for f in "${fams[@]}"; do
  src=${f}_emu.cpp; [ "$f" = selftest ] && src=shim_selftest.cpp
  [ -f "$src" ] || { echo "skip $f: no $src"; continue; }
  inc=()
  if [ "$f" != selftest ]; then
    cu=$(grep -o '#include "[^"]*\.cu"' "$src" | head -1 | sed 's/#include "\(.*\)"/\1/')
    if [ ! -f "$cu" ] && [ ! -f "../${cu#../}" ]; then
      if [ -f "$EXTRA/$(basename "$cu")" ]; then inc=(-I"$EXTRA"); else echo "skip $f: $(basename "$cu") neither in native/ nor in $EXTRA"; continue; fi
    fi
  fi
  echo "== $f"
  $CXX -O2 "${inc[@]}" -o "$OUT/$f" "$src" || { echo "FAIL $f: build"; status=1; continue; }
  "$OUT/$f" || status=1
  quick=(quick); [ "$f" = fft ] && quick=(1 2 3 5 8 17 33 100)  # fft_emu takes sizes, not "quick"
  if [ "${EMU_SAN:-1}" != 0 ]; then
    $CXX -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all "${inc[@]}" -o "$OUT/$f.asan" "$src" \
      && { ASAN_OPTIONS=detect_leaks=0 "$OUT/$f.asan" "${quick[@]}" > "$OUT/$f.asan.log" 2>&1; r=$?; tail -1 "$OUT/$f.asan.log" | sed 's/^/asan: /'; [ $r = 0 ] || { echo "FAIL $f under ASan/UBSan (log $OUT/$f.asan.log)"; status=1; }; } \
      || { echo "FAIL $f: asan build"; status=1; }
    $CXX -O1 -g -fsanitize=thread "${inc[@]}" -o "$OUT/$f.tsan" "$src" \
      && { TSAN_OPTIONS=halt_on_error=1 THREADS=8 "$OUT/$f.tsan" "${quick[@]}" > "$OUT/$f.tsan.log" 2>&1; r=$?; tail -1 "$OUT/$f.tsan.log" | sed 's/^/tsan: /'; [ $r = 0 ] || { echo "FAIL $f under TSan (log $OUT/$f.tsan.log)"; status=1; }; } \
      || { echo "FAIL $f: tsan build"; status=1; }
  fi
done
[ $status = 0 ] && echo "run_all: all passed" || echo "run_all: FAILURES"
exit $status

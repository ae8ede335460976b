#!/usr/bin/env bash
# native/emu/driver/selftest.sh [OUT_DIR] — builds the emulated driver (default target/emu-driver) and runs
# driver_selftest.cpp against it: the driver API through dlopen, as JCuda calls it (no Java needed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../../target/emu-driver}"
bash "$here/build.sh" "$out"
g++ -std=c++20 -O1 -pthread -o "$out/driver_selftest" "$here/driver_selftest.cpp" -ldl
"$out/driver_selftest" "$out/libcuda.so.1"

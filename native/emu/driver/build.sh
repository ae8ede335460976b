#!/usr/bin/env bash
# native/emu/driver/build.sh OUT_DIR — builds the emulated CUDA driver OUT_DIR/libcuda.so.1 (see
# libcuda_emu.cpp): every native/*.cu compiled with g++ through native/emu/cuda_shim.h into one shared
# library that implements the driver API calls kdrec.gpu.Cuda makes through JCuda. Put OUT_DIR on
# LD_LIBRARY_PATH and the Java GPU path runs on CPU threads (native/emu/gpu_tests.sh does that).
#
# Generated here (never hand-maintained): the unity include of native/*.cu (an `extern __shared__ T x[];`
# becomes a namespace-scope array of kdrec_emu_dyn_shared_bytes), a copy of cuda_shim.h whose waits yield
# between fibers (fiber_sync.h), the kernel table (one entry per `extern "C" __global__
# [__launch_bounds__(N, ...)] void kdrec_*(` declaration, with N as the kernel's thread limit and whether
# its call graph reaches a barrier or warp collective) and NOT_SUPPORTED stubs for the JCuda imports
# libcuda_emu.cpp does not implement. The build
# FAILS when the table and the compiled kernels disagree (a kdrec_* extern "C" function in the library that
# is not in the table, or a __global__ the pattern did not see).
# Without g++ it says so and exits 0. Up to date (library newer than every input) means no compile; the
# library is written to a temp file and renamed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
emu="$(dirname "$here")"
native="$(dirname "$emu")"
out_dir="${1:?usage: native/emu/driver/build.sh OUT_DIR}"
out="$out_dir/libcuda.so.1"
cxx="${CXX:-g++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "emu-driver: $cxx not found; not building the emulated CUDA driver (the emulated GPU tests skip)"
  exit 0
fi
shopt -s nullglob
sources=("$native"/*.cu)
inputs=("${sources[@]}" "$native"/*.cuh "$emu"/cuda_shim.h "$emu"/cuda_shim_device.h "$here"/libcuda_emu.cpp
        "$here"/fiber_sync.h "$here"/dyn_shared.h "$here"/jcuda-imports.txt "$0")
if [ ${#sources[@]} -eq 0 ]; then echo "emu-driver: no native/*.cu"; exit 0; fi
if [ -f "$out" ] && [ -z "$(find "${inputs[@]}" -newer "$out" -print -quit)" ]; then exit 0; fi

mkdir -p "$out_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/units"

# 1. The unity include, of rewritten copies of native/*.cu (#line keeps diagnostics and debug info on the
# originals):
#  * `extern __shared__ [__align__(N)] T name[];` (T possibly several words) cannot be extern in a host
#    build: it becomes a view of the driver's buffer of exactly the launch's sharedBytes (dyn_shared.h);
#  * each one-line static `__shared__ ... name[dims];` also registers its bytes once (a function-local
#    static initialiser), so the driver can poison static shared memory before every block.
for s in "${sources[@]}"; do
  u="$work/units/$(basename "$s")"
  { echo "#line 1 \"$s\""
    sed -E \
      -e 's/extern __shared__ (__align__\([0-9]+\) )?([A-Za-z_][A-Za-z0-9_: ]*[A-Za-z0-9_])[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\[\];/static kdrec_emu_dyn_shared_view<\2> \3;/' \
      -e 's/^([[:space:]]*)__shared__ (.*[^ ]) +([A-Za-z_][A-Za-z0-9_]*)((\[[^]]*\])*);[[:space:]]*$/\1__shared__ \2 \3\4; [[maybe_unused]] static const bool \3_kdrec_emu_reg = kdrec_emu_register_shared(\&\3, sizeof \3);/' \
      "$s"; } > "$u"
  if grep -q 'extern __shared__' "$u"; then
    echo "emu-driver: $(basename "$s"): an extern __shared__ declaration build.sh cannot rewrite" >&2; exit 1
  fi
  grep -n '__shared__' "$u" | grep -v 'kdrec_emu_reg\|^1:' | sed "s|^|emu-driver: warning: $(basename "$s") (line+1): static shared memory not poisoned per block: |" >&2 || true
  echo "#include \"$u\""
done > "$work/kdrec_emu_units.inc"

# 1b. The driver's copy of cuda_shim.h: its waits yield between fibers (fiber_sync.h) instead of blocking.
sed -e 's/std::mutex/emu_fiber::mutex/g' -e 's/std::condition_variable/emu_fiber::condvar/g' \
    -e 's/std::chrono::steady_clock::now()/emu_fiber::clock_now()/g' \
    -e '0,/^#pragma once$/s//#pragma once\n#include "fiber_sync.h"/' "$emu/cuda_shim.h" > "$work/cuda_shim.h"
if grep -q 'std::mutex\|std::condition_variable\|steady_clock::now' "$work/cuda_shim.h" || ! grep -q '#include "fiber_sync.h"' "$work/cuda_shim.h"; then
  echo "emu-driver: could not make the fiber copy of cuda_shim.h" >&2; exit 1
fi

# 2. The kernel table: name, __launch_bounds__ (its first argument; 1024 when absent) and whether the
# kernel can reach a barrier or warp collective (2b).
perl -0777 -ne '
  while (/extern\s+"C"\s+__global__\s+(?:__launch_bounds__\(((?:[^()]|\([^()]*\))*)\)\s+)?void\s+(\w+)\s*\(/g) {
    my ($lb, $name) = ($1, $2);
    $lb = defined $lb ? (split /,/, $lb)[0] : "1024";
    $lb =~ s/\s+//g;
    print "$name $lb\n";
  }' "${sources[@]}" > "$work/kernels.txt"
table_n=$(wc -l < "$work/kernels.txt")
# __global__ tokens outside // comments: each must be one table entry.
global_n=$(sed 's://.*$::' "${sources[@]}" | grep -o '__global__' | wc -l)
if [ "$table_n" -ne "$global_n" ]; then
  echo "emu-driver: native/*.cu has $global_n __global__ kernels but the table pattern found $table_n:" >&2
  echo "  every kernel must be declared as: extern \"C\" __global__ [__launch_bounds__(...)] void kdrec_<family>_<op>(" >&2
  exit 1
fi

# 2b. Which kernels can synchronise: compile the kernels alone at -O0 without inlining, so every call is
# a relocation, and follow the call graph from each kernel to the shim's emu::block_barrier (every
# __syncthreads*) or emu::collective (every warp shuffle/vote/match/reduce/__syncwarp). A kernel that
# reaches neither runs its threads one after another (libcuda_emu.cpp, "two ways to run a grid").
printf '#include "cuda_shim.h"\n#include "dyn_shared.h"\n#include "kdrec_emu_units.inc"\n' \
  > "$work/callgraph.cpp"
"$cxx" -std=c++20 -O0 -fno-inline -w -c -I"$work" -I"$here" -I"$emu" -I"$native" -o "$work/callgraph.o" "$work/callgraph.cpp"
objdump -dr --no-show-raw-insn "$work/callgraph.o" | perl -ne '
  if (/^[0-9a-f]+ <([^>]+)>:/) { $cur = $1; next }
  if (defined $cur && /R_X86_64_\w+\s+([A-Za-z_][\w.\$]*)/) { $e{$cur}{$1} = 1 }
  END {
    for my $k (sort grep { /^kdrec_/ } keys %e) {
      my (%seen, $sync); my @q = ($k);
      while (@q) {
        my $f = shift @q;
        next if $seen{$f}++;
        if ($f =~ /^_ZN3emu(13block_barrier|10collective)E/) { $sync = 1; last }
        push @q, keys %{$e{$f} // {}};
      }
      print "$k ", ($sync ? 1 : 0), "\n";
    }
  }' | sort > "$work/sync.txt"
sort "$work/kernels.txt" | join -a 1 -e MISSING -o 1.1,1.2,2.2 - "$work/sync.txt" > "$work/joined.txt"
if grep -q MISSING "$work/joined.txt"; then
  echo "emu-driver: the call-graph pass did not see these kernels: $(grep MISSING "$work/joined.txt" | cut -d' ' -f1)" >&2
  exit 1
fi
awk '{print "KDREC_EMU_KERNEL(" $1 ", " $2 ", " $3 ")"}' "$work/joined.txt" > "$work/kdrec_emu_kernels.inc"

# 3. NOT_SUPPORTED stubs for the JCuda imports that libcuda_emu.cpp does not implement.
grep -o 'KDREC_EMU_API CUresult cu[A-Za-z0-9_]*' "$here/libcuda_emu.cpp" | awk '{print $3}' | sort -u > "$work/implemented"
grep -v '^#' "$here/jcuda-imports.txt" | sort -u | comm -23 - "$work/implemented" \
  | awk '{print "KDREC_EMU_API CUresult " $1 "(...) { return kdrec_emu_driver::not_emulated(\"" $1 "\"); }"}' \
  > "$work/kdrec_emu_stubs.inc"

echo "emu-driver: g++ compiling ${#sources[@]} CUDA sources ($table_n kernels, $(grep -c ' 0$' "$work/joined.txt") without barriers/collectives) into $out"
"$cxx" -std=c++20 -O2 -shared -fPIC -pthread -ffp-contract=off -mtls-dialect=gnu2 -Wall -Wno-unknown-pragmas -Wno-unused-function \
  -I"$work" -I"$here" -I"$emu" -I"$native" -Wl,-soname,libcuda.so.1 -Wl,--no-undefined \
  -o "$work/libcuda.so.1" "$here/libcuda_emu.cpp"

# 4. Cross-check: the kdrec_* extern "C" functions the compiler emitted are exactly the table's kernels.
nm -D --defined-only "$work/libcuda.so.1" | awk '$2 == "T" && $3 ~ /^kdrec_/ {print $3}' | sort > "$work/exported"
sed -E 's/KDREC_EMU_KERNEL\(([A-Za-z0-9_]+),.*/\1/' "$work/kdrec_emu_kernels.inc" | sort > "$work/tabled"
if ! diff -u "$work/tabled" "$work/exported" > "$work/diff"; then
  echo "emu-driver: kernel table (-) and compiled kdrec_* kernels (+) differ:" >&2
  cat "$work/diff" >&2
  exit 1
fi
mv -f "$work/libcuda.so.1" "$out.tmp" && mv -f "$out.tmp" "$out"

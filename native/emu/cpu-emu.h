// native/emu/cpu-emu.h — a tiny CUDA emulator for checking kernel index arithmetic and reductions on a
// machine without a GPU (g++ only): blocks run one after another, the threads of a block as
// std::threads with a std::barrier for __syncthreads; __shfl_xor_sync goes through a block-wide
// exchange, so it is only valid where every thread of the block shuffles together (kdrec::block_sum).
// No memory model, no warps: it finds wrong indices, tails and reduction trees, not races. Not part of
// the build (build-fatbin.sh compiles native/*.cu only). Usage: see elementwise-harness.cpp.
#pragma once
#include <barrier>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>
using std::isfinite;
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline dim3 gridDim, blockDim, blockIdx;
inline thread_local dim3 threadIdx;
inline std::barrier<>* g_bar;
inline double g_exch[1024];
inline void __syncthreads() { g_bar->arrive_and_wait(); }
inline int ltid() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
template <class T> T __shfl_xor_sync(unsigned, T v, int o) {
  int t = ltid();
  g_exch[t] = (double)v;
  __syncthreads();
  T r = (T)g_exch[(t & ~31) | ((t & 31) ^ o)];
  __syncthreads();
  return r;
}
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
inline void launch(dim3 g, dim3 b, const std::function<void()>& f) {
  gridDim = g; blockDim = b;
  for (unsigned bz = 0; bz < g.z; bz++) for (unsigned by = 0; by < g.y; by++) for (unsigned bx = 0; bx < g.x; bx++) {
    blockIdx = {bx, by, bz};
    std::barrier<> bar(b.x * b.y * b.z); g_bar = &bar;
    std::vector<std::thread> ts;
    for (unsigned z = 0; z < b.z; z++) for (unsigned y = 0; y < b.y; y++) for (unsigned x = 0; x < b.x; x++)
      ts.emplace_back([&, x, y, z] { threadIdx = {x, y, z}; f(); });
    for (auto& t : ts) t.join();
  }
}

// native/emu/cuda_host_shim.h — runs the CE kernels (native/subset_ce.cu, native/softmax_ce.cu) on the
// HOST, for machines without a GPU: each CUDA thread is a std::thread, blocks run one at a time,
// __syncthreads is a block barrier, a shuffle is a warp barrier plus an exchange slot, __shared__ is a
// function-local static (block-shared because blocks run one at a time). It checks index arithmetic,
// tails, reductions, barrier/shuffle participation (a divergent barrier or shuffle deadlocks here) and
// the math against transcribed scalar twins. It does NOT check the GPU memory model, float4 alignment,
// bank conflicts, occupancy or speed, and uses glibc's expf. See native/emu/ce_emu.cpp for the run line.
#pragma once
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
#include <algorithm>
using std::min;
using std::max;
struct dim3 { unsigned x = 1, y = 1, z = 1; };
struct alignas(16) float4 { float x, y, z, w; };
inline float4 make_float4(float a, float b, float c, float d) { return float4{a, b, c, d}; }
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
struct Warp { std::barrier<> bar{32}; double slot[32]; };
std::barrier<>* g_block = nullptr;
std::vector<std::unique_ptr<Warp>> g_warps;
inline void __syncthreads() { g_block->arrive_and_wait(); }
template <class T> inline T shfl_idx(T v, int src) {
  int lane = threadIdx.x & 31;
  Warp& w = *g_warps[threadIdx.x >> 5];
  std::memcpy(&w.slot[lane], &v, sizeof(T));
  w.bar.arrive_and_wait();
  T r;
  std::memcpy(&r, &w.slot[src & 31], sizeof(T));
  w.bar.arrive_and_wait();
  return r;
}
template <class T> inline T __shfl_xor_sync(unsigned, T v, int off) { return shfl_idx(v, (threadIdx.x & 31) ^ off); }
template <class T> inline T __shfl_sync(unsigned, T v, int src) { return shfl_idx(v, src); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
inline void launch(dim3 g, dim3 b, const std::function<void()>& body) {
  if (g.x == 0 || g.y == 0 || g.z == 0) return;
  gridDim = g; blockDim = b;
  unsigned nt = b.x * b.y * b.z;
  for (unsigned bz = 0; bz < g.z; bz++) for (unsigned by = 0; by < g.y; by++) for (unsigned bx = 0; bx < g.x; bx++) {
    std::barrier<> bar(nt);
    g_block = &bar;
    g_warps.clear();
    for (unsigned w = 0; w < nt / 32; w++) g_warps.emplace_back(new Warp());
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < nt; t++) ts.emplace_back([&, t, bx, by, bz] {
      threadIdx = dim3{t, 0, 0};
      blockIdx = dim3{bx, by, bz};
      body();
    });
    for (auto& th : ts) th.join();
  }
}

// Host emulation of the CUDA subset used by native/gemm.cu and native/topk.cu: every CUDA thread of a
// block is a ucontext fiber; __syncthreads yields to a scheduler that resumes the fibers in a random
// order each barrier interval (a race-free kernel gives the same result under any order), and reports
// a barrier that not every thread reaches. __shared__ = static (one block runs at a time).
#pragma once
#include <ucontext.h>
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) float2 { float x, y; };
inline float4 make_float4(float a, float b, float c, float d) { return {a, b, c, d}; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
using std::min; using std::max; using std::isnan;
template <typename T> T __shfl_xor_sync(unsigned, T, int) { std::abort(); }
namespace emu {
struct Fiber { ucontext_t ctx; std::vector<char> stack; int state = 0, pred = 0; };
inline ucontext_t sched;
inline std::vector<Fiber> fibers;
inline int cur = 0, result = 0;
inline std::function<void()> body;
inline std::mt19937 rng(std::getenv("EMU_SEED") ? std::atoi(std::getenv("EMU_SEED")) : 1);
inline long barriers = 0;
inline void trampoline() { body(); fibers[cur].state = 2; swapcontext(&fibers[cur].ctx, &sched); }
inline int barrier(int pred) {
  fibers[cur].state = 1; fibers[cur].pred = pred;
  swapcontext(&fibers[cur].ctx, &sched);
  return result;
}
inline void launch(dim3 grid, dim3 block, std::function<void()> f) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  gridDim = grid; blockDim = block;
  int n = block.x;
  fibers.resize(n);
  std::vector<int> order(n);
  for (int i = 0; i < n; i++) order[i] = i;
  body = f;
  for (unsigned bz = 0; bz < grid.z; bz++)
  for (unsigned by = 0; by < grid.y; by++)
    for (unsigned bx = 0; bx < grid.x; bx++) {
      blockIdx.x = bx; blockIdx.y = by; blockIdx.z = bz;
      for (int i = 0; i < n; i++) {
        Fiber& fb = fibers[i];
        fb.stack.resize(1 << 18);
        getcontext(&fb.ctx);
        fb.ctx.uc_stack.ss_sp = fb.stack.data();
        fb.ctx.uc_stack.ss_size = fb.stack.size();
        fb.ctx.uc_link = nullptr;
        makecontext(&fb.ctx, trampoline, 0);
        fb.state = 0;
      }
      while (true) {
        std::shuffle(order.begin(), order.end(), rng);
        for (int i : order) {
          if (fibers[i].state != 0) continue;
          cur = i; threadIdx.x = i;
          swapcontext(&sched, &fibers[i].ctx);
        }
        int done = 0, wait = 0, cnt = 0;
        for (auto& fb : fibers) { if (fb.state == 2) done++; else { wait++; cnt += fb.pred != 0; } }
        if (wait == 0) break;
        if (done > 0) { std::fprintf(stderr, "barrier divergence: %d threads done, %d at a barrier (block %u,%u)\n", done, wait, bx, by); std::exit(3); }
        barriers++;
        result = cnt;
        for (auto& fb : fibers) fb.state = 0;
      }
    }
}
}  // namespace emu
inline void __syncthreads() { emu::barrier(0); }
inline int __syncthreads_count(int p) { return emu::barrier(p); }
inline int atomicAdd(int* p, int v) { int o = *p; *p = o + v; return o; }

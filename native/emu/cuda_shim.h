// native/emu/cuda_shim.h — host shims that let a native/*.cu family compile with g++ (C++20) and run
// on CPU threads, for checking kernels on machines without a GPU: every CUDA thread of a block is a
// std::thread, __syncthreads is a std::barrier, blocks run one after another (so one static array can
// stand in for dynamic shared memory). Built with -fsanitize=thread, ThreadSanitizer then reports any
// two threads touching the same shared/global word between two barriers: a missing __syncthreads.
// Not part of the build (build-fatbin.sh compiles only native/*.cu); warp intrinsics are stubs.
#pragma once
#include <barrier>
#include <cstdint>
#include <cfloat>
#include <cstring>
#include <cmath>
#include <thread>
#include <vector>
#include <functional>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(x)
#define __shared__
struct float2 { float x, y; };
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<>* g_bar = nullptr;
inline void __syncthreads() { g_bar->arrive_and_wait(); }
template <class T> inline T __ldg(const T* p) { return *p; }
inline unsigned __brev(unsigned v) { unsigned r = 0; for (int i = 0; i < 32; i++) { r = (r << 1) | (v & 1); v >>= 1; } return r; }
inline int __ffs(int v) { return v == 0 ? 0 : __builtin_ctz((unsigned)v) + 1; }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int) { return v; }
// launch: every block in turn, blockDim.x real threads each
inline void launch(unsigned grid, unsigned block, const std::function<void()>& body) {
  gridDim.x = grid; blockDim.x = block;
  for (unsigned b = 0; b < grid; b++) {
    std::barrier<> bar((std::ptrdiff_t)block);
    g_bar = &bar;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < block; t++) ts.emplace_back([&, b, t] { blockIdx.x = b; threadIdx.x = t; body(); });
    for (auto& th : ts) th.join();
  }
}

// native/emu/cuda_shim.h — host shims that let a native/*.cu family compile with g++ (C++20) and run
// on CPU threads, so kernels can be executed and checked on machines without a GPU.
//
// What it models
//  * Launch: emu::launch(grid, block, sharedBytes, body) runs the blocks of a 1-, 2- or 3-D grid one
//    after another (x fastest, then y, then z); every CUDA thread of a block is a std::thread with its
//    own threadIdx/blockIdx (thread_local), blockDim/gridDim are globals. A grid dimension of 0 is a
//    no-op (as Cuda.launch). Block size > 1024 or grid y/z > 65535 is reported as an error.
//  * __syncthreads / _count / _and / _or: a block barrier (mutex + condition variable) over the threads
//    that have not returned yet (an exited thread no longer counts, as on the GPU).
//  * Warp semantics: lane = linear thread id % 32, warp = id / 32 (a partial last warp has fewer lanes).
//    Every warp collective (__shfl*_sync, __ballot/__any/__all_sync, __match_any_sync, __reduce_*_sync,
//    __syncwarp) is a rendezvous of exactly the lanes named in its mask: one rendezvous per (warp,
//    distinct mask), completed when every non-exited lane of the mask has arrived — so lane groups of
//    8/16 with different loop counts each meet on their own mask, as on sm_70+. Checked (reported as
//    an error, then the emulator goes on): a lane calling with a mask that does not name itself, lanes
//    of one mask calling different collectives, a shuffle reading a lane that is not in the mask or
//    has exited (undefined on the GPU). A rendezvous that never completes (a lane of the mask never
//    comes: divergent __syncthreads/shuffle) is reported with block/warp/mask and aborts after
//    EMU_TIMEOUT seconds (default 60). Shuffle source lanes follow PTX shfl (width segments, clamps).
//    Lanes are matched by (mask, kind of collective), not by call site, as PTX specifies for
//    shfl.sync/vote.sync ("until all non-exited threads in membermask have executed it with the same
//    qualifiers and membermask"): two groups of one full mask at different shfl.idx sites do meet.
//  * __activemask(): the warp's existing, non-exited lanes — the emulator cannot see divergence.
//  * Shared memory: `__shared__` is `static`, so all threads of a block see one object; blocks run in
//    turn so one object serves every block. Static shared memory is NOT re-poisoned between blocks or
//    launches (a read-before-write of shared memory is not detected). `extern __shared__` (dynamic):
//    define EMU_SHARED_EXTERN before including this header (then `__shared__` is empty) and define the
//    array yourself at namespace scope, as fft_emu.cpp does; a family mixing both needs a sed.
//  * Atomics: atomicAdd (int, unsigned, unsigned long long, float, double), atomicSub, atomicExch,
//    atomicMax/Min (int, unsigned, long long, unsigned long long), atomicAnd/Or/Xor, atomicCAS — on
//    std::atomic_ref (seq_cst), returning the old value. Blocks run in turn, so atomics only race
//    within a block here; inter-block races are not exercised.
//  * Intrinsics: *_rn arithmetic = plain IEEE float ops (compile WITHOUT -march=native / FMA and with
//    -ffp-contract=off so g++ contracts nothing); fmaf = correctly rounded fma. Approximate intrinsics
//    (__expf, __logf, __fdividef, rsqrtf, __sinf, ...) use the accurate libm functions, so results are
//    closer to exact than the GPU's. nvcc contracts a*b+c into fma where the source does not forbid it;
//    this emulator never does, so last-bit differences vs the GPU are expected and harnesses compare
//    with tolerances (exact compares only where the kernel uses explicit _rn intrinsics).
//
// What it does NOT model: the GPU memory model (with -fsanitize=thread, every rendezvous is a mutex
// hand-off, so shuffles also order memory, which they do not on the GPU; __syncthreads/__syncwarp do),
// inter-block concurrency, warp-synchronous code without *_sync (implicit lockstep), timing/occupancy,
// shared-memory bank conflicts, register/shared limits, denormal flushing (nvcc default keeps them),
// texture/surface/cooperative groups, memcpy-async/TMA.
//
// With -fsanitize=thread ThreadSanitizer reports two threads touching the same word between two
// barriers (a missing __syncthreads); with -fsanitize=address it reports out-of-bounds reads and writes
// of global and static shared arrays. Not part of the build (build-fatbin.sh compiles only native/*.cu).
#pragma once
#include <algorithm>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __noinline__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#ifdef EMU_SHARED_EXTERN
#define __shared__
#else
#define __shared__ static
#endif
#define __constant__ static

#include "cuda_shim_device.h"

// ---------------------------------------------------------------- the execution engine
namespace emu {

inline std::atomic<long> errors{0};
inline std::mutex print_mu;
template <class... A> inline void error(const char* fmt, A... a) {
  std::lock_guard<std::mutex> g(print_mu);
  if (errors.fetch_add(1) < 20) {
    std::fprintf(stderr, "EMU ERROR [block %u,%u,%u thread %u,%u,%u]: ", blockIdx.x, blockIdx.y, blockIdx.z,
                 threadIdx.x, threadIdx.y, threadIdx.z);
    std::fprintf(stderr, fmt, a...);
    std::fprintf(stderr, "\n");
  }
}

inline double timeout_s() {
  static double t = std::getenv("EMU_TIMEOUT") ? std::atof(std::getenv("EMU_TIMEOUT")) : 60.0;
  return t;
}

// Collective kinds; a rendezvous matches lanes by (mask, kind) — as PTX's shfl.sync/vote.sync/bar.warp.sync
// ("wait until all non-exited threads of membermask have executed <op> with the same qualifiers and
// membermask"), not by call site: lanes of one mask at two different shfl.idx call sites meet.
enum Op { OP_SHFL_IDX = 1, OP_SHFL_UP, OP_SHFL_DOWN, OP_SHFL_BFLY, OP_VOTE, OP_SYNCWARP, OP_MATCH, OP_REDUCE };
inline const char* op_name(int op) {
  static const char* n[] = {"?", "shfl.idx", "shfl.up", "shfl.down", "shfl.bfly", "ballot/any/all", "syncwarp", "match", "reduce"};
  return n[op];
}

// One rendezvous of a (warp, mask): lanes deposit a 64-bit payload; when every live lane of the mask
// has arrived the round is released, all of them read the payloads, and the next round may start once
// every reader has read (so a fast lane's next collective never overwrites a slow lane's inputs).
struct Group {
  unsigned arrived = 0, readers = 0, last = 0;
  long gen = 0;
  int op = 0;
  uint64_t v[32] = {};
};
struct Warp {
  std::mutex mu;
  std::condition_variable cv;
  unsigned live = 0;
  std::map<unsigned, Group> groups;
};
struct Block {
  std::mutex mu;
  std::condition_variable cv;
  int live = 0, arrived = 0, acc = 0, result = 0, result_n = 0;
  long gen = 0;
  std::vector<Warp> warps;
  explicit Block(int n) : warps((n + 31) / 32) { reset(n); }
  // Fresh state for the next block of the launch (the same OS threads run every block).
  void reset(int n) {
    live = n;
    arrived = acc = result = result_n = 0;
    for (int w = 0; w < (int)warps.size(); w++) {
      int lanes = std::min(32, n - 32 * w);
      warps[w].live = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
      warps[w].groups.clear();
    }
  }
};
inline thread_local Block* cur_block = nullptr;
inline thread_local int cur_tid = 0;

template <class L, class P> inline void wait_or_die(std::condition_variable& cv, L& lk, P pred, const char* what,
                                                    unsigned mask, unsigned have) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s());
  while (!pred()) {
    if (cv.wait_until(lk, deadline) == std::cv_status::timeout && !pred()) {
      std::fprintf(stderr,
                   "EMU DEADLOCK: %s never completed [block %u,%u,%u thread %u,%u,%u warp %d lane %d] mask=%08x "
                   "arrived=%08x (a lane named in the mask / a thread of the block never reached it)\n",
                   what, blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z, cur_tid / 32,
                   cur_tid % 32, mask, have);
      std::fflush(stderr);
      std::abort();
    }
  }
}

inline int lane_id() { return cur_tid & 31; }
inline Warp& cur_warp() { return cur_block->warps[cur_tid >> 5]; }

inline void release_if_complete(Warp& w, unsigned mask, Group& g) {
  if (g.arrived != 0 && g.readers == 0 && (mask & w.live & ~g.arrived) == 0) {
    g.last = g.arrived;
    g.readers = g.arrived;
    g.arrived = 0;
    g.gen++;
    w.cv.notify_all();
  }
}

struct Snapshot {
  unsigned arrived;
  uint64_t v[32];
};

// The rendezvous itself: returns who arrived and what they deposited.
inline Snapshot collective(int op, unsigned mask, uint64_t payload) {
  Warp& w = cur_warp();
  const int lane = lane_id();
  const unsigned bit = 1u << lane;
  Snapshot s{};
  if (!(mask & bit)) {
    error("warp %s with mask %08x called by lane %d, which the mask does not name", op_name(op), mask, lane);
    s.arrived = bit;
    s.v[lane] = payload;
    return s;
  }
  std::unique_lock<std::mutex> lk(w.mu);
  Group& g = w.groups[mask];
  wait_or_die(w.cv, lk, [&] { return g.readers == 0; }, op_name(op), mask, g.arrived);
  if (g.arrived == 0) g.op = op;
  else if (g.op != op)
    error("lanes of mask %08x mix warp collectives: %s and %s", mask, op_name(g.op), op_name(op));
  g.v[lane] = payload;
  g.arrived |= bit;
  const long my = g.gen;
  release_if_complete(w, mask, g);
  wait_or_die(w.cv, lk, [&] { return g.gen != my; }, op_name(op), mask, g.arrived);
  s.arrived = g.last;
  std::memcpy(s.v, g.v, sizeof s.v);
  g.readers &= ~bit;
  if (g.readers == 0) {
    w.cv.notify_all();
    // lanes that arrived for the next round while this one drained may now complete it
  }
  return s;
}

// Returns how many arrived threads had pred != 0; *n (if given) = how many threads arrived.
inline int block_barrier(int pred, int* n = nullptr) {
  Block& b = *cur_block;
  std::unique_lock<std::mutex> lk(b.mu);
  b.acc += pred ? 1 : 0;
  b.arrived++;
  const long my = b.gen;
  if (b.arrived == b.live) {
    b.result = b.acc;
    b.result_n = b.arrived;
    b.acc = 0;
    b.arrived = 0;
    b.gen++;
    b.cv.notify_all();
  } else {
    wait_or_die(b.cv, lk, [&] { return b.gen != my; }, "__syncthreads", 0u, (unsigned)b.arrived);
  }
  if (n) *n = b.result_n;
  return b.result;
}

// A thread returned from the kernel: it no longer counts in barriers or in warp rendezvous.
inline void thread_exit() {
  Block& b = *cur_block;
  {
    std::lock_guard<std::mutex> lk(b.mu);
    b.live--;
    if (b.arrived > 0 && b.arrived == b.live) {
      b.result = b.acc;
      b.result_n = b.arrived;
      b.acc = 0;
      b.arrived = 0;
      b.gen++;
      b.cv.notify_all();
    }
  }
  Warp& w = cur_warp();
  std::lock_guard<std::mutex> lk(w.mu);
  w.live &= ~(1u << lane_id());
  for (auto& [mask, g] : w.groups) release_if_complete(w, mask, g);
  w.cv.notify_all();
}

inline unsigned threads_per_block() { return blockDim.x * blockDim.y * blockDim.z; }

// Runs body() as every thread of every block of the grid; blocks in turn (x fastest).
inline void launch(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
  const unsigned long long nt = (unsigned long long)block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || nt == 0) return;
  if (nt > 1024 || block.z > 64) error("launch: block %ux%ux%u exceeds the CUDA limits", block.x, block.y, block.z);
  if (grid.y > 65535 || grid.z > 65535) error("launch: grid %ux%ux%u exceeds the CUDA limits", grid.x, grid.y, grid.z);
  if (shared_bytes > 227 * 1024) error("launch: %zu bytes of dynamic shared memory > 227 KiB", shared_bytes);
  gridDim = grid;
  blockDim = block;
  // One OS thread per CUDA thread for the whole launch; each runs its thread of every block in turn.
  // Between blocks all threads meet at `done` (mutex + condition variable, so ThreadSanitizer sees the
  // hand-off) and the last to arrive resets the block state.
  const unsigned long long nblocks = (unsigned long long)grid.x * grid.y * grid.z;
  Block blk((int)nt);
  std::mutex dmu;
  std::condition_variable dcv;
  unsigned long long done_arrived = 0, done_gen = 0;
  std::vector<std::thread> ts;
  ts.reserve(nt);
  for (unsigned t = 0; t < nt; t++)
    ts.emplace_back([&, t] {
      threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
      cur_block = &blk;
      cur_tid = (int)t;
      for (unsigned long long b = 0; b < nblocks; b++) {
        blockIdx = dim3((unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y)));
        body();
        thread_exit();
        std::unique_lock<std::mutex> lk(dmu);
        if (++done_arrived == nt) {
          blk.reset((int)nt);
          done_arrived = 0;
          done_gen++;
          dcv.notify_all();
        } else {
          const unsigned long long my = done_gen;
          dcv.wait(lk, [&] { return done_gen != my; });
        }
      }
    });
  for (auto& th : ts) th.join();
}

template <class T> inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of a type wider than 8 bytes");
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T> inline T from_bits(uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

// PTX shfl: mode 0 idx, 1 up, 2 down, 3 bfly; width a power of two <= 32.
template <class T> inline T shfl(int mode, unsigned mask, T v, int b, int width) {
  const int lane = lane_id();
  if (width <= 0 || width > 32 || (width & (width - 1)))
    error("shuffle width %d is not a power of two in [1, 32]", width);
  const Snapshot s = collective(OP_SHFL_IDX + mode, mask, to_bits(v));
  const int segmask = (32 - width) & 31;  // c[12:8]
  const int cval = mode == 1 ? 0 : 31;
  const int maxLane = (lane & segmask) | (cval & ~segmask);
  const int minLane = lane & segmask;
  int j = 0;
  bool p = false;
  switch (mode) {
    case 0: j = minLane | (b & 31 & ~segmask); p = j <= maxLane; break;
    case 1: j = lane - b; p = j >= maxLane; break;
    case 2: j = lane + b; p = j <= maxLane; break;
    default: j = lane ^ (b & 31); p = j <= maxLane; break;
  }
  if (!p) j = lane;
  if (!((s.arrived >> j) & 1)) {
    error("shuffle (mode %d, mask %08x) by lane %d reads lane %d, which did not take part (not in the mask or "
          "exited): undefined on the GPU", mode, mask, lane, j);
    return v;
  }
  return from_bits<T>(s.v[j]);
}

}  // namespace emu

inline void __syncthreads() { emu::block_barrier(0); }
inline int __syncthreads_count(int p) { return emu::block_barrier(p); }
inline int __syncthreads_and(int p) {
  int n = 0;
  return emu::block_barrier(p, &n) == n;
}
inline int __syncthreads_or(int p) { return emu::block_barrier(p) != 0; }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::collective(emu::OP_SYNCWARP, mask, 0); }
inline unsigned __activemask() {
  emu::Warp& w = emu::cur_warp();
  std::lock_guard<std::mutex> lk(w.mu);
  return w.live;
}
template <class T> inline T __shfl_sync(unsigned m, T v, int src, int w = 32) { return emu::shfl(0, m, v, src, w); }
template <class T> inline T __shfl_up_sync(unsigned m, T v, unsigned d, int w = 32) { return emu::shfl(1, m, v, (int)d, w); }
template <class T> inline T __shfl_down_sync(unsigned m, T v, unsigned d, int w = 32) { return emu::shfl(2, m, v, (int)d, w); }
template <class T> inline T __shfl_xor_sync(unsigned m, T v, int x, int w = 32) { return emu::shfl(3, m, v, x, w); }
inline unsigned __ballot_sync(unsigned m, int p) {
  const emu::Snapshot s = emu::collective(emu::OP_VOTE, m, p ? 1 : 0);
  unsigned r = 0;
  for (int l = 0; l < 32; l++)
    if (((s.arrived >> l) & 1) && s.v[l]) r |= 1u << l;
  return r;
}
inline int __any_sync(unsigned m, int p) { return __ballot_sync(m, p) != 0; }
inline int __all_sync(unsigned m, int p) {
  const emu::Snapshot s = emu::collective(emu::OP_VOTE, m, p ? 1 : 0);
  for (int l = 0; l < 32; l++)
    if (((s.arrived >> l) & 1) && !s.v[l]) return 0;
  return 1;
}
template <class T> inline unsigned __match_any_sync(unsigned m, T v) {
  const emu::Snapshot s = emu::collective(emu::OP_MATCH, m, emu::to_bits(v));
  unsigned r = 0;
  for (int l = 0; l < 32; l++)
    if (((s.arrived >> l) & 1) && s.v[l] == emu::to_bits(v)) r |= 1u << l;
  return r;
}
#define EMU_REDUCE(name, T, init, f)                                          \
  inline T name(unsigned m, T v) {                                            \
    const emu::Snapshot s = emu::collective(emu::OP_REDUCE, m, emu::to_bits(v)); \
    T r = init;                                                               \
    for (int l = 0; l < 32; l++)                                              \
      if ((s.arrived >> l) & 1) { T x = emu::from_bits<T>(s.v[l]); r = f; }   \
    return r;                                                                 \
  }
EMU_REDUCE(__reduce_add_sync, int, 0, r + x)
EMU_REDUCE(__reduce_add_sync, unsigned, 0u, r + x)
EMU_REDUCE(__reduce_min_sync, int, INT_MAX, (x < r ? x : r))
EMU_REDUCE(__reduce_min_sync, unsigned, UINT_MAX, (x < r ? x : r))
EMU_REDUCE(__reduce_max_sync, int, INT_MIN, (x > r ? x : r))
EMU_REDUCE(__reduce_max_sync, unsigned, 0u, (x > r ? x : r))
#undef EMU_REDUCE

// The old 1-D entry point (fft_emu.cpp): `grid` blocks of `block` threads, no dynamic shared memory.
inline void launch(unsigned grid, unsigned block, const std::function<void()>& body) {
  emu::launch(dim3(grid), dim3(block), 0, body);
}
inline void launch(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
  emu::launch(grid, block, shared_bytes, body);
}

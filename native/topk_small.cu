// native/topk_small.cu — per-row top-K for k <= 128, rows owned by warps, with topk.cu's contract
// (kdrec.cpu.TopKScalar's): fused score -> top-K (s = <u_r, item_j>, the m x n score matrix is never
// written) and top-K of a materialised score matrix; the order of topk_order.cuh; NaN scores never
// selected; reported scores s + 0 (-0 becomes +0); an optional per-row CSR of excluded ids (any order,
// duplicates allowed); rows with fewer than k eligible items end with id -1 / score -Infinity.
// GpuTopK sends k <= 128 here and larger k to topk.cu.
//
// Why a second kernel. On an H100 (2026-12-05; 2,048 x 41,000, d 64, k 100) topk.cu's select over a
// materialised matrix took ~1.6 ms of the fused kernel's 2.2 ms: there every merge is a whole-block
// affair (a 128-slot bitonic sort with ~28 block barriers, then binary searches into the row's list in
// global memory), run one row after another while the block's other rows wait. Here a warp owns its 8
// rows from scoring to output: it filters and merges its rows' candidates with shuffles into lists in
// shared memory, and no block barrier stands between one warp's merges and another warp's work.
//
// Decomposition. A 128-thread block (4 warps) owns R = 32 rows and one contiguous item range (a split,
// blockIdx.y, as in topk.cu). It streams the range in tiles of T = 128 items:
//   * score tile (fused): the depth is staged in chunks of DC = 16 (the 32 rows as Us[kk][row], row
//     stride 36 so that a row's 16 stores hit at most 2 banks; the 128 items as Is[kk][item]); warp w,
//     lane l keeps the 8 x 4 block of rows 8w..8w+7 x items 4l..4l+3 in registers: per depth two float4
//     broadcasts and one float4 for 32 fmaf (topk.cu: 6 loaded floats per 8). Each score is still one
//     fmaf chain over d in increasing order from +0, the scalar twin's exact operations, so scores are
//     bit-identical to the CPU's (zero padding past d adds fmaf(0, 0, s), which can only turn -0 into
//     +0, and s + 0 erases that). A tail chunk (d % 16) runs its depth rounded up to 4, not 16.
//     (select: the lane reads its 8 x 4 scores from the matrix instead.)
//   * select, per row of the warp: each lane tests its 4 scores against the row's k-th best so far (all
//     pass while the list holds fewer than k); one ballot skips rows with nothing to offer, the common
//     case once a row's list has filled. Otherwise 4 rounds (score b of every lane in round b), each
//     against the threshold the previous round left: passing scores of excluded items are dropped (the
//     lane scans the row's exclusion list), the round's candidates are sorted across the warp (bitonic
//     over 64-bit keys whose order is the ranking order, 15 shuffle steps; non-candidates are the
//     sentinel (-inf, INT_MAX), which ranks after everything), and merged into the row's best-first
//     list in shared memory by rank: candidate i lands at i plus rank_i, its rank in the list (binary
//     search), and a list entry at p moves down by the number of candidates with rank_i <= p (binary
//     search over the ranks, staged in shared memory); all reads happen before a __syncwarp, all
//     writes after it. Positions are unique (ids are distinct), so the result does not depend on the
//     order candidates arrive in: deterministic.
//   * output: each warp writes its rows' lists (KCAP = 32 or 128 slots per row, the smallest holding
//     k) to the output (-1 / -inf past a list) or, with several splits, to the scratch that
//     kdrec_topk_merge (topk.cu) combines (the sentinel past a list).
// Shared memory (static): 32 x KCAP x 8 bytes of lists + 10.5 KB of staging + per-row state, ~44 KB for
// KCAP 128 (under the 48 KB that needs no opt-in; 5 blocks per SM), ~19 KB for KCAP 32.
// Exclusions cost one scan per passing candidate: a row that excludes most items passes nearly every
// score and is slow (correct), as in topk.cu. Item counts must stay below 2^31 - 128 (int indices).
#include "common.cuh"
#include "topk_order.cuh"
#include <climits>

namespace kdrec_topk_small {

using kdrec_topk::better;
using kdrec_topk::rank_in;

constexpr int THREADS = 128, R = 32, T = 128, DC = 16;
constexpr int US = 36;  // Us row stride (floats): float4-aligned, and a row's 16 depth stores hit at most 2 banks
constexpr unsigned FULL = 0xffffffffu;
static_assert(R == (THREADS / 32) * 8, "each warp owns 8 rows");
static_assert(T == 32 * 4, "each lane owns 4 items of a tile");

template <int KCAP>
struct Smem {
  float listS[R * KCAP];  // row rl's best-first list: slots [rl * KCAP, rl * KCAP + sz[rl])
  int listI[R * KCAP];
  int sz[R];              // list length so far (<= k)
  float thrS[R];          // the list's k-th entry once it is full
  int thrI[R];
  int exBegin[R], exEnd[R];  // the row's exclusion ids: exIdx[exBegin, exEnd)
  int rank[THREADS];         // per warp: its merge round's candidates' ranks in the list
};

// A (score, id) pair as one 64-bit key whose unsigned order is the ranking order (larger = better):
// the score's bits made order-preserving above, INT_MAX - id below (scores are s + 0, never -0). One
// shuffle moves a key, one comparison orders two.
__device__ __forceinline__ unsigned long long pack_key(float s, int id) {
  const unsigned b = __float_as_uint(s);
  const unsigned o = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return ((unsigned long long)o << 32) | (unsigned)(INT_MAX - id);
}
__device__ __forceinline__ float key_score(unsigned long long key) {
  const unsigned o = (unsigned)(key >> 32);
  return __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}
__device__ __forceinline__ int key_id(unsigned long long key) { return INT_MAX - (int)(unsigned)(key & 0xffffffffu); }
// The sentinel (-inf, INT_MAX): ranks after every real entry, a real -inf included.
constexpr unsigned long long SENTINEL_KEY = 0x007fffffull << 32;

// acc[a][b] += Us[kk][8w + a] * Is[kk][4l + b], one fmaf per score.
__device__ __forceinline__ void fma_depth(const float* Us, const float* Is, int kk, int w, int lane, float acc[8][4]) {
  const float4 u0 = *reinterpret_cast<const float4*>(Us + kk * US + 8 * w);  // warp-wide broadcasts
  const float4 u1 = *reinterpret_cast<const float4*>(Us + kk * US + 8 * w + 4);
  const float4 it = *reinterpret_cast<const float4*>(Is + kk * T + 4 * lane);
  const float u[8] = {u0.x, u0.y, u0.z, u0.w, u1.x, u1.y, u1.z, u1.w};
  const float v[4] = {it.x, it.y, it.z, it.w};
#pragma unroll
  for (int a = 0; a < 8; a++) {
#pragma unroll
    for (int b = 0; b < 4; b++) acc[a][b] = fmaf(u[a], v[b], acc[a][b]);
  }
}

// Scores of the block's rows against items [j0, j0 + T): acc[a][b] = <U[row0 + 8w + a], item j0 + 4l + b>.
// Whole block (barriers inside, none when d == 0). Items at or past jEnd and rows past m score 0.
__device__ __forceinline__ void score_tile(const float* __restrict__ U, int ldu, const float* __restrict__ items, int ldi,
                                           int m, int jEnd, int d, int row0, int j0, bool ivec, float acc[8][4]) {
  __shared__ __align__(16) float Us[DC * US];
  __shared__ __align__(16) float Is[DC * T];
  const int t = threadIdx.x, w = t >> 5, lane = t & 31;
#pragma unroll
  for (int a = 0; a < 8; a++) {
#pragma unroll
    for (int b = 0; b < 4; b++) acc[a][b] = 0.f;
  }
  for (int d0 = 0; d0 < d; d0 += DC) {
    const int dc = min(DC, d - d0);
#pragma unroll
    for (int q = 0; q < 4; q++) {  // rows: 32 x 16 values, element e -> row e / 16, depth e % 16
      const int e = t + q * THREADS, rl = e >> 4, kk = e & 15, gr = row0 + rl;
      Us[kk * US + rl] = (gr < m && kk < dc) ? U[(long long)gr * ldu + d0 + kk] : 0.f;
    }
    {  // items: thread t -> item j0 + t, its 16 depths (stores to consecutive banks across the warp)
      const int j = j0 + t;
      const float* src = items + (long long)j * ldi + d0;
      if (ivec && j < jEnd && dc == DC) {
#pragma unroll
        for (int h = 0; h < DC; h += 4) {
          const float4 x = *reinterpret_cast<const float4*>(src + h);
          Is[(h + 0) * T + t] = x.x;
          Is[(h + 1) * T + t] = x.y;
          Is[(h + 2) * T + t] = x.z;
          Is[(h + 3) * T + t] = x.w;
        }
      } else {
#pragma unroll
        for (int kk = 0; kk < DC; kk++) Is[kk * T + t] = (j < jEnd && kk < dc) ? src[kk] : 0.f;
      }
    }
    __syncthreads();
    if (dc == DC) {
#pragma unroll
      for (int kk = 0; kk < DC; kk++) fma_depth(Us, Is, kk, w, lane, acc);
    } else {  // the tail: depths past dc are zeros, so stop at the next multiple of 4
      const int dcPad = (dc + 3) & ~3;
      for (int kk = 0; kk < dcPad; kk += 4) {
#pragma unroll
        for (int q = 0; q < 4; q++) fma_depth(Us, Is, kk + q, w, lane, acc);
      }
    }
    __syncthreads();  // the chunk is consumed before the next one overwrites it
  }
}

// Offers the lane's 4 scores (items jBase + b, b = 0..3) to local row rl's list. Whole warp, uniform.
template <int KCAP>
__device__ __forceinline__ void offer(Smem<KCAP>& sm, int rl, int k, int jBase, int jEnd, const float (&sc)[4],
                                      const int* __restrict__ exIdx, int hasEx) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  float* LS = sm.listS + rl * KCAP;
  int* LI = sm.listI + rl * KCAP;
  bool any = false;
  {
    const bool open = sm.sz[rl] < k;
    const float ts = sm.thrS[rl];
    const int ti = sm.thrI[rl];
#pragma unroll
    for (int b = 0; b < 4; b++) {
      const float s = __fadd_rn(sc[b], 0.f);
      any |= jBase + b < jEnd && !isnan(s) && (open || better(s, jBase + b, ts, ti));
    }
  }
  if (__ballot_sync(FULL, any) == 0) return;
  // Rolled on purpose (as the row loop in topk()): unrolled, the 8 rows x 4 rounds of this merge made
  // ~420 KB of code per kernel, several times an SM's instruction cache, with the warps of an SM in
  // different copies; rolled it is 20-34 KB, no spills (a reviewer's measurement of the cubin, 2026-12-05).
#pragma unroll 1
  for (int b = 0; b < 4; b++) {
    const float scb = b == 0 ? sc[0] : b == 1 ? sc[1] : b == 2 ? sc[2] : sc[3];  // selects: sc stays in registers
    const int sz = sm.sz[rl];
    const float ts = sm.thrS[rl];
    const int ti = sm.thrI[rl];
    int id = jBase + b;
    float s = __fadd_rn(scb, 0.f);
    bool pass = id < jEnd && !isnan(s) && (sz < k || better(s, id, ts, ti));
    if (pass && hasEx) {
      for (int q = sm.exBegin[rl], e = sm.exEnd[rl]; q < e; q++) {
        if (__ldg(exIdx + q) == id) { pass = false; break; }
      }
    }
    const unsigned passing = __ballot_sync(FULL, pass);
    if (passing == 0) continue;
    const int c = __popc(passing);
    unsigned long long key = pass ? pack_key(s, id) : SENTINEL_KEY;
    for (int size = 2; size <= 32; size <<= 1) {  // bitonic sort across the warp, best (largest key) first
      for (int stride = size >> 1; stride > 0; stride >>= 1) {
        const unsigned long long other = __shfl_xor_sync(FULL, key, stride);
        const bool keepBetter = ((lane & stride) == 0) == ((lane & size) == 0);
        key = keepBetter ? (other > key ? other : key) : (other < key ? other : key);
      }
    }
    // lanes [0, c) now hold the round's candidates, best first; candidate i lands at i + rank_i, where
    // rank_i (the list entries before it) does not decrease with i
    s = key_score(key);
    id = key_id(key);
    const int rank = lane < c ? rank_in(LS, LI, sz, s, id) : 0;
    if (lane < c) sm.rank[w * 32 + lane] = rank;
    __syncwarp();
    float eS[KCAP / 32];
    int eI[KCAP / 32], eP[KCAP / 32];
#pragma unroll
    for (int q = 0; q < KCAP / 32; q++) {  // list slot p moves down by the candidates before it: those with rank_i <= p
      const int p = lane + 32 * q;
      const bool have = p < sz;
      eS[q] = have ? LS[p] : -INFINITY;
      eI[q] = have ? LI[p] : INT_MAX;
      int lo = 0, hi = have ? c : 0;
      while (lo < hi) {
        const int mid = (lo + hi) >> 1;
        if (sm.rank[w * 32 + mid] <= p) lo = mid + 1; else hi = mid;
      }
      eP[q] = have ? p + lo : INT_MAX;
    }
    const int cP = lane < c ? lane + rank : INT_MAX;
    __syncwarp();  // every read of the list (and of the ranks) happens before any write
#pragma unroll
    for (int q = 0; q < KCAP / 32; q++) {
      if (eP[q] < k) {
        LS[eP[q]] = eS[q];
        LI[eP[q]] = eI[q];
      }
    }
    if (cP < k) {
      LS[cP] = s;
      LI[cP] = id;
    }
    __syncwarp();
    if (lane == 0) {
      const int nsz = min(k, sz + c);
      sm.sz[rl] = nsz;
      if (nsz == k) {
        sm.thrS[rl] = LS[k - 1];
        sm.thrI[rl] = LI[k - 1];
      }
    }
    __syncwarp();  // the new length and threshold are visible to the whole warp
  }
}

// The shared body: FUSED scores U . items^T on the fly, otherwise reads scores[row * lds + item].
// Lists go to dst + ((row * splits) + split) * k; with splits == 1 that is the output itself.
template <bool FUSED, int KCAP>
__device__ void topk(int m, int n, int d, const float* __restrict__ U, int ldu, const float* __restrict__ items, int ldi,
                     const float* __restrict__ scores, int lds, int k, const int* exPtr, const int* exIdx, int hasEx,
                     int splits, float* dstS, int* dstI) {
  __shared__ Smem<KCAP> sm;
  const int t = threadIdx.x, w = t >> 5, lane = t & 31;
  const int row0 = blockIdx.x * R, split = blockIdx.y;
  const int tiles = (n + T - 1) / T, perSplit = (tiles + splits - 1) / splits;
  const int jBegin = min(n, split * perSplit * T), jEnd = min(n, jBegin + perSplit * T);
  if (t < R) {
    const int gr = row0 + t;
    sm.sz[t] = 0;
    sm.thrS[t] = -INFINITY;
    sm.thrI[t] = INT_MAX;
    sm.exBegin[t] = hasEx && gr < m ? exPtr[gr] : 0;
    sm.exEnd[t] = hasEx && gr < m ? exPtr[gr + 1] : 0;
  }
  const bool ivec = FUSED && (reinterpret_cast<uintptr_t>(items) & 15u) == 0 && (ldi & 3) == 0;
  __syncthreads();
  for (int j0 = jBegin; j0 < jEnd; j0 += T) {
    float acc[8][4];
    if constexpr (FUSED) {
      score_tile(U, ldu, items, ldi, m, jEnd, d, row0, j0, ivec, acc);
    } else {
#pragma unroll
      for (int a = 0; a < 8; a++) {
        const int gr = row0 + 8 * w + a;
#pragma unroll
        for (int b = 0; b < 4; b++) {
          const int j = j0 + 4 * lane + b;
          acc[a][b] = (gr < m && j < jEnd) ? scores[(long long)gr * lds + j] : 0.f;
        }
      }
    }
#pragma unroll 1
    for (int a = 0; a < 8; a++) {  // rolled (see offer); row a's scores picked out of acc by selects, not indexing
      const int rl = 8 * w + a;
      float sc[4];
#pragma unroll
      for (int b = 0; b < 4; b++) {
        sc[b] = acc[0][b];
#pragma unroll
        for (int q = 1; q < 8; q++) sc[b] = a == q ? acc[q][b] : sc[b];
      }
      if (row0 + rl < m) offer<KCAP>(sm, rl, k, j0 + 4 * lane, jEnd, sc, exIdx, hasEx);
    }
  }
  // Slots past each list: the "no item" marker in the output, the sentinel in a split's scratch list.
  const int emptyId = splits == 1 ? -1 : INT_MAX;
  for (int a = 0; a < 8; a++) {
    const int rl = 8 * w + a;
    if (row0 + rl >= m) break;
    const long long o = ((long long)(row0 + rl) * splits + split) * k;
    const int sz = sm.sz[rl];
    for (int p = lane; p < k; p += 32) {
      dstS[o + p] = p < sz ? sm.listS[rl * KCAP + p] : -INFINITY;
      dstI[o + p] = p < sz ? sm.listI[rl * KCAP + p] : emptyId;
    }
  }
}

}  // namespace kdrec_topk_small

// Grid: (ceil(m/32), splits), block 128, no dynamic shared memory; k <= 32 for the *32 kernels, k <= 128
// for the *128 ones. Arguments as kdrec_topk_score / kdrec_topk_select (topk.cu); with splits > 1,
// (dstS, dstI) are the m x splits x k scratch that kdrec_topk_merge combines.
#define KDREC_TOPK_SMALL_SCORE_PARAMS int m, int n, int d, const float* U, int ldu, const float* items, int ldi, int k, \
    const int* exPtr, const int* exIdx, int hasEx, int splits, float* dstS, int* dstI
#define KDREC_TOPK_SMALL_SELECT_PARAMS int m, int n, const float* scores, int lds, int k, const int* exPtr, const int* exIdx, \
    int hasEx, int splits, float* dstS, int* dstI

extern "C" __global__ __launch_bounds__(128) void kdrec_topk_small_score32(KDREC_TOPK_SMALL_SCORE_PARAMS) {
  kdrec_topk_small::topk<true, 32>(m, n, d, U, ldu, items, ldi, nullptr, 0, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}
extern "C" __global__ __launch_bounds__(128) void kdrec_topk_small_score128(KDREC_TOPK_SMALL_SCORE_PARAMS) {
  kdrec_topk_small::topk<true, 128>(m, n, d, U, ldu, items, ldi, nullptr, 0, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}
extern "C" __global__ __launch_bounds__(128) void kdrec_topk_small_select32(KDREC_TOPK_SMALL_SELECT_PARAMS) {
  kdrec_topk_small::topk<false, 32>(m, n, 0, nullptr, 0, nullptr, 0, scores, lds, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}
extern "C" __global__ __launch_bounds__(128) void kdrec_topk_small_select128(KDREC_TOPK_SMALL_SELECT_PARAMS) {
  kdrec_topk_small::topk<false, 128>(m, n, 0, nullptr, 0, nullptr, 0, scores, lds, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}

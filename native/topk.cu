// native/topk.cu — per-row top-K selection with the contract of kdrec.cpu.TopKScalar: fused
// score -> top-K (s = <u_r, item_j>, the m x n score matrix is never written) and top-K of a
// materialised score matrix. Order: higher score first, equal scores -> lower item id first; NaN
// scores are never selected; reported scores are s + 0 (-0 becomes +0); an optional per-row CSR of
// excluded item ids (any order, duplicates allowed); rows with fewer than k eligible items end with
// id -1 / score -Infinity. k <= MAX_K = 1024.
//
// Decomposition. A 256-thread block owns R = 32 rows and one contiguous range of items (a "split":
// blockIdx.y; the wrapper uses several splits when there are too few row blocks to fill the GPU).
// It streams its items in tiles of T = 64:
//   * score tile (fused): the 32 x 64 tile is a small GEMM over d in chunks of DC = 16, the chunk of
//     the 32 user rows (Us[kk][row], row stride 36) and of the 64 items (Is[kk][item]) staged in shared
//     memory; thread t owns rows 4*(t/32) + {0..3} and items 2*(t%32) + {0,1}, so a warp's row reads are
//     one float4 broadcast and its item reads one contiguous float2 each (3 shared wavefronts per 256
//     FMAs). Each score is one fmaf chain over d in increasing order starting from +0, the scalar
//     twin's exact operation sequence, so GPU scores are bit-identical to the CPU oracle's (padding
//     past d adds fmaf(0, 0, s), which can only turn -0 into +0, and s + 0 erases that).
//     (select: the thread reads the same 8 scores from the matrix instead.)
//   * filter: a score enters its row's candidate buffer (shared, CAP = 128 per row, appended with a
//     shared atomicAdd) when the row's current list holds fewer than k items or the score ranks before
//     the row's k-th best so far (the threshold). The append order varies run to run, but the buffer is
//     sorted by a total order before use, so the result is deterministic.
//   * merge (one row at a time, whole block): before a tile, any row whose buffer could overflow with
//     one more tile (count > CAP - T) is merged; at the end every non-empty buffer is. A merge drops
//     excluded candidates (the row's exclude list is scanned in 256-id chunks through shared memory:
//     cost O(exclusions) per merge, fine for user histories, quadratic-ish only when nearly every item
//     of a row is excluded), bitonic-sorts the 128-slot buffer (padding and dropped slots become the
//     sentinel (-inf, INT_MAX), which ranks after every real entry), and merges it with the row's
//     current sorted list, which lives in global memory in the destination itself: every element's new
//     position is its index in its own list plus its rank in the other (binary search), so all threads
//     read, one barrier, then all write. The element landing in slot k-1 sets the threshold.
//   * with one split the lists are the output (then slots past the list get -1 / -inf); with S > 1 each
//     block writes its list to a scratch of S lists of k per row (unused slots = sentinel) and
//     kdrec_topk_merge combines them: element at index i of list L goes to i + sum over the other lists
//     of its rank there (ids are distinct, so positions are unique).
// Shared memory is static (~40 KB < the 48 KB that needs no opt-in; Cuda.launch cannot raise it), so
// up to 5 blocks per SM fit by shared memory. Item counts must stay below 2^31 - 256 (int indices).
#include "common.cuh"
#include "topk_order.cuh"
#include <climits>

namespace kdrec_topk {

constexpr int THREADS = 256, R = 32, T = 64, DC = 16, CAP = 128, MAX_K = 1024;
constexpr int US = 36;  // Us row stride (floats): 16-byte rows for the float4 reads of 4 rows
static_assert(CAP <= THREADS, "a merge gives each of the first CAP threads one candidate slot");
static_assert(MAX_K <= 4 * THREADS, "a merge holds at most 4 old-list entries per thread");
static_assert(CAP >= 2 * T, "a buffer merged above CAP - T must still take a whole tile");

struct Smem {
  float candS[R * CAP];
  int candI[R * CAP];
  int exChunk[THREADS];
  float thrS[R];
  int thrI[R];
  int cnt[R];  // candidates buffered per row
  int sz[R];   // length of the row's sorted list so far (<= k)
};

// Bitonic sort of the CAP slots (S, I), best first. All threads; starts and ends with a barrier.
__device__ __forceinline__ void sort_slots(float* S, int* I) {
  const int t = threadIdx.x;
  for (int size = 2; size <= CAP; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      __syncthreads();
      const int p = t ^ stride;
      if (t < CAP && p > t) {
        const float sa = S[t], sb = S[p];
        const int ia = I[t], ib = I[p];
        const bool bestFirst = (t & size) == 0;
        if (bestFirst ? better(sb, ib, sa, ia) : better(sa, ia, sb, ib)) {
          S[t] = sb; S[p] = sa;
          I[t] = ib; I[p] = ia;
        }
      }
    }
  }
  __syncthreads();
}

// Merges row r's candidate buffer into its list (dstS, dstI)[0, sz[r]); block-uniform call.
__device__ void merge_row(Smem& sm, int r, int gr, int k, const int* exPtr, const int* exIdx, int hasEx,
                          float* dstS, int* dstI) {
  const int t = threadIdx.x;
  const int c = sm.cnt[r];
  float* cs = sm.candS + r * CAP;
  int* ci = sm.candI + r * CAP;
  const bool have = t < c;
  const int myId = have ? ci[t] : INT_MAX;
  bool drop = false;
  if (hasEx) {
    const int e0 = exPtr[gr], e1 = exPtr[gr + 1];
    for (int base = e0; base < e1; base += THREADS) {
      __syncthreads();  // the previous chunk has been read by everyone
      if (base + t < e1) sm.exChunk[t] = exIdx[base + t];
      __syncthreads();
      const int lim = min(THREADS, e1 - base);
      if (have && !drop) {
        for (int q = 0; q < lim; q++) {
          if (sm.exChunk[q] == myId) { drop = true; break; }
        }
      }
    }
  }
  const int dropped = __syncthreads_count(have && drop);
  if (t < CAP && (!have || drop)) {  // each thread touches only its own slot here
    cs[t] = -INFINITY;
    ci[t] = INT_MAX;
  }
  sort_slots(cs, ci);
  const int cb = c - dropped;  // real candidates, now in slots [0, cb), best first
  const int s0 = sm.sz[r];
  float aS[4];
  int aI[4], aP[4];
#pragma unroll
  for (int q = 0; q < 4; q++) {
    const int i = t + q * THREADS;
    aP[q] = INT_MAX;
    if (i < s0) {
      aS[q] = dstS[i];
      aI[q] = dstI[i];
      aP[q] = i + rank_in(cs, ci, cb, aS[q], aI[q]);
    }
  }
  float bS = 0.f;
  int bI = 0, bP = INT_MAX;
  if (t < cb) {
    bS = cs[t];
    bI = ci[t];
    bP = t + rank_in(dstS, dstI, s0, bS, bI);
  }
  __syncthreads();  // every read of the old list (and of the buffer) happens before any write
#pragma unroll
  for (int q = 0; q < 4; q++) {
    if (aP[q] < k) {
      dstS[aP[q]] = aS[q];
      dstI[aP[q]] = aI[q];
      if (aP[q] == k - 1) { sm.thrS[r] = aS[q]; sm.thrI[r] = aI[q]; }
    }
  }
  if (bP < k) {
    dstS[bP] = bS;
    dstI[bP] = bI;
    if (bP == k - 1) { sm.thrS[r] = bS; sm.thrI[r] = bI; }
  }
  if (t == 0) {
    sm.sz[r] = min(k, s0 + cb);
    sm.cnt[r] = 0;
  }
  __syncthreads();  // list, threshold and counters are visible to the whole block
}

// Items [j0, j0 + T) scored against the block's rows: acc[a][b] = score of row 4*(t/32)+a, item j0+2*(t%32)+b.
__device__ __forceinline__ void score_tile(const float* __restrict__ U, int ldu, const float* __restrict__ items,
                                           int ldi, int m, int n, int d, int row0, int j0, bool ivec, float acc[4][2]) {
  __shared__ __align__(16) float Us[DC * US];
  __shared__ __align__(16) float Is[DC * T];
  const int t = threadIdx.x, tr = t >> 5, ti = t & 31;
#pragma unroll
  for (int a = 0; a < 4; a++) acc[a][0] = acc[a][1] = 0.f;
  for (int d0 = 0; d0 < d; d0 += DC) {
#pragma unroll
    for (int q = 0; q < 2; q++) {  // user chunk, 32 rows x 16 depths: element e -> row e/16, depth e%16
      const int e = t + q * THREADS, rl = e >> 4, kk = e & 15, gr = row0 + rl;
      Us[kk * US + rl] = (gr < m && d0 + kk < d) ? U[(long long)gr * ldu + d0 + kk] : 0.f;
    }
    {  // item chunk: thread t -> item t%64, depths 4*(t/64) .. +3 (a warp's stores are consecutive)
      const int jl = t & 63, h = (t >> 6) * 4, j = j0 + jl, p = d0 + h;
      const float* src = items + (long long)j * ldi + p;
      float v[4];
      if (ivec && j < n && p + 3 < d) {
        const float4 x = *reinterpret_cast<const float4*>(src);
        v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
      } else {
#pragma unroll
        for (int q = 0; q < 4; q++) v[q] = (j < n && p + q < d) ? src[q] : 0.f;
      }
#pragma unroll
      for (int q = 0; q < 4; q++) Is[(h + q) * T + jl] = v[q];
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < DC; kk++) {
      const float4 u = *reinterpret_cast<const float4*>(Us + kk * US + 4 * tr);  // a warp-wide broadcast
      const float2 it = *reinterpret_cast<const float2*>(Is + kk * T + 2 * ti);
      acc[0][0] = fmaf(u.x, it.x, acc[0][0]); acc[0][1] = fmaf(u.x, it.y, acc[0][1]);
      acc[1][0] = fmaf(u.y, it.x, acc[1][0]); acc[1][1] = fmaf(u.y, it.y, acc[1][1]);
      acc[2][0] = fmaf(u.z, it.x, acc[2][0]); acc[2][1] = fmaf(u.z, it.y, acc[2][1]);
      acc[3][0] = fmaf(u.w, it.x, acc[3][0]); acc[3][1] = fmaf(u.w, it.y, acc[3][1]);
    }
    __syncthreads();  // the chunk is consumed before the next one overwrites it
  }
}

// The shared body: FUSED scores U . items^T on the fly, otherwise reads scores[row * lds + item].
// Lists go to dst + ((row * splits) + split) * k; with splits == 1 that is the output itself.
template <bool FUSED>
__device__ void topk(int m, int n, int d, const float* __restrict__ U, int ldu, const float* __restrict__ items, int ldi,
                     const float* __restrict__ scores, int lds, int k, const int* exPtr, const int* exIdx, int hasEx,
                     int splits, float* dstS, int* dstI) {
  __shared__ Smem sm;
  const int t = threadIdx.x, tr = t >> 5, ti = t & 31;
  const int row0 = blockIdx.x * R, split = blockIdx.y;
  const int tiles = (n + T - 1) / T, perSplit = (tiles + splits - 1) / splits;
  const int jBegin = min(n, split * perSplit * T), jEnd = min(n, jBegin + perSplit * T);
  if (t < R) {
    sm.cnt[t] = 0;
    sm.sz[t] = 0;
    sm.thrS[t] = -INFINITY;
    sm.thrI[t] = INT_MAX;
  }
  const bool ivec = FUSED && (reinterpret_cast<uintptr_t>(items) & 15u) == 0 && (ldi & 3) == 0;
  __syncthreads();
  for (int j0 = jBegin; j0 < jEnd; j0 += T) {
    for (int r = 0; r < R; r++) {  // sm.cnt was last written before a barrier: the branch is uniform
      if (sm.cnt[r] > CAP - T) {
        const long long o = ((long long)(row0 + r) * splits + split) * k;
        merge_row(sm, r, row0 + r, k, exPtr, exIdx, hasEx, dstS + o, dstI + o);
      }
    }
    // Every thread has tested every sm.cnt[r] above before any thread appends to a buffer below (the
    // select path and d == 0 have no other barrier in between): otherwise a fast thread's atomicAdd
    // could push a count over the limit while a slow thread is still testing it, sending that thread
    // alone into merge_row.
    __syncthreads();
    float acc[4][2];
    if constexpr (FUSED) {
      score_tile(U, ldu, items, ldi, m, jEnd, d, row0, j0, ivec, acc);
    } else {
#pragma unroll
      for (int a = 0; a < 4; a++) {
        const int gr = row0 + 4 * tr + a;
#pragma unroll
        for (int b = 0; b < 2; b++) {
          const int j = j0 + 2 * ti + b;
          acc[a][b] = (gr < m && j < jEnd) ? scores[(long long)gr * lds + j] : 0.f;
        }
      }
    }
#pragma unroll
    for (int a = 0; a < 4; a++) {
      const int rl = 4 * tr + a;
      if (row0 + rl >= m) continue;
      const bool open = sm.sz[rl] < k;
      const float ts = sm.thrS[rl];
      const int tid = sm.thrI[rl];
#pragma unroll
      for (int b = 0; b < 2; b++) {
        const int j = j0 + 2 * ti + b;
        const float s = __fadd_rn(acc[a][b], 0.f);
        if (j < jEnd && !isnan(s) && (open || better(s, j, ts, tid))) {
          const int p = atomicAdd(&sm.cnt[rl], 1);
          sm.candS[rl * CAP + p] = s;
          sm.candI[rl * CAP + p] = j;
        }
      }
    }
    __syncthreads();
  }
  for (int r = 0; r < R; r++) {
    if (sm.cnt[r] > 0) {
      const long long o = ((long long)(row0 + r) * splits + split) * k;
      merge_row(sm, r, row0 + r, k, exPtr, exIdx, hasEx, dstS + o, dstI + o);
    }
  }
  // Slots past each list: the "no item" marker in the output, the sentinel in a split's scratch list.
  const int emptyId = splits == 1 ? -1 : INT_MAX;
  for (int r = 0; r < R; r++) {
    if (row0 + r >= m) break;
    const long long o = ((long long)(row0 + r) * splits + split) * k;
    for (int i = sm.sz[r] + t; i < k; i += THREADS) {
      dstS[o + i] = -INFINITY;
      dstI[o + i] = emptyId;
    }
  }
}

}  // namespace kdrec_topk

// Grid: (ceil(m/32), splits), block 256, no dynamic shared memory. U, items, scores point at the
// operands' first elements. hasEx = 0: exPtr/exIdx are ignored (any valid pointer). With splits == 1,
// (dstS, dstI) are the outputs (m x k); otherwise a scratch of m x splits x k for kdrec_topk_merge.
extern "C" __global__ __launch_bounds__(256) void kdrec_topk_score(int m, int n, int d, const float* U, int ldu,
    const float* items, int ldi, int k, const int* exPtr, const int* exIdx, int hasEx, int splits,
    float* dstS, int* dstI) {
  kdrec_topk::topk<true>(m, n, d, U, ldu, items, ldi, nullptr, 0, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}

extern "C" __global__ __launch_bounds__(256) void kdrec_topk_select(int m, int n, const float* scores, int lds,
    int k, const int* exPtr, const int* exIdx, int hasEx, int splits, float* dstS, int* dstI) {
  kdrec_topk::topk<false>(m, n, 0, nullptr, 0, nullptr, 0, scores, lds, k, exPtr, exIdx, hasEx, splits, dstS, dstI);
}

// Combines the `splits` best-first lists of k per row (sentinel-padded) into the final m x k output.
// Grid (m), block 256: one block per row, every element placed independently by rank.
extern "C" __global__ __launch_bounds__(256) void kdrec_topk_merge(int m, int k, int splits, const float* srcS,
    const int* srcI, float* outS, int* outI) {
  using kdrec_topk::rank_in;
  const int row = blockIdx.x;
  if (row >= m) return;
  const long long base = (long long)row * splits * k;
  const int total = splits * k;
  int real = 0;  // entries in all lists: each list's real entries all rank before the sentinel
  for (int L = 0; L < splits; L++) real += rank_in(srcS + base + (long long)L * k, srcI + base + (long long)L * k, k, -INFINITY, INT_MAX);
  for (int e = threadIdx.x; e < total; e += blockDim.x) {
    const int L = e / k, i = e - L * k;
    const float s = srcS[base + e];
    const int id = srcI[base + e];
    if (id == INT_MAX) continue;
    int pos = i;
    for (int L2 = 0; L2 < splits && pos < k; L2++) {
      if (L2 != L) pos += rank_in(srcS + base + (long long)L2 * k, srcI + base + (long long)L2 * k, k, s, id);
    }
    if (pos < k) {
      outS[(long long)row * k + pos] = s;
      outI[(long long)row * k + pos] = id;
    }
  }
  for (int i = min(real, k) + (int)threadIdx.x; i < k; i += blockDim.x) {
    outS[(long long)row * k + i] = -INFINITY;
    outI[(long long)row * k + i] = -1;
  }
}

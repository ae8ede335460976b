// native/gemm.cu — fp32 GEMM C = alpha * op(A) . op(B) + beta * C for the three layouts kdrec uses
// (NN, NT, TN), with the exact contract of kdrec.cpu.GemmScalar: row-major operands, element
// offsets folded into the pointers by the Java wrapper (kdrec.gpu.GpuGemm), leading dimensions in
// elements, and beta == 0 meaning C is only written, never read (NaN/garbage in C does not leak).
//
// Decomposition (classic register-blocked SGEMM):
//   * one 256-thread block owns a 128 x 128 tile of C (blockIdx.y = tile row, blockIdx.x = tile column);
//   * the k dimension is walked in slabs of BK = 8: a 128 x 8 slab of op(A) and an 8 x 128 slab of
//     op(B) are staged in shared memory, both stored k-major (As[p][i], Bs[p][j]) so the inner loop
//     reads each thread's 8 A values and 8 B values as two float4 each;
//   * each thread owns an 8 x 8 register tile of C: rows {ty*4 .. +3, 64 + ty*4 .. +3} and columns
//     {tx*4 .. +3, 64 + tx*4 .. +3} (tx = t % 16, ty = t / 16). The split into two 4-wide halves 64
//     apart keeps the float4 shared reads of a warp on consecutive addresses (no bank conflicts);
//   * outputs at most 64 wide (kdrec's training backward dU = G . I and dI = G^T . U at d = 64) use a
//     128 x 64 tile (the *_n64 kernels): 8 x 4 per thread, no zero columns computed;
//   * double buffering: while slab s is multiplied out of shared buffer s&1, slab s+1 is fetched from
//     global memory into registers and stored into the other buffer, so there is one __syncthreads per
//     slab and the global latency overlaps the FMAs.
// The transposes only change the global -> shared loads. An operand is "k-contiguous" when
// consecutive k of one row/column of op(X) are adjacent in memory (A in NN/NT, B in NT): thread t then
// reads 4 consecutive k of row t/2 and stores them transposed (pad 4 keeps those stores conflict-free);
// otherwise it is "mn-contiguous" (A in TN, B in NN/TN): thread t reads 4 consecutive rows/columns of
// k-row t/32 and stores them as one float4. Loads use float4 when the operand's pointer is 16-byte
// aligned and its leading dimension a multiple of 4 and all 4 elements are inside the matrix; any
// other (edge or unaligned) group falls back to 4 bounds-checked scalar loads. Out-of-range elements
// are staged as 0, so k that is not a multiple of 8 and ragged m/n edges need no special main loop.
// Every output is the sum over k of products (in slab order, FMA), then alpha * sum (+ beta * c).
// Split-K (kdrec_gemm_*_splitk + kdrec_gemm_splitk_reduce): for outputs with few 128 x 128 tiles and a
// long k (kdrec's dU = G . I is 1024 x 64 with k = 4,000), blockIdx.z takes one k chunk and stores its
// raw sums to a workspace slice; the reduce kernel adds the slices in a fixed order (deterministic) and
// applies alpha/beta once. The wrapper (GpuGemm.splitK) decides.
#include "common.cuh"

namespace kdrec_gemm {

constexpr int BM = 128, BN = 128, BK = 8;  // 256 threads per block (the thread maps below assume it)
constexpr int LDS = 128 + 4;  // shared row stride in floats: 16-byte aligned rows, conflict-free transposed stores

__device__ __forceinline__ bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// Fetches this thread's 4 elements of the slab (mn in [mn0, mn0+128), p in [k0, k0+8)) of an operand
// whose element (mn, p) lives at X[mn * ld + p] when KC (k-contiguous) or X[p * ld + mn] otherwise.
// MN is the operand's extent along mn (m for A, n for B), K the depth.
template <bool KC>
__device__ __forceinline__ void fetch(const float* __restrict__ X, int ld, int MN, int K, int mn0, int k0,
                                      bool vec, float v[4]) {
  const int t = threadIdx.x;
  if (KC) {
    const int mn = mn0 + (t >> 1), p = k0 + (t & 1) * 4;
    const float* src = X + (long long)mn * ld + p;
    if (vec && mn < MN && p + 3 < K) {
      const float4 q = *reinterpret_cast<const float4*>(src);
      v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else {
#pragma unroll
      for (int i = 0; i < 4; i++) v[i] = (mn < MN && p + i < K) ? src[i] : 0.f;
    }
  } else {
    const int p = k0 + (t >> 5), mn = mn0 + (t & 31) * 4;
    const float* src = X + (long long)p * ld + mn;
    if (vec && p < K && mn + 3 < MN) {
      const float4 q = *reinterpret_cast<const float4*>(src);
      v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else {
#pragma unroll
      for (int i = 0; i < 4; i++) v[i] = (p < K && mn + i < MN) ? src[i] : 0.f;
    }
  }
}

// Stores the 4 fetched elements into the k-major shared slab S[p][mn] (row stride LDS).
template <bool KC>
__device__ __forceinline__ void stash(float* S, const float v[4]) {
  const int t = threadIdx.x;
  if (KC) {
    const int mn = t >> 1, p = (t & 1) * 4;
#pragma unroll
    for (int i = 0; i < 4; i++) S[(p + i) * LDS + mn] = v[i];
  } else {
    const int p = t >> 5, mn = (t & 31) * 4;
    *reinterpret_cast<float4*>(S + p * LDS + mn) = make_float4(v[0], v[1], v[2], v[3]);
  }
}

// The narrow tile's B slab (8 x 64, BN = 64): this thread's 2 elements, (mn, p) at X[mn * ld + p] when
// KC, X[p * ld + mn] otherwise; float2 loads when the pointer is 8-byte aligned and ld even.
template <bool KC>
__device__ __forceinline__ void fetch_narrow(const float* __restrict__ X, int ld, int MN, int K, int mn0, int k0,
                                             bool vec, float v[2]) {
  const int t = threadIdx.x;
  const int mn = KC ? mn0 + (t >> 2) : mn0 + (t & 31) * 2, p = KC ? k0 + (t & 3) * 2 : k0 + (t >> 5);
  const float* src = KC ? X + (long long)mn * ld + p : X + (long long)p * ld + mn;
  const bool whole = KC ? (mn < MN && p + 1 < K) : (p < K && mn + 1 < MN);
  if (vec && whole) {
    const float2 q = *reinterpret_cast<const float2*>(src);
    v[0] = q.x; v[1] = q.y;
  } else if (KC) {
#pragma unroll
    for (int i = 0; i < 2; i++) v[i] = (mn < MN && p + i < K) ? src[i] : 0.f;
  } else {
#pragma unroll
    for (int i = 0; i < 2; i++) v[i] = (p < K && mn + i < MN) ? src[i] : 0.f;
  }
}

// Stores fetch_narrow's 2 elements into the k-major slab S[p][mn] (KC: 8 rows x 4 k-pairs per warp,
// banks (4p + mn) mod 32 all distinct).
template <bool KC>
__device__ __forceinline__ void stash_narrow(float* S, const float v[2]) {
  const int t = threadIdx.x;
  if (KC) {
    const int mn = t >> 2, p = (t & 3) * 2;
    S[p * LDS + mn] = v[0];
    S[(p + 1) * LDS + mn] = v[1];
  } else {
    const int p = t >> 5, mn = (t & 31) * 2;
    *reinterpret_cast<float2*>(S + p * LDS + mn) = make_float2(v[0], v[1]);
  }
}

// c = alpha * acc (+ beta * c): the scalar twin's storeRow, rounding included (no FMA contraction).
__device__ __forceinline__ float finish(float acc, float alpha, float beta, const float* c) {
  float v = __fmul_rn(alpha, acc);
  if (beta != 0.f) v = __fadd_rn(v, __fmul_rn(beta, *c));
  return v;
}

// B's slab for a tile of width TN_: fetch/stash (4 per thread) for 128, the narrow pair for 64.
template <bool KC, int TN_>
__device__ __forceinline__ void fetch_b(const float* __restrict__ X, int ld, int MN, int K, int mn0, int k0, bool vec, float* v) {
  if constexpr (TN_ == 128) fetch<KC>(X, ld, MN, K, mn0, k0, vec, v);
  else fetch_narrow<KC>(X, ld, MN, K, mn0, k0, vec, v);
}
template <bool KC, int TN_>
__device__ __forceinline__ void stash_b(float* S, const float* v) {
  if constexpr (TN_ == 128) stash<KC>(S, v);
  else stash_narrow<KC>(S, v);
}

// PARTIAL (split-K): block z sums only k in [z * kChunk, min(k, (z+1) * kChunk)) and stores the raw
// sums to C + z * m * n (a dense m x n workspace, ldc == n); kdrec_gemm_splitk_reduce finishes.
// TN_ is the tile's width: 128, or 64 for outputs at most 64 wide (kdrec's dU = G . I and dI = G^T . U
// with n = d = 64, where a 128-wide tile computes as many zero columns as real ones): then each thread
// owns 8 x 4 outputs (columns tx*4 .. +3) and the B slab is 8 x 64, two elements per thread.
template <bool A_KC, bool B_KC, bool PARTIAL, int TN_ = BN>
__device__ __forceinline__ void gemm(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                                     const float* __restrict__ B, int ldb, float beta, float* C, int ldc, int kChunk) {
  static_assert(TN_ == 128 || TN_ == 64, "tile width 128 or 64");
  constexpr int TJ = TN_ / 16;  // output columns per thread: 8 (two halves 64 apart) or 4
  constexpr int NV = TN_ == 128 ? 4 : 2;  // B elements fetched per thread per slab
  __shared__ __align__(16) float As[2][BK * LDS];
  __shared__ __align__(16) float Bs[2][BK * LDS];
  const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * TN_;
  const bool avec = aligned16(A) && (lda & 3) == 0;
  const bool bvec = TN_ == 128 ? aligned16(B) && (ldb & 3) == 0 : (reinterpret_cast<uintptr_t>(B) & 7u) == 0 && (ldb & 1) == 0;

  float acc[8][TJ];
#pragma unroll
  for (int i = 0; i < 8; i++)
#pragma unroll
    for (int j = 0; j < TJ; j++) acc[i][j] = 0.f;

  // k range of this block; kBegin is a multiple of BK (kChunk is), so the float4 alignment argument holds
  const int kBegin = PARTIAL ? blockIdx.z * kChunk : 0;
  const int kEnd = PARTIAL ? min(k, kBegin + kChunk) : k;
  const int slabs = kEnd > kBegin ? (kEnd - kBegin + BK - 1) / BK : 0;
  float va[4], vb[NV];
  if (slabs > 0) {
    fetch<A_KC>(A, lda, m, kEnd, m0, kBegin, avec, va);
    fetch_b<B_KC, TN_>(B, ldb, n, kEnd, n0, kBegin, bvec, vb);
    stash<A_KC>(As[0], va);
    stash_b<B_KC, TN_>(Bs[0], vb);
  }
  __syncthreads();
  for (int s = 0; s < slabs; s++) {
    const int cur = s & 1;
    const bool more = s + 1 < slabs;
    if (more) {  // global loads of the next slab are in flight during the FMAs below
      fetch<A_KC>(A, lda, m, kEnd, m0, kBegin + (s + 1) * BK, avec, va);
      fetch_b<B_KC, TN_>(B, ldb, n, kEnd, n0, kBegin + (s + 1) * BK, bvec, vb);
    }
    const float* as = As[cur];
    const float* bs = Bs[cur];
#pragma unroll
    for (int p = 0; p < BK; p++) {
      const float4 a0 = *reinterpret_cast<const float4*>(as + p * LDS + ty * 4);
      const float4 a1 = *reinterpret_cast<const float4*>(as + p * LDS + 64 + ty * 4);
      const float4 b0 = *reinterpret_cast<const float4*>(bs + p * LDS + tx * 4);
      const float ra[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      float rb[TJ];
      rb[0] = b0.x; rb[1] = b0.y; rb[2] = b0.z; rb[3] = b0.w;
      if constexpr (TJ == 8) {
        const float4 b1 = *reinterpret_cast<const float4*>(bs + p * LDS + 64 + tx * 4);
        rb[4] = b1.x; rb[5] = b1.y; rb[6] = b1.z; rb[7] = b1.w;
      }
#pragma unroll
      for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < TJ; j++) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
    }
    // The other buffer was last read in iteration s-1, which ended with a barrier: safe to overwrite.
    if (more) {
      stash<A_KC>(As[cur ^ 1], va);
      stash_b<B_KC, TN_>(Bs[cur ^ 1], vb);
    }
    __syncthreads();
  }

  if (PARTIAL) {  // raw sums into this split's slice of the workspace
    float* W = C + (long long)blockIdx.z * m * n;
#pragma unroll
    for (int i = 0; i < 8; i++) {
      const int row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
      if (row >= m) continue;
#pragma unroll
      for (int j = 0; j < TJ; j++) {
        const int col = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
        if (col < n) W[(long long)row * n + col] = acc[i][j];
      }
    }
    return;
  }
  const bool cvec = aligned16(C) && (ldc & 3) == 0;
#pragma unroll
  for (int i = 0; i < 8; i++) {
    const int row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    if (row >= m) continue;
    float* crow = C + (long long)row * ldc;
#pragma unroll
    for (int h = 0; h < TJ / 4; h++) {
      const int col = n0 + h * 64 + tx * 4;
      if (cvec && col + 3 < n) {
        float4* c4 = reinterpret_cast<float4*>(crow + col);
        float4 old = make_float4(0.f, 0.f, 0.f, 0.f);
        if (beta != 0.f) old = *c4;
        float4 r;
        r.x = finish(acc[i][h * 4 + 0], alpha, beta, &old.x);
        r.y = finish(acc[i][h * 4 + 1], alpha, beta, &old.y);
        r.z = finish(acc[i][h * 4 + 2], alpha, beta, &old.z);
        r.w = finish(acc[i][h * 4 + 3], alpha, beta, &old.w);
        *c4 = r;
      } else {
#pragma unroll
        for (int j = 0; j < 4; j++) {
          if (col + j < n) crow[col + j] = finish(acc[i][h * 4 + j], alpha, beta, crow + col + j);
        }
      }
    }
  }
}

}  // namespace kdrec_gemm

// Grid: (ceil(n/128), ceil(m/128)), block 256, no dynamic shared memory (16.5 KB static: 2 buffers x 2 operands x 8 x 132 floats).
// A, B, C point at the first element of each operand (the wrapper applies the element offsets).

// C = alpha * A . B + beta * C ; A m x k (lda), B k x n (ldb).
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nn(int m, int n, int k, float alpha, const float* A, int lda,
                                                                 const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<true, false, false>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}

// C = alpha * A . B^T + beta * C ; A m x k (lda), B n x k (ldb).
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nt(int m, int n, int k, float alpha, const float* A, int lda,
                                                                 const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<true, true, false>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}

// C = alpha * A^T . B + beta * C ; A k x m (lda), B k x n (ldb).
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_tn(int m, int n, int k, float alpha, const float* A, int lda,
                                                                 const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<false, false, false>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}

// Split-K (the wrapper's choice for few output tiles and long k, e.g. dU = G . I with n = 64): grid
// (ceil(n/128), ceil(m/128), splits); block z writes the raw sums over its k chunk (kChunk, a multiple
// of 8) to W + z * m * n. No alpha/beta here: kdrec_gemm_splitk_reduce applies them once.
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nn_splitk(int m, int n, int k, const float* A, int lda,
                                                                        const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<true, false, true>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}

extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nt_splitk(int m, int n, int k, const float* A, int lda,
                                                                        const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<true, true, true>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}

extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_tn_splitk(int m, int n, int k, const float* A, int lda,
                                                                        const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<false, false, true>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}

// The narrow tile (128 x 64; GpuGemm's choice when n <= 64): grid (ceil(n/64), ceil(m/128)[, splits]),
// otherwise the same arguments and contracts as the kernels above.
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nn_n64(int m, int n, int k, float alpha, const float* A, int lda,
                                                                     const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<true, false, false, 64>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nt_n64(int m, int n, int k, float alpha, const float* A, int lda,
                                                                     const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<true, true, false, 64>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_tn_n64(int m, int n, int k, float alpha, const float* A, int lda,
                                                                     const float* B, int ldb, float beta, float* C, int ldc) {
  kdrec_gemm::gemm<false, false, false, 64>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nn_n64_splitk(int m, int n, int k, const float* A, int lda,
                                                                            const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<true, false, true, 64>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_nt_n64_splitk(int m, int n, int k, const float* A, int lda,
                                                                            const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<true, true, true, 64>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}
extern "C" __global__ __launch_bounds__(256, 2) void kdrec_gemm_tn_n64_splitk(int m, int n, int k, const float* A, int lda,
                                                                            const float* B, int ldb, float* W, int kChunk) {
  kdrec_gemm::gemm<false, false, true, 64>(m, n, k, 1.f, A, lda, B, ldb, 0.f, W, n, kChunk);
}

// C = alpha * (sum over z = 0..splits-1 of W[z]) (+ beta * C), the splits added in a fixed order (deterministic).
// 1-D grid-stride over the m * n outputs.
extern "C" __global__ void kdrec_gemm_splitk_reduce(int m, int n, int splits, const float* W, float alpha, float beta,
                                                    float* C, int ldc) {
  const long long mn = (long long)m * n;
  KDREC_GRID_STRIDE(e, mn) {
    float s = W[e];
    for (int z = 1; z < splits; z++) s += W[z * mn + e];
    const long long i = e / n, j = e - i * n;
    float* c = C + i * ldc + j;
    *c = kdrec_gemm::finish(s, alpha, beta, c);
  }
}

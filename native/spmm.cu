// native/spmm.cu — CSR sparse x dense products (kdrec.cpu.SpmmScalar's spmm, spmmT, spmmRows) for
// LightGCN propagation: Y = A . X + beta Y over the normalised bipartite adjacency (Gowalla: 71k rows,
// 1.6M entries, d = 20..300).
//
// kdrec_spmm_gather_g{8,16,32} — one output row per GROUP of G lanes (G = 8, 16 or 32, picked by the wrapper
// from d so that small d does not leave most of a warp idle). Lane l of a group owns columns
// c = c0 + l + q*G (q < CHUNKS) of the output row, kept in registers while the row's entries stream
// by: the group loads G entries (col, val) cooperatively, one per lane, then broadcasts them one at
// a time with __shfl_sync, and every lane does acc[q] += v * X[col][c]. Consecutive lanes read
// consecutive floats of an X row (coalesced). d > G*CHUNKS takes several passes over the row's
// entries (d = 300, G = 32: 3 passes; the entries are L1/L2 hits the second time). Each output
// element is summed by one lane in storage order, so the result is deterministic run to run.
// Optional indirections make the same kernel serve all three ops:
//   rows (nullable)  : output row t reads source row rows[t]          (spmmRows)
//   perm (nullable)  : entry k takes its value from val[perm[k]]      (spmmT over a host-built
//                      transpose whose perm maps transposed entries to the original val, so val may
//                      change between calls — edge weights — while the structure stays fixed)
//   val  (nullable)  : all-ones pattern matrix
// A null pointer arrives as a 64-bit 0 (the wrapper passes Long 0L: kernel parameters are raw bytes).
//
// kdrec_spmm_scatter_atomic_g{8,16,32} — spmmT without a transpose: one group per SOURCE row i, lane c reads
// X[i][c] once per pass and atomically adds val * X[i][c] into Y[col[k]][c] for every entry k.
// Float atomics: the order of additions into one Y element varies run to run (results may differ in
// the last bits). kdrec_spmm_scale applies beta to Y first (beta == 0 writes 0: Y is not read).
//
// No index is checked on the device: the wrapper checks shapes and buffer sizes, and the CSR
// structure is checked on the host (kdrec.cpu.Csr.check) when it is built and uploaded.
#include "common.cuh"

namespace kdrec_spmm {

// Column chunks of G a lane keeps in registers per pass over a row's entries.
constexpr int CHUNKS = 4;
// Entries whose X loads gather_rows issues together before their fmas.
constexpr int kBatch = 8;

template <int G>
__device__ __forceinline__ unsigned group_mask(int lane_in_warp) {
  if constexpr (G == 32) {
    return 0xffffffffu;
  } else {
    return ((1u << G) - 1u) << (lane_in_warp & ~(G - 1));
  }
}

template <int G>
__device__ __forceinline__ void gather_rows(int n_out, int d, const int* __restrict__ rows, const int* __restrict__ ptr,
                            const int* __restrict__ col, const float* __restrict__ val,
                            const int* __restrict__ perm, const float* __restrict__ x, int ldx, float beta,
                            float* __restrict__ y, int ldy) {
  const int lane_in_warp = threadIdx.x & 31;
  const int lane = lane_in_warp & (G - 1);
  const unsigned mask = group_mask<G>(lane_in_warp);
  const long long groups = (long long)gridDim.x * (blockDim.x / G);
  // Every lane of a group has the same t, so whole groups enter and leave this loop together and
  // the group-masked shuffles below always see all G lanes.
  for (long long t = (long long)blockIdx.x * (blockDim.x / G) + threadIdx.x / G; t < n_out; t += groups) {
    const int src = rows != nullptr ? rows[t] : (int)t;
    const int k0 = ptr[src], k1 = ptr[src + 1];
    float* yr = y + t * (long long)ldy;
    for (int c0 = 0; c0 < d; c0 += G * CHUNKS) {
      float acc[CHUNKS];
#pragma unroll
      for (int q = 0; q < CHUNKS; q++) acc[q] = 0.f;
      for (int kb = k0; kb < k1; kb += G) {
        // One entry per lane; lanes past the row's end hold a harmless (0, 0) never broadcast.
        const int k = kb + lane;
        int ck = 0;
        float vk = 0.f;
        if (k < k1) {
          ck = col[k];
          vk = val == nullptr ? 1.f : val[perm != nullptr ? perm[k] : k];
        }
        const int cnt = min(G, k1 - kb);
        int j = 0;
        // kBatch entries' X values are loaded before their fmas: with each load inside its fma's column
        // branch, every entry waited one L2 round trip for the previous one (a row of ~23 entries, ~1,000
        // for a popular item, at d = 20 all in one chunk). Per chunk the fmas still run in entry order.
        for (; j + kBatch <= cnt; j += kBatch) {
          int cjs[kBatch];
          float vs[kBatch];
#pragma unroll
          for (int b = 0; b < kBatch; b++) {
            cjs[b] = __shfl_sync(mask, ck, j + b, G);
            vs[b] = __shfl_sync(mask, vk, j + b, G);
          }
#pragma unroll
          for (int q = 0; q < CHUNKS; q++) {
            if (c0 + q * G < d) {  // the group has columns in this chunk; lanes past d read column d - 1 and discard it
              const int c = min(c0 + lane + q * G, d - 1);
              float xs[kBatch];
#pragma unroll
              for (int b = 0; b < kBatch; b++) xs[b] = x[(long long)cjs[b] * ldx + c];
#pragma unroll
              for (int b = 0; b < kBatch; b++) acc[q] = fmaf(vs[b], xs[b], acc[q]);
            }
          }
        }
        for (; j < cnt; j++) {
          const int cj = __shfl_sync(mask, ck, j, G);
          const float vj = __shfl_sync(mask, vk, j, G);
          const float* xr = x + (long long)cj * ldx;
#pragma unroll
          for (int q = 0; q < CHUNKS; q++) {
            const int c = c0 + lane + q * G;
            if (c < d) acc[q] = fmaf(vj, xr[c], acc[q]);
          }
        }
      }
#pragma unroll
      for (int q = 0; q < CHUNKS; q++) {
        const int c = c0 + lane + q * G;
        // beta == 0: Y is only written, so NaN/garbage in Y does not propagate (CPU contract).
        if (c < d) yr[c] = beta == 0.f ? acc[q] : fmaf(beta, yr[c], acc[q]);
      }
    }
  }
}

template <int G>
__device__ __forceinline__ void scatter_rows(int m, int d, const int* __restrict__ ptr, const int* __restrict__ col,
                             const float* __restrict__ val, const float* __restrict__ x, int ldx,
                             float* __restrict__ y, int ldy) {
  const int lane = threadIdx.x & (G - 1);
  const long long groups = (long long)gridDim.x * (blockDim.x / G);
  for (long long i = (long long)blockIdx.x * (blockDim.x / G) + threadIdx.x / G; i < m; i += groups) {
    const int k0 = ptr[i], k1 = ptr[i + 1];
    const float* xr = x + i * (long long)ldx;
    for (int c0 = 0; c0 < d; c0 += G * CHUNKS) {
      float xv[CHUNKS];
#pragma unroll
      for (int q = 0; q < CHUNKS; q++) {
        const int c = c0 + lane + q * G;
        xv[q] = c < d ? xr[c] : 0.f;
      }
      for (int k = k0; k < k1; k++) {
        // Every lane reads the same col/val address: one broadcast transaction per entry.
        const float v = val == nullptr ? 1.f : val[k];
        float* yr = y + (long long)col[k] * ldy;
#pragma unroll
        for (int q = 0; q < CHUNKS; q++) {
          const int c = c0 + lane + q * G;
          if (c < d) atomicAdd(yr + c, v * xv[q]);
        }
      }
    }
  }
}

}  // namespace kdrec_spmm

// Y[t] = A[rows ? rows[t] : t] . X + beta Y[t] for t < n_out (see header). One kernel per group
// width rather than a switch on it: ptxas spilled the three inlined instantiations of one kernel.
#define KDREC_SPMM_GATHER_PARAMS                                                                     \
  int n_out, int d, const int* __restrict__ rows, const int* __restrict__ ptr,                       \
      const int* __restrict__ col, const float* __restrict__ val, const int* __restrict__ perm,      \
      const float* __restrict__ x, int ldx, float beta, float* __restrict__ y, int ldy
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_gather_g8(KDREC_SPMM_GATHER_PARAMS) {
  kdrec_spmm::gather_rows<8>(n_out, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
}
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_gather_g16(KDREC_SPMM_GATHER_PARAMS) {
  kdrec_spmm::gather_rows<16>(n_out, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
}
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_gather_g32(KDREC_SPMM_GATHER_PARAMS) {
  kdrec_spmm::gather_rows<32>(n_out, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
}
#undef KDREC_SPMM_GATHER_PARAMS

// Y[r][c] = beta == 0 ? 0 : beta * Y[r][c] over an (n x d, leading dim ldy) block; grid-stride.
extern "C" __global__ void kdrec_spmm_scale(int n, int d, float beta, float* __restrict__ y, int ldy) {
  KDREC_GRID_STRIDE(i, (long long)n * d) {
    const long long r = i / d;
    float* p = y + r * ldy + (i - r * d);
    *p = beta == 0.f ? 0.f : beta * *p;
  }
}

// Y[col[k]] += val[k] * X[i] for every entry k of every row i < m (float atomics; see header).
#define KDREC_SPMM_SCATTER_PARAMS                                                                    \
  int m, int d, const int* __restrict__ ptr, const int* __restrict__ col,                            \
      const float* __restrict__ val, const float* __restrict__ x, int ldx, float* __restrict__ y, int ldy
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_scatter_atomic_g8(KDREC_SPMM_SCATTER_PARAMS) {
  kdrec_spmm::scatter_rows<8>(m, d, ptr, col, val, x, ldx, y, ldy);
}
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_scatter_atomic_g16(KDREC_SPMM_SCATTER_PARAMS) {
  kdrec_spmm::scatter_rows<16>(m, d, ptr, col, val, x, ldx, y, ldy);
}
extern "C" __global__ __launch_bounds__(256) void kdrec_spmm_scatter_atomic_g32(KDREC_SPMM_SCATTER_PARAMS) {
  kdrec_spmm::scatter_rows<32>(m, d, ptr, col, val, x, ldx, y, ldy);
}
#undef KDREC_SPMM_SCATTER_PARAMS

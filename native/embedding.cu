// native/embedding.cu — embedding-table kernels (kdrec.cpu.EmbeddingScalar): row gather, scatter-add,
// and the row-wise dot of gathered rows with its backward (BPR: s_ui = <e_u, e_i> over a batch), and
// the input rows of padded item sequences (HSTU: scale * item row + position row).
//
// gather, scatter_add, row_dot_backward: one thread per (t, c) element of the n x d batch, grid-stride
// over n*d (t = i / d, c = i % d), so consecutive threads touch consecutive floats of a row.
// scatter_add and row_dot_backward accumulate with float atomicAdd: duplicate destination indices
// (the same item twice in a batch) add up, but in an order that varies run to run, so with
// duplicates the last bits may differ between runs. Without duplicates each destination element gets
// exactly one addition, dst + src (rowDotBackward: dst + g*src, the product rounded first), which is
// the CPU's arithmetic: those results are bit-identical to EmbeddingScalar. rowDotBackward does the
// dA and dB updates in one pass; with atomics that is also correct when dA and dB are the same table
// (gradients must not overlap A or B, as on the CPU). For a deterministic scatter-add that equals the
// CPU bit for bit even with duplicates, scatter_add_planned takes a host-built sorted plan (below).
//
// row_dot_g{8,16,32}: one output per GROUP of G lanes (G picked by the wrapper from d); each lane
// sums its strided columns with fmaf, then a fixed xor-shuffle tree sums the group:
// deterministic, but a different summation order than the CPU's sequential loop.
//
// Null index arrays (identity) arrive as a 64-bit 0 (the wrapper passes Long 0L). No index is checked
// on the device (that would need a download per call): the caller guarantees range, as the CPU twin
// checks it.
#include "common.cuh"

namespace kdrec_embedding {

template <int G>
__device__ __forceinline__ unsigned group_mask(int lane_in_warp) {
  if constexpr (G == 32) {
    return 0xffffffffu;
  } else {
    return ((1u << G) - 1u) << (lane_in_warp & ~(G - 1));
  }
}

template <int G>
__device__ __forceinline__ void row_dot(int n, int d, const int* __restrict__ ia, const float* __restrict__ a, int lda,
                                        const int* __restrict__ ib, const float* __restrict__ b, int ldb,
                                        float* __restrict__ out) {
  const int lane_in_warp = threadIdx.x & 31;
  const int lane = lane_in_warp & (G - 1);
  const unsigned mask = group_mask<G>(lane_in_warp);
  const long long groups = (long long)gridDim.x * (blockDim.x / G);
  // All G lanes of a group share t: they enter and leave the loop together (the shuffle needs them).
  for (long long t = (long long)blockIdx.x * (blockDim.x / G) + threadIdx.x / G; t < n; t += groups) {
    const float* ar = a + (long long)(ia != nullptr ? ia[t] : (int)t) * lda;
    const float* br = b + (long long)(ib != nullptr ? ib[t] : (int)t) * ldb;
    float s = 0.f;
    for (int c = lane; c < d; c += G) s = fmaf(ar[c], br[c], s);
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) s += __shfl_xor_sync(mask, s, o, G);
    if (lane == 0) out[t] = s;
  }
}

}  // namespace kdrec_embedding

// out[t][c] = table[idx[t]][c] for t < n, c < d.
extern "C" __global__ void kdrec_embedding_gather(int n, int d, const int* __restrict__ idx, const float* __restrict__ table,
                                                  int ldt, float* __restrict__ out, int ldo) {
  KDREC_GRID_STRIDE(i, (long long)n * d) {
    const long long t = i / d, c = i - t * d;
    out[t * ldo + c] = table[(long long)idx[t] * ldt + c];
  }
}

// The input rows of a batch of b padded sequences of length n (kdrec.autograd.Attention.embed):
// x[s*n+p][c] = scale * table[ids[s*n+p]][c] + positions[p][c] for p < len[s], 0 for padding (whose ids
// are not read). Product and sum rounded separately (no fma), as the CPU's scale-then-axpy.
extern "C" __global__ void kdrec_embedding_sequence(int b, int n, int d, const int* __restrict__ ids, const int* __restrict__ len,
                                                    const float* __restrict__ table, const float* __restrict__ positions,
                                                    float scale, float* __restrict__ x) {
  KDREC_GRID_STRIDE(i, (long long)b * n * d) {
    const long long row = i / d, c = i - row * d;
    const int s = (int)(row / n), p = (int)(row - (long long)s * n);
    x[i] = p < len[s] ? __fadd_rn(__fmul_rn(scale, table[(long long)ids[row] * d + c]), positions[(long long)p * d + c]) : 0.f;
  }
}

// table[idx[t]][c] += src[t][c] (float atomics: duplicates in idx accumulate, order unspecified).
extern "C" __global__ void kdrec_embedding_scatter_add(int n, int d, const int* __restrict__ idx, const float* __restrict__ src,
                                                       int lds, float* __restrict__ table, int ldt) {
  KDREC_GRID_STRIDE(i, (long long)n * d) {
    const long long t = i / d, c = i - t * d;
    atomicAdd(table + (long long)idx[t] * ldt + c, src[t * lds + c]);
  }
}

// Deterministic scatter-add over a host-built plan (GpuEmbedding.ScatterPlan): unique destination
// rows urow[u], whose contributions are src rows perm[sptr[u] .. sptr[u+1]) in increasing t. One
// thread per (u, c), grid-stride over nu*d: it adds them one by one onto the table value with
// __fadd_rn (never contracted), which is EmbeddingScalar.scatterAdd's arithmetic in its order, so
// the result is bit-identical to the CPU, duplicates included. Distinct u own distinct rows: no race.
extern "C" __global__ void kdrec_embedding_scatter_add_planned(int nu, int d, const int* __restrict__ urow,
                                                               const int* __restrict__ sptr, const int* __restrict__ perm,
                                                               const float* __restrict__ src, int lds,
                                                               float* __restrict__ table, int ldt) {
  KDREC_GRID_STRIDE(i, (long long)nu * d) {
    const long long u = i / d, c = i - u * d;
    float* dst = table + (long long)urow[u] * ldt + c;
    float acc = *dst;
    for (int k = sptr[u], k1 = sptr[u + 1]; k < k1; k++) acc = __fadd_rn(acc, src[(long long)perm[k] * lds + c]);
    *dst = acc;
  }
}

// out[t] = <A[ia ? ia[t] : t], B[ib ? ib[t] : t]> for t < n; one group of G lanes per t.
#define KDREC_EMBEDDING_ROW_DOT_PARAMS                                                                 \
  int n, int d, const int* __restrict__ ia, const float* __restrict__ a, int lda, const int* __restrict__ ib, \
      const float* __restrict__ b, int ldb, float* __restrict__ out
extern "C" __global__ void kdrec_embedding_row_dot_g8(KDREC_EMBEDDING_ROW_DOT_PARAMS) {
  kdrec_embedding::row_dot<8>(n, d, ia, a, lda, ib, b, ldb, out);
}
extern "C" __global__ void kdrec_embedding_row_dot_g16(KDREC_EMBEDDING_ROW_DOT_PARAMS) {
  kdrec_embedding::row_dot<16>(n, d, ia, a, lda, ib, b, ldb, out);
}
extern "C" __global__ void kdrec_embedding_row_dot_g32(KDREC_EMBEDDING_ROW_DOT_PARAMS) {
  kdrec_embedding::row_dot<32>(n, d, ia, a, lda, ib, b, ldb, out);
}
#undef KDREC_EMBEDDING_ROW_DOT_PARAMS

// BPR over a batch of (user, positive, negative) triples in one launch, the fusion of what DeviceBpr ran as
// eight (two row dots, the difference, log-sigmoid and its backward, the negation, two row-dot
// backwards): per triple t, one group of G lanes computes s+ = <U[u], I[p]> and s- = <U[u], I[q]> exactly
// as row_dot<G> does (same lane striding, same xor tree), then
//   log_sig[t] = log sigmoid(s+ - s-)   (kdrec_act_log_sigmoid's double formula, one rounding)
//   g = -sigmoid(-(s+ - s-))             (kdrec_act_log_sigmoid_backward of an upstream -1 into 0)
//   dU[u] += g I[p] ; dI[p] += g U[u] ; dU[u] += (-g) I[q] ; dI[q] += (-g) U[u]   (float atomics)
// so every value equals the unfused chain's; only the order of the atomic additions differs (it varies
// run to run in either). U, I and dU, dI are the final embeddings and their gradients (leading dim d).
namespace kdrec_embedding {
template <int G>
__device__ __forceinline__ void bpr_pairs(int n, int d, const int* __restrict__ users, const int* __restrict__ pos,
                                          const int* __restrict__ neg, const float* __restrict__ u_rows,
                                          const float* __restrict__ i_rows, float* __restrict__ log_sig, float* du, float* di) {
  const int lane_in_warp = threadIdx.x & 31;
  const int lane = lane_in_warp & (G - 1);
  const unsigned mask = group_mask<G>(lane_in_warp);
  const long long groups = (long long)gridDim.x * (blockDim.x / G);
  for (long long t = (long long)blockIdx.x * (blockDim.x / G) + threadIdx.x / G; t < n; t += groups) {
    const long long u = users[t], p = pos[t], q = neg[t];
    const float* ur = u_rows + u * d;
    const float* pr = i_rows + p * d;
    const float* qr = i_rows + q * d;
    float sp = 0.f, sn = 0.f;
    for (int c = lane; c < d; c += G) {
      sp = fmaf(ur[c], pr[c], sp);
      sn = fmaf(ur[c], qr[c], sn);
    }
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) {
      sp += __shfl_xor_sync(mask, sp, o, G);
      sn += __shfl_xor_sync(mask, sn, o, G);
    }
    const float diff = sp - sn;  // every lane holds the same sums after the xor tree
    const double v = (double)diff;
    if (lane == 0) {
      const double m = v < 0.0 ? v : (v != v ? v : 0.0);  // NaN flows, as the CPU's Math.min
      log_sig[t] = (float)(m - log1p(exp(-fabs(v))));
    }
    const float g = (float)(0.0 + -1.0 * (1.0 / (1.0 + exp(v))));  // -sigmoid(-diff), as the unfused backward
    const float gn = -1.f * g;
    for (int c = lane; c < d; c += G) {
      const float uc = ur[c];
      atomicAdd(du + u * d + c, g * pr[c]);
      atomicAdd(di + p * d + c, g * uc);
      atomicAdd(du + u * d + c, gn * qr[c]);
      atomicAdd(di + q * d + c, gn * uc);
    }
  }
}
}  // namespace kdrec_embedding

#define KDREC_EMBEDDING_BPR_PARAMS                                                                              \
  int n, int d, const int* __restrict__ users, const int* __restrict__ pos, const int* __restrict__ neg,     \
      const float* __restrict__ u_rows, const float* __restrict__ i_rows, float* __restrict__ log_sig, float* du, float* di
extern "C" __global__ void kdrec_embedding_bpr_pairs_g8(KDREC_EMBEDDING_BPR_PARAMS) {
  kdrec_embedding::bpr_pairs<8>(n, d, users, pos, neg, u_rows, i_rows, log_sig, du, di);
}
extern "C" __global__ void kdrec_embedding_bpr_pairs_g16(KDREC_EMBEDDING_BPR_PARAMS) {
  kdrec_embedding::bpr_pairs<16>(n, d, users, pos, neg, u_rows, i_rows, log_sig, du, di);
}
extern "C" __global__ void kdrec_embedding_bpr_pairs_g32(KDREC_EMBEDDING_BPR_PARAMS) {
  kdrec_embedding::bpr_pairs<32>(n, d, users, pos, neg, u_rows, i_rows, log_sig, du, di);
}
#undef KDREC_EMBEDDING_BPR_PARAMS

// dA[ia[t]][c] += g[t] * B[ib[t]][c] ; dB[ib[t]][c] += g[t] * A[ia[t]][c]  (da or db may be null:
// that half is skipped; null ia/ib = identity). Float atomics, see header. No __restrict__ on the
// gradients: they may be the same table.
extern "C" __global__ void kdrec_embedding_row_dot_backward(int n, int d, const int* __restrict__ ia, const float* __restrict__ a,
                                                            int lda, const int* __restrict__ ib, const float* __restrict__ b,
                                                            int ldb, const float* __restrict__ g, float* da, int ldda,
                                                            float* db, int lddb) {
  KDREC_GRID_STRIDE(i, (long long)n * d) {
    const long long t = i / d, c = i - t * d;
    const long long ra = ia != nullptr ? ia[t] : t, rb = ib != nullptr ? ib[t] : t;
    const float gt = g[t];
    if (da != nullptr) atomicAdd(da + ra * ldda + c, gt * b[rb * ldb + c]);
    if (db != nullptr) atomicAdd(db + rb * lddb + c, gt * a[ra * lda + c]);
  }
}

// Ragged row gather: output row r is row src[r] of a CSR source (entries [srcPtr[s], srcPtr[s+1]) of
// srcIdx / srcVal), written from dstPtr[r] on, ids copied and values multiplied by rowScale[r] (null
// rowScale: copied; null srcVal: ids only). The caller builds dstPtr from the source rows' lengths.
// RCE-KD on the device takes a batch's rows out of the epoch's per-user lists this way, so only the
// batch's user ids and per-row scalars cross PCIe per step. One warp per row (lanes over the row's
// entries, coalesced), grid-stride over rows; no collectives. Exact: one rounded product per value,
// as the host's c * v.
extern "C" __global__ void kdrec_embedding_gather_ragged(int m, const int* __restrict__ src, const int* __restrict__ src_ptr,
                                                         const int* __restrict__ src_idx, const float* __restrict__ src_val,
                                                         const int* __restrict__ dst_ptr, const float* __restrict__ row_scale,
                                                         int* __restrict__ dst_idx, float* __restrict__ dst_val) {
  const int lane = threadIdx.x & 31;
  const long long warps = (long long)gridDim.x * (blockDim.x / 32);
  for (long long r = (long long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < m; r += warps) {
    const int s = src[r];
    const int from = src_ptr[s], len = src_ptr[s + 1] - from, to = dst_ptr[r];
    const float c = row_scale != nullptr ? row_scale[r] : 1.f;
    for (int j = lane; j < len; j += 32) {
      dst_idx[to + j] = src_idx[from + j];
      if (src_val != nullptr) dst_val[to + j] = row_scale != nullptr ? c * src_val[from + j] : src_val[from + j];
    }
  }
}

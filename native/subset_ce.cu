// native/subset_ce.cu — fused soft-target cross-entropy on ragged per-row item subsets (RCE-KD), the
// CUDA twin of kdrec.cpu.SubsetCeScalar (gatherDot, gatherDotBackward, softCe, softCeLogits).
//
// Decomposition: ONE WARP PER ROW (blocks of kWarps warps, warps grid-stride over the rows, so any m
// works with a capped grid). Within a row:
//   * dots <U[r], I[idx[j]]>: one lane per entry (lane j % 32 owns entry j), each lane the whole dot in
//     SubsetCeScalar.dot's float order (so the dots equal the scalar twin's bit for bit), float4 loads
//     where the rows are aligned; the warp gathers 32 item rows at once. Each lane owns exactly the
//     entries j with j % 32 == lane from here on.
//   * the softmax statistics: each lane runs an online (max, sum of exp) over its own entries, then a
//     fixed xor-butterfly combines the 32 lane states (deterministic, no atomics).
//   * the raw student logits are parked in gradLogits (an output of the same length anyway) between the
//     dot pass and the gradient pass; the SAME lane writes and re-reads each slot, so no barrier is
//     needed. Nothing normalised is ever written to global memory except the final gradient.
// gatherDotBackward: du rows are owned by their warp (no atomics, entry order); di rows are shared
// between rows (an item appears in many users' sets), so di uses float atomicAdd: its summation order
// (and last bits) may change run to run. Everything else here is deterministic.
//
// Numerics follow the scalar twin: max-subtracted softmax of logits/tau, loss = -sum p log q,
// grad = rowScale * (q - p) / tau; empty rows give loss 0 and touch nothing else. Sums are in float
// per lane (the twin uses double); exps are IEEE expf (no fast-math), divisions by tau are true divisions.
#include "common.cuh"

namespace kdrec_subset_ce {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kWarps = 8;
constexpr int kBlock = kWarps * 32;

// Running max m of the RAW values x and sum s of exp((x - m) / tau) over a stream of x (finite or -inf);
// m = -inf, s = 0 when empty. Dividing the difference (x - m), not x, by tau is what the scalar twin
// does: with tau = 0.1 and logits ~ 5, x / tau rounded to float alone would move p by ~4e-6 relative.
struct Online {
  float m, s;
};

__device__ __forceinline__ Online online_empty() { return Online{-INFINITY, 0.f}; }

__device__ __forceinline__ void online_add(Online& o, float x, float tau) {
  if (x > o.m) {
    o.s = o.s * expf((o.m - x) / tau) + 1.f;  // first element: 0 * exp(-inf) + 1 = 1
    o.m = x;
  } else if (x != -INFINITY) {  // a masked -inf logit adds 0; exp(-inf - -inf) would be NaN
    o.s += expf((x - o.m) / tau);
  }
}

// Combines the 32 lane states; every lane gets bit-identical (m, s): the products are rounded
// separately (__fmul_rn blocks fma contraction), so (a, b) and (b, a) give the same sum.
__device__ __forceinline__ Online warp_online(Online o, float tau) {
  for (int off = 16; off > 0; off >>= 1) {
    const float m2 = __shfl_xor_sync(kFull, o.m, off), s2 = __shfl_xor_sync(kFull, o.s, off);
    const float mx = fmaxf(o.m, m2);
    // Both empty: keep (-inf, 0); exp(-inf - -inf) would be NaN.
    if (mx != -INFINITY) o.s = __fadd_rn(__fmul_rn(o.s, expf((o.m - mx) / tau)), __fmul_rn(s2, expf((m2 - mx) / tau)));
    o.m = mx;
  }
  return o;
}

// <ur, ir> over d columns by ONE lane, k in order with the product and the sum rounded separately: the
// float sequence of SubsetCeScalar.dot (acc += a * b), bit for bit. VEC4: both rows 16-byte aligned and
// d % 4 == 0, read as float4 (five loads per row at d = 20; nvcc unrolls the runtime-length loop by four,
// so they go out in two rounds). The lanes' rows are all in flight together either way.
template <bool VEC4>
__device__ __forceinline__ float lane_dot(const float* __restrict__ ur, const float* __restrict__ ir, int d) {
  float acc = 0.f;
  if (VEC4) {
    for (int k = 0; k < d; k += 4) {
      const float4 a = *reinterpret_cast<const float4*>(ur + k), b = *reinterpret_cast<const float4*>(ir + k);
      acc = __fadd_rn(acc, __fmul_rn(a.x, b.x));
      acc = __fadd_rn(acc, __fmul_rn(a.y, b.y));
      acc = __fadd_rn(acc, __fmul_rn(a.z, b.z));
      acc = __fadd_rn(acc, __fmul_rn(a.w, b.w));
    }
  } else {
    for (int k = 0; k < d; k++) acc = __fadd_rn(acc, __fmul_rn(ur[k], ir[k]));
  }
  return acc;
}

// Dots of user row ur with the item rows of entries [o, o+n) written to out[o + j] (and out2 when given).
// ONE LANE PER ENTRY: lane j % 32 computes entry j's whole dot and writes slot j, so each lane later reads
// back only slots it wrote (no barrier). The lanes of a warp gather 32 rows at once, every row's loads in
// flight together. (Lanes splitting each row's d columns, then a 5-shuffle warp sum per entry, put a
// dependent shuffle chain of ~150 cycles behind every entry and left 12 of 32 lanes idle at d = 20.)
__device__ __forceinline__ void row_dots(const float* ur, const float* items, int ldi, const int* idx, int o, int n,
                                         int d, float* out, float* out2, int lane) {
  const bool vec4 = (d & 3) == 0 && (ldi & 3) == 0 && ((reinterpret_cast<uintptr_t>(items) | reinterpret_cast<uintptr_t>(ur)) & 15) == 0;
  for (int j = lane; j < n; j += 32) {
    const float* ir = items + (long long)idx[o + j] * ldi;
    const float s = vec4 ? lane_dot<true>(ur, ir, d) : lane_dot<false>(ur, ir, d);
    out[o + j] = s;
    if (out2 != nullptr) out2[o + j] = s;
  }
}

// One row's soft CE from student logits s[o..o+n) and teacher logits t[o..o+n): returns the loss (all
// lanes), writes grad[o + j] = scale * (q_j - p_j) / tau. grad may alias s: each lane reads s[o + j]
// before writing grad[o + j], for its own j only.
__device__ __forceinline__ float row_soft_ce(const float* s, const float* t, float* grad, int o, int n, float tau,
                                             float scale, int lane) {
  Online os = online_empty(), ot = online_empty();
  for (int j = lane; j < n; j += 32) {
    online_add(os, s[o + j], tau);
    online_add(ot, t[o + j], tau);
  }
  os = warp_online(os, tau);
  ot = warp_online(ot, tau);
  const float logSs = logf(os.s);  // -inf for an empty row, which then has no entries to use it
  float loss = 0.f;
  for (int j = lane; j < n; j += 32) {
    const float logQ = (s[o + j] - os.m) / tau - logSs;
    const float p = expf((t[o + j] - ot.m) / tau) / ot.s;
    loss = fmaf(-p, logQ, loss);
    grad[o + j] = scale * (expf(logQ) - p) / tau;
  }
  return kdrec::warp_sum(loss);
}

// Column k of sum_j w[o + j] * items[idx[o + j]][:] over the row's n entries (j in storage order):
// lanes own columns, entries go round the warp 32 at a time by shuffles. Warp-uniform control flow
// (n and d are the row's), so every lane must call it, including those with k >= d (they return 0).
// The loads go out kBatch at a time before their fmas: with the load inside the fma's branch (as it
// was), each entry's load waited for the previous entry's, one L2 round trip (~300 cycles) per entry,
// ~60,000 cycles per 200-entry row. The fmas still run one by one in entry order (same bits). Lanes
// past d load column d - 1 of the same rows (valid, in the sectors lane d - 1 fetches) and discard it,
// so no branch guards the loads.
constexpr int kColumnBatch = 8;

__device__ __forceinline__ float gathered_column(const int* __restrict__ idx, const float* w, int o, int n,
                                                 const float* __restrict__ items, int ldi, int k, int d, int lane) {
  const int kk = k < d ? k : d - 1;
  float acc = 0.f;
  for (int j0 = 0; j0 < n; j0 += 32) {
    const int cnt = min(32, n - j0);
    const int myIdx = lane < cnt ? idx[o + j0 + lane] : 0;
    const float myW = lane < cnt ? w[o + j0 + lane] : 0.f;
    int t = 0;
    for (; t + kColumnBatch <= cnt; t += kColumnBatch) {
      float x[kColumnBatch], wt[kColumnBatch];
#pragma unroll
      for (int q = 0; q < kColumnBatch; q++) {
        x[q] = items[(long long)__shfl_sync(kFull, myIdx, t + q) * ldi + kk];
        wt[q] = __shfl_sync(kFull, myW, t + q);
      }
#pragma unroll
      for (int q = 0; q < kColumnBatch; q++) acc = fmaf(wt[q], x[q], acc);
    }
    for (; t < cnt; t++) {
      const float x = items[(long long)__shfl_sync(kFull, myIdx, t) * ldi + kk];
      acc = fmaf(__shfl_sync(kFull, myW, t), x, acc);
    }
  }
  return k < d ? acc : 0.f;
}

// di[idx[o + j]][k] += g[o + j] * ur[k] for the row's n entries (float atomics, entries in order, lanes
// over columns). The entries' ids and gradients come 32 at a time in one coalesced load each and go
// round the warp by shuffles, and the row's values for columns lane and lane + 32 stay in registers:
// loaded per entry, each (id, gradient, value) load sat behind the previous entry's atomics (g and di
// may alias, so the compiler cannot hoist them), one L2 round trip per entry. Warp-uniform; every lane calls.
__device__ __forceinline__ void add_row_to_items(const int* __restrict__ idx, const float* g, int o, int n, const float* ur,
                                                 int d, float* di, int lddi, int lane) {
  const float u0 = lane < d ? ur[lane] : 0.f, u1 = lane + 32 < d ? ur[lane + 32] : 0.f;
  for (int j0 = 0; j0 < n; j0 += 32) {
    const int cnt = min(32, n - j0);
    const int myIdx = lane < cnt ? idx[o + j0 + lane] : 0;
    const float myG = lane < cnt ? g[o + j0 + lane] : 0.f;
    for (int t = 0; t < cnt; t++) {
      const int it = __shfl_sync(kFull, myIdx, t);
      const float gt = __shfl_sync(kFull, myG, t);
      float* dr = di + (long long)it * lddi;
      if (lane < d) atomicAdd(dr + lane, gt * u0);
      if (lane + 32 < d) atomicAdd(dr + lane + 32, gt * u1);
      for (int k = lane + 64; k < d; k += 32) atomicAdd(dr + k, gt * ur[k]);
    }
  }
}

}  // namespace kdrec_subset_ce

// out[j] = <U[r], I[idx[j]]> for every entry j of row r. u, items: first element of the matrices.
// ROWS (the *_rows kernels): row r's user is table row userIds[r] of u (ids may repeat: read only), so a
// device step need not gather its users' rows into a scratch first.
namespace kdrec_subset_ce {
template <bool ROWS>
__device__ __forceinline__ const float* user_row(const int* userIds, const float* u, int ldu, long long r) {
  return u + (ROWS ? (long long)userIds[r] : r) * ldu;
}

template <bool ROWS>
__device__ __forceinline__ void gather_dot(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                           const int* ptr, const int* idx, float* out) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r];
    row_dots(user_row<ROWS>(userIds, u, ldu, r), items, ldi, idx, o, ptr[r + 1] - o, d, out, nullptr, lane);
  }
}
}  // namespace kdrec_subset_ce

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_gather_dot(int m, int d, const float* u, int ldu, const float* items, int ldi, const int* ptr,
                           const int* idx, float* out) {
  kdrec_subset_ce::gather_dot<false>(m, d, nullptr, u, ldu, items, ldi, ptr, idx, out);
}

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_gather_dot_rows(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                const int* ptr, const int* idx, float* out) {
  kdrec_subset_ce::gather_dot<true>(m, d, userIds, u, ldu, items, ldi, ptr, idx, out);
}

// du[r] += sum_j g[j] I[idx[j]] (warp-owned, entry order); di[idx[j]] += g[j] U[r] (float atomics).
// hasDu / hasDi = 0 skips that gradient (its pointer is then a dummy and never dereferenced).
// ROWS (kdrec_subset_ce_gather_dot_backward_rows): row r is table row userIds[r] (distinct ids) of the
// user table u and of the gradient table du, both gradients always: one launch where a device step made
// three (zero a scratch, this into it, scatter the scratch into the model's gradient).
namespace kdrec_subset_ce {
template <bool ROWS>
__device__ __forceinline__ void gather_dot_backward(int m, int d, const int* userIds, const float* u, int ldu, const float* items,
                                                    int ldi, const int* ptr, const int* idx, const float* g, float* du, int lddu,
                                                    int hasDu, float* di, int lddi, int hasDi) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o;
    const long long row = ROWS ? (long long)userIds[r] : r;
    if (hasDu) {
      // Column slices outer so each lane's accumulator stays in a register across the whole row.
      for (int k0 = 0; k0 < d; k0 += 32) {
        const int k = k0 + lane;
        const float acc = gathered_column(idx, g, o, n, items, ldi, k, d, lane);
        if (k < d && n > 0) du[row * lddu + k] += acc;
      }
    }
    if (hasDi) add_row_to_items(idx, g, o, n, u + row * ldu, d, di, lddi, lane);
  }
}
}  // namespace kdrec_subset_ce

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_gather_dot_backward(int m, int d, const float* u, int ldu, const float* items, int ldi,
                                    const int* ptr, const int* idx, const float* g, float* du, int lddu, int hasDu,
                                    float* di, int lddi, int hasDi) {
  kdrec_subset_ce::gather_dot_backward<false>(m, d, nullptr, u, ldu, items, ldi, ptr, idx, g, du, lddu, hasDu, di, lddi, hasDi);
}

// u / du: the user table and its gradient (rows userIds[r], distinct); di: the item gradient table.
extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_gather_dot_backward_rows(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                         const int* ptr, const int* idx, const float* g, float* du, int lddu, float* di, int lddi) {
  kdrec_subset_ce::gather_dot_backward<true>(m, d, userIds, u, ldu, items, ldi, ptr, idx, g, du, lddu, 1, di, lddi, 1);
}

// The fused forward: student logits s_j = <U[r], I[idx[j]]> (also to studentLogits when hasStudent),
// loss[r] = CE(softmax(t/tau), softmax(s/tau)), gradLogits[j] = rowScale[r] (q_j - p_j) / tau
// (rowScale = 1 when hasRowScale = 0). ROWS: row r's user is table row userIds[r] of u.
namespace kdrec_subset_ce {
template <bool ROWS>
__device__ __forceinline__ void soft_ce(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                        const int* ptr, const int* idx, const float* teacher, float tau, const float* rowScale,
                                        int hasRowScale, float* loss, float* grad, float* student, int hasStudent) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o;
    // grad holds the raw student logits until row_soft_ce overwrites them (same lane per slot).
    row_dots(user_row<ROWS>(userIds, u, ldu, r), items, ldi, idx, o, n, d, grad, hasStudent ? student : nullptr, lane);
    const float l = row_soft_ce(grad, teacher, grad, o, n, tau, hasRowScale ? rowScale[r] : 1.f, lane);
    if (lane == 0) loss[r] = l;
  }
}
}  // namespace kdrec_subset_ce

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_soft_ce(int m, int d, const float* u, int ldu, const float* items, int ldi, const int* ptr,
                        const int* idx, const float* teacher, float tau, const float* rowScale, int hasRowScale,
                        float* loss, float* grad, float* student, int hasStudent) {
  kdrec_subset_ce::soft_ce<false>(m, d, nullptr, u, ldu, items, ldi, ptr, idx, teacher, tau, rowScale, hasRowScale, loss, grad,
                                  student, hasStudent);
}

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_soft_ce_rows(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                             const int* ptr, const int* idx, const float* teacher, float tau, const float* rowScale,
                             int hasRowScale, float* loss, float* grad, float* student, int hasStudent) {
  kdrec_subset_ce::soft_ce<true>(m, d, userIds, u, ldu, items, ldi, ptr, idx, teacher, tau, rowScale, hasRowScale, loss, grad,
                                 student, hasStudent);
}

// softCe from given student logits (no dots).
extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_soft_ce_logits(int m, const int* ptr, const float* student, const float* teacher, float tau,
                               const float* rowScale, int hasRowScale, float* loss, float* grad) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r];
    const float l = kdrec_subset_ce::row_soft_ce(student, teacher, grad, o, ptr[r + 1] - o, tau,
                                                 hasRowScale ? rowScale[r] : 1.f, lane);
    if (lane == 0) loss[r] = l;
  }
}

// ---- pair soft-CE (kdrec.cpu.PairCeScalar): two overlapping sets per row sharing one entry list ----
// Row r's entries j in [0, n): set A = [0, a[r]), set B = [b[r], n). Same decomposition as above: one
// warp per row, lane j % 32 owns entry j. The two log-sum-exps and the cross term are kept in double
// (loss = value - cross cancels when logits/tau are large), the per-entry exps are float.

namespace kdrec_subset_ce {

// log sum exp(x / tau) of the combined lane states, in double: -inf for an empty set.
__device__ __forceinline__ double online_lse(Online o, float tau) {
  return o.m == -INFINITY ? -(double)INFINITY : (double)o.m / tau + log((double)o.s);
}

}  // namespace kdrec_subset_ce

// target[j] = wA[r] softmax_A(tl/tau)_j [j < a] + wB[r] softmax_B(tl/tau)_j [j >= b].
extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_pair_targets(int m, const int* ptr, const int* a, const int* b, const float* teacher, float tau,
                             const float* wA, const float* wB, float* target) {
  using namespace kdrec_subset_ce;
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o, ar = a[r], br = b[r];
    Online oa = online_empty(), ob = online_empty();
    for (int j = lane; j < n; j += 32) {
      const float x = teacher[o + j];
      if (j < ar) online_add(oa, x, tau);
      if (j >= br) online_add(ob, x, tau);
    }
    oa = warp_online(oa, tau);
    ob = warp_online(ob, tau);
    const float wa = wA[r], wb = wB[r];
    for (int j = lane; j < n; j += 32) {
      const float x = teacher[o + j];
      // oa.s >= 1 whenever j < ar (the max entry contributes exp(0)), so the divisions are safe.
      const float va = j < ar ? wa * (expf((x - oa.m) / tau) / oa.s) : 0.f;
      const float vb = j >= br ? wb * (expf((x - ob.m) / tau) / ob.s) : 0.f;
      target[o + j] = va + vb;
    }
  }
}

// The fused pair forward: s_j = <U[r], I[idx[j]]>, loss[r] = wA lse_A(s/tau) + wB lse_B(s/tau)
// - sum_j target_j s_j / tau (an empty set's term is 0), grad[j] = (wA qA_j [j < a] + wB qB_j [j >= b]
// - target_j) / tau, and gu[r] = sum_j grad[j] I[idx[j]] (overwritten; skipped when hasGu = 0).
// ROWS (kdrec_subset_ce_pair_soft_ce_rows): row r is table row userIds[r] (distinct ids), read from the
// user table u and ADDED into the gradient table gu, and the item gradient di[idx[j]] += grad[j] U[r]
// (float atomics, entry by entry as kdrec_subset_ce_gather_dot_backward) is fused in: one launch where
// a device step made four (gather, this, scatter, gather-dot backward).
namespace kdrec_subset_ce {
template <bool ROWS>
__device__ __forceinline__ void pair_soft_ce(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                             const int* ptr, const int* idx, const int* a, const int* b, const float* target,
                                             const float* wA, const float* wB, float tau, float* loss, float* grad, float* gu,
                                             int ldgu, int hasGu, float* di, int lddi) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o, ar = a[r], br = b[r];
    const long long row = ROWS ? (long long)userIds[r] : r;
    const float* ur = u + row * ldu;
    // grad parks the raw dots until the gradient pass overwrites them (same lane per slot).
    row_dots(ur, items, ldi, idx, o, n, d, grad, nullptr, lane);
    Online oa = online_empty(), ob = online_empty();
    for (int j = lane; j < n; j += 32) {
      const float x = grad[o + j];
      if (j < ar) online_add(oa, x, tau);
      if (j >= br) online_add(ob, x, tau);
    }
    const double lseA = online_lse(warp_online(oa, tau), tau), lseB = online_lse(warp_online(ob, tau), tau);
    const float wa = wA[r], wb = wB[r];
    const double value = (ar > 0 ? wa * lseA : 0.0) + (br < n ? wb * lseB : 0.0);
    double cross = 0.0;
    for (int j = lane; j < n; j += 32) {
      // s / tau in double, as the scalar twin: the cross term and x - lse then lose nothing to float rounding.
      const double x = (double)grad[o + j] / tau;
      const float tj = target[o + j];
      cross += (double)tj * x;
      const float q = (j < ar ? wa * expf((float)(x - lseA)) : 0.f) + (j >= br ? wb * expf((float)(x - lseB)) : 0.f);
      grad[o + j] = (q - tj) / tau;
    }
    cross = kdrec::warp_sum(cross);
    if (lane == 0) loss[r] = (float)(value - cross);
    if (!hasGu) continue;
    // gu[row][k] (= or +=) sum_j grad[j] I[idx[j]][k]: lanes over columns, entries in order. The chunk loads
    // of grad read slot o + j0 + lane, which this same lane wrote just above: no barrier needed.
    for (int k0 = 0; k0 < d; k0 += 32) {
      const int k = k0 + lane;
      const float acc = gathered_column(idx, grad, o, n, items, ldi, k, d, lane);
      if (k < d) {
        if (ROWS) gu[row * ldgu + k] += acc;
        else gu[r * ldgu + k] = acc;
      }
    }
    if (ROWS) {  // the item side (each lane loads its own grad slots and passes them round by shuffle; the
      __syncwarp();  // sync only orders the warp's gradient writes before the atomics that follow)
      add_row_to_items(idx, grad, o, n, ur, d, di, lddi, lane);
    }
  }
}
}  // namespace kdrec_subset_ce

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_pair_soft_ce(int m, int d, const float* u, int ldu, const float* items, int ldi, const int* ptr,
                             const int* idx, const int* a, const int* b, const float* target, const float* wA,
                             const float* wB, float tau, float* loss, float* grad, float* gu, int ldgu, int hasGu) {
  kdrec_subset_ce::pair_soft_ce<false>(m, d, nullptr, u, ldu, items, ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad, gu,
                                       ldgu, hasGu, nullptr, 0);
}

// u / gu: the user table and its gradient (rows userIds[r], distinct); di: the item gradient table.
extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_pair_soft_ce_rows(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                  const int* ptr, const int* idx, const int* a, const int* b, const float* target,
                                  const float* wA, const float* wB, float tau, float* loss, float* grad, float* gu, int ldgu,
                                  float* di, int lddi) {
  kdrec_subset_ce::pair_soft_ce<true>(m, d, userIds, u, ldu, items, ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad, gu,
                                      ldgu, 1, di, lddi);
}

// ---- soft-label BCE per entry (CD; kdrec.autograd.PointwiseLoss.softBce over each row's list) ----
// For entry j of row r, with logit x = logits[j] and label y = labels[j] (p = sigmoid(x), q = sigmoid(-x),
// in double with the CPU's branch so q is not 1 - p): l_j = (float) -(y log(p + eps) + (1 - y) log(q + eps)),
// grad[j] = rowScale[r] * (float) (-p q (y / (p + eps) - (1 - y) / (q + eps))) — the CPU's operations and
// roundings (CUDA's double exp and log may differ from Java's in the last bit); loss[r] = sum_j l_j (float
// lanes, then the warp sum: the CPU sums in another order).
namespace kdrec_subset_ce {
__device__ __forceinline__ double cpu_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }
}  // namespace kdrec_subset_ce

extern "C" __global__ __launch_bounds__(kdrec_subset_ce::kBlock) void
kdrec_subset_ce_soft_bce(int m, const int* ptr, const float* logits, const float* labels, float eps, const float* rowScale,
                         int hasRowScale, float* loss, float* grad) {
  using namespace kdrec_subset_ce;
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  const double e = (double)eps;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o;
    const float scale = hasRowScale ? rowScale[r] : 1.f;
    float sum = 0.f;
    for (int j = lane; j < n; j += 32) {
      const double x = (double)logits[o + j], y = (double)labels[o + j];
      const double p = cpu_sigmoid(x), q = cpu_sigmoid(-x);
      // explicit roundings: nvcc would contract y log(..) + (..) into an fma, which Java does not
      sum += (float)-__dadd_rn(__dmul_rn(y, log(p + e)), __dmul_rn(1.0 - y, log(q + e)));
      grad[o + j] = scale * (float)(-p * q * (y / (p + e) - (1.0 - y) / (q + e)));
    }
    sum = kdrec::warp_sum(sum);
    if (lane == 0) loss[r] = sum;
  }
}

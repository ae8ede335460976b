// native/pair_ce.cu — RCE-KD's pair soft cross-entropy, the CUDA twin of kdrec.cpu.PairCeScalar (targets,
// softCe) and of the device step's fused rows form: two overlapping sets per row (SK and J2) over one
// shared entry list, one warp per row as in subset_ce.cu (shared pieces in ce_rows.cuh).
#include "ce_rows.cuh"

// ---- pair soft-CE (kdrec.cpu.PairCeScalar): two overlapping sets per row sharing one entry list ----
// Row r's entries j in [0, n): set A = [0, a[r]), set B = [b[r], n). Same decomposition as subset_ce.cu: one
// warp per row, lane j % 32 owns entry j. The two log-sum-exps and the cross term are kept in double
// (loss = value - cross cancels when logits/tau are large), the per-entry exps are float.

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

// One row of at most 32 * kRegs entries (n >= 1), each lane's entries j = lane + 32 t in registers: ids
// and targets loaded together up front, the dots computed column by column over all of the lane's rows
// at once (every row's loads of a column in flight together), then the softmax passes, the gradient, the
// user gradient and the item scatter from registers. The parked-logits path below re-read each value
// from global memory in every pass, one dependent round trip per entry and pass (~20 per lane per row
// for a 200-entry row before the user gradient, with ~15 warps per SM too few to hide them). Every
// float operation and its order per entry is the other path's, so the results are the same bits.
// Lanes past the row's end use entry n - 1's id (valid) and drop what they compute.
template <bool ROWS>
__device__ __forceinline__ void pair_row_in_registers(int d, const float* ur, const float* items, int ldi, const int* idx, int o,
                                                      int n, int ar, int br, const float* target, float wa, float wb,
                                                      float tau, float* lossOut, float* grad, float* guRow, int hasGu,
                                                      float* di, int lddi, int lane) {
  int id[kRegs];
  float s[kRegs], tg[kRegs];
  row_in_registers(ur, items, ldi, idx, target, o, n, d, lane, id, s, tg);
  Online oa = online_empty(), ob = online_empty();
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    const int j = lane + 32 * t;
    if (j < n) {
      if (j < ar) online_add(oa, s[t], tau);
      if (j >= br) online_add(ob, s[t], tau);
    }
  }
  const double lseA = online_lse(warp_online(oa, tau), tau), lseB = online_lse(warp_online(ob, tau), tau);
  const double value = (ar > 0 ? wa * lseA : 0.0) + (br < n ? wb * lseB : 0.0);
  double cross = 0.0;
  float g[kRegs];
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    const int j = lane + 32 * t;
    g[t] = 0.f;
    if (j < n) {
      const double x = (double)s[t] / tau;
      cross += (double)tg[t] * x;
      const float q = (j < ar ? wa * expf((float)(x - lseA)) : 0.f) + (j >= br ? wb * expf((float)(x - lseB)) : 0.f);
      g[t] = (q - tg[t]) / tau;
      grad[o + j] = g[t];
    }
  }
  cross = kdrec::warp_sum(cross);
  if (lane == 0) *lossOut = (float)(value - cross);
  if (!hasGu) return;
  // gu (= or +=) sum_j g_j I[idx[j]]: lanes over columns, entries in order, 32 at a time by shuffles from
  // the registers, each chunk's kColumnBatch loads ahead of their fmas (gathered_column's order)
  for (int k0 = 0; k0 < d; k0 += 32) {
    const int k = k0 + lane, kk = min(k, d - 1);
    float acc = 0.f;
#pragma unroll
    for (int t = 0; t < kRegs; t++) {
      const int cnt = min(32, n - 32 * t);
      if (cnt <= 0) break;
      int q = 0;
      for (; q + kColumnBatch <= cnt; q += kColumnBatch) {
        float x[kColumnBatch], w[kColumnBatch];
#pragma unroll
        for (int e = 0; e < kColumnBatch; e++) {
          x[e] = items[(long long)__shfl_sync(kFull, id[t], q + e) * ldi + kk];
          w[e] = __shfl_sync(kFull, g[t], q + e);
        }
#pragma unroll
        for (int e = 0; e < kColumnBatch; e++) acc = fmaf(w[e], x[e], acc);
      }
      for (; q < cnt; q++) {
        const float x = items[(long long)__shfl_sync(kFull, id[t], q) * ldi + kk];
        acc = fmaf(__shfl_sync(kFull, g[t], q), x, acc);
      }
    }
    if (k < d) {
      if (ROWS) guRow[k] += acc;
      else guRow[k] = acc;
    }
  }
  if (!ROWS) return;
  // di[idx[j]] += g_j U[row] (float atomics; add_row_to_items from the registers)
  const float u0 = lane < d ? ur[lane] : 0.f, u1 = lane + 32 < d ? ur[lane + 32] : 0.f;
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    const int cnt = min(32, n - 32 * t);
    if (cnt <= 0) break;
    for (int q = 0; q < cnt; q++) {
      const int it = __shfl_sync(kFull, id[t], q);
      const float gt = __shfl_sync(kFull, g[t], q);
      float* dr = di + (long long)it * lddi;
      if (lane < d) atomicAdd(dr + lane, gt * u0);
      if (lane + 32 < d) atomicAdd(dr + lane + 32, gt * u1);
      for (int c = lane + 64; c < d; c += 32) atomicAdd(dr + c, gt * ur[c]);
    }
  }
}

// REGS = false forces the parked path for every row (the emulator harness compares the two bit for bit).
template <bool ROWS, bool REGS = true>
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
    if (REGS && n >= 1 && n <= 32 * kRegs) {  // warp-uniform
      pair_row_in_registers<ROWS>(d, ur, items, ldi, idx, o, n, ar, br, target, wA[r], wB[r], tau, loss + r, grad,
                                  hasGu ? gu + (ROWS ? row : r) * ldgu : nullptr, hasGu, di, lddi, lane);
      continue;
    }
    // longer rows: grad parks the raw dots until the gradient pass overwrites them (same lane per slot).
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

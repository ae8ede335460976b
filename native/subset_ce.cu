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
#include "ce_rows.cuh"

namespace kdrec_subset_ce {

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
// One row of 1..32 * kRegs entries with each lane's entries in registers: ids and teacher logits loaded
// up front, the dots column by column over the lane's rows (lane_dots), then row_soft_ce's two passes on
// the registers instead of re-reading the parked logits and the teacher's from global memory (a
// dependent round trip per entry and pass). The same float operations in the same order per entry and
// per lane as row_dots + row_soft_ce, so the same bits (the harness compares the two paths).
__device__ __forceinline__ float soft_ce_row_in_registers(const float* ur, const float* items, int ldi, const int* idx,
                                                          const float* teacher, int o, int n, int d, float tau, float scale,
                                                          float* grad, float* student, int lane) {
  int id[kRegs];
  float s[kRegs], tt[kRegs];
  row_in_registers(ur, items, ldi, idx, teacher, o, n, d, lane, id, s, tt);
  Online os = online_empty(), ot = online_empty();
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    if (lane + 32 * t < n) {
      online_add(os, s[t], tau);
      online_add(ot, tt[t], tau);
    }
  }
  os = warp_online(os, tau);
  ot = warp_online(ot, tau);
  const float logSs = logf(os.s);
  float loss = 0.f;
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    const int j = lane + 32 * t;
    if (j < n) {
      if (student != nullptr) student[o + j] = s[t];
      const float logQ = (s[t] - os.m) / tau - logSs;
      const float p = expf((tt[t] - ot.m) / tau) / ot.s;
      loss = fmaf(-p, logQ, loss);
      grad[o + j] = scale * (expf(logQ) - p) / tau;
    }
  }
  return kdrec::warp_sum(loss);
}

// REGS = false sends every row through row_dots + row_soft_ce (the harness compares the two bit for bit).
template <bool ROWS, bool REGS = true>
__device__ __forceinline__ void soft_ce(int m, int d, const int* userIds, const float* u, int ldu, const float* items, int ldi,
                                        const int* ptr, const int* idx, const float* teacher, float tau, const float* rowScale,
                                        int hasRowScale, float* loss, float* grad, float* student, int hasStudent) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = ptr[r], n = ptr[r + 1] - o;
    if (REGS && n >= 1 && n <= 32 * kRegs) {  // warp-uniform
      const float l = soft_ce_row_in_registers(user_row<ROWS>(userIds, u, ldu, r), items, ldi, idx, teacher, o, n, d, tau,
                                               hasRowScale ? rowScale[r] : 1.f, grad, hasStudent ? student : nullptr, lane);
      if (lane == 0) loss[r] = l;
      continue;
    }
    // longer rows: grad holds the raw student logits until row_soft_ce overwrites them (same lane per slot).
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

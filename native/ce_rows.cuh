// native/ce_rows.cuh — the warp-per-row pieces that subset_ce.cu (subset soft CE, gather-dot) and pair_ce.cu
// (RCE-KD's pair soft CE) share: the launch shape, the online (max, sum of exp) softmax state and its
// deterministic warp combine, one-lane-per-entry dots in SubsetCeScalar.dot's float order, the user
// gradient's gathered columns and the item gradient's scatter (float atomics). See subset_ce.cu for the
// decomposition.
#pragma once
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

// Dots <ur, I[id[t]]> for KR item rows by ONE lane, each in SubsetCeScalar.dot's float sequence (k in order,
// product and sum rounded separately: its bits). Column by column over all KR rows, so the KR rows' loads of
// a column are in flight together (one dot after another, each row's loads waited for the previous dot's
// adds). VEC4: ur and the table 16-byte aligned, d and ldi multiples of 4: float4 loads.
template <int KR>
__device__ __forceinline__ void lane_dots(const float* __restrict__ ur, const float* __restrict__ items, int ldi, const int (&id)[KR],
                                          float (&s)[KR], int d, bool vec4) {
#pragma unroll
  for (int t = 0; t < KR; t++) s[t] = 0.f;
  if (vec4) {
    for (int k = 0; k < d; k += 4) {
      const float4 x = *reinterpret_cast<const float4*>(ur + k);
      float4 y[KR];
#pragma unroll
      for (int t = 0; t < KR; t++) y[t] = *reinterpret_cast<const float4*>(items + (long long)id[t] * ldi + k);
#pragma unroll
      for (int t = 0; t < KR; t++) {
        s[t] = __fadd_rn(s[t], __fmul_rn(x.x, y[t].x));
        s[t] = __fadd_rn(s[t], __fmul_rn(x.y, y[t].y));
        s[t] = __fadd_rn(s[t], __fmul_rn(x.z, y[t].z));
        s[t] = __fadd_rn(s[t], __fmul_rn(x.w, y[t].w));
      }
    }
  } else {
    for (int k = 0; k < d; k++) {
      const float x = ur[k];
      float y[KR];
#pragma unroll
      for (int t = 0; t < KR; t++) y[t] = items[(long long)id[t] * ldi + k];
#pragma unroll
      for (int t = 0; t < KR; t++) s[t] = __fadd_rn(s[t], __fmul_rn(x, y[t]));
    }
  }
}

__device__ __forceinline__ bool dots_vec4(const float* ur, const float* items, int ldi, int d) {
  return (d & 3) == 0 && (ldi & 3) == 0 && ((reinterpret_cast<uintptr_t>(items) | reinterpret_cast<uintptr_t>(ur)) & 15) == 0;
}

// Entries one lane's dots take at a time in row_dots.
constexpr int kDotGroup = 4;

// Rows of at most 32 * kRegs entries run with each lane's entries in registers (the pair CE's
// pair_row_in_registers, the subset soft CE's soft_ce_row_in_registers).
constexpr int kRegs = 8;

// A lane's entries j = lane + 32 t (t < kRegs) of a row of 1..32 * kRegs entries into registers: their ids
// (entry n - 1's past the row's end: valid, its results dropped), one value each from vals (0 past the
// end; the teacher's logits or the targets), loaded together, then their dots <ur, I[id]> (lane_dots).
__device__ __forceinline__ void row_in_registers(const float* ur, const float* items, int ldi, const int* idx, const float* vals,
                                                 int o, int n, int d, int lane, int (&id)[kRegs], float (&s)[kRegs],
                                                 float (&v)[kRegs]) {
#pragma unroll
  for (int t = 0; t < kRegs; t++) {
    const int j = lane + 32 * t;
    id[t] = idx[o + min(j, n - 1)];
    v[t] = j < n ? vals[o + j] : 0.f;
  }
  lane_dots<kRegs>(ur, items, ldi, id, s, d, dots_vec4(ur, items, ldi, d));  // SubsetCeScalar.dot's bits
}

// Dots of user row ur with the item rows of entries [o, o+n) written to out[o + j] (and out2 when given).
// ONE LANE PER ENTRY: lane j % 32 computes entry j's whole dot and writes slot j, so each lane later reads
// back only slots it wrote (no barrier). Each lane takes kDotGroup of its entries at a time (ids loaded
// together, then lane_dots), so the warp has 32 * kDotGroup rows' loads in flight. (Lanes splitting each
// row's d columns, then a 5-shuffle warp sum per entry, put a dependent shuffle chain of ~150 cycles behind
// every entry and left 12 of 32 lanes idle at d = 20; one entry per lane at a time waited an id load and a
// row load per entry, ~21 round trips per lane for a 200-entry row.) Lanes past n use entry n - 1's id and
// drop the result.
__device__ __forceinline__ void row_dots(const float* ur, const float* items, int ldi, const int* idx, int o, int n,
                                         int d, float* out, float* out2, int lane) {
  const bool vec4 = dots_vec4(ur, items, ldi, d);
  for (int j0 = 0; j0 < n; j0 += 32 * kDotGroup) {  // warp-uniform
    int id[kDotGroup];
    float s[kDotGroup];
#pragma unroll
    for (int t = 0; t < kDotGroup; t++) id[t] = idx[o + min(j0 + lane + 32 * t, n - 1)];
    lane_dots<kDotGroup>(ur, items, ldi, id, s, d, vec4);
#pragma unroll
    for (int t = 0; t < kDotGroup; t++) {
      const int j = j0 + lane + 32 * t;
      if (j < n) {
        out[o + j] = s[t];
        if (out2 != nullptr) out2[o + j] = s[t];
      }
    }
  }
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

// log sum exp(x / tau) of the combined lane states, in double: -inf for an empty set.
__device__ __forceinline__ double online_lse(Online o, float tau) {
  return o.m == -INFINITY ? -(double)INFINITY : (double)o.m / tau + log((double)o.s);
}

}  // namespace kdrec_subset_ce

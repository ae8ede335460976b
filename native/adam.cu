// native/adam.cu — fused Adam update (kdrec.cpu.AdamScalar.step and stepRows): torch.optim.Adam with
// coupled L2 weight decay and bias correction, in the scalar twin's exact operation order.
//
// One thread per parameter element, grid-stride (step: over n; stepRows: over nRows*d, r = i / d,
// c = i % d, so a warp streams consecutive floats of one row). The step is purely memory bound
// (4 streams in, 3 out), so nothing is staged in shared memory.
//
// Bit-exactness with AdamScalar: every operation is an explicit round-to-nearest intrinsic
// (__fmul_rn, __fadd_rn, __fsub_rn, __fdiv_rn, __fsqrt_rn), which nvcc never contracts into an fma,
// in the order of AdamScalar.element (plain multiply and add, as PyTorch's scalar ATen loop). Java's
// (float) Math.sqrt(v) on a float v is the correctly rounded float square root (double has more than
// 2*24+2 bits, so double rounding is innocuous), which __fsqrt_rn is. Denormals are kept (no
// -ftz). The per-step scalars (w = 1 - beta1, omb2, sqrt(bc2), -lr/bc1) are computed on the host in
// double exactly as AdamSimd.Hyper does and passed rounded to float. So results should equal the
// CPU twin bit for bit; the test allows 1 ulp and reports how many elements were not identical.
//
// stepRows: rows must be distinct (the CPU twin checks this; here it is the caller's guarantee —
// duplicates would race). Untouched rows are not read or written (lazy moments).
#include "common.cuh"

namespace kdrec_adam {

// One element of the update, AdamScalar.element line by line.
__device__ __forceinline__ void element(float* __restrict__ pp, float ge, float* __restrict__ mp, float* __restrict__ vp,
                                        float wd, float w, int small, float beta2, float omb2, float bc2sqrt,
                                        float eps, float neg_step) {
  const float pe = *pp;
  float me = *mp, ve = *vp;
  if (wd != 0.f) ge = __fadd_rn(ge, __fmul_rn(wd, pe));
  // torch lerp: start + w (end - start) for |w| < 0.5, else end - (end - start)(1 - w)
  me = small ? __fadd_rn(me, __fmul_rn(w, __fsub_rn(ge, me)))
             : __fsub_rn(ge, __fmul_rn(__fsub_rn(ge, me), __fsub_rn(1.f, w)));
  ve = __fadd_rn(__fmul_rn(ve, beta2), __fmul_rn(__fmul_rn(omb2, ge), ge));
  const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(ve), bc2sqrt), eps);
  *mp = me;
  *vp = ve;
  *pp = __fadd_rn(pe, __fdiv_rn(__fmul_rn(neg_step, me), denom));
}

}  // namespace kdrec_adam

// Dense update of n parameters: p, g, m, v are views at the parameter's first element.
extern "C" __global__ void kdrec_adam_step(long long n, float* __restrict__ p, const float* __restrict__ g,
                                           float* __restrict__ m, float* __restrict__ v, float wd, float w,
                                           int small, float beta2, float omb2, float bc2sqrt, float eps,
                                           float neg_step) {
  KDREC_GRID_STRIDE(i, n) {
    kdrec_adam::element(p + i, g[i], m + i, v + i, wd, w, small, beta2, omb2, bc2sqrt, eps, neg_step);
  }
}

// Lazy row-sparse update: for r < n_rows, c < d: element (rows[r], c) of the tables p, m, v (leading
// dim ldp, shared by the three) with gradient g[r][c] (leading dim ldg).
extern "C" __global__ void kdrec_adam_step_rows(int n_rows, int d, const int* __restrict__ rows, float* __restrict__ p,
                                                int ldp, const float* __restrict__ g, int ldg, float* __restrict__ m,
                                                float* __restrict__ v, float wd, float w, int small, float beta2,
                                                float omb2, float bc2sqrt, float eps, float neg_step) {
  KDREC_GRID_STRIDE(i, (long long)n_rows * d) {
    const long long r = i / d, c = i - r * d;
    const long long at = (long long)rows[r] * ldp + c;
    kdrec_adam::element(p + at, g[r * ldg + c], m + at, v + at, wd, w, small, beta2, omb2, bc2sqrt, eps, neg_step);
  }
}

// Lazy Adam on the device's dense gradient (the twin of kdrec.nn.Adam's rows step): the terms of a step
// mark the table rows they write (kdrec_adam_mark_rows: flags[idx[i]] |= 1; an atomic, since repeated ids
// would otherwise be racing stores, equal ones but a race in the C++ memory model the emulator's TSan run
// checks), then only the marked rows of the n_rows x d table (contiguous rows) are updated from their
// gradient rows. The caller clears the flags before the next step's marks.
extern "C" __global__ void kdrec_adam_mark_rows(int n, const int* __restrict__ idx, int* __restrict__ flags) {
  KDREC_GRID_STRIDE(i, n) { atomicOr(flags + idx[i], 1); }
}

extern "C" __global__ void kdrec_adam_step_marked(int n_rows, int d, const int* __restrict__ flags, float* __restrict__ p,
                                                  const float* __restrict__ g, float* __restrict__ m, float* __restrict__ v,
                                                  float wd, float w, int small, float beta2, float omb2, float bc2sqrt,
                                                  float eps, float neg_step) {
  KDREC_GRID_STRIDE(i, (long long)n_rows * d) {
    if (flags[i / d]) kdrec_adam::element(p + i, g[i], m + i, v + i, wd, w, small, beta2, omb2, bc2sqrt, eps, neg_step);
  }
}

// native/elementwise.cu — the length-n elementwise kernels: BLAS-1 vector ops and reductions
// (kdrec.gpu.GpuVec, twin of kdrec.cpu.VecScalar), pointwise activations and their backwards
// (GpuActivation / ActivationScalar) and inverted dropout with the CPU's counter-based mask
// (GpuDropout / DropoutScalar).
//
// Decomposition: every elementwise kernel is 1-D grid-stride (KDREC_GRID_STRIDE): thread t of the
// launch handles elements t, t + T, t + 2T, ... (T = total threads), so one launch covers any n
// whatever grid Cuda.launch1d picked. Pointers arrive already offset to the op's first element
// (the wrapper passes DeviceBuffer.at(off)), so index i here is the element's index within the op.
// Loads are scalar: views may start at any 4-byte offset, so float4 alignment is not guaranteed.
//
// Numerics follow the scalar twins exactly: add/sub/mul/scale are single IEEE operations and
// axpy/addMul an explicit fmaf (one rounding, like Math.fma), so those match the CPU bit for bit.
// The transcendental activations are evaluated in double and rounded once to float, as the CPU
// oracle does (CUDA's double exp/log1p are within 2 ulp of double, far below a float ulp).
// Dropout uses the same 32-bit hash as DropoutScalar, with keys, threshold and scale computed on the
// host in Java, so the mask and the outputs match the CPU bit for bit.
//
// sum/dot accumulate in double: pass 1 (kdrec_vec_sum_partial / _dot_partial) has each block
// reduce its grid-stride share to one double partial with a fixed tree (warp shuffles, then the
// block's warps); pass 2 (kdrec_vec_reduce_partials, one block) sums the partials the same way.
// The grid size is a function of n only (chosen by the wrapper), so results are deterministic
// run to run; no atomics anywhere in this file.
#include "common.cuh"

// ---- vector ops (VecScalar) -------------------------------------------------------------------

extern "C" __global__ void kdrec_vec_fill(long long n, float* __restrict__ y, float v) {
  KDREC_GRID_STRIDE(i, n) y[i] = v;
}

// No __restrict__ on the elementwise ops below: an output may be the very same range as an input
// (in-place), which is fine elementwise (each element is read before it is written, by one thread).
extern "C" __global__ void kdrec_vec_copy(long long n, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) y[i] = x[i];
}

extern "C" __global__ void kdrec_vec_add(long long n, const float* a, const float* b, float* out) {
  KDREC_GRID_STRIDE(i, n) out[i] = __fadd_rn(a[i], b[i]);
}

extern "C" __global__ void kdrec_vec_sub(long long n, const float* a, const float* b, float* out) {
  KDREC_GRID_STRIDE(i, n) out[i] = __fsub_rn(a[i], b[i]);
}

extern "C" __global__ void kdrec_vec_mul(long long n, const float* a, const float* b, float* out) {
  // __fmul_rn: never contracted into a neighbouring add, so bit-equal to Java's a * b.
  KDREC_GRID_STRIDE(i, n) out[i] = __fmul_rn(a[i], b[i]);
}

extern "C" __global__ void kdrec_vec_scale(long long n, float alpha, const float* x, float* out) {
  KDREC_GRID_STRIDE(i, n) out[i] = __fmul_rn(alpha, x[i]);
}

extern "C" __global__ void kdrec_vec_axpy(long long n, float alpha, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) y[i] = fmaf(alpha, x[i], y[i]);  // Math.fma(alpha, x, y)
}

extern "C" __global__ void kdrec_vec_add_mul(long long n, const float* a, const float* b, float* y) {
  KDREC_GRID_STRIDE(i, n) y[i] = fmaf(a[i], b[i], y[i]);   // Math.fma(a, b, y)
}

// Pass 1 of sum: partial[blockIdx.x] = sum over this block's grid-stride elements, in double.
// Launched with 256 threads (GpuVec.REDUCE_THREADS; a multiple of 32, as block_sum needs).
extern "C" __global__ __launch_bounds__(256) void kdrec_vec_sum_partial(long long n, const float* __restrict__ x,
                                                                         double* __restrict__ partial) {
  __shared__ double scratch[32];
  double s = 0.0;
  KDREC_GRID_STRIDE(i, n) s += (double)x[i];
  s = kdrec::block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// Pass 1 of dot: products of two floats are exact in double (24+24 < 53 mantissa bits), as on the CPU.
extern "C" __global__ __launch_bounds__(256) void kdrec_vec_dot_partial(long long n, const float* __restrict__ a,
                                                                         const float* __restrict__ b,
                                                                         double* __restrict__ partial) {
  __shared__ double scratch[32];
  double s = 0.0;
  KDREC_GRID_STRIDE(i, n) s = fma((double)a[i], (double)b[i], s);  // exact product, one rounding: same as s + a*b
  s = kdrec::block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// Pass 2: *out = sum of partial[0, count), by one block (blockDim.x a multiple of 32, <= 1024),
// each thread summing a fixed stride of the partials, then the block tree. count may be 0 (out = 0).
extern "C" __global__ void kdrec_vec_reduce_partials(const double* __restrict__ partial, int count,
                                                     double* __restrict__ out) {
  __shared__ double scratch[32];
  double s = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = kdrec::block_sum(s, scratch);
  if (threadIdx.x == 0) *out = s;
}

// *flag = 1 when some element is NaN or infinite. flag starts at 0 (the wrapper fills it
// before the launch); every writer stores the same value 1, so the race between writers is benign.
extern "C" __global__ void kdrec_vec_all_finite(long long n, const float* __restrict__ x, int* __restrict__ flag) {
  KDREC_GRID_STRIDE(i, n) {
    if (!isfinite(x[i])) *flag = 1;
  }
}

// ---- activations (ActivationScalar) ----------------------------------------------------------
// Forward: y = f(x) (y may be x itself). Backward: gx += gy * f'(.) — every backward accumulates,
// as on the CPU; the double expression and its single final rounding copy the CPU's.

namespace kdrec_act {
__device__ __forceinline__ double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }
}  // namespace kdrec_act

extern "C" __global__ void kdrec_act_sigmoid(long long n, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) y[i] = (float)kdrec_act::sigmoid((double)x[i]);
}

// gx += gy * y * (1 - y), from the forward output y.
extern "C" __global__ void kdrec_act_sigmoid_backward(long long n, const float* __restrict__ y,
                                                      const float* __restrict__ gy, float* __restrict__ gx) {
  KDREC_GRID_STRIDE(i, n) {
    const double s = (double)y[i];
    gx[i] = (float)((double)gx[i] + (double)gy[i] * (s * (1.0 - s)));
  }
}

// y = min(x, 0) - log1p(exp(-|x|)): no overflow for any x (the CPU's formula).
extern "C" __global__ void kdrec_act_log_sigmoid(long long n, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) {
    const double v = (double)x[i];
    // fmin(v, 0) would return 0 for a NaN v; the CPU's Math.min returns NaN. Keep NaN flowing.
    const double m = v < 0.0 ? v : (v != v ? v : 0.0);
    y[i] = (float)(m - log1p(exp(-fabs(v))));
  }
}

// gx += gy * sigmoid(-x).
extern "C" __global__ void kdrec_act_log_sigmoid_backward(long long n, const float* __restrict__ x,
                                                          const float* __restrict__ gy, float* __restrict__ gx) {
  KDREC_GRID_STRIDE(i, n) {
    const double d = kdrec_act::sigmoid(-(double)x[i]);
    gx[i] = (float)((double)gx[i] + (double)gy[i] * d);
  }
}

// relu(x) = x < 0 ? 0 : x: NaN propagates and relu(-0) = -0 (not fmaxf, which would drop NaN).
extern "C" __global__ void kdrec_act_relu(long long n, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) {
    const float v = x[i];
    y[i] = v < 0.0f ? 0.0f : v;
  }
}

// gx += (x > 0 ? gy : 0), a float add as on the CPU (so -0 + 0 = +0 there and here).
extern "C" __global__ void kdrec_act_relu_backward(long long n, const float* __restrict__ x,
                                                   const float* __restrict__ gy, float* __restrict__ gx) {
  KDREC_GRID_STRIDE(i, n) {
    const float g = x[i] > 0.0f ? gy[i] : 0.0f;
    gx[i] = __fadd_rn(gx[i], g);
  }
}

// y = x * sigmoid(x).
extern "C" __global__ void kdrec_act_silu(long long n, const float* x, float* y) {
  KDREC_GRID_STRIDE(i, n) {
    const double v = (double)x[i];
    y[i] = (float)(v * kdrec_act::sigmoid(v));
  }
}

// gx += gy * s * (1 + x * (1 - s)), s = sigmoid(x).
extern "C" __global__ void kdrec_act_silu_backward(long long n, const float* __restrict__ x,
                                                   const float* __restrict__ gy, float* __restrict__ gx) {
  KDREC_GRID_STRIDE(i, n) {
    const double v = (double)x[i];
    const double s = kdrec_act::sigmoid(v);
    gx[i] = (float)((double)gx[i] + (double)gy[i] * (s * (1.0 + v * (1.0 - s))));
  }
}

// ---- dropout (DropoutScalar) -----------------------------------------------------------------
// Mask bit of element e (e = base + i, the index within the op; base is 0 from the public API and
// lets the tests reach indices past 2^32 with a small buffer):
//   hk = mix32(k1 ^ hi(e) * 0x9E3779B9);  h = mix32(mix32(lo(e) ^ k0) + hk);  kept iff (h >> 8) >= thr
// All arithmetic is on uint32_t, which wraps exactly like Java's int (>>> is the unsigned shift).
// k0, k1 (from splitmix64(seed)), thr = ceil(p * 2^24) and scale = 1f / (1f - p) come from the
// host (GpuDropout, with DropoutScalar's expressions in Java), so nothing here can round differently.
// The helpers are __host__ too so a host program can cross-check them against DropoutScalar.kept
// (done by hand with nvcc on the CPU: identical bits near indices 0, 2^31, 2^32, 3*2^32 and 2^40).

namespace kdrec_dropout {
__host__ __device__ __forceinline__ uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return h;
}

__host__ __device__ __forceinline__ bool kept(uint32_t k0, uint32_t k1, unsigned long long e, uint32_t thr) {
  const uint32_t hk = mix32(k1 ^ ((uint32_t)(e >> 32) * 0x9E3779B9u));
  const uint32_t h = mix32(mix32((uint32_t)e ^ k0) + hk);
  return (h >> 8) >= thr;
}
}  // namespace kdrec_dropout

// y = p == 0 ? x : kept ? x * scale : 0 (y may be x itself). identity != 0 encodes p == 0.
extern "C" __global__ void kdrec_dropout_forward(long long n, long long base, const float* x, float* y, int k0, int k1,
                                                 int thr, float scale, int identity) {
  KDREC_GRID_STRIDE(i, n) {
    const float v = x[i];
    y[i] = identity ? v
                    : kdrec_dropout::kept((uint32_t)k0, (uint32_t)k1, (unsigned long long)(base + i), (uint32_t)thr)
                          ? __fmul_rn(v, scale)
                          : 0.0f;
  }
}

// gx += p == 0 ? gy : kept ? gy * scale : 0 (the exact derivative of forward: same mask, same scale).
// No __restrict__: the CPU twin does not forbid gx being the very range of gy.
extern "C" __global__ void kdrec_dropout_backward(long long n, long long base, const float* gy, float* gx, int k0,
                                                  int k1, int thr, float scale, int identity) {
  KDREC_GRID_STRIDE(i, n) {
    const float g = gy[i];
    const float d = identity ? g
                             : kdrec_dropout::kept((uint32_t)k0, (uint32_t)k1, (unsigned long long)(base + i),
                                                   (uint32_t)thr)
                                   ? __fmul_rn(g, scale)
                                   : 0.0f;
    gx[i] = __fadd_rn(gx[i], d);
  }
}

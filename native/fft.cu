// native/fft.cu — batched real FFT, its inverse and the DCT-I: the CUDA twins of kdrec.cpu.FftScalar
// (same algorithms, same float formulas, same tables; see kdrec.cpu.FftPlan and kdrec.gpu.GpuFft).
//
// Decomposition: ONE BLOCK PER ROW (a block loops over rows r = blockIdx.x, += gridDim.x). The row's
// complex work array of length m (a power of two) lives as two float arrays re[m], im[m], either in
// dynamic shared memory (2*m*4 bytes, m <= 4096 so at most 32 KiB: under the 48 KiB a launch may ask
// for without an opt-in attribute) or, for larger m, in a global scratch slice of 2*m floats per block
// (`gwork` != nullptr; the wrapper sizes it for gridDim.x blocks). The same code serves both: a
// __forceinline__ body is instantiated once with the shared and once with the global pointer, so the
// shared path gets shared-memory loads. __syncthreads orders global-memory accesses within a block as
// it does shared ones, and the scratch is never read through the read-only cache, so the global path
// needs nothing more.
//
// Each radix-2 stage has m/2 independent butterflies; thread t does butterflies t, t+blockDim.x, ...
// and the block syncs after every stage (log2 m syncs). Load, post-processing and store loops are
// block-strided over elements, so global reads and writes are coalesced along the row.
//   - power of two n (m = n/2): pack z_q = x_2q + i x_2q+1 at bit-reversed positions while loading,
//     decimation-in-time FFT (natural-order out), split into bins k = 0..n/2 with the post twiddles.
//     The inverse builds the conjugated packed spectrum at bit-reversed positions, runs the same DIT
//     FFT and unpacks, scaled by 1/n.
//   - any other n (Bluestein, m = power of two >= 2n-1): multiply by the conjugate chirp, zero-pad to m,
//     DIF FFT (bit-reversed out), pointwise product with the chirp spectrum stored bit-reversed
//     (conjugated, as the CPU does), DIT FFT (natural out), multiply by the chirp again.
//   - DCT-I of length n+1: the forward kernels with dct != 0 read the even extension of length 2n
//     (e_t = x_t for t <= n, x_(2n-t) above) and write only the real parts of bins 0..n.
// Tables (float2 = (cos, sin), computed on the host in double from exact angles and rounded once, so
// identical to the CPU's): tw[j] = angle 2 pi j / m, j < m/2; post[k] = 2 pi k / n, k <= n/2;
// chirp[t] = pi (t^2 mod 2n) / n, t < n; bhat[rev(k)] = DFT_m(wrapped chirp)[k] / m.
// No atomics: every output is written by one thread, so results are deterministic run to run.
#include "common.cuh"

namespace kdrec_fft {

constexpr int kMaxThreads = 512;

// Bit reversal of t in [0, 2^bits); bits == 0 (m == 1) must not shift by 32.
__device__ __forceinline__ int bitrev(int t, int bits) {
  return bits == 0 ? 0 : (int)(__brev((unsigned)t) >> (32 - bits));
}

// Radix-2 decimation-in-time forward DFT of length m = 2^bits on (re, im): bit-reversed in, natural
// out. Butterfly formulas exactly as FftScalar.dit (w = wc - i ws). Ends with a __syncthreads.
__device__ __forceinline__ void dit(float* re, float* im, int m, int bits, const float2* __restrict__ tw) {
  const int butterflies = m >> 1;
  for (int lb = 1; lb <= bits; lb++) {
    const int half = 1 << (lb - 1), shift = bits - lb;  // step = m / len = 2^(bits - lb)
    for (int b = threadIdx.x; b < butterflies; b += blockDim.x) {
      const int j = b & (half - 1), a = ((b - j) << 1) + j, c = a + half;
      const float2 w = __ldg(&tw[j << shift]);
      const float br = re[c], bi = im[c];
      const float tr = br * w.x + bi * w.y, ti = bi * w.x - br * w.y;
      const float ar = re[a], ai = im[a];
      re[a] = ar + tr;
      im[a] = ai + ti;
      re[c] = ar - tr;
      im[c] = ai - ti;
    }
    __syncthreads();
  }
}

// Radix-2 decimation-in-frequency forward DFT of length m: natural in, bit-reversed out (FftScalar.dif).
// Ends with a __syncthreads.
__device__ __forceinline__ void dif(float* re, float* im, int m, int bits, const float2* __restrict__ tw) {
  const int butterflies = m >> 1;
  for (int lb = bits; lb >= 1; lb--) {
    const int half = 1 << (lb - 1), shift = bits - lb;
    for (int b = threadIdx.x; b < butterflies; b += blockDim.x) {
      const int j = b & (half - 1), a = ((b - j) << 1) + j, c = a + half;
      const float2 w = __ldg(&tw[j << shift]);
      const float ar = re[a], ai = im[a], br = re[c], bi = im[c];
      const float dr = ar - br, di = ai - bi;
      re[a] = ar + br;
      im[a] = ai + bi;
      re[c] = dr * w.x + di * w.y;
      im[c] = di * w.x - dr * w.y;
    }
    __syncthreads();
  }
}

// Sample t of the signal a forward kernel transforms: the row itself, or (dct) its even extension
// of length nfft = 2 * (n_dct), e_t = x_(nfft - t) for t > nfft/2.
__device__ __forceinline__ float sample(const float* __restrict__ row, int t, int nfft, int dct) {
  return (dct && t > (nfft >> 1)) ? row[nfft - t] : row[t];
}

// ---- power of two: forward (rfft / dct1) of one row in (re, im) of length m = n/2 ----
__device__ __forceinline__ void fwd_pow2_row(const float* __restrict__ xr, float* __restrict__ orow, int n,
                                             int dct, const float2* __restrict__ tw,
                                             const float2* __restrict__ post, float* re, float* im) {
  const int m = n >> 1, bits = __ffs(m) - 1;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = sample(xr, i, n, dct);
    const int q = bitrev(i >> 1, bits);
    if (i & 1) im[q] = v; else re[q] = v;
  }
  __syncthreads();
  dit(re, im, m, bits, tw);
  // split the packed spectrum (FftScalar.forward): E = even-sample DFT, D = W^k odd-sample DFT
  for (int k = threadIdx.x; k <= m; k += blockDim.x) {
    float xr_k, xi_k;
    if (k == 0 || k == m) {
      xr_k = k == 0 ? re[0] + im[0] : re[0] - im[0];
      xi_k = 0.f;
    } else {
      const float ar = re[k], ai = im[k], br = re[m - k], bi = im[m - k];
      const float er = (ar + br) * 0.5f, ei = (ai - bi) * 0.5f, dr = (ar - br) * 0.5f, di = (ai + bi) * 0.5f;
      const float2 w = __ldg(&post[k]);
      xr_k = er + (w.x * di - w.y * dr);
      xi_k = ei - (w.x * dr + w.y * di);
    }
    if (dct) {
      orow[k] = xr_k;
    } else {
      orow[2 * k] = xr_k;
      orow[2 * k + 1] = xi_k;
    }
  }
  __syncthreads();  // the next row overwrites re/im
}

// ---- power of two: inverse of one row, bins 0..n/2 interleaved at irow, signal to xrow ----
__device__ __forceinline__ void inv_pow2_row(const float* __restrict__ irow, float* __restrict__ xrow, int n,
                                             const float2* __restrict__ tw, const float2* __restrict__ post,
                                             float* re, float* im) {
  const int m = n >> 1, bits = __ffs(m) - 1;
  // rebuild 2 Z_k conjugated, at bit-reversed positions (FftScalar.inverse); Im of bins 0, m ignored
  for (int k = threadIdx.x; k < m; k += blockDim.x) {
    float zr, zi;
    if (k == 0) {
      const float a = irow[0], b = irow[2 * m];
      zr = a + b;
      zi = -(a - b);
    } else {
      const float ar = irow[2 * k], ai = irow[2 * k + 1], br = irow[2 * (m - k)], bi = irow[2 * (m - k) + 1];
      const float sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;
      const float2 w = __ldg(&post[k]);
      zr = sr - (w.x * di + w.y * dr);
      zi = -(si + (w.x * dr - w.y * di));
    }
    const int q = bitrev(k, bits);
    re[q] = zr;
    im[q] = zi;
  }
  __syncthreads();
  dit(re, im, m, bits, tw);
  const float invN = 1.f / (float)n, negInvN = -invN;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    xrow[i] = (i & 1) ? im[i >> 1] * negInvN : re[i >> 1] * invN;
  }
  __syncthreads();
}

// Bluestein core on (re, im) of length m (FftScalar.convolve): DIF, conj(a * bhat), DIT.
__device__ __forceinline__ void convolve(float* re, float* im, int m, int bits, const float2* __restrict__ tw,
                                         const float2* __restrict__ bhat) {
  dif(re, im, m, bits, tw);
  for (int q = threadIdx.x; q < m; q += blockDim.x) {
    const float ar = re[q], ai = im[q];
    const float2 b = __ldg(&bhat[q]);
    re[q] = ar * b.x - ai * b.y;
    im[q] = -(ar * b.y + ai * b.x);
  }
  __syncthreads();
  dit(re, im, m, bits, tw);
}

// ---- Bluestein forward (rfft / dct1) of one row; n the transform length, m the padded length ----
__device__ __forceinline__ void fwd_blue_row(const float* __restrict__ xr, float* __restrict__ orow, int n, int m,
                                             int dct, const float2* __restrict__ tw,
                                             const float2* __restrict__ chirp, const float2* __restrict__ bhat,
                                             float* re, float* im) {
  const int bits = __ffs(m) - 1;
  for (int t = threadIdx.x; t < m; t += blockDim.x) {
    float ar = 0.f, ai = 0.f;
    if (t < n) {
      const float v = sample(xr, t, n, dct);
      const float2 c = __ldg(&chirp[t]);
      ar = v * c.x;
      ai = -(v * c.y);
    }
    re[t] = ar;
    im[t] = ai;
  }
  __syncthreads();
  convolve(re, im, m, bits, tw, bhat);
  const int h = n >> 1;
  for (int k = threadIdx.x; k <= h; k += blockDim.x) {
    const float fr = re[k], fi = im[k];
    const float2 c = __ldg(&chirp[k]);
    const float xr_k = fr * c.x - fi * c.y;
    // bins 0 and n/2 (n even) of a real signal are real: drop the convolution's rounding noise there
    const float xi_k = (k == 0 || ((n & 1) == 0 && k == h)) ? 0.f : -(fr * c.y + fi * c.x);
    if (dct) {
      orow[k] = xr_k;
    } else {
      orow[2 * k] = xr_k;
      orow[2 * k + 1] = xi_k;
    }
  }
  __syncthreads();
}

// ---- Bluestein inverse of one row: bins 0..n/2 at irow, signal of length n to xrow ----
__device__ __forceinline__ void inv_blue_row(const float* __restrict__ irow, float* __restrict__ xrow, int n, int m,
                                             const float2* __restrict__ tw, const float2* __restrict__ chirp,
                                             const float2* __restrict__ bhat, float* re, float* im) {
  const int bits = __ffs(m) - 1, h = n >> 1;
  for (int k = threadIdx.x; k < m; k += blockDim.x) {
    float ar = 0.f, ai = 0.f;
    if (k < n) {
      // conj of the full Hermitian spectrum (FftScalar.conjugateFull): conj(X_k) for k <= n/2, and
      // X_(n-k) = conj(X_k) above; Im of bin 0 and (n even) bin n/2 dropped
      float yr, yi;
      if (k <= h) {
        yr = irow[2 * k];
        yi = (k == 0 || ((n & 1) == 0 && k == h)) ? 0.f : -irow[2 * k + 1];
      } else {
        yr = irow[2 * (n - k)];
        yi = irow[2 * (n - k) + 1];
      }
      const float2 c = __ldg(&chirp[k]);
      ar = yr * c.x + yi * c.y;
      ai = yi * c.x - yr * c.y;
    }
    re[k] = ar;
    im[k] = ai;
  }
  __syncthreads();
  convolve(re, im, m, bits, tw, bhat);
  const float invN = 1.f / (float)n;
  for (int t = threadIdx.x; t < n; t += blockDim.x) {
    const float2 c = __ldg(&chirp[t]);
    xrow[t] = (re[t] * c.x - im[t] * c.y) * invN;
  }
  __syncthreads();
}

// The block's work arrays: dynamic shared memory, or its slice of the global scratch.
extern __shared__ float smem[];

}  // namespace kdrec_fft

// Forward transform of `batch` rows, power-of-two length n >= 2 (dct: n = 2 * the DCT's n, output
// real parts only). Row r: in = x + r*ldx, out = o + r*ldo. gwork == nullptr: shared work arrays of
// 2*(n/2) floats (dynamic shared bytes set by the wrapper); else 2*(n/2) floats per block at gwork.
extern "C" __global__ __launch_bounds__(kdrec_fft::kMaxThreads) void kdrec_fft_fwd_pow2(
    const float* __restrict__ x, int ldx, float* __restrict__ o, int ldo, int batch, int n, int dct,
    const float2* __restrict__ tw, const float2* __restrict__ post, float* gwork) {
  using namespace kdrec_fft;
  const int m = n >> 1;
  for (long long r = blockIdx.x; r < batch; r += gridDim.x) {
    const float* xr = x + r * ldx;
    float* orow = o + r * ldo;
    if (gwork) {
      float* w = gwork + (long long)blockIdx.x * 2 * m;
      fwd_pow2_row(xr, orow, n, dct, tw, post, w, w + m);
    } else {
      fwd_pow2_row(xr, orow, n, dct, tw, post, smem, smem + m);
    }
  }
}

// Inverse real FFT of `batch` rows, power-of-two n >= 2: bins at i + r*ldi, signal to x + r*ldx.
extern "C" __global__ __launch_bounds__(kdrec_fft::kMaxThreads) void kdrec_fft_inv_pow2(
    const float* __restrict__ in, int ldi, float* __restrict__ x, int ldx, int batch, int n,
    const float2* __restrict__ tw, const float2* __restrict__ post, float* gwork) {
  using namespace kdrec_fft;
  const int m = n >> 1;
  for (long long r = blockIdx.x; r < batch; r += gridDim.x) {
    const float* irow = in + r * ldi;
    float* xrow = x + r * ldx;
    if (gwork) {
      float* w = gwork + (long long)blockIdx.x * 2 * m;
      inv_pow2_row(irow, xrow, n, tw, post, w, w + m);
    } else {
      inv_pow2_row(irow, xrow, n, tw, post, smem, smem + m);
    }
  }
}

// Forward transform of `batch` rows by Bluestein, any n >= 3 that is not a power of two, padded
// length m; work arrays of 2*m floats (shared or gwork, as above).
extern "C" __global__ __launch_bounds__(kdrec_fft::kMaxThreads) void kdrec_fft_fwd_bluestein(
    const float* __restrict__ x, int ldx, float* __restrict__ o, int ldo, int batch, int n, int m, int dct,
    const float2* __restrict__ tw, const float2* __restrict__ chirp, const float2* __restrict__ bhat, float* gwork) {
  using namespace kdrec_fft;
  for (long long r = blockIdx.x; r < batch; r += gridDim.x) {
    const float* xr = x + r * ldx;
    float* orow = o + r * ldo;
    if (gwork) {
      float* w = gwork + (long long)blockIdx.x * 2 * m;
      fwd_blue_row(xr, orow, n, m, dct, tw, chirp, bhat, w, w + m);
    } else {
      fwd_blue_row(xr, orow, n, m, dct, tw, chirp, bhat, smem, smem + m);
    }
  }
}

// Inverse real FFT of `batch` rows by Bluestein (n >= 3, not a power of two).
extern "C" __global__ __launch_bounds__(kdrec_fft::kMaxThreads) void kdrec_fft_inv_bluestein(
    const float* __restrict__ in, int ldi, float* __restrict__ x, int ldx, int batch, int n, int m,
    const float2* __restrict__ tw, const float2* __restrict__ chirp, const float2* __restrict__ bhat, float* gwork) {
  using namespace kdrec_fft;
  for (long long r = blockIdx.x; r < batch; r += gridDim.x) {
    const float* irow = in + r * ldi;
    float* xrow = x + r * ldx;
    if (gwork) {
      float* w = gwork + (long long)blockIdx.x * 2 * m;
      inv_blue_row(irow, xrow, n, m, tw, chirp, bhat, w, w + m);
    } else {
      inv_blue_row(irow, xrow, n, m, tw, chirp, bhat, smem, smem + m);
    }
  }
}

// n == 1: rfft writes (x_0, 0) (zero_imag = 1, dst row width 2), irfft writes x_0 = Re(X_0)
// (zero_imag = 0). Grid-stride over rows, one thread per row.
extern "C" __global__ void kdrec_fft_len1(const float* __restrict__ src, int lds, float* __restrict__ dst, int ldd,
                                          int batch, int zero_imag) {
  KDREC_GRID_STRIDE(r, batch) {
    dst[r * ldd] = src[r * lds];
    if (zero_imag) dst[r * ldd + 1] = 0.f;
  }
}

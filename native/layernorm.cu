// native/layernorm.cu — row normalisations over the last dimension (kdrec.gpu.GpuLayerNorm): layer
// normalisation (twin of kdrec.cpu.LayerNormScalar), forward with saved mean/rstd per row and backward
// (dx, dgamma, dbeta); and L2 row normalisation y = x / max(|x|, eps) with its backward (twin of
// kdrec.autograd.Norm.l2Rows: HSTU's output states and normalised items).
//
// Row r of x is x[r*ldx + j], j in [0, d) (pointers arrive offset to row 0; likewise y, dy, dx).
// Statistics and outputs are computed in double and rounded once to float, as on the CPU: the mean
// and the biased variance are two passes (mean first, then sum of squared deviations), not the
// one-pass E[x^2] - E[x]^2 that cancels badly.
//
// Decomposition:
//  * kdrec_layernorm_forward / _backward_dx: one block per row (blockIdx.x = row), blockDim.x a
//    multiple of 32 in [32, 512] picked by the wrapper from d; thread t handles columns t, t+B, ...
//    Row sums go through kdrec::block_sum (fixed tree: deterministic). Each row is read 2-3 times
//    from global memory; a row is at most a few KiB, so the re-reads hit L1/L2.
//  * kdrec_layernorm_backward_params (dgamma, dbeta): column sums over all rows. A block of
//    tile x stripes threads (8 x 128, or 32 x 32 when d >= 2048) owns `tile` columns
//    (threadIdx.x); threadIdx.y = k sums rows k, k+stripes, ... in double, then one thread per column
//    adds the stripes' partials in a fixed order. Deterministic, no atomics. Narrow tiles give small
//    d more blocks (d = 64: 8 blocks), but parallelism is still ceil(d / tile) blocks whatever the
//    row count (see the wrapper's note).
#include "common.cuh"

// y = (x - mean) * rstd * gamma + beta per row; mean[row] and rstd[row] saved (as floats) for backward.
// gamma / beta are read only when hasGamma / hasBeta (the wrapper passes a placeholder otherwise).
// y may be the same range as x: every thread has finished reading its row for the statistics
// before the barrier inside the second block_sum, and in the last loop each thread reads and
// writes only its own columns.
extern "C" __global__ __launch_bounds__(512) void kdrec_layernorm_forward(
    int d, const float* x, int ldx, const float* __restrict__ gamma, int hasGamma, const float* __restrict__ beta,
    int hasBeta, float eps, float* y, int ldy, float* __restrict__ mean, float* __restrict__ rstd) {
  __shared__ double scratch[32];
  const int row = blockIdx.x;
  const float* xr = x + (long long)row * ldx;
  float* yr = y + (long long)row * ldy;

  double s = 0.0;
  for (int j = threadIdx.x; j < d; j += blockDim.x) s += (double)xr[j];
  const double mu = kdrec::block_sum(s, scratch) / d;

  double ss = 0.0;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    const double c = (double)xr[j] - mu;
    ss += c * c;
  }
  ss = kdrec::block_sum(ss, scratch);
  const double rs = 1.0 / sqrt(ss / d + (double)eps);
  if (threadIdx.x == 0) {
    mean[row] = (float)mu;
    rstd[row] = (float)rs;
  }
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    double v = ((double)xr[j] - mu) * rs;
    if (hasGamma) v *= (double)gamma[j];
    if (hasBeta) v += (double)beta[j];
    yr[j] = (float)v;
  }
}

// dx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma, xhat = (x - mean) * rstd,
// from the saved (float) mean and rstd, as the CPU does.
extern "C" __global__ __launch_bounds__(512) void kdrec_layernorm_backward_dx(
    int d, const float* __restrict__ x, int ldx, const float* __restrict__ gamma, int hasGamma,
    const float* __restrict__ mean, const float* __restrict__ rstd, const float* __restrict__ dy, int lddy,
    float* __restrict__ dx, int lddx) {
  __shared__ double scratch[32];
  const int row = blockIdx.x;
  const float* xr = x + (long long)row * ldx;
  const float* dyr = dy + (long long)row * lddy;
  float* dxr = dx + (long long)row * lddx;
  const double mu = (double)mean[row], rs = (double)rstd[row];

  double sg = 0.0, sgx = 0.0;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    const double g = (double)dyr[j] * (hasGamma ? (double)gamma[j] : 1.0);
    sg += g;
    sgx += g * ((double)xr[j] - mu) * rs;
  }
  const double mg = kdrec::block_sum(sg, scratch) / d;
  const double mgx = kdrec::block_sum(sgx, scratch) / d;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    const double g = (double)dyr[j] * (hasGamma ? (double)gamma[j] : 1.0);
    const double xhat = ((double)xr[j] - mu) * rs;
    dxr[j] = (float)((double)dxr[j] + rs * (g - mg - xhat * mgx));
  }
}

// dgamma[j] += sum_r dy[r][j] * xhat[r][j] (when hasDgamma), dbeta[j] += sum_r dy[r][j] (when hasDbeta).
// Block (tile, stripes) with tile * stripes <= 1024 (the wrapper uses 8 x 128, or 32 x 32 for wide
// rows), grid ceil(d / tile); rows >= 1 (the wrapper returns early for rows == 0). Thread (tx, ty)
// sums rows ty, ty + stripes, ... of column blockIdx.x * tile + tx; a warp covers 32 / tile rows of
// tile consecutive columns (32 or 128 contiguous bytes per row: whole sectors).
extern "C" __global__ __launch_bounds__(1024) void kdrec_layernorm_backward_params(
    int rows, int d, const float* __restrict__ x, int ldx, const float* __restrict__ mean,
    const float* __restrict__ rstd, const float* __restrict__ dy, int lddy, float* __restrict__ dgamma, int hasDgamma,
    float* __restrict__ dbeta, int hasDbeta) {
  // Partials at [ty * tile + tx]: consecutive threads touch consecutive doubles (no bank conflicts).
  __shared__ double partG[1024];
  __shared__ double partB[1024];
  const int tile = blockDim.x, stripes = blockDim.y;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int j = blockIdx.x * tile + tx;
  double sg = 0.0, sb = 0.0;
  if (j < d) {
    for (int r = ty; r < rows; r += stripes) {
      const double g = (double)dy[(long long)r * lddy + j];
      sg += g * ((double)x[(long long)r * ldx + j] - (double)mean[r]) * (double)rstd[r];
      sb += g;
    }
  }
  partG[ty * tile + tx] = sg;
  partB[ty * tile + tx] = sb;
  __syncthreads();
  if (ty == 0 && j < d) {
    double tg = 0.0, tb = 0.0;
    for (int k = 0; k < stripes; k++) {  // fixed order: deterministic
      tg += partG[k * tile + tx];
      tb += partB[k * tile + tx];
    }
    if (hasDgamma) dgamma[j] = (float)((double)dgamma[j] + tg);
    if (hasDbeta) dbeta[j] = (float)((double)dbeta[j] + tb);
  }
}

// L2 rows: y = x * (1 / max(|x|, eps)) per row, norm[row] = max(|x|, eps) saved for backward. One block
// per row as the layer-norm forward; |x|^2 summed in double (the CPU's float dot differs from it by
// rounding only). The reciprocal is rounded to float first and then multiplied, as the CPU scales.
extern "C" __global__ __launch_bounds__(512) void kdrec_l2_rows_forward(
    int d, const float* __restrict__ x, int ldx, float eps, float* __restrict__ y, int ldy, float* __restrict__ norm) {
  __shared__ double scratch[32];
  const int row = blockIdx.x;
  const float* xr = x + (long long)row * ldx;
  float* yr = y + (long long)row * ldy;
  double ss = 0.0;
  for (int j = threadIdx.x; j < d; j += blockDim.x) ss += (double)xr[j] * (double)xr[j];
  const float nv = fmaxf((float)sqrt(kdrec::block_sum(ss, scratch)), eps);
  const float inv = 1.f / nv;
  for (int j = threadIdx.x; j < d; j += blockDim.x) yr[j] = __fmul_rn(xr[j], inv);
  if (threadIdx.x == 0) norm[row] = nv;
}

// dx += (dy - <y, dy> y) / norm per row, with <y, dy> taken as 0 where the norm is clamped at eps
// (there it is the constant eps, as the CPU's Norm.l2Rows: d/dx = dy / eps). The clamp is detected
// from the raw norm, recomputed here rather than stored.
extern "C" __global__ __launch_bounds__(512) void kdrec_l2_rows_backward(
    int d, const float* __restrict__ x, int ldx, const float* __restrict__ y, int ldy, const float* __restrict__ norm,
    float eps, const float* __restrict__ dy, int lddy, float* __restrict__ dx, int lddx) {
  __shared__ double scratch[32];
  const int row = blockIdx.x;
  const float* xr = x + (long long)row * ldx;
  const float* yr = y + (long long)row * ldy;
  const float* gr = dy + (long long)row * lddy;
  float* dxr = dx + (long long)row * lddx;
  double ss = 0.0, proj = 0.0;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    ss += (double)xr[j] * (double)xr[j];
    proj += (double)yr[j] * (double)gr[j];
  }
  ss = kdrec::block_sum(ss, scratch);
  proj = kdrec::block_sum(proj, scratch);
  const double inv = 1.0 / (double)norm[row];
  const double p = sqrt(ss) < (double)eps ? 0.0 : proj;
  for (int j = threadIdx.x; j < d; j += blockDim.x) {
    dxr[j] = (float)((double)dxr[j] + inv * ((double)gr[j] - p * (double)yr[j]));
  }
}

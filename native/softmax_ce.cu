// native/softmax_ce.cu — full-catalogue softmax cross-entropy, the CUDA twin of
// kdrec.cpu.SoftmaxCeScalar (forward, backward, rowsInPlace, sampled).
//
// forward (z = scale * U I^T, lse per row, loss = lse - z_target), never an m x n buffer:
//   kdrec_softmax_ce_forward_partial: grid (ceil(m/64) row tiles, S item splits), 256 threads. A block
//     owns 64 rows and a contiguous range of 64-item tiles; each tile's 64 x 64 scores come from a
//     register-blocked SGEMM tile (tile_dot: 16 x 16 threads, 4 x 4 outputs each, k in steps of 16
//     through shared memory) and feed per-thread online (max, sum exp) states; the 16 threads of a
//     row combine by shuffles and write one (max, sum) per row and split to the workspace.
//   kdrec_softmax_ce_forward_combine: one thread per row merges the S partials in split order (double)
//     and computes z_target with one dot. The split count depends only on (m, n) (chosen by the Java
//     wrapper), so results are run-to-run deterministic.
// backward (G = gLoss * scale * (softmax - onehot), recomputed tile by tile from the saved lse):
//   kdrec_softmax_ce_backward_du: grid (row tiles, S item splits x ceil(d/64) column chunks). Per item
//     tile: scores -> G tile in shared memory -> dU(64 rows x 64 cols) += G I_tile. With S = 1 it adds
//     straight into du; with S > 1 each split writes its partial to the workspace and
//     kdrec_softmax_ce_backward_du_reduce adds the S partials into du in split order.
//   kdrec_softmax_ce_backward_di: grid (ceil(n/64) item tiles, column chunks); ITEM-TILE-MAJOR: a block
//     loops over all row tiles and accumulates dI(64 items x 64 cols) += G^T U_tile in registers, then
//     adds it into di once. No float atomics anywhere: backward is deterministic too.
// rowsInPlace: one 256-thread block per row (grid-stride over rows), online (max, sum) per thread,
//   block combine in fixed order, then the row is overwritten with the gradient.
// sampled: one warp per row over its negatives (three short passes; the row is in L1 after the first).
#include "common.cuh"

namespace kdrec_softmax_ce {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kTile = 64;     // rows and items per tile, and dU/dI columns per chunk
constexpr int kK = 16;        // k step through shared memory
constexpr int kThreads = 256; // 16 x 16 threads, 4 x 4 outputs each
constexpr int kPad = kTile + 4;  // row stride of the k-major tiles: keeps float4 alignment, spreads banks

struct Online {
  float m, s;
};

__device__ __forceinline__ void online_add(Online& o, float x) {
  if (x > o.m) {
    o.s = o.s * expf(o.m - x) + 1.f;  // first element: 0 * exp(-inf) + 1
    o.m = x;
  } else if (x != -INFINITY) {  // a masked -inf logit adds 0; exp(-inf - -inf) would be NaN
    o.s += expf(x - o.m);
  }
}

// Merge b into a (order-independent bits: products rounded separately, then one commutative add).
__device__ __forceinline__ Online online_merge(Online a, Online b) {
  const float mx = fmaxf(a.m, b.m);
  if (mx == -INFINITY) return Online{mx, 0.f};
  return Online{mx, __fadd_rn(__fmul_rn(a.s, expf(a.m - mx)), __fmul_rn(b.s, expf(b.m - mx)))};
}

// The two operand tiles of tile_dot, k-major: a[k][row], b[k][col].
struct DotSmem {
  float a[kK][kPad];
  float b[kK][kPad];
};

// acc[i][j] = <A[ra + ty*4 + i], B[rb + tx*4 + j]> over d columns (k ascending, fma), where A has rowsA
// rows (leading dim lda) and B rowsB rows; rows past the end read as zeros. All 256 threads must call
// it (it has barriers); it ends with a barrier, so the caller may reuse its own shared memory freely.
__device__ __forceinline__ void tile_dot(const float* A, int lda, int rowsA, int ra, const float* B, int ldb, int rowsB,
                                         int rb, int d, DotSmem& sm, float acc[4][4]) {
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
  for (int k0 = 0; k0 < d; k0 += kK) {
    // 64 rows x 16 k per operand = 4 elements per thread; 16 consecutive threads read one row's 16 k.
#pragma unroll
    for (int q = 0; q < 4; q++) {
      const int e = tid + q * kThreads, row = e >> 4, kk = e & 15, gk = k0 + kk;
      const int gra = ra + row, grb = rb + row;
      sm.a[kk][row] = (gra < rowsA && gk < d) ? A[(long long)gra * lda + gk] : 0.f;
      sm.b[kk][row] = (grb < rowsB && gk < d) ? B[(long long)grb * ldb + gk] : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kK; kk++) {
      const float4 av = *reinterpret_cast<const float4*>(&sm.a[kk][ty * 4]);
      const float4 bv = *reinterpret_cast<const float4*>(&sm.b[kk][tx * 4]);
      const float a4[4] = {av.x, av.y, av.z, av.w}, b4[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a4[i], b4[j], acc[i][j]);
    }
    __syncthreads();
  }
}

// Shared memory of the backward kernels: the dot tiles, the G tile g[x][y] (x = this thread's ty
// side, y = the summed side) and the 64 x 64 slice v[y][col] of the matrix G multiplies.
struct GradSmem {
  DotSmem dot;
  float g[kTile][kPad];
  float v[kTile][kTile];
};

// Loads v[y][c] = M[(y0 + y) * ldm + c0 + c] (zeros outside rows x d).
__device__ __forceinline__ void load_slice(const float* M, int ldm, int rows, int y0, int d, int c0, float (*v)[kTile]) {
#pragma unroll
  for (int q = 0; q < kTile * kTile / kThreads; q++) {
    const int e = threadIdx.x + q * kThreads, y = e >> 6, c = e & 63;
    v[y][c] = (y0 + y < rows && c0 + c < d) ? M[(long long)(y0 + y) * ldm + c0 + c] : 0.f;
  }
}

// out[i][j] += sum_y g[ty*4 + i][y] * v[y][tx*4 + j], y ascending.
__device__ __forceinline__ void accumulate(const GradSmem& sm, float out[4][4]) {
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll 8
  for (int y = 0; y < kTile; y++) {
    const float4 vv = *reinterpret_cast<const float4*>(&sm.v[y][tx * 4]);
    const float v4[4] = {vv.x, vv.y, vv.z, vv.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const float gi = sm.g[ty * 4 + i][y];
#pragma unroll
      for (int j = 0; j < 4; j++) out[i][j] = fmaf(gi, v4[j], out[i][j]);
    }
  }
}

}  // namespace kdrec_softmax_ce

// ws[split * m + r] = running max, ws[(S + split) * m + r] = sum exp(z - max) of row r over the items
// of tiles [split * tilesPerSplit, (split + 1) * tilesPerSplit) (S = gridDim.y).
extern "C" __global__ __launch_bounds__(kdrec_softmax_ce::kThreads) void
kdrec_softmax_ce_forward_partial(int m, int n, int d, const float* u, int ldu, const float* items, int ldi, float scale,
                                 int tilesPerSplit, float* ws) {
  using namespace kdrec_softmax_ce;
  __shared__ __align__(16) DotSmem sm;
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4, r0 = blockIdx.x * kTile, split = blockIdx.y;
  const int tiles = (n + kTile - 1) / kTile, t0 = split * tilesPerSplit, t1 = min(tiles, t0 + tilesPerSplit);
  Online st[4];
#pragma unroll
  for (int i = 0; i < 4; i++) st[i] = Online{-INFINITY, 0.f};
  float acc[4][4];
  for (int t = t0; t < t1; t++) {  // uniform over the block: the barriers in tile_dot are safe
    const int c0 = t * kTile;
    tile_dot(u, ldu, m, r0, items, ldi, n, c0, d, sm, acc);
#pragma unroll
    for (int j = 0; j < 4; j++) {
      if (c0 + tx * 4 + j < n) {
#pragma unroll
        for (int i = 0; i < 4; i++) online_add(st[i], scale * acc[i][j]);
      }
    }
  }
  // The 16 threads of a row (same ty, tx = 0..15) are lanes differing in bits 0-3 of one half-warp.
#pragma unroll
  for (int i = 0; i < 4; i++) {
    for (int off = 8; off > 0; off >>= 1) {
      const Online other{__shfl_xor_sync(kFull, st[i].m, off), __shfl_xor_sync(kFull, st[i].s, off)};
      st[i] = online_merge(st[i], other);
    }
  }
  if (tx == 0) {
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int r = r0 + ty * 4 + i;
      if (r < m) {
        ws[(long long)split * m + r] = st[i].m;
        ws[(long long)(gridDim.y + split) * m + r] = st[i].s;
      }
    }
  }
}

// lse[r] = merged log-sum-exp of the S = splits partials, loss[r] = lse[r] - scale <U[r], I[target[r]]>.
extern "C" __global__ void kdrec_softmax_ce_forward_combine(int m, int d, const float* u, int ldu, const float* items,
                                                            int ldi, float scale, const int* target, int splits,
                                                            const float* ws, float* loss, float* lse) {
  KDREC_GRID_STRIDE(r, m) {
    float mx = -INFINITY;
    for (int s = 0; s < splits; s++) mx = fmaxf(mx, ws[(long long)s * m + r]);
    double sum = 0.0;
    for (int s = 0; s < splits; s++) {
      const float ms = ws[(long long)s * m + r];
      if (ms != -INFINITY) sum += (double)ws[(long long)(splits + s) * m + r] * exp((double)ms - mx);
    }
    const float* ur = u + r * ldu;
    const float* it = items + (long long)target[r] * ldi;
    float dot = 0.f;
    for (int k = 0; k < d; k++) dot = fmaf(ur[k], it[k], dot);
    const double l = (double)mx + log(sum);
    lse[r] = (float)l;
    loss[r] = (float)(l - (double)(scale * dot));
  }
}

// dU partial: rows [64 bx, +64), item tiles of one split, 64 columns of one chunk (both from by). out
// row r, column c is out[split * splitStride + r * ldo + c]; addInto = 1 adds into it (S = 1, out = du),
// 0 overwrites (S > 1, out = workspace of S m x d slices).
extern "C" __global__ __launch_bounds__(kdrec_softmax_ce::kThreads) void
kdrec_softmax_ce_backward_du(int m, int n, int d, const float* u, int ldu, const float* items, int ldi, float scale,
                             const int* target, const float* lse, const float* gLoss, int tilesPerSplit, float* out,
                             int ldo, long long splitStride, int addInto) {
  using namespace kdrec_softmax_ce;
  __shared__ __align__(16) GradSmem sm;
  // blockIdx.y = split * chunks + column chunk (gridDim.z is capped at 64, so the chunks share y).
  const int chunks = (d + kTile - 1) / kTile, split = blockIdx.y / chunks;
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4, r0 = blockIdx.x * kTile, c0 = (blockIdx.y % chunks) * kTile;
  const int tiles = (n + kTile - 1) / kTile, t0 = split * tilesPerSplit, t1 = min(tiles, t0 + tilesPerSplit);
  float rowLse[4], rowCoef[4];
  int rowTarget[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int r = r0 + ty * 4 + i;
    const bool in = r < m;
    rowLse[i] = in ? lse[r] : 0.f;
    rowCoef[i] = in ? gLoss[r] * scale : 0.f;  // rows past m get G = 0
    rowTarget[i] = in ? target[r] : -1;
  }
  float acc[4][4], du[4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) du[i][j] = 0.f;
  for (int t = t0; t < t1; t++) {
    const int i0 = t * kTile;
    tile_dot(u, ldu, m, r0, items, ldi, n, i0, d, sm.dot, acc);  // acc[i][j]: row ty*4+i, item tx*4+j
#pragma unroll
    for (int i = 0; i < 4; i++) {
      float g4[4];
#pragma unroll
      for (int j = 0; j < 4; j++) {
        const int item = i0 + tx * 4 + j;
        const float p = expf(scale * acc[i][j] - rowLse[i]) - (item == rowTarget[i] ? 1.f : 0.f);
        g4[j] = item < n ? rowCoef[i] * p : 0.f;
      }
      *reinterpret_cast<float4*>(&sm.g[ty * 4 + i][tx * 4]) = make_float4(g4[0], g4[1], g4[2], g4[3]);
    }
    load_slice(items, ldi, n, i0, d, c0, sm.v);
    __syncthreads();
    accumulate(sm, du);
    __syncthreads();  // g and v are rewritten next tile
  }
  float* o = out + (long long)split * splitStride;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int r = r0 + ty * 4 + i;
    if (r >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int c = c0 + tx * 4 + j;
      if (c < d) {
        float* p = o + (long long)r * ldo + c;
        *p = addInto ? *p + du[i][j] : du[i][j];
      }
    }
  }
}

// du[r][c] += sum over the S splits (in order) of ws[s][r][c] (ws: S slices of m x d, dense).
extern "C" __global__ void kdrec_softmax_ce_backward_du_reduce(int m, int d, int splits, const float* ws, float* du,
                                                               int lddu) {
  const long long md = (long long)m * d;
  KDREC_GRID_STRIDE(e, md) {
    float s = 0.f;
    for (int k = 0; k < splits; k++) s += ws[k * md + e];
    const long long r = e / d, c = e % d;
    du[r * lddu + c] += s;
  }
}

// dI: items [64 bx, +64), columns [64 by, +64); loops over every row tile (rows in ascending order).
extern "C" __global__ __launch_bounds__(kdrec_softmax_ce::kThreads) void
kdrec_softmax_ce_backward_di(int m, int n, int d, const float* u, int ldu, const float* items, int ldi, float scale,
                             const int* target, const float* lse, const float* gLoss, float* di, int lddi) {
  using namespace kdrec_softmax_ce;
  __shared__ __align__(16) GradSmem sm;
  const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4, i0 = blockIdx.x * kTile, c0 = blockIdx.y * kTile;
  float acc[4][4], dacc[4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) dacc[i][j] = 0.f;
  for (int r0 = 0; r0 < m; r0 += kTile) {
    // Roles swapped: acc[i][j] is item ty*4+i against row tx*4+j, so G lands in g[item][row].
    tile_dot(items, ldi, n, i0, u, ldu, m, r0, d, sm.dot, acc);
    float l[4], coef[4];
    int tg[4];
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int r = r0 + tx * 4 + j;
      const bool in = r < m;
      l[j] = in ? lse[r] : 0.f;
      coef[j] = in ? gLoss[r] * scale : 0.f;  // rows past m get G = 0
      tg[j] = in ? target[r] : -1;
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
      const int item = i0 + ty * 4 + i;
      float g4[4];
#pragma unroll
      for (int j = 0; j < 4; j++) {
        const float p = expf(scale * acc[i][j] - l[j]) - (item == tg[j] ? 1.f : 0.f);
        g4[j] = item < n ? coef[j] * p : 0.f;
      }
      *reinterpret_cast<float4*>(&sm.g[ty * 4 + i][tx * 4]) = make_float4(g4[0], g4[1], g4[2], g4[3]);
    }
    load_slice(u, ldu, m, r0, d, c0, sm.v);
    __syncthreads();
    accumulate(sm, dacc);
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int item = i0 + ty * 4 + i;
    if (item >= n) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int c = c0 + tx * 4 + j;
      if (c < d) di[(long long)item * lddi + c] += dacc[i][j];
    }
  }
}

// Materialised rows: loss[r] = lse_r - x[r][target[r]], then x[r][j] = gradScale[r] (softmax_rj -
// [j == target[r]]) in place (gradScale = 1 when hasGradScale = 0). One 256-thread block per row.
extern "C" __global__ __launch_bounds__(kdrec_softmax_ce::kThreads) void
kdrec_softmax_ce_rows_in_place(int m, int n, float* logits, int ld, const int* target, const float* gradScale,
                               int hasGradScale, float* loss) {
  using namespace kdrec_softmax_ce;
  __shared__ float sm[2][kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (long long r = blockIdx.x; r < m; r += gridDim.x) {
    float* x = logits + r * ld;
    const int tg = target[r];
    // Read before the barriers below: pass 2 overwrites the row.
    const float zt = threadIdx.x == 0 ? x[tg] : 0.f;
    Online o{-INFINITY, 0.f};
    for (int j = threadIdx.x; j < n; j += kThreads) online_add(o, x[j]);
    for (int off = 16; off > 0; off >>= 1) {
      o = online_merge(o, Online{__shfl_xor_sync(kFull, o.m, off), __shfl_xor_sync(kFull, o.s, off)});
    }
    __syncthreads();  // the previous row's readers of sm are done
    if (lane == 0) {
      sm[0][warp] = o.m;
      sm[1][warp] = o.s;
    }
    __syncthreads();
    // Every thread merges the 8 warp states in the same order: identical lse everywhere.
    float mx = -INFINITY;
    for (int w = 0; w < kThreads / 32; w++) mx = fmaxf(mx, sm[0][w]);
    double sum = 0.0;
    for (int w = 0; w < kThreads / 32; w++) {
      if (sm[0][w] != -INFINITY) sum += (double)sm[1][w] * exp((double)sm[0][w] - mx);
    }
    const double l = (double)mx + log(sum);
    if (threadIdx.x == 0) loss[r] = (float)(l - zt);
    const float gs = hasGradScale ? gradScale[r] : 1.f;
    for (int j = threadIdx.x; j < n; j += kThreads) {
      x[j] = gs * (expf((float)(x[j] - l)) - (j == tg ? 1.f : 0.f));
    }
  }
}

// Sampled softmax: loss[r] = -pos[r] + log(exp(pos[r]) + negScale sum_j exp(neg_j)) over j in
// [negPtr[r], negPtr[r+1]); gPos, gNeg = dloss/dlogit (times rowScale[r] when hasRowScale). One warp per row.
extern "C" __global__ __launch_bounds__(kdrec_softmax_ce::kThreads) void
kdrec_softmax_ce_sampled(int m, const float* pos, const int* negPtr, const float* neg, float negScale,
                         const float* rowScale, int hasRowScale, float* loss, float* gPos, float* gNeg) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < m; r += warps) {
    const int o = negPtr[r], e = negPtr[r + 1];
    const float pr = pos[r];
    float mx = pr;
    for (int j = o + lane; j < e; j += 32) mx = fmaxf(mx, neg[j]);
    mx = kdrec::warp_max(mx);
    float sn = 0.f;
    for (int j = o + lane; j < e; j += 32) sn += expf(neg[j] - mx);
    sn = kdrec::warp_sum(sn);
    // exp(pos - max) in double: with negScale = 0 the loss is log(ep) + max - pos = 0 up to rounding,
    // and a float ep would leave ~1e-7 of it.
    const double ep = exp((double)pr - (double)mx);
    const double z = ep + (double)negScale * sn;
    const float rs = hasRowScale ? rowScale[r] : 1.f;
    if (lane == 0) {
      loss[r] = (float)((double)mx + log(z) - pr);
      gPos[r] = (float)(rs * (ep / z - 1.0));
    }
    const float c = (float)(rs * (double)negScale / z);
    for (int j = o + lane; j < e; j += 32) gNeg[j] = c * expf(neg[j] - mx);
  }
}

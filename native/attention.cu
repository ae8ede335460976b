// native/attention.cu — HSTU pointwise attention (kdrec.gpu.GpuAttention): the fused twin of the CPU
// chain Attention.qk -> Attention.relativeBias -> Activations.silu -> Arith.scale -> Attention.causalMask
// -> Attention.av (kdrec.model.Hstu), forward and backward.
//
// Layout (as kdrec.autograd.Attention): b padded sequences of length n, h heads, two head widths as in
// the HSTU reference: q, k and their gradients dq, dk are [b*n, ldQk] with ldQk = h*dhQk (the attention
// width: only the dots <q_i, k_j> use it), v, out and their gradients dv, dOut are [b*n, ldV] with
// ldV = h*dhV (the linear width of the rows the maps mix); both row-major, head hh owns columns
// hh*dhQk .. hh*dhQk+dhQk-1 (resp. hh*dhV ..), row s*n+i is sequence s, position i. Maps pre / maps / dPre
// are [b*h, n, n], map r = s*h + hh; rab has rabLen entries with centre cen = (rabLen-1)/2
// (rab[cen + j - i]).
//   forward:  pre[r,i,j] = <q_i, k_j> + rab[cen+j-i], maps = silu(pre) * scale (j <= i; both 0 for j > i),
//             out_i = sum_{j<=i} maps[r,i,j] v_j                                          (overwritten)
//   backward: dPre[r,i,j] = (<dOut_i, v_j> * scale) * silu'(pre) (j <= i, else 0),  dq_i = sum_j dPre k_j,
//             dk_j = sum_{i>=j} dPre q_i,  dv_j = sum_{i>=j} maps dOut_i                   (overwritten)
//             drab[cen+j-i] += sum over r and i >= j of dPre[r,i,j]                       (accumulated)
// silu and silu' use exactly the float/double expressions of kdrec_act_silu / _silu_backward
// (elementwise.cu), applied in the CPU chain's order (silu rounded to float, then * scale in float;
// the upstream gradient * scale in float, then silu' in double rounded once), so the only difference
// from the CPU is the summation order of the dot products.
//
// Decomposition (all deterministic: every sum has one fixed order, no atomics):
//  * kdrec_attention_forward / _backward_dq ("row tiles"): one block of 4 warps per (map r, tile of
//    TI = 16 query rows); grid (b*h, ceil(n/16)). Both are one pass, row_tile: dots of A rows with B
//    rows over the dot width dAB, weights from them, then rows of C (width dCR) mixed by the weights
//    into R. Forward: A = q, B = k (dAB = dhQk), C = v, R = out (dCR = dhV); backward: A = dOut, B = v
//    (dAB = dhV), C = k, R = dq (dCR = dhQk). A warp owns 4 rows (interleaved: warp + 4*rr, so the
//    causal work is spread evenly). The block walks the keys in tiles of TJ = 32 (lane = key): it stages
//    the tile's B and C rows in shared memory, each lane computes the dot of its key with each of the
//    warp's rows, applies the pointwise map, writes pre/maps (dPre) coalesced and keeps the weights in
//    a per-warp shared row; then each lane accumulates R for columns lane, lane+32, ... (dCR <= 256: 8
//    registers per row) over the tile's keys in ascending order. Key tiles past the block's last row
//    only write the zeros of the upper triangle.
//  * kdrec_attention_backward_dkv ("column tiles"): one block of 4 warps per (map r, tile of 16 key
//    rows j); the block walks the query rows i >= j in tiles of 32, staging dOut (width dhV) and q
//    (width dhQk) rows and the matching 32 x 16 patches of maps and dPre, and accumulates dv_j (over
//    dhV columns) and dk_j (over dhQk columns) per column in registers in ascending i.
//  * kdrec_attention_backward_rab: drab, one block of 8 warps per diagonal d = i - j (n blocks), its
//    threads striding over the diagonal's bh * (n - d) entries; sums in double, combined in a fixed
//    order. A thread's loads are n + 1 floats apart (one float per 32-byte sector: 8x the data moves from
//    L2), and neighbouring diagonals' blocks read the rest of those sectors, partly from L2 (at b = 128,
//    h = 2, n = 200 the dk/dv pass between streams 82 MB through a 50 MB L2). A coalesced row-tile split
//    with an ordered second pass would move less; this is the simple fix for 7 busy SMs of 132.
// Every sum runs in the same order whatever the widths, so with dhQk == dhV the results are the bits of
// the single-width kernels these generalise.
// Shared memory: the row tiles stage 16 A rows + 32 B rows (width dAB, B padded to dAB+1: lane j reads
// row j, a stride of dAB+1 words hits distinct banks) + 32 C rows (width dCR) + the 16 x 32 weights;
// the column tiles 32 dOut rows (dhV) + 32 q rows (dhQk) + 2 x 32 x 16 patches. The wrapper decides per
// launch and passes useShared = 0 when that block's staging exceeds 48 KiB (with dhQk == dhV: above 146
// for the row tiles, 176 for the column tiles; with dhQk != dhV the forward and the dq pass swap the
// widths' roles, so one may stage while the other does not); the kernels then read the rows straight
// from global memory (L1/L2 hits: a block re-reads the same few rows) and only the weights/patches
// are staged.
#include "common.cuh"

namespace kdrec_attn {

constexpr int WARPS = 4;         // warps per block (128 threads)
constexpr int RPW = 4;           // rows (row tiles) or key rows (column tiles) per warp
constexpr int TI = WARPS * RPW;  // 16 rows of a row-tile block / 16 keys of a column-tile block
constexpr int TJ = 32;           // keys per staged tile of a row-tile block (a lane per key)
constexpr int TQ = 32;           // query rows per staged tile of a column-tile block
constexpr int MAXM = 8;          // columns per lane: a head width <= 8 * 32 = 256

// Dynamic shared memory of every kernel of this family (the blocks' staging buffers, sized by the
// wrapper: GpuAttention.rowTileShared / colTileShared / RAB_SHARED).
extern __shared__ float smem[];

// The expression of kdrec_act::sigmoid (elementwise.cu), kept here because every family has its own
// namespace in the unity build.
__device__ __forceinline__ double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

// Copies rows r0 .. r1-1 (relative to g, leading dim ld) of width dh into s (leading dim lds): the block's
// threads stride over the elements, so consecutive threads read consecutive columns of a row.
__device__ __forceinline__ void stage_rows(float* s, int lds, const float* __restrict__ g, int ld, int r0, int r1, int dh) {
  const int total = (r1 - r0) * dh;
  for (int e = threadIdx.x; e < total; e += blockDim.x) {
    const int rr = e / dh, c = e - rr * dh;
    s[rr * lds + c] = g[(long long)(r0 + rr) * ld + c];
  }
}

// The row-tile pass shared by forward (A = q, B = k, C = v; out1 = pre, out2 = maps, R = out) and the
// first backward pass (A = dOut, B = v, C = k, preIn = pre; out1 = dPre, R = dq). A and B are dAB wide
// with leading dim ldAB (the dot width), C and R dCR wide with leading dim ldCR (the accumulated
// width). All row pointers are already offset to the head's column 0 of row s*n; map pointers to map r.
template <bool BWD>
__device__ __forceinline__ void row_tile(int n, int dAB, int ldAB, int dCR, int ldCR, const float* __restrict__ A,
                                         const float* __restrict__ B, const float* __restrict__ C,
                                         const float* __restrict__ rab, int cen, float scale, const float* __restrict__ preIn,
                                         float* __restrict__ out1, float* __restrict__ out2, float* __restrict__ R,
                                         int useShared) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int i0 = blockIdx.y * TI, iEnd = min(n, i0 + TI);
  float* sW = smem;                 // [TI][TJ] weights of the current key tile, row warp*RPW + rr
  float* sA = sW + TI * TJ;         // [TI][dAB]  rows i0 .. iEnd-1 of A
  float* sB = sA + TI * dAB;        // [TJ][dAB+1] keys of the tile (B)
  float* sC = sB + TJ * (dAB + 1);  // [TJ][dCR]  keys of the tile (C)
  const int ldb = useShared ? dAB + 1 : ldAB, lda = useShared ? dAB : ldAB, ldc = useShared ? dCR : ldCR;
  if (useShared) stage_rows(sA, dAB, A, ldAB, i0, iEnd, dAB);  // visible after the first tile's barrier

  float acc[RPW][MAXM];
#pragma unroll
  for (int rr = 0; rr < RPW; rr++)
#pragma unroll
    for (int m = 0; m < MAXM; m++) acc[rr][m] = 0.f;

  for (int j0 = 0; j0 < n; j0 += TJ) {
    const bool live = j0 < iEnd;  // some row of the block sees a key of this tile (block-uniform)
    const int jEnd = min(n, j0 + TJ);
    if (live && useShared) {
      __syncthreads();  // the previous tile's sB/sC reads are done
      stage_rows(sB, dAB + 1, B, ldAB, j0, jEnd, dAB);
      stage_rows(sC, dCR, C, ldCR, j0, jEnd, dCR);
      __syncthreads();
    }
    const float* tB = useShared ? sB : B + (long long)j0 * ldAB;  // row jj of the tile at tB + jj * ldb
    const float* tC = useShared ? sC : C + (long long)j0 * ldCR;
    const int j = j0 + lane;
#pragma unroll
    for (int rr = 0; rr < RPW; rr++) {
      const int i = i0 + warp + WARPS * rr;
      if (i >= n || j >= n) continue;
      const long long at = (long long)i * n + j;
      float w = 0.f;
      if (j <= i) {
        const float* a = useShared ? sA + (i - i0) * lda : A + (long long)i * lda;
        const float* bb = tB + lane * ldb;
        float d = 0.f;
        for (int c = 0; c < dAB; c++) d += a[c] * bb[c];
        if (!BWD) {
          const float p = d + rab[cen + j - i];
          const double v = (double)p;
          w = (float)(v * sigmoid(v)) * scale;  // silu rounded to float (kdrec_act_silu), then Arith.scale
          out1[at] = p;
          out2[at] = w;
        } else {
          const double v = (double)preIn[at];
          const double s = sigmoid(v);
          const float g = d * scale;  // Arith.scale's backward (an axpy into a zero gradient)
          w = (float)(0.0 + (double)g * (s * (1.0 + v * (1.0 - s))));  // kdrec_act_silu_backward into a zero gx
          out1[at] = w;
        }
      } else {
        out1[at] = 0.f;
        if (!BWD) out2[at] = 0.f;
      }
      if (live) sW[(warp * RPW + rr) * TJ + lane] = w;
    }
    if (!live) continue;
    __syncwarp();  // the warp's weights are written
#pragma unroll
    for (int rr = 0; rr < RPW; rr++) {
      const int i = i0 + warp + WARPS * rr;
      if (i >= n) continue;
      const int jj1 = min(i + 1, jEnd) - j0;  // keys j0 .. min(i, n-1) of this tile
      const float* wr = sW + (warp * RPW + rr) * TJ;
      for (int jj = 0; jj < jj1; jj++) {
        const float w = wr[jj];
        const float* cr = tC + jj * ldc;
#pragma unroll
        for (int m = 0; m < MAXM; m++) {
          const int c = lane + 32 * m;
          if (c < dCR) acc[rr][m] += w * cr[c];
        }
      }
    }
    __syncwarp();  // the weights are read before the next tile overwrites them
  }
#pragma unroll
  for (int rr = 0; rr < RPW; rr++) {
    const int i = i0 + warp + WARPS * rr;
    if (i >= n) continue;
#pragma unroll
    for (int m = 0; m < MAXM; m++) {
      const int c = lane + 32 * m;
      if (c < dCR) R[(long long)i * ldCR + c] = acc[rr][m];
    }
  }
}

}  // namespace kdrec_attn

// Grid (b*h, ceil(n/16)), 128 threads, dynamic shared GpuAttention.rowTileShared(dhQk, dhV, useShared).
// q, k: [b*n, ldQk], ldQk = h*dhQk; v, out: [b*n, ldV], ldV = h*dhV.
extern "C" __global__ __launch_bounds__(128) void kdrec_attention_forward(
    int n, int h, int dhQk, int ldQk, int dhV, int ldV, const float* __restrict__ q, const float* __restrict__ k,
    const float* __restrict__ v, const float* __restrict__ rab, int cen, float scale, float* __restrict__ pre,
    float* __restrict__ maps, float* __restrict__ out, int useShared) {
  const int r = blockIdx.x, s = r / h, hh = r - s * h;
  const long long rowsQk = (long long)s * n * ldQk + (long long)hh * dhQk;  // head hh of row s*n in q, k (dq, dk)
  const long long rowsV = (long long)s * n * ldV + (long long)hh * dhV;     // and in v, out (dOut, dv)
  const long long map = (long long)r * n * n;
  kdrec_attn::row_tile<false>(n, dhQk, ldQk, dhV, ldV, q + rowsQk, k + rowsQk, v + rowsV, rab, cen, scale, nullptr,
                              pre + map, maps + map, out + rowsV, useShared);
}

// dPre (all of map r, zeros above the diagonal) and dq: the dots run over the v width (dOut . v), the
// rows mixed are k's (into dq). Same launch shape as the forward, dynamic shared
// GpuAttention.rowTileShared(dhV, dhQk, useShared) (the widths' roles swapped).
extern "C" __global__ __launch_bounds__(128) void kdrec_attention_backward_dq(
    int n, int h, int dhQk, int ldQk, int dhV, int ldV, const float* __restrict__ dOut, const float* __restrict__ v,
    const float* __restrict__ k, const float* __restrict__ pre, float scale, float* __restrict__ dPre, float* __restrict__ dq,
    int useShared) {
  const int r = blockIdx.x, s = r / h, hh = r - s * h;
  const long long rowsQk = (long long)s * n * ldQk + (long long)hh * dhQk;  // head hh of row s*n in q, k (dq, dk)
  const long long rowsV = (long long)s * n * ldV + (long long)hh * dhV;     // and in v, out (dOut, dv)
  const long long map = (long long)r * n * n;
  kdrec_attn::row_tile<true>(n, dhV, ldV, dhQk, ldQk, dOut + rowsV, v + rowsV, k + rowsQk, nullptr, 0, scale, pre + map,
                             dPre + map, nullptr, dq + rowsQk, useShared);
}

// dk_j = sum_{i>=j} dPre[r,i,j] q_i and dv_j = sum_{i>=j} maps[r,i,j] dOut_i, from the dPre that
// kdrec_attention_backward_dq wrote (an earlier launch on the same stream): dk over the dhQk columns of
// q, dv over the dhV columns of dOut. Grid (b*h, ceil(n/16)), 128 threads, dynamic shared
// GpuAttention.colTileShared(dhQk, dhV, useShared).
extern "C" __global__ __launch_bounds__(128) void kdrec_attention_backward_dkv(
    int n, int h, int dhQk, int ldQk, int dhV, int ldV, const float* __restrict__ q, const float* __restrict__ dOut,
    const float* __restrict__ maps, const float* __restrict__ dPre, float* __restrict__ dk, float* __restrict__ dv,
    int useShared) {
  using namespace kdrec_attn;
  const int r = blockIdx.x, s = r / h, hh = r - s * h;
  const long long rowsQk = (long long)s * n * ldQk + (long long)hh * dhQk;  // head hh of row s*n in q, k (dq, dk)
  const long long rowsV = (long long)s * n * ldV + (long long)hh * dhV;     // and in v, out (dOut, dv)
  const long long map = (long long)r * n * n;
  const float* Q = q + rowsQk;
  const float* O = dOut + rowsV;
  const float* M = maps + map;
  const float* P = dPre + map;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int j0 = blockIdx.y * TI;
  float* sM = smem;            // [TQ][TI] maps[i0 + ii][j0 + jj]
  float* sP = sM + TQ * TI;    // [TQ][TI] dPre likewise
  float* sO = sP + TQ * TI;    // [TQ][dhV]  dOut rows i0 ..
  float* sQ = sO + TQ * dhV;   // [TQ][dhQk] q rows i0 ..
  const int ldo = useShared ? dhV : ldV, ldq = useShared ? dhQk : ldQk;

  float accV[RPW][MAXM], accK[RPW][MAXM];
#pragma unroll
  for (int rr = 0; rr < RPW; rr++)
#pragma unroll
    for (int m = 0; m < MAXM; m++) accV[rr][m] = accK[rr][m] = 0.f;

  for (int i0 = j0; i0 < n; i0 += TQ) {  // rows i < j0 see none of the block's keys
    const int iEnd = min(n, i0 + TQ);
    __syncthreads();  // the previous tile's reads are done
    for (int e = threadIdx.x; e < TQ * TI; e += blockDim.x) {
      const int ii = e / TI, jj = e - ii * TI, i = i0 + ii, j = j0 + jj;
      const bool in = i < n && j < n;  // entries with i < j are loaded but never read
      sM[e] = in ? M[(long long)i * n + j] : 0.f;
      sP[e] = in ? P[(long long)i * n + j] : 0.f;
    }
    if (useShared) {
      stage_rows(sO, dhV, O, ldV, i0, iEnd, dhV);
      stage_rows(sQ, dhQk, Q, ldQk, i0, iEnd, dhQk);
    }
    __syncthreads();
    const float* tO = useShared ? sO : O + (long long)i0 * ldV;  // row ii of the tile at tO + ii * ldo
    const float* tQ = useShared ? sQ : Q + (long long)i0 * ldQk;  // and tQ + ii * ldq
#pragma unroll
    for (int rr = 0; rr < RPW; rr++) {
      const int jj = warp + WARPS * rr, j = j0 + jj;
      if (j >= n) continue;
      // dv_j then dk_j, each over ascending i >= j (a fixed order). Two loops, not one: with the two
      // widths' column guards in one loop body ptxas keeps 16 guards live and the block needs 110
      // registers (4 blocks an SM instead of 5 at 96); apart, 95.
      for (int ii = max(0, j - i0); ii < iEnd - i0; ii++) {
        const float wm = sM[ii * TI + jj];
        const float* orow = tO + ii * ldo;
#pragma unroll
        for (int m = 0; m < MAXM; m++) {
          const int c = lane + 32 * m;
          if (c < dhV) accV[rr][m] += wm * orow[c];
        }
      }
      for (int ii = max(0, j - i0); ii < iEnd - i0; ii++) {
        const float wp = sP[ii * TI + jj];
        const float* qrow = tQ + ii * ldq;
#pragma unroll
        for (int m = 0; m < MAXM; m++) {
          const int c = lane + 32 * m;
          if (c < dhQk) accK[rr][m] += wp * qrow[c];
        }
      }
    }
  }
#pragma unroll
  for (int rr = 0; rr < RPW; rr++) {
    const int j = j0 + warp + WARPS * rr;
    if (j >= n) continue;
#pragma unroll
    for (int m = 0; m < MAXM; m++) {
      const int c = lane + 32 * m;
      if (c < dhV) dv[rowsV + (long long)j * ldV + c] = accV[rr][m];
      if (c < dhQk) dk[rowsQk + (long long)j * ldQk + c] = accK[rr][m];
    }
  }
}

// drab[cen - d] += sum over r in [0, bh) and i in [d, n) of dPre[r, i, i - d]: ONE BLOCK PER DIAGONAL
// d = blockIdx.x (grid n), RAB_THREADS threads, dynamic shared GpuAttention.RAB_SHARED (the warps' double
// partials). The diagonal's bh * (n - d) entries, numbered e = r (n - d) + (i - d), go to thread
// e % blockDim in increasing e; each thread sums in double, each warp combines its lanes by the fixed xor
// butterfly, and thread 0 adds the warp partials in warp order: deterministic. The final add into drab
// rounds the double sum to float first, as relativeBias's backward does. The host keeps bh * n at most
// 2^31 - 1 - RAB_THREADS, so e and its last step e + blockDim stay inside an int.
// (It ran as ceil(n / 32) blocks, lane = diagonal, 16 warps striding over the (r, i) rows behind a 64-bit
// division each: 7 blocks read all 41 MB of dPre at b = 128, h = 2, n = 200 on a 132-SM GPU.)
extern "C" __global__ __launch_bounds__(256) void kdrec_attention_backward_rab(
    int bh, int n, const float* __restrict__ dPre, int cen, float* __restrict__ drab) {
  using namespace kdrec_attn;
  float* base = smem;  // (a plain pointer first: the emulated driver's smem is a view object)
  double* part = reinterpret_cast<double*>(base);  // [blockDim / 32]
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, d = blockIdx.x, len = n - d;
  const int total = bh * len;
  double acc = 0.0;
#pragma unroll 4
  for (int e = threadIdx.x; e < total; e += blockDim.x) {
    const int r = e / len, i = d + (e - r * len);
    acc += (double)dPre[((long long)r * n + i) * n + (i - d)];
  }
  acc = kdrec::warp_sum(acc);
  if (lane == 0) part[warp] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0.0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) t += part[w];
    drab[cen - d] = drab[cen - d] + (float)t;
  }
}

// native/rcekd.cu — RCE-KD's per-epoch sets on the device (the twin of kdrec.kd.RceKdEpoch.build with
// RceKd's rules; spec §1.3-1.5), so a --device cuda epoch does not ship the student's top-M down and
// every user's list back up.
//
// kdrec_rcekd_sets: one 256-thread block per user (grid-stride over users). From the student's top-M
// ids SM (best first) and the teacher's top-K ids QT (teacher order) of that user it draws the L
// positions P exactly as kdrec.kd.Sampling does on the host and writes the user's list
// [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)] (separate) or [SK | P \ SK | QT \ (P ∪ SK)] (one set)
// into row u of the slab (users x cap), with its length, split points and weights:
//   * closure log-weights: (min(c_j, 50) + 1) / T with c_j the number of QT items at student positions
//     >= j (sample_rank: -(j + 1) / T), in double, the host's expression;
//   * the draw: java.util.SplittableRandom seeded rng_base + u * 0x94D049BB133111EB (the host's
//     Sampling.rng with the (seed, stream, epoch) part precomputed); draw j is mix64 of the seed plus
//     (j + 1) golden gammas, u = (z >>> 11) * 2^-53, key_j = (float)(logw_j - log(-log u)) (double
//     math, rounded once to float as on the host). A draw of exactly 0 is redrawn on the host; that
//     shifts every later draw, so when any lane sees one (probability 2^-53 per draw) thread 0 redoes
//     the user's draws in sequence with the same rule;
//   * keys packed as (order-preserving float bits << 32) | (m - 1 - j) (equal keys: lower position
//     first) and bitonic-sorted in shared memory; the L largest are P — the host's Arrays.sort of the
//     same longs, so the same positions;
//   * w = weight[|QT ∩ P|] from a table the host fills with its own float expression.
// The transcendental step is the only one not bit-exact by construction: CUDA's double log and Java's
// Math.log are both within 1 ulp, and a key differs only when the two straddle a float rounding
// boundary (about 2^-29 per key) and then changes P only if it also swaps two keys' order.
// The list itself is written by thread 0 in order (at most 2K + L entries; cheap next to the draws).
// Limits: 1 <= K <= M <= 1024 (shared memory is static, ~29 KB), 1 <= L <= M, cap >= 2K + L.
//
// kdrec_rcekd_compact: row u of the slab (len = ptr[u+1] - ptr[u] entries) into idx[ptr[u] ...), one
// warp per user.
#include "common.cuh"
#include <climits>

namespace kdrec_rcekd {

constexpr int kBlock = 256;
constexpr int kMaxM = 1024;
constexpr int kCountClip = 50;  // the authors' code clips the reverse cumulative count at 50
constexpr unsigned long long kGoldenGamma = 0x9e3779b97f4a7c15ull;
constexpr unsigned long long kUserMix = 0x94d049bb133111ebull;

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// SplittableRandom.nextDouble of the draw whose generator state is s (state already advanced).
__device__ __forceinline__ double unit(unsigned long long s) { return (double)(mix64(s) >> 11) * 0x1.0p-53; }

__device__ __forceinline__ long long packed_key(double logw, double u, int m, int j) {
  const float key = (float)(logw - log(-log(u)));
  int bits = __float_as_int(key);
  bits ^= (bits >> 31) & 0x7fffffff;  // order-preserving as a signed int
  return (long long)(((unsigned long long)(unsigned)bits << 32) | (unsigned)(m - 1 - j));
}

__device__ __forceinline__ double log_weight(int j, int count, double temp, int sample_rank) {
  return sample_rank ? -(j + 1) / temp : (min(count, kCountClip) + 1) / temp;
}

}  // namespace kdrec_rcekd

extern "C" __global__ __launch_bounds__(kdrec_rcekd::kBlock) void
kdrec_rcekd_sets(int users, int m, int k, int l, int cap, const int* __restrict__ top, const int* __restrict__ qt,
                 long long rng_base, double temp, int sample_rank, int separate, const float* __restrict__ weight,
                 int* __restrict__ slab, int* __restrict__ len, int* __restrict__ a, int* __restrict__ b,
                 float* __restrict__ wA, float* __restrict__ wB) {
  using namespace kdrec_rcekd;
  __shared__ int s_top[kMaxM], s_in_qt[kMaxM], s_count[kMaxM], s_qt[kMaxM], s_qt_pos[kMaxM];
  __shared__ long long s_key[kMaxM];
  __shared__ unsigned char s_sel[kMaxM];
  __shared__ int s_zero;
  int pow2 = 1;
  while (pow2 < m) pow2 <<= 1;
  for (int u = blockIdx.x; u < users; u += gridDim.x) {
    const int* tu = top + (long long)u * m;
    const int* qu = qt + (long long)u * k;
    for (int j = threadIdx.x; j < m; j += blockDim.x) s_top[j] = tu[j];
    for (int q = threadIdx.x; q < k; q += blockDim.x) s_qt[q] = qu[q];
    if (threadIdx.x == 0) s_zero = 0;
    __syncthreads();
    // membership both ways: is student position j a QT item; where (if anywhere) is QT item q in SM
    for (int j = threadIdx.x; j < m; j += blockDim.x) {
      const int it = s_top[j];
      int in = 0;
      for (int q = 0; q < k && !in; q++) in = s_qt[q] == it;
      s_in_qt[j] = in;
      s_sel[j] = 0;
    }
    for (int q = threadIdx.x; q < k; q += blockDim.x) {
      const int it = s_qt[q];
      int pos = -1;
      for (int j = 0; j < m && pos < 0; j++) if (s_top[j] == it) pos = j;
      s_qt_pos[q] = pos;
    }
    __syncthreads();
    if (threadIdx.x == 0) {  // reverse cumulative QT count
      int c = 0;
      for (int j = m - 1; j >= 0; j--) s_count[j] = c += s_in_qt[j];
    }
    __syncthreads();
    const unsigned long long seed = (unsigned long long)rng_base + (unsigned long long)u * kUserMix;
    if (l < m) {  // l == m takes every position without a draw, as the host does
      for (int j = threadIdx.x; j < pow2; j += blockDim.x) {
        if (j >= m) {
          s_key[j] = LLONG_MIN;  // padding sorts below every real key
          continue;
        }
        const double u01 = unit(seed + (unsigned long long)(j + 1) * kGoldenGamma);
        if (u01 == 0.0) s_zero = 1;
        s_key[j] = packed_key(log_weight(j, s_count[j], temp, sample_rank), u01, m, j);
      }
      __syncthreads();
      if (s_zero && threadIdx.x == 0) {  // the host's redraw-on-zero, in sequence
        unsigned long long s = seed;
        for (int j = 0; j < m; j++) {
          double u01;
          do u01 = unit(s += kGoldenGamma); while (u01 == 0.0);
          s_key[j] = packed_key(log_weight(j, s_count[j], temp, sample_rank), u01, m, j);
        }
      }
      __syncthreads();
      // bitonic sort, ascending, of pow2 keys; pair t compares lo = 2t - (t mod stride) with lo + stride
      for (int size = 2; size <= pow2; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
          for (int t = threadIdx.x; t < pow2 / 2; t += blockDim.x) {
            const int lo = 2 * t - (t & (stride - 1)), hi = lo + stride;
            const long long x = s_key[lo], y = s_key[hi];
            if ((x > y) == ((lo & size) == 0)) {
              s_key[lo] = y;
              s_key[hi] = x;
            }
          }
          __syncthreads();
        }
      }
      for (int t = threadIdx.x; t < l; t += blockDim.x) s_sel[m - 1 - (int)(unsigned)s_key[pow2 - 1 - t]] = 1;
    } else {
      for (int j = threadIdx.x; j < m; j += blockDim.x) s_sel[j] = 1;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int* out = slab + (long long)u * cap;
      int n = 0, overlap = 0;
      for (int j = 0; j < k; j++) if (!separate || !s_sel[j]) out[n++] = s_top[j];
      const int split = n;
      for (int j = 0; j < m; j++) if (s_sel[j]) overlap += s_in_qt[j];
      if (separate) for (int j = 0; j < k; j++) if (s_sel[j]) out[n++] = s_top[j];
      for (int j = k; j < m; j++) if (s_sel[j]) out[n++] = s_top[j];
      for (int q = 0; q < k; q++) {
        const int pos = s_qt_pos[q];
        if (pos < 0 || (pos >= k && !s_sel[pos])) out[n++] = s_qt[q];
      }
      len[u] = n;
      a[u] = separate ? k : n;
      b[u] = separate ? split : n;
      const float w = separate ? weight[overlap] : 0.f;
      wA[u] = 1.f - w;
      wB[u] = w;
    }
    __syncthreads();  // the next user reuses the shared arrays
  }
}

extern "C" __global__ __launch_bounds__(kdrec_rcekd::kBlock) void
kdrec_rcekd_compact(int users, int cap, const int* __restrict__ slab, const int* __restrict__ ptr, int* __restrict__ idx) {
  const int lane = threadIdx.x & 31;
  const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
  for (long long u = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; u < users; u += warps) {
    const int o = ptr[u], n = ptr[u + 1] - o;
    const int* src = slab + u * cap;
    for (int j = lane; j < n; j += 32) idx[o + j] = src[j];
  }
}

// native/topk_order.cuh — the ranking order both top-K kernels (topk.cu, topk_small.cu) select by,
// kdrec.cpu.TopKScalar's: higher score first, equal scores -> lower item id first. Every real entry is
// distinct (ids are), so this is a total order and any selection by it is deterministic.
#pragma once
#include <climits>

namespace kdrec_topk {

// True when (sa, ia) ranks strictly before (sb, ib): higher score, then lower id.
__device__ __forceinline__ bool better(float sa, int ia, float sb, int ib) {
  return sa > sb || (sa == sb && ia < ib);
}

// Number of entries of the best-first list (S, I)[0, len) that rank before (s, id).
__device__ __forceinline__ int rank_in(const float* S, const int* I, int len, float s, int id) {
  int lo = 0, hi = len;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (better(S[mid], I[mid], s, id)) lo = mid + 1; else hi = mid;
  }
  return lo;
}

}  // namespace kdrec_topk

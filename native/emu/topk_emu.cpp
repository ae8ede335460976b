// native/emu/topk_emu.cpp — runs topk.cu (any k <= 1024) and topk_small.cu (k <= 32 / <= 128: the
// warp-owned rows GpuTopK uses for small k) on the emulator against TopKScalar's contract: fused score->top-K (scores are an fmaf chain from +0 in depth
// order, so the reference computes them the same way and everything is compared EXACTLY: ids and score
// bits) and select over a materialised matrix with ties (small integers), NaN, -inf, -0; exclusion
// lists (unsorted, duplicates, ids beyond n, a row excluding everything); k = 1, 5, 64, 130, 300 (> CAP:
// many mid-stream merges) and k > eligible items (-1 / -inf tails); splits 1, 2 and 3 (+ merge kernel);
// m across the 32-row blocks; items unaligned (scalar loads) and aligned (float4 loads); for the small
// kernels also k = 32 / 33 / 128 (the list capacities' edges) and d across the 16-deep chunks' tails.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/topk_emu native/emu/topk_emu.cpp
#include "cuda_shim.h"
#include "../topk.cu"
#include "../topk_small.cu"
#include "harness.h"
#include <algorithm>

// Which kernel family runs: topk.cu's block merges, or topk_small.cu's warp-owned rows (k <= 128).
enum class Family { Block, Small };

static void run(Family fam, bool fused, int m, int n, int d, int k, int splits, bool withEx, bool alignedItems) {
  char tag[160];
  snprintf(tag, sizeof tag, "%s %s m=%d n=%d d=%d k=%d splits=%d ex=%d aligned=%d", fam == Family::Block ? "block" : "small",
           fused ? "score " : "select", m, n, d, k, splits, withEx, alignedItems);
  const int ldu = d + 1, ldi = alignedItems ? (d + 3) / 4 * 4 + 4 : d + 1, lds = n + 3;
  std::vector<float4> istore(((long long)std::max(n, 1) * ldi + 8) / 4 + 2);
  float* Ip = reinterpret_cast<float*>(istore.data()) + (alignedItems ? 4 : 1);
  std::normal_distribution<float> nd;
  for (long long i = 0; i < (long long)n * ldi; i++) Ip[i] = (float)h::randint(-3, 3) * 0.5f;  // ties on purpose
  std::vector<float> U(1 + (long long)std::max(m, 1) * ldu);
  for (auto& x : U) x = (float)h::randint(-2, 2);
  const float* Up = U.data() + 1;
  std::vector<float> S(2 + (long long)std::max(m, 1) * lds);
  float* Sp = S.data() + 2;
  std::vector<float> score((size_t)m * n);
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++) {
      float s;
      if (fused) { s = 0.f; for (int c = 0; c < d; c++) s = std::fmaf(Up[(long long)r * ldu + c], Ip[(long long)j * ldi + c], s); }
      else {
        int q = h::randint(0, 40);
        s = q == 0 ? NAN : q == 1 ? -INFINITY : q == 2 ? -0.f : q == 3 ? INFINITY : (float)h::randint(-6, 6);
        Sp[(long long)r * lds + j] = s;
      }
      score[(size_t)r * n + j] = s;
    }
  // exclusions
  std::vector<int> exPtr(m + 1), exIdx;
  for (int r = 0; r < m; r++) {
    if (withEx) {
      if (r % 5 == 4) for (int j = n - 1; j >= 0; j--) exIdx.push_back(j);  // everything
      else { int c = h::randint(0, 300); for (int q = 0; q < c; q++) exIdx.push_back(h::randint(0, n + 5)); }
    }
    exPtr[r + 1] = (int)exIdx.size();
  }
  if (exIdx.empty()) exIdx.push_back(0);
  // reference
  std::vector<float> rS((size_t)m * k, -INFINITY);
  std::vector<int> rI((size_t)m * k, -1);
  for (int r = 0; r < m; r++) {
    std::vector<char> ex(n, 0);
    for (int q = exPtr[r]; q < exPtr[r + 1]; q++) if (exIdx[q] < n) ex[exIdx[q]] = 1;
    std::vector<std::pair<float, int>> v;
    for (int j = 0; j < n; j++) { float s = score[(size_t)r * n + j]; if (!ex[j] && !std::isnan(s)) v.push_back({s + 0.f, j}); }
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
    for (int i = 0; i < std::min<int>(k, (int)v.size()); i++) { rS[(size_t)r * k + i] = v[i].first; rI[(size_t)r * k + i] = v[i].second; }
  }
  // outputs with sentinels; splits > 1 via the scratch and the merge kernel, as GpuTopK
  h::Out oS(3, m, k, k);
  std::vector<int> oIbuf(3 + (size_t)m * k + 5, -777);
  int* oI = oIbuf.data() + 3;
  std::vector<float> sS; std::vector<int> sI;
  float* dS = oS.p(); int* dI = oI;
  if (splits > 1) { sS.assign((size_t)m * splits * k, NAN); sI.assign((size_t)m * splits * k, -5); dS = sS.data(); dI = sI.data(); }
  if (fam == Family::Block) {
    launch(dim3((m + 31) / 32, splits), dim3(256), 0, [&] {
      if (fused) kdrec_topk_score(m, n, d, Up, ldu, Ip, ldi, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
      else kdrec_topk_select(m, n, Sp, lds, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
    });
  } else {
    launch(dim3((m + 31) / 32, splits), dim3(128), 0, [&] {
      if (fused && k <= 32) kdrec_topk_small_score32(m, n, d, Up, ldu, Ip, ldi, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
      else if (fused) kdrec_topk_small_score128(m, n, d, Up, ldu, Ip, ldi, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
      else if (k <= 32) kdrec_topk_small_select32(m, n, Sp, lds, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
      else kdrec_topk_small_select128(m, n, Sp, lds, k, exPtr.data(), exIdx.data(), withEx, splits, dS, dI);
    });
  }
  if (splits > 1) launch(dim3(m), dim3(256), 0, [&] { kdrec_topk_merge(m, k, splits, sS.data(), sI.data(), oS.p(), oI); });
  long long badI = 0, first = -1;
  for (size_t i = 0; i < (size_t)m * k; i++) if (oI[i] != rI[i]) { if (first < 0) first = (long long)i; badI++; }
  for (int i = 0; i < 3; i++) if (oIbuf[i] != -777 || oIbuf[3 + (size_t)m * k + i] != -777) badI++;
  h::report(badI == 0, "topk ids   %s%s", tag, badI ? (" MISMATCHES=" + std::to_string(badI)).c_str() : "");
  if (badI && first >= 0) std::printf("     first at row %lld slot %lld: got id %d score %g, want id %d score %g\n", first / k, first % k,
                                      oI[first], oS.p()[first], rI[first], rS[first]);
  h::check(std::string("topk score ") + tag, oS, std::vector<double>(rS.begin(), rS.end()), 0);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  struct C { int m, n, d, k; };
  std::vector<C> cs = quick ? std::vector<C>{{5, 200, 9, 130}, {33, 70, 4, 5}}
      : std::vector<C>{{1, 1, 1, 1}, {3, 10, 5, 20}, {33, 300, 17, 5}, {31, 700, 8, 130}, {2, 1000, 3, 300}, {40, 129, 16, 64}, {1, 64, 0, 3}};
  for (auto c : cs)
    for (int fused = 0; fused < 2; fused++)
      for (int splits : {1, 2, 3}) {
        if (splits > 1 && c.n < 64 * splits / 2) continue;
        run(Family::Block, fused, c.m, c.n, c.d, c.k, splits, splits != 2, (c.m + splits) % 2 == 0);
      }
  // The small kernels: k at the list capacities' edges (32 | 33, 128), d around the 16-deep chunks
  // (20: a 4-deep tail; 33: a 1-deep tail padded to 4; 0), rows across the 4 warps' 8-row groups.
  std::vector<C> ss = quick ? std::vector<C>{{9, 300, 20, 33}, {40, 260, 7, 5}}
      : std::vector<C>{{1, 1, 1, 1}, {3, 10, 5, 20}, {33, 300, 17, 5}, {31, 700, 20, 128}, {2, 1000, 33, 32}, {40, 129, 16, 64},
                       {1, 64, 0, 3}, {65, 900, 12, 33}, {9, 2000, 4, 100}};
  for (auto c : ss)
    for (int fused = 0; fused < 2; fused++)
      for (int splits : {1, 2, 3}) {
        if (splits > 1 && c.n < 64 * splits / 2) continue;
        run(Family::Small, fused, c.m, c.n, c.d, c.k, splits, splits != 2, (c.m + splits) % 2 == 0);
      }
  return h::finish("topk");
}

// native/emu/gemm_topk_emu.cpp — runs the real kernels of native/gemm.cu and native/topk.cu on the
// CPU (cuda_emu.h: one ucontext fiber per CUDA thread, random thread order per barrier interval,
// divergent barriers reported) against plain C++ references, for machines without a GPU. Not part of
// the Maven build. Build and run (GEMM ~2 s, top-K ~5 min on 2 cores):
//   g++ -std=c++17 -O1 -ffp-contract=off -Inative -Inative/emu -o /tmp/emu native/emu/gemm_topk_emu.cpp
//   /tmp/emu gemm; /tmp/emu topk; /tmp/emu one FUSED M N D K EXCL INTS SPLITS
// Top-K must match exactly (scores included): the fused kernel's fmaf chain equals the reference's.
#include "cuda_emu.h"
#include "gemm.cu"
#include "topk.cu"
#include <cstring>
#include <string>

static std::mt19937_64 R(12345);
static float rn() { return std::normal_distribution<float>(0.f, 1.f)(R); }
static int ri(int n) { return (int)(R() % (unsigned long long)n); }
static int fails = 0, splitCases = 0;

// ---------------- GEMM ----------------
static void gemm_case(int lay, int m, int n, int k, float alpha, float beta, int placement) {
  bool ta = lay == 2, tb = lay == 1;
  int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
  auto ld = [&](int cols) { return placement == 0 ? cols : placement == 1 ? ((cols + 3) & ~3) + 4 * ri(3) : cols + 1 + 2 * ri(3); };
  auto off = [&]() { return placement == 0 ? 0 : placement == 1 ? 4 * (1 + ri(4)) : 1 + 2 * ri(4); };
  int lda = ld(aCols), ldb = ld(bCols), ldc = ld(n), aOff = off(), bOff = off(), cOff = off();
  // 16-byte aligned base buffers like cuMemAlloc
  std::vector<float4> abuf((aOff + (size_t)aRows * lda + 3) / 4 + 2), bbuf((bOff + (size_t)bRows * ldb + 3) / 4 + 2),
      cbuf((cOff + (size_t)m * ldc + 3) / 4 + 2);
  float *a = (float*)abuf.data(), *b = (float*)bbuf.data(), *c = (float*)cbuf.data();
  size_t na = abuf.size() * 4, nb = bbuf.size() * 4, nc = cbuf.size() * 4;
  for (size_t i = 0; i < na; i++) a[i] = rn();
  for (size_t i = 0; i < nb; i++) b[i] = rn();
  for (size_t i = 0; i < nc; i++) c[i] = beta == 0.f ? NAN : rn();
  std::vector<float> c0(c, c + nc), e(c, c + nc);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float s = 0.f;
      for (int p = 0; p < k; p++) {
        float x = ta ? a[aOff + (size_t)p * lda + i] : a[aOff + (size_t)i * lda + p];
        float y = tb ? b[bOff + (size_t)j * ldb + p] : b[bOff + (size_t)p * ldb + j];
        s += x * y;
      }
      float v = alpha * s;
      if (beta != 0.f) v += beta * e[cOff + (size_t)i * ldc + j];
      e[cOff + (size_t)i * ldc + j] = v;
    }
  // GpuGemm.splitK / chunk
  long tiles = ((m + 127L) / 128) * ((n + 127L) / 128);
  int splits = 1;
  if (!(tiles == 0 || tiles >= 264 || k < 256)) splits = (int)std::max(1L, std::min(std::min((264 + tiles - 1) / tiles, (long)k / 128), 64L));
  if (m > 0 && n > 0 && splits > 1) {
    int chunk = (int)((((long)k + splits - 1) / splits + 7) / 8 * 8);
    splits = (k + chunk - 1) / chunk;
    splitCases++;
    std::vector<float> W((size_t)splits * m * n, NAN);
    dim3 g{(unsigned)((n + 127) / 128), (unsigned)((m + 127) / 128), (unsigned)splits}, bl{256, 1, 1};
    const float *A = a + aOff, *B = b + bOff;
    float* C = c + cOff;
    float* w = W.data();
    emu::launch(g, bl, [&] {
      if (lay == 0) kdrec_gemm_nn_splitk(m, n, k, A, lda, B, ldb, w, chunk);
      else if (lay == 1) kdrec_gemm_nt_splitk(m, n, k, A, lda, B, ldb, w, chunk);
      else kdrec_gemm_tn_splitk(m, n, k, A, lda, B, ldb, w, chunk);
    });
    long long mn = (long long)m * n;
    dim3 g1{(unsigned)std::min((mn + 255) / 256, 65536LL), 1, 1};
    emu::launch(g1, bl, [&] { kdrec_gemm_splitk_reduce(m, n, splits, w, alpha, beta, C, ldc); });
  } else if (m > 0 && n > 0) {
    dim3 g{(unsigned)((n + 127) / 128), (unsigned)((m + 127) / 128), 1}, bl{256, 1, 1};
    const float *A = a + aOff, *B = b + bOff;
    float* C = c + cOff;
    emu::launch(g, bl, [&] {
      if (lay == 0) kdrec_gemm_nn(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
      else if (lay == 1) kdrec_gemm_nt(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
      else kdrec_gemm_tn(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    });
  }
  double scale = 0, worst = 0;
  for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) scale = std::max(scale, (double)std::fabs(e[cOff + (size_t)i * ldc + j]));
  if (scale == 0) scale = 1;
  bool outside = false;
  for (size_t x = 0; x < nc; x++) {
    bool in = ldc > 0 && x >= (size_t)cOff && (x - cOff) / ldc < (size_t)m && (x - cOff) % ldc < (size_t)n;
    if (in) { double err = std::fabs((double)c[x] - e[x]); if (!(err <= worst)) worst = err; }
    else if (std::memcmp(&c[x], &c0[x], 4) != 0) outside = true;
  }
  if (!(worst / scale <= 1e-5) || outside) {
    fails++;
    std::printf("GEMM FAIL lay=%d m=%d n=%d k=%d alpha=%g beta=%g placement=%d splits=%d rel=%g outside=%d\n", lay, m, n, k, alpha,
                beta, placement, splits, worst / scale, outside);
  }
}

// ---------------- top-K ----------------
static bool better(float sa, int ia, float sb, int ib) { return sa > sb || (sa == sb && ia < ib); }
static int splits_of(int m, int n) {
  long rb = (m + 31) / 32;
  if (rb == 0 || rb >= 528) return 1;
  int tiles = (n + 63) / 64;
  long wanted = (528 + rb - 1) / rb;
  return (int)std::max(1L, std::min(std::min(wanted, 16L), (long)(tiles / 16)));
}

static void topk_case(bool fused, int m, int n, int d, int k, bool excl, bool ints, int forceSplits = 0) {
  int ldu = d + ri(3), ldi = d + (ri(2) ? 4 : 0), uOff = ri(5), iOff = ri(2) * 4;
  int lds = n + ri(4), sOff = ri(6);
  std::vector<float4> ub((uOff + (size_t)m * ldu) / 4 + 2), ib((iOff + (size_t)n * ldi) / 4 + 2), sb((sOff + (size_t)m * lds) / 4 + 2);
  float *u = (float*)ub.data(), *it = (float*)ib.data(), *S = (float*)sb.data();
  for (size_t i = 0; i < ub.size() * 4; i++) u[i] = ints ? (float)(ri(5) - 2) : rn();
  for (size_t i = 0; i < ib.size() * 4; i++) it[i] = ints ? (float)(ri(5) - 2) : rn();
  for (size_t i = 0; i < sb.size() * 4; i++) {
    int x = ri(100);
    S[i] = x < 3 ? NAN : x < 4 ? -INFINITY : x < 5 ? INFINITY : x < 7 ? -0.0f : x < 40 ? std::round(rn() * 4) / 4 : rn();
  }
  std::vector<int> ptr(m + 1, 0), idx;
  for (int r = 0; r < m && excl; r++) {
    int cnt = r == 0 || n == 0 ? 0 : r == 1 ? n + 3 : ri(std::min(n, 40) + 1);
    for (int q = 0; q < cnt; q++) idx.push_back(r == 1 && q < n ? q : ri(n));
    if (r == 1) std::shuffle(idx.begin() + ptr[r], idx.end(), R);
    ptr[r + 1] = (int)idx.size();
  }
  if (!excl) std::fill(ptr.begin(), ptr.end(), 0);
  if (idx.empty()) idx.push_back(0);
  // reference
  std::vector<int> ei((size_t)m * k, -1);
  std::vector<float> es((size_t)m * k, -INFINITY);
  for (int r = 0; r < m; r++) {
    std::vector<char> ex(n, 0);
    if (excl) for (int e = ptr[r]; e < ptr[r + 1]; e++) ex[idx[e]] = 1;
    std::vector<std::pair<float, int>> v;
    for (int j = 0; j < n; j++) {
      float s;
      if (fused) { s = 0.f; for (int t = 0; t < d; t++) s = std::fmaf(u[uOff + (size_t)r * ldu + t], it[iOff + (size_t)j * ldi + t], s); }
      else s = S[sOff + (size_t)r * lds + j];
      if (ex[j] || std::isnan(s)) continue;
      v.push_back({s + 0.f, j});
    }
    std::sort(v.begin(), v.end(), [](auto& x, auto& y) { return better(x.first, x.second, y.first, y.second); });
    for (int q = 0; q < k && q < (int)v.size(); q++) { es[(size_t)r * k + q] = v[q].first; ei[(size_t)r * k + q] = v[q].second; }
  }
  // gpu (wrapper logic)
  std::vector<int> gi((size_t)m * k + 1, 12345);
  std::vector<float> gs((size_t)m * k + 1, 777.f);
  int splits = forceSplits ? forceSplits : splits_of(m, n);
  if (m > 0 && k > 0) {
    size_t lists = (size_t)m * splits * k;
    std::vector<float> scrS(splits > 1 ? lists : 1, 555.f);
    std::vector<int> scrI(splits > 1 ? lists : 1, 555);
    float* dS = splits > 1 ? scrS.data() : gs.data();
    int* dI = splits > 1 ? scrI.data() : gi.data();
    dim3 g{(unsigned)((m + 31) / 32), (unsigned)splits, 1}, bl{256, 1, 1};
    const int *P = ptr.data(), *X = idx.data();
    emu::launch(g, bl, [&] {
      if (fused) kdrec_topk_score(m, n, d, u + uOff, ldu, it + iOff, ldi, k, P, X, excl ? 1 : 0, splits, dS, dI);
      else kdrec_topk_select(m, n, S + sOff, lds, k, P, X, excl ? 1 : 0, splits, dS, dI);
    });
    if (splits > 1) {
      emu::launch(dim3{(unsigned)m, 1, 1}, bl, [&] { kdrec_topk_merge(m, k, splits, dS, dI, gs.data(), gi.data()); });
    }
  }
  for (size_t x = 0; x < (size_t)m * k; x++) {
    if (ei[x] != gi[x] || std::memcmp(&es[x], &gs[x], 4) != 0) {
      fails++;
      std::printf("TOPK FAIL fused=%d m=%d n=%d d=%d k=%d excl=%d ints=%d splits=%d: row %zu slot %zu ref %d/%g got %d/%g\n", fused, m,
                  n, d, k, excl, ints, splits, x / k, x % k, ei[x], es[x], gi[x], gs[x]);
      return;
    }
  }
  if (gi[(size_t)m * k] != 12345) { fails++; std::printf("TOPK wrote past m*k\n"); }
}

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "all";
  if (what == "one") {  // one fused m n d k excl ints splits
    topk_case(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), atoi(argv[8]), atoi(argv[9]));
    std::printf("one done, fails=%d\n", fails);
    return fails != 0;
  }
  if (what == "all" || what == "gemm") {
    int shapes[][3] = {{0, 5, 3}, {5, 0, 3}, {3, 4, 0}, {1, 1, 1}, {1, 33, 20}, {31, 32, 33}, {33, 33, 9}, {129, 130, 9}, {67, 200, 64}, {40, 50, 300}, {257, 260, 77}, {128, 128, 16}, {100, 64, 1500}, {300, 64, 1021}, {64, 130, 777}};
    for (int lay = 0; lay < 3; lay++)
      for (auto& s : shapes)
        for (int pl = 0; pl < 3; pl++) {
          gemm_case(lay, s[0], s[1], s[2], 1.f, 0.f, pl);
          gemm_case(lay, s[0], s[1], s[2], 0.5f, -1.25f, pl);
        }
    std::printf("gemm done, fails=%d split-K cases=%d barriers=%ld\n", fails, splitCases, emu::barriers);
  }
  if (what == "all" || what == "topk") {
    int cases[][4] = {{0, 10, 8, 5}, {5, 0, 8, 3}, {4, 20, 0, 5}, {1, 1, 1, 1}, {31, 33, 20, 1}, {32, 32, 64, 100}, {33, 31, 7, 100},
                      {17, 1021, 64, 100}, {16, 1021, 33, 1024}, {20, 500, 300, 10}, {40, 3000, 16, 1024}, {64, 3000, 8, 100}};
    for (auto& c : cases)
      for (int f = 0; f < 2; f++)
        for (int ex = 0; ex < 2; ex++) topk_case(f, c[0], c[1], c[2], c[3], ex, false);
    topk_case(true, 37, 2000, 5, 100, false, true);
    topk_case(true, 37, 2000, 5, 1024, true, true);
    topk_case(true, 20, 3000, 3, 64, true, true, 3);
    topk_case(false, 20, 3000, 3, 200, true, true, 5);
    topk_case(true, 20, 3000, 8, 1024, true, false, 5);  // k > items per split: sentinel padding in the scratch
    topk_case(true, 3, 50, 8, 10, true, false, 4);        // empty splits
    std::printf("topk done, fails=%d barriers=%ld\n", fails, emu::barriers);
  }
  return fails != 0;
}

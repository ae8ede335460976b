// native/emu/ce_emu.cpp — host emulation check of the CE kernels against the scalar twins (transcribed
// from kdrec.cpu.SubsetCeScalar / PairCeScalar / SoftmaxCeScalar), no GPU needed (see cuda_host_shim.h):
//   g++ -std=c++20 -O1 -pthread -Inative/emu -Inative -Wno-unknown-pragmas -o /tmp/ce_emu native/emu/ce_emu.cpp && /tmp/ce_emu
// Prints one line per output (norm-wise relative error, bound 1e-5) and exits 1 on any failure. About
// a minute on 2 cores (thousands of emulated threads and barriers). The real check is the JUnit GPU tests.
#include "cuda_host_shim.h"
#include <cstdio>
#include <cstdint>
#include "subset_ce.cu"
#include "softmax_ce.cu"

static uint64_t rs = 88172645463325252ull;
static double rnd() { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (rs >> 11) * (1.0 / 9007199254740992.0); }
static float gauss(double sd) { double u1 = rnd(), u2 = rnd(); return (float)(sd * std::sqrt(-2 * std::log(1 - u1)) * std::cos(2 * M_PI * u2)); }
static int fails = 0;
static void check(const std::vector<float>& ref, const std::vector<float>& got, const char* what) {
  double scale = 0, worst = 0; size_t at = 0;
  for (float e : ref) scale = std::max(scale, (double)std::fabs(e));
  if (scale == 0) scale = 1;
  for (size_t i = 0; i < ref.size(); i++) { double e = std::fabs((double)got[i] - ref[i]); if (!(e <= worst)) { worst = e; at = i; } }
  bool ok = worst / scale <= 1e-5;
  if (!ok) fails++;
  printf("%-4s %-40s rel %.3g (at %zu: got %g ref %g, n=%zu)\n", ok ? "ok" : "FAIL", what, worst / scale, at, ref.empty() ? 0.0 : (double)got[at], ref.empty() ? 0.0 : (double)ref[at], ref.size());
}
static std::vector<float> mat(long off, int rows, int cols, int ld, double sd) {
  std::vector<float> a(off + (long)rows * ld + 3, 0.f);
  for (int i = 0; i < rows; i++) for (int c = 0; c < cols; c++) a[off + (long)i * ld + c] = gauss(sd);
  return a;
}
static float dotf(int d, const float* a, const float* b) { float s = 0; for (int k = 0; k < d; k++) s += a[k] * b[k]; return s; }
static int warpGrid(long m) { return (int)std::min((m + 7) / 8, 65536L); }

// ---- references (the Java scalar twins, transcribed) ----
static float rowRef(const float* s, const float* t, int n, float tau, float scale, float* grad) {
  if (n == 0) return 0;
  double ms = -INFINITY, mt = -INFINITY;
  for (int j = 0; j < n; j++) { ms = std::max(ms, (double)s[j]); mt = std::max(mt, (double)t[j]); }
  double ss = 0, st = 0;
  for (int j = 0; j < n; j++) { ss += std::exp((s[j] - ms) / tau); st += std::exp((t[j] - mt) / tau); }
  double logSs = std::log(ss), loss = 0;
  for (int j = 0; j < n; j++) {
    double p = std::exp((t[j] - mt) / tau) / st, logQ = (s[j] - ms) / tau - logSs;
    loss -= p * logQ;
    grad[j] = (float)(scale * (std::exp(logQ) - p) / tau);
  }
  return (float)loss;
}

static void testSubset(int m, int d, int nItems, float tau) {
  printf("-- subset m=%d d=%d tau=%g\n", m, d, tau);
  long uOff = 3, iOff = 7; int ldu = d + 5, ldi = d + 2, ptr0 = 3;
  auto u = mat(uOff, m, d, ldu, 0.5), items = mat(iOff, nItems, d, ldi, 0.5);
  int special[] = {1, 0, 31, 32, 33, 45};
  std::vector<int> ptr(m + 1); ptr[0] = ptr0;
  for (int r = 0; r < m; r++) ptr[r + 1] = ptr[r] + (r % 2 == 0 ? special[(r / 2) % 6] : (int)(rnd() * 50));
  int nnz = ptr[m];
  std::vector<int> idx(nnz); for (auto& x : idx) x = (int)(rnd() * nItems);
  std::vector<float> teacher(nnz), rowScale(m);
  for (auto& x : teacher) x = gauss(2.0);
  for (auto& x : rowScale) x = 0.1f + 2.9f * (float)rnd();
  // reference
  std::vector<float> dotR(nnz, 0.f), lossR(m), gradR(nnz, 0.f);
  for (int r = 0; r < m; r++) for (int j = ptr[r]; j < ptr[r + 1]; j++) dotR[j] = dotf(d, &u[uOff + (long)r * ldu], &items[iOff + (long)idx[j] * ldi]);
  for (int r = 0; r < m; r++) lossR[r] = rowRef(&dotR[ptr[r]], &teacher[ptr[r]], ptr[r + 1] - ptr[r], tau, rowScale[r], &gradR[ptr[r]]);
  std::vector<float> out(nnz, 0.f), loss(m, 0.f), grad(nnz, 0.f), stud(nnz, 0.f);
  const float *U = &u[uOff], *I = &items[iOff];
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_gather_dot(m, d, U, ldu, I, ldi, ptr.data(), idx.data(), out.data()); });
  check(dotR, out, "gatherDot");
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_soft_ce(m, d, U, ldu, I, ldi, ptr.data(), idx.data(), teacher.data(), tau, rowScale.data(), 1, loss.data(), grad.data(), stud.data(), 1); });
  check(lossR, loss, "softCe loss"); check(gradR, grad, "softCe grad"); check(dotR, stud, "softCe student");
  {  // grid-stride: one block of 8 warps walks all rows
    std::vector<float> l2(m, 0.f), g2(nnz, 0.f);
    launch({1}, {256}, [&] { kdrec_subset_ce_soft_ce(m, d, U, ldu, I, ldi, ptr.data(), idx.data(), teacher.data(), tau, rowScale.data(), 1, l2.data(), g2.data(), nullptr, 0); });
    check(lossR, l2, "softCe loss (grid 1)"); check(gradR, g2, "softCe grad (grid 1)");
  }
  std::fill(loss.begin(), loss.end(), 0.f); std::fill(grad.begin(), grad.end(), 0.f);
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_soft_ce_logits(m, ptr.data(), dotR.data(), teacher.data(), tau, rowScale.data(), 1, loss.data(), grad.data()); });
  check(lossR, loss, "softCeLogits loss"); check(gradR, grad, "softCeLogits grad");
  // backward
  std::vector<float> g(nnz); for (auto& x : g) x = gauss(1.0);
  int lddu = d + 1, lddi = d + 3; long duOff = 1, diOff = 2;
  auto du0 = mat(duOff, m, d, lddu, 1.0), di0 = mat(diOff, nItems, d, lddi, 1.0);
  auto duR = du0, diR = di0;
  for (int r = 0; r < m; r++) for (int j = ptr[r]; j < ptr[r + 1]; j++) for (int k = 0; k < d; k++) {
    duR[duOff + (long)r * lddu + k] += g[j] * items[iOff + (long)idx[j] * ldi + k];
    diR[diOff + (long)idx[j] * lddi + k] += g[j] * u[uOff + (long)r * ldu + k];
  }
  auto duG = du0, diG = di0;
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_gather_dot_backward(m, d, U, ldu, I, ldi, ptr.data(), idx.data(), g.data(), &duG[duOff], lddu, 1, &diG[diOff], lddi, 1); });
  check(duR, duG, "gatherDotBackward du"); check(diR, diG, "gatherDotBackward di");
  // pair
  std::vector<int> a(m), b(m);
  for (int r = 0; r < m; r++) { int n = ptr[r + 1] - ptr[r]; a[r] = r % 4 == 0 ? 0 : (int)(rnd() * (n + 1)); b[r] = r % 4 == 1 ? n : (int)(rnd() * (n + 1)); }
  std::vector<float> wA(m), wB(m); for (int r = 0; r < m; r++) { wA[r] = 0.1f + (float)rnd(); wB[r] = 0.1f + (float)rnd(); }
  std::vector<float> tgtR(nnz, 0.f);
  auto softmax = [&](const float* x, int from, int to, std::vector<double>& p) {
    p.assign(std::max(0, to - from), 0.0); if (p.empty()) return;
    double mx = -INFINITY, sum = 0;
    for (int j = from; j < to; j++) mx = std::max(mx, x[j] / (double)tau);
    for (int j = from; j < to; j++) sum += p[j - from] = std::exp(x[j] / (double)tau - mx);
    for (auto& v : p) v /= sum;
  };
  for (int r = 0; r < m; r++) {
    int o = ptr[r], n = ptr[r + 1] - o; std::vector<double> pa, pb;
    softmax(&teacher[o], 0, a[r], pa); softmax(&teacher[o], b[r], n, pb);
    for (int j = 0; j < n; j++) tgtR[o + j] = (float)((j < a[r] ? wA[r] * pa[j] : 0) + (j >= b[r] ? wB[r] * pb[j - b[r]] : 0));
  }
  std::vector<float> tgt(nnz, 0.f);
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_pair_targets(m, ptr.data(), a.data(), b.data(), teacher.data(), tau, wA.data(), wB.data(), tgt.data()); });
  check(tgtR, tgt, "pair targets");
  int ldgu = d + 2; long guOff = 2;
  std::vector<float> plR(m), pgR(nnz, 0.f), guR(guOff + (long)m * ldgu + 3, 0.f);
  auto lse = [&](const std::vector<double>& s, int from, int to) {
    if (from >= to) return -(double)INFINITY; double mx = -INFINITY, sum = 0;
    for (int j = from; j < to; j++) mx = std::max(mx, s[j] / tau);
    for (int j = from; j < to; j++) sum += std::exp(s[j] / tau - mx);
    return mx + std::log(sum); };
  for (int r = 0; r < m; r++) {
    int o = ptr[r], n = ptr[r + 1] - o, ar = a[r], br = b[r];
    std::vector<double> s(n), gg(n);
    for (int j = 0; j < n; j++) s[j] = dotR[o + j];
    double lA = lse(s, 0, ar), lB = lse(s, br, n), cross = 0;
    double value = (ar > 0 ? wA[r] * lA : 0) + (br < n ? wB[r] * lB : 0);
    for (int j = 0; j < n; j++) {
      cross += tgtR[o + j] * s[j] / tau;
      double q = (j < ar ? wA[r] * std::exp(s[j] / tau - lA) : 0) + (j >= br ? wB[r] * std::exp(s[j] / tau - lB) : 0);
      gg[j] = (q - tgtR[o + j]) / tau; pgR[o + j] = (float)gg[j];
    }
    plR[r] = (float)(value - cross);
    for (int c = 0; c < d; c++) { double acc = 0; for (int j = 0; j < n; j++) acc += gg[j] * items[iOff + (long)idx[o + j] * ldi + c]; guR[guOff + (long)r * ldgu + c] = (float)acc; }
  }
  std::vector<float> pl(m, 0.f), pg(nnz, 0.f), gu(guR.size(), 0.f);
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_subset_ce_pair_soft_ce(m, d, U, ldu, I, ldi, ptr.data(), idx.data(), a.data(), b.data(), tgtR.data(), wA.data(), wB.data(), tau, pl.data(), pg.data(), &gu[guOff], ldgu, 1); });
  check(plR, pl, "pair loss"); check(pgR, pg, "pair grad"); check(guR, gu, "pair gu");
}

static void split(int rowBlocks, int n, int want, int& splits, int& per) {
  int tiles = (n + 63) / 64; if (tiles == 0) { splits = per = 1; return; }
  rowBlocks = std::max(1, rowBlocks);
  splits = (int)std::max(1L, std::min((long)tiles, (want + (long)rowBlocks - 1) / rowBlocks));
  per = (tiles + splits - 1) / splits; splits = (tiles + per - 1) / per;
}

static void testSoftmax(int m, int n, int d, float scale, int duBlocks) {
  printf("-- softmax m=%d n=%d d=%d scale=%g\n", m, n, d, scale);
  long uOff = 3, iOff = 5; int ldu = d + 1, ldi = d + 3;
  auto u = mat(uOff, m, d, ldu, 0.5), items = mat(iOff, n, d, ldi, 0.5);
  std::vector<int> target(m); for (auto& t : target) t = (int)(rnd() * n);
  std::vector<float> lossR(m), lseR(m);
  for (int r = 0; r < m; r++) {
    double mx = -INFINITY, sum = 0; float zt = 0;
    for (int j = 0; j < n; j++) {
      float z = scale * dotf(d, &u[uOff + (long)r * ldu], &items[iOff + (long)j * ldi]);
      if (j == target[r]) zt = z;
      if (z > mx) { sum = sum * std::exp(mx - z) + 1; mx = z; } else sum += std::exp(z - mx);
    }
    double l = mx + std::log(sum); lseR[r] = (float)l; lossR[r] = (float)(l - zt);
  }
  int rowBlocks = (m + 63) / 64, S, per; split(rowBlocks, n, 1024, S, per);
  std::vector<float> ws(2L * S * m), loss(m), lse(m);
  const float *U = &u[uOff], *I = &items[iOff];
  launch({(unsigned)rowBlocks, (unsigned)S}, {256}, [&] { kdrec_softmax_ce_forward_partial(m, n, d, U, ldu, I, ldi, scale, per, ws.data()); });
  launch({(unsigned)((m + 127) / 128)}, {128}, [&] { kdrec_softmax_ce_forward_combine(m, d, U, ldu, I, ldi, scale, target.data(), S, ws.data(), loss.data(), lse.data()); });
  printf("     forward splits=%d\n", S);
  check(lseR, lse, "forward lse"); check(lossR, loss, "forward loss");
  // backward
  std::vector<float> gLoss(m); for (auto& x : gLoss) x = 0.1f + 1.9f * (float)rnd();
  int lddu = d + 2, lddi = d + 1; long duOff = 1, diOff = 2;
  auto du0 = mat(duOff, m, d, lddu, 1.0), di0 = mat(diOff, n, d, lddi, 1.0);
  auto duR = du0, diR = di0;
  for (int r = 0; r < m; r++) for (int j = 0; j < n; j++) {
    const float* ir = &items[iOff + (long)j * ldi]; const float* ur = &u[uOff + (long)r * ldu];
    float z = scale * dotf(d, ur, ir);
    float g = (float)(gLoss[r] * scale * (std::exp((double)z - lseR[r]) - (j == target[r] ? 1 : 0)));
    for (int k = 0; k < d; k++) { duR[duOff + (long)r * lddu + k] += g * ir[k]; diR[diOff + (long)j * lddi + k] += g * ur[k]; }
  }
  auto duG = du0, diG = di0;
  int chunks = (d + 63) / 64, S2, per2; split(rowBlocks * chunks, n, duBlocks, S2, per2);
  printf("     backward du splits=%d chunks=%d\n", S2, chunks);
  if (S2 == 1) {
    launch({(unsigned)rowBlocks, (unsigned)(S2 * chunks)}, {256}, [&] { kdrec_softmax_ce_backward_du(m, n, d, U, ldu, I, ldi, scale, target.data(), lseR.data(), gLoss.data(), per2, &duG[duOff], lddu, 0LL, 1); });
  } else {
    std::vector<float> w2((long)S2 * m * d, 0.f);
    launch({(unsigned)rowBlocks, (unsigned)(S2 * chunks)}, {256}, [&] { kdrec_softmax_ce_backward_du(m, n, d, U, ldu, I, ldi, scale, target.data(), lseR.data(), gLoss.data(), per2, w2.data(), d, (long long)m * d, 0); });
    long md = (long)m * d;
    launch({(unsigned)std::min((md + 255) / 256, 65536L)}, {256}, [&] { kdrec_softmax_ce_backward_du_reduce(m, d, S2, w2.data(), &duG[duOff], lddu); });
  }
  launch({(unsigned)((n + 63) / 64), (unsigned)chunks}, {256}, [&] { kdrec_softmax_ce_backward_di(m, n, d, U, ldu, I, ldi, scale, target.data(), lseR.data(), gLoss.data(), &diG[diOff], lddi); });
  check(duR, duG, "backward du"); check(diR, diG, "backward di");
  // rowsInPlace on the materialised logits (off 2, ld n + 3), every 5th masked
  long off = 2; int ld = n + 3;
  auto x = mat(off, m, n, ld, 3.0);
  for (int r = 0; r < m; r++) for (int j = 0; j < n; j += 5) if (j != target[r]) x[off + (long)r * ld + j] = -INFINITY;
  auto xr = x, xin = x; std::vector<float> lr(m), lg(m, 0.f), gsc(m);
  for (auto& v : gsc) v = 0.1f + (float)rnd();
  for (int r = 0; r < m; r++) {
    float* row = &xr[off + (long)r * ld]; double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) mx = std::max(mx, (double)row[j]);
    for (int j = 0; j < n; j++) sum += std::exp(row[j] - mx);
    double l = mx + std::log(sum); lr[r] = (float)(l - row[target[r]]);
    for (int j = 0; j < n; j++) row[j] = (float)(gsc[r] * (std::exp(row[j] - l) - (j == target[r] ? 1 : 0)));
  }
  launch({(unsigned)std::min(m, 65536)}, {256}, [&] { kdrec_softmax_ce_rows_in_place(m, n, &x[off], ld, target.data(), gsc.data(), 1, lg.data()); });
  check(lr, lg, "rowsInPlace loss"); check(xr, x, "rowsInPlace grad");
  {  // grid-stride: 3 blocks walk all rows
    std::vector<float> l3(m, 0.f);
    launch({3}, {256}, [&] { kdrec_softmax_ce_rows_in_place(m, n, &xin[off], ld, target.data(), gsc.data(), 1, l3.data()); });
    check(lr, l3, "rowsInPlace loss (grid 3)"); check(xr, xin, "rowsInPlace grad (grid 3)");
  }
  // sampled
  std::vector<int> np(m + 1); np[0] = 2; for (int r = 0; r < m; r++) np[r + 1] = np[r] + (r % 3 == 0 ? 33 : (int)(rnd() * 40));
  int nn = np[m]; std::vector<float> pos(m), neg(nn); for (auto& v : pos) v = gauss(3); for (auto& v : neg) v = gauss(3);
  float negScale = 37.5f;
  std::vector<float> sl(m), sp(m), sn(nn, 0.f), gl(m), gp(m), gn(nn, 0.f);
  for (int r = 0; r < m; r++) {
    double mx = pos[r]; for (int j = np[r]; j < np[r + 1]; j++) mx = std::max(mx, (double)neg[j]);
    double s2 = 0; for (int j = np[r]; j < np[r + 1]; j++) s2 += std::exp(neg[j] - mx);
    double ep = std::exp(pos[r] - mx), z = ep + negScale * s2, rs2 = gsc[r];
    sl[r] = (float)(mx + std::log(z) - pos[r]); sp[r] = (float)(rs2 * (ep / z - 1));
    for (int j = np[r]; j < np[r + 1]; j++) sn[j] = (float)(rs2 * negScale * std::exp(neg[j] - mx) / z);
  }
  launch({(unsigned)warpGrid(m)}, {256}, [&] { kdrec_softmax_ce_sampled(m, pos.data(), np.data(), neg.data(), negScale, gsc.data(), 1, gl.data(), gp.data(), gn.data()); });
  check(sl, gl, "sampled loss"); check(sp, gp, "sampled gPos"); check(sn, gn, "sampled gNeg");
}

int main() {
  testSubset(37, 5, 40, 0.3f);
  testSubset(20, 70, 100, 1.7f);
  testSubset(9, 33, 30, 0.1f);
  testSoftmax(70, 200, 17, 1.0f, 512);
  testSoftmax(33, 64, 70, 0.5f, 512);
  testSoftmax(65, 130, 64, 0.8f, 2);
  testSoftmax(70, 200, 70, 0.6f, 512);  // dU with several splits AND two column chunks
  printf("%s: %d failures\n", fails ? "FAILED" : "PASSED", fails);
  return fails != 0;
}

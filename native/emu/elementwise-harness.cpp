// native/emu/elementwise-harness.cpp — runs the elementwise.cu / layernorm.cu kernels on the CPU emulator
// (cpu-emu.h) against C++ copies of VecScalar / LayerNormScalar: sum/dot two-pass reductions, allFinite,
// grid-stride with small grids, layer norm forward/backward over odd shapes, leading dims, offsets.
//   cd native && g++ -std=c++20 -O1 -ffp-contract=off -pthread -I. -Iemu -x c++ emu/elementwise-harness.cpp -o /tmp/h && /tmp/h
// (about 4 minutes on 2 cores: every emulated thread is an OS thread). Last run: all ok.
#include "cpu-emu.h"
#include "common.cuh"
#include "elementwise.cu"
#include "layernorm.cu"
#include <random>
#include <cstdlib>
static int fails = 0;
#define CHECK(c, ...) do { if (!(c)) { fails++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)
static std::mt19937 rng(1);
static std::vector<float> rnd(size_t n, float lo = -4, float hi = 4) { std::uniform_real_distribution<float> u(lo, hi); std::vector<float> v(n); for (auto& x : v) x = u(rng); return v; }
static double relerr(const std::vector<float>& e, const std::vector<float>& a) {
  double s = 0, w = 0; for (float x : e) s = std::max(s, (double)std::fabs(x)); if (s == 0) s = 1;
  for (size_t i = 0; i < e.size(); i++) { double d = std::fabs((double)a[i] - e[i]); if (!(d <= w)) w = d; } return w / s; }

static void testSumDot(long long n) {
  auto a = rnd(n + 3), b = rnd(n + 3);
  for (size_t i = 0; i < a.size(); i += 2) a[i] += 1000;
  int blocks = (int)std::min<long long>((n + 255) / 256, 1024);
  std::vector<double> scratch(blocks + 1);
  launch({(unsigned)blocks}, {256}, [&] { kdrec_vec_sum_partial(n, a.data() + 3, scratch.data()); });
  launch({1}, {256}, [&] { kdrec_vec_reduce_partials(scratch.data(), blocks, scratch.data() + blocks); });
  double want = 0, abs = 0; for (long long i = 0; i < n; i++) { want += a[3 + i]; abs += std::fabs(a[3 + i]); }
  CHECK(std::fabs(scratch[blocks] - want) <= 1e-11 * abs, "sum n=%lld got %.17g want %.17g", n, scratch[blocks], want);
  launch({(unsigned)blocks}, {256}, [&] { kdrec_vec_dot_partial(n, a.data() + 1, b.data() + 2, scratch.data()); });
  launch({1}, {256}, [&] { kdrec_vec_reduce_partials(scratch.data(), blocks, scratch.data() + blocks); });
  want = 0; abs = 0; for (long long i = 0; i < n; i++) { double p = (double)a[1 + i] * b[2 + i]; want += p; abs += std::fabs(p); }
  CHECK(std::fabs(scratch[blocks] - want) <= 1e-11 * abs, "dot n=%lld got %.17g want %.17g", n, scratch[blocks], want);
  // all finite, with a small grid (grid-stride)
  int flag = 0;
  launch({2}, {64}, [&] { kdrec_vec_all_finite(n, a.data() + 3, &flag); });
  CHECK(flag == 0, "allFinite finite n=%lld", n);
  a[3 + n - 1] = NAN;
  launch({2}, {64}, [&] { kdrec_vec_all_finite(n, a.data() + 3, &flag); });
  CHECK(flag == 1, "allFinite NaN last n=%lld", n);
  printf("sum/dot/allFinite n=%lld ok\n", n);
}

static void testElem(long long n) {
  auto a = rnd(n), b = rnd(n), y = rnd(n), y2 = y;
  launch({3}, {64}, [&] { kdrec_vec_axpy(n, 0.7f, a.data(), y.data()); });
  for (long long i = 0; i < n; i++) CHECK(y[i] == fmaf(0.7f, a[i], y2[i]), "axpy %lld", i);
  launch({3}, {64}, [&] { kdrec_act_silu(n, a.data(), y.data()); });
  for (long long i = 0; i < n; i++) { double v = a[i]; CHECK(y[i] == (float)(v / (1 + std::exp(-v))) || std::fabs(y[i] - (float)(v / (1 + std::exp(-v)))) <= 2 * std::nextafter(std::fabs(y[i]), INFINITY) - 2 * std::fabs(y[i]), "silu %lld", i); }
  printf("elementwise n=%lld ok\n", n);
}

// C++ copies of LayerNormScalar.forward / backward.
static void lnRef(int rows, int d, const float* x, int ldx, const float* g, const float* bt, float eps, float* y, int ldy, float* mean, float* rstd) {
  for (int r = 0; r < rows; r++) { const float* xr = x + (long)r * ldx; float* yr = y + (long)r * ldy;
    double s = 0; for (int j = 0; j < d; j++) s += xr[j]; double mu = s / d; double ss = 0;
    for (int j = 0; j < d; j++) { double c = xr[j] - mu; ss += c * c; } double rs = 1.0 / std::sqrt(ss / d + eps);
    mean[r] = (float)mu; rstd[r] = (float)rs;
    for (int j = 0; j < d; j++) { double v = (xr[j] - mu) * rs; if (g) v *= g[j]; if (bt) v += bt[j]; yr[j] = (float)v; } } }
static void lnBackRef(int rows, int d, const float* x, int ldx, const float* g, const float* mean, const float* rstd, const float* dy, int lddy, float* dx, int lddx, float* dg, float* db) {
  for (int r = 0; r < rows; r++) { const float* xr = x + (long)r * ldx; const float* yr = dy + (long)r * lddy; float* o = dx + (long)r * lddx;
    double mu = mean[r], rs = rstd[r], sg = 0, sgx = 0;
    for (int j = 0; j < d; j++) { double gg = yr[j] * (g ? (double)g[j] : 1.0); sg += gg; sgx += gg * (xr[j] - mu) * rs; }
    double mg = sg / d, mgx = sgx / d;
    for (int j = 0; j < d; j++) { double gg = yr[j] * (g ? (double)g[j] : 1.0); double xh = (xr[j] - mu) * rs; o[j] = (float)(o[j] + rs * (gg - mg - xh * mgx)); } }
  for (int j = 0; j < d; j++) { double sg = 0, sb = 0;
    for (int r = 0; r < rows; r++) { double gg = dy[(long)r * lddy + j]; sg += gg * (x[(long)r * ldx + j] - (double)mean[r]) * rstd[r]; sb += gg; }
    dg[j] = (float)(dg[j] + sg); db[j] = (float)(db[j] + sb); } }

static int rowThreads(int d) { return d >= 512 ? 512 : std::max(32, (d + 31) / 32 * 32); }

static void testLn(int rows, int d, int pad, bool affine) {
  int ldx = d + pad, ldy = d + 2 * pad, off = pad ? 5 : 0;
  size_t xs = off + (size_t)(rows - 1) * ldx + d + 2, ys = off + (size_t)(rows - 1) * ldy + d + 2;
  auto x = rnd(xs); for (auto& v : x) v += 3; auto g = rnd(d, 0.5f, 1.5f), bt = rnd(d);
  auto y0 = rnd(ys), yW = y0, yG = y0; std::vector<float> mW(rows), rW(rows), mG(rows), rG(rows);
  lnRef(rows, d, x.data() + off, ldx, affine ? g.data() : nullptr, affine ? bt.data() : nullptr, 1e-5f, yW.data() + off, ldy, mW.data(), rW.data());
  launch({(unsigned)rows}, {(unsigned)rowThreads(d)}, [&] { kdrec_layernorm_forward(d, x.data() + off, ldx, affine ? g.data() : x.data(), affine, affine ? bt.data() : x.data(), affine, 1e-5f, yG.data() + off, ldy, mG.data(), rG.data()); });
  CHECK(relerr(yW, yG) <= 1e-6, "ln fwd y rows=%d d=%d err %g", rows, d, relerr(yW, yG));
  CHECK(relerr(mW, mG) <= 1e-6 && relerr(rW, rG) <= 1e-6, "ln fwd stats rows=%d d=%d", rows, d);
  auto dy = rnd(xs), dx0 = rnd(ys), dg0 = rnd(d), db0 = rnd(d);
  auto dxW = dx0, dxG = dx0, dgW = dg0, dgG = dg0, dbW = db0, dbG = db0;
  lnBackRef(rows, d, x.data() + off, ldx, affine ? g.data() : nullptr, mW.data(), rW.data(), dy.data() + off, ldx, dxW.data() + off, ldy, dgW.data(), dbW.data());
  launch({(unsigned)rows}, {(unsigned)rowThreads(d)}, [&] { kdrec_layernorm_backward_dx(d, x.data() + off, ldx, affine ? g.data() : x.data(), affine, mW.data(), rW.data(), dy.data() + off, ldx, dxG.data() + off, ldy); });
  int tile = d >= 2048 ? 32 : 8;
  launch({(unsigned)((d + tile - 1) / tile)}, {(unsigned)tile, (unsigned)(1024 / tile)}, [&] { kdrec_layernorm_backward_params(rows, d, x.data() + off, ldx, mW.data(), rW.data(), dy.data() + off, ldx, dgG.data(), 1, dbG.data(), 1); });
  CHECK(relerr(dxW, dxG) <= 1e-6, "ln dx rows=%d d=%d err %g", rows, d, relerr(dxW, dxG));
  CHECK(relerr(dgW, dgG) <= 1e-6, "ln dgamma rows=%d d=%d err %g", rows, d, relerr(dgW, dgG));
  CHECK(relerr(dbW, dbG) <= 1e-6, "ln dbeta rows=%d d=%d err %g", rows, d, relerr(dbW, dbG));
  printf("layernorm rows=%d d=%d pad=%d affine=%d ok\n", rows, d, pad, affine);
}

int main() {
  for (long long n : {1LL, 31LL, 33LL, 1021LL, 70001LL}) testSumDot(n);
  for (long long n : {1LL, 33LL, 1021LL}) testElem(n);
  int shapes[][2] = {{1, 1}, {3, 31}, {5, 32}, {7, 33}, {2, 1021}, {2, 4100}, {150, 64}};
  for (auto& s : shapes) for (int pad : {0, 3}) testLn(s[0], s[1], pad, pad == 0);
  printf(fails ? "%d FAILURES\n" : "all ok\n", fails);
  return fails != 0;
}

// native/emu/layernorm_emu.cpp — runs native/layernorm.cu on the emulator against LayerNormScalar
// transliterated in double: forward (gamma/beta present or absent, y == x in place), backward dx
// (accumulating) and dgamma/dbeta (either absent: the wrapper then passes the other pointer with flag
// 0), launch shapes exactly as GpuLayerNorm (rows blocks of rowThreads(d); params: ceil(d/tile) blocks
// of tile x 1024/tile with tile 8, or 32 from d >= 2048), unaligned offsets and padded leading dims.
// L2 rows (kdrec.autograd.Norm.l2Rows in double: y = x / max(|x|, eps), norm = max(|x|, eps); backward
// dx += (dy - <y, dy> y) / norm, the projection dropped where |x| < eps) forward and backward, launched
// as GpuLayerNorm.l2Rows / l2RowsBackward (rows blocks of rowThreads(d); rows = 0: no launch), with a
// zero row, a row with norm below eps and one just above it, leading dims > d, dx accumulating into a
// nonzero buffer (the backward fed the kernel's own y and norm, as the wrapper's caller does, and its
// reference computed from them; the clamp decided by the double |x| < eps). Besides
// the norm-wise compare over the whole matrix, every row is compared norm-wise on its own (the clamped
// rows' dx ~ dy / eps would otherwise hide the other rows' errors).
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/layernorm_emu native/emu/layernorm_emu.cpp
#include "cuda_shim.h"
#include "../layernorm.cu"
#include "harness.h"

static unsigned rowThreads(int d) { return d >= 512 ? 512u : (unsigned)std::max(32, (d + 31) / 32 * 32); }

static void run(int rows, int d, bool gam, bool bet, bool inplace) {
  char tag[96];
  snprintf(tag, sizeof tag, "rows=%d d=%d gamma=%d beta=%d inplace=%d", rows, d, gam, bet, inplace);
  const int ldx = d + 3, ldy = inplace ? ldx : d + 1;
  std::vector<float> xin = h::randn(2 + (long long)(rows - 1) * ldx + d, 2.f);
  for (auto& v : xin) v += 3.f;  // a mean far from 0: the two-pass variance matters
  std::vector<float> gamma = h::randn(d), beta = h::randn(d);
  // forward reference
  std::vector<double> yref((size_t)rows * d), mref(rows), rref(rows);
  std::vector<float> meanF(rows), rstdF(rows);
  for (int r = 0; r < rows; r++) {
    const float* xr = xin.data() + 2 + (long long)r * ldx;
    double s = 0; for (int j = 0; j < d; j++) s += xr[j];
    double mu = s / d, ss = 0;
    for (int j = 0; j < d; j++) { double c = xr[j] - mu; ss += c * c; }
    double rs = 1.0 / std::sqrt(ss / d + (double)1e-5f);
    mref[r] = (float)mu; rref[r] = (float)rs;
    for (int j = 0; j < d; j++) {
      double v = (xr[j] - mu) * rs;
      if (gam) v *= gamma[j];
      if (bet) v += beta[j];
      yref[(size_t)r * d + j] = v;
    }
  }
  h::Out y(2, rows, d, ldy), mean(0, rows, 1, 1), rstd(1, rows, 1, 1);
  if (inplace)
    for (int r = 0; r < rows; r++) for (int j = 0; j < d; j++) y.at(r, j) = xin[2 + (long long)r * ldx + j];
  const float* X = inplace ? y.p() : xin.data() + 2;
  launch(dim3(rows), dim3(rowThreads(d)), 0, [&] {
    kdrec_layernorm_forward(d, X, ldx, gam ? gamma.data() : X, gam, bet ? beta.data() : X, bet, 1e-5f, y.p(), ldy, mean.p(), rstd.p());
  });
  h::check(std::string("forward y    ") + tag, y, yref, 1e-6);
  h::check(std::string("forward mean ") + tag, mean, mref, 1e-6);
  h::check(std::string("forward rstd ") + tag, rstd, rref, 1e-6);
  if (inplace) return;
  for (int r = 0; r < rows; r++) { meanF[r] = mean.at(r, 0); rstdF[r] = rstd.at(r, 0); }
  // backward: dx += ..., dgamma += ..., dbeta += ...
  const int lddy = d + 2, lddx = d + 5;
  std::vector<float> dy = h::randn(1 + (long long)(rows - 1) * lddy + d);
  const float* DY = dy.data() + 1;
  for (int which = 0; which < 3; which++) {  // 0: both dgamma and dbeta, 1: only dgamma, 2: only dbeta
    h::Out dx(3, rows, d, lddx), dg(1, 1, d, d), db(2, 1, d, d);
    std::vector<double> dxr((size_t)rows * d), dgr(d), dbr(d);
    for (int r = 0; r < rows; r++) for (int j = 0; j < d; j++) dx.at(r, j) = dxr[(size_t)r * d + j] = 0.01f * j - 0.3f;
    for (int j = 0; j < d; j++) { dg.at(0, j) = dgr[j] = 0.5f; db.at(0, j) = dbr[j] = -0.25f; }
    for (int r = 0; r < rows; r++) {
      const float* xr = xin.data() + 2 + (long long)r * ldx; const float* g_ = DY + (long long)r * lddy;
      double mu = meanF[r], rs = rstdF[r], sg = 0, sgx = 0;
      for (int j = 0; j < d; j++) { double g = g_[j] * (gam ? (double)gamma[j] : 1.0); sg += g; sgx += g * (xr[j] - mu) * rs; }
      double mg = sg / d, mgx = sgx / d;
      for (int j = 0; j < d; j++) {
        double g = g_[j] * (gam ? (double)gamma[j] : 1.0), xhat = (xr[j] - mu) * rs;
        dxr[(size_t)r * d + j] += rs * (g - mg - xhat * mgx);
      }
    }
    for (int j = 0; j < d; j++) {
      double sg = 0, sb = 0;
      for (int r = 0; r < rows; r++) {
        double g = DY[(long long)r * lddy + j];
        sg += g * (xin[2 + (long long)r * ldx + j] - (double)meanF[r]) * rstdF[r];
        sb += g;
      }
      if (which != 2) dgr[j] += sg;
      if (which != 1) dbr[j] += sb;
    }
    const float* Xp = xin.data() + 2;
    if (which == 0)
      launch(dim3(rows), dim3(rowThreads(d)), 0, [&] {
        kdrec_layernorm_backward_dx(d, Xp, ldx, gam ? gamma.data() : Xp, gam, mean.p(), rstd.p(), DY, lddy, dx.p(), lddx);
      });
    float* dgp = which != 2 ? dg.p() : db.p();
    float* dbp = which != 1 ? db.p() : dgp;
    int tile = d >= 2048 ? 32 : 8;
    launch(dim3((d + tile - 1) / tile), dim3(tile, 1024 / tile), 0, [&] {
      kdrec_layernorm_backward_params(rows, d, Xp, ldx, mean.p(), rstd.p(), DY, lddy, dgp, which != 2, dbp, which != 1);
    });
    if (which == 0) h::check(std::string("backward dx     ") + tag, dx, dxr, 1e-5);
    h::check(std::string("backward dgamma which=") + std::to_string(which) + " " + tag, dg, dgr, 1e-6);
    h::check(std::string("backward dbeta  which=") + std::to_string(which) + " " + tag, db, dbr, 1e-6);
  }
}

// Worst per-row norm-wise relative error of o's rows against ref (rows x d): one check.
static bool checkRows(const std::string& what, h::Out& o, const std::vector<double>& ref, double tol) {
  double worst = 0;
  long long worstRow = -1;
  for (long long r = 0; r < o.rows; r++) {
    double num = 0, den = 0;
    for (long long c = 0; c < o.d; c++) {
      double e = ref[r * o.d + c], df = o.at(r, c) - e;
      num += df * df; den += e * e;
    }
    double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
    if (!(rel <= worst)) { worst = rel; worstRow = r; }
  }
  bool ok = worst <= tol;
  h::report(ok, "%s per-row worst rel=%.3g at row %lld", what.c_str(), worst, worstRow);
  return ok;
}

static void runL2(int rows, int d) {
  char tag[64];
  snprintf(tag, sizeof tag, "rows=%d d=%d", rows, d);
  const float eps = 1e-6f;
  const int ldx = d + 3, ldy = d + 1, lddy = d + 2, lddx = d + 5;
  std::vector<float> xin = h::randn(2 + (rows > 0 ? (long long)(rows - 1) * ldx + d : 0));
  float* X = xin.data() + 2;
  if (rows >= 3) {
    for (int j = 0; j < d; j++) X[j] = 0.f;                                          // zero row
    for (int j = 0; j < d; j++) X[ldx + j] = 1e-8f * (j % 3 == 1 ? 1.f : -1.f);     // |x| < eps: clamped
  }
  if (rows >= 4) {  // |x| = 2 eps: just above the clamp, the projection is kept
    double ss = 0;
    for (int j = 0; j < d; j++) ss += (double)X[3 * ldx + j] * X[3 * ldx + j];
    for (int j = 0; j < d; j++) X[3 * ldx + j] = (float)(X[3 * ldx + j] * (2.0 * eps / std::sqrt(ss)));
  }
  std::vector<double> yref((size_t)rows * d), nref(rows), rawNorm(rows);
  for (int r = 0; r < rows; r++) {
    const float* xr = X + (long long)r * ldx;
    double ss = 0;
    for (int j = 0; j < d; j++) ss += (double)xr[j] * xr[j];
    rawNorm[r] = std::sqrt(ss);
    nref[r] = std::max(rawNorm[r], (double)eps);
    for (int j = 0; j < d; j++) yref[(size_t)r * d + j] = xr[j] / nref[r];
  }
  h::Out y(1, rows, d, ldy), norm(1, rows, 1, 1);
  if (rows > 0)
    launch(dim3(rows), dim3(rowThreads(d)), 0, [&] { kdrec_l2_rows_forward(d, X, ldx, eps, y.p(), ldy, norm.p()); });
  h::check(std::string("l2 forward y    ") + tag, y, yref, 1e-6);
  checkRows(std::string("l2 forward y    ") + tag, y, yref, 1e-6);
  h::check(std::string("l2 forward norm ") + tag, norm, nref, 1e-6);
  checkRows(std::string("l2 forward norm ") + tag, norm, nref, 1e-6);
  // backward: dx += (dy - <y, dy> y) / norm into a nonzero dx
  std::vector<float> dy = h::randn(1 + (rows > 0 ? (long long)(rows - 1) * lddy + d : 0));
  const float* DY = dy.data() + 1;
  h::Out dx(3, rows, d, lddx);
  std::vector<double> dxr((size_t)rows * d);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < d; j++) dx.at(r, j) = dxr[(size_t)r * d + j] = 0.01f * j - 0.3f + 0.002f * r;
  // From the y and norm the backward is given (the forward's float outputs), as the wrapper's contract
  // says: with the exact double y instead, rows where dx's increment cancels (d = 1: y = +-1, so the
  // increment is 0) differ by O(2^-24 |dy| / |x|), the rounding of y, which the CPU twin shares.
  for (int r = 0; r < rows; r++) {
    const float* g = DY + (long long)r * lddy;
    double proj = 0;
    if (!(rawNorm[r] < eps))
      for (int j = 0; j < d; j++) proj += (double)y.at(r, j) * g[j];
    for (int j = 0; j < d; j++) dxr[(size_t)r * d + j] += (g[j] - proj * y.at(r, j)) / (double)norm.at(r, 0);
  }
  // the backward reads the forward's outputs (y rows at ldy; ASan: y's buffer is exactly its size)
  if (rows > 0)
    launch(dim3(rows), dim3(rowThreads(d)), 0, [&] {
      kdrec_l2_rows_backward(d, X, ldx, y.p(), ldy, norm.p(), eps, DY, lddy, dx.p(), lddx);
    });
  h::check(std::string("l2 backward dx  ") + tag, dx, dxr, 1e-5);
  checkRows(std::string("l2 backward dx  ") + tag, dx, dxr, 1e-5);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  std::vector<std::pair<int, int>> shapes = quick ? std::vector<std::pair<int, int>>{{1, 1}, {3, 33}, {5, 70}}
      : std::vector<std::pair<int, int>>{{1, 1}, {2, 31}, {3, 32}, {4, 33}, {1, 100}, {130, 9}, {3, 513}, {2, 1021}, {2, 2050}};
  for (auto [rows, d] : shapes)
    for (int v = 0; v < 4; v++) run(rows, d, v & 1, v & 2, false);
  for (auto [rows, d] : shapes) run(rows, d, true, true, true);
  std::vector<std::pair<int, int>> l2 = quick ? std::vector<std::pair<int, int>>{{0, 8}, {1, 1}, {3, 33}, {37, 8}, {4, 600}}
                                              : std::vector<std::pair<int, int>>{};
  if (!quick)
    for (int rows : {0, 1, 3, 37, 300})
      for (int d : {1, 8, 33, 600}) l2.push_back({rows, d});
  for (auto [rows, d] : l2) runL2(rows, d);
  return h::finish("layernorm");
}

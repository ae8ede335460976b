// native/emu/layernorm_emu.cpp — runs native/layernorm.cu on the emulator against LayerNormScalar
// transliterated in double: forward (gamma/beta present or absent, y == x in place), backward dx
// (accumulating) and dgamma/dbeta (either absent: the wrapper then passes the other pointer with flag
// 0), launch shapes exactly as GpuLayerNorm (rows blocks of rowThreads(d); params: ceil(d/tile) blocks
// of tile x 1024/tile with tile 8, or 32 from d >= 2048), unaligned offsets and padded leading dims.
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

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  std::vector<std::pair<int, int>> shapes = quick ? std::vector<std::pair<int, int>>{{1, 1}, {3, 33}, {5, 70}}
      : std::vector<std::pair<int, int>>{{1, 1}, {2, 31}, {3, 32}, {4, 33}, {1, 100}, {130, 9}, {3, 513}, {2, 1021}, {2, 2050}};
  for (auto [rows, d] : shapes)
    for (int v = 0; v < 4; v++) run(rows, d, v & 1, v & 2, false);
  for (auto [rows, d] : shapes) run(rows, d, true, true, true);
  return h::finish("layernorm");
}

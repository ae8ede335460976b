// native/emu/softmax_ce_emu.cpp — runs softmax_ce.cu
// on the emulator against double references from SoftmaxCeScalar: forward (partial + combine) with one
// split and with several (tilesPerSplit as GpuSoftmaxCe.split, including a split count that leaves the
// last split short), backward dU (S = 1 straight into du; S > 1 into the workspace + du_reduce) and dI
// (item-tile-major), rowsInPlace (with/without gradScale, the target at column 0 and n-1, -inf logits),
// sampled (empty negative lists, negScale 0, rowScale). Shapes cross the 64-row/item tiles and 16-k
// steps (m, n, d = 1, 63, 64, 65, 130...), padded lds and offsets.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/softmax_ce_emu native/emu/softmax_ce_emu.cpp
#include "cuda_shim.h"
#include "../softmax_ce.cu"
#include "harness.h"

static h::Out vecOut(long long n, float init) { h::Out o(2, 1, n, n); for (long long i = 0; i < n; i++) o.at(0, i) = init; return o; }

static void run(int m, int n, int d, float scale, int wantSplits) {
  char tag[96];
  const int tiles = (n + 63) / 64;
  const int per = (tiles + wantSplits - 1) / wantSplits, S = tiles == 0 ? 1 : (tiles + per - 1) / per;
  snprintf(tag, sizeof tag, "m=%d n=%d d=%d scale=%g splits=%d", m, n, d, scale, S);
  const int ldu = d + 1, ldi = d + 3;
  std::vector<float> U = h::randn(2 + (long long)(m - 1) * ldu + d), I = h::randn(1 + (long long)(n - 1) * ldi + d);
  const float* Up = U.data() + 2; const float* Ip = I.data() + 1;
  std::vector<int> target(m);
  for (int r = 0; r < m; r++) target[r] = r == 0 ? 0 : r == 1 ? n - 1 : h::randint(0, n - 1);
  std::vector<float> z((size_t)m * n);
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int k = 0; k < d; k++) s += (double)Up[(long long)r * ldu + k] * Ip[(long long)j * ldi + k];
      z[(size_t)r * n + j] = (float)(scale * s);
    }
  // forward
  std::vector<double> rl(m), rlse(m);
  for (int r = 0; r < m; r++) {
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) mx = std::max(mx, (double)z[(size_t)r * n + j]);
    for (int j = 0; j < n; j++) sum += std::exp(z[(size_t)r * n + j] - mx);
    rlse[r] = mx + std::log(sum);
    rl[r] = rlse[r] - z[(size_t)r * n + target[r]];
  }
  h::Out loss = vecOut(m, h::SENT), lse = vecOut(m, h::SENT);
  std::vector<float> ws((size_t)2 * S * m, NAN);
  launch(dim3((m + 63) / 64, S), dim3(256), 0, [&] { kdrec_softmax_ce_forward_partial(m, n, d, Up, ldu, Ip, ldi, scale, per, ws.data()); });
  h::launch1d(m, 128, [&] { kdrec_softmax_ce_forward_combine(m, d, Up, ldu, Ip, ldi, scale, target.data(), S, ws.data(), loss.p(), lse.p()); });
  h::check(std::string("forward loss ") + tag, loss, rl);
  h::check(std::string("forward lse  ") + tag, lse, rlse);
  // backward from the reference lse (rounded to float as the forward stores it)
  std::vector<float> lsef(m), gLoss = h::randn(m);
  for (int r = 0; r < m; r++) lsef[r] = (float)rlse[r];
  const int lddu = d + 2, lddi = d + 5;
  h::Out du(1, m, d, lddu), di(3, n, d, lddi);
  std::vector<double> rdu((size_t)m * d), rdi((size_t)n * d);
  for (int r = 0; r < m; r++) for (int k = 0; k < d; k++) du.at(r, k) = rdu[(size_t)r * d + k] = 0.01f * k;
  for (int j = 0; j < n; j++) for (int k = 0; k < d; k++) di.at(j, k) = rdi[(size_t)j * d + k] = -0.02f * j;
  for (int r = 0; r < m; r++)
    for (int j = 0; j < n; j++) {
      double g = gLoss[r] * (double)scale * (std::exp(z[(size_t)r * n + j] - (double)lsef[r]) - (j == target[r] ? 1 : 0));
      for (int k = 0; k < d; k++) {
        rdu[(size_t)r * d + k] += g * Ip[(long long)j * ldi + k];
        rdi[(size_t)j * d + k] += g * Up[(long long)r * ldu + k];
      }
    }
  const int chunks = (d + 63) / 64;
  if (S == 1) {
    launch(dim3((m + 63) / 64, chunks), dim3(256), 0, [&] {
      kdrec_softmax_ce_backward_du(m, n, d, Up, ldu, Ip, ldi, scale, target.data(), lsef.data(), gLoss.data(), per, du.p(), lddu, 0, 1);
    });
  } else {
    std::vector<float> wsd((size_t)S * m * d, NAN);
    launch(dim3((m + 63) / 64, S * chunks), dim3(256), 0, [&] {
      kdrec_softmax_ce_backward_du(m, n, d, Up, ldu, Ip, ldi, scale, target.data(), lsef.data(), gLoss.data(), per, wsd.data(), d,
                                   (long long)m * d, 0);
    });
    h::launch1d((long long)m * d, 256, [&] { kdrec_softmax_ce_backward_du_reduce(m, d, S, wsd.data(), du.p(), lddu); });
  }
  launch(dim3((n + 63) / 64, chunks), dim3(256), 0, [&] {
    kdrec_softmax_ce_backward_di(m, n, d, Up, ldu, Ip, ldi, scale, target.data(), lsef.data(), gLoss.data(), di.p(), lddi);
  });
  h::check(std::string("backward du  ") + tag, du, rdu);
  h::check(std::string("backward di  ") + tag, di, rdi);
  // rowsInPlace on the reference logits z, ld = n + 3, with some -inf
  for (int hasGs = 0; hasGs < 2; hasGs++) {
    const int ld = n + 3;
    h::Out x(4, m, n, ld), l2 = vecOut(m, h::SENT);
    std::vector<float> gs = h::randn(m);
    for (int r = 0; r < m; r++) for (int j = 0; j < n; j++) x.at(r, j) = (j % 7 == 5 && j != target[r]) ? -INFINITY : z[(size_t)r * n + j];
    std::vector<double> rg((size_t)m * n), rl2(m);
    for (int r = 0; r < m; r++) {
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < n; j++) mx = std::max(mx, (double)x.at(r, j));
      for (int j = 0; j < n; j++) sum += std::exp(x.at(r, j) - mx);
      double ls = mx + std::log(sum);
      rl2[r] = ls - x.at(r, target[r]);
      for (int j = 0; j < n; j++) rg[(size_t)r * n + j] = (float)((hasGs ? gs[r] : 1.0) * (std::exp(x.at(r, j) - ls) - (j == target[r] ? 1 : 0)));
    }
    launch(dim3(std::min<unsigned>(m, h::grid_cap())), dim3(256), 0, [&] {
      kdrec_softmax_ce_rows_in_place(m, n, x.p(), ld, target.data(), gs.data(), hasGs, l2.p());
    });
    h::check(std::string("rowsInPlace loss gs=") + std::to_string(hasGs) + " " + tag, l2, rl2);
    h::check(std::string("rowsInPlace grad gs=") + std::to_string(hasGs) + " " + tag, x, rg);
  }
}

static void sampled(int m, float negScale, bool hasRs) {
  char tag[64];
  snprintf(tag, sizeof tag, "m=%d negScale=%g rowScale=%d", m, negScale, hasRs);
  static const int lens[] = {0, 1, 31, 32, 33, 100, 7};
  std::vector<int> ptr(m + 1);
  ptr[0] = 2;
  for (int r = 0; r < m; r++) ptr[r + 1] = ptr[r] + lens[r % 7];
  int nn = ptr[m];
  std::vector<float> pos = h::randn(m, 2.f), neg = h::randn(nn, 2.f), rs = h::randn(m);
  h::Out loss = vecOut(m, h::SENT), gPos = vecOut(m, h::SENT), gNeg = vecOut(nn, h::SENT);
  std::vector<double> rl(m), rp(m), rn(nn, h::SENT);
  for (int r = 0; r < m; r++) {
    double mx = pos[r], sn = 0;
    for (int j = ptr[r]; j < ptr[r + 1]; j++) mx = std::max(mx, (double)neg[j]);
    for (int j = ptr[r]; j < ptr[r + 1]; j++) sn += std::exp(neg[j] - mx);
    double ep = std::exp(pos[r] - mx), zz = ep + negScale * sn, s = hasRs ? rs[r] : 1;
    rl[r] = mx + std::log(zz) - pos[r];
    rp[r] = s * (ep / zz - 1);
    for (int j = ptr[r]; j < ptr[r + 1]; j++) rn[j] = s * negScale * std::exp(neg[j] - mx) / zz;
  }
  launch(dim3((unsigned)std::min<long long>((m + 7) / 8, h::grid_cap())), dim3(256), 0, [&] {
    kdrec_softmax_ce_sampled(m, pos.data(), ptr.data(), neg.data(), negScale, rs.data(), hasRs, loss.p(), gPos.p(), gNeg.p());
  });
  // loss is ~0 when negScale = 0: compare absolutely there (norm-wise relative to 0 is meaningless)
  double worst = 0;
  for (int r = 0; r < m; r++) worst = std::max(worst, std::fabs(loss.at(0, r) - rl[r]));
  if (negScale == 0) h::report(worst <= 1e-6, "sampled loss (abs %.3g) %s", worst, tag);
  else h::check(std::string("sampled loss ") + tag, loss, rl);
  h::check(std::string("sampled gPos ") + tag, gPos, rp);
  h::check(std::string("sampled gNeg ") + tag, gNeg, rn);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  struct S { int m, n, d, splits; };
  std::vector<S> shapes = quick ? std::vector<S>{{3, 5, 17, 1}, {65, 130, 20, 2}}
      : std::vector<S>{{1, 1, 1, 1}, {2, 3, 16, 1}, {63, 64, 65, 1}, {64, 65, 64, 2}, {65, 200, 33, 3}, {70, 257, 130, 2}, {5, 130, 8, 4}, {3, 70, 0, 2}};  // d = 0: tile_dot has no barriers
  for (auto s : shapes) run(s.m, s.n, s.d, s.m % 2 ? 1.f : 0.5f, s.splits);
  for (int m : quick ? std::vector<int>{0, 9} : std::vector<int>{0, 1, 9, 40})
    for (float ns : {1.f, 0.f, 3.5f}) sampled(m, ns, ns != 1.f);
  return h::finish("softmax_ce");
}

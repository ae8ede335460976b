// native/emu/adam_emu.cpp — runs native/adam.cu on the emulator against AdamScalar.element transliterated
// in float (Java's float ops are IEEE single, as this build's: -ffp-contract=off, no FMA), so the
// kernel must be bit-identical, plus a double-precision reference as a sanity bound. step (dense, long
// n, unaligned views), stepRows (row subset in scrambled order, padded ldp/ldg; untouched rows must
// stay bit-identical) and markRows + stepMarked (the device training's lazy Adam: ids repeated, only
// marked rows move), with and without weight decay, beta1 giving both lerp branches (|1-beta1| < 0.5
// and >= 0.5), several t. Hyper-parameters derived as GpuAdam.launchArgs / AdamSimd.Hyper.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/adam_emu native/emu/adam_emu.cpp
#include "cuda_shim.h"
#include "../adam.cu"
#include "harness.h"
#include <algorithm>

struct Hyper { float wd, w; int small; float beta2, omb2, bc2sqrt, eps, negStep; };
static Hyper hyper(float lr, float beta1, float beta2, float eps, float wd, int t) {
  float w = (float)(1.0 - beta1);
  return {wd, w, std::fabs(w) < 0.5f, beta2, (float)(1.0 - beta2), (float)std::sqrt(1.0 - std::pow(beta2, t)), eps,
          (float)-(lr / (1.0 - std::pow(beta1, t)))};
}
// AdamScalar.element, float by float
static void element(const Hyper& h, float& p, float g, float& m, float& v) {
  float pe = p, ge = g, me = m, ve = v;
  if (h.wd != 0.f) ge = ge + h.wd * pe;
  me = h.small ? me + h.w * (ge - me) : ge - (ge - me) * (1.f - h.w);
  ve = ve * h.beta2 + h.omb2 * ge * ge;
  float denom = (float)std::sqrt((double)ve) / h.bc2sqrt + h.eps;
  m = me; v = ve;
  p = pe + h.negStep * me / denom;
}

static void run(long long n, int d, float beta1, float wd, int t, unsigned block) {
  char tag[128];
  snprintf(tag, sizeof tag, "n=%lld d=%d beta1=%g wd=%g t=%d block=%u", n, d, beta1, wd, t, block);
  Hyper hp = hyper(1e-3f, beta1, 0.999f, 1e-8f, wd, t);
  if (d == 0) {  // dense step
    h::Out p(3, 1, n, n), m(1, 1, n, n), v(2, 1, n, n);
    std::vector<float> g = h::randn(5 + n);
    for (long long i = 0; i < n; i++) { p.at(0, i) = h::randn(1)[0]; m.at(0, i) = 0.1f * h::randn(1)[0]; v.at(0, i) = std::fabs(h::randn(1)[0]) * 0.01f; }
    std::vector<float> P(n), M(n), V(n);
    for (long long i = 0; i < n; i++) { P[i] = p.at(0, i); M[i] = m.at(0, i); V[i] = v.at(0, i); element(hp, P[i], g[5 + i], M[i], V[i]); }
    h::launch1d(n, block, [&] {
      kdrec_adam_step(n, p.p(), g.data() + 5, m.p(), v.p(), hp.wd, hp.w, hp.small, hp.beta2, hp.omb2, hp.bc2sqrt, hp.eps, hp.negStep);
    });
    if (n == 0) return;
    h::check(std::string("step p ") + tag, p, std::vector<double>(P.begin(), P.end()), 0);
    h::check(std::string("step m ") + tag, m, std::vector<double>(M.begin(), M.end()), 0);
    h::check(std::string("step v ") + tag, v, std::vector<double>(V.begin(), V.end()), 0);
    return;
  }
  // stepRows over a table of R rows (ldp), nRows distinct rows in scrambled order
  int R = (int)n + 4, nRows = (int)n, ldp = d + 3, ldg = d + 1;
  std::vector<int> all(R);
  for (int i = 0; i < R; i++) all[i] = i;
  std::shuffle(all.begin(), all.end(), h::rng);
  std::vector<int> rows(all.begin(), all.begin() + nRows);
  h::Out p(2, R, d, ldp), m(2, R, d, ldp), v(2, R, d, ldp);
  std::vector<float> g = h::randn(1 + (nRows > 0 ? (long long)(nRows - 1) * ldg + d : 0));
  for (int r = 0; r < R; r++)
    for (int c = 0; c < d; c++) { p.at(r, c) = h::randn(1)[0]; m.at(r, c) = 0.1f * h::randn(1)[0]; v.at(r, c) = 0.01f * std::fabs(h::randn(1)[0]); }
  std::vector<double> P((size_t)R * d), M(P.size()), V(P.size());
  for (int r = 0; r < R; r++)
    for (int c = 0; c < d; c++) { P[(size_t)r * d + c] = p.at(r, c); M[(size_t)r * d + c] = m.at(r, c); V[(size_t)r * d + c] = v.at(r, c); }
  for (int q = 0; q < nRows; q++)
    for (int c = 0; c < d; c++) {
      size_t i = (size_t)rows[q] * d + c;
      float pf = (float)P[i], mf = (float)M[i], vf = (float)V[i];
      element(hp, pf, g[1 + (long long)q * ldg + c], mf, vf);
      P[i] = pf; M[i] = mf; V[i] = vf;
    }
  // p, m, v share ldp and the kernel gets views at their first element (offset 2 each here)
  if (nRows > 0)
    h::launch1d((long long)nRows * d, block, [&] {
      kdrec_adam_step_rows(nRows, d, rows.data(), p.p(), ldp, g.data() + 1, ldg, m.p(), v.p(), hp.wd, hp.w, hp.small, hp.beta2,
                           hp.omb2, hp.bc2sqrt, hp.eps, hp.negStep);
    });
  h::check(std::string("stepRows p ") + tag, p, P, 0);
  h::check(std::string("stepRows m ") + tag, m, M, 0);
  h::check(std::string("stepRows v ") + tag, v, V, 0);
}

// Lazy Adam on marked rows: two marking launches with repeated ids, then step_marked over the whole
// n_rows x d table; marked rows must equal the float reference bit for bit, the others stay untouched.
static void runMarked(int R, int d, float beta1, float wd, int t, unsigned block) {
  char tag[128];
  snprintf(tag, sizeof tag, "rows=%d d=%d beta1=%g wd=%g t=%d block=%u", R, d, beta1, wd, t, block);
  Hyper hp = hyper(1e-3f, beta1, 0.999f, 1e-8f, wd, t);
  std::vector<int> a(R / 3 + 1), b(3), flags(R, 0);
  for (auto& x : a) x = h::randint(0, R - 1);
  for (auto& x : b) x = h::randint(0, R - 1);
  h::Out p(0, R, d, d), m(0, R, d, d), v(0, R, d, d);
  std::vector<float> g = h::randn((size_t)R * d);
  for (int r = 0; r < R; r++)
    for (int c = 0; c < d; c++) { p.at(r, c) = h::randn(1)[0]; m.at(r, c) = 0.1f * h::randn(1)[0]; v.at(r, c) = 0.01f * std::fabs(h::randn(1)[0]); }
  std::vector<bool> marked(R, false);
  for (int x : a) marked[x] = true;
  for (int x : b) marked[x] = true;
  std::vector<double> P((size_t)R * d), M(P.size()), V(P.size());
  for (int r = 0; r < R; r++)
    for (int c = 0; c < d; c++) {
      size_t i = (size_t)r * d + c;
      float pf = p.at(r, c), mf = m.at(r, c), vf = v.at(r, c);
      if (marked[r]) element(hp, pf, g[i], mf, vf);
      P[i] = pf; M[i] = mf; V[i] = vf;
    }
  h::launch1d((long long)a.size(), block, [&] { kdrec_adam_mark_rows((int)a.size(), a.data(), flags.data()); });
  h::launch1d((long long)b.size(), block, [&] { kdrec_adam_mark_rows((int)b.size(), b.data(), flags.data()); });
  h::launch1d((long long)R * d, block, [&] {
    kdrec_adam_step_marked(R, d, flags.data(), p.p(), g.data(), m.p(), v.p(), hp.wd, hp.w, hp.small, hp.beta2, hp.omb2, hp.bc2sqrt,
                           hp.eps, hp.negStep);
  });
  int wrongFlags = 0;
  for (int r = 0; r < R; r++) wrongFlags += (flags[r] != 0) != marked[r];
  h::report(wrongFlags == 0, "markRows flags %s (%d wrong)", tag, wrongFlags);
  h::check(std::string("stepMarked p ") + tag, p, P, 0);
  h::check(std::string("stepMarked m ") + tag, m, M, 0);
  h::check(std::string("stepMarked v ") + tag, v, V, 0);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  std::vector<long long> ns = quick ? std::vector<long long>{0, 33} : std::vector<long long>{0, 1, 31, 32, 33, 1021, 5000};
  for (long long n : ns)
    for (float beta1 : {0.9f, 0.3f})
      for (float wd : {0.f, 0.01f})
        for (int t : {1, 7}) {
          run(n, 0, beta1, wd, t, n > 1000 ? 256u : 64u);
          if (n <= 1021) for (int d : {1, 33}) run(std::min<long long>(n, 40), d, beta1, wd, t, 64u);
          if (n > 0 && n <= 1021) for (int d : {1, 20}) runMarked((int)std::min<long long>(n, 200), d, beta1, wd, t, 64u);
        }
  return h::finish("adam");
}

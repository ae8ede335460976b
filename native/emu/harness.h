// native/emu/harness.h — helpers shared by the <family>_emu.cpp harnesses: seeded inputs, output
// buffers whose untouched elements (offset gaps, leading-dim gaps, a tail) must keep their sentinel,
// the norm-wise relative error of GpuAssert (||got - ref|| / ||ref|| <= tol), and launch1d as
// Cuda.launch1d does it but with a small grid cap (EMU_GRID_CAP, default 3) so grid-stride loops run
// several rounds. Input buffers are allocated to their exact size, so -fsanitize=address catches a
// kernel reading past them.
#pragma once
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace h {

inline int fails = 0, checks = 0;
inline const float SENT = -777.25f;  // a value no kernel writes by accident
inline std::mt19937_64 rng(12345);

inline std::vector<float> randn(size_t n, float scale = 1.f) {
  std::normal_distribution<float> nd(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}
inline int randint(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }  // inclusive

inline unsigned grid_cap() {
  static unsigned c = std::getenv("EMU_GRID_CAP") ? (unsigned)std::atoi(std::getenv("EMU_GRID_CAP")) : 3u;
  return c;
}
// Cuda.launch1d with the grid capped at grid_cap() instead of 65536 (n <= 0: no launch).
template <class F> inline void launch1d(long long n, unsigned block, F body) {
  if (n <= 0) return;
  long long g = (n + block - 1) / block;
  launch(dim3((unsigned)std::min<long long>(g, grid_cap())), dim3(block), 0, body);
}

// An output operand: `rows` x `d` at element `off`, leading dim `ld`, plus `tail` sentinel elements.
// Everything except the rows' first d elements starts (and must stay) SENT; the rows' elements start
// as `init` (a value a kernel with beta != 0 reads) or SENT.
struct Out {
  std::vector<float> buf;
  long long off, rows, d, ld;
  Out(long long off_, long long rows_, long long d_, long long ld_, long long tail = 7)
      : buf(off_ + (rows_ > 0 ? (rows_ - 1) * ld_ + d_ : 0) + tail, SENT), off(off_), rows(rows_), d(d_), ld(ld_) {}
  float* p() { return buf.data() + off; }
  float& at(long long r, long long c) { return buf[off + r * ld + c]; }
  bool inside(long long i) const {
    long long k = i - off;
    return k >= 0 && rows > 0 && k < (rows - 1) * ld + d && (k % ld) < d;
  }
};

inline bool report(bool ok, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
inline bool report(bool ok, const char* fmt, ...) {
  checks++;
  if (!ok) fails++;
  if (!ok || std::getenv("EMU_VERBOSE")) {
    va_list ap;
    va_start(ap, fmt);
    std::printf("%s ", ok ? "ok  " : "FAIL");
    std::vprintf(fmt, ap);
    std::printf("\n");
    va_end(ap);
  }
  return ok;
}

// Compares the rows of `o` against ref (rows x d, row-major) norm-wise, and checks that nothing else in
// o.buf changed (stray writes). tol = 0 demands bit equality.
inline bool check(const std::string& what, Out& o, const std::vector<double>& ref, double tol = 1e-5) {
  double num = 0, den = 0, worst = 0;
  long long worstAt = -1, nan = 0;
  for (long long r = 0; r < o.rows; r++)
    for (long long c = 0; c < o.d; c++) {
      double g = o.at(r, c), e = ref[r * o.d + c];
      if (std::isnan(g) != std::isnan(e)) nan++;
      if (std::isnan(e)) continue;
      double df = g == e ? 0.0 : g - e;  // equal infinities are no error
      if (std::isinf(e) && !(g == e)) nan++;
      if (!std::isinf(e)) { num += df * df; den += e * e; }
      if (std::fabs(df) > worst || std::isnan(df)) { worst = std::fabs(df); worstAt = r * o.d + c; }
      if (tol == 0) {  // exact: the float bits (so -0 vs +0 counts)
        const float ef = (float)e, gf = (float)g;
        if (std::memcmp(&ef, &gf, 4) != 0) { nan++; if (worstAt < 0 || worst == 0) worstAt = r * o.d + c; }
      }
    }
  long long stray = 0, firstStray = -1;
  for (long long i = 0; i < (long long)o.buf.size(); i++)
    if (!o.inside(i) && std::memcmp(&o.buf[i], &SENT, 4) != 0) { if (!stray) firstStray = i; stray++; }
  double rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  bool ok = nan == 0 && stray == 0 && rel <= tol;
  report(ok, "%s rel=%.3g%s%s", what.c_str(), rel,
         nan ? (" mismatches(nan/bits)=" + std::to_string(nan)).c_str() : "",
         stray ? (" STRAY WRITES=" + std::to_string(stray) + " first at buf[" + std::to_string(firstStray) + "]").c_str() : "");
  if (!ok && worstAt >= 0)
    std::printf("     worst at row %lld col %lld: got %.9g want %.9g\n", worstAt / std::max<long long>(o.d, 1),
                worstAt % std::max<long long>(o.d, 1), o.at(worstAt / o.d, worstAt % o.d), ref[worstAt]);
  return ok;
}

inline int finish(const char* family) {
  if (emu::errors) {
    std::printf("FAIL %ld emulator errors (see stderr)\n", emu::errors.load());
    fails++;
  }
  std::printf("%s %s: %d checks, %d failures\n", fails ? "FAIL" : "ok  ", family, checks, fails);
  return fails != 0;
}

}  // namespace h

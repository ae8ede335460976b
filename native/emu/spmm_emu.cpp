// native/emu/spmm_emu.cpp — runs native/spmm.cu on the emulator against a double reference written
// from kdrec.cpu.SpmmScalar: spmm (gather), spmmRows (rows with repeats), spmmT over a host transpose
// (gather with perm, as GpuSpmm.Transpose) and spmmT by scale + scatter atomics; val null (pattern) or
// not; beta 0 (Y holds NaN: must not be read) and beta != 0; d around every group width and the
// CHUNKS*G pass boundary; empty rows, rows longer than a group (several shuffle batches), unaligned
// offsets and padded leading dims; launch configs as GpuSpmm (block 256, group by d), grid capped.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/spmm_emu native/emu/spmm_emu.cpp
#include "cuda_shim.h"
#include "../spmm.cu"
#include "harness.h"

static int group(int d) { return d <= 8 ? 8 : d <= 16 ? 16 : 32; }

struct Csr { int m, n; std::vector<int> ptr, col; std::vector<float> val; };
static Csr random_csr(int m, int n) {
  Csr a{m, n, std::vector<int>(m + 1), {}, {}};
  for (int i = 0; i < m; i++) {
    int len = n == 0 ? 0 : (i % 5 == 3 ? 0 : i % 7 == 2 ? h::randint(33, 80) : h::randint(0, 12));
    for (int k = 0; k < len; k++) a.col.push_back(h::randint(0, n - 1));
    a.ptr[i + 1] = (int)a.col.size();
  }
  a.val = h::randn(a.col.size());
  if (a.col.empty()) { a.col.shrink_to_fit(); a.val.shrink_to_fit(); }
  return a;
}

static void gather(int nOut, int d, const int* rows, const int* ptr, const int* col, const float* val, const int* perm,
                   const float* x, int ldx, float beta, float* y, int ldy, unsigned block) {
  int g = group(d);
  h::launch1d((long long)nOut * g, block, [&] {
    if (g == 8) kdrec_spmm_gather_g8(nOut, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
    else if (g == 16) kdrec_spmm_gather_g16(nOut, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
    else kdrec_spmm_gather_g32(nOut, d, rows, ptr, col, val, perm, x, ldx, beta, y, ldy);
  });
}

static void run(int m, int n, int d, bool withVal, float beta, unsigned block) {
  Csr a = random_csr(m, n);
  const float* val = withVal ? a.val.data() : nullptr;
  auto v = [&](int k) { return withVal ? (double)a.val[k] : 1.0; };
  const int xOff = 3, ldx = d + 5, yOff = 1, ldy = d + 2;
  char tag[160];
  snprintf(tag, sizeof tag, "m=%d n=%d d=%d val=%d beta=%g block=%u", m, n, d, withVal, beta, block);
  // X for spmm: n x d ; exact size so ASan sees over-reads
  std::vector<float> xn = h::randn(xOff + (n > 0 ? (long long)(n - 1) * ldx + d : 0));
  std::vector<float> xm = h::randn(xOff + (m > 0 ? (long long)(m - 1) * ldx + d : 0));
  auto prepY = [&](h::Out& y) {
    for (long long r = 0; r < y.rows; r++)
      for (long long c = 0; c < y.d; c++) y.at(r, c) = beta == 0 ? NAN : (float)(0.25 * (r % 7) - 0.5 + 0.01 * c);
  };
  auto yold = [&](h::Out& y, long long r, long long c) { return beta == 0 ? 0.0 : (double)beta * y.at(r, c); };
  // spmm
  if (m > 0 && d > 0) {
    h::Out y(yOff, m, d, ldy);
    prepY(y);
    std::vector<double> ref((size_t)m * d), bits((size_t)m * d);
    for (int i = 0; i < m; i++)
      for (int c = 0; c < d; c++) {
        double s = 0;
        float acc = 0.f;  // the kernel's float order: fmas in storage order from 0, then beta's fma
        for (int k = a.ptr[i]; k < a.ptr[i + 1]; k++) {
          s += v(k) * xn[xOff + (long long)a.col[k] * ldx + c];
          acc = std::fmaf(withVal ? a.val[k] : 1.f, xn[xOff + (long long)a.col[k] * ldx + c], acc);
        }
        ref[(size_t)i * d + c] = s + yold(y, i, c);
        bits[(size_t)i * d + c] = beta == 0 ? acc : std::fmaf(beta, y.at(i, c), acc);
      }
    gather(m, d, nullptr, a.ptr.data(), a.col.data(), val, nullptr, xn.data() + xOff, ldx, beta, y.p(), ldy, block);
    h::check(std::string("spmm     ") + tag, y, ref);
    h::check(std::string("spmm bits ") + tag, y, bits, 0);
  }
  // spmmRows: rows with repeats and reversed order
  if (m > 0 && d > 0) {
    int nr = m + 2;
    std::vector<int> rows(nr);
    for (int t = 0; t < nr; t++) rows[t] = t < 2 ? m - 1 : h::randint(0, m - 1);
    h::Out y(yOff + 2, nr, d, ldy);
    prepY(y);
    std::vector<double> ref((size_t)nr * d);
    for (int t = 0; t < nr; t++)
      for (int c = 0; c < d; c++) {
        double s = 0;
        int i = rows[t];
        for (int k = a.ptr[i]; k < a.ptr[i + 1]; k++) s += v(k) * xn[xOff + (long long)a.col[k] * ldx + c];
        ref[(size_t)t * d + c] = s + yold(y, t, c);
      }
    gather(nr, d, rows.data(), a.ptr.data(), a.col.data(), val, nullptr, xn.data() + xOff, ldx, beta, y.p(), ldy, block);
    h::check(std::string("spmmRows ") + tag, y, ref);
  }
  // spmmT reference: Y (n x d) = A^T X(m x d) + beta Y
  if (n > 0 && d > 0) {
    for (int path = 0; path < 2; path++) {
      h::Out y(yOff, n, d, ldy);
      prepY(y);
      std::vector<double> ref((size_t)n * d);
      for (int j = 0; j < n; j++)
        for (int c = 0; c < d; c++) ref[(size_t)j * d + c] = yold(y, j, c);
      for (int i = 0; i < m; i++)
        for (int k = a.ptr[i]; k < a.ptr[i + 1]; k++)
          for (int c = 0; c < d; c++) ref[(size_t)a.col[k] * d + c] += v(k) * xm[xOff + (long long)i * ldx + c];
      if (path == 0) {
        // host transpose as GpuSpmm.Transpose.of: stable by source row, src = entry index
        int nnz = a.ptr[m];
        std::vector<int> tptr(n + 1), trow(std::max(nnz, 0)), tsrc(std::max(nnz, 0)), fill(n);
        for (int k = 0; k < nnz; k++) tptr[a.col[k] + 1]++;
        for (int j = 0; j < n; j++) tptr[j + 1] += tptr[j];
        for (int i = 0; i < m; i++)
          for (int k = a.ptr[i]; k < a.ptr[i + 1]; k++) { int p = tptr[a.col[k]] + fill[a.col[k]]++; trow[p] = i; tsrc[p] = k; }
        gather(n, d, nullptr, tptr.data(), trow.data(), val, withVal ? tsrc.data() : nullptr, xm.data() + xOff, ldx, beta,
               y.p(), ldy, block);
        h::check(std::string("spmmT/tr ") + tag, y, ref);
      } else {
        int g = group(d);
        h::launch1d((long long)n * d, block, [&] { kdrec_spmm_scale(n, d, beta, y.p(), ldy); });
        h::launch1d((long long)m * g, block, [&] {
          if (g == 8) kdrec_spmm_scatter_atomic_g8(m, d, a.ptr.data(), a.col.data(), val, xm.data() + xOff, ldx, y.p(), ldy);
          else if (g == 16) kdrec_spmm_scatter_atomic_g16(m, d, a.ptr.data(), a.col.data(), val, xm.data() + xOff, ldx, y.p(), ldy);
          else kdrec_spmm_scatter_atomic_g32(m, d, a.ptr.data(), a.col.data(), val, xm.data() + xOff, ldx, y.p(), ldy);
        });
        h::check(std::string("spmmT/at ") + tag, y, ref);
      }
    }
  }
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";  // the TSan/ASan runs
  std::vector<int> ds = quick ? std::vector<int>{1, 9, 33, 129} : std::vector<int>{0, 1, 7, 8, 9, 16, 17, 31, 32, 33, 128, 129, 300};
  std::vector<std::pair<int, int>> mn = quick ? std::vector<std::pair<int, int>>{{0, 3}, {5, 0}, {13, 11}}
                                              : std::vector<std::pair<int, int>>{{0, 4}, {4, 0}, {1, 1}, {31, 17}, {33, 40}, {67, 29}};
  for (auto [m, n] : mn)
    for (int d : ds)
      for (int wv = 0; wv < 2; wv++)
        run(m, n, d, wv, wv ? 0.5f : 0.f, (d == 300 || m == 67) ? 256u : 64u);  // 256 = GpuSpmm's block
  return h::finish("spmm");
}

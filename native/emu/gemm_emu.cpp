// native/emu/gemm_emu.cpp — runs gemm.cu on
// the emulator against GemmScalar's contract in double: NN, NT, TN; m, n across the 128 tile (1, 127,
// 128, 129, 200) and k across the 8-slab (0, 1, 7, 8, 9, 33); 16-byte aligned operands with ld % 4 == 0
// (the float4 paths) and misaligned ones (offset 1, odd ld: the scalar fallbacks); beta = 0 with C
// full of NaN (must not be read) and beta != 0; grid and block as GpuGemm (ceil(n/128) x ceil(m/128), 256).
// Split-K: the *_splitk kernels over z = splits blocks (chunk as GpuGemm.chunk: a multiple of 8, the last
// split short) into a NaN-filled workspace, then kdrec_gemm_splitk_reduce applies alpha/beta. Outputs at
// most 64 wide also through the 128 x 64 tile kernels (*_n64, grid ceil(n/64)), plain and split-K.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/gemm_emu native/emu/gemm_emu.cpp
#include "cuda_shim.h"
#include "../gemm.cu"
#include "harness.h"

// A float buffer whose element `off` is 16-byte aligned when off % 4 == 0.
struct AlignedIn {
  std::vector<float4> store;
  float* base;
  AlignedIn(const std::vector<float>& v) : store((v.size() + 3) / 4 + 1) { base = reinterpret_cast<float*>(store.data()); std::copy(v.begin(), v.end(), base); }
};

// narrow: the 128 x 64 tile kernels (*_n64, GpuGemm's choice for n <= 64) instead of the 128 x 128 ones.
static void run(int layout, int m, int n, int k, bool aligned, float beta, int wantSplits, bool narrow) {
  static const char* names[] = {"NN", "NT", "TN"};
  char tag[112];
  snprintf(tag, sizeof tag, "%s%s m=%d n=%d k=%d aligned=%d beta=%g", names[layout], narrow ? " n64" : "", m, n, k, aligned, beta);
  const unsigned gx = narrow ? (n + 63) / 64 : (n + 127) / 128;
  // op(A) is m x k, op(B) is k x n. Stored: NN: A m x k, B k x n; NT: A m x k, B n x k; TN: A k x m, B k x n.
  const int aRows = layout == 2 ? k : m, aCols = layout == 2 ? m : k;
  const int bRows = layout == 1 ? n : k, bCols = layout == 1 ? k : n;
  const int pad = aligned ? 4 : 1, off = aligned ? 4 : 1;
  const int lda = (aCols + 3) / 4 * 4 + (aligned ? 0 : 1) + (aligned ? 4 : 0), ldb = (bCols + 3) / 4 * 4 + (aligned ? 4 : 3);
  (void)pad;
  std::vector<float> a = h::randn(off + (long long)std::max(aRows - 1, 0) * lda + aCols + 1), b = h::randn(off + (long long)std::max(bRows - 1, 0) * ldb + bCols + 1);
  AlignedIn A(a), B(b);
  const float* Ap = A.base + off; const float* Bp = B.base + off;
  auto opA = [&](int i, int p) { return (double)(layout == 2 ? Ap[(long long)p * lda + i] : Ap[(long long)i * lda + p]); };
  auto opB = [&](int p, int j) { return (double)(layout == 1 ? Bp[(long long)j * ldb + p] : Bp[(long long)p * ldb + j]); };
  const int ldc = aligned ? (n + 3) / 4 * 4 + 4 : n + 1;
  h::Out c(aligned ? 4 : 1, m, n, ldc);
  // Out's buffer is a std::vector<float>: alignment of c.p() follows the allocator (16 on glibc x86-64)
  for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.at(i, j) = beta == 0 ? NAN : 0.01f * (i - j);
  std::vector<double> ref((size_t)m * n);
  const float alpha = 0.75f;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += opA(i, p) * opB(p, j);
      ref[(size_t)i * n + j] = alpha * s + (beta == 0 ? 0.0 : (double)beta * c.at(i, j));
    }
  if (wantSplits == 1) {
    launch(dim3(gx, (m + 127) / 128), dim3(256), 0, [&] {
      auto f = narrow ? (layout == 0 ? kdrec_gemm_nn_n64 : layout == 1 ? kdrec_gemm_nt_n64 : kdrec_gemm_tn_n64)
                      : (layout == 0 ? kdrec_gemm_nn : layout == 1 ? kdrec_gemm_nt : kdrec_gemm_tn);
      f(m, n, k, alpha, Ap, lda, Bp, ldb, beta, c.p(), ldc);
    });
    h::check(std::string("gemm ") + tag, c, ref, k == 0 ? 0 : 1e-5);
    return;
  }
  const int chunk = ((k + wantSplits - 1) / wantSplits + 7) / 8 * 8, splits = (k + chunk - 1) / chunk;
  std::vector<float> w((size_t)splits * m * n, NAN);
  launch(dim3(gx, (m + 127) / 128, splits), dim3(256), 0, [&] {
    auto f = narrow ? (layout == 0 ? kdrec_gemm_nn_n64_splitk : layout == 1 ? kdrec_gemm_nt_n64_splitk : kdrec_gemm_tn_n64_splitk)
                    : (layout == 0 ? kdrec_gemm_nn_splitk : layout == 1 ? kdrec_gemm_nt_splitk : kdrec_gemm_tn_splitk);
    f(m, n, k, Ap, lda, Bp, ldb, w.data(), chunk);
  });
  h::launch1d((long long)m * n, 256, [&] { kdrec_gemm_splitk_reduce(m, n, splits, w.data(), alpha, beta, c.p(), ldc); });
  h::check(std::string("gemm splitK=") + std::to_string(splits) + " chunk=" + std::to_string(chunk) + " " + tag, c, ref, 1e-5);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  struct S { int m, n, k; };
  std::vector<S> shapes = quick ? std::vector<S>{{3, 130, 9}, {129, 5, 17}}
      : std::vector<S>{{1, 1, 1}, {5, 3, 0}, {127, 128, 7}, {128, 129, 8}, {129, 127, 9}, {200, 33, 33}, {31, 200, 1}};
  // every shape through the 128-wide tile, and those at most 64 wide through the narrow one too
  auto both = [](int layout, int m, int n, int k, bool al, float beta, int splits) {
    run(layout, m, n, k, al, beta, splits, false);
    if (n <= 64) run(layout, m, n, k, al, beta, splits, true);
  };
  for (int layout = 0; layout < 3; layout++)
    for (auto s : shapes)
      for (int al = 0; al < 2; al++) both(layout, s.m, s.n, s.k, al, al ? 0.f : 0.5f, 1);
  if (!quick) for (int layout = 0; layout < 3; layout++) both(layout, 129, 131, 12, true, 0.5f, 1), both(layout, 130, 129, 12, false, 0.f, 1);
  for (int layout = 0; layout < 3; layout++) {
    both(layout, 33, 64, 300, true, 0.f, 2);
    both(layout, 7, 129, 301, false, 0.5f, 3);
    if (!quick) both(layout, 130, 5, 260, true, 0.5f, 5), both(layout, 1, 1, 17, false, 0.f, 4);
    // the narrow tile's edges: 63 / 64 wide, odd widths (the float2 B loads' scalar fallback), rows past 128
    both(layout, 131, 63, 37, true, 0.5f, 1);
    if (!quick) both(layout, 257, 64, 40, false, 0.f, 1), both(layout, 140, 61, 64, true, 0.f, 1), both(layout, 3, 64, 900, true, 0.5f, 6);
  }
  return h::finish("gemm");
}

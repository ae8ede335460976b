// native/emu/attention_emu.cpp — runs native/attention.cu on the emulator against a naive double
// reference of the HSTU attention (the chain in kdrec.model.Hstu: qk, relativeBias, silu, scale,
// causalMask, av, and its gradients): forward pre / maps / out, backward dPre / dq / dk / dv (all
// overwritten: they start as garbage) and drab (accumulated into a nonzero table), with launch shapes
// and shared sizes exactly as GpuAttention (row and column tiles of 16, 128 threads; drab n blocks of
// 256), both the shared-memory and the global-memory (useShared = 0) paths, rab tables longer
// than 2n-1, and buffers offset inside larger ones (sentinels around them catch stray writes).
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/attention_emu native/emu/attention_emu.cpp
#define EMU_SHARED_EXTERN  // attention.cu only uses extern __shared__ (defined below), so __shared__ is empty
#include "cuda_shim.h"
namespace kdrec_attn { alignas(16) float smem[48 * 1024 / 4]; }
#include "../attention.cu"
#include "harness.h"

// GpuAttention's shared sizes (bytes).
static size_t rowTileShared(int dh, bool sh) { return 4 * (size_t)(16 * 32 + (sh ? 16 * dh + 32 * (dh + 1) + 32 * dh : 0)); }
static size_t colTileShared(int dh, bool sh) { return 4 * (size_t)(2 * 32 * 16 + (sh ? 2 * 32 * dh : 0)); }
static bool fits(size_t bytes) { return bytes <= 48 * 1024; }

static double silu(double x) { return x / (1.0 + std::exp(-x)); }
static double siluD(double x) { double s = 1.0 / (1.0 + std::exp(-x)); return s * (1.0 + x * (1.0 - s)); }

// forceGlobal: useShared = 0 even where the staging would fit (the fallback path on small shapes).
static void run(int b, int n, int h, int dh, bool forceGlobal) {
  char tag[128];
  const int ld = h * dh, rabLen = 2 * n - 1 + 4, cen = (rabLen - 1) / 2, bh = b * h;
  const long long rowsN = (long long)b * n * ld, mapN = (long long)bh * n * n;
  const bool shR = !forceGlobal && fits(rowTileShared(dh, true)), shC = !forceGlobal && fits(colTileShared(dh, true));
  snprintf(tag, sizeof tag, "b=%d n=%d h=%d dh=%d shared=%d/%d", b, n, h, dh, shR, shC);
  const float scale = 1.f / 7.f;
  std::vector<float> q = h::randn(rowsN, 0.6f), k = h::randn(rowsN, 0.6f), v = h::randn(rowsN), rab = h::randn(rabLen, 0.5f);
  std::vector<float> dOut = h::randn(rowsN);
  auto R = [&](const std::vector<float>& x, long long row, int hh, int c) { return (double)x[row * ld + (long long)hh * dh + c]; };

  // forward reference (double); the kernels' own float pre/maps are what backward reads, as on the GPU.
  std::vector<double> preR(mapN, 0.0), mapsR(mapN, 0.0), outR(rowsN, 0.0);
  for (int r = 0; r < bh; r++) {
    const int s = r / h, hh = r % h;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) {
        double d = 0;
        for (int c = 0; c < dh; c++) d += R(q, (long long)s * n + i, hh, c) * R(k, (long long)s * n + j, hh, c);
        const long long at = ((long long)r * n + i) * n + j;
        preR[at] = d + rab[cen + j - i];
        mapsR[at] = silu(preR[at]) * scale;
        for (int c = 0; c < dh; c++) outR[((long long)s * n + i) * ld + (long long)hh * dh + c] += mapsR[at] * R(v, (long long)s * n + j, hh, c);
      }
  }
  h::Out pre(3, 1, mapN, mapN), maps(1, 1, mapN, mapN), out(2, 1, rowsN, rowsN);
  for (long long e = 0; e < mapN; e++) pre.at(0, e) = maps.at(0, e) = h::SENT;  // overwritten everywhere
  const unsigned tiles = (unsigned)((n + 15) / 16);
  launch(dim3(bh, tiles), dim3(128), rowTileShared(dh, shR), [&] {
    kdrec_attention_forward(n, h, dh, ld, q.data(), k.data(), v.data(), rab.data(), cen, scale, pre.p(), maps.p(), out.p(), shR);
  });
  h::check(std::string("forward pre  ") + tag, pre, preR, 1e-5);
  h::check(std::string("forward maps ") + tag, maps, mapsR, 1e-5);
  h::check(std::string("forward out  ") + tag, out, outR, 1e-5);

  // backward reference from the kernels' pre and maps (as the CPU backward uses its own forward's values).
  std::vector<double> dPreR(mapN, 0.0), dqR(rowsN, 0.0), dkR(rowsN, 0.0), dvR(rowsN, 0.0), drabR(rabLen);
  std::vector<float> drab0 = h::randn(rabLen);
  for (int e = 0; e < rabLen; e++) drabR[e] = drab0[e];
  std::vector<double> drabAcc(rabLen, 0.0);
  for (int r = 0; r < bh; r++) {
    const int s = r / h, hh = r % h;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) {
        const long long at = ((long long)r * n + i) * n + j;
        const long long ri = (long long)s * n + i, rj = (long long)s * n + j;
        double dA = 0;
        for (int c = 0; c < dh; c++) dA += R(dOut, ri, hh, c) * R(v, rj, hh, c);
        const double dp = dA * scale * siluD(pre.at(0, at));
        dPreR[at] = dp;
        drabAcc[cen + j - i] += dp;
        for (int c = 0; c < dh; c++) {
          const long long oi = ri * ld + (long long)hh * dh + c, oj = rj * ld + (long long)hh * dh + c;
          dqR[oi] += dp * k[oj];
          dkR[oj] += dp * q[oi];
          dvR[oj] += (double)maps.at(0, at) * dOut[oi];
        }
      }
  }
  for (int e = 0; e < rabLen; e++) drabR[e] += drabAcc[e];
  h::Out dPre(1, 1, mapN, mapN), dq(2, 1, rowsN, rowsN), dk(3, 1, rowsN, rowsN), dv(4, 1, rowsN, rowsN), drab(5, 1, rabLen, rabLen);
  for (long long e = 0; e < mapN; e++) dPre.at(0, e) = 123.f;
  for (long long e = 0; e < rowsN; e++) dq.at(0, e) = dk.at(0, e) = dv.at(0, e) = 55.f;  // overwritten, not accumulated
  for (int e = 0; e < rabLen; e++) drab.at(0, e) = drab0[e];
  launch(dim3(bh, tiles), dim3(128), rowTileShared(dh, shR), [&] {
    kdrec_attention_backward_dq(n, h, dh, ld, dOut.data(), v.data(), k.data(), pre.p(), scale, dPre.p(), dq.p(), shR);
  });
  launch(dim3(bh, tiles), dim3(128), colTileShared(dh, shC), [&] {
    kdrec_attention_backward_dkv(n, h, dh, ld, q.data(), dOut.data(), maps.p(), dPre.p(), dk.p(), dv.p(), shC);
  });
  launch(dim3(n), dim3(256), 8 * sizeof(double), [&] {
    kdrec_attention_backward_rab(bh, n, dPre.p(), cen, drab.p());
  });
  h::check(std::string("backward dPre ") + tag, dPre, dPreR, 1e-5);
  h::check(std::string("backward dq   ") + tag, dq, dqR, 1e-5);
  h::check(std::string("backward dk   ") + tag, dk, dkR, 1e-5);
  h::check(std::string("backward dv   ") + tag, dv, dvR, 1e-5);
  h::check(std::string("backward drab ") + tag, drab, drabR, 1e-5);
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "quick";
  std::vector<int> ns = quick ? std::vector<int>{1, 7, 33} : std::vector<int>{1, 2, 7, 33, 64, 130};
  std::vector<int> dhs = quick ? std::vector<int>{1, 16} : std::vector<int>{1, 3, 16, 40};
  std::vector<int> hs = quick ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 3};
  std::vector<int> bs = quick ? std::vector<int>{1} : std::vector<int>{1, 3};
  for (int n : ns)
    for (int dh : dhs)
      for (int hh : hs)
        for (int b : bs) run(b, n, hh, dh, false);
  // The global-memory path: forced on small shapes, and natural for wide heads (dh > ~150).
  run(2, 33, 2, 16, true);
  run(1, 7, 1, 3, true);
  if (!quick) {
    run(1, 40, 1, 200, false);
    run(1, 20, 2, 256, false);
    run(1, 70, 1, 160, false);  // shared row tiles no, shared column tiles yes
  }
  return h::finish("attention");
}

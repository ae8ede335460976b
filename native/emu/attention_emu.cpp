// native/emu/attention_emu.cpp — runs native/attention.cu on the emulator against a naive double
// reference of the HSTU attention (the chain in kdrec.model.Hstu: qk, relativeBias, silu, scale,
// causalMask, av, and its gradients): forward pre / maps / out, backward dPre / dq / dk / dv (all
// overwritten: they start as garbage) and drab (accumulated into a nonzero table), with launch shapes
// and shared sizes exactly as GpuAttention (row and column tiles of 16, 128 threads; drab n blocks of
// 256), both the shared-memory and the global-memory (useShared = 0) paths, rab tables longer
// than 2n-1, and buffers offset inside larger ones (sentinels around them catch stray writes). Heads
// have a q/k width dhQk and a v width dhV: equal (the sweep), and different in both directions, down to
// 1 against 33 and wide enough that one launch stages while another reads from global memory.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/attention_emu native/emu/attention_emu.cpp
#define EMU_SHARED_EXTERN  // attention.cu only uses extern __shared__ (defined below), so __shared__ is empty
#include "cuda_shim.h"
namespace kdrec_attn { alignas(16) float smem[48 * 1024 / 4]; }
#include "../attention.cu"
#include "harness.h"

// GpuAttention's shared sizes (bytes): a row tile dots over dAB and accumulates dCR (forward dhQk, dhV;
// the dq pass dhV, dhQk); a column tile stages dOut (dhV) and q (dhQk) rows.
static size_t rowTileShared(int dAB, int dCR, bool sh) {
  return 4 * (size_t)(16 * 32 + (sh ? 16 * dAB + 32 * (dAB + 1) + 32 * dCR : 0));
}
static size_t colTileShared(int dhQk, int dhV, bool sh) { return 4 * (size_t)(2 * 32 * 16 + (sh ? 32 * dhQk + 32 * dhV : 0)); }
static bool fits(size_t bytes) { return bytes <= 48 * 1024; }

static double silu(double x) { return x / (1.0 + std::exp(-x)); }
static double siluD(double x) { double s = 1.0 / (1.0 + std::exp(-x)); return s * (1.0 + x * (1.0 - s)); }

// forceGlobal: useShared = 0 even where the staging would fit (the fallback path on small shapes).
static void run(int b, int n, int h, int dhQk, int dhV, bool forceGlobal) {
  char tag[160];
  const int ldQk = h * dhQk, ldV = h * dhV, rabLen = 2 * n - 1 + 4, cen = (rabLen - 1) / 2, bh = b * h;
  const long long rowsQk = (long long)b * n * ldQk, rowsV = (long long)b * n * ldV, mapN = (long long)bh * n * n;
  // Each launch decides for itself, as GpuAttention does: forward, dq pass, dk/dv pass.
  const bool shF = !forceGlobal && fits(rowTileShared(dhQk, dhV, true)), shD = !forceGlobal && fits(rowTileShared(dhV, dhQk, true));
  const bool shC = !forceGlobal && fits(colTileShared(dhQk, dhV, true));
  snprintf(tag, sizeof tag, "b=%d n=%d h=%d dhQk=%d dhV=%d shared=%d/%d/%d", b, n, h, dhQk, dhV, shF, shD, shC);
  const float scale = 1.f / 7.f;
  std::vector<float> q = h::randn(rowsQk, 0.6f), k = h::randn(rowsQk, 0.6f), v = h::randn(rowsV), rab = h::randn(rabLen, 0.5f);
  std::vector<float> dOut = h::randn(rowsV);
  // element (row, head hh, column c) of a q/k-wide and of a v-wide row tensor
  auto at = [&](long long row, int hh, int c) { return row * ldQk + (long long)hh * dhQk + c; };
  auto atV = [&](long long row, int hh, int c) { return row * ldV + (long long)hh * dhV + c; };

  // forward reference (double); the kernels' own float pre/maps are what backward reads, as on the GPU.
  std::vector<double> preR(mapN, 0.0), mapsR(mapN, 0.0), outR(rowsV, 0.0);
  for (int r = 0; r < bh; r++) {
    const int s = r / h, hh = r % h;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) {
        const long long ri = (long long)s * n + i, rj = (long long)s * n + j, m = ((long long)r * n + i) * n + j;
        double d = 0;
        for (int c = 0; c < dhQk; c++) d += (double)q[at(ri, hh, c)] * k[at(rj, hh, c)];
        preR[m] = d + rab[cen + j - i];
        mapsR[m] = silu(preR[m]) * scale;
        for (int c = 0; c < dhV; c++) outR[atV(ri, hh, c)] += mapsR[m] * v[atV(rj, hh, c)];
      }
  }
  h::Out pre(3, 1, mapN, mapN), maps(1, 1, mapN, mapN), out(2, 1, rowsV, rowsV);
  for (long long e = 0; e < mapN; e++) pre.at(0, e) = maps.at(0, e) = h::SENT;  // overwritten everywhere
  const unsigned tiles = (unsigned)((n + 15) / 16);
  launch(dim3(bh, tiles), dim3(128), rowTileShared(dhQk, dhV, shF), [&] {
    kdrec_attention_forward(n, h, dhQk, ldQk, dhV, ldV, q.data(), k.data(), v.data(), rab.data(), cen, scale, pre.p(), maps.p(),
                            out.p(), shF);
  });
  h::check(std::string("forward pre  ") + tag, pre, preR, 1e-5);
  h::check(std::string("forward maps ") + tag, maps, mapsR, 1e-5);
  h::check(std::string("forward out  ") + tag, out, outR, 1e-5);

  // backward reference from the kernels' pre and maps (as the CPU backward uses its own forward's values).
  std::vector<double> dPreR(mapN, 0.0), dqR(rowsQk, 0.0), dkR(rowsQk, 0.0), dvR(rowsV, 0.0), drabR(rabLen);
  std::vector<float> drab0 = h::randn(rabLen);
  for (int e = 0; e < rabLen; e++) drabR[e] = drab0[e];
  std::vector<double> drabAcc(rabLen, 0.0);
  for (int r = 0; r < bh; r++) {
    const int s = r / h, hh = r % h;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) {
        const long long ri = (long long)s * n + i, rj = (long long)s * n + j, m = ((long long)r * n + i) * n + j;
        double dA = 0;
        for (int c = 0; c < dhV; c++) dA += (double)dOut[atV(ri, hh, c)] * v[atV(rj, hh, c)];
        const double dp = dA * scale * siluD(pre.at(0, m));
        dPreR[m] = dp;
        drabAcc[cen + j - i] += dp;
        for (int c = 0; c < dhQk; c++) {
          dqR[at(ri, hh, c)] += dp * k[at(rj, hh, c)];
          dkR[at(rj, hh, c)] += dp * q[at(ri, hh, c)];
        }
        for (int c = 0; c < dhV; c++) dvR[atV(rj, hh, c)] += (double)maps.at(0, m) * dOut[atV(ri, hh, c)];
      }
  }
  for (int e = 0; e < rabLen; e++) drabR[e] += drabAcc[e];
  h::Out dPre(1, 1, mapN, mapN), dq(2, 1, rowsQk, rowsQk), dk(3, 1, rowsQk, rowsQk), dv(4, 1, rowsV, rowsV);
  h::Out drab(5, 1, rabLen, rabLen);
  for (long long e = 0; e < mapN; e++) dPre.at(0, e) = 123.f;
  for (long long e = 0; e < rowsQk; e++) dq.at(0, e) = dk.at(0, e) = 55.f;  // overwritten, not accumulated
  for (long long e = 0; e < rowsV; e++) dv.at(0, e) = 55.f;
  for (int e = 0; e < rabLen; e++) drab.at(0, e) = drab0[e];
  launch(dim3(bh, tiles), dim3(128), rowTileShared(dhV, dhQk, shD), [&] {
    kdrec_attention_backward_dq(n, h, dhQk, ldQk, dhV, ldV, dOut.data(), v.data(), k.data(), pre.p(), scale, dPre.p(), dq.p(), shD);
  });
  launch(dim3(bh, tiles), dim3(128), colTileShared(dhQk, dhV, shC), [&] {
    kdrec_attention_backward_dkv(n, h, dhQk, ldQk, dhV, ldV, q.data(), dOut.data(), maps.p(), dPre.p(), dk.p(), dv.p(), shC);
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
        for (int b : bs) run(b, n, hh, dh, dh, false);
  // q/k width != v width, both ways round (the forward dots over dhQk and mixes dhV rows, the dq pass
  // the reverse, the dk/dv pass both at once).
  std::vector<std::pair<int, int>> widths = {{8, 16}, {16, 8}, {1, 33}, {33, 1}};
  std::vector<int> nsW = quick ? std::vector<int>{1, 17} : std::vector<int>{1, 17, 33};
  for (auto [dq, dv] : widths)
    for (int n : nsW)
      for (int hh : hs) run(quick ? 1 : 2, n, hh, dq, dv, false);
  // The global-memory path: forced on small shapes, and natural for wide heads (dh > ~150).
  run(2, 33, 2, 16, 16, true);
  run(1, 7, 1, 3, 3, true);
  run(1, 17, 2, 5, 9, true);
  // One width wide enough that some launches stage and some do not (shared = forward/dq/dkv):
  // 16 / 256 stages the forward (37 KiB) and dk/dv (38 KiB) but not the dq pass (52 KiB: its dots run
  // over the 256-wide dOut and v rows), 256 / 16 the reverse (the forward 52 KiB, the dq pass 37).
  run(1, 17, 1, 16, 256, false);
  run(1, 17, 1, 256, 16, false);
  if (!quick) {
    run(1, 40, 1, 200, 200, false);
    run(1, 20, 2, 256, 256, false);
    run(1, 70, 1, 160, 160, false);  // shared row tiles no, shared column tiles yes
    run(1, 20, 3, 200, 160, false);  // nothing staged (dk/dv: 32 x 360 floats > 48 KiB)
    run(2, 33, 1, 64, 256, false);   // dq pass unstaged, forward and dk/dv staged
  }
  return h::finish("attention");
}

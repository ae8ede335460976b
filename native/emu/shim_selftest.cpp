// native/emu/shim_selftest.cpp — checks cuda_shim.h's own warp/block semantics against what CUDA
// specifies (PTX shfl source lanes and clamps per width, group masks with different trip counts,
// votes, __syncthreads_count/and/or, exited lanes, 2-D/3-D indices). Exit status 1 on any failure.
//   g++ -std=c++20 -O1 -pthread -Inative -o /tmp/shim_selftest native/emu/shim_selftest.cpp && /tmp/shim_selftest
#include "cuda_shim.h"
#include <cstdio>

static int fails = 0;
#define CHECK(c, ...) do { if (!(c)) { fails++; std::printf("FAIL " __VA_ARGS__); std::printf("\n"); } } while (0)

int main() {
  // shuffles, every mode and width, on a full warp of a 2-warp block
  for (int width : {1, 2, 4, 8, 16, 32}) {
    std::vector<int> idx(64), up(64), down(64), bf(64);
    launch(1, 64, [&] {
      int l = threadIdx.x & 31, t = threadIdx.x;
      idx[t] = __shfl_sync(0xffffffffu, t * 10, 3, width);
      up[t] = __shfl_up_sync(0xffffffffu, t * 10, 2, width);
      down[t] = __shfl_down_sync(0xffffffffu, t * 10, 2, width);
      bf[t] = __shfl_xor_sync(0xffffffffu, t * 10, 5, width);
      (void)l;
    });
    for (int t = 0; t < 64; t++) {
      int l = t & 31, w = t - l, seg = l & ~(width - 1), in = l - seg;
      CHECK(idx[t] == (w + seg + (3 & (width - 1))) * 10, "idx width %d t %d got %d", width, t, idx[t]);
      CHECK(up[t] == (in >= 2 ? t - 2 : t) * 10, "up width %d t %d got %d", width, t, up[t]);
      CHECK(down[t] == (in + 2 < width ? t + 2 : t) * 10, "down width %d t %d got %d", width, t, down[t]);
      int j = l ^ 5;
      CHECK(bf[t] == ((j < seg + width) ? w + j : t) * 10, "xor width %d t %d got %d", width, t, bf[t]);
    }
  }
  // groups of 8 lanes with different trip counts, each shuffling on its own mask
  {
    std::vector<float> out(64);
    launch(2, 32, [&] {
      int l = threadIdx.x, g = l / 8;
      unsigned mask = 0xffu << (8 * g);
      float s = 0;
      for (int it = 0; it < g + 1 + (int)blockIdx.x; it++) {
        float v = (float)(l + it);
        for (int o = 4; o > 0; o >>= 1) v += __shfl_xor_sync(mask, v, o, 8);
        s += v;
      }
      out[blockIdx.x * 32 + l] = s;
    });
    for (int b = 0; b < 2; b++)
      for (int l = 0; l < 32; l++) {
        int g = l / 8; float e = 0;
        for (int it = 0; it < g + 1 + b; it++) for (int q = 0; q < 8; q++) e += (float)(8 * g + q + it);
        CHECK(out[b * 32 + l] == e, "group loop b %d lane %d got %g want %g", b, l, out[b * 32 + l], e);
      }
  }
  // votes, syncwarp, block votes, partial warp (48 threads), 2-D block
  {
    std::vector<unsigned> bal(48); std::vector<int> any(48), all(48), cnt(48), band(48), bor(48);
    launch(dim3(1), dim3(16, 3), 0, [&] {
      int t = threadIdx.x + 16 * threadIdx.y, l = t & 31;
      unsigned full = t < 32 ? 0xffffffffu : 0xffffu;
      bal[t] = __ballot_sync(full, l % 3 == 0);
      any[t] = __any_sync(full, t == 40);
      all[t] = __all_sync(full, t != 7);
      __syncwarp(full);
      cnt[t] = __syncthreads_count(t % 2);
      band[t] = __syncthreads_and(t < 100);
      bor[t] = __syncthreads_or(t == 47);
    });
    for (int t = 0; t < 48; t++) {
      unsigned e = 0; int n = t < 32 ? 32 : 16;
      for (int l = 0; l < n; l++) if (l % 3 == 0) e |= 1u << l;
      CHECK(bal[t] == e, "ballot t %d %08x", t, bal[t]);
      CHECK(any[t] == (t >= 32), "any t %d", t);
      CHECK(all[t] == (t >= 32), "all t %d", t);
      CHECK(cnt[t] == 24 && band[t] == 1 && bor[t] == 1, "syncthreads votes t %d: %d %d %d", t, cnt[t], band[t], bor[t]);
    }
  }
  // exited lanes: half the warp returns, the rest still shuffle with the full mask and __syncthreads
  std::fprintf(stderr, "(selftest: the next two EMU ERROR lines are expected)\n");
  {
    std::vector<int> out(64, -1);
    launch(1, 64, [&] {
      int t = threadIdx.x;
      if ((t & 31) >= 16) return;
      int v = __shfl_down_sync(0xffffffffu, t, 1);
      __syncthreads();
      out[t] = v;
    });
    for (int t = 0; t < 64; t++) {
      int l = t & 31;
      int e = l >= 16 ? -1 : l == 15 ? -2 : t + 1;
      if (e != -2) CHECK(out[t] == e, "exit t %d got %d", t, out[t]);
    }
    long before = emu::errors.load();
    CHECK(before == 2, "lane 15 of each warp reading exited lane 16 should be two emulator errors, have %ld", before);
    emu::errors = 0;
  }
  // match_any, reduce_add/max, activemask on a partial warp (40 threads: warp 1 has 8 lanes)
  {
    std::vector<unsigned> match(40), act(40); std::vector<int> sum(40), mx(40);
    launch(1, 40, [&] {
      int t = threadIdx.x, l = t & 31;
      unsigned full = t < 32 ? 0xffffffffu : 0xffu;
      match[t] = __match_any_sync(full, l % 3);
      sum[t] = __reduce_add_sync(full, l);
      mx[t] = __reduce_max_sync(full, -l);
      act[t] = __activemask();
    });
    for (int t = 0; t < 40; t++) {
      int l = t & 31, n = t < 32 ? 32 : 8;
      unsigned e = 0; int es = 0;
      for (int q = 0; q < n; q++) { if (q % 3 == l % 3) e |= 1u << q; es += q; }
      CHECK(match[t] == e, "match_any t %d %08x", t, match[t]);
      CHECK(sum[t] == es && mx[t] == 0, "reduce t %d sum %d max %d", t, sum[t], mx[t]);
      // non-exited lanes: timing-dependent (others may have returned already), but always itself and
      // never a lane that does not exist
      unsigned exist = n == 32 ? 0xffffffffu : 0xffu;
      CHECK(((act[t] >> l) & 1) && (act[t] & ~exist) == 0, "activemask t %d %08x", t, act[t]);
    }
  }
  // 3-D grid and block indices, atomics
  {
    int hits[2][3][4] = {}; float sum = 0; int mx = 0;
    launch(dim3(4, 3, 2), dim3(2, 2, 2), 0, [&] {
      if (threadIdx.x + threadIdx.y + threadIdx.z == 0) hits[blockIdx.z][blockIdx.y][blockIdx.x]++;
      atomicAdd(&sum, 0.5f);
      atomicMax(&mx, (int)(threadIdx.z * 4 + threadIdx.y * 2 + threadIdx.x));
    });
    for (auto& a : hits) for (auto& b : a) for (int h : b) CHECK(h == 1, "3-D grid block visited %d times", h);
    CHECK(sum == 96.f && mx == 7, "atomics %g %d", sum, mx);
  }
  CHECK(emu::errors == 0, "%ld unexpected emulator errors", emu::errors.load());
  std::printf("%s shim selftest (%d failures)\n", fails ? "FAIL" : "ok  ", fails);
  return fails != 0;
}

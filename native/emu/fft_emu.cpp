// native/emu/fft_emu.cpp — runs the kernels of native/fft.cu on CPU threads (cuda_shim.h) against a
// naive double-precision DFT / inverse DFT / DCT-I, for rfft, irfft and dct1, on the shared-memory and
// the global-scratch paths, with unaligned offsets, padded leading dims, grids smaller than the batch
// (the blocks' row loop) and a sentinel around every output row (stray writes). Tables are built as
// GpuFft.hostTables builds them. Pass failures print FAIL; exit status 1 on any failure.
//   g++ -std=c++20 -O2 -pthread -Inative -o /tmp/fft_emu native/emu/fft_emu.cpp && /tmp/fft_emu [n ...]
//   race check (few threads per block so each thread does several butterflies per stage):
//   g++ -std=c++20 -O1 -g -fsanitize=thread -pthread -Inative -o /tmp/fft_tsan native/emu/fft_emu.cpp
//   THREADS=8 /tmp/fft_tsan 1 2 3 5 8 17 33 100 && THREADS=32 /tmp/fft_tsan 255 256 1021 1024
#include "cuda_shim.h"
#include "../fft.cu"
namespace kdrec_fft { float smem[8192]; }
#include <cstdio>
#include <random>
#include <complex>

// tables exactly as GpuFft.hostTables
static std::vector<float> tables(int n, int m, bool blue) {
  int twLen = 2 * (m / 2);
  std::vector<float> t(twLen + (blue ? 2 * n + 2 * m : 2 * (m + 1)));
  for (int j = 0; j < m / 2; j++) { double a = 2 * M_PI * j / m; t[2*j] = (float)cos(a); t[2*j+1] = (float)sin(a); }
  if (!blue) { for (int k = 0; k <= m; k++) { double a = 2 * M_PI * k / n; t[twLen+2*k] = (float)cos(a); t[twLen+2*k+1] = (float)sin(a); } return t; }
  std::vector<std::complex<double>> b(m);
  for (int s = 0; s < n; s++) {
    long long q = (long long)s * s % (2LL * n); double a = M_PI * q / n;
    t[twLen+2*s] = (float)cos(a); t[twLen+2*s+1] = (float)sin(a);
    b[s] = {cos(a), sin(a)}; if (s > 0) b[m - s] = b[s];
  }
  int bits = __builtin_ctz(m);
  int base = twLen + 2 * n;
  for (int k = 0; k < m; k++) { // naive double DFT is fine for the emulator sizes
    std::complex<double> acc = 0;
    for (int s = 0; s < m; s++) acc += b[s] * std::polar(1.0, -2 * M_PI * ((long long)k * s % m) / m);
    int r = (int)(__brev((unsigned)k) >> (32 - bits));
    t[base + 2*r] = (float)(acc.real() / m); t[base + 2*r+1] = (float)(acc.imag() / m);
  }
  return t;
}

static int fails = 0;
static void report(const char* what, int n, int batch, bool glob, double err, double scale) {
  bool ok = err / scale <= 1e-5;
  if (!ok) fails++;
  printf("%s %-6s n=%-5d batch=%d %s rel=%.3g\n", ok ? "ok  " : "FAIL", what, n, batch, glob ? "global" : "shared", err / scale);
}

// op: 0 rfft, 1 irfft, 2 dct1 ; n is the op's n
static void run(int op, int n, int batch, bool forceGlobal) {
  std::mt19937 rng(n * 31 + batch + op); std::normal_distribution<float> nd;
  int N = op == 2 ? 2 * n : n; // fft length
  int inW = op == 0 ? n : op == 1 ? 2 * (n / 2 + 1) : n + 1;
  int outW = op == 0 ? 2 * (n / 2 + 1) : op == 1 ? n : n + 1;
  int ldi = inW + 3, ldo = outW + 1, iOff = 5, oOff = 3;
  std::vector<float> in(iOff + (batch - 1) * ldi + inW + 2), out(oOff + (batch - 1) * ldo + outW + 2, 777.25f);
  for (auto& v : in) v = nd(rng);
  const float* x = in.data() + iOff; float* o = out.data() + oOff;
  if (N == 1) {
    launch(1, 32, [&] { kdrec_fft_len1(x, ldi, o, ldo, batch, op == 0); });
  } else {
    bool blue = __builtin_popcount(N) != 1;
    int m = blue ? (1 << (32 - __builtin_clz(2 * N - 2))) : N / 2;
    bool glob = forceGlobal || m > 4096;
    std::vector<float> t = tables(N, m, blue);
    const float2* tw = (const float2*)t.data();
    const float2* second = (const float2*)(t.data() + 2 * (m / 2));
    const float2* bhat = (const float2*)(t.data() + 2 * (m / 2) + 2 * N);
    int threads = getenv("THREADS") ? atoi(getenv("THREADS")) : std::min(512, std::max(32, m / 2));
    int grid = glob ? std::min(batch, 3) : std::min(batch, 2); // small grids: exercise the row loop
    std::vector<float> gw(glob ? 2 * m * grid : 0);
    float* gwork = glob ? gw.data() : nullptr;
    if (!glob && m * 2 > 8192) { printf("smem too small\n"); exit(1); }
    launch(grid, threads, [&] {
      if (!blue) {
        if (op == 1) kdrec_fft_inv_pow2(x, ldi, o, ldo, batch, N, tw, second, gwork);
        else kdrec_fft_fwd_pow2(x, ldi, o, ldo, batch, N, op == 2, tw, second, gwork);
      } else {
        if (op == 1) kdrec_fft_inv_bluestein(x, ldi, o, ldo, batch, N, m, tw, second, bhat, gwork);
        else kdrec_fft_fwd_bluestein(x, ldi, o, ldo, batch, N, m, op == 2, tw, second, bhat, gwork);
      }
    });
  }
  // reference in double, naive
  double err = 0, scale = 0;
  std::vector<bool> inRow(out.size());
  for (int r = 0; r < batch; r++) {
    const float* xr = x + (long)r * ldi;
    std::vector<double> ref(outW);
    if (op == 0) {
      for (int k = 0; k <= n / 2; k++) { std::complex<double> acc = 0; for (int t = 0; t < n; t++) acc += (double)xr[t] * std::polar(1.0, -2 * M_PI * ((long long)k * t % n) / n); ref[2*k] = acc.real(); ref[2*k+1] = acc.imag(); }
    } else if (op == 1) {
      // Hermitian full spectrum from bins, Im of 0 and n/2 dropped; x_t = 1/n sum X_k e^{+i}
      std::vector<std::complex<double>> X(n);
      for (int k = 0; k <= n / 2; k++) { double im = (k == 0 || (n % 2 == 0 && k == n / 2)) ? 0 : xr[2*k+1]; X[k] = {xr[2*k], im}; }
      for (int k = n / 2 + 1; k < n; k++) X[k] = std::conj(X[n - k]);
      for (int t = 0; t < n; t++) { std::complex<double> acc = 0; for (int k = 0; k < n; k++) acc += X[k] * std::polar(1.0, 2 * M_PI * ((long long)k * t % n) / n); ref[t] = acc.real() / n; }
    } else {
      for (int k = 0; k <= n; k++) { double acc = xr[0] + ((k & 1) ? -xr[n] : xr[n]); for (int j = 1; j < n; j++) acc += 2 * xr[j] * cos(M_PI * ((long long)j * k % (2 * n)) / n); if (n == 1) acc = xr[0] + ((k & 1) ? -xr[1] : xr[1]); ref[k] = acc; }
    }
    for (int j = 0; j < outW; j++) { long i = oOff + (long)r * ldo + j; inRow[i] = true; err = std::max(err, std::fabs(out[i] - ref[j])); scale = std::max(scale, std::fabs(ref[j])); }
  }
  for (size_t i = 0; i < out.size(); i++) if (!inRow[i] && out[i] != 777.25f) { printf("FAIL stray write at %zu\n", i); fails++; }
  static const char* names[] = {"rfft", "irfft", "dct1"};
  int N2 = N; bool blue = N2 > 1 && __builtin_popcount(N2) != 1; int m = N2 == 1 ? 0 : blue ? (1 << (32 - __builtin_clz(2 * N2 - 2))) : N2 / 2;
  report(names[op], n, batch, forceGlobal || m > 4096, err, scale == 0 ? 1 : scale);
}

int main(int argc, char** argv) {
  std::vector<int> sizes = {1, 2, 3, 4, 5, 7, 8, 16, 17, 31, 32, 33, 64, 100, 127, 128, 1021, 1024};
  if (argc > 1) { sizes.clear(); for (int i = 1; i < argc; i++) sizes.push_back(atoi(argv[i])); }
  for (int n : sizes) for (int op = 0; op < 3; op++) for (int g = 0; g < 2; g++) {
    if (g && (op == 2 ? 2 * n : n) < 2) continue;
    run(op, n, g ? 5 : 3, g);
  }
  printf("%d failures\n", fails);
  return fails != 0;
}

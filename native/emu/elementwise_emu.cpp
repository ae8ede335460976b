// native/emu/elementwise_emu.cpp — runs native/elementwise.cu on the emulator against references from
// the scalar twins: VecScalar ops (bit-exact: single IEEE ops / fmaf), sum and dot through both passes
// with GpuVec's launch shapes (partialBlocks(n) blocks of 256, then one block over the partials; also a
// forced small partial count so the grid-stride share has several rounds) against a double sum,
// allFinite (NaN/Inf at the last element, none), activations and backwards (double formulas of
// ActivationScalar, rounded once: bit-exact here), dropout forward/backward with DropoutScalar's hash
// transliterated from the Java (independent of the kernel's helpers), base offsets past 2^32, p = 0.
//   g++ -std=c++20 -O2 -pthread -ffp-contract=off -Inative -o /tmp/elementwise_emu native/emu/elementwise_emu.cpp
#include "cuda_shim.h"
#include "../elementwise.cu"
#include "harness.h"

static h::Out out1(long long n, const std::vector<float>* init = nullptr) {
  h::Out o(3, 1, n, n);
  for (long long i = 0; i < n; i++) o.at(0, i) = init ? (*init)[i] : 0.5f;
  return o;
}
static double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }
// DropoutScalar, in Java's int arithmetic (uint32 wraps the same)
static uint32_t jmix(uint32_t h) { h ^= h >> 16; h *= 0x7feb352du; h ^= h >> 15; h *= 0x846ca68bu; h ^= h >> 16; return h; }
static uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static bool jkept(uint32_t k0, uint32_t k1, uint64_t i, uint32_t thr) {
  uint32_t hk = jmix(k1 ^ (uint32_t)(i >> 32) * 0x9E3779B9u);
  return (jmix(jmix((uint32_t)i ^ k0) + hk) >> 8) >= thr;
}

static void run(long long n) {
  const unsigned B = 256;
  char tag[64];
  snprintf(tag, sizeof tag, "n=%lld", n);
  std::vector<float> a = h::randn(n + 2), b = h::randn(n + 1), x0 = h::randn(n);
  const float* A = a.data() + 2; const float* Bp = b.data() + 1;
  std::vector<float> av(A, A + n), bv(Bp, Bp + n);
  auto exact = [&](const char* op, auto kernel, auto ref, const std::vector<float>* init = nullptr) {
    h::Out o = out1(n, init);
    std::vector<double> r(n);
    for (long long i = 0; i < n; i++) r[i] = ref(i, (double)o.at(0, i));
    h::launch1d(n, B, [&] { kernel(o.p()); });
    h::check(std::string(op) + " " + tag, o, r, 0);
  };
  exact("fill", [&](float* y) { kdrec_vec_fill(n, y, 2.5f); }, [](long long, double) { return 2.5; });
  exact("copy", [&](float* y) { kdrec_vec_copy(n, A, y); }, [&](long long i, double) { return (double)A[i]; });
  exact("add", [&](float* y) { kdrec_vec_add(n, A, Bp, y); }, [&](long long i, double) { return (double)(A[i] + Bp[i]); });
  exact("sub", [&](float* y) { kdrec_vec_sub(n, A, Bp, y); }, [&](long long i, double) { return (double)(A[i] - Bp[i]); });
  exact("mul", [&](float* y) { kdrec_vec_mul(n, A, Bp, y); }, [&](long long i, double) { return (double)(A[i] * Bp[i]); });
  exact("scale", [&](float* y) { kdrec_vec_scale(n, 0.3f, A, y); }, [&](long long i, double) { return (double)(0.3f * A[i]); });
  exact("axpy", [&](float* y) { kdrec_vec_axpy(n, 0.3f, A, y); }, [&](long long i, double y) { return (double)std::fmaf(0.3f, A[i], (float)y); }, &x0);
  exact("addMul", [&](float* y) { kdrec_vec_add_mul(n, A, Bp, y); }, [&](long long i, double y) { return (double)std::fmaf(A[i], Bp[i], (float)y); }, &x0);
  // in place: add with out == a
  {
    h::Out o = out1(n, &av);
    std::vector<double> r(n);
    for (long long i = 0; i < n; i++) r[i] = (double)(av[i] + Bp[i]);
    h::launch1d(n, B, [&] { kdrec_vec_add(n, o.p(), Bp, o.p()); });
    h::check(std::string("add in place ") + tag, o, r, 0);
  }
  // sum / dot, both passes
  for (int forced = 0; forced < 2; forced++) {
    int blocks = (int)std::min<long long>((n + 255) / 256, 1024);
    if (forced) blocks = std::min(blocks, 2);
    double ps = 0, pd = 0, ref_s = 0, ref_d = 0;
    for (long long i = 0; i < n; i++) { ref_s += A[i]; ref_d += (double)A[i] * Bp[i]; }
    std::vector<double> partial(std::max(blocks, 0)), res(1, -1.0);
    for (int op = 0; op < 2; op++) {
      if (n > 0) launch(dim3(blocks), dim3(256), 0, [&] {
        if (op == 0) kdrec_vec_sum_partial(n, A, partial.data()); else kdrec_vec_dot_partial(n, A, Bp, partial.data());
      });
      launch(dim3(1), dim3(256), 0, [&] { kdrec_vec_reduce_partials(partial.data(), n > 0 ? blocks : 0, res.data()); });
      (op == 0 ? ps : pd) = res[0];
    }
    double scale = 0;
    for (long long i = 0; i < n; i++) scale += std::fabs((double)A[i]) * (1 + std::fabs((double)Bp[i]));
    h::report(std::fabs(ps - ref_s) <= 1e-12 * (scale + 1) && std::fabs(pd - ref_d) <= 1e-12 * (scale + 1),
              "sum/dot %s blocks=%d: sum %.17g vs %.17g, dot %.17g vs %.17g", tag, blocks, ps, ref_s, pd, ref_d);
  }
  // allFinite
  for (int bad = 0; bad < 3; bad++) {
    std::vector<float> xx(av);
    if (n > 0 && bad == 1) xx[n - 1] = NAN;
    if (n > 0 && bad == 2) xx[n / 2] = -INFINITY;
    std::vector<int> flag(1, 0);
    h::launch1d(n, B, [&] { kdrec_vec_all_finite(n, xx.data(), flag.data()); });
    h::report(flag[0] == (n > 0 && bad > 0), "allFinite %s bad=%d flag=%d", tag, bad, flag[0]);
  }
  // activations: inputs spread wide, with 0, -0, +-large
  std::vector<float> xs = h::randn(n, 6.f);
  if (n > 3) { xs[0] = 0.f; xs[1] = -0.f; xs[2] = 80.f; xs[3] = -90.f; }
  std::vector<float> gy = h::randn(n), gx0 = h::randn(n);
  const float* X = xs.data();
  exact("sigmoid", [&](float* y) { kdrec_act_sigmoid(n, X, y); }, [&](long long i, double) { return (double)(float)sigm(X[i]); });
  exact("logSigmoid", [&](float* y) { kdrec_act_log_sigmoid(n, X, y); },
        [&](long long i, double) { double v = X[i]; return (double)(float)(std::min(v, 0.0) - std::log1p(std::exp(-std::fabs(v)))); });
  exact("relu", [&](float* y) { kdrec_act_relu(n, X, y); }, [&](long long i, double) { return (double)(X[i] < 0 ? 0.f : X[i]); });
  exact("silu", [&](float* y) { kdrec_act_silu(n, X, y); }, [&](long long i, double) { double v = X[i]; return (double)(float)(v * sigm(v)); });
  std::vector<float> sy(n);
  for (long long i = 0; i < n; i++) sy[i] = (float)sigm(X[i]);
  exact("sigmoidBwd", [&](float* g) { kdrec_act_sigmoid_backward(n, sy.data(), gy.data(), g); },
        [&](long long i, double g) { double s = sy[i]; return (double)(float)(g + gy[i] * (s * (1 - s))); }, &gx0);
  exact("logSigmoidBwd", [&](float* g) { kdrec_act_log_sigmoid_backward(n, X, gy.data(), g); },
        [&](long long i, double g) { return (double)(float)(g + gy[i] * sigm(-(double)X[i])); }, &gx0);
  exact("reluBwd", [&](float* g) { kdrec_act_relu_backward(n, X, gy.data(), g); },
        [&](long long i, double g) { return (double)((float)g + (X[i] > 0 ? gy[i] : 0.f)); }, &gx0);
  exact("siluBwd", [&](float* g) { kdrec_act_silu_backward(n, X, gy.data(), g); },
        [&](long long i, double g) { double v = X[i], s = sigm(v); return (double)(float)(g + gy[i] * (s * (1 + v * (1 - s)))); }, &gx0);
  // dropout: seed -> keys as DropoutScalar; base past 2^32 as the tests do
  for (float p : {0.f, 0.3f, 0.999f})
    for (long long base : {0LL, (1LL << 32) - 5}) {
      uint64_t z = splitmix64(42);
      uint32_t k0 = (uint32_t)z, k1 = (uint32_t)(z >> 32), thr = (uint32_t)std::ceil(p * 16777216.0);
      float scale = 1.f / (1.f - p);
      int identity = p == 0.f;
      exact("dropoutFwd", [&](float* y) { kdrec_dropout_forward(n, base, X, y, (int)k0, (int)k1, (int)thr, scale, identity); },
            [&](long long i, double) { return (double)(p == 0 ? X[i] : jkept(k0, k1, base + i, thr) ? X[i] * scale : 0.f); });
      exact("dropoutBwd", [&](float* g) { kdrec_dropout_backward(n, base, gy.data(), g, (int)k0, (int)k1, (int)thr, scale, identity); },
            [&](long long i, double g) { float d = p == 0 ? gy[i] : jkept(k0, k1, base + i, thr) ? gy[i] * scale : 0.f; return (double)((float)g + d); }, &gx0);
    }
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::string(argv[1]) == "quick";
  for (long long n : quick ? std::vector<long long>{0, 33, 700} : std::vector<long long>{0, 1, 31, 32, 33, 255, 256, 257, 1021, 5003})
    run(n);
  return h::finish("elementwise");
}

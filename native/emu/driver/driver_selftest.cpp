// native/emu/driver/driver_selftest.cpp — checks the emulated driver itself through its C API (dlopen, as
// JCuda uses it): launches, the sequential fast path, and that each misuse the driver promises to catch
// returns the promised error. native/emu/driver/selftest.sh builds the driver and runs this.
//   g++ -std=c++20 -O1 -pthread -o /tmp/driver_selftest native/emu/driver/driver_selftest.cpp -ldl
//   /tmp/driver_selftest target/emu-driver/libcuda.so.1
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

using CUresult = int;
using CUdeviceptr = unsigned long long;
static void* lib;
template <class F> static F sym(const char* n) {
  void* p = dlsym(lib, n);
  if (!p) { std::fprintf(stderr, "missing symbol %s\n", n); std::exit(2); }
  return reinterpret_cast<F>(p);
}
static int fails = 0;
static void expect(const char* what, CUresult got, CUresult want) {
  const bool ok = got == want;
  if (!ok) fails++;
  std::printf("%s %s: got %d, want %d\n", ok ? "ok  " : "FAIL", what, got, want);
}

int main(int argc, char** argv) {
  lib = dlopen(argc > 1 ? argv[1] : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) { std::fprintf(stderr, "%s\n", dlerror()); return 2; }
  auto cuInit = sym<CUresult (*)(unsigned)>("cuInit");
  auto cuDevicePrimaryCtxRetain = sym<CUresult (*)(void**, int)>("cuDevicePrimaryCtxRetain");
  auto cuCtxSetCurrent = sym<CUresult (*)(void*)>("cuCtxSetCurrent");
  auto cuModuleLoadData = sym<CUresult (*)(void**, const void*)>("cuModuleLoadData");
  auto cuModuleGetFunction = sym<CUresult (*)(void**, void*, const char*)>("cuModuleGetFunction");
  auto cuFuncSetAttribute = sym<CUresult (*)(void*, int, int)>("cuFuncSetAttribute");
  auto cuLaunchKernel = sym<CUresult (*)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                         void*, void**, void**)>("cuLaunchKernel");
  auto cuMemAlloc = sym<CUresult (*)(CUdeviceptr*, size_t)>("cuMemAlloc_v2");
  auto cuMemFree = sym<CUresult (*)(CUdeviceptr)>("cuMemFree_v2");
  auto cuMemcpyHtoD = sym<CUresult (*)(CUdeviceptr, const void*, size_t)>("cuMemcpyHtoD_v2");
  auto cuMemcpyDtoH = sym<CUresult (*)(void*, CUdeviceptr, size_t)>("cuMemcpyDtoH_v2");
  auto cuMemsetD32 = sym<CUresult (*)(CUdeviceptr, unsigned, size_t)>("cuMemsetD32_v2");
  auto cuGetErrorName = sym<CUresult (*)(int, const char**)>("cuGetErrorName");
  auto stub = sym<CUresult (*)()>("cuStreamQuery");

  expect("cuMemAlloc before cuInit", cuMemAlloc(nullptr, 4), 3);
  expect("cuInit", cuInit(0), 0);
  CUdeviceptr tmp = 0;
  expect("cuMemAlloc without a current context", cuMemAlloc(&tmp, 4), 201);
  void* ctx = nullptr;
  expect("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(&ctx, 0), 0);
  expect("cuCtxSetCurrent", cuCtxSetCurrent(ctx), 0);
  CUresult other = -1;
  std::thread([&] { CUdeviceptr p; other = cuMemAlloc(&p, 4); }).join();
  expect("cuMemAlloc on a thread that never set the context", other, 201);
  void* mod = nullptr;
  const char image[] = "fatbin";
  expect("cuModuleLoadData", cuModuleLoadData(&mod, image), 0);
  void *fill = nullptr, *sum = nullptr, *reduce = nullptr, *nope = nullptr;
  expect("cuModuleGetFunction kdrec_vec_fill", cuModuleGetFunction(&fill, mod, "kdrec_vec_fill"), 0);
  expect("cuModuleGetFunction kdrec_vec_sum_partial", cuModuleGetFunction(&sum, mod, "kdrec_vec_sum_partial"), 0);
  expect("cuModuleGetFunction kdrec_vec_reduce_partials", cuModuleGetFunction(&reduce, mod, "kdrec_vec_reduce_partials"), 0);
  expect("cuModuleGetFunction of an unknown name", cuModuleGetFunction(&nope, mod, "kdrec_no_such_kernel"), 500);
  const char* name = nullptr;
  expect("cuGetErrorName(719)", cuGetErrorName(719, &name), 0);
  expect("a stubbed function", stub(), 801);

  // vec_fill(long long n, float* y, float v) over n = 10 of an 11-float buffer: exact, y[10] untouched.
  CUdeviceptr y = 0;
  expect("cuMemAlloc 44 bytes", cuMemAlloc(&y, 44), 0);
  expect("allocation 16-byte aligned", (int)(y % 16), 0);
  expect("cuMemsetD32", cuMemsetD32(y, 0, 11), 0);
  long long n = 10;
  float v = 2.5f;
  void* args[] = {&n, &y, &v};
  expect("launch vec_fill", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr), 0);
  expect("launch vec_fill again", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr), 0);
  float host[11];
  expect("cuMemcpyDtoH", cuMemcpyDtoH(host, y, 44), 0);
  int good = host[10] == 0.f;
  for (int i = 0; i < 10; i++) good &= host[i] == 2.5f;
  expect("vec_fill wrote exactly y[0..10)", good, 1);
  n = 12;  // one float past the 44 bytes: inside the 16-byte rounding, caught by the canary
  expect("launch writing past the end (canary)", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr), 719);
  expect("cuMemcpyDtoH past the end", cuMemcpyDtoH(host, y, 48), 1);
  expect("cuMemcpyHtoD inside", cuMemcpyHtoD(y + 4, host, 40), 0);
  n = 10;
  expect("launch with 2048 threads", cuLaunchKernel(fill, 1, 1, 1, 2048, 1, 1, 0, nullptr, args, nullptr), 1);
  expect("launch with grid 0", cuLaunchKernel(fill, 0, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr), 1);
  expect("launch with both kernelParams and extra", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, args, args), 1);
  {  // the packed parameter buffer: n at 0, y at 8, v at 16, 20 bytes
    alignas(8) unsigned char pbuf[24] = {};
    const float v2 = 4.f;
    std::memcpy(pbuf, &n, 8);
    std::memcpy(pbuf + 8, &y, 8);
    std::memcpy(pbuf + 16, &v2, 4);
    size_t psize = 20;
    void* extra[] = {(void*)0x01, pbuf, (void*)0x02, &psize, nullptr};
    expect("launch vec_fill with a packed buffer", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, extra), 0);
    expect("cuMemcpyDtoH", cuMemcpyDtoH(host, y, 44), 0);
    good = host[10] == 2.5f;  // y[10] holds 2.5 from the copy above
    for (int i = 0; i < 10; i++) good &= host[i] == 4.f;
    expect("packed vec_fill wrote exactly y[0..10)", good, 1);
    psize = 24;
    expect("packed buffer of the wrong size (the real driver: out of resources)", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, extra), 701);
    void* noSize[] = {(void*)0x01, pbuf, nullptr};
    expect("packed buffer without its size", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, noSize), 1);
  }
  expect("launch with 64 KiB dynamic shared, not opted in", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 65536, nullptr, args, nullptr), 1);
  expect("cuFuncSetAttribute 64 KiB", cuFuncSetAttribute(fill, 8, 65536), 0);
  expect("launch with 64 KiB dynamic shared, opted in", cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 65536, nullptr, args, nullptr), 0);
  expect("cuFuncSetAttribute 228 KiB", cuFuncSetAttribute(fill, 8, 228 * 1024), 1);

  // sum over 1000 ones with a block reduction (barriers): threaded every time, twice.
  CUdeviceptr x = 0, part = 0, out = 0;
  std::vector<float> ones(1000, 1.f);
  cuMemAlloc(&x, 4000);
  cuMemAlloc(&part, 4 * 8);
  cuMemAlloc(&out, 8);
  cuMemcpyHtoD(x, ones.data(), 4000);
  n = 1000;
  void* sargs[] = {&n, &x, &part};
  int four = 4;
  void* rargs[] = {&part, &four, &out};
  for (int rep = 0; rep < 2; rep++) {
    expect("launch vec_sum_partial", cuLaunchKernel(sum, 4, 1, 1, 256, 1, 1, 0, nullptr, sargs, nullptr), 0);
    expect("launch vec_reduce_partials", cuLaunchKernel(reduce, 1, 1, 1, 64, 1, 1, 0, nullptr, rargs, nullptr), 0);
    double s = 0;
    cuMemcpyDtoH(&s, out, 8);
    expect("sum of 1000 ones", (int)s, 1000);
  }
  expect("vec_sum_partial with 512 threads (__launch_bounds__(256))",
         cuLaunchKernel(sum, 1, 1, 1, 512, 1, 1, 0, nullptr, sargs, nullptr), 1);

  // Freed memory: a launch and a copy are refused, a second free too.
  expect("cuMemFree", cuMemFree(x), 0);
  expect("cuMemFree again", cuMemFree(x), 1);
  expect("launch with a freed buffer", cuLaunchKernel(sum, 4, 1, 1, 256, 1, 1, 0, nullptr, sargs, nullptr), 1);
  expect("cuMemcpyHtoD into a freed buffer", cuMemcpyHtoD(x, ones.data(), 4), 1);
  expect("cuMemFree of an interior pointer", cuMemFree(y + 4), 1);
  expect("cuMemFree y", cuMemFree(y), 0);

  // The fast path's speed: a 65,536-block x 256 fill (the launch1d cap), sequential after its first launch.
  CUdeviceptr big = 0;
  long long nb = 65536LL * 256;
  expect("cuMemAlloc 64 MiB", cuMemAlloc(&big, (size_t)nb * 4), 0);
  void* bargs[] = {&nb, &big, &v};
  auto t0 = std::chrono::steady_clock::now();
  expect("launch a 65,536-block fill (sequential)", cuLaunchKernel(fill, 65536, 1, 1, 256, 1, 1, 0, nullptr, bargs, nullptr), 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("     (65,536 x 256 fill: %.2f s)\n", secs);
  float last = 0;
  cuMemcpyDtoH(&last, big + (nb - 1) * 4, 4);
  expect("its last element", (int)(last * 2), 5);
  cuMemFree(big);
  std::printf("%s: %d failure(s)\n", fails ? "FAIL" : "driver selftest passed", fails);
  return fails ? 1 : 0;
}

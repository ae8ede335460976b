// native/emu/driver/libcuda_emu.cpp — an emulated CUDA driver: a libcuda.so.1 that runs kdrec's kernels
// (every native/*.cu) on CPU threads through native/emu/cuda_shim.h, so the unchanged Java GPU path
// (JCuda's libJCudaDriver -> kdrec.gpu.Cuda -> the Gpu* wrappers -> the GPU tests) executes end to end on a
// machine without a GPU. Built by native/emu/driver/build.sh, which generates the kernel table this file
// includes (kdrec_emu_kernels.inc) from the `extern "C" __global__` declarations and the unity include
// (kdrec_emu_units.inc), and fails when a kernel of native/*.cu is missing from the table.
//
// What it implements (the driver API functions kdrec.gpu.Cuda calls through JCuda, under the symbol names
// JCuda 12.6 imports — e.g. cuMemAlloc_v2): cuInit, cuDriverGetVersion, cuDeviceGetCount/Get/GetName/
// GetAttribute/TotalMem_v2, cuDevicePrimaryCtxRetain/Release_v2, cuCtxSetCurrent/GetCurrent/Synchronize,
// cuModuleLoadData (the image is ignored), cuModuleGetFunction (table lookup; unknown name ->
// CUDA_ERROR_NOT_FOUND), cuFuncSetAttribute/GetAttribute, cuLaunchKernel, cuMemAlloc_v2/Free_v2,
// cuMemAllocHost_v2/FreeHost, cuMemcpyHtoD_v2/DtoH_v2/DtoD_v2, cuMemsetD32_v2/D8_v2, cuMemGetInfo_v2,
// cuGetErrorString/Name. Every other cu* symbol JCuda imports is a stub that returns
// CUDA_ERROR_NOT_SUPPORTED (kdrec_emu_stubs.inc, from unimplemented.txt), so the library also loads
// with LD_BIND_NOW.
//
// The device it reports: "kdrec CPU emulator (H100-like)", compute capability 9.0, 132 SMs, warp 32,
// 1024 threads per block, 48 KiB shared per block (227 KiB opt-in), 80 GiB.
//
// What it checks, returning the error a real driver returns (and one line on stderr saying why):
//  * cuInit first (CUDA_ERROR_NOT_INITIALIZED); a current context on the calling thread for memory and
//    launch calls (CUDA_ERROR_INVALID_CONTEXT), as the real driver: catches a thread that never bound.
//  * launch shape: grid/block dims 0 or over the limits, more threads than the kernel's
//    __launch_bounds__, dynamic shared bytes over the kernel's allowance (48 KiB unless raised with
//    cuFuncSetAttribute, at most 227 KiB). `extra` (a packed parameter buffer) is read as the driver
//    does, its size checked against the kernel's parameter types (unpack_extra).
//  * memory: device memory is host memory (CUdeviceptr = the address). Each allocation has its own
//    mapping with an inaccessible page after its (16-byte rounded) end and 16 canary bytes before it;
//    the bytes between the requested size and the 16-byte end are canaries too. cuMemFree of an
//    unknown pointer or a double free, a copy/memset outside one live allocation, and a kernel pointer
//    argument outside every live allocation (one-past-the-end allowed; NULL allowed) ->
//    CUDA_ERROR_INVALID_VALUE. After a launch the canaries of every buffer it was passed are checked
//    (an overrun by less than the 16-byte rounding) -> CUDA_ERROR_LAUNCH_FAILED. A freed allocation
//    stays inaccessible (quarantined) for the next 4096 frees.
//  * dynamic shared memory is exactly the launch's sharedBytes, poisoned before every block, with an
//    inaccessible page after its 16-byte rounding and canaries in the rounding (dyn_shared.h) -> a write
//    past it is CUDA_ERROR_LAUNCH_FAILED (a read or write further out faults). Static __shared__
//    variables are poisoned before every block run as fibers (a read before any write reads NaN / -1).
//  * inside a kernel: whatever cuda_shim.h reports (barrier/shuffle misuse, block over 1024 threads) ->
//    CUDA_ERROR_LAUNCH_FAILED, with the shim's message on stderr.
// What it cannot turn into an error code: a kernel that reads or writes past the inaccessible page
// (SIGSEGV: the JVM dies with an hs_err file whose top native frame names the kernel), a rendezvous
// that never completes (the shim aborts after EMU_TIMEOUT seconds, default 60). Timing, occupancy,
// the memory model and inter-block concurrency are not emulated (see cuda_shim.h); launches run
// synchronously, one at a time (one mutex: JCuda may be called from several Java threads), the threads of a
// block as fibers on one OS thread (fiber_sync.h) or, for kernels without barriers/collectives, in turn.
#include "cuda_shim.h"

#include <sys/mman.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <tuple>
#include <utility>

#include "dyn_shared.h"  // dynamic shared memory: views of one buffer sized per launch

#include "kdrec_emu_units.inc"  // generated: #include of every native/*.cu

namespace kdrec_emu_driver {

using CUresult = int;
constexpr CUresult SUCCESS = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101,
                   INVALID_CONTEXT = 201, INVALID_HANDLE = 400, NOT_FOUND = 500, LAUNCH_OUT_OF_RESOURCES = 701, LAUNCH_FAILED = 719,
                   NOT_SUPPORTED = 801;
constexpr int kShared = 48 * 1024, kSharedOptin = 227 * 1024;
constexpr const char* kName = "kdrec CPU emulator (H100-like, libcuda_emu)";

template <class... A> void say(const char* fmt, A... a) {
  std::lock_guard<decltype(emu::print_mu)> g(emu::print_mu);
  std::fprintf(stderr, "libcuda_emu: ");
  std::fprintf(stderr, fmt, a...);
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

std::atomic<bool> initialized{false};
thread_local bool ctx_current = false;
int primary_ctx_token, module_token;  // their addresses are the CUcontext / CUmodule handles

// ---------------------------------------------------------------- memory
constexpr unsigned char kCanary = 0xA5;
constexpr size_t kFront = 16;
struct Alloc {
  size_t bytes;     // as requested
  char* map;        // the whole mapping: [guard page][front canary | data | tail canary][guard page]
  size_t map_len;
};
std::mutex mem_mu;
std::map<uintptr_t, Alloc> live;        // by the device pointer handed out
std::deque<std::pair<char*, size_t>> quarantine;
std::map<uintptr_t, size_t> freed_recent;  // base -> bytes of quarantined allocations, for messages
size_t live_bytes = 0;
const size_t kPage = (size_t)sysconf(_SC_PAGESIZE);

size_t round16(size_t n) { return (n + 15) & ~size_t(15); }

bool canaries_ok(uintptr_t p, const Alloc& a) {
  const unsigned char* d = reinterpret_cast<const unsigned char*>(p);
  for (size_t i = 1; i <= kFront; i++)
    if (d[-(long)i] != kCanary) return false;
  for (size_t i = a.bytes; i < round16(a.bytes); i++)
    if (d[i] != kCanary) return false;
  return true;
}

// The live allocation holding [p, p + n) (n == 0: p may be one past the end); nullptr if none.
const Alloc* find_locked(uintptr_t p, size_t n, uintptr_t* base) {
  auto it = live.upper_bound(p);
  if (it == live.begin()) return nullptr;
  --it;
  if (p < it->first || p - it->first > it->second.bytes || n > it->second.bytes - (p - it->first)) return nullptr;
  if (base) *base = it->first;
  return &it->second;
}

std::string describe_ptr_locked(uintptr_t p) {
  auto it = freed_recent.upper_bound(p);
  if (it != freed_recent.begin()) {
    --it;
    if (p >= it->first && p - it->first <= it->second) return "inside a FREED allocation";
  }
  auto lt = live.upper_bound(p);
  if (lt != live.begin()) {
    --lt;
    if (p >= lt->first) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%zu bytes past the start of a live allocation of %zu bytes",
                    (size_t)(p - lt->first), lt->second.bytes);
      return buf;
    }
  }
  return "not in any allocation";
}

bool check_range(const char* what, uintptr_t p, size_t n) {
  std::lock_guard<std::mutex> g(mem_mu);
  if (find_locked(p, n, nullptr)) return true;
  say("%s: device range [0x%zx, +%zu) is not inside one live allocation (0x%zx is %s)", what, (size_t)p, n,
      (size_t)p, describe_ptr_locked(p).c_str());
  return false;
}

CUresult mem_alloc(uintptr_t* out, size_t bytes) {
  if (bytes == 0) return INVALID_VALUE;
  const size_t body = kFront + round16(bytes);
  const size_t pages = (body + kPage - 1) / kPage;
  const size_t len = (pages + 2) * kPage;
  void* m = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return OUT_OF_MEMORY;
  char* map = static_cast<char*>(m);
  if (mprotect(map + kPage, pages * kPage, PROT_READ | PROT_WRITE) != 0) {
    munmap(map, len);
    return OUT_OF_MEMORY;
  }
  char* end = map + kPage + pages * kPage;  // the guard page starts here
  char* p = end - round16(bytes);           // 16-byte aligned (end is page aligned)
  std::memset(p - kFront, kCanary, kFront);
  std::memset(p + bytes, kCanary, round16(bytes) - bytes);
  std::lock_guard<std::mutex> g(mem_mu);
  live[(uintptr_t)p] = Alloc{bytes, map, len};
  freed_recent.erase((uintptr_t)p);
  live_bytes += bytes;
  *out = (uintptr_t)p;
  return SUCCESS;
}

CUresult mem_free(uintptr_t p) {
  std::lock_guard<std::mutex> g(mem_mu);
  auto it = live.find(p);
  if (it == live.end()) {
    say("cuMemFree(0x%zx): not the start of a live allocation (%s)", (size_t)p, describe_ptr_locked(p).c_str());
    return INVALID_VALUE;
  }
  const Alloc a = it->second;
  const bool ok = canaries_ok(p, a);
  live.erase(it);
  live_bytes -= a.bytes;
  // Quarantine: inaccessible (a later use faults) and its pages returned, unmapped 4096 frees later.
  mprotect(a.map, a.map_len, PROT_NONE);
  madvise(a.map, a.map_len, MADV_DONTNEED);
  quarantine.emplace_back(a.map, a.map_len);
  freed_recent[p] = a.bytes;
  if (quarantine.size() > 4096) {
    auto [m, len] = quarantine.front();
    quarantine.pop_front();
    munmap(m, len);
    for (auto f = freed_recent.begin(); f != freed_recent.end();)
      f = (f->first >= (uintptr_t)m && f->first < (uintptr_t)m + len) ? freed_recent.erase(f) : std::next(f);
  }
  if (!ok) {
    say("cuMemFree(0x%zx): the canary bytes around this %zu-byte allocation were overwritten (a write just before "
        "its start or past its end)", (size_t)p, a.bytes);
    return INVALID_VALUE;
  }
  return SUCCESS;
}

// ---------------------------------------------------------------- dynamic shared memory (dyn_shared.h)
// One mapping: 227 KiB (+16 for rounding) readable, then an inaccessible page. A launch's sharedBytes end
// (rounded up to 16) right before that page; the rounding holds canaries.
char* dyn_region_end = nullptr;
size_t dyn_bytes = 0;
void set_dyn_shared(size_t shared) {
  if (!dyn_region_end) {
    const size_t body = (kSharedOptin + 16 + kPage - 1) / kPage * kPage;
    void* m = mmap(nullptr, body + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      say("cannot map the dynamic shared memory buffer");
      std::abort();
    }
    mprotect(static_cast<char*>(m) + body, kPage, PROT_NONE);
    dyn_region_end = static_cast<char*>(m) + body;
  }
  dyn_bytes = shared;
  kdrec_emu_dyn_shared = reinterpret_cast<unsigned char*>(dyn_region_end - round16(shared));
}
// Before each block: poison the block's dynamic shared memory (its contents are undefined on the GPU).
void poison_dyn_shared() {
  std::memset(kdrec_emu_dyn_shared, 0xFF, dyn_bytes);
  std::memset(kdrec_emu_dyn_shared + dyn_bytes, kCanary, round16(dyn_bytes) - dyn_bytes);
}
// After each block: did it write past its sharedBytes (into the rounding)?
void check_dyn_shared() {
  for (size_t i = dyn_bytes; i < round16(dyn_bytes); i++)
    if (kdrec_emu_dyn_shared[i] != kCanary) {
      emu::error("wrote dynamic shared memory past the %zu bytes the launch gave (sharedBytes)", dyn_bytes);
      return;
    }
}

// Static __shared__ variables (registered by build.sh's rewrite, dyn_shared.h): the shim makes them C++
// statics, which keep what the previous block left. Poisoned (0xFF: NaN floats, -1 ints) before every
// block run as fibers, since a GPU block's shared memory starts undefined: a kernel reading static
// shared memory before writing it reads poison instead of a neighbour block's values. (Sequential
// kernels meet no barrier, so threads cannot share through it; they are not poisoned, keeping
// 65,536-block grids cheap.) A variable registers on its kernel's first run, so that block is not.
std::mutex shared_mu;
std::vector<std::pair<unsigned char*, size_t>> static_shared;
void poison_static_shared() {
  std::lock_guard<std::mutex> g(shared_mu);
  for (auto& [p, n] : static_shared) std::memset(p, 0xFF, n);
}

// ---------------------------------------------------------------- kernels
struct Kernel;
using Thunk = CUresult (*)(const Kernel&, void**, dim3, dim3, size_t);
struct Kernel {
  const char* name;
  int max_threads;           // __launch_bounds__ (1024 when none)
  Thunk run;
  int max_dynamic_shared;    // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
  std::string signature;     // signature_of(the kernel)
  // Whether the kernel's call graph reaches a barrier or warp collective (build.sh's -O0 call-graph pass):
  // false -> its threads run one after another (see "two ways to run a grid"). Guarded by launch_mu.
  bool syncs;
};

std::mutex launch_mu;

// ---- two ways to run a grid
// Fibers (launch_fibers): cuda_shim.h's model — every CUDA thread its own thread of control with its own
// stack, blocks in turn, barriers and warp rendezvous exactly as the shim defines them — with the threads
// of a block as fibers on one OS thread (fiber_sync.h says why: OS threads made the GPU tests take hours).
// Sequential (launch_sequential): a kernel that never meets a barrier or warp collective cannot tell its
// threads apart from the same threads run one after another, which is cheaper still (a 65,536-block grid
// of 256 threads in ~0.3 s). build.sh decides which kernels those are, statically: it compiles the kernels
// at -O0 without inlining and follows every call from each kernel; one that reaches neither
// emu::block_barrier (__syncthreads*) nor emu::collective (shuffles, votes, match, reduce, __syncwarp)
// runs each block's threads in turn (each thread alone: a block barrier of 1 thread, a warp of 1 lane).
// Should such a thread meet one anyway (only an indirect call could hide it), that is detected when it
// returns: the launch fails with CUDA_ERROR_LAUNCH_FAILED and a message, and the kernel runs as fibers
// from then on. KDREC_EMU_SEQUENTIAL=0 runs every kernel as fibers.

// The order blocks run in: launch order (x fastest, then y, z) or, with KDREC_EMU_BLOCK_ORDER=reverse,
// the reverse — a kernel whose result depends on which block runs first (it must not: on the GPU blocks
// run in any order and concurrently) then gives a different answer.
bool reverse_blocks() {
  static const bool on = [] {
    const char* e = std::getenv("KDREC_EMU_BLOCK_ORDER");
    return e && std::strcmp(e, "reverse") == 0;
  }();
  return on;
}
dim3 block_index(unsigned long long b, dim3 grid) {
  if (reverse_blocks()) b = (unsigned long long)grid.x * grid.y * grid.z - 1 - b;
  return dim3((unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y)));
}

// Fibers: the CUDA threads of a block as fibers on one OS thread (see fiber_sync.h). Stacks come
// from a pool kept across launches (used under launch_mu only): 512 KiB each, lazily committed, with an
// inaccessible lowest page so an overflow faults instead of corrupting the neighbour.
constexpr size_t kFiberStack = 512 * 1024;
std::vector<char*> fiber_stacks;
char* fiber_stack(size_t i) {
  while (fiber_stacks.size() <= i) {
    void* m = mmap(nullptr, kFiberStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      say("cannot map a fiber stack");
      std::abort();
    }
    mprotect(m, kPage, PROT_NONE);
    fiber_stacks.push_back(static_cast<char*>(m));
  }
  return fiber_stacks[i];
}

// The context switch: glibc's swapcontext makes a sigprocmask system call per switch, which was 80% of
// the time (a block_sum over 256 threads switches ~10,000 times). This one saves the callee-saved
// registers, MXCSR and the x87 control word on the old stack and resumes the new one (x86-64 SysV).
extern "C" void kdrec_emu_fiber_switch(void** save_sp, void* new_sp);
asm(R"(
  .text
  .globl kdrec_emu_fiber_switch
  .hidden kdrec_emu_fiber_switch
  .type kdrec_emu_fiber_switch,@function
kdrec_emu_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size kdrec_emu_fiber_switch, .-kdrec_emu_fiber_switch
)");

struct FiberLaunch {
  void* sched_sp = nullptr;
  std::vector<void*> sp;
  std::vector<unsigned char> done;
  const std::function<void()>* body = nullptr;
  unsigned cur = 0;
};
thread_local FiberLaunch* fiber_launch = nullptr;

void fiber_yield() {
  FiberLaunch* L = fiber_launch;
  kdrec_emu_fiber_switch(&L->sp[L->cur], L->sched_sp);
}

[[noreturn]] void fiber_entry() {
  FiberLaunch* L = fiber_launch;
  (*L->body)();
  emu::thread_exit();
  L->done[L->cur] = 1;
  void* dead;
  kdrec_emu_fiber_switch(&dead, L->sched_sp);  // never resumed
  std::abort();
}

// A fresh fiber on stack i: the frame kdrec_emu_fiber_switch pops (MXCSR/x87 word, six registers), then
// fiber_entry as the return address, aligned as if fiber_entry had been called.
void* fiber_init(size_t i) {
  char* top = fiber_stack(i) + kFiberStack;
  uintptr_t sp = ((uintptr_t)top - 64) & ~uintptr_t(15);  // 16-aligned, with room above
  sp -= 8;                                                // fiber_entry's entry rsp = sp + 64 ≡ 8 (mod 16)
  void** f = reinterpret_cast<void**>(sp - 64);
  uint32_t csr;
  uint16_t cw;
  asm volatile("stmxcsr %0" : "=m"(csr));
  asm volatile("fnstcw %0" : "=m"(cw));
  std::memcpy(reinterpret_cast<char*>(f), &csr, 4);
  std::memcpy(reinterpret_cast<char*>(f) + 4, &cw, 2);
  for (int r = 1; r <= 6; r++) f[r] = nullptr;  // r15 r14 r13 r12 rbx rbp
  f[7] = reinterpret_cast<void*>(&fiber_entry);
  return f;
}

// Runs blocks [first, end) of the grid, each block's threads as fibers polled round-robin (a fiber runs
// until it waits at a barrier/rendezvous or returns). Returns whether any barrier or warp collective ran.
bool launch_fibers(dim3 grid, dim3 block, const std::function<void()>& body, unsigned long long first,
                   unsigned long long end) {
  bool synced = false;
  std::thread runner([&] {
    const unsigned nt = block.x * block.y * block.z;
    gridDim = grid;
    blockDim = block;
    emu::Block blk((int)nt);
    emu::cur_block = &blk;
    FiberLaunch L;
    L.sp.assign(nt, nullptr);
    L.done.assign(nt, 0);
    L.body = &body;
    fiber_launch = &L;
    emu_fiber::in_fiber = true;
    emu_fiber::yield_fn = &fiber_yield;
    for (unsigned long long b = first; b < end; b++) {
      blockIdx = block_index(b, grid);
      poison_dyn_shared();
      poison_static_shared();
      for (unsigned t = 0; t < nt; t++) {
        L.sp[t] = fiber_init(t);
        L.done[t] = 0;
      }
      for (unsigned remaining = nt; remaining > 0;) {
        for (unsigned t = 0; t < nt; t++) {
          if (L.done[t]) continue;
          threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
          emu::cur_tid = (int)t;
          L.cur = t;
          kdrec_emu_fiber_switch(&L.sched_sp, L.sp[t]);
          if (L.done[t]) remaining--;
        }
      }
      check_dyn_shared();
      if (blk.gen != 0) synced = true;
      for (auto& w : blk.warps)
        if (!w.groups.empty()) synced = true;
      blk.reset((int)nt);
    }
    emu_fiber::in_fiber = false;
    fiber_launch = nullptr;
  });
  runner.join();
  return synced;
}

// Every thread of every block in turn on one OS thread. Returns false (and stops) when a thread met a
// barrier or a warp collective, which this path cannot honour.
// Runs blocks [first, end) of the grid.
bool launch_sequential(dim3 grid, dim3 block, const std::function<void()>& body, unsigned long long first,
                       unsigned long long end) {
  const unsigned nt = block.x * block.y * block.z;
  bool ok = true;
  // A thread of its own: an 8 MiB stack like the threaded path's (a JNI caller's may be smaller).
  std::thread runner([&] {
    gridDim = grid;
    blockDim = block;
    emu::Block blk((int)nt);
    emu::cur_block = &blk;
    for (auto& w : blk.warps) w.live = 0;
    for (unsigned long long b = first; b < end && ok; b++) {
      blockIdx = block_index(b, grid);
      poison_dyn_shared();
      for (unsigned t = 0; t < nt; t++) {
        threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
        emu::cur_tid = (int)t;
        emu::Warp& w = blk.warps[t >> 5];
        w.live = 1u << (t & 31);  // alone in its warp: a collective completes at once (and is seen below)
        blk.live = 1;             // alone in its block: a barrier completes at once (gen moves)
        const long gen0 = blk.gen;
        body();
        w.live = 0;
        if (blk.gen != gen0 || !w.groups.empty()) {
          ok = false;
          break;
        }
      }
      check_dyn_shared();
    }
  });
  runner.join();
  return ok;
}

bool sequential_allowed() {
  static const bool on = [] {
    const char* e = std::getenv("KDREC_EMU_SEQUENTIAL");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

template <class T> T load_param(void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <class... A, size_t... I>
CUresult run_kernel(void (*f)(A...), const Kernel& k, void** params, std::index_sequence<I...>, dim3 g, dim3 b,
                    size_t shared) {
  if (sizeof...(A) > 0 && params == nullptr) {
    say("kernel %s: kernelParams is NULL but the kernel has %zu parameters", k.name, sizeof...(A));
    return INVALID_VALUE;
  }
  std::tuple<A...> args{load_param<A>(params[I])...};
  // Every pointer argument must point into a live allocation (or one past its end, or be NULL).
  std::vector<uintptr_t> bases;
  bool ok = true;
  auto check_ptr = [&](size_t i, auto v) {
    if constexpr (std::is_pointer_v<decltype(v)>) {
      const uintptr_t p = (uintptr_t)v;
      if (p == 0) return;
      std::lock_guard<std::mutex> lk(mem_mu);
      uintptr_t base = 0;
      if (find_locked(p, 0, &base)) {
        bases.push_back(base);
      } else {
        say("kernel %s: pointer argument %zu (0x%zx) is %s", k.name, i, (size_t)p, describe_ptr_locked(p).c_str());
        ok = false;
      }
    }
  };
  (check_ptr(I, std::get<I>(args)), ...);
  if (!ok) return INVALID_VALUE;
  const long errors_before = emu::errors.load();
  Kernel& km = const_cast<Kernel&>(k);  // its fast-path flags; launch_mu is held
  const std::function<void()> body = [&] { std::apply(f, args); };
  set_dyn_shared(shared);
  const unsigned long long nblocks = (unsigned long long)g.x * g.y * g.z;
  if (!sequential_allowed() || km.syncs) {
    launch_fibers(g, b, body, 0, nblocks);
  } else if (!launch_sequential(g, b, body, 0, nblocks)) {
    km.syncs = true;
    say("kernel %s met __syncthreads or a warp collective on the sequential path although build.sh's call graph "
        "says it cannot (an indirect call?): this launch's results are invalid; it runs as fibers from now on "
        "(KDREC_EMU_SEQUENTIAL=0 turns the sequential path off)", k.name);
    return LAUNCH_FAILED;
  }
  if (emu::errors.load() != errors_before) {
    say("kernel %s (grid %u,%u,%u block %u,%u,%u shared %zu): the emulator reported errors (above)", k.name, g.x,
        g.y, g.z, b.x, b.y, b.z, shared);
    return LAUNCH_FAILED;
  }
  std::lock_guard<std::mutex> lk(mem_mu);
  for (uintptr_t base : bases) {
    auto it = live.find(base);
    if (it != live.end() && !canaries_ok(base, it->second)) {
      say("kernel %s: wrote just before the start or past the end of the %zu-byte allocation at 0x%zx (canary "
          "overwritten)", k.name, it->second.bytes, (size_t)base);
      std::memset(reinterpret_cast<char*>(base) - kFront, kCanary, kFront);  // report once
      std::memset(reinterpret_cast<char*>(base) + it->second.bytes, kCanary,
                  round16(it->second.bytes) - it->second.bytes);
      return LAUNCH_FAILED;
    }
  }
  return SUCCESS;
}

// The kernel's C parameter types, one code each, comma-separated: p (pointer), i4 (int/unsigned), i8
// (long long), f4 (float), f8 (double), ? (other) — for GpuLaunchCheck, which compares them with the
// Java argument types of each launch (JCuda passes each argument as bytes; a Java int where the kernel
// takes a long long reads 4 garbage bytes on a real GPU too, with no error).
template <class T> constexpr const char* type_code() {
  if constexpr (std::is_pointer_v<T>) return "p";
  else if constexpr (std::is_same_v<T, float>) return "f4";
  else if constexpr (std::is_same_v<T, double>) return "f8";
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) return "i4";
  else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) return "i8";
  else return "?";
}
template <class... A> std::string signature_of(void (*)(A...)) {
  std::string s;
  ((s += (s.empty() ? "" : ","), s += type_code<A>()), ...);
  return s;
}

template <auto F> CUresult thunk(const Kernel& k, void** params, dim3 g, dim3 b, size_t shared) {
  return []<class... A>(void (*f)(A...), const Kernel& kk, void** p, dim3 gg, dim3 bb, size_t sh) {
    return run_kernel(f, kk, p, std::index_sequence_for<A...>{}, gg, bb, sh);
  }(F, k, params, g, b, shared);
}

// cuLaunchKernel's `extra`: {CU_LAUNCH_PARAM_BUFFER_POINTER, buf, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
// CU_LAUNCH_PARAM_END} in either order. The parameters lie in buf each at the next offset aligned to its
// own size (8 for pointers, long long, double; 4 for int, float), as the driver reads them; size must be
// exactly the end of the last one (a mismatch is how a wrong layout shows: LAUNCH_OUT_OF_RESOURCES, as the
// real driver). Fills `out` with one pointer per parameter into buf. Both kernelParams and extra, an
// unknown key or a missing entry -> INVALID_VALUE.
CUresult unpack_extra(const Kernel& k, void** params, void** extra, std::vector<void*>& out) {
  if (params != nullptr) {
    say("kernel %s: both kernelParams and extra given", k.name);
    return INVALID_VALUE;
  }
  char* buf = nullptr;
  const size_t* size = nullptr;
  for (int i = 0; extra[i] != nullptr; i += 2) {
    if (extra[i] == reinterpret_cast<void*>(0x01)) buf = static_cast<char*>(extra[i + 1]);
    else if (extra[i] == reinterpret_cast<void*>(0x02)) size = static_cast<const size_t*>(extra[i + 1]);
    else {
      say("kernel %s: unknown extra launch parameter key %p", k.name, extra[i]);
      return INVALID_VALUE;
    }
    if (i > 8) {
      say("kernel %s: extra launch parameters not terminated by CU_LAUNCH_PARAM_END", k.name);
      return INVALID_VALUE;
    }
  }
  if (buf == nullptr || size == nullptr) {
    say("kernel %s: extra needs CU_LAUNCH_PARAM_BUFFER_POINTER and CU_LAUNCH_PARAM_BUFFER_SIZE", k.name);
    return INVALID_VALUE;
  }
  size_t off = 0;
  for (size_t at = 0; at < k.signature.size();) {
    size_t comma = k.signature.find(',', at);
    if (comma == std::string::npos) comma = k.signature.size();
    const std::string code = k.signature.substr(at, comma - at);
    at = comma + 1;
    const size_t bytes = code == "p" || code == "i8" || code == "f8" ? 8 : code == "i4" || code == "f4" ? 4 : 0;
    if (bytes == 0) {
      say("kernel %s: parameter type '%s' cannot be passed in a packed buffer here", k.name, code.c_str());
      return INVALID_VALUE;
    }
    off = (off + bytes - 1) & ~(bytes - 1);
    out.push_back(buf + off);
    off += bytes;
  }
  if (*size != off) {  // the real driver's answer to a wrong size: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES
    say("kernel %s: packed parameter buffer of %zu bytes, but its parameters (%s) take %zu", k.name, *size,
        k.signature.c_str(), off);
    return LAUNCH_OUT_OF_RESOURCES;
  }
  return SUCCESS;
}

#define KDREC_EMU_KERNEL(fn, bound, syncs) Kernel{#fn, (bound), &thunk<&::fn>, kShared, signature_of(&::fn), (syncs) != 0},
Kernel kernels[] = {
#include "kdrec_emu_kernels.inc"  // generated: KDREC_EMU_KERNEL(kdrec_x, launch_bound, syncs) per kernel
};
#undef KDREC_EMU_KERNEL
constexpr size_t kNumKernels = sizeof kernels / sizeof kernels[0];

Kernel* as_kernel(void* f) {
  for (auto& k : kernels)
    if (&k == f) return &k;
  return nullptr;
}

const char* error_name(int e) {
  switch (e) {
    case 0: return "CUDA_SUCCESS";
    case 1: return "CUDA_ERROR_INVALID_VALUE";
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 100: return "CUDA_ERROR_NO_DEVICE";
    case 101: return "CUDA_ERROR_INVALID_DEVICE";
    case 200: return "CUDA_ERROR_INVALID_IMAGE";
    case 201: return "CUDA_ERROR_INVALID_CONTEXT";
    case 400: return "CUDA_ERROR_INVALID_HANDLE";
    case 500: return "CUDA_ERROR_NOT_FOUND";
    case 700: return "CUDA_ERROR_ILLEGAL_ADDRESS";
    case 701: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
    case 719: return "CUDA_ERROR_LAUNCH_FAILED";
    case 801: return "CUDA_ERROR_NOT_SUPPORTED";
    case 999: return "CUDA_ERROR_UNKNOWN";
    default: return nullptr;
  }
}
const char* error_string(int e) {
  switch (e) {
    case 0: return "no error";
    case 1: return "invalid argument (kdrec emulator: see the libcuda_emu line on stderr)";
    case 2: return "out of memory";
    case 3: return "initialization error";
    case 101: return "invalid device ordinal";
    case 201: return "invalid device context (kdrec emulator: no current context on this thread)";
    case 400: return "invalid resource handle";
    case 500: return "named symbol not found";
    case 719: return "unspecified launch failure (kdrec emulator: see the libcuda_emu line on stderr)";
    case 801: return "operation not supported (not emulated by libcuda_emu)";
    default: return error_name(e);
  }
}

// The stubs' body: say once per function that it is not emulated.
inline CUresult not_emulated(const char* fn) {
  static std::mutex mu;
  static std::vector<std::string> said;
  std::lock_guard<std::mutex> g(mu);
  if (std::find(said.begin(), said.end(), fn) == said.end()) {
    said.emplace_back(fn);
    say("%s is not emulated (CUDA_ERROR_NOT_SUPPORTED)", fn);
  }
  return NOT_SUPPORTED;
}

CUresult need_ctx() {
  if (!initialized.load()) return NOT_INITIALIZED;
  return ctx_current ? SUCCESS : INVALID_CONTEXT;
}

}  // namespace kdrec_emu_driver

bool kdrec_emu_register_shared(void* p, std::size_t bytes) {
  std::lock_guard<std::mutex> g(kdrec_emu_driver::shared_mu);
  kdrec_emu_driver::static_shared.emplace_back(static_cast<unsigned char*>(p), bytes);
  return true;
}

// ---------------------------------------------------------------- the exported driver API
namespace d = kdrec_emu_driver;
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;

#define KDREC_EMU_API extern "C" __attribute__((visibility("default")))

KDREC_EMU_API CUresult cuInit(unsigned flags) {
  if (flags != 0) return d::INVALID_VALUE;
  d::initialized = true;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDriverGetVersion(int* v) {
  if (!v) return d::INVALID_VALUE;
  *v = 12060;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDeviceGetCount(int* n) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (!n) return d::INVALID_VALUE;
  *n = 1;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDeviceGet(CUdevice* dev, int ordinal) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (!dev) return d::INVALID_VALUE;
  if (ordinal != 0) return d::INVALID_DEVICE;
  *dev = 0;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (dev != 0) return d::INVALID_DEVICE;
  if (!name || len <= 0) return d::INVALID_VALUE;
  std::snprintf(name, (size_t)len, "%s", d::kName);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (dev != 0) return d::INVALID_DEVICE;
  if (!bytes) return d::INVALID_VALUE;
  *bytes = 80ull << 30;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice dev) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (dev != 0) return d::INVALID_DEVICE;
  if (!v) return d::INVALID_VALUE;
  switch (attr) {
    case 1: *v = 1024; break;                          // MAX_THREADS_PER_BLOCK
    case 2: case 3: *v = 1024; break;                  // MAX_BLOCK_DIM_X/Y
    case 4: *v = 64; break;                            // MAX_BLOCK_DIM_Z
    case 5: *v = 2147483647; break;                    // MAX_GRID_DIM_X
    case 6: case 7: *v = 65535; break;                 // MAX_GRID_DIM_Y/Z
    case 8: *v = d::kShared; break;                    // MAX_SHARED_MEMORY_PER_BLOCK
    case 9: *v = 65536; break;                         // TOTAL_CONSTANT_MEMORY
    case 10: *v = 32; break;                           // WARP_SIZE
    case 12: *v = 65536; break;                        // MAX_REGISTERS_PER_BLOCK
    case 13: *v = 1980000; break;                      // CLOCK_RATE (kHz)
    case 16: *v = 132; break;                          // MULTIPROCESSOR_COUNT
    case 38: *v = 50 << 20; break;                     // L2_CACHE_SIZE
    case 39: *v = 2048; break;                         // MAX_THREADS_PER_MULTIPROCESSOR
    case 41: *v = 1; break;                            // UNIFIED_ADDRESSING
    case 75: *v = 9; break;                            // COMPUTE_CAPABILITY_MAJOR
    case 76: *v = 0; break;                            // COMPUTE_CAPABILITY_MINOR
    case 81: *v = 228 * 1024; break;                   // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    case 82: *v = 65536; break;                        // MAX_REGISTERS_PER_MULTIPROCESSOR
    case 97: *v = d::kSharedOptin; break;              // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    default: *v = 0; break;                            // everything else: not supported / 0
  }
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice dev) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (dev != 0) return d::INVALID_DEVICE;
  if (!ctx) return d::INVALID_VALUE;
  *ctx = &d::primary_ctx_token;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  return dev == 0 ? d::SUCCESS : d::INVALID_DEVICE;
}
KDREC_EMU_API CUresult cuCtxSetCurrent(void* ctx) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (ctx != nullptr && ctx != &d::primary_ctx_token) return d::INVALID_CONTEXT;
  d::ctx_current = ctx != nullptr;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuCtxGetCurrent(void** ctx) {
  if (!d::initialized) return d::NOT_INITIALIZED;
  if (!ctx) return d::INVALID_VALUE;
  *ctx = d::ctx_current ? &d::primary_ctx_token : nullptr;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuCtxSynchronize() { return d::need_ctx(); }  // launches are synchronous

KDREC_EMU_API CUresult cuModuleLoadData(void** module, const void* image) {
  if (CUresult r = d::need_ctx()) return r;
  if (!module || !image) return d::INVALID_VALUE;
  *module = &d::module_token;  // the fatbin is not read: every kernel of native/*.cu is compiled in
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuModuleGetFunction(void** f, void* module, const char* name) {
  if (CUresult r = d::need_ctx()) return r;
  if (!f || !name) return d::INVALID_VALUE;
  if (module != &d::module_token) return d::INVALID_HANDLE;
  for (auto& k : d::kernels)
    if (std::strcmp(k.name, name) == 0) {
      *f = &k;
      return d::SUCCESS;
    }
  return d::NOT_FOUND;
}
KDREC_EMU_API CUresult cuFuncSetAttribute(void* f, int attr, int value) {
  if (CUresult r = d::need_ctx()) return r;
  d::Kernel* k = d::as_kernel(f);
  if (!k) return d::INVALID_HANDLE;
  if (attr == 8) {  // MAX_DYNAMIC_SHARED_SIZE_BYTES
    if (value < 0 || value > d::kSharedOptin) {
      d::say("cuFuncSetAttribute(%s, MAX_DYNAMIC_SHARED_SIZE_BYTES, %d): over the %d-byte opt-in limit", k->name,
             value, d::kSharedOptin);
      return d::INVALID_VALUE;
    }
    k->max_dynamic_shared = value;
    return d::SUCCESS;
  }
  if (attr == 9) return d::SUCCESS;  // PREFERRED_SHARED_MEMORY_CARVEOUT: a hint
  return d::INVALID_VALUE;
}
KDREC_EMU_API CUresult cuFuncGetAttribute(int* v, int attr, void* f) {
  if (CUresult r = d::need_ctx()) return r;
  d::Kernel* k = d::as_kernel(f);
  if (!k) return d::INVALID_HANDLE;
  if (!v) return d::INVALID_VALUE;
  switch (attr) {
    case 0: *v = k->max_threads; return d::SUCCESS;         // MAX_THREADS_PER_BLOCK
    case 8: *v = k->max_dynamic_shared; return d::SUCCESS;  // MAX_DYNAMIC_SHARED_SIZE_BYTES
    default: *v = 0; return d::SUCCESS;
  }
}

KDREC_EMU_API CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                      unsigned bz, unsigned shared, void* stream, void** params, void** extra) {
  if (CUresult r = d::need_ctx()) return r;
  d::Kernel* k = d::as_kernel(f);
  if (!k) return d::INVALID_HANDLE;
  (void)stream;  // every stream is the default one: launches are synchronous here
  std::vector<void*> packed;  // extra's parameter buffer, one pointer per parameter into it
  if (extra != nullptr) {
    if (CUresult r = d::unpack_extra(*k, params, extra, packed)) return r;
    params = packed.data();
  }
  const unsigned long long threads = (unsigned long long)bx * by * bz;
  if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || gx > 2147483647u || gy > 65535 ||
      gz > 65535 || bx > 1024 || by > 1024 || bz > 64 || threads > 1024) {
    d::say("kernel %s: invalid launch shape grid (%u,%u,%u) block (%u,%u,%u)", k->name, gx, gy, gz, bx, by, bz);
    return d::INVALID_VALUE;
  }
  if (threads > (unsigned long long)k->max_threads) {
    d::say("kernel %s: %llu threads per block but __launch_bounds__ allows %d", k->name, threads, k->max_threads);
    return d::INVALID_VALUE;
  }
  if ((int)shared > k->max_dynamic_shared || shared > (unsigned)d::kSharedOptin) {
    d::say("kernel %s: %u bytes of dynamic shared memory but the kernel may use %d (cuFuncSetAttribute raises it "
           "up to %d)", k->name, shared, k->max_dynamic_shared, d::kSharedOptin);
    return d::INVALID_VALUE;
  }
  std::lock_guard<std::mutex> g(d::launch_mu);
  return k->run(*k, params, dim3(gx, gy, gz), dim3(bx, by, bz), shared);
}

KDREC_EMU_API CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
  if (CUresult r = d::need_ctx()) return r;
  if (!p) return d::INVALID_VALUE;
  uintptr_t a = 0;
  CUresult r = d::mem_alloc(&a, bytes);
  if (r == d::SUCCESS) *p = a;
  return r;
}
KDREC_EMU_API CUresult cuMemFree_v2(CUdeviceptr p) {
  if (CUresult r = d::need_ctx()) return r;
  if (p == 0) return d::SUCCESS;
  return d::mem_free((uintptr_t)p);
}
KDREC_EMU_API CUresult cuMemGetInfo_v2(size_t* free_b, size_t* total) {
  if (CUresult r = d::need_ctx()) return r;
  std::lock_guard<std::mutex> g(d::mem_mu);
  if (total) *total = 80ull << 30;
  if (free_b) *free_b = (80ull << 30) - std::min(d::live_bytes, (size_t)(80ull << 30));
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemAllocHost_v2(void** p, size_t bytes) {
  if (CUresult r = d::need_ctx()) return r;
  if (!p || bytes == 0) return d::INVALID_VALUE;
  void* m = std::aligned_alloc(4096, (bytes + 4095) & ~size_t(4095));
  if (!m) return d::OUT_OF_MEMORY;
  *p = m;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemFreeHost(void* p) {
  if (CUresult r = d::need_ctx()) return r;
  std::free(p);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  if (CUresult r = d::need_ctx()) return r;
  if (n == 0) return d::SUCCESS;
  if (!src || !d::check_range("cuMemcpyHtoD", (uintptr_t)dst, n)) return d::INVALID_VALUE;
  std::memcpy(reinterpret_cast<void*>(dst), src, n);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  if (CUresult r = d::need_ctx()) return r;
  if (n == 0) return d::SUCCESS;
  if (!dst || !d::check_range("cuMemcpyDtoH", (uintptr_t)src, n)) return d::INVALID_VALUE;
  std::memcpy(dst, reinterpret_cast<const void*>(src), n);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
  if (CUresult r = d::need_ctx()) return r;
  if (n == 0) return d::SUCCESS;
  if (!d::check_range("cuMemcpyDtoD (source)", (uintptr_t)src, n) ||
      !d::check_range("cuMemcpyDtoD (destination)", (uintptr_t)dst, n))
    return d::INVALID_VALUE;
  std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t count) {
  if (CUresult r = d::need_ctx()) return r;
  if (count == 0) return d::SUCCESS;
  if ((dst & 3) != 0) return d::INVALID_VALUE;  // the real driver requires 4-byte alignment too
  if (count > SIZE_MAX / 4 || !d::check_range("cuMemsetD32", (uintptr_t)dst, count * 4)) return d::INVALID_VALUE;
  unsigned* p = reinterpret_cast<unsigned*>(dst);
  for (size_t i = 0; i < count; i++) p[i] = value;
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
  if (CUresult r = d::need_ctx()) return r;
  if (count == 0) return d::SUCCESS;
  if (!d::check_range("cuMemsetD8", (uintptr_t)dst, count)) return d::INVALID_VALUE;
  std::memset(reinterpret_cast<void*>(dst), value, count);
  return d::SUCCESS;
}
KDREC_EMU_API CUresult cuGetErrorName(int e, const char** s) {
  if (!s) return d::INVALID_VALUE;
  *s = d::error_name(e);
  return *s ? d::SUCCESS : d::INVALID_VALUE;
}
KDREC_EMU_API CUresult cuGetErrorString(int e, const char** s) {
  if (!s) return d::INVALID_VALUE;
  *s = d::error_string(e);
  return *s ? d::SUCCESS : d::INVALID_VALUE;
}

// Introspection for tests and tools (not CUDA API): the kernels compiled in, their names and parameter types.
KDREC_EMU_API int libcuda_emu_kernel_count() { return (int)d::kNumKernels; }
KDREC_EMU_API const char* libcuda_emu_kernel_name(int i) {
  return i >= 0 && (size_t)i < d::kNumKernels ? d::kernels[i].name : nullptr;
}
KDREC_EMU_API const char* libcuda_emu_kernel_signature(int i) {
  return i >= 0 && (size_t)i < d::kNumKernels ? d::kernels[i].signature.c_str() : nullptr;
}

#include "kdrec_emu_stubs.inc"  // generated: CUDA_ERROR_NOT_SUPPORTED for every other cu* JCuda imports

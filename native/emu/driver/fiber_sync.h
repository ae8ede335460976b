// native/emu/driver/fiber_sync.h — the blocking primitives of the emulated driver's copy of cuda_shim.h.
//
// cuda_shim.h runs every CUDA thread as an OS thread and makes barriers and warp rendezvous wait on
// std::mutex + std::condition_variable: correct, but on 2 cores a block of 256 threads meeting at
// block_sum's shuffles and barriers costs ~0.1 s, so the GPU tests' real-size launches took hours.
// The driver (build.sh) compiles a copy of cuda_shim.h in which std::mutex / std::condition_variable are
// these types instead, and runs the CUDA threads of a block as fibers (own stacks, a register-only
// context switch) on ONE OS thread
// (libcuda_emu.cpp's launch_fibers): the shim's logic (which lanes meet, shuffle sources, barrier
// counting, exited threads, error checks) is unchanged; only "wait" becomes "yield to the next fiber".
//  * mutex: a no-op inside a fiber — fibers switch only where a condvar waits, and a wait releases its
//    lock, so no fiber ever holds one across a switch; a real mutex outside fibers (emu::print_mu is
//    also taken by the driver's own messages from other threads).
//  * condvar: wait = release the lock, yield, retake, until the predicate holds; wait_until = one yield,
//    then (every 4096th call) timeout if the deadline has passed (the shim's deadlock report still fires
//    after EMU_TIMEOUT seconds); notify_* = nothing (the scheduler polls every waiting fiber in turn).
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace emu_fiber {

inline thread_local bool in_fiber = false;
// Set by the scheduler: switches from the running fiber back to it.
inline thread_local void (*yield_fn)() = nullptr;

inline void yield() {
  if (in_fiber && yield_fn) yield_fn();
}

// The shim's deadlock deadline (wait_or_die) reads steady_clock::now() on every wait; the driver's copy
// reads this instead: the real clock every 4096th call, a cached value in between (~30% of the time
// was clock_gettime in this VM). Deadlines move by at most the time 4096 waits take.
inline std::chrono::steady_clock::time_point clock_now() {
  static thread_local unsigned calls = 0;
  static thread_local std::chrono::steady_clock::time_point cached = std::chrono::steady_clock::now();
  if ((++calls & 4095) == 0) cached = std::chrono::steady_clock::now();
  return cached;
}

struct mutex {
  std::mutex real;
  void lock() {
    if (!in_fiber) real.lock();
  }
  void unlock() {
    if (!in_fiber) real.unlock();
  }
  bool try_lock() { return in_fiber || real.try_lock(); }
};

struct condvar {
  void notify_all() {}
  void notify_one() {}
  template <class L, class P> void wait(L& lk, P pred) {
    while (!pred()) {
      lk.unlock();
      yield();
      lk.lock();
    }
  }
  // The clock is read on every 4096th call only: clock_gettime was 40% of the time in a VM.
  template <class L, class C, class D> std::cv_status wait_until(L& lk, const std::chrono::time_point<C, D>& t) {
    static thread_local unsigned calls = 0;
    lk.unlock();
    yield();
    lk.lock();
    return (++calls & 4095) == 0 && C::now() >= t ? std::cv_status::timeout : std::cv_status::no_timeout;
  }
};

}  // namespace emu_fiber

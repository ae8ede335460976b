// native/emu/driver/dyn_shared.h — dynamic shared memory (`extern __shared__ T name[];`) for the emulated
// driver. build.sh rewrites each such declaration to `static kdrec_emu_dyn_shared_view<T> name;`, which
// converts to a T* into ONE buffer, so (as on the GPU) every extern __shared__ array of a kernel aliases the
// same bytes. The driver (libcuda_emu.cpp, prepare_dyn_shared) points kdrec_emu_dyn_shared at exactly the
// launch's sharedBytes, ending 16-byte-rounded just before an inaccessible page, poisons them (0xFF: NaN
// floats, -1 ints) before every block and checks the canary bytes of the rounding after it: a kernel that
// uses more dynamic shared memory than the wrapper asked for faults or fails the launch instead of
// silently using memory it does not own.
#pragma once
#include <cstddef>
inline unsigned char* kdrec_emu_dyn_shared = nullptr;

// Static __shared__ variables register their bytes here once (build.sh adds the call after each
// declaration); libcuda_emu.cpp poisons them before every block it runs as fibers.
bool kdrec_emu_register_shared(void* p, std::size_t bytes);

template <class T> struct kdrec_emu_dyn_shared_view {
  operator T*() const { return reinterpret_cast<T*>(kdrec_emu_dyn_shared); }
};

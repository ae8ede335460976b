package kdrec.gpu;

/**
 * Whether the GPU tests run on the emulated CUDA driver (native/emu/driver: every CUDA thread an OS
 * thread, blocks in turn), where the largest cases of a sweep take minutes instead of milliseconds.
 * Tests keep every small, edge and unaligned case everywhere and leave out only their largest sizes
 * when {@link #emulated()}; tolerances never change.
 */
public final class GpuTestSizes {
    /** The device name libcuda_emu.cpp reports (cuDeviceGetName). */
    public static final String EMULATOR_NAME = "kdrec CPU emulator";

    private GpuTestSizes() {}

    /** True when the CUDA device is the kdrec CPU emulator (false when there is no device). */
    public static boolean emulated() {
        CudaProbe.Status s = CudaProbe.status();
        return s.available() && s.description().contains(EMULATOR_NAME);
    }

    /** {@code size} on a real GPU, {@code emulatedSize} on the emulator. */
    public static int pick(int size, int emulatedSize) {
        return emulated() ? emulatedSize : size;
    }
}

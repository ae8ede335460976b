package kdrec.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Finds out, once per JVM and without ever throwing, whether the CUDA kernels can run here, and why
 * not when they cannot. This class has no JCuda import: it first checks that the fatbin resource is
 * on the class path and that the driver library {@code libcuda.so.1} loads (through the FFM API), and
 * only then lets {@link Cuda} touch JCuda. A failed load of JCuda's native library would poison
 * {@code JCudaDriver} for the life of the JVM (reference/java-engine.md section 1.4), so on a machine
 * without a driver JCuda is never touched at all.
 */
public final class CudaProbe {
    private CudaProbe() {}

    /** The outcome: available, and a one-line description of the device or of why there is none. */
    public record Status(boolean available, String description) {}

    private static volatile Status status;
    private static volatile Cuda cuda;

    /** The probe's result, computed on first call. Never throws. */
    public static Status status() {
        Status s = status;
        if (s != null) return s;
        synchronized (CudaProbe.class) {
            if (status == null) status = probe();
            return status;
        }
    }

    /** True when a CUDA device and this build's kernels are usable. Never throws. */
    public static boolean available() {
        return status().available();
    }

    /** The process-wide CUDA context, or a {@link CudaException} that says why there is none. */
    public static Cuda cuda() {
        Status s = status();
        if (!s.available()) throw new CudaException("CUDA is not available: " + s.description(), -1);
        return cuda;
    }

    private static Status probe() {
        try {
            if (CudaProbe.class.getResource(Cuda.FATBIN_RESOURCE) == null) {
                return new Status(false, "this build has no CUDA kernels (nvcc was not found when kdrec was built)");
            }
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup("libcuda.so.1", arena);
            } catch (IllegalArgumentException e) {
                return new Status(false, "no NVIDIA driver (libcuda.so.1 cannot be loaded)");
            }
            Cuda c = Cuda.open();
            cuda = c;
            return new Status(true, c.describe());
        } catch (Throwable t) {
            // Anything at all (UnsatisfiedLinkError, IllegalCallerException without
            // --enable-native-access, a driver error) means "not available", with the reason.
            String msg = t.getMessage();
            return new Status(false, t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg.lines().findFirst().orElse("")));
        }
    }
}

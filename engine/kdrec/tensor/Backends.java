package kdrec.tensor;

import kdrec.cpu.Parallel;
import kdrec.gpu.CudaProbe;
import kdrec.cpu.Simd;

/**
 * Chooses the compute backend once per JVM: {@code -Dkdrec.backend=scalar|panama|cuda}, default
 * panama when the Vector API module is readable, else scalar. The choice is logged in one line.
 * Probing never throws; asking explicitly for a backend that cannot run is an error that says why.
 */
public final class Backends {
    private Backends() {}

    /** Names accepted by {@code kdrec.backend}. */
    public static final String ALLOWED = "scalar, panama, cuda";

    private static volatile Backend instance;

    /**
     * The backend of this JVM (selected and logged on first use). A bad {@code kdrec.backend} value is
     * an {@link IllegalArgumentException} (or IllegalStateException when the backend cannot run) on every call.
     */
    public static Backend get() {
        Backend b = instance;
        if (b != null) return b;
        synchronized (Backends.class) {
            if (instance == null) instance = select(System.getProperty("kdrec.backend"));
            return instance;
        }
    }

    /**
     * Checks that {@code -Dkdrec.backend} names a backend, without selecting one (nor probing the GPU), so
     * that a misspelt name stops a command before it loads data; whether the backend can run here is
     * found when it is first used.
     */
    public static void checkRequested() {
        String requested = System.getProperty("kdrec.backend");
        String want = normalize(requested);
        if (want != null && !java.util.List.of(ALLOWED.split(", ")).contains(want)) throw unknown(requested);
    }

    private static String normalize(String requested) {
        return requested == null || requested.isBlank() ? null : requested.trim().toLowerCase(java.util.Locale.ROOT);
    }

    private static IllegalArgumentException unknown(String requested) {
        return new IllegalArgumentException("kdrec.backend must be one of " + ALLOWED + ", got '" + requested + "'");
    }

    static Backend select(String requested) {
        boolean vectorOk = Simd.available();
        String want = normalize(requested);
        Backend chosen;
        String why;
        if (want == null) {
            chosen = new CpuBackend(vectorOk);
            why = vectorOk ? "default" : "default; Vector API unavailable (add --add-modules=jdk.incubator.vector)";
        } else {
            switch (want) {
                case "scalar" -> { chosen = new CpuBackend(false); why = "requested"; }
                case "panama" -> {
                    if (!vectorOk) {
                        throw new IllegalStateException("kdrec.backend=panama needs the Vector API: start the JVM with --add-modules=jdk.incubator.vector");
                    }
                    chosen = new CpuBackend(true);
                    why = "requested";
                }
                case "cuda" -> {
                    // Training on the GPU is its own device-resident path (kdrec.device, --device cuda,
                    // which this setting makes the default); the tape engine's host-side work (teacher
                    // scoring, RCE-KD's sampling and lists, checkpoint I/O) stays on the CPU kernels.
                    CudaProbe.Status gpu = CudaProbe.status();
                    if (!gpu.available()) {
                        throw new IllegalStateException("kdrec.backend=cuda: no usable GPU here (" + gpu.description() + "); use scalar or panama");
                    }
                    chosen = new CpuBackend(vectorOk);
                    why = "kdrec.backend=cuda: runs train/distill/eval on " + gpu.description() + "; host-side work on the CPU kernels";
                }
                default -> throw unknown(requested);
            }
        }
        Diagnostics.notice("kdrec backend: " + chosen.name() + " (" + why + "), vectors " + Simd.describe()
                + ", " + Parallel.threads() + " threads");
        return chosen;
    }
}

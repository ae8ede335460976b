package kdrec.tensor;

import kdrec.cpu.Parallel;
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

    private static final class Holder {
        static final Backend INSTANCE = select(System.getProperty("kdrec.backend"));
    }

    /** The backend of this JVM (selected and logged on first use). */
    public static Backend get() {
        return Holder.INSTANCE;
    }

    static Backend select(String requested) {
        boolean vectorOk = Simd.available();
        String want = requested == null || requested.isBlank() ? null : requested.trim().toLowerCase(java.util.Locale.ROOT);
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
                case "cuda" -> throw new IllegalStateException(
                        "kdrec.backend=cuda: this build has no CUDA backend yet; use scalar or panama");
                default -> throw new IllegalArgumentException("kdrec.backend must be one of " + ALLOWED + ", got '" + requested + "'");
            }
        }
        Diagnostics.notice("kdrec backend: " + chosen.name() + " (" + why + "), vectors " + Simd.describe()
                + ", " + Parallel.threads() + " threads");
        return chosen;
    }
}

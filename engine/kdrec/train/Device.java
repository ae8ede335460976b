package kdrec.train;

import java.util.Locale;

/**
 * Where a run trains and evaluates: {@code --device cpu|cuda}. The default is cuda when the JVM was
 * started with {@code -Dkdrec.backend=cuda}, else cpu.
 */
public enum Device {
    CPU, CUDA;

    public static final String ALLOWED = "cpu, cuda";

    /** Parses a --device value (case-insensitive); a bad value says what is allowed. */
    public static Device parse(String s) {
        if (s == null || s.isBlank()) return fromEnvironment();
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("--device must be one of " + ALLOWED + ", got '" + s + "'");
        };
    }

    /** cuda under {@code -Dkdrec.backend=cuda}, else cpu. */
    public static Device fromEnvironment() {
        String b = System.getProperty("kdrec.backend");
        return b != null && b.trim().equalsIgnoreCase("cuda") ? CUDA : CPU;
    }

    public String flag() {
        return name().toLowerCase(Locale.ROOT);
    }
}

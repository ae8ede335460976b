package kdrec.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place that fixes the vector width of every SIMD kernel.
 *
 * <p>Species are {@code static final} (C2 only optimises constant species). The width is the
 * machine's preferred shape unless {@code -Dkdrec.vectorBits=128|256|512} forces one; the test suite
 * uses that to run every SIMD kernel under all three widths (a width wider than the hardware is
 * emulated by the JDK: slow, never wrong).
 */
public final class Simd {
    private Simd() {}

    /** Vector width in bits used by every SIMD kernel in this JVM. */
    public static final int BITS = chooseBits();
    /** Float species at {@link #BITS}. */
    public static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));
    /** Int species with the same lane count as {@link #F}. */
    public static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(BITS));
    /** Float lanes per vector (8 on AVX2). */
    public static final int LANES = F.length();

    static {
        // keep the compiler honest: a mismatched pair would silently break lane-aligned index math
        if (I.length() != LANES) throw new AssertionError("int/float species lane mismatch");
    }

    private static int chooseBits() {
        String forced = System.getProperty("kdrec.vectorBits");
        if (forced == null || forced.isBlank()) return VectorShape.preferredShape().vectorBitSize();
        int bits;
        try {
            bits = Integer.parseInt(forced.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("kdrec.vectorBits must be 128, 256 or 512, got '" + forced + "'");
        }
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("kdrec.vectorBits must be 128, 256 or 512, got " + bits);
        }
        return bits;
    }

    /** True when the width was forced wider than the hardware's preferred one (emulated, slow). */
    public static boolean emulated() {
        return BITS > VectorShape.preferredShape().vectorBitSize();
    }

    /** One-line description for logs, e.g. {@code "256-bit (8 float lanes)"}. */
    public static String describe() {
        return BITS + "-bit (" + LANES + " float lanes" + (emulated() ? ", emulated" : "") + ")";
    }

    /** Makes sure the incubator module is readable; used by backend probing, never throws. */
    public static boolean available() {
        try {
            return FloatVector.zero(F).length() == LANES;
        } catch (Throwable t) {
            return false;
        }
    }
}

package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.assertBitEqual;
import static kdrec.cpu.KernelTestSupport.randn;
import static kdrec.cpu.KernelTestSupport.sizes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** RowPassSimd against the RowPassScalar oracle over the size sweep and at offsets, hand values, -Inf masks, NaN and errors. */
@Tag("simd")
class RowPassTest {
    private static final int OFF = 3;

    /** Gaussian scores times 8, with -Inf (masked items), signed zeros and clamp-bound values sprinkled in; OFF leading junk. */
    private static float[] row(long seed, int n) {
        float[] g = randn(seed, n);
        float[] x = new float[OFF + n + 2];
        Arrays.fill(x, 1e30f); // outside the range: a kernel reading it would show
        float[] special = {Float.NEGATIVE_INFINITY, 0f, -0f, 5f, -5f, 40f, -40f, 41f, -41f};
        for (int i = 0; i < n; i++) x[OFF + i] = i % 7 == 6 ? special[(i / 7) % special.length] : 8 * g[i];
        return x;
    }

    @Test
    void maxClampAxpyAndZeroMatchTheScalarTwinBitForBit() {
        for (int n : sizes()) {
            float[] x = row(n, n);
            assertEquals(Float.floatToIntBits(RowPassScalar.max(n, x, OFF)), Float.floatToIntBits(RowPassSimd.max(n, x, OFF)), "max n=" + n);
            float[] a = x.clone(), b = x.clone();
            RowPassScalar.clamp(n, a, OFF, 5f);
            RowPassSimd.clamp(n, b, OFF, 5f);
            assertBitEqual("clamp n=" + n, a, b);
            float shift = RowPassScalar.max(n, x, OFF);
            if (n == 0) shift = 0f;
            float[] ya = randn(n + 1000, n + OFF), yb = ya.clone();
            RowPassScalar.expAxpy(n, -0.37f, x, OFF, shift, ya, OFF);
            RowPassSimd.expAxpy(n, -0.37f, x, OFF, shift, yb, OFF);
            assertBitEqual("expAxpy n=" + n, ya, yb);
            float[] za = randn(n + 2000, n), zb = za.clone();
            RowPassScalar.zeroOutside(n, x, OFF, 40f, za, 0);
            RowPassSimd.zeroOutside(n, x, OFF, 40f, zb, 0);
            assertBitEqual("zeroOutside n=" + n, za, zb);
        }
    }

    @Test
    void expSumAndDotMatchTheScalarTwinWithinFloatRounding() {
        for (int n : sizes()) {
            float[] x = row(7 * n + 1, n);
            float shift = n == 0 ? 0f : RowPassScalar.max(n, x, OFF);
            double e = RowPassScalar.expSum(n, x, OFF, shift), a = RowPassSimd.expSum(n, x, OFF, shift);
            // float lanes of at most BLOCK / lanes positive terms each: a few ulps of float, relative
            assertEquals(e, a, 1e-6 * e, "expSum n=" + n);
            if (n > 0) assertEquals(true, e >= 1, "the maximum contributes e^0 = 1, n=" + n);
        }
        for (int n : sizes()) { // dot: float lanes blocked into double against the double sum of exact products
            float[] a = randn(3 * n + 5, n + OFF), b = randn(5 * n + 7, n);
            double e = RowPassScalar.dot(n, a, OFF, b, 0), abs = 0;
            for (int i = 0; i < n; i++) abs += Math.abs((double) a[OFF + i] * b[i]);
            assertEquals(e, RowPassSimd.dot(n, a, OFF, b, 0), 1e-6 * abs + 1e-30, "dot n=" + n);
        }
        float[] small = {1f, 2f, 3f, 4f, 5f};
        assertEquals(1 + 4 + 9 + 16 + 25, RowPassSimd.dot(5, small, 0, small, 0));
        // integers-valued sums are exact in both: e^0 = 1 for every entry, whatever the order
        float[] zeros = new float[5000];
        assertEquals(5000.0, RowPassSimd.expSum(5000, zeros, 0, 0f));
        assertEquals(5000.0, RowPassScalar.expSum(5000, zeros, 0, 0f));
    }

    @Test
    void handValues() {
        float[] x = {1f, Float.NEGATIVE_INFINITY, 0f, -1f, 3f};
        for (boolean simd : new boolean[] {false, true}) {
            String w = simd ? "simd" : "scalar";
            assertEquals(3f, simd ? RowPassSimd.max(5, x, 0) : RowPassScalar.max(5, x, 0), w);
            assertEquals(Float.NEGATIVE_INFINITY, simd ? RowPassSimd.max(0, x, 0) : RowPassScalar.max(0, x, 0), w);
            double want = Math.exp(-2) + 0 + Math.exp(-3) + Math.exp(-4) + 1; // the -Inf entry adds nothing
            assertEquals(want, simd ? RowPassSimd.expSum(5, x, 0, 3f) : RowPassScalar.expSum(5, x, 0, 3f), 1e-6, w);
            float[] y = {1f, 1f, 1f, 1f, 1f};
            if (simd) RowPassSimd.expAxpy(5, 2f, x, 0, 3f, y, 0); else RowPassScalar.expAxpy(5, 2f, x, 0, 3f, y, 0);
            assertEquals(1 + 2 * Math.exp(-2), y[0], 1e-6, w);
            assertEquals(1f, y[1], w + ": a masked entry adds 0");
            assertEquals(3f, y[4], w);
            float[] c = {-7f, -2f, 0f, 2f, 7f, Float.NaN};
            if (simd) RowPassSimd.clamp(6, c, 0, 2f); else RowPassScalar.clamp(6, c, 0, 2f);
            assertEquals(Arrays.toString(new float[] {-2f, -2f, 0f, 2f, 2f, Float.NaN}), Arrays.toString(c), w);
            float[] raw = {-7f, -2f, 0f, 2f, 7f, Float.NaN}, g = {1f, 1f, 1f, 1f, 1f, 1f};
            if (simd) RowPassSimd.zeroOutside(6, raw, 0, 2f, g, 0); else RowPassScalar.zeroOutside(6, raw, 0, 2f, g, 0);
            assertEquals(Arrays.toString(new float[] {0f, 1f, 1f, 1f, 0f, 1f}), Arrays.toString(g), w + ": the bounds pass gradient, NaN is not outside");
            float[] nan = {1f, Float.NaN, 2f};
            assertEquals(true, Float.isNaN(simd ? RowPassSimd.max(3, nan, 0) : RowPassScalar.max(3, nan, 0)), w + ": NaN wins the max");
        }
    }

    @Test
    void badArgumentsNameTheKernel() {
        float[] x = new float[10];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RowPassSimd.expSum(8, x, 3, 0f));
        assertEquals("RowPass.expSum: x range [3, 11) outside an array of 10", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RowPassScalar.max(-1, x, 0));
        assertThrows(IllegalArgumentException.class, () -> RowPassSimd.clamp(4, x, 0, 0f));
        assertThrows(IllegalArgumentException.class, () -> RowPassScalar.zeroOutside(4, x, 0, Float.NaN, x, 0));
        assertThrows(IllegalArgumentException.class, () -> RowPassSimd.expAxpy(4, 1f, x, 0, 0f, new float[3], 0));
        assertThrows(IllegalArgumentException.class, () -> RowPassSimd.dot(4, x, 0, new float[3], 0));
    }
}

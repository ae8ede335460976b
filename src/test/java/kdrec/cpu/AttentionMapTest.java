package kdrec.cpu;

import static kdrec.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * AttentionMapSimd against its scalar twin over map sizes (0, 1, lanes +- 1, primes, 100), with and
 * without the bias table, at offsets, heap and native; plus what both must give exactly: +0 above
 * the diagonal, the biased scores left in z, and the panama silu / scale / axpy / silu-backward bits
 * (the ops the kernel stands in for) on and below it.
 */
@Tag("simd")
class AttentionMapTest {
    private static int[] mapSizes() {
        int l = Simd.LANES;
        return java.util.stream.IntStream.of(0, 1, 2, l - 1, l, l + 1, 2 * l + 1, 13, 31, 100).distinct().sorted().toArray();
    }

    @Test
    void simdMatchesScalarTwin() {
        int s = 0;
        try (Arena arena = Arena.ofShared()) {
            for (int n : mapSizes()) {
                for (boolean bias : new boolean[] {true, false}) {
                    s++;
                    int zOff = s % 3, aOff = s % 5, wOff = s % 4;
                    float[] z = randn(10L * s, zOff + n * n + 2), g = randn(10L * s + 1, aOff + n * n + 2);
                    float[] w = randn(10L * s + 2, wOff + 2 * n + 3);
                    float[] a = randn(10L * s + 3, aOff + n * n + 2); // garbage the kernels must overwrite (or leave, outside the map)
                    long wc = wOff + n + 1; // the table's centre, with entries to spare on both sides
                    boolean nat = s % 2 == 0;
                    String what = "n=" + n + " bias=" + bias + (nat ? " native" : " heap");
                    MemorySegment zS = heap(z), aS = heap(a), zV = nat ? offHeap(arena, z) : heap(z), aV = nat ? offHeap(arena, a) : heap(a);
                    MemorySegment wS = bias ? heap(w) : null, wV = bias ? (nat ? offHeap(arena, w) : heap(w)) : null;
                    AttentionMapScalar.forward(n, zS, zOff, wS, wc, 0.3f, aS, aOff);
                    AttentionMapSimd.forward(n, zV, zOff, wV, wc, 0.3f, aV, aOff);
                    float[] zs = toArray(zS), zv = toArray(zV), as = toArray(aS), av = toArray(aV);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < n; j++) {
                            int at = i * n + j;
                            if (j <= i) {
                                float want = z[zOff + at] + (bias ? w[(int) wc + j - i] : 0f);
                                assertEquals(want, zs[zOff + at], what + " scalar z[" + i + "," + j + "]");
                                assertEquals(want, zv[zOff + at], what + " simd z[" + i + "," + j + "]");
                            } else {
                                assertEquals(0, Float.floatToRawIntBits(as[aOff + at]), what + " scalar a above the diagonal is +0");
                                assertEquals(0, Float.floatToRawIntBits(av[aOff + at]), what + " simd a above the diagonal is +0");
                            }
                        }
                    }
                    assertClose(what + " a", as, av, 1e-7, 2e-6);
                    for (int x = 0; x < aOff; x++) assertEquals(a[x], av[x], what + " before the map");
                    // backward from the biased scores both left in z
                    float[] d = randn(10L * s + 4, aOff + n * n + 2);
                    MemorySegment dS = heap(d), dV = nat ? offHeap(arena, d) : heap(d);
                    AttentionMapScalar.backward(n, zS, zOff, 0.3f, heap(g), aOff, dS, aOff);
                    AttentionMapSimd.backward(n, zV, zOff, 0.3f, nat ? offHeap(arena, g) : heap(g), aOff, dV, aOff);
                    float[] ds = toArray(dS), dv = toArray(dV);
                    for (int i = 0; i < n; i++)
                        for (int j = i + 1; j < n; j++) assertEquals(0, Float.floatToRawIntBits(dv[aOff + i * n + j]), what + " dz above the diagonal is +0");
                    assertClose(what + " dz", ds, dv, 1e-7, 4e-6);
                    assertEquals(d[aOff + n * n], dv[aOff + n * n], what + " after the map");
                }
            }
        }
    }

    /** On and below the diagonal the kernel gives exactly the ops it replaces: silu, scale; axpy into +0, silu's backward into +0. */
    @Test
    void simdGivesTheComposedOpsBits() {
        for (int n : mapSizes()) {
            float alpha = 0.07f;
            float[] z = randn(300 + n, n * n), g = randn(400 + n, n * n);
            MemorySegment zs = heap(z), a = heap(new float[n * n]);
            AttentionMapSimd.forward(n, zs, 0, null, 0, alpha, a, 0);
            MemorySegment silu = heap(new float[n * n]), scaled = heap(new float[n * n]);
            ActivationSimd.silu((long) n * n, heap(z), 0, silu, 0);
            VecSimd.scale((long) n * n, alpha, silu, 0, scaled, 0);
            MemorySegment dz = heap(new float[n * n]);
            AttentionMapSimd.backward(n, zs, 0, alpha, heap(g), 0, dz, 0);
            MemorySegment g2 = heap(new float[n * n]), dzWant = heap(new float[n * n]);
            VecSimd.axpy((long) n * n, alpha, heap(g), 0, g2, 0);
            ActivationSimd.siluBackward((long) n * n, heap(z), 0, g2, 0, dzWant, 0);
            float[] got = toArray(a), want = toArray(scaled), gotD = toArray(dz), wantD = toArray(dzWant);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    int at = i * n + j;
                    assertEquals(Float.floatToRawIntBits(want[at]), Float.floatToRawIntBits(got[at]), "n=" + n + " a[" + i + "," + j + "]");
                    assertEquals(Float.floatToRawIntBits(wantD[at]), Float.floatToRawIntBits(gotD[at]), "n=" + n + " dz[" + i + "," + j + "]");
                }
            }
        }
    }

    @Test
    void badArgumentsRejected() {
        MemorySegment m = heap(new float[16]);
        for (boolean simd : new boolean[] {true, false}) {
            var e = assertThrows(IllegalArgumentException.class, () -> {
                if (simd) AttentionMapSimd.forward(5, m, 0, null, 0, 1f, m, 0); else AttentionMapScalar.forward(5, m, 0, null, 0, 1f, m, 0);
            });
            assertTrue(e.getMessage().contains("z range"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> {
                if (simd) AttentionMapSimd.forward(4, m, 0, m, 2, 1f, m, 0); else AttentionMapScalar.forward(4, m, 0, m, 2, 1f, m, 0);
            });
            assertTrue(e.getMessage().contains("bias table"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> {
                if (simd) AttentionMapSimd.backward(4, m, 0, 1f, m, 1, m, 0); else AttentionMapScalar.backward(4, m, 0, 1f, m, 1, m, 0);
            });
            assertTrue(e.getMessage().contains("g range"), e.getMessage());
        }
    }
}

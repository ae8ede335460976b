package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.SIZES;
import static kdrec.gpu.ElemGpuSupport.assertBits;
import static kdrec.gpu.ElemGpuSupport.rand;
import static kdrec.gpu.ElemGpuSupport.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kdrec.cpu.DropoutScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuDropout against DropoutScalar, bit for bit: the same elements kept (the counter-based mask is a
 * function of seed, element index and p only), the same scaled values, backward adding exactly the
 * masked gradient; p = 0 identity; in place; unaligned offsets; and the mask at element indices around
 * 2^31, 2^32 (where the hash's high-word key changes) and 2^40, reached through the package-private
 * base-index entry points with a small buffer and checked against {@link DropoutScalar#kept}.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class DropoutGpuTest extends GpuLeakChecked {
    private static final float[] PS = {0f, 0.1f, 0.5f, 0.9f, 0.999f};
    private static final long[] SEEDS = {42L, -7L, 0x9E3779B97F4A7C15L};

    @Test
    void forwardAndBackwardMatchCpuBitForBit() {
        for (int n : SIZES) {
            for (float p : PS) {
                long seed = SEEDS[(n + (int) (p * 10)) % SEEDS.length];
                int xOff = n % 3, yOff = (n + 1) % 4;
                float[] x = rand(seed + n, n + xOff + 2, -4f, 4f, true);
                float[] y = rand(seed + n + 1, n + yOff + 2);
                float[] want = y.clone();
                DropoutScalar.forward(n, seg(x), xOff, seg(want), yOff, p, seed);
                float[] gx = rand(seed + n + 2, n + xOff + 2);
                float[] wantG = gx.clone();
                DropoutScalar.backward(n, seg(y), yOff, seg(wantG), xOff, p, seed);
                float[] wantIp = x.clone();
                DropoutScalar.forward(n, seg(wantIp), xOff, seg(wantIp), xOff, p, seed);
                String what = " n=" + n + " p=" + p + " seed=" + seed + " offsets " + xOff + "," + yOff;
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y); DeviceBuffer dgx = cuda.upload(gx)) {
                    GpuDropout.backward(cuda, n, dy, yOff, dgx, xOff, p, seed);  // gy = the original y, before forward overwrites it
                    GpuDropout.forward(cuda, n, dx, xOff, dy, yOff, p, seed);
                    assertBits(want, cuda.downloadFloats(dy, y.length), "forward" + what);
                    assertBits(wantG, cuda.downloadFloats(dgx, gx.length), "backward" + what);
                    GpuDropout.forward(cuda, n, dx, xOff, dx, xOff, p, seed);
                    assertBits(wantIp, cuda.downloadFloats(dx, x.length), "forward in place" + what);
                }
            }
        }
    }

    @Test
    void maskMatchesCpuAtHugeElementIndices() {
        long[] bases = {(1L << 31) - 500, (1L << 32) - 500, (3L << 32) - 17, 1L << 40, (1L << 40) + (1L << 32) - 1};
        int n = 1000;
        for (long base : bases) {
            for (float p : new float[] {0.1f, 0.5f}) {
                long seed = base ^ 0x5DEECE66DL;
                float[] x = rand(base, n, 0.5f, 2f, false);
                float[] gx0 = rand(base + 1, n);
                float scale = 1f / (1f - p);
                float[] want = new float[n], wantG = gx0.clone();
                for (int i = 0; i < n; i++) {
                    boolean kept = DropoutScalar.kept(seed, base + i, p);
                    want[i] = kept ? x[i] * scale : 0f;
                    wantG[i] = wantG[i] + (kept ? x[i] * scale : 0f);
                }
                String what = " base=" + base + " (elements " + base + ".." + (base + n - 1) + ") p=" + p + " seed=" + seed;
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.allocElements(n + 1); DeviceBuffer dgx = cuda.upload(gx0)) {
                    GpuDropout.forwardAt(cuda, n, base, dx, 0, dy, 1, p, seed);
                    GpuDropout.backwardAt(cuda, n, base, dx, 0, dgx, 0, p, seed);
                    float[] got = cuda.downloadFloats(dy.at(1), n);
                    assertBits(want, got, "forward mask" + what);
                    assertBits(wantG, cuda.downloadFloats(dgx, n), "backward mask" + what);
                }
            }
        }
    }

    @Test
    void keptFractionIsOneMinusP() {
        int n = 1 << 20;
        for (float p : new float[] {0.1f, 0.5f, 0.9f}) {
            float[] ones = new float[n];
            java.util.Arrays.fill(ones, 1f);
            try (DeviceBuffer d = cuda.upload(ones)) {
                GpuDropout.forward(cuda, n, d, 0, d, 0, p, 1234L);
                float[] y = cuda.downloadFloats(d, n);
                int kept = 0;
                for (float v : y) if (v != 0f) kept++;
                double frac = kept / (double) n;
                assertTrue(Math.abs(frac - (1 - p)) < 0.005, "p=" + p + ": kept fraction " + frac + ", expected about " + (1 - p));
            }
        }
    }
}

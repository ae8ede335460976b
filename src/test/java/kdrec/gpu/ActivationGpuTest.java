package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.SIZES;
import static kdrec.gpu.ElemGpuSupport.assertBits;
import static kdrec.gpu.ElemGpuSupport.assertUlps;
import static kdrec.gpu.ElemGpuSupport.rand;
import static kdrec.gpu.ElemGpuSupport.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import kdrec.cpu.ActivationScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuActivation against ActivationScalar: sigmoid / logSigmoid / silu forwards within 2 float ulps
 * per element (both sides evaluate in double and round once), their backwards (which ACCUMULATE into
 * gx) at the 1e-5, relu and reluBackward bit for bit; large |x| where the stable formulas
 * matter, NaN / signed-zero conventions, unaligned offsets, in place; no device memory leaked.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class ActivationGpuTest extends GpuLeakChecked {
    private static final long[][] OFFSETS = {{0, 0, 0}, {3, 1, 2}};

    interface Fwd {
        void run(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);
    }

    interface GpuFwd {
        void run(Cuda c, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff);
    }

    interface Bwd {
        void run(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);
    }

    interface GpuBwd {
        void run(Cuda c, long n, DeviceBuffer x, long xOff, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff);
    }

    /** Inputs in [-12, 12) with large magnitudes sprinkled in (exp overflow / underflow regions). */
    private static float[] inputs(long seed, int len) {
        float[] x = rand(seed, len, -12f, 12f, false);
        float[] big = {30f, -30f, 88.7f, -88.7f, 104f, -104f, 750f, -750f, 1e6f, -1e6f, 0f, -0f, 1e-30f, -1e-30f};
        for (int i = 3, k = 0; i < len; i += 53, k++) x[i] = big[k % big.length];
        return x;
    }

    @Test
    void forwardsMatchCpu() {
        forward("sigmoid", ActivationScalar::sigmoid, GpuActivation::sigmoid, false);
        forward("logSigmoid", ActivationScalar::logSigmoid, GpuActivation::logSigmoid, false);
        forward("silu", ActivationScalar::silu, GpuActivation::silu, false);
        forward("relu", ActivationScalar::relu, GpuActivation::relu, true);
    }

    private void forward(String op, Fwd cpu, GpuFwd gpu, boolean exact) {
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                float[] x = inputs(op.hashCode() + n, (int) (n + off[0] + 2));
                float[] y = rand(n, (int) (n + off[1] + 2));
                float[] want = y.clone();
                cpu.run(n, seg(x), off[0], seg(want), off[1]);
                float[] wantIp = x.clone();
                cpu.run(n, seg(wantIp), off[0], seg(wantIp), off[0]);
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y)) {
                    String what = op + " n=" + n + " offsets x,y=" + off[0] + "," + off[1];
                    gpu.run(cuda, n, dx, off[0], dy, off[1]);
                    float[] got = cuda.downloadFloats(dy, y.length);
                    gpu.run(cuda, n, dx, off[0], dx, off[0]);
                    float[] gotIp = cuda.downloadFloats(dx, x.length);
                    if (exact) {
                        assertBits(want, got, what);
                        assertBits(wantIp, gotIp, what + " in place");
                    } else {
                        assertUlps(want, got, 2, what);
                        assertUlps(wantIp, gotIp, 2, what + " in place");
                        GpuAssert.assertClose(want, got, what);
                    }
                }
            }
        }
    }

    @Test
    void backwardsAccumulateLikeCpu() {
        backward("sigmoidBackward", ActivationScalar::sigmoidBackward, GpuActivation::sigmoidBackward, false);
        backward("logSigmoidBackward", ActivationScalar::logSigmoidBackward, GpuActivation::logSigmoidBackward, false);
        backward("siluBackward", ActivationScalar::siluBackward, GpuActivation::siluBackward, false);
        backward("reluBackward", ActivationScalar::reluBackward, GpuActivation::reluBackward, true);
    }

    private void backward(String op, Bwd cpu, GpuBwd gpu, boolean exact) {
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                long seed = op.hashCode() * 7L + n;
                // sigmoidBackward takes the forward output y in [0, 1]; the others take x.
                float[] x = op.equals("sigmoidBackward") ? rand(seed, (int) (n + off[0] + 2), 0f, 1f, false)
                        : inputs(seed, (int) (n + off[0] + 2));
                float[] gy = rand(seed + 1, (int) (n + off[1] + 2));
                float[] gx = rand(seed + 2, (int) (n + off[2] + 2));  // nonzero: backward must add, not overwrite
                float[] want = gx.clone();
                cpu.run(n, seg(x), off[0], seg(gy), off[1], seg(want), off[2]);
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dgy = cuda.upload(gy); DeviceBuffer dgx = cuda.upload(gx)) {
                    gpu.run(cuda, n, dx, off[0], dgy, off[1], dgx, off[2]);
                    float[] got = cuda.downloadFloats(dgx, gx.length);
                    String what = op + " n=" + n + " offsets x,gy,gx=" + off[0] + "," + off[1] + "," + off[2];
                    if (exact) assertBits(want, got, what);
                    else GpuAssert.assertClose(want, got, what);
                }
            }
        }
    }

    @Test
    void specialValuesFollowTheCpuConventions() {
        float[] x = {Float.NaN, -0f, 0f, -1f, 1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE};
        int n = x.length;
        Fwd[] cpu = {ActivationScalar::sigmoid, ActivationScalar::logSigmoid, ActivationScalar::silu, ActivationScalar::relu};
        GpuFwd[] gpu = {GpuActivation::sigmoid, GpuActivation::logSigmoid, GpuActivation::silu, GpuActivation::relu};
        String[] names = {"sigmoid", "logSigmoid", "silu", "relu"};
        try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.allocElements(n)) {
            for (int k = 0; k < cpu.length; k++) {
                float[] want = new float[n];
                cpu[k].run(n, seg(x), 0, seg(want), 0);
                gpu[k].run(cuda, n, dx, 0, dy, 0);
                float[] got = cuda.downloadFloats(dy, n);
                assertTrue(Float.isNaN(got[0]), names[k] + "(NaN) must be NaN (so a NaN check can stop the run), got " + got[0]);
                assertUlps(want, got, 2, names[k] + " on NaN, +-0, +-1, +-Infinity, +-MIN_VALUE");
            }
            float[] relu = cuda.downloadFloats(dy, n);  // the last op run was relu
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(relu[1]), "relu(-0) must be -0 as on the CPU");
        }
    }
}

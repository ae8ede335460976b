package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.SIZES;
import static kdrec.gpu.ElemGpuSupport.assertBits;
import static kdrec.gpu.ElemGpuSupport.rand;
import static kdrec.gpu.ElemGpuSupport.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import kdrec.cpu.VecScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuVec against VecScalar: the elementwise ops bit for bit (they are single IEEE operations or one
 * fma on both sides, subnormals included), sum/dot to double rounding and deterministic, allFinite
 * exactly; sizes 0..1,000,003, aligned and unaligned offsets, in place; no device memory leaked.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class VecGpuTest extends GpuLeakChecked {
    private static final long[][] OFFSETS = {{0, 0, 0}, {1, 2, 3}, {7, 0, 5}};

    interface Bin {
        void run(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment o, long oOff);
    }

    interface GpuBin {
        void run(Cuda c, long n, DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer o, long oOff);
    }

    interface Una {
        void run(long n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff);
    }

    interface GpuUna {
        void run(Cuda c, long n, float alpha, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff);
    }

    @Test
    void binaryOpsMatchCpuBitForBit() {
        binary("add", VecScalar::add, GpuVec::add);
        binary("sub", VecScalar::sub, GpuVec::sub);
        binary("mul", VecScalar::mul, GpuVec::mul);
        binary("addMul", VecScalar::addMul, GpuVec::addMul);
    }

    private void binary(String op, Bin cpu, GpuBin gpu) {
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                long seed = op.hashCode() * 31L + n;
                float[] a = rand(seed, (int) (n + off[0] + 2), -4f, 4f, true);
                float[] b = rand(seed + 1, (int) (n + off[1] + 2), -4f, 4f, true);
                float[] o = rand(seed + 2, (int) (n + off[2] + 2), -4f, 4f, true);
                float[] want = o.clone();
                cpu.run(n, seg(a), off[0], seg(b), off[1], seg(want), off[2]);
                try (DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b); DeviceBuffer dout = cuda.upload(o)) {
                    gpu.run(cuda, n, da, off[0], db, off[1], dout, off[2]);
                    assertBits(want, cuda.downloadFloats(dout, o.length), op + " n=" + n + " offsets a,b,out=" + off[0] + "," + off[1] + "," + off[2]);
                }
                // In place: out is the very range of a.
                float[] wantIp = a.clone();
                cpu.run(n, seg(wantIp), off[0], seg(b), off[1], seg(wantIp), off[0]);
                try (DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b)) {
                    gpu.run(cuda, n, da, off[0], db, off[1], da, off[0]);
                    assertBits(wantIp, cuda.downloadFloats(da, a.length), op + " in place n=" + n + " offset " + off[0]);
                }
            }
        }
    }

    @Test
    void scaleAndAxpyMatchCpuBitForBit() {
        unary("scale", VecScalar::scale, GpuVec::scale);
        unary("axpy", VecScalar::axpy, GpuVec::axpy);
    }

    private void unary(String op, Una cpu, GpuUna gpu) {
        float[] alphas = {0.7f, -3.25f, 0f};
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                for (float alpha : alphas) {
                    long seed = op.hashCode() * 17L + n;
                    float[] x = rand(seed, (int) (n + off[0] + 2), -4f, 4f, true);
                    float[] y = rand(seed + 1, (int) (n + off[2] + 2), -4f, 4f, true);
                    float[] want = y.clone();
                    cpu.run(n, alpha, seg(x), off[0], seg(want), off[2]);
                    try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y)) {
                        gpu.run(cuda, n, alpha, dx, off[0], dy, off[2]);
                        assertBits(want, cuda.downloadFloats(dy, y.length), op + " alpha=" + alpha + " n=" + n + " offsets x,y=" + off[0] + "," + off[2]);
                    }
                }
            }
        }
    }

    @Test
    void fillAndCopyMatchCpu() {
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                float[] x = rand(n, (int) (n + off[0] + 2), -4f, 4f, true);
                float[] y = rand(n + 1L, (int) (n + off[1] + 2), -4f, 4f, true);
                float[] wantFill = y.clone(), wantCopy = y.clone();
                VecScalar.fill(n, seg(wantFill), off[1], -1e-40f);
                VecScalar.copy(n, seg(x), off[0], seg(wantCopy), off[1]);
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y); DeviceBuffer dz = cuda.upload(y)) {
                    GpuVec.fill(cuda, n, dy, off[1], -1e-40f);
                    GpuVec.copy(cuda, n, dx, off[0], dz, off[1]);
                    assertBits(wantFill, cuda.downloadFloats(dy, y.length), "fill n=" + n + " offset " + off[1]);
                    assertBits(wantCopy, cuda.downloadFloats(dz, y.length), "copy n=" + n + " offsets " + off[0] + "," + off[1]);
                }
            }
        }
    }

    @Test
    void sumAndDotMatchCpuInDoubleAndAreDeterministic() {
        for (int n : SIZES) {
            for (long[] off : OFFSETS) {
                float[] a = rand(3L * n, (int) (n + off[0] + 1), -4f, 4f, false);
                float[] b = rand(3L * n + 1, (int) (n + off[1] + 1), -4f, 4f, false);
                // A mean far from zero makes a float accumulator visibly wrong at n = 10^6.
                for (int i = 0; i < a.length; i += 2) a[i] += 1000f;
                double wantSum = VecScalar.sum(n, seg(a), off[0]);
                double wantDot = VecScalar.dot(n, seg(a), off[0], seg(b), off[1]);
                double absSum = 0, absDot = 0;
                for (int i = 0; i < n; i++) {
                    absSum += Math.abs(a[(int) off[0] + i]);
                    absDot += Math.abs((double) a[(int) off[0] + i] * b[(int) off[1] + i]);
                }
                try (DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b)) {
                    String what = " n=" + n + " offsets " + off[0] + "," + off[1];
                    double s1 = GpuVec.sum(cuda, n, da, off[0]), s2 = GpuVec.sum(cuda, n, da, off[0]);
                    double d1 = GpuVec.dot(cuda, n, da, off[0], db, off[1]), d2 = GpuVec.dot(cuda, n, da, off[0], db, off[1]);
                    closeDouble(wantSum, s1, absSum, "sum" + what);
                    closeDouble(wantDot, d1, absDot, "dot" + what);
                    assertEquals(Double.doubleToRawLongBits(s1), Double.doubleToRawLongBits(s2), "sum must be deterministic" + what);
                    assertEquals(Double.doubleToRawLongBits(d1), Double.doubleToRawLongBits(d2), "dot must be deterministic" + what);
                }
            }
        }
    }

    /** Double accumulation in another order: error well under 1e-11 * sum |terms| (a float accumulator is off by ~1e-7 or worse). */
    private static void closeDouble(double want, double got, double absSum, String what) {
        double tol = 1e-11 * absSum + 1e-300;
        if (!(Math.abs(got - want) <= tol)) fail(what + ": gpu " + got + ", cpu " + want + ", |diff| " + Math.abs(got - want) + " > " + tol);
    }

    @Test
    void allFiniteFindsNanAndInfinityAnywhereInRangeOnly() {
        for (int n : SIZES) {
            if (n == 0) continue;
            float[] x = rand(n, n + 4);
            try (DeviceBuffer dx = cuda.upload(x)) {
                String what = " n=" + n;
                assertTrue(GpuVec.allFinite(cuda, n, dx, 2), "finite data" + what);
                assertTrue(GpuVec.allFinite(cuda, 0, dx, 2), "n = 0");
                cuda.fill32(dx, 2, Float.floatToRawIntBits(Float.NaN));          // before the range
                cuda.fill32(dx.at(n + 2), 2, Float.floatToRawIntBits(Float.POSITIVE_INFINITY));  // after it
                assertTrue(GpuVec.allFinite(cuda, n, dx, 2), "non-finite values outside the range must not count" + what);
                cuda.fill32(dx.at(n + 1), 1, Float.floatToRawIntBits(Float.NaN));  // last element of the range
                assertFalse(GpuVec.allFinite(cuda, n, dx, 2), "NaN at the last element" + what);
                cuda.fill32(dx.at(n + 1), 1, Float.floatToRawIntBits(1f));
                cuda.fill32(dx.at(2), 1, Float.floatToRawIntBits(Float.NEGATIVE_INFINITY));  // first element
                assertFalse(GpuVec.allFinite(cuda, n, dx, 2), "-Infinity at the first element" + what);
                cuda.fill32(dx.at(2), 1, Float.floatToRawIntBits(Float.MAX_VALUE));
                assertTrue(GpuVec.allFinite(cuda, n, dx, 2), "Float.MAX_VALUE is finite" + what);
            }
        }
    }
}

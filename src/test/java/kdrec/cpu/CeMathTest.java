package kdrec.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The activations' exp and log1p: each vector lane has the bits of its scalar twin (so a kernel's
 * result does not depend on its JIT tier, vector width or tail position) and is accurate against
 * double-precision Math.
 */
@Tag("simd")
class CeMathTest {
    /** Every lane of f(vector) must equal g(scalar) bit for bit. */
    static float[] lanesMatchScalar(String name, float[] x, UnaryOperator<FloatVector> f, java.util.function.Function<Float, Float> g) {
        float[] v = new float[x.length];
        for (int i = 0; i < x.length; i += Simd.LANES) f.apply(FloatVector.fromArray(Simd.F, x, i)).intoArray(v, i);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(g.apply(x[i])), Float.floatToRawIntBits(v[i]), name + ": lane vs scalar at x=" + x[i]);
        }
        return v;
    }

    @Test
    void expFullCoversTheWholeRange() {
        int n = 64 * Simd.LANES;
        float[] x = KernelTestSupport.uniform(5, n, -100f, 100f);
        float[] edge = {0f, -0f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 88.3f, 88.376f, 88.38f, 88.5f, 88.72f,
                88.7229f, 88.73f, -87.3f, -88.5f, 1e-30f, -1e-30f};
        System.arraycopy(edge, 0, x, 0, edge.length);
        float[] y = lanesMatchScalar("expFull", x, CeMath::expFull, CeMath::expFull);
        for (int i = 0; i < n; i++) {
            double ref = Math.exp(x[i]);
            if (Float.isNaN(x[i])) assertTrue(Float.isNaN(y[i]));
            else if (ref > Float.MAX_VALUE) assertEquals(Float.POSITIVE_INFINITY, y[i], "overflow at " + x[i]);
            else if (ref < 1.2e-38) assertEquals(0f, y[i], 1.2e-38f, "underflow at " + x[i]);
            else if (x[i] > 88.37626f) assertEquals(ref, y[i], 4e-6 * ref, "the last 0.35 before overflow at " + x[i]);
            else assertEquals(ref, y[i], 2 * Math.ulp((float) ref), "exp(" + x[i] + ")");
        }
    }

    @Test
    void log1pUnitIsAccurateDownToTinyArguments() {
        int n = 64 * Simd.LANES;
        float[] u = KernelTestSupport.uniform(6, n, 0f, 1f);
        float[] edge = {0f, 1f, 1e-8f, 1e-20f, 3e-7f, 0.41421354f, 0.41421357f, 0.5f, Float.MIN_NORMAL, 6e-8f};
        System.arraycopy(edge, 0, u, 0, edge.length);
        for (int i = edge.length; i < n / 4; i++) u[i] = (float) Math.pow(10, -12 * u[i]); // log-spread small values
        float[] y = lanesMatchScalar("log1pUnit", u, CeMath::log1pUnit, CeMath::log1pUnit);
        for (int i = 0; i < n; i++) {
            double ref = Math.log1p(u[i]);
            assertEquals(ref, y[i], 2 * Math.ulp((float) ref), "log1p(" + u[i] + ")");
        }
    }
}

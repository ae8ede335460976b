package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The epsilon-in-the-log losses of CD and UnKD: values by hand, gradients by central finite differences. */
class PointwiseLossGradientTest {

    private static final double EPS = 1e-2, ATOL = 5e-4, RTOL = 5e-3;

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void finiteDifferences(Backend be) {
        Var x = Var.leaf("x", randn(21, 2f, 13));
        Tensor xv = x.value();
        xv.set(0, -25f); // deep in the saturated region, where the epsilon shapes value and slope
        xv.set(1, 24f);
        float[] y = randn(22, 1f, 13).toArray();
        for (int i = 0; i < y.length; i++) y[i] = (float) (1 / (1 + Math.exp(-y[i])));
        check("softBce", be, t -> PointwiseLoss.softBce(t, x, y, 1e-10f), EPS, ATOL, RTOL, x);
        check("softBce eps 0.05", be, t -> PointwiseLoss.softBce(t, x, y, 0.05f), EPS, ATOL, RTOL, x);
        check("negLogSigmoid", be, t -> PointwiseLoss.negLogSigmoid(t, x, 1e-10f), EPS, ATOL, RTOL, x);
        check("negLogSigmoid eps 0.05", be, t -> PointwiseLoss.negLogSigmoid(t, x, 0.05f), EPS, ATOL, RTOL, x);
    }

    @Test
    void valuesByHand() {
        try (Tape t = new Tape()) {
            Var x = Var.leaf("x", Tensor.of(new float[] {0f, (float) Math.log(3), -30f}, 3));
            // x = 0: sigma = 1/2, y = 0.2: -(0.2 ln 0.5 + 0.8 ln 0.5) = ln 2
            // x = ln 3: sigma = 3/4, y = 1: -ln(0.75) = 0.287682
            // x = -30: sigma = 9.36e-14, y = 1: -ln(9.36e-14 + 1e-10) = 23.0249 (the epsilon caps it; log-sigmoid would give 30)
            Var bce = PointwiseLoss.softBce(t, x, new float[] {0.2f, 1f, 1f}, 1e-10f);
            assertEquals(Math.log(2), bce.value().get(0), 1e-6);
            assertEquals(0.287682, bce.value().get(1), 1e-6);
            assertEquals(23.0249, bce.value().get(2), 1e-3);
            Var nls = PointwiseLoss.negLogSigmoid(t, x, 1e-10f);
            assertEquals(Math.log(2), nls.value().get(0), 1e-6);
            assertEquals(0.287682, nls.value().get(1), 1e-6);
            assertEquals(23.0249, nls.value().get(2), 1e-3);
            assertThrows(IllegalArgumentException.class, () -> PointwiseLoss.softBce(t, x, new float[2], 1e-10f));
        }
    }
}

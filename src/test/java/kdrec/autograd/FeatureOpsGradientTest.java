package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.randn;

import kdrec.tensor.Backend;
import kdrec.tensor.SparseMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Feature-KD ops against central finite differences on both CPU backends: the Chebyshev filter (full
 * and row-restricted, asymmetric M), row distances, row-keyed dropout, the dense layer, and FreqD's
 * whole chain (projector experts with dropout -> filter -> cosine distance).
 */
class FeatureOpsGradientTest {

    private static final double EPS = 1e-2, ATOL = 5e-4, RTOL = 5e-3;

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void chebyshevFilter(Backend be) {
        // 6 rows ordered by hops from rows {0, 1}: rows 2,3 at 1 hop, rows 4,5 at 2 hops; M asymmetric (dropped edges)
        int[] ptr = {0, 2, 4, 6, 8, 9, 10};
        int[] col = {1, 2, 0, 3, 0, 4, 1, 5, 2, 3};
        float[] val = {-0.4f, 0.3f, -0.2f, 0.5f, 0.6f, -0.7f, 0.25f, 0.1f, -0.3f, 0.45f};
        SparseMatrix m = new SparseMatrix(6, 6, ptr, col, val, false);
        Var x = Var.leaf("x", randn(3, 1f, 6, 4));
        float[] c3 = {0.3f, -0.5f, 0.8f}, c1 = {0.5f, -0.5f}, c4 = {0.2f, 0.1f, -0.6f, 0.4f};
        check("cheb p=2 restricted", be, t -> ChebyshevFilter.apply(t, m, new int[] {2, 4, 6}, c3, x), EPS, ATOL, RTOL, x);
        SparseMatrix m4 = new SparseMatrix(2, 4, new int[] {0, 2, 4}, new int[] {1, 2, 0, 3}, new float[] {-0.4f, 0.3f, -0.2f, 0.5f}, false);
        Var x4 = Var.leaf("x4", randn(4, 1f, 4, 3));
        check("cheb p=1 restricted", be, t -> ChebyshevFilter.apply(t, m4, new int[] {2, 4}, c1, x4), EPS, ATOL, RTOL, x4);
        check("cheb p=3 full", be, t -> ChebyshevFilter.apply(t, m, new int[] {6, 6, 6, 6}, c4, x), EPS, ATOL, RTOL, x);
        check("cheb p=0", be, t -> ChebyshevFilter.apply(t, m, new int[] {6}, new float[] {1.5f}, x), EPS, ATOL, RTOL, x);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void rowDistancesDropoutAndLinear(Backend be) {
        Var a = Var.leaf("a", randn(21, 1f, 4, 6)), b = Var.leaf("b", randn(22, 1f, 4, 6));
        check("squaredL2", be, t -> RowDistance.squaredL2(t, a, b), EPS, ATOL, RTOL, a, b);
        check("cosine", be, t -> RowDistance.cosine(t, a, b, 1e-12), EPS, ATOL, RTOL, a, b);
        Var tiny = Var.leaf("tiny", randn(23, 1e-3f, 2, 3)), other = Var.leaf("other", randn(24, 1f, 2, 3));
        check("cosine, a norm clamped at eps", be, t -> RowDistance.cosine(t, tiny, other, 0.1), EPS, ATOL, RTOL, tiny, other);
        check("rowDropout", be, t -> RowDropout.apply(t, a, new int[] {7, 3, 9, 1}, 0.3f, 5), EPS, ATOL, RTOL, a);
        Var w = Var.leaf("w", randn(25, 1f, 6, 5)), bias = Var.leaf("bias", randn(26, 1f, 5));
        check("linear", be, t -> Linear.apply(t, a, w, bias), EPS, ATOL, RTOL, a, w, bias);
        check("linear, no bias", be, t -> Linear.apply(t, a, w, null), EPS, ATOL, RTOL, a, w);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void projectorFilterAndDistanceChain(Backend be) {
        kdrec.nn.Params params = new kdrec.nn.Params();
        kdrec.kd.feature.Projector proj = new kdrec.kd.feature.Projector(params, "user", 2, 3, 5, 4, 0.25f, 9);
        int[] ptr = {0, 2, 4, 5, 6, 6, 6};
        int[] col = {2, 3, 3, 0, 4, 5};
        float[] val = {-0.5f, -0.25f, -0.4f, -0.3f, -0.6f, -0.2f};
        SparseMatrix m = new SparseMatrix(6, 6, ptr, col, val, false);
        int[] ids = {10, 11, 12, 13, 14, 15};
        Var x = Var.leaf("x", randn(31, 1f, 6, 3));
        kdrec.tensor.Tensor teacher = randn(32, 1f, 2, 4);
        float[] c = {0.4f, -0.5f, 0.2f};
        java.util.List<Var> inputs = new java.util.ArrayList<>(params.all());
        inputs.add(x);
        check("projector -> filter -> cosine", be, t -> {
            Var z = proj.forward(t, x, ids, 77);
            Var f = ChebyshevFilter.apply(t, m, new int[] {2, 4, 6}, c, z);
            return RowDistance.cosine(t, f, Var.constant(teacher), 1e-12);
        }, EPS, 2e-3, 1e-2, inputs.toArray(new Var[0]));
        params.close();
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gumbelSelectionMixAndTopology(Backend be) {
        Var a = Var.leaf("a", randn(41, 1f, 3, 4));
        double[] g = kdrec.autograd.GumbelSoftmax.noise(new java.util.SplittableRandom(3), 12);
        check("gumbelSoftmax T=1", be, t -> GumbelSoftmax.select(t, a, g, 1.0), EPS, ATOL, RTOL, a);
        check("gumbelSoftmax T=0.5", be, t -> GumbelSoftmax.select(t, a, g, 0.5), EPS, ATOL, RTOL, a);
        Var z = Var.leaf("z", randn(42, 1f, 3, 2)), f0 = Var.leaf("f0", randn(43, 1f, 3, 5)), f1 = Var.leaf("f1", randn(44, 1f, 3, 5));
        check("mix", be, t -> GumbelSoftmax.mix(t, z, new Var[] {f0, f1}), EPS, ATOL, RTOL, z, f0, f1);
        Var s = Var.leaf("s", randn(45, 1f, 7, 3));
        kdrec.tensor.Tensor teacher = randn(46, 1f, 7, 6);
        int[] group = {4, 1, 4, 1, 4, 9, 1};
        double[] proto = new double[3 * 3];
        for (int i = 0; i < proto.length; i++) proto[i] = Math.sin(i + 1.0);
        check("topology (fixed prototypes)", be, t -> Topology.loss(t, s, teacher, group, proto), EPS, 2e-3, 1e-2, s);
    }
}

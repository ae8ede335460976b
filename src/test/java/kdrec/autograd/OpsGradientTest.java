package kdrec.autograd;

import static kdrec.autograd.GradCheck.check;
import static kdrec.autograd.GradCheck.leaf;
import static kdrec.autograd.GradCheck.randn;

import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.PairSets;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every autograd op against central finite differences, on both CPU backends, small random shapes. */
class OpsGradientTest {


    private static final double EPS = 1e-2, ATOL = 5e-4, RTOL = 5e-3;

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void matmulAllLayouts(Backend be) {
        Var a = leaf("a", 1, 5, 7), b = leaf("b", 2, 7, 4), bt = leaf("bt", 3, 4, 7), at = leaf("at", 4, 7, 5);
        check("matmul nn", be, t -> MatMul.nn(t, a, b), EPS, ATOL, RTOL, a, b);
        check("matmul nt", be, t -> MatMul.nt(t, a, bt), EPS, ATOL, RTOL, a, bt);
        check("matmul tn", be, t -> MatMul.tn(t, at, b), EPS, ATOL, RTOL, at, b);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void arithmetic(Backend be) {
        Var a = leaf("a", 5, 3, 11), b = leaf("b", 6, 3, 11), bias = leaf("bias", 7, 11);
        check("add", be, t -> Arith.add(t, a, b), EPS, ATOL, RTOL, a, b);
        check("sub", be, t -> Arith.sub(t, a, b), EPS, ATOL, RTOL, a, b);
        check("mul", be, t -> Arith.mul(t, a, b), EPS, ATOL, RTOL, a, b);
        check("scale", be, t -> Arith.scale(t, a, -2.5f), EPS, ATOL, RTOL, a);
        check("addBias", be, t -> Arith.addBias(t, a, bias), EPS, ATOL, RTOL, a, bias);
        Var c = leaf("c", 26, 2, 11);
        check("concatRows", be, t -> Arith.concatRows(t, a, c), EPS, ATOL, RTOL, a, c);
        check("rowSlice", be, t -> Arith.rowSlice(t, a, 1, 3), EPS, ATOL, RTOL, a);
        check("sum", be, t -> Arith.sum(t, a), EPS, ATOL, RTOL, a);
        check("mean", be, t -> Arith.mean(t, a), EPS, ATOL, RTOL, a);
        Var v = leaf("v", 8, 9);
        float[] w = randn(9, 1f, 9).toArray();
        check("weightedSum", be, t -> Arith.weightedSum(t, v, w), EPS, ATOL, RTOL, v);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void gatherAndDots(Backend be) {
        Var table = leaf("table", 10, 6, 5), other = leaf("other", 11, 4, 5);
        int[] idx = {3, 0, 3, 5, 1};
        check("gather rows (row-sparse grad)", be, t -> Gather.rows(t, table, idx), EPS, ATOL, RTOL, table);
        int[] ia = {0, 5, 5, 2}, ib = {3, 1, 1, 0};
        check("rowDot gathered", be, t -> Gather.rowDot(t, table, ia, other, ib), EPS, ATOL, RTOL, table, other);
        Var u = leaf("u", 12, 3, 5);
        IndexSets sets = IndexSets.of(new int[][] {{0, 2, 5}, {}, {1, 1, 4, 3}});
        check("setDots", be, t -> Gather.setDots(t, u, table, sets), EPS, ATOL, RTOL, u, table);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void activations(Backend be) {
        Var x = leaf("x", 13, 4, 9);
        check("sigmoid", be, t -> Activations.sigmoid(t, x), EPS, ATOL, RTOL, x);
        check("logSigmoid", be, t -> Activations.logSigmoid(t, x), EPS, ATOL, RTOL, x);
        check("silu", be, t -> Activations.silu(t, x), EPS, ATOL, RTOL, x);
        // keep ReLU inputs away from the kink so finite differences are meaningful
        Tensor xv = x.value();
        for (int i = 0; i < xv.size(); i++) if (Math.abs(xv.get(i)) < 0.05f) xv.set(i, 0.3f);
        check("relu", be, t -> Activations.relu(t, x), EPS, ATOL, RTOL, x);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void layerNormAndDropout(Backend be) {
        Var x = leaf("x", 14, 5, 8), gamma = leaf("gamma", 15, 8), beta = leaf("beta", 16, 8);
        check("layerNorm affine", be, t -> Norm.layerNorm(t, x, gamma, beta, 1e-5f), 1e-2, 5e-3, 3e-2, x, gamma, beta);
        check("layerNorm plain", be, t -> Norm.layerNorm(t, x, null, null, 1e-5f), 1e-2, 5e-3, 3e-2, x);
        check("dropout", be, t -> Norm.dropout(t, x, 0.3f, 1234L), EPS, ATOL, RTOL, x);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void sparseProducts(Backend be) {
        // 3 users x 4 items bipartite graph: a symmetric 7 x 7 normalised adjacency
        SparseMatrix adj = SparseMatrix.normalizedBipartite(3, 4, new int[] {0, 2, 3, 5}, new int[] {0, 3, 1, 0, 2});
        Var x = leaf("x", 23, 7, 5);
        check("spmm symmetric", be, t -> Sparse.spmm(t, adj, x), EPS, ATOL, RTOL, x);
        SparseMatrix rect = new SparseMatrix(2, 3, new int[] {0, 2, 3}, new int[] {0, 2, 1}, new float[] {0.5f, -1f, 2f}, false);
        Var y = leaf("y", 24, 3, 4), z = leaf("z", 25, 2, 4);
        check("spmm", be, t -> Sparse.spmm(t, rect, y), EPS, ATOL, RTOL, y);
        check("spmmT", be, t -> Sparse.spmmT(t, rect, z), EPS, ATOL, RTOL, z);
    }

    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void crossEntropies(Backend be) {
        Var u = leaf("u", 17, 3, 6), items = leaf("items", 18, 7, 6);
        IndexSets sets = IndexSets.of(new int[][] {{0, 2, 5, 6}, {1}, {4, 3, 2}});
        float[] teacher = randn(19, 2f, sets.size()).toArray();
        check("subsetSoftCe", be, t -> CrossEntropy.subsetSoftCe(t, u, items, sets, teacher, 0.7f), EPS, ATOL, RTOL, u, items);
        // two overlapping sets per row over one list: row 0 A = {0, 2, 5}, B = {2, 5, 6}; row 1 A only; row 2 B only
        float[] pairTeacher = randn(23, 2f, sets.size()).toArray(), pairTarget = new float[sets.size()];
        int[] a = {3, 1, 0}, b = {1, 1, 0};
        float[] wA = {0.3f, 1f, 0.5f}, wB = {0.7f, 0f, 2f};
        be.pairTargets(3, sets.ptr(), a, b, pairTeacher, 0.7f, wA, wB, pairTarget);
        PairSets pairs = PairSets.of(sets, a, b, pairTarget, wA, wB);
        check("pairSoftCe", be, t -> CrossEntropy.pairSoftCe(t, u, items, pairs, 0.7f), EPS, ATOL, RTOL, u, items);
        Var logits = leaf("logits", 20, sets.size());
        check("softCeLogits", be, t -> CrossEntropy.softCeLogits(t, logits, sets, teacher, 2f), EPS, ATOL, RTOL, logits);
        int[] target = {6, 0, 3};
        check("fullSoftmaxCe online", be, t -> CrossEntropy.fullSoftmaxCe(t, u, items, target, 0.5f, true, null), EPS, ATOL, RTOL, u, items);
        check("fullSoftmaxCe materialised", be, t -> CrossEntropy.fullSoftmaxCe(t, u, items, target, 0.5f, false, null), EPS, ATOL, RTOL, u, items);
        Var pos = leaf("pos", 21, 3), neg = leaf("neg", 22, 5);
        int[] negPtr = {0, 2, 2, 5};
        check("sampledSoftmax", be, t -> CrossEntropy.sampledSoftmax(t, pos, neg, negPtr, 1f), EPS, ATOL, RTOL, pos, neg);
        check("sampledSoftmax scaled", be, t -> CrossEntropy.sampledSoftmax(t, pos, neg, negPtr, 20f), EPS, ATOL, RTOL, pos, neg);
    }
}

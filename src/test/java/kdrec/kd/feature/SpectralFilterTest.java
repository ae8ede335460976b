package kdrec.kd.feature;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import kdrec.autograd.ChebyshevFilter;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.Backend;
import kdrec.tensor.Backends;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * FreqD's graphs and spectral filters (spectral-filters.md "Tests that pin it down"): the DCT-I
 * against a naive transform, exact Chebyshev fits of polynomials, the spectral identity
 * ‖h(L)X‖² = Σ_k h(λ_k)² ‖u_kᵀX‖² against a dense Jacobi eigendecomposition in double, the linear
 * filter through the Chebyshev path against the direct (1-α)X + αÂX, and the batch closure
 * against the full table.
 */
class SpectralFilterTest {
    // ---- graph construction ----

    /**
     * Users 0..4 over items 0..3: u0 {0,1}, u1 {0,1,2}, u2 {2}, u3 {3}, u4 {}. Co-occurrence counts:
     * C01 = 2, C02 = 0, C12 = 1, C3x = 0, u4 none. K = 1: u0 -> 1, u1 -> 0 (2 beats 1), u2 -> 1,
     * u3 -> none, u4 -> none. Symmetrised: (0,1) mutual = 1, (1,2) and (2,1) one-sided = 0.5.
     * Degrees d0 = 1, d1 = 1.5, d2 = 0.5. Â01 = 1/sqrt(1.5), Â12 = 0.5/sqrt(0.75).
     */
    @Test
    void coOccurrenceGraphByHand() {
        int[] ptr = {0, 2, 5, 6, 7, 7}, idx = {0, 1, 0, 1, 2, 2, 3};
        int[][] t = CoGraph.transpose(5, 4, ptr, idx);
        SparseMatrix a = CoGraph.build(5, ptr, idx, t[0], t[1], 1, false);
        float[][] dense = dense(a);
        assertEquals(1 / Math.sqrt(1.5), dense[0][1], 1e-6);
        assertEquals(1 / Math.sqrt(1.5), dense[1][0], 1e-6);
        assertEquals(0.5 / Math.sqrt(0.75), dense[1][2], 1e-6);
        assertEquals(0.5 / Math.sqrt(0.75), dense[2][1], 1e-6);
        assertEquals(4, a.nnz(), "no self-loops, no zero-count neighbours, u3 and u4 isolated");
        assertTrue(a.symmetric());
        // the code's quirk: K neighbours whatever the counts (zero-count ones: lowest ids, never self)
        SparseMatrix padded = CoGraph.build(5, ptr, idx, t[0], t[1], 1, true);
        float[][] pd = dense(padded);
        assertTrue(pd[3][0] > 0 && pd[4][0] > 0, "u3 and u4 take node 0");
        for (int v = 0; v < 5; v++) assertEquals(0f, pd[v][v]);
        // K = 2 on the same data: ties of equal count go to the lower id
        int[] nbr = CoGraph.topNeighbours(5, ptr, idx, t[0], t[1], 2, false);
        assertArrayEquals(new int[] {1, -1, 0, 2, 1, -1, -1, -1, -1, -1}, nbr);
    }

    static float[][] dense(SparseMatrix a) {
        float[][] m = new float[a.rows()][a.cols()];
        for (int r = 0; r < a.rows(); r++) for (int e = a.ptr()[r]; e < a.ptr()[r + 1]; e++) m[r][a.col()[e]] += a.val()[e];
        return m;
    }

    /** A random kNN-like symmetric graph from random interactions. */
    static SparseMatrix randomGraph(int n, int others, int perNode, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ptr = new int[n + 1];
        int[] idx = new int[n * perNode];
        for (int u = 0; u < n; u++) {
            java.util.TreeSet<Integer> s = new java.util.TreeSet<>();
            while (s.size() < perNode) s.add(r.nextInt(others));
            int o = u * perNode;
            for (int i : s) idx[o++] = i;
            ptr[u + 1] = o;
        }
        int[][] t = CoGraph.transpose(n, others, ptr, idx);
        return CoGraph.build(n, ptr, idx, t[0], t[1], k, false);
    }

    // ---- DCT-I and Chebyshev fits ----

    @Test
    void dct1MatchesTheNaiveTransform() {
        Backend be = Backends.get();
        for (int n : new int[] {1, 2, 3, 5, 7, 8, 13, 16, 31, 64, 97}) {
            float[] x = new float[n + 1];
            SplittableRandom r = new SplittableRandom(n);
            for (int j = 0; j <= n; j++) x[j] = (float) r.nextGaussian();
            Tensor in = Tensor.of(x, n + 1), out = Tensor.zeros(n + 1);
            be.dct1(1, n, in.data(), 0, n + 1, out.data(), 0, n + 1);
            double norm = 0;
            for (float v : x) norm += v * v;
            for (int k = 0; k <= n; k++) {
                double want = x[0] + (k % 2 == 0 ? x[n] : -x[n]);
                for (int j = 1; j < n; j++) want += 2 * x[j] * Math.cos(Math.PI * j * k / n);
                assertEquals(want, out.get(k), 1e-5 * Math.sqrt(norm) * Math.max(1, Math.log(2 * n)), "n=" + n + " k=" + k);
            }
        }
    }

    @Test
    void chebyshevFitsReproducePolynomials() {
        // h(λ) = 0.3 - 1.2 λ + 0.7 λ² - 0.25 λ³ + 0.05 λ⁴ (degree 4), fitted at degree 4 and 6 from 4..40 samples
        java.util.function.DoubleUnaryOperator h = l -> 0.3 - 1.2 * l + 0.7 * l * l - 0.25 * l * l * l + 0.05 * l * l * l * l;
        for (int p : new int[] {4, 6}) {
            for (int n : new int[] {p, 2 * p, 40}) {
                SpectralFilter f = new SpectralFilter("test", SpectralFilter.fit(h, p, n));
                for (double l = 0; l <= 2.0001; l += 0.05) assertEquals(h.applyAsDouble(l), f.response(l), 1e-6, "p=" + p + " n=" + n + " λ=" + l);
                for (int q = 5; q <= p; q++) assertEquals(0, f.coeffs()[q], 1e-6, "no coefficient above the degree");
            }
        }
        SpectralFilter lin = SpectralFilter.parse("linear:0.5");
        assertArrayEquals(new float[] {0.5f, -0.5f}, lin.coeffs(), 1e-7f, "c0 = 1-α, c1 = -α");
        SpectralFilter quad = SpectralFilter.parse("quadratic:0.25");
        for (double l = 0; l <= 2; l += 0.1) assertEquals((1 - 0.25 * l) * (1 - 0.25 * l), quad.response(l), 1e-6);
        SpectralFilter exp = SpectralFilter.parse("exp:1.5,10");
        for (double l = 0; l <= 2; l += 0.1) assertEquals(Math.exp(-0.75 * l), exp.response(l), 1e-6, "degree 10 is plenty for the heat kernel");
        SpectralFilter low = SpectralFilter.parse("lowpass:0.8,24");
        assertTrue(low.response(0) > 0.97 && low.response(0.3) > 0.9 && low.response(1.4) < 0.05 && Math.abs(low.response(2)) < 0.02,
                "a smooth step: keeps low, removes high frequencies");
        assertArrayEquals(new float[] {1f, 0f, 0.5f}, SpectralFilter.parse("cheb:1,0,0.5").coeffs());
        for (String bad : new String[] {"linear:0", "linear:1,2", "lowpass:3,4", "exp:1", "exp:1,0.5", "cheb:", "wavelet:1", "cheb:1,x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpectralFilter.parse(bad), bad);
            assertTrue(e.getMessage().contains("freqd.filter"), e.getMessage());
        }
    }

    // ---- the spectral identity against a dense eigendecomposition ----

    /** Cyclic Jacobi: eigenvalues (returned) and eigenvectors (columns of v) of a symmetric matrix, in double. */
    static double[] jacobi(double[][] a0, double[][] v) {
        int n = a0.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = a0[i].clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) v[i][j] = i == j ? 1 : 0;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
            if (off < 1e-26) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { // A <- A J
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) { // A <- J^T A
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = a[i][i];
        return w;
    }

    /** h(L)X for all rows through the op (full reach), no dropout. */
    static float[] filterAll(SparseMatrix ahat, SpectralFilter f, Tensor x) {
        Closure c = Closure.full(ahat, f.degree(), 1f, 0);
        try (Tape tape = new Tape()) {
            return ChebyshevFilter.apply(tape, c.op, c.reach, f.coeffs(), Var.constant(x)).value().toArray();
        }
    }

    static Tensor randn(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, rows, cols);
    }

    @Test
    void spectralIdentityAgainstJacobiEigendecomposition() {
        String[] filters = {"linear:0.5", "quadratic:0.5", "exp:2,12", "lowpass:1,16", "cheb:0.2,-0.4,0.3,0.1"};
        for (int n : new int[] {7, 24, 64}) {
            SparseMatrix ahat = randomGraph(n, 2 * n, 3, 4, n);
            double[][] lap = new double[n][n];
            float[][] ad = dense(ahat);
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) lap[i][j] = (i == j ? 1 : 0) - ad[i][j];
            double[][] u = new double[n][n];
            double[] lambda = jacobi(lap, u);
            for (double l : lambda) assertTrue(l > -1e-6 && l < 2 + 1e-6, "normalised Laplacian spectrum in [0, 2]: " + l);
            int d = 5;
            Tensor x = randn(n, d, 3 * n);
            for (String spec : filters) {
                SpectralFilter f = SpectralFilter.parse(spec);
                float[] hx = filterAll(ahat, f, x);
                double lhs = 0, rhs = 0;
                for (float v : hx) lhs += (double) v * v;
                for (int k = 0; k < n; k++) {
                    double h = f.response(lambda[k]);
                    for (int c = 0; c < d; c++) {
                        double proj = 0;
                        for (int i = 0; i < n; i++) proj += u[i][k] * x.get(i, c);
                        rhs += h * h * proj * proj;
                    }
                }
                assertEquals(rhs, lhs, 1e-6 * rhs, spec + " on n=" + n);
            }
            // Parseval (h ≡ 1): ‖X‖² = Σ_k ‖u_kᵀX‖²
            double energy = 0, spectral = 0;
            for (int i = 0; i < n * d; i++) energy += (double) x.get(i) * x.get(i);
            float[] id = filterAll(ahat, SpectralFilter.parse("cheb:1"), x);
            for (float v : id) spectral += (double) v * v;
            assertEquals(energy, spectral, 1e-9 * energy);
        }
    }

    @Test
    void linearFilterThroughChebyshevEqualsDirectPropagation() {
        SparseMatrix ahat = randomGraph(30, 50, 3, 5, 4);
        Tensor x = randn(30, 6, 8);
        float alpha = 0.35f;
        float[] cheb = filterAll(ahat, SpectralFilter.parse("linear:" + alpha), x);
        Tensor ax = Tensor.zeros(30, 6);
        Backends.get().spmm(30, 6, ahat.ptr(), ahat.col(), ahat.val(), x.data(), 0, 6, 0f, ax.data(), 0, 6);
        for (int i = 0; i < 30 * 6; i++) assertEquals((1 - alpha) * x.get(i) + alpha * ax.get(i), cheb[i], 2e-6);
        // quadratic = linear applied twice
        float[] quad = filterAll(ahat, SpectralFilter.parse("quadratic:" + alpha), x);
        float[] twice = filterAll(ahat, SpectralFilter.parse("linear:" + alpha), Tensor.of(cheb, 30, 6));
        assertArrayEquals(twice, quad, 2e-5f);
    }

    @Test
    void closureRowsEqualTheFullTableUnderEdgeDropout() {
        int n = 200;
        SparseMatrix ahat = randomGraph(n, 300, 3, 5, 9);
        Tensor x = randn(n, 4, 2);
        int[] batch = {17, 3, 42, 5};
        for (String spec : new String[] {"linear:0.5", "cheb:0.1,0.2,-0.3,0.4"}) {
            SpectralFilter f = SpectralFilter.parse(spec);
            for (float keep : new float[] {1f, 0.5f}) {
                Closure full = Closure.full(ahat, f.degree(), keep, 1234);
                Closure part = Closure.of(ahat, batch, f.degree(), keep, 1234);
                assertEquals(batch.length, part.reach[0]);
                if (f.degree() == 1) assertTrue(part.nodes.length < 60, "the 1-hop closure is a small part of the graph: " + part.nodes.length);
                Tensor xl = Tensor.zeros(part.nodes.length, 4);
                Backends.get().gather(part.nodes.length, 4, part.nodes, x.data(), 0, 4, xl.data(), 0, 4);
                try (Tape tape = new Tape()) {
                    Tensor all = ChebyshevFilter.apply(tape, full.op, full.reach, f.coeffs(), Var.constant(x)).value();
                    Tensor some = ChebyshevFilter.apply(tape, part.op, part.reach, f.coeffs(), Var.constant(xl)).value();
                    for (int b = 0; b < batch.length; b++) {
                        for (int c = 0; c < 4; c++) assertEquals(all.get(batch[b], c), some.get(b, c), 1e-5, spec + " keep " + keep);
                    }
                }
            }
        }
    }

    @Test
    void filterSpecsAreCheckedAtTheirBounds() {
        SpectralFilter d = SpectralFilter.parse("  LINEAR ");
        assertEquals("linear", d.spec());
        assertArrayEquals(new float[] {0.5f, -0.5f}, d.coeffs(), 1e-7f, "α defaults to 0.5");
        assertEquals(1, d.degree());
        assertArrayEquals(new float[] {0f, -1f}, SpectralFilter.parse("linear:1").coeffs(), 1e-7f, "α = 1 is allowed");
        assertEquals(2, SpectralFilter.parse("quadratic").degree());
        assertEquals(1.0, SpectralFilter.parse("exp:0,1").response(1.7), 1e-6, "γ = 0 keeps everything");
        assertEquals(1, SpectralFilter.parse("lowpass:1,1").degree());
        assertEquals(64, SpectralFilter.parse("exp:1,64").degree());
        assertEquals(0.75, SpectralFilter.parse("cheb:0.5,-0.25").response(0), 1e-7, "c0 T0 + c1 T1(-1) = 0.5 + 0.25");
        assertEquals(0.5 - 0.25 * 0.5 + 2 * (2 * 0.25 - 1), SpectralFilter.parse("cheb:0.5,-0.25,2").response(1.5), 1e-6,
                "T2(x) = 2x² - 1 at x = 0.5");
        assertEquals("cheb:1 [1.0]", SpectralFilter.parse("cheb:1").toString());
        String[][] bad = {{"linear:1.01", "α must be in (0, 1]"}, {"linear:-0.5", "α must be in (0, 1]"}, {"quadratic:0", "α must be in (0, 1]"},
            {"quadratic:1,2", "expected one number"}, {"lowpass:0,4", "the cut-off λc must be in (0, 2)"},
            {"lowpass:2,4", "the cut-off λc must be in (0, 2)"}, {"lowpass:1", "lowpass takes λc,p"}, {"lowpass:1,0", "the degree p must be"},
            {"lowpass:1,65", "the degree p must be an integer in [1, 64]"}, {"exp:1,2.5", "the degree p must be"}, {"exp:-1,4", "γ must be >= 0"},
            {"exp:1,2,3", "exp takes γ,p"}, {"cheb:1,inf", "'inf' is not a finite number"}, {"cheb:1e999", "'1e999' is not a finite number"},
            {"wavelet", "unknown filter 'wavelet'"}};
        for (String[] b : bad) {
            var e = assertThrows(IllegalArgumentException.class, () -> SpectralFilter.parse(b[0]), b[0]);
            assertTrue(e.getMessage().startsWith("freqd.filter '" + b[0] + "': " + b[1]), e.getMessage());
            assertTrue(e.getMessage().endsWith("; accepted: linear:α, quadratic:α, lowpass:λc,p, exp:γ,p, cheb:c0,c1,..."), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new SpectralFilter("none", new float[0]));
        assertThrows(IllegalArgumentException.class, () -> SpectralFilter.fit(l -> 1, -1, 4));
        assertThrows(IllegalArgumentException.class, () -> SpectralFilter.fit(l -> 1, 3, 2));
        assertThrows(IllegalArgumentException.class, () -> SpectralFilter.fit(l -> 1, 0, 0));
        assertArrayEquals(new float[] {1f}, SpectralFilter.fit(l -> 1, 0, 1), 1e-6f, "a constant at degree 0 from two samples");
        // Jackson damping: g_0 = 1, g_1 at p = 2 is cos(π/4), and g_{p+1} would vanish
        assertEquals(1.0, SpectralFilter.jackson(0, 5), 1e-12);
        assertEquals(Math.sqrt(0.5), SpectralFilter.jackson(1, 2), 1e-12);
        assertEquals(0.0, SpectralFilter.jackson(4, 3), 1e-12);
        // the damped step: c_k is the undamped coefficient times g_k
        float[] raw = SpectralFilter.fit(l -> l < 0.8 ? 1 : l == 0.8 ? 0.5 : 0, 6, SpectralFilter.STEP_SAMPLES);
        float[] damped = SpectralFilter.parse("lowpass:0.8,6").coeffs();
        for (int k = 0; k <= 6; k++) assertEquals(raw[k] * SpectralFilter.jackson(k, 6), damped[k], 1e-6, "k=" + k);
    }

    @Test
    void neighbourListsOrderByCountThenIdWhateverTheOrderTheyAreMet() {
        // nodes x items: n0 {a, b, c}, n1 {b}, n2 {a}, n3 {b, c}. n0 meets n2 (via a) before n1 and n3 (via b):
        // counts from n0: n1 1, n2 1, n3 2 -> n3 first, then the tie n1 before n2
        int[] ptr = {0, 3, 4, 5, 7}, idx = {0, 1, 2, 1, 0, 1, 2};
        int[][] t = CoGraph.transpose(4, 3, ptr, idx);
        assertArrayEquals(new int[] {0, 2, 5, 7}, t[0]);
        assertArrayEquals(new int[] {0, 2, 0, 1, 3, 0, 3}, t[1]);
        assertArrayEquals(new int[] {3, 1, 0, 3, 0, -1, 0, 1}, CoGraph.topNeighbours(4, ptr, idx, t[0], t[1], 2, false));
        assertArrayEquals(new int[] {3, 0, 0, 0}, CoGraph.topNeighbours(4, ptr, idx, t[0], t[1], 1, false));
        assertArrayEquals(new int[] {3, 1, 2, 0, 3, -1, 0, -1, -1, 0, 1, -1}, CoGraph.topNeighbours(4, ptr, idx, t[0], t[1], 3, false));
        // padding with zero-count nodes skips itself and the nodes it already has
        assertArrayEquals(new int[] {3, 1, 2, 0, 3, 2, 0, 1, 3, 0, 1, 2}, CoGraph.topNeighbours(4, ptr, idx, t[0], t[1], 3, true));
        // rows of the normalised graph are sorted by column
        SparseMatrix a = CoGraph.build(4, ptr, idx, t[0], t[1], 3, false);
        for (int r = 0; r < 4; r++) {
            for (int e = a.ptr()[r] + 1; e < a.ptr()[r + 1]; e++) assertTrue(a.col()[e - 1] < a.col()[e], "row " + r);
        }
        // degrees by hand (K = 3): edges 0-3, 0-1, 0-2 (n0's list), 1-0, 1-3 (n1's), 2-0 (n2's), 3-0, 3-1 (n3's);
        // mutual pairs weigh 1: 0-1, 0-2, 0-3, 1-3 -> every node's degree is its number of neighbours
        float[][] d = dense(a);
        assertEquals(1 / Math.sqrt(3 * 2), d[0][1], 1e-6);
        assertEquals(1 / Math.sqrt(3 * 1), d[0][2], 1e-6);
        assertEquals(1 / Math.sqrt(2 * 2), d[1][3], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> CoGraph.build(4, ptr, idx, t[0], t[1], 0, false));
    }

    @Test
    void projectorInitIsPyTorchsLinearDefaultAndDropoutKeepsItsShare() {
        try (kdrec.nn.Params params = new kdrec.nn.Params()) {
            Var w = Projector.uniform(params, "w", 4, 7, 3, 50, 40);
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (long i = 0; i < w.value().size(); i++) {
                lo = Math.min(lo, w.value().get(i));
                hi = Math.max(hi, w.value().get(i));
            }
            assertTrue(lo >= -0.5f && hi <= 0.5f && lo < -0.49f && hi > 0.49f, "U(-1/sqrt(4), 1/sqrt(4)): " + lo + ".." + hi);
            Var same = Projector.uniform(params, "w2", 4, 7, 3, 50, 40), other = Projector.uniform(params, "w3", 4, 7, 4, 50, 40);
            assertArrayEquals(w.value().toArray(), same.value().toArray(), "seeded by (seed, stream)");
            assertTrue(!java.util.Arrays.equals(w.value().toArray(), other.value().toArray()));
        }
        int kept = 0, n = 20000;
        for (int e = 0; e < n; e++) {
            assertTrue(Closure.kept(5, e, 1f));
            if (Closure.kept(5, e, 0.25f)) kept++;
            assertEquals(Closure.kept(5, e, 0.25f), Closure.kept(5, e, 0.25f));
        }
        assertEquals(0.25, kept / (double) n, 0.02, "keep_prob 0.25 keeps a quarter of the entries");
        var m = FeatureKd.ordered("b", 1, "a", "x");
        assertEquals(java.util.List.of("b", "a"), java.util.List.copyOf(m.keySet()));
        assertEquals("x", m.get("a"));
    }

    @Test
    void aStepCutAtASamplePointIsHalfThereAndPaddingStopsAtTheLastNode() {
        // lowpass at λc = 1: the step 1[λ < 1] with 1/2 at the cut is odd around λ = 1 up to its mean 1/2, so every
        // even coefficient above c0 vanishes and h(1) = 1/2 exactly (the sample at λ = 1 must be the half, not 1)
        SpectralFilter half = SpectralFilter.parse("lowpass:1,8");
        assertEquals(0.5, half.coeffs()[0], 1e-6);
        for (int k = 2; k <= 8; k += 2) assertEquals(0, half.coeffs()[k], 1e-6, "c" + k);
        assertEquals(0.5, half.response(1), 1e-6);
        // K at least the number of other nodes: padding fills what exists and leaves the rest empty
        int[] ptr = {0, 3, 4, 5, 7}, idx = {0, 1, 2, 1, 0, 1, 2};
        int[][] t = CoGraph.transpose(4, 3, ptr, idx);
        assertArrayEquals(new int[] {3, 1, 2, -1, 0, 3, 2, -1, 0, 1, 3, -1, 0, 1, 2, -1},
                CoGraph.topNeighbours(4, ptr, idx, t[0], t[1], 4, true));
        // FreqD's two draws per filter call (edge mask, projector dropout) are independent and change with the call
        assertTrue(FreqD.RowDropoutSeeds.edge(11) != FreqD.RowDropoutSeeds.projector(11));
        assertTrue(FreqD.RowDropoutSeeds.edge(11) != FreqD.RowDropoutSeeds.edge(12));
        assertTrue(FreqD.RowDropoutSeeds.projector(11) != FreqD.RowDropoutSeeds.projector(12));
    }
}

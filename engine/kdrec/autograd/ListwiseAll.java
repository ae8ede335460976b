package kdrec.autograd;

import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Listwise losses against the whole catalogue (HetComp's ranking losses), fused with the score
 * product s = U.I^T so that no rows x items block outlives a chunk: the forward computes the scores
 * chunk by chunk, the backward recomputes them (as {@link FullSoftCe} does).
 *
 * <p>Row r of {@code u} has an excluded set X_r (its train items: never counted anywhere unless a
 * list names them) and one or more weighted terms. Term j owns an ordered list L and a held-out
 * set H; its "rest" is every item outside X_r ∪ H. With scores clamped to [-clip, clip] (no clamp
 * when clip <= 0; the clamp passes gradient only inside, as torch.clamp):
 * <ul>
 * <li>Plackett-Luce: {@code -sum_k [ s(L_k) - log max(sum_{l>=k} e^s(L_l) + sum_rest e^s, floor) ]}
 * <li>independent:   {@code -sum_k [ s(L_k) - log max(e^s(L_k) + sum_rest e^s, floor) ]}
 * </ul>
 * (a denominator held at {@code floor} passes no gradient, as torch.clamp(., floor).log()).
 * Output: one value per row, {@code sum_j weight_j * term_j}. Sums run in double with the largest
 * participating score factored out (log-sum-exp), so nothing overflows or underflows for any
 * score range; an item listed in L and also in the rest counts in both places.
 *
 * <p>The passes over the rest are the backend's float row kernels when the clamp bounds the row's
 * spread to {@code 2 * FLOAT_CLIP} (HetComp's clip of 40), where every e^(s - top) is a normal float;
 * without a clamp, or a wider one, they are double loops, as are rest gradients whose scale leaves
 * the float range.
 */
public final class ListwiseAll {
    private ListwiseAll() {}

    /**
     * Score block budget per chunk: 64 MB of floats. (8 MB, to keep the block in the last-level cache
     * between the GEMM and the row passes, looked 1.4x faster in an isolated forward + backward of a
     * Gowalla-sized batch but made the HetComp epoch itself 1.5x slower, 172 against 114 s: kept at 64.)
     */
    static final long CHUNK_FLOATS = 16L << 20;

    /**
     * The terms of every row: row r owns terms {@code [rowPtr[r], rowPtr[r+1])}; term j's ordered
     * list is row j of {@code lists}, its held-out set row j of {@code held}, its weight {@code weight[j]}.
     */
    public record Terms(int[] rowPtr, IndexSets lists, IndexSets held, float[] weight) {
        public Terms {
            int n = rowPtr.length - 1;
            if (n < 0 || rowPtr[0] != 0) throw new IllegalArgumentException("listwise terms: rowPtr must start at 0");
            for (int r = 0; r < n; r++) if (rowPtr[r + 1] < rowPtr[r]) throw new IllegalArgumentException("listwise terms: rowPtr decreases at row " + r);
            int t = rowPtr[n];
            if (lists.rows() != t || held.rows() != t || weight.length != t) {
                throw new IllegalArgumentException("listwise terms: " + t + " terms but " + lists.rows() + " lists, " + held.rows()
                        + " held-out sets and " + weight.length + " weights");
            }
        }

        public int rows() {
            return rowPtr.length - 1;
        }
    }

    /**
     * The per-row losses (a vector of u.rows values). {@code excluded} has one set per row of u;
     * {@code plackettLuce} chooses the term form; {@code floor} is the denominators' lower bound (0: none).
     */
    public static Var loss(Tape t, Var u, Var items, IndexSets excluded, Terms terms, boolean plackettLuce, float clip, double floor) {
        return loss(t, u, items, excluded, terms, plackettLuce, clip, floor, CHUNK_FLOATS);
    }

    /** As above with another score-block budget (tests use a tiny one to cross chunk borders). */
    static Var loss(Tape t, Var u, Var items, IndexSets excluded, Terms terms, boolean plackettLuce, float clip, double floor, long chunkFloats) {
        Shapes.matrix("listwiseAll", u.value);
        Shapes.matrix("listwiseAll", items.value);
        int m = u.value.rows(), n = items.value.rows(), d = u.value.cols();
        if (items.value.cols() != d) throw Shapes.mismatch("listwiseAll", "row widths differ", u.value, items.value);
        if (excluded.rows() != m || terms.rows() != m) {
            throw new IllegalArgumentException("listwiseAll: " + m + " rows but " + excluded.rows() + " excluded sets and " + terms.rows() + " rows of terms");
        }
        excluded.checkIds("listwiseAll (excluded)", n);
        terms.lists().checkIds("listwiseAll (lists)", n);
        terms.held().checkIds("listwiseAll (held)", n);
        if (!(floor >= 0)) throw new IllegalArgumentException("listwiseAll: floor must be >= 0, got " + floor);
        Backend be = t.backend();
        int chunk = (int) Math.max(1, Math.min(Math.max(m, 1), chunkFloats / Math.max(n, 1)));
        Var out = t.output("listwiseAll", t.needsGrad(u, items), m);
        Tensor s = t.scratch().uninitialized(chunk, n);
        Kernel k = new Kernel(be, n, excluded, terms, plackettLuce, clip, floor);
        float[] losses = new float[m];
        for (int r0 = 0; r0 < m; r0 += chunk) {
            int rows = Math.min(chunk, m - r0), base = r0;
            be.gemmNT(rows, n, d, 1f, u.value.data(), (long) r0 * d, d, items.value.data(), 0, d, 0f, s.data(), 0, n);
            Parallel.forRange(rows, 1, 4, (lo, hi) -> {
                Work w = Work.of(n);
                for (int r = lo; r < hi; r++) {
                    Mem.copyOut(s.data(), (long) r * n, w.raw, 0, n);
                    losses[base + r] = (float) k.row(base + r, w, 0.0, null);
                }
            });
        }
        Mem.copyIn(losses, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            float[] gr = g.toArray();
            for (int r0 = 0; r0 < m; r0 += chunk) {
                int rows = Math.min(chunk, m - r0), base = r0;
                be.gemmNT(rows, n, d, 1f, u.value.data(), (long) r0 * d, d, items.value.data(), 0, d, 0f, s.data(), 0, n);
                Parallel.forRange(rows, 1, 4, (lo, hi) -> {
                    Work w = Work.of(n);
                    float[] grad = w.grad;
                    for (int r = lo; r < hi; r++) {
                        Mem.copyOut(s.data(), (long) r * n, w.raw, 0, n);
                        java.util.Arrays.fill(grad, 0, n, 0f);
                        k.row(base + r, w, gr[base + r], grad);
                        Mem.copyIn(grad, 0, s.data(), (long) r * n, n); // the row's score gradient replaces its scores
                    }
                });
                if (u.requiresGrad) be.gemmNN(rows, d, n, 1f, s.data(), 0, n, items.value.data(), 0, d, 1f, t.gradOf(u).data(), (long) r0 * d, d);
                if (items.requiresGrad) be.gemmTN(n, d, rows, 1f, s.data(), 0, n, u.value.data(), (long) r0 * d, d, 1f, t.gradOf(items).data(), 0, d);
            }
        });
        return out;
    }

    /**
     * Per-thread row buffers, kept between calls (a HetComp epoch runs hundreds of thousands of rows in
     * thousands of chunks): the raw score row, the clamped one, the rest (masked) copy, the score
     * gradient and the held items' saved values. Arrays may be longer than the current catalogue.
     */
    private static final class Work {
        private static final ThreadLocal<Work> PER_THREAD = ThreadLocal.withInitial(Work::new);
        float[] raw = new float[0], row = raw, rest = raw, grad = raw, saved = new float[16];
        double[] logD = new double[16], eL = new double[16];

        static Work of(int n) {
            Work w = PER_THREAD.get();
            if (w.raw.length < n) {
                w.raw = new float[n];
                w.row = new float[n];
                w.rest = new float[n];
                w.grad = new float[n];
            }
            return w;
        }
    }

    /**
     * The per-row computation, shared by forward (grad == null) and backward. Its passes over the
     * catalogue (clamp, max and sum of exponentials over the rest, the rest's gradient) are backend
     * row kernels: the rest is a copy of the row with the excluded and held-out items set to -Inf,
     * which the exponentials turn into zeros.
     */
    /** The widest clamp under which the rest's exponentials run in float: e^-80 is still a normal float (e^-87.3 is not). */
    static final float FLOAT_CLIP = 40f;

    private static final class Kernel {
        final Backend be;
        final int n;
        final IndexSets excluded;
        final Terms terms;
        final boolean pl;
        final float clip;
        final double logFloor;

        Kernel(Backend be, int n, IndexSets excluded, Terms terms, boolean pl, float clip, double floor) {
            this.be = be;
            this.n = n;
            this.excluded = excluded;
            this.terms = terms;
            this.pl = pl;
            this.clip = clip;
            this.logFloor = floor > 0 ? Math.log(floor) : Double.NEGATIVE_INFINITY;
        }

        /**
         * Row r's loss from its raw scores {@code w.raw}; with {@code grad} != null, adds
         * {@code upstream * d loss / d raw score} into it instead (the value is then meaningless).
         */
        double row(int r, Work w, double upstream, float[] grad) {
            float[] s = w.row, rest = w.rest;
            System.arraycopy(w.raw, 0, s, 0, n);
            if (clip > 0) be.rowClamp(n, s, 0, clip);
            System.arraycopy(s, 0, rest, 0, n);
            for (int p = excluded.ptr()[r]; p < excluded.ptr()[r + 1]; p++) rest[excluded.idx()[p]] = Float.NEGATIVE_INFINITY;
            boolean inFloat = clip > 0 && clip <= FLOAT_CLIP;
            double total = 0;
            int[] lp = terms.lists().ptr(), li = terms.lists().idx(), hp = terms.held().ptr(), hi = terms.held().idx();
            for (int j = terms.rowPtr()[r]; j < terms.rowPtr()[r + 1]; j++) {
                int a = lp[j], len = lp[j + 1] - a;
                if (len == 0) continue;
                int h0 = hp[j], hn = hp[j + 1] - h0;
                if (w.saved.length < hn) w.saved = new float[hn];
                for (int q = 0; q < hn; q++) { // mask the held-out items for this term (restored below)
                    w.saved[q] = rest[hi[h0 + q]];
                    rest[hi[h0 + q]] = Float.NEGATIVE_INFINITY;
                }
                // rest = items neither excluded nor held; its exponentials relative to the largest participating score
                float top = be.rowMax(n, rest, 0);
                for (int q = 0; q < len; q++) top = Math.max(top, s[li[a + q]]);
                double restSum = inFloat ? be.rowExpSum(n, rest, 0, top) : expSumDouble(rest, top);
                if (w.logD.length < len) {
                    w.logD = new double[len];
                    w.eL = new double[len];
                }
                double suffix = 0, term = 0;
                for (int q = len - 1; q >= 0; q--) {
                    double e = Math.exp((double) s[li[a + q]] - top);
                    w.eL[q] = e;
                    suffix += e;
                    double logD = top + Math.log((pl ? suffix : e) + restSum);
                    w.logD[q] = logD;
                    term -= s[li[a + q]] - Math.max(logD, logFloor);
                }
                float weight = terms.weight()[j];
                total += weight * term;
                if (grad != null) {
                    double gw = upstream * weight;
                    // d term / d s(L_q) = -1 + e(L_q) * sum_{k in C(q)} 1/D'_k, with C(q) = {k <= q} (PL) or {q};
                    // d term / d s(i), i in rest = e(i) * sum_k 1/D'_k. D'_k = D_k / e^top; floored k contribute nothing.
                    double prefix = 0, all = 0;
                    for (int q = 0; q < len; q++) {
                        double c = w.logD[q] < logFloor ? 0 : Math.exp(top - w.logD[q]);
                        all += c;
                        prefix = pl ? prefix + c : c;
                        grad[li[a + q]] += (float) (gw * (-1 + w.eL[q] * prefix));
                    }
                    double alpha = gw * all; // the rest's gradients are alpha e^(s - top)
                    if (all != 0) {
                        if (inFloat && Math.abs(alpha) <= Float.MAX_VALUE) be.rowExpAxpy(n, (float) alpha, rest, 0, top, grad, 0);
                        else expAxpyDouble(alpha, rest, top, grad);
                    }
                }
                for (int q = hn - 1; q >= 0; q--) rest[hi[h0 + q]] = w.saved[q]; // reverse order: a repeated id gets its first saved value
            }
            if (grad != null && clip > 0) be.rowZeroOutside(n, w.raw, 0, clip, grad, 0);
            return total;
        }

        /** sum of e^(x - top) over the row in double (masked -Inf entries add e^-Inf = 0). */
        private double expSumDouble(float[] x, float top) {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += Math.exp((double) x[i] - top);
            return sum;
        }

        /** grad += alpha e^(x - top) in double, masked (-Inf) entries left alone. */
        private void expAxpyDouble(double alpha, float[] x, float top, float[] grad) {
            for (int i = 0; i < n; i++) if (x[i] != Float.NEGATIVE_INFINITY) grad[i] += (float) (alpha * Math.exp((double) x[i] - top));
        }
    }
}

package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * HTD's topology loss ({@code htd_choice: second}, Kang et al. KDD'21 as the authors' framework
 * codes it) for student rows s (n x d_s, differentiable) and frozen teacher rows t (n x d_t) of the
 * same entities, with group ids:
 * <ul>
 * <li>entity level: over ordered pairs (i, j) of the same group (i = j included) whose teacher cosine
 *     is > 0, {@code Σ (cos(s_i, s_j) - cos(t_i, t_j))²};</li>
 * <li>group level: prototypes P_g = mean of the group's rows (the student's detached), for every
 *     present group g and every entity i, {@code Σ (cos(P^s_g, s_i) - cos(P^t_g, t_i))²}.</li>
 * </ul>
 * Only same-group blocks are formed (never the n x n matrix the code masks). Cosines have no eps,
 * as the code's {@code sim}. Every cosine matrix is a GEMM of unit rows (float, as the code's
 * matmul): per group block the teacher's and the student's Gram, whose masked difference R (k x k)
 * waits in the tape's scratch for the backward; there, with W = 2 go R (diagonal zeroed: cos(s_i, s_i)
 * is constant) and the student Gram C recomputed (d_s is small), the block's gradient is
 * {@code 2 (W Ŝ - rowsum(W∘C) ŝ_i) / |s_i|} (R is symmetric bit for bit: each Gram entry is one fma
 * chain, and fma commutes), again one GEMM. The group level likewise: groups x n cosines by GEMM and
 * its gradient by a TN product. Row passes run on the kernel threads; sums are per row, added in row
 * order (the same bits for any thread count). Worst case (one group holding a whole Gowalla batch,
 * n ~ 11,000) the residuals take n² floats, as the code's n x n matrices do.
 */
public final class Topology {
    private Topology() {}

    public static Var loss(Tape t, Var s, Tensor teacher, int[] group) {
        return loss(t, s, teacher, group, null);
    }

    /**
     * With {@code studentPrototypes} (present groups in ascending id order x d_s) given, those replace
     * the detached means: the finite-difference check then sees the function the backward differentiates.
     */
    static Var loss(Tape t, Var s, Tensor teacher, int[] group, double[] studentPrototypes) {
        Shapes.matrix("topology", s.value);
        int n = s.value.rows(), ds = s.value.cols(), dt = teacher.cols();
        if (teacher.rows() != n || group.length != n) throw new IllegalArgumentException("topology: " + n + " student rows, " + teacher.rows() + " teacher rows, " + group.length + " group ids");
        Backend be = t.backend();
        Scratch sc = t.scratch();
        float[] tv = teacher.toArray(), sv = s.value.toArray();
        double[] norm = new double[n];
        MemorySegment tn = unitRows(sc, tv, n, dt, null), sn = unitRows(sc, sv, n, ds, norm);
        TreeMap<Integer, List<Integer>> members = new TreeMap<>();
        for (int i = 0; i < n; i++) members.computeIfAbsent(group[i], k -> new ArrayList<>()).add(i);
        int groups = members.size();
        List<int[]> blockIdx = new ArrayList<>();
        List<MemorySegment> blockRes = new ArrayList<>();
        double total = 0;
        double[] ps = new double[groups * ds];
        float[] pt = new float[groups * dt];
        int gi = 0;
        for (List<Integer> mem : members.values()) {
            int k = mem.size();
            int[] idx = mem.stream().mapToInt(Integer::intValue).toArray();
            MemorySegment res = sc.allocate((long) Float.BYTES * k * k); // kept for the backward
            Scratch.Mark mark = sc.mark();
            MemorySegment gram = sc.allocate((long) Float.BYTES * k * k);
            gramOf(be, sc, tn, dt, idx, gram);
            gramOf(be, sc, sn, ds, idx, res);
            double[] rowSq = new double[k];
            Parallel.forRange(k, 1, rowsPerTask(k), (lo, hi) -> {
                for (int a = lo; a < hi; a++) {
                    double q = 0;
                    for (long e = (long) a * k, end = e + k; e < end; e++) {
                        float ct = Mem.get(gram, e);
                        float r = ct > 0 ? Mem.get(res, e) - ct : 0f;
                        Mem.set(res, e, r);
                        q += (double) r * r;
                    }
                    rowSq[a] = q;
                }
            });
            sc.release(mark);
            for (double q : rowSq) total += q;
            blockIdx.add(idx);
            blockRes.add(res);
            for (int i : idx) {
                if (studentPrototypes == null) for (int c = 0; c < ds; c++) ps[gi * ds + c] += (double) sv[i * ds + c] / k;
                for (int c = 0; c < dt; c++) pt[gi * dt + c] += tv[i * dt + c] / k;
            }
            gi++;
        }
        if (studentPrototypes != null) System.arraycopy(studentPrototypes, 0, ps, 0, groups * ds);
        // group level: cos(P_g, x_i) by GEMM of unit prototypes and unit rows, both sides
        MemorySegment ptn = unitRows(sc, pt, groups, dt, null), psn = unitRows(sc, toFloat(ps), groups, ds, null);
        MemorySegment pres = sc.allocate((long) Float.BYTES * groups * n), protoT = sc.allocate((long) Float.BYTES * groups * n);
        be.gemmNT(groups, n, dt, 1f, ptn, 0, dt, tn, 0, dt, 0f, protoT, 0, n);
        be.gemmNT(groups, n, ds, 1f, psn, 0, ds, sn, 0, ds, 0f, pres, 0, n);
        for (long e = 0, end = (long) groups * n; e < end; e++) {
            float r = Mem.get(pres, e) - Mem.get(protoT, e);
            Mem.set(pres, e, r);
            total += (double) r * r;
        }
        Var y = t.output("topology", t.needsGrad(s), 1);
        y.value.set(0, (float) total);
        if (y.requiresGrad) t.record(() -> {
            Tensor gy = y.grad();
            if (gy == null) return;
            float go2 = (float) (2 * gy.get(0));
            MemorySegment grad = sc.zeros(n, ds).data();
            for (int b = 0; b < blockIdx.size(); b++) blockBackward(be, sc, sn, ds, norm, blockIdx.get(b), blockRes.get(b), go2, grad);
            groupBackward(be, sc, sn, ds, norm, psn, groups, pres, go2, grad);
            Tensor gs = t.gradOf(s);
            for (int i = 0; i < n * ds; i++) gs.set(i, gs.get(i) + Mem.get(grad, i));
        });
        return y;
    }

    /** Row-pass task size: at least ~64k entries a task. */
    private static int rowsPerTask(int k) {
        return Math.max(1, (1 << 16) / Math.max(1, k));
    }

    /** Rows of v (n x d) scaled to unit length (norm in double, as the code's sim), native; norms to {@code norm} when given. */
    private static MemorySegment unitRows(Scratch sc, float[] v, int n, int d, double[] norm) {
        MemorySegment out = sc.allocate((long) Float.BYTES * n * d);
        float[] row = new float[d];
        for (int i = 0; i < n; i++) {
            double q = 0;
            for (int c = 0; c < d; c++) q += (double) v[i * d + c] * v[i * d + c];
            double len = Math.sqrt(q);
            if (norm != null) norm[i] = len;
            for (int c = 0; c < d; c++) row[c] = (float) (v[i * d + c] / len);
            Mem.copyIn(row, 0, out, (long) i * d, d);
        }
        return out;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /** out (k x k) = X_idx X_idxᵀ for the unit rows X (n x d) of the block's members. */
    private static void gramOf(Backend be, Scratch sc, MemorySegment x, int d, int[] idx, MemorySegment out) {
        int k = idx.length;
        Scratch.Mark mark = sc.mark();
        MemorySegment rows = sc.allocate((long) Float.BYTES * k * d);
        be.gather(k, d, idx, x, 0, d, rows, 0, d);
        be.gemmNT(k, k, d, 1f, rows, 0, d, rows, 0, d, 0f, out, 0, k);
        sc.release(mark);
    }

    /** One group block: grad[idx[a]] += 2 (W Ŝ - rowsum(W∘C) ŝ)_a / |s| with W = go2 R off the diagonal. */
    private static void blockBackward(Backend be, Scratch sc, MemorySegment sn, int ds, double[] norm, int[] idx, MemorySegment res,
                                      float go2, MemorySegment grad) {
        int k = idx.length;
        Scratch.Mark mark = sc.mark();
        MemorySegment rows = sc.allocate((long) Float.BYTES * k * ds), cs = sc.allocate((long) Float.BYTES * k * k);
        be.gather(k, ds, idx, sn, 0, ds, rows, 0, ds);
        be.gemmNT(k, k, ds, 1f, rows, 0, ds, rows, 0, ds, 0f, cs, 0, k);
        float[] rowTerm = new float[k];
        Parallel.forRange(k, 1, rowsPerTask(k), (lo, hi) -> {
            for (int a = lo; a < hi; a++) {
                float q = 0f;
                long base = (long) a * k;
                for (int b = 0; b < k; b++) {
                    float w = b == a ? 0f : go2 * Mem.get(res, base + b);
                    Mem.set(res, base + b, w);
                    q = Math.fma(w, Mem.get(cs, base + b), q);
                }
                rowTerm[a] = q;
            }
        });
        MemorySegment ws = sc.allocate((long) Float.BYTES * k * ds);
        be.gemmNN(k, ds, k, 1f, res, 0, k, rows, 0, ds, 0f, ws, 0, ds);
        addRowGradients(k, ds, idx, norm, ws, rowTerm, rows, 2f, grad); // each pair twice: (i, j) and (j, i)
        sc.release(mark);
    }

    /** Group level: grad_i += Σ_g W_gi (p̂_g - C_gi ŝ_i) / |s_i|, W = go2 pres, C the student's prototype cosines. */
    private static void groupBackward(Backend be, Scratch sc, MemorySegment sn, int ds, double[] norm, MemorySegment psn, int groups,
                                      MemorySegment pres, float go2, MemorySegment grad) {
        int n = norm.length;
        Scratch.Mark mark = sc.mark();
        MemorySegment cs = sc.allocate((long) Float.BYTES * groups * n), ws = sc.allocate((long) Float.BYTES * n * ds);
        be.gemmNT(groups, n, ds, 1f, psn, 0, ds, sn, 0, ds, 0f, cs, 0, n);
        float[] rowTerm = new float[n];
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < n; i++) {
                long e = (long) g * n + i;
                float w = go2 * Mem.get(pres, e);
                Mem.set(pres, e, w);
                rowTerm[i] = Math.fma(w, Mem.get(cs, e), rowTerm[i]);
            }
        }
        be.gemmTN(n, ds, groups, 1f, pres, 0, n, psn, 0, ds, 0f, ws, 0, ds);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        addRowGradients(n, ds, all, norm, ws, rowTerm, sn, 1f, grad);
        sc.release(mark);
    }

    /** grad[idx[a]] += factor (ws[a] - rowTerm[a] x[a]) / |s_idx[a]|, x the rows the products used. */
    private static void addRowGradients(int k, int ds, int[] idx, double[] norm, MemorySegment ws, float[] rowTerm, MemorySegment x,
                                        float factor, MemorySegment grad) {
        for (int a = 0; a < k; a++) {
            int i = idx[a];
            float scale = (float) (factor / norm[i]);
            for (int c = 0; c < ds; c++) {
                long o = (long) i * ds + c;
                float g = (Mem.get(ws, (long) a * ds + c) - rowTerm[a] * Mem.get(x, (long) a * ds + c)) * scale;
                Mem.set(grad, o, Mem.get(grad, o) + g);
            }
        }
    }
}

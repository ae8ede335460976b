package kdrec.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import kdrec.tensor.Backend;
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
 * as the code's {@code sim}. Teacher Gram blocks go through the backend's GEMM.
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
        // unit teacher rows (float, GEMM) and unit student rows (double)
        Tensor tn = Tensor.zeros(n, dt);
        float[] tv = teacher.toArray(), tnv = new float[n * dt];
        for (int i = 0; i < n; i++) {
            double q = 0;
            for (int c = 0; c < dt; c++) q += (double) tv[i * dt + c] * tv[i * dt + c];
            float inv = (float) (1 / Math.sqrt(q));
            for (int c = 0; c < dt; c++) tnv[i * dt + c] = tv[i * dt + c] * inv;
        }
        kdrec.cpu.Mem.copyIn(tnv, 0, tn.data(), 0, tnv.length);
        float[] sv = s.value.toArray();
        double[] sn = new double[n * ds], norm = new double[n];
        for (int i = 0; i < n; i++) {
            double q = 0;
            for (int c = 0; c < ds; c++) q += (double) sv[i * ds + c] * sv[i * ds + c];
            norm[i] = Math.sqrt(q);
            for (int c = 0; c < ds; c++) sn[i * ds + c] = sv[i * ds + c] / norm[i];
        }
        TreeMap<Integer, List<Integer>> members = new TreeMap<>();
        for (int i = 0; i < n; i++) members.computeIfAbsent(group[i], k -> new ArrayList<>()).add(i);
        int groups = members.size();
        // residuals kept for the backward: per group the pair residuals, then prototype residuals
        List<int[]> blockIdx = new ArrayList<>();
        List<double[]> blockRes = new ArrayList<>();
        double total = 0;
        double[] ps = new double[groups * ds];
        float[] pt = new float[groups * dt];
        int gi = 0;
        for (List<Integer> mem : members.values()) {
            int k = mem.size();
            int[] idx = mem.stream().mapToInt(Integer::intValue).toArray();
            Tensor rows = Tensor.zeros(k, dt), gram = Tensor.zeros(k, k);
            be.gather(k, dt, idx, tn.data(), 0, dt, rows.data(), 0, dt);
            be.gemmNT(k, k, dt, 1f, rows.data(), 0, dt, rows.data(), 0, dt, 0f, gram.data(), 0, k);
            double[] res = new double[k * k];
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) {
                    double ct = gram.get(a, b);
                    if (!(ct > 0)) continue;
                    double cs = 0;
                    for (int c = 0; c < ds; c++) cs += sn[idx[a] * ds + c] * sn[idx[b] * ds + c];
                    res[a * k + b] = cs - ct;
                    total += res[a * k + b] * res[a * k + b];
                }
            }
            blockIdx.add(idx);
            blockRes.add(res);
            for (int i : idx) {
                if (studentPrototypes == null) for (int c = 0; c < ds; c++) ps[gi * ds + c] += (double) sv[i * ds + c] / k;
                for (int c = 0; c < dt; c++) pt[gi * dt + c] += tv[i * dt + c] / k;
            }
            gi++;
        }
        if (studentPrototypes != null) System.arraycopy(studentPrototypes, 0, ps, 0, groups * ds);
        // group level: cos(P^t_g, t_i) by GEMM of unit prototypes and unit teacher rows
        for (int g = 0; g < groups; g++) {
            double q = 0;
            for (int c = 0; c < dt; c++) q += (double) pt[g * dt + c] * pt[g * dt + c];
            float inv = (float) (1 / Math.sqrt(q));
            for (int c = 0; c < dt; c++) pt[g * dt + c] *= inv;
            q = 0;
            for (int c = 0; c < ds; c++) q += ps[g * ds + c] * ps[g * ds + c];
            double is = 1 / Math.sqrt(q);
            for (int c = 0; c < ds; c++) ps[g * ds + c] *= is;
        }
        Tensor ptT = Tensor.of(pt, groups, dt), proto = Tensor.zeros(groups, n);
        be.gemmNT(groups, n, dt, 1f, ptT.data(), 0, dt, tn.data(), 0, dt, 0f, proto.data(), 0, n);
        double[] pres = new double[groups * n];
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < n; i++) {
                double cs = 0;
                for (int c = 0; c < ds; c++) cs += ps[g * ds + c] * sn[i * ds + c];
                pres[g * n + i] = cs - proto.get(g, i);
                total += pres[g * n + i] * pres[g * n + i];
            }
        }
        Var y = t.output("topology", t.needsGrad(s), 1);
        y.value.set(0, (float) total);
        if (y.requiresGrad) t.record(() -> {
            Tensor gy = y.grad();
            if (gy == null) return;
            double go = gy.get(0);
            double[] grad = new double[n * ds];
            // d cos(s_i, x̂)/d s_i = (x̂ - cos ŝ_i) / |s_i|
            for (int b = 0; b < blockIdx.size(); b++) {
                int[] idx = blockIdx.get(b);
                double[] res = blockRes.get(b);
                int k = idx.length;
                for (int a = 0; a < k; a++) {
                    for (int c2 = 0; c2 < k; c2++) {
                        double r = res[a * k + c2];
                        if (r == 0 || a == c2) continue;
                        int i = idx[a], j = idx[c2];
                        double cs = 0;
                        for (int c = 0; c < ds; c++) cs += sn[i * ds + c] * sn[j * ds + c];
                        double w = 2 * go * r;
                        for (int c = 0; c < ds; c++) {
                            grad[i * ds + c] += w * (sn[j * ds + c] - cs * sn[i * ds + c]) / norm[i];
                            grad[j * ds + c] += w * (sn[i * ds + c] - cs * sn[j * ds + c]) / norm[j];
                        }
                    }
                }
            }
            for (int g = 0; g < groups; g++) {
                for (int i = 0; i < n; i++) {
                    double cs = 0;
                    for (int c = 0; c < ds; c++) cs += ps[g * ds + c] * sn[i * ds + c];
                    double w = 2 * go * pres[g * n + i];
                    for (int c = 0; c < ds; c++) grad[i * ds + c] += w * (ps[g * ds + c] - cs * sn[i * ds + c]) / norm[i];
                }
            }
            Tensor gs = t.gradOf(s);
            for (int i = 0; i < n * ds; i++) gs.set(i, (float) (gs.get(i) + grad[i]));
        });
        return y;
    }
}

package kdrec.autograd;

import static kdrec.autograd.GradCheck.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import kdrec.cpu.KernelTestSupport;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Topology (HTD) at a batch-like size, against a plain double-precision evaluation of the same sums
 * (pair by pair and prototype by prototype, the op's formulas written out), loss and gradient; and the
 * same bits for 1, 2 and 3 kernel threads (blocks of 400 rows split across them). The finite-difference
 * check on a small case is in FeatureOpsGradientTest.
 */
class TopologyTest {
    @ParameterizedTest
    @MethodSource("kdrec.autograd.GradCheck#backends")
    void matchesADoubleReferenceAndIsThreadIndependent(Backend be) {
        int n = 700, ds = 12, dt = 40;
        Tensor s = randn(81, 1f, n, ds), teacher = randn(82, 1f, n, dt);
        int[] group = new int[n];
        for (int i = 0; i < n; i++) group[i] = i % 7 == 0 ? 5 : i < 400 ? 2 : 9; // blocks of 400 and 200 rows, and 100
        double[] ref = new double[n * ds];
        double want = reference(s.toArray(), teacher.toArray(), group, n, ds, dt, ref);
        int before = Parallel.threads();
        try {
            float[] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                Parallel.setThreads(threads);
                try (Tape t = new Tape(be, new Scratch())) {
                    Var sv = Var.leaf("s", s);
                    Var y = Topology.loss(t, sv, teacher, group);
                    assertEquals(want, y.value().get(0), 1e-4 * want, "loss, " + threads + " threads");
                    t.backward(y);
                    float[] g = t.gradOf(sv).toArray();
                    double scale = 0;
                    for (double x : ref) scale = Math.max(scale, Math.abs(x));
                    for (int i = 0; i < g.length; i++) assertEquals(ref[i], g[i], 1e-4 * scale, "gradient " + i + ", " + threads + " threads");
                    if (first == null) first = g;
                    else KernelTestSupport.assertBitEqual("gradient, " + threads + " threads against 1", first, g);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /** The loss and its gradient in double: ordered same-group pairs with teacher cosine > 0, then every (group, entity). */
    private static double reference(float[] s, float[] t, int[] group, int n, int ds, int dt, double[] grad) {
        double[] sn = unit(s, n, ds), tn = unit(t, n, dt), norm = new double[n];
        for (int i = 0; i < n; i++) norm[i] = len(s, i, ds);
        java.util.TreeMap<Integer, java.util.List<Integer>> members = new java.util.TreeMap<>();
        for (int i = 0; i < n; i++) members.computeIfAbsent(group[i], k -> new java.util.ArrayList<>()).add(i);
        double total = 0;
        for (java.util.List<Integer> mem : members.values()) {
            for (int i : mem) {
                for (int j : mem) {
                    double ct = dot(tn, i, tn, j, dt);
                    if (!(ct > 0)) continue;
                    double cs = dot(sn, i, sn, j, ds), r = cs - ct;
                    total += r * r;
                    if (i == j) continue;
                    for (int c = 0; c < ds; c++) {
                        grad[i * ds + c] += 2 * r * (sn[j * ds + c] - cs * sn[i * ds + c]) / norm[i];
                        grad[j * ds + c] += 2 * r * (sn[i * ds + c] - cs * sn[j * ds + c]) / norm[j];
                    }
                }
            }
        }
        for (java.util.List<Integer> mem : members.values()) {
            double[] ps = new double[ds], pt = new double[dt];
            for (int i : mem) {
                for (int c = 0; c < ds; c++) ps[c] += s[i * ds + c] / (double) mem.size();
                for (int c = 0; c < dt; c++) pt[c] += t[i * dt + c] / (double) mem.size();
            }
            double[] psn = unit(ps), ptn = unit(pt);
            for (int i = 0; i < n; i++) {
                double cs = 0, ct = 0;
                for (int c = 0; c < ds; c++) cs += psn[c] * sn[i * ds + c];
                for (int c = 0; c < dt; c++) ct += ptn[c] * tn[i * dt + c];
                double r = cs - ct;
                total += r * r;
                for (int c = 0; c < ds; c++) grad[i * ds + c] += 2 * r * (psn[c] - cs * sn[i * ds + c]) / norm[i];
            }
        }
        return total;
    }

    private static double len(float[] v, int i, int d) {
        double q = 0;
        for (int c = 0; c < d; c++) q += (double) v[i * d + c] * v[i * d + c];
        return Math.sqrt(q);
    }

    private static double[] unit(float[] v, int n, int d) {
        double[] out = new double[n * d];
        for (int i = 0; i < n; i++) {
            double l = len(v, i, d);
            for (int c = 0; c < d; c++) out[i * d + c] = v[i * d + c] / l;
        }
        return out;
    }

    private static double[] unit(double[] v) {
        double q = 0;
        for (double x : v) q += x * x;
        double[] out = new double[v.length];
        for (int c = 0; c < v.length; c++) out[c] = v[c] / Math.sqrt(q);
        return out;
    }

    private static double dot(double[] a, int i, double[] b, int j, int d) {
        double q = 0;
        for (int c = 0; c < d; c++) q += a[i * d + c] * b[j * d + c];
        return q;
    }
}

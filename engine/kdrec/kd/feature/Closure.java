package kdrec.kd.feature;

import java.util.Arrays;
import kdrec.cpu.DropoutScalar;
import kdrec.tensor.SparseMatrix;

/**
 * The rows one filter application needs, in local numbering: the batch's distinct nodes first, then
 * the nodes first reached at 1 hop, 2 hops, ... up to p hops, over the edges that survive this
 * call's edge dropout; and the local operator M = -Â_drop (Chebyshev variable x = λ - 1 means
 * T_q(L - I) = T_q(-Â)) on the rows within p-1 hops. {@code reach[k]} counts the rows within k hops.
 *
 * <p>Edge dropout (freqd.md §2.8): every stored entry of Â, (i,j) and (j,i) independently, is kept
 * with probability keep and then divided by keep. Whether entry e is kept is a pure function of
 * (seed, e) (the dropout kernel's counter-based mask bit), so the closure and the full table see the
 * very same dropped graph: the two paths give the same loss and gradients.
 */
final class Closure {
    final int[] nodes;
    final int[] reach;
    final SparseMatrix op;

    private Closure(int[] nodes, int[] reach, SparseMatrix op) {
        this.nodes = nodes;
        this.reach = reach;
        this.op = op;
    }

    static boolean kept(long seed, int entry, float keep) {
        return keep >= 1f || DropoutScalar.kept(seed, entry, 1f - keep);
    }

    /** The p-hop closure of {@code batch} (distinct node ids) in Â after dropout with {@code (keep, seed)}. */
    static Closure of(SparseMatrix ahat, int[] batch, int p, float keep, long seed) {
        int n = ahat.rows();
        int[] local = new int[n];
        Arrays.fill(local, -1);
        int[] nodes = new int[Math.min(n, Math.max(batch.length, 16))];
        int count = 0;
        for (int v : batch) {
            if (v < 0 || v >= n) throw new IllegalArgumentException("closure: node " + v + " outside [0, " + n + ")");
            if (local[v] >= 0) throw new IllegalArgumentException("closure: node " + v + " listed twice");
            local[v] = count;
            nodes[count++] = v;
        }
        int[] reach = new int[p + 1];
        reach[0] = count;
        int[] ptr = ahat.ptr(), col = ahat.col();
        for (int k = 1; k <= p; k++) {
            for (int i = k == 1 ? 0 : reach[k - 2]; i < reach[k - 1]; i++) {
                int v = nodes[i];
                for (int e = ptr[v]; e < ptr[v + 1]; e++) {
                    int w = col[e];
                    if (local[w] >= 0 || !kept(seed, e, keep)) continue;
                    if (count == nodes.length) nodes = Arrays.copyOf(nodes, Math.min(n, 2 * nodes.length));
                    local[w] = count;
                    nodes[count++] = w;
                }
            }
            reach[k] = count;
        }
        nodes = Arrays.copyOf(nodes, count);
        return new Closure(nodes, reach, localOperator(ahat, nodes, local, p == 0 ? 0 : reach[p - 1], count, keep, seed));
    }

    /** Every node in global order, the whole dropped operator (the reference code's full-table path). */
    static Closure full(SparseMatrix ahat, int p, float keep, long seed) {
        int n = ahat.rows();
        int[] nodes = new int[n];
        for (int v = 0; v < n; v++) nodes[v] = v;
        int[] reach = new int[p + 1];
        Arrays.fill(reach, n);
        return new Closure(nodes, reach, localOperator(ahat, nodes, nodes, p == 0 ? 0 : n, n, keep, seed));
    }

    private static SparseMatrix localOperator(SparseMatrix ahat, int[] nodes, int[] local, int rows, int cols, float keep, long seed) {
        int[] ptr = ahat.ptr(), col = ahat.col();
        float[] val = ahat.val();
        int nnz = 0;
        for (int i = 0; i < rows; i++) nnz += ptr[nodes[i] + 1] - ptr[nodes[i]];
        int[] lp = new int[rows + 1], lc = new int[nnz];
        float[] lv = new float[nnz];
        float inv = 1f / keep;
        int o = 0;
        for (int i = 0; i < rows; i++) {
            int v = nodes[i];
            for (int e = ptr[v]; e < ptr[v + 1]; e++) {
                if (!kept(seed, e, keep)) continue;
                lc[o] = local[col[e]];
                lv[o++] = -(val == null ? 1f : val[e]) * inv;
            }
            lp[i + 1] = o;
        }
        return new SparseMatrix(rows, cols, lp, Arrays.copyOf(lc, o), Arrays.copyOf(lv, o), false);
    }
}

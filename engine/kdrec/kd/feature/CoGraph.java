package kdrec.kd.feature;

import java.util.Arrays;
import kdrec.cpu.Parallel;
import kdrec.tensor.SparseMatrix;
import kdrec.train.TrainData;

/**
 * FreqD's entity graphs (freqd.md §2.9, HEAD {@code construct_ui_adj}): one on users, one on items.
 * Co-occurrence counts C = R.R^T (users) or R^T.R (items) are accumulated per row sparsely (a dense
 * counter per thread, reset through the touched list: cost sum over the other side of deg^2, never
 * an N x N matrix); each node keeps its K highest-count neighbours, itself excluded explicitly
 * (quirk (c) of the code: it drops the first top-K entry assuming it is the node). Edges are
 * unweighted (the code discards the counts), symmetrised to 1 (mutual) / 0.5 (one-sided) and
 * symmetric-normalised, D^-1/2 A D^-1/2, with no self-loops; a zero degree counts as 1.
 *
 * <p>Zero co-occurrence (quirk (b)): by default, as the spec recommends, a node with fewer than K
 * co-occurring nodes keeps only those. {@code padZero} reproduces the code, which always takes K:
 * torch.topk then fills up with zero-count nodes in an arbitrary order; here the lowest ids, for
 * determinism. Ties between equal positive counts go to the lower id as well.
 */
public final class CoGraph {
    private CoGraph() {}

    /** The user-user graph Â of the train interactions. */
    public static SparseMatrix users(TrainData data, int k, boolean padZero) {
        int[][] t = transpose(data.users(), data.items(), data.trainPtr(), data.trainItems());
        return build(data.users(), data.trainPtr(), data.trainItems(), t[0], t[1], k, padZero);
    }

    /** The item-item graph Â of the train interactions. */
    public static SparseMatrix items(TrainData data, int k, boolean padZero) {
        int[][] t = transpose(data.users(), data.items(), data.trainPtr(), data.trainItems());
        return build(data.items(), t[0], t[1], data.trainPtr(), data.trainItems(), k, padZero);
    }

    /**
     * The graph on {@code n} nodes whose rows {@code ptr/idx} list each node's entities on the other
     * side, and {@code otherPtr/otherIdx} each entity's nodes (the transpose).
     */
    public static SparseMatrix build(int n, int[] ptr, int[] idx, int[] otherPtr, int[] otherIdx, int k, boolean padZero) {
        if (k < 1) throw new IllegalArgumentException("co-occurrence graph: K must be >= 1, got " + k);
        int[] nbr = topNeighbours(n, ptr, idx, otherPtr, otherIdx, k, padZero);
        return normalise(n, k, nbr);
    }

    /** n x K directed neighbour ids, highest co-occurrence first, -1 where a node has fewer. */
    static int[] topNeighbours(int n, int[] ptr, int[] idx, int[] otherPtr, int[] otherIdx, int k, boolean padZero) {
        int[] nbr = new int[n * k];
        Arrays.fill(nbr, -1);
        Parallel.forRange(n, 1, 256, (lo, hi) -> {
            int[] count = new int[n];
            int[] touched = new int[n];
            int[] bestId = new int[k];
            int[] bestCount = new int[k];
            for (int u = lo; u < hi; u++) {
                int nt = 0;
                for (int a = ptr[u]; a < ptr[u + 1]; a++) {
                    int o = idx[a];
                    for (int b = otherPtr[o]; b < otherPtr[o + 1]; b++) {
                        int v = otherIdx[b];
                        if (count[v]++ == 0) touched[nt++] = v;
                    }
                }
                int have = 0;
                for (int t = 0; t < nt; t++) {
                    int v = touched[t], c = count[v];
                    count[v] = 0;
                    if (v == u) continue;
                    // insertion into a K-list ordered by (count desc, id asc)
                    if (have == k && !better(c, v, bestCount[k - 1], bestId[k - 1])) continue;
                    int pos = have < k ? have++ : k - 1;
                    while (pos > 0 && better(c, v, bestCount[pos - 1], bestId[pos - 1])) {
                        bestCount[pos] = bestCount[pos - 1];
                        bestId[pos] = bestId[pos - 1];
                        pos--;
                    }
                    bestCount[pos] = c;
                    bestId[pos] = v;
                }
                for (int j = 0; j < have; j++) nbr[u * k + j] = bestId[j];
                if (padZero) {
                    // the code's topk always yields K: the rest are zero-count nodes (lowest ids here)
                    for (int v = 0, j = have; j < k && v < n; v++) {
                        if (v == u || contains(bestId, have, v)) continue;
                        nbr[u * k + j++] = v;
                    }
                }
            }
        });
        return nbr;
    }

    private static boolean better(int c, int v, int c2, int v2) {
        return c > c2 || (c == c2 && v < v2);
    }

    private static boolean contains(int[] a, int n, int v) {
        for (int i = 0; i < n; i++) if (a[i] == v) return true;
        return false;
    }

    /** (A0 + A0^T)/2 from the directed K-lists, then D^-1/2 A D^-1/2, rows sorted by column. */
    static SparseMatrix normalise(int n, int k, int[] nbr) {
        int[] deg = new int[n];
        for (int u = 0; u < n; u++) {
            for (int j = 0; j < k; j++) {
                int v = nbr[u * k + j];
                if (v < 0) continue;
                deg[u]++;
                deg[v]++;
            }
        }
        int[] rp = new int[n + 1];
        for (int u = 0; u < n; u++) rp[u + 1] = rp[u] + deg[u];
        int[] rc = new int[rp[n]];
        int[] fill = rp.clone();
        for (int u = 0; u < n; u++) {
            for (int j = 0; j < k; j++) {
                int v = nbr[u * k + j];
                if (v < 0) continue;
                rc[fill[u]++] = v; // each directed edge puts 0.5 at (u,v) and at (v,u)
                rc[fill[v]++] = u;
            }
        }
        // merge duplicates: a mutual pair appears twice in each row and weighs 1
        int[] ptr = new int[n + 1], col = new int[rp[n]];
        float[] half = new float[rp[n]];
        double[] degree = new double[n];
        int o = 0;
        for (int u = 0; u < n; u++) {
            Arrays.sort(rc, rp[u], rp[u + 1]);
            for (int a = rp[u]; a < rp[u + 1]; a++) {
                if (a > rp[u] && rc[a] == rc[a - 1]) {
                    half[o - 1] += 0.5f;
                } else {
                    col[o] = rc[a];
                    half[o++] = 0.5f;
                }
                degree[u] += 0.5;
            }
            ptr[u + 1] = o;
        }
        float[] val = new float[o];
        for (int u = 0; u < n; u++) {
            double du = degree[u] == 0 ? 1 : degree[u];
            for (int a = ptr[u]; a < ptr[u + 1]; a++) {
                double dv = degree[col[a]] == 0 ? 1 : degree[col[a]];
                val[a] = (float) (half[a] / Math.sqrt(du * dv));
            }
        }
        return new SparseMatrix(n, n, ptr, Arrays.copyOf(col, o), val, true);
    }

    /** The CSR transpose (columns -> rows) of a rows x cols CSR, rows ascending within each list. */
    static int[][] transpose(int rows, int cols, int[] ptr, int[] idx) {
        int[] tp = new int[cols + 1];
        for (int a = 0; a < ptr[rows]; a++) tp[idx[a] + 1]++;
        for (int c = 0; c < cols; c++) tp[c + 1] += tp[c];
        int[] ti = new int[ptr[rows]];
        int[] fill = Arrays.copyOf(tp, cols);
        for (int r = 0; r < rows; r++) for (int a = ptr[r]; a < ptr[r + 1]; a++) ti[fill[idx[a]]++] = r;
        return new int[][] {tp, ti};
    }
}

package kdrec.tensor;

/**
 * A CSR matrix for the sparse kernels: {@code rows x cols}, row r's entries at
 * {@code [ptr[r], ptr[r+1])} of {@code col}/{@code val} ({@code val == null}: all ones).
 * {@code symmetric} lets ops use A itself for the transpose product.
 */
public record SparseMatrix(int rows, int cols, int[] ptr, int[] col, float[] val, boolean symmetric) {
    public SparseMatrix {
        if (rows < 0 || cols < 0 || ptr == null || col == null || ptr.length != rows + 1 || ptr[0] != 0 || ptr[rows] != col.length) {
            throw new IllegalArgumentException("SparseMatrix: inconsistent CSR (" + rows + " x " + cols + ", ptr of "
                    + (ptr == null ? "null" : ptr.length) + ", " + (col == null ? "null" : col.length) + " entries)");
        }
        if (val != null && val.length != col.length) throw new IllegalArgumentException("SparseMatrix: " + val.length + " values for " + col.length + " entries");
        if (symmetric && rows != cols) throw new IllegalArgumentException("SparseMatrix: a symmetric matrix must be square, got " + rows + " x " + cols);
    }

    public int nnz() {
        return col.length;
    }

    /**
     * The symmetric-normalised adjacency D^-1/2 A D^-1/2 of the bipartite user-item graph (LightGCN):
     * nodes 0..users-1 are users, users..users+items-1 items; {@code trainPtr/trainItems} is the
     * user x item train CSR (deduplicated). Isolated nodes get no entries.
     */
    public static SparseMatrix normalizedBipartite(int users, int items, int[] trainPtr, int[] trainItems) {
        int n = users + items;
        int[] deg = new int[n];
        for (int u = 0; u < users; u++) {
            deg[u] = trainPtr[u + 1] - trainPtr[u];
            for (int j = trainPtr[u]; j < trainPtr[u + 1]; j++) deg[users + trainItems[j]]++;
        }
        int[] ptr = new int[n + 1];
        for (int v = 0; v < n; v++) ptr[v + 1] = ptr[v] + deg[v];
        int[] col = new int[ptr[n]];
        float[] val = new float[ptr[n]];
        int[] fill = new int[n];
        for (int u = 0; u < users; u++) {
            for (int j = trainPtr[u]; j < trainPtr[u + 1]; j++) {
                int i = users + trainItems[j];
                float w = (float) (1.0 / Math.sqrt((double) deg[u] * deg[i]));
                col[ptr[u] + fill[u]] = i;
                val[ptr[u] + fill[u]++] = w;
                col[ptr[i] + fill[i]] = u;   // users are visited in order, so item rows come out sorted
                val[ptr[i] + fill[i]++] = w;
            }
        }
        return new SparseMatrix(n, n, ptr, col, val, true);
    }
}

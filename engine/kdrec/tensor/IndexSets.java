package kdrec.tensor;

/**
 * Ragged per-row index sets in CSR form: row r owns entries {@code [ptr[r], ptr[r+1])} of
 * {@code idx}. Per-entry values (logits, gradients) are float[]s aligned with {@code idx}.
 */
public record IndexSets(int[] ptr, int[] idx) {
    public IndexSets {
        if (ptr == null || idx == null || ptr.length < 1) throw new IllegalArgumentException("IndexSets: ptr and idx are required");
        if (ptr[0] != 0 || ptr[ptr.length - 1] != idx.length) {
            throw new IllegalArgumentException("IndexSets: ptr must start at 0 and end at idx.length (" + idx.length + "), got "
                    + ptr[0] + ".." + ptr[ptr.length - 1]);
        }
        for (int r = 0; r + 1 < ptr.length; r++) {
            if (ptr[r + 1] < ptr[r]) throw new IllegalArgumentException("IndexSets: ptr decreases at row " + r);
        }
    }

    /** Number of rows. */
    public int rows() {
        return ptr.length - 1;
    }

    /** Total number of entries. */
    public int size() {
        return idx.length;
    }

    /** Checks every id is in [0, n); names the first offender. */
    public IndexSets checkIds(String op, int n) {
        for (int j = 0; j < idx.length; j++) {
            if (idx[j] < 0 || idx[j] >= n) throw new IllegalArgumentException(op + ": index " + idx[j] + " at entry " + j + " outside [0, " + n + ")");
        }
        return this;
    }

    /** Builds sets from per-row arrays. */
    public static IndexSets of(int[][] rows) {
        int[] ptr = new int[rows.length + 1];
        for (int r = 0; r < rows.length; r++) ptr[r + 1] = ptr[r] + rows[r].length;
        int[] idx = new int[ptr[rows.length]];
        for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, idx, ptr[r], rows[r].length);
        return new IndexSets(ptr, idx);
    }
}

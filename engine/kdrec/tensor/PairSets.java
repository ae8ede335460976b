package kdrec.tensor;

/**
 * Two overlapping item sets per row over one item list (RCE-KD's SK and J2 over their union), the
 * input of the fused pair soft-CE. Row r's entries are {@code [ptr[r], ptr[r+1])} of {@code idx}
 * (CSR; unlike {@link IndexSets} the entry arrays may be longer than {@code ptr[rows]}, so a caller can
 * reuse buffers from step to step); set A is the row's first {@code a[r]} entries, set B its entries
 * from {@code b[r]} on. {@code target} (aligned with the entries) is wA pA + wB pB, the teacher's
 * softmax over each set weighted by the row's {@code wA[r]}, {@code wB[r]} (see kdrec.cpu.PairCeScalar).
 * {@code grad}, when not null, is where the op keeps the per-entry gradient for its backward (at least
 * as long as the entries; it must stay untouched until the tape's next reset).
 */
public record PairSets(int rows, int[] ptr, int[] idx, int[] a, int[] b, float[] target, float[] wA, float[] wB, float[] grad) {
    public PairSets {
        if (rows < 0 || ptr.length < rows + 1 || ptr[0] != 0) throw new IllegalArgumentException("PairSets: ptr of " + ptr.length + " for " + rows + " rows");
        for (int r = 0; r < rows; r++) {
            if (ptr[r + 1] < ptr[r]) throw new IllegalArgumentException("PairSets: ptr decreases at row " + r);
        }
        int n = ptr[rows];
        if (idx.length < n || target.length < n || (grad != null && grad.length < n) || a.length < rows || b.length < rows
                || wA.length < rows || wB.length < rows) {
            throw new IllegalArgumentException("PairSets: " + rows + " rows and " + n + " entries, but " + idx.length + " ids, "
                    + target.length + " targets, " + a.length + "/" + b.length + " split points, " + wA.length + "/" + wB.length + " weights");
        }
    }

    /** Sets with their own entry arrays (no reuse). */
    public static PairSets of(IndexSets sets, int[] a, int[] b, float[] target, float[] wA, float[] wB) {
        return new PairSets(sets.rows(), sets.ptr(), sets.idx(), a, b, target, wA, wB, null);
    }

    /** Number of entries. */
    public int entries() {
        return ptr[rows];
    }
}

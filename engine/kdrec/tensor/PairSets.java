package kdrec.tensor;

/**
 * Two overlapping item sets per row over one item list (RCE-KD's SK and J2 over their union), the
 * input of the fused pair soft-CE: row r's entries are {@code sets} row r; set A is its first
 * {@code a[r]} entries, set B its entries from {@code b[r]} on. {@code target} (aligned with the
 * entries) is wA pA + wB pB, the teacher's softmax over each set weighted by the row's {@code wA[r]},
 * {@code wB[r]} (see kdrec.cpu.PairCeScalar).
 */
public record PairSets(IndexSets sets, int[] a, int[] b, float[] target, float[] wA, float[] wB) {
    public PairSets {
        int m = sets.rows();
        if (a.length != m || b.length != m || wA.length != m || wB.length != m || target.length != sets.size()) {
            throw new IllegalArgumentException("PairSets: " + m + " rows and " + sets.size() + " entries, but " + a.length + "/" + b.length
                    + " split points, " + wA.length + "/" + wB.length + " weights and " + target.length + " targets");
        }
    }

    public int rows() {
        return sets.rows();
    }
}

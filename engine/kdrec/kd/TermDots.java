package kdrec.kd;

import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.IndexSets;
import kdrec.tensor.Tensor;

/**
 * Set logits whose parts come from different student passes (kd_encoding=per_term): a row's first
 * {@code first[r]} entries are scored by one pass's user row, the rest by another's, as the reference
 * code scores each item list with its own {@code forward_multi_items} call and then joins the scores.
 * Both passes score every entry and a 0/1 mask keeps one (x*1 + y*0 is x exactly for finite dots);
 * the doubled dots cost nothing next to the extra HSTU encodings they serve.
 */
final class TermDots {
    private TermDots() {}

    /** Row r's logits: its first {@code first[r]} entries by (uFirst, itemsFirst), the rest by (uRest, itemsRest). */
    static Var split(Tape t, Var uFirst, Var itemsFirst, Var uRest, Var itemsRest, IndexSets sets, int[] first) {
        int[] ptr = sets.ptr();
        int n = sets.size();
        float[] keepFirst = new float[n], keepRest = new float[n];
        for (int r = 0; r < sets.rows(); r++) {
            if (first[r] < 0 || first[r] > ptr[r + 1] - ptr[r]) {
                throw new IllegalArgumentException("TermDots: row " + r + " splits at " + first[r] + " of " + (ptr[r + 1] - ptr[r]) + " entries");
            }
            for (int j = ptr[r]; j < ptr[r + 1]; j++) {
                boolean f = j < ptr[r] + first[r];
                keepFirst[j] = f ? 1f : 0f;
                keepRest[j] = f ? 0f : 1f;
            }
        }
        Var a = Gather.setDots(t, uFirst, itemsFirst, sets), b = Gather.setDots(t, uRest, itemsRest, sets);
        return Arith.add(t, Arith.mul(t, a, Var.constant(Tensor.of(keepFirst, n))), Arith.mul(t, b, Var.constant(Tensor.of(keepRest, n))));
    }
}

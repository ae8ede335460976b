package kdrec.device;

import kdrec.tensor.Tensor;

/**
 * A distillation step's student passes made on the device under {@code kd_encoding=per_term} (an HSTU
 * student: each KD term reads its own encoding of the batch, with its own dropout masks). The host term
 * asks for a pass when its loss first reads it and hands back every pass's gradient after its backward;
 * the device keeps one encoding's activations at a time, so it runs the live one's backward first and
 * re-encodes each other term (same seed, same masks) before its backward.
 */
public interface DevicePasses {
    /** The batch's distinct users, in the order of {@link #encode}'s rows. */
    int[] users();

    /** Encodes the batch for KD term {@code term}: its users' last states, users().length x d on the host. */
    Tensor encode(int term);

    /**
     * Runs each encoded term's encoding backwards from {@code rowGrads[term]} (the gradient of what
     * {@link #encode} returned; null for a term not encoded or without gradient), accumulating into the
     * parameters' gradient.
     */
    void backward(Tensor[] rowGrads);
}

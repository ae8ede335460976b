package kdrec.device;

import kdrec.tensor.Tensor;

/**
 * A distillation step's student passes made on the device under {@code kd_encoding=per_term} (an HSTU
 * student: each KD term reads its own encoding of the batch, with its own dropout masks). The host term
 * asks for a pass when its loss first reads it and hands back that pass's user gradient after its
 * backward; the device keeps one encoding's activations at a time and re-encodes a term (same masks)
 * before running its backward.
 */
public interface DevicePasses {
    /** Encodes the batch for KD term {@code term}: its users' last states in a users x d host table (other rows 0). */
    Tensor encode(int term);

    /** Runs term {@code term}'s encoding backwards from {@code userGrad} (host, users x d: the gradient of what encode returned). */
    void backward(int term, Tensor userGrad);
}

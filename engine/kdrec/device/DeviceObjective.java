package kdrec.device;

import kdrec.gpu.Cuda;

/**
 * An objective of the form base loss + a distillation term that can run on the device. Implemented by the
 * distillation objective (kdrec.kd), which knows which of its methods have a device twin: this keeps
 * the arrow from the distillers down to the device path, never back.
 */
public interface DeviceObjective {
    /**
     * Throws IllegalArgumentException, before any CUDA call, when this objective has no device twin,
     * saying what to use instead.
     */
    void checkOnDevice();

    /** The base loss the term is added to (BPR for MF/LightGCN students, a sequence loss for HSTU). */
    kdrec.loss.BaseLoss baseLoss();

    /**
     * The device twin of the distillation term, logged as "kd"; its buffers come from {@code slots};
     * {@code student} is the host model the trainer refreshes from the device after every epoch;
     * {@code extraAdam} (or null) updates the method's own parameters, which live on the host.
     */
    DeviceTerm deviceTerm(Cuda cuda, UploadSlots slots, kdrec.model.Recommender student, kdrec.nn.Adam extraAdam);

    /**
     * True when each KD term reads its own student pass ({@code kd_encoding=per_term}, HSTU): the device
     * step then encodes the batch for every term ({@link DevicePasses}) and launches the term with them.
     */
    default boolean passPerTerm() {
        return false;
    }
}

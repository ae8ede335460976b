package kdrec.kd;

import java.lang.foreign.MemorySegment;
import kdrec.device.DeviceEmbeddings;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuPairCe;
import kdrec.gpu.GpuRceKd;

/**
 * RCE-KD's per-epoch sets built on the device, the twin of {@link RceKdEpoch#build} under
 * {@code --device cuda}: from the student's top-M (already on the device) the draws, every user's list,
 * its split points and weights (native/rcekd.cu, the host's generator and rules), the lists made
 * contiguous, the teacher's logits of every entry (gather-dot on the teacher's device copy) and the
 * targets (pair-CE targets kernel). Only the per-user lengths, split points and weights come down (five
 * ints/floats per user: the per-batch row layout is planned on the host) and the row pointer goes back
 * up. On the host the same hook moves the top-M down and ~8 bytes per entry up every epoch, and its
 * sampling and list building ran on the CPU while the GPU waited.
 *
 * <p>The lists equal the host's for the same seed and top-M (tested); the targets are the GPU's
 * softmax, so they agree with the host's to float rounding.
 */
final class RceKdSetsOnDevice {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final RceKd.DeviceSpec spec;
    private final DeviceEmbeddings teacher;
    private final DeviceBuffer qt, weight;
    private final int cap;
    /** Blocks of the sets kernel (tests lower it so that a block builds several users' lists in turn). */
    int blockCap = GpuRceKd.MAX_BLOCKS;

    /** The epoch's lists on the host side: row pointer over users, split points and weights per user. */
    int[] ptr = new int[1], len = new int[0], a = new int[0], b = new int[0];
    float[] wA = new float[0], wB = new float[0];
    /** The epoch's lists on the device: CSR over users (ids) and the teacher targets aligned with them. */
    DeviceBuffer dPtr, dIdx, dTarget;

    RceKdSetsOnDevice(Cuda cuda, UploadSlots slots, RceKd.DeviceSpec spec) {
        if (spec.m() > GpuRceKd.MAX_M) throw new IllegalArgumentException("rcekd.m = " + spec.m() + " exceeds the GPU limit " + GpuRceKd.MAX_M + "; use --device cpu");
        this.cuda = cuda;
        this.slots = slots;
        this.spec = spec;
        this.teacher = spec.teacher().resident();
        this.cap = 2 * spec.k() + spec.l();
        this.qt = slots.ints("rcekd.sets.qt", spec.teacherTop(), spec.teacherTop().length);
        this.weight = slots.floats("rcekd.sets.weight", spec.weightByOverlap(), spec.weightByOverlap().length);
    }

    /** Builds epoch {@code epoch}'s sets for {@code users} users from their top-M ids {@code top} (users x m, on the device). */
    void build(int users, DeviceBuffer top, int epoch) {
        if (spec.teacherTop().length != users * spec.k()) {
            throw new IllegalArgumentException("rcekd: " + users + " student users but the teacher's lists cover " + spec.teacherTop().length / spec.k());
        }
        DeviceBuffer slab = slots.reserve("rcekd.sets.slab", (long) users * cap), dLen = slots.reserve("rcekd.sets.len", users),
                dA = slots.reserve("rcekd.sets.a", users), dB = slots.reserve("rcekd.sets.b", users),
                dWa = slots.reserve("rcekd.sets.wA", users), dWb = slots.reserve("rcekd.sets.wB", users);
        GpuRceKd.sets(cuda, users, spec.m(), spec.k(), spec.l(), cap, top, qt, Sampling.rngBase(spec.seed(), 1, epoch), spec.temp(),
                spec.sampleRank(), spec.separate(), weight, slab, dLen, dA, dB, dWa, dWb, blockCap);
        len = RceKdEpoch.grow(len, users);
        a = RceKdEpoch.grow(a, users);
        b = RceKdEpoch.grow(b, users);
        wA = RceKdEpoch.grow(wA, users);
        wB = RceKdEpoch.grow(wB, users);
        long bytes = users * 4L;
        cuda.download(dLen, MemorySegment.ofArray(len), 0, bytes);
        cuda.download(dA, MemorySegment.ofArray(a), 0, bytes);
        cuda.download(dB, MemorySegment.ofArray(b), 0, bytes);
        cuda.download(dWa, MemorySegment.ofArray(wA), 0, bytes);
        cuda.download(dWb, MemorySegment.ofArray(wB), 0, bytes);
        ptr = RceKdEpoch.grow(ptr, users + 1);
        ptr[0] = 0;
        for (int u = 0; u < users; u++) ptr[u + 1] = ptr[u] + len[u];
        int nnz = ptr[users];
        dPtr = slots.ints("rcekd.sets.ptr", ptr, users + 1);
        dIdx = slots.reserve("rcekd.sets.idx", nnz);
        GpuRceKd.compact(cuda, users, cap, slab, dPtr, dIdx, nnz);
        DeviceBuffer logits = slots.reserve("rcekd.sets.logits", nnz);
        teacher.gatherDot(users, dPtr, dIdx, logits);
        dTarget = slots.reserve("rcekd.sets.target", nnz);
        GpuPairCe.targets(cuda, users, dPtr, dA, dB, logits, spec.tau(), dWa, dWb, dTarget);
    }
}

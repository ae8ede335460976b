package kdrec.kd;

import java.lang.foreign.MemorySegment;
import kdrec.device.DeviceModel;
import kdrec.device.DeviceRanking;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.loss.Batch;

/**
 * What the list-based distillers' device twins share ({@link RceKdOnDevice}, {@link VanillaCeOnDevice}):
 * per-user item lists with one float per entry (a CSR over all users) uploaded once per epoch; per
 * batch the distinct users and their counts, the rows' offsets into a batch-contiguous copy, the rows
 * cut out on the device by the ragged gather, the users' final embeddings gathered; afterwards the
 * per-row user gradients scattered into the model and the per-row losses summed on the host.
 */
final class DeviceUserLists {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final String name;
    private int[] userSlot = new int[0], ptr = new int[1];
    private float[] loss = new float[0];
    private DeviceBuffer epPtr, epIdx, epVal;
    private int[] epochPtr; // the host's copy of the epoch's ptr (the batch offsets come from it)

    DeviceUserLists(Cuda cuda, UploadSlots slots, String name) {
        this.cuda = cuda;
        this.slots = slots;
        this.name = name;
    }

    /** The student's top-m over all items (no masking) for every user, ranked on the device: ids into {@code top}. */
    void studentTopM(DeviceModel model, int m, int[] top) {
        DeviceRanking.topK(cuda, slots, name + ".top", model.users(), model.items(), model.dim(), model.userRows(), model.itemRows(), m,
                null, null, top);
    }

    /** The student's top-m ids as {@link #studentTopM}, left on the device (users x m, valid until the next call). */
    DeviceBuffer studentTopMOnDevice(DeviceModel model, int m) {
        return DeviceRanking.topKOnDevice(cuda, slots, name + ".top", model.users(), model.items(), model.dim(), model.userRows(),
                model.itemRows(), m, null, null);
    }

    /** This epoch's lists over all users: entries [ptr[u], ptr[u+1]) of idx and val (val may be longer). */
    void uploadEpoch(int users, int[] ptr, int[] idx, float[] val) {
        int nnz = ptr[users];
        useEpoch(ptr, slots.ints(name + ".ep.ptr", ptr, users + 1), slots.ints(name + ".ep.idx", idx, nnz),
                slots.floats(name + ".ep.val", val, nnz));
    }

    /** This epoch's lists, already on the device; {@code hostPtr} is the host's copy of {@code ptr} (batch offsets come from it). */
    void useEpoch(int[] hostPtr, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer val) {
        epochPtr = hostPtr;
        epPtr = ptr;
        epIdx = idx;
        epVal = val;
    }

    /** A batch's distinct users as device rows (valid until the next call). */
    final class Rows {
        final int n;             // distinct users
        final int[] users, hostPtr;
        final float[] counts;
        final DeviceBuffer userIds, ptr, idx, val, userRows;

        Rows(int n, int[] users, float[] counts, int[] hostPtr, DeviceBuffer userIds, DeviceBuffer ptr, DeviceBuffer idx,
             DeviceBuffer val, DeviceBuffer userRows) {
            this.n = n;
            this.users = users;
            this.counts = counts;
            this.hostPtr = hostPtr;
            this.userIds = userIds;
            this.ptr = ptr;
            this.idx = idx;
            this.val = val;
            this.userRows = userRows;
        }

        int entries() {
            return hostPtr[n];
        }
    }

    /**
     * The batch's distinct users' lists cut out on the device; each row's values multiplied by
     * {@code valueScale[r]} when given (indexed by distinct-user row; null: copied).
     */
    Rows rows(DeviceModel model, Batch batch, java.util.function.Function<BatchUsers, float[]> valueScale) {
        if (epPtr == null) throw new IllegalStateException(name + ": the epoch's lists were not uploaded");
        if (userSlot.length != model.users()) {
            userSlot = new int[model.users()];
            java.util.Arrays.fill(userSlot, -1);
        }
        BatchUsers bu = BatchUsers.of(batch.users(), userSlot);
        int nu = bu.size(), d = model.dim();
        if (ptr.length < nu + 1) ptr = new int[nu + 1];
        int[] us = bu.users();
        for (int r = 0; r < nu; r++) ptr[r + 1] = ptr[r] + epLength(us[r]);
        float[] scale = valueScale == null ? null : valueScale.apply(bu);
        DeviceBuffer dUsers = slots.ints(name + ".users", us, nu), dPtr = slots.ints(name + ".ptr", ptr, nu + 1);
        DeviceBuffer dScale = scale == null ? null : slots.floats(name + ".scale", scale, nu);
        DeviceBuffer dIdx = slots.reserve(name + ".idx", ptr[nu]), dVal = slots.reserve(name + ".val", ptr[nu]);
        GpuEmbedding.gatherRagged(cuda, nu, dUsers, epPtr, epIdx, epVal, dPtr, dScale, dIdx, dVal);
        DeviceBuffer ue = slots.reserve(name + ".ue", (long) nu * d);
        GpuEmbedding.gather(cuda, nu, d, dUsers, model.userRows(), 0, d, ue, 0, d);
        return new Rows(nu, us, bu.counts(), ptr, dUsers, dPtr, dIdx, dVal, ue);
    }

    private int epLength(int u) {
        return epochPtr[u + 1] - epochPtr[u];
    }

    /** Adds the rows' user gradients (n x d, rows in distinct-user order) into the model's user gradient. */
    void scatterUserGrad(DeviceModel model, Rows rows, DeviceBuffer gu) {
        // the rows' users are distinct: the scatter has no collisions (no atomics race)
        GpuEmbedding.scatterAdd(cuda, rows.n, model.dim(), rows.userIds, gu, 0, model.dim(), model.userGrad(), 0, model.dim());
    }

    /** sum_r factor[r] * loss[r] over the rows (factor null: 1), in double on the host. */
    double sumLoss(DeviceBuffer dLoss, int n, float[] factor) {
        if (loss.length < n) loss = new float[n];
        cuda.download(dLoss, MemorySegment.ofArray(loss), 0, n * 4L);
        double sum = 0;
        for (int r = 0; r < n; r++) sum += factor == null ? loss[r] : (double) factor[r] * loss[r];
        return sum;
    }
}

package kdrec.kd;

import kdrec.device.DeviceModel;
import kdrec.device.DeviceRanking;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuSubsetCe;
import kdrec.loss.Batch;

/**
 * What the list-based distillers' device twins share ({@link RceKdOnDevice}, {@link VanillaCeOnDevice}, {@link CdOnDevice}):
 * per-user item lists with one float per entry (a CSR over all users) on the device for an epoch; per
 * batch the distinct users and their counts and the rows' offsets into a batch-contiguous copy,
 * staged with the step's other uploads; then the rows' lists cut out on the device by the ragged
 * gather. The loss kernels read each row's user from the model by id (no gathered copy of the users'
 * rows); both gradients go into the model's by one rows-form backward (or the loss kernel itself), and
 * the per-row losses (downloaded with the step's others) are summed on the host.
 */
final class DeviceUserLists {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final String name;
    private int[] userSlot = new int[0], ptr = new int[1];
    private DeviceBuffer epPtr, epIdx, epVal;
    private int[] epochPtr; // the host's copy of the epoch's ptr (the batch offsets come from it)
    private float[] countScale = new float[0];

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

    /**
     * A batch's distinct users as rows: planned on the host ({@link #plan}: users, counts, offsets and
     * scale staged), then cut out on the device ({@link #cutLists}, after the step's flush).
     */
    final class Rows {
        final int n;             // distinct users
        final int[] users, hostPtr;
        final float[] counts;
        private final StepUploads.Staged stagedUsers, stagedPtr, stagedScale;
        DeviceBuffer userIds, ptr, idx, val; // set by cutLists

        Rows(int n, int[] users, float[] counts, int[] hostPtr, StepUploads.Staged stagedUsers, StepUploads.Staged stagedPtr,
             StepUploads.Staged stagedScale) {
            this.n = n;
            this.users = users;
            this.counts = counts;
            this.hostPtr = hostPtr;
            this.stagedUsers = stagedUsers;
            this.stagedPtr = stagedPtr;
            this.stagedScale = stagedScale;
        }

        int entries() {
            return hostPtr[n];
        }
    }

    /**
     * The host part of a batch's rows: its distinct users, their counts and their offsets in a
     * batch-contiguous copy of their lists, staged in {@code up}; each row's values are to be
     * multiplied by {@code valueScale[r]} when given (indexed by distinct-user row; null: copied).
     */
    Rows plan(DeviceModel model, Batch batch, java.util.function.Function<BatchUsers, float[]> valueScale, StepUploads up) {
        if (epPtr == null) throw new IllegalStateException(name + ": the epoch's lists were not uploaded");
        if (userSlot.length != model.users()) {
            userSlot = new int[model.users()];
            java.util.Arrays.fill(userSlot, -1);
        }
        BatchUsers bu = BatchUsers.of(batch.users(), userSlot);
        int nu = bu.size();
        if (ptr.length < nu + 1) ptr = new int[nu + 1];
        int[] us = bu.users();
        for (int r = 0; r < nu; r++) ptr[r + 1] = ptr[r] + epLength(us[r]);
        float[] scale = valueScale == null ? null : valueScale.apply(bu);
        return new Rows(nu, us, bu.counts(), ptr, up.ints(us, nu), up.ints(ptr, nu + 1), scale == null ? null : up.floats(scale, nu));
    }

    /**
     * The device part (after the step's flush): the rows' lists cut out of the epoch's. The rows' users
     * stay in the model's table, read there by id ({@code rows.userIds}).
     */
    Rows cutLists(DeviceModel model, Rows rows) {
        int nu = rows.n;
        rows.userIds = rows.stagedUsers.get();
        rows.ptr = rows.stagedPtr.get();
        rows.idx = slots.reserve(name + ".idx", rows.entries());
        rows.val = slots.reserve(name + ".val", rows.entries());
        GpuEmbedding.gatherRagged(cuda, nu, rows.userIds, epPtr, epIdx, epVal, rows.ptr, rows.stagedScale == null ? null : rows.stagedScale.get(),
                rows.idx, rows.val);
        // lazy Adam: the rows the host op marks (gathered users; the subset/pair CE's item entries)
        model.touchUsers(rows.userIds, nu);
        model.touchItems(rows.idx, rows.entries());
        return rows;
    }

    private int epLength(int u) {
        return epochPtr[u + 1] - epochPtr[u];
    }

    /**
     * Stages lambda times each row's user count (a subset loss's row scale: the gradient of the batch's
     * sum over duplicate entries); the host copy stays for {@link #countScaledLoss}.
     */
    StepUploads.Staged stageCountScale(Rows rows, float lambda, StepUploads up) {
        if (countScale.length < rows.n) countScale = new float[rows.n];
        for (int r = 0; r < rows.n; r++) countScale[r] = lambda * rows.counts[r];
        return up.floats(countScale, rows.n);
    }

    /** The batch's loss from unscaled per-row losses: sum_r lambda count_r loss[from + r] (see {@link #stageCountScale}). */
    double countScaledLoss(float[] loss, int from, Rows rows) {
        return sumLoss(loss, from, rows.n, countScale);
    }

    /**
     * The gather-dot backward of the rows' per-entry gradient {@code grad}, both sides straight into the
     * model's gradients (rows are distinct users: one launch, users read from the model by id).
     */
    void backward(DeviceModel model, Rows rows, DeviceBuffer grad) {
        int d = model.dim();
        GpuSubsetCe.gatherDotBackwardRows(cuda, rows.n, d, rows.userIds, model.userRows(), 0, d, model.itemRows(), 0, d, rows.ptr, rows.idx,
                grad, model.userGrad(), 0, d, model.itemGrad(), 0, d);
    }

    /** sum_r factor[r] * loss[from + r] over the n rows (factor null: 1), in double. */
    static double sumLoss(float[] loss, int from, int n, float[] factor) {
        double sum = 0;
        for (int r = 0; r < n; r++) sum += factor == null ? loss[from + r] : (double) factor[r] * loss[from + r];
        return sum;
    }
}

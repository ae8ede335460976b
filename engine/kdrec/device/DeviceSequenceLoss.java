package kdrec.device;

import kdrec.autograd.SampledCe;
import kdrec.data.Sequences;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuGemm;
import kdrec.gpu.GpuLayerNorm;
import kdrec.gpu.GpuSequenceNegatives;
import kdrec.gpu.GpuSoftmaxCe;
import kdrec.gpu.GpuSubsetCe;
import kdrec.gpu.GpuVec;
import kdrec.loss.SequenceLoss;
import kdrec.model.Hstu;

/**
 * The next-item loss of a {@link DeviceHstu} batch on the device, forward and backward in one call:
 * the device twin of {@link SequenceLoss} (same positions, same negatives from the same seed, the
 * same mean over positions). {@code sampled_softmax} / {@code scaled_softmax}: the positives' cosines
 * by a row dot, the shared negatives' by one GEMM, negatives equal to a row's positive dropped (their
 * logits set to -inf: an exact 0 in the row's sum, a 0 gradient), the sampled-softmax kernel's logit
 * gradients straight into the two backward GEMMs; with negatives per position, the same ids drawn on the
 * device chunk by chunk and gathered dots instead of the GEMMs. {@code full_softmax}: the
 * streamed full-catalogue CE (GpuSoftmaxCe) against every normalised item. Either way it writes the
 * states' gradient and adds the item table's (through the L2 normalisation) to the model's gradient.
 */
final class DeviceSequenceLoss implements AutoCloseable {
    private final Cuda cuda;
    private final SequenceLoss loss;
    private final DeviceHstu model;
    private final UploadSlots slots;
    private final boolean full, perPosition;

    DeviceSequenceLoss(Cuda cuda, SequenceLoss loss, DeviceHstu model) {
        this.cuda = cuda;
        this.loss = loss;
        this.model = model;
        this.slots = new UploadSlots(cuda);
        this.full = loss.name().equals("full_softmax");
        this.perPosition = !full && loss.perPosition();
    }

    /** Positions whose next item is a target, of the last forward's batch: their state rows and targets. */
    record Targets(int[] rows, int[] items) {
        int count() {
            return rows.length;
        }
    }

    static Targets targets(int[] users, int[] len, int n, Sequences seq) {
        int count = 0;
        for (int l : len) count += Math.max(l - 1, 0);
        int[] rows = new int[count], target = new int[count];
        for (int s = 0, e = 0; s < users.length; s++) {
            for (int p = 0; p + 1 < len[s]; p++, e++) {
                rows[e] = s * n + p;
                target[e] = seq.item(users[s], p + 1);
            }
        }
        return new Targets(rows, target);
    }

    // per-position negatives: the uploaded row offsets and the (rows, width) they are for
    private DeviceBuffer rowOffsets;
    private int offsetRows = -1, offsetWidth = -1;

    // the staged batch
    private Targets t;
    private long batchSeed;
    private int[] neg;
    private int collisions;
    private int[] targetPlan, negPlan;
    private StepUploads.Staged rowsUp, targetUp, negUp, collisionsUp, rowPtrUp, targetPlanUp, negPlanUp;

    /**
     * Stages the batch's loss inputs into {@code up}: the target rows and items, and for the sampled
     * losses the negatives drawn from {@code batchSeed} (as {@link SequenceLoss#negatives}), the flat
     * positions (row * R + j) where a negative equals the row's positive (rare: the only per-entry
     * upload), the rows' offsets into the m x R logits, and the item gradient's scatter plans.
     */
    void prepare(Targets t, long batchSeed, StepUploads up) {
        this.t = t;
        this.batchSeed = batchSeed;
        int m = t.count();
        rowsUp = up.ints(t.rows(), m);
        targetUp = up.ints(t.items(), m);
        if (full || perPosition || m == 0) return;
        neg = loss.negatives(batchSeed, model.items());
        int r = neg.length;
        int[] targets = t.items(), ptr = new int[m + 1];
        int[] hit = new int[Math.min(m, 16)];
        int e = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < r; j++) {
                if (neg[j] != targets[i]) continue;
                if (e == hit.length) hit = java.util.Arrays.copyOf(hit, 2 * e);
                hit[e++] = Math.multiplyExact(i, r) + j;
            }
            ptr[i + 1] = Math.multiplyExact(i + 1, r);
        }
        collisions = e;
        negUp = up.ints(neg, r);
        collisionsUp = up.ints(hit, e);
        rowPtrUp = up.ints(ptr, m + 1);
        targetPlan = GpuEmbedding.ScatterPlan.pack(m, targets);
        negPlan = GpuEmbedding.ScatterPlan.pack(r, neg);
        targetPlanUp = up.ints(targetPlan, targetPlan.length);
        negPlanUp = up.ints(negPlan, negPlan.length);
    }

    /**
     * The loss of the staged batch from the states the model's last forward gave ({@code states}, rows
     * x d): writes {@code dStates} (rows x d, whole), adds the item table's gradient, and writes the
     * per-position losses to {@code perRow} (its first t.count() floats). Nothing else to do when t.count() == 0.
     */
    void run(DeviceBuffer states, DeviceBuffer dStates, DeviceBuffer perRow) {
        int m = t.count(), d = model.dim(), rows = model.rows();
        cuda.fill32(dStates, (long) rows * d, 0);
        if (m == 0) return;
        float inv = 1f / loss.temperature();
        DeviceBuffer rowIdx = rowsUp.get(), target = targetUp.get();
        DeviceBuffer s = slots.reserve("s", (long) m * d), ds = slots.reserve("ds", (long) m * d);
        GpuEmbedding.gather(cuda, m, d, rowIdx, states, 0, d, s, 0, d);
        cuda.fill32(ds, (long) m * d, 0);
        float meanGrad = (float) (1.0 / m); // Arith.mean's backward
        if (full) fullSoftmax(m, d, s, ds, target, inv, meanGrad, perRow);
        else if (perPosition) perPositionSoftmax(m, d, s, ds, target, inv, meanGrad, perRow);
        else sampledSoftmax(m, d, s, ds, target, inv, meanGrad, perRow);
        GpuEmbedding.scatterAdd(cuda, m, d, rowIdx, ds, 0, d, dStates, 0, d); // rows are distinct: one addition each
    }

    private void sampledSoftmax(int m, int d, DeviceBuffer s, DeviceBuffer ds, DeviceBuffer target, float inv, float meanGrad, DeviceBuffer perRow) {
        int r = neg.length;
        DeviceBuffer table = model.itemTable(), negIdx = negUp.get();
        // the positives' and negatives' rows, L2-normalised (raw rows kept for the normalisation's backward)
        DeviceBuffer pRaw = slots.reserve("p.raw", (long) m * d), p = slots.reserve("p", (long) m * d), pNorm = slots.reserve("p.norm", m);
        DeviceBuffer nRaw = slots.reserve("n.raw", (long) r * d), nv = slots.reserve("n", (long) r * d), nNorm = slots.reserve("n.norm", r);
        GpuEmbedding.gather(cuda, m, d, target, table, 0, d, pRaw, 0, d);
        GpuLayerNorm.l2Rows(cuda, m, d, pRaw, 0, d, Hstu.L2_EPS, p, 0, d, pNorm);
        GpuEmbedding.gather(cuda, r, d, negIdx, table, 0, d, nRaw, 0, d);
        GpuLayerNorm.l2Rows(cuda, r, d, nRaw, 0, d, Hstu.L2_EPS, nv, 0, d, nNorm);
        DeviceBuffer pos = slots.reserve("pos.logit", m), logits = slots.reserve("logits", (long) m * r);
        GpuEmbedding.rowDot(cuda, m, d, null, s, 0, d, null, p, 0, d, pos);
        GpuVec.scale(cuda, m, inv, pos, 0, pos, 0);
        GpuGemm.nt(cuda, m, r, d, inv, s, 0, d, nv, 0, d, 0f, logits, 0, r);
        // a negative equal to the row's positive is dropped (SampledCe): its logit becomes -inf, so it adds an exact 0
        // to the row's sum and gets a 0 gradient, and every row reads all R logits (no per-entry upload)
        if (collisions > 0) {
            DeviceBuffer minusInf = slots.reserve("collisions.value", collisions);
            GpuVec.fill(cuda, collisions, minusInf, 0, Float.NEGATIVE_INFINITY);
            GpuEmbedding.scatterAdd(cuda, collisions, 1, collisionsUp.get(), minusInf, 0, 1, logits, 0, 1); // distinct positions
        }
        DeviceBuffer rowScale = slots.reserve("row.scale", m), gPos = slots.reserve("pos.grad", m), gNeg = slots.reserve("neg.grad", (long) m * r);
        GpuVec.fill(cuda, m, rowScale, 0, meanGrad * inv); // upstream 1/m times the logits' 1/temperature, as SampledCe's gi
        GpuSoftmaxCe.sampled(cuda, m, pos, rowPtrUp.get(), logits, loss.negScale(model.items()), rowScale, perRow, gPos, gNeg);
        // backward: the logit gradients (dropped entries 0) through the two GEMMs
        DeviceBuffer dp = slots.reserve("dp", (long) m * d), dn = slots.reserve("dn", (long) r * d);
        cuda.fill32(dp, (long) m * d, 0);
        GpuEmbedding.rowDotBackward(cuda, m, d, null, s, 0, d, null, p, 0, d, gPos, ds, 0, d, dp, 0, d);
        GpuGemm.nn(cuda, m, d, r, 1f, gNeg, 0, r, nv, 0, d, 1f, ds, 0, d);
        GpuGemm.tn(cuda, r, d, m, 1f, gNeg, 0, r, s, 0, d, 0f, dn, 0, d);
        // through the normalisations into the raw rows, then into the table (positions in order: deterministic)
        DeviceBuffer dpRaw = slots.reserve("dp.raw", (long) m * d), dnRaw = slots.reserve("dn.raw", (long) r * d);
        cuda.fill32(dpRaw, (long) m * d, 0);
        cuda.fill32(dnRaw, (long) r * d, 0);
        GpuLayerNorm.l2RowsBackward(cuda, m, d, pRaw, 0, d, p, 0, d, pNorm, Hstu.L2_EPS, dp, 0, d, dpRaw, 0, d);
        GpuLayerNorm.l2RowsBackward(cuda, r, d, nRaw, 0, d, nv, 0, d, nNorm, Hstu.L2_EPS, dn, 0, d, dnRaw, 0, d);
        try (GpuEmbedding.ScatterPlan pp = GpuEmbedding.ScatterPlan.over(targetPlan, m, targetPlanUp.get());
             GpuEmbedding.ScatterPlan np = GpuEmbedding.ScatterPlan.over(negPlan, r, negPlanUp.get())) {
            GpuEmbedding.scatterAdd(cuda, np, d, dnRaw, 0, d, model.itemGrad(), 0, d);
            GpuEmbedding.scatterAdd(cuda, pp, d, dpRaw, 0, d, model.itemGrad(), 0, d);
        }
    }

    /**
     * Negatives drawn per position ({@link SampledCe#perRow}'s twin): the normalised table once, the
     * positives' dots for all rows, then chunk by chunk (the CPU's row chunks) the ids drawn on the device
     * from the host's counter hash (so nothing goes up per entry), their gathered dots, a negative equal
     * to its row's positive masked to -inf (the host drops it: the same 0 in the sum), the sampled softmax
     * and the gather-dot backward; the positives' backward last, then the normalisation's into the item
     * gradient. Rows are R wide here, so one row-offset array serves every chunk. The table's gradient
     * goes through float atomics (ids repeat across rows), so its last bits may vary run to run.
     */
    private void perPositionSoftmax(int m, int d, DeviceBuffer s, DeviceBuffer ds, DeviceBuffer target, float inv, float meanGrad,
                                    DeviceBuffer perRow) {
        int items = model.items(), r = loss.negatives();
        DeviceBuffer table = model.itemTable();
        DeviceBuffer all = slots.reserve("items", (long) items * d), norm = slots.reserve("items.norm", items);
        DeviceBuffer dAll = slots.reserve("items.grad", (long) items * d);
        GpuLayerNorm.l2Rows(cuda, items, d, table, 0, d, Hstu.L2_EPS, all, 0, d, norm);
        cuda.fill32(dAll, (long) items * d, 0);
        DeviceBuffer pos = slots.reserve("pos.logit", m), gPos = slots.reserve("pos.grad", m), rowScale = slots.reserve("row.scale", m);
        GpuEmbedding.rowDot(cuda, m, d, null, s, 0, d, target, all, 0, d, pos);
        GpuVec.scale(cuda, m, inv, pos, 0, pos, 0);
        GpuVec.fill(cuda, m, rowScale, 0, meanGrad * inv); // upstream 1/m times the logits' 1/temperature
        int chunkRows = SampledCe.rowsPerChunk(r), per = Math.min(m, chunkRows);
        DeviceBuffer ptr = rowOffsets(chunkRows, r); // for a whole chunk, whatever this batch's m: uploaded once
        DeviceBuffer idx = slots.reserve("pp.idx", (long) per * r), logits = slots.reserve("pp.logits", (long) per * r);
        DeviceBuffer gNeg = slots.reserve("pp.grad", (long) per * r);
        float negScale = loss.negScale(items);
        for (int lo = 0; lo < m; lo += per) {
            int rows = Math.min(per, m - lo);
            GpuSequenceNegatives.draw(cuda, rows, r, batchSeed, lo, items, idx);
            GpuSubsetCe.gatherDot(cuda, rows, d, s, (long) lo * d, d, all, 0, d, ptr, idx, logits);
            GpuSequenceNegatives.maskPositives(cuda, rows, r, inv, idx, target.at(lo), logits);
            GpuSoftmaxCe.sampled(cuda, rows, pos.at(lo), ptr, logits, negScale, rowScale.at(lo), perRow.at(lo), gPos.at(lo), gNeg);
            GpuSubsetCe.gatherDotBackward(cuda, rows, d, s, (long) lo * d, d, all, 0, d, ptr, idx, gNeg, ds, (long) lo * d, d, dAll, 0, d);
        }
        GpuEmbedding.rowDotBackward(cuda, m, d, null, s, 0, d, target, all, 0, d, gPos, ds, 0, d, dAll, 0, d);
        GpuLayerNorm.l2RowsBackward(cuda, items, d, table, 0, d, all, 0, d, norm, Hstu.L2_EPS, dAll, 0, d, model.itemGrad(), 0, d);
    }

    /**
     * The offsets i x r of rows 0..per on the device, uploaded again only when (per, r) changes: a
     * synchronous copy in mid-step would wait for the forward's kernels every step.
     */
    private DeviceBuffer rowOffsets(int per, int r) {
        if (per != offsetRows || r != offsetWidth) {
            int[] rowPtr = new int[per + 1];
            for (int i = 1; i <= per; i++) rowPtr[i] = Math.multiplyExact(i, r);
            rowOffsets = slots.ints("pp.ptr", rowPtr, per + 1);
            offsetRows = per;
            offsetWidth = r;
        }
        return rowOffsets;
    }

    private void fullSoftmax(int m, int d, DeviceBuffer s, DeviceBuffer ds, DeviceBuffer target, float inv, float meanGrad, DeviceBuffer perRow) {
        int items = model.items();
        DeviceBuffer table = model.itemTable();
        DeviceBuffer all = slots.reserve("items", (long) items * d), norm = slots.reserve("items.norm", items);
        DeviceBuffer dAll = slots.reserve("items.grad", (long) items * d), lse = slots.reserve("lse", m), g = slots.reserve("g", m);
        GpuLayerNorm.l2Rows(cuda, items, d, table, 0, d, Hstu.L2_EPS, all, 0, d, norm);
        GpuSoftmaxCe.forward(cuda, m, items, d, s, 0, d, all, 0, d, inv, target, perRow, lse);
        GpuVec.fill(cuda, m, g, 0, meanGrad);
        cuda.fill32(dAll, (long) items * d, 0);
        GpuSoftmaxCe.backward(cuda, m, items, d, s, 0, d, all, 0, d, inv, target, lse, g, ds, 0, d, dAll, 0, d);
        GpuLayerNorm.l2RowsBackward(cuda, items, d, table, 0, d, all, 0, d, norm, Hstu.L2_EPS, dAll, 0, d, model.itemGrad(), 0, d);
    }

    @Override
    public void close() {
        slots.close();
    }
}

package kdrec.autograd;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntBinaryOperator;
import kdrec.cpu.Mem;
import kdrec.cpu.Parallel;
import kdrec.tensor.Backend;
import kdrec.tensor.Shapes;
import kdrec.tensor.Tensor;

/**
 * Sampled softmax CE for next-item prediction with negatives shared by the rows of a batch:
 * row r's logits are {@code <S_r, P_r>/temp} (its positive) and {@code <S_r, N_j>/temp} for the
 * R negatives, except negatives equal to the row's positive (dropped, as the reference masks them
 * to -5e4). {@code loss_r = -pos + log(exp(pos) + negScale * sum exp(neg))}: negScale 1 is plain
 * sampled softmax, (items-1)/R the scaled variant (the sampled sum scaled up to the catalogue).
 * The negatives' logits are one GEMM [rows x R] instead of a per-row gather of R rows: each row
 * still sees R uniform draws, only correlated across rows. {@link #perRow} draws R per row instead
 * (the RCE-KD code's sampler).
 */
public final class SampledCe {
    private SampledCe() {}

    public static Var loss(Tape t, Var s, Var pos, int[] posIds, Var neg, int[] negIds, float temp, float negScale) {
        Shapes.matrix("sampled softmax", s.value);
        Shapes.matrix("sampled softmax", pos.value);
        Shapes.matrix("sampled softmax", neg.value);
        int m = s.value.rows(), d = s.value.cols(), r = neg.value.rows();
        if (!pos.value.sameShape(s.value)) throw Shapes.mismatch("sampled softmax", "positives must match the states", s.value, pos.value);
        if (neg.value.cols() != d) throw Shapes.mismatch("sampled softmax", "negative widths differ", s.value, neg.value);
        if (posIds.length != m || negIds.length != r) {
            throw new IllegalArgumentException("sampled softmax: " + posIds.length + " positive ids for " + m + " rows, " + negIds.length + " negative ids for " + r);
        }
        if (!(temp > 0f) || !(negScale > 0f)) throw new IllegalArgumentException("sampled softmax: temperature and negScale must be > 0");
        Backend be = t.backend();
        float inv = 1f / temp;
        float[] pl = new float[m];
        be.rowDot(m, d, null, s.value.data(), 0, d, null, pos.value.data(), 0, d, pl);
        for (int i = 0; i < m; i++) pl[i] *= inv;
        Tensor logits = t.scratch().uninitialized(Math.max(m, 1), Math.max(r, 1));
        if (m > 0 && r > 0) be.gemmNT(m, r, d, inv, s.value.data(), 0, d, neg.value.data(), 0, d, 0f, logits.data(), 0, r);
        // ragged rows of kept negatives (collisions with the row's positive dropped)
        int[] ptr = new int[m + 1];
        float[] all = new float[m * r];
        int[] col = new int[m * r];
        float[] row = new float[r];
        int e = 0;
        for (int i = 0; i < m; i++) {
            if (r > 0) Mem.copyOut(logits.data(), (long) i * r, row, 0, r);
            for (int j = 0; j < r; j++) {
                if (negIds[j] == posIds[i]) continue;
                all[e] = row[j];
                col[e++] = j;
            }
            ptr[i + 1] = e;
        }
        float[] neg1 = Arrays.copyOf(all, e);
        float[] loss = new float[m], gPos = new float[m], gNeg = new float[e];
        be.sampledSoftmax(m, pl, ptr, neg1, negScale, null, loss, gPos, gNeg);
        Var out = t.output("sampledCe", t.needsGrad(s, pos, neg), m);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            // dloss/dlogit (times upstream, times 1/temp) back into a dense [m x R] block: collisions stay 0
            float[] gp = new float[m];
            logits.fill(0f);
            float[] dense = new float[r];
            for (int i = 0; i < m; i++) {
                float gi = g.get(i) * inv;
                gp[i] = gi * gPos[i];
                Arrays.fill(dense, 0f);
                for (int q = ptr[i]; q < ptr[i + 1]; q++) dense[col[q]] = gi * gNeg[q];
                if (r > 0) Mem.copyIn(dense, 0, logits.data(), (long) i * r, r);
            }
            if (s.requiresGrad || pos.requiresGrad) {
                be.rowDotBackward(m, d, null, s.value.data(), 0, d, null, pos.value.data(), 0, d, gp,
                        s.requiresGrad ? t.gradOf(s).data() : null, 0, d, pos.requiresGrad ? t.gradOf(pos).data() : null, 0, d);
            }
            if (m > 0 && r > 0) {
                if (s.requiresGrad) be.gemmNN(m, d, r, 1f, logits.data(), 0, r, neg.value.data(), 0, d, 1f, t.gradOf(s).data(), 0, d);
                if (neg.requiresGrad) be.gemmTN(r, d, m, 1f, logits.data(), 0, r, s.value.data(), 0, d, 1f, t.gradOf(neg).data(), 0, d);
            }
        });
        return out;
    }

    /**
     * Entries per chunk of {@link #perRow}'s negatives (its working arrays hold at most this many, ~16
     * bytes each, whatever the batch: the reference's Yelp RCE-KD batch, 400 sequences x 400 positions x
     * 2048 negatives, would otherwise take gigabytes).
     */
    public static final int PER_ROW_CHUNK = 1 << 22;
    private static volatile int perRowChunk = PER_ROW_CHUNK;

    /**
     * Entries (rows x R) of its first chunks for which {@link #perRow} keeps the forward's ids and logits
     * for the backward (8 bytes an entry: 64 MB at most) instead of drawing and gathering them again:
     * there the backward costs the softmax and the two gradients only. The presets' CiteULike batch
     * (128 sequences x 99 positions x 512) is kept whole, Gowalla's (x 1024) in part. Either way the
     * bits are the same.
     */
    public static final int PER_ROW_KEEP = 1 << 23;
    private static volatile int perRowKeep = PER_ROW_KEEP;

    /** Sets the entries per chunk of {@link #perRow} and its device twin (at least 1). Intended for tests. */
    public static void setPerRowChunk(int entries) {
        if (entries < 1) throw new IllegalArgumentException("per-row chunk must be >= 1 entry, got " + entries);
        perRowChunk = entries;
    }

    /** Sets the entries up to which {@link #perRow} keeps its forward for the backward (0: never). Intended for tests. */
    public static void setPerRowKeep(int entries) {
        if (entries < 0) throw new IllegalArgumentException("per-row keep must be >= 0 entries, got " + entries);
        perRowKeep = entries;
    }

    /**
     * Sampled softmax CE with R negatives drawn <em>per row</em>, as the RCE-KD code's HSTU draws them
     * for every supervised position: row r's logits are {@code <S_r, T[pos_r]>/temp} and
     * {@code <S_r, T[negativeOf(r, j)]>/temp} for j &lt; R over the rows of {@code table} (the L2-normalised
     * item table: normalising the table once equals the code's normalising of every gathered row),
     * negatives equal to the row's positive dropped (the code sets them to -5e4, an exact 0 after exp),
     * the loss as {@link #loss}. Nothing of size rows x R is kept beyond {@link #PER_ROW_KEEP} entries:
     * past it the ids are a pure function ({@code negativeOf}) regenerated chunk by chunk in the
     * backward, which recomputes the negatives' dots (one more gather pass, against gigabytes of logits
     * at the reference's largest shapes).
     * Bit-identical for any chunk size, keep limit and thread count: rows never span chunks, the table's
     * gradient takes the negatives in entry order ({@link kdrec.cpu.RowScatter}) and then the positives in row order.
     */
    public static Var perRow(Tape t, Var s, Var table, int[] posIds, int negatives, IntBinaryOperator negativeOf, float temp, float negScale) {
        return perRow(t, s, table, posIds, negatives, negativeOf, temp, negScale, perRowChunk, perRowKeep);
    }

    static Var perRow(Tape t, Var s, Var table, int[] posIds, int negatives, IntBinaryOperator negativeOf, float temp, float negScale,
                      int chunkEntries, int keepEntries) {
        String k = "per-row sampled softmax";
        Shapes.matrix(k, s.value);
        Shapes.matrix(k, table.value);
        int m = s.value.rows(), d = s.value.cols(), items = table.value.rows();
        if (table.value.cols() != d) throw Shapes.mismatch(k, "table width differs from the states'", s.value, table.value);
        if (posIds.length != m) throw new IllegalArgumentException(k + ": " + posIds.length + " positive ids for " + m + " rows");
        if (negatives < 1) throw new IllegalArgumentException(k + ": negatives must be >= 1, got " + negatives);
        if (!(temp > 0f) || !(negScale > 0f) || Float.isInfinite(temp) || Float.isInfinite(negScale)) {
            throw new IllegalArgumentException(k + ": temperature and negScale must be finite and > 0, got " + temp + " and " + negScale);
        }
        for (int i = 0; i < m; i++) {
            if (posIds[i] < 0 || posIds[i] >= items) throw new IllegalArgumentException(k + ": positive id " + posIds[i] + " of row " + i + " outside [0, " + items + ")");
        }
        int rowsPerChunk = rowsPerChunk(negatives, chunkEntries);
        Backend be = t.backend();
        float inv = 1f / temp;
        float[] pos = new float[m], loss = new float[m], unusedGrad = new float[m];
        be.rowDot(m, d, null, s.value.data(), 0, d, posIds, table.value.data(), 0, d, pos);
        for (int i = 0; i < m; i++) pos[i] *= inv;
        boolean grad = t.needsGrad(s, table); // without a backward nothing is kept
        java.util.List<NegativeChunk> kept = new java.util.ArrayList<>(); // the first chunks, up to keepEntries in all
        long keptEntries = 0;
        // one logit-gradient buffer for every chunk, forward (unused there) and backward: a chunk's is
        // written whole by the softmax and read by its gradients before the next chunk's
        float[] gNeg = new float[Math.multiplyExact(Math.min(m, rowsPerChunk), negatives)];
        for (int lo = 0; lo < m; lo += rowsPerChunk) {
            int hi = Math.min(m, lo + rowsPerChunk);
            NegativeChunk c = NegativeChunk.of(lo, hi, posIds, negatives, negativeOf, items).withLogits(be, s.value, table.value, d, inv);
            c.softmax(be, pos, negScale, null, loss, unusedGrad, gNeg);
            keptEntries += (long) (hi - lo) * negatives;
            if (grad && keptEntries <= keepEntries) kept.add(c); // the sum only grows: the kept chunks are the first ones
        }
        Var out = t.output("sampledCePerRow", grad, m);
        Mem.copyIn(loss, 0, out.value.data(), 0, m);
        if (out.requiresGrad) t.record(() -> {
            Tensor g = out.grad();
            if (g == null) return;
            MemorySegment ds = s.requiresGrad ? t.gradOf(s).data() : null, dt = table.requiresGrad ? t.gradOf(table).data() : null;
            float[] rowScale = new float[m], gPos = new float[m], unused = new float[m];
            for (int i = 0; i < m; i++) rowScale[i] = g.get(i) * inv;
            for (int lo = 0, c = 0; lo < m; lo += rowsPerChunk, c++) {
                NegativeChunk ch = c < kept.size() ? kept.get(c)
                        : NegativeChunk.of(lo, Math.min(m, lo + rowsPerChunk), posIds, negatives, negativeOf, items).withLogits(be, s.value, table.value, d, inv);
                ch.softmax(be, pos, negScale, rowScale, unused, gPos, gNeg);
                be.gatherDotBackward(ch.rows(), d, s.value.data(), (long) lo * d, d, table.value.data(), 0, d, ch.ptr, ch.idx, gNeg,
                        ds, (long) lo * d, d, dt, 0, d);
            }
            be.rowDotBackward(m, d, null, s.value.data(), 0, d, posIds, table.value.data(), 0, d, gPos, ds, 0, d, dt, 0, d);
        });
        return out;
    }

    /** Rows per chunk of {@link #perRow} with R negatives a row (the device twin chunks alike). */
    public static int rowsPerChunk(int negatives) {
        return rowsPerChunk(negatives, perRowChunk);
    }

    private static int rowsPerChunk(int negatives, int chunkEntries) {
        return Math.max(1, chunkEntries / negatives);
    }

    /** Rows [lo, hi) of a per-row draw: each row's negatives in draw order less those equal to its positive (ptr/idx chunk-relative). */
    private record NegativeChunk(int lo, int[] ptr, int[] idx, float[] neg) {
        /**
         * Draws rows [lo, hi) in parallel (negativeOf must be pure: each row lands in its own R slots), then
         * closes the gaps the dropped entries left, in row order. An id out of range is reported by a serial
         * rescan, so the error names the first bad (row, j) whatever the threads did.
         */
        static NegativeChunk of(int lo, int hi, int[] posIds, int negatives, IntBinaryOperator negativeOf, int items) {
            int rows = hi - lo;
            int[] ptr = new int[rows + 1], idx = new int[Math.multiplyExact(rows, negatives)], kept = new int[rows];
            AtomicBoolean outside = new AtomicBoolean();
            Parallel.forRange(rows, 1, Math.max(1, 16_384 / negatives), (a, b) -> {
                for (int i = a; i < b; i++) {
                    int r = lo + i, p = posIds[r], o = i * negatives, k = 0;
                    for (int j = 0; j < negatives; j++) {
                        int id = negativeOf.applyAsInt(r, j);
                        if (id < 0 || id >= items) outside.set(true);
                        if (id != p) idx[o + k++] = id;
                    }
                    kept[i] = k;
                }
            });
            if (outside.get()) {
                for (int r = lo; r < hi; r++) {
                    for (int j = 0; j < negatives; j++) {
                        int id = negativeOf.applyAsInt(r, j);
                        if (id < 0 || id >= items) {
                            throw new IllegalArgumentException("per-row sampled softmax: negative " + j + " of row " + r + " is " + id + ", outside [0, " + items + ")");
                        }
                    }
                }
            }
            for (int i = 0; i < rows; i++) {
                ptr[i + 1] = ptr[i] + kept[i];
                if (ptr[i] != i * negatives) System.arraycopy(idx, i * negatives, idx, ptr[i], kept[i]); // leftwards: never over unread rows
            }
            return new NegativeChunk(lo, ptr, idx, null);
        }

        int rows() {
            return ptr.length - 1;
        }

        /** This chunk with its negatives' logits: their dots with the rows' states, times inv. */
        NegativeChunk withLogits(Backend be, Tensor s, Tensor table, int d, float inv) {
            float[] logits = new float[ptr[rows()]];
            be.gatherDot(rows(), d, s.data(), (long) lo * d, d, table.data(), 0, d, ptr, idx, logits);
            for (int q = 0; q < logits.length; q++) logits[q] *= inv;
            return new NegativeChunk(lo, ptr, idx, logits);
        }

        /**
         * Each row's sampled softmax against pos[lo + i] (scaled logits) over the negatives' logits:
         * writes loss[lo + i], gPos[lo + i] and the negatives' logit gradients into gNeg[0, entries),
         * all scaled by rowScale[lo + i] (null: 1).
         */
        void softmax(Backend be, float[] pos, float negScale, float[] rowScale, float[] loss, float[] gPos, float[] gNeg) {
            int m = rows();
            float[] p = Arrays.copyOfRange(pos, lo, lo + m);
            float[] rs = rowScale == null ? null : Arrays.copyOfRange(rowScale, lo, lo + m);
            float[] rowLoss = new float[m], rowGPos = new float[m];
            be.sampledSoftmax(m, p, ptr, neg, negScale, rs, rowLoss, rowGPos, gNeg);
            System.arraycopy(rowLoss, 0, loss, lo, m);
            System.arraycopy(rowGPos, 0, gPos, lo, m);
        }
    }
}

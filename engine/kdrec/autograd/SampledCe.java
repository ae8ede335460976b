package kdrec.autograd;

import kdrec.cpu.Mem;
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
 * still sees R uniform draws, only correlated across rows.
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
        float[] neg1 = java.util.Arrays.copyOf(all, e);
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
                java.util.Arrays.fill(dense, 0f);
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
}

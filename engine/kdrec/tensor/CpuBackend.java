package kdrec.tensor;

import java.lang.foreign.MemorySegment;
import kdrec.cpu.ActivationScalar;
import kdrec.cpu.ActivationSimd;
import kdrec.cpu.AdamScalar;
import kdrec.cpu.AdamSimd;
import kdrec.cpu.AttentionMapScalar;
import kdrec.cpu.AttentionMapSimd;
import kdrec.cpu.DropoutScalar;
import kdrec.cpu.DropoutSimd;
import kdrec.cpu.EmbeddingScalar;
import kdrec.cpu.EmbeddingSimd;
import kdrec.cpu.FftScalar;
import kdrec.cpu.FftSimd;
import kdrec.cpu.GemmScalar;
import kdrec.cpu.GemmSimd;
import kdrec.cpu.LayerNormScalar;
import kdrec.cpu.LayerNormSimd;
import kdrec.cpu.PairCeScalar;
import kdrec.cpu.PairCeSimd;
import kdrec.cpu.RowPassScalar;
import kdrec.cpu.RowPassSimd;
import kdrec.cpu.SoftmaxCeFused;
import kdrec.cpu.SoftmaxCeScalar;
import kdrec.cpu.SoftmaxCeSimd;
import kdrec.cpu.SpmmScalar;
import kdrec.cpu.SpmmSimd;
import kdrec.cpu.SubsetCeScalar;
import kdrec.cpu.SubsetCeSimd;
import kdrec.cpu.TopKScalar;
import kdrec.cpu.TopKSimd;
import kdrec.cpu.VecScalar;
import kdrec.cpu.VecSimd;

/**
 * The CPU backend: every {@link Backend} operation bound to the Vector API kernel ({@code simd}) or
 * to its scalar twin, the test oracle ({@code -Dkdrec.backend=scalar}). Pure delegation: argument
 * checks live in the kernels' entry points.
 */
public final class CpuBackend implements Backend {
    private final boolean simd;

    public CpuBackend(boolean simd) {
        this.simd = simd;
    }

    @Override
    public String name() {
        return simd ? "panama" : "scalar";
    }

    @Override
    public void gemmNN(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        if (simd) GemmSimd.nn(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc); else GemmScalar.nn(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmNT(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        if (simd) GemmSimd.nt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc); else GemmScalar.nt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmTN(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb, float beta, MemorySegment c, long cOff, int ldc) {
        if (simd) GemmSimd.tn(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc); else GemmScalar.tn(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** Vector API: its k block depth; scalar twin: k (one running sum per output, rounded once into C). */
    @Override
    public int gemmTnSplit(int k) {
        return simd ? GemmSimd.tnBlock(k) : k;
    }

    @Override
    public void scoreTopK(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int k, int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        if (simd) TopKSimd.scoreTopK(m, n, d, u, uOff, ldu, items, iOff, ldi, k, excludePtr, excludeIdx, outIdx, outScore); else TopKScalar.scoreTopK(m, n, d, u, uOff, ldu, items, iOff, ldi, k, excludePtr, excludeIdx, outIdx, outScore);
    }

    @Override
    public void selectTopK(int m, int n, MemorySegment scores, long sOff, int lds, int k, int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore) {
        if (simd) TopKSimd.selectTopK(m, n, scores, sOff, lds, k, excludePtr, excludeIdx, outIdx, outScore); else TopKScalar.selectTopK(m, n, scores, sOff, lds, k, excludePtr, excludeIdx, outIdx, outScore);
    }

    @Override
    public void gatherDot(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] out) {
        if (simd) SubsetCeSimd.gatherDot(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, out); else SubsetCeScalar.gatherDot(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, out);
    }

    @Override
    public void gatherDotBackward(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] g, MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        if (simd) SubsetCeSimd.gatherDotBackward(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, g, du, duOff, lddu, di, diOff, lddi); else SubsetCeScalar.gatherDotBackward(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, g, du, duOff, lddu, di, diOff, lddi);
    }

    @Override
    public void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, float[] teacherLogits, float tau, float[] rowScale, float[] loss, float[] gradLogits, float[] studentLogits) {
        if (simd) SubsetCeSimd.softCe(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, teacherLogits, tau, rowScale, loss, gradLogits, studentLogits); else SubsetCeScalar.softCe(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, teacherLogits, tau, rowScale, loss, gradLogits, studentLogits);
    }

    @Override
    public void pairSoftCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx, int[] a, int[] b, float[] target, float[] wA, float[] wB, float tau, float[] loss, float[] grad, MemorySegment gu, long guOff, int ldgu) {
        if (simd) PairCeSimd.softCe(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad, gu, guOff, ldgu); else PairCeScalar.softCe(m, d, u, uOff, ldu, items, iOff, ldi, ptr, idx, a, b, target, wA, wB, tau, loss, grad, gu, guOff, ldgu);
    }

    @Override
    public void pairTargets(int m, int[] ptr, int[] a, int[] b, float[] teacherLogits, float tau, float[] wA, float[] wB, float[] target) {
        if (simd) PairCeSimd.targets(m, ptr, a, b, teacherLogits, tau, wA, wB, target); else PairCeScalar.targets(m, ptr, a, b, teacherLogits, tau, wA, wB, target);
    }

    @Override
    public void softCeLogits(int m, int[] ptr, float[] studentLogits, float[] teacherLogits, float tau, float[] rowScale, float[] loss, float[] gradLogits) {
        if (simd) SubsetCeSimd.softCeLogits(m, ptr, studentLogits, teacherLogits, tau, rowScale, loss, gradLogits); else SubsetCeScalar.softCeLogits(m, ptr, studentLogits, teacherLogits, tau, rowScale, loss, gradLogits);
    }

    @Override
    public void softmaxCeForward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] loss, float[] lse) {
        if (simd) SoftmaxCeSimd.forward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse); else SoftmaxCeScalar.forward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, loss, lse);
    }

    @Override
    public void softmaxCeBackward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, float scale, int[] target, float[] lse, float[] gLoss, MemorySegment du, long duOff, int lddu, MemorySegment di, long diOff, int lddi) {
        if (simd) SoftmaxCeSimd.backward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi); else SoftmaxCeScalar.backward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, lse, gLoss, du, duOff, lddu, di, diOff, lddi);
    }

    @Override
    public void softmaxCeRowsInPlace(int m, int n, MemorySegment logits, long off, int ld, int[] target, float[] gradScale, float[] loss) {
        if (simd) SoftmaxCeSimd.rowsInPlace(m, n, logits, off, ld, target, gradScale, loss); else SoftmaxCeScalar.rowsInPlace(m, n, logits, off, ld, target, gradScale, loss);
    }

    @Override
    public void softmaxCeScores(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, float scale, int[] target, int k, int[] topIds, float[] topScores, MemorySegment logits, long off, int ld, float[] loss) {
        if (simd) SoftmaxCeFused.forward(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, k, topIds, topScores, logits, off, ld, loss);
        else Backend.super.softmaxCeScores(m, n, d, u, uOff, ldu, items, iOff, ldi, scale, target, k, topIds, topScores, logits, off, ld, loss);
    }

    @Override
    public void sampledSoftmax(int m, float[] pos, int[] negPtr, float[] neg, float negScale, float[] rowScale, float[] loss, float[] gPos, float[] gNeg) {
        if (simd) SoftmaxCeSimd.sampled(m, pos, negPtr, neg, negScale, rowScale, loss, gPos, gNeg); else SoftmaxCeScalar.sampled(m, pos, negPtr, neg, negScale, rowScale, loss, gPos, gNeg);
    }

    @Override
    public void spmm(int m, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx, float beta, MemorySegment y, long yOff, int ldy) {
        if (simd) SpmmSimd.spmm(m, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy); else SpmmScalar.spmm(m, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy);
    }

    @Override
    public void spmmT(int m, int n, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx, float beta, MemorySegment y, long yOff, int ldy) {
        if (simd) SpmmSimd.spmmT(m, n, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy); else SpmmScalar.spmmT(m, n, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy);
    }

    @Override
    public void spmmRows(int nRows, int[] rows, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx, float beta, MemorySegment y, long yOff, int ldy) {
        if (simd) SpmmSimd.spmmRows(nRows, rows, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy); else SpmmScalar.spmmRows(nRows, rows, d, ptr, col, val, x, xOff, ldx, beta, y, yOff, ldy);
    }

    @Override
    public void gather(int n, int d, int[] idx, MemorySegment table, long tOff, int ldt, MemorySegment out, long oOff, int ldo) {
        if (simd) EmbeddingSimd.gather(n, d, idx, table, tOff, ldt, out, oOff, ldo); else EmbeddingScalar.gather(n, d, idx, table, tOff, ldt, out, oOff, ldo);
    }

    @Override
    public void scatterAdd(int n, int d, int[] idx, MemorySegment src, long sOff, int lds, MemorySegment table, long tOff, int ldt) {
        if (simd) EmbeddingSimd.scatterAdd(n, d, idx, src, sOff, lds, table, tOff, ldt); else EmbeddingScalar.scatterAdd(n, d, idx, src, sOff, lds, table, tOff, ldt);
    }

    @Override
    public void rowDot(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb, float[] out) {
        if (simd) EmbeddingSimd.rowDot(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, out); else EmbeddingScalar.rowDot(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, out);
    }

    @Override
    public void rowDotBackward(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb, float[] g, MemorySegment da, long daOff, int ldda, MemorySegment db, long dbOff, int lddb) {
        if (simd) EmbeddingSimd.rowDotBackward(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, g, da, daOff, ldda, db, dbOff, lddb); else EmbeddingScalar.rowDotBackward(n, d, ia, a, aOff, lda, ib, b, bOff, ldb, g, da, daOff, ldda, db, dbOff, lddb);
    }

    @Override
    public void adam(long n, MemorySegment p, long pOff, MemorySegment g, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        if (simd) AdamSimd.step(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t); else AdamScalar.step(n, p, pOff, g, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
    }

    @Override
    public void adamRows(int nRows, int[] rows, int d, MemorySegment p, long pOff, int ldp, MemorySegment g, long gOff, int ldg, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, int t) {
        if (simd) AdamSimd.stepRows(nRows, rows, d, p, pOff, ldp, g, gOff, ldg, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t); else AdamScalar.stepRows(nRows, rows, d, p, pOff, ldp, g, gOff, ldg, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, t);
    }

    @Override
    public void fill(long n, MemorySegment y, long yOff, float v) {
        if (simd) VecSimd.fill(n, y, yOff, v); else VecScalar.fill(n, y, yOff, v);
    }

    @Override
    public void copy(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) VecSimd.copy(n, x, xOff, y, yOff); else VecScalar.copy(n, x, xOff, y, yOff);
    }

    @Override
    public void add(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        if (simd) VecSimd.add(n, a, aOff, b, bOff, out, oOff); else VecScalar.add(n, a, aOff, b, bOff, out, oOff);
    }

    @Override
    public void sub(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        if (simd) VecSimd.sub(n, a, aOff, b, bOff, out, oOff); else VecScalar.sub(n, a, aOff, b, bOff, out, oOff);
    }

    @Override
    public void mul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff) {
        if (simd) VecSimd.mul(n, a, aOff, b, bOff, out, oOff); else VecScalar.mul(n, a, aOff, b, bOff, out, oOff);
    }

    @Override
    public void scale(long n, float alpha, MemorySegment x, long xOff, MemorySegment out, long oOff) {
        if (simd) VecSimd.scale(n, alpha, x, xOff, out, oOff); else VecScalar.scale(n, alpha, x, xOff, out, oOff);
    }

    @Override
    public void axpy(long n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) VecSimd.axpy(n, alpha, x, xOff, y, yOff); else VecScalar.axpy(n, alpha, x, xOff, y, yOff);
    }

    @Override
    public void addMul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment y, long yOff) {
        if (simd) VecSimd.addMul(n, a, aOff, b, bOff, y, yOff); else VecScalar.addMul(n, a, aOff, b, bOff, y, yOff);
    }

    @Override
    public double sum(long n, MemorySegment x, long xOff) {
        return simd ? VecSimd.sum(n, x, xOff) : VecScalar.sum(n, x, xOff);
    }

    @Override
    public double dot(long n, MemorySegment a, long aOff, MemorySegment b, long bOff) {
        return simd ? VecSimd.dot(n, a, aOff, b, bOff) : VecScalar.dot(n, a, aOff, b, bOff);
    }

    @Override
    public boolean allFinite(long n, MemorySegment x, long xOff) {
        return simd ? VecSimd.allFinite(n, x, xOff) : VecScalar.allFinite(n, x, xOff);
    }

    @Override
    public float rowMax(int n, float[] x, int off) {
        return simd ? RowPassSimd.max(n, x, off) : RowPassScalar.max(n, x, off);
    }

    @Override
    public void rowClamp(int n, float[] x, int off, float clip) {
        if (simd) RowPassSimd.clamp(n, x, off, clip); else RowPassScalar.clamp(n, x, off, clip);
    }

    @Override
    public double rowExpSum(int n, float[] x, int off, float shift) {
        return simd ? RowPassSimd.expSum(n, x, off, shift) : RowPassScalar.expSum(n, x, off, shift);
    }

    @Override
    public double rowDot(int n, float[] a, int aOff, float[] b, int bOff) {
        return simd ? RowPassSimd.dot(n, a, aOff, b, bOff) : RowPassScalar.dot(n, a, aOff, b, bOff);
    }

    @Override
    public void rowExpAxpy(int n, float alpha, float[] x, int off, float shift, float[] y, int yOff) {
        if (simd) RowPassSimd.expAxpy(n, alpha, x, off, shift, y, yOff); else RowPassScalar.expAxpy(n, alpha, x, off, shift, y, yOff);
    }

    @Override
    public void rowZeroOutside(int n, float[] raw, int off, float clip, float[] y, int yOff) {
        if (simd) RowPassSimd.zeroOutside(n, raw, off, clip, y, yOff); else RowPassScalar.zeroOutside(n, raw, off, clip, y, yOff);
    }

    @Override
    public void sigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) ActivationSimd.sigmoid(n, x, xOff, y, yOff); else ActivationScalar.sigmoid(n, x, xOff, y, yOff);
    }

    @Override
    public void sigmoidBackward(long n, MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        if (simd) ActivationSimd.sigmoidBackward(n, y, yOff, gy, gyOff, gx, gxOff); else ActivationScalar.sigmoidBackward(n, y, yOff, gy, gyOff, gx, gxOff);
    }

    @Override
    public void logSigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) ActivationSimd.logSigmoid(n, x, xOff, y, yOff); else ActivationScalar.logSigmoid(n, x, xOff, y, yOff);
    }

    @Override
    public void logSigmoidBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        if (simd) ActivationSimd.logSigmoidBackward(n, x, xOff, gy, gyOff, gx, gxOff); else ActivationScalar.logSigmoidBackward(n, x, xOff, gy, gyOff, gx, gxOff);
    }

    @Override
    public void relu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) ActivationSimd.relu(n, x, xOff, y, yOff); else ActivationScalar.relu(n, x, xOff, y, yOff);
    }

    @Override
    public void reluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        if (simd) ActivationSimd.reluBackward(n, x, xOff, gy, gyOff, gx, gxOff); else ActivationScalar.reluBackward(n, x, xOff, gy, gyOff, gx, gxOff);
    }

    @Override
    public void silu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        if (simd) ActivationSimd.silu(n, x, xOff, y, yOff); else ActivationScalar.silu(n, x, xOff, y, yOff);
    }

    @Override
    public void siluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff) {
        if (simd) ActivationSimd.siluBackward(n, x, xOff, gy, gyOff, gx, gxOff); else ActivationScalar.siluBackward(n, x, xOff, gy, gyOff, gx, gxOff);
    }

    @Override
    public void attentionMapForward(int n, MemorySegment z, long zOff, MemorySegment w, long wc, float alpha, MemorySegment a, long aOff) {
        if (simd) AttentionMapSimd.forward(n, z, zOff, w, wc, alpha, a, aOff); else AttentionMapScalar.forward(n, z, zOff, w, wc, alpha, a, aOff);
    }

    @Override
    public void attentionMapBackward(int n, MemorySegment z, long zOff, float alpha, MemorySegment g, long gOff, MemorySegment dz, long dzOff) {
        if (simd) AttentionMapSimd.backward(n, z, zOff, alpha, g, gOff, dz, dzOff); else AttentionMapScalar.backward(n, z, zOff, alpha, g, gOff, dz, dzOff);
    }

    @Override
    public void dropout(long n, MemorySegment x, long xOff, MemorySegment y, long yOff, float p, long seed) {
        if (simd) DropoutSimd.forward(n, x, xOff, y, yOff, p, seed); else DropoutScalar.forward(n, x, xOff, y, yOff, p, seed);
    }

    @Override
    public void dropoutBackward(long n, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, float p, long seed) {
        if (simd) DropoutSimd.backward(n, gy, gyOff, gx, gxOff, p, seed); else DropoutScalar.backward(n, gy, gyOff, gx, gxOff, p, seed);
    }

    @Override
    public void layerNorm(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff, MemorySegment beta, long bOff, float eps, MemorySegment y, long yOff, int ldy, float[] mean, float[] rstd) {
        if (simd) LayerNormSimd.forward(rows, d, x, xOff, ldx, gamma, gOff, beta, bOff, eps, y, yOff, ldy, mean, rstd); else LayerNormScalar.forward(rows, d, x, xOff, ldx, gamma, gOff, beta, bOff, eps, y, yOff, ldy, mean, rstd);
    }

    @Override
    public void layerNormBackward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff, float[] mean, float[] rstd, MemorySegment dy, long dyOff, int lddy, MemorySegment dx, long dxOff, int lddx, MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff) {
        if (simd) LayerNormSimd.backward(rows, d, x, xOff, ldx, gamma, gOff, mean, rstd, dy, dyOff, lddy, dx, dxOff, lddx, dgamma, dgOff, dbeta, dbOff); else LayerNormScalar.backward(rows, d, x, xOff, ldx, gamma, gOff, mean, rstd, dy, dyOff, lddy, dx, dxOff, lddx, dgamma, dgOff, dbeta, dbOff);
    }

    @Override
    public void rfft(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment out, long oOff, int ldo) {
        if (simd) FftSimd.rfft(batch, n, x, xOff, ldx, out, oOff, ldo); else FftScalar.rfft(batch, n, x, xOff, ldx, out, oOff, ldo);
    }

    @Override
    public void irfft(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment x, long xOff, int ldx) {
        if (simd) FftSimd.irfft(batch, n, in, iOff, ldi, x, xOff, ldx); else FftScalar.irfft(batch, n, in, iOff, ldi, x, xOff, ldx);
    }

    @Override
    public void dct1(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy) {
        if (simd) FftSimd.dct1(batch, n, x, xOff, ldx, y, yOff, ldy); else FftScalar.dct1(batch, n, x, xOff, ldx, y, yOff, ldy);
    }
}

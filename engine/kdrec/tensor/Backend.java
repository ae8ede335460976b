package kdrec.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The compute operations the engine needs, one method per kernel entry point, with the kernels'
 * flat signatures (segments + element offsets + leading dimensions; int[] for indices; CSR for
 * ragged sets). {@link CpuBackend} binds them to the scalar twins or the Vector API kernels;
 * {@link Backends#get()} picks one once per JVM.
 */
public interface Backend {
    /** "scalar" or "panama" (the CUDA backend will add "cuda"). */
    String name();

    // ---- GEMM: C = alpha * op(A) . op(B) + beta * C (beta == 0: C not read) ----
    void gemmNN(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                float beta, MemorySegment c, long cOff, int ldc);

    void gemmNT(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                float beta, MemorySegment c, long cOff, int ldc);

    void gemmTN(int m, int n, int k, float alpha, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                float beta, MemorySegment c, long cOff, int ldc);

    /**
     * The reduction split of {@link #gemmTN} that reproduces one call: a TN product over k rows done as
     * calls over consecutive row ranges of this length (the last one shorter), accumulating with
     * beta = 1, gives C bit for bit as one call with beta = 1. k itself where only the whole call does.
     */
    int gemmTnSplit(int k);

    // ---- top-K ----
    void scoreTopK(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int k,
                   int[] excludePtr, int[] excludeIdx, int[] outIdx, float[] outScore);

    void selectTopK(int m, int n, MemorySegment scores, long sOff, int lds, int k, int[] excludePtr, int[] excludeIdx,
                    int[] outIdx, float[] outScore);

    // ---- subset soft-CE and gather-dot ----
    void gatherDot(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                   int[] ptr, int[] idx, float[] out);

    void gatherDotBackward(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                           int[] ptr, int[] idx, float[] g, MemorySegment du, long duOff, int lddu,
                           MemorySegment di, long diOff, int lddi);

    void softCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx,
                float[] teacherLogits, float tau, float[] rowScale, float[] loss, float[] gradLogits, float[] studentLogits);

    void softCeLogits(int m, int[] ptr, float[] studentLogits, float[] teacherLogits, float tau, float[] rowScale,
                      float[] loss, float[] gradLogits);

    /** Two overlapping soft-CE sets per row over one item list (RCE-KD); see kdrec.cpu.PairCeScalar. */
    void pairSoftCe(int m, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi, int[] ptr, int[] idx,
                    int[] a, int[] b, float[] target, float[] wA, float[] wB, float tau, float[] loss, float[] grad,
                    MemorySegment gu, long guOff, int ldgu);

    /** The per-entry teacher targets of {@link #pairSoftCe} from teacher logits. */
    void pairTargets(int m, int[] ptr, int[] a, int[] b, float[] teacherLogits, float tau, float[] wA, float[] wB, float[] target);

    // ---- full and sampled softmax CE ----
    void softmaxCeForward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                          float scale, int[] target, float[] loss, float[] lse);

    void softmaxCeBackward(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff, int ldi,
                           float scale, int[] target, float[] lse, float[] gLoss, MemorySegment du, long duOff, int lddu,
                           MemorySegment di, long diOff, int lddi);

    void softmaxCeRowsInPlace(int m, int n, MemorySegment logits, long off, int ld, int[] target, float[] gradScale, float[] loss);

    /**
     * The materialised full-softmax CE forward: logits = scale * U.I^T (m x n at off, leading dim ld);
     * when k &gt; 0 each row's top-k items by logit into topIds/topScores; then the rows' CE with
     * target: loss, and the gradient softmax - onehot left in logits. Same results as gemmNT + selectTopK
     * + softmaxCeRowsInPlace (this default); a backend may fuse them so the logits go to memory once.
     */
    default void softmaxCeScores(int m, int n, int d, MemorySegment u, long uOff, int ldu, MemorySegment items, long iOff,
                                 int ldi, float scale, int[] target, int k, int[] topIds, float[] topScores,
                                 MemorySegment logits, long off, int ld, float[] loss) {
        gemmNT(m, n, d, scale, u, uOff, ldu, items, iOff, ldi, 0f, logits, off, ld);
        if (k > 0) selectTopK(m, n, logits, off, ld, k, null, null, topIds, topScores);
        softmaxCeRowsInPlace(m, n, logits, off, ld, target, null, loss);
    }

    void sampledSoftmax(int m, float[] pos, int[] negPtr, float[] neg, float negScale, float[] rowScale,
                        float[] loss, float[] gPos, float[] gNeg);

    // ---- sparse ----
    void spmm(int m, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
              float beta, MemorySegment y, long yOff, int ldy);

    void spmmT(int m, int n, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
               float beta, MemorySegment y, long yOff, int ldy);

    void spmmRows(int nRows, int[] rows, int d, int[] ptr, int[] col, float[] val, MemorySegment x, long xOff, int ldx,
                  float beta, MemorySegment y, long yOff, int ldy);

    // ---- embedding ----
    void gather(int n, int d, int[] idx, MemorySegment table, long tOff, int ldt, MemorySegment out, long oOff, int ldo);

    void scatterAdd(int n, int d, int[] idx, MemorySegment src, long sOff, int lds, MemorySegment table, long tOff, int ldt);

    void rowDot(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb, float[] out);

    void rowDotBackward(int n, int d, int[] ia, MemorySegment a, long aOff, int lda, int[] ib, MemorySegment b, long bOff, int ldb,
                        float[] g, MemorySegment da, long daOff, int ldda, MemorySegment db, long dbOff, int lddb);

    // ---- optimizer ----
    void adam(long n, MemorySegment p, long pOff, MemorySegment g, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff,
              float lr, float beta1, float beta2, float eps, float weightDecay, int t);

    void adamRows(int nRows, int[] rows, int d, MemorySegment p, long pOff, int ldp, MemorySegment g, long gOff, int ldg,
                  MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps,
                  float weightDecay, int t);

    // ---- vector ops ----
    void fill(long n, MemorySegment y, long yOff, float v);

    void copy(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void add(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff);

    void sub(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff);

    void mul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment out, long oOff);

    void scale(long n, float alpha, MemorySegment x, long xOff, MemorySegment out, long oOff);

    void axpy(long n, float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void addMul(long n, MemorySegment a, long aOff, MemorySegment b, long bOff, MemorySegment y, long yOff);

    double sum(long n, MemorySegment x, long xOff);

    double dot(long n, MemorySegment a, long aOff, MemorySegment b, long bOff);

    boolean allFinite(long n, MemorySegment x, long xOff);

    // ---- passes over one float row (the whole-catalogue listwise losses; single-threaded, callers run rows in parallel) ----
    /** max of x[off, off+n); -Inf for n = 0. */
    float rowMax(int n, float[] x, int off);

    /** x = clamp(x, -clip, clip) in place. */
    void rowClamp(int n, float[] x, int off, float clip);

    /** sum of e^(x[i] - shift), shift >= max(x); -Inf entries add 0. */
    double rowExpSum(int n, float[] x, int off, float shift);

    /** sum of a[i] b[i], in double. */
    double rowDot(int n, float[] a, int aOff, float[] b, int bOff);

    /** y += alpha e^(x - shift), shift >= max(x). */
    void rowExpAxpy(int n, float alpha, float[] x, int off, float shift, float[] y, int yOff);

    /** y = 0 where raw is outside [-clip, clip] (the clamp's zero gradient). */
    void rowZeroOutside(int n, float[] raw, int off, float clip, float[] y, int yOff);

    // ---- activations (backward accumulates into gx) ----
    void sigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void sigmoidBackward(long n, MemorySegment y, long yOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);

    void logSigmoid(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void logSigmoidBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);

    void relu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void reluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);

    void silu(long n, MemorySegment x, long xOff, MemorySegment y, long yOff);

    void siluBackward(long n, MemorySegment x, long xOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff);

    // ---- one HSTU attention map (n x n): kdrec.cpu.AttentionMapScalar ----
    /** a = alpha * silu(z + bias) on and below the diagonal, +0 above; z keeps the biased scores there (undefined above); w null: no bias (wc: the table's centre). */
    void attentionMapForward(int n, MemorySegment z, long zOff, MemorySegment w, long wc, float alpha, MemorySegment a, long aOff);

    /** dz from g = dL/da through the mask, the scale and silu (z: the biased scores), +0 above the diagonal. */
    void attentionMapBackward(int n, MemorySegment z, long zOff, float alpha, MemorySegment g, long gOff, MemorySegment dz, long dzOff);

    // ---- dropout and layer norm ----
    void dropout(long n, MemorySegment x, long xOff, MemorySegment y, long yOff, float p, long seed);

    void dropoutBackward(long n, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, float p, long seed);

    void layerNorm(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff, MemorySegment beta, long bOff,
                   float eps, MemorySegment y, long yOff, int ldy, float[] mean, float[] rstd);

    void layerNormBackward(int rows, int d, MemorySegment x, long xOff, int ldx, MemorySegment gamma, long gOff, float[] mean, float[] rstd,
                           MemorySegment dy, long dyOff, int lddy, MemorySegment dx, long dxOff, int lddx,
                           MemorySegment dgamma, long dgOff, MemorySegment dbeta, long dbOff);

    // ---- spectral ----
    void rfft(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment out, long oOff, int ldo);

    void irfft(int batch, int n, MemorySegment in, long iOff, int ldi, MemorySegment x, long xOff, int ldx);

    void dct1(int batch, int n, MemorySegment x, long xOff, int ldx, MemorySegment y, long yOff, int ldy);
}

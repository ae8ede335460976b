package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.rand;
import static kdrec.gpu.ElemGpuSupport.seg;
import static org.junit.jupiter.api.Assertions.assertEquals;

import kdrec.cpu.LayerNormScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuLayerNorm against LayerNormScalar at the 1e-5: forward outputs and the saved mean / rstd,
 * backward dx, dgamma, dbeta (all accumulating into nonzero buffers), with and without gamma/beta,
 * with each backward output absent in turn, in-place forward; shapes from 1 x 1 through d = 4100
 * (more columns than threads per row block) and 4096 x 1024; leading dimensions > d and offsets;
 * no device memory leaked.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class LayerNormGpuTest extends GpuLeakChecked {
    /** {rows, d}. */
    private static final int[][] SHAPES = {{0, 8}, {1, 1}, {3, 31}, {5, 32}, {7, 33}, {4, 1021}, {3, 4100}, {300, 64},
        {GpuTestSizes.pick(4096, 256), 1024}};  // the large case: 4096 rows on a GPU, 256 on the emulated driver
    private static final float EPS = 1e-5f;

    /** Rows with a mean far from 0 (3 + row-dependent), so a one-pass variance would lose digits. */
    private static float[] matrix(long seed, int rows, int d, int ld, int off) {
        float[] a = rand(seed, off + Math.max(0, (rows - 1) * ld + d) + 3);
        for (int r = 0; r < rows; r++) for (int j = 0; j < d; j++) a[off + r * ld + j] += 3f + (r % 5);
        return a;
    }

    @Test
    void forwardMatchesCpu() {
        for (int[] s : SHAPES) {
            int rows = s[0], d = s[1];
            for (int variant = 0; variant < 3; variant++) {  // 0: gamma+beta, 1: no affine, 2: gamma only
                int pad = variant == 0 ? 0 : 3, xOff = variant == 0 ? 0 : 5, yOff = variant == 0 ? 0 : 2, gOff = variant == 2 ? 1 : 0;
                int ldx = d + pad, ldy = d + 2 * pad;
                float[] x = matrix(rows * 31L + d, rows, d, ldx, xOff);
                float[] y = rand(rows + d, yOff + Math.max(0, (rows - 1) * ldy + d) + 3);
                float[] gamma = variant == 1 ? null : rand(d, gOff + d + 1, 0.5f, 1.5f, false);
                float[] beta = variant == 0 ? rand(d + 1L, d) : null;
                float[] wantY = y.clone(), wantMean = new float[rows], wantRstd = new float[rows];
                LayerNormScalar.forward(rows, d, seg(x), xOff, ldx, gamma == null ? null : seg(gamma), gOff,
                        beta == null ? null : seg(beta), 0, EPS, seg(wantY), yOff, ldy, wantMean, wantRstd);
                String what = "forward rows=" + rows + " d=" + d + " ldx=" + ldx + " ldy=" + ldy + " offsets " + xOff + "," + yOff
                        + (gamma == null ? " no gamma" : "") + (beta == null ? " no beta" : "");
                try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.upload(y);
                     DeviceBuffer dg = gamma == null ? null : cuda.upload(gamma); DeviceBuffer db = beta == null ? null : cuda.upload(beta);
                     DeviceBuffer dm = cuda.allocElements(rows); DeviceBuffer dr = cuda.allocElements(rows)) {
                    GpuLayerNorm.forward(cuda, rows, d, dx, xOff, ldx, dg, gOff, db, 0, EPS, dy, yOff, ldy, dm, dr);
                    GpuAssert.assertClose(wantY, cuda.downloadFloats(dy, y.length), what + ": y");
                    GpuAssert.assertClose(wantMean, cuda.downloadFloats(dm, rows), what + ": mean");
                    GpuAssert.assertClose(wantRstd, cuda.downloadFloats(dr, rows), what + ": rstd");
                    // In place: y is the very range of x.
                    float[] wantIp = x.clone();
                    LayerNormScalar.forward(rows, d, seg(wantIp), xOff, ldx, gamma == null ? null : seg(gamma), gOff,
                            beta == null ? null : seg(beta), 0, EPS, seg(wantIp), xOff, ldx, new float[rows], new float[rows]);
                    GpuLayerNorm.forward(cuda, rows, d, dx, xOff, ldx, dg, gOff, db, 0, EPS, dx, xOff, ldx, dm, dr);
                    GpuAssert.assertClose(wantIp, cuda.downloadFloats(dx, x.length), what + ": in place");
                }
            }
        }
    }

    @Test
    void backwardMatchesCpu() {
        for (int[] s : SHAPES) {
            int rows = s[0], d = s[1];
            // 0: all outputs, gamma; 1: no gamma, all outputs; 2: dx only; 3: dgamma only; 4: dbeta only
            for (int variant = 0; variant < 5; variant++) {
                int pad = variant % 2 == 0 ? 3 : 0, off = variant % 2 == 0 ? 4 : 0;
                int ldx = d + pad, lddy = d + 1, lddx = d + 2 * pad;
                float[] x = matrix(rows * 13L + d + variant, rows, d, ldx, off);
                float[] gamma = variant == 1 ? null : rand(d + 7L, d + 2, 0.5f, 1.5f, false);
                float[] mean = new float[rows], rstd = new float[rows];
                float[] yScratch = new float[Math.max(1, rows * d)];
                LayerNormScalar.forward(rows, d, seg(x), off, ldx, null, 0, null, 0, EPS, seg(yScratch), 0, d, mean, rstd);
                float[] dyv = rand(rows + 3L * d, 1 + Math.max(0, (rows - 1) * lddy + d));
                boolean wantDx = variant <= 2, wantDg = variant <= 1 || variant == 3, wantDb = variant <= 1 || variant == 4;
                float[] dx0 = rand(11L + rows, off + Math.max(0, (rows - 1) * lddx + d) + 1);
                float[] dg0 = rand(12L + d, d + 1), db0 = rand(13L + d, d + 2);
                float[] wDx = dx0.clone(), wDg = dg0.clone(), wDb = db0.clone();
                LayerNormScalar.backward(rows, d, seg(x), off, ldx, gamma == null ? null : seg(gamma), 2, mean, rstd,
                        seg(dyv), 1, lddy, wantDx ? seg(wDx) : null, off, lddx, wantDg ? seg(wDg) : null, 1, wantDb ? seg(wDb) : null, 2);
                String what = "backward rows=" + rows + " d=" + d + " variant " + variant + " (ldx=" + ldx + " lddy=" + lddy + " lddx=" + lddx
                        + (gamma == null ? ", no gamma" : "") + ")";
                try (DeviceBuffer gx = cuda.upload(x); DeviceBuffer gg = gamma == null ? null : cuda.upload(gamma);
                     DeviceBuffer gm = cuda.upload(mean); DeviceBuffer gr = cuda.upload(rstd); DeviceBuffer gdy = cuda.upload(dyv);
                     DeviceBuffer gdx = cuda.upload(dx0); DeviceBuffer gdg = cuda.upload(dg0); DeviceBuffer gdb = cuda.upload(db0)) {
                    GpuLayerNorm.backward(cuda, rows, d, gx, off, ldx, gg, 2, gm, gr, gdy, 1, lddy,
                            wantDx ? gdx : null, off, lddx, wantDg ? gdg : null, 1, wantDb ? gdb : null, 2);
                    GpuAssert.assertClose(wDx, cuda.downloadFloats(gdx, dx0.length), what + ": dx");
                    GpuAssert.assertClose(wDg, cuda.downloadFloats(gdg, dg0.length), what + ": dgamma");
                    GpuAssert.assertClose(wDb, cuda.downloadFloats(gdb, db0.length), what + ": dbeta");
                }
            }
        }
    }

    /**
     * L2 rows against Norm.l2Rows on the tape: y, and dx accumulated into a nonzero buffer; rows of every
     * size class, a zero row and a row below eps (clamped: the projection is dropped), leading dims > d.
     */
    @Test
    void l2RowsMatchTheTape() {
        float eps = 1e-6f;
        for (int[] s : new int[][] {{0, 8}, {1, 1}, {3, 8}, {37, 33}, {300, 64}, {5, 600}}) {
            int rows = s[0], d = s[1], ld = d + 3;
            float[] x = rand(rows * 7L + d, Math.max(1, rows * d));
            if (rows > 2) {
                java.util.Arrays.fill(x, 0, d, 0f);                            // zero row
                for (int j = 0; j < d; j++) x[d + j] = 1e-8f * (j % 3 - 1);    // norm below eps
            }
            float[] dy = rand(rows + 5L * d, Math.max(1, rows * d));
            float[] wantY, wantDx = rand(9L + rows, Math.max(1, rows * d));
            float[] dx0 = wantDx.clone();
            try (kdrec.autograd.Tape t = new kdrec.autograd.Tape()) {
                kdrec.autograd.Var xv = kdrec.autograd.Var.leaf("x", kdrec.tensor.Tensor.of(java.util.Arrays.copyOf(x, rows * d), rows, d));
                kdrec.autograd.Var y = kdrec.autograd.Norm.l2Rows(t, xv, eps);
                wantY = y.value().toArray();
                if (rows > 0) {
                    t.backward(y, kdrec.tensor.Tensor.of(java.util.Arrays.copyOf(dy, rows * d), rows, d));
                    float[] g = xv.grad().toArray();
                    for (int i2 = 0; i2 < g.length; i2++) wantDx[i2] += g[i2];
                }
            }
            // the device operands with leading dim ld (x, y) and d (dy, dx)
            float[] xs = new float[Math.max(1, rows * ld)];
            for (int r = 0; r < rows; r++) System.arraycopy(x, r * d, xs, r * ld, d);
            String what = "l2Rows rows=" + rows + " d=" + d;
            try (DeviceBuffer gx = cuda.upload(xs); DeviceBuffer gy = cuda.allocElements(Math.max(1, rows * ld)); DeviceBuffer gn = cuda.allocElements(Math.max(1, rows));
                 DeviceBuffer gdy = cuda.upload(dy); DeviceBuffer gdx = cuda.upload(dx0)) {
                GpuLayerNorm.l2Rows(cuda, rows, d, gx, 0, ld, eps, gy, 0, ld, gn);
                float[] y = cuda.downloadFloats(gy, Math.max(1, rows * ld)), yc = new float[rows * d];
                for (int r = 0; r < rows; r++) System.arraycopy(y, r * ld, yc, r * d, d);
                GpuAssert.assertClose(wantY, yc, what + ": y");
                GpuLayerNorm.l2RowsBackward(cuda, rows, d, gx, 0, ld, gy, 0, ld, gn, eps, gdy, 0, d, gdx, 0, d);
                GpuAssert.assertClose(wantDx, cuda.downloadFloats(gdx, dx0.length), what + ": dx");
            }
        }
    }
}

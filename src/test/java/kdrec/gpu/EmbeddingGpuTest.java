package kdrec.gpu;

import static kdrec.gpu.SparseGpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import kdrec.cpu.EmbeddingScalar;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuEmbedding against kdrec.cpu.EmbeddingScalar over n = 0, 1, 31, 32, 33, 1021 and a large batch,
 * d = 1, 20, 64, 300 (rowDot also d = 0), aligned and unaligned offsets / leading dims. gather is a
 * copy: bit-exact. scatterAdd and rowDotBackward use float atomics: with duplicate indices (most
 * cases here) the order of additions varies, so they are checked at the fp32 tolerance; with
 * distinct indices they are documented bit-identical to the CPU and checked so. The planned
 * (host-sorted) scatterAdd is checked bit-identical to the CPU in every case, duplicates included. rowDot sums in a
 * shuffle tree (tolerance). Elements outside each output block must come back unchanged.
 * Argument checks: SparseArgsTest (no GPU needed).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class EmbeddingGpuTest {
    private static final int[] SIZES = {0, 1, 31, 32, 33, 1021};
    private static final int[] DIMS = {1, 20, 64, 300};
    private static final int LARGE = 50_000;
    /** (input offset, input ld extra, output offset, output ld extra). */
    private static final int[][] LAYOUTS = {{0, 0, 0, 0}, {3, 5, 7, 3}};

    @Test
    void gatherIsAnExactCopy() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 1;
        for (int n : SIZES) for (int d : DIMS) for (int[] lay : LAYOUTS) runGather(cuda, seed++, n, d, 97, lay);
        runGather(cuda, 50, LARGE, 64, 20_000, LAYOUTS[1]);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runGather(Cuda cuda, long seed, int n, int d, int rows, int[] lay) {
        int tOff = lay[0], ldt = d + lay[1], oOff = lay[2], ldo = d + lay[3];
        int[] idx = indices(seed, n, rows);
        float[] table = uniform(seed + 1, span(tOff, rows, d, ldt));
        float[] out0 = uniform(seed + 2, span(oOff, n, d, ldo));
        float[] expected = out0.clone();
        EmbeddingScalar.gather(n, d, idx, seg(table.clone()), tOff, ldt, seg(expected), oOff, ldo);
        try (DeviceBuffer di = cuda.upload(idx); DeviceBuffer dt = cuda.upload(table); DeviceBuffer dout = cuda.upload(out0)) {
            GpuEmbedding.gather(cuda, n, d, di, dt, tOff, ldt, dout, oOff, ldo);
            assertBitEqual("gather n=" + n + " d=" + d + " rows=" + rows + " tOff=" + tOff + " ldt=" + ldt + " oOff=" + oOff + " ldo=" + ldo,
                    expected, cuda.downloadFloats(dout, out0.length));
        }
    }

    @Test
    void scatterAddAccumulatesDuplicates() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 100;
        for (int n : SIZES) {
            for (int d : DIMS) {
                for (int[] lay : LAYOUTS) {
                    // few rows: every row is hit ~4 times on average
                    runScatter(cuda, seed, n, d, n / 4 + 1, lay, false);
                    runScatter(cuda, seed++, n, d, n + 5, lay, true);
                }
            }
        }
        runScatter(cuda, 150, LARGE, 64, 1000, LAYOUTS[1], false);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runScatter(Cuda cuda, long seed, int n, int d, int rows, int[] lay, boolean distinct) {
        int sOff = lay[0], lds = d + lay[1], tOff = lay[2], ldt = d + lay[3];
        int[] idx = distinct ? distinct(seed, n, rows) : indices(seed, n, rows);
        float[] src = uniform(seed + 1, span(sOff, n, d, lds));
        float[] table0 = uniform(seed + 2, span(tOff, rows, d, ldt));
        float[] expected = table0.clone();
        EmbeddingScalar.scatterAdd(n, d, idx, seg(src.clone()), sOff, lds, seg(expected), tOff, ldt);
        String what = "scatterAdd n=" + n + " d=" + d + " rows=" + rows + (distinct ? " distinct" : " duplicates")
                + " sOff=" + sOff + " lds=" + lds + " tOff=" + tOff + " ldt=" + ldt;
        try (DeviceBuffer di = cuda.upload(idx); DeviceBuffer ds = cuda.upload(src); DeviceBuffer dt = cuda.upload(table0)) {
            GpuEmbedding.scatterAdd(cuda, n, d, di, ds, sOff, lds, dt, tOff, ldt);
            float[] got = cuda.downloadFloats(dt, table0.length);
            assertBlock(what, expected, got, tOff, rows, d, ldt);
            if (distinct) assertBitEqual(what + " (one atomic add per element: the CPU's rounding)", expected, got);
            // the planned path: deterministic and in the CPU's t order, so bit-identical with duplicates too
            cuda.upload(seg(table0), 0, dt, table0.length * 4L);
            try (GpuEmbedding.ScatterPlan plan = GpuEmbedding.ScatterPlan.of(cuda, n, idx)) {
                GpuEmbedding.scatterAdd(cuda, plan, d, ds, sOff, lds, dt, tOff, ldt);
            }
            assertBitEqual(what + " (planned)", expected, cuda.downloadFloats(dt, table0.length));
        }
    }

    @Test
    void rowDotMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 200;
        int[] dims = {0, 1, 20, 64, 300};
        for (int n : SIZES) {
            for (int d : dims) {
                for (int[] lay : LAYOUTS) {
                    for (int nulls = 0; nulls < 4; nulls++) runRowDot(cuda, seed++, n, d, lay, (nulls & 1) != 0, (nulls & 2) != 0);
                }
            }
        }
        runRowDot(cuda, 290, LARGE, 64, LAYOUTS[1], false, true);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runRowDot(Cuda cuda, long seed, int n, int d, int[] lay, boolean iaNull, boolean ibNull) {
        int aOff = lay[0], lda = d + lay[1], bOff = lay[2], ldb = d + lay[3];
        int ra = iaNull ? n : 53, rb = ibNull ? n : 71;
        int[] ia = iaNull ? null : indices(seed, n, ra), ib = ibNull ? null : indices(seed + 1, n, rb);
        float[] a = uniform(seed + 2, span(aOff, ra, d, lda)), b = uniform(seed + 3, span(bOff, rb, d, ldb));
        float[] out0 = new float[n + 3];
        Arrays.fill(out0, 7f);
        float[] expected = out0.clone();
        EmbeddingScalar.rowDot(n, d, ia, seg(a.clone()), aOff, lda, ib, seg(b.clone()), bOff, ldb, expected);
        String what = "rowDot n=" + n + " d=" + d + (iaNull ? " ia=identity" : "") + (ibNull ? " ib=identity" : "")
                + " aOff=" + aOff + " lda=" + lda + " bOff=" + bOff + " ldb=" + ldb;
        try (DeviceBuffer dia = ia == null ? null : cuda.upload(ia); DeviceBuffer dib = ib == null ? null : cuda.upload(ib);
             DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b); DeviceBuffer dout = cuda.upload(out0)) {
            GpuEmbedding.rowDot(cuda, n, d, dia, da, aOff, lda, dib, db, bOff, ldb, dout);
            assertBlock(what, expected, cuda.downloadFloats(dout, out0.length), 0, n, 1, 1);
        }
    }

    @Test
    void rowDotBackwardMatchesScalar() {
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 300;
        for (int n : SIZES) {
            for (int d : DIMS) {
                for (int[] lay : LAYOUTS) {
                    // which gradients: 0 both, 1 dA only, 2 dB only, 3 dA and dB the same table
                    for (int mode = 0; mode < 4; mode++) runBackward(cuda, seed++, n, d, lay, mode, mode == 1, false);
                    runBackward(cuda, seed++, n, d, lay, 0, true, true);
                }
            }
        }
        runBackward(cuda, 390, LARGE, 64, LAYOUTS[1], 0, false, false);
        runBackward(cuda, 391, LARGE, 20, LAYOUTS[0], 3, false, false);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runBackward(Cuda cuda, long seed, int n, int d, int[] lay, int mode, boolean iaNull, boolean ibNull) {
        int aOff = lay[0], lda = d + lay[1], bOff = lay[2], ldb = d + lay[3];
        int ra = iaNull ? n : 53, rb = ibNull ? n : 71;
        int[] ia = iaNull ? null : indices(seed, n, ra), ib = ibNull ? null : indices(seed + 1, n, rb);
        float[] a = uniform(seed + 2, span(aOff, ra, d, lda)), b = uniform(seed + 3, span(bOff, rb, d, ldb));
        float[] g = uniform(seed + 4, n);
        boolean same = mode == 3, wantA = mode != 2, wantB = mode != 1;
        // gradients: dA with A's row count, dB with B's (the same table when shared: max of both)
        int gRowsA = same ? Math.max(ra, rb) : ra, gRowsB = same ? gRowsA : rb;
        int daOff = 2, ldda = d + 1, dbOff = same ? daOff : 1, lddb = same ? ldda : d + 4;
        float[] da0 = uniform(seed + 5, span(daOff, gRowsA, d, ldda)), db0 = same ? da0 : uniform(seed + 6, span(dbOff, gRowsB, d, lddb));
        float[] eda = da0.clone(), edb = same ? eda : db0.clone();
        EmbeddingScalar.rowDotBackward(n, d, ia, seg(a.clone()), aOff, lda, ib, seg(b.clone()), bOff, ldb, g.clone(),
                wantA ? seg(eda) : null, daOff, ldda, wantB ? seg(edb) : null, dbOff, lddb);
        String what = "rowDotBackward n=" + n + " d=" + d + " " + new String[] {"dA+dB", "dA only", "dB only", "dA==dB"}[mode]
                + (iaNull ? " ia=identity" : "") + (ibNull ? " ib=identity" : "") + " aOff=" + aOff + " lda=" + lda
                + " bOff=" + bOff + " ldb=" + ldb;
        try (DeviceBuffer dia = ia == null ? null : cuda.upload(ia); DeviceBuffer dib = ib == null ? null : cuda.upload(ib);
             DeviceBuffer dA = cuda.upload(a); DeviceBuffer dB = cuda.upload(b); DeviceBuffer dg = cuda.upload(g);
             DeviceBuffer gA = cuda.upload(da0); DeviceBuffer gB = same ? null : cuda.upload(db0)) {
            DeviceBuffer gb = same ? gA : gB;
            GpuEmbedding.rowDotBackward(cuda, n, d, dia, dA, aOff, lda, dib, dB, bOff, ldb, dg,
                    wantA ? gA : null, daOff, ldda, wantB ? gb : null, dbOff, lddb);
            assertBlock(what + " (dA)", eda, cuda.downloadFloats(gA, da0.length), daOff, gRowsA, d, ldda);
            if (!same) assertBlock(what + " (dB)", edb, cuda.downloadFloats(gB, db0.length), dbOff, gRowsB, d, lddb);
        }
    }

    @Test
    void bprPairsEqualsTheUnfusedChain() {
        // the fused BPR launch against the eight launches it replaced: same log-sigmoids bit for bit, the same
        // gradients up to the order of float atomics (duplicate users and items here)
        Cuda cuda = CudaProbe.cuda();
        long before = cuda.allocatedBytes();
        long seed = 500;
        for (int n : SIZES) for (int d : DIMS) runBpr(cuda, seed++, n, d);
        runBpr(cuda, 590, LARGE, 20);
        assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
    }

    private static void runBpr(Cuda cuda, long seed, int n, int d) {
        int nu = 53, ni = 71;
        int[] users = indices(seed, n, nu), pos = indices(seed + 1, n, ni), neg = indices(seed + 2, n, ni);
        float[] u = uniform(seed + 3, nu * d), it = uniform(seed + 4, ni * d), du0 = uniform(seed + 5, nu * d), di0 = uniform(seed + 6, ni * d);
        String what = "bprPairs n=" + n + " d=" + d;
        try (DeviceBuffer du = cuda.upload(users); DeviceBuffer dp = cuda.upload(pos); DeviceBuffer dq = cuda.upload(neg);
             DeviceBuffer tu = cuda.upload(u); DeviceBuffer ti = cuda.upload(it);
             DeviceBuffer fusedU = cuda.upload(du0); DeviceBuffer fusedI = cuda.upload(di0); DeviceBuffer fusedLs = cuda.allocElements(Math.max(1, n));
             DeviceBuffer chainU = cuda.upload(du0); DeviceBuffer chainI = cuda.upload(di0); DeviceBuffer chainLs = cuda.allocElements(Math.max(1, n));
             DeviceBuffer sp = cuda.allocElements(Math.max(1, n)); DeviceBuffer sn = cuda.allocElements(Math.max(1, n));
             DeviceBuffer diff = cuda.allocElements(Math.max(1, n)); DeviceBuffer gy = cuda.allocElements(Math.max(1, n));
             DeviceBuffer gPos = cuda.allocElements(Math.max(1, n)); DeviceBuffer gNeg = cuda.allocElements(Math.max(1, n))) {
            GpuEmbedding.bprPairs(cuda, n, d, du, dp, dq, tu, ti, fusedLs, fusedU, fusedI);
            if (n > 0) { // DeviceBpr's former launches
                GpuEmbedding.rowDot(cuda, n, d, du, tu, 0, d, dp, ti, 0, d, sp);
                GpuEmbedding.rowDot(cuda, n, d, du, tu, 0, d, dq, ti, 0, d, sn);
                GpuVec.sub(cuda, n, sp, 0, sn, 0, diff, 0);
                GpuActivation.logSigmoid(cuda, n, diff, 0, chainLs, 0);
                GpuVec.fill(cuda, n, gy, 0, -1f);
                GpuVec.fill(cuda, n, gPos, 0, 0f);
                GpuActivation.logSigmoidBackward(cuda, n, diff, 0, gy, 0, gPos, 0);
                GpuVec.scale(cuda, n, -1f, gPos, 0, gNeg, 0);
                GpuEmbedding.rowDotBackward(cuda, n, d, du, tu, 0, d, dp, ti, 0, d, gPos, chainU, 0, d, chainI, 0, d);
                GpuEmbedding.rowDotBackward(cuda, n, d, du, tu, 0, d, dq, ti, 0, d, gNeg, chainU, 0, d, chainI, 0, d);
                assertBitEqual(what + " log-sigmoids", cuda.downloadFloats(chainLs, n), cuda.downloadFloats(fusedLs, n));
            }
            assertBlock(what + " (dU)", cuda.downloadFloats(chainU, du0.length), cuda.downloadFloats(fusedU, du0.length), 0, nu, d, d);
            assertBlock(what + " (dI)", cuda.downloadFloats(chainI, di0.length), cuda.downloadFloats(fusedI, di0.length), 0, ni, d, d);
        }
    }

    /** The input rows of padded sequences equal Attention.embed's bit for bit (scale, then add; padding rows 0). */
    @Test
    void sequenceRowsMatchTheTape() {
        Cuda cuda = CudaProbe.cuda();
        java.util.SplittableRandom r = new java.util.SplittableRandom(41);
        for (int[] s : new int[][] {{1, 1, 1}, {3, 7, 8}, {5, 50, 20}, {2, 4, 33}}) {
            int b = s[0], n = s[1], d = s[2], items = 17;
            float[] table = new float[items * d], pos = new float[n * d];
            for (int i = 0; i < table.length; i++) table[i] = (float) r.nextGaussian();
            for (int i = 0; i < pos.length; i++) pos[i] = (float) r.nextGaussian();
            int[] len = new int[b], ids = new int[b * n];
            for (int q = 0; q < b; q++) {
                len[q] = q == 0 ? n : r.nextInt(n + 1);
                for (int p = 0; p < n; p++) ids[q * n + p] = p < len[q] ? r.nextInt(items) : 999; // padding ids are not read
            }
            float scale = (float) Math.sqrt(d);
            float[] want;
            try (kdrec.autograd.Tape t = new kdrec.autograd.Tape(); var ng = t.noGrad()) {
                want = kdrec.autograd.Attention.embed(t, kdrec.autograd.Var.constant(kdrec.tensor.Tensor.of(table, items, d)),
                        kdrec.autograd.Var.constant(kdrec.tensor.Tensor.of(pos, n, d)), ids, len, n, scale).value().toArray();
            }
            try (DeviceBuffer gi = cuda.upload(ids); DeviceBuffer gl = cuda.upload(len); DeviceBuffer gt = cuda.upload(table);
                 DeviceBuffer gp = cuda.upload(pos); DeviceBuffer gx = cuda.allocElements((long) b * n * d)) {
                cuda.fill32(gx, (long) b * n * d, Float.floatToRawIntBits(Float.NaN)); // every element written
                GpuEmbedding.sequence(cuda, b, n, d, gi, gl, gt, gp, scale, gx);
                float[] got = cuda.downloadFloats(gx, b * n * d);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "b=" + b + " n=" + n + " d=" + d + " element " + i);
                }
            }
        }
    }
}

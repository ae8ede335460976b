package kdrec.gpu;

import static kdrec.gpu.ElemGpuSupport.assertBits;
import static kdrec.gpu.ElemGpuSupport.rand;

import kdrec.autograd.Activations;
import kdrec.autograd.Arith;
import kdrec.autograd.Attention;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.tensor.CpuBackend;
import kdrec.tensor.Scratch;
import kdrec.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GpuAttention against the CPU autograd chain of kdrec.model.Hstu (Attention.qk -> relativeBias ->
 * Activations.silu -> Arith.scale -> causalMask -> Attention.av, gradients by Tape.backward with dOut as
 * the seed) at the 1e-5 (GpuAssert, norm-wise): forward pre (the CPU's qk + rab, masked),
 * maps and out; backward dPre (the gradient of the relativeBias output), dq, dk, dv (overwritten: they
 * start as garbage) and drab (accumulated into a nonzero table). Shapes from 1 x 1 through the
 * production b = 128, n = 200, h = 2, dh = 64 (fewer sequences on the emulated driver), heads wide
 * enough for the global-memory path (dh = 160: row tiles only; dh = 200: both), q/k heads narrower and
 * wider than the v heads (HSTU's attention_dim != linear_dim; down to 1 against 33, and 16 against 256,
 * where the forward stages its rows and the dq pass does not, or the reverse), rab tables longer than
 * 2n-1, every buffer a view at an offset inside a larger one; the backward run twice gives the same
 * bits (no atomics); no device memory leaked. Argument checks: AttentionGpuArgsTest (no GPU needed).
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class AttentionGpuTest extends GpuLeakChecked {
    /** {b, n, h, dhQk (q/k head width), dhV (v head width), extra rab entries}. */
    private static final int[][] SHAPES = {{1, 1, 1, 1, 1, 0}, {2, 7, 2, 3, 3, 4}, {3, 33, 1, 16, 16, 0}, {2, 50, 2, 32, 32, 2},
        {1, 20, 1, 200, 200, 0}, {1, 70, 1, 160, 160, 6}, {GpuTestSizes.pick(128, 3), 200, 2, 64, 64, 0},
        {GpuTestSizes.pick(128, 4), 50, 1, 48, 48, 0},
        // q/k width != v width
        {2, 17, 2, 8, 16, 1}, {1, 33, 3, 16, 8, 0}, {2, 1, 1, 1, 33, 0}, {1, 17, 2, 33, 1, 2}, {2, 33, 1, 32, 64, 0},
        {1, 20, 1, 16, 256, 0}, {1, 20, 1, 256, 16, 0}, {1, 17, 3, 200, 160, 0}};

    /** The CPU chain's results for one problem. */
    private record Cpu(float[] pre, float[] maps, float[] out, float[] dPre, float[] dq, float[] dk, float[] dv, float[] drab) {}

    private static Cpu cpu(int b, int n, int h, int ldQk, int ldV, float[] q, float[] k, float[] v, float[] rab, float scale, float[] dOut) {
        try (Tape t = new Tape(new CpuBackend(false), new Scratch())) {
            Var qv = Var.leaf("q", Tensor.of(q, b * n, ldQk)), kv = Var.leaf("k", Tensor.of(k, b * n, ldQk));
            Var vv = Var.leaf("v", Tensor.of(v, b * n, ldV)), rv = Var.leaf("rab", Tensor.of(rab, rab.length));
            Var pre = Attention.relativeBias(t, Attention.qk(t, qv, kv, b, n, h), rv);
            Var maps = Attention.causalMask(t, Arith.scale(t, Activations.silu(t, pre), scale));
            Var out = Attention.av(t, maps, vv, b, n, h);
            t.backward(out, Tensor.of(dOut, b * n, ldV));
            float[] p = pre.value().toArray();
            for (int r = 0; r < b * h; r++)  // the GPU's pre is causal too
                for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) p[(r * n + i) * n + j] = 0f;
            return new Cpu(p, maps.value().toArray(), out.value().toArray(), pre.grad().toArray(), qv.grad().toArray(),
                    kv.grad().toArray(), vv.grad().toArray(), rv.grad().toArray());
        }
    }

    /** a, then `pad` garbage elements after it (the GPU buffers are views at an offset of a larger one). */
    private static float[] padded(int off, float[] a, int pad, long seed) {
        float[] g = rand(seed, off + a.length + pad);
        System.arraycopy(a, 0, g, off, a.length);
        return g;
    }

    /** The element before a view [off, off + len) of {@code buf} and the two after it still hold their initial values, rand(seed, off + len + 2). */
    private void assertNeighboursKept(DeviceBuffer buf, int off, int len, long seed, String what) {
        float[] all = cuda.downloadFloats(buf, off + len + 2), init = rand(seed, off + len + 2);
        assertBits(new float[] {init[off - 1], init[off + len], init[off + len + 1]}, new float[] {all[off - 1], all[off + len], all[off + len + 1]}, what);
    }

    private float[] down(DeviceBuffer buf, int off, int len) {
        float[] all = cuda.downloadFloats(buf, off + len);
        return java.util.Arrays.copyOfRange(all, off, off + len);
    }

    @Test
    void forwardAndBackwardMatchCpuChain() {
        for (int[] s : SHAPES) {
            int b = s[0], n = s[1], h = s[2], dhQk = s[3], dhV = s[4], ldQk = h * dhQk, ldV = h * dhV, rabLen = 2 * n - 1 + 2 * s[5];
            int rows = b * n * ldQk, rowsV = b * n * ldV, mapElems = b * h * n * n;  // rows: q, k, dq, dk; rowsV: v, out, dOut, dv
            long seed = 1000L * n + 10L * dhQk + 100_000L * dhV + h + 7L * b;
            float scale = 1f / n;
            float[] q = rand(seed, rows, -0.7f, 0.7f, false), k = rand(seed + 1, rows, -0.7f, 0.7f, false);
            float[] v = rand(seed + 2, rowsV, -1f, 1f, false), rab = rand(seed + 3, rabLen, -0.5f, 0.5f, false);
            float[] dOut = rand(seed + 4, rowsV, -1f, 1f, false), drab0 = rand(seed + 5, rabLen, -1f, 1f, false);
            Cpu want = cpu(b, n, h, ldQk, ldV, q, k, v, rab, scale, dOut);
            float[] wantDrab = drab0.clone();
            for (int e = 0; e < rabLen; e++) wantDrab[e] += want.drab[e];
            String what = "attention b=" + b + " n=" + n + " h=" + h + " dhQk=" + dhQk + " dhV=" + dhV + " rabLen=" + rabLen;
            final int o = 3;  // every operand lives at element 3 of its device buffer
            try (DeviceBuffer gq = cuda.upload(padded(o, q, 2, seed + 6)); DeviceBuffer gk = cuda.upload(padded(o, k, 2, seed + 7));
                 DeviceBuffer gv = cuda.upload(padded(o, v, 2, seed + 8)); DeviceBuffer gr = cuda.upload(padded(o, rab, 2, seed + 9));
                 DeviceBuffer gPre = cuda.upload(rand(seed + 10, o + mapElems + 2)); DeviceBuffer gMaps = cuda.upload(rand(seed + 11, o + mapElems + 2));
                 DeviceBuffer gOut = cuda.upload(rand(seed + 12, o + rowsV + 2)); DeviceBuffer gdOut = cuda.upload(padded(o, dOut, 2, seed + 13));
                 DeviceBuffer gdPre = cuda.upload(rand(seed + 14, o + mapElems + 2)); DeviceBuffer gdq = cuda.upload(rand(seed + 15, o + rows + 2));
                 DeviceBuffer gdk = cuda.upload(rand(seed + 16, o + rows + 2)); DeviceBuffer gdv = cuda.upload(rand(seed + 17, o + rowsV + 2));
                 DeviceBuffer gdrab = cuda.upload(padded(o, drab0, 2, seed + 18))) {
                GpuAttention.forward(cuda, b, n, h, gq.at(o), gk.at(o), ldQk, gv.at(o), ldV, gr.at(o), rabLen, scale, gPre.at(o), gMaps.at(o),
                        gOut.at(o));
                GpuAssert.assertClose(want.pre, down(gPre, o, mapElems), what + ": pre");
                GpuAssert.assertClose(want.maps, down(gMaps, o, mapElems), what + ": maps");
                GpuAssert.assertClose(want.out, down(gOut, o, rowsV), what + ": out");

                GpuAttention.backward(cuda, b, n, h, gq.at(o), gk.at(o), ldQk, gv.at(o), ldV, gPre.at(o), gMaps.at(o), scale, gdOut.at(o),
                        gdPre.at(o), gdq.at(o), gdk.at(o), gdv.at(o), gdrab.at(o), rabLen);
                float[] dPre = down(gdPre, o, mapElems), dq = down(gdq, o, rows), dk = down(gdk, o, rows), dv = down(gdv, o, rowsV);
                GpuAssert.assertClose(want.dPre, dPre, what + ": dPre");
                GpuAssert.assertClose(want.dq, dq, what + ": dq");
                GpuAssert.assertClose(want.dk, dk, what + ": dk");
                GpuAssert.assertClose(want.dv, dv, what + ": dv");
                GpuAssert.assertClose(wantDrab, down(gdrab, o, rabLen), what + ": drab (accumulated)");

                // Again into the same (now written) buffers: identical bits, and drab accumulates twice.
                float[] drab1 = down(gdrab, o, rabLen);
                GpuAttention.backward(cuda, b, n, h, gq.at(o), gk.at(o), ldQk, gv.at(o), ldV, gPre.at(o), gMaps.at(o), scale, gdOut.at(o),
                        gdPre.at(o), gdq.at(o), gdk.at(o), gdv.at(o), gdrab.at(o), rabLen);
                assertBits(dPre, down(gdPre, o, mapElems), what + ": dPre run to run");
                assertBits(dq, down(gdq, o, rows), what + ": dq run to run");
                assertBits(dk, down(gdk, o, rows), what + ": dk run to run");
                assertBits(dv, down(gdv, o, rowsV), what + ": dv run to run");
                float[] wantDrab2 = drab1.clone();
                for (int e = 0; e < rabLen; e++) wantDrab2[e] += drab1[e] - drab0[e];
                GpuAssert.assertClose(wantDrab2, down(gdrab, o, rabLen), what + ": drab accumulated twice");
                // a chain without the position bias: no drab (its pass skipped, rabLen unchecked), the rest unchanged
                float[] drab2 = down(gdrab, o, rabLen);
                int nanBits = Float.floatToRawIntBits(Float.NaN); // the outputs poisoned first, so a pass that does not run shows
                cuda.fill32(gdPre.at(o), mapElems, nanBits);
                cuda.fill32(gdq.at(o), rows, nanBits);
                cuda.fill32(gdk.at(o), rows, nanBits);
                cuda.fill32(gdv.at(o), rowsV, nanBits);
                GpuAttention.backward(cuda, b, n, h, gq.at(o), gk.at(o), ldQk, gv.at(o), ldV, gPre.at(o), gMaps.at(o), scale, gdOut.at(o),
                        gdPre.at(o), gdq.at(o), gdk.at(o), gdv.at(o), null, 0);
                assertBits(dPre, down(gdPre, o, mapElems), what + ": dPre without drab");
                assertBits(dq, down(gdq, o, rows), what + ": dq without drab");
                assertBits(dk, down(gdk, o, rows), what + ": dk without drab");
                assertBits(dv, down(gdv, o, rowsV), what + ": dv without drab");
                assertBits(drab2, down(gdrab, o, rabLen), what + ": drab untouched when not asked for");
                // Nothing outside the views was written (the element before and the two after each one).
                assertNeighboursKept(gOut, o, rowsV, seed + 12, what + ": out's neighbours");
                assertNeighboursKept(gdq, o, rows, seed + 15, what + ": dq's neighbours");
                assertNeighboursKept(gdk, o, rows, seed + 16, what + ": dk's neighbours");
                assertNeighboursKept(gdrab, o, rabLen, seed + 18, what + ": drab's neighbours");
                assertNeighboursKept(gdv, o, rowsV, seed + 17, what + ": dv's neighbours");
                assertNeighboursKept(gdPre, o, mapElems, seed + 14, what + ": dPre's neighbours");
            }
        }
    }
}

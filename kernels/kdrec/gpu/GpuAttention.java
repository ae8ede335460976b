package kdrec.gpu;

/**
 * HSTU pointwise attention on the GPU: the fused CUDA twin of the CPU chain in kdrec.model.Hstu,
 * {@code Attention.qk -> Attention.relativeBias -> Activations.silu -> Arith.scale -> Attention.causalMask
 * -> Attention.av} (kdrec.autograd.Attention), forward and backward. Kernels: native/attention.cu,
 * {@code kdrec_attention_*}.
 *
 * <p>Layout as kdrec.autograd.Attention: a batch of b padded sequences of length n with h heads, whose
 * q/k width may differ from their v width, as in the HSTU reference (attention_dim and linear_dim).
 * q, k, dq, dk are [b*n, ldQk] row-major with ldQk = h*dhQk (only the dots &lt;q_i, k_j&gt; use this
 * width); v, out, dOut, dv are [b*n, ldV] with ldV = h*dhV (the rows the maps mix). Head hh owns columns
 * hh*dhQk .. hh*dhQk+dhQk-1 of the first kind and hh*dhV .. hh*dhV+dhV-1 of the second; row s*n+i is
 * sequence s, position i. Maps (pre, maps, dPre) are [b*h, n, n], map r = s*h + hh; rab is a table of
 * rabLen entries (odd, at least 2n-1) with centre cen = (rabLen-1)/2. Every buffer starts at element 0
 * (pass {@code .at(off)} views). With ldQk == ldV the kernels sum in the order of the single-width
 * kernels they replace, so the bits are theirs.
 *
 * <p>Math, as the CPU chain: silu and silu' are the exact expressions of kdrec_act_silu /
 * kdrec_act_silu_backward (sigmoid in double, silu rounded to float, then times scale in float), so the
 * GPU differs from the CPU only in the summation order of the dot products. Everything is
 * deterministic (fixed-order sums, no atomics).
 *
 * <p>Decomposition (details in attention.cu): the forward and the dPre/dq pass run one 128-thread block
 * per (map, tile of 16 query rows), walking the keys in staged tiles of 32; dk/dv run one block per
 * (map, tile of 16 keys), walking the query rows i &gt;= j in staged tiles of 32; drab runs one block per
 * diagonal. The staging needs {@link #rowTileShared} / {@link #colTileShared} bytes, decided per
 * launch: the forward dots over dhQk and mixes dhV rows, the dq pass the reverse, so with unequal
 * widths one may stage and the other not. Where a launch's staging exceeds 48 KiB (the limit without
 * an opt-in; with equal widths above 146 for the row tiles, 176 for the column tiles) its kernel reads
 * the rows straight from global memory instead.
 */
public final class GpuAttention {
    private GpuAttention() {}

    /** Longest sequence (the kernels' loops and the tests cover up to here). */
    public static final int MAX_N = 512;
    /** Widest head, for each of the two widths: a lane keeps width / 32 &lt;= 8 accumulators per row (MAXM in attention.cu). */
    public static final int MAX_DH = 256;
    /** Threads of the row- and column-tile blocks (4 warps; __launch_bounds__(128)). */
    static final int TILE_THREADS = 128;
    /** Query rows per row-tile block, keys per column-tile block (TI in attention.cu). */
    static final int TILE_ROWS = 16;
    /** Threads of the drab block, one block per diagonal (8 warps; __launch_bounds__(256)), and its shared doubles (a partial per warp). */
    static final int RAB_THREADS = 256;
    static final int RAB_SHARED = RAB_THREADS / 32 * Double.BYTES;
    /** Dynamic shared memory a block may use without cuFuncSetAttribute. */
    static final int SHARED_LIMIT = 48 * 1024;

    /**
     * Forward: pre[r,i,j] = &lt;q[s*n+i, head hh], k[s*n+j, head hh]&gt; + rab[cen + j - i] and
     * maps[r,i,j] = silu(pre[r,i,j]) * scale for j &lt;= i; pre and maps are 0 for j &gt; i (causal).
     * out[s*n+i, head hh] = sum_{j&lt;=i} maps[r,i,j] v[s*n+j, head hh] (out overwritten).
     * q, k: [b*n, ldQk], ldQk = h*dhQk; v, out: [b*n, ldV], ldV = h*dhV.
     */
    public static void forward(Cuda cuda, int b, int n, int h, DeviceBuffer q, DeviceBuffer k, int ldQk, DeviceBuffer v, int ldV,
                               DeviceBuffer rab, int rabLen, float scale, DeviceBuffer pre, DeviceBuffer maps, DeviceBuffer out) {
        String kn = "GpuAttention.forward";
        checkShape(kn, b, n, h);
        int dhQk = checkWidth(kn, "ldQk", "q/k", "dhQk", ldQk, h), dhV = checkWidth(kn, "ldV", "v/out", "dhV", ldV, h);
        checkRab(kn, n, rabLen);
        checkScale(kn, scale);
        long rowsQk = (long) b * n * ldQk, rowsV = (long) b * n * ldV, mapElems = (long) b * h * n * n;
        checkBuf(kn, "q", q, rowsQk);
        checkBuf(kn, "k", k, rowsQk);
        checkBuf(kn, "v", v, rowsV);
        checkBuf(kn, "rab", rab, rabLen);
        checkBuf(kn, "pre", pre, mapElems);
        checkBuf(kn, "maps", maps, mapElems);
        checkBuf(kn, "out", out, rowsV);
        if (b == 0 || n == 0) return;
        // dots over q/k rows, v rows mixed into out
        boolean sh = rowTileShared(dhQk, dhV, true) <= SHARED_LIMIT;
        cuda.launch(cuda.kernel("kdrec_attention_forward"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, rowTileShared(dhQk, dhV, sh),
                n, h, dhQk, ldQk, dhV, ldV, q, k, v, rab, (rabLen - 1) / 2, scale, pre, maps, out, sh ? 1 : 0);
    }

    /**
     * Backward from dOut [b*n, ldV]: dA[r,i,j] = &lt;dOut[s*n+i, hh], v[s*n+j, hh]&gt;, dPre = dA * scale *
     * silu'(pre) for j &lt;= i, else 0 (dPre, a caller-given [b*h, n, n] scratch, is written);
     * dv[s*n+j] = sum_{i&gt;=j} maps[r,i,j] dOut[s*n+i]; dq[s*n+i] = sum_{j&lt;=i} dPre[r,i,j] k[s*n+j];
     * dk[s*n+j] = sum_{i&gt;=j} dPre[r,i,j] q[s*n+i] (dq, dk, dv OVERWRITTEN); drab[cen + j - i] += sum over
     * r and i &gt;= j of dPre[r,i,j] (ACCUMULATED, fixed-order sums; {@code drab} null: a chain without the
     * position bias, the pass is skipped and rabLen unchecked). q, k, dq, dk: [b*n, ldQk]; v, dOut, dv: [b*n, ldV].
     */
    public static void backward(Cuda cuda, int b, int n, int h, DeviceBuffer q, DeviceBuffer k, int ldQk, DeviceBuffer v, int ldV,
                                DeviceBuffer pre, DeviceBuffer maps, float scale, DeviceBuffer dOut, DeviceBuffer dPre,
                                DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer drab, int rabLen) {
        String kn = "GpuAttention.backward";
        checkShape(kn, b, n, h);
        int dhQk = checkWidth(kn, "ldQk", "q/k", "dhQk", ldQk, h), dhV = checkWidth(kn, "ldV", "v/dOut", "dhV", ldV, h);
        if (drab != null) checkRab(kn, n, rabLen);
        checkScale(kn, scale);
        long rowsQk = (long) b * n * ldQk, rowsV = (long) b * n * ldV, mapElems = (long) b * h * n * n;
        checkBuf(kn, "q", q, rowsQk);
        checkBuf(kn, "k", k, rowsQk);
        checkBuf(kn, "v", v, rowsV);
        checkBuf(kn, "pre", pre, mapElems);
        checkBuf(kn, "maps", maps, mapElems);
        checkBuf(kn, "dOut", dOut, rowsV);
        checkBuf(kn, "dPre", dPre, mapElems);
        checkBuf(kn, "dq", dq, rowsQk);
        checkBuf(kn, "dk", dk, rowsQk);
        checkBuf(kn, "dv", dv, rowsV);
        if (drab != null) checkBuf(kn, "drab", drab, rabLen);
        if (drab != null && (long) b * h * n > Integer.MAX_VALUE - RAB_THREADS) {
            throw new IllegalArgumentException(kn + ": b * h * n = " + (long) b * h * n + " exceeds 2^31 - 1 - " + RAB_THREADS
                    + " (the drab pass numbers a diagonal's entries in int)");
        }
        if (b == 0 || n == 0) return;
        // The dq pass dots over dOut/v rows and mixes k rows: the forward's widths swapped.
        boolean shR = rowTileShared(dhV, dhQk, true) <= SHARED_LIMIT, shC = colTileShared(dhQk, dhV, true) <= SHARED_LIMIT;
        // Three launches on one stream, in order: dk/dv read the dPre the first writes, drab sums it (without a bias: two).
        cuda.launch(cuda.kernel("kdrec_attention_backward_dq"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, rowTileShared(dhV, dhQk, shR),
                n, h, dhQk, ldQk, dhV, ldV, dOut, v, k, pre, scale, dPre, dq, shR ? 1 : 0);
        cuda.launch(cuda.kernel("kdrec_attention_backward_dkv"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, colTileShared(dhQk, dhV, shC),
                n, h, dhQk, ldQk, dhV, ldV, q, dOut, maps, dPre, dk, dv, shC ? 1 : 0);
        if (drab == null) return;
        cuda.launch(cuda.kernel("kdrec_attention_backward_rab"), n, 1, 1, RAB_THREADS, 1, 1, RAB_SHARED,
                b * h, n, dPre, (rabLen - 1) / 2, drab);
    }

    /** Row/column tiles per map: grid.y of the tile kernels (at most 32 for n &lt;= 512). */
    static int tiles(int n) {
        return (n + TILE_ROWS - 1) / TILE_ROWS;
    }

    /**
     * Dynamic shared bytes of a row-tile block that dots over rows dAB wide and mixes rows dCR wide (the
     * forward: dhQk, dhV; the dq pass: dhV, dhQk): the 16 x 32 weights, plus (when staging) 16 query rows
     * (dAB), 32 key rows padded to dAB + 1 floats (no bank conflicts when lane j reads row j) and 32
     * rows to mix (dCR).
     */
    static int rowTileShared(int dAB, int dCR, boolean staged) {
        return Float.BYTES * (TILE_ROWS * 32 + (staged ? TILE_ROWS * dAB + 32 * (dAB + 1) + 32 * dCR : 0));
    }

    /**
     * Dynamic shared bytes of a column-tile block: the 32 x 16 patches of maps and dPre, plus (when
     * staging) 32 q rows (dhQk) and 32 dOut rows (dhV).
     */
    static int colTileShared(int dhQk, int dhV, boolean staged) {
        return Float.BYTES * (2 * 32 * TILE_ROWS + (staged ? 32 * dhQk + 32 * dhV : 0));
    }

    /** Checks b, n, h. */
    private static void checkShape(String kn, int b, int n, int h) {
        if (b < 0 || n < 0 || n > MAX_N || h < 1) {
            throw new IllegalArgumentException(kn + ": b = " + b + ", n = " + n + ", h = " + h
                    + " (need b >= 0, 0 <= n <= " + MAX_N + ", h >= 1)");
        }
        if ((long) b * h > Integer.MAX_VALUE) throw new IllegalArgumentException(kn + ": b * h = " + (long) b * h + " maps exceed the grid");
    }

    /**
     * Checks one of the two row widths, {@code ldName} = ld (the width of {@code operands}), against h
     * and returns the head width {@code dhName} = ld / h.
     */
    private static int checkWidth(String kn, String ldName, String operands, String dhName, int ld, int h) {
        if (ld < 1 || ld % h != 0) {
            throw new IllegalArgumentException(kn + ": " + ldName + " = " + ld + " (the " + operands + " row width) is not divisible by h = "
                    + h + " (need " + ldName + " = h * " + dhName + ", " + dhName + " >= 1)");
        }
        int dh = ld / h;
        if (dh > MAX_DH) {
            throw new IllegalArgumentException(kn + ": head width " + dhName + " = " + ldName + " / h = " + dh + " > " + MAX_DH
                    + " (the " + operands + " rows)");
        }
        return dh;
    }

    private static void checkRab(String kn, int n, int rabLen) {
        if (rabLen % 2 != 1 || rabLen < 2 * n - 1) {
            throw new IllegalArgumentException(kn + ": rabLen = " + rabLen + " (need odd, >= 2n-1 = " + (2 * n - 1) + " for n = " + n + ")");
        }
    }

    private static void checkScale(String kn, float scale) {
        if (!Float.isFinite(scale)) throw new IllegalArgumentException(kn + ": scale = " + scale + " must be finite");
    }

    /** Operand {@code name} must hold at least {@code need} elements from its element 0. */
    private static void checkBuf(String kn, String name, DeviceBuffer buf, long need) {
        if (buf == null) throw new IllegalArgumentException(kn + ": " + name + " is null");
        if (buf.elements() < need) {
            throw new IllegalArgumentException(kn + ": " + name + " needs " + need + " elements, the device buffer holds " + buf.elements());
        }
    }
}

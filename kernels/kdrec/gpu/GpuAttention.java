package kdrec.gpu;

/**
 * HSTU pointwise attention on the GPU: the fused CUDA twin of the CPU chain in kdrec.model.Hstu,
 * {@code Attention.qk -> Attention.relativeBias -> Activations.silu -> Arith.scale -> Attention.causalMask
 * -> Attention.av} (kdrec.autograd.Attention), forward and backward. Kernels: native/attention.cu,
 * {@code kdrec_attention_*}.
 *
 * <p>Layout as kdrec.autograd.Attention: a batch of b padded sequences of length n with h heads. Row
 * tensors (q, k, v, out, dOut, dq, dk, dv) are [b*n, ld] row-major with ld = h*dh (head hh owns columns
 * hh*dh .. hh*dh+dh-1; row s*n+i is sequence s, position i); maps (pre, maps, dPre) are [b*h, n, n], map
 * r = s*h + hh; rab is a table of rabLen entries (odd, at least 2n-1) with centre cen = (rabLen-1)/2.
 * Every buffer starts at element 0 (pass {@code .at(off)} views).
 *
 * <p>Math, as the CPU chain: silu and silu' are the exact expressions of kdrec_act_silu /
 * kdrec_act_silu_backward (sigmoid in double, silu rounded to float, then times scale in float), so the
 * GPU differs from the CPU only in the summation order of the dot products. Everything is
 * deterministic (fixed-order sums, no atomics).
 *
 * <p>Decomposition (details in attention.cu): the forward and the dPre/dq pass run one 128-thread block
 * per (map, tile of 16 query rows), walking the keys in staged tiles of 32; dk/dv run one block per
 * (map, tile of 16 keys), walking the query rows i &gt;= j in staged tiles of 32; drab runs one block per
 * diagonal. The staging needs {@link #rowTileShared} / {@link #colTileShared} bytes; where that
 * exceeds 48 KiB (the limit without an opt-in; dh above 146 / 176) the kernels read the rows
 * straight from global memory instead.
 */
public final class GpuAttention {
    private GpuAttention() {}

    /** Longest sequence (the kernels' loops and the tests cover up to here). */
    public static final int MAX_N = 512;
    /** Widest head: a lane keeps dh / 32 &lt;= 8 accumulators per row (MAXM in attention.cu). */
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
     */
    public static void forward(Cuda cuda, int b, int n, int h, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, int ld,
                               DeviceBuffer rab, int rabLen, float scale, DeviceBuffer pre, DeviceBuffer maps, DeviceBuffer out) {
        String kn = "GpuAttention.forward";
        int dh = checkShape(kn, b, n, h, ld);
        checkRab(kn, n, rabLen);
        checkScale(kn, scale);
        long rows = (long) b * n * ld, mapElems = (long) b * h * n * n;
        checkBuf(kn, "q", q, rows);
        checkBuf(kn, "k", k, rows);
        checkBuf(kn, "v", v, rows);
        checkBuf(kn, "rab", rab, rabLen);
        checkBuf(kn, "pre", pre, mapElems);
        checkBuf(kn, "maps", maps, mapElems);
        checkBuf(kn, "out", out, rows);
        if (b == 0 || n == 0) return;
        boolean sh = rowTileShared(dh, true) <= SHARED_LIMIT;
        cuda.launch(cuda.kernel("kdrec_attention_forward"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, rowTileShared(dh, sh),
                n, h, dh, ld, q, k, v, rab, (rabLen - 1) / 2, scale, pre, maps, out, sh ? 1 : 0);
    }

    /**
     * Backward from dOut [b*n, ld]: dA[r,i,j] = &lt;dOut[s*n+i, hh], v[s*n+j, hh]&gt;, dPre = dA * scale *
     * silu'(pre) for j &lt;= i, else 0 (dPre, a caller-given [b*h, n, n] scratch, is written);
     * dv[s*n+j] = sum_{i&gt;=j} maps[r,i,j] dOut[s*n+i]; dq[s*n+i] = sum_{j&lt;=i} dPre[r,i,j] k[s*n+j];
     * dk[s*n+j] = sum_{i&gt;=j} dPre[r,i,j] q[s*n+i] (dq, dk, dv OVERWRITTEN); drab[cen + j - i] += sum over
     * r and i &gt;= j of dPre[r,i,j] (ACCUMULATED, fixed-order sums).
     */
    public static void backward(Cuda cuda, int b, int n, int h, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, int ld,
                                DeviceBuffer pre, DeviceBuffer maps, float scale, DeviceBuffer dOut, DeviceBuffer dPre,
                                DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer drab, int rabLen) {
        String kn = "GpuAttention.backward";
        int dh = checkShape(kn, b, n, h, ld);
        checkRab(kn, n, rabLen);
        checkScale(kn, scale);
        long rows = (long) b * n * ld, mapElems = (long) b * h * n * n;
        checkBuf(kn, "q", q, rows);
        checkBuf(kn, "k", k, rows);
        checkBuf(kn, "v", v, rows);
        checkBuf(kn, "pre", pre, mapElems);
        checkBuf(kn, "maps", maps, mapElems);
        checkBuf(kn, "dOut", dOut, rows);
        checkBuf(kn, "dPre", dPre, mapElems);
        checkBuf(kn, "dq", dq, rows);
        checkBuf(kn, "dk", dk, rows);
        checkBuf(kn, "dv", dv, rows);
        checkBuf(kn, "drab", drab, rabLen);
        if ((long) b * h * n > Integer.MAX_VALUE - RAB_THREADS) {
            throw new IllegalArgumentException(kn + ": b * h * n = " + (long) b * h * n + " exceeds 2^31 - 1 - " + RAB_THREADS
                    + " (the drab pass numbers a diagonal's entries in int)");
        }
        if (b == 0 || n == 0) return;
        boolean shR = rowTileShared(dh, true) <= SHARED_LIMIT, shC = colTileShared(dh, true) <= SHARED_LIMIT;
        // Three launches on one stream, in order: dk/dv read the dPre the first writes, drab sums it.
        cuda.launch(cuda.kernel("kdrec_attention_backward_dq"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, rowTileShared(dh, shR),
                n, h, dh, ld, dOut, v, k, pre, scale, dPre, dq, shR ? 1 : 0);
        cuda.launch(cuda.kernel("kdrec_attention_backward_dkv"), b * h, tiles(n), 1, TILE_THREADS, 1, 1, colTileShared(dh, shC),
                n, h, dh, ld, q, dOut, maps, dPre, dk, dv, shC ? 1 : 0);
        cuda.launch(cuda.kernel("kdrec_attention_backward_rab"), n, 1, 1, RAB_THREADS, 1, 1, RAB_SHARED,
                b * h, n, dPre, (rabLen - 1) / 2, drab);
    }

    /** Row/column tiles per map: grid.y of the tile kernels (at most 32 for n &lt;= 512). */
    static int tiles(int n) {
        return (n + TILE_ROWS - 1) / TILE_ROWS;
    }

    /**
     * Dynamic shared bytes of a row-tile block: the 16 x 32 weights, plus (when staging) 16 query rows,
     * 32 key rows padded to dh + 1 floats (no bank conflicts when lane j reads row j) and 32 value rows.
     */
    static int rowTileShared(int dh, boolean staged) {
        return Float.BYTES * (TILE_ROWS * 32 + (staged ? TILE_ROWS * dh + 32 * (dh + 1) + 32 * dh : 0));
    }

    /** Dynamic shared bytes of a column-tile block: the 32 x 16 patches of maps and dPre, plus (when staging) 32 dOut and 32 q rows. */
    static int colTileShared(int dh, boolean staged) {
        return Float.BYTES * (2 * 32 * TILE_ROWS + (staged ? 2 * 32 * dh : 0));
    }

    /** Checks b, n, h, ld and returns dh = ld / h. */
    private static int checkShape(String kn, int b, int n, int h, int ld) {
        if (b < 0 || n < 0 || n > MAX_N || h < 1) {
            throw new IllegalArgumentException(kn + ": b = " + b + ", n = " + n + ", h = " + h
                    + " (need b >= 0, 0 <= n <= " + MAX_N + ", h >= 1)");
        }
        if (ld < 1 || ld % h != 0) {
            throw new IllegalArgumentException(kn + ": ld = " + ld + " is not divisible by h = " + h + " (need ld = h * dh, dh >= 1)");
        }
        int dh = ld / h;
        if (dh > MAX_DH) throw new IllegalArgumentException(kn + ": head width dh = ld / h = " + dh + " > " + MAX_DH);
        if ((long) b * h > Integer.MAX_VALUE) throw new IllegalArgumentException(kn + ": b * h = " + (long) b * h + " maps exceed the grid");
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

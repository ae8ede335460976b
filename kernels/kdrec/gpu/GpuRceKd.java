package kdrec.gpu;

import static kdrec.gpu.GpuCeArgs.WARP_BLOCK;
import static kdrec.gpu.GpuCeArgs.bad;
import static kdrec.gpu.GpuCeArgs.length;
import static kdrec.gpu.GpuCeArgs.warpGrid;

/**
 * RCE-KD's per-epoch sets built on the device (kernels in native/rcekd.cu): the twin of the host's
 * {@code kdrec.kd.RceKdEpoch.build} list rules and {@code kdrec.kd.Sampling} draws, so a device run's
 * epoch hook ranks, samples and lays out every user's lists without leaving the GPU. The draws use the
 * host's generator (java.util.SplittableRandom) and key arithmetic, so the lists equal the host's for
 * the same seed (see the kernel header for the one rounding caveat).
 */
public final class GpuRceKd {
    private GpuRceKd() {}

    /** Largest student top-M (the kernel's shared arrays; also the GPU top-K limit). */
    public static final int MAX_M = 1024;
    private static final int THREADS = 256;
    /** Blocks per launch; a block loops over users when there are more (tests lower it to run that loop). */
    public static final int MAX_BLOCKS = 65_536;

    /**
     * Every user's list into row u of {@code slab} (users x cap): separate sets
     * [SK \ P | SK ∩ P | P \ SK | QT \ (P ∪ SK)] with a = k, b = |SK \ P|; one set [SK | P \ SK | QT rest]
     * with a = b = len; wA = 1 - w, wB = w with w = weight[|QT ∩ P|] (separate) or 0.
     *
     * @param top      users x m student top-M ids, best first (distinct, in range)
     * @param qt       users x k teacher top-K ids, teacher order
     * @param rngBase  the (seed, stream, epoch) part of the host's per-user generator seed
     * @param weight   at least min(k, l) + 1 floats: w for each overlap count
     */
    public static void sets(Cuda cuda, int users, int m, int k, int l, int cap, DeviceBuffer top, DeviceBuffer qt, long rngBase,
                            double temp, boolean sampleRank, boolean separate, DeviceBuffer weight, DeviceBuffer slab,
                            DeviceBuffer len, DeviceBuffer a, DeviceBuffer b, DeviceBuffer wA, DeviceBuffer wB) {
        sets(cuda, users, m, k, l, cap, top, qt, rngBase, temp, sampleRank, separate, weight, slab, len, a, b, wA, wB, MAX_BLOCKS);
    }

    /** {@link #sets} on at most {@code maxBlocks} blocks (each then builds several users' lists in turn). */
    public static void sets(Cuda cuda, int users, int m, int k, int l, int cap, DeviceBuffer top, DeviceBuffer qt, long rngBase,
                            double temp, boolean sampleRank, boolean separate, DeviceBuffer weight, DeviceBuffer slab,
                            DeviceBuffer len, DeviceBuffer a, DeviceBuffer b, DeviceBuffer wA, DeviceBuffer wB, int maxBlocks) {
        String kn = "RceKd.sets";
        if (maxBlocks < 1) throw bad(kn, "maxBlocks=" + maxBlocks + " < 1");
        if (users < 0) throw bad(kn, "negative users=" + users);
        if (m < 1 || m > MAX_M) throw bad(kn, "m=" + m + " outside [1, " + MAX_M + "]");
        if (k < 1 || k > m) throw bad(kn, "k=" + k + " outside [1, m=" + m + "]");
        if (l < 1 || l > m) throw bad(kn, "l=" + l + " outside [1, m=" + m + "]");
        if (cap < 2 * k + l) throw bad(kn, "cap=" + cap + " < 2k + l = " + (2 * k + l));
        if (!(temp > 0) || Double.isInfinite(temp)) throw bad(kn, "temperature must be finite and > 0, got " + temp);
        length(kn, "top", top, (long) users * m);
        length(kn, "qt", qt, (long) users * k);
        length(kn, "weight", weight, Math.min(k, l) + 1);
        length(kn, "slab", slab, (long) users * cap);
        for (DeviceBuffer x : new DeviceBuffer[] {len, a, b, wA, wB}) length(kn, "per-user output", x, users);
        if (users == 0) return;
        cuda.launch(cuda.kernel("kdrec_rcekd_sets"), Math.min(users, Math.min(maxBlocks, MAX_BLOCKS)), 1, 1, THREADS, 1, 1, 0,
                users, m, k, l, cap, top, qt, rngBase, temp, sampleRank ? 1 : 0, separate ? 1 : 0, weight, slab, len, a, b, wA, wB);
    }

    /** idx[ptr[u] + j] = slab[u * cap + j] for j &lt; ptr[u+1] - ptr[u] &lt;= cap (the lists made contiguous). */
    public static void compact(Cuda cuda, int users, int cap, DeviceBuffer slab, DeviceBuffer ptr, DeviceBuffer idx, long entries) {
        String kn = "RceKd.compact";
        if (users < 0 || cap < 0) throw bad(kn, "negative users=" + users + " or cap=" + cap);
        length(kn, "slab", slab, (long) users * cap);
        length(kn, "ptr", ptr, (long) users + 1);
        length(kn, "idx", idx, entries);
        if (users == 0) return;
        if (GpuCeArgs.checkContents) {
            int[] p = GpuCeArgs.csr(cuda, kn, users, ptr, entries);
            for (int u = 0; u < users; u++) if (p[u + 1] - p[u] > cap) throw bad(kn, "row " + u + " holds " + (p[u + 1] - p[u]) + " > cap " + cap);
        }
        cuda.launch(cuda.kernel("kdrec_rcekd_compact"), warpGrid(users), 1, 1, WARP_BLOCK, 1, 1, 0, users, cap, slab, ptr, idx);
    }
}

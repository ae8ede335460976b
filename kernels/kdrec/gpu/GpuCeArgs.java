package kdrec.gpu;

/**
 * Argument checks shared by the CUDA cross-entropy wrappers ({@link GpuSubsetCe}, {@link GpuPairCe},
 * {@link GpuSoftmaxCe}), with the same messages as the CPU twins' checks (kernel name and offending
 * values). Every check here runs on the host from sizes alone, before {@code cuda} is touched.
 *
 * <p>What sizes cannot tell: the CONTENTS of device index arrays (ptr non-decreasing, ids in range,
 * targets in [0, n), split points inside their row). Reading them would cost a device-to-host copy and
 * a synchronisation per call, so by default they are the caller's contract (the host arrays they were
 * uploaded from pass the CPU checks). With {@code -Dkdrec.cuda.check=true} (or {@link #checkContents}
 * set by a test) the wrappers download them and check them like the CPU twins do.
 */
final class GpuCeArgs {
    private GpuCeArgs() {}

    /** Download and check index contents before launching (debug aid; costs a sync per call). */
    static volatile boolean checkContents = Boolean.getBoolean("kdrec.cuda.check");

    /** Rows per block of the warp-per-row kernels (8 warps of 32 threads). */
    static final int WARP_BLOCK = 256;

    static IllegalArgumentException bad(String kernel, String msg) {
        return new IllegalArgumentException(kernel + ": " + msg);
    }

    static void dims(String kernel, int m, int d) {
        if (m < 0 || d < 0) throw bad(kernel, "negative dims m=" + m + ", d=" + d);
    }

    static void tau(String kernel, float tau) {
        if (!(tau > 0f) || Float.isInfinite(tau)) throw bad(kernel, "tau must be finite and > 0, got " + tau);
    }

    /** rows x cols with leading dimension ld at element offset off must lie inside the buffer. */
    static void matrix(String kernel, String what, DeviceBuffer b, long off, int rows, int cols, int ld) {
        if (b == null) throw bad(kernel, what + " is null");
        if (ld < cols) throw bad(kernel, what + ": leading dim " + ld + " < width " + cols);
        if (off < 0) throw bad(kernel, what + ": negative offset " + off);
        if (rows == 0 || cols == 0) return;
        long need = off + (long) (rows - 1) * ld + cols;
        if (need > b.elements()) {
            throw bad(kernel, what + ": " + rows + " x " + cols + " (ld " + ld + ", offset " + off
                    + ") needs " + need + " elements, device buffer holds " + b.elements());
        }
    }

    /** An item table whose row count is only known from the ids: ld and offset only. */
    static void table(String kernel, String what, DeviceBuffer b, long off, int cols, int ld) {
        if (b == null) throw bad(kernel, what + " is null");
        if (ld < cols) throw bad(kernel, what + ": leading dim " + ld + " < width " + cols);
        if (off < 0 || off > b.elements()) throw bad(kernel, what + ": offset " + off + " outside a buffer of " + b.elements() + " elements");
    }

    /** Rows of a table (ld, offset) that fit in the buffer. */
    static long tableRows(DeviceBuffer b, long off, int cols, int ld) {
        long avail = b.elements() - off;
        if (avail < cols) return 0;
        return ld == 0 ? Long.MAX_VALUE : (avail - cols) / ld + 1;
    }

    static void length(String kernel, String what, DeviceBuffer b, long need) {
        if (b == null) throw bad(kernel, what + " is null");
        if (b.elements() < need) throw bad(kernel, what + ": " + b.elements() + " elements < " + need);
    }

    /** Optional per-row buffer: null is allowed, otherwise it needs {@code need} elements. */
    static void optional(String kernel, String what, DeviceBuffer b, long need) {
        if (b != null && b.elements() < need) throw bad(kernel, what + ": " + b.elements() + " elements < " + need);
    }

    /**
     * The device view at element offset {@code off} (the kernels take base pointers). A matrix with no
     * columns passes its check with any offset (nothing is read), so clamp rather than let at() throw.
     */
    static DeviceBuffer view(DeviceBuffer b, long off) {
        return b.at(Math.min(off, b.elements()));
    }

    /** Blocks for a warp-per-row launch over m rows; the kernels grid-stride, so the cap is safe. */
    static int warpGrid(long m) {
        return (int) Math.min((m + 7) / 8, 65_536L);
    }

    // ---- content checks (only when checkContents) ----

    /**
     * Downloads a CSR row pointer over m rows and checks it as the CPU does: ptr[0] &gt;= 0,
     * non-decreasing, ptr[m] &lt;= entries. Returns the host copy.
     */
    static int[] csr(Cuda cuda, String kernel, int m, DeviceBuffer ptr, long entries) {
        int[] p = cuda.downloadInts(ptr, m + 1);
        if (p[0] < 0) throw bad(kernel, "ptr[0] = " + p[0] + " < 0");
        for (int r = 0; r < m; r++) {
            if (p[r + 1] < p[r]) throw bad(kernel, "ptr not non-decreasing at row " + r + ": " + p[r] + " > " + p[r + 1]);
        }
        if (p[m] > entries) throw bad(kernel, "ptr[" + m + "] = " + p[m] + " > number of entries " + entries);
        return p;
    }

    /** Checks ids idx[ptr[0] .. ptr[m]) lie in [0, rows). */
    static void ids(Cuda cuda, String kernel, int[] p, int m, DeviceBuffer idx, long rows) {
        int[] ids = cuda.downloadInts(idx, p[m]);
        for (int j = p[0]; j < p[m]; j++) {
            if (ids[j] < 0) throw bad(kernel, "idx[" + j + "] = " + ids[j] + " < 0");
            if (ids[j] >= rows) throw bad(kernel, "idx[" + j + "] = " + ids[j] + " but the item table holds " + rows + " rows");
        }
    }

    /**
     * A rows-form kernel's tables and lists (user ids into the user table and its gradient, the item table
     * and its gradient, the rows' CSR), before the context is touched.
     */
    static void rowsForm(String kernel, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff, int ldu, DeviceBuffer items,
                         long iOff, int ldi, DeviceBuffer ptr, DeviceBuffer idx, DeviceBuffer userGrad, long guOff, int ldgu,
                         DeviceBuffer itemGrad, long giOff, int ldgi) {
        if (m < 0 || d < 0) throw bad(kernel, "negative dims m=" + m + ", d=" + d);
        length(kernel, "userIds", userIds, m);
        table(kernel, "users", users, uOff, d, ldu);
        table(kernel, "items", items, iOff, d, ldi);
        length(kernel, "ptr", ptr, (long) m + 1);
        if (idx == null) throw bad(kernel, "idx is null");
        table(kernel, "userGrad", userGrad, guOff, d, ldgu);
        table(kernel, "itemGrad", itemGrad, giOff, d, ldgi);
    }

    /** Debug mode, rows form: item ids inside the item gradient, user ids distinct and inside both user tables. */
    static void rowsFormContents(Cuda cuda, String kernel, int[] p, int m, int d, DeviceBuffer userIds, DeviceBuffer users, long uOff,
                                 int ldu, DeviceBuffer idx, DeviceBuffer userGrad, long guOff, int ldgu, DeviceBuffer itemGrad, long giOff,
                                 int ldgi) {
        ids(cuda, kernel, p, m, idx, tableRows(itemGrad, giOff, d, ldgi));
        userIds(cuda, kernel, m, userIds, true, Math.min(tableRows(users, uOff, d, ldu), tableRows(userGrad, guOff, d, ldgu)));
    }

    /**
     * Checks userIds[0 .. m) lie in [0, rows), and when {@code distinct} that none repeats (a rows-form
     * kernel that adds into those rows without atomics needs distinct ids; one that only reads does not).
     */
    static void userIds(Cuda cuda, String kernel, int m, DeviceBuffer userIds, boolean distinct, long rows) {
        int[] ids = cuda.downloadInts(userIds, m);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int r = 0; r < m; r++) {
            if (ids[r] < 0 || ids[r] >= rows) throw bad(kernel, "row " + r + ": user id " + ids[r] + " outside [0, " + rows + ")");
            if (distinct && !seen.add(ids[r])) throw bad(kernel, "row " + r + ": user id " + ids[r] + " repeats (rows must be distinct users)");
        }
    }

    /** Checks targets[0 .. m) lie in [0, n). */
    static void targets(Cuda cuda, String kernel, int m, int n, DeviceBuffer target) {
        int[] t = cuda.downloadInts(target, m);
        for (int r = 0; r < m; r++) {
            if (t[r] < 0 || t[r] >= n) throw bad(kernel, "target[" + r + "] = " + t[r] + " outside [0, " + n + ")");
        }
    }
}

package kdrec.kd;

import java.util.Arrays;

/**
 * The distinct users of a batch in order of first appearance, with how often each occurs. A
 * per-user KD term summed over batch entries (duplicates kept, as the reference code does) equals
 * the term of each distinct user times its count: computing it once per user is exact and cheaper.
 */
public record BatchUsers(int[] users, float[] counts) {
    public static BatchUsers of(int[] batchUsers, int totalUsers) {
        int[] slot = new int[totalUsers];
        Arrays.fill(slot, -1);
        return of(batchUsers, slot);
    }

    /**
     * The same with a caller-owned slot array of at least totalUsers entries, all -1 on entry and
     * restored to -1 on return (a per-step caller saves allocating and filling one per batch).
     */
    public static BatchUsers of(int[] batchUsers, int[] slot) {
        int totalUsers = slot.length;
        int[] u = new int[batchUsers.length];
        float[] c = new float[batchUsers.length];
        int n = 0;
        try {
            for (int x : batchUsers) {
                if (x < 0 || x >= totalUsers) throw new IllegalArgumentException("batch user " + x + " outside [0, " + totalUsers + ")");
                if (slot[x] < 0) {
                    slot[x] = n;
                    u[n++] = x;
                }
                c[slot[x]]++;
            }
        } finally {
            for (int i = 0; i < n; i++) slot[u[i]] = -1;
        }
        return new BatchUsers(Arrays.copyOf(u, n), Arrays.copyOf(c, n));
    }

    public int size() {
        return users.length;
    }
}

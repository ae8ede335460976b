package kdrec.kd;

import java.util.Arrays;
import kdrec.tensor.IndexSets;

/**
 * Per-user ragged item sets with the teacher's logits aligned to them, fixed for one epoch (CSR
 * over all users). A batch takes the sets of its users with {@link #rows}: distillers compute
 * teacher logits once per user per epoch instead of once per batch entry.
 */
public record UserSets(int[] ptr, int[] idx, float[] teacher) {
    public UserSets {
        if (ptr.length < 1 || ptr[ptr.length - 1] != idx.length || (teacher != null && teacher.length != idx.length)) {
            throw new IllegalArgumentException("UserSets: inconsistent CSR (" + idx.length + " ids, "
                    + (teacher == null ? "no" : teacher.length) + " teacher logits)");
        }
    }

    public int users() {
        return ptr.length - 1;
    }

    public int size(int user) {
        return ptr[user + 1] - ptr[user];
    }

    public int[] of(int user) {
        return Arrays.copyOfRange(idx, ptr[user], ptr[user + 1]);
    }

    /** The same sets with the teacher's logits filled in. */
    public UserSets withTeacher(Teacher t) {
        return new UserSets(ptr, idx, t.logits(new IndexSets(ptr, idx)));
    }

    /** Row r = the set of {@code users[r]} (users may repeat), with aligned teacher logits. */
    public Rows rows(int[] users) {
        int m = users.length;
        int[] p = new int[m + 1];
        for (int r = 0; r < m; r++) p[r + 1] = p[r] + size(users[r]);
        int[] ids = new int[p[m]];
        float[] tl = new float[p[m]];
        for (int r = 0; r < m; r++) {
            int u = users[r], n = size(u);
            System.arraycopy(idx, ptr[u], ids, p[r], n);
            if (teacher != null) System.arraycopy(teacher, ptr[u], tl, p[r], n);
        }
        return new Rows(new IndexSets(p, ids), tl);
    }

    /** A batch's view: index sets (one row per requested user) and the teacher logits aligned with them. */
    public record Rows(IndexSets sets, float[] teacher) {}

    /** Builds per-user sets by appending users in order 0, 1, 2, ... */
    public static final class Builder {
        private final int[] ptr;
        private int[] idx;
        private int next, size;

        public Builder(int users, int expectedPerUser) {
            ptr = new int[users + 1];
            idx = new int[Math.max(16, users * Math.max(1, expectedPerUser))];
        }

        /** Appends user {@code u}'s set; users must be added in increasing order without gaps. */
        public void add(int u, int[] items, int from, int to) {
            if (u != next) throw new IllegalStateException("UserSets.Builder: expected user " + next + ", got " + u);
            int n = to - from;
            if (size + n > idx.length) idx = Arrays.copyOf(idx, Math.max(idx.length * 2, size + n));
            System.arraycopy(items, from, idx, size, n);
            size += n;
            ptr[++next] = size;
        }

        public UserSets build() {
            if (next != ptr.length - 1) throw new IllegalStateException("UserSets.Builder: " + next + " of " + (ptr.length - 1) + " users added");
            return new UserSets(ptr, Arrays.copyOf(idx, size), null);
        }
    }
}

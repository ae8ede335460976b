package kdrec.data;

/**
 * Each user's train items in split order (chronological when the data has timestamps), the last
 * {@code maxLen} kept: the input of a sequential backbone. The valid and test targets are the
 * users' valid and test items of the usual per-user 8:1:1 split, ranked from this train sequence
 * (as the RCE-KD code scores HSTU from {@code train_seq}). Duplicates removed by preprocessing
 * stay removed; a split folder without timestamps keeps its file order. {@link #of(InteractionMatrix,
 * InteractionMatrix, int)} appends the valid items: the history the {@code test_history=train_valid}
 * protocol ranks test targets from.
 */
public final class Sequences {
    private final int maxLen;
    private final int[] ptr, items;

    private Sequences(int maxLen, int[] ptr, int[] items) {
        this.maxLen = maxLen;
        this.ptr = ptr;
        this.items = items;
    }

    /** The last {@code maxLen} items of every user's train row, in split order. */
    public static Sequences of(InteractionMatrix train, int maxLen) {
        return of(new InteractionMatrix[] {train}, maxLen);
    }

    /** The last {@code maxLen} items of every user's train row followed by their valid row, in split order. */
    public static Sequences of(InteractionMatrix train, InteractionMatrix valid, int maxLen) {
        if (valid.users() != train.users()) {
            throw new IllegalArgumentException("sequences: valid has " + valid.users() + " users, train " + train.users());
        }
        return of(new InteractionMatrix[] {train, valid}, maxLen);
    }

    private static Sequences of(InteractionMatrix[] parts, int maxLen) {
        if (maxLen < 1) throw new IllegalArgumentException("sequences: max_len must be >= 1, got " + maxLen);
        int users = parts[0].users();
        int[] ptr = new int[users + 1];
        for (int u = 0; u < users; u++) {
            int total = 0;
            for (InteractionMatrix m : parts) total += m.orderedPtr()[u + 1] - m.orderedPtr()[u];
            ptr[u + 1] = ptr[u] + Math.min(maxLen, total);
        }
        int[] items = new int[ptr[users]];
        for (int u = 0; u < users; u++) {
            int end = ptr[u + 1]; // fill from the newest part backwards: the last maxLen items survive
            for (int pi = parts.length - 1; pi >= 0 && end > ptr[u]; pi--) {
                int[] op = parts[pi].orderedPtr(), ord = parts[pi].ordered();
                int n = Math.min(op[u + 1] - op[u], end - ptr[u]);
                System.arraycopy(ord, op[u + 1] - n, items, end - n, n);
                end -= n;
            }
        }
        return new Sequences(maxLen, ptr, items);
    }

    public int users() {
        return ptr.length - 1;
    }

    public int maxLen() {
        return maxLen;
    }

    public int length(int u) {
        return ptr[u + 1] - ptr[u];
    }

    /** Item at position t (0 = oldest kept) of user u's sequence. */
    public int item(int u, int t) {
        return items[ptr[u] + t];
    }

    /** Row pointers over {@link #items()} (length users+1); do not modify. */
    public int[] ptr() {
        return ptr;
    }

    /** All sequences back to back; do not modify. */
    public int[] items() {
        return items;
    }
}

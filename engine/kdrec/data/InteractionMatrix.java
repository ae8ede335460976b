package kdrec.data;

import java.util.Arrays;

/**
 * A users x items binary interaction matrix in CSR: row u's items, sorted ascending without
 * duplicates, are {@code items()[ptr()[u] .. ptr()[u+1])}. {@link #ordered()} keeps, for sequential
 * models, each user's items in split order (chronological or file order, duplicates kept).
 */
public final class InteractionMatrix {
    private final int users, items;
    private final int[] ptr, idx;
    private final int[] orderedPtr, ordered;

    /** Builds from per-user item lists in split order (duplicates allowed; removed from the CSR). */
    public static InteractionMatrix fromRows(int users, int items, int[][] rowsInOrder) {
        int[] optr = new int[users + 1];
        for (int u = 0; u < users; u++) optr[u + 1] = optr[u] + rowsInOrder[u].length;
        int[] ord = new int[optr[users]];
        for (int u = 0; u < users; u++) System.arraycopy(rowsInOrder[u], 0, ord, optr[u], rowsInOrder[u].length);
        int[] ptr = new int[users + 1];
        int[] tmp = new int[ord.length];
        int n = 0;
        for (int u = 0; u < users; u++) {
            int[] r = rowsInOrder[u].clone();
            Arrays.sort(r);
            for (int j = 0; j < r.length; j++) {
                if (r[j] < 0 || r[j] >= items) throw new IllegalArgumentException("item " + r[j] + " of user " + u + " outside [0, " + items + ")");
                if (j == 0 || r[j] != r[j - 1]) tmp[n++] = r[j];
            }
            ptr[u + 1] = n;
        }
        return new InteractionMatrix(users, items, ptr, Arrays.copyOf(tmp, n), optr, ord);
    }

    private InteractionMatrix(int users, int items, int[] ptr, int[] idx, int[] orderedPtr, int[] ordered) {
        this.users = users;
        this.items = items;
        this.ptr = ptr;
        this.idx = idx;
        this.orderedPtr = orderedPtr;
        this.ordered = ordered;
    }

    public static InteractionMatrix empty(int users, int items) {
        return fromRows(users, items, new int[users][0]);
    }

    public int users() {
        return users;
    }

    public int items() {
        return items;
    }

    /** Number of distinct (user, item) pairs. */
    public int nnz() {
        return idx.length;
    }

    /** CSR row pointers (length users+1); do not modify. */
    public int[] ptr() {
        return ptr;
    }

    /** CSR item ids, sorted within each row; do not modify. */
    public int[] indices() {
        return idx;
    }

    public int rowLength(int u) {
        return ptr[u + 1] - ptr[u];
    }

    public boolean contains(int u, int item) {
        return Arrays.binarySearch(idx, ptr[u], ptr[u + 1], item) >= 0;
    }

    /** Row pointers of the split-order rows (duplicates kept). */
    public int[] orderedPtr() {
        return orderedPtr;
    }

    /** Items of each user in split order (duplicates kept). */
    public int[] ordered() {
        return ordered;
    }

    /** Number of users who interacted with each item. */
    public int[] itemPopularity() {
        int[] pop = new int[items];
        for (int v : idx) pop[v]++;
        return pop;
    }

    /** The user of every CSR entry (entry j belongs to user rowOf()[j]). */
    public int[] rowOfEntry() {
        int[] r = new int[idx.length];
        for (int u = 0; u < users; u++) Arrays.fill(r, ptr[u], ptr[u + 1], u);
        return r;
    }
}

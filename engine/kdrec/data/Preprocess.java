package kdrec.data;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.longs.LongOpenHashSet;

/**
 * Turns raw interactions into a {@link Dataset}: rating threshold, de-duplication, iterated k-core,
 * dense renumbering, and the per-user 8:1:1 split of the KD papers' code: in timestamp order when
 * timestamps exist (stable for ties), else file order; the first max(floor(0.8 n), 1) events
 * train, events up to floor(0.9 n) validate, the rest test.
 *
 * @param minRating  keep events with rating >= minRating (null: keep all)
 * @param kcoreUsers drop users with fewer interactions, iterated with kcoreItems to a fixed point (0: off)
 * @param kcoreItems drop items with fewer interactions (0: off)
 * @param dedupe     keep only the first occurrence of each (user, item) pair
 */
public record Preprocess(Float minRating, int kcoreUsers, int kcoreItems, boolean dedupe) {
    public Preprocess {
        // named as the flags that set them, since the CLI passes these through unchanged
        if (kcoreUsers < 0) throw new IllegalArgumentException("--kcore-users must be >= 0 (0 = off), got " + kcoreUsers);
        if (kcoreItems < 0) throw new IllegalArgumentException("--kcore-items must be >= 0 (0 = off), got " + kcoreItems);
        // NaN would keep no rating and infinities all or none: every one is a mistake, not a threshold
        if (minRating != null && !Float.isFinite(minRating)) throw new IllegalArgumentException("--min-rating must be a finite number, got " + minRating);
    }

    /** No threshold, no k-core, de-duplication on. */
    public static Preprocess defaults() {
        return new Preprocess(null, 0, 0, true);
    }

    public Dataset apply(String name, Interactions in) {
        boolean[] keep = new boolean[in.size()];
        int kept = 0;
        LongOpenHashSet seen = dedupe ? new LongOpenHashSet() : null;
        for (int e = 0; e < in.size(); e++) {
            if (minRating != null) {
                if (!in.hasRating()) throw new DataFormatException(in.source(), 0, "a rating threshold was asked for, but the data has no rating column");
                if (!(in.rating(e) >= minRating)) continue;
            }
            if (seen != null && !seen.add(((long) in.user(e) << 32) | in.item(e))) continue;
            keep[e] = true;
            kept++;
        }
        if (kept == 0) {
            throw new DataFormatException(in.source(), 0, minRating == null ? "no interactions (the data holds no rows)"
                    : "no interactions left after the rating threshold " + minRating);
        }
        if (kcoreUsers > 0 || kcoreItems > 0) kept = kcore(in, keep);
        if (kept == 0) throw new DataFormatException(in.source(), 0, "no interactions left after the " + kcoreUsers + "/" + kcoreItems
                + " (users/items) k-core");
        return split(name, in, keep);
    }

    /** Iterates the k-core to a fixed point; returns the number of events kept. */
    private int kcore(Interactions in, boolean[] keep) {
        int[] du = new int[in.userIds().size()], di = new int[in.itemIds().size()];
        while (true) {
            java.util.Arrays.fill(du, 0);
            java.util.Arrays.fill(di, 0);
            for (int e = 0; e < keep.length; e++) if (keep[e]) { du[in.user(e)]++; di[in.item(e)]++; }
            int dropped = 0, kept = 0;
            for (int e = 0; e < keep.length; e++) {
                if (!keep[e]) continue;
                if (du[in.user(e)] < kcoreUsers || di[in.item(e)] < kcoreItems) { keep[e] = false; dropped++; } else kept++;
            }
            if (dropped == 0) return kept;
        }
    }

    private Dataset split(String name, Interactions in, boolean[] keep) {
        boolean[] userUsed = new boolean[in.userIds().size()], itemUsed = new boolean[in.itemIds().size()];
        for (int e = 0; e < keep.length; e++) if (keep[e]) { userUsed[in.user(e)] = true; itemUsed[in.item(e)] = true; }
        IdMap users = in.userIds().filter(userUsed), items = in.itemIds().filter(itemUsed);
        int[] userMap = renumber(userUsed), itemMap = renumber(itemUsed);
        int nu = users.size(), ni = items.size();
        IntArrayList[] events = new IntArrayList[nu];
        for (int u = 0; u < nu; u++) events[u] = new IntArrayList();
        for (int e = 0; e < keep.length; e++) if (keep[e]) events[userMap[in.user(e)]].add(e);
        int[][] tr = new int[nu][], va = new int[nu][], te = new int[nu][];
        for (int u = 0; u < nu; u++) {
            int[] ev = events[u].toIntArray();
            if (in.hasTimestamp()) ev = sortByTime(in, ev);
            int n = ev.length;
            int nTrain = Math.max(n * 8 / 10, 1), nValid = Math.max(n * 9 / 10, nTrain);
            tr[u] = items(in, ev, 0, nTrain, itemMap);
            va[u] = items(in, ev, nTrain, nValid, itemMap);
            te[u] = items(in, ev, nValid, n, itemMap);
        }
        return new Dataset(name, users, items, InteractionMatrix.fromRows(nu, ni, tr), InteractionMatrix.fromRows(nu, ni, va),
                InteractionMatrix.fromRows(nu, ni, te));
    }

    /** The per-user split rule: sizes of (train, valid, test) for n events. */
    public static int[] splitSizes(int n) {
        int nTrain = Math.max(n * 8 / 10, 1), nValid = Math.max(n * 9 / 10, nTrain);
        if (n == 0) return new int[] {0, 0, 0};
        return new int[] {nTrain, nValid - nTrain, n - nValid};
    }

    private static int[] sortByTime(Interactions in, int[] ev) {
        Integer[] boxed = new Integer[ev.length];
        for (int i = 0; i < ev.length; i++) boxed[i] = ev[i];
        java.util.Arrays.sort(boxed, (a, b) -> Long.compare(in.timestamp(a), in.timestamp(b))); // stable: ties keep file order
        for (int i = 0; i < ev.length; i++) ev[i] = boxed[i];
        return ev;
    }

    private static int[] items(Interactions in, int[] ev, int from, int to, int[] itemMap) {
        int[] r = new int[Math.max(0, to - from)];
        for (int j = from; j < to; j++) r[j - from] = itemMap[in.item(ev[j])];
        return r;
    }

    private static int[] renumber(boolean[] used) {
        int[] map = new int[used.length];
        int next = 0;
        for (int i = 0; i < used.length; i++) map[i] = used[i] ? next++ : -1;
        return map;
    }
}

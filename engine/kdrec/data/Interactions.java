package kdrec.data;

import it.unimi.dsi.fastutil.floats.FloatArrayList;
import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.longs.LongArrayList;

/**
 * A raw event list in file order: dense user and item ids (through {@link IdMap}s), optional
 * ratings and timestamps. Readers append; {@link Preprocess} filters and splits.
 */
public final class Interactions {
    final String source;
    final IdMap users, items;
    final IntArrayList user = new IntArrayList(), item = new IntArrayList();
    final FloatArrayList rating;
    final LongArrayList timestamp;

    public Interactions(String source, IdMap users, IdMap items, boolean hasRating, boolean hasTimestamp) {
        this.source = source;
        this.users = users;
        this.items = items;
        this.rating = hasRating ? new FloatArrayList() : null;
        this.timestamp = hasTimestamp ? new LongArrayList() : null;
    }

    public Interactions(String source, boolean hasRating, boolean hasTimestamp) {
        this(source, new IdMap(), new IdMap(), hasRating, hasTimestamp);
    }

    /** Appends one event by original ids; rating/timestamp ignored when the list has none. */
    public void add(String userId, String itemId, float r, long ts) {
        addDense(users.intern(userId), items.intern(itemId), r, ts);
    }

    public void addDense(int u, int i, float r, long ts) {
        user.add(u);
        item.add(i);
        if (rating != null) rating.add(r);
        if (timestamp != null) timestamp.add(ts);
    }

    /**
     * The same events in a seeded random order (Fisher-Yates): for data whose file order means
     * nothing, so that an order-based split becomes a random hold-out.
     */
    public Interactions permuted(long seed) {
        int n = size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        Interactions out = new Interactions(source, users, items, hasRating(), hasTimestamp());
        for (int e : p) out.addDense(user(e), item(e), hasRating() ? rating(e) : 0f, hasTimestamp() ? timestamp(e) : 0L);
        return out;
    }

    public int size() {
        return user.size();
    }

    public String source() {
        return source;
    }

    public boolean hasRating() {
        return rating != null;
    }

    public boolean hasTimestamp() {
        return timestamp != null;
    }

    public IdMap userIds() {
        return users;
    }

    public IdMap itemIds() {
        return items;
    }

    public int user(int e) {
        return user.getInt(e);
    }

    public int item(int e) {
        return item.getInt(e);
    }

    public float rating(int e) {
        return rating.getFloat(e);
    }

    public long timestamp(int e) {
        return timestamp.getLong(e);
    }
}

package kdrec.data;

import java.util.SplittableRandom;
import kdrec.cpu.Parallel;

/**
 * Uniform negative sampling for BPR as the KD papers' code does it: for every train pair (u, i),
 * one item drawn uniformly from the items u has not interacted with in train, redrawn every epoch.
 * Each user's draws come from a generator seeded by (seed, epoch, user), so the result is the same
 * for any thread count. Rejection sampling; users who have most of the catalogue draw from their
 * explicit complement instead.
 */
public final class NegativeSampler {
    private final InteractionMatrix train;

    public NegativeSampler(InteractionMatrix train) {
        this.train = train;
        for (int u = 0; u < train.users(); u++) {
            if (train.rowLength(u) >= train.items()) {
                throw new IllegalArgumentException("user " + u + " has interacted with every item: no negative can be sampled");
            }
        }
    }

    /** One negative per train entry, aligned with the train CSR entries. */
    public int[] sample(long seed, int epoch) {
        int[] ptr = train.ptr(), idx = train.indices();
        int items = train.items();
        int[] out = new int[idx.length];
        Parallel.forRange(train.users(), 64, 256, (from, to) -> {
            for (int u = from; u < to; u++) {
                int a = ptr[u], b = ptr[u + 1];
                if (a == b) continue;
                SplittableRandom r = new SplittableRandom(mix(seed, epoch, u));
                if ((b - a) * 2 < items) {
                    for (int j = a; j < b; j++) {
                        int c;
                        do {
                            c = r.nextInt(items);
                        } while (java.util.Arrays.binarySearch(idx, a, b, c) >= 0);
                        out[j] = c;
                    }
                } else {
                    int[] complement = new int[items - (b - a)];
                    int n = 0, p = a;
                    for (int it = 0; it < items; it++) {
                        if (p < b && idx[p] == it) p++; else complement[n++] = it;
                    }
                    for (int j = a; j < b; j++) out[j] = complement[r.nextInt(n)];
                }
            }
        });
        return out;
    }

    /** A seeded permutation of the train entries (the epoch's batch order). */
    public int[] permutation(long seed, int epoch) {
        int n = train.nnz();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(mix(seed, epoch, -1));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static long mix(long seed, int epoch, int user) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + (user + 1L) * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

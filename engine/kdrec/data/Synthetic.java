package kdrec.data;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded synthetic interaction generator with planted structure, for tests, demos and
 * benchmarks at any size: users and items belong to latent clusters; an interaction picks, with
 * probability {@code affinity}, an item of the user's own cluster, else any item, in both cases
 * by power-law popularity (Zipf exponent {@code zipf}). Events carry timestamps (generation
 * order), so the 8:1:1 split is chronological. A Gowalla-sized set (30k users, 41k items, ~1M
 * events) takes about a second.
 */
public record Synthetic(int users, int items, int perUser, int clusters, double affinity, double zipf, long seed) {
    public Synthetic {
        if (users < 1 || items < 2 || perUser < 1 || clusters < 1) throw new IllegalArgumentException("synthetic: users, per_user, clusters must be >= 1 and items >= 2");
        if (!(affinity >= 0 && affinity <= 1)) throw new IllegalArgumentException("synthetic: affinity must be in [0, 1], got " + affinity);
        if (!(zipf >= 0)) throw new IllegalArgumentException("synthetic: zipf must be >= 0, got " + zipf);
        if (perUser >= items) throw new IllegalArgumentException("synthetic: per_user (" + perUser + ") must be below items (" + items + ")");
    }

    public static final String KEYS = "users, items, per_user, clusters, affinity, zipf, seed";

    public static Synthetic defaults() {
        return new Synthetic(3000, 2000, 30, 20, 0.8, 0.8, 7);
    }

    /** A Gowalla-sized set: 30k users, 41k items, 27 interactions per user on average (~810k train after the split). */
    public static Synthetic gowallaSized(long seed) {
        return new Synthetic(30000, 41000, 34, 50, 0.8, 0.8, seed);
    }

    /** Overrides from "key=value" pairs (the part after "synthetic:" in a data spec). */
    public Synthetic with(Map<String, String> kv) {
        int u = users, i = items, p = perUser, c = clusters;
        double a = affinity, z = zipf;
        long s = seed;
        for (var e : kv.entrySet()) {
            String v = e.getValue().trim();
            try {
                switch (e.getKey().trim().toLowerCase(Locale.ROOT)) {
                    case "users" -> u = Integer.parseInt(v);
                    case "items" -> i = Integer.parseInt(v);
                    case "per_user" -> p = Integer.parseInt(v);
                    case "clusters" -> c = Integer.parseInt(v);
                    case "affinity" -> a = Double.parseDouble(v);
                    case "zipf" -> z = Double.parseDouble(v);
                    case "seed" -> s = Long.parseLong(v);
                    default -> throw new IllegalArgumentException("synthetic: unknown key '" + e.getKey() + "'; allowed: " + KEYS);
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("synthetic: " + e.getKey() + " must be a number, got '" + v + "'");
            }
        }
        return new Synthetic(u, i, p, c, a, z, s);
    }

    /** Generates the events (timestamps = generation order within each user's stream). */
    public Interactions generate() {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] itemCluster = new int[items];
        double[] weight = new double[items];
        int[] perm = permutation(items, rnd);
        for (int j = 0; j < items; j++) {
            itemCluster[j] = rnd.nextInt(clusters);
            weight[j] = Math.pow(perm[j] + 1, -zipf); // popularity rank perm[j]
        }
        int[][] members = new int[clusters][];
        int[] count = new int[clusters];
        for (int c : itemCluster) count[c]++;
        for (int c = 0; c < clusters; c++) members[c] = new int[count[c]];
        int[] fill = new int[clusters];
        for (int j = 0; j < items; j++) members[itemCluster[j]][fill[itemCluster[j]]++] = j;
        Alias global = new Alias(weight, null);
        Alias[] local = new Alias[clusters];
        for (int c = 0; c < clusters; c++) local[c] = members[c].length == 0 ? null : new Alias(weight, members[c]);
        IdMap um = IdMap.identity(users), im = IdMap.identity(items);
        Interactions out = new Interactions("synthetic(" + this + ")", um, im, false, true);
        long ts = 0;
        it.unimi.dsi.fastutil.ints.IntOpenHashSet seen = new it.unimi.dsi.fastutil.ints.IntOpenHashSet();
        for (int u = 0; u < users; u++) {
            int cu = rnd.nextInt(clusters);
            int n = Math.max(3, (int) Math.round(perUser * (0.3 + 1.4 * rnd.nextDouble())));
            n = Math.min(n, items - 1);
            seen.clear();
            int guard = 0;
            while (seen.size() < n && guard++ < 50 * n) {
                Alias a = rnd.nextDouble() < affinity && local[cu] != null ? local[cu] : global;
                int j = a.sample(rnd);
                if (seen.add(j)) out.addDense(u, j, 1f, ts++);
            }
        }
        return out;
    }

    private static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Walker's alias method over weight[ids[k]] (or all of weight when ids is null): O(1) draws. */
    static final class Alias {
        private final int[] ids, alias;
        private final double[] prob;

        Alias(double[] weight, int[] subset) {
            int n = subset == null ? weight.length : subset.length;
            ids = subset;
            alias = new int[n];
            prob = new double[n];
            double sum = 0;
            for (int k = 0; k < n; k++) sum += weight[subset == null ? k : subset[k]];
            double[] scaled = new double[n];
            int[] small = new int[n], large = new int[n];
            int ns = 0, nl = 0;
            for (int k = 0; k < n; k++) {
                scaled[k] = weight[subset == null ? k : subset[k]] * n / sum;
                if (scaled[k] < 1) small[ns++] = k; else large[nl++] = k;
            }
            while (ns > 0 && nl > 0) {
                int s = small[--ns], l = large[--nl];
                prob[s] = scaled[s];
                alias[s] = l;
                scaled[l] = scaled[l] + scaled[s] - 1;
                if (scaled[l] < 1) small[ns++] = l; else large[nl++] = l;
            }
            while (nl > 0) prob[large[--nl]] = 1;
            while (ns > 0) prob[small[--ns]] = 1;
        }

        int sample(SplittableRandom rnd) {
            int k = rnd.nextInt(prob.length);
            int pick = rnd.nextDouble() < prob[k] ? k : alias[k];
            return ids == null ? pick : ids[pick];
        }
    }

    @Override
    public String toString() {
        return "users=" + users + ",items=" + items + ",per_user=" + perUser + ",clusters=" + clusters + ",affinity=" + affinity
                + ",zipf=" + zipf + ",seed=" + seed;
    }
}

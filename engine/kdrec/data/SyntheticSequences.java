package kdrec.data;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded synthetic <em>sequential</em> generator with item-to-item Markov structure, for tests,
 * demos and benchmarks of sequential backbones: every item has {@code branching} successors (drawn
 * uniformly); a user starts at a random item and each next event is, with probability {@code p},
 * one of the current item's successors, else any item. An item the user already has is redrawn
 * (preprocessing keeps first occurrences only, so repeats would just vanish). Timestamps are the
 * generation order, so the 8:1:1 split is chronological and the valid/test items follow the last
 * train items in the chain: an order-aware model can predict them, a bag-of-items model only
 * partly. Spec: {@code markov:users=..,items=..,per_user=..,branching=..,p=..,seed=..}.
 */
public record SyntheticSequences(int users, int items, int perUser, int branching, double p, long seed) {
    public SyntheticSequences {
        if (users < 1 || items < 4 || perUser < 3 || branching < 1) {
            throw new IllegalArgumentException("markov: users and branching must be >= 1, items >= 4, per_user >= 3");
        }
        if (perUser >= items / 2) throw new IllegalArgumentException("markov: per_user (" + perUser + ") must be below items/2 (" + items / 2 + ")");
        if (branching >= items) throw new IllegalArgumentException("markov: branching (" + branching + ") must be below items (" + items + ")");
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("markov: p must be in [0, 1], got " + p);
    }

    public static final String KEYS = "users, items, per_user, branching, p, seed";

    public static SyntheticSequences defaults() {
        return new SyntheticSequences(2000, 1000, 20, 3, 0.9, 7);
    }

    /** Overrides from "key=value" pairs (the part after "markov:" in a data spec). */
    public SyntheticSequences with(Map<String, String> kv) {
        int u = users, i = items, n = perUser, b = branching;
        double q = p;
        long s = seed;
        for (var e : kv.entrySet()) {
            String v = e.getValue().trim();
            try {
                switch (e.getKey().trim().toLowerCase(Locale.ROOT)) {
                    case "users" -> u = Integer.parseInt(v);
                    case "items" -> i = Integer.parseInt(v);
                    case "per_user" -> n = Integer.parseInt(v);
                    case "branching" -> b = Integer.parseInt(v);
                    case "p" -> q = Double.parseDouble(v);
                    case "seed" -> s = Long.parseLong(v);
                    default -> throw new IllegalArgumentException("markov: unknown key '" + e.getKey() + "'; allowed: " + KEYS);
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("markov: " + e.getKey() + " must be a number, got '" + v + "'");
            }
        }
        return new SyntheticSequences(u, i, n, b, q, s);
    }

    /** The successor table: items x branching, row j = the items that may follow j. */
    public int[] successors() {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] next = new int[items * branching];
        for (int j = 0; j < items; j++) {
            for (int b = 0; b < branching; b++) {
                int s;
                do s = rnd.nextInt(items); while (s == j);
                next[j * branching + b] = s;
            }
        }
        return next;
    }

    /** Generates the events (timestamps = generation order; lengths vary in [0.5, 1.5] x per_user). */
    public Interactions generate() {
        int[] next = successors();
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Interactions out = new Interactions("markov(" + this + ")", IdMap.identity(users), IdMap.identity(items), false, true);
        long ts = 0;
        boolean[] seen = new boolean[items];
        int[] mine = new int[2 * perUser];
        for (int u = 0; u < users; u++) {
            int n = Math.max(3, (int) Math.round(perUser * (0.5 + rnd.nextDouble())));
            int cur = rnd.nextInt(items);
            for (int t = 0; t < n; t++) {
                if (t > 0) {
                    int cand = -1;
                    for (int tries = 0; tries < 8 && cand < 0; tries++) {
                        int c = rnd.nextDouble() < p ? next[cur * branching + rnd.nextInt(branching)] : rnd.nextInt(items);
                        if (!seen[c]) cand = c;
                    }
                    while (cand < 0 || seen[cand]) cand = rnd.nextInt(items); // the chain is stuck: jump
                    cur = cand;
                }
                seen[cur] = true;
                mine[t] = cur;
                out.addDense(u, cur, 1f, ts++);
            }
            for (int t = 0; t < n; t++) seen[mine[t]] = false;
        }
        return out;
    }

    @Override
    public String toString() {
        return "users=" + users + ",items=" + items + ",per_user=" + perUser + ",branching=" + branching + ",p=" + p + ",seed=" + seed;
    }
}

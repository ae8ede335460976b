package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SequencesTest {
    @Test
    void trainItemsInTimestampOrderLastMaxLenKept() {
        // user a: 10 events given out of time order; the split sorts by time: train = first 8
        Interactions in = new Interactions("t", false, true);
        long[] ts = {5, 1, 9, 3, 7, 2, 8, 4, 6, 10};
        for (int e = 0; e < ts.length; e++) in.add("a", "i" + ts[e], 1f, ts[e]);
        Dataset ds = Preprocess.defaults().apply("t", in);
        Sequences s = Sequences.of(ds.train(), 5);
        assertEquals(5, s.length(0));
        // items are numbered in file order: i5=0, i1=1, i9=2, i3=3, i7=4, i2=5, i8=6, i4=7, i6=8, i10=9
        // time order i1..i8 is train; the last 5 are i4 i5 i6 i7 i8
        int[] got = new int[5];
        for (int t = 0; t < 5; t++) got[t] = s.item(0, t);
        assertArrayEquals(new int[] {7, 0, 8, 4, 6}, got);
        // valid is i9, test i10: they follow the sequence
        assertArrayEquals(new int[] {2}, java.util.Arrays.copyOfRange(ds.valid().ordered(), 0, 1));
        assertArrayEquals(new int[] {9}, java.util.Arrays.copyOfRange(ds.test().ordered(), 0, 1));
        assertEquals(8, Sequences.of(ds.train(), 100).length(0));
        assertThrows(IllegalArgumentException.class, () -> Sequences.of(ds.train(), 0));
        // the test history appends the valid item i9 and still keeps only the last max_len: i5 i6 i7 i8 i9
        Sequences withValid = Sequences.of(ds.train(), ds.valid(), 5);
        int[] tv = new int[withValid.length(0)];
        for (int t = 0; t < tv.length; t++) tv[t] = withValid.item(0, t);
        assertArrayEquals(new int[] {0, 8, 4, 6, 2}, tv);
        assertEquals(9, Sequences.of(ds.train(), ds.valid(), 100).length(0));
        assertEquals(2, Sequences.of(ds.train(), ds.valid(), 100).item(0, 8));
    }

    @Test
    void markovGeneratorIsSeededAndFollowsItsChain() {
        SyntheticSequences g = SyntheticSequences.defaults().with(java.util.Map.of("users", "50", "items", "60", "per_user", "10",
                "branching", "2", "p", "1.0", "seed", "3"));
        Dataset a = Preprocess.defaults().apply("m", g.generate()), b = Preprocess.defaults().apply("m", g.generate());
        assertEquals(a.fingerprint(), b.fingerprint());
        int[] next = g.successors();
        InteractionMatrix tr = a.train();
        int steps = 0, onChain = 0;
        for (int u = 0; u < a.users(); u++) {
            for (int j = tr.orderedPtr()[u] + 1; j < tr.orderedPtr()[u + 1]; j++) {
                int prev = Integer.parseInt(a.itemIds().originals().get(tr.ordered()[j - 1]));
                int cur = Integer.parseInt(a.itemIds().originals().get(tr.ordered()[j]));
                steps++;
                if (cur == next[prev * 2] || cur == next[prev * 2 + 1]) onChain++;
            }
        }
        // with p = 1 only a stuck chain (both successors already seen, 8 tries) jumps
        assertTrue(onChain > 0.8 * steps, onChain + " of " + steps);
        Dataset viaSpec = Datasets.loadUnchecked("markov:users=50,items=60,per_user=10,branching=2,p=1.0,seed=3");
        assertEquals(a.fingerprint(), viaSpec.fingerprint());
        assertThrows(IllegalArgumentException.class, () -> Datasets.loadUnchecked("markov:bogus=1"));
    }

    @Test
    void validMustHaveTheTrainUsers() {
        InteractionMatrix tr = InteractionMatrix.fromRows(2, 3, new int[][] {{0}, {1}});
        var e = assertThrows(IllegalArgumentException.class, () -> Sequences.of(tr, InteractionMatrix.empty(3, 3), 4));
        assertEquals("sequences: valid has 3 users, train 2", e.getMessage());
        Sequences s = Sequences.of(tr, InteractionMatrix.empty(2, 3), 1);
        assertEquals(2, s.users());
        assertEquals(1, s.maxLen());
        assertArrayEquals(new int[] {0, 1, 2}, s.ptr());
        assertArrayEquals(new int[] {0, 1}, s.items());
        // a valid row longer than max_len leaves no train item
        InteractionMatrix va = InteractionMatrix.fromRows(2, 3, new int[][] {{2, 1}, {}});
        Sequences v = Sequences.of(tr, va, 2);
        assertArrayEquals(new int[] {0, 2, 3}, v.ptr());
        assertArrayEquals(new int[] {2, 1, 1}, v.items());
    }

    @Test
    void markovSettingsAreCheckedAndParsed() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(0, 10, 3, 1, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 3, 3, 1, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 10, 2, 1, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 10, 3, 0, 0.5, 1));
        var half = assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 10, 5, 1, 0.5, 1));
        assertEquals("markov: per_user (5) must be below items/2 (5)", half.getMessage());
        new SyntheticSequences(1, 10, 4, 9, 0, 1); // the largest per_user and branching, p at both ends
        new SyntheticSequences(1, 10, 4, 1, 1, 1);
        var br = assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 10, 4, 10, 0.5, 1));
        assertEquals("markov: branching (10) must be below items (10)", br.getMessage());
        for (double p : new double[] {-0.1, 1.1, Double.NaN}) {
            assertThrows(IllegalArgumentException.class, () -> new SyntheticSequences(1, 10, 4, 1, p, 1), "p " + p);
        }
        SyntheticSequences g = SyntheticSequences.defaults().with(java.util.Map.of(" Users ", "5", "items", "30", "per_user", "4",
                "branching", "2", "p", "0.25", "seed", "11"));
        assertEquals(new SyntheticSequences(5, 30, 4, 2, 0.25, 11), g);
        assertEquals(new SyntheticSequences(2000, 1000, 20, 3, 0.9, 7), SyntheticSequences.defaults());
        assertEquals("users=5,items=30,per_user=4,branching=2,p=0.25,seed=11", g.toString());
        var unknown = assertThrows(IllegalArgumentException.class, () -> g.with(java.util.Map.of("len", "3")));
        assertEquals("markov: unknown key 'len'; allowed: " + SyntheticSequences.KEYS, unknown.getMessage());
        var nan = assertThrows(IllegalArgumentException.class, () -> g.with(java.util.Map.of("users", "many")));
        assertEquals("markov: users must be a number, got 'many'", nan.getMessage());
    }

    @Test
    void markovSequencesHaveNoRepeatsAndBoundedLengths() {
        SyntheticSequences g = new SyntheticSequences(40, 30, 6, 2, 0.7, 5);
        int[] next = g.successors();
        assertEquals(60, next.length);
        for (int j = 0; j < 30; j++) {
            for (int b = 0; b < 2; b++) {
                int s = next[j * 2 + b];
                assertTrue(s >= 0 && s < 30 && s != j, "successor " + s + " of " + j);
            }
        }
        assertArrayEquals(next, g.successors());
        assertFalse(java.util.Arrays.equals(next, new SyntheticSequences(40, 30, 6, 2, 0.7, 6).successors()));
        Interactions in = g.generate();
        assertEquals("markov(" + g + ")", in.source());
        assertTrue(in.hasTimestamp());
        assertFalse(in.hasRating());
        assertEquals(40, in.userIds().size());
        assertEquals(30, in.itemIds().size());
        int[] count = new int[40];
        java.util.Set<Long> pairs = new java.util.HashSet<>();
        for (int e = 0; e < in.size(); e++) {
            assertEquals(e, in.timestamp(e), "timestamps are the generation order");
            if (e > 0) assertTrue(in.user(e) >= in.user(e - 1), "users come one after another");
            count[in.user(e)]++;
            assertTrue(pairs.add((long) in.user(e) << 32 | in.item(e)), "user " + in.user(e) + " repeats item " + in.item(e));
        }
        int shortest = Integer.MAX_VALUE, longest = 0;
        for (int c : count) {
            shortest = Math.min(shortest, c);
            longest = Math.max(longest, c);
        }
        // lengths round(6 * [0.5, 1.5)), at least 3: 3..9
        assertTrue(shortest >= 3 && longest <= 9, shortest + ".." + longest);
        assertTrue(longest >= 7 && shortest <= 4, "lengths vary: " + shortest + ".." + longest);
        // with p = 0 every step is uniform: the chain is followed about branching/items of the time
        SyntheticSequences uniform = new SyntheticSequences(200, 30, 6, 2, 0.0, 5);
        int[] nx = uniform.successors();
        Interactions u = uniform.generate();
        int steps = 0, onChain = 0;
        for (int e = 1; e < u.size(); e++) {
            if (u.user(e) != u.user(e - 1)) continue;
            steps++;
            int prev = u.item(e - 1), cur = u.item(e);
            if (cur == nx[prev * 2] || cur == nx[prev * 2 + 1]) onChain++;
        }
        assertTrue(onChain < 0.25 * steps, onChain + " of " + steps);
    }

    @Test
    void aLaterUsersLongRowKeepsOnlyItsOwnLastItems() {
        // user 1's train row is longer than max_len: its oldest item is cut, user 0's sequence is untouched
        InteractionMatrix tr = InteractionMatrix.fromRows(2, 4, new int[][] {{3}, {0, 1, 2}});
        Sequences s = Sequences.of(tr, 2);
        assertArrayEquals(new int[] {0, 1, 3}, s.ptr());
        assertArrayEquals(new int[] {3, 1, 2}, s.items());
        InteractionMatrix va = InteractionMatrix.fromRows(2, 4, new int[][] {{}, {3, 0, 2}});
        Sequences v = Sequences.of(tr, va, 2);
        assertArrayEquals(new int[] {3, 0, 2}, v.items());
        new SyntheticSequences(1, 8, 3, 1, 0.5, 1); // the shortest per_user
    }
}

package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Threshold, dedupe, k-core, the 8:1:1 split rule, and the real datasets' counts. */
class PreprocessTest {
    @Test
    void splitRuleMatchesTheKdCode() {
        assertArrayEquals(new int[] {1, 0, 0}, Preprocess.splitSizes(1));
        assertArrayEquals(new int[] {1, 0, 1}, Preprocess.splitSizes(2));
        assertArrayEquals(new int[] {4, 0, 1}, Preprocess.splitSizes(5));
        assertArrayEquals(new int[] {8, 1, 1}, Preprocess.splitSizes(10));
        assertArrayEquals(new int[] {16, 2, 2}, Preprocess.splitSizes(20));
        assertArrayEquals(new int[] {16, 2, 3}, Preprocess.splitSizes(21));
    }

    @Test
    void splitFollowsTimestampsStablyElseFileOrder() {
        Interactions in = new Interactions("t", false, true);
        // user u: items 0..9 with timestamps reversed, except a tie between items 4 and 5
        long[] ts = {90, 80, 70, 60, 50, 50, 30, 20, 10, 0};
        for (int i = 0; i < 10; i++) in.add("u", "i" + i, 0, ts[i]);
        Dataset ds = Preprocess.defaults().apply("t", in);
        // chronological: i9 i8 i7 i6 i4 i5 i3 i2 | i1 | i0  (the tie keeps file order: i4 before i5)
        assertTrue(ds.test().contains(0, ds.itemIds().find("i0")));
        assertTrue(ds.valid().contains(0, ds.itemIds().find("i1")));
        int[] ordered = java.util.Arrays.copyOfRange(ds.train().ordered(), 0, 8);
        assertEquals(ds.itemIds().find("i4"), ordered[4]);
        assertEquals(ds.itemIds().find("i5"), ordered[5]);
        Interactions noTs = new Interactions("f", false, false);
        for (int i = 0; i < 10; i++) noTs.add("u", "i" + i, 0, 0);
        Dataset f = Preprocess.defaults().apply("f", noTs);
        assertTrue(f.test().contains(0, f.itemIds().find("i9")), "file order: the last event is the test event");
    }

    @Test
    void thresholdDedupeAndIteratedKcore() {
        Interactions in = new Interactions("k", true, false);
        // a 3-core: users a,b,c each with items x,y,z; user d touches x and w once; item w only by d.
        for (String u : new String[] {"a", "b", "c"}) for (String i : new String[] {"x", "y", "z"}) in.add(u, i, 5, 0);
        in.add("a", "x", 5, 0); // duplicate
        in.add("d", "x", 5, 0);
        in.add("d", "w", 5, 0);
        in.add("e", "y", 1, 0); // below threshold
        Dataset ds = new Preprocess(3f, 3, 3, true).apply("k", in);
        assertEquals(3, ds.users(), "d falls out (2 interactions), then w; e is below the threshold");
        assertEquals(3, ds.items());
        assertEquals(9, ds.stats().interactions());
        var e = assertThrows(DataFormatException.class, () -> new Preprocess(3f, 10, 0, true).apply("k", in));
        assertTrue(e.getMessage().contains("k-core"), e.getMessage());
        var e2 = assertThrows(DataFormatException.class, () -> new Preprocess(9f, 0, 0, true).apply("k", in));
        assertTrue(e2.getMessage().contains("rating threshold"), e2.getMessage());
    }

    @Test
    void embeddedInstEval() throws IOException {
        Dataset ds = Datasets.load("insteval", Preprocess.defaults());
        assertEquals(2972, ds.users());
        assertEquals(1128, ds.items());
        assertEquals(73421, ds.stats().interactions(), "InstEval has no duplicate (student, lecturer) pairs");
        assertTrue(ds.hasValid());
        assertEquals(ds.fingerprint(), Datasets.load("insteval", Preprocess.defaults()).fingerprint(), "the row shuffle is seeded");
    }

    @Test
    void sharedInstEvalSplitCounts() throws IOException {
        Path split = Path.of("..", "shared", "data", "splits", "insteval-seed42");
        Assumptions.assumeTrue(Files.isDirectory(split), "../shared/data/splits/insteval-seed42 not present: skipped");
        Dataset ds = Datasets.load(split.toString(), Preprocess.defaults());
        assertEquals(2972, ds.users());
        assertEquals(1128, ds.items());
        assertEquals(58792, ds.train().nnz());
        assertEquals(14629, ds.test().nnz());
        assertFalse(ds.hasValid());
    }

    @Test
    void syntheticIsReproducibleAndPlanted() {
        Dataset a = Datasets.loadUnchecked("synthetic:users=400,items=300,per_user=20,seed=3");
        Dataset b = Datasets.loadUnchecked("synthetic:users=400,items=300,per_user=20,seed=3");
        Dataset c = Datasets.loadUnchecked("synthetic:users=400,items=300,per_user=20,seed=4");
        assertEquals(a.fingerprint(), b.fingerprint());
        assertFalse(a.fingerprint().equals(c.fingerprint()));
        assertEquals(400, a.users());
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.loadUnchecked("synthetic:colour=red"));
        assertTrue(e.getMessage().contains("allowed"), e.getMessage());
    }

    @Test
    void negativesAvoidTrainItemsAndAreReproducible() {
        Dataset ds = Datasets.loadUnchecked("synthetic:users=300,items=80,per_user=30,seed=5");
        NegativeSampler s = new NegativeSampler(ds.train());
        int[] neg = s.sample(1, 0);
        int[] users = ds.train().rowOfEntry();
        for (int j = 0; j < neg.length; j++) assertFalse(ds.train().contains(users[j], neg[j]), "negative " + neg[j] + " of user " + users[j]);
        assertArrayEquals(neg, s.sample(1, 0));
        assertFalse(java.util.Arrays.equals(neg, s.sample(1, 1)), "a new epoch draws new negatives");
        kdrec.cpu.Parallel.setThreads(1);
        try {
            assertArrayEquals(neg, s.sample(1, 0), "independent of the thread count");
        } finally {
            kdrec.cpu.Parallel.setThreads(Runtime.getRuntime().availableProcessors());
        }
        int[] perm = s.permutation(1, 0);
        assertEquals(neg.length, java.util.Arrays.stream(perm).distinct().count());
    }

    @Test
    void aUserWithEveryItemCannotGetNegatives() {
        InteractionMatrix full = InteractionMatrix.fromRows(1, 3, new int[][] {{0, 1, 2}});
        var e = assertThrows(IllegalArgumentException.class, () -> new NegativeSampler(full));
        assertTrue(e.getMessage().contains("user 0"), e.getMessage());
    }

    @Test
    void preprocessingRefusalsSayWhy() {
        // each refusal names the flag and the value (the CLI passes the flags through unchanged)
        assertEquals("--kcore-users must be >= 0 (0 = off), got -1", assertThrows(IllegalArgumentException.class, () -> new Preprocess(null, -1, 0, true)).getMessage());
        assertEquals("--kcore-items must be >= 0 (0 = off), got -2", assertThrows(IllegalArgumentException.class, () -> new Preprocess(null, 0, -2, true)).getMessage());
        for (float bad : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}) {
            assertEquals("--min-rating must be a finite number, got " + bad,
                    assertThrows(IllegalArgumentException.class, () -> new Preprocess(bad, 0, 0, true)).getMessage());
        }
        Interactions noRating = new Interactions("nr", false, false);
        noRating.add("u", "i", 0, 0);
        var e = assertThrows(DataFormatException.class, () -> new Preprocess(1f, 0, 0, true).apply("nr", noRating));
        assertEquals("nr: a rating threshold was asked for, but the data has no rating column", e.getMessage());
        var none = assertThrows(DataFormatException.class, () -> Preprocess.defaults().apply("x", new Interactions("x", true, false)));
        assertEquals("x: no interactions (the data holds no rows)", none.getMessage());
        Interactions r = new Interactions("r", true, false);
        r.add("u", "i", 2f, 0);
        r.add("u", "j", Float.NaN, 0);
        var below = assertThrows(DataFormatException.class, () -> new Preprocess(2.5f, 0, 0, true).apply("r", r));
        assertEquals("r: no interactions left after the rating threshold 2.5", below.getMessage());
        Dataset eq = new Preprocess(2f, 0, 0, true).apply("r", r);
        assertEquals(1, eq.stats().interactions(), "rating == threshold is kept; a NaN rating never passes");
        var core = assertThrows(DataFormatException.class, () -> new Preprocess(null, 0, 2, true).apply("r", r));
        assertEquals("r: no interactions left after the 0/2 (users/items) k-core", core.getMessage());
    }

    @Test
    void dedupeKeepsTheFirstOccurrenceAndCanBeOff() {
        Interactions in = new Interactions("d", true, true);
        in.add("u", "a", 1, 5);
        in.add("u", "b", 1, 1);
        in.add("u", "a", 1, 0); // a later duplicate with an earlier timestamp
        in.add("v", "a", 1, 0); // another user's (v, a) is not a duplicate of (u, a)
        Dataset on = Preprocess.defaults().apply("d", in);
        assertEquals(3, on.stats().interactions());
        assertEquals(2, on.users());
        // u keeps a at time 5: chronological b (t=1) then a (t=5); 2 events: train b, test a
        assertTrue(on.train().contains(0, on.itemIds().find("b")));
        assertTrue(on.test().contains(0, on.itemIds().find("a")));
        Dataset off = new Preprocess(null, 0, 0, false).apply("d", in);
        // u has 3 events a(t=0) b(t=1) a(t=5): 2 train, 0 valid, 1 test
        assertArrayEquals(new int[] {0, 2, 3}, off.train().orderedPtr(), "duplicates are kept in the ordered rows");
        int a = off.itemIds().find("a"), b = off.itemIds().find("b");
        assertArrayEquals(new int[] {a, b, a}, new int[] {off.train().ordered()[0], off.train().ordered()[1], off.test().ordered()[0]});
        // pairs are keyed on both ids: (0, 1) and (1, 1) in dense ids are different pairs
        Interactions swap = new Interactions("s", false, false);
        swap.addDense(0, 1, 0, 0);
        swap.addDense(1, 1, 0, 0);
        swap.userIds().intern("u0");
        swap.userIds().intern("u1");
        swap.itemIds().intern("i0");
        swap.itemIds().intern("i1");
        assertEquals(2, Preprocess.defaults().apply("s", swap).stats().interactions());
    }

    @Test
    void kcoreOnItemsAloneAndUsersAlone() {
        Interactions in = new Interactions("k", false, false);
        // items: x by a, b; y by a only. users: a has 2, b has 1
        in.add("a", "x", 0, 0);
        in.add("a", "y", 0, 0);
        in.add("b", "x", 0, 0);
        Dataset items = new Preprocess(null, 0, 2, true).apply("k", in);
        assertEquals(2, items.users());
        assertEquals(1, items.items(), "y (1 user) falls out; users are not filtered");
        assertEquals("x", items.itemIds().original(0));
        Dataset users = new Preprocess(null, 2, 0, true).apply("k", in);
        assertEquals(1, users.users(), "b (1 item) falls out; items are not filtered");
        assertEquals("a", users.userIds().original(0));
        assertEquals(2, users.items());
        Dataset exact = new Preprocess(null, 1, 1, true).apply("k", in);
        assertEquals(3, exact.stats().interactions(), "a k-core of 1 keeps everything");
    }

    @Test
    void splitRenumbersDenselyAndSizesEveryPart() {
        assertArrayEquals(new int[] {0, 0, 0}, Preprocess.splitSizes(0));
        assertArrayEquals(new int[] {2, 0, 1}, Preprocess.splitSizes(3));
        assertArrayEquals(new int[] {7, 1, 1}, Preprocess.splitSizes(9));
        assertArrayEquals(new int[] {8, 1, 2}, Preprocess.splitSizes(11));
        Interactions in = new Interactions("n", true, false);
        in.add("gone", "z", 0, 0); // below the threshold: user gone and item z vanish, the rest renumber
        for (int i = 0; i < 10; i++) in.add("u", "i" + i, 5, 0);
        in.add("w", "i3", 5, 0);
        Dataset ds = new Preprocess(1f, 0, 0, true).apply("n", in);
        assertEquals(java.util.List.of("u", "w"), ds.userIds().originals());
        assertEquals(10, ds.items());
        assertEquals(0, ds.itemIds().find("i0"));
        assertEquals(-1, ds.itemIds().find("z"));
        assertEquals(8, ds.train().rowLength(0));
        assertEquals(1, ds.valid().rowLength(0));
        assertEquals(1, ds.test().rowLength(0));
        assertTrue(ds.valid().contains(0, 8));
        assertTrue(ds.test().contains(0, 9));
        assertTrue(ds.train().contains(1, 3), "a single event trains");
        assertEquals(0, ds.test().rowLength(1));
        assertEquals(2, ds.valid().users());
        assertEquals(10, ds.test().items());
    }

    @Test
    void idMapsRoundTripAndRefuseMalformedFiles(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        IdMap m = new IdMap();
        assertEquals(0, m.intern("b"));
        assertEquals(1, m.intern("a"));
        assertEquals(0, m.intern("b"));
        assertEquals(-1, m.find("c"));
        assertEquals(1, m.find("a"));
        assertEquals(2, m.size());
        assertThrows(UnsupportedOperationException.class, () -> m.originals().add("x"));
        assertEquals(java.util.List.of("a"), m.filter(new boolean[] {false, true}).originals());
        assertEquals(java.util.List.of("0", "1", "2"), IdMap.identity(3).originals());
        Path f = dir.resolve("ids.tsv");
        m.intern("with\ttab");
        m.save(f);
        assertEquals("0\tb\n1\ta\n2\twith\ttab\n", Files.readString(f));
        IdMap back = IdMap.load(f);
        assertEquals(m.originals(), back.originals());
        Files.writeString(f, "0\tb\n\n1\ta\n");
        assertEquals(java.util.List.of("b", "a"), IdMap.load(f).originals(), "blank lines are skipped");
        Files.writeString(f, "0\tb\nx\n");
        var noTab = assertThrows(DataFormatException.class, () -> IdMap.load(f));
        assertEquals(f + ":2: expected 'dense<TAB>original'", noTab.getMessage());
        Files.writeString(f, "\tb\n");
        assertEquals(f + ":1: dense id is not an integer: ''", assertThrows(DataFormatException.class, () -> IdMap.load(f)).getMessage());
        Files.writeString(f, "0\tb\none\ta\n");
        var notInt = assertThrows(DataFormatException.class, () -> IdMap.load(f));
        assertEquals(f + ":2: dense id is not an integer: 'one'", notInt.getMessage());
        Files.writeString(f, "0\tb\n2\ta\n");
        var gap = assertThrows(DataFormatException.class, () -> IdMap.load(f));
        assertEquals(f + ":2: expected dense id 1, got 2", gap.getMessage());
    }

    @Test
    void permutedIsASeededShuffleKeepingEveryColumn() {
        Interactions in = new Interactions("p", true, true);
        for (int e = 0; e < 50; e++) in.add("u" + (e % 7), "i" + e, e, 100 + e);
        Interactions p = in.permuted(9), q = in.permuted(9), r = in.permuted(10);
        assertEquals(50, p.size());
        assertTrue(p.hasRating() && p.hasTimestamp());
        assertEquals("p", p.source());
        assertSame(in.userIds(), p.userIds());
        boolean[] seen = new boolean[50];
        boolean moved = false, differs = false;
        for (int e = 0; e < 50; e++) {
            int orig = (int) p.rating(e);
            assertFalse(seen[orig]);
            seen[orig] = true;
            assertEquals(100 + orig, p.timestamp(e));
            assertEquals(in.item(orig), p.item(e));
            assertEquals(in.user(orig), p.user(e));
            assertEquals(orig, (int) q.rating(e));
            moved |= orig != e;
            differs |= (int) r.rating(e) != orig;
        }
        assertTrue(moved && differs);
        assertTrue(p.rating(49) != 49f || p.rating(0) != 0f, "the first and last rows take part");
        Interactions bare = new Interactions("b", false, false);
        bare.add("u", "i", 3, 4);
        assertFalse(bare.permuted(1).hasRating());
        assertFalse(bare.permuted(1).hasTimestamp());
    }

    @Test
    void matrixChecksItemsAndCountsPopularity() {
        InteractionMatrix m = InteractionMatrix.fromRows(3, 4, new int[][] {{3, 1, 3}, {}, {0, 1}});
        assertEquals(4, m.nnz());
        assertArrayEquals(new int[] {0, 2, 2, 4}, m.ptr());
        assertArrayEquals(new int[] {1, 3, 0, 1}, m.indices());
        assertArrayEquals(new int[] {0, 3, 3, 5}, m.orderedPtr());
        assertArrayEquals(new int[] {3, 1, 3, 0, 1}, m.ordered());
        assertArrayEquals(new int[] {1, 2, 0, 1}, m.itemPopularity(), "duplicates in a row count once");
        assertArrayEquals(new int[] {0, 0, 2, 2}, m.rowOfEntry());
        assertEquals(0, m.rowLength(1));
        assertTrue(m.contains(0, 3));
        assertFalse(m.contains(1, 3));
        assertFalse(m.contains(2, 3));
        var hi = assertThrows(IllegalArgumentException.class, () -> InteractionMatrix.fromRows(1, 4, new int[][] {{4}}));
        assertEquals("item 4 of user 0 outside [0, 4)", hi.getMessage());
        assertThrows(IllegalArgumentException.class, () -> InteractionMatrix.fromRows(1, 4, new int[][] {{-1}}));
        InteractionMatrix e = InteractionMatrix.empty(2, 5);
        assertEquals(0, e.nnz());
        assertEquals(5, e.items());
        assertArrayEquals(new int[] {0, 0, 0}, e.ptr());
    }

    @Test
    void statsCountEverySplitAndFingerprintSeesEveryMatrix() {
        InteractionMatrix tr = InteractionMatrix.fromRows(2, 4, new int[][] {{0, 1}, {2}});
        InteractionMatrix va = InteractionMatrix.fromRows(2, 4, new int[][] {{2}, {}});
        InteractionMatrix te = InteractionMatrix.fromRows(2, 4, new int[][] {{3}, {0}});
        Dataset ds = new Dataset("d", IdMap.identity(2), IdMap.identity(4), tr, va, te);
        Dataset.Stats s = ds.stats();
        assertEquals(new Dataset.Stats(2, 4, 6, 0.75, 3, 1, 2), s);
        assertEquals("2 users, 4 items, 6 interactions (density 75.0000%); train 3, valid 1, test 2", s.toString());
        assertEquals("d: " + s, ds.summary());
        assertTrue(ds.hasValid());
        InteractionMatrix none = InteractionMatrix.empty(2, 4);
        assertFalse(new Dataset("d", IdMap.identity(2), IdMap.identity(4), tr, none, te).hasValid());
        assertEquals(0.0, new Dataset("z", new IdMap(), new IdMap(), InteractionMatrix.empty(0, 0), InteractionMatrix.empty(0, 0),
                InteractionMatrix.empty(0, 0)).stats().density(), 0.0);
        String fp = ds.fingerprint();
        assertEquals(16, fp.length());
        assertEquals(fp, new Dataset("other name", IdMap.identity(2), IdMap.identity(4), tr, va, te).fingerprint());
        java.util.Set<String> fps = new java.util.HashSet<>(java.util.List.of(fp,
                new Dataset("d", IdMap.identity(2), IdMap.identity(4), te, va, tr).fingerprint(),
                new Dataset("d", IdMap.identity(2), IdMap.identity(4), tr, none, te).fingerprint(),
                new Dataset("d", IdMap.identity(2), IdMap.identity(4), tr, va, InteractionMatrix.fromRows(2, 4, new int[][] {{3}, {1}})).fingerprint(),
                new Dataset("d", IdMap.identity(2), IdMap.identity(5), InteractionMatrix.fromRows(2, 5, new int[][] {{0, 1}, {2}}),
                        InteractionMatrix.fromRows(2, 5, new int[][] {{2}, {}}), InteractionMatrix.fromRows(2, 5, new int[][] {{3}, {0}})).fingerprint()));
        assertEquals(5, fps.size(), "train/test swapped, valid dropped, one test item changed, one more item: all differ");
    }

    @Test
    void negativeSeedMixingIsPinned() {
        // recorded runs must redraw the same negatives: the seed mix is a fixed SplitMix64-style hash
        assertEquals(0L, NegativeSampler.mix(0, 0, -1));
        assertEquals(-2152535657050944081L, NegativeSampler.mix(1, 0, -1));
        assertEquals(-937129693628094873L, NegativeSampler.mix(0, 1, -1));
        assertEquals(2902805962516761537L, NegativeSampler.mix(0, 0, 0));
        assertEquals(3107371677365367807L, NegativeSampler.mix(3, 2, 5));
    }

    @Test
    void usersWithMostItemsDrawFromTheirComplement() {
        // 6 items: user 0 has 3 (half: the complement path), user 1 none, user 2 has 2 (rejection path), user 3 has 5
        InteractionMatrix m = InteractionMatrix.fromRows(4, 6, new int[][] {{0, 1, 2}, {}, {4, 5}, {0, 1, 2, 3, 5}});
        NegativeSampler s = new NegativeSampler(m);
        java.util.Set<Integer> seen0 = new java.util.HashSet<>(), seen2 = new java.util.HashSet<>();
        for (int epoch = 0; epoch < 40; epoch++) {
            int[] neg = s.sample(7, epoch);
            assertEquals(m.nnz(), neg.length);
            for (int j = 0; j < 3; j++) seen0.add(neg[j]);
            for (int j = 3; j < 5; j++) seen2.add(neg[j]);
            for (int j = 5; j < 10; j++) assertEquals(4, neg[j], "user 3's only negative");
        }
        assertEquals(java.util.Set.of(3, 4, 5), seen0, "every unobserved item is drawn, and only those");
        assertEquals(java.util.Set.of(0, 1, 2, 3), seen2);
        // the rejection path refuses the very first train entry too (user 0, item 0)
        NegativeSampler first = new NegativeSampler(InteractionMatrix.fromRows(2, 6, new int[][] {{0}, {1}}));
        for (int epoch = 0; epoch < 40; epoch++) assertTrue(first.sample(7, epoch)[0] != 0, "epoch " + epoch);
        // the permutation is a seeded shuffle of all entries, independent of the sampler's draws
        int[] p = s.permutation(7, 0);
        assertArrayEquals(p, s.permutation(7, 0));
        assertFalse(java.util.Arrays.equals(p, s.permutation(7, 1)));
        assertFalse(java.util.Arrays.equals(p, s.permutation(8, 0)));
        int[] sorted = p.clone();
        java.util.Arrays.sort(sorted);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, sorted);
        // every user is checked: the last one with the whole catalogue is refused too
        var e = assertThrows(IllegalArgumentException.class,
                () -> new NegativeSampler(InteractionMatrix.fromRows(2, 2, new int[][] {{0}, {0, 1}})));
        assertEquals("user 1 has interacted with every item: no negative can be sampled", e.getMessage());
    }

    @Test
    void syntheticSettingsAreCheckedAndParsed() {
        assertThrows(IllegalArgumentException.class, () -> new Synthetic(0, 10, 3, 1, 0.5, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 1, 3, 1, 0.5, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 10, 0, 1, 0.5, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 10, 3, 0, 0.5, 1, 1));
        new Synthetic(1, 2, 1, 1, 0, 0, 1); // the smallest set, affinity and zipf at their lower ends
        new Synthetic(1, 2, 1, 1, 1, 0, 1);
        for (double a : new double[] {-0.01, 1.01, Double.NaN}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 10, 3, 1, a, 1, 1));
            assertTrue(e.getMessage().startsWith("synthetic: affinity must be in [0, 1]"), e.getMessage());
        }
        for (double z : new double[] {-0.01, Double.NaN}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 10, 3, 1, 0.5, z, 1));
            assertTrue(e.getMessage().startsWith("synthetic: zipf must be >= 0"), e.getMessage());
        }
        var pu = assertThrows(IllegalArgumentException.class, () -> new Synthetic(1, 10, 10, 1, 0.5, 1, 1));
        assertEquals("synthetic: per_user (10) must be below items (10)", pu.getMessage());
        Synthetic s = Synthetic.defaults().with(java.util.Map.of("users", "5", "ITEMS", "40", "per_user", "4", "clusters", "3",
                "affinity", "0.25", "zipf", "1.5", "seed", "9"));
        assertEquals(new Synthetic(5, 40, 4, 3, 0.25, 1.5, 9), s);
        assertEquals(new Synthetic(3000, 2000, 30, 20, 0.8, 0.8, 7), Synthetic.defaults());
        assertEquals(new Synthetic(30000, 41000, 34, 50, 0.8, 0.8, 3), Synthetic.gowallaSized(3));
        assertEquals("users=5,items=40,per_user=4,clusters=3,affinity=0.25,zipf=1.5,seed=9", s.toString());
        var bad = assertThrows(IllegalArgumentException.class, () -> s.with(java.util.Map.of("zipf", "steep")));
        assertEquals("synthetic: zipf must be a number, got 'steep'", bad.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () -> s.with(java.util.Map.of("colour", "red")));
        assertEquals("synthetic: unknown key 'colour'; allowed: " + Synthetic.KEYS, unknown.getMessage());
    }

    @Test
    void syntheticUsersHaveDistinctItemsAndBoundedCounts() {
        Synthetic g = new Synthetic(60, 50, 10, 4, 0.8, 0.8, 2);
        Interactions in = g.generate();
        assertEquals("synthetic(" + g + ")", in.source());
        assertTrue(in.hasTimestamp());
        assertFalse(in.hasRating());
        assertEquals(60, in.userIds().size());
        assertEquals(50, in.itemIds().size());
        int[] count = new int[60];
        java.util.Set<Long> pairs = new java.util.HashSet<>();
        for (int e = 0; e < in.size(); e++) {
            assertEquals(e, in.timestamp(e));
            count[in.user(e)]++;
            assertTrue(pairs.add((long) in.user(e) << 32 | in.item(e)), "repeat");
        }
        int lo = Integer.MAX_VALUE, hi = 0;
        for (int c : count) {
            lo = Math.min(lo, c);
            hi = Math.max(hi, c);
        }
        // round(10 * [0.3, 1.7)), at least 3: 3..17
        assertTrue(lo >= 3 && hi <= 17, lo + ".." + hi);
        assertTrue(lo <= 5 && hi >= 14, "counts vary: " + lo + ".." + hi);
        // per_user near the catalogue size: capped at items - 1
        Interactions capped = new Synthetic(30, 5, 4, 1, 0.5, 0, 1).generate();
        int[] c = new int[30];
        for (int e = 0; e < capped.size(); e++) c[capped.user(e)]++;
        for (int u = 0; u < 30; u++) assertTrue(c[u] >= 3 && c[u] <= 4, "user " + u + ": " + c[u]);
        // a steep popularity law concentrates the draws on a few items
        int[] pop = new int[50];
        Interactions steep = new Synthetic(200, 50, 5, 1, 0.5, 3.0, 4).generate();
        for (int e = 0; e < steep.size(); e++) pop[steep.item(e)]++;
        int[] sortedPop = pop.clone();
        java.util.Arrays.sort(sortedPop);
        assertEquals(200, sortedPop[49], "the most popular item is in every user's list");
    }

    @Test
    void aliasTablesDrawInProportionToTheWeights() {
        double[] w = {1, 2, 3, 4, 0};
        Synthetic.Alias all = new Synthetic.Alias(w, null), sub = new Synthetic.Alias(w, new int[] {3, 0, 4});
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
        int n = 100_000;
        int[] a = new int[5], b = new int[5];
        for (int t = 0; t < n; t++) {
            a[all.sample(rnd)]++;
            b[sub.sample(rnd)]++;
        }
        for (int k = 0; k < 5; k++) assertEquals(w[k] / 10, a[k] / (double) n, 0.01, "item " + k);
        assertEquals(0, a[4]);
        assertEquals(0.8, b[3] / (double) n, 0.01);
        assertEquals(0.2, b[0] / (double) n, 0.01);
        assertEquals(0, b[1] + b[2] + b[4]);
    }

    @Test
    void kcoreIsIteratedUntilNothingMoreFallsOut() {
        // a and b hold a 2-core on x, y. e (1 item) falls out first; then w is left with c alone; then c with x alone
        Interactions in = new Interactions("chain", false, false);
        for (String u : new String[] {"a", "b"}) for (String i : new String[] {"x", "y"}) in.add(u, i, 0, 0);
        in.add("c", "x", 0, 0);
        in.add("c", "w", 0, 0);
        in.add("e", "w", 0, 0);
        Dataset ds = new Preprocess(null, 2, 2, true).apply("chain", in);
        assertEquals(java.util.List.of("a", "b"), ds.userIds().originals());
        assertEquals(java.util.List.of("x", "y"), ds.itemIds().originals());
        assertEquals(4, ds.stats().interactions());
    }

    @Test
    void generatedDataIsPinnedBySeed() {
        // checkpoints record the data's fingerprint: a generator that draws differently breaks the resume of every recorded run
        assertEquals("417e61399fbb8084", Preprocess.defaults().apply("s", new Synthetic(40, 30, 6, 3, 0.8, 0.8, 5).generate()).fingerprint());
        assertEquals("575c27b267473412", Preprocess.defaults().apply("m", new SyntheticSequences(40, 30, 6, 2, 0.7, 5).generate()).fingerprint());
        InteractionMatrix m = InteractionMatrix.fromRows(4, 6, new int[][] {{0, 1, 2}, {}, {4, 5}, {0, 1, 2, 3, 5}});
        assertEquals("[5, 4, 5, 1, 3, 4, 4, 4, 4, 4]", java.util.Arrays.toString(new NegativeSampler(m).sample(7, 3)));
        assertEquals("[3, 1, 2, 9, 8, 4, 6, 0, 7, 5]", java.util.Arrays.toString(new NegativeSampler(m).permutation(7, 3)));
    }

    @Test
    void fullAffinityKeepsEveryUserInsideOneCluster() {
        // with affinity 1 a user draws only from its cluster's items, so items of different clusters never share a user:
        // the item co-occurrence graph falls apart into at most `clusters` pieces; with affinity 0 it is one piece
        assertEquals(java.util.List.of(true, true), java.util.List.of(components(new Synthetic(100, 100, 5, 4, 1.0, 0.5, 3)) >= 2,
                components(new Synthetic(100, 100, 5, 4, 1.0, 0.5, 3)) <= 4));
        assertEquals(1, components(new Synthetic(100, 100, 5, 4, 0.0, 0.5, 3)));
    }

    private static int components(Synthetic g) {
        Interactions in = g.generate();
        int[] parent = new int[g.items()];
        for (int i = 0; i < parent.length; i++) parent[i] = i;
        java.util.function.IntUnaryOperator find = new java.util.function.IntUnaryOperator() {
            public int applyAsInt(int x) {
                while (parent[x] != x) x = parent[x] = parent[parent[x]];
                return x;
            }
        };
        boolean[] used = new boolean[g.items()];
        for (int e = 0; e < in.size(); e++) {
            used[in.item(e)] = true;
            if (e > 0 && in.user(e) == in.user(e - 1)) parent[find.applyAsInt(in.item(e))] = find.applyAsInt(in.item(e - 1));
        }
        java.util.Set<Integer> roots = new java.util.HashSet<>();
        for (int i = 0; i < used.length; i++) if (used[i]) roots.add(find.applyAsInt(i));
        return roots.size();
    }

    @Test
    void generatorsStopWhereAUserCannotGetMoreDistinctItems() {
        // affinity 1 with ten clusters over ten items: a user's cluster holds one or two items, so the draws stop at
        // the guard instead of looping forever, and those users get fewer items than asked
        Synthetic tiny = new Synthetic(20, 10, 5, 10, 1.0, 0, 3);
        Interactions in = tiny.generate();
        int[] count = new int[20];
        for (int e = 0; e < in.size(); e++) count[in.user(e)]++;
        assertTrue(java.util.Arrays.stream(count).min().getAsInt() < 3, java.util.Arrays.toString(count));
        assertEquals("079514dfb357765c", Preprocess.defaults().apply("t", in).fingerprint());
        // a Markov chain with one successor and p = 1 is stuck whenever that successor was seen: it jumps
        assertEquals("b06ab1705db4c87c", Preprocess.defaults().apply("m", new SyntheticSequences(30, 8, 3, 1, 1.0, 2).generate()).fingerprint());
    }
}

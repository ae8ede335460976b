package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}

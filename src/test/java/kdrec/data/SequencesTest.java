package kdrec.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}

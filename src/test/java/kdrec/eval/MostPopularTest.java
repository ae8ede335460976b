package kdrec.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MostPopularTest {
    // train: u0 {0, 1}, u1 {1, 2}, u2 {1, 3}; 5 items -> counts 1, 3, 1, 1, 0
    private static final int[] PTR = {0, 2, 4, 6};
    private static final int[] ITEMS = {0, 1, 2, 1, 3, 1};

    @Test
    void popularityAndTies() {
        MostPopular mp = new MostPopular(PTR, ITEMS, 5);
        assertArrayEquals(new int[] {1, 3, 1, 1, 0}, mp.popularity());
        assertArrayEquals(new int[] {1, 0, 2, 3, 4}, mp.ranking()); // ties by lower id
    }

    @Test
    void topKExcludesTrainItemsAndPads() {
        MostPopular mp = new MostPopular(PTR, ITEMS, 5);
        assertArrayEquals(new int[] {2, 3, 4, 0, 3, 4, 0, 2, 4}, mp.topK(3));
        assertArrayEquals(new int[] {2, 3, 4, -1, -1, 0, 3, 4, -1, -1, 0, 2, 4, -1, -1}, mp.topK(5));
    }

    @Test
    void evaluatedLikeAModel() {
        MostPopular mp = new MostPopular(PTR, ITEMS, 5);
        // gt: u0 {2} (rank 1), u1 {4} (rank 3), u2 {} (counts 0)
        Metrics m = mp.evaluate(new int[] {0, 1, 2, 2}, new int[] {2, 4}, 1, 3);
        assertEquals(1.0 / 3, m.get("recall@1"), 1e-12);
        assertEquals(2.0 / 3, m.get("recall@3"), 1e-12);
        assertEquals(1.0 / 3, m.get("ndcg@1"), 1e-12);
        assertEquals((1 + 0.5) / 3, m.get("ndcg@3"), 1e-12);
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> new MostPopular(PTR, ITEMS, 3));
        assertThrows(IllegalArgumentException.class, () -> new MostPopular(new int[] {0, 7}, ITEMS, 5));
        MostPopular mp = new MostPopular(PTR, ITEMS, 5);
        assertThrows(IllegalArgumentException.class, () -> mp.topK(0));
        assertThrows(IllegalArgumentException.class, () -> mp.evaluate(new int[] {0, 0}, new int[0]));
    }
}

package kdrec.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import kdrec.autograd.Arith;
import kdrec.autograd.CrossEntropy;
import kdrec.autograd.Gather;
import kdrec.autograd.MatMul;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.loss.Bpr;
import kdrec.model.LightGcn;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.tensor.IndexSets;
import kdrec.tensor.PairSets;
import org.junit.jupiter.api.Test;

/**
 * Lazy Adam: which rows it updates. A row is touched when a batch gathered it or a row-indexed op (row
 * dots, set dots, subset CEs) wrote its gradient; only those rows move, with the same update dense Adam
 * gives them; a table any op wrote whole is updated whole.
 */
class LazyAdamTest {
    private static final int USERS = 40, ITEMS = 60, DIM = 6;
    private static final float WD = 1e-2f; // weight decay moves every row under dense Adam

    private static Batch batch(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] u = new int[n], p = new int[n], q = new int[n];
        for (int i = 0; i < n; i++) {
            u[i] = r.nextInt(USERS / 2); // only the first half of the users and of the items appear
            p[i] = r.nextInt(ITEMS / 2);
            q[i] = r.nextInt(ITEMS / 2);
        }
        return new Batch(u, p, q);
    }

    /** Steps {@code model} once per batch with Adam in the given mode on loss(tape, batch). */
    private static void train(Recommender model, boolean lazy, Batch[] batches, BiFunction<Tape, Batch, Var> loss) {
        Adam adam = new Adam(model.params(), 1e-2f, WD, lazy);
        try (Tape t = new Tape()) {
            for (Batch b : batches) {
                t.reset();
                model.params().zeroGrad();
                t.backward(loss.apply(t, b));
                adam.step(t);
            }
        }
    }

    private static float[] row(Recommender m, String table, int r) {
        return Arrays.copyOfRange(m.params().get(table).value().toArray(), r * DIM, (r + 1) * DIM);
    }

    private static BitSet touched(Batch b, boolean items) {
        BitSet s = new BitSet();
        if (items) {
            for (int i : b.positives()) s.set(i);
            for (int i : b.negatives()) s.set(i);
        } else {
            for (int u : b.users()) s.set(u);
        }
        return s;
    }

    @Test
    void mfBprMovesOnlyTheBatchRowsAsDenseAdamMovesThem() {
        Batch b = batch(7, 16);
        try (MatrixFactorization lazy = new MatrixFactorization(USERS, ITEMS, DIM, 3);
             MatrixFactorization dense = new MatrixFactorization(USERS, ITEMS, DIM, 3);
             MatrixFactorization start = new MatrixFactorization(USERS, ITEMS, DIM, 3)) {
            train(lazy, true, new Batch[] {b}, (t, x) -> Bpr.loss(t, lazy.forward(t), x));
            train(dense, false, new Batch[] {b}, (t, x) -> Bpr.loss(t, dense.forward(t), x));
            for (String table : new String[] {"user", "item"}) {
                BitSet hit = touched(b, table.equals("item"));
                int rows = table.equals("user") ? USERS : ITEMS;
                for (int r = 0; r < rows; r++) {
                    if (hit.get(r)) {
                        // step 1 from zero moments: a row's update depends only on its own gradient
                        assertArrayEquals(row(dense, table, r), row(lazy, table, r), table + " row " + r + " (touched)");
                        assertFalse(Arrays.equals(row(start, table, r), row(lazy, table, r)), table + " row " + r + " did not move");
                    } else {
                        assertArrayEquals(row(start, table, r), row(lazy, table, r), table + " row " + r + " (untouched) moved");
                        assertFalse(Arrays.equals(row(start, table, r), row(dense, table, r)), "dense Adam's weight decay should move " + table + " row " + r);
                    }
                }
            }
        }
    }

    @Test
    void rowsOutsideALaterBatchKeepValueAndMoments() {
        Batch first = batch(1, 12), second = batch(2, 12);
        try (MatrixFactorization lazy = new MatrixFactorization(USERS, ITEMS, DIM, 5);
             MatrixFactorization once = new MatrixFactorization(USERS, ITEMS, DIM, 5)) {
            train(once, true, new Batch[] {first}, (t, x) -> Bpr.loss(t, once.forward(t), x));
            train(lazy, true, new Batch[] {first, second}, (t, x) -> Bpr.loss(t, lazy.forward(t), x));
            BitSet hit = touched(second, false);
            int kept = 0;
            for (int u = 0; u < USERS; u++) {
                if (hit.get(u)) continue;
                assertArrayEquals(row(once, "user", u), row(lazy, "user", u), "user " + u + " was not in the second batch");
                kept++;
            }
            assertTrue(kept > USERS / 2, "the check needs users outside the second batch, had " + kept);
        }
    }

    @Test
    void aTrackedGradientStartsEachStepAtZero() {
        // a tracked table zeroes only the rows its last step wrote: the next step's gradient must still equal a fresh one
        Batch first = batch(21, 12), second = batch(22, 12);
        try (MatrixFactorization lazy = new MatrixFactorization(USERS, ITEMS, DIM, 6);
             MatrixFactorization fresh = new MatrixFactorization(USERS, ITEMS, DIM, 6); Tape t = new Tape()) {
            train(lazy, true, new Batch[] {first}, (tape, x) -> Bpr.loss(tape, lazy.forward(tape), x)); // its lazy Adam tracks the rows
            for (String table : new String[] {"user", "item"}) lazy.params().get(table).value().copyTo(fresh.params().get(table).value());
            lazy.params().zeroGrad();
            t.backward(Bpr.loss(t, lazy.forward(t), second));
            t.reset();
            t.backward(Bpr.loss(t, fresh.forward(t), second));
            for (String table : new String[] {"user", "item"}) {
                assertArrayEquals(fresh.params().get(table).grad().toArray(), lazy.params().get(table).grad().toArray(),
                        table + " gradient of the second step (stale rows of the first?)");
            }
        }
    }

    @Test
    void setDotsAndSubsetCeTouchOnlyTheirItems() {
        int[][] sets = {{40, 41, 7}, {42, 7}, {43}};
        int[] users = {1, 2, 3};
        float[] teacher = {0.5f, -1f, 2f, 0.25f, 1f, 0f};
        BitSet want = new BitSet();
        for (int[] s : sets) for (int i : s) want.set(i);
        try (MatrixFactorization m = new MatrixFactorization(USERS, ITEMS, DIM, 9);
             MatrixFactorization start = new MatrixFactorization(USERS, ITEMS, DIM, 9)) {
            IndexSets is = IndexSets.of(sets);
            train(m, true, new Batch[] {new Batch(users, users, users)}, (t, x) -> {
                Recommender.Embeddings e = m.forward(t);
                Var ue = Gather.rows(t, e.users(), users);
                Var ce = Arith.sum(t, CrossEntropy.subsetSoftCe(t, ue, e.items(), is, teacher, 1f));
                Var dots = Arith.sum(t, Gather.setDots(t, ue, e.items(), is));
                return Arith.add(t, ce, dots);
            });
            for (int i = 0; i < ITEMS; i++) {
                boolean moved = !Arrays.equals(row(start, "item", i), row(m, "item", i));
                assertEquals(want.get(i), moved, "item " + i + (want.get(i) ? " is in a set but did not move" : " is in no set but moved"));
            }
            for (int u = 0; u < USERS; u++) {
                boolean moved = !Arrays.equals(row(start, "user", u), row(m, "user", u));
                assertEquals(u >= 1 && u <= 3, moved, "user " + u);
            }
        }
    }

    @Test
    void pairSoftCeTouchesOnlyItsListsItems() {
        // RCE-KD's fused op; longer entry arrays than the rows use (buffer reuse): the spare ids must not count
        int[] ptr = {0, 3, 5}, idx = {44, 45, 9, 46, 9, 50, 51};
        float[] target = {0.2f, 0.3f, 0.5f, 0.6f, 0.4f, 0f, 0f};
        PairSets p = new PairSets(2, ptr, idx, new int[] {2, 1}, new int[] {1, 0}, target, new float[] {0.5f, 0.3f},
                new float[] {0.5f, 0.7f}, null);
        int[] users = {6, 8};
        try (MatrixFactorization m = new MatrixFactorization(USERS, ITEMS, DIM, 13);
             MatrixFactorization start = new MatrixFactorization(USERS, ITEMS, DIM, 13)) {
            train(m, true, new Batch[] {new Batch(users, users, users)}, (t, x) -> {
                Recommender.Embeddings e = m.forward(t);
                return Arith.sum(t, CrossEntropy.pairSoftCe(t, Gather.rows(t, e.users(), users), e.items(), p, 1f));
            });
            for (int i = 0; i < ITEMS; i++) {
                boolean want = i == 44 || i == 45 || i == 46 || i == 9, moved = !Arrays.equals(row(start, "item", i), row(m, "item", i));
                assertEquals(want, moved, "item " + i);
            }
        }
    }

    @Test
    void aTableWrittenWholeIsUpdatedDensely() {
        Batch b = batch(11, 10);
        try (LightGcn lazy = new LightGcn(USERS, ITEMS, DIM, 2, ptr(), items(), 4);
             LightGcn dense = new LightGcn(USERS, ITEMS, DIM, 2, ptr(), items(), 4)) {
            train(lazy, true, new Batch[] {b, batch(12, 10)}, (t, x) -> Bpr.loss(t, lazy.forward(t), x));
            train(dense, false, new Batch[] {b, batch(12, 10)}, (t, x) -> Bpr.loss(t, dense.forward(t), x));
            for (String table : new String[] {"user", "item"}) {
                assertArrayEquals(dense.params().get(table).value().toArray(), lazy.params().get(table).value().toArray(),
                        "LightGCN's propagation writes the whole " + table + " table: lazy Adam must update it densely");
            }
        }
        // a GEMM over a table marks it whole too
        try (MatrixFactorization m = new MatrixFactorization(USERS, ITEMS, DIM, 2); Tape t = new Tape()) {
            new Adam(m.params(), 1e-2f, WD, true); // tracks the rows of its parameters
            Var item = m.params().get("item");
            t.backward(Arith.sum(t, Arith.add(t, Gather.rowDot(t, m.params().get("user"), new int[] {0}, item, new int[] {1}),
                    Arith.sum(t, MatMul.nt(t, m.params().get("user"), item)))));
            assertNull(item.gradRows(), "a GEMM wrote the item table whole");
        }
    }

    @Test
    void rowsAreTrackedOnlyForALazyOptimiser() {
        try (MatrixFactorization m = new MatrixFactorization(USERS, ITEMS, DIM, 2); Tape t = new Tape()) {
            Var user = m.params().get("user"), item = m.params().get("item");
            t.backward(Gather.rowDot(t, user, new int[] {4}, item, new int[] {9}), kdrec.tensor.Tensor.of(new float[] {1f}, 1));
            assertNull(item.gradRows(), "dense mode: no row tracking (it would cost a bit per entry)");
            new Adam(m.params(), 1e-3f, 0f, true);
            m.params().zeroGrad();
            t.reset();
            t.backward(Gather.rowDot(t, user, new int[] {4, 5}, item, new int[] {9, 9}), kdrec.tensor.Tensor.of(new float[] {1f, 1f}, 2));
            assertEquals(BitSet.valueOf(new long[] {1L << 9}), item.gradRows());
            assertEquals(BitSet.valueOf(new long[] {(1L << 4) | (1L << 5)}), user.gradRows());
        }
    }

    /** A small bipartite graph over the first half of the users and items, for LightGCN. */
    private static int[] ptr() {
        int[] p = new int[USERS + 1];
        for (int u = 0; u < USERS; u++) p[u + 1] = p[u] + (u < USERS / 2 ? 2 : 0);
        return p;
    }

    private static int[] items() {
        int[] it = new int[USERS];
        for (int u = 0; u < USERS / 2; u++) {
            it[2 * u] = u % (ITEMS / 2);
            it[2 * u + 1] = (u * 7 + 3) % (ITEMS / 2);
        }
        return it;
    }
}

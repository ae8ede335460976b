package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;
import kdrec.train.Checkpoints;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HetComp: the DKC distance and move rule by hand, trajectory loading, the loss formulas, a tiny run and exact resume. */
class HetCompTest {
    @TempDir
    Path dir;

    static final TrainData DATA = RceKdTest.DATA;

    /** A fake teacher run: epoch_0001, epoch_0003 (before the best epoch 4, 0-based), epoch_0010 (after it), best and last. */
    private Path teacherRun() throws Exception {
        Path run = Files.createDirectories(dir.resolve("teacher"));
        TrainConfig cfg = TrainConfig.defaults();
        save(run.resolve("epoch_0010.safetensors"), 4, 9, cfg);
        save(run.resolve("epoch_0003.safetensors"), 2, 2, cfg);
        save(run.resolve("epoch_0001.safetensors"), 1, 0, cfg);
        save(run.resolve("best.safetensors"), 3, 4, cfg);
        save(run.resolve("last.safetensors"), 4, 9, cfg);
        return run;
    }

    private static void save(Path file, long seed, int epoch, TrainConfig cfg) throws Exception {
        try (MatrixFactorization m = RceKdTest.mf(16, seed, 0.5f)) {
            Checkpoints.modelOnly(m, DATA, cfg, epoch).save(file);
        }
    }

    static KdParams params(Object... kv) {
        return HetComp.METHOD.params().with(KdParams.ordered(kv));
    }

    @Test
    void distanceAndMoveRuleByHand() {
        // K = 3 gains (2^exp(-r/10) - 1) / log2(r + 2): 1, (2^0.904837 - 1)/log2 3 = 0.550381, (2^0.818731 - 1)/2 = 0.381927
        double[] g = HetComp.gains(3);
        assertArrayEquals(new double[] {1.0, 0.550381, 0.381927}, g, 1e-6);
        int[] student = {0, 1, 2};
        int[] mark = new int[10];
        // teacher set {1, 2, 9}: NDCG = (0.550381 + 0.381927) / 1.932308 = 0.48248 -> 0.4825, distance 0.5175
        assertEquals(5175, HetComp.distance(student, 0, new int[] {9, 2, 1}, 3, g, mark, 1));
        // teacher set {0, 7, 8}: NDCG = 1 / 1.932308 = 0.51752 -> 0.5175, distance 0.4825
        assertEquals(4825, HetComp.distance(student, 0, new int[] {8, 0, 7}, 3, g, mark, 2));
        assertEquals(0, HetComp.distance(student, 0, new int[] {2, 0, 1}, 3, g, mark, 3), "same set: distance 0");
        // move when last/next > alpha 0.995^(epoch div p), e.g. 1.05 * 0.995^2 = 1.039474 at epoch 20 with p 10
        double th = 1.05 * Math.pow(0.995, 20 / 10);
        assertTrue(HetComp.moves(5175, 4825, th), "gap shrank by 7.25 %: move");
        assertFalse(HetComp.moves(5175, 5000, th), "gap shrank by 3.5 % only: stay");
        assertTrue(HetComp.moves(4825, 5175, th), "gap grew (ratio < 1): the code moves too");
        assertFalse(HetComp.moves(5000, 5000, th), "ratio exactly 1 stays");
        assertTrue(HetComp.moves(10, 0, th), "next gap 0: ratio +inf, move");
        assertFalse(HetComp.moves(0, 0, th), "0/0 is NaN: no comparison holds, stay");
    }

    @Test
    void distanceReadsEachUsersOwnRows() {
        // two users, K = 3: user 1's lists start at offset 3 in both the student's and the checkpoint's arrays
        double[] g = HetComp.gains(3);
        int[] student = {7, 8, 9, 0, 1, 2};
        int[] perm = {0, 1, 2, 9, 2, 1};
        int[] mark = new int[10];
        assertEquals(0, HetComp.distance(student, 0, new int[] {9, 8, 7, 3, 4, 5}, 3, g, mark, 1), "user 0: same set");
        assertEquals(5175, HetComp.distance(student, 1, perm, 3, g, mark, 2), "user 1: {1, 2} of {0, 1, 2} at positions 1, 2");
        assertEquals(10000, HetComp.distance(student, 0, perm, 3, g, mark, 3), "user 0: {7, 8, 9} against {0, 1, 2}: nothing shared");
        // the move rule's threshold is strict: a ratio of exactly th stays
        assertFalse(HetComp.moves(125, 100, 1.25));
        assertTrue(HetComp.moves(126, 100, 1.25));
    }

    @Test
    void kIsCappedByTheSmallestUnobservedCount() throws Exception {
        Path run = teacherRun();
        int maxTrain = 0;
        for (int u = 0; u < DATA.users(); u++) maxTrain = Math.max(maxTrain, DATA.trainPtr()[u + 1] - DATA.trainPtr()[u]);
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA)) {
            assertTrue(DATA.items() - maxTrain < 100);
            HetComp h = new HetComp(params("k", 100), teacher, DATA, 1);
            assertEquals(DATA.items() - maxTrain, h.k(), "every user has K unobserved items to rank");
            assertEquals(DATA.items() - maxTrain, h.permutation(2, 0).length);
            assertEquals(1, new HetComp(params("k", 1), teacher, DATA, 1).k(), "K = 1 is a valid list");
        }
    }

    @Test
    void trajectoryFilesAreOrderedByEpochNumberWhateverTheListingOrder() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("shuffled"));
        for (String n : new String[] {"epoch_7", "epoch_0002", "epoch_11", "epoch_5", "epoch_1", "epoch_9", "epoch_3", "epoch_10", "epoch_x", "best", "last"}) {
            Files.createFile(folder.resolve(n + ".safetensors"));
        }
        Files.createFile(folder.resolve("epoch_4.txt"));
        try (Teacher inMemory = Teacher.of(RceKdTest.mf(16, 3, 0.5f))) {
            java.util.List<String> names = HetComp.trajectoryFiles(folder.toString(), inMemory).stream().map(f -> f.getFileName().toString()).toList();
            assertEquals(java.util.List.of("epoch_1.safetensors", "epoch_0002.safetensors", "epoch_3.safetensors", "epoch_5.safetensors", "epoch_7.safetensors",
                    "epoch_9.safetensors", "epoch_10.safetensors", "epoch_11.safetensors"), names);
            Path empty = Files.createDirectories(dir.resolve("empty"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HetComp.trajectoryFiles(empty.toString(), inMemory));
            assertFalse(e.getMessage().contains("earlier than"), "an explicit folder has no epoch cut: " + e.getMessage());
        }
        // the teacher's own run: the message names the teacher's (1-based) epoch
        Path lonely = Files.createDirectories(dir.resolve("lonely2"));
        save(lonely.resolve("best.safetensors"), 3, 4, TrainConfig.defaults());
        try (Teacher t = Teacher.load(lonely.resolve("best.safetensors"), DATA)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HetComp.trajectoryFiles("", t));
            assertTrue(e.getMessage().contains("earlier than the teacher's epoch 5"), e.getMessage());
        }
    }

    @Test
    void trajectoryIsTheEarlierEpochFilesByEpochThenTheTeacher() throws Exception {
        Path run = teacherRun();
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA)) {
            HetComp h = new HetComp(params("k", 10), teacher, DATA, 1);
            assertEquals(3, h.checkpoints(), "epoch_0001, epoch_0003, best; epoch_0010 comes after the best epoch");
            String[] files = {"epoch_0001.safetensors", "epoch_0003.safetensors"};
            for (int c = 0; c < 2; c++) {
                try (Teacher t = Teacher.load(run.resolve(files[c]), DATA)) {
                    int[] top = t.topK(10, DATA.trainPtr(), DATA.trainItems());
                    for (int u = 0; u < DATA.users(); u += 7) assertArrayEquals(Arrays.copyOfRange(top, u * 10, u * 10 + 10), h.permutation(c, u), files[c] + " user " + u);
                }
            }
            int[] last = teacher.topK(10, DATA.trainPtr(), DATA.trainItems());
            assertArrayEquals(Arrays.copyOfRange(last, 50, 60), h.permutation(2, 5), "the teacher itself closes the trajectory");
            Set<Integer> train = new HashSet<>();
            for (int p = DATA.trainPtr()[5]; p < DATA.trainPtr()[6]; p++) train.add(DATA.trainItems()[p]);
            for (int i : h.permutation(0, 5)) assertFalse(train.contains(i), "permutations are of unobserved items");
            // another folder: all of its epoch files (no best-epoch cut)
            HetComp other = new HetComp(params("k", 10, "trajectory", run.toString()), teacher, DATA, 1);
            assertEquals(4, other.checkpoints());
            // num_ckpt (the code's hetcomp_num_ckpt): the first num_ckpt checkpoints only, the teacher dropped when it falls past them
            HetComp two = new HetComp(params("k", 10, "num_ckpt", 2), teacher, DATA, 1);
            assertEquals(2, two.checkpoints(), "epoch_0001, epoch_0003");
            for (int u = 0; u < DATA.users(); u += 11) assertArrayEquals(h.permutation(1, u), two.permutation(1, u), "epoch_0003 is the last target");
            assertEquals(3, new HetComp(params("k", 10, "num_ckpt", 9), teacher, DATA, 1).checkpoints(), "more than there are: all");
            IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> new HetComp(params("k", 10, "num_ckpt", 1), teacher, DATA, 1));
            assertTrue(one.getMessage().contains("num_ckpt"), one.getMessage());
        }
        try (Teacher inMemory = Teacher.of(RceKdTest.mf(16, 3, 0.5f))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HetComp(params("k", 10), inMemory, DATA, 1));
            assertTrue(e.getMessage().contains("--save-every"), e.getMessage());
            assertEquals(3, new HetComp(params("k", 10, "trajectory", run.toString()), inMemory, DATA, 1).checkpoints() - 1, "3 epoch files + the teacher");
        }
        Path lonely = Files.createDirectories(dir.resolve("lonely"));
        save(lonely.resolve("best.safetensors"), 3, 4, TrainConfig.defaults());
        try (Teacher t = Teacher.load(lonely.resolve("best.safetensors"), DATA)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HetComp(params(), t, DATA, 1));
            assertTrue(e.getMessage().contains("--save-every"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> params("p", 0).atLeast("p", 1));
    }

    @Test
    void trajectoryFromARealTeacherRun() throws Exception {
        // --save-every as the trainer writes it; a teacher loaded from epoch_0003 has the files before it as its trajectory
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "save_every", 1));
        Path run = dir.resolve("real");
        try (Recommender m = kdrec.train.Models.create(cfg, DATA)) {
            new Trainer(cfg, DATA, m, new kdrec.loss.Bpr(), new Trainer.Outputs(null, null, run)).fit(null);
        }
        assertTrue(Files.isRegularFile(run.resolve("epoch_0003.safetensors")));
        try (Teacher t = Teacher.load(run.resolve("epoch_0003.safetensors"), DATA)) {
            assertEquals(3, new HetComp(params("k", 8), t, DATA, 1).checkpoints(), "epoch_0001, epoch_0002, then the teacher (epoch_0003 itself)");
        }
    }

    @Test
    void lossEqualsTheCodesFormulasInBothPhases() throws Exception {
        Path run = teacherRun();
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA); Recommender student = RceKdTest.mf(4, 2, 0.7f); Tape tape = new Tape()) {
            HetComp h = new HetComp(params("k", 10), teacher, DATA, 1);
            int[] users = {3, 7, 3, 11};
            Batch batch = new Batch(users, new int[4], new int[4]);
            Var overall = h.loss(tape, student, student.forward(tape), batch);
            assertEquals(expected(h, student, users, false), overall.value().get(0), 1e-4 * expected(h, student, users, false));
            // every user at the last checkpoint: the rank loss on the teacher's own permutation
            float[] s = new float[2 * DATA.users()];
            Arrays.fill(s, 0, DATA.users(), 2f);
            Arrays.fill(s, DATA.users(), 2 * DATA.users(), 100f);
            h.restore(Map.of("hetcomp", Tensor.of(s, 2, DATA.users())));
            tape.reset();
            Var rank = h.loss(tape, student, student.forward(tape), batch);
            assertEquals(expected(h, student, users, true), rank.value().get(0), 1e-4 * expected(h, student, users, true));
        }
    }

    /** The code's overall_loss * 2 / rank_loss per batch entry, naively in double from the scores. */
    static double expected(HetComp h, Recommender student, int[] users, boolean rank) {
        int k = h.k(), half = k / 2, tenth = k / 10;
        double total = 0;
        for (int u : users) {
            double[] s = new double[DATA.items()];
            int[] all = new int[DATA.items()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            double[] raw = RceKdTest.studentScores(student, u, all);
            for (int i = 0; i < s.length; i++) s[i] = Math.max(-40, Math.min(40, raw[i]));
            Set<Integer> train = new HashSet<>();
            int[] tp = DATA.trainPtr();
            for (int p = tp[u]; p < tp[u + 1]; p++) train.add(DATA.trainItems()[p]);
            int[] pos = splitOrderPositives(u);
            int[] perm = h.permutation(h.checkpointOf(u), u);
            if (!rank) {
                double els = restSum(s, train, perm);
                for (int j : concat(pos, perm)) total += 2 * -(s[j] - Math.log(Math.max(Math.exp(s[j]) + els, 1e-5)));
            } else {
                int[] top = Arrays.copyOf(perm, half), sub = Arrays.copyOf(perm, tenth);
                double below2 = restSum(s, train, top), below2sub = restSum(s, train, sub);
                total += pl(s, pos, below2) + (pl(s, top, below2) + pl(s, sub, below2sub)) / 2;
            }
        }
        return total;
    }

    /** The code's pos_items row: the user's first posK train items in train-file order, posK the smallest train count. */
    static int[] splitOrderPositives(int u) {
        kdrec.data.InteractionMatrix train = DATA.dataset().train();
        int posK = Integer.MAX_VALUE;
        for (int v = 0; v < DATA.users(); v++) if (train.ptr()[v + 1] > train.ptr()[v]) posK = Math.min(posK, train.ptr()[v + 1] - train.ptr()[v]);
        java.util.LinkedHashSet<Integer> first = new java.util.LinkedHashSet<>();
        for (int j = train.orderedPtr()[u]; j < train.orderedPtr()[u + 1]; j++) first.add(train.ordered()[j]);
        return first.stream().limit(posK).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void positivesAreTheFirstDistinctTrainItemsInSplitOrder() {
        // user 0 in file order 5, 2, 5, 1; user 1: 3, 0; user 2: none (does not lower posK); posK = 2
        kdrec.data.InteractionMatrix m = kdrec.data.InteractionMatrix.fromRows(3, 6, new int[][] {{5, 2, 5, 1}, {3, 0}, {}});
        int[][] p = HetComp.positives(m);
        assertArrayEquals(new int[] {0, 2, 4, 4}, p[0]);
        assertArrayEquals(new int[] {5, 2, 3, 0}, p[1], "split order, not the sorted CSR's 1, 2 and 0, 3");
        // repeats are skipped before counting: user 0's file order 4, 4, 1 gives 4, 1
        p = HetComp.positives(kdrec.data.InteractionMatrix.fromRows(2, 6, new int[][] {{4, 4, 1}, {2, 5, 3}}));
        assertArrayEquals(new int[] {4, 1, 2, 5}, p[1]);
        // for a user of the loss test below the two orders give different positives, so that test tells them apart
        kdrec.data.InteractionMatrix t = DATA.dataset().train();
        boolean differs = false;
        for (int u : new int[] {3, 7, 11}) {
            int[] pos = splitOrderPositives(u);
            differs |= !Arrays.equals(pos, Arrays.copyOfRange(t.indices(), t.ptr()[u], t.ptr()[u] + pos.length));
        }
        assertTrue(differs);
    }

    static double restSum(double[] s, Set<Integer> train, int[] held) {
        Set<Integer> h = new HashSet<>();
        for (int i : held) h.add(i);
        double sum = 0;
        for (int i = 0; i < s.length; i++) if (!train.contains(i) && !h.contains(i)) sum += Math.exp(s[i]);
        return sum;
    }

    static double pl(double[] s, int[] list, double below) {
        double loss = 0;
        for (int k = 0; k < list.length; k++) {
            double d = below;
            for (int l = k; l < list.length; l++) d += Math.exp(s[list[l]]);
            loss -= s[list[k]] - Math.log(Math.max(d, 1e-5));
        }
        return loss;
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void knowledgeConstructionRunsEveryPEpochsFromEpochP() throws Exception {
        Path run = teacherRun();
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA); Recommender student = RceKdTest.mf(4, 2, 0.7f); Tape tape = new Tape()) {
            HetComp h = new HetComp(params("k", 10, "p", 2), teacher, DATA, 1);
            h.beginEpoch(tape, student, 0);
            h.beginEpoch(tape, student, 1);
            assertEquals(-1, h.distanceOf(0), "no DKC at epoch 0 (the code starts at epoch p)");
            h.beginEpoch(tape, student, 2);
            int[] top = kdrec.model.Scoring.topK(tape, student, range(DATA.users()), 10, DATA.trainPtr(), DATA.trainItems()).ids();
            double[] g = HetComp.gains(10);
            for (int u = 0; u < DATA.users(); u++) {
                assertEquals(0, h.checkpointOf(u), "the first DKC only measures");
                assertEquals(HetComp.distance(top, u, perms(h, 1), 10, g, new int[DATA.items()], 1), h.distanceOf(u), "distance to checkpoint 1");
            }
            // the student has not changed: ratio 1, nobody moves (1 <= 1 <= th)
            h.beginEpoch(tape, student, 4);
            for (int u = 0; u < DATA.users(); u++) assertEquals(0, h.checkpointOf(u));
        }
    }

    @Test
    void knowledgeConstructionThresholdIsAlphaTimesDecayToTheEpochDivP() throws Exception {
        Path run = teacherRun();
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA); Recommender student = RceKdTest.mf(4, 2, 0.7f); Tape tape = new Tape()) {
            HetComp h = new HetComp(params("k", 10, "p", 2, "alpha", 1.05), teacher, DATA, 1);
            assertEquals(3, h.checkpoints());
            int n = DATA.users();
            int[] top = kdrec.model.Scoring.topK(tape, student, range(n), 10, DATA.trainPtr(), DATA.trainItems()).ids();
            double[] g = HetComp.gains(10);
            int[] next = new int[n], after = new int[n];
            for (int u = 0; u < n; u++) {
                next[u] = HetComp.distance(top, u, perms(h, 1), 10, g, new int[DATA.items()], 1);
                after[u] = HetComp.distance(top, u, perms(h, 2), 10, g, new int[DATA.items()], 1);
            }
            // at epoch 4 with p = 2: th = 1.05 * 0.995^(4 div 2) = 1.039474. Remembered gaps of 1.02x the current one stay
            // (1 <= 1.02 <= th; 0.995^(4*2) would give 1.0091), of 1.05x move (1.05 > th; 1.05 / 0.995^2 would give 1.0606)
            float[] s = new float[2 * n];
            for (int u = 0; u < n; u++) s[n + u] = Math.round(next[u] * (u % 2 == 0 ? 1.02 : 1.05));
            h.restore(Map.of("hetcomp", Tensor.of(s, 2, n)));
            h.beginEpoch(tape, student, 4);
            int stayed = 0, moved = 0;
            for (int u = 0; u < n; u++) {
                if (next[u] < 200) continue; // the rounding of the remembered gap must not blur the ratio
                if (u % 2 == 0) {
                    assertEquals(0, h.checkpointOf(u), "ratio 1.02 stays, user " + u);
                    assertEquals((int) s[n + u], h.distanceOf(u), "a user who stays keeps the remembered gap, user " + u);
                    stayed++;
                } else {
                    assertEquals(1, h.checkpointOf(u), "ratio 1.05 moves, user " + u);
                    assertEquals(after[u], h.distanceOf(u), "a user who moves remembers the gap to the checkpoint after the new one, user " + u);
                    moved++;
                }
            }
            assertTrue(stayed >= 5 && moved >= 5, stayed + " stayed, " + moved + " moved");
            assertTrue(h.distanceOf(1) > 0 && h.checkpointOf(1) == 1, "user 1 moved to a non-zero gap");
        }
    }

    @Test
    void progressIsTheMeanCheckpointRoundedHalfToEvenAndStateRoundTrips() throws Exception {
        Path run = teacherRun();
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA)) {
            HetComp h = new HetComp(params("k", 10), teacher, DATA, 1);
            int n = DATA.users();
            assertEquals(40, n);
            assertEquals(0.0, h.progress());
            float[] s = new float[2 * n];
            for (int u = 0; u < 13; u++) s[u] = 1;
            for (int u = 0; u < n; u++) s[n + u] = u == 0 ? 0 : 100 + u; // user 0 remembers a gap of exactly 0
            h.restore(Map.of("hetcomp", Tensor.of(s, 2, n)));
            assertEquals(0.32, h.progress(), 0.0, "13/40 = 0.325 rounds half to even");
            for (int u = 0; u < n; u++) {
                assertEquals(u < 13 ? 1 : 0, h.checkpointOf(u));
                assertEquals(u == 0 ? 0 : 100 + u, h.distanceOf(u), "remembered gap of user " + u);
            }
            assertArrayEquals(s, h.state().get("hetcomp").toArray(), "state round-trips");
            s[0] = 2; // the last checkpoint is a valid position
            for (int u = 1; u < 14; u++) s[u] = 1;
            h.restore(Map.of("hetcomp", Tensor.of(s, 2, n)));
            assertEquals(0.38, h.progress(), 0.0, "(2 + 13) / 40 = 0.375 rounds half to even");
            float[] before = s.clone();
            before[n] = -1f; // no DKC yet
            h.restore(Map.of("hetcomp", Tensor.of(before, 2, n)));
            assertEquals(-1, h.distanceOf(3));
            float[] beyond = s.clone();
            beyond[5] = 3;
            assertThrows(IllegalArgumentException.class, () -> h.restore(Map.of("hetcomp", Tensor.of(beyond, 2, n))), "checkpoint 3 of 3");
            beyond[5] = -1;
            assertThrows(IllegalArgumentException.class, () -> h.restore(Map.of("hetcomp", Tensor.of(beyond, 2, n))), "checkpoint -1");
        }
    }

    private static int[] perms(HetComp h, int c) {
        int k = h.k();
        int[] out = new int[DATA.users() * k];
        for (int u = 0; u < DATA.users(); u++) System.arraycopy(h.permutation(c, u), 0, out, u * k, k);
        return out;
    }

    private static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    @Test
    void distillsAndResumesExactlyAcrossKnowledgeConstruction() throws Exception {
        Path run = teacherRun();
        TrainConfig full = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 5, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.load(run.resolve("best.safetensors"), DATA)) {
            // p = 1: DKC at epochs 1 (measure), 2, 3, 4 (moves); alpha 1.0 makes moving easy
            Distillation.Setup s = Distillation.resolve("hetcomp", full, null, "mf", Map.of("hetcomp.k", 10, "hetcomp.p", 1, "hetcomp.alpha", 1.0, "lambda", 0.05));
            float[] straight;
            HetComp straightKd;
            try (Recommender m = kdrec.train.Models.create(full, DATA)) {
                DistillObjective obj = (DistillObjective) Distillation.objective(s, teacher, DATA);
                Trainer.Result r = new Trainer(full, DATA, m, obj, new Trainer.Outputs(null, null, dir.resolve("a"))).fit(null);
                assertTrue(Double.isFinite(r.test().get("ndcg@10")));
                straight = m.params().get("user").value().toArray();
                straightKd = (HetComp) obj.distiller();
            }
            assertTrue(straightKd.progress() > 0, "some users moved along the trajectory");
            Distillation.Setup half = new Distillation.Setup("hetcomp", full.with(Map.of("epochs", 3)), s.params());
            Distillation.run(half, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve("b")), null);
            try (Recommender m = kdrec.train.Models.create(full, DATA)) {
                DistillObjective obj = (DistillObjective) Distillation.objective(s, teacher, DATA);
                Trainer.Result r = new Trainer(full, DATA, m, obj, new Trainer.Outputs(null, null, dir.resolve("b")))
                        .fit(dir.resolve("b").resolve("last.safetensors"));
                assertEquals(5, r.epochsRun());
                assertArrayEquals(straight, m.params().get("user").value().toArray(), "resumed distillation equals the uninterrupted one");
                HetComp resumed = (HetComp) obj.distiller();
                for (int u = 0; u < DATA.users(); u++) {
                    assertEquals(straightKd.checkpointOf(u), resumed.checkpointOf(u), "trajectory position of user " + u);
                    assertEquals(straightKd.distanceOf(u), resumed.distanceOf(u));
                }
            }
            assertNotEquals(0f, straight[0]);
        }
    }
}

package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Vanilla CE KD: a hand-computed loss, the two guides' item sets, settings, and a tiny end-to-end run. */
class VanillaCeTest {
    @TempDir
    Path dir;

    static final TrainData DATA = RceKdTest.DATA;

    static KdParams params(Object... kv) {
        return VanillaCe.METHOD.params().with(KdParams.ordered(kv));
    }

    /** A 1-d MF whose user u has embedding {@code user[u]} (default 1) and item i {@code item(i)}. */
    static MatrixFactorization oneDim(java.util.function.IntToDoubleFunction user, java.util.function.IntToDoubleFunction item) {
        MatrixFactorization m = new MatrixFactorization(DATA.users(), DATA.items(), 1, 0);
        Tensor u = m.params().get("user").value(), it = m.params().get("item").value();
        for (int x = 0; x < DATA.users(); x++) u.set(x, (float) user.applyAsDouble(x));
        for (int x = 0; x < DATA.items(); x++) it.set(x, (float) item.applyAsDouble(x));
        return m;
    }

    @Test
    void handComputedLossOnTheTeachersTopK() {
        // teacher: every user 1, item i = i/10 -> top-2 = {29, 28} with logits 2.9, 2.8
        // student: user 3 = 2, others 1; item 29 = 1, others 0 -> s(u, 29) = 1 (2 for user 3), s(u, 28) = 0
        // p^T = softmax(2.9, 2.8) = (0.524979, 0.475021)
        // user 0: log p^S = (-log(1+e^-1), -1-log(1+e^-1)) = (-0.313262, -1.313262): CE = 0.788283
        // user 3: log p^S = (-0.126928, -2.126928): CE = 0.126928 + 2 * 0.475021 = 1.076970
        // batch users {0, 0, 3} (duplicates kept, summed): 2 * 0.788283 + 1.076970 = 2.653535
        // tau = 2: user 0 only: softmax(1.45, 1.40) vs softmax(0.5, 0): CE = 0.717828
        try (Teacher teacher = Teacher.of(oneDim(u -> 1, i -> i / 10.0));
             Recommender student = oneDim(u -> u == 3 ? 2 : 1, i -> i == 29 ? 1 : 0); Tape tape = new Tape()) {
            VanillaCe kd = new VanillaCe(params("k", 2), teacher, DATA, 1);
            kd.beginEpoch(tape, student, 0);
            assertArrayEquals(new int[] {29, 28}, kd.setOf(5), "A_u = the teacher's top-K, best first");
            Var loss = kd.loss(tape, student, student.forward(tape), new Batch(new int[] {0, 0, 3}, new int[3], new int[3]));
            assertEquals(2.653535, loss.value().get(0), 1e-5);
            VanillaCe hot = new VanillaCe(params("k", 2, "tau", 2.0), teacher, DATA, 1);
            Var l2 = hot.loss(tape, student, student.forward(tape), new Batch(new int[] {0}, new int[1], new int[1]));
            assertEquals(0.717828, l2.value().get(0), 1e-5);
        }
    }

    @Test
    void teacherGuideKeepsTrainItemsAndStudentGuideFollowsTheStudentEachEpoch() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f)); Recommender student = RceKdTest.mf(4, 2, 1f); Tape tape = new Tape()) {
            int k = 6;
            VanillaCe byTeacher = new VanillaCe(params("k", k), teacher, DATA, 1);
            int[] qt = teacher.topK(k, null, null);
            int[] ptr = DATA.trainPtr(), tr = DATA.trainItems();
            boolean sawTrainItem = false;
            for (int u = 0; u < DATA.users(); u++) {
                int[] set = byTeacher.setOf(u);
                assertArrayEquals(Arrays.copyOfRange(qt, u * k, u * k + k), set, "teacher top-K, user " + u);
                for (int j = ptr[u]; j < ptr[u + 1]; j++) sawTrainItem |= RceKdTest.toSet(set).contains(tr[j]);
            }
            assertTrue(sawTrainItem, "train items are not masked (some teacher top list holds one)");

            VanillaCe byStudent = new VanillaCe(params("k", k, "guide", "student"), teacher, DATA, 1);
            // the device twin's view: guide, K, tau and the sets (none before a student-guided epoch)
            assertTrue(!byTeacher.studentGuide() && byStudent.studentGuide());
            assertEquals(k, byTeacher.k());
            assertEquals(1f, byTeacher.tau());
            assertEquals(2.5f, new VanillaCe(params("k", k, "tau", 2.5), teacher, DATA, 1).tau());
            assertArrayEquals(byTeacher.setOf(7), byTeacher.sets().of(7));
            assertTrue(byStudent.sets() == null, "no sets before the student's first epoch");
            assertThrows(IllegalStateException.class, () -> byStudent.loss(tape, student, student.forward(tape), new Batch(new int[] {0}, new int[1], new int[1])));
            byStudent.beginEpoch(tape, student, 0);
            for (int u = 0; u < DATA.users(); u++) assertArrayEquals(RceKdTest.bruteTop(student, u, k), byStudent.setOf(u), "student top-K, user " + u);
            // move the student: the next epoch's sets follow it
            Tensor items = student.params().get("item").value();
            for (int c = 0; c < 4; c++) items.set(11, c, 3f);
            byStudent.beginEpoch(tape, student, 1);
            for (int u = 0; u < DATA.users(); u++) assertArrayEquals(RceKdTest.bruteTop(student, u, k), byStudent.setOf(u), "epoch 1, user " + u);
        }
    }

    @Test
    void settingsAreChecked() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VanillaCe(params("guide", "both"), teacher, DATA, 1));
            assertTrue(e.getMessage().contains("ce.guide"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new VanillaCe(params("k", 0), teacher, DATA, 1));
            assertThrows(IllegalArgumentException.class, () -> new VanillaCe(params("tau", 0.0), teacher, DATA, 1));
            assertEquals(DATA.items(), new VanillaCe(params("k", 500), teacher, DATA, 1).setOf(0).length, "K is capped at the catalogue");
        }
        Distillation.Setup s = Distillation.resolve("ce", TrainConfig.defaults(), "citeulike", "mf", Map.of());
        assertEquals("student", s.params().str("guide"));
        assertEquals(1e-7f, s.student().weightDecay());
        Distillation.Setup lg = Distillation.resolve("ce", TrainConfig.defaults(), "citeulike", "lightgcn", Map.of());
        assertEquals(10.0, lg.params().real("tau"));
    }

    @Test
    void tinyDistillationRunsBothGuides() throws Exception {
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("dim", 8, "epochs", 3, "batch_size", 64, "lr", 0.01, "patience", 50));
        try (Teacher teacher = Teacher.of(RceKdTest.mf(16, 1, 0.5f))) {
            for (String guide : new String[] {"teacher", "student"}) {
                Distillation.Setup s = Distillation.resolve("ce", cfg, null, "mf", Map.of("ce.k", 5, "ce.guide", guide));
                Trainer.Result r = Distillation.run(s, teacher, DATA, new Trainer.Outputs(null, null, dir.resolve(guide)), null);
                assertEquals(3, r.epochsRun());
                assertTrue(Double.isFinite(r.test().get("ndcg@10")), guide);
            }
        }
    }
}

package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.IntStream;
import kdrec.tensor.Tensor;
import kdrec.train.TrainData;
import org.junit.jupiter.api.Test;

/** Teacher.topKAmong (UnKD's per-group lists) against a plain ranking of the same float scores. */
class TeacherTest {
    private static final TrainData DATA = RceKdTest.DATA;

    /** The kernel's score: one float fma chain over the dims from +0, as TopKScalar documents. */
    private static float score(Tensor u, int user, Tensor it, int item) {
        float acc = 0f;
        for (int k = 0; k < u.cols(); k++) acc = Math.fma(u.get(user, k), it.get(item, k), acc);
        return acc;
    }

    @Test
    void topKAmongASubsetSkipsExclusionsBreaksTiesByIdAndPadsShortRows() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            int[] subset = IntStream.range(0, DATA.items()).filter(i -> i % 2 == 0 || i == 7).toArray();
            int[] ptr = DATA.trainPtr(), train = DATA.trainItems();
            for (int k : new int[] {0, 1, 5, subset.length}) {
                int[] got = teacher.topKAmong(subset, k, ptr, train);
                assertEquals(DATA.users() * k, got.length);
                for (int u = 0; u < DATA.users(); u++) {
                    int uu = u;
                    Set<Integer> seen = RceKdTest.toSet(Arrays.copyOfRange(train, ptr[u], ptr[u + 1]));
                    int[] want = Arrays.stream(subset).filter(i -> !seen.contains(i)).boxed()
                            .sorted((a, b) -> {
                                float sa = score(teacher.userEmbeddings(), uu, teacher.itemEmbeddings(), a);
                                float sb = score(teacher.userEmbeddings(), uu, teacher.itemEmbeddings(), b);
                                return sa != sb ? Float.compare(sb, sa) : Integer.compare(a, b);
                            }).mapToInt(Integer::intValue).limit(k).toArray();
                    int[] row = Arrays.copyOfRange(got, u * k, u * k + k);
                    assertArrayEquals(want, Arrays.copyOf(row, want.length), "user " + u + ", k " + k);
                    for (int j = want.length; j < k; j++) assertEquals(-1, row[j], "a short row ends in -1");
                }
            }
            int[] padded = teacher.topKAmong(subset, subset.length, ptr, train);
            assertTrue(Arrays.stream(padded).anyMatch(i -> i == -1), "train items of the subset leave rows short");
        }
    }

    @Test
    void theWholeCatalogueAsSubsetGivesTheTopKLists() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 2, 1f))) {
            int[] all = IntStream.range(0, DATA.items()).toArray();
            assertArrayEquals(teacher.topK(10, DATA.trainPtr(), DATA.trainItems()), teacher.topKAmong(all, 10, DATA.trainPtr(), DATA.trainItems()));
        }
    }

    @Test
    void badSubsetsAndExclusionsAreRejected() {
        try (Teacher teacher = Teacher.of(RceKdTest.mf(8, 1, 1f))) {
            int[] ptr = DATA.trainPtr(), train = DATA.trainItems();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> teacher.topKAmong(new int[] {3, 2}, 1, ptr, train));
            assertTrue(e.getMessage().contains("ascending"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> teacher.topKAmong(new int[] {DATA.items()}, 1, ptr, train));
            assertTrue(e.getMessage().contains("[0, " + DATA.items() + ")"), e.getMessage());
            int[] badTrain = train.clone();
            badTrain[0] = -3;
            e = assertThrows(IllegalArgumentException.class, () -> teacher.topKAmong(new int[] {1}, 1, ptr, badTrain));
            assertTrue(e.getMessage().contains("excluded item -3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> teacher.topKAmong(new int[] {1}, 1, new int[] {0, 0}, train));
            assertTrue(e.getMessage().contains("exclusions for 1 users"), e.getMessage());
        }
    }
}

package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.CudaProbe;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuRceKd;
import kdrec.gpu.RequiresGpu;
import kdrec.model.MatrixFactorization;
import kdrec.nn.Params;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * RCE-KD's per-epoch sets built on the device (native/rcekd.cu through {@link RceKdSetsOnDevice})
 * against the host's {@link RceKdEpoch#build} for the same teacher, settings, seed, epoch and student
 * top-M: the lists (ids in order), split points and weights must be identical and the teacher targets
 * equal to float rounding, over separate and one-set lists, sample_rank, a constant weight, L = M
 * (no draw), K = M = L = 1, M not a power of two (a padded sort), the largest M the kernel takes, a
 * block building several users in turn, and thousands of users on a real GPU. The argument checks run
 * without a GPU.
 */
class RceKdSetsGpuTest {
    /** One case: users x items, settings. */
    private record Case(int users, int items, int k, int m, int l, boolean separate, boolean sampleRank, double constWeight, int epoch) {}

    private static final Case[] CASES = {
            new Case(64, 200, 10, 40, 12, true, false, -1, 0),
            new Case(64, 200, 10, 40, 12, true, false, -1, 3),
            new Case(64, 200, 10, 40, 12, false, false, -1, 1),
            new Case(64, 200, 10, 40, 12, true, true, -1, 2),
            new Case(50, 150, 8, 30, 9, true, false, 0.3, 0),
            new Case(40, 300, 20, 37, 37, true, false, -1, 0), // L = M: every position, no draw
            new Case(33, 120, 1, 1, 1, true, false, -1, 5),
            new Case(70, 900, 30, 700, 300, true, false, -1, 1), // M not a power of two: padded sort
            new Case(50, 600, 20, 513, 40, false, true, -1, 0),
            new Case(6, 1500, 100, GpuRceKd.MAX_M, 50, true, false, -1, 1)};

    /** A teacher MF with N(0, 1) parameters (clear, well-spread rankings). */
    private static Teacher teacher(int users, int items, long seed) {
        MatrixFactorization m = new MatrixFactorization(users, items, 8, seed);
        for (var p : m.params().all()) Params.fillNormal(p.value(), 1f, seed * 31 + p.name().hashCode());
        return Teacher.of(m);
    }

    private static RceKd rcekd(Teacher t, Case c, long seed) {
        KdParams p = RceKd.METHOD.params().with(KdParams.ordered("k", c.k(), "m", c.m(), "l", c.l(), "separate", c.separate(),
                "sample_rank", c.sampleRank(), "const_weight", c.constWeight(), "tau", 0.7));
        return new RceKd(p, t, null, seed);
    }

    /**
     * Each user's student top-M: distinct items, about half of them the teacher's (so the closure
     * counts and overlaps vary), in a random order.
     */
    private static int[] studentTop(int[] teacherTop, int users, int items, int k, int m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] top = new int[users * m];
        for (int u = 0; u < users; u++) {
            double[] key = new double[items];
            for (int i = 0; i < items; i++) key[i] = r.nextDouble();
            for (int j = 0; j < k; j++) key[teacherTop[u * k + j]] += 0.5 + 0.5 * r.nextDouble();
            Integer[] order = new Integer[items];
            for (int i = 0; i < items; i++) order[i] = i;
            Arrays.sort(order, (x, y) -> Double.compare(key[y], key[x]));
            for (int j = 0; j < m; j++) top[u * m + j] = order[j];
        }
        return top;
    }

    @Test
    void argumentsAreCheckedWithoutAGpu() {
        assertThrows(IllegalArgumentException.class,
                () -> GpuRceKd.sets(null, 1, GpuRceKd.MAX_M + 1, 1, 1, 3, null, null, 0, 1, false, true, null, null, null, null, null, null, null),
                "m over the kernel's limit");
        assertThrows(IllegalArgumentException.class,
                () -> GpuRceKd.sets(null, 1, 10, 11, 1, 30, null, null, 0, 1, false, true, null, null, null, null, null, null, null), "k > m");
        assertThrows(IllegalArgumentException.class,
                () -> GpuRceKd.sets(null, 1, 10, 5, 3, 12, null, null, 0, 1, false, true, null, null, null, null, null, null, null), "cap < 2k + l");
        assertThrows(IllegalArgumentException.class,
                () -> GpuRceKd.sets(null, 1, 10, 5, 3, 13, null, null, 0, 0, false, true, null, null, null, null, null, null, null), "T = 0");
    }

    @Nested
    @Tag("gpu")
    @ExtendWith(RequiresGpu.class)
    class OnGpu {
        @Test
        void listsSplitsAndWeightsEqualTheHostsTargetsToRounding() {
            Cuda cuda = CudaProbe.cuda();
            long before = cuda.allocatedBytes();
            long seed = 11;
            for (Case c : CASES) {
                try (Teacher t = teacher(c.users(), c.items(), seed)) {
                    compare(cuda, t, c, seed++, GpuRceKd.MAX_BLOCKS);
                }
            }
            assertEquals(before, cuda.allocatedBytes(), "device bytes leaked");
        }

        @Test
        void aBlockBuildingSeveralUsersInTurnGivesTheSameLists() {
            // the kernel loops over users per block when users exceed its grid; the cases above get a block each
            Cuda cuda = CudaProbe.cuda();
            for (int cap : new int[] {1, 3}) {
                for (Case c : new Case[] {CASES[0], CASES[2], CASES[7]}) {
                    try (Teacher t = teacher(c.users(), c.items(), 21)) {
                        compare(cuda, t, c, 21, cap);
                    }
                }
            }
        }

        @Test
        void aLargeCaseEqualsTheHost() {
            // thousands of users at the largest M on a GPU (the host's Math.log and CUDA's log may differ in
            // the last ulp; a list differs only if that moves a key across a float rounding boundary and past
            // its neighbour): every list must still be the host's
            Cuda cuda = CudaProbe.cuda();
            Case c = new Case(kdrec.gpu.GpuTestSizes.pick(3000, 24), 4000, 100, GpuRceKd.MAX_M, 100, true, false, -1, 4);
            try (Teacher t = teacher(c.users(), c.items(), 31)) {
                compare(cuda, t, c, 31, GpuRceKd.MAX_BLOCKS);
            }
        }

        @Test
        void theDrawDependsOnEpochAndSeed() {
            // guards the comparison above against a draw that ignores its inputs (every case would still agree)
            Case c = CASES[0];
            try (Teacher t = teacher(c.users(), c.items(), 3)) {
                int[][] lists = {deviceIds(t, c, 5, 0), deviceIds(t, c, 5, 1), deviceIds(t, c, 6, 0)};
                assertFalse(Arrays.equals(lists[0], lists[1]), "another epoch draws other positions");
                assertFalse(Arrays.equals(lists[0], lists[2]), "another seed draws other positions");
                assertArrayEquals(lists[0], deviceIds(t, c, 5, 0), "the same seed and epoch draw the same");
            }
        }

        private int[] deviceIds(Teacher t, Case c, long seed, int epoch) {
            Cuda cuda = CudaProbe.cuda();
            RceKd kd = rcekd(t, c, seed);
            int[] top = studentTop(kd.deviceSpec().teacherTop(), c.users(), c.items(), c.k(), c.m(), 99);
            try (UploadSlots slots = new UploadSlots(cuda)) {
                RceKdSetsOnDevice sets = new RceKdSetsOnDevice(cuda, slots, kd.deviceSpec());
                sets.build(c.users(), slots.ints("top", top, top.length), epoch);
                return cuda.downloadInts(sets.dIdx, sets.ptr[c.users()]);
            }
        }

        private void compare(Cuda cuda, Teacher t, Case c, long seed, int blockCap) {
            String what = c + ", blocks <= " + blockCap;
            RceKd kd = rcekd(t, c, seed);
            int users = c.users();
            int[] top = studentTop(kd.deviceSpec().teacherTop(), users, c.items(), c.k(), c.m(), seed + 1000);
            kd.beginEpoch(kdrec.tensor.Backends.get(), users, c.items(), (m, into, scores) -> System.arraycopy(top, 0, into, 0, top.length),
                    c.epoch());
            RceKdEpoch ep = kd.epochSets();
            try (UploadSlots slots = new UploadSlots(cuda)) {
                RceKdSetsOnDevice sets = new RceKdSetsOnDevice(cuda, slots, kd.deviceSpec());
                sets.blockCap = blockCap;
                sets.build(users, slots.ints("top", top, top.length), c.epoch());
                int nnz = ep.ptr[users];
                assertArrayEquals(Arrays.copyOf(ep.ptr, users + 1), Arrays.copyOf(sets.ptr, users + 1), what + ": list lengths");
                assertArrayEquals(Arrays.copyOf(ep.idx, nnz), cuda.downloadInts(sets.dIdx, nnz), what + ": list ids in order");
                assertArrayEquals(Arrays.copyOf(ep.a, users), Arrays.copyOf(sets.a, users), what + ": a (end of SK)");
                assertArrayEquals(Arrays.copyOf(ep.b, users), Arrays.copyOf(sets.b, users), what + ": b (start of J2)");
                assertArrayEquals(Arrays.copyOf(ep.wA, users), Arrays.copyOf(sets.wA, users), what + ": wA = 1 - w");
                assertArrayEquals(Arrays.copyOf(ep.wB, users), Arrays.copyOf(sets.wB, users), what + ": wB = w");
                float[] target = cuda.downloadFloats(sets.dTarget, nnz);
                for (int j = 0; j < nnz; j++) {
                    assertEquals(ep.target[j], target[j], 1e-6f + 1e-5f * Math.abs(ep.target[j]), what + ": target " + j);
                }
                if (c.separate() && c.l() < c.m()) {
                    boolean varied = false; // the weights are not all one value: overlaps differ between users
                    for (int u = 1; u < users; u++) varied |= sets.wB[u] != sets.wB[0];
                    assertTrue(varied || c.constWeight() >= 0, what + ": overlaps vary between users");
                }
            }
        }
    }
}

package kdrec.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LongRadix against Arrays.sort: random signed keys, top-K style keys (score word over id), constant digits. */
class LongRadixTest {
    @Test
    void sortsLikeArraysSort() {
        SplittableRandom r = new SplittableRandom(11);
        for (int n : new int[] {0, 1, 2, LongRadix.MIN - 1, LongRadix.MIN, LongRadix.MIN + 1, 1000, 4099}) {
            for (int kind = 0; kind < 5; kind++) {
                long[] a = new long[n + 3];
                for (int i = 0; i < a.length; i++) {
                    a[i] = switch (kind) {
                        case 0 -> r.nextLong(); // both signs, every digit varies
                        case 1 -> TopKRows.key((float) r.nextGaussian(), r.nextInt(41_000)); // the top-K keys
                        case 2 -> TopKRows.key(r.nextInt(5) - 2f, i); // many equal score words
                        case 3 -> 42L; // every digit constant
                        default -> -r.nextInt(1000); // negative, small
                    };
                }
                long[] want = a.clone();
                Arrays.sort(want, 0, n);
                long[] got = a.clone();
                LongRadix.sort(got, n, new long[n]);
                assertArrayEquals(want, got, "n " + n + ", kind " + kind + " (the tail past n untouched)");
            }
        }
    }
}

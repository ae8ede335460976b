package kdrec.kd;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded sampling shared by the distillers. Every draw comes from a generator that is a pure
 * function of (seed, stream, epoch, user), so per-user work may run in any order or thread and a
 * resumed run redraws exactly what the uninterrupted one drew.
 */
public final class Sampling {
    private Sampling() {}

    /** The generator for one user in one epoch; {@code stream} separates a method's independent draws. */
    public static SplittableRandom rng(long seed, int stream, int epoch, int user) {
        return new SplittableRandom(rngBase(seed, stream, epoch) + (long) user * USER_MIX);
    }

    /** The per-user multiplier of {@link #rng}'s seed (native/rcekd.cu repeats it). */
    static final long USER_MIX = 0x94D049BB133111EBL;

    /** {@link #rng}'s seed without the user's part, which is {@code user * USER_MIX} added to it (the device draws from this). */
    public static long rngBase(long seed, int stream, int epoch) {
        return seed * 0x9E3779B97F4A7C15L + (long) stream * 0xD1B54A32D192ED03L + (long) epoch * 0xBF58476D1CE4E5B9L;
    }

    /**
     * Draws {@code count} distinct positions of {@code [0, n)} with probability proportional to
     * {@code exp(logWeight[i])}, without replacement, returned in increasing position order. This is
     * the distribution of torch.multinomial(replacement=False) (successive draws, renormalised):
     * Efraimidis-Spirakis keys U^(1/w) in log form, i.e. the Gumbel-top-k trick, which stays finite
     * for weights like exp(-r/T) however small they get.
     */
    public static int[] withoutReplacement(double[] logWeight, int n, int count, SplittableRandom rng) {
        if (count >= n) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] out = inDrawOrder(logWeight, n, count, rng);
        Arrays.sort(out);
        return out;
    }

    /**
     * The same draw as {@link #withoutReplacement} (same generator, same chosen set when count &lt; n),
     * returned in the order drawn, i.e. torch.multinomial's output order: the Gumbel-perturbed keys from
     * the largest down are the sequential draws. DCD keeps that order for its ranked list.
     */
    public static int[] inDrawOrder(double[] logWeight, int n, int count, SplittableRandom rng) {
        // one primitive sort of (key, position) pairs packed into longs: the key's float bits made
        // order-preserving as a signed int in the high half, the position in the low half
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble();
            while (u == 0.0) u = rng.nextDouble();
            float key = (float) (logWeight[i] - Math.log(-Math.log(u)));
            int bits = Float.floatToRawIntBits(key);
            bits ^= (bits >> 31) & 0x7fffffff;
            packed[i] = ((long) bits << 32) | (0xffffffffL & (n - 1 - i)); // equal keys: lower position wins
        }
        Arrays.sort(packed);
        int c = Math.min(count, n);
        int[] out = new int[c];
        for (int j = 0; j < c; j++) out[j] = n - 1 - (int) packed[n - 1 - j];
        return out;
    }

    /** {@code count} distinct values of {@code [0, n)} uniformly, without replacement (Floyd), in increasing order. */
    public static int[] uniformWithoutReplacement(int n, int count, SplittableRandom rng) {
        if (count >= n) return withoutReplacement(new double[n], n, n, rng);
        it.unimi.dsi.fastutil.ints.IntOpenHashSet chosen = new it.unimi.dsi.fastutil.ints.IntOpenHashSet(count * 2);
        for (int j = n - count; j < n; j++) {
            int t = rng.nextInt(j + 1);
            if (!chosen.add(t)) chosen.add(j);
        }
        int[] out = chosen.toIntArray();
        Arrays.sort(out);
        return out;
    }
}

package kdrec.tensor;

import java.util.Arrays;

/** Shape arithmetic and the checks every op runs once at its boundary. */
public final class Shapes {
    private Shapes() {}

    public static final int MAX_RANK = 3;

    static int[] check(int[] shape) {
        if (shape.length < 1 || shape.length > MAX_RANK) {
            throw new IllegalArgumentException("tensor rank must be 1.." + MAX_RANK + ", got shape " + str(shape));
        }
        for (int d : shape) if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
        return shape;
    }

    public static long size(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Throws naming {@code op} unless both tensors have the same shape. */
    public static void same(String op, Tensor a, Tensor b) {
        if (!a.sameShape(b)) {
            throw new IllegalArgumentException(op + ": shapes " + str(a.shape()) + " and " + str(b.shape()) + " differ");
        }
    }

    /** Throws naming {@code op} unless {@code t} has rank 2. */
    public static void matrix(String op, Tensor t) {
        if (t.rank() != 2) throw new IllegalArgumentException(op + ": expected a matrix, got shape " + str(t.shape()));
    }

    /** Throws naming {@code op} with both shapes; for conditions the caller tests. */
    public static IllegalArgumentException mismatch(String op, String what, Tensor a, Tensor b) {
        return new IllegalArgumentException(op + ": " + what + " (shapes " + str(a.shape()) + " and " + str(b.shape()) + ")");
    }
}

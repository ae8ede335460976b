package kdrec.autograd;

/**
 * A marker on the tape for profiling: {@code r} runs when the backward pass reaches the point where
 * the probe was placed (between the backward closures of the ops recorded before and after it).
 * Records nothing outside a recording scope.
 */
public final class Probe {
    private Probe() {}

    public static void onBackward(Tape t, Runnable r) {
        if (t.recording()) t.record(r);
    }
}

package kdrec.device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Where a device epoch's time goes: opt-in per-phase wall times of {@link DeviceTraining}'s step and
 * per-epoch hook, for one run on a GPU to tell whether host work, uploads, kernels or the hook
 * dominate ({@code -Dkdrec.device.profile=true}; the trainer logs {@link #report} after every epoch).
 *
 * <p>Kernel launches return before the kernels finish, so each phase boundary synchronises the device
 * first: a phase's time is then its host work plus the device work it launched. Those waits make a
 * profiled epoch slower than an unprofiled one (the host no longer runs ahead of the GPU); the shares
 * are the point, not the total. {@code outside} is the trainer's own time between the device calls of
 * an epoch (batch sampling, the epoch's negatives and shuffle before its first step), from the end of
 * the per-epoch hook or of a step to the start of the next step: one per step, no synchronisation.
 *
 * <p>Off ({@link #OFF}, the default), every method returns at once: no synchronisation, no clock
 * read, no allocation. Not thread-safe (a run steps from one thread).
 */
final class StepProfile {
    /** The switch, read once: {@code -Dkdrec.device.profile=true}. */
    static final boolean ENABLED = Boolean.getBoolean("kdrec.device.profile");

    /** The profile that records nothing. */
    static final StepProfile OFF = new StepProfile(false, () -> {}, () -> 0L);

    /** One phase's accumulated wall nanoseconds and the number of times it ran. */
    private static final class Phase {
        long nanos, count;
    }

    private final boolean on;
    private final Runnable sync;
    private final LongSupplier clock;
    private final Map<String, Phase> phases = new LinkedHashMap<>(); // first-use order
    private long mark;               // the clock at the last boundary
    private long handedBack = -1;    // the clock when the device object last returned to the trainer, -1: not in an epoch's steps

    private StepProfile(boolean on, Runnable sync, LongSupplier clock) {
        this.on = on;
        this.sync = sync;
        this.clock = clock;
    }

    /** A recording profile that calls {@code sync} (the device's synchronise) at every boundary; the clock is System.nanoTime. */
    static StepProfile on(Runnable sync) {
        return new StepProfile(true, sync, System::nanoTime);
    }

    /** A recording profile on a given clock (tests). */
    static StepProfile on(Runnable sync, LongSupplier clock) {
        return new StepProfile(true, sync, clock);
    }

    /** {@link #on} under {@code -Dkdrec.device.profile=true}, else {@link #OFF}. */
    static StepProfile fromProperty(Runnable sync) {
        return ENABLED ? on(sync) : OFF;
    }

    boolean enabled() {
        return on;
    }

    /**
     * The start of a step: the trainer's time since the device object last {@linkplain #handBack handed
     * back} is recorded as {@code outside}, then the device is synchronised and the clock starts.
     */
    void beginStep() {
        if (!on) return;
        long now = clock.getAsLong();
        if (handedBack >= 0) add("outside", now - handedBack);
        handedBack = -1;
        sync.run();
        mark = clock.getAsLong();
    }

    /** The start of timed work that does not follow the trainer's step loop (the hook, the parameters' download): no {@code outside}. */
    void begin() {
        if (!on) return;
        handedBack = -1;
        sync.run();
        mark = clock.getAsLong();
    }

    /** Synchronises and adds the time since the last boundary to {@code phase}; the next phase starts now. */
    void lap(String phase) {
        if (!on) return;
        sync.run();
        long now = clock.getAsLong();
        add(phase, now - mark);
        mark = now;
    }

    /** The device object returns to the trainer's step loop: what the trainer does until the next {@link #beginStep} is {@code outside}. */
    void handBack() {
        if (!on) return;
        handedBack = clock.getAsLong();
    }

    private void add(String phase, long nanos) {
        Phase p = phases.computeIfAbsent(phase, k -> new Phase());
        p.nanos += Math.max(0, nanos);
        p.count++;
    }

    /** The phases recorded since the last {@link #reset}, in first-use order. */
    List<String> phases() {
        return new ArrayList<>(phases.keySet());
    }

    /** How many times {@code phase} ran since the last reset (0 if never). */
    long count(String phase) {
        Phase p = phases.get(phase);
        return p == null ? 0 : p.count;
    }

    /** {@code phase}'s total wall seconds since the last reset (0 if never). */
    double seconds(String phase) {
        Phase p = phases.get(phase);
        return p == null ? 0 : p.nanos / 1e9;
    }

    /** Forgets every phase (the trainer's next epoch starts from zero). */
    void reset() {
        phases.clear();
        handedBack = -1;
    }

    /**
     * One line per phase in first-use order (name, total seconds, count, mean microseconds, share of the
     * sum of all phases: the profiled epoch's time from its hook to its parameters' download), then a
     * total line; null when off.
     */
    String report() {
        if (!on) return null;
        long total = 0;
        for (Phase p : phases.values()) total += p.nanos;
        StringBuilder sb = new StringBuilder();
        for (var e : phases.entrySet()) {
            Phase p = e.getValue();
            double share = total == 0 ? 0 : 100.0 * p.nanos / total;
            sb.append(String.format(Locale.ROOT, "%-14s %9.4f s %8d x %11.1f us %6.2f %%", e.getKey(), p.nanos / 1e9, p.count,
                    p.nanos / 1e3 / p.count, share)).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%-14s %9.4f s (every phase synchronised: slower than an unprofiled epoch)", "total", total / 1e9));
        return sb.toString();
    }
}

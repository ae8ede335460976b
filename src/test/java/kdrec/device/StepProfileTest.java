package kdrec.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The device profile's bookkeeping on a hand-driven clock (no GPU): which phase gets which time, the
 * trainer's gaps as {@code outside}, one synchronisation per boundary, the report's lines, reset, and
 * that the switched-off profile records and synchronises nothing.
 */
class StepProfileTest {
    private static final long MS = 1_000_000L;

    /** A clock the test sets, and a count of the synchronisations asked for. */
    private static final class Fake {
        long now, syncs;

        StepProfile profile() {
            return StepProfile.on(() -> syncs++, () -> now);
        }
    }

    @Test
    void lapsGiveEachPhaseItsTimeAndCountInFirstUseOrder() {
        Fake f = new Fake();
        StepProfile p = f.profile();
        f.now = 100 * MS;
        p.begin();              // the hook: no outside before it
        f.now += 30 * MS;
        p.lap("a");
        f.now += 50 * MS;
        p.lap("b");
        p.handBack();
        f.now += 20 * MS;       // the trainer's own work
        p.beginStep();
        f.now += 10 * MS;
        p.lap("a");
        assertEquals(List.of("a", "b", "outside"), p.phases());
        assertEquals(2, p.count("a"));
        assertEquals(0.040, p.seconds("a"), 1e-12);
        assertEquals(1, p.count("b"));
        assertEquals(0.050, p.seconds("b"), 1e-12);
        assertEquals(1, p.count("outside"));
        assertEquals(0.020, p.seconds("outside"), 1e-12);
        assertEquals(0, p.count("never"));
        assertEquals(5, f.syncs, "one synchronisation per boundary (begin, beginStep, three laps); handBack needs none");
        assertEquals(String.join("\n",
                "a                 0.0400 s        2 x     20000.0 us  36.36 %",
                "b                 0.0500 s        1 x     50000.0 us  45.45 %",
                "outside           0.0200 s        1 x     20000.0 us  18.18 %",
                "total             0.1100 s (every phase synchronised: slower than an unprofiled epoch)"), p.report());
    }

    @Test
    void outsideIsOnlyTheTrainersTimeBetweenSteps() {
        Fake f = new Fake();
        StepProfile p = f.profile();
        p.beginStep();          // the first step of a run: nothing handed back yet
        f.now += MS;
        p.lap("x");
        p.handBack();
        f.now += 7 * MS;        // e.g. the trainer's evaluation, then its download of the parameters
        p.begin();
        f.now += MS;
        p.lap("epoch.download");
        f.now += 9 * MS;
        p.beginStep();
        assertEquals(0, p.count("outside"), "begin() ends the step loop's gap without counting it, and the next step has none");
        p.handBack();
        f.now += 3 * MS;
        p.reset();
        p.beginStep();
        assertEquals(0, p.count("outside"), "reset forgets a pending gap");
        assertEquals(List.of(), p.phases(), "reset forgets every phase");
        assertEquals("total             0.0000 s (every phase synchronised: slower than an unprofiled epoch)", p.report());
        f.now += 2 * MS;
        p.lap("x");
        p.handBack();
        f.now += 4 * MS;
        p.beginStep();
        assertEquals(1, p.count("outside"));
        assertEquals(0.004, p.seconds("outside"), 1e-12);
        assertEquals(List.of("x", "outside"), p.phases());
    }

    @Test
    void aClockGoingBackCountsAsZeroNotNegative() {
        Fake f = new Fake();
        StepProfile p = f.profile();
        f.now = 10 * MS;
        p.begin();
        f.now = 5 * MS;
        p.lap("a");
        assertEquals(0.0, p.seconds("a"));
        assertEquals(1, p.count("a"));
        assertTrue(p.report().startsWith("a                 0.0000 s        1 x         0.0 us   0.00 %\n"), p.report());
    }

    @Test
    void offRecordsAndSynchronisesNothing() {
        StepProfile off = StepProfile.OFF;
        off.begin();
        off.beginStep();
        off.lap("a");
        off.handBack();
        off.reset();
        assertTrue(!off.enabled());
        assertEquals(List.of(), off.phases());
        assertNull(off.report(), "off: no report (DeviceRun.profileReport's null)");
        if (StepProfile.ENABLED) return; // the tests ran under -Dkdrec.device.profile=true
        long[] syncs = {0};
        StepProfile fromProperty = StepProfile.fromProperty(() -> syncs[0]++);
        assertSame(StepProfile.OFF, fromProperty, "without -Dkdrec.device.profile=true the run gets the profile that does nothing");
        fromProperty.beginStep();
        fromProperty.lap("a");
        assertEquals(0, syncs[0]);
    }
}

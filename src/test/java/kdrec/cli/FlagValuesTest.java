package kdrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * A flag value refused after parsing (out of range, not an allowed name, malformed) answers as picocli's own
 * refusals do: one line with the usage hint and exit 2, before any data loads; data and file failures stay exit 1.
 */
class FlagValuesTest {
    static final String DATA = "synthetic:users=30,items=20,per_user=5,seed=3";

    @Test
    void anUnknownBackendIsRefusedBeforeAnyCommandRuns() {
        System.setProperty("kdrec.backend", "xyz");
        try {
            for (String[] args : new String[][] {{"data", "stats", "--data", DATA}, {"info"}}) {
                CompareCommandTest.Result r = CompareCommandTest.run(args);
                assertEquals(2, r.code(), r.err());
                assertEquals("kdrec: kdrec.backend must be one of scalar, panama, cuda, got 'xyz'", r.err().strip());
                assertEquals("", r.out(), "nothing printed before");
            }
        } finally {
            System.clearProperty("kdrec.backend");
        }
    }
}

package kdrec.bench;

import java.util.Map;

/**
 * Implemented by benchmark classes whose work has a meaningful floating-point operation count, so
 * that the report (jmh/run.sh) can print GFLOP/s and the fraction of the machine's FMA peak.
 * An FMA counts as 2 flops.
 */
public interface FlopCount {
    /**
     * Flops done by one invocation of benchmark method {@code method} (the bare method name) with the
     * given JMH parameters, or {@code Double.NaN} when a count makes no sense for that method.
     */
    double flops(String method, Map<String, String> params);
}

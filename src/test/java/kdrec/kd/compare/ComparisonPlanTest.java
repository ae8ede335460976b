package kdrec.kd.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kdrec.kd.Distillation;
import kdrec.train.TrainConfig;
import org.junit.jupiter.api.Test;

/** Plan validation: method names, seeds, --ours and where each --set key goes. */
class ComparisonPlanTest {
    static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void seedsCountFromTheBaseAndNamesAreNormalised() {
        ComparisonPlan p = ComparisonPlan.of(List.of(" Scratch", "RCEKD"), 3, 7, "rcekd", Map.of());
        assertEquals(List.of("scratch", "rcekd"), p.methods());
        assertEquals(List.of(7L, 8L, 9L), p.seeds());
        assertEquals(6, p.runs());
    }

    @Test
    void badPlansSayWhatIsAllowed() {
        String unknown = error(() -> ComparisonPlan.of(List.of("scratch", "magic"), 2, 0, null, Map.of()));
        assertTrue(unknown.contains("unknown method 'magic'") && unknown.contains("allowed: " + String.join(", ", Distillation.methodNames())),
                unknown);
        assertTrue(error(() -> ComparisonPlan.of(List.of("rcekd", "rcekd"), 2, 0, null, Map.of())).contains("listed twice"));
        assertTrue(error(() -> ComparisonPlan.of(List.of(), 2, 0, null, Map.of())).contains("no method"));
        // --methods ce, (a trailing comma) or ce,,rd: an empty name is refused, not skipped
        assertEquals("--methods: an empty method name in 'ce,' (a comma too many?)", error(() -> ComparisonPlan.of(List.of("ce", ""), 2, 0, null, Map.of())));
        assertTrue(error(() -> ComparisonPlan.of(List.of("ce", " ", "rd"), 2, 0, null, Map.of())).contains("an empty method name"));
        assertTrue(error(() -> ComparisonPlan.of(List.of("rcekd"), 0, 0, null, Map.of())).contains("--seeds must be >= 1"));
        String ours = error(() -> ComparisonPlan.of(List.of("scratch"), 2, 0, "rcekd", Map.of()));
        assertTrue(ours.contains("--ours") && ours.contains("not among --methods"), ours);
        assertTrue(error(() -> ComparisonPlan.of(List.of("scratch", "rcekd"), 2, 0, "scratch", Map.of())).contains("not a KD method"));
        String foreign = error(() -> ComparisonPlan.of(List.of("scratch", "rcekd"), 2, 0, "rcekd", Map.of("ce.k", "3")));
        assertTrue(foreign.contains("ce.k") && foreign.contains("'ce' is not among --methods"), foreign);
    }

    @Test
    void setKeysGoToTheirMethods() {
        ComparisonPlan p = ComparisonPlan.of(List.of("scratch", "rcekd"), 2, 0, "rcekd",
                Map.of("weight_decay", "0.001", "lambda", "0.5", "rcekd.K", "10"));
        assertEquals(Map.of("weight_decay", "0.001"), p.overridesFor("scratch"));
        assertEquals(Map.of("weight_decay", "0.001"), p.studentOverrides());
        assertEquals(Map.of("weight_decay", "0.001", "lambda", "0.5", "rcekd.K", "10"), p.overridesFor("rcekd"));
        var setups = p.resolve(TrainConfig.defaults(), null, "mf");
        assertEquals(0.001f, setups.get("scratch").student().weightDecay(), 1e-9);
        assertEquals(0.5, setups.get("rcekd").lambda(), 1e-12);
        assertEquals(10, setups.get("rcekd").params().integer("k"));
        // a bad key fails when resolving, before any training
        ComparisonPlan bad = ComparisonPlan.of(List.of("scratch", "rcekd"), 2, 0, "rcekd", Map.of("rcekd.q", "3"));
        assertTrue(error(() -> bad.resolve(TrainConfig.defaults(), null, "mf")).contains("rcekd.q"));
    }

    @Test
    void variantsAreOwnRowsWithTheirOwnKeys() {
        ComparisonPlan p = ComparisonPlan.of(List.of("scratch", "rcekd", "rcekd@small"), 2, 0, "rcekd",
                Map.of("rcekd.K", "10", "rcekd@small.K", "4", "rcekd.L", "3"));
        assertEquals(List.of("scratch", "rcekd", "rcekd@small"), p.methods());
        assertEquals(Map.of("rcekd.K", "10", "rcekd.L", "3"), p.overridesFor("rcekd"));
        assertEquals(Map.of("rcekd.K", "4", "rcekd.L", "3"), p.overridesFor("rcekd@small"), "the variant's key wins, the method's keys apply too");
        var setups = p.resolve(TrainConfig.defaults(), null, "mf");
        assertEquals("rcekd", setups.get("rcekd@small").method());
        assertEquals(4, setups.get("rcekd@small").params().integer("k"));
        assertEquals(10, setups.get("rcekd").params().integer("k"));
        assertTrue(error(() -> ComparisonPlan.of(List.of("magic@x"), 2, 0, null, Map.of())).contains("unknown method 'magic@x'"));
        assertTrue(error(() -> ComparisonPlan.of(List.of("rcekd@"), 2, 0, null, Map.of())).contains("METHOD@LABEL"));
        assertTrue(error(() -> ComparisonPlan.of(List.of("rcekd"), 2, 0, null, Map.of("rcekd@x.K", "3"))).contains("not among --methods"));
    }
}

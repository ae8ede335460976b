package kdrec.kd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import kdrec.train.TrainConfig;
import org.junit.jupiter.api.Test;

/**
 * --preset's student rows (the reference configs' base_config.yaml and scratch.yaml students), the
 * command-line defaults that fill the released files that set only the method's keys, and DE's and
 * HTD's annealing horizon (the run's epochs, as the code's args.epochs).
 */
class ReferenceConfigsTest {

    @Test
    void architectureFollowsBaseConfigAndGivenOptionsWin() {
        TrainConfig plain = Distillation.studentConfig(null, Map.of("model", "lightgcn"));
        assertEquals(20, plain.dim());
        assertEquals(3, plain.layers());
        assertEquals(4, Distillation.studentConfig("gowalla", Map.of("model", "lightgcn")).layers());
        assertEquals(3, Distillation.studentConfig("yelp", Map.of("model", "lightgcn")).layers());
        assertEquals(2, Distillation.studentConfig("Gowalla", Map.of("model", "lightgcn", "layers", 2)).layers(), "--layers wins");
        assertEquals(20, Distillation.studentConfig("gowalla", Map.of("model", "mf")).dim());

        TrainConfig hstu = Distillation.studentConfig("gowalla", Map.of("model", "hstu"));
        assertEquals(32, hstu.dim());
        assertEquals(1, hstu.blocks());
        assertEquals(1, hstu.heads());
        assertEquals(100, hstu.maxLen());
        assertEquals(1024, hstu.negatives());
        assertEquals(0.05f, hstu.temperature());
        assertEquals(0.5f, hstu.dropout());
        assertEquals(new kdrec.model.HstuShape(32, 1, 1, 16, 16, 100, 10, 0.5f, 0.5f, false, true), hstu.hstuShape(), "base_config.yaml's student, per-head widths and both rates");
        assertEquals(128, hstu.batchSize(), "a sequence batch: the reference's 128 users");
        assertEquals("position", hstu.negativesPer(), "the code's LocalNegativesSampler draws for every position");
        assertEquals("position", TrainConfig.defaults().with(ReferenceConfigs.teacher("yelp", "hstu")).with(Map.of("model", "hstu")).negativesPer());
        assertEquals("per_term", hstu.kdEncoding(), "the code's student encodes once per forward_multi_items call");
        assertEquals("shared", TrainConfig.defaults().with(ReferenceConfigs.teacher("yelp", "hstu")).with(Map.of("model", "hstu")).kdEncoding(),
                "a teacher is not distilled");
        TrainConfig yelp = Distillation.studentConfig("yelp", Map.of("model", "hstu", "dim", 16));
        assertEquals(16, yelp.dim(), "--dim wins");
        assertEquals(2, yelp.heads());
        assertEquals(400, yelp.maxLen());
        assertEquals(2048, yelp.negatives());
        assertEquals(0.1f, yelp.temperature());
        assertEquals(0.5f, yelp.dropout(), "input dropout_rate");
        assertEquals(0.7f, yelp.blockDropoutRate(), "Yelp's linear_dropout_rate");
        TrainConfig cite = Distillation.studentConfig("citeulike", Map.of("model", "hstu"));
        assertEquals(64, cite.dim());
        assertEquals(512, cite.negatives());
        assertEquals(new kdrec.model.HstuShape(64, 1, 2, 8, 16, 100, 10, 0.5f, 0.5f, false, true), cite.hstuShape(), "Q/K 2 x 8, U/V 2 x 16 on a 64-wide student");
        assertEquals(new kdrec.model.HstuShape(64, 8, 4, 8, 16, 100, 10, 0.5f, 0.5f, false, true),
                TrainConfig.defaults().with(ReferenceConfigs.teacher("citeulike", "hstu")).with(Map.of("model", "hstu")).hstuShape(), "the teacher row");

        // --set keys count with the options: heads 3 makes dim 15 valid though the preset's heads (2) would not
        TrainConfig set = Distillation.studentConfig("yelp", Map.of("model", "hstu", "dim", 15), Map.of("heads", 3, "lambda", 2, "rcekd.k", 5, "k", 9));
        assertEquals(15, set.dim());
        assertEquals(3, set.heads());
        assertEquals(4, Distillation.studentConfig("gowalla", Map.of("model", "mf"), Map.of("model", "lightgcn")).layers(),
                "the architecture follows the model --set names");

        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Distillation.studentConfig("movielens", Map.of("model", "mf")));
        assertTrue(bad.getMessage().contains("unknown preset 'movielens'; allowed: citeulike, gowalla, yelp"), bad.getMessage());
    }

    @Test
    void scratchStudentTakesScratchYamlUnlessSet() {
        TrainConfig lgcn = Distillation.studentConfig("gowalla", Map.of("model", "lightgcn"));
        assertEquals(1e-7f, Distillation.resolve("scratch", lgcn, "gowalla", "lightgcn", Map.of()).student().weightDecay());
        TrainConfig yelpLgcn = Distillation.studentConfig("yelp", Map.of("model", "lightgcn"));
        assertEquals(1e-4f, Distillation.resolve("scratch", yelpLgcn, "yelp", "lightgcn", Map.of()).student().weightDecay());
        TrainConfig mf = Distillation.studentConfig("citeulike", Map.of("model", "mf"));
        Distillation.Setup s = Distillation.resolve("scratch", mf, "citeulike", "mf", Map.of());
        assertEquals(1e-3f, s.student().weightDecay());
        assertEquals(2048, s.student().batchSize());
        assertEquals(5e-4f, Distillation.resolve("scratch", mf, "citeulike", "mf", Map.of("weight_decay", 5e-4)).student().weightDecay(), "--set wins");
        TrainConfig hstu = Distillation.studentConfig("yelp", Map.of("model", "hstu"));
        assertEquals(1e-5f, Distillation.resolve("scratch", hstu, "yelp", "hstu", Map.of()).student().weightDecay());
        assertEquals(1e-4f, Distillation.resolve("scratch", mf, null, "mf", Map.of()).student().weightDecay(), "no preset: kdrec's default");
        assertThrows(IllegalArgumentException.class, () -> Distillation.resolve("scratch", mf, "netflix", "mf", Map.of()));
    }

    /** Gowalla MF's rd.yaml, unkd.yaml and htd.yaml set only method keys: lambda, weight decay and batch are parse.py's defaults. */
    @Test
    void incompleteReleasedRowsTakeTheCodesCommandLineDefaults() {
        TrainConfig mf = Distillation.studentConfig("gowalla", Map.of("model", "mf"));
        for (String method : new String[] {"rd", "unkd", "htd"}) {
            Distillation.Setup s = Distillation.resolve(method, mf, "gowalla", "mf", Map.of());
            assertEquals(1.0, s.lambda(), method);
            assertEquals(0f, s.student().weightDecay(), method);
            assertEquals(4096, s.student().batchSize(), method);
        }
        assertEquals(0.5, Distillation.resolve("htd", mf, "gowalla", "mf", Map.of()).params().real("alpha"));
        assertEquals(2048, Distillation.resolve("htd", mf, "yelp", "mf", Map.of()).student().batchSize(), "a complete row keeps its own");
    }

    /** A method key without its prefix is refused with the spelling that works; dropout is the method's unless the student is HSTU. */
    @Test
    void bareMethodKeysSayHowToWriteThem() {
        TrainConfig mf = Distillation.studentConfig(null, Map.of("model", "mf"));
        var e = assertThrows(IllegalArgumentException.class, () -> Distillation.resolve("rcekd", mf, null, "mf", Map.of("K", 5)));
        assertTrue(e.getMessage().contains("setting 'K' is a key of method rcekd: write rcekd.k=VALUE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Distillation.resolve("fitnet", mf, null, "mf", Map.of("dropout", 0.5)));
        assertTrue(e.getMessage().contains("write fitnet.dropout=VALUE") && e.getMessage().contains("HSTU's"), e.getMessage());
        TrainConfig hstu = Distillation.studentConfig(null, Map.of("model", "hstu", "dim", 8));
        assertEquals(0.5f, Distillation.resolve("fitnet", hstu, null, "mf", Map.of("dropout", 0.5)).student().dropout(), "HSTU's own dropout");
        assertEquals(0.3f, Distillation.resolve("rcekd", mf, null, "mf", Map.of("dropout", 0.3)).student().dropout(), "a method without dropout");
    }

    @Test
    void annealingHorizonIsTheRunsEpochsUnlessGiven() {
        TrainConfig cfg = Distillation.studentConfig(null, Map.of("model", "mf", "epochs", 100));
        for (String method : new String[] {"de", "htd"}) {
            assertEquals(100, Distillation.resolve(method, cfg, null, "mf", Map.of()).params().integer("max_epochs"), method);
            assertEquals(7, Distillation.resolve(method, cfg, null, "mf", Map.of(method + ".max_epochs", 7)).params().integer("max_epochs"), method);
            assertEquals(9, Distillation.resolve(method, cfg, null, "mf", Map.of(method + ".Max-Epochs", 9)).params().integer("max_epochs"), method);
            assertEquals(250, Distillation.resolve(method, cfg, "yelp", "mf", Map.of("epochs", 250)).params().integer("max_epochs"),
                    method + ": the epochs after every override");
        }
        assertEquals(1000, Distillation.resolve("de", TrainConfig.defaults(), null, "mf", Map.of()).params().integer("max_epochs"));
        assertTrue(!Distillation.resolve("rcekd", cfg, null, "mf", Map.of()).params().toMap().containsKey("max_epochs"), "only DE and HTD anneal");
    }
}

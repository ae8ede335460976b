package kdrec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
// EXAMPLE-IMPORTS-BEGIN (the README shows these with the example)
import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.data.Dataset;
import kdrec.data.Datasets;
import kdrec.data.Preprocess;
import kdrec.loss.Bpr;
import kdrec.model.Recommender;
import kdrec.model.Scoring;
import kdrec.train.Evaluator;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import kdrec.train.TrainData;
import kdrec.train.Trainer;
// EXAMPLE-IMPORTS-END
import org.junit.jupiter.api.Test;

/**
 * The README's "Library use" example, compiled and run. The test also checks that the README
 * still shows exactly this code (between the EXAMPLE markers below), so the two cannot drift.
 */
class LibraryExampleTest {
    @Test
    void readmeExampleRuns() throws Exception {
        // EXAMPLE-BEGIN
        Dataset data = Datasets.load("insteval", Preprocess.defaults());      // or a folder, a CSV, "synthetic:..."
        TrainData td = new TrainData(data);
        TrainConfig cfg = TrainConfig.defaults().with(Map.of("model", "mf", "dim", 32, "epochs", 20, "lr", 0.01));
        try (Recommender mf = Models.create(cfg, td); Tape tape = new Tape()) {
            Trainer.Result result = new Trainer(cfg, td, mf, new Bpr(), Trainer.Outputs.none()).fit(null);
            System.out.println("test at best epoch: " + result.test());          // Recall/NDCG@10,20
            Evaluator.Result again = new Evaluator(td, 20).evaluate(tape, mf);   // full ranking, train masked
            int user = data.userIds().find("42");                                // original id -> dense id
            Scoring.TopK top = Scoring.topK(tape, mf, new int[] {user}, 10, td.trainPtr(), td.trainItems());
            for (int item : top.row(0)) System.out.println(data.itemIds().original(item));
            // EXAMPLE-END
            assertEquals(result.test().get("ndcg@10"), again.test().get("ndcg@10"), 1e-12, "the trainer leaves the best valid epoch's parameters in the model");
            assertEquals(10, top.row(0).length);
            assertTrue(result.test().get("recall@20") > new Evaluator(td, 20).mostPopular().test().get("recall@20"));
        }
    }

    @Test
    void readmeShowsThisExample() throws Exception {
        String src = Files.readString(Path.of("src/test/java/kdrec/LibraryExampleTest.java"));
        String body = src.substring(src.indexOf("// EXAMPLE-BEGIN") + "// EXAMPLE-BEGIN".length(), src.indexOf("// EXAMPLE-END"));
        String readme = Files.readString(Path.of("README.md"));
        String imports = src.substring(src.indexOf("// EXAMPLE-IMPORTS-BEGIN"), src.indexOf("// EXAMPLE-IMPORTS-END"));
        for (String line : imports.lines().filter(l -> l.startsWith("import ")).toList()) {
            assertTrue(readme.contains(line), "README.md's example lacks the import: " + line);
        }
        for (String line : body.strip().split("\n")) {
            assertTrue(readme.contains(line.strip()), "README.md lacks the example line: " + line.strip());
        }
    }
}

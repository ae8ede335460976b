package kdrec.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import kdrec.autograd.Tape;
import kdrec.model.Recommender;
import kdrec.train.Checkpoints;
import kdrec.train.Evaluator;
import kdrec.train.TrainData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kdrec eval}: full-ranking metrics of a checkpoint on a dataset, beside most-popular. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint (train items masked, Recall/NDCG@10,20 over all users) on valid and test.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "A kdrec checkpoint (.safetensors), e.g. runs/mf64/best.safetensors.")
    Path checkpoint;

    @Mixin
    DataOptions data;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        kdrec.train.Device dev = device.get(); // a bad --device is refused before the data loads
        TrainData td = data.load();
        Evaluator ev = new Evaluator(td, 20);
        try (Recommender m = Checkpoints.load(checkpoint, td); Tape tape = new Tape()) {
            Evaluator.Result r;
            r = dev == kdrec.train.Device.CUDA ? ev.evaluateOnDevice(tape, m) : ev.evaluate(tape, m);
            Evaluator.Result pop = ev.mostPopular();
            System.out.println("data: " + td.summary());
            System.out.println("model: " + m.describe());
            List<List<String>> rows = new java.util.ArrayList<>();
            if (td.hasValid()) {
                rows.add(Summary.row("most-popular (valid)", pop.valid(), null));
                rows.add(Summary.row(m.kind() + " (valid)", r.valid(), null));
            }
            rows.add(Summary.row("most-popular (test)", pop.test(), null));
            rows.add(Summary.row(m.kind() + " (test)", r.test(), null));
            System.out.println(Summary.table(rows));
        }
        return 0;
    }
}

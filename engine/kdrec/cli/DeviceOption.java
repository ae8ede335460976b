package kdrec.cli;

import kdrec.train.Device;
import picocli.CommandLine.Option;

/** {@code --device cpu|cuda} for train, distill and eval (default: cuda under -Dkdrec.backend=cuda, else cpu). */
final class DeviceOption {
    @Option(names = "--device", paramLabel = "cpu|cuda",
            description = "Where to train and evaluate: cpu, or cuda (MF/LightGCN students with BPR and every KD method, HSTU with its sequence loss; parameters resident on the GPU). "
                    + "Default: cuda under -Dkdrec.backend=cuda, else cpu.")
    String device;

    /** The device; cuda is checked for a usable GPU here, before a run directory is created. */
    Device get() {
        Device d = Cli.flagValues(() -> Device.parse(device));
        if (d == Device.CUDA) kdrec.device.DeviceTraining.cudaOrExplain();
        return d;
    }
}

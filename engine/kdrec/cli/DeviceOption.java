package kdrec.cli;

import kdrec.train.Device;
import picocli.CommandLine.Option;

/** {@code --device cpu|cuda} for train, distill and eval (default: cuda under -Dkdrec.backend=cuda, else cpu). */
final class DeviceOption {
    @Option(names = "--device", paramLabel = "cpu|cuda",
            description = "Where the models run: cpu, or cuda (parameters resident on the GPU; it trains MF/LightGCN with BPR and every KD method, "
                    + "HSTU with its sequence loss, and evaluates any of them). Default: cuda under -Dkdrec.backend=cuda, else cpu.")
    String device;

    /** The device; cuda is checked for a usable GPU here, before a run directory is created. */
    Device get() {
        Device d = Cli.flagValues(() -> Device.parse(device));
        if (d == Device.CUDA) kdrec.device.DeviceTraining.cudaOrExplain();
        return d;
    }
}

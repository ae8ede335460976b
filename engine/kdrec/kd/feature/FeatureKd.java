package kdrec.kd.feature;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import kdrec.autograd.Var;
import kdrec.kd.Sampling;
import kdrec.model.Recommender;
import kdrec.tensor.Backend;
import kdrec.tensor.Tensor;

/** Helpers shared by the feature distillers (FreqD, FitNet, DE, HTD). */
final class FeatureKd {
    private FeatureKd() {}

    /** Ordered map literal for defaults and presets. */
    static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** The distinct ids, ascending (torch.unique). */
    static int[] distinct(int[] ids) {
        return Arrays.stream(ids).distinct().sorted().toArray();
    }

    /** Rows {@code ids} of a frozen table, copied into a new tensor of the tape's scratch-free heap. */
    static Tensor rows(Backend be, Tensor table, int[] ids) {
        int d = table.cols();
        Tensor out = Tensor.zeros(ids.length, d);
        be.gather(ids.length, d, ids, table.data(), 0, d, out.data(), 0, d);
        return out;
    }

    /**
     * A seed for one random draw of one step: a pure function of (run seed, stream, epoch, step in
     * the epoch), so a resumed run (which starts at an epoch boundary) redraws the same masks.
     */
    static long stepSeed(long seed, int stream, int epoch, int step) {
        return Sampling.rng(seed, stream, epoch, step).nextLong();
    }

    /**
     * The student's raw embedding table of one side (the code distills {@code student.user_emb} /
     * {@code item_emb}: for LightGCN the layer-0 ego table, not the propagated one).
     */
    static Var table(String method, Recommender student, String side) {
        try {
            return student.params().get(side);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(method + ": the student (" + student.kind() + ") has no raw '" + side + "' embedding table", e);
        }
    }
}

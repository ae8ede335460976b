package kdrec.kd;

import java.util.Map;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Tensor;

/**
 * A sequential student as a host per-epoch hook reads it on the device path: every call delegates to
 * the host model except {@link #inference}, which returns the user states and normalised items the
 * device has just computed (brought down once), so a hook (RCE-KD's top-M, DCD's ranks, a student
 * guide's top-K) does not encode every user's sequence again on the CPU. The values agree with the
 * host's inference to fp32 rounding (the device sums in another order).
 */
final class DeviceStatesStudent implements Recommender {
    private final Recommender host;
    private final Tensor users, items;

    DeviceStatesStudent(Recommender host, Tensor users, Tensor items) {
        this.host = host;
        this.users = users;
        this.items = items;
    }

    @Override
    public Embeddings inference(Tape tape) {
        return new Embeddings(Var.constant(users), Var.constant(items));
    }

    @Override
    public String kind() {
        return host.kind();
    }

    @Override
    public int users() {
        return host.users();
    }

    @Override
    public int items() {
        return host.items();
    }

    @Override
    public int dim() {
        return host.dim();
    }

    @Override
    public Params params() {
        return host.params();
    }

    @Override
    public Embeddings forward(Tape tape) {
        return host.forward(tape);
    }

    @Override
    public Embeddings forward(Tape tape, int[] batchUsers) {
        return host.forward(tape, batchUsers);
    }

    @Override
    public boolean sequential() {
        return host.sequential();
    }

    @Override
    public Embeddings inferenceForTest(Tape tape) {
        return host.inferenceForTest(tape);
    }

    @Override
    public boolean testFromLongerHistory() {
        return host.testFromLongerHistory();
    }

    @Override
    public Map<String, String> describe() {
        return host.describe();
    }

    /** The host model is not this view's to close. */
    @Override
    public void close() {}
}

package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuAdam;
import kdrec.nn.Adam;
import kdrec.tensor.Tensor;

/**
 * The dense Adam of a {@link DeviceModel} (or of a {@link DeviceHstu}'s parameter buffer) on the device: the same
 * update as the host {@link Adam} (torch.optim.Adam, coupled weight decay; GpuAdam is AdamScalar operation for
 * operation) over the model's whole (users + items) x d table in one launch (lazy: one per table), with the moments resident beside it. The
 * host optimiser stays the master for checkpoints: {@link #upload}/{@link #download} move its
 * moments and step count. Lazy Adam (the host's {@code lazy_adam}) updates only the rows the
 * step's terms marked in the model (MF; LightGCN's tables are written whole, as on the host).
 */
final class DeviceAdam implements AutoCloseable {
    private final Cuda cuda;
    private final DeviceModel model; // null: no lazy row tracking (every parameter updated densely)
    private final Adam host;
    private final java.util.List<kdrec.autograd.Var> vars;
    private final long[] offsets;
    private final long count;
    private final DeviceBuffer param, grad;
    private final DeviceBuffer m, v;
    private int steps;

    DeviceAdam(Cuda cuda, DeviceModel model, Adam host) {
        this(cuda, host, java.util.List.of(model.host().params().get("user"), model.host().params().get("item")),
                new long[] {0, (long) model.users() * model.dim()}, model.parameterCount(), model.parameters(), model.parameterGrad(), model);
    }

    /**
     * The dense Adam of any device-resident parameter set: {@code vars} (the host's parameters, each with
     * moments in {@code host}) live at {@code offsets} of {@code param} ({@code count} floats, the gaps
     * between them zero, so their update stays zero), their gradient at the same offsets of {@code grad}.
     */
    DeviceAdam(Cuda cuda, Adam host, java.util.List<kdrec.autograd.Var> vars, long[] offsets, long count, DeviceBuffer param,
               DeviceBuffer grad) {
        this(cuda, host, vars, offsets, count, param, grad, null);
    }

    private DeviceAdam(Cuda cuda, Adam host, java.util.List<kdrec.autograd.Var> vars, long[] offsets, long count, DeviceBuffer param,
                       DeviceBuffer grad, DeviceModel model) {
        if (host.params().size() != vars.size()) {
            throw new IllegalArgumentException("DeviceAdam: the host optimiser has " + host.params().size() + " parameters, the device model " + vars.size());
        }
        this.cuda = cuda;
        this.model = model;
        this.host = host;
        this.vars = vars;
        this.offsets = offsets.clone();
        this.count = count;
        this.param = param;
        this.grad = grad;
        m = cuda.allocElements(count);
        DeviceBuffer second = null;
        try {
            second = cuda.allocElements(count);
            cuda.fill32(m, count, 0);
            cuda.fill32(second, count, 0);
        } catch (RuntimeException e) {
            m.close();
            if (second != null) second.close();
            throw e;
        }
        v = second;
        try {
            upload();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * One update from the model's parameter gradient: the whole table, or under lazy Adam on a model that
     * tracks rows, per table the rows the step's terms marked (the whole table where a term wrote it whole).
     */
    void step() {
        steps++;
        DeviceBuffer marks = host.lazy() && model != null ? model.touchedRows() : null;
        if (marks == null) {
            GpuAdam.step(cuda, count, param, 0, grad, 0, m, 0, v, 0,
                    host.lr(), host.beta1(), host.beta2(), host.eps(), host.weightDecay(), steps);
            return;
        }
        int d = model.dim();
        for (boolean items : new boolean[] {false, true}) {
            int rows = items ? model.items() : model.users();
            long off = items ? (long) model.users() * d : 0;
            if (model.touchedWhole(items)) {
                GpuAdam.step(cuda, (long) rows * d, model.parameters(), off, model.parameterGrad(), off, m, off, v, off,
                        host.lr(), host.beta1(), host.beta2(), host.eps(), host.weightDecay(), steps);
            } else {
                GpuAdam.stepMarked(cuda, rows, d, items ? marks.at(model.users()) : marks, model.parameters(), off, model.parameterGrad(), off,
                        m, off, v, off, host.lr(), host.beta1(), host.beta2(), host.eps(), host.weightDecay(), steps);
            }
        }
    }

    /**
     * A step in which no parameter got a gradient: the host's Adam then updates nothing (it skips a
     * parameter without one, as PyTorch does) but counts the step, which the bias correction reads.
     */
    void countStep() {
        steps++;
    }

    /** Copies the host optimiser's moments and step count to the device. */
    void upload() {
        for (int i = 0; i < vars.size(); i++) {
            Tensor[] mv = host.moments(vars.get(i));
            cuda.upload(mv[0].data(), 0, m.at(offsets[i]), mv[0].size() * 4);
            cuda.upload(mv[1].data(), 0, v.at(offsets[i]), mv[1].size() * 4);
        }
        steps = host.steps();
    }

    /** Copies the device moments and step count into the host optimiser. */
    void download() {
        for (int i = 0; i < vars.size(); i++) {
            Tensor[] mv = host.moments(vars.get(i));
            cuda.download(m.at(offsets[i]), mv[0].data(), 0, mv[0].size() * 4);
            cuda.download(v.at(offsets[i]), mv[1].data(), 0, mv[1].size() * 4);
        }
        host.setSteps(steps);
    }

    @Override
    public void close() {
        try {
            m.close();
        } finally {
            v.close();
        }
    }
}

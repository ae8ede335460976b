package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuAdam;
import kdrec.nn.Adam;
import kdrec.tensor.Tensor;

/**
 * The dense Adam of a {@link DeviceModel} on the device: the same update as the host {@link Adam}
 * (torch.optim.Adam, coupled weight decay; GpuAdam is AdamScalar operation for operation) over the
 * model's whole (users + items) x d table in one launch (lazy: one per table), with the moments resident beside it. The
 * host optimiser stays the master for checkpoints: {@link #upload}/{@link #download} move its
 * moments and step count. Lazy Adam (the host's {@code lazy_adam}) updates only the rows the
 * step's terms marked in the model (MF; LightGCN's tables are written whole, as on the host).
 */
final class DeviceAdam implements AutoCloseable {
    private final Cuda cuda;
    private final DeviceModel model;
    private final Adam host;
    private final DeviceBuffer m, v;
    private int steps;

    DeviceAdam(Cuda cuda, DeviceModel model, Adam host) {
        if (host.params().size() != 2) throw new IllegalArgumentException("DeviceAdam: expected the user and item tables, got " + host.params().size() + " parameters");
        this.cuda = cuda;
        this.model = model;
        this.host = host;
        m = cuda.allocElements(model.parameterCount());
        DeviceBuffer second = null;
        try {
            second = cuda.allocElements(model.parameterCount());
        } catch (RuntimeException e) {
            m.close();
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
        DeviceBuffer marks = host.lazy() ? model.touchedRows() : null;
        if (marks == null) {
            GpuAdam.step(cuda, model.parameterCount(), model.parameters(), 0, model.parameterGrad(), 0, m, 0, v, 0,
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

    /** Copies the host optimiser's moments and step count to the device. */
    void upload() {
        long off = 0;
        for (String name : new String[] {"user", "item"}) {
            Tensor[] mv = host.moments(model.host().params().get(name));
            cuda.upload(mv[0].data(), 0, m.at(off), mv[0].size() * 4);
            cuda.upload(mv[1].data(), 0, v.at(off), mv[1].size() * 4);
            off += mv[0].size();
        }
        steps = host.steps();
    }

    /** Copies the device moments and step count into the host optimiser. */
    void download() {
        long off = 0;
        for (String name : new String[] {"user", "item"}) {
            Tensor[] mv = host.moments(model.host().params().get(name));
            cuda.download(m.at(off), mv[0].data(), 0, mv[0].size() * 4);
            cuda.download(v.at(off), mv[1].data(), 0, mv[1].size() * 4);
            off += mv[0].size();
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

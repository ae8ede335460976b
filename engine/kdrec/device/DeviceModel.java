package kdrec.device;

import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuAdam;
import kdrec.gpu.GpuSpmm;
import kdrec.gpu.GpuVec;
import kdrec.model.LightGcn;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.tensor.SparseMatrix;
import kdrec.tensor.Tensor;

/**
 * An embedding backbone (MF or LightGCN) resident on the device: the user and item parameter tables
 * as one (users + items) x d buffer (users first, as LightGCN's propagation wants them), its
 * gradient, and the final embeddings the scores are dot products of, with their gradient.
 *
 * <p>MF's final embeddings are its parameters (same buffers). LightGCN's are the mean of layers 0..L
 * of {@code X_{l+1} = A X_l} over the symmetric normalised adjacency; {@link #backward} runs
 * {@code dX_l = dSum + A dX_{l+1}} down to the parameters (A is symmetric, so its transpose is A and
 * the deterministic gather SpMM serves both directions).
 *
 * <p>The host model stays the master copy for checkpoints: {@link #upload} and {@link #download}
 * move the parameters between it and the device.
 */
public final class DeviceModel implements AutoCloseable {
    private final Cuda cuda;
    private final Recommender host;
    private final int users, items, d, layers;
    private final DeviceBuffer param, paramGrad;
    private final DeviceBuffer out, outGrad;          // == param / paramGrad for MF
    private final DeviceBuffer ptr, col, val, ping, pong; // LightGCN only
    private final DeviceBuffer touched;               // lazy Adam on MF only: one int per row, 1 = written this step
    private boolean wholeUsers, wholeItems;           // lazy Adam: a term wrote that table's gradient whole
    private final java.util.List<DeviceBuffer> owned;
    private boolean propagated;

    private final boolean view;                       // final embeddings only, computed by another model (HSTU)

    private DeviceModel(Cuda cuda, Recommender host, int layers, SparseMatrix adjacency, boolean tracksRows, boolean view) {
        this.cuda = cuda;
        this.host = host;
        this.users = host.users();
        this.items = host.items();
        this.d = host.dim();
        this.layers = layers;
        this.view = view;
        long n = (long) (users + items) * d;
        boolean propagates = adjacency != null && layers > 0;
        // allocated in turn; on a failure (out of device memory) the ones made so far are freed
        java.util.List<DeviceBuffer> made = new java.util.ArrayList<>();
        try {
            param = view ? null : keep(made, cuda.allocElements(n));
            paramGrad = view ? null : keep(made, cuda.allocElements(n));
            out = propagates || view ? keep(made, cuda.allocElements(n)) : param;
            outGrad = propagates || view ? keep(made, cuda.allocElements(n)) : paramGrad;
            ptr = propagates ? keep(made, cuda.upload(adjacency.ptr())) : null;
            col = propagates ? keep(made, cuda.upload(adjacency.col())) : null;
            val = propagates ? keep(made, cuda.upload(adjacency.val())) : null;
            ping = propagates ? keep(made, cuda.allocElements(n)) : null;
            pong = propagates ? keep(made, cuda.allocElements(n)) : null;
            touched = tracksRows ? keep(made, cuda.allocElements(users + items)) : null;
            if (touched != null) cuda.fill32(touched, users + items, 0);
            if (view) cuda.fill32(out, n, 0);
            upload();
        } catch (RuntimeException e) {
            for (DeviceBuffer b : made) b.close();
            throw e;
        }
        owned = made;
    }

    private static DeviceBuffer keep(java.util.List<DeviceBuffer> made, DeviceBuffer b) {
        made.add(b);
        return b;
    }

    /** The device copy of {@code model} (MF or LightGCN), its parameters uploaded; for dense Adam. */
    public static DeviceModel of(Cuda cuda, Recommender model) {
        return of(cuda, model, false);
    }

    /**
     * As {@link #of(Cuda, Recommender)}; {@code lazyAdam}: the optimiser updates only the rows the step's
     * terms wrote, so the model keeps a per-row mark ({@link #touchUsers}, {@link #touchItems}). Only MF
     * tracks rows: LightGCN's tables get their gradient through the propagation (concatenation and
     * SpMM on the host tape), which writes them whole, so lazy Adam updates them densely on either device.
     */
    public static DeviceModel of(Cuda cuda, Recommender model, boolean lazyAdam) {
        if (model instanceof MatrixFactorization) return new DeviceModel(cuda, model, 0, null, lazyAdam, false);
        if (model instanceof LightGcn g) return new DeviceModel(cuda, model, g.layers(), g.adjacency(), false, false);
        throw new IllegalArgumentException("--device cuda runs the embedding backbones (mf, lightgcn); model " + model.kind()
                + " trains on the CPU (--device cpu)");
    }

    /**
     * The final embeddings of a backbone whose parameters live elsewhere on the device (an HSTU student:
     * {@code DeviceSequenceTraining} writes the users' last states and the normalised items here and
     * carries the gradients back through the sequence model): what the distillation terms read and
     * write, with no parameters, propagation or optimiser of its own. upload/download do nothing.
     */
    public static DeviceModel finalEmbeddingsOf(Cuda cuda, Recommender model) {
        return new DeviceModel(cuda, model, 0, null, false, true);
    }

    public Recommender host() {
        return host;
    }

    public int users() {
        return users;
    }

    public int items() {
        return items;
    }

    public int dim() {
        return d;
    }

    /** Final user embeddings (users x d, leading dim d), valid after {@link #forward}. */
    public DeviceBuffer userRows() {
        return out;
    }

    /** Final item embeddings (items x d, leading dim d), valid after {@link #forward}. */
    public DeviceBuffer itemRows() {
        return out.at((long) users * d);
    }

    /** Gradient of the loss with respect to {@link #userRows()} (accumulated into by the losses). */
    public DeviceBuffer userGrad() {
        return outGrad;
    }

    /** Gradient with respect to {@link #itemRows()}. */
    public DeviceBuffer itemGrad() {
        return outGrad.at((long) users * d);
    }

    /** Gradient of the user parameter table (after {@link #backward}; the same buffer as {@link #userGrad} for MF). */
    public DeviceBuffer userParameterGrad() {
        return paramGrad;
    }

    /** Gradient of the item parameter table (after {@link #backward}). */
    public DeviceBuffer itemParameterGrad() {
        return paramGrad.at((long) users * d);
    }

    /** True when the final embeddings are the parameters themselves (MF, LightGCN with 0 layers). */
    public boolean finalIsParameters() {
        return out == param;
    }

    /** The parameter table and its gradient (for the optimiser). */
    DeviceBuffer parameters() {
        return param;
    }

    DeviceBuffer parameterGrad() {
        return paramGrad;
    }

    long parameterCount() {
        return (long) (users + items) * d;
    }

    /** Computes the final embeddings from the parameters (LightGCN propagates; MF and views have nothing to do). */
    public void forward() {
        if (out != param && !view) {
            long n = parameterCount();
            DeviceBuffer cur = param, next = ping;
            cuda.copy(param, out, n * 4);
            for (int l = 0; l < layers; l++) {
                GpuSpmm.spmm(cuda, users + items, d, ptr, col, val, cur, 0, d, 0f, next, 0, d);
                GpuVec.add(cuda, n, out, 0, next, 0, out, 0);
                cur = next;
                next = next == ping ? pong : ping;
            }
            GpuVec.scale(cuda, n, 1f / (layers + 1), out, 0, out, 0);
        }
        propagated = true;
    }

    /** Zeroes the gradients and the row marks (before a step's losses accumulate). */
    public void zeroGrad() {
        long n = parameterCount();
        if (paramGrad != null) cuda.fill32(paramGrad, n, 0);
        if (outGrad != paramGrad) cuda.fill32(outGrad, n, 0);
        if (touched != null) cuda.fill32(touched, users + items, 0);
        wholeUsers = wholeItems = false;
    }

    /** A term wrote the gradient of users idx[0..n) (device ids); a no-op unless the model marks rows (lazy Adam on MF). */
    public void touchUsers(DeviceBuffer idx, int n) {
        if (touched != null) GpuAdam.markRows(cuda, n, idx, touched);
    }

    /** A term wrote the gradient of items idx[0..n) (device ids); a no-op unless the model marks rows (lazy Adam on MF). */
    public void touchItems(DeviceBuffer idx, int n) {
        if (touched != null) GpuAdam.markRows(cuda, n, idx, touched.at(users));
    }

    /** A term wrote the whole gradient of the item table ({@code items}) or of the user table. */
    public void touchWhole(boolean items) {
        if (items) wholeItems = true;
        else wholeUsers = true;
    }

    /** Lazy Adam's view of the step: the row marks (users then items), null when rows are not tracked. */
    DeviceBuffer touchedRows() {
        return touched;
    }

    /** True when the step wrote the whole item table's gradient ({@code items}) or the user table's. */
    boolean touchedWhole(boolean items) {
        return items ? wholeItems : wholeUsers;
    }

    /** Turns the gradient of the final embeddings into the parameters' gradient. */
    public void backward() {
        if (!propagated) throw new IllegalStateException("DeviceModel.backward before forward");
        if (outGrad == paramGrad || view) return;
        long n = parameterCount();
        // dSum = dOut / (L+1); dX_L = dSum; dX_l = dSum + A dX_{l+1}; the parameters' gradient is dX_0
        GpuVec.scale(cuda, n, 1f / (layers + 1), outGrad, 0, outGrad, 0);
        DeviceBuffer cur = outGrad, next = ping;
        for (int l = layers - 1; l >= 0; l--) {
            DeviceBuffer dst = l == 0 ? paramGrad : next;
            cuda.copy(outGrad, dst, n * 4);
            GpuSpmm.spmm(cuda, users + items, d, ptr, col, val, cur, 0, d, 1f, dst, 0, d);
            cur = dst;
            next = next == ping ? pong : ping;
        }
    }

    /** Copies the host model's parameters to the device. */
    public void upload() {
        propagated = false;
        if (view) return;
        Tensor u = host.params().get("user").value(), i = host.params().get("item").value();
        cuda.upload(u.data(), 0, param, u.size() * 4);
        cuda.upload(i.data(), 0, param.at((long) users * d), i.size() * 4);
    }

    /** Copies the device's parameters into the host model. */
    public void download() {
        if (view) return;
        Tensor u = host.params().get("user").value(), i = host.params().get("item").value();
        cuda.download(param, u.data(), 0, u.size() * 4);
        cuda.download(param.at((long) users * d), i.data(), 0, i.size() * 4);
    }


    @Override
    public void close() {
        RuntimeException first = null;
        for (DeviceBuffer b : owned) {
            try {
                b.close();
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}

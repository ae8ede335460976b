package kdrec.kd;

import kdrec.autograd.Arith;
import kdrec.autograd.Gather;
import kdrec.autograd.Tape;
import kdrec.autograd.Var;
import kdrec.device.DeviceModel;
import kdrec.device.DevicePasses;
import kdrec.device.DeviceTerm;
import kdrec.device.StepUploads;
import kdrec.device.UploadSlots;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.gpu.GpuEmbedding;
import kdrec.gpu.GpuVec;
import kdrec.loss.Batch;
import kdrec.model.Recommender;
import kdrec.tensor.Tensor;

/**
 * The device path's term for methods without a device twin (rd, rrd, dcd, unkd, hetcomp, RCE-KD's
 * full_ce ablation, and feature KD: freqd, fitnet, de, htd), and for every method under
 * {@code kd_encoding=per_term} (an HSTU student; {@link #launch(DeviceModel, DeviceBuffer, DevicePasses)}): BPR, the student's tables, LightGCN's
 * propagation and Adam stay on the GPU, while the method's own per-batch loss runs on the host tape,
 * exactly as on the CPU path. Each step the final embeddings come down (for MF they are the parameters,
 * copied into the host student; FreqD also reads a LightGCN student's raw tables); the loss's gradient
 * with respect to the final embeddings goes back up before the model's backward, its gradient with
 * respect to the raw tables after it, and a method's own parameters (feature KD's projectors and
 * experts) live and are updated on the host, with the trainer's second Adam, as on the CPU path. The
 * per-epoch hook runs on the host student, current as of the epoch's start.
 *
 * <p>Cost per step: the final embeddings down, (users + items) x d floats (5.7 MB at the Gowalla-sized
 * shape, d = 20; FreqD on LightGCN also the raw tables), and the gradient up: the rows the term wrote
 * (gathered rows — FreqD's closure among them —, the rows of set dots and subset CEs) as those rows, a
 * gradient written whole (a full-catalogue CE, a filter over the whole tables) whole; plus the host's KD math. The twins
 * ({@link RceKdOnDevice}, {@link VanillaCeOnDevice}, {@link CdOnDevice}) move only the batch's ids.
 */
final class HostKdOnDevice implements DeviceTerm {
    private final Cuda cuda;
    private final UploadSlots slots;
    private final Distiller distiller;
    private final float lambda;
    private final Recommender hostStudent;
    private final kdrec.nn.Adam extraAdam; // the method's own parameters' optimiser, or null
    private final Tape tape = new Tape(kdrec.tensor.Backends.get(), new kdrec.tensor.Scratch());
    private Tensor users, items; // LightGCN's or HSTU's final embeddings (MF's are the host tables themselves)
    private Tensor epochUsers, epochItems; // a sequential student's states for the per-epoch hook
    private Batch batch;
    private double loss;
    private Var tableUsers, tableItems; // the raw tables of the step's loss (their gradient is added after the backward)
    private boolean wrote;              // the last launch's loss had a gradient

    HostKdOnDevice(Cuda cuda, UploadSlots slots, Distiller distiller, float lambda, Recommender hostStudent, kdrec.nn.Adam extraAdam) {
        this.cuda = cuda;
        this.slots = slots;
        this.distiller = distiller;
        this.lambda = lambda;
        this.hostStudent = hostStudent;
        this.extraAdam = extraAdam;
    }

    @Override
    public String name() {
        return distiller.name() + " (KD term on the host)";
    }

    /**
     * The distiller's own hook on the host student (its parameters are the device's as of this epoch's
     * start); a sequential student's inference there is the states the device has just computed
     * ({@link DeviceStatesStudent}) rather than every user's sequence encoded again on the CPU.
     */
    @Override
    public void beginEpoch(DeviceModel model, int epoch) {
        tape.reset();
        Recommender student = hostStudent;
        if (hostStudent.sequential()) { // own tables: the steps' downloads must not overwrite what a hook keeps
            if (epochUsers == null) {
                epochUsers = Tensor.zeros(model.users(), model.dim());
                epochItems = Tensor.zeros(model.items(), model.dim());
            }
            cuda.download(model.userRows(), epochUsers.data(), 0, epochUsers.size() * 4L);
            cuda.download(model.itemRows(), epochItems.data(), 0, epochItems.size() * 4L);
            student = new DeviceStatesStudent(hostStudent, epochUsers, epochItems);
        }
        try (var ng = tape.noGrad()) {
            distiller.beginEpoch(tape, student, epoch);
        }
    }

    @Override
    public boolean readsHostModel() {
        return true;
    }

    @Override
    public int prepare(DeviceModel model, Batch batch, StepUploads up) {
        this.batch = batch;
        return 0; // the loss is computed on the host in launch
    }

    @Override
    public void launch(DeviceModel model, DeviceBuffer unused) {
        // the host student's tables are the device's for this step where the term reads them: MF's tables are
        // its final embeddings; a LightGCN student's are read only by a method that distils from them (FreqD)
        if (model.finalIsParameters() || distiller.readsRawTables()) model.download();
        Tensor u, it;
        if (model.finalIsParameters()) {
            u = hostStudent.params().get("user").value();
            it = hostStudent.params().get("item").value();
        } else { // LightGCN's propagated tables, or an HSTU student's last states and normalised items
            if (users == null) {
                users = Tensor.zeros(model.users(), model.dim());
                items = Tensor.zeros(model.items(), model.dim());
            }
            cuda.download(model.userRows(), users.data(), 0, users.size() * 4L);
            cuda.download(model.itemRows(), items.data(), 0, items.size() * 4L);
            u = users;
            it = items;
        }
        resetStep();
        Var fu = Var.leaf("user.final", u), fi = Var.leaf("item.final", it);
        fu.trackGradRows(); // which rows the term writes: only those go up (and lazy Adam updates only those)
        fi.trackGradRows();
        if (!lossAndBackward(distiller.loss(tape, hostStudent, new Recommender.Embeddings(fu, fi), batch))) return;
        addGradient(model, fu, false, model.userGrad(), "hostkd.gu");
        addGradient(model, fi, true, model.itemGrad(), "hostkd.gi");
        if (distiller.readsRawTables()) { // only FreqD distils from the raw tables: the others leave them without gradient
            tableUsers = hostStudent.params().get("user");
            tableItems = hostStudent.params().get("item");
        }
    }

    /**
     * Per-term passes ({@code kd_encoding=per_term}, an HSTU student): the method's loss runs on the host
     * over passes the device encodes when the loss first reads them ({@link DevicePasses#encode}: the
     * batch users' last states, placed in a users x d table on the tape as the CPU's Hstu.embeddings
     * places them); the normalised items, the same for every pass (no dropout), come down once and their
     * gradient goes into the model's item gradient; every pass's row gradient goes back to the device,
     * which runs the encodings backwards.
     */
    @Override
    public void launch(DeviceModel model, DeviceBuffer unused, DevicePasses passes) {
        if (items == null) items = Tensor.zeros(model.items(), model.dim());
        cuda.download(model.itemRows(), items.data(), 0, items.size() * 4L);
        resetStep();
        Var fi = Var.leaf("item.final", items);
        fi.trackGradRows();
        Var[] termRows = new Var[StudentPasses.MAX_TERMS];
        StudentPasses sp = StudentPasses.perTerm(term -> {
            termRows[term] = Var.leaf("user.term" + term, passes.encode(term));
            return new Recommender.Embeddings(Gather.scatterRows(tape, termRows[term], passes.users(), model.users()), fi);
        });
        if (!lossAndBackward(distiller.loss(tape, hostStudent, sp, batch))) return;
        addGradient(model, fi, true, model.itemGrad(), "hostkd.gi");
        Tensor[] rowGrads = new Tensor[termRows.length];
        for (int term = 0; term < termRows.length; term++) if (termRows[term] != null) rowGrads[term] = termRows[term].densify(tape);
        passes.backward(rowGrads);
    }

    /** A step's host tape and gradients (the student's, the method's own parameters') cleared. */
    private void resetStep() {
        tape.reset();
        hostStudent.params().zeroGrad();
        if (extraAdam != null) for (Var p : extraAdam.params()) p.zeroGrad();
    }

    /** Keeps lambda times {@code kd} as the step's loss and runs its backward; false when it has no gradient. */
    private boolean lossAndBackward(Var kd) {
        Var scaled = Arith.scale(tape, kd, lambda);
        loss = scaled.value().get(0);
        tableUsers = tableItems = null;
        wrote = scaled.requiresGrad();
        if (wrote) tape.backward(scaled);
        return wrote;
    }

    @Override
    public boolean wroteGradient() {
        return wrote;
    }

    /** The raw-table gradient (feature KD's FreqD distils from the tables themselves), after the model's backward. */
    @Override
    public void afterBackward(DeviceModel model) {
        if (tableUsers == null) return;
        addGradient(model, tableUsers, false, model.userParameterGrad(), "hostkd.tu");
        addGradient(model, tableItems, true, model.itemParameterGrad(), "hostkd.ti");
    }

    /** The method's own parameters, updated on the host as the CPU trainer does after its step. */
    @Override
    public void update() {
        if (extraAdam != null) extraAdam.step(tape);
    }

    /**
     * grad += v's gradient on the host, and the rows it wrote marked in the model (lazy Adam). A gradient
     * known to live in some rows only — row-sparse parts (what gathering rows leaves: the ranking methods'
     * user side), or a dense one whose ops said which rows they wrote (set dots: their item side) — goes
     * up as those rows and is scatter-added; one written whole goes up whole.
     */
    private void addGradient(DeviceModel model, Var v, boolean itemTable, DeviceBuffer grad, String slot) {
        java.util.List<Var.RowSparse> parts = v.sparseParts();
        if (v.grad() == null && !parts.isEmpty()) {
            for (Var.RowSparse part : parts) scatterRows(model, itemTable, grad, slot, part.rows(), part.values());
            return;
        }
        Tensor g = v.densify(tape);
        if (g == null) return;
        java.util.BitSet written = v.gradRows();
        if (written != null) {
            int[] ids = written.stream().toArray();
            int d = g.cols();
            Tensor compact = tape.scratch().uninitialized(Math.max(1, ids.length), d);
            tape.backend().gather(ids.length, d, ids, g.data(), 0, d, compact.data(), 0, d);
            scatterRows(model, itemTable, grad, slot, ids, compact);
            return;
        }
        int n = Math.toIntExact(g.size());
        DeviceBuffer up = slots.reserve(slot, n);
        cuda.upload(g.data(), 0, up, n * 4L);
        GpuVec.add(cuda, n, grad, 0, up, 0, grad, 0);
        model.touchWhole(itemTable);
    }

    /**
     * grad[rows[t]] += values[t] on the device (values: rows.length x d on the host), and those rows marked.
     * One slot for every call: each upload waits for the scatter that read the slot before it.
     */
    private void scatterRows(DeviceModel model, boolean itemTable, DeviceBuffer grad, String slot, int[] ids, Tensor values) {
        int n = ids.length, d = values.cols();
        if (n == 0) return;
        DeviceBuffer rows = slots.ints(slot + ".rows", ids, n), vals = slots.reserve(slot + ".values", (long) n * d);
        cuda.upload(values.data(), 0, vals, (long) n * d * 4);
        GpuEmbedding.scatterAdd(cuda, n, d, rows, vals, 0, d, grad, 0, d);
        if (itemTable) model.touchItems(rows, n);
        else model.touchUsers(rows, n);
    }

    @Override
    public double loss(float[] unused, int from) {
        return loss;
    }

    @Override
    public void close() {
        tape.close();
    }
}

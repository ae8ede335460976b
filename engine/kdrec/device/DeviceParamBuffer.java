package kdrec.device;

import java.util.List;
import kdrec.autograd.Var;
import kdrec.gpu.Cuda;
import kdrec.gpu.DeviceBuffer;
import kdrec.nn.Params;

/**
 * A model's host parameters mirrored on the device in one buffer, with a gradient buffer of the same
 * layout: the host's {@code Params} order, each parameter starting on a 16-byte boundary (GEMM
 * operands on float4 boundaries; the padding stays 0), so that one dense Adam pass updates them all.
 */
final class DeviceParamBuffer implements AutoCloseable {
    private final Cuda cuda;
    private final List<Var> vars;
    private final long[] offsets;
    private final long count;
    private final DeviceBuffer values, grad;

    /** Allocates both buffers and uploads {@code params}' values. */
    DeviceParamBuffer(Cuda cuda, Params params) {
        this.cuda = cuda;
        this.vars = params.all();
        this.offsets = new long[vars.size()];
        long o = 0;
        for (int i = 0; i < vars.size(); i++) {
            offsets[i] = o;
            o += (vars.get(i).value().size() + 3) / 4 * 4;
        }
        this.count = o;
        DeviceBuffer p = cuda.allocElements(count), g = null;
        try {
            g = cuda.allocElements(count);
            cuda.fill32(p, count, 0);
            cuda.fill32(g, count, 0);
            this.values = p;
            this.grad = g;
            upload();
        } catch (RuntimeException e) {
            p.close();
            if (g != null) g.close();
            throw e;
        }
    }

    /** The parameter values, {@link #count} floats. */
    DeviceBuffer values() {
        return values;
    }

    /** The gradient, in the values' layout. */
    DeviceBuffer grad() {
        return grad;
    }

    long count() {
        return count;
    }

    List<Var> hostParameters() {
        return vars;
    }

    /** Each host parameter's element offset, in the host's order. */
    long[] offsets() {
        return offsets.clone();
    }

    /** Element offset of host parameter {@code name}. */
    long offset(String name) {
        for (int i = 0; i < vars.size(); i++) if (vars.get(i).name().equals(name)) return offsets[i];
        throw new IllegalArgumentException("DeviceParamBuffer: no parameter " + name);
    }

    void zeroGrad() {
        cuda.fill32(grad, count, 0);
    }

    /** Copies the host parameters' values to the device. */
    void upload() {
        for (int i = 0; i < vars.size(); i++) {
            var t = vars.get(i).value();
            cuda.upload(t.data(), 0, values.at(offsets[i]), t.size() * 4);
        }
    }

    /** Copies the device's values into the host parameters. */
    void download() {
        for (int i = 0; i < vars.size(); i++) {
            var t = vars.get(i).value();
            cuda.download(values.at(offsets[i]), t.data(), 0, t.size() * 4);
        }
    }

    /** The gradient in the host's layout, one array per parameter (for tests). */
    float[][] downloadGradient() {
        float[][] out = new float[vars.size()][];
        for (int i = 0; i < vars.size(); i++) out[i] = cuda.downloadFloats(grad.at(offsets[i]), Math.toIntExact(vars.get(i).value().size()));
        return out;
    }

    @Override
    public void close() {
        try {
            values.close();
        } finally {
            grad.close();
        }
    }
}

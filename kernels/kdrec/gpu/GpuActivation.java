package kdrec.gpu;

import static kdrec.gpu.GpuElemArgs.checkBuf;
import static kdrec.gpu.GpuElemArgs.checkN;

/**
 * Pointwise activations and their backward passes on the GPU: the CUDA twin of
 * {@link kdrec.cpu.ActivationScalar} (same signatures with {@link DeviceBuffer} for MemorySegment and a
 * leading {@link Cuda}; offsets in elements). Kernels: native/elementwise.cu, {@code kdrec_act_*}.
 *
 * <p>Decomposition: one grid-stride launch of {@link GpuVec#BLOCK}-thread blocks, one element per
 * thread per step.
 *
 * <p>Contract, copied from the CPU: forward {@code y = f(x)} (y may be the same range as x);
 * every backward ACCUMULATES, {@code gx += gy * f'(.)} (gx may not overlap gy or x/y). sigmoid,
 * logSigmoid, silu and their backwards are evaluated in double with the CPU's formulas (logSigmoid =
 * min(x, 0) - log1p(exp(-|x|)), stable for any x) and rounded once to float, so they agree with the CPU
 * to about one float ulp. relu(x) = (x &lt; 0 ? 0 : x) (NaN propagates, relu(-0) = -0) and
 * reluBackward gx += (x &gt; 0 ? gy : 0) match the CPU bit for bit.
 */
public final class GpuActivation {
    private GpuActivation() {}

    public static void sigmoid(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        forward(cuda, "GpuActivation.sigmoid", "kdrec_act_sigmoid", n, x, xOff, y, yOff);
    }

    /** gx += gy * y * (1 - y), from the forward output y. */
    public static void sigmoidBackward(Cuda cuda, long n, DeviceBuffer y, long yOff, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff) {
        backward(cuda, "GpuActivation.sigmoidBackward", "kdrec_act_sigmoid_backward", n, "y", y, yOff, gy, gyOff, gx, gxOff);
    }

    /** y = log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (no overflow for any x). */
    public static void logSigmoid(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        forward(cuda, "GpuActivation.logSigmoid", "kdrec_act_log_sigmoid", n, x, xOff, y, yOff);
    }

    /** gx += gy * sigmoid(-x). */
    public static void logSigmoidBackward(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff) {
        backward(cuda, "GpuActivation.logSigmoidBackward", "kdrec_act_log_sigmoid_backward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
    }

    public static void relu(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        forward(cuda, "GpuActivation.relu", "kdrec_act_relu", n, x, xOff, y, yOff);
    }

    /** gx += (x &gt; 0 ? gy : 0). */
    public static void reluBackward(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff) {
        backward(cuda, "GpuActivation.reluBackward", "kdrec_act_relu_backward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
    }

    /** y = x * sigmoid(x). */
    public static void silu(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        forward(cuda, "GpuActivation.silu", "kdrec_act_silu", n, x, xOff, y, yOff);
    }

    /** gx += gy * s * (1 + x * (1 - s)), s = sigmoid(x). */
    public static void siluBackward(Cuda cuda, long n, DeviceBuffer x, long xOff, DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff) {
        backward(cuda, "GpuActivation.siluBackward", "kdrec_act_silu_backward", n, "x", x, xOff, gy, gyOff, gx, gxOff);
    }

    /** y = f(x) elementwise: checks, then one grid-stride launch. */
    private static void forward(Cuda cuda, String op, String kernel, long n, DeviceBuffer x, long xOff, DeviceBuffer y, long yOff) {
        checkN(op, n);
        checkBuf(op, "x", x, xOff, n);
        checkBuf(op, "y", y, yOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel(kernel), n, GpuVec.BLOCK, n, x.at(xOff), y.at(yOff));
    }

    /** gx += gy * f'(saved) elementwise, saved being the forward's input or output (named savedName). */
    private static void backward(Cuda cuda, String op, String kernel, long n, String savedName, DeviceBuffer saved, long savedOff,
                                 DeviceBuffer gy, long gyOff, DeviceBuffer gx, long gxOff) {
        checkN(op, n);
        checkBuf(op, savedName, saved, savedOff, n);
        checkBuf(op, "gy", gy, gyOff, n);
        checkBuf(op, "gx", gx, gxOff, n);
        if (n == 0) return;
        cuda.launch1d(cuda.kernel(kernel), n, GpuVec.BLOCK, n, saved.at(savedOff), gy.at(gyOff), gx.at(gxOff));
    }
}

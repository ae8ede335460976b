package kdrec.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The one class in kdrec that touches JCuda: a CUDA context on one device, the kernels of the
 * fatbin resource built from {@code native/}, device memory, host&lt;-&gt;device copies and launches.
 *
 * <p>Driver API only (cuInit, primary context, cuModuleLoadData, cuLaunchKernel, cuMem*): the JCuda
 * runtime, NVRTC, cuBLAS and cuFFT bindings need CUDA 12 libraries that CUDA 13 machines lack
 * (reference/java-engine.md section 1). JCuda exceptions are off; every driver result is checked here
 * and a failure is a {@link CudaException} naming the kernel or memory operation and the driver's
 * error name and text.
 *
 * <p>Obtain it through {@link CudaProbe#cuda()}: the probe checks for a driver before this class is
 * first used, because a failed load of JCuda's native library poisons {@code JCudaDriver} for the
 * life of the JVM. Everything runs on the default stream, so launches are ordered and a download
 * sees every earlier launch. Kernel launches are asynchronous: an error inside a kernel surfaces at
 * the next synchronising call, whose message names the last kernel launched; run with
 * {@code -Dkdrec.cuda.sync=true} to synchronise after every launch and pin the error to its kernel.
 * Host copies go through one pinned staging buffer (guarded by this object's lock).
 */
public final class Cuda {
    /** Class-path location of the fatbin that native/build-fatbin.sh writes. */
    public static final String FATBIN_RESOURCE = "/kdrec/native/kdrec.fatbin";
    private static final long STAGING_BYTES = 8L << 20;
    private static final boolean SYNC_EACH_LAUNCH = Boolean.getBoolean("kdrec.cuda.sync");
    /**
     * How launches pass their arguments ({@code -Dkdrec.cuda.launch}): {@code packed} (one parameter
     * buffer, {@link LaunchParams}), {@code pointers} (one JCuda pointer per argument, the slower
     * classic path), or unset: packed, falling back to pointers for good if the driver refuses the
     * first packed launch and the same launch with pointers succeeds (one line on stderr says so).
     */
    private static final String LAUNCH_MODE = System.getProperty("kdrec.cuda.launch", "");
    private static volatile boolean packedLaunches = !LAUNCH_MODE.equals("pointers");
    private static volatile boolean packedConfirmed = LAUNCH_MODE.equals("packed");

    private final CUcontext context;
    private final CUmodule module;
    private final String description;
    private final int multiprocessors;
    private final int sharedOptin;
    private final Map<String, Kernel> kernels = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
    private final AtomicLong allocated = new AtomicLong();
    private final ThreadLocal<PackedLaunch> packed = ThreadLocal.withInitial(PackedLaunch::new);
    private final LaunchParams.Addresses addresses = this::address; // made once: a launch allocates nothing for it
    private final Workspace workspace = new Workspace(this);
    private final Pointer stagingHost;
    private final MemorySegment staging;
    private volatile String lastKernel = "(none)";
    /** Test hook: when set, sees every launch's kernel name and arguments first (the emulated-driver tests check types). */
    static volatile java.util.function.BiConsumer<String, Object[]> launchObserver;

    /** A kernel of the fatbin, looked up once by its extern "C" name. */
    public static final class Kernel {
        private final String name;
        private final CUfunction function;

        private Kernel(String name, CUfunction function) {
            this.name = name;
            this.function = function;
        }

        public String name() {
            return name;
        }
    }

    private Cuda(int ordinal, byte[] fatbin) {
        if (!LAUNCH_MODE.isEmpty() && !LAUNCH_MODE.equals("packed") && !LAUNCH_MODE.equals("pointers")) {
            throw new CudaException("kdrec.cuda.launch must be packed or pointers (or unset), got '" + LAUNCH_MODE + "'", -1);
        }
        JCudaDriver.setExceptionsEnabled(false);
        check(JCudaDriver.cuInit(0), "cuInit");
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) throw new CudaException("no CUDA device (cuDeviceGetCount = 0)", CUresult.CUDA_ERROR_NO_DEVICE);
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new CudaException("kdrec.cuda.device=" + ordinal + " but there are " + count[0] + " devices", CUresult.CUDA_ERROR_INVALID_DEVICE);
        }
        CUdevice device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
        context = new CUcontext();
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        bound.set(true);
        module = new CUmodule();
        check(JCudaDriver.cuModuleLoadData(module, fatbin), "cuModuleLoadData (" + FATBIN_RESOURCE + ")");
        description = describe(device, ordinal);
        multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        sharedOptin = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        stagingHost = new Pointer();
        check(JCudaDriver.cuMemAllocHost(stagingHost, STAGING_BYTES), "cuMemAllocHost (pinned staging)");
        ByteBuffer bb = stagingHost.getByteBuffer(0, STAGING_BYTES);
        staging = MemorySegment.ofBuffer(bb);
    }

    /** Opens device {@code -Dkdrec.cuda.device} (default 0). Only {@link CudaProbe} calls this. */
    static Cuda open() {
        byte[] fatbin = readFatbin();
        if (fatbin == null) {
            throw new CudaException("this build has no CUDA kernels: " + FATBIN_RESOURCE
                    + " is not on the class path (nvcc was not found when kdrec was built)", -1);
        }
        return new Cuda(Integer.getInteger("kdrec.cuda.device", 0), fatbin);
    }

    static byte[] readFatbin() {
        try (InputStream in = Cuda.class.getResourceAsStream(FATBIN_RESOURCE)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("reading " + FATBIN_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    private static String describe(CUdevice device, int ordinal) {
        byte[] name = new byte[256];
        check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        int sms = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        long[] mem = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(mem, device), "cuDeviceTotalMem");
        int[] driver = new int[1];
        check(JCudaDriver.cuDriverGetVersion(driver), "cuDriverGetVersion");
        return String.format(java.util.Locale.ROOT, "cuda:%d %s (sm_%d%d, %d SMs, %.1f GiB), driver API %d.%d",
                ordinal, new String(name, 0, len, java.nio.charset.StandardCharsets.UTF_8), major, minor, sms,
                mem[0] / (double) (1L << 30), driver[0] / 1000, driver[0] % 1000 / 10);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    /** One line: device, compute capability, SMs, memory, driver version. */
    public String describe() {
        return description;
    }

    /** The context must be current on every thread that calls the driver; bind once per thread. */
    private void bind() {
        if (!bound.get()) {
            check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            bound.set(true);
        }
    }

    // ---- kernels ----

    /** The kernel named {@code name} (its extern "C" symbol in native/*.cu), looked up once. */
    public Kernel kernel(String name) {
        Kernel k = kernels.get(name);
        if (k != null) return k;
        bind();
        CUfunction f = new CUfunction();
        int r = JCudaDriver.cuModuleGetFunction(f, module, name);
        if (r != CUresult.CUDA_SUCCESS) throw failure("kernel " + name + " is not in the fatbin", r);
        k = new Kernel(name, f);
        kernels.putIfAbsent(name, k);
        return k;
    }

    /**
     * Lets {@code k} use up to {@code bytes} of dynamic shared memory per block. Above 48 KiB a kernel
     * must opt in like this (up to 227 KiB on H100, 163 KiB on A100); {@link #maxSharedPerBlockOptin()}
     * says how much this device allows.
     */
    public void setMaxDynamicShared(Kernel k, int bytes) {
        bind();
        int r = JCudaDriver.cuFuncSetAttribute(k.function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        if (r != CUresult.CUDA_SUCCESS) throw failure("kernel " + k.name + ": allow " + bytes + " bytes of dynamic shared memory", r);
    }

    /** The most shared memory one block may opt in to on this device (bytes). */
    public int maxSharedPerBlockOptin() {
        return sharedOptin;
    }

    /** Number of streaming multiprocessors (for sizing persistent grids). */
    public int multiprocessors() {
        return multiprocessors;
    }

    /**
     * Launches {@code k} on the default stream. {@code args} are the kernel's parameters in order:
     * {@link DeviceBuffer} (passed as a device pointer to the view's first byte), Integer, Long, Float
     * or Double (passed by value; a Java int is a C int, a long a C long long; {@code 0L} passes a null
     * device pointer, which has the same 8 bytes on 64-bit hosts). A launch with any grid
     * dimension 0 does nothing, so empty problems need no special case in the wrappers.
     */
    public void launch(Kernel k, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes, Object... args) {
        var observer = launchObserver;
        if (observer != null) observer.accept(k.name, args);
        if (gridX == 0 || gridY == 0 || gridZ == 0) return;
        if (gridX < 0 || gridY < 0 || gridZ < 0 || blockX <= 0 || blockY <= 0 || blockZ <= 0 || sharedBytes < 0) {
            throw new IllegalArgumentException("kernel " + k.name + ": bad launch grid (" + gridX + "," + gridY + "," + gridZ
                    + ") block (" + blockX + "," + blockY + "," + blockZ + ") shared " + sharedBytes);
        }
        bind();
        lastKernel = k.name;
        int r;
        if (packedLaunches && args.length > 0) {
            PackedLaunch pl = packed.get();
            pl.params.pack(k.name, args, addresses);
            r = JCudaDriver.cuLaunchKernel(k.function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, null, null, pl.extra);
            if (r == CUresult.CUDA_SUCCESS) {
                packedConfirmed = true;
            } else if (!packedConfirmed) {
                // A driver that refused the packed buffer says so at the first launch (INVALID_VALUE, or
                // LAUNCH_OUT_OF_RESOURCES for a size it does not accept): try the same launch with pointers;
                // a genuine error comes back from that launch too and is thrown below.
                r = launchWithPointers(k, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
                if (r == CUresult.CUDA_SUCCESS) {
                    packedLaunches = false;
                    System.err.println("kdrec: the CUDA driver refused packed launch parameters (kernel " + k.name
                            + "); passing one pointer per argument from now on (-Dkdrec.cuda.launch=pointers skips the try)");
                }
            }
        } else {
            r = launchWithPointers(k, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
        }
        if (r != CUresult.CUDA_SUCCESS) throw failure("kernel " + k.name + " (launch)", r);
        if (SYNC_EACH_LAUNCH) {
            r = JCudaDriver.cuCtxSynchronize();
            if (r != CUresult.CUDA_SUCCESS) throw failure("kernel " + k.name, r);
        }
    }

    /**
     * A 1-D launch over {@code n} work items with {@code block} threads per block. The grid is capped
     * (at 65,536 blocks), so 1-D kernels must loop grid-stride over their n items.
     */
    public void launch1d(Kernel k, long n, int block, Object... args) {
        if (n <= 0) return;
        int grid = (int) Math.min((n + block - 1) / block, 65_536L);
        launch(k, grid, 1, 1, block, 1, 1, 0, args);
    }

    /** Tests and the launch benchmark: packed parameter buffers on or off from now on (no fallback). */
    static void usePackedLaunches(boolean on) {
        packedLaunches = on;
        packedConfirmed = on;
    }

    /** Whether launches pass a packed parameter buffer ({@code -Dkdrec.cuda.launch}). */
    static boolean packedLaunches() {
        return packedLaunches;
    }

    private int launchWithPointers(Kernel k, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                                   Object[] args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) params[i] = param(k, i, args[i]);
        return JCudaDriver.cuLaunchKernel(k.function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, null,
                Pointer.to(params), null);
    }

    /** This thread's parameter buffer and the {@code extra} list that hands it to the driver. */
    private static final class PackedLaunch {
        final LaunchParams params = new LaunchParams();
        final Pointer extra = Pointer.to(JCudaDriver.CU_LAUNCH_PARAM_BUFFER_POINTER, Pointer.to(params.buffer()),
                JCudaDriver.CU_LAUNCH_PARAM_BUFFER_SIZE, Pointer.to(params.sizeBuffer()), JCudaDriver.CU_LAUNCH_PARAM_END);
    }

    /** A device allocation's pointer whose address can be read (for the packed parameter buffer). */
    private static final class DevicePtr extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    /** Device address of buffer argument i of a launch of a kernel (the checks of {@link #devicePointer}). */
    private long address(DeviceBuffer b, String kernel, int i) {
        if (b.owner != this || b.freed()) devicePointer(b, "kernel " + kernel + " argument " + i); // throws, with the message
        return ((DevicePtr) b.handle).address() + b.byteOffset;
    }

    private Pointer param(Kernel k, int i, Object a) {
        Objects.requireNonNull(a, () -> "kernel " + k.name + ": argument " + i + " is null");
        return switch (a) {
            case DeviceBuffer b -> Pointer.to(devicePointer(b, "kernel " + k.name + " argument " + i));
            case Integer v -> Pointer.to(new int[] {v});
            case Long v -> Pointer.to(new long[] {v});
            case Float v -> Pointer.to(new float[] {v});
            case Double v -> Pointer.to(new double[] {v});
            default -> throw LaunchParams.unsupported(k.name, i, a);
        };
    }

    private CUdeviceptr devicePointer(DeviceBuffer b, String what) {
        if (b.owner != this) throw new IllegalArgumentException(what + ": buffer belongs to another CUDA context");
        if (b.freed()) throw new IllegalStateException(what + ": buffer was freed");
        CUdeviceptr base = (CUdeviceptr) b.handle;
        return b.byteOffset == 0 ? base : base.withByteOffset(b.byteOffset);
    }

    /** Waits for every launch so far; a kernel's failure is reported with the last kernel's name. */
    public void synchronize() {
        bind();
        int r = JCudaDriver.cuCtxSynchronize();
        if (r != CUresult.CUDA_SUCCESS) throw failure("synchronize (last kernel launched: " + lastKernel + ")", r);
    }

    // ---- memory ----

    /** A zero-filled device allocation of {@code bytes} bytes (rounded up to a multiple of 4). */
    public DeviceBuffer alloc(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("Cuda.alloc: negative size " + bytes);
        long rounded = Math.max(4, (bytes + 3) & ~3L);
        bind();
        DevicePtr p = new DevicePtr();
        check(JCudaDriver.cuMemAlloc(p, rounded), "cuMemAlloc(" + rounded + " bytes)");
        check(JCudaDriver.cuMemsetD32(p, 0, rounded / 4), "cuMemsetD32 (zero fill)");
        allocated.addAndGet(rounded);
        return new DeviceBuffer(this, p, bytes);
    }

    /** A zero-filled buffer of {@code n} floats or ints. */
    public DeviceBuffer allocElements(long n) {
        return alloc(Math.multiplyExact(n, 4L));
    }

    void free(DeviceBuffer b) {
        bind();
        check(JCudaDriver.cuMemFree((CUdeviceptr) b.handle), "cuMemFree");
        allocated.addAndGet(-Math.max(4, (b.bytes() + 3) & ~3L));
    }

    /** Bytes held in live allocations made through this context (for leak checks), the {@link #workspace} cache left out. */
    public long allocatedBytes() {
        return allocated.get() - workspace.heldBytes();
    }

    /** The context's grow-only scratch for wrapper calls (see {@link Workspace}). */
    public Workspace workspace() {
        return workspace;
    }

    /** Copies {@code bytes} bytes from {@code src} at byte {@code srcOff} to the start of {@code dst}. */
    public synchronized void upload(MemorySegment src, long srcOff, DeviceBuffer dst, long bytes) {
        checkRange("upload", dst, bytes);
        bind();
        CUdeviceptr d = devicePointer(dst, "upload");
        for (long done = 0; done < bytes; ) {
            long chunk = Math.min(STAGING_BYTES, bytes - done);
            MemorySegment.copy(src, srcOff + done, staging, 0, chunk);
            // From pinned memory cuMemcpyHtoD returns once the copy is done, so staging may be reused.
            int r = JCudaDriver.cuMemcpyHtoD(d.withByteOffset(done), stagingHost, chunk);
            if (r != CUresult.CUDA_SUCCESS) throw failure("upload (last kernel launched: " + lastKernel + ")", r);
            done += chunk;
        }
    }

    /** Copies {@code bytes} bytes from the start of {@code src} into {@code dst} at byte {@code dstOff}. */
    public synchronized void download(DeviceBuffer src, MemorySegment dst, long dstOff, long bytes) {
        checkRange("download", src, bytes);
        bind();
        CUdeviceptr s = devicePointer(src, "download");
        for (long done = 0; done < bytes; ) {
            long chunk = Math.min(STAGING_BYTES, bytes - done);
            int r = JCudaDriver.cuMemcpyDtoH(stagingHost, s.withByteOffset(done), chunk);
            if (r != CUresult.CUDA_SUCCESS) throw failure("download (last kernel launched: " + lastKernel + ")", r);
            MemorySegment.copy(staging, 0, dst, dstOff + done, chunk);
            done += chunk;
        }
    }

    /** A new device buffer holding a copy of {@code values}. */
    public DeviceBuffer upload(float[] values) {
        DeviceBuffer b = allocElements(values.length);
        upload(MemorySegment.ofArray(values), 0, b, values.length * 4L);
        return b;
    }

    /** A new device buffer holding a copy of {@code values}. */
    public DeviceBuffer upload(int[] values) {
        DeviceBuffer b = allocElements(values.length);
        upload(MemorySegment.ofArray(values), 0, b, values.length * 4L);
        return b;
    }

    /** The first {@code n} floats of {@code src}. */
    public float[] downloadFloats(DeviceBuffer src, int n) {
        float[] out = new float[n];
        download(src, MemorySegment.ofArray(out), 0, n * 4L);
        return out;
    }

    /** The first {@code n} ints of {@code src}. */
    public int[] downloadInts(DeviceBuffer src, int n) {
        int[] out = new int[n];
        download(src, MemorySegment.ofArray(out), 0, n * 4L);
        return out;
    }

    /** Device-to-device copy of {@code bytes} bytes from the start of {@code src} to the start of {@code dst}. */
    public void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        checkRange("copy (source)", src, bytes);
        checkRange("copy (destination)", dst, bytes);
        if (bytes == 0) return;
        bind();
        int r = JCudaDriver.cuMemcpyDtoD(devicePointer(dst, "copy"), devicePointer(src, "copy"), bytes);
        if (r != CUresult.CUDA_SUCCESS) throw failure("copy (last kernel launched: " + lastKernel + ")", r);
    }

    /** Sets the first {@code count} 4-byte elements of {@code dst} to the bit pattern {@code bits}. */
    public void fill32(DeviceBuffer dst, long count, int bits) {
        checkRange("fill32", dst, count * 4);
        if (count == 0) return;
        bind();
        check(JCudaDriver.cuMemsetD32(devicePointer(dst, "fill32"), bits, count), "cuMemsetD32");
    }

    private static void checkRange(String what, DeviceBuffer b, long bytes) {
        if (bytes < 0 || bytes > b.bytes()) {
            throw new IndexOutOfBoundsException(what + ": " + bytes + " bytes but the device buffer holds " + b.bytes());
        }
    }

    // ---- errors ----

    private static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) throw failure(what, result);
    }

    private static CudaException failure(String what, int result) {
        String[] text = new String[1];
        String detail = JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS && text[0] != null ? text[0] : "no description";
        return new CudaException(what + ": " + CUresult.stringFor(result) + " (" + detail + ")", result);
    }
}

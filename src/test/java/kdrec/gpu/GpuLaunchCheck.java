package kdrec.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * On the emulated driver (native/emu/driver), checks every launch's Java arguments against the kernel's C
 * parameter types, which the emulator knows from the compiled kernels (libcuda_emu_kernel_signature):
 * the count, DeviceBuffer for a pointer (or Long 0 for a null one), Integer for int, Long for long long,
 * Float for float, Double for double. JCuda passes each argument as its bytes, so on a real GPU a Java
 * int where the kernel takes a long long silently reads 4 garbage bytes; here it is an AssertionError
 * naming the kernel and the argument. {@link RequiresGpu} installs it once per JVM on the emulator.
 */
final class GpuLaunchCheck {
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private GpuLaunchCheck() {}

    static void installOnEmulator() {
        if (!INSTALLED.compareAndSet(false, true)) return;
        Map<String, List<String>> sigs = signatures();
        Cuda.launchObserver = (name, args) -> check(name, args, sigs.get(name));
    }

    static void check(String kernel, Object[] args, List<String> sig) {
        if (sig == null) throw new AssertionError("kernel " + kernel + ": not in the emulated driver's kernel table");
        if (args.length != sig.size()) {
            throw new AssertionError("kernel " + kernel + ": launched with " + args.length + " arguments but it takes "
                    + sig.size() + " (" + String.join(",", sig) + ")");
        }
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            String want = sig.get(i);
            boolean ok = switch (a) {
                case DeviceBuffer b -> want.equals("p");
                case Long v -> want.equals("i8") || (want.equals("p") && v == 0L);
                case Integer v -> want.equals("i4");
                case Float v -> want.equals("f4");
                case Double v -> want.equals("f8");
                case null -> false;
                default -> false;
            };
            if (!ok) {
                throw new AssertionError("kernel " + kernel + ": argument " + i + " is a Java "
                        + (a == null ? "null" : a.getClass().getSimpleName()) + " but the kernel's parameter " + i + " is "
                        + describe(want) + " (parameters: " + String.join(",", sig) + ")");
            }
        }
    }

    private static String describe(String code) {
        return switch (code) {
            case "p" -> "a pointer (DeviceBuffer)";
            case "i4" -> "a 4-byte int (Integer)";
            case "i8" -> "a long long (Long)";
            case "f4" -> "a float (Float)";
            case "f8" -> "a double (Double)";
            default -> "of a type Cuda.launch cannot pass (" + code + ")";
        };
    }

    private static Map<String, List<String>> signatures() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        MethodHandle count = linker.downcallHandle(lib.findOrThrow("libcuda_emu_kernel_count"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        FunctionDescriptor str = FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
        MethodHandle name = linker.downcallHandle(lib.findOrThrow("libcuda_emu_kernel_name"), str);
        MethodHandle sig = linker.downcallHandle(lib.findOrThrow("libcuda_emu_kernel_signature"), str);
        Map<String, List<String>> out = new HashMap<>();
        try {
            int n = (int) count.invokeExact();
            for (int i = 0; i < n; i++) {
                String k = cString((MemorySegment) name.invokeExact(i));
                String s = cString((MemorySegment) sig.invokeExact(i));
                out.put(k, s.isEmpty() ? List.of() : List.of(s.split(",")));
            }
        } catch (Throwable t) {
            throw new IllegalStateException("reading the emulated driver's kernel signatures", t);
        }
        return out;
    }

    private static String cString(MemorySegment p) {
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}

package kdrec.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import kdrec.cpu.Mem;

/**
 * A float32, row-major, contiguous tensor of rank 1 to 3 whose storage is a {@link MemorySegment}:
 * a heap array, native memory from an arena, or a memory-mapped file all look the same here.
 *
 * <p>A tensor does not own its memory: {@link ParamStore} (long-lived parameters and optimizer state)
 * or {@link Scratch} (per-step intermediates, reused) does. Shape errors are
 * {@link IllegalArgumentException}s naming the operation and the shapes involved.
 */
public final class Tensor {
    private final MemorySegment data;
    private final int[] shape;
    private final long size;

    private Tensor(MemorySegment data, int[] shape) {
        this.shape = shape;
        this.size = Shapes.size(shape);
        if (Mem.floats(data) < size) {
            throw new IllegalArgumentException("tensor of shape " + Shapes.str(shape) + " needs " + size
                    + " floats, the segment holds " + Mem.floats(data));
        }
        this.data = data.byteSize() == size * Float.BYTES ? data : data.asSlice(0, size * Float.BYTES);
    }

    /** Views {@code data} (at least size floats) as a tensor of the given shape. */
    public static Tensor wrap(MemorySegment data, int... shape) {
        return new Tensor(data, Shapes.check(shape));
    }

    /** A heap tensor holding a copy of {@code values}. */
    public static Tensor of(float[] values, int... shape) {
        Shapes.check(shape);
        if (Shapes.size(shape) != values.length) {
            throw new IllegalArgumentException("Tensor.of: " + values.length + " values for shape " + Shapes.str(shape));
        }
        return new Tensor(MemorySegment.ofArray(values.clone()), shape);
    }

    /** A zero-filled heap tensor (for tests, small constants and results handed to callers). */
    public static Tensor zeros(int... shape) {
        Shapes.check(shape);
        return new Tensor(MemorySegment.ofArray(new float[Math.toIntExact(Shapes.size(shape))]), shape);
    }

    public MemorySegment data() {
        return data;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public long size() {
        return size;
    }

    /** Number of rows when viewed as a matrix: product of all dims but the last. */
    public int rows() {
        return (int) (size / Math.max(1, shape[shape.length - 1]));
    }

    /** The last dimension (row width). */
    public int cols() {
        return shape[shape.length - 1];
    }

    public boolean sameShape(Tensor o) {
        return Arrays.equals(shape, o.shape);
    }

    /** A view with another shape of the same size. */
    public Tensor reshape(int... newShape) {
        Shapes.check(newShape);
        if (Shapes.size(newShape) != size) {
            throw new IllegalArgumentException("reshape: " + Shapes.str(shape) + " to " + Shapes.str(newShape) + " changes the size");
        }
        return new Tensor(data, newShape.clone());
    }

    /** A view of rows [from, to) of the matrix view (rank preserved for rank 2; rank 1 gives a slice). */
    public Tensor rowRange(int from, int to) {
        int r = rows(), c = cols();
        if (from < 0 || to > r || from > to) {
            throw new IllegalArgumentException("rowRange: [" + from + ", " + to + ") of " + r + " rows (shape " + Shapes.str(shape) + ")");
        }
        MemorySegment s = data.asSlice(Mem.bytes((long) from * c), Mem.bytes((long) (to - from) * c));
        return shape.length == 1 ? new Tensor(s, new int[] {to - from}) : new Tensor(s, new int[] {to - from, c});
    }

    public float get(long flatIndex) {
        return Mem.get(data, flatIndex);
    }

    public void set(long flatIndex, float v) {
        Mem.set(data, flatIndex, v);
    }

    /** Element (r, c) of the matrix view. */
    public float get(int r, int c) {
        return Mem.get(data, (long) r * cols() + c);
    }

    public void set(int r, int c, float v) {
        Mem.set(data, (long) r * cols() + c, v);
    }

    public float[] toArray() {
        return data.toArray(Mem.F32);
    }

    /** Copies this tensor's values into {@code dst} (same size, any shape). */
    public void copyTo(Tensor dst) {
        if (dst.size != size) throw new IllegalArgumentException("copyTo: " + Shapes.str(shape) + " into " + Shapes.str(dst.shape));
        MemorySegment.copy(data, 0, dst.data, 0, size * Float.BYTES);
    }

    public void fill(float v) {
        if (v == 0f) data.fill((byte) 0); else for (long i = 0; i < size; i++) Mem.set(data, i, v);
    }

    @Override
    public String toString() {
        return "Tensor" + Shapes.str(shape);
    }
}

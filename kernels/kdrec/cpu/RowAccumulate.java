package kdrec.cpu;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The row accumulation both sides of a gather-dot backward share: {@code dst[0, d) += sum over p of
 * c[p] * src[rows[p]]}, one fma per entry in p order for every element (so the bits equal one axpy per
 * entry, whatever the vector width): SubsetCe's rows' gradient (rows = item ids) and RowScatter's item
 * side (rows = the batch rows of one item's entries).
 *
 * <p>Each vector chunk of d keeps its accumulator in a register for the whole pass over the entries
 * (one load and one store of dst). Each chunk's accumulation is a chain of dependent fmas (4 cycles
 * each), so several chunks share a pass: four full vectors, then two, then a full vector with the
 * 4-float vector after it (d = 20 at 16 lanes: 16 + 4), then 4-float vectors, then scalars. One chain
 * per pass had made the rows' gradient latency-bound (d = 64: 4.9 -> 3.2 ns an entry on one core); the
 * 4-float pair beats an overlapping full tail vector at RCE-KD's item side (d = 20: 3.8-3.9 against
 * 4.3-4.9 ms a batch, PairCeBench, one thread).
 */
final class RowAccumulate {
    private RowAccumulate() {}

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;

    /** dst[0, d) += sum over p in [from, to) of c[p] * src[rows[p]] (rows of src ld apart from srcOff). */
    static void add(int d, MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                    MemorySegment dst, long dstOff) {
        int dv = F.loopBound(d), d4 = dv + ((d - dv) & ~3);
        int k = 0, k4 = dv;
        for (; k + 4 * L <= dv; k += 4 * L) full4(src, srcOff + k, ld, rows, c, from, to, dst, dstOff + k);
        for (; k + 2 * L <= dv; k += 2 * L) full2(src, srcOff + k, ld, rows, c, from, to, dst, dstOff + k);
        if (k < dv) { // one full vector left: paired with the first 4-float chunk when there is one
            if (d4 > dv) {
                fullPlus4(src, srcOff + k, ld, rows, c, from, to, dst, dstOff + k);
                k4 += 4;
            } else {
                full1(src, srcOff + k, ld, rows, c, from, to, dst, dstOff + k);
            }
        }
        for (; k4 < d4; k4 += 4) quarter(src, srcOff + k4, ld, rows, c, from, to, dst, dstOff + k4);
        for (k = d4; k < d; k++) {
            float acc = Mem.get(dst, dstOff + k);
            for (int p = from; p < to; p++) acc = Math.fma(Mem.get(src, srcOff + (long) rows[p] * ld + k), c[p], acc);
            Mem.set(dst, dstOff + k, acc);
        }
    }

    /** Four full vectors, columns [0, 4L) from srcOff / dstOff, in one pass. */
    private static void full4(MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                              MemorySegment dst, long dstOff) {
        long db = Mem.bytes(dstOff), sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld), vb = Mem.bytes(L);
        FloatVector a0 = FloatVector.fromMemorySegment(F, dst, db, Mem.ORDER), a1 = FloatVector.fromMemorySegment(F, dst, db + vb, Mem.ORDER);
        FloatVector a2 = FloatVector.fromMemorySegment(F, dst, db + 2 * vb, Mem.ORDER), a3 = FloatVector.fromMemorySegment(F, dst, db + 3 * vb, Mem.ORDER);
        for (int p = from; p < to; p++) {
            long rb = sb + rows[p] * rowBytes;
            FloatVector w = FloatVector.broadcast(F, c[p]);
            a0 = FloatVector.fromMemorySegment(F, src, rb, Mem.ORDER).fma(w, a0);
            a1 = FloatVector.fromMemorySegment(F, src, rb + vb, Mem.ORDER).fma(w, a1);
            a2 = FloatVector.fromMemorySegment(F, src, rb + 2 * vb, Mem.ORDER).fma(w, a2);
            a3 = FloatVector.fromMemorySegment(F, src, rb + 3 * vb, Mem.ORDER).fma(w, a3);
        }
        a0.intoMemorySegment(dst, db, Mem.ORDER);
        a1.intoMemorySegment(dst, db + vb, Mem.ORDER);
        a2.intoMemorySegment(dst, db + 2 * vb, Mem.ORDER);
        a3.intoMemorySegment(dst, db + 3 * vb, Mem.ORDER);
    }

    /** Two full vectors, columns [0, 2L), in one pass. */
    private static void full2(MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                              MemorySegment dst, long dstOff) {
        long db = Mem.bytes(dstOff), sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld), vb = Mem.bytes(L);
        FloatVector a0 = FloatVector.fromMemorySegment(F, dst, db, Mem.ORDER), a1 = FloatVector.fromMemorySegment(F, dst, db + vb, Mem.ORDER);
        for (int p = from; p < to; p++) {
            long rb = sb + rows[p] * rowBytes;
            FloatVector w = FloatVector.broadcast(F, c[p]);
            a0 = FloatVector.fromMemorySegment(F, src, rb, Mem.ORDER).fma(w, a0);
            a1 = FloatVector.fromMemorySegment(F, src, rb + vb, Mem.ORDER).fma(w, a1);
        }
        a0.intoMemorySegment(dst, db, Mem.ORDER);
        a1.intoMemorySegment(dst, db + vb, Mem.ORDER);
    }

    /** One full vector and the 4-float vector after it, columns [0, L + 4), in one pass. */
    private static void fullPlus4(MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                                  MemorySegment dst, long dstOff) {
        long db = Mem.bytes(dstOff), sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld), vb = Mem.bytes(L);
        FloatVector a = FloatVector.fromMemorySegment(F, dst, db, Mem.ORDER), a4 = FloatVector.fromMemorySegment(F4, dst, db + vb, Mem.ORDER);
        for (int p = from; p < to; p++) {
            long rb = sb + rows[p] * rowBytes;
            float w = c[p];
            a = FloatVector.fromMemorySegment(F, src, rb, Mem.ORDER).fma(FloatVector.broadcast(F, w), a);
            a4 = FloatVector.fromMemorySegment(F4, src, rb + vb, Mem.ORDER).fma(FloatVector.broadcast(F4, w), a4);
        }
        a.intoMemorySegment(dst, db, Mem.ORDER);
        a4.intoMemorySegment(dst, db + vb, Mem.ORDER);
    }

    private static void full1(MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                              MemorySegment dst, long dstOff) {
        long db = Mem.bytes(dstOff), sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld);
        FloatVector a = FloatVector.fromMemorySegment(F, dst, db, Mem.ORDER);
        for (int p = from; p < to; p++) a = FloatVector.fromMemorySegment(F, src, sb + rows[p] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F, c[p]), a);
        a.intoMemorySegment(dst, db, Mem.ORDER);
    }

    /** One 4-float vector. */
    private static void quarter(MemorySegment src, long srcOff, int ld, int[] rows, float[] c, int from, int to,
                                MemorySegment dst, long dstOff) {
        long db = Mem.bytes(dstOff), sb = Mem.bytes(srcOff), rowBytes = Mem.bytes(ld);
        FloatVector a = FloatVector.fromMemorySegment(F4, dst, db, Mem.ORDER);
        for (int p = from; p < to; p++) a = FloatVector.fromMemorySegment(F4, src, sb + rows[p] * rowBytes, Mem.ORDER).fma(FloatVector.broadcast(F4, c[p]), a);
        a.intoMemorySegment(dst, db, Mem.ORDER);
    }
}

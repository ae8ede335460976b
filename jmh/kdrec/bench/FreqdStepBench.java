package kdrec.bench;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import kdrec.autograd.Tape;
import kdrec.cpu.Parallel;
import kdrec.data.Dataset;
import kdrec.data.Preprocess;
import kdrec.data.Synthetic;
import kdrec.kd.Methods;
import kdrec.kd.Teacher;
import kdrec.kd.feature.FreqD;
import kdrec.loss.Batch;
import kdrec.model.MatrixFactorization;
import kdrec.model.Recommender;
import kdrec.nn.Params;
import kdrec.tensor.Backends;
import kdrec.train.TrainData;

/**
 * Seconds for one FreqD step (the KD term's forward and backward, three filter calls: users,
 * positive items, negative items) on a Gowalla-sized synthetic set (30k users, 41k items, ~810k
 * train interactions) at LightGCN-teacher scale: teacher width d_t (default 2000; a random
 * N(0, 0.1²) table: cost does not depend on the teacher's quality), student MF d_s = 20, batch
 * 2048 random train pairs with random negatives, FreqD defaults (5 experts, hidden d_t, dropout
 * 0.2, linear:0.5, keep 0.5, cosine). Splits the time into closure (closure, masks, gathers),
 * projector, filter and distance, forward and backward, for the batch's 1-hop-closure path and the
 * authors' full-table path; a path named {@code closure/composed} or {@code full/composed} runs the
 * projector as the composition of element-wise ops it was before the fused {@code ExpertMlp} op (the
 * baseline; it keeps every intermediate: about 50 (rows x d_t) buffers per call). Each step line also
 * reports scratch (after forward, high-water, reserved), Java heap in use and resident memory.
 * Usage: {@code java ... kdrec.bench.FreqdStepBench [d_t=2000] [steps=4] [paths=closure,full] [key=value ...]}
 * (extra keys are freqd settings, e.g. filter=exp:1,4); the first step (JIT warm-up) is excluded
 * from the medians.
 */
public final class FreqdStepBench {
    public static void main(String[] args) throws Exception {
        BenchArgs cli = new BenchArgs("bench/freqd_step.sh [teacher dim (2000)] [steps (4)] [paths: closure,full (both)] [key=value ...]", args);
        int dt = cli.integer(0, "teacher dim", 2000, 1);
        int steps = cli.integer(1, "steps", 4, 1);
        String[] paths = cli.str(2, "closure,full").split(",");
        for (String p : paths) if (!p.equals("closure") && !p.equals("full")) throw cli.fail("paths are closure and/or full, got '" + p + "'");
        Map<String, Object> extra = cli.settings(3);
        long t0 = System.nanoTime();
        Dataset ds = new Preprocess(null, 0, 0, true).apply("gowalla-sized synthetic", Synthetic.gowallaSized(1).generate());
        TrainData td = new TrainData(ds);
        System.out.printf("data: %s (generated in %.1fs)%n", ds.summary(), (System.nanoTime() - t0) / 1e9);
        MatrixFactorization tm = new MatrixFactorization(td.users(), td.items(), dt, 7);
        for (var p : tm.params().all()) Params.fillNormal(p.value(), 0.1f, p.name().hashCode());
        int bs = 2048;
        try (Teacher teacher = Teacher.of(tm); Recommender student = new MatrixFactorization(td.users(), td.items(), 20, 3)) {
            for (String spec : paths) {
                String path = spec.trim();
                boolean composed = path.endsWith("/composed");
                if (composed) path = path.substring(0, path.length() - "/composed".length());
                if (!path.equals("closure") && !path.equals("full")) throw new IllegalArgumentException("path must be closure or full, optionally /composed; got " + spec);
                Map<String, Object> set = new java.util.LinkedHashMap<>(extra);
                set.put("closure", path.equals("closure"));
                long g0 = System.nanoTime();
                FreqD f = (FreqD) Methods.get("freqd").factory().create(Methods.get("freqd").params().with(set), teacher, td, 1);
                Params ps = f.params(student);
                f.composedProjectors(composed);
                path = spec.trim();
                System.out.printf("%n[%s] graphs + projectors built in %.2fs; projector parameters %,d; settings %s%n", path,
                        (System.nanoTime() - g0) / 1e9, ps.count(), set);
                FreqD.Profile prof = new FreqD.Profile();
                f.profile(prof);
                String[] ph = FreqD.Profile.PHASES;
                double[][] fw = new double[ph.length][steps], bw = new double[ph.length][steps];
                double[] total = new double[steps], fwd = new double[steps];
                SplittableRandom r = new SplittableRandom(11);
                int[] pairUser = td.trainPairUsers(), pairItem = td.trainItems();
                try (Tape tape = new Tape(Backends.get(), new kdrec.tensor.Scratch())) {
                    f.beginEpoch(tape, student, 0);
                    for (int s = 0; s < steps; s++) {
                        int[] u = new int[bs], p = new int[bs], q = new int[bs];
                        for (int b = 0; b < bs; b++) {
                            int pair = r.nextInt(pairUser.length);
                            u[b] = pairUser[pair];
                            p[b] = pairItem[pair];
                            q[b] = r.nextInt(td.items());
                        }
                        tape.reset();
                        student.params().zeroGrad();
                        ps.zeroGrad();
                        prof.clear();
                        long a = System.nanoTime();
                        var loss = f.loss(tape, student, student.forward(tape), new Batch(u, p, q));
                        long b = System.nanoTime();
                        long fwdBytes = tape.scratch().used();
                        tape.backward(loss);
                        for (var v : ps.all()) v.densify(tape);
                        for (var v : student.params().all()) v.densify(tape);
                        long c = System.nanoTime();
                        fwd[s] = (b - a) / 1e9;
                        total[s] = (c - a) / 1e9;
                        StringBuilder line = new StringBuilder(String.format("step %d: %.3fs (forward %.3fs, backward %.3fs) |", s + 1, total[s], fwd[s], (c - b) / 1e9));
                        for (int k = 0; k < ph.length; k++) {
                            fw[k][s] = prof.forward[k] / 1e9;
                            bw[k][s] = prof.backward[k] / 1e9;
                            line.append(String.format(" %s %.3f+%.3f", ph[k], fw[k][s], bw[k][s]));
                        }
                        line.append(String.format(" | scratch after forward %.2f GB, high-water %.2f GB, capacity %.2f GB; heap used %.2f GB; RSS %.2f GB (peak %.2f GB)",
                                fwdBytes / 1e9, tape.scratch().highWater() / 1e9, tape.scratch().capacity() / 1e9, heapUsed() / 1e9, procStatus("VmRSS") / 1e9, procStatus("VmHWM") / 1e9));
                        System.out.println(line);
                    }
                }
                StringBuilder med = new StringBuilder(String.format("[%s] d_t=%d, d_s=20, batch %d, %d threads, backend %s: median step %.3fs (forward %.3fs) | forward+backward:",
                        path, dt, bs, Parallel.threads(), Backends.get().name(), median(total), median(fwd)));
                for (int k = 0; k < ph.length; k++) med.append(String.format(" %s %.3f+%.3f", ph[k], median(fw[k]), median(bw[k])));
                System.out.println(med);
                ps.close();
            }
        }
    }

    /** Bytes of the Java heap in use now. */
    static long heapUsed() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** A byte count from /proc/self/status (VmRSS: resident now, VmHWM: peak resident); -1 where there is none (not Linux). */
    static long procStatus(String key) {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // not Linux: no figure
        }
        return -1;
    }

    /** Median of all but the first (warm-up) value. */
    static double median(double[] v) {
        double[] w = v.length > 1 ? Arrays.copyOfRange(v, 1, v.length) : v.clone();
        Arrays.sort(w);
        return w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2;
    }
}

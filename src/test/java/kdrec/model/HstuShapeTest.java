package kdrec.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kdrec.autograd.Norm;
import kdrec.autograd.Tape;
import kdrec.data.Sequences;
import kdrec.tensor.Tensor;
import kdrec.train.Checkpoint;
import kdrec.train.Checkpoints;
import kdrec.train.Models;
import kdrec.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HSTU's per-head widths (attention_dim for Q/K, linear_dim for U/V, as the reference's
 * SequentialTransductionUnitJagged) and its two dropout rates (input, block): the forward against a
 * naive double-precision reading of the block, the settings' "auto" rules, and checkpoints.
 */
class HstuShapeTest {
    @TempDir
    Path dir;

    static TrainConfig hstu(Map<String, ?> more) {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("model", "hstu", "dim", 12, "blocks", 2, "heads", 3, "max_len", 12, "dropout", 0.1));
        m.putAll(more);
        return TrainConfig.defaults().with(m);
    }

    @Test
    void forwardMatchesANaiveDoubleReading() {
        Object[][] shapes = {
            {Map.of()}, // auto: 4 + 4 per head
            {Map.of("attention_dim", 2, "linear_dim", 5)}, // Q/K 6 wide, U/V 15 (wider than d = 12)
            {Map.of("heads", 5, "attention_dim", 3, "linear_dim", 2)}, // 5 heads need not divide d when both widths are given
            // the reference as it runs: scale 1 / (max_len + 10), no position bias, W_o's bias drawn uniform
            {Map.of("attention_dim", 2, "linear_dim", 5, "max_output_len", 10, "rel_bias", false, "o_bias_init", "uniform")},
        };
        for (Object[] row : shapes) {
            @SuppressWarnings("unchecked")
            TrainConfig c = hstu((Map<String, ?>) row[0]);
            try (Hstu m = (Hstu) Models.create(c, HstuTest.MARKOV); Tape t = new Tape()) {
                assertEquals(c.attentionWidth(), m.attentionDim());
                assertEquals(c.linearWidth(), m.linearDim());
                assertArrayEquals(new int[] {c.dim(), c.heads() * c.linearWidth()}, m.params().get("b0.u").value().shape());
                assertArrayEquals(new int[] {c.dim(), c.heads() * c.attentionWidth()}, m.params().get("b1.k").value().shape());
                assertArrayEquals(new int[] {c.heads() * c.linearWidth(), c.dim()}, m.params().get("b1.o").value().shape());
                assertEquals(c.maxLen() + c.maxOutputLen(), m.params().get("pos").value().rows(), "the position table has max_len + max_output_len rows");
                assertEquals(c.relBias(), m.params().all().stream().anyMatch(p -> p.name().endsWith(".rab")));
                m.params().get("b0.o_bias").value().set(1, 0.3f); // not the initial value
                float[] states = m.inference(t).users().value().toArray();
                Sequences s = m.sequences();
                int d = m.dim();
                for (int u = 0; u < 40; u++) {
                    if (s.length(u) == 0) continue;
                    double[] want = naiveState(m, s, u);
                    for (int j = 0; j < d; j++) assertEquals(want[j], states[u * d + j], 2e-5, c.toMap() + " user " + u + " column " + j);
                }
            }
        }
    }

    /** The last position's L2-normalised state of user u, every sum in double, straight from the formulas. */
    static double[] naiveState(Hstu m, Sequences s, int u) {
        return naiveState(m, s, u, null, null);
    }

    /**
     * As {@link #naiveState(Hstu, Sequences, int)} with dropout: {@code inMask} [len, d] multiplies the
     * input rows, {@code blockMasks[b]} [len, heads x linear_dim] block b's U ⊙ LN(AV) before W_o (null: none).
     */
    static double[] naiveState(Hstu m, Sequences s, int u, Tensor inMask, Tensor[] blockMasks) {
        int d = m.dim(), h = m.heads(), a = m.attentionDim(), l = m.linearDim(), len = s.length(u), maxLen = m.maxLen();
        double[][] x = new double[len][d];
        for (int p = 0; p < len; p++) {
            for (int j = 0; j < d; j++) {
                x[p][j] = Math.sqrt(d) * (double) param(m, "item", s.item(u, p) * d + j) + param(m, "pos", p * d + j);
                if (inMask != null) x[p][j] *= inMask.get(p, j);
            }
        }
        for (int b = 0; b < m.blocks(); b++) {
            String pre = "b" + b + ".";
            double[][] nx = layerNorm(x);
            double[][] uu = siluProject(m, nx, pre + "u", h * l), vv = siluProject(m, nx, pre + "v", h * l);
            double[][] qq = siluProject(m, nx, pre + "q", h * a), kk = siluProject(m, nx, pre + "k", h * a);
            double[][] av = new double[len][h * l];
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < len; i++) {
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int c = 0; c < a; c++) dot += qq[i][hh * a + c] * kk[j][hh * a + c];
                        if (m.relBias()) dot += param(m, pre + "rab", maxLen - 1 + j - i);
                        double w = dot / (1 + Math.exp(-dot)) / (maxLen + m.maxOutputLen());
                        for (int c = 0; c < l; c++) av[i][hh * l + c] += w * vv[j][hh * l + c];
                    }
                }
            }
            double[][] nav = layerNorm(av);
            for (int p = 0; p < len; p++) {
                for (int j = 0; j < d; j++) {
                    double o = param(m, pre + "o_bias", j);
                    for (int c = 0; c < h * l; c++) {
                        double y = uu[p][c] * nav[p][c] * (blockMasks == null ? 1 : blockMasks[b].get(p, c));
                        o += y * param(m, pre + "o", c * d + j);
                    }
                    x[p][j] += o;
                }
            }
        }
        double[] last = x[len - 1];
        double norm = 0;
        for (double v : last) norm += v * v;
        norm = Math.sqrt(norm);
        double[] out = new double[d];
        for (int j = 0; j < d; j++) out[j] = last[j] / norm;
        return out;
    }

    private static double param(Hstu m, String name, long i) {
        return m.params().get(name).value().get(i);
    }

    private static double[][] siluProject(Hstu m, double[][] x, String name, int width) {
        double[][] y = new double[x.length][width];
        for (int p = 0; p < x.length; p++) {
            for (int c = 0; c < width; c++) {
                double z = 0;
                for (int j = 0; j < x[p].length; j++) z += x[p][j] * param(m, name, (long) j * width + c);
                y[p][c] = z / (1 + Math.exp(-z));
            }
        }
        return y;
    }

    private static double[][] layerNorm(double[][] x) {
        double[][] y = new double[x.length][];
        for (int p = 0; p < x.length; p++) {
            int w = x[p].length;
            double mean = 0, var = 0;
            for (double v : x[p]) mean += v / w;
            for (double v : x[p]) var += (v - mean) * (v - mean) / w;
            y[p] = new double[w];
            for (int c = 0; c < w; c++) y[p][c] = (x[p][c] - mean) / Math.sqrt(var + Hstu.LN_EPS);
        }
        return y;
    }

    @Test
    void autoWidthsAndRateFollowDimHeadsAndDropout() {
        TrainConfig c = hstu(Map.of("dim", 32, "heads", 4));
        assertEquals("auto", c.toMap().get("attention_dim"));
        assertEquals("auto", c.toMap().get("linear_dim"));
        assertEquals("auto", c.toMap().get("block_dropout"));
        assertEquals(8, c.attentionWidth());
        assertEquals(0.1f, c.blockDropoutRate());
        TrainConfig wider = c.with(Map.of("dim", 64, "dropout", 0.3));
        assertEquals(16, wider.attentionWidth(), "auto follows a later dim");
        assertEquals(16, wider.linearWidth());
        assertEquals(0.3f, wider.blockDropoutRate(), "auto follows a later dropout");
        TrainConfig fixed = c.with(Map.of("attention_dim", 16, "linear_dim", "AUTO", "block_dropout", 0.7));
        assertEquals(16, fixed.with(Map.of("dim", 64)).attentionWidth(), "a given width stays");
        assertEquals(16, fixed.with(Map.of("dim", 64)).linearWidth());
        assertEquals(0.7f, fixed.with(Map.of("dropout", 0.2)).blockDropoutRate());
        assertEquals(fixed, TrainConfig.defaults().with(fixed.toMap()), "toMap/with round trip");
        assertEquals(new HstuShape(32, 2, 4, 16, 8, 12, 0, 0.1f, 0.7f, true, false), fixed.hstuShape());
        assertFalse(TrainConfig.defaults().toMap().containsKey("attention_dim"), "mf configs do not record HSTU keys");
        assertEquals(List.of(0, true, "zero", "batch"), List.of(c.maxOutputLen(), c.relBias(), c.oBiasInit(), c.negativesPer()), "kdrec's defaults");
        TrainConfig reference = c.with(Map.of("max_output_len", 10, "rel_bias", "false", "o_bias_init", "Uniform", "negatives_per", "Position"));
        assertEquals(List.of(10, false, "uniform", "position"),
                List.of(reference.maxOutputLen(), reference.relBias(), reference.oBiasInit(), reference.negativesPer()));
        assertEquals("position", reference.toMap().get("negatives_per"), "recorded in config.yaml");
        assertFalse(TrainConfig.defaults().toMap().containsKey("negatives_per"), "an HSTU key: not recorded for mf");
        assertEquals("shared", c.kdEncoding(), "kdrec's default: one encoding per step");
        assertEquals("per_term", c.with(Map.of("kd_encoding", "Per_Term")).toMap().get("kd_encoding"), "recorded in config.yaml");
        var mf = assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().with(Map.of("kd_encoding", "per_term")));
        assertTrue(mf.getMessage().contains("kd_encoding per_term is for sequential students"), mf.getMessage());
        assertEquals(reference, TrainConfig.defaults().with(reference.toMap()), "toMap/with round trip");
        assertEquals(5, hstu(Map.of("heads", 5, "attention_dim", 3, "linear_dim", 2)).heads());
        String[][] bad = {
            {"attention_dim", "0", "attention_dim must be a positive integer or auto"},
            {"linear_dim", "-2", "linear_dim must be a positive integer or auto"},
            {"attention_dim", "wide", "attention_dim must be an integer"},
            {"block_dropout", "1", "block_dropout must be in [0, 1) or auto"},
            {"block_dropout", "none", "block_dropout must be a number"},
            {"heads", "5", "heads (5) must divide dim (12) where attention_dim or linear_dim is auto"},
            {"max_output_len", "-1", "max_output_len must be >= 0"},
            {"max_output_len", "2000000", "max_output_len must keep max_len + max_output_len <= 1048576, got 2000000 (max_len 12)"},
            {"max_len", "2000000", "max_len must be <= 1048576, got 2000000"},
            {"rel_bias", "sometimes", "rel_bias must be true or false"},
            {"o_bias_init", "normal", "o_bias_init must be one of [zero, uniform]"},
            {"negatives_per", "user", "negatives_per must be one of [batch, position], got 'user'"},
            {"kd_encoding", "twice", "kd_encoding must be one of [shared, per_term], got 'twice'"},
        };
        for (String[] b : bad) {
            var e = assertThrows(IllegalArgumentException.class, () -> hstu(Map.of(b[0], b[1])), b[0] + "=" + b[1]);
            assertTrue(e.getMessage().contains(b[2]), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> hstu(Map.of("heads", 5, "linear_dim", 4)));
        assertTrue(e.getMessage().contains("where attention_dim or linear_dim is auto"), e.getMessage());
    }

    @Test
    void inputAndBlockDropoutFallWhereTheReferenceHasThem() {
        TrainConfig c = hstu(Map.of("dropout", 0.3, "block_dropout", 0.6, "attention_dim", 2, "linear_dim", 5));
        try (Hstu m = (Hstu) Models.create(c, HstuTest.MARKOV); Tape t = new Tape()) {
            Sequences s = m.sequences();
            int u = 0;
            while (s.length(u) < 6) u++;
            int len = s.length(u), d = m.dim();
            long seed = 12345;
            Hstu.Encoded enc = m.encode(t, new int[] {u}, seed); // a recording tape: training, dropout on
            // the masks Hstu.encode draws: the input's from the seed, block l's from seed * golden + l + 1
            Tensor in = Norm.dropout(t, ones(len, d), 0.3f, seed).value();
            Tensor[] block = new Tensor[m.blocks()];
            for (int l = 0; l < block.length; l++) block[l] = Norm.dropout(t, ones(len, 3 * 5), 0.6f, seed * 0x9E3779B97F4A7C15L + l + 1).value();
            double[] want = naiveState(m, s, u, in, block);
            float[] got = enc.states().value().toArray();
            for (int j = 0; j < d; j++) assertEquals(want[j], got[(len - 1) * d + j], 2e-5, "column " + j);
        }
    }

    private static kdrec.autograd.Var ones(int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        t.fill(1f);
        return kdrec.autograd.Var.constant(t);
    }

    @Test
    void blockAndInputDropoutAreSeparateRates() {
        int[] users = {0, 1, 2, 3, 4, 5};
        float[] eval;
        try (Hstu m = (Hstu) Models.create(hstu(Map.of("dropout", 0)), HstuTest.MARKOV); Tape t = new Tape()) {
            try (var ng = t.noGrad()) {
                eval = m.forward(t, users).users().value().toArray();
            }
            assertArrayEquals(eval, m.forward(t, users).users().value().toArray(), "no dropout at all: training forward = evaluation forward");
        }
        for (Map<String, Object> rates : java.util.List.<Map<String, Object>>of(Map.of("dropout", 0, "block_dropout", 0.5), Map.of("dropout", 0.5, "block_dropout", 0))) {
            try (Hstu m = (Hstu) Models.create(hstu(rates), HstuTest.MARKOV); Tape t = new Tape()) {
                assertEquals(((Number) rates.get("dropout")).floatValue(), m.dropout());
                assertEquals(((Number) rates.get("block_dropout")).floatValue(), m.blockDropout());
                float[] train = m.forward(t, users).users().value().toArray();
                assertFalse(java.util.Arrays.equals(eval, train), rates + ": that rate alone drops something");
            }
        }
    }

    @Test
    void checkpointsKeepWidthsAndRatesAndOlderOnesLoadWithTheDefaults() throws Exception {
        TrainConfig c = hstu(Map.of("attention_dim", 2, "linear_dim", 5, "block_dropout", 0.4, "max_output_len", 3, "rel_bias", false));
        Path f = dir.resolve("w.safetensors");
        try (Recommender m = Models.create(c, HstuTest.MARKOV); Tape t = new Tape()) {
            Checkpoints.modelOnly(m, HstuTest.MARKOV, c, 0).save(f);
            try (Recommender back = Checkpoints.load(f, HstuTest.MARKOV)) {
                assertEquals(m.describe(), back.describe());
                assertEquals("0.4", back.describe().get("block_dropout"));
                assertEquals(List.of("3", "false"), List.of(back.describe().get("max_output_len"), back.describe().get("rel_bias")));
                assertArrayEquals(m.inference(t).users().value().toArray(), back.inference(t).users().value().toArray());
            }
        }
        // a checkpoint written before the widths and the block rate were recorded: d / heads and the input rate
        TrainConfig old = hstu(Map.of());
        try (Recommender m = Models.create(old, HstuTest.MARKOV)) {
            Checkpoint full = Checkpoints.modelOnly(m, HstuTest.MARKOV, old, 0);
            Map<String, String> meta = new LinkedHashMap<>(full.metadata());
            for (String k : new String[] {"model.attention_dim", "model.linear_dim", "model.block_dropout", "model.max_output_len", "model.rel_bias"}) {
                assertTrue(meta.remove(k) != null, k);
            }
            new Checkpoint(full.tensors(), meta).save(f);
            try (Recommender back = Checkpoints.load(f, HstuTest.MARKOV)) {
                assertEquals(m.describe(), back.describe());
            }
            meta.put("model.rel_bias", "yes");
            new Checkpoint(full.tensors(), meta).save(f);
            var flag = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, HstuTest.MARKOV));
            assertTrue(flag.getMessage().contains("'model.rel_bias' must be true or false, got 'yes'"), flag.getMessage());
            meta.remove("model.rel_bias");
            meta.put("model.block_dropout", "1.5");
            new Checkpoint(full.tensors(), meta).save(f);
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(f, HstuTest.MARKOV));
            assertTrue(e.getMessage().contains("'model.block_dropout' must be a rate in [0, 1), got '1.5'"), e.getMessage());
        }
    }

    @Test
    void outputBiasStartsAtZeroOrAsTorchsLinear() {
        try (Hstu zero = (Hstu) Models.create(hstu(Map.of()), HstuTest.MARKOV);
             Hstu uniform = (Hstu) Models.create(hstu(Map.of("linear_dim", 9, "o_bias_init", "uniform")), HstuTest.MARKOV)) {
            for (float v : zero.params().get("b1.o_bias").value().toArray()) assertEquals(0f, v);
            double bound = 1 / Math.sqrt(3 * 9), max = 0; // fan_in = heads x linear_dim
            for (int l = 0; l < 2; l++) {
                for (float v : uniform.params().get("b" + l + ".o_bias").value().toArray()) {
                    assertTrue(Math.abs(v) <= bound, v + " outside +-" + bound);
                    max = Math.max(max, Math.abs(v));
                }
            }
            assertTrue(max > bound / 2, "drawn over the whole range: " + max);
            double woBound = Math.sqrt(6.0 / (3 * 9 + 12)), woMax = 0; // W_o [heads x linear_dim, d]: torch's xavier_uniform_
            for (float v : uniform.params().get("b0.o").value().toArray()) woMax = Math.max(woMax, Math.abs(v));
            assertTrue(woMax <= woBound && woMax > 0.95 * woBound, woMax + " against " + woBound);
            assertFalse(java.util.Arrays.equals(uniform.params().get("b0.o_bias").value().toArray(), uniform.params().get("b1.o_bias").value().toArray()),
                    "each block its own draw");
        }
    }

    @Test
    void aRunMadeBeforeTheNewKeysResumesAsItRan() throws Exception {
        Map<String, Object> now = new LinkedHashMap<>(hstu(Map.of()).toMap());
        Map<String, Object> before = new LinkedHashMap<>(now);
        // HSTU's first runs had none of these (test_history came a little later)
        for (String k : new String[] {"attention_dim", "linear_dim", "max_output_len", "block_dropout", "rel_bias", "o_bias_init", "test_history",
                "negatives_per", "kd_encoding"}) {
            assertTrue(before.remove(k) != null, k);
        }
        Map<String, Object> comparison = new LinkedHashMap<>(Map.of("methods", List.of("scratch"), "student", before)); // a compare's top config nests it
        for (var c : List.of(before, comparison)) {
            Path run = dir.resolve("old" + c.size());
            Files.createDirectories(run);
            kdrec.train.RunConfig.writeConfig(run.resolve(kdrec.train.RunDir.CONFIG_FILE), c);
            Map<String, Object> wanted = c == before ? now : new LinkedHashMap<>(Map.of("methods", List.of("scratch"), "student", now));
            assertEquals(null, kdrec.train.RunConfig.differences(run.resolve(kdrec.train.RunDir.CONFIG_FILE), wanted),
                    "a comparison's check of its runs agrees"); // what compare --resume asks of each run
            try (kdrec.train.RunDir r = kdrec.train.RunDir.open(dir, run.getFileName().toString(), wanted, false, null)) {
                assertTrue(r.resumed(), "resumes with the values it ran with");
            }
        }
        Map<String, Object> other = new LinkedHashMap<>(now);
        other.put("attention_dim", 16);
        var e = assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> kdrec.train.RunDir.open(dir, "old" + before.size(), other, false, null));
        assertTrue(e.getMessage().contains("attention_dim: auto -> 16"), e.getMessage());
        Map<String, Object> mf = new LinkedHashMap<>(TrainConfig.defaults().toMap());
        assertEquals(mf, TrainConfig.withKeysAddedLater(mf), "nothing is added to an mf run");
    }

    @Test
    void shapeBoundsAreCheckedAtTheirEdges() {
        HstuShape least = new HstuShape(1, 1, 1, 1, 1, 1, 0, 0f, 0f, false, false); // every bound at its smallest
        assertEquals(1, least.dim());
        Object[][] bad = {
            {new int[] {0, 1, 1, 1, 1, 1, 0}, "dim must be positive"},
            {new int[] {1, 0, 1, 1, 1, 1, 0}, "blocks must be >= 1"},
            {new int[] {1, 1, 0, 1, 1, 1, 0}, "heads must be >= 1"},
            {new int[] {1, 1, 1, 0, 1, 1, 0}, "attention_dim and linear_dim must be >= 1"},
            {new int[] {1, 1, 1, 1, 0, 1, 0}, "attention_dim and linear_dim must be >= 1"},
            {new int[] {1, 1, 1, 1, 1, 0, 0}, "max_len must be >= 1"},
            {new int[] {1, 1, 1, 1, 1, 1, -1}, "max_output_len must be >= 0"},
            {new int[] {1, 1, 1, 1, 1, 1 << 20, 1}, "max_output_len must keep max_len + max_output_len <= 1048576"},
            {new int[] {1, 1, 1, 1, 1, Integer.MAX_VALUE, Integer.MAX_VALUE}, "max_len must be <= 1048576"},
        };
        for (Object[] b : bad) {
            int[] v = (int[]) b[0];
            var e = assertThrows(IllegalArgumentException.class, () -> new HstuShape(v[0], v[1], v[2], v[3], v[4], v[5], v[6], 0f, 0f, true, false));
            assertTrue(e.getMessage().contains((String) b[1]), e.getMessage());
        }
        for (float[] rates : new float[][] {{1f, 0f}, {0f, 1f}, {-0.1f, 0f}, {Float.NaN, 0f}, {0f, -0.1f}, {0f, Float.NaN}}) {
            assertThrows(IllegalArgumentException.class, () -> new HstuShape(4, 1, 1, 4, 4, 8, 0, rates[0], rates[1], true, false), java.util.Arrays.toString(rates));
        }
        assertEquals(new HstuShape(6, 2, 3, 2, 2, 5, 0, 0.1f, 0.1f, true, false), HstuShape.of(6, 2, 3, 5, 0.1f));
        assertThrows(IllegalArgumentException.class, () -> HstuShape.of(6, 2, 4, 5, 0.1f), "4 heads do not divide 6");
    }
}

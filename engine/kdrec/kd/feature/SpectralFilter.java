package kdrec.kd.feature;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import kdrec.tensor.Backend;
import kdrec.tensor.Backends;
import kdrec.tensor.Tensor;

/**
 * A graph filter h(L), L = I - Â with spectrum in [0, 2], as a Chebyshev series in x = λ - 1:
 * {@code h(λ) ≈ Σ_q c_q T_q(λ - 1)}, applied as {@code Σ_q c_q T_q(-Â) X} (spectral-filters.md).
 * FreqD's loss then weighs the k-th frequency component of the residual by h(λ_k)².
 *
 * <p>Coefficients come from samples of h at the Chebyshev-Lobatto points x_j = cos(πj/n),
 * j = 0..n, through one DCT-I on the project's FFT kernel ({@link Backend#dct1}):
 * {@code c_k = y_k / n}, with c_0 and c_n halved; the series is then cut at degree p. For a
 * polynomial of degree ≤ p the cut series is the polynomial itself (up to float rounding).
 *
 * <p>Named filters (spec strings): {@code linear:α} h = 1 - αλ (the authors', α = 0.5);
 * {@code quadratic:α} h = (1 - αλ)²; {@code lowpass:λc,p} the ideal step 1[λ < λc] expanded to
 * degree p with Jackson damping (a smooth step of width ~π/p without Gibbs ripples);
 * {@code exp:γ,p} h = exp(-γλ/2) (heat kernel); {@code cheb:c0,c1,...} raw coefficients.
 */
public record SpectralFilter(String spec, float[] coeffs) {
    /** Samples used for smooth non-polynomial filters; the ideal step of lowpass needs many more. */
    static final int SMOOTH_SAMPLES = 64, STEP_SAMPLES = 4096;

    public SpectralFilter {
        if (coeffs.length == 0) throw new IllegalArgumentException("filter '" + spec + "': no coefficients");
    }

    /** The polynomial degree p (number of sparse propagations per application). */
    public int degree() {
        return coeffs.length - 1;
    }

    /** h(λ) as the series evaluates it (Clenshaw in double), for tests and reports. */
    public double response(double lambda) {
        double x = lambda - 1, b1 = 0, b2 = 0;
        for (int q = coeffs.length - 1; q >= 1; q--) {
            double b = 2 * x * b1 - b2 + coeffs[q];
            b2 = b1;
            b1 = b;
        }
        return x * b1 - b2 + coeffs[0];
    }

    /** Parses a filter spec string; errors name the accepted forms. */
    public static SpectralFilter parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        double[] a = colon < 0 ? new double[0] : numbers(spec, s.substring(colon + 1));
        switch (name) {
            case "linear" -> {
                double alpha = one(spec, a, 0.5);
                checkAlpha(spec, alpha);
                return new SpectralFilter(s, fit(l -> 1 - alpha * l, 1, 1));
            }
            case "quadratic" -> {
                double alpha = one(spec, a, 0.5);
                checkAlpha(spec, alpha);
                return new SpectralFilter(s, fit(l -> (1 - alpha * l) * (1 - alpha * l), 2, 2));
            }
            case "lowpass" -> {
                if (a.length != 2) throw bad(spec, "lowpass takes λc,p (cut-off in (0, 2) and degree)");
                double cut = a[0];
                int p = degree(spec, a[1]);
                if (!(cut > 0 && cut < 2)) throw bad(spec, "the cut-off λc must be in (0, 2)");
                float[] c = fit(l -> l < cut ? 1 : l == cut ? 0.5 : 0, p, STEP_SAMPLES);
                for (int k = 0; k <= p; k++) c[k] *= (float) jackson(k, p);
                return new SpectralFilter(s, c);
            }
            case "exp" -> {
                if (a.length != 2) throw bad(spec, "exp takes γ,p (rate and degree)");
                double gamma = a[0];
                if (!(gamma >= 0)) throw bad(spec, "γ must be >= 0");
                int p = degree(spec, a[1]);
                return new SpectralFilter(s, fit(l -> Math.exp(-gamma * l / 2), p, Math.max(SMOOTH_SAMPLES, 2 * p)));
            }
            case "cheb" -> {
                if (a.length == 0) throw bad(spec, "cheb takes its coefficients c0,c1,...");
                float[] c = new float[a.length];
                for (int i = 0; i < a.length; i++) c[i] = (float) a[i];
                return new SpectralFilter(s, c);
            }
            default -> throw bad(spec, "unknown filter '" + name + "'");
        }
    }

    /**
     * Chebyshev coefficients c_0..c_p of h(x + 1) on [-1, 1] from its values at the n + 1
     * Chebyshev-Lobatto points, through one DCT-I (n >= p; exact for polynomials of degree <= n).
     */
    public static float[] fit(DoubleUnaryOperator h, int p, int n) {
        if (p < 0 || n < Math.max(p, 1)) throw new IllegalArgumentException("chebyshev fit: need n >= max(p, 1), got p = " + p + ", n = " + n);
        float[] f = new float[n + 1];
        for (int j = 0; j <= n; j++) f[j] = (float) h.applyAsDouble(Math.cos(Math.PI * j / n) + 1);
        Backend be = Backends.get();
        Tensor x = Tensor.of(f, n + 1), y = Tensor.zeros(n + 1);
        be.dct1(1, n, x.data(), 0, n + 1, y.data(), 0, n + 1);
        float[] c = new float[p + 1];
        for (int k = 0; k <= p; k++) c[k] = (float) (y.get(k) / n / (k == 0 || k == n ? 2 : 1));
        return c;
    }

    /** Jackson damping factor g_k of a degree-p Chebyshev expansion (kernel polynomial method). */
    static double jackson(int k, int p) {
        double a = Math.PI / (p + 2);
        return ((p - k + 2) * Math.cos(k * a) + Math.sin(k * a) / Math.tan(a)) / (p + 2);
    }

    private static void checkAlpha(String spec, double alpha) {
        if (!(alpha > 0 && alpha <= 1)) throw bad(spec, "α must be in (0, 1]");
        if (alpha > 0.5) {
            kdrec.tensor.Diagnostics.notice("filter " + spec + ": with α > 0.5 h(λ) = 1 - αλ changes sign at λ = 1/α < 2, "
                    + "so the highest frequencies get weight again (freqd.md §2.5)");
        }
    }

    private static double one(String spec, double[] a, double dflt) {
        if (a.length == 0) return dflt;
        if (a.length != 1) throw bad(spec, "expected one number");
        return a[0];
    }

    private static int degree(String spec, double p) {
        if (p != Math.rint(p) || p < 1 || p > 64) throw bad(spec, "the degree p must be an integer in [1, 64]");
        return (int) p;
    }

    private static double[] numbers(String spec, String list) {
        String[] parts = list.split(",");
        double[] out = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].trim());
                if (!Double.isFinite(out[i])) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw bad(spec, "'" + parts[i].trim() + "' is not a finite number");
            }
        }
        return out;
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("freqd.filter '" + spec + "': " + why
                + "; accepted: linear:α, quadratic:α, lowpass:λc,p, exp:γ,p, cheb:c0,c1,...");
    }

    @Override
    public String toString() {
        return spec + " " + Arrays.toString(coeffs);
    }
}

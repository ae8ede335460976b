#!/usr/bin/env python3
"""PyTorch CUDA on the shapes jmh/kdrec/bench/GpuBench.java times (bench/gpu_bench.sh runs both).

fp32 with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False, cudnn too), so the comparison is
with the SIMT fp32 path kdrec's kernels use. GEMM NN/NT/TN via torch.matmul on (transposed views of)
row-major operands; "topk" is torch.topk(torch.matmul(U, I.T), k), the unfused reference for kdrec's
fused score->top-K. Each case: warm-up, then median of reps timed with torch.cuda.synchronize() around
each rep. Output lines match GpuBench's with the prefix "torch".
Usage: bench/torch_gpu.py [reps] [warmup]. Exits 0 with one line when torch or CUDA is missing.
"""
import statistics
import sys
import time

# m x n x k; the last four are kdrec's training backward shapes dU = G . I and dI = G^T . U
GEMM_SHAPES = [(4096, 4096, 4096), (1024, 4000, 64), (2048, 41000, 64),
               (1024, 64, 4000), (4000, 64, 1024), (2048, 64, 41000), (41000, 64, 2048)]
TOPK_SHAPES = [(2048, 41000, 64), (30000, 41000, 20), (30000, 41000, 300)]  # 30000x41000x20: RCE-KD's per-epoch student top-M
K = 100


def median_ms(torch, op, reps, warmup):
    for _ in range(warmup):
        op()
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        op()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    try:
        import torch
    except ImportError:
        print("torch gpu_bench: PyTorch is not installed; no torch timings")
        return 0
    if not torch.cuda.is_available():
        print("torch gpu_bench: torch.cuda.is_available() is False; no torch timings")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    print(f"torch device {torch.cuda.get_device_name(0)} torch {torch.__version__} cuda {torch.version.cuda}")
    g = torch.Generator(device=dev).manual_seed(1)

    def rand(*shape):
        return torch.rand(*shape, device=dev, generator=g) * 2 - 1

    for m, n, k in GEMM_SHAPES:
        for lay in ("NN", "NT", "TN"):
            a = rand(m, k) if lay != "TN" else rand(k, m)
            b = rand(k, n) if lay != "NT" else rand(n, k)
            c = torch.empty(m, n, device=dev)
            if lay == "NN":
                op = lambda: torch.matmul(a, b, out=c)
            elif lay == "NT":
                op = lambda: torch.matmul(a, b.t(), out=c)
            else:
                op = lambda: torch.matmul(a.t(), b, out=c)
            ms = median_ms(torch, op, reps, warmup)
            print(f"torch gemm {lay} {m}x{n}x{k} median_ms={ms:.4f} gflops={2.0 * m * n * k / (ms * 1e6):.1f}")
            del a, b, c
    for m, n, d in TOPK_SHAPES:
        u, it = rand(m, d), rand(n, d)
        ms = median_ms(torch, lambda: torch.topk(torch.matmul(u, it.t()), K), reps, warmup)
        print(f"torch topk {m}x{n}x{d} k={K} median_ms={ms:.4f}")
        del u, it
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())

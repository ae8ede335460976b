package kdrec.gpu;

/**
 * A CUDA driver call failed. The message names what was being done (the kernel or the memory
 * operation) and the driver's error name and string, e.g.
 * {@code "kernel kdrec_gemm_nt: CUDA_ERROR_INVALID_VALUE (invalid argument)"}.
 */
public final class CudaException extends RuntimeException {
    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.code = -1;
    }

    /** The CUresult code, or -1 when the failure did not come from a driver call. */
    public int code() {
        return code;
    }
}

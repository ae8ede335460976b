// Negatives drawn per position for HSTU's sampled softmax (negatives_per=position, the RCE-KD code's sampler),
// the device twin of kdrec.loss.SequenceLoss#negative and of kdrec.autograd.SampledCe#perRow's dropping of a
// row's own target. Drawing the ids here keeps the host from hashing and uploading rows x R ids every step.
#include "common.cuh"

// r negatives per row for rows [rowBase, rowBase + rows): idx[e] = the id of entry (rowBase + e / r) * r + e % r,
// uniform over [0, items) by a SplitMix64 finaliser of (seed, entry) reduced by a multiply-shift: the host's
// arithmetic bit for bit (unsigned 64-bit here, two's-complement longs there). Grid-stride, a thread per entry.
extern "C" __global__ void kdrec_sequence_negatives_draw(int rows, int r, long long seed, int rowBase, int items, int* idx) {
  const long long n = (long long)rows * r;
  const unsigned long long base = ((unsigned long long)seed ^ 0x3C6EF372FE94F82BULL);
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    const unsigned long long entry = (unsigned long long)rowBase * (unsigned long long)r + (unsigned long long)e;
    unsigned long long z = base + entry * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    idx[e] = (int)(((z >> 32) * (unsigned long long)items) >> 32);
  }
}

// logits[e] *= scale, except an entry whose id equals its row's positive (target[e / r]): -inf, so it adds an
// exact 0 to the row's sampled-softmax sum and gets a 0 gradient (the host drops it; the code masks it to -5e4).
extern "C" __global__ void kdrec_sequence_negatives_mask(int rows, int r, float scale, const int* idx, const int* target,
                                                         float* logits) {
  const long long n = (long long)rows * r;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (long long)gridDim.x * blockDim.x) {
    logits[e] = idx[e] == target[e / r] ? -INFINITY : logits[e] * scale;
  }
}

"""This machine's peak floating-point rate, measured: chains of independent FMAs.

A core's peak is (FMA units) x (vector lanes) x 2 flops per cycle, and a kernel
reaches it only with enough independent fused multiply-adds in flight to hide the
FMA latency: latency x units vectors (4 cycles x 2 units = 8 on recent x86 cores).
fma_chains updates PEAK_VECTORS = 12 vectors of accumulators, acc := acc * x + y,
n_steps times: no loads, no stores, no dependences between accumulators, so each
step is 12 vector FMAs, which is all a core can issue.  2 * PEAK_VECTORS *
VECTOR_BYTES / sizeof(real) * n_steps flops.

It is written as the GEMM micro-kernel is (gemm.pxd, _blocking.pxd): a local array
whose innermost loop has a compile-time trip count of at least 24 elements, so GCC
vectorises that loop and keeps the whole array in registers across the step loop
(12 zmm of 32 with AVX-512; 12 ymm of 16 with AVX2).  x just below 1 keeps every
accumulator bounded (it tends to y / (1 - x)) and away from subnormals, which
would slow some cores down.  The result is the sum of the accumulators, so the
compiler cannot drop the work.

Used by `python -m fastla bench` (fastla/_bench/machine.py) for "% of peak": one
core's rate, times the thread count.
"""

from _types cimport real

cdef extern from *:
    """
    /* Bytes in one SIMD register the kernels are compiled for (-march). */
    #if defined(__AVX512F__)
    #define FASTLA_VECTOR_BYTES 64
    #elif defined(__AVX__)
    #define FASTLA_VECTOR_BYTES 32
    #else
    #define FASTLA_VECTOR_BYTES 16
    #endif
    """
    const int VECTOR_BYTES "FASTLA_VECTOR_BYTES"

cdef enum:
    PEAK_VECTORS = 12                   # independent vector accumulators
    PEAK_MAX = PEAK_VECTORS * 64 // 4   # array size for the widest vectors of floats


cdef inline real fma_chains(Py_ssize_t n_steps, real x, real y) noexcept nogil:
    """sum_j acc_j after n_steps of acc_j := acc_j * x + y, acc_j = j initially."""
    cdef real acc[PEAK_MAX]
    cdef Py_ssize_t i, j
    cdef real total = 0
    for j in range(PEAK_VECTORS * VECTOR_BYTES // sizeof(real)):
        acc[j] = j
    for i in range(n_steps):
        for j in range(PEAK_VECTORS * VECTOR_BYTES // sizeof(real)):
            acc[j] = acc[j] * x + y
    for j in range(PEAK_VECTORS * VECTOR_BYTES // sizeof(real)):
        total += acc[j]
    return total

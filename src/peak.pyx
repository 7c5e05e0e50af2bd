"""Driver for the peak-rate kernel of peak.pxd: the FMA chains on n threads at once.

`python -m fastla bench` times fma_run (fastla/_bench/machine.py) and divides the
flops it reports by the elapsed time: this machine's peak for a dtype and thread
count, the denominator of "% of peak".
"""

cimport numpy as cnp
from cython.parallel cimport prange

from _types cimport real
from peak cimport PEAK_VECTORS, VECTOR_BYTES, fma_chains

cnp.import_array()

KERNELS = {
    "peak": {
        "computes": "acc := acc * x + y on independent vector accumulators",
        "algorithm": f"{PEAK_VECTORS} chains of {VECTOR_BYTES}-byte vector FMAs per step",
        "citation": "Hennessy & Patterson, Computer Architecture, 6th ed., §4.10 "
                    "(the roofline model's peak)",
        "flops": "2 * lanes * PEAK_VECTORS * n_steps per thread",
    },
}


cdef double _run(real x, Py_ssize_t n_steps, int n_threads, real* out) noexcept nogil:
    cdef int t
    if n_threads == 1:
        out[0] = fma_chains(n_steps, x, <real>1e-3)
    else:
        for t in prange(n_threads, num_threads=n_threads, schedule='static'):
            out[t] = fma_chains(n_steps, x, <real>1e-3)
    return 2.0 * PEAK_VECTORS * VECTOR_BYTES / sizeof(real) * n_steps * n_threads


def fma_run(dtype, Py_ssize_t n_steps, int n_threads):
    """Run fma_chains for n_steps on each of n_threads threads (OpenMP; one after the
    other without it); return the flops done.  dtype: 'float64' or 'float32'."""
    cdef cnp.ndarray out
    cdef double flops
    if n_steps < 0 or n_threads < 1:
        raise ValueError(f"fma_run: n_steps >= 0 and n_threads >= 1, got {n_steps}, {n_threads}")
    if dtype == "float64":
        out = cnp.PyArray_ZEROS(1, [n_threads], cnp.NPY_FLOAT64, 0)
        with nogil:
            flops = _run[double](1.0 - 2.0**-20, n_steps, n_threads, <double*>cnp.PyArray_DATA(out))
    elif dtype == "float32":
        out = cnp.PyArray_ZEROS(1, [n_threads], cnp.NPY_FLOAT32, 0)
        with nogil:
            flops = _run[float](1.0 - 2.0**-12, n_steps, n_threads, <float*>cnp.PyArray_DATA(out))
    else:
        raise TypeError(f"fma_run: dtype must be 'float64' or 'float32', got {dtype!r}")
    return flops


def vector_bytes():
    """Bytes in one SIMD register the kernels were compiled for (16, 32 or 64)."""
    return VECTOR_BYTES

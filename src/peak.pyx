"""Driver for the peak-rate kernel of peak.pxd.

`python -m fastla bench` times fma_run in CPU time (fastla/_bench/machine.py) and
divides the flops it reports by that time: one core's peak for a dtype, which times
the thread count is the denominator of "% of peak".
"""

from _types cimport real
from peak cimport PEAK_VECTORS, VECTOR_BYTES, fma_chains

KERNELS = {
    "peak": {
        "computes": "acc := acc * x + y on independent vector accumulators",
        "algorithm": f"{PEAK_VECTORS} chains of {VECTOR_BYTES}-byte vector FMAs per step",
        "citation": "Williams, Waterman & Patterson, Roofline, CACM 52(4), 2009 "
                    "(the peak of the roofline model)",
        "flops": "2 * (VECTOR_BYTES / itemsize) * PEAK_VECTORS * n_steps",
    },
}


cdef double _run(real x, Py_ssize_t n_steps) noexcept nogil:
    """fma_chains for n_steps; returns the flops done.  The chains' sum is kept in a
    volatile so the compiler cannot drop the work."""
    cdef volatile real sink = fma_chains(n_steps, x, <real>1e-3)
    return 2.0 * PEAK_VECTORS * VECTOR_BYTES / sizeof(real) * n_steps


def fma_run(dtype, Py_ssize_t n_steps):
    """Run fma_chains for n_steps on this thread; return the flops done.
    dtype: 'float64' or 'float32'."""
    cdef double flops
    if n_steps < 0:
        raise ValueError(f"fma_run: n_steps must be >= 0, got {n_steps}")
    if dtype == "float64":
        with nogil:
            flops = _run[double](1.0 - 2.0**-20, n_steps)
    elif dtype == "float32":
        with nogil:
            flops = _run[float](1.0 - 2.0**-12, n_steps)
    else:
        raise TypeError(f"fma_run: dtype must be 'float64' or 'float32', got {dtype!r}")
    return flops


def vector_bytes():
    """Bytes in one SIMD register the kernels were compiled for (16, 32 or 64)."""
    return VECTOR_BYTES

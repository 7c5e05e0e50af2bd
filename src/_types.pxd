"""The one place fastla declares dtype genericity and kernel status codes.

Every kernel is written once against the fused type ``real`` and compiled for
float32 and float64; the driver picks the specialisation once per call.

Status codes follow LAPACK's ``info``: 0 is success, k > 0 is the (1-based) step at
which the algorithm failed (a zero pivot, a non-positive pivot, no convergence), and
negative values are fastla's own conditions, turned into Python exceptions only after
the kernel has returned and the GIL is held again.
"""

ctypedef fused real:
    float
    double

cdef enum:
    INFO_OK = 0
    INFO_NO_MEMORY = -1     # workspace allocation failed -> MemoryError

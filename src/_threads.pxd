"""How many threads a kernel may use: OpenMP's current limit.

omp_get_max_threads() honours OMP_NUM_THREADS and threadpoolctl (which sets the
limit of the OpenMP runtime this module links), so every driver asks here instead
of taking a thread count from Python.  Builds without OpenMP run on one thread.
"""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fastla_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int fastla_max_threads(void) { return 1; }
    #endif
    """
    int max_threads "fastla_max_threads"() noexcept nogil

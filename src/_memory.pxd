"""Aligned workspace for packed panels.

Packed GEMM panels are read with full-width vector loads; 64-byte alignment (one
cache line, one zmm register) keeps every load within a line. Workspace is always
per call or per thread, never a module global, so concurrent calls are safe.
"""

from libc.stdlib cimport free
from libc.string cimport memset

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** memptr, size_t alignment, size_t size)

cdef enum:
    ALIGNMENT = 64


cdef inline void* aligned_alloc64(size_t nbytes) noexcept nogil:
    """64-byte aligned block of nbytes (at least one line), or NULL on failure."""
    cdef void* p = NULL
    if nbytes == 0:
        nbytes = ALIGNMENT
    if posix_memalign(&p, ALIGNMENT, nbytes) != 0:
        return NULL
    return p


cdef inline void aligned_free(void* p) noexcept nogil:
    free(p)

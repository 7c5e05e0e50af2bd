"""Aligned workspace for packed panels, and streaming stores for large results.

Packed GEMM panels are read with full-width vector loads; 64-byte alignment (one
cache line, one zmm register) keeps every load within a line. Workspace is always
per call or per thread, never a module global, so concurrent calls are safe.
The stack kernels write results larger than the caches with streaming stores
(stream_copy, below).
"""

from libc.stdlib cimport free
from libc.string cimport memset

from _types cimport real

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


cdef extern from "sys/mman.h" nogil:
    int madvise(void* addr, size_t length, int advice)
    int MADV_HUGEPAGE

cdef enum:
    HUGE_ADVICE_MIN = 1 << 22       # 4 MiB, numpy's threshold for the same advice


cdef inline void advise_huge_pages(void* p, size_t nbytes) noexcept nogil:
    """Ask for transparent huge pages on a large fresh block that is written once
    (Linux; the advice is a hint, ignored elsewhere or when refused): with the
    kernel's default 'madvise' mode, each 4 KiB page of a fresh 40 MB block costs a
    fault (a tenth of a 100000 x 50 thin SVD's time), each 2 MiB page one.  numpy
    gives its own large arrays the same advice."""
    cdef size_t page = 4096, start, end
    if nbytes < HUGE_ADVICE_MIN:
        return
    start = (<size_t>p + page - 1) & ~(page - 1)
    end = (<size_t>p + nbytes) & ~(page - 1)
    madvise(<void*>start, end - start, MADV_HUGEPAGE)


# Non-temporal (streaming) stores for results too large for the caches.  A normal
# store to a line that is not cached first reads the line (read-for-ownership); the
# stack kernels write each group of results in one burst after computing on
# registers, and those bursts of misses stalled them: 100000 x 8 x 8 Cholesky
# factors from memory took 115 ns per matrix against 39 ns without the writes, 76 ns
# with streaming stores (one thread, float64).  SSE2 (every x86-64) streams 16-byte
# pieces, which the write-combining buffers merge into whole lines since each
# destination is written in address order; elsewhere this is a plain copy.  Streamed
# lines bypass the cache, so it only pays when the whole result exceeds it
# (STREAM_MIN_BYTES).  Into a fresh output (the page the kernel just zeroed is
# partly cached) the gain shrinks to ~5 % for the Cholesky stacks, and the LU inverse
# and QR stacks, which already write each matrix as one contiguous run, were 3-15 %
# slower with it: they keep plain stores.  The stores are weakly ordered:
# store_fence() once the kernel is done (before other threads or Python read it).
cdef extern from *:
    """
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline void fastla_stream_d(double* d, const double* s, ptrdiff_t n) {
        ptrdiff_t i = 0;
        if (((size_t)d & 15) != 0 && n > 0) { d[0] = s[0]; i = 1; }
        if (((size_t)(d + i) & 15) == 0)
            for (; i + 2 <= n; i += 2) _mm_stream_pd(d + i, _mm_loadu_pd(s + i));
        for (; i < n; i++) d[i] = s[i];
    }
    static inline void fastla_stream_f(float* d, const float* s, ptrdiff_t n) {
        ptrdiff_t i = 0;
        for (; i < n && ((size_t)(d + i) & 15) != 0; i++) d[i] = s[i];
        if (((size_t)(d + i) & 15) == 0)
            for (; i + 4 <= n; i += 4) _mm_stream_ps(d + i, _mm_loadu_ps(s + i));
        for (; i < n; i++) d[i] = s[i];
    }
    static inline void fastla_store_fence(void) { _mm_sfence(); }
    #else
    static inline void fastla_stream_d(double* d, const double* s, ptrdiff_t n) {
        memcpy(d, s, (size_t)n * sizeof(double));
    }
    static inline void fastla_stream_f(float* d, const float* s, ptrdiff_t n) {
        memcpy(d, s, (size_t)n * sizeof(float));
    }
    static inline void fastla_store_fence(void) {}
    #endif
    """
    void _stream_d "fastla_stream_d"(double* d, const double* s, Py_ssize_t n) noexcept nogil
    void _stream_f "fastla_stream_f"(float* d, const float* s, Py_ssize_t n) noexcept nogil
    void store_fence "fastla_store_fence"() noexcept nogil

cdef enum:
    # Results of at least this many bytes are written with streaming stores: half
    # of a 32 MiB L3 (DESIGN.md §3), so a result that could stay cached for the
    # caller's next step is never forced out to memory.
    STREAM_MIN_BYTES = 16 * 1024 * 1024


cdef inline void stream_copy(real* d, const real* s, Py_ssize_t n) noexcept nogil:
    """d[:n] := s[:n] with streaming stores (d need not be aligned)."""
    if real is double:
        _stream_d(d, s, n)
    else:
        _stream_f(d, s, n)


cdef extern from *:
    """
    #define fastla_prefetch_read(p) __builtin_prefetch((p), 0, 3)
    """
    void prefetch_read "fastla_prefetch_read"(const void* p) noexcept nogil


cdef inline void prefetch_run(const void* p, Py_ssize_t nbytes) noexcept nogil:
    """Ask for the lines of the nbytes at p (a hint; no fault)."""
    cdef Py_ssize_t e
    for e in range(0, nbytes, 64):
        prefetch_read(<const char*>p + e)


cdef enum:
    # The start of the next row or column that a triangular solve's one-at-a-time
    # dot products or axpys read (triangular.pxd, _fetch_next), fetched ahead: each is
    # its own short stream, which the hardware prefetcher picks up only after its
    # first lines (measured on lu.pxd's row-oriented substitution, since replaced by
    # four rows per pass: lu_solve n = 2048, one right-hand side, one thread, ms: none
    # 2.24, 512 bytes 2.15, 1024 1.96, 2048-4096 no better; scipy 1.95).
    ROW_AHEAD_BYTES = 1024

"""Drivers for the Cholesky kernels of cholesky.pxd: batched factor and solve, and the
single-call path for one small matrix.

The Python layer (fastla/linalg/_cholesky.py) validates, promotes and broadcasts; the
factor driver reads the caller's stack with whatever element strides it has and writes
a new C-contiguous stack (or works in place on a converted copy), so a stack of small
matrices costs one read and one write pass; potrs reads the factor in place too.
Each driver picks the fused specialisation once and loops over the batch without the
GIL: stacks of k x k with k <= 8 or k = 16 run the lane kernels (LANES matrices
interleaved, one vector per element); large matrices run one at a time on the
threaded potrf; the rest run whole matrices per thread (OpenMP over the batch) when
the total work pays.  A slice whose factorization fails is filled with NaN, as
numpy's gufunc does.
"""

cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free
from libc.math cimport NAN

from _types cimport real, INFO_NO_MEMORY
from _blocking cimport CHOL_NB, SYRK_NB, CHOL_SMALL_CALL, PARALLEL_MIN_MNK, WIDEN_ITEM_BYTES
from _threads cimport max_threads
from gemm cimport K2, K3, K4, K5, K6, K7, K8, K16, imin, imax
from lu cimport LANES, lanes_store
from _memory cimport STREAM_MIN_BYTES, stream_copy, store_fence
from cholesky cimport (potrf, potrs, zero_strict_upper, potf2_lanes, lanes_transpose,
                       lanes_zero_strict_upper, lanes_scatter,
                       gather_ahead, GATHER_RUN)

cnp.import_array()

KERNELS = {
    "potrf": {
        "computes": "A = L L^T (lower) or A = U^T U (upper), A symmetric positive definite",
        "algorithm": "recursive Cholesky (potrf2 style): trsm and a lower-triangle syrk on "
                     f"the GEMM; unblocked potf2 on blocks of <= {CHOL_NB} columns; syrk "
                     f"diagonal blocks of <= {SYRK_NB} rows as GEMM tiles; stacks of k <= 8, "
                     "16 in interleaved lanes",
        "citation": "Gustavson, IBM J. Res. Dev. 41(6), 1997; "
                    "Golub & Van Loan, Matrix Computations, 4th ed., §4.2",
        "flops": "n**3/3 + n**2/2 + n/6",
    },
    "potrs": {
        "computes": "X = A^-1 B from A = L L^T or U^T U",
        "algorithm": "two triangular solves (trsm)",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §4.2",
        "flops": "2*n**2*nrhs",
    },
}

# General size: the tag for "k is a run-time value" beside gemm.pxd's literal sizes.
cdef struct KN:
    char unused

ctypedef fused chol_size:
    K2
    K3
    K4
    K5
    K6
    K7
    K8
    K16
    KN


cdef inline void _fill_nan(Py_ssize_t count, real* x) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(count):
        x[i] = NAN


cdef enum:
    # Matrices per OpenMP work item (a multiple of LANES), taken dynamically: a thread
    # slowed by a shared core then holds up one item, not half the batch (lu.pyx).
    CHOL_CHUNK = 64 * LANES


cdef void _factor_chunk(chol_size* size, bint upper, bint clean, bint stream, Py_ssize_t n,
                        const real* src, Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs,
                        real* a, int* info, Py_ssize_t first, Py_ssize_t last,
                        int n_threads) noexcept nogil:
    """Matrices first..last-1 of the batch, on one thread (n_threads goes to potrf).

    # IN  src: (N, n, n), element strides (sb, rs, cs), the lower (upper) triangle read
    # OUT a: (N, n, n) row-major (may be src itself): the factor in that triangle, the
    #     other one zeroed (clean) or a copy of src's; failed slices all NaN; info (N,)
    Reading src once and writing a once is the whole memory traffic: stacks of small
    matrices are bound by it, not by the flops.  stream: full groups are written with
    streaming stores (_memory.pxd), through a row-major copy in tmp.
    A stack of consecutive row-major matrices is gathered by gather_ahead (for k = 7, 8
    through a sequential copy: see there).
    """
    cdef Py_ssize_t g, t, l, count, i, j, k = n, r0 = -1
    cdef bint rows = sb == k * k and rs == k and cs == 1
    cdef const real* st
    cdef real* at
    cdef real x[16 * 16 * LANES]
    cdef real tmp[16 * 16 * LANES]
    cdef real run[GATHER_RUN]
    cdef int linfo[LANES]
    if chol_size is not KN:
        for g in range((last - first + LANES - 1) // LANES):
            t = first + g * LANES
            count = imin(LANES, last - t)
            if count == LANES and rows:
                gather_ahead(size, src, t, last, &r0, run, x)
            else:
                for l in range(LANES):
                    st = src + (t + l) * sb
                    for i in range(k):
                        for j in range(k):
                            if l < count:
                                x[(i * k + j) * LANES + l] = st[i * rs + j * cs]
                            else:      # identity padding factors cleanly
                                x[(i * k + j) * LANES + l] = 1 if i == j else 0
            if upper:                  # A^T's lower triangle is A's upper one
                lanes_transpose(size, x)
            potf2_lanes(size, x, linfo)
            if clean:
                lanes_zero_strict_upper(size, x)
            if upper:
                lanes_transpose(size, x)
            at = a + t * n * n
            if count == LANES and stream:
                lanes_scatter(size, x, tmp)
                for l in range(LANES):
                    if linfo[l] > 0:
                        _fill_nan(n * n, tmp + l * n * n)
                stream_copy(at, tmp, LANES * n * n)
            elif count == LANES:
                lanes_scatter(size, x, at)
            else:
                lanes_store(count, n, n, x, at)
            for l in range(count):
                info[t + l] = linfo[l]
                if linfo[l] > 0 and not (count == LANES and stream):
                    _fill_nan(n * n, at + l * n * n)
        if stream:
            store_fence()
    else:
        for t in range(first, last):
            at = a + t * n * n
            st = src + t * sb
            if st != at or rs != n or cs != 1:
                for i in range(n):
                    for j in range(n):
                        at[i * n + j] = st[i * rs + j * cs]
            info[t] = potrf(n, at, 1 if upper else n, n if upper else 1, n_threads)
            if info[t] > 0:
                _fill_nan(n * n, at)
            elif info[t] == 0 and clean:
                zero_strict_upper(n, at, 1 if upper else n, n if upper else 1)


cdef void _run_factor(bint upper, bint clean, bint stream, Py_ssize_t n, const real* src,
                      Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs, real* a, int* info,
                      Py_ssize_t first, Py_ssize_t last, int n_threads) noexcept nogil:
    """_factor_chunk with the literal-size lane kernels for k <= 8 and 16; stream:
    the whole result is larger than the caches (_memory.pxd)."""
    if n == 2:
        _factor_chunk(<K2*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 3:
        _factor_chunk(<K3*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 4:
        _factor_chunk(<K4*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 5:
        _factor_chunk(<K5*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 6:
        _factor_chunk(<K6*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 7:
        _factor_chunk(<K7*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 8:
        _factor_chunk(<K8*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last, 1)
    elif n == 16:
        _factor_chunk(<K16*>NULL, upper, clean, stream, n, src, sb, rs, cs, a, info, first, last,
                      1)
    else:
        _factor_chunk(<KN*>NULL, upper, clean, False, n, src, sb, rs, cs, a, info, first, last,
                      n_threads)


cdef void _factor_batched(bint upper, bint clean, Py_ssize_t n_batch, Py_ssize_t n,
                          const real* src, Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs,
                          real* a, int* info, int n_threads) noexcept nogil:
    """The whole batch: large matrices one at a time on the threaded potrf; smaller
    ones whole matrices per thread, in work items of CHOL_CHUNK, when the work (~n^3/3
    multiply-adds plus a fixed cost of ~32 per matrix) pays for an OpenMP region."""
    cdef Py_ssize_t t, chunk, work = n * n * n // 3
    cdef bint stream = n_batch * n * n * sizeof(real) >= STREAM_MIN_BYTES
    if n_batch == 0:
        return
    if work >= PARALLEL_MIN_MNK or n_threads == 1 or n_batch * (work + 32) < PARALLEL_MIN_MNK:
        _run_factor(upper, clean, stream, n, src, sb, rs, cs, a, info, 0, n_batch, n_threads)
        return
    # items start on whole lane groups, so only the batch's last group is partial
    chunk = imin(CHOL_CHUNK, ((n_batch + n_threads - 1) // n_threads + LANES - 1)
                 // LANES * LANES)
    for t in prange((n_batch + chunk - 1) // chunk, num_threads=n_threads,
                    schedule='dynamic'):
        _run_factor(upper, clean, stream, n, src, sb, rs, cs, a, info, t * chunk,
                    min(t * chunk + chunk, n_batch), 1)


WIDEN_MAX_N = 16     # the widened path takes n <= this (whole matrices per work item)


cdef void _widened_item(bint upper, bint clean, Py_ssize_t n, const float* src,
                        Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs, float* out, int* info,
                        Py_ssize_t first, Py_ssize_t last, double* w) noexcept nogil:
    """Matrices first..last-1 of a float32 stack in float64: w := src's matrices
    (row-major), factored in place by the float64 kernels, rounded into out."""
    cdef Py_ssize_t count = last - first, nn = n * n, t, i, j
    cdef const float* st
    if sb == nn and rs == n and cs == 1:
        st = src + first * nn
        for i in range(count * nn):
            w[i] = st[i]
    else:
        for t in range(count):
            st = src + (first + t) * sb
            for i in range(n):
                for j in range(n):
                    w[t * nn + i * n + j] = st[i * rs + j * cs]
    _run_factor[double](upper, clean, False, n, w, nn, n, 1, w, info + first, 0, count, 1)
    for i in range(count * nn):
        out[first * nn + i] = <float>w[i]


cdef void _factor_widened(bint upper, bint clean, Py_ssize_t n_batch, Py_ssize_t n,
                          const float* src, Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs,
                          float* out, int* info, int n_threads) noexcept nogil:
    """The float32 stack src factored in float64 and rounded into out (numpy's rule),
    n <= WIDEN_MAX_N: work items of WIDEN_ITEM_BYTES of float64, each converted into
    its thread's buffer, factored there, and rounded out.  Against a float64 copy of
    the whole stack factored in place and rounded afterwards (new arrays of twice the
    float32 bytes, each written once from memory): 100000 x 8 x 8, one thread, 181 ->
    ~75 ns per matrix (numpy 413-600).  Status INFO_NO_MEMORY for every matrix if a
    buffer cannot be allocated."""
    cdef Py_ssize_t per = imax(LANES, WIDEN_ITEM_BYTES // (8 * n * n) // LANES * LANES)
    cdef Py_ssize_t items = (n_batch + per - 1) // per, t, i
    cdef double* w
    cdef int threads = 1 if n_batch * (n * n * n // 3 + 32) < PARALLEL_MIN_MNK else n_threads
    with parallel(num_threads=threads):
        w = <double*>malloc(per * n * n * sizeof(double))
        for t in prange(items, schedule='dynamic'):
            if w == NULL:
                for i in range(t * per, imin(t * per + per, n_batch)):
                    info[i] = INFO_NO_MEMORY
            else:
                _widened_item(upper, clean, n, src, sb, rs, cs, out, info, t * per,
                              imin(t * per + per, n_batch), w)
        free(w)


cdef void _solve_range(Py_ssize_t n, Py_ssize_t nrhs, const real* c, Py_ssize_t rsc,
                       Py_ssize_t csc, Py_ssize_t sbc, real* b, int* info, Py_ssize_t first,
                       Py_ssize_t last, int n_threads) noexcept nogil:
    cdef Py_ssize_t t
    for t in range(first, last):
        info[t] = potrs(n, nrhs, c + t * sbc, rsc, csc, b + t * n * nrhs, nrhs, 1, n_threads)


cdef void _solve_batched(Py_ssize_t n_batch, Py_ssize_t n, Py_ssize_t nrhs, const real* c,
                         Py_ssize_t rsc, Py_ssize_t csc, Py_ssize_t sbc, real* b, int* info,
                         int n_threads) noexcept nogil:
    """potrs on every slice; whole slices per thread when the work (2 n^2 nrhs) is
    small per slice but pays in total."""
    cdef Py_ssize_t t, chunk, work = 2 * n * n * nrhs
    if n_batch == 0:
        return
    if work >= PARALLEL_MIN_MNK or n_threads == 1 or n_batch * (work + 32) < PARALLEL_MIN_MNK:
        _solve_range(n, nrhs, c, rsc, csc, sbc, b, info, 0, n_batch, n_threads)
        return
    chunk = (n_batch + n_threads - 1) // n_threads
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        if t * chunk < n_batch:
            _solve_range(n, nrhs, c, rsc, csc, sbc, b, info, t * chunk,
                         min(t * chunk + chunk, n_batch), 1)


cdef inline void _check_info(cnp.ndarray info, Py_ssize_t n_batch) except *:
    if (cnp.PyArray_TYPE(info) != cnp.NPY_INT32 or not cnp.PyArray_IS_C_CONTIGUOUS(info)
            or cnp.PyArray_SIZE(info) != n_batch):
        raise ValueError("cholesky driver: info must be a C-contiguous int32 (N,) array")


cdef inline bint _element_strides(cnp.ndarray x, Py_ssize_t item) noexcept:
    return (cnp.PyArray_ISALIGNED(x) and cnp.PyArray_STRIDE(x, 0) % item == 0
            and cnp.PyArray_STRIDE(x, 1) % item == 0 and cnp.PyArray_STRIDE(x, 2) % item == 0)


def potrf_batched(cnp.ndarray a, cnp.ndarray out, bint upper, bint clean, cnp.ndarray info,
                  bint widen=False):
    """out[t] := the Cholesky factor of a[t]: L in the lower triangle (U in the upper if
    upper), only that triangle of a read; out's other triangle zeroed if clean, else a
    copy of a's.  a (N, n, n) of out's dtype with any element strides (out itself for
    in place); out C-contiguous.  info (N,) int32: 0, k > 0 (leading minor k not
    positive definite: out[t] is then all NaN), < 0 no memory.  widen: float32 a and
    out computed in float64 (n <= WIDEN_MAX_N, a not out)."""
    if cnp.PyArray_NDIM(out) != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(out) \
            or cnp.PyArray_DIM(out, 1) != cnp.PyArray_DIM(out, 2):
        raise ValueError("cholesky driver: out must be a C-contiguous (N, n, n) stack")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(out, 0), n = cnp.PyArray_DIM(out, 1)
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(out)
    cdef int typenum = cnp.PyArray_TYPE(out), n_threads = max_threads()
    if (cnp.PyArray_NDIM(a) != 3 or cnp.PyArray_TYPE(a) != typenum
            or cnp.PyArray_DIM(a, 0) != n_batch or cnp.PyArray_DIM(a, 1) != n
            or cnp.PyArray_DIM(a, 2) != n or not _element_strides(a, item)):
        raise ValueError("cholesky driver: a must be an aligned (N, n, n) stack of out's "
                         "dtype with element strides")
    _check_info(info, n_batch)
    cdef Py_ssize_t sb = cnp.PyArray_STRIDE(a, 0) // item
    cdef Py_ssize_t rs = cnp.PyArray_STRIDE(a, 1) // item, cs = cnp.PyArray_STRIDE(a, 2) // item
    cdef int* ip = <int*>cnp.PyArray_DATA(info)
    if widen:
        if typenum != cnp.NPY_FLOAT or n > WIDEN_MAX_N:
            raise ValueError("cholesky driver: widen takes float32 stacks of n <= 16")
        with nogil:
            _factor_widened(upper, clean, n_batch, n, <float*>cnp.PyArray_DATA(a), sb, rs, cs,
                            <float*>cnp.PyArray_DATA(out), ip, n_threads)
    elif typenum == cnp.NPY_DOUBLE:
        with nogil:
            _factor_batched[double](upper, clean, n_batch, n, <double*>cnp.PyArray_DATA(a),
                                    sb, rs, cs, <double*>cnp.PyArray_DATA(out), ip, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _factor_batched[float](upper, clean, n_batch, n, <float*>cnp.PyArray_DATA(a),
                                   sb, rs, cs, <float*>cnp.PyArray_DATA(out), ip, n_threads)
    else:
        raise TypeError("cholesky driver: float32 or float64 arrays expected")


def potrs_batched(cnp.ndarray c, bint lower, cnp.ndarray b, cnp.ndarray info):
    """b[t] := A[t]^-1 b[t] from the factors c[t] (L in the lower triangle if lower, else
    U in the upper), for b a C-contiguous (N, n, k) stack; c (N, n, n) of b's dtype is
    read in place with any element strides (a batch stride of 0 broadcasts it).
    info (N,) int32: 0, or < 0 no memory."""
    if cnp.PyArray_NDIM(b) != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(b):
        raise ValueError("cholesky driver: b must be a C-contiguous (N, n, k) stack")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(b, 0), n = cnp.PyArray_DIM(b, 1)
    cdef Py_ssize_t nrhs = cnp.PyArray_DIM(b, 2), item = cnp.PyArray_ITEMSIZE(b)
    cdef int typenum = cnp.PyArray_TYPE(b), n_threads = max_threads()
    if (cnp.PyArray_NDIM(c) != 3 or cnp.PyArray_TYPE(c) != typenum
            or cnp.PyArray_DIM(c, 0) != n_batch or cnp.PyArray_DIM(c, 1) != n
            or cnp.PyArray_DIM(c, 2) != n or not _element_strides(c, item)):
        raise ValueError("cholesky driver: c must be an aligned (N, n, n) stack of b's dtype "
                         "with element strides")
    _check_info(info, n_batch)
    cdef Py_ssize_t sbc = cnp.PyArray_STRIDE(c, 0) // item
    cdef Py_ssize_t rsc = cnp.PyArray_STRIDE(c, 1) // item, csc = cnp.PyArray_STRIDE(c, 2) // item
    if not lower:                     # U = L^T: the lower kernel reads U transposed
        rsc, csc = csc, rsc
    cdef int* ip = <int*>cnp.PyArray_DATA(info)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _solve_batched[double](n_batch, n, nrhs, <double*>cnp.PyArray_DATA(c), rsc, csc,
                                   sbc, <double*>cnp.PyArray_DATA(b), ip, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _solve_batched[float](n_batch, n, nrhs, <float*>cnp.PyArray_DATA(c), rsc, csc,
                                  sbc, <float*>cnp.PyArray_DATA(b), ip, n_threads)
    else:
        raise TypeError("cholesky driver: float32 or float64 arrays expected")


# ----------------------------------------------------------- single small calls
#
# One 2-D call of order <= CHOL_SMALL_CALL: no validation layer, no working-copy array,
# no GIL release or OpenMP region.  The needed triangle is read straight into a float64
# stack buffer and factored by the same potrf as a stack slice; returns None when it
# does not apply or the matrix is not positive definite (the general path then raises).

def cholesky_2d(x, bint upper, bint f32):
    """numpy.linalg.cholesky(x, upper=upper) for one small float64 matrix (float32 too
    if f32: computed in float64, rounded), else None."""
    if type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(a)
    if (cnp.PyArray_NDIM(a) != 2 or not cnp.PyArray_ISALIGNED(a)
            or not (typenum == cnp.NPY_DOUBLE or (f32 and typenum == cnp.NPY_FLOAT))):
        return None
    cdef Py_ssize_t n = cnp.PyArray_DIM(a, 0), i, j
    if n != cnp.PyArray_DIM(a, 1) or not 0 < n <= CHOL_SMALL_CALL:
        return None
    cdef double w[CHOL_SMALL_CALL * CHOL_SMALL_CALL]
    cdef char* p = <char*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t rs = cnp.PyArray_STRIDE(a, 0), cs = cnp.PyArray_STRIDE(a, 1)
    cdef Py_ssize_t lo, hi
    # Row-major in w, as a stack slice is in its working copy (so both factor alike);
    # only the needed triangle is read.
    for i in range(n):
        lo = i if upper else 0
        hi = n if upper else i + 1
        for j in range(lo, hi):
            if typenum == cnp.NPY_DOUBLE:
                w[i * n + j] = (<double*>(p + i * rs + j * cs))[0]
            else:
                w[i * n + j] = (<float*>(p + i * rs + j * cs))[0]
    if potrf(n, w, 1 if upper else n, n if upper else 1, 1) != 0:
        return None
    cdef cnp.ndarray out = cnp.PyArray_ZEROS(2, cnp.PyArray_DIMS(a), typenum, 0)
    cdef double* od = <double*>cnp.PyArray_DATA(out)
    cdef float* of = <float*>cnp.PyArray_DATA(out)
    for i in range(n):
        lo = i if upper else 0
        hi = n if upper else i + 1
        for j in range(lo, hi):
            if typenum == cnp.NPY_DOUBLE:
                od[i * n + j] = w[i * n + j]
            else:
                of[i * n + j] = <float>w[i * n + j]
    return out


cdef inline bint _small_square(object x, Py_ssize_t* n) noexcept:
    """Whether x is one aligned square float32 or float64 ndarray of order
    1..CHOL_SMALL_CALL with element strides; sets n."""
    if type(x) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(a)
    if (cnp.PyArray_NDIM(a) != 2 or not (typenum == cnp.NPY_DOUBLE or typenum == cnp.NPY_FLOAT)
            or not cnp.PyArray_ISALIGNED(a) or cnp.PyArray_STRIDE(a, 0) % cnp.PyArray_ITEMSIZE(a)
            or cnp.PyArray_STRIDE(a, 1) % cnp.PyArray_ITEMSIZE(a)):
        return False
    n[0] = cnp.PyArray_DIM(a, 0)
    return n[0] == cnp.PyArray_DIM(a, 1) and 0 < n[0] <= CHOL_SMALL_CALL


cdef inline bint _all_finite(Py_ssize_t rows, Py_ssize_t cols, const real* x,
                             Py_ssize_t rs, Py_ssize_t cs) noexcept nogil:
    cdef Py_ssize_t i, j
    for i in range(rows):
        for j in range(cols):
            if not (x[i * rs + j * cs] - x[i * rs + j * cs] == 0):      # NaN or Inf
                return False
    return True


cdef int _cho_factor_small(Py_ssize_t n, const real* p, Py_ssize_t rs, Py_ssize_t cs,
                           bint lower, bint check_finite, real* w) noexcept nogil:
    """w (row-major) := p's matrix factored in place by potrf, in p's own precision
    (scipy's); -1 if check_finite finds NaN or Inf, else potrf's status."""
    cdef Py_ssize_t i, j
    if check_finite and not _all_finite(n, n, p, rs, cs):
        return -1
    for i in range(n):
        for j in range(n):
            w[i * n + j] = p[i * rs + j * cs]
    return potrf(n, w, n if lower else 1, 1 if lower else n, 1)


def cho_factor_2d(x, lower, bint check_finite):
    """scipy.linalg.cho_factor(x, lower) -> (c, lower) for one small float32 or float64
    matrix, else None (also when it is not positive definite or, with check_finite,
    not finite: the general path then raises)."""
    cdef Py_ssize_t n
    if not _small_square(x, &n):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    cdef Py_ssize_t rs = cnp.PyArray_STRIDE(a, 0) // item, cs = cnp.PyArray_STRIDE(a, 1) // item
    cdef int typenum = cnp.PyArray_TYPE(a), st
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(a), typenum, 0)
    cdef bint low = lower
    if typenum == cnp.NPY_DOUBLE:
        st = _cho_factor_small[double](n, <double*>cnp.PyArray_DATA(a), rs, cs, low,
                                       check_finite, <double*>cnp.PyArray_DATA(out))
    else:
        st = _cho_factor_small[float](n, <float*>cnp.PyArray_DATA(a), rs, cs, low,
                                      check_finite, <float*>cnp.PyArray_DATA(out))
    return (out, lower) if st == 0 else None


cdef int _cho_solve_small(Py_ssize_t n, Py_ssize_t nrhs, const real* c, Py_ssize_t rsc,
                          Py_ssize_t csc, bint lower, const real* b, Py_ssize_t rsb,
                          Py_ssize_t csb, bint check_finite, real* x) noexcept nogil:
    """x (row-major n x nrhs) := A^-1 b from c's factor; -1 if check_finite finds NaN or
    Inf in c or b (scipy checks all of c)."""
    cdef Py_ssize_t i, j
    if check_finite and not (_all_finite(n, n, c, rsc, csc)
                             and _all_finite(n, nrhs, b, rsb, csb)):
        return -1
    for i in range(n):
        for j in range(nrhs):
            x[i * nrhs + j] = b[i * rsb + j * csb]
    if not lower:                     # U = L^T: the lower kernel reads U transposed
        rsc, csc = csc, rsc
    return potrs(n, nrhs, c, rsc, csc, x, nrhs, 1, 1)


def cho_solve_2d(c_and_lower, x2, bint check_finite):
    """scipy.linalg.cho_solve((c, lower), x2) for one small system with c and x2 both
    float32 or both float64 (computed in that precision, as scipy), else None (the
    general path then validates and raises)."""
    cdef Py_ssize_t n, nrhs
    if type(c_and_lower) is not tuple or len(c_and_lower) != 2:
        return None
    c_, lower = c_and_lower
    if not _small_square(c_, &n) or type(x2) is not cnp.ndarray:
        return None
    cdef cnp.ndarray c = <cnp.ndarray>c_
    cdef cnp.ndarray b = <cnp.ndarray>x2
    cdef int nd = cnp.PyArray_NDIM(b), typenum = cnp.PyArray_TYPE(c), st
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(c)
    if (nd != 1 and nd != 2) or cnp.PyArray_TYPE(b) != typenum \
            or not cnp.PyArray_ISALIGNED(b) or cnp.PyArray_DIM(b, 0) != n:
        return None
    nrhs = cnp.PyArray_DIM(b, 1) if nd == 2 else 1
    cdef Py_ssize_t rsb = cnp.PyArray_STRIDE(b, 0), csb = cnp.PyArray_STRIDE(b, 1) if nd == 2 else 0
    if nrhs == 0 or nrhs > CHOL_SMALL_CALL or rsb % item or csb % item:
        return None
    cdef Py_ssize_t rsc = cnp.PyArray_STRIDE(c, 0) // item, csc = cnp.PyArray_STRIDE(c, 1) // item
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(b), typenum, 0)
    cdef bint low = lower
    if typenum == cnp.NPY_DOUBLE:
        st = _cho_solve_small[double](n, nrhs, <double*>cnp.PyArray_DATA(c), rsc, csc, low,
                                      <double*>cnp.PyArray_DATA(b), rsb // item, csb // item,
                                      check_finite, <double*>cnp.PyArray_DATA(out))
    else:
        st = _cho_solve_small[float](n, nrhs, <float*>cnp.PyArray_DATA(c), rsc, csc, low,
                                     <float*>cnp.PyArray_DATA(b), rsb // item, csb // item,
                                     check_finite, <float*>cnp.PyArray_DATA(out))
    return out if st == 0 else None

"""Drivers for the LU kernels of lu.pxd: batched factor, solve, inverse, determinant,
and the single-call paths for small matrices.

The Python layer (fastla/linalg/_lu.py) validates, promotes and broadcasts, and hands
these drivers C-contiguous stacks (N, m, n) of one floating dtype.  getrf_batched
overwrites its stack (a working copy); the others only read the matrices (which may
then be the caller's own array: no copy) and write the right-hand sides, results,
pivots and status.  Each driver
picks the fused specialisation once, and loops over the batch without the GIL: stacks
of k x k matrices with k <= 8 or k = 16 run the lane kernels compiled for that literal
k (lu.pxd: LANES matrices interleaved, one vector per element); large
matrices run one at a time on the threaded getrf; everything in between runs whole
matrices per thread (OpenMP over the batch) when the total work pays for it.
"""

cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _memory cimport advise_huge_pages
from _blocking cimport LU_NB, LU_SMALL_CALL, PARALLEL_MIN_MNK, WIDEN_ITEM_BYTES
from _threads cimport max_threads
from gemm cimport K2, K3, K4, K5, K6, K7, K8, K16, fixed_k, imin, imax
from cholesky cimport lanes_scatter, gather_ahead, GATHER_RUN
from lu cimport (LANES, R0, R1, RK, RN, rhs_n, fixed_size, getrf, getrs, eliminate_lanes, det_lanes,
                 getrs_lanes,
                 lanes_load, lanes_store, laswp, lu_substitute, is_integral, det_from_lu,
                 slogdet_from_lu)

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)

KERNELS = {
    "getrf": {
        "computes": "P A = L U (partial pivoting), L unit lower, U upper",
        "algorithm": "recursive LU (Toledo) with GEMM trailing updates; unblocked getf2 "
                     f"on panels of <= {LU_NB} columns (tall ones in a column-major copy); "
                     "stacks of k <= 8, 16 in interleaved lanes (LANES matrices per group, "
                     "pivoting by compare/blend, elimination applied to [A | B])",
        "citation": "Toledo, SIAM J. Matrix Anal. Appl. 18(4), 1997; "
                    "Golub & Van Loan, Matrix Computations, 4th ed., §3.4",
        "flops": "2*n**3/3 (m*n**2 - n**3/3 for m >= n)",
    },
    "getrs": {
        "computes": "X = A^-1 B or A^-T B from getrf's factors",
        "algorithm": "row interchanges, then two triangular solves (trsm)",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §3.1, §3.4",
        "flops": "2*n**2*nrhs",
    },
    "inv": {
        "computes": "A^-1",
        "algorithm": "getrf, then getrs with B = I (stacks in lanes: L^-1 P by forward "
                     "substitution from the pivots, then U^-1)",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §3.4",
        "flops": "2*n**3/3 + 2*n**3",
    },
    "det": {
        "computes": "det A and (sign, log|det A|)",
        "algorithm": "getrf; product of U's diagonal as mantissa and exponent; exact "
                     "rounding for integer matrices under a rigorous error bound",
        "citation": "Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., §9.3, §14.6",
        "flops": "2*n**3/3",
    },
}

cdef enum:
    CHUNK_MATRICES = 64 * LANES     # matrices per OpenMP work item (a multiple of LANES)

WIDEN_MAX_N = 16     # the widened path takes n <= this (whole matrices per work item)

# What a driver does with each matrix of the batch.
cdef enum Op:
    FACTOR          # a := L\U, piv, info
    SOLVE           # FACTOR, then b := A^-1 b where info == 0
    GETRS           # a, piv given: b := A^-1 b or A^-T b
    INV             # FACTOR, then out := A^-1 where info == 0
    DET             # FACTOR, then r1 := det A
    SLOGDET         # FACTOR, then r1, r2 := sign, log|det A|

# General size: the tag for "k is a run-time value" beside gemm.pxd's literal sizes.
cdef struct KN:
    char unused

ctypedef fused lu_size:
    K2
    K3
    K4
    K5
    K6
    K7
    K8
    K16
    KN


cdef inline void _chunk_op(lu_size* size, Op op, bint trans, bint fortran, bint scratch,
                           Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs, real* a, int* piv,
                           real* b, const real* src, double* r1, double* r2, int* info,
                           Py_ssize_t first, Py_ssize_t last, int n_threads) noexcept nogil:
    """_chunk with the tag of op's right-hand side count (lu.pxd: rhs_n), so that each
    _chunk holds one elimination kernel: with the four in one function, GCC stopped
    inlining the steps of some (past its growth limits), and solve with several
    right-hand sides ran 15-50 % slower than with one kernel (k = 4, 8, measured)."""
    if lu_size is not KN and op == INV:
        _chunk(size, <RK*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
               info, first, last, n_threads)
    elif lu_size is not KN and op == SOLVE and nrhs == 1:
        _chunk(size, <R1*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
               info, first, last, n_threads)
    elif lu_size is not KN and op == SOLVE:
        _chunk(size, <RN*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
               info, first, last, n_threads)
    else:
        _chunk(size, <R0*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
               info, first, last, n_threads)


cdef void _chunk(lu_size* size, rhs_n* rhs, Op op, bint trans, bint fortran, bint scratch,
                 Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs, real* a, int* piv, real* b,
                 const real* src, double* r1, double* r2, int* info, Py_ssize_t first,
                 Py_ssize_t last, int n_threads) noexcept nogil:
    """Matrices first..last-1 of the batch, on one thread (n_threads goes to getrf);
    rhs: the right-hand side count's tag of op (_chunk_op).

    # IN  a: (N, m, n) row-major, only read unless scratch (FACTOR: always); b: (N, n, nrhs)
    #     row-major (SOLVE, GETRS, INV: n x n); src: SOLVE's right-hand sides, shaped
    #     like b (b itself when solving in place)
    # OUT a: L\\U (FACTOR), piv (N, min(m, n)), b, r1/r2 (N,), info (N,)
    Literal sizes run LANES matrices at a time through the interleaved kernels; they
    write piv for FACTOR only (the other ops return no pivots, and an untouched piv
    array costs no page faults), the general size uses it as workspace.
    fortran (GETRS only): each a[t] is stored column-major.
    """
    cdef Py_ssize_t g, t, l, i, count, width, kmin = imin(m, n), r0 = -1
    cdef real* at
    cdef real* w = NULL
    cdef int* pt
    cdef int st
    cdef bint integral = False, keep_l
    cdef bint lane_integral[LANES]
    cdef double sgn, mant, eps
    cdef long expo
    cdef real x[16 * 16 * LANES]
    cdef real y[16 * 16 * LANES]
    cdef int lpiv[16 * LANES]
    cdef real lpivr[16 * LANES]
    cdef int linfo[LANES]
    cdef double ldet[LANES]
    cdef bint lok[LANES]
    cdef real run[GATHER_RUN]
    if real is double:
        eps = 2.220446049250313e-16
    else:
        eps = 1.1920928955078125e-07
    if lu_size is not KN:
        for g in range((last - first + LANES - 1) // LANES):
            t = first + g * LANES
            count = imin(LANES, last - t)
            _load_square(size, count, a, t, last, &r0, run, x)
            if op == GETRS:                  # the group's pivots; padding lanes: none
                for l in range(LANES):
                    for i in range(n):
                        lpiv[l * n + i] = piv[(t + l) * n + i] if l < count else <int>i
                lanes_load(count, n, nrhs, b + t * n * nrhs, y, False)
                getrs_lanes(size, nrhs, x, lpiv, y)
                lanes_store(count, n, nrhs, y, b + t * n * nrhs)
                continue
            keep_l = op == FACTOR
            if op == DET:                    # the exact-integer test reads L
                for l in range(count):
                    lane_integral[l] = is_integral(n, x + l, n * LANES, LANES)
                    keep_l |= lane_integral[l]
            width = nrhs if op == SOLVE else (n if op == INV else 0)
            _load_rhs(op, count, n, width, src + t * n * width, y)
            eliminate_lanes(size, rhs, x, width, y, lpivr, linfo, keep_l)     # y := A^-1 y
            for l in range(count):
                info[t + l] = linfo[l]
            if op == FACTOR:                 # only the factorization returns its pivots
                for l in range(count):
                    for i in range(n):
                        piv[(t + l) * n + i] = <int>lpivr[i * LANES + l]
                _store_square(size, count, x, a + t * n * n)
            elif op == SOLVE or op == INV:
                if op == INV:
                    _store_square(size, count, y, b + t * n * n)
                else:
                    lanes_store(count, n, width, y, b + t * n * width)
                for l in range(count):      # a singular slice has no solution
                    if linfo[l] > 0:
                        _fill_nan(n * width, b + (t + l) * n * width)
            else:
                if op == DET:
                    det_lanes(size, x, lpivr, ldet, lok)
                for l in range(count):
                    if op == DET and lok[l] and not lane_integral[l]:
                        r1[t + l] = ldet[l]
                        continue
                    for i in range(n):
                        lpiv[i] = <int>lpivr[i * LANES + l]
                    r1[t + l] = det_from_lu(n, x + l, n * LANES, LANES, lpiv,
                                            op == DET and lane_integral[l], eps,
                                            &sgn, &mant, &expo)
                    if op == SLOGDET:
                        r2[t + l] = slogdet_from_lu(sgn, mant, expo, &r1[t + l])
    else:
        if not scratch and op != GETRS:      # a is only read: factor a copy of each matrix
            w = <real*>malloc(m * n * sizeof(real))
            if w == NULL:
                for t in range(first, last):
                    info[t] = INFO_NO_MEMORY
                return
            # a fresh block written once: its 4 KiB page faults cost solve n = 2048
            # 161 -> 143 ms (numpy's own copies get the same advice)
            advise_huge_pages(w, m * n * sizeof(real))
        for t in range(first, last):
            at = a + t * m * n
            if w != NULL:
                memcpy(w, at, m * n * sizeof(real))
                at = w
            pt = piv + t * kmin
            if op == DET or op == SLOGDET:
                integral = op == DET and is_integral(n, at, n, 1)
            st = 0 if op == GETRS else getrf(m, n, at, n, 1, pt, n_threads)
            info[t] = st
            if st < 0:
                continue
            if op == SOLVE or op == GETRS:
                if op == SOLVE and src != b:
                    memcpy(b + t * n * nrhs, src + t * n * nrhs, n * nrhs * sizeof(real))
                if st > 0:
                    _fill_nan(n * nrhs, b + t * n * nrhs)    # a singular slice has no solution
                    continue
                info[t] = getrs(trans, n, nrhs, at, 1 if fortran else n, n if fortran else 1, pt,
                                b + t * n * nrhs, nrhs, 1, n_threads)
            elif op == INV:
                if st > 0:
                    _fill_nan(n * n, b + t * n * n)
                    continue
                _identity(n, b + t * n * n)
                info[t] = getrs(False, n, n, at, n, 1, pt, b + t * n * n, n, 1, n_threads)
            elif op == DET or op == SLOGDET:
                r1[t] = det_from_lu(n, at, n, 1, pt, integral, eps, &sgn, &mant, &expo)
                if op == SLOGDET:
                    r2[t] = slogdet_from_lu(sgn, mant, expo, &r1[t])
        free(w)


cdef inline void _load_square(fixed_k* size, Py_ssize_t count, const real* a, Py_ssize_t t,
                              Py_ssize_t last, Py_ssize_t* r0, real* run, real* x) noexcept nogil:
    """x := the count consecutive row-major k x k matrices t.. of the stack at a (< last),
    interleaved (padding lanes: the identity): a full group by gather_ahead (8 x 8 block
    transposes; for k = 7, 8 from a sequential copy, run and r0), which against
    lanes_load made the stacks 100000 x k x k 5-40 % faster at k = 3-8 (k = 2 has no
    whole block)."""
    cdef Py_ssize_t k = fixed_size(size)
    if count == LANES and k >= 3:
        gather_ahead(size, a, t, last, r0, run, x)
    else:
        lanes_load(count, k, k, a + t * k * k, x, True)


cdef inline void _load_rhs(Op op, Py_ssize_t count, Py_ssize_t n, Py_ssize_t width,
                           const real* b, real* y) noexcept nogil:
    """y := the group's right-hand sides: b's (SOLVE), none else (INV's identity is
    made by the kernel)."""
    if op == SOLVE:
        lanes_load(count, n, width, b, y, False)


cdef inline void _store_square(fixed_k* size, Py_ssize_t count, const real* x,
                               real* a) noexcept nogil:
    """The first count interleaved k x k matrices of x to row-major storage at a:
    the inverse of _load_square (by lanes_scatter for k >= 5: k = 3 was slower from
    memory, k = 5-7 4-10 % faster in cache, measured)."""
    cdef Py_ssize_t k = fixed_size(size)
    if count == LANES and k >= 5:
        lanes_scatter(size, x, a)
    else:
        lanes_store(count, k, k, x, a)


cdef inline void _fill_nan(Py_ssize_t count, real* x) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(count):
        x[i] = NAN


cdef inline void _identity(Py_ssize_t n, real* x) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n * n):
        x[i] = 0
    for i in range(n):
        x[i * n + i] = 1


cdef void _run_chunk(Op op, bint trans, bint fortran, bint scratch, Py_ssize_t m, Py_ssize_t n,
                     Py_ssize_t nrhs, real* a, int* piv, real* b, const real* src, double* r1,
                     double* r2, int* info, Py_ssize_t first, Py_ssize_t last,
                     int n_threads) noexcept nogil:
    """_chunk with the literal-size kernels for square k x k, k <= 8 or 16."""
    if m == n and not trans and not fortran and n * nrhs <= 16 * 16:     # (_chunk's buffers)
        if n == 2:
            _chunk_op(<K2*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 3:
            _chunk_op(<K3*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 4:
            _chunk_op(<K4*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 5:
            _chunk_op(<K5*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 6:
            _chunk_op(<K6*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 7:
            _chunk_op(<K7*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 8:
            _chunk_op(<K8*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
        if n == 16:
            _chunk_op(<K16*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
                      info, first, last, 1)
            return
    _chunk_op(<KN*>NULL, op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2,
              info, first, last, n_threads)


cdef void _batched(Op op, bint trans, bint fortran, bint scratch, Py_ssize_t n_batch,
                   Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs, real* a, int* piv, real* b,
                   const real* src, double* r1, double* r2, int* info,
                   int n_threads) noexcept nogil:
    """The whole batch: large matrices one at a time on a threaded getrf; smaller ones
    whole matrices per thread, one contiguous chunk of the batch each, when the work
    (~n^3 multiply-adds plus a fixed cost of ~32 per matrix) pays for an OpenMP region."""
    cdef Py_ssize_t t, chunk, work = m * n * imin(m, n) + n * nrhs * n
    if n_batch == 0:
        return
    if work >= PARALLEL_MIN_MNK or n_threads == 1 or n_batch * (work + 32) < PARALLEL_MIN_MNK:
        _run_chunk(op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2, info, 0,
                   n_batch, n_threads)
        return
    chunk = imin(CHUNK_MATRICES, (n_batch + n_threads - 1) // n_threads)
    for t in prange((n_batch + chunk - 1) // chunk, num_threads=n_threads,
                    schedule='dynamic'):
        _run_chunk(op, trans, fortran, scratch, m, n, nrhs, a, piv, b, src, r1, r2, info,
                   t * chunk, min(t * chunk + chunk, n_batch), 1)


cdef void _widened_item(Op op, Py_ssize_t n, Py_ssize_t nrhs, const float* a, int* piv,
                        float* b, const float* src, double* r1, double* r2, int* info,
                        Py_ssize_t first, Py_ssize_t last, double* wa, double* wb) noexcept nogil:
    """Matrices first..last-1 of float32 stacks in float64: wa := a's matrices (and wb
    := SOLVE's right-hand sides), the float64 kernels on them as scratch, INV's and
    SOLVE's results rounded into b."""
    cdef Py_ssize_t count = last - first, i
    cdef Py_ssize_t width = nrhs if op == SOLVE else (n if op == INV else 0)
    for i in range(count * n * n):
        wa[i] = a[first * n * n + i]
    if op == SOLVE:
        for i in range(count * n * width):
            wb[i] = src[first * n * width + i]
    _run_chunk[double](op, False, False, True, n, n, nrhs, wa, piv + first * n, wb, wb,
                       r1 + first if r1 != NULL else NULL, r2 + first if r2 != NULL else NULL,
                       info + first, 0, count, 1)
    for i in range(count * n * width):
        b[first * n * width + i] = <float>wb[i]


cdef void _widened(Op op, Py_ssize_t n_batch, Py_ssize_t n, Py_ssize_t nrhs, const float* a,
                   int* piv, float* b, const float* src, double* r1, double* r2, int* info,
                   int n_threads) noexcept nogil:
    """SOLVE, INV, DET, SLOGDET of float32 stacks in float64, rounded (numpy's rule), n <=
    WIDEN_MAX_N: work items of about WIDEN_ITEM_BYTES of float64, each converted into
    its thread's buffers, computed there, and rounded out; one OpenMP region.  Against
    a float64 copy of the whole stack (and a whole float64 result, rounded after):
    100000 x 8 x 8, one thread, ns per matrix, det / inv 151 / 342 -> ~76 / ~150
    (numpy 613 / 1316).  Status INFO_NO_MEMORY if a buffer cannot be allocated."""
    cdef Py_ssize_t width = nrhs if op == SOLVE else (n if op == INV else 0)
    cdef Py_ssize_t per = imax(LANES, WIDEN_ITEM_BYTES // (8 * n * (n + width)) // LANES * LANES)
    cdef Py_ssize_t items = (n_batch + per - 1) // per, t, i
    cdef Py_ssize_t work = n * n * n + n * width * n
    cdef double* wa
    cdef double* wb
    cdef int threads = 1 if n_batch * (work + 32) < PARALLEL_MIN_MNK else n_threads
    with parallel(num_threads=threads):
        wa = <double*>malloc(per * n * (n + width) * sizeof(double))
        wb = wa + per * n * n
        for t in prange(items, schedule='dynamic'):
            if wa == NULL:
                for i in range(t * per, imin(t * per + per, n_batch)):
                    info[i] = INFO_NO_MEMORY
            else:
                _widened_item(op, n, nrhs, a, piv, b, src, r1, r2, info, t * per,
                              imin(t * per + per, n_batch), wa, wb)
        free(wa)


cdef object _dispatch(Op op, bint trans, bint fortran, bint scratch, cnp.ndarray a, cnp.ndarray piv,
                      cnp.ndarray b, cnp.ndarray r1, cnp.ndarray r2, cnp.ndarray info,
                      cnp.ndarray src=None, bint widen=False):
    """Check the working arrays once and run _batched on their data.  src (SOLVE): the
    right-hand sides to read, a stack shaped like b, when they are not in b already."""
    if (cnp.PyArray_NDIM(a) != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(a)
            or not cnp.PyArray_ISALIGNED(a)):
        raise ValueError("lu driver: a must be an aligned C-contiguous (N, m, n) stack")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(a, 0), m = cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t n = cnp.PyArray_DIM(a, 2), nrhs = 0
    cdef int typenum = cnp.PyArray_TYPE(a), n_threads = max_threads()
    if b is not None:
        if (cnp.PyArray_TYPE(b) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(b)
                or cnp.PyArray_NDIM(b) != 3 or cnp.PyArray_DIM(b, 0) != n_batch
                or cnp.PyArray_DIM(b, 1) != n):
            raise ValueError("lu driver: b must be a C-contiguous (N, n, k) stack of a's dtype")
        nrhs = cnp.PyArray_DIM(b, 2)
    if (cnp.PyArray_TYPE(piv) != cnp.NPY_INT32 or not cnp.PyArray_IS_C_CONTIGUOUS(piv)
            or cnp.PyArray_SIZE(piv) != n_batch * min(m, n)):
        raise ValueError("lu driver: piv must be a C-contiguous int32 (N, min(m, n)) array")
    if (cnp.PyArray_TYPE(info) != cnp.NPY_INT32 or not cnp.PyArray_IS_C_CONTIGUOUS(info)
            or cnp.PyArray_SIZE(info) != n_batch):
        raise ValueError("lu driver: info must be a C-contiguous int32 (N,) array")
    for r in (r1, r2):
        if r is not None and (cnp.PyArray_TYPE(r) != cnp.NPY_DOUBLE or cnp.PyArray_SIZE(r) != n_batch
                              or not cnp.PyArray_IS_C_CONTIGUOUS(r)):
            raise ValueError("lu driver: results must be C-contiguous float64 (N,) arrays")
    cdef void* bp = cnp.PyArray_DATA(b) if b is not None else NULL
    cdef void* sp = bp
    if src is not None:
        if (op != SOLVE or cnp.PyArray_TYPE(src) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(src)
                or not cnp.PyArray_ISALIGNED(src) or cnp.PyArray_NDIM(src) != 3
                or cnp.PyArray_DIM(src, 0) != n_batch or cnp.PyArray_DIM(src, 1) != n
                or cnp.PyArray_DIM(src, 2) != nrhs):
            raise ValueError("lu driver: src must be a C-contiguous stack shaped like b")
        sp = cnp.PyArray_DATA(src)
    cdef double* p1 = <double*>cnp.PyArray_DATA(r1) if r1 is not None else NULL
    cdef double* p2 = <double*>cnp.PyArray_DATA(r2) if r2 is not None else NULL
    cdef int* pp = <int*>cnp.PyArray_DATA(piv)
    cdef int* ip = <int*>cnp.PyArray_DATA(info)
    if widen:
        if typenum != cnp.NPY_FLOAT or n > WIDEN_MAX_N or m != n \
                or op not in (SOLVE, INV, DET, SLOGDET):
            raise ValueError("lu driver: widen takes float32 stacks of n <= 16")
        with nogil:
            _widened(op, n_batch, n, nrhs, <float*>cnp.PyArray_DATA(a), pp, <float*>bp,
                     <float*>sp, p1, p2, ip, n_threads)
    elif typenum == cnp.NPY_DOUBLE:
        with nogil:
            _batched[double](op, trans, fortran, scratch, n_batch, m, n, nrhs,
                             <double*>cnp.PyArray_DATA(a), pp, <double*>bp, <double*>sp, p1, p2,
                             ip, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _batched[float](op, trans, fortran, scratch, n_batch, m, n, nrhs,
                            <float*>cnp.PyArray_DATA(a), pp, <float*>bp, <float*>sp, p1, p2, ip,
                            n_threads)
    else:
        raise TypeError("lu driver: float32 or float64 arrays expected")


def getrf_batched(cnp.ndarray a, cnp.ndarray piv, cnp.ndarray info):
    """a[t] := L\\U of P a[t] = L U for a C-contiguous (N, m, n) stack; piv (N, min(m, n))
    int32 (0-based LAPACK pivots), info (N,) int32 (0, k > 0 zero pivot, < 0 no memory)."""
    _dispatch(FACTOR, False, False, True, a, piv, None, None, None, info)


def getrs_batched(cnp.ndarray lu, cnp.ndarray piv, cnp.ndarray b, bint trans, cnp.ndarray info,
                  bint fortran=False):
    """b[t] := A[t]^-1 b[t] (trans false) or A[t]^-T b[t] from getrf_batched's (lu, piv);
    b a C-contiguous (N, n, k) stack; info (N,) int32 (0, or < 0: no memory).  fortran:
    lu holds each factorization transposed (LAPACK's column-major lu, read in place)."""
    _dispatch(GETRS, trans, fortran, False, lu, piv, b, None, None, info)


def solve_batched(cnp.ndarray a, cnp.ndarray b, cnp.ndarray piv, cnp.ndarray info,
                  bint scratch=False, cnp.ndarray src=None, bint widen=False):
    """b[t] := A[t]^-1 b[t] where info[t] == 0 (NaN elsewhere), or b[t] := A[t]^-1 src[t]
    when src (shaped like b) is given: the caller's right-hand sides read where they
    lie, b a new output (no copy of them first).  a is only read, unless scratch says
    it is a working copy the driver may overwrite.  widen: float32 stacks computed in
    float64 (n <= WIDEN_MAX_N; see _widened)."""
    _dispatch(SOLVE, False, False, scratch, a, piv, b, None, None, info, src, widen)


def inv_batched(cnp.ndarray a, cnp.ndarray out, cnp.ndarray piv, cnp.ndarray info,
                bint scratch=False, bint widen=False):
    """out[t] := A[t]^-1 where info[t] == 0 (NaN elsewhere); a is only
    read, unless scratch says it is a working copy the driver may overwrite; widen as
    solve_batched's."""
    _dispatch(INV, False, False, scratch, a, piv, out, None, None, info, None, widen)


def det_batched(cnp.ndarray a, cnp.ndarray det, cnp.ndarray piv, cnp.ndarray info,
                bint scratch=False, bint widen=False):
    """det[t] := det A[t] (float64; exact for integer matrices, see lu.pxd); a is only
    read, unless scratch says it is a working copy the driver may overwrite; widen as
    solve_batched's."""
    _dispatch(DET, False, False, scratch, a, piv, None, det, None, info, None, widen)


def slogdet_batched(cnp.ndarray a, cnp.ndarray sign, cnp.ndarray logabs, cnp.ndarray piv,
                    cnp.ndarray info, bint scratch=False, bint widen=False):
    """(sign[t], logabs[t]) := (sign, log|det A[t]|), numpy's convention; a is only
    read, unless scratch says it is a working copy the driver may overwrite; widen as
    solve_batched's."""
    _dispatch(SLOGDET, False, False, scratch, a, piv, None, sign, logabs, info, None, widen)


cdef void _invert(Py_ssize_t m, int* q) noexcept nogil:
    """q := its inverse permutation, in place: each cycle is walked once, and entries
    already written are marked by complementing them (~j < 0)."""
    cdef Py_ssize_t i
    cdef int j, nxt, prev
    for i in range(m):
        if q[i] < 0:
            continue
        prev = <int>i
        j = q[i]
        while j != i:
            nxt = q[j]
            q[j] = ~prev
            prev = j
            j = nxt
        q[i] = ~prev
    for i in range(m):
        q[i] = ~q[i]


cdef void _split(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, const real* lu,
                 const int* piv, int* p, real* l, real* u, real* pm, bint permute_l) noexcept nogil:
    """For each matrix of the stack: p := the row of L U that each row of A is (the
    inverse of the interchanges i <-> piv[i] applied in order), L (m x k, unit lower,
    its rows in A's order if permute_l) and U (k x n, upper) out of the packed lu, and,
    if pm is not NULL, P (m x m) with P[r, p[r]] = 1 (A = P L U)."""
    cdef Py_ssize_t k = imin(m, n), t, i, j, r
    cdef int tmp
    cdef const real* x
    cdef int* pt               # perm first (row i of L U is row perm[i] of A), then p
    for t in range(n_batch):
        x = lu + t * m * n
        pt = p + t * m
        for i in range(m):
            pt[i] = <int>i
        for i in range(k):                   # perm: the interchanges, in order
            j = piv[t * k + i]
            tmp = pt[i]
            pt[i] = pt[j]
            pt[j] = tmp
        for i in range(m):                   # L's row i goes to row perm[i] if permute_l
            r = pt[i] if permute_l else i
            for j in range(k):
                l[(t * m + r) * k + j] = x[i * n + j] if j < i else (1 if j == i else 0)
        for i in range(k):
            for j in range(n):
                u[(t * k + i) * n + j] = x[i * n + j] if j >= i else 0
        if pm != NULL:
            for i in range(m * m):
                pm[t * m * m + i] = 0
            for i in range(m):               # P[perm[i], i] = 1: row perm[i] of A is row i of L U
                pm[t * m * m + pt[i] * m + i] = 1
        _invert(m, pt)                       # p[perm[i]] = i


def split_factors(cnp.ndarray lu, cnp.ndarray piv, bint permute_l, bint p_matrix):
    """(p, L, U, P) of getrf_batched's packed (lu (N, m, n), piv (N, k)), as
    scipy.linalg.lu gives them: p (N, m) int32 with A = L[p] @ U, L (N, m, k) (P L if
    permute_l), U (N, k, n), and P (N, m, m) of lu's dtype if p_matrix (else None)."""
    cdef int typenum = cnp.PyArray_TYPE(lu)
    if (typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT) or cnp.PyArray_NDIM(lu) != 3 \
            or not cnp.PyArray_IS_C_CONTIGUOUS(lu):
        raise ValueError("lu driver: lu must be a C-contiguous float (N, m, n) stack")
    cdef Py_ssize_t n_batch = lu.shape[0], m = lu.shape[1], n = lu.shape[2], k = imin(m, n)
    if (cnp.PyArray_TYPE(piv) != cnp.NPY_INT32 or not cnp.PyArray_IS_C_CONTIGUOUS(piv)
            or cnp.PyArray_SIZE(piv) != n_batch * k):
        raise ValueError("lu driver: piv must be a C-contiguous int32 (N, min(m, n)) array")
    cdef cnp.npy_intp dims[3]
    dims[0] = n_batch
    dims[1] = m
    cdef cnp.ndarray p = cnp.PyArray_EMPTY(2, dims, cnp.NPY_INT32, 0)
    dims[2] = k
    cdef cnp.ndarray l = cnp.PyArray_EMPTY(3, dims, typenum, 0)
    dims[1] = k
    dims[2] = n
    cdef cnp.ndarray u = cnp.PyArray_EMPTY(3, dims, typenum, 0)
    dims[1] = m
    dims[2] = m
    cdef object pm = cnp.PyArray_EMPTY(3, dims, typenum, 0) if p_matrix else None
    cdef void* ppm = cnp.PyArray_DATA(<cnp.ndarray>pm) if p_matrix else NULL
    cdef const int* pv = <const int*>cnp.PyArray_DATA(piv)
    cdef int* pp = <int*>cnp.PyArray_DATA(p)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _split(n_batch, m, n, <double*>cnp.PyArray_DATA(lu), pv, pp,
                   <double*>cnp.PyArray_DATA(l), <double*>cnp.PyArray_DATA(u),
                   <double*>ppm, permute_l)
    else:
        with nogil:
            _split(n_batch, m, n, <float*>cnp.PyArray_DATA(lu), pv, pp,
                   <float*>cnp.PyArray_DATA(l), <float*>cnp.PyArray_DATA(u),
                   <float*>ppm, permute_l)
    return p, l, u, pm


# ----------------------------------------------------------- single small calls
#
# One 2-D float64 call with n <= LU_SMALL_CALL: no validation layer, no working-copy array,
# no GIL release or OpenMP region; the matrix is copied into a stack buffer and
# factored by the same getrf as in a stack (so a slice's answer never depends on the path).  Every
# function returns None when it does not apply (or the matrix is singular), and the
# caller then takes the general path, which also produces the error.

cdef inline bint _small_square(object x, Py_ssize_t* n, int* typenum, bint f32) noexcept:
    """Whether x is one aligned square float64 (or, if f32, float32) ndarray of order
    1..LU_SMALL_CALL; sets n and typenum."""
    if type(x) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    typenum[0] = cnp.PyArray_TYPE(a)
    if (cnp.PyArray_NDIM(a) != 2 or not cnp.PyArray_ISALIGNED(a)
            or not (typenum[0] == cnp.NPY_DOUBLE or (f32 and typenum[0] == cnp.NPY_FLOAT))):
        return False
    n[0] = cnp.PyArray_DIM(a, 0)
    return n[0] == cnp.PyArray_DIM(a, 1) and 0 < n[0] <= LU_SMALL_CALL


cdef inline void _load(cnp.ndarray a, Py_ssize_t rows, Py_ssize_t cols, double* w) noexcept:
    """w := a (float64 or float32, rows x cols, any byte strides) as a row-major
    float64 buffer."""
    cdef char* p = <char*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t rs = cnp.PyArray_STRIDE(a, 0), cs = 0, i, j
    cdef bint single = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT
    if cols > 1 or cnp.PyArray_NDIM(a) == 2:
        cs = cnp.PyArray_STRIDE(a, 1)
    for i in range(rows):
        for j in range(cols):
            if single:
                w[i * cols + j] = (<float*>(p + i * rs + j * cs))[0]
            else:
                w[i * cols + j] = (<double*>(p + i * rs + j * cs))[0]


cdef inline cnp.ndarray _result(int nd, cnp.npy_intp* dims, int typenum, const double* x):
    """A new C-ordered array of typenum holding x (rounded once if typenum is float32:
    numpy.linalg's float32 results are float64 computations rounded)."""
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    cdef Py_ssize_t i, size = cnp.PyArray_SIZE(out)
    cdef float* f
    if typenum == cnp.NPY_DOUBLE:
        memcpy(cnp.PyArray_DATA(out), x, size * sizeof(double))
    else:
        f = <float*>cnp.PyArray_DATA(out)
        for i in range(size):
            f[i] = <float>x[i]
    return out


def solve_2d(x1, x2, bint f32):
    """numpy.linalg.solve(x1, x2) for one small float64 system (float32 too if f32:
    computed in float64, rounded), else None."""
    cdef Py_ssize_t n, nrhs
    cdef int typenum
    if not _small_square(x1, &n, &typenum, f32) or type(x2) is not cnp.ndarray:
        return None
    cdef cnp.ndarray b = <cnp.ndarray>x2
    cdef int nd = cnp.PyArray_NDIM(b)
    if (nd != 1 and nd != 2) or cnp.PyArray_TYPE(b) != typenum \
            or not cnp.PyArray_ISALIGNED(b) or cnp.PyArray_DIM(b, 0) != n:
        return None
    nrhs = cnp.PyArray_DIM(b, 1) if nd == 2 else 1
    cdef double w[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef double xb[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef int piv[LU_SMALL_CALL]
    if nrhs > LU_SMALL_CALL:
        return None
    _load(<cnp.ndarray>x1, n, n, w)
    if getrf(n, n, w, n, 1, piv, 1) != 0:
        return None
    _load(b, n, nrhs, xb)
    laswp(nrhs, xb, nrhs, 1, 0, n, piv, True)
    lu_substitute(n, nrhs, w, n, 1, xb, nrhs)
    return _result(nd, cnp.PyArray_DIMS(b), typenum, xb)


def inv_2d(x, bint f32):
    """numpy.linalg.inv(x) for one small float64 matrix (float32 too if f32: computed
    in float64, rounded), else None."""
    cdef Py_ssize_t n
    cdef int typenum
    if not _small_square(x, &n, &typenum, f32):
        return None
    cdef double w[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef double xb[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef int piv[LU_SMALL_CALL]
    _load(<cnp.ndarray>x, n, n, w)
    if getrf(n, n, w, n, 1, piv, 1) != 0:
        return None
    _identity(n, xb)
    laswp(n, xb, n, 1, 0, n, piv, True)
    lu_substitute(n, n, w, n, 1, xb, n)
    return _result(2, cnp.PyArray_DIMS(<cnp.ndarray>x), typenum, xb)


def det_2d(x, bint f32):
    """numpy.linalg.det(x) for one small float64 matrix (float32 too if f32: computed
    in float64, rounded), as a numpy scalar of x's dtype, else None."""
    cdef Py_ssize_t n
    cdef int typenum
    if not _small_square(x, &n, &typenum, f32):
        return None
    cdef double w[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef int piv[LU_SMALL_CALL]
    cdef double sgn, mant
    cdef long expo
    cdef float d32
    _load(<cnp.ndarray>x, n, n, w)
    cdef bint integral = is_integral(n, w, n, 1)
    getrf(n, n, w, n, 1, piv, 1)
    cdef double d = det_from_lu(n, w, n, 1, piv, integral, 2.220446049250313e-16, &sgn,
                                &mant, &expo)
    if typenum == cnp.NPY_FLOAT:
        d32 = <float>d
        return PyArray_Scalar(&d32, cnp.PyArray_DescrFromType(cnp.NPY_FLOAT), None)
    return PyArray_Scalar(&d, cnp.PyArray_DescrFromType(cnp.NPY_DOUBLE), None)


def lu_solve_2d(lu_and_piv, x2, bint trans, bint check_finite):
    """scipy.linalg.lu_solve((lu, piv), x2, trans) for one small float64 system with
    int32 pivots, else None (the general path then validates and raises)."""
    cdef Py_ssize_t n, nrhs, i
    cdef int typenum
    if type(lu_and_piv) is not tuple or len(lu_and_piv) != 2:
        return None
    lu_, piv_ = lu_and_piv
    if not _small_square(lu_, &n, &typenum, False) or type(piv_) is not cnp.ndarray \
            or type(x2) is not cnp.ndarray:
        return None
    cdef cnp.ndarray pv = <cnp.ndarray>piv_
    cdef cnp.ndarray b = <cnp.ndarray>x2
    cdef int nd = cnp.PyArray_NDIM(b)
    if (cnp.PyArray_NDIM(pv) != 1 or cnp.PyArray_TYPE(pv) != cnp.NPY_INT32
            or not cnp.PyArray_IS_C_CONTIGUOUS(pv) or cnp.PyArray_DIM(pv, 0) != n):
        return None
    if (nd != 1 and nd != 2) or cnp.PyArray_TYPE(b) != cnp.NPY_DOUBLE \
            or not cnp.PyArray_ISALIGNED(b) or cnp.PyArray_DIM(b, 0) != n:
        return None
    nrhs = cnp.PyArray_DIM(b, 1) if nd == 2 else 1
    if nrhs > LU_SMALL_CALL:
        return None
    cdef const int* piv = <const int*>cnp.PyArray_DATA(pv)
    for i in range(n):
        if piv[i] < 0 or piv[i] >= n:
            return None
    cdef double w[LU_SMALL_CALL * LU_SMALL_CALL]
    cdef double xb[LU_SMALL_CALL * LU_SMALL_CALL]
    _load(b, n, nrhs, xb)
    if check_finite:
        for i in range(n * nrhs):
            if not (xb[i] - xb[i] == 0):          # NaN or Inf
                return None
    _load(<cnp.ndarray>lu_, n, n, w)
    getrs(trans, n, nrhs, w, n, 1, piv, xb, nrhs, 1, 1)
    return _result(nd, cnp.PyArray_DIMS(b), cnp.NPY_DOUBLE, xb)


def lu_solve_vector(lu_and_piv, x2, bint trans, bint check_finite):
    """scipy.linalg.lu_solve((lu, piv), x2, trans) for one float64 system of any order
    with one right-hand side (x2 of shape (n,) or (n, 1)) and int32 pivots, reading lu
    in place with its strides (scipy's column-major factors too), else None."""
    cdef Py_ssize_t n, i
    if type(lu_and_piv) is not tuple or len(lu_and_piv) != 2:
        return None
    lu_, piv_ = lu_and_piv
    if type(lu_) is not cnp.ndarray or type(piv_) is not cnp.ndarray \
            or type(x2) is not cnp.ndarray:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>lu_
    cdef cnp.ndarray pv = <cnp.ndarray>piv_
    cdef cnp.ndarray b = <cnp.ndarray>x2
    cdef int nd = cnp.PyArray_NDIM(b)
    if (cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_TYPE(a) != cnp.NPY_DOUBLE
            or not cnp.PyArray_ISALIGNED(a)):
        return None
    n = cnp.PyArray_DIM(a, 0)
    if n != cnp.PyArray_DIM(a, 1) or n == 0:
        return None
    if (cnp.PyArray_NDIM(pv) != 1 or cnp.PyArray_TYPE(pv) != cnp.NPY_INT32
            or not cnp.PyArray_IS_C_CONTIGUOUS(pv) or cnp.PyArray_DIM(pv, 0) != n):
        return None
    if (nd != 1 and not (nd == 2 and cnp.PyArray_DIM(b, 1) == 1)) \
            or cnp.PyArray_TYPE(b) != cnp.NPY_DOUBLE or not cnp.PyArray_ISALIGNED(b) \
            or cnp.PyArray_DIM(b, 0) != n:
        return None
    cdef const int* piv = <const int*>cnp.PyArray_DATA(pv)
    for i in range(n):
        if piv[i] < 0 or piv[i] >= n:
            return None
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(b), cnp.NPY_DOUBLE, 0)
    cdef double* x = <double*>cnp.PyArray_DATA(out)
    cdef const double* lu = <const double*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t rsa = cnp.PyArray_STRIDE(a, 0) // sizeof(double)
    cdef Py_ssize_t csa = cnp.PyArray_STRIDE(a, 1) // sizeof(double)
    cdef int st, n_threads = max_threads()
    _load(b, n, 1, x)
    if check_finite:
        for i in range(n):
            if not (x[i] - x[i] == 0):            # NaN or Inf
                return None
    with nogil:
        st = getrs(trans, n, 1, lu, rsa, csa, piv, x, 1, 1, n_threads)
    if st != INFO_OK:
        return None
    return out


def lu_factor_2d(x, bint check_finite):
    """scipy.linalg.lu_factor(x) -> (lu, piv) for one small float64 or float32 matrix
    (float32 factored natively, scipy's precision), else None (also None when it is
    singular or, with check_finite, not finite: the general path then warns or raises)."""
    cdef Py_ssize_t n, i
    cdef int typenum, info
    if not _small_square(x, &n, &typenum, True):
        return None
    cdef cnp.npy_intp dims[2]
    dims[0] = n
    dims[1] = n
    cdef cnp.ndarray lu = cnp.PyArray_EMPTY(2, dims, typenum, 0)
    cdef cnp.ndarray piv = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INT32, 0)
    cdef double* w
    cdef float* f
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef char* p = <char*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t rs = cnp.PyArray_STRIDE(a, 0), cs = cnp.PyArray_STRIDE(a, 1), j
    if typenum == cnp.NPY_DOUBLE:
        w = <double*>cnp.PyArray_DATA(lu)
        _load(a, n, n, w)
        if check_finite:
            for i in range(n * n):
                if not (w[i] - w[i] == 0):        # NaN or Inf
                    return None
        info = getrf(n, n, w, n, 1, <int*>cnp.PyArray_DATA(piv), 1)
    else:
        f = <float*>cnp.PyArray_DATA(lu)
        for i in range(n):                          # float32 stays float32 (sgetrf's precision)
            for j in range(n):
                f[i * n + j] = (<float*>(p + i * rs + j * cs))[0]
        if check_finite:
            for i in range(n * n):
                if not (f[i] - f[i] == 0):
                    return None
        info = getrf(n, n, f, n, 1, <int*>cnp.PyArray_DATA(piv), 1)
    if info != 0:
        return None
    return lu, piv

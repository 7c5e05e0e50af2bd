"""Driver for the triangular-solve kernel of triangular.pxd: a batch of solves.

The Python layer (fastla/linalg/_triangular.py) validates, promotes, broadcasts and
makes the working copy of B; this driver receives arrays of one floating dtype whose
strides are whole elements, picks the fused specialisation once, tests each A for an
exactly zero diagonal (LAPACK trtrs) and solves the others in place, without the GIL.
"""

cimport numpy as cnp
from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport TRSM_NB, PARALLEL_MIN_MNK
from _threads cimport max_threads
from triangular cimport trsm, first_zero_diagonal

cnp.import_array()

KERNELS = {
    "trsm": {
        "computes": "B := alpha*op(A)^-1*B or alpha*B*op(A)^-1, A triangular",
        "algorithm": "blocked forward substitution: TRSM_NB-row diagonal blocks by "
                     "substitution, off-diagonal updates by GEMM; all 8 cases reduced to "
                     "left/lower/no-transpose by strides",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §3.1",
        "flops": "m*m*n (left) or m*n*n (right)",
    },
}


def blocking():
    """The triangular-solve block size (src/_blocking.pxd) and the thread limit."""
    return {"NB": TRSM_NB, "threads": max_threads()}


cdef inline Py_ssize_t batch_offset(Py_ssize_t b, Py_ssize_t nd, const Py_ssize_t* shape,
                                    const Py_ssize_t* strides) noexcept nogil:
    """Element offset of the b-th matrix of a C-ordered batch of shape `shape`."""
    cdef Py_ssize_t d, off = 0
    for d in range(nd - 1, -1, -1):
        off += (b % shape[d]) * strides[d]
        b = b // shape[d]
    return off


cdef int _solve_one(Py_ssize_t t, bint left, bint lower, bint trans, bint unit,
                    Py_ssize_t m, Py_ssize_t n, real alpha, const real* a, const Py_ssize_t* sa,
                    real* b, const Py_ssize_t* sb, Py_ssize_t nd, const Py_ssize_t* shape,
                    int* info, int n_threads) noexcept nogil:
    """Solve slice t unless its A has a zero diagonal; info[t] := its status."""
    cdef Py_ssize_t order = m if left else n
    cdef const real* at = a + batch_offset(t, nd, shape, sa + 2)
    cdef Py_ssize_t k = 0
    if not unit:
        k = first_zero_diagonal(order, at, sa[0], sa[1])
    info[t] = <int>k
    if k:                       # leave B as it was: the caller reports or NaN-fills it
        return INFO_OK
    return trsm(left, lower, trans, unit, m, n, alpha, at, sa[0], sa[1],
                b + batch_offset(t, nd, shape, sb + 2), sb[0], sb[1], n_threads)


cdef int _trsm_batched(bint left, bint lower, bint trans, bint unit, Py_ssize_t m,
                       Py_ssize_t n, real alpha, const real* a, real* b, int* info,
                       Py_ssize_t nd, const Py_ssize_t* shape, const Py_ssize_t* sa,
                       const Py_ssize_t* sb, int n_threads) noexcept nogil:
    """Every slice of the batch: large solves one after another, each on all threads;
    smaller ones whole per thread when the batch is big enough to pay for the region."""
    cdef Py_ssize_t n_batch = 1, d, t, order = m if left else n
    cdef Py_ssize_t work = order * m * n
    cdef int failures = 0
    for d in range(nd):
        n_batch *= shape[d]
    if n_threads > 1 and n_batch > 1 and work < PARALLEL_MIN_MNK \
            and n_batch * (work + m * n) >= PARALLEL_MIN_MNK:
        for t in prange(n_batch, num_threads=n_threads, schedule='static'):
            failures += _solve_one(t, left, lower, trans, unit, m, n, alpha, a, sa,
                                   b, sb, nd, shape, info, 1) != INFO_OK
        return INFO_NO_MEMORY if failures else INFO_OK
    for t in range(n_batch):
        if _solve_one(t, left, lower, trans, unit, m, n, alpha, a, sa, b, sb, nd, shape,
                      info, n_threads) != INFO_OK:
            return INFO_NO_MEMORY
    return INFO_OK


def trsm_batched(cnp.ndarray a, cnp.ndarray b, cnp.ndarray info, Py_ssize_t m, Py_ssize_t n,
                 cnp.ndarray shape, cnp.ndarray strides, bint left=True, bint lower=False,
                 bint trans=False, bint unit_diagonal=False, double alpha=1.0):
    """B[t] := alpha op(A[t])^-1 B[t] (left) or alpha B[t] op(A[t])^-1, in place, for
    every t of a batch; returns the kernel status (0 = ok, INFO_NO_MEMORY).

    a, b: arrays of one dtype (float32 or float64) whose data pointers address the
    first matrix; B (m x n) is overwritten, A (m x m or n x n) only read.  info: int32,
    C-contiguous, one element per batch slice: k > 0 where A[t] has its first exactly
    zero diagonal element at k (1-based; B[t] is then left unchanged), else 0 (always 0
    with unit_diagonal).  shape: intp (nd,) batch shape; strides: intp (2, 2 + nd), per
    operand (row stride, column stride, batch strides...) in elements.
    """
    cdef Py_ssize_t nd = cnp.PyArray_DIM(shape, 0)
    cdef const Py_ssize_t* sh = <const Py_ssize_t*>cnp.PyArray_DATA(shape)
    cdef const Py_ssize_t* st = <const Py_ssize_t*>cnp.PyArray_DATA(strides)
    cdef int* inf = <int*>cnp.PyArray_DATA(info)
    cdef int typenum = cnp.PyArray_TYPE(b), status = INFO_OK
    cdef int n_threads = max_threads()
    if cnp.PyArray_TYPE(a) != typenum or cnp.PyArray_TYPE(info) != cnp.NPY_INT32:
        raise TypeError("trsm_batched: a and b of one dtype and int32 info expected")
    if m == 0 or n == 0:
        info[...] = 0
        return INFO_OK
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            status = _trsm_batched[double](
                left, lower, trans, unit_diagonal, m, n, alpha,
                <double*>cnp.PyArray_DATA(a), <double*>cnp.PyArray_DATA(b), inf,
                nd, sh, st, st + 2 + nd, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            status = _trsm_batched[float](
                left, lower, trans, unit_diagonal, m, n, <float>alpha,
                <float*>cnp.PyArray_DATA(a), <float*>cnp.PyArray_DATA(b), inf,
                nd, sh, st, st + 2 + nd, n_threads)
    else:
        raise TypeError("trsm_batched: float32 or float64 arrays expected")
    return status


cdef inline Py_ssize_t _solve_2d(bint lower, bint trans, bint unit, Py_ssize_t m, Py_ssize_t n,
                                 const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                                 real* b, Py_ssize_t rsb, Py_ssize_t csb) noexcept:
    """One solve: first zero diagonal (1-based) if any, else 0 after solving; -1 if the
    workspace failed.  The GIL is released only when threads may pay."""
    cdef Py_ssize_t k = 0 if unit else first_zero_diagonal(m, a, rsa, csa)
    cdef int status
    if k or n == 0:
        return k
    if m * m * n < PARALLEL_MIN_MNK:      # microseconds: not worth a GIL round trip
        status = trsm(True, lower, trans, unit, m, n, 1, a, rsa, csa, b, rsb, csb, 1)
    else:
        with nogil:
            status = trsm(True, lower, trans, unit, m, n, 1, a, rsa, csa, b, rsb, csb,
                          max_threads())
    return -1 if status != INFO_OK else 0


def trsm_2d(cnp.ndarray a, cnp.ndarray b, bint lower=False, bint trans=False,
            bint unit_diagonal=False):
    """b := op(a)^-1 b in place for one m x m `a` and b of shape (m,) or (m, n); returns
    the 1-based index of a's first exactly zero diagonal element (b then unchanged),
    or 0.  The path for a single solve: no batch description, no OpenMP region for
    small problems.  Both arrays of one dtype (float32 or float64), aligned, strides
    in whole elements (the caller guarantees it; fastla._validate.kernel_operand).
    """
    cdef int typenum = cnp.PyArray_TYPE(b)
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(b), m = cnp.PyArray_DIM(a, 0), n, k
    cdef Py_ssize_t rsa = cnp.PyArray_STRIDE(a, 0) // item, csa = cnp.PyArray_STRIDE(a, 1) // item
    cdef Py_ssize_t rsb = cnp.PyArray_STRIDE(b, 0) // item, csb = 1
    if cnp.PyArray_TYPE(a) != typenum:
        raise TypeError("trsm_2d: a and b of one dtype expected")
    if cnp.PyArray_NDIM(b) == 2:
        n = cnp.PyArray_DIM(b, 1)
        csb = cnp.PyArray_STRIDE(b, 1) // item
    else:
        n = 1
    if typenum == cnp.NPY_DOUBLE:
        k = _solve_2d[double](lower, trans, unit_diagonal, m, n,
                              <double*>cnp.PyArray_DATA(a), rsa, csa,
                              <double*>cnp.PyArray_DATA(b), rsb, csb)
    elif typenum == cnp.NPY_FLOAT:
        k = _solve_2d[float](lower, trans, unit_diagonal, m, n,
                             <float*>cnp.PyArray_DATA(a), rsa, csa,
                             <float*>cnp.PyArray_DATA(b), rsb, csb)
    else:
        raise TypeError("trsm_2d: float32 or float64 arrays expected")
    if k < 0:
        raise MemoryError("fastla: not enough memory for the GEMM workspace")
    return k

"""Drivers for the GEMM kernels of gemm.pxd: batched matmul and the small-call path.

The Python layer (fastla/linalg/_gemm.py) validates, promotes and broadcasts; these
drivers receive arrays of one floating dtype whose strides are whole elements, pick
the fused specialisation once, and loop over the batch without the GIL.
"""

cimport numpy as cnp
from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport (GEMM_MR_D, GEMM_NR_D, GEMM_MR_S, GEMM_NR_S, GEMM_KC,
                        GEMM_MC, GEMM_NC, GEMM_SMALL_MNK, PARALLEL_MIN_MNK)
from _threads cimport max_threads
from _memory cimport aligned_alloc64, aligned_free
from gemm cimport (K2, K3, K4, K5, K6, K7, K8, K16, K32, fixed_k, gemm, gemm_fixed, gemm_small,
                  gemm_is_small, gemm_packed, gemm_workspace)

cnp.import_array()

KERNELS = {
    "gemm": {
        "computes": "C := alpha*A*B + beta*C",
        "algorithm": "BLIS five-loop packed GEMM with an MR x NR register-blocked micro-kernel",
        "citation": "Van Zee & van de Geijn, BLIS, ACM TOMS 41(3), 2015; "
                    "Goto & van de Geijn, ACM TOMS 34(3), 2008",
        "flops": "2*m*n*k",
    },
}


def blocking():
    """The GEMM blocking parameters per dtype (src/_blocking.pxd) and the thread limit."""
    common = {"KC": GEMM_KC, "MC": GEMM_MC, "NC": GEMM_NC,
              "small_mnk": GEMM_SMALL_MNK, "parallel_min_mnk": PARALLEL_MIN_MNK,
              "threads": max_threads()}
    return {
        "float64": {"MR": GEMM_MR_D, "NR": GEMM_NR_D, **common},
        "float32": {"MR": GEMM_MR_S, "NR": GEMM_NR_S, **common},
    }


cdef inline Py_ssize_t batch_offset(Py_ssize_t b, Py_ssize_t nd, const Py_ssize_t* shape,
                                    const Py_ssize_t* strides) noexcept nogil:
    """Element offset of the b-th matrix of a C-ordered batch of shape `shape`."""
    cdef Py_ssize_t d, off = 0
    if nd == 1:
        return b * strides[0]
    for d in range(nd - 1, -1, -1):
        off += (b % shape[d]) * strides[d]
        b = b // shape[d]
    return off


cdef void _fixed_batch(fixed_k* size, Py_ssize_t nd, const Py_ssize_t* shape,
                       const real* a, const Py_ssize_t* sa, const real* b, const Py_ssize_t* sb,
                       real* c, const Py_ssize_t* sc,
                       Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Products first..last-1 of a batch of k x k matrices, k fixed by `size`."""
    cdef Py_ssize_t t
    for t in range(first, last):
        gemm_fixed(size, a + batch_offset(t, nd, shape, sa + 2), sa[0],
                   b + batch_offset(t, nd, shape, sb + 2), sb[0],
                   c + batch_offset(t, nd, shape, sc + 2), sc[0])


cdef inline bint _fixed_size_batch(Py_ssize_t nd, const Py_ssize_t* shape,
                                   const real* a, const Py_ssize_t* sa,
                                   const real* b, const Py_ssize_t* sb,
                                   real* c, const Py_ssize_t* sc,
                                   Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                                   Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Products first..last-1 through gemm_fixed if they are k x k with a compiled k
    (2-8, 16, 32) and unit column strides; returns whether it did them.

    Literal sizes measured 2-8x faster than the run-time-sized kernels.
    """
    if m == n and n == k and sa[1] == 1 and sb[1] == 1 and sc[1] == 1:
        if k == 2:
            _fixed_batch(<K2*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 3:
            _fixed_batch(<K3*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 4:
            _fixed_batch(<K4*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 5:
            _fixed_batch(<K5*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 6:
            _fixed_batch(<K6*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 7:
            _fixed_batch(<K7*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 8:
            _fixed_batch(<K8*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 16:
            _fixed_batch(<K16*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
        if k == 32:
            _fixed_batch(<K32*>NULL, nd, shape, a, sa, b, sb, c, sc, first, last)
            return True
    return False


cdef int _batch_chunk(Py_ssize_t nd, const Py_ssize_t* shape,
                      const real* a, const Py_ssize_t* sa, const real* b, const Py_ssize_t* sb,
                      real* c, const Py_ssize_t* sc, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                      Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Products first..last-1 on one thread, with one workspace for the whole chunk."""
    cdef Py_ssize_t t
    cdef real* work
    if _fixed_size_batch(nd, shape, a, sa, b, sb, c, sc, m, n, k, first, last):
        return INFO_OK
    if gemm_is_small(m, n, k):
        for t in range(first, last):
            gemm_small(m, n, k, 1, a + batch_offset(t, nd, shape, sa + 2), sa[0], sa[1],
                       b + batch_offset(t, nd, shape, sb + 2), sb[0], sb[1],
                       0, c + batch_offset(t, nd, shape, sc + 2), sc[0], sc[1])
        return INFO_OK
    work = <real*>aligned_alloc64(gemm_workspace(n, k) * sizeof(real))
    if work == NULL:
        return INFO_NO_MEMORY
    for t in range(first, last):
        gemm_packed(m, n, k, 1, a + batch_offset(t, nd, shape, sa + 2), sa[0], sa[1],
                    b + batch_offset(t, nd, shape, sb + 2), sb[0], sb[1],
                    0, c + batch_offset(t, nd, shape, sc + 2), sc[0], sc[1], work)
    aligned_free(work)
    return INFO_OK


cdef int _matmul_batched(real* a, real* b, real* c, Py_ssize_t m, Py_ssize_t n,
                         Py_ssize_t k, Py_ssize_t nd, const Py_ssize_t* shape,
                         const Py_ssize_t* sa, const Py_ssize_t* sb, const Py_ssize_t* sc,
                         int n_threads) noexcept nogil:
    """C[t] := A[t] @ B[t] for every t of the batch; returns INFO_OK or INFO_NO_MEMORY.

    # IN  a, b: first elements; sa/sb/sc = (row stride, col stride, batch strides...)
    # OUT c: written, never read
    Large products run one at a time on a parallel GEMM; smaller ones run whole
    products per thread, one contiguous chunk of the batch each.
    """
    cdef Py_ssize_t n_batch = 1, d, t, chunk
    cdef int failures = 0
    for d in range(nd):
        n_batch *= shape[d]
    if n_batch == 0 or m == 0 or n == 0:
        return INFO_OK
    if k == 0 or m * n * k >= PARALLEL_MIN_MNK:
        for t in range(n_batch):
            if gemm(m, n, k, 1, a + batch_offset(t, nd, shape, sa + 2), sa[0], sa[1],
                    b + batch_offset(t, nd, shape, sb + 2), sb[0], sb[1],
                    0, c + batch_offset(t, nd, shape, sc + 2), sc[0], sc[1],
                    n_threads) != INFO_OK:
                return INFO_NO_MEMORY
        return INFO_OK
    if n_threads > 1 and n_batch * (m * n * k + m * n) >= PARALLEL_MIN_MNK:
        chunk = (n_batch + n_threads - 1) // n_threads
        for t in prange(n_threads, num_threads=n_threads, schedule='static'):
            if t * chunk < n_batch:
                failures += _batch_chunk(nd, shape, a, sa, b, sb, c, sc, m, n, k,
                                         t * chunk, min(t * chunk + chunk, n_batch)) != INFO_OK
        return INFO_NO_MEMORY if failures else INFO_OK
    return _batch_chunk(nd, shape, a, sa, b, sb, c, sc, m, n, k, 0, n_batch)


def matmul_batched(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, Py_ssize_t m, Py_ssize_t n,
                   Py_ssize_t k, cnp.ndarray shape, cnp.ndarray strides):
    """C[t] := A[t] @ B[t] over a batch; returns the kernel status (0 = ok).

    a, b, c: arrays of one dtype (float32 or float64) whose data pointers address the
    first matrix; shape: intp (nd,) batch shape; strides: intp (3, 2 + nd), per operand
    (row stride, column stride, batch strides...) in elements.  Uses up to OpenMP's
    thread limit (OMP_NUM_THREADS, threadpoolctl).
    """
    cdef Py_ssize_t nd = cnp.PyArray_DIM(shape, 0)
    cdef const Py_ssize_t* sh = <const Py_ssize_t*>cnp.PyArray_DATA(shape)
    cdef const Py_ssize_t* st = <const Py_ssize_t*>cnp.PyArray_DATA(strides)
    cdef Py_ssize_t row = 2 + nd
    cdef int typenum = cnp.PyArray_TYPE(c), status
    cdef int n_threads = max_threads()
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            status = _matmul_batched[double](
                <double*>cnp.PyArray_DATA(a), <double*>cnp.PyArray_DATA(b),
                <double*>cnp.PyArray_DATA(c), m, n, k, nd, sh, st, st + row, st + 2 * row,
                n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            status = _matmul_batched[float](
                <float*>cnp.PyArray_DATA(a), <float*>cnp.PyArray_DATA(b),
                <float*>cnp.PyArray_DATA(c), m, n, k, nd, sh, st, st + row, st + 2 * row,
                n_threads)
    else:
        raise TypeError("matmul_batched: float32 or float64 arrays expected")
    return status


cdef inline int _matmul_2d(real* a, Py_ssize_t rsa, Py_ssize_t csa, real* b,
                           Py_ssize_t rsb, Py_ssize_t csb, real* c, Py_ssize_t m,
                           Py_ssize_t n, Py_ssize_t k) noexcept:
    """C := A @ B for one product; the GIL is released only when threads may pay."""
    cdef int status
    cdef Py_ssize_t sa[2]
    cdef Py_ssize_t sb[2]
    cdef Py_ssize_t sc[2]
    sa[0] = rsa; sa[1] = csa; sb[0] = rsb; sb[1] = csb; sc[0] = n; sc[1] = 1
    if _fixed_size_batch(0, NULL, a, sa, b, sb, c, sc, m, n, k, 0, 1):
        return INFO_OK
    if m * n * k < PARALLEL_MIN_MNK:      # microseconds: not worth a GIL round trip
        return gemm(m, n, k, 1, a, rsa, csa, b, rsb, csb, 0, c, n, 1, 1)
    with nogil:
        status = gemm(m, n, k, 1, a, rsa, csa, b, rsb, csb, 0, c, n, 1, max_threads())
    return status


def matmul_2d(x1, x2):
    """x1 @ x2 for two aligned 2-D ndarrays of one float dtype, else None.

    The path for a single product: no validation layer (nothing to promote or
    broadcast), one PyArray_EMPTY, and for small products no GIL release, workspace
    or OpenMP region.  Anything it does not accept goes the general way.
    """
    if type(x1) is not cnp.ndarray or type(x2) is not cnp.ndarray:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x1
    cdef cnp.ndarray b = <cnp.ndarray>x2
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_NDIM(b) != 2:
        return None
    cdef int typenum = cnp.PyArray_TYPE(a)
    if cnp.PyArray_TYPE(b) != typenum or (typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT):
        return None
    if not (cnp.PyArray_ISALIGNED(a) and cnp.PyArray_ISALIGNED(b)):
        return None
    cdef Py_ssize_t m = cnp.PyArray_DIM(a, 0), k = cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t n = cnp.PyArray_DIM(b, 1)
    if cnp.PyArray_DIM(b, 0) != k:
        return None
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    cdef Py_ssize_t rsa = cnp.PyArray_STRIDE(a, 0), csa = cnp.PyArray_STRIDE(a, 1)
    cdef Py_ssize_t rsb = cnp.PyArray_STRIDE(b, 0), csb = cnp.PyArray_STRIDE(b, 1)
    if (rsa % item) or (csa % item) or (rsb % item) or (csb % item):
        return None
    cdef cnp.npy_intp dims[2]
    dims[0] = m
    dims[1] = n
    cdef cnp.ndarray c = cnp.PyArray_EMPTY(2, dims, typenum, 0)
    cdef int status
    if typenum == cnp.NPY_DOUBLE:
        status = _matmul_2d[double](<double*>cnp.PyArray_DATA(a), rsa // item, csa // item,
                                    <double*>cnp.PyArray_DATA(b), rsb // item, csb // item,
                                    <double*>cnp.PyArray_DATA(c), m, n, k)
    else:
        status = _matmul_2d[float](<float*>cnp.PyArray_DATA(a), rsa // item, csa // item,
                                   <float*>cnp.PyArray_DATA(b), rsb // item, csb // item,
                                   <float*>cnp.PyArray_DATA(c), m, n, k)
    if status != INFO_OK:
        raise MemoryError("fastla: not enough memory for the GEMM workspace")
    return c

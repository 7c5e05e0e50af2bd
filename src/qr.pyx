"""Drivers for the Householder QR kernels of qr.pxd: batched factor and Q.

The Python layer (fastla/linalg/_qr.py) validates, promotes and batches, and hands
these drivers C-contiguous working copies ((N, m, n) stacks of one floating dtype)
that they overwrite.  Each driver picks the fused specialisation once and loops over
the batch without the GIL: large matrices run one at a time on the blocked geqrf /
orgqr (threads inside the GEMM); small ones whole matrices per thread (OpenMP over
the batch) on the unblocked geqr2 / org2r when the total work pays for it.  Stacks of
k x k matrices with k <= 8 or k = 16 take qr_small: QR_LANES matrices at a time in
interleaved lanes (qr.pxd), read straight from the caller's array (any strides, no
working copy) and written straight into the results.  Tall-skinny matrices, when only
R and Q are wanted, take tsqr_batched: TSQR, also reading the caller's array in place.
"""

cimport numpy as cnp
from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport QR_NB, QR_NB_Q, QR_SMALL_MN, PARALLEL_MIN_MNK
from _memory cimport aligned_alloc64, aligned_free
from _threads cimport max_threads
from gemm cimport fixed_k, K2, K3, K4, K5, K6, K7, K8, K16, imin, imax
from lu cimport fixed_size
from cholesky cimport gather_ahead, lanes_scatter, GATHER_RUN
from qr cimport (QR_LANES, geqr2, org2r, geqrf, orgqr, geqr2_lanes, org2r_lanes,
                tsqr, tsqr_fits)

cnp.import_array()

KERNELS = {
    "geqrf": {
        "computes": "A = Q R (Householder, LAPACK's reflectors: R and V in A, tau)",
        "algorithm": f"blocked Householder QR, compact WY I - V T V^T on panels of {QR_NB} "
                     "columns (geqr2 panel, larft from a GEMM Gram matrix, larfb as two "
                     "GEMMs); unblocked geqr2 below that",
        "citation": "Schreiber & Van Loan, SIAM J. Sci. Stat. Comput. 10(1), 1989; "
                    "Golub & Van Loan, Matrix Computations, 4th ed., §5.2",
        "flops": "2*m*n**2 - 2*n**3/3 (m >= n)",
    },
    "orgqr": {
        "computes": "Q = H_0 ... H_{k-1} [I; 0] (m x mc)",
        "algorithm": f"blocked backwards, panels of {QR_NB_Q} reflectors (T by larft, "
                     "larfb as two GEMMs)",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §5.1.6, §5.2.3",
        "flops": "4*m*n*k - 2*(m + n)*k**2 + 4*k**3/3 (n = mc)",
    },
    "tsqr": {
        "computes": "R and Q of a tall-skinny A, equal to Householder QR's",
        "algorithm": "TSQR, one reduction level: L2-sized row blocks factored column-major, "
                     "one thread per block; the stacked R factored once more; Householder "
                     "signs from an LU of the top of Q (Ballard et al.)",
        "citation": "Demmel, Grigori, Hoemmen & Langou, SIAM J. Sci. Comput. 34(1), 2012; "
                    "Ballard et al., J. Parallel Distrib. Comput. 85, 2015",
        "flops": "2*m*n**2 (+ 2*m*n**2 for Q) + O(m*n**2/b) for the stacked R",
    },
    "geqr2_lanes": {
        "computes": "QR of stacks of k x k, k <= 8 or 16",
        "algorithm": "unblocked Householder QR and org2r on 4 matrices interleaved per "
                     "vector (lanes = matrices), compiled per literal k",
        "citation": "Golub & Van Loan, Matrix Computations, 4th ed., §5.2",
        "flops": "4*k**3/3 (+ 4*k**3/3 for Q) per matrix",
    },
}


cdef int _one(Py_ssize_t m, Py_ssize_t n, Py_ssize_t mc, real* a, real* tau, real* q,
              real* work, int n_threads) noexcept nogil:
    """Factor one row-major m x n matrix (and form its m x mc Q if q is not NULL).

    # IN  work: max(n, mc) elements (the unblocked path)
    """
    cdef Py_ssize_t k = imin(m, n)
    cdef int info
    if m * n <= QR_SMALL_MN:            # small: unblocked, in place, no allocation
        geqr2(m, n, a, n, 1, tau, work)
        if q != NULL:
            org2r(m, mc, k, a, n, 1, tau, q, mc, 1, work)
        return INFO_OK
    info = geqrf(m, n, a, n, 1, tau, NULL, n_threads)
    if info == INFO_OK and q != NULL:
        info = orgqr(m, mc, k, a, n, 1, tau, q, mc, 1, n_threads)
    return info


cdef void _chunk(Py_ssize_t m, Py_ssize_t n, Py_ssize_t mc, real* a, real* tau, real* q,
                 int* info, Py_ssize_t first, Py_ssize_t last, int n_threads) noexcept nogil:
    """Matrices first..last-1 of the batch, on one thread (n_threads goes to the GEMM)."""
    cdef Py_ssize_t t, k = imin(m, n)
    cdef real* work = <real*>aligned_alloc64(imax(n, mc) * sizeof(real))
    if work == NULL:
        for t in range(first, last):
            info[t] = INFO_NO_MEMORY
        return
    for t in range(first, last):
        info[t] = _one(m, n, mc, a + t * m * n, tau + t * k,
                       q + t * m * mc if q != NULL else NULL, work, n_threads)
    aligned_free(work)


cdef void _batched(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, Py_ssize_t mc, real* a,
                   real* tau, real* q, int* info, int n_threads) noexcept nogil:
    """The whole batch: large matrices one at a time (threads in the GEMM); smaller ones
    whole matrices per thread, one contiguous chunk each, when the work (~m n^2 plus
    m n mc for Q, plus a fixed ~32 per matrix) pays for an OpenMP region."""
    cdef Py_ssize_t t, chunk, work = m * n * imin(m, n) + (m * mc * imin(m, n) if q != NULL else 0)
    if n_batch == 0:
        return
    if work >= PARALLEL_MIN_MNK or n_threads == 1 or n_batch * (work + 32) < PARALLEL_MIN_MNK:
        _chunk(m, n, mc, a, tau, q, info, 0, n_batch, n_threads)
        return
    chunk = (n_batch + n_threads - 1) // n_threads
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        if t * chunk < n_batch:
            _chunk(m, n, mc, a, tau, q, info, t * chunk, min(t * chunk + chunk, n_batch), 1)


def qr_batched(cnp.ndarray a, cnp.ndarray tau, cnp.ndarray q, cnp.ndarray info):
    """a[t] := R and reflectors (LAPACK geqrf layout, row-major), tau[t]; and, if q is
    not None, q[t] := the first mc columns of Q.  a: C-contiguous (N, m, n); tau
    (N, min(m, n)) and q (N, m, mc) of a's dtype; info (N,) int32 (0, < 0 no memory)."""
    if cnp.PyArray_NDIM(a) != 3 or not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("qr driver: a must be a C-contiguous (N, m, n) stack")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(a, 0), m = cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t n = cnp.PyArray_DIM(a, 2), mc = 0
    cdef int typenum = cnp.PyArray_TYPE(a), n_threads = max_threads()
    if (cnp.PyArray_TYPE(tau) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(tau)
            or cnp.PyArray_SIZE(tau) != n_batch * min(m, n)):
        raise ValueError("qr driver: tau must be a C-contiguous (N, min(m, n)) array of a's dtype")
    if q is not None:
        if (cnp.PyArray_TYPE(q) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(q)
                or cnp.PyArray_NDIM(q) != 3 or cnp.PyArray_DIM(q, 0) != n_batch
                or cnp.PyArray_DIM(q, 1) != m):
            raise ValueError("qr driver: q must be a C-contiguous (N, m, mc) stack of a's dtype")
        mc = cnp.PyArray_DIM(q, 2)
        if not min(m, n) <= mc <= m:
            raise ValueError("qr driver: q needs min(m, n) <= mc <= m columns")
    if (cnp.PyArray_TYPE(info) != cnp.NPY_INT32 or not cnp.PyArray_IS_C_CONTIGUOUS(info)
            or cnp.PyArray_SIZE(info) != n_batch):
        raise ValueError("qr driver: info must be a C-contiguous int32 (N,) array")
    cdef void* qp = cnp.PyArray_DATA(q) if q is not None else NULL
    cdef int* ip = <int*>cnp.PyArray_DATA(info)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _batched[double](n_batch, m, n, mc, <double*>cnp.PyArray_DATA(a),
                             <double*>cnp.PyArray_DATA(tau), <double*>qp, ip, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _batched[float](n_batch, m, n, mc, <float*>cnp.PyArray_DATA(a),
                            <float*>cnp.PyArray_DATA(tau), <float*>qp, ip, n_threads)
    else:
        raise TypeError("qr driver: float32 or float64 arrays expected")


# ------------------------------------------------------------ stacks of small k x k

cdef inline void _store_group(fixed_k* size, Py_ssize_t count, bint blocks, const double* x,
                              real* out) noexcept nogil:
    """The group's first count matrices of x to row-major storage at out, rounded to
    real: by block transposes (blocks: a full float64 group), else element by element."""
    cdef Py_ssize_t kk = fixed_size(size) * fixed_size(size), l, i
    if count == QR_LANES and blocks:
        lanes_scatter(size, x, <double*>out)
    else:
        for l in range(count):
            for i in range(kk):
                out[l * kk + i] = <real>x[i * QR_LANES + l]


cdef void _small_chunk(fixed_k* size, const real* a, Py_ssize_t sb, Py_ssize_t rs,
                       Py_ssize_t cs, real* r, real* q, real* tau, bint raw,
                       Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Matrices first..last-1, QR_LANES at a time, on one thread.

    # IN  a[t*sb + i*rs + j*cs] (element strides)
    # OUT r (N, k, k): R with zeros below (raw: the geqrf factors); q (N, k, k) or NULL;
    #     tau (N, k) or NULL -- all C-contiguous
    """
    cdef Py_ssize_t k = fixed_size(size), g, t, l, i, j, count, kk = k * k, r0 = -1
    cdef double x[16 * 16 * QR_LANES]
    cdef double y[16 * 16 * QR_LANES]
    cdef double tv[16 * QR_LANES]
    cdef double run[GATHER_RUN]
    # float64 groups of k >= 7 move by 8 x 8 block transposes (cholesky.pxd; LANES ==
    # QR_LANES), reading consecutive row-major matrices through gather_ahead: the
    # element loops below were a third of 100000 x 8 x 8 qr's time (one thread, ns per
    # matrix, 'r' / 'reduced': k = 8 215 / 400 -> 194 / 355, k = 16 981 / 1682 ->
    # 796 / 1456); k = 4-6 were no faster.
    cdef bint blocks = real is double and k >= 7 and sb == kk and rs == k and cs == 1
    for g in range((last - first + QR_LANES - 1) // QR_LANES):
        t = first + g * QR_LANES
        count = imin(QR_LANES, last - t)
        if count == QR_LANES and blocks:
            gather_ahead(size, <const double*>a, t, last, &r0, run, x)
        elif count == QR_LANES and cs == 1 and rs == k:
            for l in range(QR_LANES):             # rows contiguous: one run per matrix
                for i in range(kk):
                    x[i * QR_LANES + l] = a[(t + l) * sb + i]
        else:
            for i in range(kk * QR_LANES):
                x[i] = 0                          # padding lanes factor a zero matrix
            for l in range(count):
                for i in range(k):
                    for j in range(k):
                        x[(i * k + j) * QR_LANES + l] = a[(t + l) * sb + i * rs + j * cs]
        geqr2_lanes(size, x, tv)
        if q != NULL:
            org2r_lanes(size, x, tv, y)
            _store_group(size, count, blocks, y, q + t * kk)
        if not raw:
            for i in range(1, k):                 # R: zeros below the diagonal
                for j in range(i * k * QR_LANES, (i * k + i) * QR_LANES):
                    x[j] = 0
        _store_group(size, count, blocks, x, r + t * kk)
        if tau != NULL:
            for l in range(count):
                for j in range(k):
                    tau[(t + l) * k + j] = <real>tv[j * QR_LANES + l]


cdef void _small_batched(fixed_k* size, Py_ssize_t n_batch, const real* a, Py_ssize_t sb,
                         Py_ssize_t rs, Py_ssize_t cs, real* r, real* q, real* tau, bint raw,
                         int n_threads) noexcept nogil:
    """The batch in one chunk per thread when it pays (~2 k^3 per matrix for R, as
    much again for Q, plus ~32 for the loads and stores)."""
    cdef Py_ssize_t t, chunk, k = fixed_size(size)
    cdef Py_ssize_t work = 2 * k * k * k * (2 if q != NULL else 1) + 32
    if n_threads == 1 or n_batch * work < PARALLEL_MIN_MNK:
        _small_chunk(size, a, sb, rs, cs, r, q, tau, raw, 0, n_batch)
        return
    # whole groups of lanes per thread, so no group straddles two chunks
    chunk = ((n_batch + n_threads - 1) // n_threads + QR_LANES - 1) // QR_LANES * QR_LANES
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        if t * chunk < n_batch:
            _small_chunk(size, a, sb, rs, cs, r, q, tau, raw, t * chunk,
                         min(t * chunk + chunk, n_batch))


cdef void _small_sizes(Py_ssize_t k, Py_ssize_t n_batch, const real* a, Py_ssize_t sb,
                       Py_ssize_t rs, Py_ssize_t cs, real* r, real* q, real* tau, bint raw,
                       int n_threads) noexcept nogil:
    if k == 2:
        _small_batched(<K2*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 3:
        _small_batched(<K3*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 4:
        _small_batched(<K4*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 5:
        _small_batched(<K5*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 6:
        _small_batched(<K6*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 7:
        _small_batched(<K7*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    elif k == 8:
        _small_batched(<K8*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)
    else:
        _small_batched(<K16*>NULL, n_batch, a, sb, rs, cs, r, q, tau, raw, n_threads)


SMALL_SIZES = (2, 3, 4, 5, 6, 7, 8, 16)


def qr_small(cnp.ndarray a, cnp.ndarray r, cnp.ndarray q, cnp.ndarray tau, bint raw):
    """QR of a stack a (N, k, k), k in SMALL_SIZES, float32 or float64, aligned, any
    element strides, read in place (computed in double).  r (N, k, k) := R (raw: the
    geqrf factors, row-major), q (N, k, k) := Q unless None, tau (N, k) unless None;
    all C-contiguous of a's dtype."""
    if cnp.PyArray_NDIM(a) != 3 or cnp.PyArray_DIM(a, 1) != cnp.PyArray_DIM(a, 2) \
            or cnp.PyArray_DIM(a, 1) not in SMALL_SIZES or not cnp.PyArray_ISALIGNED(a):
        raise ValueError("qr driver: a must be an aligned (N, k, k) stack, k in SMALL_SIZES")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(a, 0), k = cnp.PyArray_DIM(a, 1)
    cdef int typenum = cnp.PyArray_TYPE(a), n_threads = max_threads()
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a)
    cdef Py_ssize_t sb = cnp.PyArray_STRIDE(a, 0), rs = cnp.PyArray_STRIDE(a, 1)
    cdef Py_ssize_t cs = cnp.PyArray_STRIDE(a, 2)
    if sb % item or rs % item or cs % item:
        raise ValueError("qr driver: a's strides must be whole elements")
    for x, size in ((r, n_batch * k * k), (q, n_batch * k * k), (tau, n_batch * k)):
        if x is not None and (cnp.PyArray_TYPE(x) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(x)
                              or cnp.PyArray_SIZE(x) != size):
            raise ValueError("qr driver: r, q and tau must be C-contiguous arrays of a's "
                             "dtype and size")
    if r is None:
        raise ValueError("qr driver: r is required")
    cdef void* qp = cnp.PyArray_DATA(q) if q is not None else NULL
    cdef void* tp = cnp.PyArray_DATA(tau) if tau is not None else NULL
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _small_sizes[double](k, n_batch, <double*>cnp.PyArray_DATA(a), sb // item, rs // item,
                                 cs // item, <double*>cnp.PyArray_DATA(r), <double*>qp,
                                 <double*>tp, raw, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _small_sizes[float](k, n_batch, <float*>cnp.PyArray_DATA(a), sb // item, rs // item,
                                cs // item, <float*>cnp.PyArray_DATA(r), <float*>qp,
                                <float*>tp, raw, n_threads)
    else:
        raise TypeError("qr driver: float32 or float64 arrays expected")


# ------------------------------------------------------------------- tall-skinny

def tsqr_takes(Py_ssize_t m, Py_ssize_t n):
    """Whether tsqr_batched takes m x n matrices (qr.pxd tsqr_fits)."""
    return tsqr_fits(m, n)


cdef void _tsqr_batched(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, const real* a,
                        Py_ssize_t sb, Py_ssize_t rs, Py_ssize_t cs, real* r, real* q,
                        int* info, int n_threads) noexcept nogil:
    cdef Py_ssize_t t
    for t in range(n_batch):
        info[t] = tsqr(m, n, a + t * sb, rs, cs, r + t * n * n,
                       q + t * m * n if q != NULL else NULL, n_threads)


def tsqr_batched(cnp.ndarray a, cnp.ndarray r, cnp.ndarray q, cnp.ndarray info):
    """r[t] := R (n x n) and, unless q is None, q[t] := Q (m x n) of the tall a[t]
    (tsqr_takes(m, n)), equal to Householder QR's.  a: aligned (N, m, n), any element
    strides, only read; r, q C-contiguous of a's dtype; info (N,) int32."""
    if cnp.PyArray_NDIM(a) != 3 or not cnp.PyArray_ISALIGNED(a):
        raise ValueError("qr driver: a must be an aligned (N, m, n) stack")
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(a, 0), m = cnp.PyArray_DIM(a, 1)
    cdef Py_ssize_t n = cnp.PyArray_DIM(a, 2), item = cnp.PyArray_ITEMSIZE(a)
    cdef Py_ssize_t sb = cnp.PyArray_STRIDE(a, 0), rs = cnp.PyArray_STRIDE(a, 1)
    cdef Py_ssize_t cs = cnp.PyArray_STRIDE(a, 2)
    cdef int typenum = cnp.PyArray_TYPE(a), n_threads = max_threads()
    if not tsqr_fits(m, n) or sb % item or rs % item or cs % item:
        raise ValueError("qr driver: a must be tall enough for TSQR, with element strides")
    for x, size in ((r, n_batch * n * n), (q, n_batch * m * n)):
        if x is not None and (cnp.PyArray_TYPE(x) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(x)
                              or cnp.PyArray_SIZE(x) != size):
            raise ValueError("qr driver: r and q must be C-contiguous arrays of a's dtype and size")
    if r is None or cnp.PyArray_TYPE(info) != cnp.NPY_INT32 or cnp.PyArray_SIZE(info) != n_batch \
            or not cnp.PyArray_IS_C_CONTIGUOUS(info):
        raise ValueError("qr driver: r and a C-contiguous int32 (N,) info are required")
    cdef void* qp = cnp.PyArray_DATA(q) if q is not None else NULL
    cdef int* ip = <int*>cnp.PyArray_DATA(info)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _tsqr_batched[double](n_batch, m, n, <double*>cnp.PyArray_DATA(a), sb // item,
                                  rs // item, cs // item, <double*>cnp.PyArray_DATA(r),
                                  <double*>qp, ip, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _tsqr_batched[float](n_batch, m, n, <float*>cnp.PyArray_DATA(a), sb // item,
                                 rs // item, cs // item, <float*>cnp.PyArray_DATA(r),
                                 <float*>qp, ip, n_threads)
    else:
        raise TypeError("qr driver: float32 or float64 arrays expected")

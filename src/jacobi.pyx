"""Drivers for the Jacobi kernels of jacobi.pxd: batched SVD and symmetric eigensolver.

The Python layer (fastla/linalg/_jacobi.py) validates, promotes and transposes, and
hands these drivers C-contiguous working stacks of one floating dtype that they
overwrite.  Each driver picks the fused specialisation once and loops over the batch
without the GIL; a stack whose total work pays for an OpenMP region runs whole
matrices per thread, each thread with its own workspace.
"""

import numpy as np
cimport numpy as cnp
from cython.parallel cimport parallel, prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from libc.math cimport sqrt

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport PARALLEL_MIN_MNK
from _threads cimport max_threads
from gemm cimport K2, K3, K4, K5, K6, K7, K8, K16
from lu cimport fixed_size
from qr cimport copy_strided
from cholesky cimport transpose8x8
from jacobi cimport (JLANES, DBL_EPSILON, DBL_MIN, FLT_MIN, eps_of, gesvj, gesvj_workspace,
                     gesvj_tall, gesvj_tall_workspace, tall_fits, INFO_PREPARE,
                     gesvj_lanes, use_tsqr, lanes_fit, lanes_gather, lanes_scatter, syevj,
                     syevj_lanes, eigh_one, syevj_chol_workspace)

cnp.import_array()

KERNELS = {
    "gesvj": {
        "computes": "A = U S V^T (singular values descending; U, V optional)",
        "algorithm": "row sorting and QR with column pivoting (geqp2, LAWN 176 norm "
                     "downdating), then one-sided Jacobi on R^T in de Rijk's order with "
                     "the relative orthogonality test",
        "citation": "Demmel & Veselic, SIAM J. Matrix Anal. Appl. 13(4), 1992; "
                    "Drmac & Veselic, SIAM J. Matrix Anal. Appl. 29(4), 2008; "
                    "Golub & Van Loan, Matrix Computations, 4th ed., §5.4.2, §8.6.3",
        "flops": "2*m*n**2 - 2*n**3/3 (QR) + about 3*n**3 per sweep (6*n**3 with V)",
    },
    "syevj": {
        "computes": "H = Z diag(w) Z^T (eigenvalues ascending; Z optional)",
        "algorithm": "order <= 40: cyclic-by-rows two-sided Jacobi with the relative "
                     "off-diagonal test; above: Cholesky of H (shifted to positive "
                     "definite if indefinite), then gesvj on the factor, w = s**2 - shift",
        "citation": "Demmel & Veselic, SIAM J. Matrix Anal. Appl. 13(4), 1992; "
                    "Veselic & Hari, Numer. Math. 56, 1989; "
                    "Golub & Van Loan, Matrix Computations, 4th ed., §8.5.3",
        "flops": "two-sided: about 4*n**3 per sweep (8*n**3 with Z); "
                 "Cholesky route: n**3/3 + gesvj's",
    },
}


cdef inline int _threads_for(Py_ssize_t n_batch, Py_ssize_t work_per_matrix) noexcept nogil:
    """Threads for a stack: one unless the whole stack is worth an OpenMP region."""
    cdef int nt = max_threads()
    if n_batch < 2 or n_batch * work_per_matrix < PARALLEL_MIN_MNK:
        return 1
    return nt if nt < n_batch else <int>n_batch


ctypedef fused lanes_k:
    K2
    K3
    K4
    K5
    K6
    K7
    K8
    K16


cdef int _svd_one(Py_ssize_t k, const real* a, real* s, real* ut, real* vh, real* m,
                  void* work) noexcept nogil:
    """gesvj on the k x k A at a (row-major, only read), through m (k*k reals): A's
    columns as m's rows, as svd_batched's working stacks hold them."""
    cdef Py_ssize_t r, j
    if work == NULL:
        return INFO_NO_MEMORY
    for j in range(k):
        for r in range(k):
            m[j * k + r] = a[r * k + j]
    return gesvj(k, k, m, k, s, ut, k if ut != NULL else 0, vh, NULL, 0, work)


cdef inline void _rows_by_rank(Py_ssize_t k, const real* src, const real* rank,
                               real* dst) noexcept nogil:
    """Row j of each of the JLANES k x k matrices at src to row rank[j*JLANES + l] of
    the matrix at dst (both row-major, one after another)."""
    cdef Py_ssize_t l, j
    for l in range(JLANES):
        for j in range(k):
            memcpy(dst + (l * k + <Py_ssize_t>rank[j * JLANES + l]) * k,
                   src + (l * k + j) * k, k * sizeof(real))


cdef void _svd_group(lanes_k* size, const real* a, real* s, real* ut, real* vh,
                     int* info, real* m, void* work) noexcept nogil:
    """JLANES square k x k SVDs at once, of the matrices A_l at a (row-major, only
    read); ut gets U^T, vh V^T.  The lanes take the columns of M = A^T, A's rows, so
    the gather is a plain interleave (no transpose, no working copy of the stack):
    M V_x = U_x S gives A = V_x S U_x^T, i.e. U^T = V_x^T and V^T = U_x^T, both rows
    of the lanes' layout.  Groups the lanes cannot take (jacobi.pxd, lanes_fit; a
    negligible column or no convergence) go one by one to gesvj (_svd_one)."""
    cdef Py_ssize_t k = fixed_size(size), l, i, j, r
    cdef real x[16 * 16 * JLANES]
    cdef real v[16 * 16 * JLANES]
    cdef real buf[16 * 16 * JLANES]
    cdef real sv[16 * JLANES]
    cdef real rank[16 * JLANES]
    cdef real inv[JLANES]
    # Columns whose squared norms lost digits to underflow (sum of squares below
    # REAL_MIN / eps) need gesvj's scaled path and completion.
    cdef real negl = sqrt((FLT_MIN if real is float else DBL_MIN) / eps_of(<real>0))
    cdef bint uv = ut != NULL, fits
    lanes_gather(size, a, k * k, x)
    fits = lanes_fit(size, x, True) and gesvj_lanes(size, x, v if uv else NULL, sv) == 0
    for i in range(k * JLANES):
        fits &= sv[i] >= negl
    if not fits:
        for l in range(JLANES):
            info[l] = _svd_one(k, a + l * k * k, s + l * k, ut + l * k * k if uv else NULL,
                               vh + l * k * k if uv else NULL, m, work)
        return
    # Descending order, stable: lane l's column j goes to row rank[j*JLANES + l].
    for i in range(k * JLANES):
        rank[i] = 0
    for j in range(k):
        for i in range(k):
            for l in range(JLANES):
                rank[j * JLANES + l] += 1 if (sv[i * JLANES + l] > sv[j * JLANES + l] or (
                    i < j and sv[i * JLANES + l] == sv[j * JLANES + l])) else 0
    for j in range(k):
        for l in range(JLANES):
            s[l * k + <Py_ssize_t>rank[j * JLANES + l]] = sv[j * JLANES + l]
    if uv:
        for j in range(k):                  # U_x = X S^-1, one division per column
            for l in range(JLANES):
                inv[l] = 1 / sv[j * JLANES + l]
            for r in range(k):
                for l in range(JLANES):
                    x[(j * k + r) * JLANES + l] *= inv[l]
        lanes_scatter(size, x, buf, k * k)
        _rows_by_rank(k, buf, rank, vh)
        lanes_scatter(size, v, buf, k * k)
        _rows_by_rank(k, buf, rank, ut)
    for l in range(JLANES):
        info[l] = 0


cdef void _svd_lanes(lanes_k* size, Py_ssize_t n_batch, const real* a, real* s,
                     real* ut, real* vh, int* info, int nt) noexcept nogil:
    """Square k x k stacks: whole groups in lanes (threads over groups), the rest with
    gesvj."""
    cdef Py_ssize_t k = fixed_size(size), g, b, n_groups = n_batch // JLANES
    cdef size_t nbytes = gesvj_workspace(k, k, 0) + k * k * sizeof(real)
    cdef bint uv = ut != NULL
    cdef void* work
    with parallel(num_threads=nt):
        work = malloc(nbytes)
        for g in prange(n_groups, schedule="static"):
            b = g * JLANES
            _svd_group(size, a + b * k * k, s + b * k, ut + b * k * k if uv else NULL,
                       vh + b * k * k if uv else NULL, info + b,
                       <real*>(<char*>work + gesvj_workspace(k, k, 0)), work)
        free(work)
    work = malloc(nbytes)
    for b in range(n_groups * JLANES, n_batch):
        info[b] = _svd_one(k, a + b * k * k, s + b * k, ut + b * k * k if uv else NULL,
                           vh + b * k * k if uv else NULL,
                           <real*>(<char*>work + gesvj_workspace(k, k, 0)), work)
    free(work)


cdef void _svd_stack(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, real* a, real* s,
                     real* ut, Py_ssize_t ku, real* vh, real* bt, Py_ssize_t nrhs,
                     Py_ssize_t lsa, Py_ssize_t lsb, int* info) noexcept nogil:
    """lsa, lsb: elements from one matrix of a (of bt) to the next."""
    cdef Py_ssize_t b
    cdef void* work
    cdef int nt = _threads_for(n_batch, 10 * n * n * m)
    cdef size_t nbytes = gesvj_workspace(m, n, nrhs)
    cdef real* put = ut if ku else NULL
    if nt == 1:
        work = malloc(nbytes)
        for b in range(n_batch):
            info[b] = INFO_NO_MEMORY if work == NULL else gesvj(
                m, n, a + b * lsa, m, s + b * n, ut + b * ku * m if ku else NULL, ku,
                vh + b * n * n if vh != NULL else NULL, bt + b * lsb if nrhs else NULL,
                nrhs, work)
        free(work)
        return
    with parallel(num_threads=nt):
        work = malloc(nbytes)
        for b in prange(n_batch, schedule="static"):
            info[b] = INFO_NO_MEMORY if work == NULL else gesvj(
                m, n, a + b * lsa, m, s + b * n, ut + b * ku * m if ku else NULL, ku,
                vh + b * n * n if vh != NULL else NULL, bt + b * lsb if nrhs else NULL,
                nrhs, work)
        free(work)


def copy_transposed(cnp.ndarray src, cnp.ndarray dst):
    """dst[b] := src[b]^T for src (N, m, n) and dst (N, n, m) of one floating dtype, any
    strides (multiples of the item size): the working stacks of svd_batched, which
    hold a tall matrix's columns as rows.  By qr.pxd's copy_strided, 8-row tiles
    whose writes stay in L1, or 8 x 8 tiles by vector shuffles (numpy's transposing
    copy of a 100000 x 50 matrix took a tenth of the thin SVD's time)."""
    cdef int typenum = cnp.PyArray_TYPE(src)
    cdef Py_ssize_t st[6]
    if (cnp.PyArray_NDIM(src) != 3 or cnp.PyArray_NDIM(dst) != 3
            or cnp.PyArray_TYPE(dst) != typenum
            or (typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT)
            or cnp.PyArray_DIM(dst, 0) != cnp.PyArray_DIM(src, 0)
            or cnp.PyArray_DIM(dst, 1) != cnp.PyArray_DIM(src, 2)
            or cnp.PyArray_DIM(dst, 2) != cnp.PyArray_DIM(src, 1)
            or not cnp.PyArray_ISWRITEABLE(dst)):
        raise ValueError("jacobi driver: copy_transposed needs (N, m, n) -> (N, n, m), "
                         "one floating dtype")
    _element_strides(src, typenum, st)
    _element_strides(dst, typenum, st + 3)
    cdef Py_ssize_t n_batch = src.shape[0], m = src.shape[1], n = src.shape[2]
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _copy_transposed(n_batch, m, n, <double*>cnp.PyArray_DATA(src),
                             <double*>cnp.PyArray_DATA(dst), st)
    else:
        with nogil:
            _copy_transposed(n_batch, m, n, <float*>cnp.PyArray_DATA(src),
                             <float*>cnp.PyArray_DATA(dst), st)


cdef void _copy_transposed(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, const real* a,
                           real* d, const Py_ssize_t* st) noexcept nogil:
    """st: the element strides of a (batch, row, column) and of d.  Rows of A to rows
    of d (both unit column strides, the usual case): 8 x 8 tiles by vector shuffles
    (cholesky.pxd transpose8x8), the edges by copy_strided."""
    cdef Py_ssize_t b, i0, j0, m8 = m - m % 8, n8 = n - n % 8
    cdef const real* ab
    cdef real* db
    for b in range(n_batch):
        ab = a + b * st[0]
        db = d + b * st[3]
        # A's (i, j) to d's (j, i): row stride st[5], column stride st[4]
        if st[2] != 1 or st[5] != 1:
            copy_strided(m, n, ab, st[1], st[2], db, st[5], st[4])
            continue
        for i0 in range(0, m8, 8):
            for j0 in range(0, n8, 8):
                transpose8x8(ab + i0 * st[1] + j0, st[1], db + j0 * st[4] + i0, st[4])
        copy_strided(m8, n - n8, ab + n8, st[1], 1, db + n8 * st[4], 1, st[4])
        copy_strided(m - m8, n, ab + m8 * st[1], st[1], 1, db + m8, 1, st[4])


cdef int _check(str name, cnp.ndarray x, int typenum, Py_ssize_t size) except -1:
    if (cnp.PyArray_TYPE(x) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(x)
            or cnp.PyArray_SIZE(x) != size):
        raise ValueError(f"jacobi driver: {name} must be C-contiguous, of the working "
                         f"dtype (int32 for info), with {size} elements")
    return 0


def u_over_a_applies(Py_ssize_t m, Py_ssize_t n):
    """Whether svd_batched(..., u_over_a=True) takes m x n matrices (m >= n): the
    tall-skinny path (jacobi.pxd use_tsqr)."""
    return m >= n >= 1 and use_tsqr(m, n, m, n)


def svd_batched(cnp.ndarray a, cnp.ndarray s, cnp.ndarray ut, cnp.ndarray vh,
                cnp.ndarray info, cnp.ndarray bt=None, Py_ssize_t rhs_rows=0,
                bint u_over_a=False):
    """SVDs of the stack a (N, n, m): a[b] holds the columns of an m x n matrix M_b,
    m >= n >= 1, as its rows (overwritten).  s (N, n) gets the singular values; if vh
    is not None, vh (N, n, n) gets V_b^T; if ut is not None, ut (N, ku, m) gets the
    first ku left singular vectors of M_b as rows; if bt (N, nrhs, m) is given (with
    vh), the first n entries of each of its rows b become U_b^T b.  Least squares
    with rhs_rows = nrhs > 0 instead: a is (N, n + nrhs, m), its last nrhs rows per
    matrix are those b (bt None; the kernel then factors tall [M_b B_b] at once).
    u_over_a (ut None, vh given, u_over_a_applies(m, n)): the thin U of M_b instead
    overwrites a[b], as an m x n row-major matrix (jacobi.pxd u_over_a).
    info (N,) int32: 0, or > 0 (no convergence or a non-finite entry), or -1 (no
    memory)."""
    if cnp.PyArray_NDIM(a) != 3:
        raise ValueError("jacobi driver: a must be an (N, n, m) stack")
    cdef Py_ssize_t n_batch = a.shape[0], n = a.shape[1] - rhs_rows, m = a.shape[2]
    if u_over_a and (ut is not None or vh is None or rhs_rows or bt is not None
                     or not u_over_a_applies(a.shape[2], a.shape[1])):
        raise ValueError("jacobi driver: u_over_a needs vh, no ut or right-hand sides, "
                         "and a tall-skinny shape")
    cdef Py_ssize_t ku = a.shape[1] if u_over_a else (0 if ut is None else ut.shape[1])
    cdef Py_ssize_t nrhs = rhs_rows if bt is None else bt.shape[1]
    if rhs_rows and (bt is not None or rhs_rows < 0):
        raise ValueError("jacobi driver: rhs_rows > 0 takes the right-hand sides in a")
    cdef int typenum = cnp.PyArray_TYPE(a)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        raise TypeError("jacobi driver: float32 or float64 arrays expected")
    if m < n or n < 1:
        raise ValueError("jacobi driver: need m >= n >= 1")
    if (ku or nrhs) and vh is None:
        raise ValueError("jacobi driver: ut and bt need vh")
    _check("a", a, typenum, n_batch * (n + rhs_rows) * m)
    _check("s", s, typenum, n_batch * n)
    _check("info", info, cnp.NPY_INT32, n_batch)
    if ku and not u_over_a:
        if ku != n and ku != m:
            raise ValueError("jacobi driver: ut must have n or m rows per matrix")
        _check("ut", ut, typenum, n_batch * ku * m)
    if vh is not None:
        _check("vh", vh, typenum, n_batch * n * n)
    if bt is not None:
        _check("bt", bt, typenum, n_batch * nrhs * m)
    cdef int* pinfo = <int*>cnp.PyArray_DATA(info)
    cdef void* put = cnp.PyArray_DATA(a if u_over_a else ut) if ku else NULL
    cdef void* pvh = cnp.PyArray_DATA(vh) if vh is not None else NULL
    cdef void* pbt = cnp.PyArray_DATA(bt) if bt is not None else (
        <char*>cnp.PyArray_DATA(a) + n * m * cnp.PyArray_ITEMSIZE(a) if nrhs else NULL)
    cdef Py_ssize_t lsa = (n + rhs_rows) * m, lsb = lsa if rhs_rows else nrhs * m
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _svd_stack(n_batch, m, n, <double*>cnp.PyArray_DATA(a),
                       <double*>cnp.PyArray_DATA(s), <double*>put, ku, <double*>pvh,
                       <double*>pbt, nrhs, lsa, lsb, pinfo)
    else:
        with nogil:
            _svd_stack(n_batch, m, n, <float*>cnp.PyArray_DATA(a),
                       <float*>cnp.PyArray_DATA(s), <float*>put, ku, <float*>pvh,
                       <float*>pbt, nrhs, lsa, lsb, pinfo)


def svd_tall_batched(cnp.ndarray a, cnp.ndarray s, cnp.ndarray vh, cnp.ndarray u,
                     cnp.ndarray b, cnp.ndarray utb, cnp.ndarray res, cnp.ndarray info):
    """SVDs of the tall matrices of the stack a (N, m, n), m >= 4n, only read (any
    strides that are multiples of the item size), by jacobi.pxd gesvj_tall: s (N, n);
    vh (N, n, n) V^T or None; u (N, m, n) the thin U or None; least squares: b
    (N, m, nrhs, any such strides), utb (N, n, nrhs) := U^T b and res (N, nrhs) := the
    squared residual norms for a full-rank matrix, with vh, without u.
    info (N,) int32: gesvj's statuses, or INFO_PREPARE (-2) for a matrix that needs
    the working-copy path (svd_batched), whose outputs are then left untouched."""
    if cnp.PyArray_NDIM(a) != 3:
        raise ValueError("jacobi driver: a must be an (N, m, n) stack")
    cdef Py_ssize_t n_batch = a.shape[0], m = a.shape[1], n = a.shape[2]
    cdef Py_ssize_t nrhs = 0 if b is None else b.shape[2]
    cdef int typenum = cnp.PyArray_TYPE(a)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        raise TypeError("jacobi driver: float32 or float64 arrays expected")
    if n < 1 or m < 4 * n:
        raise ValueError("jacobi driver: need m >= 4n >= 4")
    if ((b is None) != (utb is None) or (b is None) != (res is None)
            or (b is not None and (vh is None or u is not None))):
        raise ValueError("jacobi driver: b, utb and res go together, with vh and without u")
    _check("s", s, typenum, n_batch * n)
    _check("info", info, cnp.NPY_INT32, n_batch)
    if vh is not None:
        _check("vh", vh, typenum, n_batch * n * n)
    if u is not None:
        _check("u", u, typenum, n_batch * m * n)
    cdef Py_ssize_t st[6]
    st[3] = st[4] = st[5] = 0
    _element_strides(a, typenum, st)
    if b is not None:
        if cnp.PyArray_NDIM(b) != 3 or b.shape[0] != n_batch or b.shape[1] != m:
            raise ValueError("jacobi driver: b must be an (N, m, nrhs) stack")
        _element_strides(b, typenum, st + 3)
        _check("utb", utb, typenum, n_batch * n * nrhs)
        _check("res", res, typenum, n_batch * nrhs)
    cdef char* pa = cnp.PyArray_BYTES(a)
    cdef char* pb = cnp.PyArray_BYTES(b) if b is not None else NULL
    cdef char* ps = cnp.PyArray_BYTES(s)
    cdef char* pvh = cnp.PyArray_BYTES(vh) if vh is not None else NULL
    cdef char* pu = cnp.PyArray_BYTES(u) if u is not None else NULL
    cdef char* putb = cnp.PyArray_BYTES(utb) if utb is not None else NULL
    cdef char* pres = cnp.PyArray_BYTES(res) if res is not None else NULL
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _svd_tall_stack(n_batch, m, n, <double*>pa, st, <double*>pb, nrhs,
                            <double*>ps, <double*>pvh, <double*>pu, <double*>putb, <double*>pres,
                            <int*>cnp.PyArray_DATA(info))
    else:
        with nogil:
            _svd_tall_stack(n_batch, m, n, <float*>pa, st, <float*>pb, nrhs,
                            <float*>ps, <float*>pvh, <float*>pu, <float*>putb, <float*>pres,
                            <int*>cnp.PyArray_DATA(info))


cdef int _element_strides(cnp.ndarray x, int typenum, Py_ssize_t* st) except -1:
    """st[0:3] := x's three strides in elements (x of the working dtype)."""
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(x), i
    if cnp.PyArray_TYPE(x) != typenum:
        raise ValueError("jacobi driver: inputs must be of the working dtype")
    for i in range(3):
        st[i] = cnp.PyArray_STRIDE(x, i)
        if st[i] % isz:
            raise ValueError("jacobi driver: strides must be multiples of the item size")
        st[i] //= isz
    return 0


cdef void _svd_tall_stack(Py_ssize_t n_batch, Py_ssize_t m, Py_ssize_t n, const real* a,
                          const Py_ssize_t* st, const real* b, Py_ssize_t nrhs, real* s,
                          real* vh, real* u, real* utb, real* res, int* info) noexcept nogil:
    """gesvj_tall on each matrix: one per thread for a stack, both threads inside the
    QR of a single matrix.  st: a's element strides, then b's."""
    cdef Py_ssize_t t
    cdef void* work
    cdef int nt = _threads_for(n_batch, 10 * n * n * m)
    cdef size_t nbytes = gesvj_tall_workspace(m, n, nrhs)
    if nt == 1:
        work = malloc(nbytes)
        for t in range(n_batch):
            info[t] = _svd_tall_one(t, m, n, a, st, b, nrhs, s, vh, u, utb, res, work,
                                    max_threads() if n_batch == 1 else 1)
        free(work)
        return
    with parallel(num_threads=nt):
        work = malloc(nbytes)
        for t in prange(n_batch, schedule="static"):
            info[t] = _svd_tall_one(t, m, n, a, st, b, nrhs, s, vh, u, utb, res, work, 1)
        free(work)


cdef inline int _svd_tall_one(Py_ssize_t t, Py_ssize_t m, Py_ssize_t n, const real* a,
                              const Py_ssize_t* st, const real* b, Py_ssize_t nrhs,
                              real* s, real* vh, real* u, real* utb, real* res, void* work,
                              int n_threads) noexcept nogil:
    """gesvj_tall on matrix t of _svd_tall_stack's operands."""
    if work == NULL:
        return INFO_NO_MEMORY
    return gesvj_tall(m, n, a + t * st[0], st[1], st[2], b + t * st[3] if nrhs else NULL,
                      st[4], st[5], nrhs, s + t * n, vh + t * n * n if vh != NULL else NULL,
                      utb + t * n * nrhs if nrhs else NULL, res + t * nrhs if nrhs else NULL,
                      u + t * m * n if u != NULL else NULL, work, n_threads)


# svd_tall_batched's status for a matrix that needs svd_batched's working copy.
PREPARE = INFO_PREPARE


def tall_applies(Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs=0, bint want_u=False):
    """Whether svd_tall_batched takes m x n matrices with nrhs right-hand sides (and
    computes their thin U if want_u)."""
    return tall_fits(m, n, nrhs, want_u)


# The orders whose square stacks run the lane kernels (svd_square_batched).
LANE_ORDERS = (2, 3, 4, 5, 6, 7, 8, 16)


def svd_square_batched(cnp.ndarray a, cnp.ndarray s, cnp.ndarray ut, cnp.ndarray vh,
                       cnp.ndarray info):
    """SVDs of the square stack a (N, k, k), k in LANE_ORDERS, only read: s (N, k)
    descending; unless ut is None, ut (N, k, k) gets U^T (the left singular vectors as
    rows) and vh (N, k, k) V^T.  info (N,) int32 as svd_batched's."""
    if cnp.PyArray_NDIM(a) != 3 or a.shape[1] != a.shape[2] or a.shape[1] not in LANE_ORDERS:
        raise ValueError("jacobi driver: a must be an (N, k, k) stack, k in LANE_ORDERS")
    cdef Py_ssize_t n_batch = a.shape[0], k = a.shape[1]
    cdef int typenum = cnp.PyArray_TYPE(a)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        raise TypeError("jacobi driver: float32 or float64 arrays expected")
    if (ut is None) != (vh is None):
        raise ValueError("jacobi driver: ut and vh go together")
    _check("a", a, typenum, n_batch * k * k)
    _check("s", s, typenum, n_batch * k)
    _check("info", info, cnp.NPY_INT32, n_batch)
    if ut is not None:
        _check("ut", ut, typenum, n_batch * k * k)
        _check("vh", vh, typenum, n_batch * k * k)
    cdef void* put = cnp.PyArray_DATA(ut) if ut is not None else NULL
    cdef void* pvh = cnp.PyArray_DATA(vh) if vh is not None else NULL
    cdef int* pinfo = <int*>cnp.PyArray_DATA(info)
    cdef int nt = _threads_for(n_batch, 10 * k * k * k)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _svd_square(k, n_batch, <double*>cnp.PyArray_DATA(a),
                        <double*>cnp.PyArray_DATA(s), <double*>put, <double*>pvh, pinfo, nt)
    else:
        with nogil:
            _svd_square(k, n_batch, <float*>cnp.PyArray_DATA(a),
                        <float*>cnp.PyArray_DATA(s), <float*>put, <float*>pvh, pinfo, nt)


cdef void _svd_square(Py_ssize_t k, Py_ssize_t n_batch, const real* a, real* s, real* ut,
                      real* vh, int* info, int nt) noexcept nogil:
    if k == 2:
        _svd_lanes(<K2*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 3:
        _svd_lanes(<K3*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 4:
        _svd_lanes(<K4*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 5:
        _svd_lanes(<K5*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 6:
        _svd_lanes(<K6*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 7:
        _svd_lanes(<K7*>NULL, n_batch, a, s, ut, vh, info, nt)
    elif k == 8:
        _svd_lanes(<K8*>NULL, n_batch, a, s, ut, vh, info, nt)
    else:
        _svd_lanes(<K16*>NULL, n_batch, a, s, ut, vh, info, nt)


cdef void _eigh_group(lanes_k* size, const real* a, bint lower, real* w, real* z,
                      int* info) noexcept nogil:
    """JLANES eigenproblems of order k at once (syevj_lanes), or one by one (syevj,
    on a copy).  a is only read: interleaved, then symmetrised lane by
    lane; the eigenvectors leave by transposes and row copies in ascending order."""
    cdef Py_ssize_t k = fixed_size(size), l, i, j
    cdef real x[16 * 16 * JLANES]
    cdef real zl[16 * 16 * JLANES]
    cdef real buf[16 * 16 * JLANES]
    cdef real ev[16 * JLANES]
    cdef real rank[16 * JLANES]
    cdef real m[16 * 16]
    cdef bint fits, vectors = z != NULL
    lanes_gather(size, a, k * k, x)
    for i in range(k):                  # the given triangle over the other
        for j in range(i + 1, k):
            if lower:
                for l in range(JLANES):
                    x[(i * k + j) * JLANES + l] = x[(j * k + i) * JLANES + l]
            else:
                for l in range(JLANES):
                    x[(j * k + i) * JLANES + l] = x[(i * k + j) * JLANES + l]
    fits = lanes_fit(size, x, False) and syevj_lanes(size, x, zl if vectors else NULL) == 0
    if not fits:
        for l in range(JLANES):
            memcpy(m, a + l * k * k, k * k * sizeof(real))
            info[l] = syevj(k, m, lower, w + l * k, z + l * k * k if vectors else NULL)
        return
    for i in range(k):
        for l in range(JLANES):
            ev[i * JLANES + l] = x[(i * k + i) * JLANES + l]
            rank[i * JLANES + l] = 0
    # Ascending order, stable: lane l's eigenpair i goes to row rank[i*JLANES + l].
    for i in range(k):
        for j in range(k):
            for l in range(JLANES):
                rank[i * JLANES + l] += 1 if (ev[j * JLANES + l] < ev[i * JLANES + l] or (
                    j < i and ev[j * JLANES + l] == ev[i * JLANES + l])) else 0
    for i in range(k):
        for l in range(JLANES):
            w[l * k + <Py_ssize_t>rank[i * JLANES + l]] = ev[i * JLANES + l]
    if vectors:
        lanes_scatter(size, zl, buf, k * k)
        _rows_by_rank(k, buf, rank, z)
    for l in range(JLANES):
        info[l] = 0


cdef void _eigh_lanes(lanes_k* size, Py_ssize_t n_batch, const real* a, bint lower,
                      real* w, real* z, int* info, int nt) noexcept nogil:
    cdef Py_ssize_t k = fixed_size(size), g, b, n_groups = n_batch // JLANES
    cdef bint vectors = z != NULL
    cdef real buf[16 * 16]
    for g in prange(n_groups, schedule="static", num_threads=nt):
        b = g * JLANES
        _eigh_group(size, a + b * k * k, lower, w + b * k,
                    z + b * k * k if vectors else NULL, info + b)
    for b in range(n_groups * JLANES, n_batch):
        memcpy(buf, a + b * k * k, k * k * sizeof(real))
        info[b] = syevj(k, buf, lower, w + b * k, z + b * k * k if vectors else NULL)


cdef void _eigh_stack(Py_ssize_t n_batch, Py_ssize_t n, const real* a, bint lower,
                      real* w, real* z, int* info) noexcept nogil:
    """The eigenproblems of the stack a, which is only read: each matrix is copied into
    a buffer that the kernels overwrite (so the Python layer passes a C-contiguous
    input of the compute dtype as it is: a working copy of a large stack cost a
    third of the time of k = 8 stacks, in first-touch page faults)."""
    cdef Py_ssize_t b
    cdef int nt = _threads_for(n_batch, 20 * n * n * n)
    if n_batch >= JLANES:
        if n == 2:
            _eigh_lanes(<K2*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 3:
            _eigh_lanes(<K3*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 4:
            _eigh_lanes(<K4*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 5:
            _eigh_lanes(<K5*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 6:
            _eigh_lanes(<K6*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 7:
            _eigh_lanes(<K7*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 8:
            _eigh_lanes(<K8*>NULL, n_batch, a, lower, w, z, info, nt); return
        if n == 16:
            _eigh_lanes(<K16*>NULL, n_batch, a, lower, w, z, info, nt); return
    cdef size_t nbytes = syevj_chol_workspace(n) + n * n * sizeof(double)
    cdef void* work
    if nt == 1:
        work = malloc(nbytes)
        for b in range(n_batch):
            info[b] = _eigh_copy(n, a + b * n * n, lower, w + b * n,
                                 z + b * n * n if z != NULL else NULL, work)
        free(work)
        return
    with parallel(num_threads=nt):
        work = malloc(nbytes)
        for b in prange(n_batch, schedule="static"):
            info[b] = _eigh_copy(n, a + b * n * n, lower, w + b * n,
                                 z + b * n * n if z != NULL else NULL, work)
        free(work)


cdef inline int _eigh_copy(Py_ssize_t n, const real* a, bint lower, real* w, real* z,
                           void* work) noexcept nogil:
    """eigh_one on a copy of a at the end of work (syevj_chol_workspace(n) + n*n
    doubles), or INFO_NO_MEMORY without work."""
    if work == NULL:
        return INFO_NO_MEMORY
    cdef real* c = <real*>(<char*>work + syevj_chol_workspace(n))
    memcpy(c, a, n * n * sizeof(real))
    return eigh_one(n, c, lower, w, z, work)


def eigh_batched(cnp.ndarray a, bint lower, cnp.ndarray w, cnp.ndarray z, cnp.ndarray info):
    """Eigen-decompositions of the symmetric stack a (N, n, n) read from its lower (or
    upper) triangle (only read, never written): w (N, n) ascending; if z is not None, z (N, n, n)
    gets the eigenvectors as rows.  info (N,) int32: 0, or 1 (no convergence)."""
    if cnp.PyArray_NDIM(a) != 3 or a.shape[1] != a.shape[2]:
        raise ValueError("jacobi driver: a must be an (N, n, n) stack")
    cdef Py_ssize_t n_batch = a.shape[0], n = a.shape[1]
    cdef int typenum = cnp.PyArray_TYPE(a)
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        raise TypeError("jacobi driver: float32 or float64 arrays expected")
    _check("a", a, typenum, n_batch * n * n)
    _check("w", w, typenum, n_batch * n)
    _check("info", info, cnp.NPY_INT32, n_batch)
    if z is not None:
        _check("z", z, typenum, n_batch * n * n)
    cdef void* pz = cnp.PyArray_DATA(z) if z is not None else NULL
    cdef int* pinfo = <int*>cnp.PyArray_DATA(info)
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _eigh_stack(n_batch, n, <double*>cnp.PyArray_DATA(a), lower,
                        <double*>cnp.PyArray_DATA(w), <double*>pz, pinfo)
    else:
        with nogil:
            _eigh_stack(n_batch, n, <float*>cnp.PyArray_DATA(a), lower,
                        <float*>cnp.PyArray_DATA(w), <float*>pz, pinfo)


# ----------------------------------------------------------- single small calls
#
# One 2-D square float64 call (float32 too when computed in float64) of order <= 16:
# no validation layer, working copies or GIL release; the matrix goes into a stack
# buffer and through the same scalar kernels as a stack's odd matrices.  None when it
# does not apply or the kernel fails: the caller then takes the general path, which
# also raises the error.

cdef enum:
    SMALL_CALL = 16
    SMALL_WORK = 3400       # doubles, >= gesvj_workspace(16, 16, 0) (checked per call)
    SMALL_ROWS = 32         # lstsq_2d: rows of A (columns up to SMALL_CALL)
    SMALL_LSTSQ_WORK = 4400     # doubles, >= gesvj_workspace(32, 16, 16)


cdef inline bint _small_float(object x, int nd, int typenum, bint f32) noexcept:
    """Whether x is an aligned nd-dimensional ndarray of float64 (or float32, computed
    in float64) whose type equals typenum (-1: either)."""
    if type(x) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int t = cnp.PyArray_TYPE(a)
    return (cnp.PyArray_NDIM(a) == nd and cnp.PyArray_ISALIGNED(a)
            and (t == cnp.NPY_DOUBLE or (f32 and t == cnp.NPY_FLOAT))
            and (typenum < 0 or t == typenum))


cdef inline double _at(cnp.ndarray a, Py_ssize_t i, Py_ssize_t j) noexcept:
    """a[i, j] (a[i] of a vector) as a double, any strides."""
    cdef char* p = <char*>cnp.PyArray_DATA(a) + i * cnp.PyArray_STRIDE(a, 0)
    if cnp.PyArray_NDIM(a) == 2:
        p += j * cnp.PyArray_STRIDE(a, 1)
    if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT:
        return (<float*>p)[0]
    return (<double*>p)[0]


cdef inline bint _small_square(object x, Py_ssize_t* n, int* typenum, bint f32) noexcept:
    if not _small_float(x, 2, -1, f32):
        return False
    typenum[0] = cnp.PyArray_TYPE(<cnp.ndarray>x)
    n[0] = cnp.PyArray_DIM(<cnp.ndarray>x, 0)
    return n[0] == cnp.PyArray_DIM(<cnp.ndarray>x, 1) and 0 < n[0] <= SMALL_CALL


cdef inline cnp.ndarray _result(int nd, Py_ssize_t n, int typenum, const double* x,
                                bint transpose):
    """A new C-ordered (n,) or (n, n) array of typenum holding x (or x^T), rounded once
    if float32 (numpy's float32 results are float64 computations rounded)."""
    return _result_mn(nd, n, n, typenum, x, transpose)


cdef inline cnp.ndarray _result_mn(int nd, Py_ssize_t m, Py_ssize_t n, int typenum,
                                   const double* x, bint transpose):
    """_result of an (m, n) array (nd = 2; x is m x n, or n x m when transpose) or of
    (n,) (nd = 1)."""
    cdef cnp.npy_intp dims[2]
    dims[0] = m if nd == 2 else n
    dims[1] = n
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    cdef Py_ssize_t i, j, e
    cdef float* f = <float*>cnp.PyArray_DATA(out)
    cdef double* d = <double*>cnp.PyArray_DATA(out)
    for i in range(m if nd == 2 else 1):
        for j in range(n):
            e = j * m + i if transpose else i * n + j
            if typenum == cnp.NPY_DOUBLE:
                d[i * n + j] = x[e]
            else:
                f[i * n + j] = <float>x[e]
    return out


def svd_2d(x, bint compute_uv, bint full_matrices, bint f32):
    """(U, S, Vh), or S without compute_uv, of one small matrix (both sides at most
    SMALL_CALL), else None.  A wide A is factored as A^T = U' S V'^T, so U = V' and
    Vh = U'^T: the kernel's rows of U' are Vh's rows as they stand."""
    if not _small_float(x, 2, -1, f32):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef Py_ssize_t m = cnp.PyArray_DIM(a, 0), n = cnp.PyArray_DIM(a, 1), i, j
    if not (0 < m <= SMALL_CALL and 0 < n <= SMALL_CALL):
        return None
    cdef int typenum = cnp.PyArray_TYPE(a)
    cdef bint wide = m < n
    cdef Py_ssize_t big = n if wide else m, small = m if wide else n
    cdef Py_ssize_t ku = (big if full_matrices else small) if compute_uv else 0
    cdef double w[SMALL_CALL * SMALL_CALL]
    cdef double ut[SMALL_CALL * SMALL_CALL]
    cdef double vh[SMALL_CALL * SMALL_CALL]
    cdef double s[SMALL_CALL]
    cdef double work[SMALL_WORK]
    if gesvj_workspace(big, small, 0) > sizeof(work):
        return None
    # The kernel takes the big x small matrix's columns as rows: A's columns (tall),
    # A's rows (wide).
    for j in range(small):
        for i in range(big):
            w[j * big + i] = _at(a, j, i) if wide else _at(a, i, j)
    if gesvj(big, small, w, big, s, ut if compute_uv else NULL, ku,
             vh if compute_uv else NULL, NULL, 0, work) != 0:
        return None
    if not compute_uv:
        return _result_mn(1, 1, small, typenum, s, False)
    if wide:
        return (_result_mn(2, m, m, typenum, vh, True), _result_mn(1, 1, small, typenum, s, False),
                _result_mn(2, ku, n, typenum, ut, False))
    return (_result_mn(2, m, ku, typenum, ut, True), _result_mn(1, 1, small, typenum, s, False),
            _result_mn(2, n, n, typenum, vh, False))


def eigh_2d(x, bint lower, bint vectors, bint f32):
    """(w, v), or w without vectors, of one small symmetric matrix, else None."""
    cdef Py_ssize_t n
    cdef int typenum
    if not _small_square(x, &n, &typenum, f32):
        return None
    cdef double a[SMALL_CALL * SMALL_CALL]
    cdef double z[SMALL_CALL * SMALL_CALL]
    cdef double w[SMALL_CALL]
    cdef double work[SMALL_WORK]
    cdef Py_ssize_t i, j
    for i in range(n):
        for j in range(n):
            a[i * n + j] = _at(<cnp.ndarray>x, i, j)
    if eigh_one(n, a, lower, w, z if vectors else NULL,
                work if syevj_chol_workspace(n) <= sizeof(work) else NULL) != 0:
        return None
    if not vectors:
        return _result(1, n, typenum, w, False)
    return _result(1, n, typenum, w, False), _result(2, n, typenum, z, True)


def lstsq_2d(a, b, rcond, bint f32):
    """numpy.linalg.lstsq's (x, residuals, rank, s) of one small system, A m x n with
    m >= n, m <= SMALL_ROWS, n <= SMALL_CALL, b a vector or at most SMALL_CALL columns
    of A's dtype, rcond None or a number; else None.  The general path's algorithm
    (gesvj returns U^T b with the SVD) in stack buffers, without its dozen numpy
    calls (~40 us of a 4 x 4 call's 42)."""
    if not (_small_float(a, 2, -1, f32) and (_small_float(b, 1, cnp.PyArray_TYPE(a), f32)
                                              or _small_float(b, 2, cnp.PyArray_TYPE(a), f32))):
        return None
    cdef cnp.ndarray A = <cnp.ndarray>a, B = <cnp.ndarray>b
    cdef Py_ssize_t m = cnp.PyArray_DIM(A, 0), n = cnp.PyArray_DIM(A, 1), i, j, r, rank = 0
    cdef bint vector = cnp.PyArray_NDIM(B) == 1
    cdef Py_ssize_t nrhs = 1 if vector else cnp.PyArray_DIM(B, 1)
    cdef int typenum = cnp.PyArray_TYPE(A)
    cdef double cut, e, acc
    if not (0 < n <= m <= SMALL_ROWS and n <= SMALL_CALL and cnp.PyArray_DIM(B, 0) == m
            and 0 < nrhs <= SMALL_CALL):
        return None
    if rcond is None:
        cut = DBL_EPSILON * m
    elif type(rcond) is float or type(rcond) is int:
        cut = <double>rcond
        if cut < 0:
            cut = DBL_EPSILON
    else:
        return None
    cdef double w[SMALL_ROWS * (SMALL_CALL + SMALL_CALL)]     # [A B], columns as rows
    cdef double vh[SMALL_CALL * SMALL_CALL]
    cdef double s[SMALL_CALL]
    cdef double y[SMALL_CALL * SMALL_CALL]
    cdef double work[SMALL_LSTSQ_WORK]
    cdef double* bt = w + n * m
    if gesvj_workspace(m, n, nrhs) > sizeof(work):
        return None
    for j in range(n):
        for i in range(m):
            w[j * m + i] = _at(A, i, j)
    for r in range(nrhs):
        for i in range(m):
            bt[r * m + i] = _at(B, i, r)
    if gesvj(m, n, w, m, s, NULL, 0, vh, bt, nrhs, work) != 0:
        return None
    # x = V (U^T b / s) over the singular values above rcond * s_max (the general
    # path's rule; (U^T b) / s: a zero component stays 0 however small s is).
    cut *= s[0]
    for i in range(n):
        rank += s[i] > cut
    for r in range(nrhs):
        for i in range(n):
            y[r * n + i] = bt[r * m + i] / s[i] if s[i] > cut else 0
    cdef double xs[SMALL_CALL * SMALL_CALL]       # x, row-major n x nrhs
    for j in range(n):
        for r in range(nrhs):
            acc = 0
            for i in range(n):
                acc += vh[i * n + j] * y[r * n + i]
            xs[j * nrhs + r] = acc
    # Residuals ||b - A x||^2 per column when m > n and A has full rank (numpy's rule).
    cdef double res[SMALL_CALL]
    cdef Py_ssize_t n_res = nrhs if m > n and rank == n else 0
    for r in range(n_res):
        acc = 0
        for i in range(m):
            e = _at(B, i, r)
            for j in range(n):
                e -= _at(A, i, j) * xs[j * nrhs + r]
            acc += e * e
        res[r] = acc
    cdef cnp.ndarray x = _result(1, n * nrhs, typenum, xs, False)
    if not vector:
        x = x.reshape(n, nrhs)
    return (x, _result(1, n_res, typenum, res, False), np.int32(rank),
            _result(1, n, typenum, s, False))

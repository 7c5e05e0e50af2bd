"""Drivers for optimize.pxd: N independent problems of one built-in objective in one
call, OpenMP across problems.

The Python layer (fastla/optimize/) validates, promotes and broadcasts; the driver
reads A / X where it lies (element strides; batch stride 0 broadcasts it), b / y and
x as C-contiguous (N, len) stacks, and writes x, f, g, H, counts, status (and the
history) per problem.  Each thread owns one workspace and a contiguous chunk of
problems; a single large problem instead splits its rows between the threads in
every pass over X (optimize.pxd data_pass).
"""

cimport numpy as cnp
from cython.parallel cimport prange

from _types cimport real, INFO_NO_MEMORY
from _threads cimport max_threads
from _memory cimport aligned_alloc64, aligned_free
from optimize cimport Counts, solve_one, workspace_size

cnp.import_array()

KERNELS = {
    "minimize": {
        "computes": "argmin f for f a quadratic, regularised least squares or logistic "
                    "regression; Newton (Cholesky, shifted when not PD) or gradient descent, "
                    "Armijo backtracking",
        "algorithm": "one pass over X per iteration evaluates the trial point's loss, "
                     "gradient and X^T D X (lower triangle on the GEMM micro-kernel, blocks "
                     "of 192 rows); further line-search trials O(m)",
        "citation": "Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 3.1, 3.3; "
                    "Boyd & Vandenberghe, Convex Optimization, §9.2-9.5",
        "flops": "Newton: 2*m*n + m*n*(n+1) + n**3/3 per iteration; gradient descent: 4*m*n",
    },
}

# Below this much work per call (problems x m x n x n), one thread: an OpenMP region
# costs about 1.5 us (DESIGN.md §6).
cdef enum:
    PARALLEL_MIN_WORK = 200000


cdef int _solve_range(int kind, int method, Py_ssize_t m, Py_ssize_t n, const real* a,
                      Py_ssize_t sba, Py_ssize_t rsa, Py_ssize_t csa, const real* b,
                      Py_ssize_t sbb, double c, double l2, real* x, real* g, real* h,
                      double* f, Py_ssize_t* counts, int* status, double* hist,
                      Py_ssize_t maxiter, double gtol, double dtol, double step,
                      Py_ssize_t first, Py_ssize_t last, int n_threads) noexcept nogil:
    """Problems first..last-1 on one workspace, each with n_threads threads for its
    data passes; 0 or INFO_NO_MEMORY."""
    cdef Py_ssize_t t
    cdef Counts cnt
    cdef real* work = <real*>aligned_alloc64(workspace_size(m, n, n_threads, a)
                                             * sizeof(real))
    if work == NULL:
        for t in range(first, last):
            status[t] = INFO_NO_MEMORY
        return INFO_NO_MEMORY
    for t in range(first, last):
        status[t] = solve_one(kind, method, m, n, a + t * sba, rsa, csa, b + t * sbb,
                              c, l2, x + t * n, g + t * n, h + t * n * n, f + t,
                              NULL if hist == NULL else hist + t * 3 * (maxiter + 1),
                              &cnt, maxiter, gtol, dtol, step, work,
                              n_threads)
        counts[4 * t] = cnt.nit
        counts[4 * t + 1] = cnt.nfev
        counts[4 * t + 2] = cnt.njev
        counts[4 * t + 3] = cnt.nhev
    aligned_free(work)
    return 0


cdef void _solve_batched(int kind, int method, Py_ssize_t n_batch, Py_ssize_t m,
                         Py_ssize_t n, const real* a, Py_ssize_t sba, Py_ssize_t rsa,
                         Py_ssize_t csa, const real* b, Py_ssize_t sbb, double c, double l2,
                         real* x, real* g, real* h, double* f, Py_ssize_t* counts,
                         int* status, double* hist, Py_ssize_t maxiter, double gtol,
                         double dtol, double step, int n_threads) noexcept nogil:
    cdef Py_ssize_t t, chunk
    if n_threads <= 1 or n_batch * (m + n) * n * n < PARALLEL_MIN_WORK:
        n_threads = 1
    if n_batch == 1 or n_threads == 1:
        # one problem: its data passes take the threads (rows split between them)
        if kind == 0 or m * n * n < PARALLEL_MIN_WORK:
            n_threads = 1
        _solve_range(kind, method, m, n, a, sba, rsa, csa, b, sbb, c, l2, x, g, h, f,
                     counts, status, hist, maxiter, gtol, dtol, step, 0, n_batch,
                     n_threads)
        return
    if n_threads > n_batch:
        n_threads = <int>n_batch
    chunk = (n_batch + n_threads - 1) // n_threads
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        if t * chunk < n_batch:
            _solve_range(kind, method, m, n, a, sba, rsa, csa, b, sbb, c, l2, x, g, h, f,
                         counts, status, hist, maxiter, gtol, dtol, step, t * chunk,
                         min(t * chunk + chunk, n_batch), 1)


cdef inline Py_ssize_t _elements(cnp.ndarray x, int axis, Py_ssize_t item) except? -1:
    cdef Py_ssize_t s = cnp.PyArray_STRIDE(x, axis)
    if s % item:
        raise ValueError("optimize driver: strides must be whole elements")
    return s // item


def minimize_batched(int kind, int method, cnp.ndarray a, cnp.ndarray b, double c,
                     double l2, cnp.ndarray x, cnp.ndarray g, cnp.ndarray h, cnp.ndarray f,
                     cnp.ndarray counts, cnp.ndarray status, hist, Py_ssize_t maxiter,
                     double gtol, double dtol, double step):
    """Solve N problems of objective `kind` (optimize.pxd OBJ_*) by `method`.

    a (N, rows, n): A or X, x's dtype, any element strides (batch stride 0 allowed);
    b (N, len) of x's dtype, rows C-contiguous (batch stride 0 allowed);
    x (N, n) C-contiguous: x0 in, the solution out; g (N, n), h (N, n, n) C-contiguous
    of x's dtype; f (N,) float64; counts (N, 4) intp: nit, nfev, njev, nhev;
    status (N,) int32; hist None or (N, maxiter + 1, 3) float64 C-contiguous.
    step > 0: gradient descent with that fixed step, else Armijo.
    """
    cdef int typenum = cnp.PyArray_TYPE(x)
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t n_batch = cnp.PyArray_DIM(x, 0), n = cnp.PyArray_DIM(x, 1)
    cdef Py_ssize_t m = cnp.PyArray_DIM(a, 1)
    for arr in (x, g, h, f, counts, status):
        if not cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_DIM(arr, 0) != n_batch:
            raise ValueError("optimize driver: outputs must be C-contiguous with N rows")
    if (cnp.PyArray_TYPE(a) != typenum or cnp.PyArray_TYPE(b) != typenum
            or cnp.PyArray_TYPE(g) != typenum or cnp.PyArray_TYPE(h) != typenum
            or cnp.PyArray_TYPE(f) != cnp.NPY_DOUBLE or cnp.PyArray_TYPE(status) != cnp.NPY_INT32
            or cnp.PyArray_TYPE(counts) != cnp.NPY_INTP):
        raise TypeError("optimize driver: dtypes do not match")
    if (cnp.PyArray_NDIM(a) != 3 or cnp.PyArray_DIM(a, 0) != n_batch
            or cnp.PyArray_DIM(a, 2) != n or cnp.PyArray_NDIM(b) != 2
            or cnp.PyArray_DIM(b, 0) != n_batch or cnp.PyArray_DIM(b, 1) != (n if kind == 0 else m)
            or (cnp.PyArray_DIM(b, 1) > 1 and cnp.PyArray_STRIDE(b, 1) != item)
            or not cnp.PyArray_ISALIGNED(a) or not cnp.PyArray_ISALIGNED(b)):
        raise ValueError("optimize driver: operand shapes do not match")
    cdef double* hp = NULL
    if hist is not None:
        if (cnp.PyArray_TYPE(hist) != cnp.NPY_DOUBLE or not cnp.PyArray_IS_C_CONTIGUOUS(hist)
                or cnp.PyArray_SIZE(hist) != n_batch * (maxiter + 1) * 3):
            raise ValueError("optimize driver: hist must be (N, maxiter + 1, 3) float64")
        hp = <double*>cnp.PyArray_DATA(hist)
    cdef Py_ssize_t sba = _elements(a, 0, item), rsa = _elements(a, 1, item)
    cdef Py_ssize_t csa = _elements(a, 2, item), sbb = _elements(b, 0, item)
    if kind != 0 and n > 1 and csa != 1:
        raise ValueError("optimize driver: the rows of X must be contiguous")
    cdef int n_threads = max_threads()
    cdef double* fp = <double*>cnp.PyArray_DATA(f)
    cdef Py_ssize_t* cp = <Py_ssize_t*>cnp.PyArray_DATA(counts)
    cdef int* sp = <int*>cnp.PyArray_DATA(status)
    if n_batch == 0:
        return
    if typenum == cnp.NPY_DOUBLE:
        with nogil:
            _solve_batched[double](kind, method, n_batch, m, n, <double*>cnp.PyArray_DATA(a),
                                   sba, rsa, csa, <double*>cnp.PyArray_DATA(b), sbb, c, l2,
                                   <double*>cnp.PyArray_DATA(x), <double*>cnp.PyArray_DATA(g),
                                   <double*>cnp.PyArray_DATA(h), fp, cp, sp, hp, maxiter,
                                   gtol, dtol, step, n_threads)
    elif typenum == cnp.NPY_FLOAT:
        with nogil:
            _solve_batched[float](kind, method, n_batch, m, n, <float*>cnp.PyArray_DATA(a),
                                  sba, rsa, csa, <float*>cnp.PyArray_DATA(b), sbb, c, l2,
                                  <float*>cnp.PyArray_DATA(x), <float*>cnp.PyArray_DATA(g),
                                  <float*>cnp.PyArray_DATA(h), fp, cp, sp, hp, maxiter,
                                  gtol, dtol, step, n_threads)
    else:
        raise TypeError("optimize driver: float32 or float64 arrays expected")

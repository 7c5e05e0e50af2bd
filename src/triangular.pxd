"""Triangular solve with many right-hand sides (BLAS trsm), blocked on the GEMM.

    B := alpha * op(A)^-1 B   (left:  A is m x m)
    B := alpha * B op(A)^-1   (right: A is n x n)        op(A) = A or A^T

Algorithm: forward substitution (Golub & Van Loan, *Matrix Computations*, 4th ed.,
§3.1.1-3.1.2), blocked as in §3.1.3-3.1.4 so that all but a fraction TRSM_NB/m of
the m^2 n flops (left side) run in the GEMM of gemm.pxd:

        [ L11     ] [ X1 ]   [ B1 ]      X1 := L11^-1 B1          (unblocked, TRSM_NB rows)
        [ L21 L22 ] [ X2 ] = [ B2 ]      B2 := B2 - L21 X1        (gemm, k = TRSM_NB)
                                         then the same on L22 X2 = B2

ONE real substitution kernel: lower triangular, left side, no transpose.  The other
seven cases reach it by re-reading the same memory through other strides, never by
copying (trsm's first lines):
  right side  X op(A) = B   <=>  op(A)^T X^T = B^T: swap B's strides and (m, n),
                                 flip trans;
  transposed  A^T with A lower is upper, and vice versa: swap A's strides, flip lower;
  upper       J U J is lower for the reversal J (J x = x[::-1]): start A at its last
              diagonal element and B at its last row and negate their row (and A's
              column) strides.
The unblocked kernel copies each group of W = NR columns of B (24 doubles, 32
floats) into a contiguous tile, whatever B's layout, and substitutes there four rows
at a time with the 4 x W partial results in registers.  Fewer than TRSM_MIN_RHS
columns are solved one at a time along whichever direction of L is contiguous (axpy
or dot products), unblocked, four columns or rows of L per pass where they have unit
stride (subtract_columns, _vectors.pxd's dot_rows4): that solve is bound by reading
L, and four streams at once read it faster than one (n = 2048, one column: 0.83 ->
1.07-1.17x scipy from row-major L, column-major 16-21 % faster).
When B's columns are contiguous the GEMM update is issued transposed
(B2^T -= X1^T L21^T) so that the GEMM writes rows of its C.

Flops: m^2 n (left) or m n^2 (right); unit_diag saves the m n divisions.
Measured (one thread, float64, m = n = 256 / 1024 / 2048): 48-50 / 64 / 70 GFLOP/s
(kernel alone; OpenBLAS dtrsm through scipy: 18-20 / 31-33 / 43-46).
Threads: the columns of B (after the reductions) are independent problems, so above
PARALLEL_MIN_MNK each thread solves a block of whole register-width column groups.
Failure semantics: none inside (like BLAS trsm); a zero diagonal gives Inf/NaN as IEEE
arithmetic dictates; first_zero_diagonal is LAPACK trtrs's singularity test, run
before the solve by callers that must report it.  Returns INFO_OK, or INFO_NO_MEMORY
when the GEMM's workspace cannot be allocated (B is then partly updated).
"""

from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport (GEMM_NR_D, GEMM_NR_S, GEMM_NR_MAX, TRSM_NB, TRSM_MIN_RHS,
                        PARALLEL_MIN_MNK)
from gemm cimport gemm
from _memory cimport prefetch_run, ROW_AHEAD_BYTES
from _vectors cimport dot_rows4


cdef inline Py_ssize_t _iabs(Py_ssize_t x) noexcept nogil:
    return -x if x < 0 else x


cdef inline Py_ssize_t first_zero_diagonal(Py_ssize_t n, const real* a,
                                           Py_ssize_t rsa, Py_ssize_t csa) noexcept nogil:
    """k (1-based) of the first exactly zero a[k-1, k-1], 0 if none (LAPACK trtrs's test)."""
    cdef Py_ssize_t i
    for i in range(n):
        if a[i * (rsa + csa)] == 0:
            return i + 1
    return 0


cdef inline void _axpy(Py_ssize_t n, real alpha, const real* x, Py_ssize_t incx,
                       real* y, Py_ssize_t incy) noexcept nogil:
    """y += alpha * x.  Element order is irrelevant, so two equal unit strides of
    either sign become one forward unit-stride loop (which the compiler vectorises)."""
    cdef Py_ssize_t i
    if incx == -1 and incy == -1:
        x -= n - 1
        y -= n - 1
        incx = incy = 1
    if incx == 1 and incy == 1:
        for i in range(n):
            y[i] += alpha * x[i]
    else:
        for i in range(n):
            y[i * incy] += alpha * x[i * incx]


cdef inline void subtract_columns(Py_ssize_t n, real* y, const real* c, Py_ssize_t ldc,
                                  real x0, real x1, real x2, real x3) noexcept nogil:
    """y[:n] -= c_0 x0, then c_1 x1, c_2 x2, c_3 x3 (unit-stride columns c_t = c + t*ldc):
    four axpys in one pass, the same operations in the same order, so the same bits.
    A column-oriented triangular solve with one right-hand side is bound by reading
    the matrix; one column at a time is one memory stream, four are four at once
    (as a blocked trsv reads its panel through gemv)."""
    cdef Py_ssize_t i
    for i in range(n):
        y[i] = y[i] - c[i] * x0 - c[ldc + i] * x1 - c[2 * ldc + i] * x2 - c[3 * ldc + i] * x3


cdef inline real _dot(Py_ssize_t n, const real* x, Py_ssize_t incx,
                      const real* y, Py_ssize_t incy) noexcept nogil:
    """sum x_i y_i.  With unit strides, 8 partial sums: one vector of independent
    FMAs instead of a chain bound by FMA latency (GCC may not reassociate a scalar
    sum without -ffast-math, which fastla never uses)."""
    cdef real part[8]
    cdef real s = 0
    cdef Py_ssize_t i, t, n8
    if incx == -1 and incy == -1:
        x -= n - 1
        y -= n - 1
        incx = incy = 1
    if incx == 1 and incy == 1:
        n8 = n - n % 8
        for t in range(8):
            part[t] = 0
        for i in range(0, n8, 8):
            for t in range(8):
                part[t] += x[i + t] * y[i + t]
        for i in range(n8, n):
            s += x[i] * y[i]
        for t in range(8):
            s += part[t]
        return s
    for i in range(n):
        s += x[i * incx] * y[i * incy]
    return s


cdef inline void _tile_solve(bint unit, Py_ssize_t m, const real* a, Py_ssize_t rsa,
                             Py_ssize_t csa, real* tile) noexcept nogil:
    """tile := L^-1 tile for an m x W tile (W = NR, row stride W), four rows at a time.

    Rows i0..i0+3 first take the updates of every solved row above them,
    acc_r -= l_{i0+r,k} x_k for k < i0: a 4 x W block of partial results in registers
    (12 zmm for doubles, 8 for floats), each solved row x_k loaded once for 4 FMAs per
    vector.  The 4 x 4 triangle among the rows themselves is then substituted in
    order.  Every loop over W has a literal trip count above 16, so GCC vectorises it
    (the micro-kernel idiom of gemm.pxd).
    """
    cdef real acc[4 * GEMM_NR_MAX]
    cdef real lr[4]
    cdef Py_ssize_t w, i0, ib, r, q, k, j
    cdef real d
    cdef const real* tk
    if real is double:
        w = GEMM_NR_D
    else:
        w = GEMM_NR_S
    for ib in range(m // 4):
        i0 = ib * 4
        for j in range(4 * w):
            acc[j] = tile[i0 * w + j]
        for k in range(i0):
            tk = tile + k * w
            for r in range(4):
                lr[r] = a[(i0 + r) * rsa + k * csa]
            for r in range(4):
                for j in range(w):
                    acc[r * w + j] -= lr[r] * tk[j]
        for r in range(4):
            for q in range(r):
                d = a[(i0 + r) * rsa + (i0 + q) * csa]
                for j in range(w):
                    acc[r * w + j] -= d * acc[q * w + j]
            if not unit:
                d = a[(i0 + r) * (rsa + csa)]
                for j in range(w):
                    acc[r * w + j] /= d
        for j in range(4 * w):
            tile[i0 * w + j] = acc[j]
    for i0 in range(m - m % 4, m):            # the last m % 4 rows one at a time
        for j in range(w):
            acc[j] = tile[i0 * w + j]
        for k in range(i0):
            d = a[i0 * rsa + k * csa]
            tk = tile + k * w
            for j in range(w):
                acc[j] -= d * tk[j]
        if not unit:
            d = a[i0 * (rsa + csa)]
            for j in range(w):
                acc[j] /= d
        for j in range(w):
            tile[i0 * w + j] = acc[j]


cdef inline void _lower_by_rows(bint unit, Py_ssize_t m, Py_ssize_t n,
                                const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                                real* b, Py_ssize_t rsb, Py_ssize_t csb) noexcept nogil:
    """B := L^-1 B for m <= TRSM_NB, row-oriented (GVL4 Alg. 3.1.1) on W columns at once.

    Each group of W columns of B (W = the GEMM's NR: 24 doubles or 32 floats) is
    copied into a contiguous m x W tile on the stack, solved there by _tile_solve,
    and copied back.  The copy makes the kernel indifferent to B's layout and avoids
    the cache-set conflicts of B rows a power of two apart; it costs m W moves
    against m^2 W / 2 FMAs.  A partial last group is padded with zero columns, which
    are solved along and never copied back.
    """
    cdef real tile[TRSM_NB * GEMM_NR_MAX]
    cdef Py_ssize_t w_full, jb, j0, w, i, j
    cdef real* bg
    cdef bint by_columns
    if real is double:
        w_full = GEMM_NR_D
    else:
        w_full = GEMM_NR_S
    for jb in range((n + w_full - 1) // w_full):
        j0 = jb * w_full
        w = min(w_full, n - j0)
        bg = b + j0 * csb
        # Copy along B's contiguous direction: reading W columns of a column-major B
        # row by row touches W lines a leading dimension apart on every step (with a
        # power-of-two lda, all in one cache set).
        by_columns = _iabs(rsb) < _iabs(csb)
        if by_columns:
            for j in range(w):
                for i in range(m):
                    tile[i * w_full + j] = bg[i * rsb + j * csb]
        else:
            for i in range(m):
                for j in range(w):
                    tile[i * w_full + j] = bg[i * rsb + j * csb]
        for i in range(m):
            for j in range(w, w_full):
                tile[i * w_full + j] = 0
        _tile_solve(unit, m, a, rsa, csa, tile)
        if by_columns:
            for j in range(w):
                for i in range(m):
                    bg[i * rsb + j * csb] = tile[i * w_full + j]
        else:
            for i in range(m):
                for j in range(w):
                    bg[i * rsb + j * csb] = tile[i * w_full + j]


cdef inline void _fetch_next(bint saxpy, Py_ssize_t m, Py_ssize_t k, const real* a,
                             Py_ssize_t rsa, Py_ssize_t csa) noexcept nogil:
    """Prefetch the start of what step k + 1 of _lower_by_columns reads: column k + 1
    below the diagonal (saxpy) or row k + 1 left of it, from its lowest address, where
    _axpy and _dot begin when the stride is -1 or 1.  Each is its own short stream,
    which the hardware prefetcher picks up only after its first lines (_memory.pxd)."""
    cdef const real* p
    if saxpy and rsa == 1:
        p = a + (k + 2) + (k + 1) * csa
    elif saxpy and rsa == -1:
        p = a - (m - 1) + (k + 1) * csa
    elif not saxpy and csa == 1:
        p = a + (k + 1) * rsa
    elif not saxpy and csa == -1:
        p = a + (k + 1) * rsa - k
    else:
        return
    prefetch_run(p, ROW_AHEAD_BYTES)


cdef inline void _lower_by_columns(bint unit, Py_ssize_t m, Py_ssize_t n,
                                   const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                                   real* b, Py_ssize_t rsb, Py_ssize_t csb) noexcept nogil:
    """B := L^-1 B one column of B at a time, along whichever direction of L is
    contiguous: column-oriented (GVL4 §3.1.3's saxpy form: x_k := b_k / l_kk, then
    b[k+1:] -= x_k l[k+1:, k]) when L's columns are, else row-oriented dot products."""
    cdef Py_ssize_t j, k, c, i, k0
    cdef real* bj
    cdef bint saxpy = _iabs(rsa) <= _iabs(csa)
    cdef bint four = saxpy and (rsa == 1 or rsa == -1) and rsb == rsa
    cdef bint four_rows = not saxpy and (csa == 1 or csa == -1) and rsb == csa
    cdef real s[4]
    cdef real dot
    for j in range(n):
        bj = b + j * csb
        k0 = 0
        while four_rows and k0 + 4 <= m:
            # Rows k0..k0+3: their dot products with x[:k0] in one pass (dot_rows4, on
            # unit-stride pieces from the lowest address), then their 4 x 4 triangle.
            if csa == 1:
                dot_rows4(k0, a + k0 * rsa, rsa, bj, s)
            else:
                dot_rows4(k0, a + k0 * rsa - (k0 - 1), rsa, bj - (k0 - 1), s)
            for i in range(k0, k0 + 4):
                dot = s[i - k0]
                for c in range(k0, i):
                    dot += a[i * rsa + c * csa] * bj[c * rsb]
                bj[i * rsb] -= dot
                if not unit:
                    bj[i * rsb] /= a[i * (rsa + csa)]
            k0 += 4
        while four and k0 + 4 <= m:
            # Columns k0..k0+3: their 4 x 4 triangle, then the rows below in one pass
            # (subtract_columns: the same operations in the same order as _axpy's),
            # over unit-stride pieces starting at the lowest address.
            for c in range(k0, k0 + 4):
                if not unit:
                    bj[c * rsb] /= a[c * (rsa + csa)]
                for i in range(c + 1, k0 + 4):
                    bj[i * rsb] -= a[i * rsa + c * csa] * bj[c * rsb]
            if k0 + 4 < m:
                _fetch_next(saxpy, m, k0 + 3, a, rsa, csa)
            if rsa == 1:
                subtract_columns(m - k0 - 4, bj + k0 + 4, a + k0 + 4 + k0 * csa, csa,
                                 bj[k0], bj[k0 + 1], bj[k0 + 2], bj[k0 + 3])
            else:
                subtract_columns(m - k0 - 4, bj - (m - 1), a - (m - 1) + k0 * csa, csa,
                                 bj[-k0], bj[-k0 - 1], bj[-k0 - 2], bj[-k0 - 3])
            k0 += 4
        for k in range(k0, m):
            if k + 1 < m:
                _fetch_next(saxpy, m, k, a, rsa, csa)
            if saxpy:
                if not unit:
                    bj[k * rsb] /= a[k * (rsa + csa)]
                _axpy(m - k - 1, -bj[k * rsb], a + (k + 1) * rsa + k * csa, rsa,
                      bj + (k + 1) * rsb, rsb)
            else:
                bj[k * rsb] -= _dot(k, a + k * rsa, csa, bj, rsb)
                if not unit:
                    bj[k * rsb] /= a[k * (rsa + csa)]


cdef inline void trsm_lower_unblocked(bint unit, Py_ssize_t m, Py_ssize_t n,
                                      const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                                      real* b, Py_ssize_t rsb, Py_ssize_t csb) noexcept nogil:
    """B := L^-1 B (L m x m lower, B m x n) by substitution, m <= TRSM_NB or n < TRSM_MIN_RHS.

    A few right-hand sides are solved one column at a time (level-2, no padding of
    register groups), more of them W columns at a time in registers.
    """
    if n < TRSM_MIN_RHS:
        _lower_by_columns(unit, m, n, a, rsa, csa, b, rsb, csb)
    else:
        _lower_by_rows(unit, m, n, a, rsa, csa, b, rsb, csb)


cdef inline int trsm_lower_blocked(bint unit, Py_ssize_t m, Py_ssize_t n,
                                   const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                                   real* b, Py_ssize_t rsb, Py_ssize_t csb,
                                   int n_threads) noexcept nogil:
    """B := L^-1 B, blocked (GVL4 §3.1.3): TRSM_NB rows at a time,

        B[k0:k1]  := L[k0:k1, k0:k1]^-1 B[k0:k1]          (unblocked)
        B[k1:]    -= L[k1:, k0:k1] @ B[k0:k1]              (gemm, rank TRSM_NB)
    """
    cdef Py_ssize_t kblk, k0, kb
    cdef int status
    for kblk in range((m + TRSM_NB - 1) // TRSM_NB):
        k0 = kblk * TRSM_NB
        kb = min(TRSM_NB, m - k0)
        trsm_lower_unblocked(unit, kb, n, a + k0 * (rsa + csa), rsa, csa,
                             b + k0 * rsb, rsb, csb)
        if k0 + kb == m:
            break
        if _iabs(csb) <= _iabs(rsb):
            status = gemm(m - k0 - kb, n, kb, -1, a + (k0 + kb) * rsa + k0 * csa, rsa, csa,
                          b + k0 * rsb, rsb, csb, 1, b + (k0 + kb) * rsb, rsb, csb, n_threads)
        else:   # B by columns: B2^T -= X1^T L21^T, so the GEMM writes rows of its C
            status = gemm(n, m - k0 - kb, kb, -1, b + k0 * rsb, csb, rsb,
                          a + (k0 + kb) * rsa + k0 * csa, csa, rsa, 1,
                          b + (k0 + kb) * rsb, csb, rsb, n_threads)
        if status != INFO_OK:
            return status
    return INFO_OK


cdef inline int trsm_lower(bint unit, Py_ssize_t m, Py_ssize_t n,
                           const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                           real* b, Py_ssize_t rsb, Py_ssize_t csb, int n_threads) noexcept nogil:
    """B := L^-1 B: substitution alone for one diagonal block or a few right-hand
    sides, else blocked."""
    if m <= TRSM_NB or n < TRSM_MIN_RHS:
        trsm_lower_unblocked(unit, m, n, a, rsa, csa, b, rsb, csb)
        return INFO_OK
    return trsm_lower_blocked(unit, m, n, a, rsa, csa, b, rsb, csb, n_threads)


cdef inline int trsm(bint left, bint lower, bint trans, bint unit_diag,
                     Py_ssize_t m, Py_ssize_t n, real alpha,
                     const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                     real* b, Py_ssize_t rsb, Py_ssize_t csb,
                     int n_threads) noexcept nogil:
    """B (m x n) := alpha op(A)^-1 B (left) or alpha B op(A)^-1 (right), in place.

    Only the `lower` (or upper) triangle of A is read, and not its diagonal when
    unit_diag.  Any strides (in elements, row stride first), negative ones included.
    Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t i, j, t, part, lo, width, nr
    cdef int failures = 0
    if m == 0 or n == 0:
        return INFO_OK
    # Right side: X op(A) = B  <=>  op(A)^T X^T = B^T.
    if not left:
        m, n = n, m
        rsb, csb = csb, rsb
        trans = not trans
    # Transposed: A^T read through swapped strides; it is triangular the other way.
    if trans:
        rsa, csa = csa, rsa
        lower = not lower
    # Upper: reverse the order of the unknowns, J U J is lower.
    if not lower:
        a = a + (m - 1) * (rsa + csa)
        rsa, csa = -rsa, -csa
        b = b + (m - 1) * rsb
        rsb = -rsb
    # BLAS semantics: alpha = 0 sets B to zero without reading A (or B).
    if alpha != 1:
        for i in range(m):
            for j in range(n):
                b[i * rsb + j * csb] = 0 if alpha == 0 else alpha * b[i * rsb + j * csb]
        if alpha == 0:
            return INFO_OK
    if real is double:
        nr = GEMM_NR_D
    else:
        nr = GEMM_NR_S
    if n_threads <= 1 or m * m * n < PARALLEL_MIN_MNK or n < 2 * nr:
        return trsm_lower(unit_diag, m, n, a, rsa, csa, b, rsb, csb, n_threads)
    # Columns of B are independent problems: one block of whole register groups each.
    n_threads = <int>min(<Py_ssize_t>n_threads, n // nr)
    part = (n + n_threads - 1) // n_threads
    part = (part + nr - 1) // nr * nr
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        lo = t * part
        width = min(part, n - lo)
        if width > 0:
            failures += trsm_lower(unit_diag, m, width, a, rsa, csa,
                                   b + lo * csb, rsb, csb, 1) != INFO_OK
    return INFO_NO_MEMORY if failures else INFO_OK

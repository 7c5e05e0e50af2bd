"""LU factorization with partial pivoting, P A = L U, and what is built on it.

What: for an m x n matrix A, P A = L U with P a permutation (row interchanges), L
m x min(m,n) unit lower triangular (trapezoidal), U min(m,n) x n upper triangular.
LAPACK's getrf contract: L and U overwrite A (L's unit diagonal not stored); piv[i]
(0-based) is the row that was interchanged with row i at step i, applied in order
i = 0, 1, ...; the status is 0, or k > 0 if U[k-1, k-1] is exactly zero (the
factorization is completed anyway, like LAPACK, so U is still usable for det).

Algorithms (Golub & Van Loan, Matrix Computations, 4th ed., §3.4):
- getf2: the unblocked right-looking outer-product algorithm (GVL4 Alg. 3.4.1 with
  partial pivoting, §3.4.3): per column, pick the largest |a_ij| as pivot, swap whole
  rows, scale the column below by 1/pivot, and apply the rank-1 update to the trailing
  matrix.  2n^3/3 flops for n x n (mn^2 - n^3/3 for m >= n).  Row-major working copies
  make the row swap and the rank-1 update walk contiguous rows (vectorised).
- getrf: the recursive LU of Toledo ("Locality of reference in LU decomposition with
  partial pivoting", SIAM J. Matrix Anal. Appl. 18(4), 1997; LAPACK's getrf2).  Split
  the columns in halves and recurse:

          n1    n2
        +-----+-----+         1. P1 [A11; A21] = [L11; L21] U11       (recurse, left half)
     n1 | A11 | A12 |         2. apply P1 to [A12; A22]               (laswp)
        +-----+-----+         3. A12 := L11^-1 A12 = U12              (trsm, unit lower)
  m-n1  | A21 | A22 |         4. A22 := A22 - L21 U12                 (gemm: most flops)
        +-----+-----+         5. P2 A22 = L22 U22                     (recurse)
                              6. apply P2 to L21                       (laswp)

  Half of the flops of every level land in one large GEMM (step 4), so the whole
  factorization runs at nearly GEMM speed without choosing a block size; the
  recursion stops at panels of at most LU_NB columns (src/_blocking.pxd, measured),
  which getf2 factors directly; tall panels go through a column-major copy
  (getf2_panel) so that the pivot search and the updates run down contiguous columns.
- getrs: solve A X = B or A^T X = B from the factors (laswp, then two triangular
  solves: trsm of src/triangular.pxd, blocked on GEMM).  2n^2 flops per right side.
- Small matrices (k <= 8 and 16 in stacks): LANES matrices at once, interleaved so
  that element (i, j) of the LANES matrices is one vector (lanes = matrices, as
  batched LAPACK implementations do); every step of the elimination and of the
  substitution is then one vector operation per element, and the per-matrix pivot
  choice and row interchange become compares and blends.  The elimination is applied
  to the right-hand sides as it goes (the augmented matrix [A | B]), which
  leaves U x = L^-1 P b for one back substitution.  Compiled per literal k (the
  fixed_k tags of gemm.pxd), so every loop has a known trip count; the elimination's
  steps are written out on vector types, so each step's pivot row stays in registers.
  Inverse = solve with B = I (2k^3/3 + 2k^3 flops; in lanes, L^-1 P is formed after
  the elimination from L and the pivots).  A single small matrix takes the
  plain getf2.
- det: the product of U's diagonal times the sign of P, accumulated as mantissa and
  binary exponent (det_from_lu), so it overflows or underflows only when the
  determinant itself is outside the floating range.  For integer-valued A the result
  is rounded to the exact integer when a rigorous error bound allows it (see there).

Strides are in elements, row stride before column stride; any strides work, but the
speed assumes a unit column stride (row-major, as the drivers provide).  NaN and Inf
propagate through the arithmetic; a NaN column is never chosen as pivot over a
number (the first largest |a_ij|, as OpenBLAS's idamax), so factoring always ends.
"""

from libc.math cimport fabs, frexp, ldexp, log, rint, sqrt, INFINITY
from libc.stdlib cimport malloc, free

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport LU_NB, LU_PANEL_ROWS
from gemm cimport fixed_k, K2, K3, K4, K5, K6, K7, K8, K16, K32, gemm, imin
from triangular cimport subtract_columns, trsm
from _vectors cimport (vd, vf, vec, splat, select, either, both, equal, greater, vabs, any_set,
                      dot_contiguous, dot_rows4, vd_iamax, vf_iamax)

cdef extern from *:
    """
    #define FASTLA_RENORM_BIG 0x1p500    /* det_from_lu renormalises outside [2^-500, 2^500] */
    #define FASTLA_RENORM_SMALL 0x1p-500
    #define FASTLA_TWO_POW_52 0x1p52
    """
    const double RENORM_BIG "FASTLA_RENORM_BIG"
    const double RENORM_SMALL "FASTLA_RENORM_SMALL"
    const double TWO_POW_52 "FASTLA_TWO_POW_52"

cdef extern from "float.h":
    double DBL_MIN
    float FLT_MIN


cdef inline Py_ssize_t iamax(Py_ssize_t n, const real* x, Py_ssize_t incx) noexcept nogil:
    """The first index of the largest |x_i| (BLAS i_amax), NaN counting as smaller than
    any number (as OpenBLAS's, which numpy uses); 0 for n <= 1 or all-NaN x."""
    cdef Py_ssize_t i, best = 0
    cdef real vmax = -1, v
    for i in range(n):
        v = fabs(x[i * incx])
        if v > vmax:
            vmax = v
            best = i
    return best


cdef inline void swap_rows(Py_ssize_t n, real* x, real* y, Py_ssize_t inc) noexcept nogil:
    cdef Py_ssize_t j
    cdef real t
    for j in range(n):
        t = x[j * inc]
        x[j * inc] = y[j * inc]
        y[j * inc] = t


cdef inline void laswp(Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                       Py_ssize_t k1, Py_ssize_t k2, const int* piv, bint forward) noexcept nogil:
    """Rows i = k1..k2-1 of A (n columns) swapped with rows piv[i], in that order
    (forward, P A) or in reverse order (P^T A)."""
    cdef Py_ssize_t i, r
    for r in range(k2 - k1):
        i = k1 + r if forward else k2 - 1 - r
        if piv[i] != i:
            swap_rows(n, a + i * rsa, a + piv[i] * rsa, csa)


cdef inline int getf2(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                      int* piv) noexcept nogil:
    """P A = L U in place, unblocked (GVL4 Alg. 3.4.1 with partial pivoting).

    # IN  A (m x n); OUT L\\U in A, piv[:min(m,n)]; returns 0 or the first zero pivot (1-based)
    Scaling by the reciprocal of the pivot, as LAPACK does, unless the pivot is so
    small that 1/pivot would overflow (then divide).
    """
    cdef Py_ssize_t j, i, c, p, kmax = imin(m, n)
    cdef int info = 0
    cdef real pivot, r, lij
    cdef real* rowj
    cdef real* rowi
    cdef real tiny
    if real is double:
        tiny = DBL_MIN
    else:
        tiny = FLT_MIN
    for j in range(kmax):
        p = j + iamax(m - j, a + j * rsa + j * csa, rsa)
        piv[j] = <int>p
        pivot = a[p * rsa + j * csa]
        if pivot != 0:
            if p != j:
                swap_rows(n, a + j * rsa, a + p * rsa, csa)
        elif info == 0:
            info = <int>(j + 1)     # the column below is all zero: nothing to eliminate
        rowj = a + j * rsa
        r = 1 / pivot if fabs(pivot) >= tiny else 0
        for i in range(j + 1, m):
            rowi = a + i * rsa
            if pivot != 0:
                lij = rowi[j * csa] * r if r != 0 else rowi[j * csa] / pivot
                rowi[j * csa] = lij
            else:
                lij = rowi[j * csa]      # zero (or NaN): LAPACK leaves it unscaled
            # a[i, j+1:] -= l_ij * a[j, j+1:]       (rank-1 update, one row)
            for c in range(j + 1, n):
                rowi[c * csa] -= lij * rowj[c * csa]
    return info


cdef inline int getf2_columns(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t lda,
                              int* piv) noexcept nogil:
    """getf2 on a column-major m x n panel (unit row stride, column stride lda), with
    the same operations in the same order, so the same bits: the pivot search, the
    scaling and each column's rank-1 update then run down contiguous columns
    (vectorised, one pass each), where the row-major getf2 walks a tall panel one
    short row at a time and its pivot search touches one cache line per row.
    """
    cdef Py_ssize_t j, i, c, p, kmax = imin(m, n)
    cdef int info = 0
    cdef real pivot, r, t
    cdef real* col
    cdef real* cc
    cdef real tiny
    if real is double:
        tiny = DBL_MIN
    else:
        tiny = FLT_MIN
    for j in range(kmax):
        col = a + j * lda
        p = j + iamax_contiguous(m - j, col + j)
        piv[j] = <int>p
        pivot = col[p]
        if pivot != 0:
            if p != j:
                swap_rows(n, a + j, a + p, lda)
            r = 1 / pivot if fabs(pivot) >= tiny else 0
            if r != 0:
                for i in range(j + 1, m):
                    col[i] = col[i] * r
            else:
                for i in range(j + 1, m):
                    col[i] = col[i] / pivot
        elif info == 0:
            info = <int>(j + 1)     # the column below is all zero (or NaN): left unscaled
        for c in range(j + 1, n):   # a[j+1:, c] -= a[j+1:, j] * a[j, c]
            cc = a + c * lda
            t = cc[j]
            for i in range(j + 1, m):
                cc[i] -= col[i] * t
    return info


cdef inline int getf2_panel(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa,
                            Py_ssize_t csa, int* piv, real* work) noexcept nogil:
    """getf2 of a tall m x n panel (n <= LU_NB) through a column-major copy in work
    (m * n elements), when A is not column-major already; the same bits as getf2."""
    cdef Py_ssize_t i, c
    cdef int info
    if rsa == 1:
        return getf2_columns(m, n, a, csa, piv)
    for i in range(m):
        for c in range(n):
            work[c * m + i] = a[i * rsa + c * csa]
    info = getf2_columns(m, n, work, m, piv)
    for i in range(m):
        for c in range(n):
            a[i * rsa + c * csa] = work[c * m + i]
    return info


cdef inline int getrf_rec(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                          int* piv, real* work, int n_threads) noexcept nogil:
    """The recursion of getrf; work: LU_NB * m elements for getf2_panel, or NULL."""
    cdef Py_ssize_t kmin = imin(m, n), n1, n2, i
    cdef int info, info2
    if kmin <= LU_NB:
        if work != NULL and n <= LU_NB and m > LU_PANEL_ROWS:
            return getf2_panel(m, n, a, rsa, csa, piv, work)
        return getf2(m, n, a, rsa, csa, piv)
    n1 = kmin // 2
    n2 = n - n1
    info = getrf_rec(m, n1, a, rsa, csa, piv, work, n_threads)               # 1.
    if info < 0:
        return info
    laswp(n2, a + n1 * csa, rsa, csa, 0, n1, piv, True)                    # 2.
    # A12 := L11^-1 A12                                                      3.
    if trsm(True, True, False, True, n1, n2, 1, a, rsa, csa,
            a + n1 * csa, rsa, csa, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    # A22 := A22 - A21 A12                                                   4.
    if gemm(m - n1, n2, n1, -1, a + n1 * rsa, rsa, csa, a + n1 * csa, rsa, csa,
            1, a + n1 * rsa + n1 * csa, rsa, csa, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    info2 = getrf_rec(m - n1, n2, a + n1 * rsa + n1 * csa, rsa, csa, piv + n1, work,
                      n_threads)                                              # 5.
    if info2 < 0:
        return info2
    if info == 0 and info2 > 0:
        info = <int>(info2 + n1)
    for i in range(n1, kmin):
        piv[i] += <int>n1
    laswp(n1, a, rsa, csa, n1, kmin, piv, True)                             # 6.
    return info


cdef inline int getrf(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                      int* piv, int n_threads) noexcept nogil:
    """P A = L U in place, recursive (Toledo 1997; the diagram in the module docstring).

    # IN  A (m x n); OUT L\\U in A, piv[:min(m,n)]
    Returns 0, k > 0 (first exactly zero pivot, 1-based) or INFO_NO_MEMORY.
    Tall panels (more than LU_PANEL_ROWS rows) are factored in a column-major
    workspace (getf2_panel); without memory for it, in place (same result).
    """
    cdef real* work = NULL
    cdef int info
    if imin(m, n) > LU_NB and m > LU_PANEL_ROWS and rsa != 1:
        work = <real*>malloc(m * LU_NB * sizeof(real))
    info = getrf_rec(m, n, a, rsa, csa, piv, work, n_threads)
    free(work)
    return info


cdef inline real dot_rows(Py_ssize_t n, const real* x, Py_ssize_t incx, const real* y) noexcept nogil:
    """sum_p x[p*incx] * y[p] with four partial sums: independent FMA chains instead of
    one bound by FMA latency (the compiler may not reassociate a floating sum)."""
    cdef real s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t p, n4 = n - n % 4
    for p in range(0, n4, 4):
        s0 += x[p * incx] * y[p]
        s1 += x[(p + 1) * incx] * y[p + 1]
        s2 += x[(p + 2) * incx] * y[p + 2]
        s3 += x[(p + 3) * incx] * y[p + 3]
    for p in range(n4, n):
        s0 += x[p * incx] * y[p]
    return (s0 + s1) + (s2 + s3)


cdef inline void lu_substitute(Py_ssize_t n, Py_ssize_t nrhs, const real* lu, Py_ssize_t rsa,
                               Py_ssize_t csa, real* b, Py_ssize_t rsb) noexcept nogil:
    """B := U^-1 L^-1 B, unblocked row-oriented substitution; B has unit column stride.

    Each step subtracts a multiple of one row of B from another (contiguous rows:
    vectorised along the right-hand sides), as in GVL4 Alg. 3.1.3 applied to rows;
    a single right-hand side is a dot product per row (GVL4 Alg. 3.1.1).
    """
    cdef Py_ssize_t i, p, c
    cdef real lip, d, tiny
    cdef real s[4]
    if real is double:
        tiny = DBL_MIN
    else:
        tiny = FLT_MIN
    if nrhs == 1 and rsb == 1 and rsa == 1 and csa > 0:
        # Column-major factors: column-oriented substitution (axpy down each column
        # of L and U), four columns per pass over b (subtract_columns) after their
        # own 4 x 4 triangle; each b_i takes the columns' updates in the same order
        # as one column at a time.
        p = 0
        while p + 4 <= n:                       # L y = b
            for c in range(p, p + 3):
                for i in range(c + 1, p + 4):
                    b[i] -= lu[i + c * csa] * b[c]
            subtract_columns(n - p - 4, b + p + 4, lu + p + 4 + p * csa, csa,
                             b[p], b[p + 1], b[p + 2], b[p + 3])
            p += 4
        for p in range(p, n):
            for i in range(p + 1, n):
                b[i] -= lu[i + p * csa] * b[p]
        p = n - 1
        while p >= 3:                           # U x = y: columns p, p-1, p-2, p-3
            for c in range(p, p - 4, -1):
                b[c] /= lu[c + c * csa]
                for i in range(p - 3, c):
                    b[i] -= lu[i + c * csa] * b[c]
            subtract_columns(p - 3, b, lu + p * csa, -csa, b[p], b[p - 1], b[p - 2], b[p - 3])
            p -= 4
        for p in range(p, -1, -1):
            b[p] /= lu[p + p * csa]
            for i in range(p):
                b[i] -= lu[i + p * csa] * b[p]
        return
    if nrhs == 1 and rsb == 1 and (rsa if rsa > 0 else -rsa) < (csa if csa > 0 else -csa):
        # Other column-oriented factors: one axpy down each column.
        for p in range(n):                      # L y = b
            lip = b[p]
            for i in range(p + 1, n):
                b[i] -= lu[i * rsa + p * csa] * lip
        for p in range(n - 1, -1, -1):          # U x = y
            b[p] /= lu[p * rsa + p * csa]
            lip = b[p]
            for i in range(p):
                b[i] -= lu[i * rsa + p * csa] * lip
        return
    if nrhs == 1 and rsb == 1 and csa == 1:
        # Row-major factors: a dot product per row, four rows per pass over b
        # (dot_rows4) and then their 4 x 4 triangle.
        p = 0
        while p + 4 <= n:                       # L y = b: rows p..p+3
            dot_rows4(p, lu + p * rsa, rsa, b, s)
            for i in range(p, p + 4):
                d = s[i - p]
                for c in range(p, i):
                    d += lu[i * rsa + c] * b[c]
                b[i] -= d
            p += 4
        for i in range(p, n):
            b[i] -= dot_contiguous(i, lu + i * rsa, b)
        p = n - 1
        while p >= 3:                           # U x = y: rows p, p-1, p-2, p-3
            dot_rows4(n - 1 - p, lu + p * rsa + p + 1, -rsa, b + p + 1, s)
            for i in range(p, p - 4, -1):
                d = s[p - i]
                for c in range(i + 1, p + 1):
                    d += lu[i * rsa + c] * b[c]
                b[i] = (b[i] - d) / lu[i * rsa + i]
            p -= 4
        for i in range(p, -1, -1):
            b[i] = (b[i] - dot_contiguous(n - 1 - i, lu + i * rsa + i + 1, b + i + 1)) \
                / lu[i * rsa + i]
        return
    if nrhs == 1 and rsb == 1:                  # other factors: a dot product per row
        for i in range(1, n):                   # L y = b
            b[i] -= dot_rows(i, lu + i * rsa, csa, b)
        for i in range(n - 1, -1, -1):          # U x = y
            b[i] = (b[i] - dot_rows(n - 1 - i, lu + i * rsa + (i + 1) * csa, csa, b + i + 1)) \
                / lu[i * rsa + i * csa]
        return
    for i in range(1, n):                       # L y = b
        for p in range(i):
            lip = lu[i * rsa + p * csa]
            for c in range(nrhs):
                b[i * rsb + c] -= lip * b[p * rsb + c]
    for i in range(n - 1, -1, -1):              # U x = y
        for p in range(i + 1, n):
            lip = lu[i * rsa + p * csa]
            for c in range(nrhs):
                b[i * rsb + c] -= lip * b[p * rsb + c]
        d = lu[i * rsa + i * csa]
        if fabs(d) >= tiny:         # one division per row, as backsolve_vectors (same results)
            d = 1 / d
            for c in range(nrhs):
                b[i * rsb + c] *= d
        else:                       # 1/d would overflow (or d = 0: Inf/NaN, as dividing)
            for c in range(nrhs):
                b[i * rsb + c] /= d


cdef inline int getrs(bint trans, Py_ssize_t n, Py_ssize_t nrhs, const real* lu,
                      Py_ssize_t rsa, Py_ssize_t csa, const int* piv,
                      real* b, Py_ssize_t rsb, Py_ssize_t csb, int n_threads) noexcept nogil:
    """B := A^-1 B (trans false) or A^-T B (trans true) from getrf's factors.

    A = P^T L U, so A^-1 B = U^-1 L^-1 (P B) and A^-T B = P^T L^-T U^-T B.
    Returns INFO_OK or INFO_NO_MEMORY.  No singularity check (callers check info).
    """
    if n == 0 or nrhs == 0:
        return INFO_OK
    if not trans:
        laswp(nrhs, b, rsb, csb, 0, n, piv, True)                            # B := P B
        if csb == 1 and (n <= LU_NB or nrhs == 1):     # level 2: no blocking to gain
            lu_substitute(n, nrhs, lu, rsa, csa, b, rsb)
            return INFO_OK
        if trsm(True, True, False, True, n, nrhs, 1, lu, rsa, csa, b, rsb, csb,
                n_threads) != INFO_OK:                                        # B := L^-1 B
            return INFO_NO_MEMORY
        return trsm(True, False, False, False, n, nrhs, 1, lu, rsa, csa, b, rsb, csb,
                    n_threads)                                                # B := U^-1 B
    if trsm(True, False, True, False, n, nrhs, 1, lu, rsa, csa, b, rsb, csb,
            n_threads) != INFO_OK:                                            # B := U^-T B
        return INFO_NO_MEMORY
    if trsm(True, True, True, True, n, nrhs, 1, lu, rsa, csa, b, rsb, csb,
            n_threads) != INFO_OK:                                            # B := L^-T B
        return INFO_NO_MEMORY
    laswp(nrhs, b, rsb, csb, 0, n, piv, False)                               # B := P^T B
    return INFO_OK


cdef inline double lu_error_product(Py_ssize_t n, const real* lu, Py_ssize_t rsa,
                                    Py_ssize_t csa) noexcept nogil:
    """prod_i r_i, r_i = sum_k |L_ik| ||U_k,:||_2 >= ||(|L||U|)_i,:||_2 (see det_from_lu)."""
    cdef Py_ssize_t i, k, c
    cdef double prod = 1, ri, unorm, u
    for i in range(n):
        ri = 0
        for k in range(i + 1):
            unorm = 0
            for c in range(k, n):
                u = lu[k * rsa + c * csa]
                unorm += u * u
            ri += sqrt(unorm) * (fabs(lu[i * rsa + k * csa]) if k < i else 1)
        prod *= ri
    return prod


cdef inline bint is_integral(Py_ssize_t n, const real* a, Py_ssize_t rsa,
                             Py_ssize_t csa) noexcept nogil:
    """Whether every entry of the n x n matrix A is a (finite) integer."""
    cdef Py_ssize_t i, j
    cdef real x
    for i in range(n):
        for j in range(n):
            x = a[i * rsa + j * csa]
            if x != rint(x) or fabs(x) == INFINITY:
                return False
    return True


cdef inline double det_from_lu(Py_ssize_t n, const real* lu, Py_ssize_t rsa, Py_ssize_t csa,
                               const int* piv, bint integral, double eps, double* sign,
                               double* mantissa, long* exponent) noexcept nogil:
    """det A = sign(P) prod_i U_ii from getrf's factors, returned as a double and as
    sign * mantissa * 2**exponent (mantissa >= 0 within [2^-500, 2^500], or 0, NaN, Inf).

    |det| is accumulated as mantissa and binary exponent (renormalised with frexp
    whenever it leaves [2^-500, 2^500]), so it overflows or underflows only in the
    final ldexp, i.e. only where the determinant itself is out of range.  The sign is
    kept apart (numpy's slogdet convention: a NaN on the diagonal leaves it +-1).

    Exact integers: if A was integer-valued (`integral`), det A is an integer.  The
    computed factors satisfy A + E = L U with |E| <= gamma_n |L||U| (Higham, Accuracy
    and Stability of Numerical Algorithms, 2nd ed., Thm 9.3), and det is multilinear
    in the rows, so with Hadamard's inequality (row 2-norms)
    |det(A + E) - det A| <= prod_i (||a_i|| + ||e_i||) - prod_i ||a_i||
    <= ((1 + 2 gamma_n)^n - (1 + gamma_n)^n) prod_i r_i ~ n gamma_n prod_i r_i, with
    r_i = sum_k |L_ik| ||U_k||_2 >= || |L||U| row i ||_2.  When 4 n^2 eps prod r_i (which
    covers that bound, the rounding of the product and of the bound itself) is below
    1/2, rounding to the nearest integer gives det A exactly: det([[1,2],[3,4]]) is
    -2.0, not numpy's -2.0000000000000004.
    """
    cdef Py_ssize_t i
    cdef double m = 1, s = 1, d, u
    cdef long e = 0
    cdef int e2
    for i in range(n):
        u = lu[i * rsa + i * csa]
        if piv[i] != i:
            s = -s
        if u < 0:
            s = -s
        m *= fabs(u)
        if not (m <= RENORM_BIG and m >= RENORM_SMALL):     # also NaN, Inf and 0
            if m != 0 and m != INFINITY and m == m:
                m = frexp(m, &e2)
                e += e2
    sign[0] = s
    mantissa[0] = m
    exponent[0] = e
    if e == 0:                       # never left [2^-500, 2^500]: no libm call
        d = s * m
    else:                            # ldexp's int argument: |e| > 2000 is Inf or 0 anyway
        d = s * ldexp(m, <int>(2000 if e > 2000 else (-2000 if e < -2000 else e)))
    if integral and fabs(d) < TWO_POW_52 and n > 0:
        if 4.0 * n * n * eps * lu_error_product(n, lu, rsa, csa) < 0.5:
            d = rint(d)
    return d


cdef inline double slogdet_from_lu(double sign, double mantissa, long exponent,
                                   double* sign_out) noexcept nogil:
    """(sign, log|det|) from det_from_lu's parts, numpy's convention: a zero
    determinant gives (0, -inf); a NaN gives (+-1, nan)."""
    if mantissa == 0:
        sign_out[0] = 0
        return -INFINITY
    sign_out[0] = sign
    return log(mantissa) + exponent * 0.6931471805599453


# ------------------------------------------------------------------ literal sizes

cdef inline Py_ssize_t fixed_size(fixed_k* size) noexcept nogil:
    """k of a fixed_k tag type (gemm.pxd): a literal in each specialisation."""
    if fixed_k is K2:
        return 2
    elif fixed_k is K3:
        return 3
    elif fixed_k is K4:
        return 4
    elif fixed_k is K5:
        return 5
    elif fixed_k is K6:
        return 6
    elif fixed_k is K7:
        return 7
    elif fixed_k is K8:
        return 8
    elif fixed_k is K16:
        return 16
    else:
        return 32


# ------------------------------------------------- stacks of small matrices, in lanes
#
# A group holds LANES matrices interleaved: element (i, j) of matrix l of a k x k group
# is x[(i*k + j)*LANES + l], so each (i, j) is one vector register and the loops over
# l below compile to single vector instructions.  eliminate_lanes returns the pivot
# rows the same way, one vector per step (piv[j*LANES + l], as reals: no conversion
# in the loop); getrs_lanes takes LAPACK's integer pivots per matrix (piv[l*k + j]).
# The kernels work on the caller's local (stack) arrays, so the
# compiler sees that x and y cannot overlap and vectorises the lane loops without
# run-time alias checks.
#
# LANES = 16: two zmm of doubles per element (the build prefers 512-bit vectors), so
# two independent dependency chains hide the latency of the short loops (the pivot
# division above all); with 8 lanes the autovectorised kernels were no faster at any
# k and up to a third slower at k = 4.  The substitution and det loop over the lanes of
# plain arrays, which GCC vectorises; a select there must read both of its operands
# unconditionally (load, then choose): GCC does not vectorise `x[i] if m else y[i]`
# over local arrays (a conditional load).
#
# The elimination is written on GCC vector types instead (eliminate_vectors), because
# the autovectoriser keeps every local array in memory between vector operations:
# 3-4 loads and a store per element and step, bound by loads and stores (59 ns per
# 8 x 8 matrix in cache).  Vector-typed locals indexed by literals become registers,
# so the pivot row and row j of a step stay in registers, which needs every loop of
# a step to have a literal trip count: the steps are written out, one specialisation
# per step (step_j) called once, which GCC inlines whatever its size.  The same step
# as one function called k times stayed a call (GCC's growth limits for this large
# module), and a loop over j kept the pivot row in memory: both no faster than the
# autovectorised kernel.  Measured (AMD Zen 4, one thread, float64, 100000 x k x k
# from memory, ms, det / solve / inv): k = 8 autovectorised 12.0 / 14.2 / 28.0,
# vector steps 10.5 / 12.1 / 26.8, and reading A by gather_ahead (cholesky.pxd; a
# sequential copy first, the block transposes from there) 8.2 / 10.3 / 24.6; k = 4
# 2.1 / 2.5 / 4.3 -> 2.1 / 2.1 / 3.7; k = 16 58 / 69 / 157 -> 47 / 58 / 152.  In
# cache (1024 matrices) k = 8 det 78 -> 64-69 ns per matrix, of which the
# elimination is ~35 and gather_ahead's copy ~8 (it pays only from memory).
#
# The right-hand sides: their count is a literal too for solve's one column and the
# inverse's k (the rhs_n tags; a run-time count only for solve with several
# columns), each vector's rows of y are copied into a local array for the
# elimination and the back substitution, which runs on the vector types too
# (backsolve_vectors: a row of y accumulated in registers, each U_ip loaded once for
# all columns).  The inverse carries no right-hand sides through the elimination: it
# keeps L, makes P from the pivots (one compare per element) and substitutes
# forward (forward_vectors), the same operations on the same values as eliminating
# [A | I] without interchanging the identity's rows at every step.  The tag is a
# parameter of the steps as well (a step specialisation shared by two right-hand
# side counts is called twice, and stayed a call: k = 8 solve 11.1 -> 13.6 ms), and
# of the driver's _chunk (lu.pyx: four kernels in one function broke the inlining of
# some steps; solve with three columns 50 % slower at k = 4).  Measured (one-process
# A/B, one thread, min of 15, ms per 100000 matrices, det / solve (one column) /
# inv), float64 from memory: k = 4 1.7-2.0 / 2.1 / 3.5 -> 1.4 / 1.6 / 3.1; k = 8
# 8.2 / 10.8 / 23.9 -> 7.9 / 10.2 / 19.8; k = 16 47 / 59 / 151 -> 46 / 55 / 119;
# float32 (native) k = 8 4.0 / 5.8 / 12.3 -> 3.8 / 5.7 / 10.2; in cache (4096
# matrices) k = 4 1.8 / 2.2 / 3.1 -> 1.5 / 1.9 / 2.8, k = 8 6.7 / 8.4 / 17.7 -> 6.1 /
# 7.6 / 12.1; solve with three columns unchanged (k = 4 3.5, k = 8 17.2-17.4).  Did
# not pay: each step run on both vectors of a double element before the next step
# (to overlap their latency chains): k = 8 det 6.0 -> 6.9, inv 13.5 -> 14.2 in cache.
# What is left at k = 8 is spread over the whole elimination (no hot spot in a
# profile): every step loads and stores each trailing row of x (and of y for solve),
# 64 vectors per vector of lanes, more than the 32 registers.

cdef enum:
    LANES = 16          # lanes_load and lanes_store spell out sixteen lanes


cdef inline Py_ssize_t iamax_contiguous(Py_ssize_t n, const real* x) noexcept nogil:
    """iamax(n, x, 1) on vectors (fastla_vd_iamax, _vectors.pxd): the pivot search of tall
    panels (getf2_columns), which as a scalar loop is one compare-and-move chain
    through every element (16 % of the panel factorisation's time at n = 1024;
    solve n = 256 / 1024 ~3 % faster, one thread)."""
    if real is double:
        return vd_iamax(x, n)
    elif n < (1 << 24):
        return vf_iamax(x, n)
    return iamax(n, x, 1)


cdef inline Py_ssize_t vectors_per_element(vec* like) noexcept nogil:
    """LANES / the lanes of one vector: the vectors that hold one element of a group."""
    if vec is vd:
        return LANES // 8
    else:
        return LANES // 16


# Tags for the step index of eliminate_step, as fixed_k (gemm.pxd) is for k: each step
# of the elimination is its own specialisation, called once, in which j is a literal.
cdef struct J0:
    char unused
cdef struct J1:
    char unused
cdef struct J2:
    char unused
cdef struct J3:
    char unused
cdef struct J4:
    char unused
cdef struct J5:
    char unused
cdef struct J6:
    char unused
cdef struct J7:
    char unused
cdef struct JN:             # j a run-time value (steps 8.. of k = 16)
    char unused

ctypedef fused step_j:
    J0
    J1
    J2
    J3
    J4
    J5
    J6
    J7
    JN


cdef inline Py_ssize_t step_index(step_j* tag, Py_ssize_t j) noexcept nogil:
    """The step of a step_j tag: a literal, or j for JN."""
    if step_j is J0:
        return 0
    elif step_j is J1:
        return 1
    elif step_j is J2:
        return 2
    elif step_j is J3:
        return 3
    elif step_j is J4:
        return 4
    elif step_j is J5:
        return 5
    elif step_j is J6:
        return 6
    elif step_j is J7:
        return 7
    else:
        return j


# Tags for the number of right-hand sides, as fixed_k is for k: literal for solve's one
# column (R1) and the inverse's k (RK), so that every loop over the right-hand sides
# has a literal trip count too and their rows can stay in registers; RN: nb a
# run-time value (solve with several columns); R0: none (factor, det).
cdef struct R0:
    char unused
cdef struct R1:
    char unused
cdef struct RK:
    char unused
cdef struct RN:
    char unused

ctypedef fused rhs_n:
    R0
    R1
    RK
    RN


cdef inline Py_ssize_t rhs_count(rhs_n* tag, fixed_k* size, Py_ssize_t nb) noexcept nogil:
    """The number of right-hand sides of an rhs_n tag: a literal, or nb for RN."""
    if rhs_n is R0:
        return 0
    elif rhs_n is R1:
        return 1
    elif rhs_n is RK:
        return fixed_size(size)
    else:
        return nb


cdef inline void eliminate_lanes(fixed_k* size, rhs_n* rhs, real* x, Py_ssize_t nb, real* y,
                                 real* piv, int* info, bint keep_l) noexcept nogil:
    """Gaussian elimination with partial pivoting (GVL4 Alg. 3.4.1 and §3.4.3) on the
    LANES interleaved k x k matrices of x, applied at the same time to their
    right-hand sides y (k x nb each, y[(i*nb + c)*LANES + l]), then back substitution
    (GVL4 Alg. 3.1.2): y := A^-1 y; k and (but for RN) nb compile-time constants.
    For RK (the inverse) y is only written: y := A^-1.

    # IN  x (A), y (B); OUT x: U in the upper triangle (and, if keep_l, L below it:
    #     getrf's factors), y := U^-1 L^-1 P B, piv[j*LANES + l] (the pivot row of
    #     step j, as a real: one vector per step), info[l] (first zero pivot,
    #     1-based, or 0)
    Scaling by the reciprocal of each pivot, except where the pivot is so small
    (< the smallest normal) that its reciprocal would overflow: LAPACK's rule then
    forms that lane's multipliers, and the substitution its quotients, by division
    (only in the lanes and steps whose pivot is that small: every other lane gets
    the same bits either way).
    """
    cdef int seen
    cdef Py_ssize_t k = fixed_size(size), j, l
    if real is double:
        seen = eliminate_vectors(size, rhs, <vd*>x, nb, <vd*>y, <vd*>piv, keep_l)
    else:
        seen = eliminate_vectors(size, rhs, <vf*>x, nb, <vf*>y, <vf*>piv, keep_l)
    for l in range(LANES):
        info[l] = 0
    if seen:                                     # the first zero pivot of each lane
        for l in range(LANES):
            for j in range(k - 1, -1, -1):
                if x[(j * k + j) * LANES + l] == 0:
                    info[l] = <int>(j + 1)


cdef inline int eliminate_vectors(fixed_k* size, rhs_n* rhs, vec* x, Py_ssize_t nb_run, vec* y,
                                  vec* piv, bint keep_l) noexcept nogil:
    """eliminate_lanes on vectors: element (i, c) of the group is the H vectors
    x[(i*k + c)*H + h], h < H, whose lanes run the elimination and the substitution
    independently, one h after the other.  Returns whether a zero pivot was seen.

    The steps are written out, each its own specialisation (step_j) called once, so
    that GCC inlines every one (a function called once is inlined whatever its size;
    one function called k times is not, past the module's growth limits), j and k are
    literals in each, every loop of a step has a known trip count and is unrolled, and
    the step's pivot row and row j become registers.  Steps past the eighth (k = 16)
    loop.  The right-hand sides of vector h are copied into a local array (yh) for the
    elimination and the substitution: with nb a literal too, its rows are registers
    (or stack slots at literal offsets) rather than loads and stores through y (a
    run-time nb works in y itself, every H-th vector).  The inverse (RK) carries no
    right-hand sides through the elimination: it keeps L, makes y = P from the pivots
    (permutation_vectors) and substitutes forward (forward_vectors), the same
    operations on the same values as eliminating [A | I], without the interchanges of
    whole rows of y (two selects per element and step).
    """
    cdef Py_ssize_t k = fixed_size(size), nb = rhs_count(rhs, size, nb_run)
    cdef Py_ssize_t h, j, e, H = vectors_per_element(x)
    cdef vec prow[16]
    cdef vec rowj[16]
    cdef vec pb[16]
    cdef vec yj[16]
    cdef vec rdiag[16]
    cdef vec yh[16 * 16]
    cdef vec* yv = yh
    cdef vec tiny_seen, zero_seen
    cdef int seen = 0
    for h in range(H):
        if rhs_n is RN:
            yv = y + h
        elif rhs_n is R1:
            for e in range(k * nb):
                yh[e] = y[e * H + h]
        tiny_seen = splat(x, 0)
        zero_seen = tiny_seen
        if k > 0:
            eliminate_step(rhs, <J0*>NULL, size, x, nb, yv, rdiag, piv, h, 0, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 1:
            eliminate_step(rhs, <J1*>NULL, size, x, nb, yv, rdiag, piv, h, 1, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 2:
            eliminate_step(rhs, <J2*>NULL, size, x, nb, yv, rdiag, piv, h, 2, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 3:
            eliminate_step(rhs, <J3*>NULL, size, x, nb, yv, rdiag, piv, h, 3, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 4:
            eliminate_step(rhs, <J4*>NULL, size, x, nb, yv, rdiag, piv, h, 4, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 5:
            eliminate_step(rhs, <J5*>NULL, size, x, nb, yv, rdiag, piv, h, 5, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 6:
            eliminate_step(rhs, <J6*>NULL, size, x, nb, yv, rdiag, piv, h, 6, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        if k > 7:
            eliminate_step(rhs, <J7*>NULL, size, x, nb, yv, rdiag, piv, h, 7, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        for j in range(8, k):
            eliminate_step(rhs, <JN*>NULL, size, x, nb, yv, rdiag, piv, h, j, keep_l, prow, rowj,
                           pb, yj, &tiny_seen, &zero_seen)
        seen |= any_set(zero_seen)
        if rhs_n is RK:                          # y := L^-1 P
            permutation_vectors(size, piv, h, yh)
            forward_vectors(size, x, yh, h)
        if nb > 0:
            backsolve_vectors(rhs, size, x, nb, yv, rdiag, h, any_set(tiny_seen))
        if rhs_n is R1 or rhs_n is RK:
            for e in range(k * nb):
                y[e * H + h] = yh[e]
    return seen


cdef inline void eliminate_step(rhs_n* rhs, step_j* tag, fixed_k* size, vec* x, Py_ssize_t nb_run, vec* y,
                                vec* rdiag, vec* piv, Py_ssize_t h, Py_ssize_t jn, bint keep_l,
                                vec* prow, vec* rowj, vec* pb, vec* yj, vec* tiny_seen,
                                vec* zero_seen) noexcept nogil:
    """Step j of eliminate_vectors on the lanes of vector h; y: that vector's
    right-hand sides (y[(i*nb + c)*ys], ys = H for RN, in the group's array, else 1;
    none for RK, which keeps L instead); rdiag[j] := 1/pivot (1 where it is 0); prow,
    rowj (k vectors), pb, yj (nb): the caller's scratch.

    The pivot row differs between lanes, so the search keeps a per-lane maximum and
    row, and the interchange is a select: the pivot row is gathered into prow and pb
    (beside row j's old entries, rowj and yj), and every row below j takes row j's
    old entries in the lanes that chose it, in the same pass that subtracts
    l_ij * prow (swap and rank-1 update fused).  The columns left of j hold L; they
    are interchanged only if keep_l (solve, inv and det never read L again).
    """
    cdef Py_ssize_t k = fixed_size(size), nb = 0 if rhs_n is RK else rhs_count(rhs, size, nb_run)
    cdef Py_ssize_t H = vectors_per_element(x), i, c, j = step_index(tag, jn)
    cdef Py_ssize_t ys = H if rhs_n is RN else 1
    cdef vec vmax, best, v, m, p, r, lij, tiny_p
    cdef vec zero = splat(x, 0), one = splat(x, 1)
    cdef bint tiny_any
    if rhs_n is RK:
        keep_l = True
    # The first largest |x_ij| per lane: a strictly larger value replaces the
    # candidate, so ties keep the first row, and NaN never wins over a number.
    vmax = vabs(x[(j * k + j) * H + h])
    vmax = select(equal(vmax, vmax), vmax, splat(x, -1))
    best = splat(x, j)
    for i in range(j + 1, k):
        v = vabs(x[(i * k + j) * H + h])
        m = greater(v, vmax)
        best = select(m, splat(x, i), best)
        vmax = select(m, v, vmax)
    # The pivot rows, gathered by selects (columns j.. of x, and those of L if keep_l;
    # all of y).  Every trip count is a literal once j is one (keep_l is a separate
    # loop, not a variable start).
    for c in range(j, k):
        rowj[c] = x[(j * k + c) * H + h]
        prow[c] = rowj[c]
    if keep_l:
        for c in range(j):
            rowj[c] = x[(j * k + c) * H + h]
            prow[c] = rowj[c]
    for c in range(nb):
        yj[c] = y[(j * nb + c) * ys]
        pb[c] = yj[c]
    for i in range(j + 1, k):
        m = equal(best, splat(x, i))
        for c in range(j, k):
            prow[c] = select(m, x[(i * k + c) * H + h], prow[c])
        if keep_l:
            for c in range(j):
                prow[c] = select(m, x[(i * k + c) * H + h], prow[c])
        for c in range(nb):
            pb[c] = select(m, y[(i * nb + c) * ys], pb[c])
    # One division per step (a zero pivot leaves the zero column below it as it is),
    # and the pivot classes, accumulated per lane.
    p = prow[j]
    r = one / select(equal(p, zero), one, p)
    rdiag[j] = r
    v = vabs(p)
    tiny_p = both(greater(splat(x, DBL_MIN if vec is vd else FLT_MIN), v), greater(v, zero))
    tiny_any = any_set(tiny_p)                   # rare: one test per step, not per row
    tiny_seen[0] = either(tiny_seen[0], tiny_p)
    zero_seen[0] = either(zero_seen[0], equal(p, zero))
    for i in range(j + 1, k):
        m = equal(best, splat(x, i))
        v = select(m, rowj[j], x[(i * k + j) * H + h])
        lij = v * r
        if tiny_any:                             # in lanes where 1/pivot would overflow: divide
            lij = select(tiny_p, v / p, lij)
        if keep_l:
            for c in range(j):
                x[(i * k + c) * H + h] = select(m, rowj[c], x[(i * k + c) * H + h])
            x[(i * k + j) * H + h] = lij
        # row i := (row j if this lane's pivot row is i, else row i) - l_ij * prow
        for c in range(j + 1, k):
            x[(i * k + c) * H + h] = select(m, rowj[c], x[(i * k + c) * H + h]) - lij * prow[c]
        for c in range(nb):
            y[(i * nb + c) * ys] = select(m, yj[c], y[(i * nb + c) * ys]) - lij * pb[c]
    for c in range(j, k):
        x[(j * k + c) * H + h] = prow[c]
    if keep_l:
        for c in range(j):
            x[(j * k + c) * H + h] = prow[c]
    for c in range(nb):
        y[(j * nb + c) * ys] = pb[c]
    piv[j * H + h] = best


cdef inline void backsolve_vectors(rhs_n* rhs, fixed_k* size, const vec* x, Py_ssize_t nb_run,
                                   vec* y, const vec* rdiag, Py_ssize_t h,
                                   bint divide) noexcept nogil:
    """y := U^-1 y (y[(i*nb + c)*ys]) for the lanes of vector h of eliminate_vectors
    (GVL4 Alg. 3.1.2, row oriented: row i of y less the multiples of the finished rows below it, then
    scaled).  Row i accumulates in acc (registers, with nb a literal), so each U_ip is
    loaded once for all nb columns, and the columns are nb independent chains (a loop
    over the columns outside ran at FMA latency).  Scales by the reciprocals of U's
    diagonal (rdiag), or, in the lanes where that would overflow (`divide`: some
    pivot of this vector is subnormal), divides, as lu_substitute does."""
    cdef Py_ssize_t k = fixed_size(size), nb = rhs_count(rhs, size, nb_run)
    cdef Py_ssize_t H = vectors_per_element(x), i, p, c, ys = H if rhs_n is RN else 1
    cdef vec u, d, r, tiny_d = splat(x, 0)
    cdef vec acc[16]
    for i in range(k - 1, -1, -1):
        for c in range(nb):
            acc[c] = y[(i * nb + c) * ys]
        for p in range(i + 1, k):
            u = x[(i * k + p) * H + h]
            for c in range(nb):
                acc[c] = acc[c] - u * y[(p * nb + c) * ys]
        r = rdiag[i]
        if divide:
            d = x[(i * k + i) * H + h]
            tiny_d = greater(splat(x, DBL_MIN if vec is vd else FLT_MIN), vabs(d))
            for c in range(nb):
                y[(i * nb + c) * ys] = select(tiny_d, acc[c] / d, acc[c] * r)
        else:
            for c in range(nb):
                y[(i * nb + c) * ys] = acc[c] * r


cdef inline void permutation_vectors(fixed_k* size, const vec* piv, Py_ssize_t h,
                                     vec* y) noexcept nogil:
    """y := P (k x k, y[i*k + c]) for the lanes of vector h: the identity's rows
    interchanged as the elimination did (row j with its pivot row, j = 0, 1, ...).
    The interchanges move the index of each row's one (perm, one vector per row), and
    P is then one compare per element."""
    cdef Py_ssize_t k = fixed_size(size), H = vectors_per_element(y), i, j, c
    cdef vec best, m, pj
    cdef vec perm[16]
    for i in range(k):
        perm[i] = splat(y, i)
    for j in range(k):
        best = piv[j * H + h]
        pj = perm[j]
        for i in range(j + 1, k):
            m = equal(best, splat(y, i))
            perm[j] = select(m, perm[i], perm[j])
            perm[i] = select(m, pj, perm[i])
    for i in range(k):
        for c in range(k):
            y[i * k + c] = select(equal(perm[i], splat(y, c)), splat(y, 1), splat(y, 0))


cdef inline void forward_vectors(fixed_k* size, const vec* x, vec* y, Py_ssize_t h) noexcept nogil:
    """y := L^-1 y (k x k, y[i*k + c]) for the lanes of vector h, L unit lower in the
    strict lower triangle of x (GVL4 Alg. 3.1.1, row oriented, as backsolve_vectors:
    row i less L_ip times the finished rows p < i, in the order the elimination
    would have subtracted them)."""
    cdef Py_ssize_t k = fixed_size(size), H = vectors_per_element(x), i, p, c
    cdef vec u
    cdef vec acc[16]
    for i in range(1, k):
        for c in range(k):
            acc[c] = y[i * k + c]
        for p in range(i):
            u = x[(i * k + p) * H + h]
            for c in range(k):
                acc[c] = acc[c] - u * y[p * k + c]
        for c in range(k):
            y[i * k + c] = acc[c]


cdef inline void det_lanes(fixed_k* size, const real* x, const real* piv, double* det,
                           bint* ok) noexcept nogil:
    """det A = sign(P) prod_j U_jj for the LANES factorizations of eliminate_lanes, without
    branches across the lanes (a swapped row flips the sign of its pivot: exact, and
    rounding is symmetric, so this is det_from_lu's product).  ok[l] is false where
    the running product left [2^-500, 2^500] or is 0, Inf or NaN: det_from_lu's
    renormalisation and special cases then give det[l]."""
    cdef Py_ssize_t k = fixed_size(size), j, l
    cdef double m[LANES]
    cdef double inside[LANES]
    cdef double u, v
    for l in range(LANES):
        m[l] = 1
        inside[l] = 1
    for j in range(k):
        for l in range(LANES):
            u = x[(j * k + j) * LANES + l]
            v = m[l] * (-u if piv[j * LANES + l] != j else u)
            m[l] = v
            inside[l] = inside[l] if fabs(v) <= RENORM_BIG and fabs(v) >= RENORM_SMALL else 0
    for l in range(LANES):
        det[l] = m[l]
        ok[l] = inside[l] != 0


cdef inline void getrs_lanes(fixed_k* size, Py_ssize_t nrhs, const real* x, const int* piv,
                             real* b) noexcept nogil:
    """B := A^-1 B for the LANES interleaved factorizations of getf2_lanes; B (k x nrhs
    per matrix) interleaved the same way: b[(i*nrhs + c)*LANES + l]."""
    cdef Py_ssize_t k = fixed_size(size), i, p, c, l
    cdef real t
    for l in range(LANES):                       # B := P B, row interchanges per matrix
        for i in range(k):
            p = piv[l * k + i]
            if p != i:
                for c in range(nrhs):
                    t = b[(i * nrhs + c) * LANES + l]
                    b[(i * nrhs + c) * LANES + l] = b[(p * nrhs + c) * LANES + l]
                    b[(p * nrhs + c) * LANES + l] = t
    for i in range(1, k):                        # L y = b
        for p in range(i):
            for c in range(nrhs):
                for l in range(LANES):
                    b[(i * nrhs + c) * LANES + l] -= (x[(i * k + p) * LANES + l]
                                                      * b[(p * nrhs + c) * LANES + l])
    for i in range(k - 1, -1, -1):               # U x = y
        for p in range(i + 1, k):
            for c in range(nrhs):
                for l in range(LANES):
                    b[(i * nrhs + c) * LANES + l] -= (x[(i * k + p) * LANES + l]
                                                      * b[(p * nrhs + c) * LANES + l])
        for c in range(nrhs):
            for l in range(LANES):
                b[(i * nrhs + c) * LANES + l] /= x[(i * k + i) * LANES + l]


cdef inline void lanes_load(Py_ssize_t count, Py_ssize_t rows, Py_ssize_t cols,
                            const real* a, real* x, bint identity_pad) noexcept nogil:
    """x := `count` <= LANES row-major rows x cols matrices at a (consecutive), interleaved;
    unused lanes get the identity (identity_pad) or zeros, so they factor harmlessly.

    A full group is written with the lanes spelled out: sixteen contiguous loads and
    one interleaved group of sixteen stores per element, which GCC vectorises as a
    transpose in registers (a loop over the lanes compiles to scalar moves).
    """
    cdef Py_ssize_t l, e, size = rows * cols
    if count == LANES:
        for e in range(size):
            x[e * 16] = a[e]
            x[e * 16 + 1] = a[size + e]
            x[e * 16 + 2] = a[2 * size + e]
            x[e * 16 + 3] = a[3 * size + e]
            x[e * 16 + 4] = a[4 * size + e]
            x[e * 16 + 5] = a[5 * size + e]
            x[e * 16 + 6] = a[6 * size + e]
            x[e * 16 + 7] = a[7 * size + e]
            x[e * 16 + 8] = a[8 * size + e]
            x[e * 16 + 9] = a[9 * size + e]
            x[e * 16 + 10] = a[10 * size + e]
            x[e * 16 + 11] = a[11 * size + e]
            x[e * 16 + 12] = a[12 * size + e]
            x[e * 16 + 13] = a[13 * size + e]
            x[e * 16 + 14] = a[14 * size + e]
            x[e * 16 + 15] = a[15 * size + e]
        return
    for e in range(size * LANES):
        x[e] = 0
    if identity_pad:
        for e in range(rows if rows < cols else cols):
            for l in range(LANES):
                x[(e * cols + e) * LANES + l] = 1
    for l in range(count):
        for e in range(size):
            x[e * LANES + l] = a[l * size + e]


cdef inline void lanes_store(Py_ssize_t count, Py_ssize_t rows, Py_ssize_t cols,
                             const real* x, real* a) noexcept nogil:
    """The first `count` interleaved matrices of x back to row-major storage at a.

    A full group is de-interleaved in two vectorisable passes (GCC vectorises
    interleaved groups of four loads, not of sixteen): lane 4h + q of element e sits
    at x[(4e + h)*4 + q], so splitting x by q (groups of four) leaves, for each q,
    lanes q, 4 + q, 8 + q, 12 + q in turn, which the second pass splits by h (groups
    of four) while writing each matrix as one contiguous run (stores that alternate
    between matrices ran slower out of cache).  Below 16 elements per matrix (solve's
    right-hand sides, k = 2, 3 inverses) the passes' vector bodies never run and their
    scalar remainders cost more than the plain loop: 2-4x the in-cache time of the
    store of solve's x at k = 2-8 (measured on Zen 4).
    """
    cdef Py_ssize_t l, e, q, h, size = rows * cols
    cdef real t[16 * 16 * LANES]
    if count == LANES and size >= 16:
        for e in range(4 * size):
            t[e] = x[e * 4]
            t[4 * size + e] = x[e * 4 + 1]
            t[8 * size + e] = x[e * 4 + 2]
            t[12 * size + e] = x[e * 4 + 3]
        for h in range(4):
            for q in range(4):
                for e in range(size):
                    a[(4 * h + q) * size + e] = t[q * 4 * size + 4 * e + h]
        return
    for l in range(count):
        for e in range(size):
            a[l * size + e] = x[e * LANES + l]

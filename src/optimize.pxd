"""Unconstrained minimisation of smooth objectives whose derivatives come from matrix
calculus: Newton's method and gradient descent, the whole loop compiled, no GIL.

Objectives (x in R^n; X is m x n, y in R^m; derivations by the differentials
d(u^T v) = du^T v + u^T dv and d(Xw) = X dw, Magnus & Neudecker, *Matrix
Differential Calculus*, 3rd ed., ch. 5 and 10; Petersen & Pedersen, *The Matrix
Cookbook*, §2.4):

- QUADRATIC  f(x) = 1/2 x^T A x - b^T x + c.
      df = 1/2 (dx^T A x + x^T A dx) - b^T dx = (1/2 (A + A^T) x - b)^T dx, so
      grad f = S x - b and Hess f = S with S = (A + A^T)/2 (only the symmetric part
      of A matters: x^T A x = x^T A^T x).  The minimiser solves S x = b.
- LEAST_SQUARES  f(w) = 1/2 ||X w - y||^2 + l2/2 ||w||^2.
      With r = X w - y: df = r^T dr + l2 w^T dw = r^T X dw + l2 w^T dw, so
      grad f = X^T (X w - y) + l2 w and Hess f = X^T X + l2 I (constant: Newton's
      first step lands on the normal-equations solution).
- LOGISTIC  f(w) = sum_i [log(1 + e^{z_i}) - y_i z_i] + l2/2 ||w||^2, z = X w,
      y_i in {0, 1}: scikit-learn's LogisticRegression objective with
      fit_intercept=False and C = 1/l2 (its y_i in {-1, 1} form, rewritten).
      With s(z) = 1/(1 + e^{-z}): d/dz log(1 + e^z) = s(z) and s'(z) = s(1 - s), so
      df = (s(z) - y)^T dz + l2 w^T dw = (s(z) - y)^T X dw + l2 w^T dw:
      grad f = X^T (s(z) - y) + l2 w; d(grad f) = X^T D dz + l2 dw with
      D = diag(s(z_i)(1 - s(z_i))), so Hess f = X^T D X + l2 I.

Methods (Nocedal & Wright, *Numerical Optimization*, 2nd ed.; Boyd & Vandenberghe,
*Convex Optimization*, §9.2-9.5):
- Newton: p = -H^-1 g by Cholesky (potrf, potrs of cholesky.pxd).  Safeguard when H
  is not positive definite (N&W Alg. 3.3, "Cholesky with added multiple of the
  identity"): factor H + tau I with tau = 0, then tau0 = beta - min h_ii (or beta),
  doubling tau until the factorization succeeds; beta = 1e-3 max(max |h_ii|, 1e-300),
  so the shift scales with H.  The step is then a descent direction.  Stops when
  ||g||_inf <= gtol, or when the Newton decrement lambda^2 = g^T H^-1 g (B&V §9.5.1)
  satisfies lambda^2 / 2 <= dtol (the predicted decrease of f).
- Gradient descent: p = -g, step by Armijo backtracking (the default; the trial step
  starts at twice the last accepted one), or a fixed step (e.g. 1/L from the
  Python layer when a built-in knows its Lipschitz constant L = lambda_max(H)).
- Armijo backtracking (N&W Alg. 3.1): accept t when f(x + t p) <= f + c1 t g^T p,
  else t /= 2; c1 = 1e-4, at most MAX_BACKTRACK halvings (then status LS_FAILED:
  no decrease is measurable in floating point).  A NaN trial value fails the test,
  so the search backs away from overflow.  Near a minimum the decrease c1 t g^T p
  falls below the rounding of f (64 eps |f|): a first trial that leaves f unchanged
  to that level is then accepted if it lowers ||g||_inf, so the gradient test can
  still be met (the gradient is accurate long after f stops changing).

Cost per iteration for the data objectives (m x n X): ONE pass over X, in row blocks
of OPT_MB rows (data_rows), evaluates the first trial point x + t p completely:
z = X x_t, the loss, the residuals r and weights d (loss_terms, vectorised with a
branch-free exp and log1p), g += X_b^T r and, for Newton, H += S_b^T S_b with
S_b = diag(sqrt d) X_b, the lower triangle by gemm.pxd's micro-kernel straight from
a packed block of S_b while it is in cache.  Newton's full step is nearly always
accepted, so that pass is the iteration; when Armijo rejects it, z_t - z = t X p
makes every further trial O(m), and one more pass evaluates the accepted point.
One large problem splits its rows between threads (data_pass), each with its own
accumulators.  Flops per pass: 2 m n (z and g) + m n (n + 1) (H), plus n^3/3 for
the Cholesky; gradient descent 4 m n.
The quadratic's trial value computes u = S x_t, and the accepted u gives g = u - b.

Reading order: the objectives' terms (loss_terms), the blocked pass (data_rows,
data_pass), the Newton direction with its safeguard, then the loop (solve_one).

Status (per problem): OPT_GTOL and OPT_DECREMENT are success; OPT_MAXITER,
OPT_LS_FAILED, OPT_NONFINITE (f or g became NaN/Inf: divergent fixed step, NaN
data) failures; INFO_NO_MEMORY.  Nothing loops without bound.
"""

from libc.math cimport sqrt, fabs, INFINITY

from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport GEMM_NR_D, GEMM_NR_S
from gemm cimport imin, gemm_ukr
from cholesky cimport potrf, potrs

cdef enum:
    OBJ_QUADRATIC = 0
    OBJ_LEAST_SQUARES = 1
    OBJ_LOGISTIC = 2

    METHOD_NEWTON = 0
    METHOD_GD = 1

    OPT_GTOL = 0
    OPT_MAXITER = 1
    OPT_LS_FAILED = 2
    OPT_NONFINITE = 3
    OPT_DECREMENT = 4

    MAX_BACKTRACK = 60      # t down to 2^-60: below any measurable decrease
    MAX_SHIFTS = 80         # tau doubles from beta: 2^80 beta covers any finite H
    # Rows per block of the fused gradient/Hessian pass: the GEMM's KC (192), so a
    # block of S (192 x n doubles, 75 KiB at n = 50) stays in L2 for its tiles.
    OPT_MB = 192
    MAX_THREADS = 64        # row ranges of one problem's data pass

cdef struct Counts:
    Py_ssize_t nit, nfev, njev, nhev


cdef inline bint finite(double v) noexcept nogil:
    return v - v == 0


cdef inline double amax(Py_ssize_t n, const real* x) noexcept nogil:
    """||x||_inf, NaN if x has one (a NaN gradient must not look converged)."""
    cdef double r = 0, v
    cdef Py_ssize_t i
    for i in range(n):
        v = fabs(x[i])
        if not (v <= r):
            r = v
    return r


cdef inline double dot(Py_ssize_t n, const real* x, const real* y) noexcept nogil:
    cdef double s = 0
    cdef Py_ssize_t i
    for i in range(n):
        s += <double>x[i] * y[i]
    return s


cdef inline void matvec(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                        Py_ssize_t csa, const real* x, real* z) noexcept nogil:
    """z := A x for A (m x n) with any strides, in A's memory order."""
    cdef Py_ssize_t i, j
    cdef real s, xj
    cdef const real* row
    if csa == 1 or fabs(<double>csa) <= fabs(<double>rsa):
        for i in range(m):
            row = a + i * rsa
            s = 0
            if csa == 1:
                for j in range(n):
                    s += row[j] * x[j]
            else:
                for j in range(n):
                    s += row[j * csa] * x[j]
            z[i] = s
    else:
        for i in range(m):
            z[i] = 0
        for j in range(n):
            xj = x[j]
            row = a + j * csa
            for i in range(m):
                z[i] += row[i * rsa] * xj


# ------------------------------------------------------------ the data objectives

# e^x (x <= 0) and log1p(e) (0 <= e <= 1) without branches or libm calls, so the
# loops over rows that call them vectorise (libm's exp and log1p are scalar calls:
# they were two thirds of a small logistic problem's time).
#  exp: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite: ln2 in two parts, the first with
#   trailing zeros so k*ln2_hi is exact), e^r by its Taylor polynomial to r^13/13!
#   (remainder < 1e-17 relative), 2^k from the exponent bits; 0 below x = -708
#   (where 2^k would leave the normal range; e only ever meets 1 + e).
#  log1p(e) = 2 atanh(s), s = e/(2 + e) in [0, 1/3]: 2 s sum_k s^2k / (2k + 1) to
#   k = 16 ((1/9)^17 / 35 < 1e-18): a few ulp, including tiny e.
# Cody & Waite, Software Manual for the Elementary Functions, 1980, ch. 6; Muller,
# Elementary Functions, 3rd ed., §2 and §11.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    static inline double fastla_exp_nonpos(double x) {
        /* in-range mask as a number: a ternary here stops GCC's if-conversion */
        double in = (double)(x >= -708.0), kf, r, p, scale;
        int64_t k, bits;
        x = x * in - 708.0 * (1.0 - in);
        k = (int64_t)(x * 1.4426950408889634 - 0.5);       /* round(x / ln2), x <= 0 */
        kf = (double)k;
        r = (x - kf * 0.693145751953125) - kf * 1.4286068203094172321e-6;
        p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        bits = (k + 1023) << 52;                             /* 2^k, k >= -1021 */
        memcpy(&scale, &bits, sizeof scale);
        return p * scale * in;
    }
    static inline double fastla_log1p_unit(double e) {
        double s = e / (2.0 + e), s2 = s * s, p = 1.0 / 33.0;
        p = p * s2 + 1.0 / 31.0;
        p = p * s2 + 1.0 / 29.0;
        p = p * s2 + 1.0 / 27.0;
        p = p * s2 + 1.0 / 25.0;
        p = p * s2 + 1.0 / 23.0;
        p = p * s2 + 1.0 / 21.0;
        p = p * s2 + 1.0 / 19.0;
        p = p * s2 + 1.0 / 17.0;
        p = p * s2 + 1.0 / 15.0;
        p = p * s2 + 1.0 / 13.0;
        p = p * s2 + 1.0 / 11.0;
        p = p * s2 + 1.0 / 9.0;
        p = p * s2 + 1.0 / 7.0;
        p = p * s2 + 1.0 / 5.0;
        p = p * s2 + 1.0 / 3.0;
        p = p * s2 + 1.0;
        return 2.0 * s * p;
    }
    """
    double exp_nonpos "fastla_exp_nonpos"(double x) noexcept nogil
    double log1p_unit "fastla_log1p_unit"(double e) noexcept nogil


cdef inline double sum8(Py_ssize_t n, const real* x) noexcept nogil:
    """sum x with eight partial sums (one vector register; see row_dot)."""
    cdef double acc[8]
    cdef double s = 0
    cdef Py_ssize_t i, l, n8 = n - n % 8
    for l in range(8):
        acc[l] = 0
    for i in range(0, n8, 8):
        for l in range(8):
            acc[l] += x[i + l]
    for l in range(8):
        s += acc[l]
    for i in range(n8, n):
        s += x[i]
    return s


cdef inline void loss_terms(int kind, bint derivs, Py_ssize_t m, const real* z,
                            const real* y, real* loss, real* r, real* sd) noexcept nogil:
    """Per row i: loss[i], and if derivs the residual r[i] = s(z_i) - y_i and sqrt(d_i),
    d_i = s(1 - s) (logistic), or r[i] = z_i - y_i, d_i = 1 (least squares).

    log(1 + e^z) - y z = log1p(e^{-|z|}) + ([z > 0] - y) z cannot overflow, and for
    y in {0, 1} its second term is exact (max(z, 0) - y z would cancel to 0 where
    the loss is tiny, e.g. 1e-15 at z = 34, y = 1).  With e = e^{-|z|}
    s(z) = 1/(1 + e) for z >= 0, e/(1 + e) below: one exp serves loss and derivatives.
    Branch-free, so the loop vectorises."""
    cdef Py_ssize_t i
    cdef double zi, e, sg, ri
    if kind == OBJ_LEAST_SQUARES:
        for i in range(m):
            ri = <double>z[i] - y[i]
            loss[i] = <real>(0.5 * ri * ri)
            if derivs:
                r[i] = <real>ri
                sd[i] = 1
        return
    for i in range(m):
        zi = z[i]
        e = exp_nonpos(-fabs(zi))
        loss[i] = <real>(log1p_unit(e) + ((1 if zi > 0 else 0) - y[i]) * zi)
        if derivs:
            sg = (1 if zi >= 0 else e) / (1 + e)
            r[i] = <real>(sg - y[i])
            sd[i] = <real>sqrt(sg * (1 - sg))


cdef inline double data_value(int kind, Py_ssize_t m, const real* z, const real* y,
                              real* buf) noexcept nogil:
    """sum_i loss(z_i, y_i); buf (m) is scratch."""
    loss_terms(kind, False, m, z, y, buf, NULL, NULL)
    return sum8(m, buf)


cdef inline Py_ssize_t panel_width(const real* like) noexcept nogil:
    """Columns per panel of a packed S block: the GEMM micro-kernel's NR (for the
    dtype of `like`, which is only a type tag)."""
    cdef Py_ssize_t nr
    if real is double:
        nr = GEMM_NR_D
    else:
        nr = GEMM_NR_S
    return nr


cdef inline Py_ssize_t padded(Py_ssize_t n, const real* like) noexcept nogil:
    """n rounded up to whole panels: the leading dimension of the Hessian accumulator."""
    cdef Py_ssize_t nr = panel_width(like)
    return (n + nr - 1) // nr * nr


cdef inline double row_dot(Py_ssize_t n, const real* x, const real* w) noexcept nogil:
    """x . w with eight independent partial sums (one vector register): a single
    chain of n dependent FMAs would cost 4 cycles per element."""
    cdef real acc[8]
    cdef Py_ssize_t j, l, n8 = n - n % 8
    cdef double s = 0
    for l in range(8):
        acc[l] = 0
    for j in range(0, n8, 8):
        for l in range(8):
            acc[l] += x[j + l] * w[j + l]
    for l in range(8):
        s += acc[l]
    for j in range(n8, n):
        s += <double>x[j] * w[j]
    return s


cdef inline double data_rows(int kind, bint want_g, bint want_h, Py_ssize_t first,
                             Py_ssize_t last, Py_ssize_t n, const real* X, Py_ssize_t rs,
                             const real* y, const real* w, real* z, real* g, real* hacc,
                             real* s_blk, real* blk) noexcept nogil:
    """Rows first..last-1 of the data loss at w, in blocks of OPT_MB rows; returns
    their loss sum and writes z_i = X_i w.

    want_g: g += X_b^T r (r_i = s(z_i) - y_i, or z_i - y_i); want_h: hacc += S_b^T S_b
    with S_b = diag(sqrt d) X_b (d_i = s(1 - s), or 1), lower-triangle tiles only,
    hacc (padded(n) x padded(n), row-major).  Each row of X is read twice while in
    cache: for z, then (after the vectorised loss_terms of the block, blk: 3 OPT_MB
    elements) for g and S.  The tiles cover the first n8 = n - n mod 8 rows of H;
    the last n mod 8 rows are rank-one updates along the row as it passes (for n = 50
    that saves the 3 of 12 tiles that would be three quarters padding).
    S_b is stored in panels of NR columns (s_blk[q*OPT_MB*NR + i*NR + j]), the layout
    of the GEMM's packed B, so gemm_ukr computes every 8 x NR tile of S_b^T S_b
    straight from it: a sliver of S_b^T is 8 adjacent columns of one panel (row
    stride 1, column stride NR).  Pad columns are never written: a tile's output
    column depends on its own column of S alone, and those land right of the lower
    triangle, which is all that is read back.
    """
    cdef Py_ssize_t nr = panel_width(X), ld = padded(n, X), n8 = n - n % 8
    cdef Py_ssize_t ib, i0, mb, i, j, k, q, jw, jb, j0, k0
    cdef double f = 0
    cdef real ri, sd, sj
    cdef const real* row
    cdef real* srow
    cdef real* hrow
    cdef real* loss = blk
    cdef real* r = blk + OPT_MB
    cdef real* sdv = blk + 2 * OPT_MB
    cdef bint derivs = want_g or want_h
    for ib in range((last - first + OPT_MB - 1) // OPT_MB):
        i0 = first + ib * OPT_MB
        mb = imin(OPT_MB, last - i0)
        for i in range(mb):
            z[i0 + i] = <real>row_dot(n, X + (i0 + i) * rs, w)
        loss_terms(kind, derivs, mb, z + i0, y + i0, loss, r, sdv)
        f += sum8(mb, loss)
        if not derivs:
            continue
        for i in range(mb):
            row = X + (i0 + i) * rs
            ri = r[i]
            sd = sdv[i]
            if want_g:
                for j in range(n):
                    g[j] += ri * row[j]
            if want_h:
                for q in range((n8 + nr - 1) // nr):
                    srow = s_blk + q * OPT_MB * nr + i * nr
                    jw = imin(nr, n8 - q * nr)
                    for j in range(jw):
                        srow[j] = sd * row[q * nr + j]
                # rows n8..n-1 of H (fewer than 8): a vector FMA along the row each
                for j in range(n8, n):
                    sj = sd * sd * row[j]
                    hrow = hacc + j * ld
                    for k in range(j + 1):
                        hrow[k] += sj * row[k]
        if want_h:
            for jb in range(n8 // 8):          # hacc[j0:j0+8, k0:k0+NR] += tile
                j0 = jb * 8
                for q in range(j0 // nr + 1):  # k0 <= j0 + 7: the lower triangle
                    k0 = q * nr
                    gemm_ukr(mb, 1, s_blk + (j0 // nr) * OPT_MB * nr + j0 % nr, 1, nr,
                             s_blk + (k0 // nr) * OPT_MB * nr, 1, hacc + j0 * ld + k0,
                             ld, 1, 8, nr)
    return f


cdef inline double data_pass(int kind, bint want_g, bint want_h, Py_ssize_t m,
                             Py_ssize_t n, const real* X, Py_ssize_t rs, const real* y,
                             double l2, const real* w, real* z, real* g, real* h,
                             real* tws, int n_threads) noexcept nogil:
    """f(w), with z = X w; g := grad f(w) if want_g; h := Hess f(w) (full,
    n x n row-major) if want_h.  One pass over X, split in n_threads contiguous row
    ranges each with its own accumulators in tws (thread_workspace(n) elements
    apiece), summed at the end.  Returns f."""
    cdef Py_ssize_t ld = padded(n, X), per = thread_workspace(n, X)
    cdef Py_ssize_t t, i, j, chunk
    cdef double f = 0
    cdef double fpart[MAX_THREADS]
    cdef real* hacc
    cdef real* gacc
    if n_threads > MAX_THREADS:
        n_threads = MAX_THREADS
    chunk = (m + n_threads - 1) // n_threads
    chunk = (chunk + OPT_MB - 1) // OPT_MB * OPT_MB
    # Only the lower triangle of each accumulator is read back: the tiles' entries
    # right of it (and the S panels' pad columns, which only they read: an output
    # column depends on its own column of S alone) may hold anything.
    for t in range(n_threads):
        hacc = tws + t * per
        gacc = hacc + ld * ld
        if want_h:
            for i in range(n):
                for j in range(i + 1):
                    hacc[i * ld + j] = 0
        for j in range(n):
            gacc[j] = 0
    if n_threads == 1:
        fpart[0] = data_rows(kind, want_g, want_h, 0, m, n, X, rs, y, w, z,
                             tws + ld * ld, tws, tws + ld * ld + ld,
                             tws + ld * ld + ld + OPT_MB * ld)
    else:
        for t in prange(n_threads, num_threads=n_threads, schedule='static'):
            fpart[t] = 0
            if t * chunk < m:
                fpart[t] = data_rows(kind, want_g, want_h, t * chunk,
                                     imin(m, t * chunk + chunk), n, X, rs, y, w, z,
                                     tws + t * per + ld * ld, tws + t * per,
                                     tws + t * per + ld * ld + ld,
                                     tws + t * per + ld * ld + ld + OPT_MB * ld)
    for t in range(n_threads):
        f += fpart[t]
    f += 0.5 * l2 * dot(n, w, w)
    if want_g:
        for j in range(n):
            g[j] = <real>(l2 * w[j])
            for t in range(n_threads):
                g[j] += (tws + t * per + ld * ld)[j]
    if want_h:
        for i in range(n):
            for j in range(i + 1):
                h[i * n + j] = 0
                for t in range(n_threads):
                    h[i * n + j] += (tws + t * per)[i * ld + j]
                h[j * n + i] = h[i * n + j]
            h[i * n + i] += <real>l2
    return f


cdef inline Py_ssize_t thread_workspace(Py_ssize_t n, const real* like) noexcept nogil:
    """Elements of one thread's accumulators in data_pass: the Hessian (padded^2),
    the gradient (padded), a block of S in panels (OPT_MB x padded) and the block's
    loss terms, residuals and weights (3 OPT_MB)."""
    cdef Py_ssize_t ld = padded(n, like)
    return ld * ld + ld + OPT_MB * ld + 3 * OPT_MB


# ------------------------------------------------------------- the Newton direction

cdef inline int newton_direction(Py_ssize_t n, const real* h, const real* g, real* p,
                                 real* lfac) noexcept nogil:
    """p := -(H + tau I)^-1 g, tau >= 0 the smallest of 0, tau0, 2 tau0, ... for which
    the Cholesky factorization succeeds (N&W Alg. 3.3).  Returns 0, OPT_NONFINITE
    (H has NaN/Inf: no shift helps) or INFO_NO_MEMORY."""
    cdef Py_ssize_t i, j, attempt
    cdef double tau = 0, beta = 0, dmin = INFINITY, v
    cdef int info
    for i in range(n):
        v = h[i * n + i]
        beta = fabs(v) if fabs(v) > beta else beta
        dmin = v if v < dmin else dmin
    if not finite(beta):
        return OPT_NONFINITE
    beta = 1e-3 * (beta if beta > 1e-300 else 1e-300)
    for attempt in range(MAX_SHIFTS):
        for i in range(n):
            for j in range(i + 1):
                lfac[i * n + j] = h[i * n + j]
            lfac[i * n + i] += <real>tau
        info = potrf(n, lfac, n, 1, 1)
        if info == 0:
            for i in range(n):
                p[i] = -g[i]
            if potrs(n, 1, lfac, n, 1, p, 1, 1, 1) != INFO_OK:
                return INFO_NO_MEMORY
            return 0
        if info < 0:
            return INFO_NO_MEMORY
        if tau == 0:
            tau = beta - dmin if dmin < 0 else beta
        else:
            tau = 2 * tau
    return OPT_NONFINITE


# ------------------------------------------------------------------ one problem

cdef inline Py_ssize_t workspace_size(Py_ssize_t m, Py_ssize_t n, int n_threads,
                                      const real* like) noexcept nogil:
    """Elements of workspace solve_one needs: p, x_t, g_t, u (n each), the factor and
    the trial Hessian (n^2 each), z, z_t, X p, trial loss terms (m each), and each
    thread's accumulators of data_pass."""
    return 4 * n + 2 * n * n + 4 * m + n_threads * thread_workspace(n, like)


cdef inline double quad_value(Py_ssize_t n, const real* h, const real* b, double c,
                              const real* x, real* u) noexcept nogil:
    """1/2 x^T S x - b^T x + c, and u := S x (then grad f(x) = u - b)."""
    matvec(n, n, h, n, 1, x, u)
    return 0.5 * dot(n, x, u) - dot(n, x, b) + c


cdef inline int solve_one(int kind, int method, Py_ssize_t m, Py_ssize_t n,
                          const real* a, Py_ssize_t rsa, Py_ssize_t csa, const real* b,
                          double c, double l2, real* x, real* g, real* h, double* f,
                          double* hist, Counts* counts, Py_ssize_t maxiter, double gtol,
                          double dtol, double fixed_step, real* work,
                          int n_threads) noexcept nogil:
    """Minimise one built-in objective from x (overwritten by the last iterate).

    # IN  a: A (n x n, any strides) or X (m x n, rows contiguous: csa = 1);
    #     b: b (n) or y (m), contiguous; x: x0; fixed_step > 0: gradient descent with
    #     that step, else Armijo; work: workspace_size(m, n, n_threads) elements
    # OUT x, f, g at x, h (the quadratic's S; Newton: the Hessian at x, full), counts,
    #     hist (if not NULL): (f, ||g||_inf, step) of iterates 0..nit, 3 per row
    Data objectives evaluate each first trial point x + t p with one data_pass that
    also forms g and H there (Newton's full step is nearly always accepted); when
    Armijo rejects it, z_t - z = t X p gives every further trial in O(m), and one
    more pass evaluates the accepted point.  Returns an OPT_* status or
    INFO_NO_MEMORY.
    """
    cdef real* p = work
    cdef real* xt = p + n
    cdef real* gt = xt + n
    cdef real* u = gt + n
    cdef real* lfac = u + n
    cdef real* ht = lfac + n * n
    cdef real* z = ht + n * n
    cdef real* zt = z + m
    cdef real* zp = zt + m
    cdef real* lbuf = zp + m      # the loss terms of a line-search trial
    cdef real* tws = lbuf + m
    cdef real* swap
    cdef bint newton = method == METHOD_NEWTON
    cdef bint data = kind != OBJ_QUADRATIC
    # Only the logistic Hessian changes with x (the others are constant)
    cdef bint h_each = newton and kind == OBJ_LOGISTIC
    cdef double fx, ft, gn, gp, t = 1, t1, dec
    # f's rounding level: a sum of m terms in double, or float data
    cdef double noise = 64 * (2.220446049250313e-16 if real is double else 1.1920929e-07)
    cdef Py_ssize_t it = 0, k, i, j
    cdef int st = OPT_MAXITER
    counts.nit = 0
    counts.nfev = 1
    counts.njev = 1
    counts.nhev = 1 if newton else 0
    if data:
        fx = data_pass(kind, True, newton, m, n, a, rsa, b, l2, x, z, g, h, tws,
                       n_threads)
    else:
        for i in range(n):                      # S = (A + A^T) / 2
            for j in range(n):
                h[i * n + j] = <real>(0.5 * (<double>a[i * rsa + j * csa]
                                             + a[j * rsa + i * csa]))
        fx = quad_value(n, h, b, c, x, u)
        for i in range(n):
            g[i] = u[i] - b[i]
    gn = amax(n, g)
    if hist != NULL:
        hist[0] = fx
        hist[1] = gn
        hist[2] = 0
    while True:
        if not (finite(fx) and finite(gn)):
            st = OPT_NONFINITE
            break
        if gn <= gtol:
            st = OPT_GTOL
            break
        if it >= maxiter:
            st = OPT_MAXITER
            break
        # direction p and first trial step t
        if newton:
            k = newton_direction(n, h, g, p, lfac)
            if k != 0:
                st = k
                break
            dec = -dot(n, g, p)                  # lambda^2 = g^T H^-1 g
            if not finite(dec):                  # NaN in H off its diagonal
                st = OPT_NONFINITE
                break
            if 0.5 * dec <= dtol:
                st = OPT_DECREMENT
                break
            t = 1
        else:
            for i in range(n):
                p[i] = -g[i]
            t = fixed_step if fixed_step > 0 else (1 if it == 0 else 2 * t)
        gp = dot(n, g, p)
        t1 = t
        # Armijo backtracking (one trial when the step is fixed)
        for k in range(MAX_BACKTRACK + 1):
            for i in range(n):
                xt[i] = x[i] + <real>t * p[i]
            if not data:
                ft = quad_value(n, h, b, c, xt, u)
            elif k == 0:                        # speculative: g and H at x_t as well
                ft = data_pass(kind, True, h_each, m, n, a, rsa, b, l2, xt, zt, gt,
                               ht, tws, n_threads)
                counts.njev += 1
                if h_each:
                    counts.nhev += 1
            else:
                if k == 1:
                    for i in range(m):
                        zp[i] = (zt[i] - z[i]) / <real>t1
                for i in range(m):
                    zt[i] = z[i] + <real>t * zp[i]
                ft = data_value(kind, m, zt, b, lbuf) + 0.5 * l2 * dot(n, xt, xt)
            counts.nfev += 1
            if fixed_step > 0 or ft <= fx + 1e-4 * t * gp:
                break
            # Near the minimum the decrease drops below the rounding of f and Armijo
            # cannot see it; then accept a step that leaves f unchanged to rounding
            # and lowers ||g||_inf (a first trial, whose gradient is at hand).
            if k == 0 and ft - fx <= noise * fabs(fx):
                if not data:
                    for i in range(n):
                        gt[i] = u[i] - b[i]
                if amax(n, gt) < gn:
                    break
            t *= 0.5
        else:
            st = OPT_LS_FAILED
            break
        # accept x_t; g (and H) there
        for i in range(n):
            x[i] = xt[i]
        if not data:
            fx = ft
            for i in range(n):
                g[i] = u[i] - b[i]
            counts.njev += 1
        elif k == 0:
            fx = ft
            swap = z
            z = zt
            zt = swap
            for i in range(n):
                g[i] = gt[i]
            if h_each:
                for i in range(n * n):
                    h[i] = ht[i]
        else:
            fx = data_pass(kind, True, h_each, m, n, a, rsa, b, l2, x, z, g, h, tws,
                           n_threads)
            counts.nfev += 1
            counts.njev += 1
            if h_each:
                counts.nhev += 1
        it += 1
        gn = amax(n, g)
        if hist != NULL:
            hist[3 * it] = fx
            hist[3 * it + 1] = gn
            hist[3 * it + 2] = t
    counts.nit = it
    f[0] = fx
    return st

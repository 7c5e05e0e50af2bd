"""Jacobi methods: the SVD by one-sided (Hestenes) Jacobi after QR with column pivoting,
and the symmetric eigenproblem by the same on a Cholesky factor (cyclic two-sided
Jacobi for small orders).

SVD (gesvj), M = U S V^T with M m x n, m >= n (callers transpose wide matrices):
  1. Scale M by a power of two so that max|m_ij| is in [1, 2) (exact; keeps squared
     column norms away from overflow), and sort its rows by decreasing max-norm (to
     a factor of two: a counting sort on the exponent) when they differ by more than
     ROW_SORT_RATIO: Householder QR is then row-wise backward stable (Cox & Higham,
     BIT 38, 1998), which row-graded matrices need.
  2. Preconditioning (Drmac & Veselic, SIAM J. Matrix Anal. Appl. 29(4), 2008):
     M P = Q R by Householder QR with column pivoting (geqp2; Golub & Van Loan,
     *Matrix Computations*, 4th ed., §5.4.2), the partial column norms downdated with
     the safeguard of Drmac & Bujanovic (LAPACK Working Note 176, 2008).  Tall
     matrices (m >= 4n, no full U) are first factored by qr.pxd's tall-skinny QR,
     A = Q_t R_t, and the column pivoting runs on R_t; least squares factors [A B]
     there, whose R carries Q_t^T B.  gesvj_tall does this reading the caller's A
     where it lies (no working copy; the scaling of step 1 moves onto R_t), unless
     A's rows need sorting.
  3. One-sided Jacobi on X = R^T (Hestenes 1958; Demmel & Veselic, SIAM J. Matrix
     Anal. Appl. 13(4), 1992): rotate pairs of columns (x_i, x_j) until every pair
     satisfies |x_i^T x_j| <= tol ||x_i|| ||x_j|| (tol = 4 sqrt(n + 16) u).  This relative
     test, not an absolute one, is what makes every singular value accurate to about
     eps * cond(B) for M = D1 B D2 with diagonal D1, D2 (R^T = B' D is column-graded
     after step 2; Demmel et al., "Computing the SVD with high relative accuracy",
     LAA 299, 1999).  Rotation angles by Rutishauser's formulas (the 2 x 2 symmetric
     Schur decomposition of the Gram matrix, GVL4 §8.5.2); sweeps in de Rijk's order
     (SIAM J. Sci. Stat. Comput. 10(2), 1989): before pairing column i with i+1..n-1,
     swap the remaining column of largest norm into place, which converges in fewer
     sweeps and leaves the columns nearly sorted; orders up to ROUND_ROBIN_MAX_LEN
     take round-robin rounds instead, whose angles do not wait for each other
     (jacobi_sweeps).  A rotated pair's squared norms
     are updated by the 2 x 2 Schur decomposition (a - t c, b + t c) unless that
     cancels more than half (then recomputed, as LAPACK's dgsvj0 does), and all are
     recomputed at each sweep's start, so tiny columns keep relative accuracy.
     At most MAX_SWEEPS sweeps; a stop without convergence returns a status.
  4. X V_x = U_x S gives R = V_x S U_x^T, so U = Q V_x (the reflectors applied to
     V_x, padded with the identity for the full basis; tall: Q_t applied to
     Q_cp V_x by qr.pxd tsqr_q) and V = P U_x.  V_x is accumulated only when U (or
     U^T b) is wanted.
X is stored with its columns as contiguous rows (so is V_x), which makes the rotation
loop two unit-stride streams that the compiler vectorises (partial sums in
NPART-wide arrays for the dot products: GCC never reassociates a scalar sum).
Flops: QR 2mn^2 - 2n^3/3, each sweep about 5n^3 (8n^3 with V_x), typically 6-9
sweeps (random n = 64..512: 7-9, graded: 5-6); applying Q 4mn k for k columns of U.
The sweeps are level-1.  Tried and measured slower or no better at n = 256: sweeping
by blocks of columns that stay in L2 (32 -> 50 ms), a second QR preconditioning
R^T = Q2 R2 (no sweep saved on random matrices).  On Zen 4: the block-cyclic order
with blocks in L2 at n = 512 and 1024 (no gain: a pair costs ~1.1 cycles per entry
whether X streams from L3 or not), a rotation fused with the next pair's dot
product (8-16 % slower), and V_x solved from X_0 V_x = X (one TRSM, dgejsv's
shortcut) instead of accumulated: on random matrices its ||V_x^T V_x - I|| reached
75 / 1450 n u at n = 128 / 512, so U would not be orthogonal.  That is why large n stays several
times slower than LAPACK's bidiagonalisation: Jacobi spends 40-70 n^3 flops where
gesdd spends about 8/3 n^3 without vectors.

Symmetric eigenproblem, H = Z diag(w) Z^T, two kernels:
  - syevj_chol (order > SYEVJ_MAX = 10): H + tau I = L L^T by Cholesky, then gesvj on L^T,
    w = s^2 - tau (Veselic & Hari, Numer. Math. 56, 1989); tau = 0 for positive
    definite H, which keeps every eigenvalue of a graded H = D B D to about
    eps * cond(B) (Demmel & Veselic 1992), else a shift to positive definite (see
    the kernel).  At n = 256 this is about 9x faster than the two-sided sweeps.
  - syevj (small orders, the lanes' fallback): cyclic-by-rows two-sided Jacobi
    (Jacobi 1846; GVL4 §8.5.3) with the relative off-diagonal test |h_pq| <= tol
    sqrt(|h_pp h_qq|), the same relative accuracy for positive definite H.  Each
    rotation updates rows p and q (contiguous) and copies them into columns p and q.
    Flops: about 4n^3 per sweep (8n^3 with Z).
For indefinite H either has the usual eps * ||H|| absolute accuracy (both are
backward stable).

Stacks of k x k matrices with k <= 8 or k = 16 run the lane kernels at the end of this
file (8 matrices per vector, no preconditioning, round-robin pair order); other stacks
run these kernels one matrix per thread (jacobi.pyx).
"""

from libc.math cimport sqrt, fabs, copysign, frexp, ldexp, isfinite
from libc.string cimport memset, memcpy

from _types cimport real, INFO_OK
from _blocking cimport TSQR_MAX_N
from gemm cimport fixed_k, gemm
from lu cimport fixed_size
from qr cimport (householder, tsqr_fits, TsqrState, tsqr_begin, tsqr_q, tsqr_end,
                copy_strided)
from cholesky cimport potrf, transpose8x8

cdef extern from "float.h":
    float FLT_EPSILON
    double DBL_EPSILON
    float FLT_MIN
    double DBL_MIN

cdef enum:
    NPART = 16             # partial sums per dot product: two zmm of doubles
    MAX_SWEEPS = 30        # LAPACK's gesvj stops at 30 as well
    ROW_SORT_RATIO = 8     # rows are sorted when their max-norms differ more
    EXP_BUCKETS = 2100     # binary exponents of doubles, 1024 down to -1073, and zero
    ROUND_ROBIN_MAX_LEN = 96   # jacobi_sweeps: round-robin order up to this order


cdef inline real eps_of(real x) noexcept nogil:
    """The unit roundoff u = eps / 2 of x's type (x only selects the type)."""
    return FLT_EPSILON * 0.5 if real is float else DBL_EPSILON * 0.5


# ----------------------------------------------------------------- level-1 helpers

cdef inline real dot(Py_ssize_t n, const real* x, const real* y) noexcept nogil:
    """x^T y over unit strides, in NPART independent partial sums."""
    cdef real part[NPART]
    cdef real s = 0
    cdef Py_ssize_t i, t, nb = n - n % NPART
    if n < NPART:                       # short vectors: no partial sums to set up
        for i in range(n):
            s += x[i] * y[i]
        return s
    for t in range(NPART):
        part[t] = 0
    for i in range(0, nb, 16):     # NPART
        for t in range(NPART):
            part[t] += x[i + t] * y[i + t]
    for i in range(nb, n):
        s += x[i] * y[i]
    return s + reduce_parts(part)


cdef inline real reduce_parts(real* part) noexcept nogil:
    """part[0] + ... + part[NPART-1] as a tree of vector additions: a left-to-right
    sum is a chain of NPART dependent scalar additions (about 60 cycles per dot
    product, paid by every pair of every sweep)."""
    cdef Py_ssize_t t
    for t in range(8):
        part[t] += part[t + 8]
    for t in range(4):
        part[t] += part[t + 4]
    for t in range(2):
        part[t] += part[t + 2]
    return part[0] + part[1]


cdef inline void axpy(Py_ssize_t n, real alpha, const real* x, real* y) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        y[i] += alpha * x[i]


cdef inline real nrm2(Py_ssize_t n, const real* x, Py_ssize_t incx) noexcept nogil:
    """||x||_2.  The plain sum of squares is exact enough unless it under- or
    overflowed; only then is x rescaled by its largest entry (a second pass)."""
    cdef real s = 0, mx = 0, tiny, r
    cdef Py_ssize_t i
    if incx == 1:
        s = dot(n, x, x)
    else:
        for i in range(n):
            s += x[i * incx] * x[i * incx]
    tiny = (FLT_MIN if real is float else DBL_MIN) / eps_of(s)
    if s >= tiny and isfinite(s):
        return sqrt(s)
    for i in range(n):
        if fabs(x[i * incx]) > mx:
            mx = fabs(x[i * incx])
    if mx == 0 or not isfinite(mx):
        return mx
    s = 0
    for i in range(n):
        r = x[i * incx] / mx
        s += r * r
    return mx * sqrt(s)


cdef inline void swap(Py_ssize_t n, real* x, real* y) noexcept nogil:
    cdef Py_ssize_t i
    cdef real t
    for i in range(n):
        t = x[i]
        x[i] = y[i]
        y[i] = t


cdef inline void rotate(Py_ssize_t n, real* x, real* y, real c, real s) noexcept nogil:
    """[x y] := [x y] [[c, s], [-s, c]]: the hot loop, two unit-stride streams."""
    cdef Py_ssize_t i
    cdef real xi, yi
    for i in range(n):
        xi = x[i]
        yi = y[i]
        x[i] = c * xi - s * yi
        y[i] = s * xi + c * yi


cdef inline real updated_norm(Py_ssize_t n, const real* x, real old, real new) noexcept nogil:
    """The squared norm of a freshly rotated column x: the 2 x 2 Schur update
    `new` (a - t c or b + t c) when it kept more than half of `old`, else x^T x
    recomputed.  The update's rounding is about u (|old| + |t c|) / new <= 3u
    relative then; below half, cancellation could eat every digit of a column
    that becomes tiny (graded matrices), so it is recomputed (the safeguard of
    LAPACK's dgsvj0).  Saves two of the four passes over the pair per rotation."""
    if new > old * <real>0.5:          # false for old = 0: recompute
        return new
    return dot(n, x, x)


cdef inline real tangent_of(real zeta) noexcept nogil:
    """t = tan(theta) for zeta = cot(2 theta), the smaller root (|theta| <= pi/4) of
    t^2 + 2 zeta t - 1 = 0, by Rutishauser's cancellation-free formula."""
    if fabs(zeta) > 1 / eps_of(zeta):       # zeta^2 would lose the 1, or overflow
        return 1 / (2 * zeta)
    return copysign(<real>1, zeta) / (fabs(zeta) + sqrt(1 + zeta * zeta))


cdef inline real jacobi_tangent(real a, real b, real c) noexcept nogil:
    """tan(theta) of the rotation that diagonalises [[a, c], [c, b]] (c != 0): the 2 x 2
    symmetric Schur decomposition (GVL4 §8.5.2)."""
    return tangent_of((b - a) / (2 * c))


cdef inline real negligible(Py_ssize_t n, real tol) noexcept nogil:
    """Below this norm (the matrix scaled to max|a_ij| ~ 1) a vector of n entries
    lies in the subnormal range, where the rounding of its entries alone exceeds
    tol relative to it: it cannot be made orthogonal to tol and is left alone (it is
    numerically zero next to ||A||; its singular vector comes from the completion)."""
    return sqrt(<real>n) * (FLT_MIN if real is float else DBL_MIN) / tol


cdef inline real scaled_cosine(Py_ssize_t n, const real* x, const real* y, real nx,
                               real ny) noexcept nogil:
    """(x / nx)^T (y / ny) without forming products that underflow."""
    cdef real s = 0
    cdef Py_ssize_t i
    for i in range(n):
        s += (x[i] / nx) * (y[i] / ny)
    return s


cdef inline real jacobi_tol(Py_ssize_t n, real x) noexcept nogil:
    """The relative orthogonality (off-diagonal) tolerance for order n.  It must stay
    above the rounding noise of a freshly rotated pair, or the same pair is rotated
    again every sweep and Jacobi never stops: each vector carries u relative error
    (2u in x^T y), and the dot product's summation up to u sqrt(n / NPART) typically
    (measured: 1.8u for n = 2 with LAPACK's sqrt(n) u, which then never converged).
    4 sqrt(n + 16) u keeps a margin of 4 over that and costs nothing in accuracy
    (the singular values' relative error is O(n tol) at worst, O(tol^2) typically)."""
    return 4 * sqrt(<real>(n + 16)) * eps_of(x)


# ------------------------------------------------------- QR with column pivoting

cdef inline void reflect(Py_ssize_t n, real tau, const real* v, real* y) noexcept nogil:
    """y := (I - tau v v^T) y, v[0] = 1 implied (v[1:] at v + 1)."""
    cdef real w
    if tau == 0:
        return
    w = y[0] + dot(n - 1, v + 1, y + 1)
    y[0] -= tau * w
    axpy(n - 1, -tau * w, v + 1, y + 1)


cdef inline void qrcp(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t lda, real* tau,
                      Py_ssize_t* jpvt, real* vn1, real* vn2) noexcept nogil:
    """Householder QR with column pivoting, A P = Q R (LAPACK geqp2 semantics), A m x n
    (m >= n) stored by columns (column j at a + j*lda).  On return R is on and above
    the diagonal, the reflectors' v[1:] below it, tau[k] their factors, jpvt[k] the
    original index of column k.  vn1, vn2: n reals of workspace (the partial column
    norms and the norms at their last exact computation)."""
    cdef Py_ssize_t j, k, p
    cdef real tol3z = sqrt(eps_of(tau[0]) * 2), r, t
    for j in range(n):
        jpvt[j] = j
        vn1[j] = nrm2(m, a + j * lda, 1)
        vn2[j] = vn1[j]
    for k in range(n):
        p = k
        for j in range(k + 1, n):
            if vn1[j] > vn1[p]:
                p = j
        if p != k:
            swap(m, a + p * lda, a + k * lda)
            jpvt[p], jpvt[k] = jpvt[k], jpvt[p]
            vn1[p] = vn1[k]
            vn2[p] = vn2[k]
        tau[k] = householder(m - k, a + k * lda + k, a + k * lda + k + 1, 1)
        for j in range(k + 1, n):
            reflect(m - k, tau[k], a + k * lda + k, a + j * lda + k)
            # The norm of a_j below row k, downdated (LAWN 176): when cancellation has
            # eaten more than sqrt(eps) of it since the last exact value, recompute.
            if vn1[j] != 0:
                r = fabs(a[j * lda + k]) / vn1[j]
                t = 1 - r * r
                if t < 0:
                    t = 0
                r = vn1[j] / vn2[j]
                if t * r * r <= tol3z:
                    vn1[j] = nrm2(m - k - 1, a + j * lda + k + 1, 1)
                    vn2[j] = vn1[j]
                else:
                    vn1[j] *= sqrt(t)


# --------------------------------------------------------------- one-sided Jacobi

cdef inline bint rotate_pair(Py_ssize_t i, Py_ssize_t j, real c, Py_ssize_t len_x,
                             real* x, Py_ssize_t ldx, real* v, Py_ssize_t len_v,
                             Py_ssize_t ldv, real* sq, real tol, real tiny,
                             real negl) noexcept nogil:
    """One step of one-sided Jacobi: rotate columns i and j of X (and rows i, j of v
    unless v is NULL) to make them orthogonal, unless they are to tol already (or one
    is negligible); sq[i], sq[j] follow.  c = x_i^T x_j (not used when a squared
    norm is below tiny).  Returns whether it rotated."""
    cdef real a = sq[i], b = sq[j], t, nx, ny
    if a >= tiny and b >= tiny:
        if fabs(c) <= tol * sqrt(a) * sqrt(b):
            return False
        t = jacobi_tangent(a, b, c)
        c = t * c           # the 2 x 2 Schur update: a - t c, b + t c
    else:
        # A squared norm underflowed (or lost digits to gradual underflow):
        # decide and rotate from the cosine of unit vectors instead.
        nx = nrm2(len_x, x + i * ldx, 1)
        ny = nrm2(len_x, x + j * ldx, 1)
        if nx < negl or ny < negl:
            return False
        c = scaled_cosine(len_x, x + i * ldx, x + j * ldx, nx, ny)
        if fabs(c) <= tol:
            return False
        t = tangent_of(((ny / nx) - (nx / ny)) / (2 * c))
        sq[i] = 0           # norms near underflow: recomputed
        sq[j] = 0
        c = 0
    apply_rotation(i, j, t, c, len_x, x, ldx, v, len_v, ldv, sq)
    return True


cdef inline void apply_rotation(Py_ssize_t i, Py_ssize_t j, real t, real tc,
                                Py_ssize_t len_x, real* x, Py_ssize_t ldx, real* v,
                                Py_ssize_t len_v, Py_ssize_t ldv, real* sq) noexcept nogil:
    """Rotate columns i, j of X (rows i, j of v unless NULL) by the angle of tangent t;
    tc = t x_i^T x_j updates their squared norms sq[i] - tc, sq[j] + tc (recomputed
    where that cancels, updated_norm)."""
    cdef real cs = 1 / sqrt(1 + t * t), sn
    sn = cs * t
    rotate(len_x, x + i * ldx, x + j * ldx, cs, sn)
    sq[i] = updated_norm(len_x, x + i * ldx, sq[i], sq[i] - tc)
    sq[j] = updated_norm(len_x, x + j * ldx, sq[j], sq[j] + tc)
    if v != NULL:
        rotate(len_v, v + i * ldv, v + j * ldv, cs, sn)


cdef inline int jacobi_sweeps(Py_ssize_t n, Py_ssize_t len_x, real* x, Py_ssize_t ldx,
                              real* v, Py_ssize_t len_v, Py_ssize_t ldv, real* sq,
                              real tol) noexcept nogil:
    """Orthogonalise the n columns of X (stored as rows: column i at x + i*ldx, length
    len_x) by one-sided Jacobi rotations, applying the same rotations to the rows of
    v (V_x^T, length len_v) unless v is NULL.  sq: n reals, the squared column norms
    on return.  0 on convergence, 1 after MAX_SWEEPS.

    The order of a sweep's pairs depends on the columns' length:
      - long columns: de Rijk's row-cyclic order (pair i with i+1..n-1 after swapping
        the largest remaining column into place), which saves about a sweep;
      - short ones (len_x <= ROUND_ROBIN_MAX_LEN): round-robin rounds of disjoint
        pairs (round_of).  Each pair's angle waits for its dot product, and each dot
        product for the previous rotation of a shared column: a chain of two
        square roots and two divisions (~100 cycles) per pair, which the row-cyclic
        order pays in full and which exceeds the vector work of columns this short.
        The pairs of a round share no column, so their dot products run first, then
        their angles as independent chains that the divider pipelines, then the
        rotations.  Measured against de Rijk's order (one thread, Zen 4, random
        matrices): svdvals 1.67 / 1.37 / 1.34 / 1.11x faster at n = 16 / 32 / 64 /
        96, svd 1.55 / 1.25 / 1.10 / 1.06x, despite about one sweep more; slower
        from n = 128 (0.96x), where the vector work hides the chain."""
    cdef Py_ssize_t i, j, t, sweep, rotated, r, n_rounds = n - 1 + (n & 1), n_pairs
    cdef Py_ssize_t pi[ROUND_ROBIN_MAX_LEN]
    cdef Py_ssize_t pj[ROUND_ROBIN_MAX_LEN]
    cdef real cp[ROUND_ROBIN_MAX_LEN]
    cdef real tp[ROUND_ROBIN_MAX_LEN]
    cdef real a, b
    cdef real tiny = (FLT_MIN if real is float else DBL_MIN) / eps_of(tol)
    cdef real negl = negligible(len_x, tol)
    cdef bint rounds = n <= ROUND_ROBIN_MAX_LEN and len_x <= ROUND_ROBIN_MAX_LEN
    for sweep in range(MAX_SWEEPS):
        # Exact norms at every sweep's start: the updated ones drift by a few u per
        # rotation, and the last (rotation-free) sweep's are the singular values.
        for i in range(n):
            sq[i] = dot(len_x, x + i * ldx, x + i * ldx)
        rotated = 0
        if rounds:
            for r in range(n_rounds):
                n_pairs = round_of(n, r, pi, pj)
                for t in range(n_pairs):
                    cp[t] = dot(len_x, x + pi[t] * ldx, x + pj[t] * ldx)
                for t in range(n_pairs):      # independent angle chains
                    a = sq[pi[t]]
                    b = sq[pj[t]]
                    tp[t] = 0
                    if a >= tiny and b >= tiny:
                        if fabs(cp[t]) > tol * sqrt(a) * sqrt(b):
                            tp[t] = jacobi_tangent(a, b, cp[t])
                    else:
                        tp[t] = -2          # near underflow: rotate_pair decides
                for t in range(n_pairs):
                    if tp[t] == -2:
                        rotated += rotate_pair(pi[t], pj[t], cp[t], len_x, x, ldx, v,
                                               len_v, ldv, sq, tol, tiny, negl)
                    elif tp[t] != 0:
                        rotated += 1
                        apply_rotation(pi[t], pj[t], tp[t], tp[t] * cp[t], len_x, x,
                                       ldx, v, len_v, ldv, sq)
        else:
            for i in range(n - 1):
                largest_to_front(i, n, sq, x, len_x, ldx, v, len_v, ldv)
                for j in range(i + 1, n):
                    rotated += rotate_pair(i, j, dot(len_x, x + i * ldx, x + j * ldx),
                                           len_x, x, ldx, v, len_v, ldv, sq, tol, tiny,
                                           negl)
        if rotated == 0:
            return 0
    for i in range(n):
        sq[i] = dot(len_x, x + i * ldx, x + i * ldx)
    return 1


cdef inline Py_ssize_t round_of(Py_ssize_t k, Py_ssize_t r, Py_ssize_t* pi,
                                Py_ssize_t* pj) noexcept nogil:
    """Round r (0 <= r < k + k % 2 - 1) of the round-robin (tournament) order of the
    k(k-1)/2 index pairs, by the circle method: k // 2 disjoint pairs (i, j), i < j,
    in pi, pj; returns their number.  A parallel ordering, equivalent to the cyclic
    one (Luk & Park, SIAM J. Sci. Stat. Comput. 10(1), 1989)."""
    cdef Py_ssize_t kk = k + (k & 1), t, a, b, count = 0
    for t in range(kk // 2):
        if t == 0:
            a, b = r, kk - 1
        else:
            a, b = (r + t) % (kk - 1), (r - t + kk - 1) % (kk - 1)
        if a >= k or b >= k:
            continue                # the dummy player of an odd k
        pi[count] = a if a < b else b
        pj[count] = b if a < b else a
        count += 1
    return count


cdef inline void complete_orthonormal(Py_ssize_t n, Py_ssize_t k0, real* u,
                                      Py_ssize_t ldu) noexcept nogil:
    """Rows k0..n-1 of u (n x n) := an orthonormal basis of the complement of the
    orthonormal rows 0..k0-1: unit vectors e_c orthogonalised twice (Gram-Schmidt
    twice is enough, Giraud et al. 2005) and kept when half their length survives."""
    cdef Py_ssize_t row = k0, cand = 0, i, rep
    cdef real* y
    cdef real nrm
    while row < n and cand < n:
        y = u + row * ldu
        memset(y, 0, n * sizeof(real))
        y[cand] = 1
        cand += 1
        for rep in range(2):
            for i in range(row):
                axpy(n, -dot(n, u + i * ldu, y), u + i * ldu, y)
        nrm = nrm2(n, y, 1)
        if nrm > 0.5:
            for i in range(n):
                y[i] /= nrm
            row += 1


cdef inline void largest_to_front(Py_ssize_t i, Py_ssize_t n, real* s, real* x,
                                  Py_ssize_t len_x, Py_ssize_t ldx, real* v,
                                  Py_ssize_t len_v, Py_ssize_t ldv) noexcept nogil:
    """Swap the largest of s[i:n] into s[i], and the rows of x and v (if not NULL)
    alike: de Rijk's pivoting step, and one step of sort_rows_desc."""
    cdef Py_ssize_t j, p = i
    for j in range(i + 1, n):
        if s[j] > s[p]:
            p = j
    if p != i:
        s[i], s[p] = s[p], s[i]
        if x != NULL:
            swap(len_x, x + i * ldx, x + p * ldx)
        if v != NULL:
            swap(len_v, v + i * ldv, v + p * ldv)


cdef inline void sort_rows_desc(Py_ssize_t n, real* s, real* x, Py_ssize_t len_x,
                                Py_ssize_t ldx, real* v, Py_ssize_t len_v,
                                Py_ssize_t ldv) noexcept nogil:
    """Sort s descending, permuting the rows of x and v (if not NULL) alike.  Selection
    sort: n^2/2 comparisons but at most n row swaps (de Rijk's order leaves s nearly
    sorted)."""
    cdef Py_ssize_t i
    for i in range(n - 1):
        largest_to_front(i, n, s, x, len_x, ldx, v, len_v, ldv)


cdef inline void sort_by_exponent(Py_ssize_t m, const double* key, Py_ssize_t* perm,
                                  Py_ssize_t* count) noexcept nogil:
    """perm := the indices 0..m-1 ordered by decreasing binary exponent of key[i]
    (zeros last), stable: a counting sort over the EXP_BUCKETS exponents in O(m).
    Ordering rows to within a factor of two is all the row-wise stability of
    Householder QR asks for (Cox & Higham 1998), and a comparison sort of 100000
    rows cost more than the whole QR."""
    cdef Py_ssize_t i, bucket, total = 0, c
    for i in range(EXP_BUCKETS):
        count[i] = 0
    for i in range(m):
        count[exponent_bucket(key[i])] += 1
    for i in range(EXP_BUCKETS):
        c = count[i]
        count[i] = total
        total += c
    for i in range(m):
        bucket = exponent_bucket(key[i])
        perm[count[bucket]] = i
        count[bucket] += 1


cdef inline Py_ssize_t exponent_bucket(double x) noexcept nogil:
    cdef int e
    if x == 0:
        return EXP_BUCKETS - 1
    frexp(x, &e)                # e in [-1073, 1024] for doubles
    return 1024 - e


cdef inline void scale_pow2(Py_ssize_t n, real* x, int e) noexcept nogil:
    """x *= 2^e, exactly (unless a result is subnormal): one multiplication each while
    2^e is a normal number, ldexp otherwise."""
    cdef Py_ssize_t i
    cdef real f
    if -120 < e < 120:
        f = <real>ldexp(1.0, e)
        for i in range(n):
            x[i] *= f
    else:
        for i in range(n):
            x[i] = ldexp(x[i], e)


cdef inline bint use_tsqr(Py_ssize_t m, Py_ssize_t n, Py_ssize_t lda,
                          Py_ssize_t ku) noexcept nogil:
    """Whether gesvj factors the m x n matrix by the tall-skinny QR of qr.pxd: not
    all left vectors wanted, m >= 4n, a shape tsqr takes, and A's columns packed
    (lda = m), so that Q can overwrite A."""
    return ku <= n and m >= 4 * n and lda == m and tsqr_fits(m, n)


cdef inline bint rhs_appended(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t lda,
                              const real* bt, Py_ssize_t nrhs) noexcept nogil:
    """Whether the nrhs right-hand sides follow A's columns in memory (bt = a + n*lda)
    and [A B] is a shape tsqr takes: then one tall-skinny QR of [A B] gives Q^T B."""
    return nrhs > 0 and bt == a + n * lda and tsqr_fits(m, n + nrhs)


cdef inline bint u_over_a(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t lda,
                          const real* ut, Py_ssize_t ku) noexcept nogil:
    """Whether gesvj writes the thin U of a tall A over A, row-major: asked for by
    ut = a (ku = n), and only on the tall-skinny path, where U = Q_t Y is formed
    over A anyway (qr.pxd tsqr_q).  The caller gets U in place of its working copy:
    no fresh m x n output (whose first-touch page faults cost a tenth of the thin
    SVD), and in numpy's row-major order."""
    return ut == a and ku == n and use_tsqr(m, n, lda, ku)


cdef inline size_t gesvj_workspace(Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs) noexcept nogil:
    """Bytes of workspace gesvj needs for an m x n matrix (m >= n) with nrhs
    right-hand sides."""
    return ((3 * n * n + 4 * n + 2 * m + (n + nrhs) * (n + nrhs)) * sizeof(double)
            + (n + m + EXP_BUCKETS) * sizeof(Py_ssize_t) + 64)


cdef inline int gesvj(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t lda, real* s,
                      real* ut, Py_ssize_t ku, real* vh, real* bt, Py_ssize_t nrhs,
                      void* work) noexcept nogil:
    """Singular values s (descending) of the m x n matrix A, m >= n >= 1, stored by
    columns (column j at a + j*lda; overwritten); unless vh is NULL, V^T in vh (n x n,
    row-major); when ku > 0, the first ku left singular vectors as the rows of ut
    (ku x m, ku = n or m); when nrhs > 0 (vh given), the first n entries of each row
    b of bt (nrhs x m) become U^T b (the least-squares use, without forming U); a
    tall A whose bt follows it in memory (bt = a + n*lda) is factored together with
    B, which the others are not (a level-2 QR with pivoting of all of A).  A tall A
    (use_tsqr) given ut = a gets U instead (m x n, row-major) over A (u_over_a).
    work: gesvj_workspace(m, n, nrhs) bytes.  Returns 0, or n + 1 for a non-finite entry,
    or 1 when the sweeps did not converge."""
    cdef Py_ssize_t i, j, k, r, ldr
    cdef TsqrState ts
    cdef bint tall = use_tsqr(m, n, lda, ku) and (
        nrhs == 0 or (ku == 0 and rhs_appended(m, n, a, lda, bt, nrhs)))
    cdef real amax = 0, e, tol = 0
    cdef int expo, status
    cdef bint sort_rows
    cdef double rmin, rmax
    cdef double* rowmax = <double*>work
    cdef Py_ssize_t* perm = <Py_ssize_t*>(rowmax + m)
    cdef Py_ssize_t* jpvt = perm + m
    cdef Py_ssize_t* count = jpvt + n
    cdef real* x = <real*>(count + EXP_BUCKETS)
    cdef real* vt = x + n * n
    cdef real* tau = vt + n * n
    cdef real* vn1 = tau + n
    cdef real* vn2 = vn1 + n
    cdef real* sq = vn2 + n
    cdef real* tmp = sq + n
    cdef real* st = tmp + m             # tall: R of the tall-skinny QR, by columns
    cdef real* q = a                    # tall: U (m x n, row-major), over A
    cdef real* rab = st + n * n         # tall: R of [A B] ((n + nrhs)^2), or of A
    cdef real* rr
    cdef real* y
    ts.cb = NULL

    # 1. Finite check, power-of-two scaling, row sorting.
    for j in range(n):
        for i in range(m):
            e = fabs(a[j * lda + i])
            if not (e <= amax):
                if not isfinite(e):
                    return <int>n + 1
                amax = e
    if amax == 0:
        expo = 0
    else:
        frexp(amax, &expo)
        expo -= 1
        for j in range(n):
            scale_pow2(m, a + j * lda, -expo)
    sort_rows = False
    if m > 1 and amax != 0:
        for i in range(m):
            rowmax[i] = 0
        for j in range(n):
            for i in range(m):
                e = fabs(a[j * lda + i])
                if e > rowmax[i]:
                    rowmax[i] = e
        rmin = rmax = rowmax[0]
        for i in range(m):
            rmin = rowmax[i] if rowmax[i] < rmin else rmin
            rmax = rowmax[i] if rowmax[i] > rmax else rmax
        sort_rows = rmax > ROW_SORT_RATIO * rmin
        if sort_rows:
            sort_by_exponent(m, rowmax, perm, count)
            for j in range(n):
                y = a + j * lda
                for i in range(m):
                    tmp[i] = y[perm[i]]
                memcpy(y, tmp, m * sizeof(real))

    # 2. A P = Q R.  A tall matrix whose left vectors are not all wanted is factored
    # first by qr.pxd's tall-skinny QR, A = Q_t R_t (row blocks that stay in L2,
    # blocked Householder on the GEMM; Demmel et al., SIAM J. Sci. Comput. 34(1),
    # 2012), then R_t P = Q_cp R with column pivoting: A P = Q_t Q_cp R.  Level-2 QR
    # with pivoting of the whole matrix would stream it from memory once per column.
    if tall:
        # With right-hand sides, [A B] = Q_t [R_t Q_t^T B; 0 *]: Q_t^T B comes with
        # R (GVL4 §5.3.3).  For U, the factorization is kept (ts) until Q_t is
        # applied in step 4; A is dead once tsqr_begin has read it.
        if nrhs > 0 and sort_rows:
            for r in range(nrhs):
                y = bt + r * m
                for i in range(m):
                    tmp[i] = y[perm[i]]
                memcpy(y, tmp, m * sizeof(real))
        status = tsqr_begin(m, n + nrhs, a, 1, lda, n + nrhs, NULL, 0, 0, NULL, rab, ku > 0,
                            False, &ts, 1)
        if status != INFO_OK or ku == 0:
            tsqr_end(&ts)
        if status != INFO_OK:
            return status
        for j in range(n):
            for i in range(n):
                st[j * n + i] = rab[i * (n + nrhs) + j]
        qrcp(n, n, st, n, tau, jpvt, vn1, vn2)
        rr, ldr = st, n
    else:
        qrcp(m, n, a, lda, tau, jpvt, vn1, vn2)
        rr, ldr = a, lda
    # 3. Jacobi on X = R^T (X's column i = R's row i: x + i*n).
    for i in range(n):
        for j in range(i):
            x[i * n + j] = 0
        for j in range(i, n):
            x[i * n + j] = rr[j * ldr + i]
    # V_x (the rotations' product) is wanted only for U, or U^T b; V comes from X.
    if not (vh != NULL and (ku > 0 or nrhs > 0)):
        vt = NULL
    if vt != NULL:
        memset(vt, 0, n * n * sizeof(real))
        for i in range(n):
            vt[i * n + i] = 1
    tol = jacobi_tol(n, tol)
    status = jacobi_sweeps(n, n, x, n, vt, n, n, sq, tol)
    if status != 0:
        tsqr_end(&ts)
        return status
    for i in range(n):
        s[i] = nrm2(n, x + i * n, 1)
    sort_rows_desc(n, s, x, n, n, vt, n, n)

    if vh != NULL:
        # V = P U_x: U_x's columns are X's normalised (completed where X has zeros).
        k = n
        for i in range(n):
            if s[i] < negligible(n, tol):
                k = i
                break
            for j in range(n):
                x[i * n + j] /= s[i]
        complete_orthonormal(n, k, x, n)
        for i in range(n):
            for j in range(n):
                vh[i * n + jpvt[j]] = x[i * n + j]
    if nrhs > 0:
        # U^T b = V_x^T (Q^T b)[:n] for each right-hand side: Q applied to a vector
        # costs what one column of U does.
        for r in range(nrhs):
            y = bt + r * m
            if tall:
                # Q_cp^T (Q_t^T b), the latter from the R of [A B]
                for i in range(n):
                    tmp[i] = rab[i * (n + nrhs) + n + r]
                for k in range(n):
                    reflect(n - k, tau[k], st + k * n + k, tmp + k)
            else:
                if sort_rows:
                    for i in range(m):
                        tmp[i] = y[perm[i]]
                    memcpy(y, tmp, m * sizeof(real))
                for k in range(n):
                    reflect(m - k, tau[k], a + k * lda + k, y + k)
                memcpy(tmp, y, n * sizeof(real))
            for i in range(n):
                y[i] = dot(n, vt + i * n, tmp)
    if ku > 0:
        if tall:
            # U = Q_t Y, Y = Q_cp V_x: Y's columns by reflectors (rows of x, free
            # now), Y itself into vt; tsqr_q applies Q_t to it block by block, over
            # A (row-major), which is U itself for u_over_a, else transposed into ut.
            for i in range(n):
                memcpy(x + i * n, vt + i * n, n * sizeof(real))
                for k in range(n - 1, -1, -1):
                    reflect(n - k, tau[k], st + k * n + k, x + i * n + k)
            for i in range(n):
                for j in range(n):
                    vt[i * n + j] = x[j * n + i]
            status = tsqr_q(m, n, &ts, vt, q, 1)
            tsqr_end(&ts)
            if status != INFO_OK:
                return status
            if ut != a:
                copy_strided(m, n, q, n, 1, ut, 1, m)
        else:
            # U = Q [V_x 0; 0 I]: the reflectors applied to each row of ut (a column
            # of U).
            memset(ut, 0, ku * m * sizeof(real))
            for i in range(n):
                memcpy(ut + i * m, vt + i * n, n * sizeof(real))
            for i in range(n, ku):
                ut[i * m + i] = 1
            for k in range(n - 1, -1, -1):
                for i in range(ku):
                    reflect(m - k, tau[k], a + k * lda + k, ut + i * m + k)
        if sort_rows and ut == a and tall:      # U's rows back to A's order
            for i in range(n):
                for r in range(m):
                    tmp[perm[r]] = ut[r * n + i]
                for r in range(m):
                    ut[r * n + i] = tmp[r]
        elif sort_rows:
            for i in range(ku):
                y = ut + i * m
                for r in range(m):
                    tmp[perm[r]] = y[r]
                memcpy(y, tmp, m * sizeof(real))
    for i in range(n):
        s[i] = ldexp(s[i], expo)
    return INFO_OK


# ------------------------------------------------------- tall matrices, only read

cdef enum:
    # gesvj_tall's status when A needs gesvj's own preparation (a working copy that
    # is scaled or row-sorted in place); no kernel returns it otherwise.
    INFO_PREPARE = -2
    # Without that scaling, max|a_ij| must lie in [2^-e, 2^e], e = SAFE_EXPONENT for
    # doubles and SAFE_EXPONENT_F32 for floats (see gesvj_tall).
    SAFE_EXPONENT = 64
    SAFE_EXPONENT_F32 = 24
    TALL_MIN_SIZE = 16384      # entries of A from which gesvj_tall takes one row block


cdef inline bint tall_fits(Py_ssize_t m, Py_ssize_t n, Py_ssize_t nrhs,
                           bint want_u) noexcept nogil:
    """Whether gesvj_tall takes an m x n A with nrhs right-hand sides: m >= 4n and at
    most TSQR_MAX_N columns in [A B].  One row block is enough for the singular
    values and least squares (its blocked QR beats the level-2 pivoted QR of all of
    A, and no copy of A is made: 10000 x 20 1.4-1.8x faster) once A has TALL_MIN_SIZE
    entries (below, the pivoted QR of the small R on top of the tall QR costs more
    than it saves: 500 x 10 svdvals 0.9x, 200 x 40 0.8x); the thin U needs two
    (tsqr_fits: below that, keeping the reflectors for tsqr_q cost more than it
    saved, 2000 x 10 1.5x slower)."""
    return (n >= 1 and nrhs >= 0 and m >= 4 * n and n + nrhs <= TSQR_MAX_N
            and m * n >= TALL_MIN_SIZE
            and not (want_u and (nrhs > 0 or not tsqr_fits(m, n))))


cdef inline real max_abs(Py_ssize_t n, const real* x, real* nonfinite) noexcept nogil:
    """max |x_i| over unit stride; nonfinite[0] becomes NaN if some x_i is Inf or NaN
    (x_i - x_i is NaN exactly then).  In eight independent lanes, which vectorise:
    a scan of a tall matrix's rows costs a read of it, not a branch per entry."""
    cdef real part[8]
    cdef real bad[8]
    cdef real e, mx = 0, nf = 0
    cdef Py_ssize_t i, t, n8 = n - n % 8
    for t in range(8):
        part[t] = 0
        bad[t] = 0
    for i in range(0, n8, 8):
        for t in range(8):
            e = fabs(x[i + t])
            part[t] = e if e > part[t] else part[t]
            bad[t] += e - e
    for i in range(n8, n):
        e = fabs(x[i])
        mx = e if e > mx else mx
        nf += e - e
    for t in range(8):
        mx = part[t] if part[t] > mx else mx
        nf += bad[t]
    nonfinite[0] += nf
    return mx


cdef inline size_t gesvj_tall_workspace(Py_ssize_t m, Py_ssize_t n,
                                        Py_ssize_t nrhs) noexcept nogil:
    """Bytes of workspace gesvj_tall needs (either precision)."""
    cdef Py_ssize_t nt = n + nrhs
    return ((m + (2 * m + EXP_BUCKETS) * sizeof(Py_ssize_t) // sizeof(double)) * sizeof(double)
            + ((nt * nt + 3 * n * n + nrhs * n) * sizeof(double) + 63) // 64 * 64
            + gesvj_workspace(n, n, nrhs) + 64)


cdef inline int gesvj_tall(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                           Py_ssize_t csa, const real* b, Py_ssize_t rsb, Py_ssize_t csb,
                           Py_ssize_t nrhs, real* s, real* vh, real* utb, real* res,
                           real* u, void* work, int n_threads) noexcept nogil:
    """gesvj's tall path for an A that is only read, any strides (element (i, j) at
    a[i*rsa + j*csa]), so no working copy of it is made: the tall-skinny QR of
    qr.pxd reads A's row blocks where they lie.  s (n): the singular values; vh
    (n x n, or NULL): V^T; with nrhs right-hand sides B (m x nrhs, element (i, r) at
    b[i*rsb + r*csb]; vh given), utb (n x nrhs, row-major) := U^T B and res (nrhs)
    := the squared norms of the columns of B - A X for the least-squares X of a
    full-rank A; u (m x n, row-major, or NULL; not with B): the thin U.
    work: gesvj_tall_workspace bytes.

    [A B] = Q_t [R_t C; 0 T] by one tall-skinny QR (GVL4 §5.3.3: C = Q_t^T B, and
    the residual of B's column r is T's column r, as LAPACK's gelsd reports it), then
    gesvj on the n x n R_t = U_R S V^T (its column pivoting, Jacobi, and C's U_R^T C),
    and U = Q_t U_R by tsqr_q.  This is gesvj's own tall path with its step 1 moved
    after the QR: a scaling by a power of two commutes exactly with every operation
    of the QR unless something over- or underflows, which cannot happen when
    max|a_ij| is within 2^+-SAFE_EXPONENT (2^+-SAFE_EXPONENT_F32 for floats: squared
    column norms of up to 2^40 rows stay far inside the range), so the scaling is
    applied to R_t instead of A.  The rows are sorted as
    gesvj's step 1 sorts them (row max-norms differing by more than ROW_SORT_RATIO)
    by having the QR read them in sorted order; U's rows are put back in A's order.
    When max|a_ij| is outside that range (or 0), A needs gesvj's in-place preparation
    and the status is INFO_PREPARE, with nothing written.  Otherwise 0, n + 1 for a
    non-finite entry of A, 1 when the sweeps did not converge, or INFO_NO_MEMORY.
    Threads: n_threads for the QR's row blocks and tsqr_q."""
    cdef Py_ssize_t i, j, r, nt = n + nrhs
    cdef real e, nonfinite = 0
    cdef double rmin = 0, rmax = 0
    cdef int status
    cdef TsqrState ts
    cdef bint sort_rows
    cdef int safe
    cdef double* rowmax = <double*>work
    cdef Py_ssize_t* perm = <Py_ssize_t*>(rowmax + m)      # the sorted order of the rows
    cdef Py_ssize_t* inv = perm + m                          # its inverse
    cdef Py_ssize_t* count = inv + m
    cdef real* rab = <real*>(count + EXP_BUCKETS)   # R of [A B] ((n + nrhs)^2, row-major)
    cdef real* rt = rab + nt * nt             # R_t by columns, for gesvj
    cdef real* c = rt + n * n                 # C's columns as rows (nrhs x n)
    cdef real* y = c + nrhs * n               # U_R's columns as rows (gesvj's ut)
    cdef real* yr = y + n * n                 # U_R, row-major (tsqr_q's Y)
    cdef void* inner = <void*>(<char*>rab + ((nt * nt + 3 * n * n + nrhs * n) * sizeof(real)
                                             + 63) // 64 * 64)
    if not tall_fits(m, n, nrhs, u != NULL):
        return INFO_PREPARE
    # 1. Finite check and row max-norms, along A's rows when they are contiguous.
    if csa == 1:
        for i in range(m):
            rowmax[i] = max_abs(n, a + i * rsa, &nonfinite)
        if nonfinite != 0:
            return <int>n + 1
    else:
        for i in range(m):
            rowmax[i] = 0
        for j in range(n):
            for i in range(m):
                e = fabs(a[i * rsa + j * csa])
                if not (e <= rowmax[i]):
                    if not isfinite(e):
                        return <int>n + 1
                    rowmax[i] = e
    rmin = rmax = rowmax[0]
    for i in range(m):
        rmin = rowmax[i] if rowmax[i] < rmin else rmin
        rmax = rowmax[i] if rowmax[i] > rmax else rmax
    safe = SAFE_EXPONENT if real is double else SAFE_EXPONENT_F32
    if not (rmax <= ldexp(1.0, safe)) or rmax < ldexp(1.0, -safe):
        return INFO_PREPARE
    sort_rows = rmax > ROW_SORT_RATIO * rmin
    if sort_rows:
        sort_by_exponent(m, rowmax, perm, count)
    # 2. [A B] = Q_t R (of the rows in sorted order), kept for U.
    status = tsqr_begin(m, nt, a, rsa, csa, n, b, rsb, csb, perm if sort_rows else NULL,
                        rab, u != NULL, False, &ts, n_threads)
    if status != INFO_OK or u == NULL:
        tsqr_end(&ts)
        if status != INFO_OK:
            return status
    for j in range(n):
        for i in range(n):
            rt[j * n + i] = rab[i * nt + j]
    for r in range(nrhs):
        for i in range(n):
            c[r * n + i] = rab[i * nt + n + r]
        res[r] = 0
        for i in range(n, n + r + 1):
            res[r] += rab[i * nt + n + r] * rab[i * nt + n + r]
    # 3. The SVD of R_t (gesvj scales it, pivots its columns and runs the sweeps).
    status = gesvj(n, n, rt, n, s, y if u != NULL else NULL, n if u != NULL else 0, vh,
                   c if nrhs else NULL, nrhs, inner)
    if status != INFO_OK:
        tsqr_end(&ts)
        return status
    for i in range(n):
        for r in range(nrhs):
            utb[i * nrhs + r] = c[r * n + i]
    # 4. U = Q_t U_R.
    if u != NULL:
        for i in range(n):
            for j in range(n):
                yr[i * n + j] = y[j * n + i]
        status = tsqr_q(m, n, &ts, yr, u, n_threads)
        tsqr_end(&ts)
        if sort_rows:
            unsort_rows(m, n, u, perm, inv, rt)
    return status


cdef inline void unsort_rows(Py_ssize_t m, Py_ssize_t n, real* x, const Py_ssize_t* perm,
                             Py_ssize_t* inv, real* row) noexcept nogil:
    """Row perm[i] of the row-major m x n x := its row i, in place: along the cycles of
    the permutation, one row (n entries, in `row`) held aside per cycle.  inv: m
    entries of workspace."""
    cdef Py_ssize_t i, j, k, c
    for i in range(m):
        inv[perm[i]] = i
    for i in range(m):
        if inv[i] < 0 or inv[i] == i:
            continue
        for c in range(n):                  # x[i] is to receive x[inv[i]]; rows are
            row[c] = x[i * n + c]           # short: loops, not memcpy calls
        j = i
        while inv[j] != i:
            k = inv[j]
            for c in range(n):
                x[j * n + c] = x[k * n + c]
            inv[j] = -1
            j = k
        for c in range(n):
            x[j * n + c] = row[c]
        inv[j] = -1


# -------------------------------------------------------------- two-sided Jacobi

cdef inline int syevj(Py_ssize_t n, real* a, bint lower, real* w, real* z) noexcept nogil:
    """Eigenvalues w (ascending) of the symmetric n x n matrix in a (row-major,
    overwritten) given by its lower (or upper) triangle, and, unless z is NULL, the
    eigenvectors as the rows of z (n x n).  Non-finite input gives NaN results (as
    numpy's eigh does not fail).  Returns 0, or 1 when the sweeps did not converge."""
    cdef Py_ssize_t i, j, p, q, sweep, rotated
    cdef real amax = 0, e, tol = 0, negl, apq, app, aqq, t, c, sn
    cdef int expo
    cdef real* rp
    cdef real* rq
    for i in range(n):
        for j in range(i + 1):
            e = a[i * n + j] if lower else a[j * n + i]
            a[i * n + j] = a[j * n + i] = e
            e = fabs(e)
            if not (e <= amax):
                if not isfinite(e):
                    for p in range(n):
                        w[p] = e - e
                        if z != NULL:
                            for q in range(n):
                                z[p * n + q] = e - e
                    return INFO_OK
                amax = e
    expo = 0
    if amax != 0:
        frexp(amax, &expo)
        expo -= 1
        scale_pow2(n * n, a, -expo)
    if z != NULL:
        memset(z, 0, n * n * sizeof(real))
        for i in range(n):
            z[i * n + i] = 1
    tol = jacobi_tol(n, tol)
    negl = negligible(n, tol)
    for sweep in range(MAX_SWEEPS + 1):
        if sweep == MAX_SWEEPS:
            return 1
        rotated = 0
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = a[p * n + q]
                app = a[p * n + p]
                aqq = a[q * n + q]
                if fabs(apq) <= tol * sqrt(fabs(app)) * sqrt(fabs(aqq)) or fabs(apq) < negl:
                    continue
                rotated += 1
                t = jacobi_tangent(app, aqq, apq)
                c = 1 / sqrt(1 + t * t)
                sn = c * t
                rp = a + p * n
                rq = a + q * n
                rotate(n, rp, rq, c, sn)
                rp[p] = app - t * apq
                rq[q] = aqq + t * apq
                rp[q] = rq[p] = 0
                for i in range(n):
                    a[i * n + p] = rp[i]
                    a[i * n + q] = rq[i]
                if z != NULL:
                    rotate(n, z + p * n, z + q * n, c, sn)
        if rotated == 0:
            break
    for i in range(n):
        w[i] = ldexp(a[i * n + i], expo)
    sort_rows_asc(n, w, z)
    return INFO_OK


# ------------------------------------------- eigh through Cholesky and one-sided Jacobi

cdef enum:
    # Up to this order (and for every lane kernel) eigh stays two-sided: the
    # Cholesky + gesvj route pays a QR with column pivoting that only a larger
    # matrix amortises.  Measured since gesvj sweeps short columns in round-robin
    # rounds (one call, one thread, Zen 4; two-sided time / Cholesky route's):
    # eigh n = 6 / 8 / 12 / 16 / 24 / 32 / 40: 0.92 / 1.03 / 1.18 / 1.41 / 1.37 /
    # 1.67 / 1.62; eigvalsh 0.78 / 0.87 / 1.08 / 1.34 / 1.28 / 1.57 / 1.47.
    SYEVJ_MAX = 10


cdef inline size_t syevj_chol_workspace(Py_ssize_t n) noexcept nogil:
    """Bytes of workspace syevj_chol needs for order n."""
    return ((gesvj_workspace(n, n, 0) + 63) // 64) * 64 + 2 * n * sizeof(double)


cdef inline void restore_lower(Py_ssize_t n, real* a, const real* diag) noexcept nogil:
    """The lower triangle of row-major a := its copy in the upper triangle and diag."""
    cdef Py_ssize_t i, j
    for i in range(n):
        for j in range(i):
            a[i * n + j] = a[j * n + i]
        a[i * n + i] = diag[i]


cdef inline int syevj_chol(Py_ssize_t n, real* a, bint lower, real* w, real* z,
                           void* work) noexcept nogil:
    """syevj's contract (eigenvalues w ascending, eigenvectors as the rows of z unless
    z is NULL, a row-major and overwritten) by one-sided Jacobi instead of two-sided:

      H + tau I = L L^T (Cholesky, cholesky.pxd potrf), M = L^T = U S V^T (gesvj),
      so H + tau I = M^T M = V S^2 V^T: w = s^2 - tau, Z^T = V.

    tau = 0 when H is positive definite (the Cholesky succeeds).  Then this is the
    Veselic-Hari method (Numer. Math. 56, 1989), and every eigenvalue of a graded
    H = D B D comes out with relative error about eps * cond(B) (Demmel & Veselic,
    SIAM J. Matrix Anal. Appl. 13(4), 1992, Thm. 4.2 for the Cholesky factor; the
    column-graded M keeps it through gesvj).  Otherwise tau = 1.01 min(||H||_F,
    ||H||_inf) > ||H||_2 shifts H to positive definite with condition at most about
    200 sqrt(n), and the eigenvalues get the absolute accuracy eps ||H|| any
    backward-stable method gives (what syevj promises for indefinite H as well).
    Flops: n^3/3 (Cholesky) + gesvj's on n x n without U, i.e. about 3n^3 per sweep
    with V (and no O(n^2) column copies per rotation, as two-sided Jacobi needs),
    half that without.  Falls back to syevj should even the shifted Cholesky fail.
    work: syevj_chol_workspace(n) bytes."""
    cdef Py_ssize_t i, j
    cdef real amax = 0, e, tau = 0, fro = 0, rowsum, inf = 0
    cdef int expo, status
    cdef real* diag = <real*>(<char*>work + ((gesvj_workspace(n, n, 0) + 63) // 64) * 64)
    cdef real* s = diag + n
    # Full symmetric copy from the given triangle: potrf then factors the lower
    # triangle and leaves the upper one (and diag) as the copy for a retry.
    for i in range(n):
        for j in range(i + 1):
            e = a[i * n + j] if lower else a[j * n + i]
            a[i * n + j] = a[j * n + i] = e
            if not (fabs(e) <= amax):
                if not isfinite(e):
                    return syevj(n, a, True, w, z)          # NaN results, as numpy
                amax = fabs(e)
    if amax == 0:
        return syevj(n, a, True, w, z)
    frexp(amax, &expo)
    expo -= 1
    scale_pow2(n * n, a, -expo)
    for i in range(n):
        diag[i] = a[i * n + i]
    if potrf(n, a, n, 1, 1) != 0:
        for i in range(n):
            rowsum = 0
            for j in range(n):
                # the upper triangle: the intact copy
                e = a[i * n + j] if j > i else (a[j * n + i] if j < i else diag[i])
                rowsum += fabs(e)
                fro += e * e
            inf = rowsum if rowsum > inf else inf
        fro = sqrt(fro)
        tau = <real>1.01 * (fro if fro < inf else inf)
        restore_lower(n, a, diag)
        for i in range(n):
            a[i * n + i] += tau
        if potrf(n, a, n, 1, 1) != 0:
            restore_lower(n, a, diag)
            scale_pow2(n * n, a, expo)
            return syevj(n, a, True, w, z)
    # M's column j = L's row j: the row-major lower triangle with the upper cleared.
    for i in range(n):
        for j in range(i + 1, n):
            a[i * n + j] = 0
    status = gesvj(n, n, a, n, s, NULL, 0, z, NULL, 0, work)
    if status != 0:
        return status
    for i in range(n):
        w[i] = ldexp(s[n - 1 - i] * s[n - 1 - i] - tau, expo)
    if z != NULL:
        for i in range(n // 2):
            swap(n, z + i * n, z + (n - 1 - i) * n)
    return INFO_OK


cdef inline int eigh_one(Py_ssize_t n, real* a, bint lower, real* w, real* z,
                         void* work) noexcept nogil:
    """One symmetric eigenproblem (syevj's contract): two-sided Jacobi up to
    SYEVJ_MAX, Cholesky + one-sided Jacobi above (work: syevj_chol_workspace(n)
    bytes; without it, two-sided: slower, never wrong)."""
    if n <= SYEVJ_MAX or work == NULL:
        return syevj(n, a, lower, w, z)
    return syevj_chol(n, a, lower, w, z, work)


cdef inline void sort_rows_asc(Py_ssize_t n, real* w, real* z) noexcept nogil:
    """Sort w ascending, permuting the rows of the n x n z (if not NULL) alike
    (selection sort: at most n row swaps)."""
    cdef Py_ssize_t i, j, p
    for i in range(n - 1):
        p = i
        for j in range(i + 1, n):
            if w[j] < w[p]:
                p = j
        if p != i:
            w[i], w[p] = w[p], w[i]
            if z != NULL:
                swap(n, z + i * n, z + p * n)


# ------------------------------------------------- stacks of small matrices, in lanes
#
# As in lu.pxd, a group holds JLANES matrices interleaved: element e of matrix l is
# x[e*JLANES + l], so every loop over l is one vector instruction, and the square
# roots and divisions of the rotation angles (the latency-bound part of a scalar
# Jacobi step on a k <= 16 matrix) run JLANES at a time.  A rotation that one lane
# does not need is applied as the identity (c = 1, s = 0: exact) in that lane, so all
# lanes follow one control flow (a pair no lane needs is skipped); the group stops
# when no lane rotated in a sweep.
# JLANES = 8, a zmm of doubles (lu.pxd's LU lanes chose 4): a Jacobi step is a
# latency-bound chain of divisions and square roots per pair, and twice the lanes
# halve its cost per matrix (measured per matrix, loaded machine: SVD k = 4 0.94 ->
# 0.64 us, k = 8 8.5 -> 7.0 us).  The two kernels skip what the lanes cannot do
# cheaply: scaling, the tiny-norm paths and (SVD) the QR preconditioning and pivoting.  The
# driver therefore gives them only matrices whose entries are finite and, where
# nonzero, within [2^-E, 2^E] (lanes_fit: E = 100, 20 for float32), and sends every other
# matrix, and any lane that meets a negligible column or does not converge, to the
# scalar kernels.  Without preconditioning one-sided Jacobi is not accurate for
# matrices graded on both sides (D1 B D2; Demmel et al., LAA 299, 1999), so
# lanes_fit also sends matrices whose row max-norms as stored differ by more than
# LANES_ROW_RATIO to gesvj.  The SVD lanes rotate the stored rows (A's rows, the
# columns of A^T), so they see graded rows of A^T at most: each of its rows is
# rotated by itself, with a backward error small relative to that row (a ratio
# up to LANES_ROW_RATIO in the other direction costs at most that factor of
# accuracy); tests/test_jacobi.py checks both gradings of A to 1e-13.

cdef enum:
    JLANES = 8
    LANES_ROW_RATIO = 1000


cdef inline Py_ssize_t round_robin(Py_ssize_t k, Py_ssize_t* pi, Py_ssize_t* pj,
                                   Py_ssize_t* rstart) noexcept nogil:
    """The k(k-1)/2 index pairs of one sweep in round-robin order (round_of), round r
    at pairs rstart[r] .. rstart[r+1]-1 (k + k % 2 - 1 rounds).  No pair of a round
    touches another's columns, so the lane kernels compute the rotation angles of a
    whole round first, from the same matrix: independent chains of divisions and
    square roots that the divider pipelines, where one pair at a time waits for the
    last.  Returns the number of pairs."""
    cdef Py_ssize_t kk = k + (k & 1), r, count = 0
    for r in range(kk - 1):
        rstart[r] = count
        count += round_of(k, r, pi + count, pj + count)
    rstart[kk - 1] = count
    return count


cdef inline real lane_tangent(real a, real b, real c) noexcept nogil:
    """jacobi_tangent with one division and one square root, no branch: with d = b - a,
    t = 2c sign(d) / (|d| + sqrt(d^2 + 4c^2)), the same root multiplied through by 2c
    (zeta = d / 2c).  Safe from overflow for the entries lanes_fit admits; if d^2 + 4c^2
    underflows (then |c| is negligible next to the matrix) the rotation is by pi/4."""
    cdef real d = b - a
    cdef real den = fabs(d) + sqrt(d * d + 4 * c * c)
    return 2 * (c if d >= 0 else -c) / den if den > 0 else copysign(<real>1, c)


cdef inline bint lanes_round_angles(Py_ssize_t npr, const real* a, const real* b,
                                    const real* c, const real* rot, bint* rotates,
                                    real* cs, real* sn, real* t) noexcept nogil:
    """For the npr pairs of a round (JLANES lanes each, index e*JLANES + l; rot = 1
    where a lane rotates): rotates[e], whether some lane of pair e rotates, and for
    those pairs the rotations that diagonalise [[a, c], [c, b]], lane by lane
    (cs, sn) with tangent t; the identity (t = 0) where rot = 0: a product, not a
    masked division, which GCC computed twice (for cs and sn).  The pairs no lane
    rotates (the late sweeps' converged ones) skip their divisions and square roots.
    Returns whether any pair rotates."""
    cdef Py_ssize_t e, l
    cdef real tl, q
    cdef bint any_rot = False
    for e in range(npr):
        rotates[e] = False
        for l in range(e * JLANES, (e + 1) * JLANES):
            rotates[e] |= rot[l] != 0
        any_rot |= rotates[e]
        if not rotates[e]:
            continue
        for l in range(e * JLANES, (e + 1) * JLANES):
            tl = lane_tangent(a[l], b[l], c[l]) * rot[l]
            q = 1 / sqrt(1 + tl * tl)
            t[l] = tl
            cs[l] = q
            sn[l] = q * tl
    return any_rot


cdef inline bint lanes_fit(fixed_k* size, const real* x, bint rows_too) noexcept nogil:
    """Whether all JLANES interleaved k x k matrices x (row i of matrix l at
    x[(i*k + j)*JLANES + l]) may go to the lane kernels: every entry finite and, where
    nonzero, within [2^-E, 2^E]; no matrix zero; with rows_too, in each matrix the
    largest row max-norm at most LANES_ROW_RATIO times the smallest.  Lane by lane
    (vector compares and selects: the element-by-element test with early exits,
    one matrix at a time, was a fifth of the k = 8 SVD stack's time)."""
    cdef Py_ssize_t k = fixed_size(size), i, j, l
    cdef real lo = <real>(ldexp(1.0, -20) if real is float else ldexp(1.0, -100))
    cdef real hi = 1 / lo, e
    cdef real bad[JLANES]
    cdef real rmax[JLANES]
    cdef real big[JLANES]
    cdef real small[JLANES]
    cdef bint fit = True
    for l in range(JLANES):
        bad[l] = 0
        big[l] = 0
        small[l] = hi
    for i in range(k):
        for l in range(JLANES):
            rmax[l] = 0
        for j in range(k):
            for l in range(JLANES):
                e = fabs(x[(i * k + j) * JLANES + l])
                # NaN, Inf, out of range
                bad[l] += 1 if (not (e <= hi) or (e != 0 and e < lo)) else 0
                rmax[l] = e if e > rmax[l] else rmax[l]
        for l in range(JLANES):
            big[l] = rmax[l] if rmax[l] > big[l] else big[l]
            small[l] = rmax[l] if rmax[l] < small[l] else small[l]
    for l in range(JLANES):
        bad[l] += 1 if big[l] == 0 or (rows_too and big[l] > LANES_ROW_RATIO * small[l]) else 0
    for l in range(JLANES):
        fit &= bad[l] == 0
    return fit


cdef inline void lanes_gather(fixed_k* size, const real* a, Py_ssize_t lda,
                              real* x) noexcept nogil:
    """x := the JLANES k x k matrices at a, a + lda, ..., interleaved (element e of
    matrix l at x[e*JLANES + l]): the JLANES x k^2 matrix (lane, element) transposed,
    by 8 x 8 blocks with vector shuffles (cholesky.pxd), the last k^2 mod 8 elements
    one by one."""
    cdef Py_ssize_t k = fixed_size(size), e0, e, l
    for e0 in range(0, k * k - 7, 8):
        transpose8x8(a + e0, lda, x + e0 * JLANES, JLANES)
    for e in range(k * k - k * k % 8, k * k):
        for l in range(JLANES):
            x[e * JLANES + l] = a[l * lda + e]


cdef inline void lanes_scatter(fixed_k* size, const real* x, real* a,
                               Py_ssize_t lda) noexcept nogil:
    """The inverse of lanes_gather."""
    cdef Py_ssize_t k = fixed_size(size), e0, e, l
    for e0 in range(0, k * k - 7, 8):
        transpose8x8(x + e0 * JLANES, JLANES, a + e0, lda)
    for e in range(k * k - k * k % 8, k * k):
        for l in range(JLANES):
            a[l * lda + e] = x[e * JLANES + l]


cdef inline int gesvj_lanes(fixed_k* size, real* x, real* v, real* s) noexcept nogil:
    """One-sided Jacobi on the columns of LANES interleaved k x k matrices M, stored by
    columns: x[(j*k + r)*LANES + l] = M_l[r, j].  Unless v is NULL, v (same layout)
    gets V_x with M V_x = U S; on return x's column j holds U's column j times s_j, and
    s[j*LANES + l] the column norms (unsorted).  Returns 0, or 1 if some lane did not
    converge.

    Each round first takes the Gram entries of all its pairs (disjoint, so from the
    same X), then the angles of the pairs that some lane rotates, independent of one
    another (the divisions and square roots of several pairs in flight at once),
    then rotates.  A pair's
    squared norms are summed with its dot product, in one pass whose sums stay in
    registers (k is a literal, the pass is unrolled), so the rotation pass only
    loads, rotates and stores: summing the new norms while rotating carried them
    through memory from row to row, a store-to-load chain that was a quarter of the
    k = 8 time (rotated column norms by the 2 x 2 Schur update, as jacobi_sweeps,
    measured no faster here)."""
    cdef Py_ssize_t k = fixed_size(size), i, j, r, l, e, sweep, rd, p0, npr
    cdef Py_ssize_t pi[120]
    cdef Py_ssize_t pj[120]
    cdef Py_ssize_t rstart[17]
    cdef real cs[8 * JLANES]            # per pair of a round (at most 8), per lane
    cdef real sn[8 * JLANES]
    cdef real rotv[8 * JLANES]
    cdef real ga[8 * JLANES]            # the pairs' Gram entries [[a, c], [c, b]]
    cdef real gb[8 * JLANES]
    cdef real gc[8 * JLANES]
    cdef bint rotates[8]
    cdef real av[JLANES]
    cdef real bv[JLANES]
    cdef real cv[JLANES]
    cdef real tv[8 * JLANES]            # (the tangents, unused here)
    cdef real xi, xj, a, b, c
    cdef real tol = jacobi_tol(k, <real>0), tol2 = tol * tol
    cdef bint any_rot
    if v != NULL:
        for i in range(k * k * JLANES):
            v[i] = 0
        for i in range(k):
            for l in range(JLANES):
                v[(i * k + i) * JLANES + l] = 1
    round_robin(k, pi, pj, rstart)
    for sweep in range(MAX_SWEEPS):
        any_rot = False
        for rd in range(k + (k & 1) - 1):
            p0 = rstart[rd]
            npr = rstart[rd + 1] - p0
            for e in range(npr):            # the round's Gram entries, from the same X
                i = pi[p0 + e]
                j = pj[p0 + e]
                for l in range(JLANES):
                    av[l] = 0
                    bv[l] = 0
                    cv[l] = 0
                for r in range(k):
                    for l in range(JLANES):
                        xi = x[(i * k + r) * JLANES + l]
                        xj = x[(j * k + r) * JLANES + l]
                        av[l] += xi * xi
                        bv[l] += xj * xj
                        cv[l] += xi * xj
                for l in range(JLANES):
                    ga[e * JLANES + l] = av[l]
                    gb[e * JLANES + l] = bv[l]
                    gc[e * JLANES + l] = cv[l]
            for l in range(npr * JLANES):   # which lanes rotate, for the whole round
                a = ga[l]
                b = gb[l]
                c = gc[l]
                # Every branch a select, every mask a real: one vector width for the
                # whole loop (an int mask made GCC split it into halves).
                if real is double:      # no square roots; the products cannot
                    # underflow for what lanes_fit admits (noise columns of a
                    # rank-deficient matrix stay above eps^2 min|a_ij|)
                    rotv[l] = 1 if c * c > tol2 * (a * b) else 0
                else:                   # in float32 they can: noise columns 1e-13
                    rotv[l] = 1 if fabs(c) > tol * sqrt(a) * sqrt(b) else 0
            any_rot |= lanes_round_angles(npr, ga, gb, gc, rotv, rotates, cs, sn, tv)
            for e in range(npr):
                if not rotates[e]:          # converged in every lane: skip the identity
                    continue
                i = pi[p0 + e]
                j = pj[p0 + e]
                lanes_rotate(k, x + i * k * JLANES, x + j * k * JLANES,
                             cs + e * JLANES, sn + e * JLANES)
                if v != NULL:
                    lanes_rotate(k, v + i * k * JLANES, v + j * k * JLANES,
                                 cs + e * JLANES, sn + e * JLANES)
        if not any_rot:
            for i in range(k):
                for l in range(JLANES):
                    av[l] = 0
                for r in range(k):
                    for l in range(JLANES):
                        xi = x[(i * k + r) * JLANES + l]
                        av[l] += xi * xi
                for l in range(JLANES):
                    s[i * JLANES + l] = sqrt(av[l])
            return 0
    return 1


cdef inline void lanes_rotate(Py_ssize_t k, real* x, real* y, const real* cs,
                              const real* sn) noexcept nogil:
    """[x y] := [x y] [[c, s], [-s, c]] for two interleaved columns of k rows, lane l
    by (cs[l], sn[l])."""
    cdef Py_ssize_t r, l
    cdef real xi, yi
    for r in range(k):
        for l in range(JLANES):
            xi = x[r * JLANES + l]
            yi = y[r * JLANES + l]
            x[r * JLANES + l] = cs[l] * xi - sn[l] * yi
            y[r * JLANES + l] = sn[l] * xi + cs[l] * yi


cdef inline int syevj_lanes(fixed_k* size, real* x, real* z) noexcept nogil:
    """Two-sided cyclic Jacobi on LANES interleaved symmetric k x k matrices given by
    their upper triangles (x[(i*k + j)*LANES + l], i <= j; the strict lower triangle
    is left stale); z (same layout, may be NULL) gets the eigenvectors as rows.  The
    eigenvalues are left on x's diagonal, unsorted.  Rows p and q are rotated in
    place in the triangle (h_pr read and written at (min(p, r), max(p, r))): half the
    stores of rotating full rows and copying them into the columns.  Returns 0, or 1
    if some lane did not converge.

    A rotation in (p, q) changes rows and columns p and q only, so the angles of a
    round's disjoint pairs all come from the entries before the round: they are
    computed first (the divisions and square roots of several pairs in flight at
    once, where pair by pair each waited for the last; the same arithmetic, so the
    same bits), and only for the pairs that some lane rotates."""
    cdef Py_ssize_t k = fixed_size(size), i, p, q, r, l, e, sweep, rd, p0, npr
    cdef Py_ssize_t pi[120]
    cdef Py_ssize_t pj[120]
    cdef Py_ssize_t rstart[17]
    cdef real ga[8 * JLANES]            # per pair of a round (at most 8), per lane:
    cdef real gb[8 * JLANES]            # h_pp, h_qq, h_pq
    cdef real gc[8 * JLANES]
    cdef real cs[8 * JLANES]
    cdef real sn[8 * JLANES]
    cdef real tv[8 * JLANES]
    cdef real rotv[8 * JLANES]
    cdef bint rotates[8]
    cdef Py_ssize_t ip, iq
    cdef real xp, xq, apq
    cdef real tol = jacobi_tol(k, <real>0), tol2 = tol * tol
    cdef real negl = negligible(k, tol)
    cdef bint any_rot
    if z != NULL:
        for i in range(k * k * JLANES):
            z[i] = 0
        for i in range(k):
            for l in range(JLANES):
                z[(i * k + i) * JLANES + l] = 1
    round_robin(k, pi, pj, rstart)
    for sweep in range(MAX_SWEEPS):
        any_rot = False
        for rd in range(k + (k & 1) - 1):
            p0 = rstart[rd]
            npr = rstart[rd + 1] - p0
            for e in range(npr):
                p = pi[p0 + e]
                q = pj[p0 + e]
                for l in range(JLANES):
                    ga[e * JLANES + l] = x[(p * k + p) * JLANES + l]
                    gb[e * JLANES + l] = x[(q * k + q) * JLANES + l]
                    gc[e * JLANES + l] = x[(p * k + q) * JLANES + l]
            for l in range(npr * JLANES):
                apq = gc[l]
                rotv[l] = 1 if (apq * apq > tol2 * fabs(ga[l] * gb[l])
                                and fabs(apq) >= negl) else 0
            any_rot |= lanes_round_angles(npr, ga, gb, gc, rotv, rotates, cs, sn, tv)
            for e in range(npr):
                if not rotates[e]:          # converged in every lane: skip the identity
                    continue
                p = pi[p0 + e]
                q = pj[p0 + e]
                for l in range(JLANES):     # the 2 x 2 block's new values
                    x[(p * k + p) * JLANES + l] = ga[e * JLANES + l] - tv[e * JLANES + l] * gc[e * JLANES + l]
                    x[(q * k + q) * JLANES + l] = gb[e * JLANES + l] + tv[e * JLANES + l] * gc[e * JLANES + l]
                    # h_pq := 0 where the lane rotated, else kept
                    x[(p * k + q) * JLANES + l] = gc[e * JLANES + l] * (1 - rotv[e * JLANES + l])
                for r in range(k):              # rows p, q (J^T A) off the block, in
                    if r == p or r == q:        # the upper triangle: h_pr at (min, max)
                        continue
                    ip = (p * k + r if r > p else r * k + p) * JLANES
                    iq = (q * k + r if r > q else r * k + q) * JLANES
                    for l in range(JLANES):
                        xp = x[ip + l]
                        xq = x[iq + l]
                        x[ip + l] = cs[e * JLANES + l] * xp - sn[e * JLANES + l] * xq
                        x[iq + l] = sn[e * JLANES + l] * xp + cs[e * JLANES + l] * xq
                if z != NULL:
                    lanes_rotate(k, z + p * k * JLANES, z + q * k * JLANES,
                                 cs + e * JLANES, sn + e * JLANES)
        if not any_rot:
            return 0
    return 1

"""Householder QR, A = Q R, and forming Q, the LAPACK way.

What: for an m x n matrix A, A = Q R with Q = H_0 H_1 ... H_{k-1} (k = min(m, n))
orthogonal and R upper trapezoidal.  LAPACK's geqrf contract: R overwrites the upper
triangle of A; below the diagonal, column j holds v_j[1:] of the reflector
H_j = I - tau_j v_j v_j^T (v_j[0] = 1 implicit, v_j zero above row j), and tau[j]
is tau_j.  The reflectors follow LAPACK's larfg exactly (beta = -sign(alpha) ||x||,
tau in [1, 2], or tau = 0 when there is nothing to annihilate), so Q and R equal
LAPACK's (numpy's) to rounding, signs included.

Algorithms (Golub & Van Loan, Matrix Computations, 4th ed., §5.1-5.2):
- householder (larfg, GVL4 Alg. 5.1.1 with LAPACK's sign and scaling).
- geqr2: unblocked Householder QR (GVL4 Alg. 5.2.1), 2mn^2 - 2n^3/3 flops; each
  reflector is applied to the trailing columns as w = v^T C, C -= tau v w^T
  (apply_reflector: sweeps along rows of row-major C; dot products and axpys down
  four columns at a time of column-major C, the layout geqrf's panels use).
- geqrf: blocked QR with the compact WY representation H_j ... H_{j+b-1} =
  I - V T V^T (Schreiber & Van Loan, SIAM J. Sci. Stat. Comput. 10(1), 1989;
  GVL4 §5.2.3).  Per panel of QR_NB columns:

          jb     n - j - jb
        +-----+------------+      1. geqr2 on the panel [A11; A21] -> V, tau   (level 2)
     jb | A11 | A12        |      2. T from V^T V (gemm) and tau               (larft)
        +-----+------------+      3. W := V^T [A12; A22]                       (gemm)
        | A21 | A22        |      4. W := T^T W                                (trmm, small)
        +-----+------------+      5. [A12; A22] -= V W                         (gemm)

  so all but a fraction ~QR_NB/n of the flops run in the GEMM of gemm.pxd.  The T of
  every panel can be kept (tsqr applies its blocks' Q with them, apply_q).
- orgqr: Q (m x mc) := H_0 ... H_{k-1} [I; 0], blocked backwards over panels of
  QR_NB_Q reflectors, Q[j:, j:] := (I - V T V^T) Q[j:, j:] (LAPACK dorgqr; 4mnk -
  2(m+n)k^2 + 4k^3/3 flops for k reflectors).  org2r is its unblocked version.
- Tall-skinny (tsqr_r): TSQR (Demmel, Grigori, Hoemmen & Langou, SIAM J. Sci. Comput.
  34(1), 2012) with one reduction level: every block of rows is factored in cache
  (one thread per block), the stacked R factors once more.  Its Q and R differ from
  Householder's by column / row signs S; the signs are recovered as in Ballard et al.,
  "Reconstructing Householder vectors from tall-skinny QR" (J. Parallel Distrib.
  Comput. 85, 2015): s_k = -sign(u_kk) in an LU of the top n x n block of Q without
  pivoting, Q - S = L U.  Then R = S R_tsqr and Q = Q_tsqr S are LAPACK's.
- Stacks of k x k (k <= 8, 16): geqr2_lanes / org2r_lanes, QR_LANES matrices
  interleaved per vector (as lu.pxd's lanes), compiled per literal k.

Strides are in elements, row stride before column stride (rsa, csa); any strides
work, the speed assumes rows are contiguous (row-major, as the drivers provide).
The blocked kernels make V explicit in place (unit diagonal, zeros above) for the
GEMM and put R back afterwards (v_explicit / v_restore).
NaN and Inf propagate through the arithmetic (a NaN column gives a NaN reflector);
nothing can fail but workspace allocation (INFO_NO_MEMORY).
"""

from libc.math cimport fabs, sqrt, copysign, hypot

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport QR_NB, QR_NB_Q, TSQR_BLOCK, TSQR_MAX_N
from cython.parallel cimport prange, threadid
from _memory cimport aligned_alloc64, aligned_free, advise_huge_pages
from gemm cimport fixed_k, gemm, imin
from lu cimport fixed_size

cdef extern from "float.h":
    double DBL_MIN
    double DBL_EPSILON
    float FLT_MIN
    float FLT_EPSILON

cdef extern from *:
    """
    #define FASTLA_NRM2_SAFE_LO_D 0x1p-500   /* a sum of squares in [lo, hi] is accurate */
    #define FASTLA_NRM2_SAFE_HI_D 0x1p+500
    #define FASTLA_NRM2_SAFE_LO_S 0x1p-60f
    #define FASTLA_NRM2_SAFE_HI_S 0x1p+60f
    """
    const double NRM2_LO_D "FASTLA_NRM2_SAFE_LO_D"
    const double NRM2_HI_D "FASTLA_NRM2_SAFE_HI_D"
    const float NRM2_LO_S "FASTLA_NRM2_SAFE_LO_S"
    const float NRM2_HI_S "FASTLA_NRM2_SAFE_HI_S"


# ------------------------------------------------------------------ reflectors

cdef inline real dot(Py_ssize_t n, const real* x, Py_ssize_t incx, const real* y,
                     Py_ssize_t incy) noexcept nogil:
    """sum_i x_i y_i in 32 partial sums: 32 independent FMA chains (4 zmm registers of
    doubles when both strides are 1) instead of one bound by the adder's latency (the
    compiler may not reassociate a floating sum itself)."""
    cdef real acc[32]
    cdef Py_ssize_t i, t, w, n32 = n - n % 32
    for t in range(32):
        acc[t] = 0
    if incx == 1 and incy == 1:
        for i in range(0, n32, 32):
            for t in range(32):
                acc[t] += x[i + t] * y[i + t]
    else:
        for i in range(0, n32, 32):
            for t in range(32):
                acc[t] += x[(i + t) * incx] * y[(i + t) * incy]
    for i in range(n32, n):
        acc[i - n32] += x[i * incx] * y[i * incy]
    w = 16
    while w:
        for t in range(w):
            acc[t] += acc[t + w]
        w //= 2
    return acc[0]


cdef inline real nrm2(Py_ssize_t n, const real* x, Py_ssize_t incx) noexcept nogil:
    """||x||_2 without overflow or harmful underflow (BLAS nrm2).

    The plain sum of squares is exact enough whenever it lands in [2^-500, 2^500]
    (2^-60, 2^60 for float): no square overflowed, and squares that underflowed are
    below 2^-1022, negligible next to the sum.  Otherwise (tiny, huge, Inf or NaN
    data) a second pass sums (x_i / max|x|)^2.
    """
    cdef Py_ssize_t i
    cdef real s0 = dot(n, x, incx, x, incx), scale = 0, v
    cdef real lo, hi
    if real is double:
        lo, hi = NRM2_LO_D, NRM2_HI_D
    else:
        lo, hi = NRM2_LO_S, NRM2_HI_S
    if lo <= s0 <= hi:
        return sqrt(s0)
    for i in range(n):
        v = fabs(x[i * incx])
        if not (v <= scale):                  # NaN wins, so it propagates
            scale = v
    if scale == 0 or scale != scale or scale - scale != 0:   # zero, NaN or Inf
        return scale
    s0 = 0
    for i in range(n):
        v = x[i * incx] / scale
        s0 += v * v
    return scale * sqrt(s0)


cdef inline real householder(Py_ssize_t n, real* alpha, real* x, Py_ssize_t incx) noexcept nogil:
    """Reflector H = I - tau v v^T with H (alpha, x) = (beta, 0) (LAPACK larfg).

    # IN  the n-vector (alpha, x[0..n-2]) (x with stride incx)
    # OUT alpha := beta = -sign(alpha) ||(alpha, x)||, x := v[1:] (v[0] = 1), returns tau
    tau = 0 (H = I, alpha kept) when x is already zero or n <= 1.  When |beta| is
    below safmin = tiny/eps, (alpha, x) is scaled up by 1/safmin (at most 20 times)
    before tau and v are formed, so 1/(alpha - beta) cannot overflow (as LAPACK).
    """
    cdef real xnorm, beta, tau, safmin, rsafmn, scale
    cdef Py_ssize_t i
    cdef int knt = 0
    if n <= 1:
        return 0
    xnorm = nrm2(n - 1, x, incx)
    if xnorm == 0:
        return 0
    if real is double:
        safmin = DBL_MIN / (DBL_EPSILON / 2)
    else:
        safmin = FLT_MIN / (FLT_EPSILON / 2)
    beta = -copysign(hypot(alpha[0], xnorm), alpha[0])
    if fabs(beta) < safmin:
        rsafmn = 1 / safmin
        while True:
            knt += 1
            for i in range(n - 1):
                x[i * incx] *= rsafmn
            beta *= rsafmn
            alpha[0] *= rsafmn
            if not (fabs(beta) < safmin and knt < 20):
                break
        xnorm = nrm2(n - 1, x, incx)
        beta = -copysign(hypot(alpha[0], xnorm), alpha[0])
    tau = (beta - alpha[0]) / beta
    scale = 1 / (alpha[0] - beta)
    for i in range(n - 1):
        x[i * incx] *= scale
    for i in range(knt):
        beta *= safmin
    alpha[0] = beta
    return tau


cdef inline void apply_reflector_4cols(Py_ssize_t m, const real* v, real tau, real* c,
                                       Py_ssize_t ldc) noexcept nogil:
    """Four contiguous columns c[:, 0:4] (column stride ldc) := (I - tau v v^T) c, v[0] = 1
    implicit, v contiguous: each load of v serves four columns (the dot products in 4 x
    16 partial sums: eight vector FMA chains), and so does each in the update."""
    cdef real a0[16]
    cdef real a1[16]
    cdef real a2[16]
    cdef real a3[16]
    cdef real s0, s1, s2, s3, vi
    cdef Py_ssize_t i, t, w
    cdef Py_ssize_t n16 = 1 + (m - 1) - (m - 1) % 16
    cdef real* c0 = c
    cdef real* c1 = c + ldc
    cdef real* c2 = c + 2 * ldc
    cdef real* c3 = c + 3 * ldc
    for t in range(16):
        a0[t] = 0
        a1[t] = 0
        a2[t] = 0
        a3[t] = 0
    for i in range(1, n16, 16):
        for t in range(16):
            vi = v[i + t]
            a0[t] += vi * c0[i + t]
            a1[t] += vi * c1[i + t]
            a2[t] += vi * c2[i + t]
            a3[t] += vi * c3[i + t]
    for i in range(n16, m):
        a0[i - n16] += v[i] * c0[i]
        a1[i - n16] += v[i] * c1[i]
        a2[i - n16] += v[i] * c2[i]
        a3[i - n16] += v[i] * c3[i]
    for t in range(8):
        a0[t] += a0[t + 8]
        a1[t] += a1[t + 8]
        a2[t] += a2[t + 8]
        a3[t] += a3[t + 8]
    s0 = c0[0]
    s1 = c1[0]
    s2 = c2[0]
    s3 = c3[0]
    for t in range(8):
        s0 += a0[t]
        s1 += a1[t]
        s2 += a2[t]
        s3 += a3[t]
    s0 *= tau
    s1 *= tau
    s2 *= tau
    s3 *= tau
    c0[0] -= s0
    c1[0] -= s1
    c2[0] -= s2
    c3[0] -= s3
    for i in range(1, m):
        vi = v[i]
        c0[i] -= s0 * vi
        c1[i] -= s1 * vi
        c2[i] -= s2 * vi
        c3[i] -= s3 * vi


cdef inline void apply_reflector(Py_ssize_t m, Py_ssize_t n, const real* v, Py_ssize_t incv,
                                 real tau, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                                 real* work) noexcept nogil:
    """C := (I - tau v v^T) C for C m x n, v[0] = 1 implicit (v[i*incv], i >= 1) (larf, left).

    # IN  work: n elements
    w = v^T C, then C -= tau v w^T.  With contiguous rows both are sweeps along rows
    (axpy, vectorised); with contiguous columns, dot products and axpys down columns.
    """
    cdef Py_ssize_t i, j
    cdef real vi, s
    cdef real* ci
    if tau == 0 or n == 0:
        return
    if csc == 1 or rsc != 1:
        for j in range(n):
            work[j] = c[j * csc]
        for i in range(1, m):
            vi = v[i * incv]
            ci = c + i * rsc
            for j in range(n):
                work[j] += vi * ci[j * csc]
        for j in range(n):
            c[j * csc] -= tau * work[j]
        for i in range(1, m):
            vi = tau * v[i * incv]
            ci = c + i * rsc
            for j in range(n):
                ci[j * csc] -= vi * work[j]
    else:                                       # column-major C
        j = 0
        if incv == 1:
            while j + 4 <= n:
                apply_reflector_4cols(m, v, tau, c + j * csc, csc)
                j += 4
        for j in range(j, n):
            ci = c + j * csc
            s = tau * (ci[0] + dot(m - 1, v + incv, incv, ci + 1, 1))
            ci[0] -= s
            for i in range(1, m):
                ci[i] -= s * v[i * incv]


cdef inline void geqr2(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                       real* tau, real* work) noexcept nogil:
    """A = Q R in place, unblocked (GVL4 Alg. 5.2.1; LAPACK geqr2).

    # IN  A (m x n); work: n elements
    # OUT R and the reflectors in A (module docstring), tau[:min(m, n)]
    """
    cdef Py_ssize_t j, k = imin(m, n)
    for j in range(k):
        tau[j] = householder(m - j, a + j * rsa + j * csa, a + (j + 1) * rsa + j * csa, rsa)
        if j + 1 < n:
            # A[j:, j+1:] := H_j A[j:, j+1:]
            apply_reflector(m - j, n - j - 1, a + j * rsa + j * csa, rsa, tau[j],
                            a + j * rsa + (j + 1) * csa, rsa, csa, work)


cdef inline void org2r(Py_ssize_t m, Py_ssize_t mc, Py_ssize_t k, const real* a,
                       Py_ssize_t rsa, Py_ssize_t csa, const real* tau, real* q,
                       Py_ssize_t rsq, Py_ssize_t csq, real* work) noexcept nogil:
    """Q := H_0 ... H_{k-1} [I; 0] (m x mc, k <= mc <= m), unblocked (LAPACK org2r).

    # IN  reflectors of geqr2/geqrf in A; work: mc elements
    Applied last to first: H_i only touches Q[i:, i:], the rest is still I there.
    """
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(mc):
            q[i * rsq + j * csq] = 1 if i == j else 0
    for i in range(k - 1, -1, -1):
        apply_reflector(m - i, mc - i, a + i * rsa + i * csa, rsa, tau[i],
                        q + i * rsq + i * csq, rsq, csq, work)


# ------------------------------------------------------------ compact WY blocks

cdef inline void copy_strided(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                              Py_ssize_t csa, real* d, Py_ssize_t rsd,
                              Py_ssize_t csd) noexcept nogil:
    """D := A (m x n, any strides both).  The loop order follows the unit strides: down
    columns when both are column-major (a memcpy per column), else in tiles of 8 rows
    by all n columns, so that a transposing copy reads 8 short row pieces and writes
    runs of 8 that all stay in L1 (an element-by-element transpose of a row block,
    with a cache miss per write, cost as much as factoring it)."""
    cdef Py_ssize_t i, i0, j, t, m8 = m - m % 8
    if rsa == 1 and rsd == 1:
        for j in range(n):
            for i in range(m):
                d[j * csd + i] = a[j * csa + i]
        return
    for i0 in range(0, m8, 8):
        for j in range(n):
            for t in range(8):
                d[(i0 + t) * rsd + j * csd] = a[(i0 + t) * rsa + j * csa]
    for i in range(m8, m):
        for j in range(n):
            d[i * rsd + j * csd] = a[i * rsa + j * csa]

cdef inline void gather_rows(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                             Py_ssize_t csa, const Py_ssize_t* rows, real* d,
                             Py_ssize_t ldd) noexcept nogil:
    """D (m x n, column-major, leading dimension ldd) := rows rows[0..m-1] of A (any
    strides), in tiles of 8 rows as copy_strided's, so each column of D is written
    in runs of 8."""
    cdef Py_ssize_t i, i0, j, t, m8 = m - m % 8
    for i0 in range(0, m8, 8):
        for j in range(n):
            for t in range(8):
                d[j * ldd + i0 + t] = a[rows[i0 + t] * rsa + j * csa]
    for i in range(m8, m):
        for j in range(n):
            d[j * ldd + i] = a[rows[i] * rsa + j * csa]

cdef inline void v_explicit(Py_ssize_t b, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                            real* saved) noexcept nogil:
    """Make the b x b top of V (at a) explicit for the GEMM: unit diagonal, zeros above;
    R's entries there (b*(b+1)/2) go to saved, for v_restore."""
    cdef Py_ssize_t i, j, t = 0
    for i in range(b):
        for j in range(i, b):
            saved[t] = a[i * rsa + j * csa]
            a[i * rsa + j * csa] = 1 if i == j else 0
            t += 1


cdef inline void v_restore(Py_ssize_t b, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                           const real* saved) noexcept nogil:
    cdef Py_ssize_t i, j, t = 0
    for i in range(b):
        for j in range(i, b):
            a[i * rsa + j * csa] = saved[t]
            t += 1


cdef inline int larft(Py_ssize_t m, Py_ssize_t b, const real* v, Py_ssize_t rsv,
                      Py_ssize_t csv, const real* tau, real* t, Py_ssize_t ldt,
                      int n_threads) noexcept nogil:
    """T (b x b upper, row-major, ld ldt) with H_0 ... H_{b-1} = I - V T V^T (LAPACK
    larft, forward, columnwise).

    # IN  V explicit (m x b, v_explicit)
    Schreiber & Van Loan's recurrence T[:i, i] = -tau_i T[:i, :i] (V^T V)[:i, i],
    T[i, i] = tau_i, with the Gram matrix V^T V from one GEMM (m b^2 flops at GEMM
    speed; the recurrence costs b^3/3).  Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t i, j, p
    cdef real s
    # T's strict upper triangle := V^T V  (only its strict upper part is used)
    if gemm(b, b, m, 1, v, csv, rsv, v, rsv, csv, 0, t, ldt, 1, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    for i in range(b):
        # T[:i, i] := -tau_i T[:i, :i] G[:i, i]: row j of the upper triangle needs
        # only G entries of rows >= j, so top to bottom works in place.
        for j in range(i):
            s = 0
            for p in range(j, i):                       # T[j, j:i] . G[j:i, i]
                s += t[j * ldt + p] * t[p * ldt + i]
            t[j * ldt + i] = -tau[i] * s
        t[i * ldt + i] = tau[i]
        for j in range(i):
            t[i * ldt + j] = 0
    return INFO_OK


cdef inline void trmm_t(bint trans, Py_ssize_t b, Py_ssize_t n, const real* t, Py_ssize_t ldt,
                        real* w, Py_ssize_t ldw) noexcept nogil:
    """W := T W (trans false) or T^T W for T b x b upper triangular, W b x n row-major.
    Row i of the result combines rows of W not yet overwritten (T: i upwards from the
    top; T^T: i downwards from the bottom), so it runs in place along rows of W."""
    cdef Py_ssize_t i, j, p
    cdef real tij, tii
    if not trans:
        for i in range(b):
            tii = t[i * ldt + i]
            for j in range(n):
                w[i * ldw + j] *= tii
            for p in range(i + 1, b):
                tij = t[i * ldt + p]
                for j in range(n):
                    w[i * ldw + j] += tij * w[p * ldw + j]
    else:
        for i in range(b - 1, -1, -1):
            tii = t[i * ldt + i]
            for j in range(n):
                w[i * ldw + j] *= tii
            for p in range(i):
                tij = t[p * ldt + i]
                for j in range(n):
                    w[i * ldw + j] += tij * w[p * ldw + j]


cdef inline int larfb(bint trans, Py_ssize_t m, Py_ssize_t n, Py_ssize_t b,
                      const real* v, Py_ssize_t rsv, Py_ssize_t csv, const real* t,
                      Py_ssize_t ldt, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                      real* w, int n_threads) noexcept nogil:
    """C := (I - V T V^T) C, or its transpose (I - V T^T V^T) C (LAPACK larfb, left,
    forward, columnwise); V explicit m x b, C m x n.

    # IN  w: b*n elements
    4mnb flops in two GEMMs, b^2 n in the small triangular product.
    """
    if n == 0 or b == 0:
        return INFO_OK
    # W := V^T C
    if gemm(b, n, m, 1, v, csv, rsv, c, rsc, csc, 0, w, n, 1, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    trmm_t(trans, b, n, t, ldt, w, n)                    # W := op(T) W
    # C := C - V W
    if gemm(m, n, b, -1, v, rsv, csv, w, n, 1, 1, c, rsc, csc, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    return INFO_OK


cdef inline Py_ssize_t qr_t_size(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """Elements of geqrf's T blocks: one QR_NB x QR_NB block per panel."""
    return ((imin(m, n) + QR_NB - 1) // QR_NB) * QR_NB * QR_NB


cdef inline int geqrf(Py_ssize_t m, Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                      real* tau, real* tbuf, int n_threads) noexcept nogil:
    """A = Q R in place, blocked with compact WY (the diagram in the module docstring).

    # IN  A (m x n); tbuf: qr_t_size(m, n) elements, or NULL when T is not wanted
    # OUT R and the reflectors in A, tau[:min(m, n)], the T of panel p at tbuf + p*NB*NB
    Each panel is copied column-major into a buffer and factored there (its columns
    are long and its rows short, whatever A's layout: geqr2 then works along whole
    columns, apply_reflector_4cols), copied back, and the buffer, made an explicit
    V (unit diagonal, zeros above), feeds larft and larfb with unit stride.  The copies
    cost 2 m QR_NB per panel against 2 m QR_NB^2 flops.  A column-major A (rsa == 1,
    as TSQR's row blocks are) is already in that form: its panels are factored in
    place, V made explicit there for larft and larfb and R put back (v_explicit,
    v_restore); the same operations on the same numbers, without the copies.
    Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t k = imin(m, n), j, jb, p, i, c, mj, nb = QR_NB, ldp
    cdef bint in_place = rsa == 1
    cdef real* v
    cdef real* pb
    cdef real* t
    cdef real* w
    cdef real* saved
    cdef int info = INFO_OK
    # pb: the panel (m x nb, column-major; R's saved top triangle when in place) |
    # W (nb x n) | T when tbuf is NULL (nb^2)
    pb = <real*>aligned_alloc64(((nb * nb if in_place else m * nb) + nb * n + nb * nb)
                                * sizeof(real))
    if pb == NULL:
        return INFO_NO_MEMORY
    w = pb + (nb * nb if in_place else m * nb)
    saved = pb
    for p in range((k + nb - 1) // nb):
        j = p * nb
        jb = imin(nb, k - j)
        mj = m - j
        if in_place:                                                               # 1.
            v = a + j * (1 + csa)
            ldp = csa
            geqr2(mj, jb, v, 1, ldp, tau + j, w)
        else:
            v = pb
            ldp = mj
            copy_strided(mj, jb, a + j * rsa + j * csa, rsa, csa, pb, 1, mj)
            geqr2(mj, jb, pb, 1, mj, tau + j, w)
            copy_strided(mj, jb, pb, 1, mj, a + j * rsa + j * csa, rsa, csa)
        if j + jb >= n and tbuf == NULL:
            break
        if in_place:                                         # V explicit in A
            v_explicit(jb, v, 1, ldp, saved)
        else:                                                # V explicit in the buffer
            for c in range(jb):
                for i in range(c):
                    pb[c * mj + i] = 0
                pb[c * mj + c] = 1
        t = tbuf + p * nb * nb if tbuf != NULL else w + nb * n
        info = larft(mj, jb, v, 1, ldp, tau + j, t, nb, n_threads)                 # 2.
        if info == INFO_OK and j + jb < n:                                          # 3.-5.
            info = larfb(True, mj, n - j - jb, jb, v, 1, ldp, t, nb,
                         a + j * rsa + (j + jb) * csa, rsa, csa, w, n_threads)
        if in_place:
            v_restore(jb, v, 1, ldp, saved)
        if info != INFO_OK:
            break
    aligned_free(pb)
    return info


cdef inline int apply_q(Py_ssize_t m, Py_ssize_t nc, Py_ssize_t k, real* a, Py_ssize_t rsa,
                        Py_ssize_t csa, const real* tbuf, real* c, Py_ssize_t rsc,
                        Py_ssize_t csc, int n_threads) noexcept nogil:
    """C := H_0 ... H_{k-1} C (m x nc), blocked on geqrf's T blocks, panels last to
    first (LAPACK ormqr, left, no transpose).

    # IN  A and tbuf from geqrf (A is used as scratch and restored)
    Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t j, jb, p, nb = QR_NB
    cdef real* saved
    cdef real* w
    cdef int info = INFO_OK
    if k == 0:
        return INFO_OK
    saved = <real*>aligned_alloc64((nb * nb + nb * nc) * sizeof(real))
    if saved == NULL:
        return INFO_NO_MEMORY
    w = saved + nb * nb
    for p in range((k - 1) // nb, -1, -1):
        j = p * nb
        jb = imin(nb, k - j)
        v_explicit(jb, a + j * rsa + j * csa, rsa, csa, saved)
        info = larfb(False, m - j, nc, jb, a + j * rsa + j * csa, rsa, csa,
                     tbuf + p * nb * nb, nb, c + j * rsc, rsc, csc, w, n_threads)
        v_restore(jb, a + j * rsa + j * csa, rsa, csa, saved)
        if info != INFO_OK:
            break
    aligned_free(saved)
    return info


cdef inline int orgqr(Py_ssize_t m, Py_ssize_t mc, Py_ssize_t k, real* a, Py_ssize_t rsa,
                      Py_ssize_t csa, const real* tau, real* q, Py_ssize_t rsq,
                      Py_ssize_t csq, int n_threads) noexcept nogil:
    """Q := H_0 ... H_{k-1} [I; 0] (m x mc, k <= mc <= m), blocked (LAPACK orgqr,
    4mnk - 2(m+n)k^2 + 4k^3/3 flops): panels of QR_NB_Q reflectors last to first,
    Q[j:, j:] := (I - V T V^T) Q[j:, j:], T from larft.  Wider than geqrf's panels:
    here every flop but T's is in the two GEMMs of larfb, whose rank-QR_NB_Q update
    runs faster the deeper it is, and T costs only m QR_NB_Q^2 more per panel.

    # IN  A, tau from geqrf (A is used as scratch and restored)
    Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t i, j, jb, p, nb = QR_NB_Q
    cdef real* saved
    cdef real* t
    cdef real* w
    cdef int info = INFO_OK
    for i in range(m):
        for j in range(mc):
            q[i * rsq + j * csq] = 1 if i == j else 0
    if k == 0:
        return INFO_OK
    saved = <real*>aligned_alloc64((2 * nb * nb + nb * mc) * sizeof(real))
    if saved == NULL:
        return INFO_NO_MEMORY
    t = saved + nb * nb
    w = t + nb * nb
    for p in range((k - 1) // nb, -1, -1):
        j = p * nb
        jb = imin(nb, k - j)
        v_explicit(jb, a + j * rsa + j * csa, rsa, csa, saved)
        info = larft(m - j, jb, a + j * rsa + j * csa, rsa, csa, tau + j, t, nb, n_threads)
        if info == INFO_OK:
            info = larfb(False, m - j, mc - j, jb, a + j * rsa + j * csa, rsa, csa, t, nb,
                         q + j * rsq + j * csq, rsq, csq, w, n_threads)
        v_restore(jb, a + j * rsa + j * csa, rsa, csa, saved)
        if info != INFO_OK:
            break
    aligned_free(saved)
    return info


# ------------------------------------------------------------------ tall-skinny

cdef inline Py_ssize_t tsqr_rows(Py_ssize_t n) noexcept nogil:
    """Rows per TSQR block: TSQR_BLOCK elements (an L2-resident block), at least 2n."""
    return max(2 * n, TSQR_BLOCK // max(n, 1))


cdef inline int _tsqr_block(Py_ssize_t i, Py_ssize_t b, Py_ssize_t nblk, Py_ssize_t m,
                            Py_ssize_t n, const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                            Py_ssize_t na, const real* e, Py_ssize_t rse, Py_ssize_t cse,
                            const Py_ssize_t* perm, real* ci, real* taus, real* tbufs,
                            real* s, bint keep_t) noexcept nogil:
    """Copy block i of [A E] (rows i*b.., the last block takes the remainder; A's na
    columns, then E's n - na; row r is row perm[r] of the input when perm is not
    NULL) column-major into ci, factor it there and copy its R into rows i*n.. of
    the stack s
    (n wide, zeros below the diagonal).  Column-major, because the block's n columns
    are long and its rows short: geqr2's reflectors then run as dot products and
    axpys along whole columns, the GEMMs of geqrf read V with unit stride.  The T
    factors of all panels are kept in tbufs only if keep_t (the block's Q is applied
    later); otherwise geqrf skips the last panel's T, which nothing uses."""
    cdef Py_ssize_t rows = b if i < nblk - 1 else m - (nblk - 1) * b, r, c
    cdef const real* ai = a + i * b * rsa
    cdef int info
    if perm != NULL:
        gather_rows(rows, na, a, rsa, csa, perm + i * b, ci, rows)
        if na < n:
            gather_rows(rows, n - na, e, rse, cse, perm + i * b, ci + na * rows, rows)
    else:
        copy_strided(rows, na, ai, rsa, csa, ci, 1, rows)
        if na < n:
            copy_strided(rows, n - na, e + i * b * rse, rse, cse, ci + na * rows, 1, rows)
    info = geqrf(rows, n, ci, 1, rows, taus + i * n,
                 tbufs + i * qr_t_size(n, n) if keep_t else NULL, 1)
    for r in range(n):
        for c in range(n):
            s[(i * n + r) * n + c] = ci[c * rows + r] if c >= r else 0
    return info


cdef inline int _tsqr_q_block(Py_ssize_t i, Py_ssize_t b, Py_ssize_t nblk, Py_ssize_t m,
                              Py_ssize_t n, real* cb, const real* tbufs, const real* qs,
                              real* qi) noexcept nogil:
    """qi (block i's rows x n, row-major) := H^(i) [qs[i*n:(i+1)*n]; 0], block i's rows
    of Q_tsqr."""
    cdef Py_ssize_t rows = b if i < nblk - 1 else m - (nblk - 1) * b, r, c
    for r in range(rows):
        for c in range(n):
            qi[r * n + c] = qs[(i * n + r) * n + c] if r < n else 0
    return apply_q(rows, n, n, cb + i * b * n, 1, rows, tbufs + i * qr_t_size(n, n),
                   qi, n, 1, 1)


cdef inline void householder_signs(Py_ssize_t n, real* u, Py_ssize_t ldu, real* sgn) noexcept nogil:
    """sgn[k] = -sign(u_kk) in an LU without pivoting of U - diag(sgn) (u destroyed):
    for U the top n x n block of a Q with orthonormal columns, Q diag(sgn) is the Q of
    Householder QR with LAPACK's sign choice (Ballard et al. 2015, module docstring)."""
    cdef Py_ssize_t k, i, j
    cdef real piv, l
    for k in range(n):
        sgn[k] = -1 if u[k * ldu + k] >= 0 else 1
        piv = u[k * ldu + k] - sgn[k]
        for i in range(k + 1, n):
            l = u[i * ldu + k] / piv
            for j in range(k + 1, n):
                u[i * ldu + j] -= l * u[k * ldu + j]


cdef inline real* _tsqr_slot(Py_ssize_t i, int tid, Py_ssize_t b, Py_ssize_t n, real* cb,
                             bint keep) noexcept nogil:
    """Where block i is factored: its own place when Q is wanted (or i == 0), else the
    buffer of thread tid (tsqr_begin's workspace layout)."""
    if keep:
        return cb + i * b * n
    if i == 0:
        return cb
    return cb + (b + tid * 2 * b) * n


cdef inline bint tsqr_fits(Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """Whether tsqr takes an m x n matrix: at most TSQR_MAX_N columns, two row blocks."""
    return 0 < n <= TSQR_MAX_N and m >= 2 * tsqr_rows(n)


cdef struct TsqrState:
    # What tsqr_begin keeps for tsqr_q: one allocation (tsqr_begin's layout), the
    # row-block size and count, and whether every block's reflectors are kept.
    void* cb
    Py_ssize_t b
    Py_ssize_t nblk
    Py_ssize_t nkeep
    bint keep


cdef inline int tsqr(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                     Py_ssize_t csa, real* r, real* q, int n_threads) noexcept nogil:
    """R (n x n, row-major) and, if q is not NULL, Q (m x n, row-major) of a tall A
    (tsqr_fits(m, n)), equal to Householder QR's (module docstring): tsqr_begin,
    tsqr_q, tsqr_end.  Returns INFO_OK or INFO_NO_MEMORY."""
    cdef TsqrState st
    cdef int info = tsqr_begin(m, n, a, rsa, csa, n, NULL, 0, 0, NULL, r, q != NULL, True,
                               &st, n_threads)
    if info == INFO_OK and q != NULL:
        info = tsqr_q(m, n, &st, <real*>NULL, q, n_threads)
    tsqr_end(&st)
    return info


cdef inline int tsqr_begin(Py_ssize_t m, Py_ssize_t n, const real* a, Py_ssize_t rsa,
                           Py_ssize_t csa, Py_ssize_t na, const real* e, Py_ssize_t rse,
                           Py_ssize_t cse, const Py_ssize_t* perm, real* r, bint keep,
                           bint signs, TsqrState* st, int n_threads) noexcept nogil:
    """R (n x n, row-major) of a tall A (tsqr_fits(m, n); a single row block, m below
    tsqr_rows(n), works too: that is geqrf on a column-major copy), keeping in st
    what tsqr_q needs to apply Q (keep) or only to fix R's signs; release st with
    tsqr_end (also after a failure).

    # IN  A (m x n, any strides; only read): its first na columns at a, the other
    #     n - na (e.g. least squares' right-hand sides) at e (strides rse, cse);
    #     with perm (not NULL), row i of the factored matrix is row perm[i] of [A E]
    1. every block of tsqr_rows(n) rows: geqrf in cache, one thread per block;
    2. the stacked R factors (nblk*n x n): geqrf -> R_tsqr; its Q_s explicitly;
    3. if signs: S from the top n x n of Q_tsqr (block 0's rows: H^(0) [Q_s block 0;
       0]), R = S R_tsqr and Q = Q_tsqr S (tsqr_q), Householder QR's R; else S = I, for
       users that need R only up to its rows' signs (the SVD): step 3 forms block 0
       of Q, which at n = 5 took half the time.
    Flops: 2mn^2 plus O(m n^2 / b) for the stack.
    Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef Py_ssize_t b = imin(tsqr_rows(n), m), nblk = m // b, i, c, tsz = qr_t_size(n, n)
    cdef Py_ssize_t ns = nblk * n, nkeep
    cdef int failures = 0, tid
    cdef real* cb
    cdef real* taus
    cdef real* tbufs
    cdef real* s
    cdef real* tau_s
    cdef real* qs
    cdef real* sgn
    cdef real* q0
    n_threads = <int>imin(n_threads, nblk)
    st.b = b
    st.nblk = nblk
    st.keep = keep
    # The blocks' reflectors are kept for Q (all blocks: m x n), else only block 0's
    # (for the signs) plus one block buffer per thread (2b rows: the last block's).
    nkeep = m * n if keep else (b + 2 * b * n_threads) * n
    st.nkeep = nkeep
    # one allocation: blocks | taus | tbufs | stack | tau_s | Q_s | signs | Q block 0
    # (| Q_s S Y for tsqr_q)
    cb = <real*>aligned_alloc64((nkeep + nblk * n + nblk * tsz + ns * n + n + ns * n + n
                                 + (m - (nblk - 1) * b) * n + (ns * n if keep else 0))
                                * sizeof(real))
    st.cb = cb
    if cb == NULL:
        return INFO_NO_MEMORY
    if keep:                                # every block kept: m x n written once
        advise_huge_pages(cb, nkeep * sizeof(real))
    _tsqr_parts(m, n, st, &taus, &tbufs, &s, &tau_s, &qs, &sgn, &q0)
    if n_threads > 1:
        for i in prange(nblk, num_threads=n_threads, schedule='dynamic'):
            tid = threadid()
            if _tsqr_block(i, b, nblk, m, n, a, rsa, csa, na, e, rse, cse, perm,
                           _tsqr_slot(i, tid, b, n, cb, keep),
                           taus, tbufs, s, keep or (signs and i == 0)) != INFO_OK:
                failures += 1
    else:
        for i in range(nblk):
            if _tsqr_block(i, b, nblk, m, n, a, rsa, csa, na, e, rse, cse, perm,
                           _tsqr_slot(i, 0, b, n, cb, keep),
                           taus, tbufs, s, keep or (signs and i == 0)) != INFO_OK:
                failures += 1
    if failures or geqrf(ns, n, s, n, 1, tau_s, NULL, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    if (keep or signs) and orgqr(ns, n, n, s, n, 1, tau_s, qs, n, 1, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    if signs and _tsqr_q_block(0, b, nblk, m, n, cb, tbufs, qs, q0) != INFO_OK:
        return INFO_NO_MEMORY
    for i in range(n):                      # R_tsqr, then the signs from Q's top
        for c in range(n):
            r[i * n + c] = s[i * n + c] if c >= i else 0
    if signs:
        householder_signs(n, q0, n, sgn)
    else:
        for i in range(n):
            sgn[i] = 1
    for i in range(n):
        for c in range(n):
            r[i * n + c] *= sgn[i]
    return INFO_OK


cdef inline int tsqr_q(Py_ssize_t m, Py_ssize_t n, TsqrState* st, const real* y,
                       real* q, int n_threads) noexcept nogil:
    """q (m x n, row-major) := Q Y for the Q of tsqr_begin(keep) and an n x n Y
    (row-major; NULL: Q itself).  Block i of Q Y is H^(i) [(Q_s S Y) block i; 0]:
    Y is folded into the small Q_s (nblk*n x n), so Q Y costs what Q does, where
    forming Q and then multiplying by Y costs 2mn^2 flops more and a trip of the
    m x n product through memory.  Returns INFO_OK or INFO_NO_MEMORY."""
    cdef Py_ssize_t b = st.b, nblk = st.nblk, ns = nblk * n, i, c
    cdef int failures = 0
    cdef real* taus
    cdef real* tbufs
    cdef real* s
    cdef real* tau_s
    cdef real* qs
    cdef real* sgn
    cdef real* q0
    cdef real* zs
    _tsqr_parts(m, n, st, &taus, &tbufs, &s, &tau_s, &qs, &sgn, &q0)
    zs = q0 + (m - (nblk - 1) * b) * n
    for i in range(ns):                     # Q_s S
        for c in range(n):
            zs[i * n + c] = qs[i * n + c] * sgn[c]
    if y != NULL:                           # (Q_s S) Y, through qs (no longer needed)
        for i in range(ns * n):
            qs[i] = zs[i]
        if gemm(ns, n, n, 1, qs, n, 1, y, n, 1, 0, zs, n, 1, n_threads) != INFO_OK:
            return INFO_NO_MEMORY
    n_threads = <int>imin(n_threads, nblk)
    if n_threads > 1:
        for i in prange(nblk, num_threads=n_threads, schedule='dynamic'):
            if _tsqr_q_block(i, b, nblk, m, n, <real*>st.cb, tbufs, zs, q + i * b * n) != INFO_OK:
                failures += 1
    else:
        for i in range(nblk):
            if _tsqr_q_block(i, b, nblk, m, n, <real*>st.cb, tbufs, zs, q + i * b * n) != INFO_OK:
                failures += 1
    return INFO_NO_MEMORY if failures else INFO_OK


cdef inline void tsqr_end(TsqrState* st) noexcept nogil:
    aligned_free(st.cb)
    st.cb = NULL


cdef inline void _tsqr_parts(Py_ssize_t m, Py_ssize_t n, const TsqrState* st, real** taus,
                             real** tbufs, real** s, real** tau_s, real** qs, real** sgn,
                             real** q0) noexcept nogil:
    """The pieces of tsqr_begin's allocation (its layout)."""
    cdef Py_ssize_t nblk = st.nblk, ns = nblk * n
    taus[0] = <real*>st.cb + st.nkeep
    tbufs[0] = taus[0] + nblk * n
    s[0] = tbufs[0] + nblk * qr_t_size(n, n)
    tau_s[0] = s[0] + ns * n
    qs[0] = tau_s[0] + n
    sgn[0] = qs[0] + ns * n
    q0[0] = sgn[0] + n


# ------------------------------------------------- stacks of small matrices, in lanes
#
# As in lu.pxd: a group holds QR_LANES k x k matrices interleaved, element (i, j) of
# matrix l at x[(i*k + j)*QR_LANES + l], so every loop over l is one vector operation
# and k (a fixed_k tag of gemm.pxd) is a literal in each compiled copy.  The lanes
# always compute in double: the float32 results are double computations rounded once
# (numpy's rule), and a float32 group costs the same vector work.  QR_LANES = 16 (two
# zmm of doubles): the column norms and the dot products of the reflector updates are
# chains of dependent multiply-adds, and two vectors per element run two chains at
# once.  Measured (qr, float64, one thread, 100000 x k x k, ns per matrix, 'r' /
# 'reduced'), 4 lanes -> 16 lanes: k = 4 69 / 91 -> 50 / 66, k = 8 244 / 374 -> 220 /
# 351, then with each matrix read as one contiguous run (qr.pyx) k = 8 205 / 371;
# k = 3 with that read 30 / 50 -> 24 / 44; k = 16 unchanged (890 / 1600).

cdef enum:
    QR_LANES = 16


cdef inline void geqr2_lanes(fixed_k* size, double* x, double* tau) noexcept nogil:
    """geqr2 on the QR_LANES interleaved k x k matrices of x; tau[j*QR_LANES + l].

    The reflector of every lane is formed with vector arithmetic as larfg does when
    no scaling is needed: beta = -sign(alpha) sqrt(alpha^2 + ||x||^2), tau = (beta -
    alpha) / beta, v = x / (alpha - beta).  A lane whose sum of squares is outside
    nrm2's safe range (tiny, huge, Inf or NaN entries) is left alone by the vector
    step and given to the scalar householder, so every lane's result depends on its
    own matrix only.  Whether the column below the diagonal is zero is decided by the
    sum of |x|, not of x^2, which underflows to 0 for entries below 1e-154.
    """
    cdef Py_ssize_t k = fixed_size(size), j, i, c, l, ld = k * QR_LANES
    cdef double ss[QR_LANES]
    cdef double sa[QR_LANES]
    cdef double sc[QR_LANES]
    cdef double tj[QR_LANES]
    cdef double w[QR_LANES]
    cdef bint unsafe[QR_LANES]
    cdef bint any_unsafe, ok
    cdef double alpha, beta, s
    for l in range(QR_LANES):
        tau[(k - 1) * QR_LANES + l] = 0          # a 1-vector needs no reflector
    for j in range(k - 1):
        for l in range(QR_LANES):
            ss[l] = 0
            sa[l] = 0
        for i in range(j + 1, k):
            for l in range(QR_LANES):
                ss[l] += x[i * ld + j * QR_LANES + l] * x[i * ld + j * QR_LANES + l]
                sa[l] += fabs(x[i * ld + j * QR_LANES + l])
        # Branch-free over the lanes (blends, not jumps), so it stays one vector op.
        for l in range(QR_LANES):
            alpha = x[j * ld + j * QR_LANES + l]
            s = alpha * alpha + ss[l]
            ok = ss[l] != 0 and NRM2_LO_D <= s and s <= NRM2_HI_D
            unsafe[l] = sa[l] != 0 and not ok
            beta = -copysign(sqrt(s), alpha)
            tj[l] = (beta - alpha) / beta if ok else 0
            sc[l] = 1 / (alpha - beta) if ok else 1
            x[j * ld + j * QR_LANES + l] = beta if ok else alpha
        any_unsafe = False
        for l in range(QR_LANES):
            any_unsafe = any_unsafe or unsafe[l]
        for i in range(j + 1, k):
            for l in range(QR_LANES):
                x[i * ld + j * QR_LANES + l] *= sc[l]
        if any_unsafe:
            for l in range(QR_LANES):
                if unsafe[l]:
                    tj[l] = householder(k - j, x + j * ld + j * QR_LANES + l,
                                        x + (j + 1) * ld + j * QR_LANES + l, ld)
        for l in range(QR_LANES):
            tau[j * QR_LANES + l] = tj[l]
        # x[j:, c] := H_j x[j:, c] for the columns right of j
        for c in range(j + 1, k):
            for l in range(QR_LANES):
                w[l] = x[j * ld + c * QR_LANES + l]
            for i in range(j + 1, k):
                for l in range(QR_LANES):
                    w[l] += x[i * ld + j * QR_LANES + l] * x[i * ld + c * QR_LANES + l]
            for l in range(QR_LANES):
                w[l] *= tj[l]
                x[j * ld + c * QR_LANES + l] -= w[l]
            for i in range(j + 1, k):
                for l in range(QR_LANES):
                    x[i * ld + c * QR_LANES + l] -= x[i * ld + j * QR_LANES + l] * w[l]


cdef inline void org2r_lanes(fixed_k* size, const double* x, const double* tau,
                             double* q) noexcept nogil:
    """q := Q = H_0 ... H_{k-2} of the QR_LANES interleaved factorizations in x
    (org2r: I, then H_i applied to q[i:, i:] for i = k-2 down to 0; its column i is
    still e_i then, so it is written directly, as LAPACK's org2r does)."""
    cdef Py_ssize_t k = fixed_size(size), i, r, c, l, ld = k * QR_LANES
    cdef double w[QR_LANES]
    for i in range(k * ld):
        q[i] = 0
    for r in range(k):
        for l in range(QR_LANES):
            q[r * ld + r * QR_LANES + l] = 1
    for i in range(k - 2, -1, -1):
        # column i is still e_i: H_i e_i = e_i - tau_i v_i, no dot product needed
        for l in range(QR_LANES):
            q[i * ld + i * QR_LANES + l] = 1 - tau[i * QR_LANES + l]
        for r in range(i + 1, k):
            for l in range(QR_LANES):
                q[r * ld + i * QR_LANES + l] = -tau[i * QR_LANES + l] * x[r * ld + i * QR_LANES + l]
        for c in range(i + 1, k):
            for l in range(QR_LANES):
                w[l] = q[i * ld + c * QR_LANES + l]
            for r in range(i + 1, k):
                for l in range(QR_LANES):
                    w[l] += x[r * ld + i * QR_LANES + l] * q[r * ld + c * QR_LANES + l]
            for l in range(QR_LANES):
                w[l] *= tau[i * QR_LANES + l]
                q[i * ld + c * QR_LANES + l] -= w[l]
            for r in range(i + 1, k):
                for l in range(QR_LANES):
                    q[r * ld + c * QR_LANES + l] -= x[r * ld + i * QR_LANES + l] * w[l]

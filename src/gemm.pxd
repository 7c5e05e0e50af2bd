"""General matrix multiply, C := alpha*A*B + beta*C, the BLIS way.

Algorithm: Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication",
ACM TOMS 34(3), 2008, as refactored by BLIS (Van Zee & van de Geijn, ACM TOMS 41(3),
2015): five loops around a register-blocked micro-kernel.  2*m*n*k flops.

    jc: for each NC-wide column panel of B and C            (B panel lives in L3)
      pc: for each KC-deep slice of k:  pack B[pc, jc] -> bbuf   (KC x NC)
        ic: for each MC-tall row block:  pack A[ic, pc] -> abuf  (MC x KC, L2)
          macro-kernel:
            ir: for each MR-row sliver of abuf              (MR x KC, L1)
              jr: for each NR-column sliver of bbuf          (KC x NR)
                micro-kernel: C[ir, jr] (MR x NR) += sliver_a * sliver_b

Packing copies each operand once per use into the exact order the micro-kernel
reads it (unit stride, 64-byte aligned, zero-padded to whole MR / NR slivers), so
the kernel accepts any strides (C or Fortran order, transposed views, negative
strides) at no extra cost and edge tiles need no special loop.  The ic loop runs in
parallel (one packed-A buffer per thread, one shared B panel) when the product is
large enough to pay for an OpenMP region.  Block sizes and their derivation are in
_blocking.pxd.

Small products (m*n*k <= GEMM_SMALL_MNK) skip packing: gemm_small is a plain
i-p-j loop whose inner j loop vectorises along rows of B and C.

Contract for every function here: strides are in elements (row stride before column
stride, as BLAS's lda); beta == 0 means C is overwritten and never read, so NaN in
an uninitialised C cannot leak into the result.  NaN and Inf in A or B propagate as
IEEE arithmetic dictates (the zero padding of edge slivers never reaches C).
"""

from cython.parallel cimport prange, threadid

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport (GEMM_MR_D, GEMM_NR_D, GEMM_MR_S, GEMM_NR_S, GEMM_MR_MAX,
                        GEMM_NR_MAX, GEMM_KC, GEMM_MC, GEMM_NC, GEMM_SMALL_MNK,
                        PARALLEL_MIN_MNK)
from _memory cimport aligned_alloc64, aligned_free


cdef inline Py_ssize_t imin(Py_ssize_t x, Py_ssize_t y) noexcept nogil:
    return x if x < y else y


cdef inline Py_ssize_t iabs(Py_ssize_t x) noexcept nogil:
    return -x if x < 0 else x


cdef inline Py_ssize_t round_up(Py_ssize_t x, Py_ssize_t step) noexcept nogil:
    return (x + step - 1) // step * step


cdef inline void gemm_ukr(Py_ssize_t kc, real alpha, const real* a, const real* b,
                          real beta, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                          Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """C[:m, :n] := alpha * (a_sliver @ b_sliver)[:m, :n] + beta * C[:m, :n].

    a is an MR x kc sliver stored k-major (a[p*MR + i]); b a kc x NR sliver (b[p*NR + j]).
    The tile is accumulated in `acc`, whose innermost loop runs over NR: GCC turns
    each row into NR/W vector registers and each k step into MR*NR/W FMAs with the
    A element broadcast (W = 8 doubles or 16 floats per zmm).  tests/test_kernels.py
    checks the compiled code for those FMAs, so a refactor cannot silently lose 10x.
    """
    cdef real acc[GEMM_MR_MAX * GEMM_NR_MAX]
    cdef Py_ssize_t mr, nr, i, j, p
    cdef real ai
    if real is double:
        mr = GEMM_MR_D
        nr = GEMM_NR_D
    else:
        mr = GEMM_MR_S
        nr = GEMM_NR_S
    for i in range(mr * nr):
        acc[i] = 0
    for p in range(kc):
        for i in range(mr):
            ai = a[p * mr + i]
            for j in range(nr):
                acc[i * nr + j] += ai * b[p * nr + j]

    if m == mr and n == nr and csc == 1:
        if beta == 0:
            for i in range(mr):
                for j in range(nr):
                    c[i * rsc + j] = alpha * acc[i * nr + j]
        else:
            for i in range(mr):
                for j in range(nr):
                    c[i * rsc + j] = beta * c[i * rsc + j] + alpha * acc[i * nr + j]
    elif beta == 0:
        for i in range(m):
            for j in range(n):
                c[i * rsc + j * csc] = alpha * acc[i * nr + j]
    else:
        for i in range(m):
            for j in range(n):
                c[i * rsc + j * csc] = beta * c[i * rsc + j * csc] + alpha * acc[i * nr + j]


cdef inline void pack_a(Py_ssize_t mc, Py_ssize_t kc, const real* a, Py_ssize_t rsa,
                        Py_ssize_t csa, real* buf) noexcept nogil:
    """buf := A[:mc, :kc] as ceil(mc/MR) slivers of kc x MR (buf[p*MR + i]), zero-padded."""
    cdef Py_ssize_t mr, ir, ir_blk, m_cur, i, p
    cdef real* sliver
    cdef const real* ap
    if real is double:
        mr = GEMM_MR_D
    else:
        mr = GEMM_MR_S
    for ir_blk in range((mc + mr - 1) // mr):
        ir = ir_blk * mr
        m_cur = imin(mr, mc - ir)
        sliver = buf + ir * kc
        ap = a + ir * rsa
        if iabs(csa) <= iabs(rsa):          # walk each row of A along its stride
            for i in range(m_cur):
                for p in range(kc):
                    sliver[p * mr + i] = ap[i * rsa + p * csa]
        else:                               # walk each column of A
            for p in range(kc):
                for i in range(m_cur):
                    sliver[p * mr + i] = ap[i * rsa + p * csa]
        for p in range(kc):
            for i in range(m_cur, mr):
                sliver[p * mr + i] = 0


cdef inline void pack_b_sliver(Py_ssize_t kc, Py_ssize_t n_cur, const real* b,
                               Py_ssize_t rsb, Py_ssize_t csb, real* sliver) noexcept nogil:
    """sliver := B[:kc, :n_cur] as one kc x NR block (sliver[p*NR + j]), zero-padded."""
    cdef Py_ssize_t nr, j, p
    if real is double:
        nr = GEMM_NR_D
    else:
        nr = GEMM_NR_S
    if iabs(csb) <= iabs(rsb):              # walk each row of B
        for p in range(kc):
            for j in range(n_cur):
                sliver[p * nr + j] = b[p * rsb + j * csb]
            for j in range(n_cur, nr):
                sliver[p * nr + j] = 0
    else:                                   # walk each column of B
        for j in range(n_cur):
            for p in range(kc):
                sliver[p * nr + j] = b[p * rsb + j * csb]
        for p in range(kc):
            for j in range(n_cur, nr):
                sliver[p * nr + j] = 0


cdef inline void gemm_macro(Py_ssize_t mc, Py_ssize_t nc, Py_ssize_t kc, real alpha,
                            const real* abuf, const real* bbuf, real beta,
                            real* c, Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil:
    """C[:mc, :nc] := alpha * abuf @ bbuf + beta * C: the ir and jr loops over packed panels."""
    cdef Py_ssize_t mr, nr, ir, jr, ir_blk, jr_blk
    if real is double:
        mr = GEMM_MR_D
        nr = GEMM_NR_D
    else:
        mr = GEMM_MR_S
        nr = GEMM_NR_S
    for jr_blk in range((nc + nr - 1) // nr):
        jr = jr_blk * nr
        for ir_blk in range((mc + mr - 1) // mr):
            ir = ir_blk * mr
            gemm_ukr(kc, alpha, abuf + ir * kc, bbuf + jr * kc, beta,
                     c + ir * rsc + jr * csc, rsc, csc, imin(mr, mc - ir), imin(nr, nc - jr))


cdef inline void scale_c(Py_ssize_t m, Py_ssize_t n, real beta, real* c,
                         Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil:
    """C := beta * C, with beta == 0 writing zeros (never reading C)."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            if beta == 0:
                c[i * rsc + j * csc] = 0
            else:
                c[i * rsc + j * csc] = beta * c[i * rsc + j * csc]


cdef inline void gemm_small(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, real alpha,
                            const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                            const real* b, Py_ssize_t rsb, Py_ssize_t csb,
                            real beta, real* c, Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil:
    """C := alpha*A*B + beta*C without packing, for products too small to amortise it.

    Row i of C is built as sum_p A[i,p] * B[p,:] (an axpy per p), so the inner loop
    runs along rows of B and C and vectorises when both have unit column stride.
    """
    cdef Py_ssize_t i, j, p
    cdef real aip
    cdef real* ci
    cdef const real* bp
    scale_c(m, n, beta, c, rsc, csc)
    for i in range(m):
        ci = c + i * rsc
        for p in range(k):
            aip = alpha * a[i * rsa + p * csa]
            bp = b + p * rsb
            if csb == 1 and csc == 1:
                for j in range(n):
                    ci[j] += aip * bp[j]
            else:
                for j in range(n):
                    ci[j * csc] += aip * bp[j * csb]


cdef inline int gemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, real alpha,
                     const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                     const real* b, Py_ssize_t rsb, Py_ssize_t csb,
                     real beta, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                     int n_threads) noexcept nogil:
    """C := alpha*A*B + beta*C for A (m x k), B (k x n), C (m x n); any strides.

    Returns INFO_OK, or INFO_NO_MEMORY if the packing workspace cannot be allocated
    (C is then unchanged).  n_threads > 1 lets the ic loop run in parallel when the
    product is large enough (PARALLEL_MIN_MNK) to pay for the OpenMP region.
    """
    cdef Py_ssize_t mr, nr, mc, n_ic, jc, pc, jc_blk, pc_blk, ic, ib, jb, n_jr, nc_cur, kc_cur, mc_cur
    cdef real beta_cur
    cdef real* abuf
    cdef real* bbuf
    cdef real* abuf_t
    if m == 0 or n == 0:
        return INFO_OK
    if k == 0 or alpha == 0:
        scale_c(m, n, beta, c, rsc, csc)
        return INFO_OK
    if m * n * k <= GEMM_SMALL_MNK:
        gemm_small(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        return INFO_OK
    if real is double:
        mr = GEMM_MR_D
        nr = GEMM_NR_D
    else:
        mr = GEMM_MR_S
        nr = GEMM_NR_S
    if n_threads < 1 or m * n * k < PARALLEL_MIN_MNK:
        n_threads = 1
    # Rows per A block: MC, or fewer so that every thread gets a block.
    mc = imin(GEMM_MC, round_up((m + n_threads - 1) // n_threads, mr))
    n_ic = (m + mc - 1) // mc
    if n_ic < n_threads:
        n_threads = <int>n_ic

    abuf = <real*>aligned_alloc64(n_threads * mc * GEMM_KC * sizeof(real))
    bbuf = <real*>aligned_alloc64(round_up(imin(n, GEMM_NC), nr) * GEMM_KC * sizeof(real))
    if abuf == NULL or bbuf == NULL:
        aligned_free(abuf)
        aligned_free(bbuf)
        return INFO_NO_MEMORY

    for jc_blk in range((n + GEMM_NC - 1) // GEMM_NC):
        jc = jc_blk * GEMM_NC
        nc_cur = imin(GEMM_NC, n - jc)
        n_jr = (nc_cur + nr - 1) // nr
        for pc_blk in range((k + GEMM_KC - 1) // GEMM_KC):
            pc = pc_blk * GEMM_KC
            kc_cur = imin(GEMM_KC, k - pc)
            beta_cur = beta if pc == 0 else 1     # later k slices accumulate
            if n_threads == 1:
                for jb in range(n_jr):
                    pack_b_sliver(kc_cur, imin(nr, nc_cur - jb * nr),
                                  b + pc * rsb + (jc + jb * nr) * csb, rsb, csb,
                                  bbuf + jb * nr * kc_cur)
                for ib in range(n_ic):
                    ic = ib * mc
                    mc_cur = imin(mc, m - ic)
                    pack_a(mc_cur, kc_cur, a + ic * rsa + pc * csa, rsa, csa, abuf)
                    gemm_macro(mc_cur, nc_cur, kc_cur, alpha, abuf, bbuf, beta_cur,
                               c + ic * rsc + jc * csc, rsc, csc)
            else:
                for jb in prange(n_jr, num_threads=n_threads, schedule='static'):
                    pack_b_sliver(kc_cur, imin(nr, nc_cur - jb * nr),
                                  b + pc * rsb + (jc + jb * nr) * csb, rsb, csb,
                                  bbuf + jb * nr * kc_cur)
                for ib in prange(n_ic, num_threads=n_threads, schedule='static'):
                    abuf_t = abuf + threadid() * mc * GEMM_KC
                    mc_cur = imin(mc, m - ib * mc)
                    pack_a(mc_cur, kc_cur, a + ib * mc * rsa + pc * csa, rsa, csa, abuf_t)
                    gemm_macro(mc_cur, nc_cur, kc_cur, alpha, abuf_t, bbuf, beta_cur,
                               c + ib * mc * rsc + jc * csc, rsc, csc)
    aligned_free(abuf)
    aligned_free(bbuf)
    return INFO_OK

"""General matrix multiply, C := alpha*A*B + beta*C, the BLIS way.

Algorithm: Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication",
ACM TOMS 34(3), 2008, as refactored by BLIS (Van Zee & van de Geijn, ACM TOMS 41(3),
2015): five loops around a register-blocked micro-kernel.  2*m*n*k flops.

    jc: for each NC-wide column panel of B and C
      pc: for each KC-deep slice of k:  pack B[pc, jc] -> bbuf   (KC x NC, stays in L2)
        ic: for each MC-tall row block:  pack A[ic, pc] -> abuf  (MC x KC; see below)
          macro-kernel:
            ir: for each MR-row sliver of abuf              (MR x KC, stays in L1)
              jr: for each NR-column sliver of bbuf          (KC x NR, from L2)
                micro-kernel: C[ir, jr] (MR x NR) += sliver_a * sliver_b

BLIS runs jr outside ir (a B sliver in L1, the A block in L2); here the A sliver is
outer because a 36-48 KiB B sliver does not fit in L1 beside anything else, which
was measured 10-20 % slower (_blocking.pxd has the numbers and the cache budget).

Packing copies an operand into the exact order the micro-kernel reads it (unit
stride, 64-byte aligned, zero-padded to whole MR / NR slivers), so the kernel
accepts any strides (C or Fortran order, transposed views, negative strides) and
edge tiles need no special loop.  B is always packed.  A is read in place when it
has a unit stride: an MR x KC sliver of row- or column-major A is already as
compact as a packed one (measured 5-10 % faster at n = 1024-2048 than packing it);
only its last, partial sliver is packed, so no row beyond m is ever read.  With several
threads (products above PARALLEL_MIN_MNK), C is cut into one block of rows or
columns per thread and each runs the five loops on its own block and workspace:
no shared panels, no barriers.

Small products skip packing: gemm_small (m*n*k <= GEMM_SMALL_MNK) accumulates four
rows of C at a time along rows of B; gemm_fixed serves k x k products with k <= 8,
16 and 32, compiled once per k so every loop has a literal trip count.

Contract for every function here: strides are in elements (row stride before column
stride, as BLAS's lda); beta == 0 means C is overwritten and never read, so NaN in
an uninitialised C cannot leak into the result.  NaN and Inf in A or B propagate as
IEEE arithmetic dictates (the zero padding of edge slivers never reaches C).
"""

from cython.parallel cimport prange

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport (GEMM_MR_D, GEMM_NR_D, GEMM_MR_S, GEMM_NR_S, GEMM_MR_MAX, SMALL_NB,
                        GEMM_NR_MAX, GEMM_KC, GEMM_MC, GEMM_NC, GEMM_SMALL_MNK,
                        PARALLEL_MIN_MNK)
from _memory cimport aligned_alloc64, aligned_free

cdef inline Py_ssize_t imin(Py_ssize_t x, Py_ssize_t y) noexcept nogil:
    return x if x < y else y


cdef inline Py_ssize_t imax(Py_ssize_t x, Py_ssize_t y) noexcept nogil:
    return x if x > y else y


cdef inline Py_ssize_t iabs(Py_ssize_t x) noexcept nogil:
    return -x if x < 0 else x


cdef inline Py_ssize_t round_up(Py_ssize_t x, Py_ssize_t step) noexcept nogil:
    return (x + step - 1) // step * step


cdef inline void gemm_ukr(Py_ssize_t kc, real alpha, const real* a, Py_ssize_t rsa,
                          Py_ssize_t csa, const real* b, real beta, real* c,
                          Py_ssize_t rsc, Py_ssize_t csc, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """C[:m, :n] := alpha * (a_sliver @ b_sliver)[:m, :n] + beta * C[:m, :n].

    a is an MR x kc sliver, a[i*rsa + p*csa]: packed (rsa = 1, csa = MR) or, when A
    has a unit stride, A itself; b a packed kc x NR sliver (b[p*NR + j]).
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
            ai = a[i * rsa + p * csa]
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
        if m_cur == mr and (rsa == 1 or csa == 1):
            # Full sliver, one unit stride: a fixed-length inner loop the compiler
            # turns into vector copies (column-major A) or gathers (row-major A).
            if rsa == 1:
                for p in range(kc):
                    for i in range(mr):
                        sliver[p * mr + i] = ap[i + p * csa]
            else:
                for p in range(kc):
                    for i in range(mr):
                        sliver[p * mr + i] = ap[i * rsa + p]
            continue
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
    if csb == 1 and n_cur == nr:            # rows of B contiguous: vector copies
        for p in range(kc):
            for j in range(nr):
                sliver[p * nr + j] = b[p * rsb + j]
    elif iabs(csb) <= iabs(rsb):            # walk each row of B
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
                            bint a_packed, const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                            real* edge, const real* bbuf, real beta,
                            real* c, Py_ssize_t rsc, Py_ssize_t csc) noexcept nogil:
    """C[:mc, :nc] := alpha * A @ bbuf + beta * C: the ir and jr loops.

    A (mc x kc) is either the packed block (a_packed: sliver ir at a + ir*kc) or, when
    it has a unit stride, read in place (a[i*rsa + p*csa]); then a last sliver of
    fewer than MR rows is packed into `edge` (MR x kc) so no row beyond mc is read.
    """
    cdef Py_ssize_t mr, nr, ir, jr, ir_blk, jr_blk, m_cur, s_rs, s_cs
    cdef const real* sliver
    if real is double:
        mr = GEMM_MR_D
        nr = GEMM_NR_D
    else:
        mr = GEMM_MR_S
        nr = GEMM_NR_S
    for ir_blk in range((mc + mr - 1) // mr):
        ir = ir_blk * mr
        m_cur = imin(mr, mc - ir)
        if a_packed:
            sliver, s_rs, s_cs = a + ir * kc, 1, mr
        elif m_cur == mr:
            sliver, s_rs, s_cs = a + ir * rsa, rsa, csa
        else:
            pack_a(m_cur, kc, a + ir * rsa, rsa, csa, edge)
            sliver, s_rs, s_cs = edge, 1, mr
        for jr_blk in range((nc + nr - 1) // nr):
            jr = jr_blk * nr
            gemm_ukr(kc, alpha, sliver, s_rs, s_cs, bbuf + jr * kc, beta,
                     c + ir * rsc + jr * csc, rsc, csc, m_cur, imin(nr, nc - jr))


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

    Four rows of C at a time are accumulated as sum_p A[i,p] * B[p,:] in a local
    buffer of SMALL_NB columns: each row of B is loaded once for four FMAs, and the
    accumulators cannot alias A, B or C, so the compiler vectorises the j loop along
    rows of B without run-time overlap checks.
    """
    cdef real acc[4 * SMALL_NB]
    cdef Py_ssize_t i0, j0, jb, ib, nb, rows, r, j, p
    cdef real a0, a1, a2, a3, bj
    cdef const real* bp
    cdef real* cr
    for jb in range((n + SMALL_NB - 1) // SMALL_NB):
        j0 = jb * SMALL_NB
        nb = imin(SMALL_NB, n - j0)
        for ib in range((m + 3) // 4):
            i0 = ib * 4
            rows = imin(4, m - i0)
            for r in range(4):
                for j in range(nb):
                    acc[r * SMALL_NB + j] = 0
            for p in range(k):
                bp = b + p * rsb + j0 * csb
                a0 = a[i0 * rsa + p * csa]
                a1 = a[(i0 + 1) * rsa + p * csa] if rows > 1 else 0
                a2 = a[(i0 + 2) * rsa + p * csa] if rows > 2 else 0
                a3 = a[(i0 + 3) * rsa + p * csa] if rows > 3 else 0
                for j in range(nb):
                    bj = bp[j * csb]
                    acc[j] += a0 * bj
                    acc[SMALL_NB + j] += a1 * bj
                    acc[2 * SMALL_NB + j] += a2 * bj
                    acc[3 * SMALL_NB + j] += a3 * bj
            for r in range(rows):
                cr = c + (i0 + r) * rsc + j0 * csc
                if beta == 0:
                    for j in range(nb):
                        cr[j * csc] = alpha * acc[r * SMALL_NB + j]
                else:
                    for j in range(nb):
                        cr[j * csc] = beta * cr[j * csc] + alpha * acc[r * SMALL_NB + j]


# Cython has no integer template parameters.  Each tag type below gives gemm_fixed
# its own compiled specialisation (as it does for float and double) in which k is a
# literal: every loop then has a known trip count, which is worth 2-8x on small
# products (measured).  Call as gemm_fixed(<K4*>NULL, ...).
cdef struct K2:
    char unused
cdef struct K3:
    char unused
cdef struct K4:
    char unused
cdef struct K5:
    char unused
cdef struct K6:
    char unused
cdef struct K7:
    char unused
cdef struct K8:
    char unused
cdef struct K16:
    char unused
cdef struct K32:
    char unused

ctypedef fused fixed_k:
    K2
    K3
    K4
    K5
    K6
    K7
    K8
    K16
    K32


cdef inline void gemm_fixed(fixed_k* size, const real* a, Py_ssize_t rsa,
                            const real* b, Py_ssize_t rsb, real* c, Py_ssize_t rsc) noexcept nogil:
    """C := A @ B for k x k matrices with unit column strides, k fixed by `size`.

    The micro-kernel's scheme without packing: up to eight rows of C at a time
    (at most 128 accumulators) are accumulated over p as A[i,p] * B[p,:], the tile
    in registers, B's rows read straight from the input (a 4 x 4 product is four
    vector FMAs per row).
    """
    cdef real acc[128]
    cdef Py_ssize_t k, ib, i0, i, j, p, rows, row_block
    if fixed_k is K2:
        k = 2
    elif fixed_k is K3:
        k = 3
    elif fixed_k is K4:
        k = 4
    elif fixed_k is K5:
        k = 5
    elif fixed_k is K6:
        k = 6
    elif fixed_k is K7:
        k = 7
    elif fixed_k is K8:
        k = 8
    elif fixed_k is K16:
        k = 16
    else:
        k = 32
    # Rows per tile: up to 8, with at most 128 accumulators (16 zmm of doubles).
    row_block = imin(8, 128 // k)
    for ib in range((k + row_block - 1) // row_block):
        i0 = ib * row_block
        rows = imin(row_block, k - i0)
        for i in range(rows * k):
            acc[i] = 0
        for p in range(k):
            for i in range(rows):
                for j in range(k):
                    acc[i * k + j] += a[(i0 + i) * rsa + p] * b[p * rsb + j]
        for i in range(rows):
            for j in range(k):
                c[(i0 + i) * rsc + j] = acc[i * k + j]


cdef inline bint gemm_is_small(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """Whether gemm_small beats packing (measured: packing O(mk + kn) elements with
    scalar loops costs more than the product itself below about 32^3)."""
    return m * n * k <= GEMM_SMALL_MNK


cdef inline int gemm_threads(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, int n_threads) noexcept nogil:
    """Threads worth using for one product: 1 below PARALLEL_MIN_MNK, else at most
    one per MR x NR tile along the longer side of C."""
    if n_threads < 1 or m * n * k < PARALLEL_MIN_MNK:
        return 1
    return <int>imin(n_threads, imax(m, n) // GEMM_NR_MAX + 1)


cdef inline Py_ssize_t gemm_b_panel(Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """Elements of a packed B panel: min(n, NC) columns rounded up to whole NR
    slivers (at most NR_MAX - 1 more, for either dtype), then to 16 elements so
    that the A block after it stays 64-byte aligned."""
    return round_up(imin(n, GEMM_NC) + GEMM_NR_MAX, 16) * imin(k, GEMM_KC)


cdef inline Py_ssize_t gemm_workspace(Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """Elements of workspace gemm_packed needs: one packed B panel, one packed A block."""
    return gemm_b_panel(n, k) + GEMM_MC * imin(k, GEMM_KC)


cdef inline void gemm_packed(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, real alpha,
                             const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                             const real* b, Py_ssize_t rsb, Py_ssize_t csb,
                             real beta, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                             real* work) noexcept nogil:
    """The five loops of the packed GEMM, on one thread, on caller-provided workspace.

    # IN  m, n, k >= 1; work: gemm_workspace(n, k) elements, 64-byte aligned
    # OUT C
    """
    cdef Py_ssize_t mr, nr, jc, pc, ic, jc_blk, pc_blk, ic_blk, jb
    cdef Py_ssize_t nc_cur, kc_cur, mc_cur
    cdef real beta_cur
    cdef real* bbuf = work
    cdef real* abuf = work + gemm_b_panel(n, k)
    # A with a unit stride is read in place: its MR x KC slivers are as compact as
    # packed ones (MR rows of KC contiguous elements, or KC columns of MR), so
    # packing would only copy them.
    cdef bint a_in_place = rsa == 1 or csa == 1
    if real is double:
        mr = GEMM_MR_D
        nr = GEMM_NR_D
    else:
        mr = GEMM_MR_S
        nr = GEMM_NR_S
    for jc_blk in range((n + GEMM_NC - 1) // GEMM_NC):             # B panel: L2
        jc = jc_blk * GEMM_NC
        nc_cur = imin(GEMM_NC, n - jc)
        for pc_blk in range((k + GEMM_KC - 1) // GEMM_KC):
            pc = pc_blk * GEMM_KC
            kc_cur = imin(GEMM_KC, k - pc)
            beta_cur = beta if pc == 0 else 1     # later k slices accumulate
            for jb in range((nc_cur + nr - 1) // nr):
                pack_b_sliver(kc_cur, imin(nr, nc_cur - jb * nr),
                              b + pc * rsb + (jc + jb * nr) * csb, rsb, csb,
                              bbuf + jb * nr * kc_cur)
            for ic_blk in range((m + GEMM_MC - 1) // GEMM_MC):
                ic = ic_blk * GEMM_MC
                mc_cur = imin(GEMM_MC, m - ic)
                if a_in_place:
                    gemm_macro(mc_cur, nc_cur, kc_cur, alpha, False, a + ic * rsa + pc * csa,
                               rsa, csa, abuf, bbuf, beta_cur, c + ic * rsc + jc * csc,
                               rsc, csc)
                else:
                    pack_a(mc_cur, kc_cur, a + ic * rsa + pc * csa, rsa, csa, abuf)
                    gemm_macro(mc_cur, nc_cur, kc_cur, alpha, True, abuf, 0, 0, NULL,
                               bbuf, beta_cur, c + ic * rsc + jc * csc, rsc, csc)


cdef inline int gemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, real alpha,
                     const real* a, Py_ssize_t rsa, Py_ssize_t csa,
                     const real* b, Py_ssize_t rsb, Py_ssize_t csb,
                     real beta, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                     int n_threads) noexcept nogil:
    """C := alpha*A*B + beta*C for A (m x k), B (k x n), C (m x n); any strides.

    Returns INFO_OK, or INFO_NO_MEMORY if the packing workspace cannot be allocated
    (C is then unchanged).  With several threads, C is cut along its longer side
    into one block per thread (whole NR / MR tiles) and each thread runs the
    serial algorithm on its block with its own workspace: no shared panels, no
    barriers, at the cost of packing the shared operand once per thread.
    """
    cdef Py_ssize_t part, t, lo, width, ws
    cdef bint split_cols = n >= m
    cdef real* work
    cdef int failures = 0
    if m == 0 or n == 0:
        return INFO_OK
    if k == 0 or alpha == 0:
        scale_c(m, n, beta, c, rsc, csc)
        return INFO_OK
    if gemm_is_small(m, n, k):
        gemm_small(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        return INFO_OK
    n_threads = gemm_threads(m, n, k, n_threads)
    if n_threads == 1:
        work = <real*>aligned_alloc64(gemm_workspace(n, k) * sizeof(real))
        if work == NULL:
            return INFO_NO_MEMORY
        gemm_packed(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, work)
        aligned_free(work)
        return INFO_OK
    part = round_up(((n if split_cols else m) + n_threads - 1) // n_threads, GEMM_NR_MAX)
    for t in prange(n_threads, num_threads=n_threads, schedule='static'):
        lo = t * part
        width = imin(part, (n if split_cols else m) - lo)
        if width > 0:
            ws = gemm_workspace(width if split_cols else n, k)
            work = <real*>aligned_alloc64(ws * sizeof(real))
            if work == NULL:
                failures += 1
            elif split_cols:
                gemm_packed(m, width, k, alpha, a, rsa, csa, b + lo * csb, rsb, csb,
                            beta, c + lo * csc, rsc, csc, work)
            else:
                gemm_packed(width, n, k, alpha, a + lo * rsa, rsa, csa, b, rsb, csb,
                            beta, c + lo * rsc, rsc, csc, work)
            aligned_free(work)
    return INFO_NO_MEMORY if failures else INFO_OK

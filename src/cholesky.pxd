"""Cholesky factorization A = L L^T (or A = U^T U) of a symmetric positive definite
matrix, and the solve built on it.

What: for an n x n symmetric A, the lower triangular L with positive diagonal and
A = L L^T (upper: U = L^T, A = U^T U).  LAPACK's potrf contract: only the chosen
triangle of A is read, the factor overwrites it, the other triangle is not touched;
the status is 0, or k > 0 when the leading minor of order k is not positive definite
(the k-th pivot a_kk - sum_p l_kp^2 is <= 0 or NaN), and then the factorization
stops at column k.  Flops: n^3/3 (LAPACK Working Note 41: n^3/3 + n^2/2 + n/6).

ONE canonical case: lower, with any strides.  The upper factor of A is the lower
factor of A^T, and A^T's lower triangle is A's upper one, so `upper` callers swap
the row and column strides (U is then written where it belongs, in place).

Algorithms (Golub & Van Loan, Matrix Computations, 4th ed., §4.2):
- potf2, unblocked: the right-looking outer-product form (GVL4 Alg. 4.2.2): scale
  column j by 1/l_jj, then subtract l[j+1:, j] l[j+1:, j]^T from the trailing lower
  triangle, along rows or columns, whichever is contiguous.  (The dot-product form,
  LAPACK's dpotf2, was measured 2.5x slower at n = 32: short dot products.)
- potrf, recursive (Gustavson, "Recursion leads to automatic variable blocking for
  dense linear-algebra algorithms", IBM J. Res. Dev. 41(6), 1997; GVL4 §4.2.9; LAPACK's
  potrf2).  Split the columns in halves:

           n1    n2
         +-----+-----+       1. A11 = L11 L11^T            (recurse)
      n1 | A11 |     |       2. L21 := A21 L11^-T          (trsm, right side)
         +-----+-----+       3. A22 := A22 - L21 L21^T     (syrk: lower triangle only,
      n2 | A21 | A22 |                                      on the GEMM)
         +-----+-----+       4. A22 = L22 L22^T            (recurse)

  Two thirds of the flops are step 3, which runs in the GEMM of gemm.pxd; the
  recursion stops at CHOL_NB columns (src/_blocking.pxd).
- syrk_lower, recursive as well (C := C - A A^T on C's lower triangle): the
  off-diagonal half C21 -= A2 A1^T is one GEMM, the diagonal halves recurse, and
  diagonal blocks of at most SYRK_NB rows are computed in full into a stack tile by
  the GEMM, of which the lower triangle is subtracted (the strictly upper triangle of
  A is never written, as LAPACK promises).
- potrs: A X = B from the factor, two triangular solves with trsm of triangular.pxd
  (L Y = B, L^T X = Y).  2 n^2 flops per right-hand side.
- Stacks of small k x k (k <= 8 and 16): LANES matrices interleaved, one vector per
  element (lu.pxd's layout), potf2's right-looking steps in every lane (the same
  operations in the same order as potf2, so for k <= CHOL_NB a stack slice equals a
  single call bit for bit; k = 16 differs from the recursive potrf by rounding); the
  per-lane status is kept as a floating "first bad column" blended in branch-free.
  Where the time goes at k = 8 (one thread, float64, ns per matrix, CPU time):
  in cache (4096 matrices) 49, of which the arithmetic is 17, the scatter 12 and the
  gather with the driver's loop 20.  From memory (100000 matrices, 51 MB each way)
  into a reused output: 154 with plain stores, 70 with streaming stores for results
  of >= 16 MiB (cholesky.pyx; a group's burst of write misses stalled the core),
  against 31-36 for np.copyto of the same bytes.  Into a fresh output, as the API
  returns one: 119-123, against 44 for a.copy() and 305 for numpy.linalg.cholesky:
  the kernel zeroes each fresh (huge) page at its first touch, ~43 ns per 512 bytes
  here, which numpy pays as well.  So one thread cannot reach 5x numpy at k = 8
  (61 ns) unless nearly all of the compute hides under that memory floor of ~44.
  On a 2-core Xeon (AVX-512, shared and loaded) the element-by-element gather and
  scatter were most of the in-cache time; as 8 x 8 block transposes with vector
  shuffles (lanes_gather) they took 100000 x 8 x 8 from 1.87x to 2.76x numpy and
  16 x 16 from 1.69x to 2.25x (one thread), while a.copy() alone, the fresh-output
  floor, was 120-160 ns per 8 x 8 there against numpy's 550-600: at most ~4x.
  On a 2-core AMD EPYC (Zen 4, AVX-512 on 256-bit units, KVM, shared with other
  builds; stages added one at a time, minimum of 15 runs, ns per matrix): in cache
  read + gather 14, + potf2_lanes 18, + zeroing the upper triangle 3, + scatter 9
  (45); from memory (100000 matrices) read + gather 34, + potf2_lanes 20, + zeroing
  4, + scatter into a reused output 64 (121) or into a fresh one 85 (143), against
  a.copy() 44-63 and np.copyto 38-45, numpy.linalg.cholesky 310-320.  The memory
  side does not overlap the arithmetic: software prefetches of the next group (to
  L1 or L2, one to four groups ahead, spread over the stages) and prefetches for
  writing changed nothing; streaming stores gain 20 % into a reused output and lose
  3-5 % into a fresh one.  One thread stays near 2.5x numpy at k = 8; the 5x target
  needs the second core.  Rechecked on the same machine (one thread, 100000 x 8 x 8,
  ~145 ns per matrix): perf puts the kernel's zeroing of the fresh output's pages
  (clear_page, at the first store to each huge page) at ~40 ns and the sequential
  read of the input at ~34; prefetching the input 32-512 matrices ahead (to L1 or L2)
  and touching the output's pages before the loop changed nothing (+-3 %).  A stack
  of 40000, whose freed output glibc hands back without new pages, takes ~80 ns.
  5x numpy is 64 ns, where a bare a.copy() takes 48-68; two threads copying into a
  fresh array take no less (~50), so two threads reach ~3.2-3.5x.

NaN and Inf: only a pivot `d <= 0` is a failure, so a NaN pivot propagates into the
factor as IEEE arithmetic dictates, exactly as numpy.linalg.cholesky does on OpenBLAS
(whose potrf tests `ajj <= 0`; reference LAPACK also stops at NaN).  Drop-in code sees
numpy's NaN factor, not a new exception.  Nothing can loop forever.
"""

from libc.math cimport sqrt
from libc.string cimport memcpy

from _types cimport real, INFO_OK, INFO_NO_MEMORY
from _blocking cimport CHOL_NB, SYRK_NB
from gemm cimport gemm, iabs, imin, fixed_k
from triangular cimport trsm
from lu cimport LANES, fixed_size


cdef inline int potf2(Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa) noexcept nogil:
    """A = L L^T in place on the lower triangle, unblocked, right-looking (GVL4 Alg.
    4.2.2, the outer-product form); n <= CHOL_NB.

    # IN  A (n x n, lower triangle read); OUT L in the lower triangle
    Step j: l_jj = sqrt(a_jj), l[j+1:, j] = a[j+1:, j] / l_jj, then the trailing lower
    triangle loses l[j+1:, j] l[j+1:, j]^T.  That update walks whichever direction of
    A is contiguous: down the columns (A^T row-major, i.e. the upper case) or along
    the rows, reading column j from a contiguous copy.  Both orders add the same
    terms in the same sequence, so lower and upper factors agree to the bit.
    Returns 0, or the order k of the first leading minor that is not positive
    definite (`a_kk <= 0`; a NaN pivot propagates, as in numpy); the factorization stops there.
    """
    cdef real colj[CHOL_NB]
    cdef Py_ssize_t j, i, c
    cdef real d, r, lij
    cdef real* row
    cdef bint by_rows = iabs(csa) <= iabs(rsa)
    for j in range(n):
        d = a[j * (rsa + csa)]
        if d <= 0:                                    # NaN propagates (numpy's rule)
            return <int>(j + 1)
        d = sqrt(d)
        a[j * (rsa + csa)] = d
        r = 1 / d
        for i in range(j + 1, n):
            a[i * rsa + j * csa] *= r
        if by_rows:
            # a[i, j+1:i+1] -= l_ij * l[j+1:i+1, j], row by row
            for i in range(j + 1, n):
                colj[i] = a[i * rsa + j * csa]
            for i in range(j + 1, n):
                lij = colj[i]
                row = a + i * rsa
                for c in range(j + 1, i + 1):
                    row[c * csa] -= lij * colj[c]
        else:
            # a[c:, c] -= l_cj * l[c:, j], column by column
            for c in range(j + 1, n):
                lij = a[c * rsa + j * csa]
                for i in range(c, n):
                    a[i * rsa + c * csa] -= lij * a[i * rsa + j * csa]
    return 0


cdef inline int syrk_lower(Py_ssize_t n, Py_ssize_t k, const real* a, Py_ssize_t rsa,
                           Py_ssize_t csa, real* c, Py_ssize_t rsc, Py_ssize_t csc,
                           int n_threads) noexcept nogil:
    """C := C - A A^T on the lower triangle of C (n x n) only; A is n x k.

    Recursive on the rows: [C11; C21 C22] -> C11 (recurse), C21 -= A2 A1^T (gemm),
    C22 (recurse).  Returns INFO_OK or INFO_NO_MEMORY.
    """
    cdef real tile[SYRK_NB * SYRK_NB]
    cdef Py_ssize_t n1, i, j
    if n == 0 or k == 0:
        return INFO_OK
    if n <= SYRK_NB:
        # tile := A A^T in full (a square GEMM), then subtract its lower triangle.
        if gemm(n, n, k, 1, a, rsa, csa, a, csa, rsa, 0, tile, n, 1, n_threads) != INFO_OK:
            return INFO_NO_MEMORY
        # (the tile is symmetric: read it along whichever direction C is contiguous)
        if iabs(csc) <= iabs(rsc):
            for i in range(n):
                for j in range(i + 1):
                    c[i * rsc + j * csc] -= tile[i * n + j]
        else:
            for j in range(n):
                for i in range(j, n):
                    c[i * rsc + j * csc] -= tile[j * n + i]
        return INFO_OK
    n1 = n // 2
    if syrk_lower(n1, k, a, rsa, csa, c, rsc, csc, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    if iabs(csc) <= iabs(rsc):
        # C21 -= A2 A1^T
        if gemm(n - n1, n1, k, -1, a + n1 * rsa, rsa, csa, a, csa, rsa,
                1, c + n1 * rsc, rsc, csc, n_threads) != INFO_OK:
            return INFO_NO_MEMORY
    else:
        # C by columns: C21^T -= A1 A2^T, so the GEMM writes rows of its C (the
        # micro-kernel's tiles are stored row by row)
        if gemm(n1, n - n1, k, -1, a, rsa, csa, a + n1 * rsa, csa, rsa,
                1, c + n1 * rsc, csc, rsc, n_threads) != INFO_OK:
            return INFO_NO_MEMORY
    return syrk_lower(n - n1, k, a + n1 * rsa, rsa, csa, c + n1 * (rsc + csc), rsc, csc,
                      n_threads)


cdef inline int potrf(Py_ssize_t n, real* a, Py_ssize_t rsa, Py_ssize_t csa,
                      int n_threads) noexcept nogil:
    """A = L L^T in place on the lower triangle, recursive (the diagram in the module
    docstring).  For U^T U of the upper triangle, pass the strides swapped.

    # IN  A (n x n, lower triangle read); OUT L in the lower triangle
    Returns 0, k > 0 (the first leading minor that is not positive definite) or
    INFO_NO_MEMORY.
    """
    cdef Py_ssize_t n1, n2
    cdef int info
    if n <= CHOL_NB:
        return potf2(n, a, rsa, csa)
    n1 = n // 2
    n2 = n - n1
    info = potrf(n1, a, rsa, csa, n_threads)                                 # 1.
    if info != 0:
        return info
    # L21 := A21 L11^-T                                                        2.
    if trsm(False, True, True, False, n2, n1, 1, a, rsa, csa,
            a + n1 * rsa, rsa, csa, n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    # A22 := A22 - L21 L21^T                                                   3.
    if syrk_lower(n2, n1, a + n1 * rsa, rsa, csa, a + n1 * (rsa + csa), rsa, csa,
                  n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    info = potrf(n2, a + n1 * (rsa + csa), rsa, csa, n_threads)             # 4.
    return <int>(info + n1) if info > 0 else info


cdef inline int potrs(Py_ssize_t n, Py_ssize_t nrhs, const real* l, Py_ssize_t rsl,
                      Py_ssize_t csl, real* b, Py_ssize_t rsb, Py_ssize_t csb,
                      int n_threads) noexcept nogil:
    """B := A^-1 B from A = L L^T (L's lower triangle read; for U^T U pass the strides
    of U swapped): L Y = B, then L^T X = Y.  Returns INFO_OK or INFO_NO_MEMORY."""
    if trsm(True, True, False, False, n, nrhs, 1, l, rsl, csl, b, rsb, csb,
            n_threads) != INFO_OK:
        return INFO_NO_MEMORY
    return trsm(True, True, True, False, n, nrhs, 1, l, rsl, csl, b, rsb, csb, n_threads)


cdef inline void zero_strict_upper(Py_ssize_t n, real* a, Py_ssize_t rsa,
                                   Py_ssize_t csa) noexcept nogil:
    """a[i, j] := 0 for i < j (numpy's cholesky returns the factor alone), in memory
    order (column by column when columns are contiguous: 10x faster at n = 1024)."""
    cdef Py_ssize_t i, j
    if iabs(csa) <= iabs(rsa):
        for i in range(n):
            for j in range(i + 1, n):
                a[i * rsa + j * csa] = 0
    else:
        for j in range(n):
            for i in range(j):
                a[i * rsa + j * csa] = 0


# ------------------------------------------------- stacks of small matrices, in lanes
#
# lu.pxd's layout: element (i, j) of lane l at x[(i*k + j)*LANES + l].

cdef inline void potf2_lanes(fixed_k* size, real* x, int* info) noexcept nogil:
    """potf2 on the LANES interleaved k x k matrices of x (lower triangle), k a
    compile-time constant; info[l] as potf2's status per matrix.

    Two loop orders, both giving every element potf2's operations in potf2's order
    (a_ij minus l_ip l_jp for p = 0, 1, ..., j-1, one fused multiply-add each, then
    times 1/l_jj), so the factors are the same bits:
    - k <= 6: right-looking (GVL4 Alg. 4.2.2), as potf2 (below): after the sqrt and
      the division of step j, every update of the trailing triangle is independent
      of the others.
    - k >= 7: left-looking (potf2_lanes_by_columns).
    Measured (float64, one thread, 4096 matrices in cache, the whole driver, ns per
    matrix, right / left): k = 2: 3.5 / 4.5;  3: 6.1 / 5.9;  4: 9.1 / 9.9;
    5: 15.2 / 15.0;  6: 36 / 36;  7: 49-59 / 46-56;  8: 62-65 / 51-62;
    16: 383-630 / 323-528.
    A failed lane goes on with NaN (sqrt of a non-positive number), which stays in
    that lane; the caller discards failed matrices.  The first failing column is kept
    as a floating value per lane so that the whole step stays branch-free.
    """
    cdef Py_ssize_t k = fixed_size(size), j, i, c, l
    cdef real d[LANES]
    cdef real r[LANES]
    cdef real lij[LANES]
    cdef real bad[LANES]
    cdef real fj
    if k >= 7:
        potf2_lanes_by_columns(size, x, info)
        return
    for l in range(LANES):
        bad[l] = 0
    for j in range(k):
        fj = j + 1
        for l in range(LANES):
            d[l] = x[(j * k + j) * LANES + l]
            bad[l] = fj if (bad[l] == 0 and d[l] <= 0) else bad[l]
            d[l] = sqrt(d[l])
            r[l] = 1 / d[l]
            x[(j * k + j) * LANES + l] = d[l]
        for i in range(j + 1, k):
            for l in range(LANES):
                x[(i * k + j) * LANES + l] *= r[l]
        # x[i, c] -= l_ij l_cj for j < c <= i
        for i in range(j + 1, k):
            for l in range(LANES):
                lij[l] = x[(i * k + j) * LANES + l]
            for c in range(j + 1, i + 1):
                for l in range(LANES):
                    x[(i * k + c) * LANES + l] -= lij[l] * x[(c * k + j) * LANES + l]
    for l in range(LANES):
        info[l] = <int>bad[l]


cdef inline void potf2_lanes_by_columns(fixed_k* size, real* x, int* info) noexcept nogil:
    """potf2_lanes, left-looking (GVL4 Alg. 4.2.1, the gaxpy form): column j is
    finished in one pass, l_ij = (a_ij - sum_{p<j} l_ip l_jp) / l_jj, its sums
    accumulated in a local vector s and stored once.  The right-looking update reads
    and writes x in the same loop; GCC, unable to prove the rows apart through the
    pointer, adds a run-time overlap test with a scalar fallback whose sixteen
    multipliers it reloads for every row, and at k = 16 the lanes (32 KiB of doubles)
    fill L1, where a read-modify-write of every trailing element per step costs more.
    """
    cdef Py_ssize_t k = fixed_size(size), j, i, p, l
    cdef real s[LANES]
    cdef real r[LANES]
    cdef real bad[LANES]
    cdef real fj
    for l in range(LANES):
        bad[l] = 0
    for j in range(k):
        fj = j + 1
        for l in range(LANES):
            s[l] = x[(j * k + j) * LANES + l]
        for p in range(j):
            for l in range(LANES):
                s[l] -= x[(j * k + p) * LANES + l] * x[(j * k + p) * LANES + l]
        for l in range(LANES):
            bad[l] = fj if (bad[l] == 0 and s[l] <= 0) else bad[l]
            s[l] = sqrt(s[l])
            r[l] = 1 / s[l]
            x[(j * k + j) * LANES + l] = s[l]
        for i in range(j + 1, k):
            for l in range(LANES):
                s[l] = x[(i * k + j) * LANES + l]
            for p in range(j):
                for l in range(LANES):
                    s[l] -= x[(i * k + p) * LANES + l] * x[(j * k + p) * LANES + l]
            for l in range(LANES):
                x[(i * k + j) * LANES + l] = s[l] * r[l]
    for l in range(LANES):
        info[l] = <int>bad[l]


cdef inline void lanes_transpose(fixed_k* size, real* x) noexcept nogil:
    """Transpose each of the LANES interleaved k x k matrices in place (the upper
    case enters and leaves the lower kernel this way)."""
    cdef Py_ssize_t k = fixed_size(size), i, j, l
    cdef real t
    for i in range(k):
        for j in range(i + 1, k):
            for l in range(LANES):
                t = x[(i * k + j) * LANES + l]
                x[(i * k + j) * LANES + l] = x[(j * k + i) * LANES + l]
                x[(j * k + i) * LANES + l] = t


cdef inline void lanes_zero_strict_upper(fixed_k* size, real* x) noexcept nogil:
    cdef Py_ssize_t k = fixed_size(size), i, j, l
    for i in range(k):
        for j in range(i + 1, k):
            for l in range(LANES):
                x[(i * k + j) * LANES + l] = 0


# An 8 x 8 block transpose, d[c*dst_rs + r] := s[r*src_rs + c], with the vector shuffles
# of the target (24 per block: unpack pairs, then exchange 128-bit quarters twice), where
# element by element it is 64 scalar loads and stores: the gather and scatter of the
# lanes were half the in-cache time of the k = 8 stacks.  Data movement only, so the
# factors are the same bits.  Elsewhere a plain loop.
cdef extern from *:
    """
    #if defined(__AVX512F__)
    #include <immintrin.h>
    static inline void fastla_t8x8_d(const double* s, ptrdiff_t srs, double* d, ptrdiff_t drs) {
        __m512d r[8], t[8], u[8];
        int i;
        for (i = 0; i < 8; i++) r[i] = _mm512_loadu_pd(s + i * srs);
        for (i = 0; i < 4; i++) {            /* t[2i] = (r0 r1 pairs of even columns) */
            t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
        }
        for (i = 0; i < 2; i++) {            /* quarters 0,2 | 1,3 of rows 0-3 and 4-7 */
            u[4 * i] = _mm512_shuffle_f64x2(t[4 * i], t[4 * i + 2], 0x88);
            u[4 * i + 1] = _mm512_shuffle_f64x2(t[4 * i], t[4 * i + 2], 0xDD);
            u[4 * i + 2] = _mm512_shuffle_f64x2(t[4 * i + 1], t[4 * i + 3], 0x88);
            u[4 * i + 3] = _mm512_shuffle_f64x2(t[4 * i + 1], t[4 * i + 3], 0xDD);
        }
        _mm512_storeu_pd(d + 0 * drs, _mm512_shuffle_f64x2(u[0], u[4], 0x88));
        _mm512_storeu_pd(d + 4 * drs, _mm512_shuffle_f64x2(u[0], u[4], 0xDD));
        _mm512_storeu_pd(d + 2 * drs, _mm512_shuffle_f64x2(u[1], u[5], 0x88));
        _mm512_storeu_pd(d + 6 * drs, _mm512_shuffle_f64x2(u[1], u[5], 0xDD));
        _mm512_storeu_pd(d + 1 * drs, _mm512_shuffle_f64x2(u[2], u[6], 0x88));
        _mm512_storeu_pd(d + 5 * drs, _mm512_shuffle_f64x2(u[2], u[6], 0xDD));
        _mm512_storeu_pd(d + 3 * drs, _mm512_shuffle_f64x2(u[3], u[7], 0x88));
        _mm512_storeu_pd(d + 7 * drs, _mm512_shuffle_f64x2(u[3], u[7], 0xDD));
    }
    #else
    static inline void fastla_t8x8_d(const double* s, ptrdiff_t srs, double* d, ptrdiff_t drs) {
        int r, c;
        for (r = 0; r < 8; r++) for (c = 0; c < 8; c++) d[c * drs + r] = s[r * srs + c];
    }
    #endif
    #if defined(__AVX__)
    #include <immintrin.h>
    static inline void fastla_t8x8_f(const float* s, ptrdiff_t srs, float* d, ptrdiff_t drs) {
        __m256 r[8], t[8], u[8];
        int i;
        for (i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * srs);
        for (i = 0; i < 4; i++) {
            t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for (i = 0; i < 2; i++) {            /* 4 x 4 transposes within 128-bit halves */
            u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
            u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
            u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
            u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
        }
        for (i = 0; i < 4; i++) {            /* halves: rows 0-3 | rows 4-7 */
            _mm256_storeu_ps(d + i * drs, _mm256_permute2f128_ps(u[i], u[4 + i], 0x20));
            _mm256_storeu_ps(d + (i + 4) * drs, _mm256_permute2f128_ps(u[i], u[4 + i], 0x31));
        }
    }
    #else
    static inline void fastla_t8x8_f(const float* s, ptrdiff_t srs, float* d, ptrdiff_t drs) {
        int r, c;
        for (r = 0; r < 8; r++) for (c = 0; c < 8; c++) d[c * drs + r] = s[r * srs + c];
    }
    #endif
    """
    void _t8x8_d "fastla_t8x8_d"(const double* s, Py_ssize_t srs, double* d,
                                 Py_ssize_t drs) noexcept nogil
    void _t8x8_f "fastla_t8x8_f"(const float* s, Py_ssize_t srs, float* d,
                                 Py_ssize_t drs) noexcept nogil


cdef inline void transpose8x8(const real* s, Py_ssize_t srs, real* d, Py_ssize_t drs) noexcept nogil:
    if real is double:
        _t8x8_d(s, srs, d, drs)
    else:
        _t8x8_f(s, srs, d, drs)


cdef inline void lanes_gather(fixed_k* size, const real* a, real* x) noexcept nogil:
    """x := LANES consecutive row-major k x k matrices at a, interleaved: the LANES x k^2
    matrix (lane, element) transposed, in 8 x 8 blocks with vector shuffles, the last
    k^2 mod 8 elements one by one.  k is a literal, so every trip count is known."""
    cdef Py_ssize_t k = fixed_size(size), e0, e, h, l
    for h in range(0, LANES, 8):
        for e0 in range(0, k * k - 7, 8):
            transpose8x8(a + h * k * k + e0, k * k, x + e0 * LANES + h, LANES)
    for e in range(k * k - k * k % 8, k * k):
        for l in range(LANES):
            x[e * LANES + l] = a[l * k * k + e]


cdef inline void lanes_scatter(fixed_k* size, const real* x, real* a) noexcept nogil:
    """The inverse of lanes_gather."""
    cdef Py_ssize_t k = fixed_size(size), e0, e, h, l
    for h in range(0, LANES, 8):
        for e0 in range(0, k * k - 7, 8):
            transpose8x8(x + e0 * LANES + h, LANES, a + h * k * k + e0, k * k)
    for e in range(k * k - k * k % 8, k * k):
        for l in range(LANES):
            a[l * k * k + e] = x[e * LANES + l]


cdef enum:
    # Input read ahead into the caller's stack buffer by gather_ahead, in elements
    # (16 KiB of doubles).
    GATHER_RUN = 2048


cdef inline void gather_ahead(fixed_k* size, const real* a, Py_ssize_t t, Py_ssize_t last,
                              Py_ssize_t* r0, real* run, real* x) noexcept nogil:
    """x := the full group of matrices t..t+LANES-1 of the row-major k x k stack at a,
    interleaved (lanes_gather), t + LANES <= last; for k = 7, 8 read ahead: the full
    groups of t..last-1 are first copied, GATHER_RUN elements at a time, into the
    caller's buffer run by one sequential memcpy, and gathered from there.  *r0: the
    first matrix held in run, < 0 (the caller's start) for none.

    The transposes of lanes_gather read eight matrices at once, about 512 bytes apart,
    which from memory ran at a third of a sequential read's bandwidth (k = 8 on a Zen 4,
    one thread: 46 ns per matrix for the gather alone, 25 with the copy first; software
    prefetches of the next group did not help; cholesky of 100000 x 8 x 8 12-15 %
    faster, lu's det / solve / inv ~10 %).  At k <= 5 it was slower (the rows are
    128-200 bytes apart, nearly sequential already), at k = 6 and 16 no different.
    """
    cdef Py_ssize_t k = fixed_size(size)
    cdef Py_ssize_t per = GATHER_RUN // (k * k) // LANES * LANES
    if 7 <= k <= 8:
        if r0[0] < 0 or t - r0[0] >= per:        # the next run of full groups
            r0[0] = t
            memcpy(run, a + t * k * k, imin(per, (last - t) // LANES * LANES) * k * k * sizeof(real))
        lanes_gather(size, run + (t - r0[0]) * k * k, x)
    else:
        lanes_gather(size, a + t * k * k, x)

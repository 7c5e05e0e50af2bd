"""Vectors of 64 bytes (8 doubles or 16 floats: one zmm) for the kernels that the
autovectoriser compiles badly: the LU lanes' elimination (lu.pxd) and the level-2
substitutions' dot products (lu.pxd, triangular.pxd).
"""

from _types cimport real


# Vectors of 64 bytes (8 doubles or 16 floats: one zmm) by GCC's vector extensions
# (clang has them too), compiled to AVX-512, AVX2 or SSE as -march allows; comparisons
# give all-ones or all-zero lanes, kept in the floating type, and select by bit
# operations.  Element alignment, so a vector may start at any lane of the caller's
# interleaved arrays.  Cython takes these types for double and float, so arithmetic
# (a - l * p, 1 / p) is written as for scalars; comparisons and selects need the
# helpers.
cdef extern from *:
    """
    /* Without AVX-512, GCC notes that returning these types changes the ABI: true of
       exported functions, but these are all static (inline) within one module. */
    #pragma GCC diagnostic ignored "-Wpsabi"
    typedef double fastla_vd __attribute__((vector_size(64), aligned(8)));
    typedef long long fastla_vd_bits __attribute__((vector_size(64), aligned(8)));
    typedef float fastla_vf __attribute__((vector_size(64), aligned(4)));
    typedef int fastla_vf_bits __attribute__((vector_size(64), aligned(4)));
    #define FASTLA_VECTOR_OPS(V, B, S, N, MAGNITUDE)                                     \\
    static inline V V##_splat(S s) { V z = {0}; return s - z; }  /* s - 0: keeps -0.0 */ \\
    static inline V V##_or(V a, V b) { return (V)((B)a | (B)b); }                       \\
    static inline V V##_and(V a, V b) { return (V)((B)a & (B)b); }                      \\
    static inline V V##_eq(V a, V b) { return (V)(a == b); }                            \\
    static inline V V##_gt(V a, V b) { return (V)(a > b); }                             \\
    static inline V V##_abs(V a) { B z = {0}; return (V)((B)a & (z + MAGNITUDE)); }     \\
    static inline S V##_sum(V a) { S r = 0; int i; for (i = 0; i < N; i++) r += a[i]; return r; }
    FASTLA_VECTOR_OPS(fastla_vd, fastla_vd_bits, double, 8, 0x7fffffffffffffffLL)
    FASTLA_VECTOR_OPS(fastla_vf, fastla_vf_bits, float, 16, 0x7fffffff)
    /* Select and any-lane test.  With AVX-512 through a mask register: one blend per
       select, where GCC compiles the bit-operation form (below) to two masked xors
       with the memory operand loaded twice (a third of the k = 8 elimination's
       instructions), and one test instead of a reduction over the lanes.  Measured
       (one thread, 100000 matrices): k = 16 det / solve / inv 6-10 % faster; k = 4
       and 8 unchanged, in cache too (their elimination is not bound by these). */
    #if defined(__AVX512F__) && defined(__AVX512DQ__)
    #include <immintrin.h>
    static inline fastla_vd fastla_vd_sel(fastla_vd m, fastla_vd a, fastla_vd b) {
        return (fastla_vd)_mm512_mask_blend_pd(_mm512_movepi64_mask((__m512i)m),
                                               (__m512d)b, (__m512d)a);
    }
    static inline fastla_vf fastla_vf_sel(fastla_vf m, fastla_vf a, fastla_vf b) {
        return (fastla_vf)_mm512_mask_blend_ps(_mm512_movepi32_mask((__m512i)m),
                                               (__m512)b, (__m512)a);
    }
    static inline int fastla_vd_any(fastla_vd m) {
        return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) != 0;
    }
    static inline int fastla_vf_any(fastla_vf m) {
        return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0;
    }
    #else
    #define FASTLA_SELECT_ANY(V, B, N)                                                   \\
    static inline V V##_sel(V m, V a, V b) { return (V)(((B)m & (B)a) | (~(B)m & (B)b)); } \\
    static inline int V##_any(V m) {                                                   \\
        B b = (B)m; int i, r = 0;                                                      \\
        for (i = 0; i < N; i++) r |= b[i] != 0;                                        \\
        return r;                                                                      \\
    }
    FASTLA_SELECT_ANY(fastla_vd, fastla_vd_bits, 8)
    FASTLA_SELECT_ANY(fastla_vf, fastla_vf_bits, 16)
    #endif
    /* BLAS i_amax of a contiguous x (iamax's contract): lane l keeps the first largest
       |x_i| of the positions i = l (mod N) with its index (as an S: exact below
       2^24 for float), then the largest value's smallest index over the lanes, then
       the remainder, scanned with the same strict comparison. */
    #define FASTLA_IAMAX(V, S, N)                                                        \\
    static inline ptrdiff_t V##_iamax(const S* x, ptrdiff_t n) {                      \\
        V vmax = V##_splat(-1), best = V##_splat(0), index, step = V##_splat(N), v, m;  \\
        ptrdiff_t i, l, p0 = n - n % N, r = 0;                                          \\
        S top = -1;                                                                    \\
        for (l = 0; l < N; l++) index[l] = (S)l;                                       \\
        for (i = 0; i < p0; i += N) {                                                  \\
            v = V##_abs(*(const V*)(x + i));                                           \\
            m = V##_gt(v, vmax);                                                       \\
            vmax = V##_sel(m, v, vmax);                                                \\
            best = V##_sel(m, index, best);                                            \\
            index += step;                                                             \\
        }                                                                              \\
        for (l = 0; l < N; l++)                                                        \\
            if (vmax[l] > top || (vmax[l] == top && (ptrdiff_t)best[l] < r)) {         \\
                top = vmax[l];                                                         \\
                r = (ptrdiff_t)best[l];                                                \\
            }                                                                          \\
        for (i = p0; i < n; i++)                                                       \\
            if ((x[i] < 0 ? -x[i] : x[i]) > top) {                                     \\
                top = x[i] < 0 ? -x[i] : x[i];                                         \\
                r = i;                                                                 \\
            }                                                                          \\
        return r;                                                                      \\
    }
    FASTLA_IAMAX(fastla_vd, double, 8)
    FASTLA_IAMAX(fastla_vf, float, 16)
    /* Dot products of contiguous vectors on vector accumulators, each remainder and
       final sum in a fixed order (see dot_contiguous and dot_rows4 below). */
    #define FASTLA_DOTS(V, S, N)                                                         \\
    static inline S V##_dot(const S* x, const S* y, ptrdiff_t n) {                    \\
        V a0 = V##_splat(0), a1 = a0;                                                  \\
        ptrdiff_t p, p0 = n - n % (2 * N);                                             \\
        S s = 0;                                                                       \\
        for (p = 0; p < p0; p += 2 * N) {                                              \\
            a0 = a0 + *(const V*)(x + p) * *(const V*)(y + p);                         \\
            a1 = a1 + *(const V*)(x + p + N) * *(const V*)(y + p + N);                 \\
        }                                                                              \\
        if (p0) s = V##_sum(a0 + a1);                                                  \\
        for (p = p0; p < n; p++) s += x[p] * y[p];                                     \\
        return s;                                                                      \\
    }                                                                                  \\
    static inline void V##_dot4(const S* x, ptrdiff_t ldx, const S* y, ptrdiff_t n,    \\
                                S* s) {                                                \\
        V a0 = V##_splat(0), a1 = a0, a2 = a0, a3 = a0, v;                             \\
        ptrdiff_t p, t, p0 = n - n % N;                                                \\
        for (p = 0; p < p0; p += N) {                                                  \\
            v = *(const V*)(y + p);                                                    \\
            a0 = a0 + *(const V*)(x + p) * v;                                          \\
            a1 = a1 + *(const V*)(x + ldx + p) * v;                                    \\
            a2 = a2 + *(const V*)(x + 2 * ldx + p) * v;                                \\
            a3 = a3 + *(const V*)(x + 3 * ldx + p) * v;                                \\
        }                                                                              \\
        s[0] = V##_sum(a0);                                                            \\
        s[1] = V##_sum(a1);                                                            \\
        s[2] = V##_sum(a2);                                                            \\
        s[3] = V##_sum(a3);                                                            \\
        for (t = 0; t < 4; t++)                                                        \\
            for (p = p0; p < n; p++) s[t] += x[t * ldx + p] * y[p];                    \\
    }
    FASTLA_DOTS(fastla_vd, double, 8)
    FASTLA_DOTS(fastla_vf, float, 16)
    """
    ctypedef double vd "fastla_vd"
    ctypedef float vf "fastla_vf"
    vd vd_splat "fastla_vd_splat"(double) noexcept nogil
    vd vd_sel "fastla_vd_sel"(vd, vd, vd) noexcept nogil
    vd vd_or "fastla_vd_or"(vd, vd) noexcept nogil
    vd vd_and "fastla_vd_and"(vd, vd) noexcept nogil
    vd vd_eq "fastla_vd_eq"(vd, vd) noexcept nogil
    vd vd_gt "fastla_vd_gt"(vd, vd) noexcept nogil
    vd vd_abs "fastla_vd_abs"(vd) noexcept nogil
    bint vd_any "fastla_vd_any"(vd) noexcept nogil
    double vd_dot "fastla_vd_dot"(const double*, const double*, Py_ssize_t) noexcept nogil
    void vd_dot4 "fastla_vd_dot4"(const double*, Py_ssize_t, const double*, Py_ssize_t,
                                  double*) noexcept nogil
    vf vf_splat "fastla_vf_splat"(float) noexcept nogil
    vf vf_sel "fastla_vf_sel"(vf, vf, vf) noexcept nogil
    vf vf_or "fastla_vf_or"(vf, vf) noexcept nogil
    vf vf_and "fastla_vf_and"(vf, vf) noexcept nogil
    vf vf_eq "fastla_vf_eq"(vf, vf) noexcept nogil
    vf vf_gt "fastla_vf_gt"(vf, vf) noexcept nogil
    vf vf_abs "fastla_vf_abs"(vf) noexcept nogil
    bint vf_any "fastla_vf_any"(vf) noexcept nogil
    float vf_dot "fastla_vf_dot"(const float*, const float*, Py_ssize_t) noexcept nogil
    void vf_dot4 "fastla_vf_dot4"(const float*, Py_ssize_t, const float*, Py_ssize_t,
                                  float*) noexcept nogil
    Py_ssize_t vd_iamax "fastla_vd_iamax"(const double*, Py_ssize_t) noexcept nogil
    Py_ssize_t vf_iamax "fastla_vf_iamax"(const float*, Py_ssize_t) noexcept nogil

ctypedef fused vec:
    vd
    vf


cdef inline vec splat(vec* like, double s) noexcept nogil:
    if vec is vd:
        return vd_splat(s)
    else:
        return vf_splat(<float>s)


cdef inline vec select(vec m, vec a, vec b) noexcept nogil:
    """a in the lanes where m is set, else b."""
    if vec is vd:
        return vd_sel(m, a, b)
    else:
        return vf_sel(m, a, b)


cdef inline vec either(vec a, vec b) noexcept nogil:
    if vec is vd:
        return vd_or(a, b)
    else:
        return vf_or(a, b)


cdef inline vec both(vec a, vec b) noexcept nogil:
    if vec is vd:
        return vd_and(a, b)
    else:
        return vf_and(a, b)


cdef inline vec equal(vec a, vec b) noexcept nogil:
    if vec is vd:
        return vd_eq(a, b)
    else:
        return vf_eq(a, b)


cdef inline vec greater(vec a, vec b) noexcept nogil:
    if vec is vd:
        return vd_gt(a, b)
    else:
        return vf_gt(a, b)


cdef inline vec vabs(vec a) noexcept nogil:
    if vec is vd:
        return vd_abs(a)
    else:
        return vf_abs(a)


cdef inline bint any_set(vec m) noexcept nogil:
    if vec is vd:
        return vd_any(m)
    else:
        return vf_any(m)


cdef inline real dot_contiguous(Py_ssize_t n, const real* x, const real* y) noexcept nogil:
    """sum_p x[p] y[p] on two vector accumulators (16 doubles or 32 floats of
    independent FMA chains), the remainder and the final sum in a fixed order.  Long
    level-2 dot products (a triangular solve with one right-hand side) are bound by
    reading x; GCC compiled the same loop over a local array of partial sums to
    scalar loads and stores of that array (lu_solve n = 1024, one right-hand side:
    0.39 -> 0.16 ms, scipy 0.17)."""
    if real is double:
        return vd_dot(x, y, n)
    else:
        return vf_dot(x, y, n)


cdef inline void dot_rows4(Py_ssize_t n, const real* x, Py_ssize_t ldx, const real* y,
                           real* s) noexcept nogil:
    """s[t] := sum_p x[t*ldx + p] y[p], t < 4 (x's rows unit-stride, ldx of any sign):
    four dot products in one pass over y, a vector accumulator each.  A row-oriented
    triangular solve with one right-hand side is bound by reading the matrix; four
    rows at a time are four memory streams at once (as a blocked trsv reads its
    panel through gemv)."""
    if real is double:
        vd_dot4(x, ldx, y, n, s)
    else:
        vf_dot4(x, ldx, y, n, s)

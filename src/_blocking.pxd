"""Every tuned constant of fastla's kernels, each with where its value comes from.

GEMM register and cache blocking (BLIS terms: Van Zee & van de Geijn, "BLIS: A
Framework for Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015;
Low et al., "Analytical Modeling Is Enough for High-Performance BLIS", TOMS 2016).

Register block MR x NR.  The micro-kernel keeps an MR x NR tile of C in registers.
With AVX-512 (32 zmm registers of 8 doubles / 16 floats) an 8 x 24 double tile is
8 rows x 3 zmm = 24 accumulators, plus 3 registers for a row of the B sliver and one
broadcast of A: 28 of 32 registers, and each k step issues 24 FMAs for 3 loads and
8 broadcasts, enough to keep both FMA ports busy.  float32 uses 8 x 32 (2 zmm a
row, 16 accumulators).  The innermost loop of the micro-kernel runs over NR, and NR
must stay above 16: GCC's early complete unroller flattens loops of 16 or fewer
iterations before vectorising them and the result shuffles accumulators on every k
step (measured: 0.10x OpenBLAS for 6x16 and 8x8 tiles, DESIGN.md §3).

Cache blocks (all in elements), for the loop order of gemm.pxd (A sliver outer,
B slivers inner in the macro-kernel):
  KC  depth of a rank-KC update.  An MR x KC sliver of packed A (8 x 192 doubles =
      12 KiB) stays in L1d (32-48 KiB) while the micro-kernel streams KC x NR
      slivers of B (36 KiB each) past it from L2.
  NC  columns of packed B per panel: KC x NC = 192 x 768 doubles = 1.1 MiB, which
      stays in a 1-2 MiB L2 while every A sliver of every A block sweeps it.
  MC  rows of A per block (192 x 192 doubles = 288 KiB).  A blocks, when packed
      at all (general strides), are packed once per B panel; MC only sets the
      packing granularity.
Measured (pytest benchmarks/, one thread, Sapphire Rapids, L1d 48 KiB, L2 2 MiB):
KC = 128-256 with a 1-1.5 MiB B panel were within noise of each other; the order
with the B sliver outer (BLIS's usual jr-outer) was 10-20 % slower at n = 2048
because a 36-48 KiB B sliver does not fit beside the A stream in L1d.  float32
keeps the same element counts, which halves every footprint.
"""

cdef enum:
    GEMM_MR_D = 8
    GEMM_NR_D = 24
    GEMM_MR_S = 8
    GEMM_NR_S = 32
    GEMM_MR_MAX = 8
    GEMM_NR_MAX = 32

    GEMM_KC = 192
    GEMM_MC = 192
    GEMM_NC = 768

    # Columns of C that gemm_small accumulates at once (4 rows x 64 doubles = 2 KiB).
    SMALL_NB = 64

    # Up to this many multiply-adds (m*n*k) packing does not pay and gemm_small
    # (no workspace) is used; measured crossover 16^3-20^3 for single products.
    GEMM_SMALL_MNK = 16 * 16 * 16

    # An OpenMP region costs about 1.5 us even when idle (DESIGN.md §6); below
    # this many multiply-adds (~40 us of one core) a second thread cannot win.
    PARALLEL_MIN_MNK = 128 * 128 * 128

    # LU (src/lu.pxd): the recursive getrf stops at panels of at most LU_NB columns and
    # factors them with the unblocked getf2; getrs substitutes directly up to this size.
    # Below it the GEMMs of the recursion are too small to pack (GEMM_SMALL_MNK) and the
    # recursion only adds calls.  Measured with row-major leaves only (lu_factor,
    # float64, one thread, GFLOP/s at n = 128 / 256 / 1024 / 2048): LU_NB = 8: 14.6 /
    # 23.6 / 39.4 / 48.2; 16: 13.6-15.2 / 22.6-24.9 / 36.8-38.3 / 44.0-47.0; 32: 13.6 /
    # 22.2 / 36.1 / 42.1; 64: 12.6 / 21.3 / 33.2 / 41.0 (shared machine: +-5 %).  8 and
    # 16 tie; 16 keeps the getf2 leaves wide enough for vectorised row updates.
    LU_NB = 16
    # Panels of more rows than this are factored in a column-major copy (getf2_panel).
    # Measured with it (lu_factor, float64, one thread, GFLOP/s at n = 100 / 128 / 256 /
    # 1024 / 2048; shared machine, +-5 %): LU_PANEL_ROWS = 32: 12.5 / 18.3 / 30.5 / 48.0 /
    # 56.7; 64: 11.5 / 16.4 / 28.6 / 46.7 / 55.5; 128: 10.8 / 14.6 / 27.9 / 43.3 / 49.6;
    # never (row-major getf2 only): 11.3 / 15.2 / 24.8 / 33.2 / 43.5.  LU_NB = 8 and 32
    # with the copy: within the noise of 16.
    LU_PANEL_ROWS = 32
    # A single 2-D call of at most this size is factored in a stack buffer (lu.pyx).
    LU_SMALL_CALL = 32

# Triangular solve (triangular.pxd).  TRSM_NB: rows of B per diagonal block, solved
# by substitution in a TRSM_NB x NR tile on the stack (16 KiB: L1-resident); every
# other flop is a rank-TRSM_NB GEMM update.  The substituted fraction of the m^2 n
# flops is TRSM_NB / m (GVL4 §3.1.4, the level-3 fraction), so smaller is better until
# the rank-NB updates get too thin for the GEMM (it re-reads the trailing rows of B
# once per block).  Measured (one thread, float64, m = n = 256 / 1024 / 2048, GFLOP/s,
# substitution four rows at a time): 32: 50 / 59 / 65;  64: 48-50 / 64-65 / 70;
# 96: 40 / 56 / 68;  128: 41 / 61 / 67.
# TRSM_MIN_RHS: fewer right-hand sides are solved column by column (level 2): a
# register group of NR columns or a GEMM sliver would be mostly padding.
cdef enum:
    TRSM_NB = 64
    TRSM_MIN_RHS = 4

# Cholesky (cholesky.pxd).  CHOL_NB: the recursive potrf stops at diagonal blocks of at
# most CHOL_NB columns and factors them with the unblocked potf2, whose short row
# updates run far below GEMM speed; the trsm and syrk of small splits (gemm_small) do
# better.  Measured (potrf alone, float64, one thread, GFLOP/s at n = 32 / 64 / 128 /
# 256; shared machine, +-10 %): CHOL_NB = 32: 2.5-4.2 / 5.7-7.1 / 10.4-12.0 / 17-22;
# 16: 4.2-4.9 / 7.4-8.0 / 10.5-13.6 / 17-22; 8: 4.5-5.3 / 8.6-9.2 / 12.8-16.6 / 18-24.
# SYRK_NB: the recursive syrk computes diagonal blocks of at most SYRK_NB rows as a full
# GEMM product into a stack tile (both triangles, so the GEMM runs at full speed) and
# subtracts its lower triangle; the wasted flops are a fraction ~SYRK_NB / (2n) of the
# update.  32, 64 and 128 measured within noise at n = 128-1024; 64 keeps the tile at
# 32 KiB of stack.
# CHOL_SMALL_CALL: a single 2-D call up to this order is factored in a stack buffer
# (32 KiB), skipping the ~8 us of the validation layer (n = 64: 11 us instead of 20).
cdef enum:
    CHOL_NB = 8
    SYRK_NB = 64
    CHOL_SMALL_CALL = 64

# Householder QR (qr.pxd).  QR_NB: columns per panel of the blocked geqrf/orgqr.  A
# panel is factored by the level-2 geqr2 (a fraction ~QR_NB/n of the flops) and
# applied to the trailing matrix as two GEMMs of depth m and QR_NB; wider panels
# move flops out of the GEMM, narrower ones make its rank-QR_NB update thin.
# Measured (qr mode='r', float64, one thread, geqrf GFLOP/s at n = 256 / 1024 / 2048,
# machine shared and loaded: +-20 %): 32: 27.8 / 15.7 / 17.7;  48: 23.2 / 17.3 / 21.7;
# 64: 20.9 / 15.4 / 18.0.  32 wins where the panel is a large share (small n) and is
# within the noise above.
# QR_NB_Q: reflectors per panel when Q is formed (orgqr), where the panel costs only
# its T (m QR_NB_Q^2 flops in one GEMM) and everything else is a rank-QR_NB_Q GEMM update.
# Measured (qr mode='reduced', float64, one thread, ratio to numpy at n = 256 / 1024 /
# 2048, interleaved best-of runs on the loaded machine, +-15 %): 32: 1.66 / 1.92 / 1.61;
# 64: 1.49 / 1.86 / 1.67;  96: 1.33 / 1.72 / 1.72.  64 is the compromise.
# QR_SMALL_MN: up to this many elements (m*n) a matrix is factored unblocked in place
# (geqr2 / org2r along its contiguous rows): below it the blocked path's panel copies
# and small GEMMs cost more than they save.  Measured (qr, float64, one thread, ratio
# to numpy, 'r' / 'reduced', interleaved best-of-300): n = 64 blocked 0.87 / 0.71,
# unblocked 1.20 / 1.33;  n = 100: 1.13 / 1.03 vs 1.11 / 1.16;  n = 128 unblocked
# 1.23 / 1.30, n = 129 blocked 1.07 / 0.93.
cdef enum:
    QR_NB = 32
    QR_NB_Q = 64
    QR_SMALL_MN = 128 * 128
# TSQR_BLOCK: elements per row block of the tall-skinny QR (qr.pxd tsqr): 128 Ki doubles
# = 1 MiB, so a block stays in a 2 MiB L2 while it is factored; matrices with fewer
# than two such blocks fit in cache and take the plain geqrf.  Measured (qr, float64,
# one thread, ratio to numpy, 100000 x 50 'r' / 10000 x 20 'r'; loaded machine, +-20 %):
# 32 Ki: 3.8 / 0.92 (TSQR);  64 Ki: 3.9 / 1.0 (TSQR);  128 Ki: 4.3 / 1.5 (geqrf).
# On a Zen 4 (1 MiB L2 per core; qr 'r' 100000 x 50, one thread, best of 11 interleaved,
# loaded machine): 128 Ki 90.4 ms, 64 Ki 90.3, 32 Ki 101.7: the block need not fit L2 whole.
# TSQR_MAX_N: widest matrix that takes it (the stacked R factors grow as n^2 per block).
cdef enum:
    TSQR_BLOCK = 131072
    TSQR_MAX_N = 128
# WIDEN_ITEM_BYTES: float64 bytes per work item of the widened path (float32 stacks
# computed in float64, lu.pyx and cholesky.pyx): each item is converted into its
# thread's buffer, computed there and rounded out, so the buffer should stay in the
# caches.  Measured (100000 x 8 x 8 float32 cholesky, one thread, ns per matrix,
# chunked through float64 buffers): 512 KiB 86-95, 2 MiB 72-76, 8 MiB 72-76.
cdef enum:
    WIDEN_ITEM_BYTES = 2 * 1024 * 1024

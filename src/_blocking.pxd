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

Cache blocks (all in elements):
  KC  depth of a rank-KC update.  An MR x KC sliver of packed A (8 x 256 doubles =
      16 KiB) stays in the 32-48 KiB L1d while the micro-kernel streams KC x NR
      slivers of B past it.
  MC  rows of packed A per block: MC x KC = 96 x 256 doubles = 192 KiB, a tenth of
      a 1-2 MiB L2, leaving room for the B slivers streamed through it.
  NC  columns of packed B per panel: KC x NC = 256 x 4096 doubles = 8 MiB, held in
      the (shared) L3.  One B panel serves every MC block of A.
These were measured best among the values tried on a Zen 4 and a Sapphire Rapids
core (see benchmarks/bench_gemm.py); float32 keeps the same element counts, which
halves every footprint.
"""

cdef enum:
    GEMM_MR_D = 8
    GEMM_NR_D = 24
    GEMM_MR_S = 8
    GEMM_NR_S = 32
    GEMM_MR_MAX = 16
    GEMM_NR_MAX = 32

    GEMM_KC = 256
    GEMM_MC = 192
    GEMM_NC = 512

    # Columns of C that gemm_small accumulates at once (4 rows x 64 doubles = 2 KiB).
    SMALL_NB = 64

    # Below this many multiply-adds (m*n*k) packing does not pay: the unpacked
    # loop of gemm_small is as fast, and skips the workspace allocation.
    GEMM_SMALL_MNK = 32 * 32 * 32

    # An OpenMP region costs about 1.5 us even when idle (DESIGN.md §6); below
    # this many multiply-adds (~40 us of one core) a second thread cannot win.
    PARALLEL_MIN_MNK = 128 * 128 * 128

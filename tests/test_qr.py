"""The QR family (src/qr ↔ fastla/linalg/_qr.py) against numpy.linalg.qr.

Accuracy is judged with LAPACK's ratios and threshold 30 (DESIGN.md §4):
‖A − Q R‖ / (m eps ‖A‖) and ‖QᵀQ − I‖ / (m eps); R must be exactly upper triangular.
The reflectors are LAPACK's, so on well-conditioned inputs Q, R and mode='raw''s
(h, tau) must also equal numpy's to rounding, signs included.  Sizes straddle the
kernels' cut-offs: the lane kernels (stacks of k x k, k <= 8, 16), the unblocked
geqr2 (m n <= QR_SMALL_MN = 128^2), the blocked geqrf above it (panels of QR_NB = 32,
Q in panels of 64), and the tall-skinny TSQR.
"""

import inspect
import warnings

import numpy as np
import pytest

import fastla
import fastla.linalg as fl
from _residuals import LAYOUTS, as_layout, eps, orthogonality_residual, qr_residual

THRESHOLD = 30
SQUARE = [1, 2, 3, 4, 5, 8, 16, 31, 32, 33, 64, 65, 100, 128, 129, 150, 200]
RECT = [(5, 3), (3, 5), (70, 20), (20, 70), (200, 40), (40, 200), (1, 4), (4, 1), (97, 33),
        (33, 97), (300, 70), (70, 300), (400, 97), (97, 400), (150, 130), (130, 150)]
MODES = ("reduced", "complete", "r", "raw")


def _randn(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _well_conditioned(rng, m, n, dtype=np.float64, cond=10.0):
    """U diag(s) V^T with singular values spread over [1, cond]."""
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((m, k)))
    v, _ = np.linalg.qr(rng.standard_normal((n, k)))
    s = np.geomspace(1, cond, k) if k else np.zeros(0)
    return ((u * s) @ v.T).astype(dtype)


def _check_factors(a, q, r, mode="reduced"):
    """Shapes as numpy's, R upper triangular, both LAPACK ratios below 30."""
    m, n = a.shape[-2:]
    qn, rn = np.linalg.qr(np.zeros(a.shape), mode=mode)
    assert q.shape == qn.shape and r.shape == rn.shape
    assert np.array_equal(r, np.triu(r))
    assert qr_residual(a, q, r) <= THRESHOLD
    assert orthogonality_residual(q) <= THRESHOLD


# ------------------------------------------------------------------ factorization

@pytest.mark.parametrize("n", SQUARE)
def test_square_residuals(n, dtype, rng):
    a = _randn(rng, (n, n), dtype)
    q, r = fl.qr(a)
    assert q.dtype == dtype and r.dtype == dtype
    _check_factors(a, q, r)


@pytest.mark.parametrize("m,n", RECT)
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_rectangular_residuals(m, n, mode, dtype, rng):
    a = _randn(rng, (m, n), dtype)
    q, r = fl.qr(a, mode=mode)
    _check_factors(a, q, r, mode)


@pytest.mark.parametrize("m,n", [(8, 8), (40, 40), (150, 150), (120, 50), (50, 120), (300, 7),
                                 (300, 70), (70, 300), (260, 200)])
def test_equals_numpy(m, n, dtype, rng):
    """Same reflectors as LAPACK: Q, R, h and tau agree with numpy's to rounding (a
    well-conditioned A moves them by at most ~cond * eps per unit of size)."""
    a = _well_conditioned(rng, m, n, dtype)
    tol = THRESHOLD * max(m, n) * eps(dtype) * 10
    for mode in ("reduced", "complete"):
        q, r = fl.qr(a, mode=mode)
        qn, rn = np.linalg.qr(a, mode=mode)
        assert np.abs(q - qn).max() <= tol and np.abs(r - rn).max() <= tol * np.abs(rn).max()
    r = fl.qr(a, mode="r")
    assert np.abs(r - np.linalg.qr(a, mode="r")).max() <= tol * np.abs(r).max()
    h, tau = fl.qr(a, mode="raw")
    hn, taun = np.linalg.qr(a, mode="raw")
    assert h.shape == hn.shape and tau.shape == taun.shape
    assert h.dtype == hn.dtype == dtype and tau.dtype == taun.dtype == dtype
    assert np.abs(h - hn).max() <= tol * max(np.abs(hn).max(), 1)
    assert np.abs(tau - taun).max() <= tol


def test_raw_layout_as_numpy(rng):
    """h is the transpose of the row-major factors, a view as numpy's (same strides)."""
    for shape in [(6, 4), (4, 6), (3, 2, 5, 4)]:
        a = _randn(rng, shape)
        h, tau = fl.qr(a, mode="raw")
        hn, taun = np.linalg.qr(a, mode="raw")
        assert h.shape == hn.shape and h.strides == hn.strides
        assert h.flags.f_contiguous == hn.flags.f_contiguous
        assert tau.shape == taun.shape
        assert np.abs(h - hn).max() < 1e-13 and np.abs(tau - taun).max() < 1e-13


def test_r_mode_matches_reduced(rng):
    a = _randn(rng, (90, 60))
    assert np.array_equal(fl.qr(a, mode="r"), fl.qr(a).R)


def test_qrresult_is_numpys(rng):
    res = fl.qr(_randn(rng, (4, 3)))
    assert type(res) is type(np.linalg.qr(np.eye(2)))
    assert res.Q is res[0] and res.R is res[1]


# ------------------------------------------------------------ special matrices

def test_zero_matrix_exact():
    """tau = 0 everywhere: Q = I and R = 0 exactly, as LAPACK."""
    for shape in [(5, 5), (7, 3), (3, 7), (80, 40)]:
        a = np.zeros(shape)
        q, r = fl.qr(a, mode="complete")
        qn, rn = np.linalg.qr(a, mode="complete")
        assert np.array_equal(q, qn) and np.array_equal(r, rn)
        h, tau = fl.qr(a, mode="raw")
        assert not tau.any() and not h.any()


@pytest.mark.parametrize("m,n,zero_cols", [(10, 6, [0]), (10, 6, [2, 5]), (60, 45, [0, 33, 40]),
                                           (6, 10, [1, 7]), (200, 90, [0, 31, 32, 70])])
def test_zero_columns(m, n, zero_cols, dtype, rng):
    a = _randn(rng, (m, n), dtype)
    a[:, zero_cols] = 0
    q, r = fl.qr(a)
    _check_factors(a, q, r)


@pytest.mark.parametrize("m,n,rank", [(20, 20, 5), (80, 60, 10), (60, 80, 1), (40, 40, 39),
                                      (200, 100, 10), (100, 200, 70)])
def test_rank_deficient(m, n, rank, dtype, rng):
    a = (_randn(rng, (m, rank)) @ _randn(rng, (rank, n))).astype(dtype)
    q, r = fl.qr(a, mode="complete")
    _check_factors(a, q, r, "complete")


def test_graded_and_tiny_scales(rng):
    """Columns of wildly different size and entries near under/overflow: the scaled
    norm and larfg's rescaling keep the factors accurate."""
    a = _randn(rng, (30, 12)) * np.logspace(-150, 150, 12)
    _check_factors(a, *fl.qr(a))
    for scale in (1e-300, 1e-310, 1e300):
        b = _randn(rng, (12, 8)) * scale
        q, r = fl.qr(b)
        assert orthogonality_residual(q) <= THRESHOLD
        qn, rn = np.linalg.qr(b)
        assert np.abs(q - qn).max() < 1e-10
        assert np.abs(r - rn).max() <= 1e-10 * np.abs(rn).max()


def test_one_by_one():
    for x in (3.0, -3.0, 0.0):
        for mode in MODES:
            got, want = fl.qr(np.array([[x]]), mode=mode), np.linalg.qr(np.array([[x]]), mode=mode)
            for g, w in zip(got if mode != "r" else [got], want if mode != "r" else [want]):
                assert np.array_equal(g, w) and g.shape == w.shape


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3), (2, 3, 0), (0, 4, 4),
                                   (0, 2, 3)])
@pytest.mark.parametrize("mode", MODES)
def test_empty(shape, mode):
    a = np.zeros(shape)
    got, want = fl.qr(a, mode=mode), np.linalg.qr(a, mode=mode)
    if mode == "r":
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert np.array_equal(g, w)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_no_crash(bad, rng):
    """Non-finite input ends (no hang, no exception) and poisons the result, as numpy's."""
    for shape in [(6, 4), (70, 50)]:
        a = _randn(rng, shape)
        a[2, 1] = bad
        q, r = fl.qr(a)
        qn, rn = np.linalg.qr(a)
        assert q.shape == qn.shape and r.shape == rn.shape
        assert not np.isfinite(q).all() and not np.isfinite(r).all()
        assert np.array_equal(np.isfinite(r[:, :1]), np.isfinite(rn[:, :1]))


# --------------------------------------------------------------- stacks, layouts

def test_stacked_equals_loop(dtype, rng):
    for shape in [(2, 3, 5, 4), (7, 4, 4), (3, 40, 35), (1000, 3, 3), (300, 8, 5), (2, 150, 140)]:
        a = _randn(rng, shape, dtype)
        for mode in MODES:
            got = fl.qr(a, mode=mode)
            for idx in np.ndindex(shape[:-2]):
                one = fl.qr(a[idx], mode=mode)
                if mode == "r":
                    assert np.array_equal(got[idx], one)
                elif mode == "raw":
                    assert np.array_equal(got[0][idx], one[0])
                    assert np.array_equal(got[1][idx], one[1])
                else:
                    assert np.array_equal(got.Q[idx], one.Q) and np.array_equal(got.R[idx], one.R)
        q, r = fl.qr(a)
        assert qr_residual(a, q, r) <= THRESHOLD and orthogonality_residual(q) <= THRESHOLD


@pytest.mark.parametrize("k", [2, 3, 4, 5, 8, 16])
def test_stacked_small_equals_numpy(k, rng):
    a = _randn(rng, (500, k, k))
    q, r = fl.qr(a)
    qn, rn = np.linalg.qr(a)
    assert np.abs(q - qn).max() < 1e-8 and np.abs(r - rn).max() < 1e-8
    assert qr_residual(a, q, r) <= THRESHOLD and orthogonality_residual(q) <= THRESHOLD


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts(layout, rng):
    """Every layout gives the C-ordered result; (5, 4, 4) and (9000, 30) are read in
    place with their strides by the lane kernels and TSQR."""
    for shape in [(7, 5), (3, 6, 4), (50, 40), (5, 4, 4), (9000, 30)]:
        a = _randn(rng, shape)
        x = as_layout(a, layout)
        before = x.copy()
        for mode in ("reduced", "raw", "r"):
            got, want = fl.qr(x, mode=mode), fl.qr(a, mode=mode)
            if mode == "r":
                got, want = [got], [want]
            assert all(np.array_equal(g, w) for g, w in zip(got, want))
        assert np.array_equal(x, before)              # input unchanged


def test_inputs_unchanged(rng):
    a = _randn(rng, (60, 45))
    a.flags.writeable = False
    for mode in MODES:
        fl.qr(a, mode=mode)
    b = _randn(rng, (4, 4))
    keep = b.copy()
    fl.qr(b)
    assert np.array_equal(b, keep)


# --------------------------------------------------------------------- dtypes

def test_dtype_rules():
    for dt, want in [(np.int64, np.float64), (np.int8, np.float64), (bool, np.float64),
                     (np.float32, np.float32), (np.float64, np.float64)]:
        a = (np.arange(12).reshape(4, 3) % 5).astype(dt)
        for mode in MODES:
            got, ref = fl.qr(a, mode=mode), np.linalg.qr(a, mode=mode)
            got = [got] if mode == "r" else got
            ref = [ref] if mode == "r" else ref
            for g, r in zip(got, ref):
                assert g.dtype == r.dtype == want


def test_float32_computed_in_float64(rng):
    """numpy's rule: float32 factors are float64 ones rounded once."""
    a = _randn(rng, (50, 40), np.float32)
    q, r = fl.qr(a)
    q64, r64 = fl.qr(a.astype(np.float64))
    assert np.array_equal(q, q64.astype(np.float32)) and np.array_equal(r, r64.astype(np.float32))


def test_float32_native(rng):
    a = _randn(rng, (120, 70), np.float32)
    with fastla.float32_compute("float32"):
        q, r = fl.qr(a)
    assert q.dtype == r.dtype == np.float32
    _check_factors(a, q, r)


def test_subclass_wrapped(rng):
    class Sub(np.ndarray):
        pass
    a = _randn(rng, (5, 4)).view(Sub)
    q, r = fl.qr(a)
    qn, rn = np.linalg.qr(a)
    assert type(q) is type(qn) and type(r) is type(rn)


# --------------------------------------------------------------------- errors

def _raises_like_numpy(call_fl, call_np):
    with pytest.raises(Exception) as want:
        call_np()
    with pytest.raises(want.type) as got:
        call_fl()
    return str(got.value), str(want.value)


def test_errors_as_numpy():
    got, want = _raises_like_numpy(lambda: fl.qr(np.ones(3)), lambda: np.linalg.qr(np.ones(3)))
    assert got == want
    got, want = _raises_like_numpy(lambda: fl.qr(np.eye(3), mode="x"),
                                   lambda: np.linalg.qr(np.eye(3), mode="x"))
    assert got == want
    with pytest.raises(TypeError, match="float32 and float64"):
        fl.qr(np.eye(3, dtype=np.float16))
    with pytest.raises(TypeError):
        fl.qr(np.eye(3, dtype=complex))


@pytest.mark.parametrize("mode,new", [("full", "reduced"), ("f", "reduced"), ("economic", None),
                                      ("e", None)])
def test_deprecated_modes(mode, new, rng):
    a = _randn(rng, (6, 4))
    with pytest.warns(DeprecationWarning) as rec:
        got = fl.qr(a, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        want = np.linalg.qr(a, mode=mode)
    assert str(rec[0].message) in {"The 'full' option is deprecated in favor of 'reduced'.\n"
                                   "For backward compatibility let mode default.",
                                   "The 'economic' option is deprecated."}
    if new is None:
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-13
    else:
        assert all(np.abs(g - w).max() < 1e-13 for g, w in zip(got, want))


def test_signature_as_numpy():
    assert inspect.signature(fl.qr) == inspect.signature(np.linalg.qr)
    assert "qr" in fl.__all__


# ------------------------------------------------------------------ tall-skinny

# TSQR (src/qr.pxd tsqr) takes R and Q of matrices with n <= 128 and at least two row
# blocks of max(2n, 131072 // n) rows; the reflectors ('raw') always come from geqrf.
TALL = [(14000, 20), (7000, 40), (4500, 64), (90000, 3), (2100, 128), (270001, 1)]


def test_tall_shapes_take_tsqr():
    from fastla._kernels import qr as kernels
    assert all(kernels.tsqr_takes(m, n) for m, n in TALL)
    assert not kernels.tsqr_takes(10000, 20) and not kernels.tsqr_takes(3000, 129)


@pytest.mark.parametrize("m,n", TALL)
def test_tall_skinny_equals_numpy(m, n, dtype, rng):
    """TSQR with the Householder signs recovered: Q and R are numpy's to rounding."""
    a = _well_conditioned(rng, m, n, dtype)
    tol = THRESHOLD * m * eps(dtype) * 10
    q, r = fl.qr(a)
    qn, rn = np.linalg.qr(a)
    _check_factors(a, q, r)
    assert np.abs(q - qn).max() <= tol and np.abs(r - rn).max() <= tol * np.abs(rn).max()
    assert np.array_equal(fl.qr(a, mode="r"), r)


def test_tall_skinny_rank_deficient_and_stacked(rng):
    a = _randn(rng, (3, 9000, 30))
    a[1, :, 5] = 0
    a[2, :, 7] = a[2, :, 3]
    q, r = fl.qr(a)
    assert qr_residual(a, q, r) <= THRESHOLD and orthogonality_residual(q) <= THRESHOLD
    assert np.array_equal(r, np.triu(r))
    assert np.array_equal(fl.qr(a[2]).R, r[2])


def test_tall_skinny_nan(rng):
    a = _randn(rng, (14000, 20))
    a[4321, 3] = np.nan
    q, r = fl.qr(a)
    assert np.isnan(r).any() and np.isnan(q).any()


@pytest.mark.parametrize("m,n", [(203, 150), (150, 203), (9001, 30)])
def test_blocked_copy_tails(m, n, dtype, rng):
    """geqrf's panel copies and TSQR's block copies (qr.pxd copy_strided) go by tiles of
    8 rows when they transpose: row counts that are not multiples of 8, blocked shapes
    (m n > QR_SMALL_MN) and TSQR, from C and Fortran inputs, give numpy's factors."""
    a = _well_conditioned(rng, m, n, dtype) if m >= n else _randn(rng, (m, n)).astype(dtype)
    tol = THRESHOLD * max(m, n) * eps(dtype) * 10
    for x in (a, np.asfortranarray(a), a[::-1][::-1]):
        q, r = fl.qr(x)
        _check_factors(a, q, r)
        qn, rn = np.linalg.qr(a)
        if m >= n:
            assert np.abs(q - qn).max() <= tol
            assert np.abs(r - rn).max() <= tol * np.abs(rn).max()

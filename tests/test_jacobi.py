"""The Jacobi family (src/jacobi ↔ fastla/linalg/_jacobi.py) against numpy.linalg and a
high-precision reference.

Accuracy: LAPACK's scaled residuals with threshold 30 (DESIGN.md §4):
‖A − U Σ Vᵀ‖ / (max(m, n) eps ‖A‖), ‖UᵀU − I‖ / (m eps), ‖A Z − Z Λ‖ / (n eps ‖A‖);
and the promise Jacobi makes beyond LAPACK: on graded matrices every singular value,
and every eigenvalue of a graded positive definite matrix, to a relative error of
1e-13 against mpmath (tests/_jacobi_reference.py).
"""

import inspect
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastla
import fastla.linalg as fl
from _jacobi_reference import battery, load, reference
from _residuals import LAYOUTS, as_layout, eps

THRESHOLD = 30
SHAPES = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 3), (3, 5), (8, 8), (16, 16), (17, 9),
          (9, 17), (40, 40), (64, 20), (20, 64), (1, 6), (6, 1), (100, 7)]


def _randn(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _norm(x):
    """Frobenius norm over the last two axes, in float64 or longdouble."""
    return np.sqrt((np.abs(x) ** 2).sum(axis=(-2, -1)))


def _ref(x):
    return x.astype(np.longdouble if x.dtype == np.float64 else np.float64)


def _svd_residuals(a, u, s, vh):
    """(reconstruction, U orthogonality, V orthogonality) scaled residuals, max over a stack."""
    m, n = a.shape[-2:]
    k = min(m, n)
    e = eps(u.dtype)
    ar = _ref(a.astype(u.dtype))
    ur, sr, vr = _ref(u), _ref(s), _ref(vh)
    recon = (ur[..., :, :k] * sr[..., None, :]) @ vr[..., :k, :]
    na = _norm(ar)
    res = _norm(ar - recon) / (max(m, n) * e * np.where(na > 0, na, 1))
    ou = _norm(np.swapaxes(ur, -1, -2) @ ur - np.eye(ur.shape[-1])) / (max(m, 1) * e)
    ov = _norm(vr @ np.swapaxes(vr, -1, -2) - np.eye(vr.shape[-2])) / (max(n, 1) * e)
    return float(np.max(res)), float(np.max(ou)), float(np.max(ov))


def _assert_svd(a, r, full_matrices):
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = r
    assert isinstance(r, np.linalg._linalg.SVDResult)
    assert u.shape == a.shape[:-2] + ((m, m) if full_matrices else (m, k))
    assert vh.shape == a.shape[:-2] + ((n, n) if full_matrices else (k, n))
    assert s.shape == a.shape[:-2] + (k,)
    assert np.all(s >= 0) and np.all(np.diff(s, axis=-1) <= 0)
    res = _svd_residuals(a, u, s, vh)
    assert max(res) <= THRESHOLD, res


def _assert_eigh(a, w, v, lower=True):
    n = a.shape[-1]
    e = eps(v.dtype)
    h = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2) if lower else \
        np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)
    hr, wr, vr = _ref(h.astype(v.dtype)), _ref(w), _ref(v)
    nh = _norm(hr)
    res = _norm(hr @ vr - vr * wr[..., None, :]) / (n * e * np.where(nh > 0, nh, 1))
    orth = _norm(np.swapaxes(vr, -1, -2) @ vr - np.eye(n)) / (n * e)
    assert np.all(np.diff(w, axis=-1) >= 0)
    assert np.max(res) <= THRESHOLD and np.max(orth) <= THRESHOLD, (np.max(res), np.max(orth))


# ------------------------------------------------------------------ SVD

@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_svd_residuals(shape, full_matrices, dtype, rng):
    a = _randn(rng, shape, dtype)
    r = fl.svd(a, full_matrices=full_matrices)
    assert r.U.dtype == r.S.dtype == r.Vh.dtype == dtype
    _assert_svd(a, r, full_matrices)
    np.testing.assert_allclose(r.S, np.linalg.svd(a, compute_uv=False),
                               rtol=50 * max(shape) * eps(dtype), atol=0)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_singular_values_without_vectors_match(shape, dtype, rng):
    a = _randn(rng, shape, dtype)
    s = fl.svd(a, compute_uv=False)
    assert s.dtype == dtype
    np.testing.assert_allclose(s, fl.svd(a).S, rtol=10 * max(shape) * eps(dtype), atol=0)
    np.testing.assert_array_equal(fl.svdvals(a), s)


@pytest.mark.parametrize("n", [96, 97])
def test_both_sweep_orders(n, dtype, rng):
    """Orders up to 96 sweep in round-robin rounds, larger ones in de Rijk's order
    (jacobi.pxd, ROUND_ROBIN_MAX_LEN): both give numpy's singular values and
    eigenvalues within the scaled residual bounds."""
    a = _randn(rng, (n, n), dtype)
    r = fl.svd(a)
    _assert_svd(a, r, True)
    np.testing.assert_allclose(r.S, np.linalg.svd(a, compute_uv=False),
                               rtol=50 * n * eps(dtype), atol=0)
    h = a + a.T
    w, v = fl.eigh(h)
    _assert_eigh(h, w, v)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(h),
                               atol=50 * n * eps(dtype) * np.abs(w).max(), rtol=0)


def test_graded_battery_relative_accuracy():
    """Every singular value / eigenvalue of the graded battery to 1e-13 relative
    (numpy's gesdd and syevd are off by up to 1e7 and 1e31 on the same matrices)."""
    for name, (a, ref) in load().items():
        got = fl.svdvals(a) if name.startswith("svd") else fl.eigvalsh(a)
        err = np.max(np.abs(got - ref) / np.abs(ref))
        assert err <= 1e-13, (name, err)
        if name.startswith("svd"):
            u, s, vh = fl.svd(a)
            assert np.max(np.abs(s - ref) / ref) <= 1e-13, name
            assert max(_svd_residuals(a, u, s, vh)) <= THRESHOLD, name
        else:
            w, v = fl.eigh(a)
            assert np.max(np.abs(w - ref) / ref) <= 1e-13, name
            _assert_eigh(a, w, v)


def test_graded_battery_reference_is_mpmath():
    """The stored reference is what mpmath computes (checked on the n = 20 matrices,
    which take a fraction of a second)."""
    pytest.importorskip("mpmath")
    stored = load()
    for name, a in battery().items():
        if a.shape[0] == 20:
            np.testing.assert_array_equal(stored[name][0], a)
            np.testing.assert_array_equal(stored[name][1], reference(name, a))


@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9)], ids=str)
def test_rank_deficient_and_zero(shape, dtype, rng):
    m, n = shape
    r = 2
    a = (_randn(rng, (m, r)) @ _randn(rng, (r, n))).astype(dtype)
    for x in (a, np.zeros(shape, dtype), np.ones(shape, dtype)):
        for full in (True, False):
            _assert_svd(x, fl.svd(x, full_matrices=full), full)
    s = fl.svdvals(a)
    assert np.all(s[r:] <= 30 * max(shape) * eps(dtype) * s[0])
    np.testing.assert_array_equal(fl.svdvals(np.zeros(shape, dtype)), 0)


def test_repeated_singular_values(dtype, rng):
    q, _ = np.linalg.qr(_randn(rng, (12, 12)))
    for a in (3 * q, np.eye(7), np.diag([2.0, 2, 2, 1, 1, 0, 0]), q[:, :5] * 4):
        a = a.astype(dtype)
        r = fl.svd(a)
        _assert_svd(a, r, True)
        np.testing.assert_allclose(r.S, np.linalg.svd(a, compute_uv=False),
                                   rtol=0, atol=50 * eps(dtype) * max(1, r.S[0]))


@pytest.mark.parametrize("k", [2, 3, 4, 8, 16])
def test_stacks_equal_loop(k, dtype, rng):
    a = _randn(rng, (3, 50, k, k), dtype)
    r = fl.svd(a)
    _assert_svd(a, r, True)
    s = r.S
    for idx in [(0, 0), (2, 49), (1, 17)]:
        np.testing.assert_allclose(s[idx], fl.svdvals(a[idx]), rtol=20 * k * eps(dtype))
    w, v = fl.eigh(a)
    _assert_eigh(a, w, v)


def test_stack_of_rectangular(dtype, rng):
    for shape in [(4, 7, 3), (4, 3, 7), (2, 3, 1, 5)]:
        a = _randn(rng, shape, dtype)
        for full in (True, False):
            _assert_svd(a, fl.svd(a, full_matrices=full), full)


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0), (2, 0, 3), (0, 2, 2), (2, 3, 0)],
                         ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_empty_like_numpy(shape, full_matrices):
    a = np.zeros(shape)
    ours, theirs = fl.svd(a, full_matrices=full_matrices), np.linalg.svd(a, full_matrices=full_matrices)
    for x, y in zip(ours, theirs):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    assert fl.svdvals(a).shape == np.linalg.svdvals(a).shape
    if shape[-1] == shape[-2]:
        for x, y in zip(fl.eigh(a), np.linalg.eigh(a)):
            assert x.shape == y.shape and x.dtype == y.dtype
        assert fl.eigvalsh(a).shape == np.linalg.eigvalsh(a).shape


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_and_inputs_unchanged(layout, dtype, rng):
    for shape in [(2, 7, 5), (2, 5, 7), (3, 6, 6)]:
        a0 = _randn(rng, shape, dtype)
        a = as_layout(a0, layout)
        before = a.copy()
        s = fl.svdvals(a)
        np.testing.assert_array_equal(s, fl.svdvals(a0))
        r = fl.svd(a)
        _assert_svd(a0, r, True)
        if shape[-1] == shape[-2]:
            w, v = fl.eigh(a)
            np.testing.assert_array_equal(w, fl.eigvalsh(a0))
            _assert_eigh(a0, w, v)
        np.testing.assert_array_equal(a, before)


def test_broadcast_stack_views(rng):
    a = np.broadcast_to(_randn(rng, (5, 4)), (3, 5, 4))
    s = fl.svdvals(a)
    np.testing.assert_array_equal(s[0], s[2])


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_, np.float32, np.float64])
def test_result_dtypes_like_numpy(dt):
    a = (np.arange(12).reshape(3, 4) % 5).astype(dt)
    h = (a[:, :3] + a[:, :3].T).astype(dt)
    for f, x in [(fl.svd, a), (fl.svdvals, a), (fl.eigh, h), (fl.eigvalsh, h), (fl.pinv, a),
                 (fl.cond, h)]:
        ours, theirs = f(x), getattr(np.linalg, f.__name__)(x)
        for o, t in zip(ours if isinstance(ours, tuple) else (ours,),
                        theirs if isinstance(theirs, tuple) else (theirs,)):
            assert np.asarray(o).dtype == np.asarray(t).dtype, f.__name__


def test_float32_computed_in_float64_by_default(rng):
    """float32 results are float64 results rounded (numpy's rule); the native mode
    computes in float32 with float32 accuracy."""
    a = _randn(rng, (30, 20), np.float32)
    s = fl.svdvals(a)
    np.testing.assert_array_equal(s, fl.svdvals(a.astype(np.float64)).astype(np.float32))
    with fastla.float32_compute("float32"):
        r = fl.svd(a)
        w, v = fl.eigh(a.T @ a)
    assert r.U.dtype == np.float32 and w.dtype == np.float32
    _assert_svd(a, r, True)
    _assert_eigh(a.T @ a, w, v)


def test_unsupported_dtypes():
    for dt in (np.float16, np.complex128, object):
        with pytest.raises(TypeError):
            fl.svd(np.ones((2, 2), dtype=dt))
        with pytest.raises(TypeError):
            fl.eigh(np.ones((2, 2), dtype=dt))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_like_numpy(bad):
    a = np.ones((3, 3))
    a[2, 1] = bad                            # in the lower triangle, which eigh reads
    for f in (fl.svd, fl.svdvals, fl.pinv, fl.matrix_rank):
        with pytest.raises(np.linalg.LinAlgError, match="^SVD did not converge$"):
            f(a)
    with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge in Linear Least Squares"):
        fl.lstsq(a, np.ones(3))
    w, v = fl.eigh(a)                        # numpy's eigh does not fail either
    assert np.isnan(w).all() and np.isnan(v).all()
    assert np.isnan(fl.eigvalsh(a)).all()


def test_errors_policy_on_stack(rng):
    a = _randn(rng, (4, 3, 3))
    a[2, 0, 0] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match=r"SVD did not converge \(at batch index 2\)"):
        fl.svd(a)
    u, s, vh = fl.svd(a, errors="nan")
    assert np.isnan(s[2]).all() and np.isnan(u[2]).all() and not np.isnan(s[[0, 1, 3]]).any()
    s, info = fl.svdvals(a, errors="info")
    assert info.dtype == np.int32 and info[2] > 0 and not info[[0, 1, 3]].any()
    with pytest.raises(ValueError):
        fl.svd(a, errors="ignore")


# ------------------------------------------------------------------ eigh

@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 16, 17, 40, 41, 64])
@pytest.mark.parametrize("UPLO", ["L", "U", "l"])
def test_eigh_residuals_and_reads_one_triangle(n, UPLO, dtype, rng):
    a = _randn(rng, (n, n), dtype)
    junk = a.copy()
    lower = UPLO.upper() == "L"
    # The other triangle holds garbage: it must not be read.
    idx = np.triu_indices(n, 1) if lower else np.tril_indices(n, -1)
    junk[idx] = 1e30
    w, v = fl.eigh(junk, UPLO=UPLO)
    assert w.dtype == v.dtype == dtype
    _assert_eigh(a, w, v, lower)
    np.testing.assert_array_equal(fl.eigvalsh(junk, UPLO), w)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(a, UPLO),
                               rtol=0, atol=30 * n * eps(dtype) * np.abs(w).max())


def test_eigh_indefinite_singular_and_repeated(rng):
    q, _ = np.linalg.qr(_randn(rng, (10, 10)))
    for lam in ([3, -3, 0, 0, 1e-20, -1, 1, 2, 2, 2], [0] * 10, [1] * 10):
        h = (q * lam) @ q.T
        h = (h + h.T) / 2
        w, v = fl.eigh(h)
        _assert_eigh(h, w, v)
        np.testing.assert_allclose(w, np.sort(lam), rtol=0, atol=100 * eps(np.float64))


@pytest.mark.parametrize("n", [11, 16, 41, 48])
def test_eigh_cholesky_path_indefinite_and_singular(n, rng):
    """Above order 10 eigh is Cholesky + one-sided Jacobi; indefinite input takes the
    shifted Cholesky.  Pairs +-lambda (whose singular vectors of H itself would mix
    the two eigenspaces), zero, singular, negative definite and repeated spectra."""
    q, _ = np.linalg.qr(_randn(rng, (n, n)))
    for lam in (np.resize([3, -3, 0, 0, 1e-20, -1, 1, 2, 2, 2], n), np.zeros(n),
                -np.linspace(1, 2, n), np.linspace(0, 1, n), np.ones(n)):
        h = (q * lam) @ q.T
        h = (h + h.T) / 2
        w, v = fl.eigh(h)
        _assert_eigh(h, w, v)
        np.testing.assert_allclose(w, np.sort(lam), rtol=0,
                                   atol=30 * n * eps(np.float64) * max(1, np.abs(lam).max()))
        np.testing.assert_array_equal(fl.eigvalsh(h), w)


@pytest.mark.parametrize("shape", [(17, 8, 8), (9, 5, 5), (5, 12, 12), (3, 45, 45)], ids=str)
def test_eigh_reads_contiguous_stack_in_place(shape, rng):
    """A C-contiguous stack of the compute dtype goes to the driver without a working
    copy (lanes with a remainder, and the Cholesky route): it must come back
    unchanged, the other triangle unread, each slice as computed alone."""
    a = _randn(rng, shape)
    before = a.copy()
    for uplo in ("L", "U"):
        w, v = fl.eigh(a, uplo)
        np.testing.assert_array_equal(a, before)
        np.testing.assert_array_equal(fl.eigvalsh(a, uplo), w)
        for i in (0, shape[0] - 1):
            wi, vi = fl.eigh(a[i].copy(), uplo)
            np.testing.assert_allclose(w[i], wi, rtol=0, atol=1e-13 * np.abs(wi).max())
        tri = np.tril(a) if uplo == "L" else np.triu(a)
        h = tri + np.swapaxes(tri, -1, -2) - tri * np.eye(shape[-1])
        _assert_eigh(h, w, v)


def test_eigh_uplo_errors_like_numpy():
    with pytest.raises(ValueError, match="UPLO argument must be 'L' or 'U'"):
        fl.eigh(np.eye(2), UPLO="X")
    for f in (fl.eigh, fl.eigvalsh):
        with pytest.raises(np.linalg.LinAlgError, match="Last 2 dimensions"):
            f(np.ones((2, 3)))
        with pytest.raises(np.linalg.LinAlgError, match="1-dimensional array given"):
            f(np.ones(3))


def test_svd_hermitian_like_numpy(rng):
    h = _randn(rng, (2, 6, 6))
    h = h + np.swapaxes(h, -1, -2)
    r = fl.svd(h, hermitian=True)
    _assert_svd(h, r, True)
    s = r.S
    np.testing.assert_allclose(s, np.linalg.svd(h, hermitian=True, compute_uv=False),
                               rtol=1e-13)
    np.testing.assert_allclose(fl.svd(h, compute_uv=False, hermitian=True), s, rtol=1e-13)


# ------------------------------------------------ pinv, matrix_rank, lstsq, cond, norm

@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7), (2, 4, 6)], ids=str)
def test_pinv_like_numpy(shape, dtype, rng):
    a = _randn(rng, shape, dtype)
    p = fl.pinv(a)
    assert p.dtype == dtype and p.shape == np.linalg.pinv(a).shape
    np.testing.assert_allclose(p, np.linalg.pinv(a), rtol=0, atol=1e3 * eps(dtype) * np.abs(p).max())
    low = (_randn(rng, shape[:-1] + (2,)) @ _randn(rng, shape[:-2] + (2, shape[-1]))).astype(dtype)
    for kw in ({}, {"rcond": 1e-6}, {"rtol": None}, {"rtol": 1e-6}, {"hermitian": False}):
        np.testing.assert_allclose(fl.pinv(low, **kw), np.linalg.pinv(low, **kw), rtol=0,
                                   atol=1e3 * eps(dtype) * np.abs(np.linalg.pinv(low)).max())
    with pytest.raises(ValueError, match="can't be both set"):
        fl.pinv(a, rcond=1e-3, rtol=1e-3)
    assert fl.pinv(np.zeros((0, 3))).shape == (3, 0)


def test_matrix_rank_like_numpy(rng):
    cases = [np.eye(4), np.zeros((3, 3)), np.ones((4, 3)), np.array([1.0, 0]), np.zeros(3),
             _randn(rng, (6, 2)) @ _randn(rng, (2, 5)), _randn(rng, (3, 5, 5))]
    for a in cases:
        for kw in ({}, {"tol": 1e-3}, {"rtol": 1e-3}):
            assert np.array_equal(fl.matrix_rank(a, **kw), np.linalg.matrix_rank(a, **kw))
    assert fl.matrix_rank(np.eye(3), hermitian=True) == 3
    with pytest.raises(ValueError, match="can't be both set"):
        fl.matrix_rank(np.eye(3), tol=1, rtol=1)


@pytest.mark.parametrize("shape,nrhs", [((8, 5), None), ((8, 5), 3), ((5, 8), 2), ((6, 6), None),
                                        ((100, 7), 2), ((3, 3), 0), ((0, 3), 1), ((4, 0), None)])
def test_lstsq_like_numpy(shape, nrhs, dtype, rng):
    a = _randn(rng, shape, dtype)
    b = _randn(rng, (shape[0],) if nrhs is None else (shape[0], nrhs), dtype)
    x, res, rank, s = fl.lstsq(a, b)
    xn, resn, rankn, sn = np.linalg.lstsq(a, b)
    assert x.dtype == xn.dtype and x.shape == xn.shape
    assert res.dtype == resn.dtype and res.shape == resn.shape
    assert rank == rankn and type(int(rank)) is int and s.shape == sn.shape
    tol = 100 * max(shape + (1,)) * eps(dtype)
    np.testing.assert_allclose(x, xn, rtol=0, atol=tol * max(1, np.abs(xn).max(initial=0)))
    np.testing.assert_allclose(res, resn, rtol=tol, atol=tol)
    np.testing.assert_allclose(s, sn, rtol=tol)


def test_lstsq_rank_deficient_and_stacked(rng):
    a = _randn(rng, (9, 2)) @ _randn(rng, (2, 4))
    b = _randn(rng, (9, 3))
    for rcond in (None, 1e-8, -1):
        x, res, rank, s = fl.lstsq(a, b, rcond=rcond)
        xn, resn, rankn, sn = np.linalg.lstsq(a, b, rcond=rcond)
        assert rank == rankn == 2 and res.shape == resn.shape == (0,)
        np.testing.assert_allclose(x, xn, atol=1e-12)
    A = _randn(rng, (4, 12, 5))
    B = _randn(rng, (4, 12, 2))
    x, res, rank, s = fl.lstsq(A, B)
    assert x.shape == (4, 5, 2) and res.shape == (4, 2) and rank.shape == (4,) and s.shape == (4, 5)
    for i in range(4):
        xi, ri, ki, si = np.linalg.lstsq(A[i], B[i])
        np.testing.assert_allclose(x[i], xi, atol=1e-13)
        np.testing.assert_allclose(res[i], ri, rtol=1e-12)
        assert rank[i] == ki
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible dimensions"):
        fl.lstsq(np.ones((3, 2)), np.ones(4))
    with pytest.raises(np.linalg.LinAlgError, match="1-dimensional array given"):
        fl.lstsq(np.ones(3), np.ones(3))


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (3, 7), (7, 3), (16, 4), (4, 16),
                                   (16, 16), (2, 16)], ids=str)
@pytest.mark.parametrize("full_matrices", [True, False])
@pytest.mark.parametrize("layout", ["C", "F", "reversed", "misaligned"])
def test_svd_small_call_equals_general_path(shape, full_matrices, layout, dtype, rng):
    """One matrix with both sides <= 16 takes svd_2d (jacobi.pyx; a wide one through
    its transpose), a stack of one the general path: same shapes, dtypes and values
    to rounding, and cond's small path the same numbers as numpy's."""
    a = _randn(rng, shape, dtype)
    a_in = as_layout(a, layout)
    saved = a_in.copy()
    one = fl.svd(a_in, full_matrices=full_matrices)
    stack = fl.svd(a[None], full_matrices=full_matrices)
    _assert_svd(a, one, full_matrices)
    k = min(shape)
    tol = 100 * max(shape) * eps(dtype)
    for x, y in zip(one, stack):
        assert x.shape == y.shape[1:] and x.dtype == y.dtype == dtype
    np.testing.assert_allclose(one.S, stack.S[0], rtol=tol)
    # singular vectors agree up to sign (distinct singular values)
    sgn = np.sign(np.sum(one.U[:, :k] * stack.U[0][:, :k], axis=0))
    np.testing.assert_allclose(one.U[:, :k] * sgn, stack.U[0][:, :k], atol=tol)
    np.testing.assert_allclose(one.Vh[:k] * sgn[:, None], stack.Vh[0][:k], atol=tol)
    np.testing.assert_array_equal(fl.svdvals(a_in), fl.svd(a_in, compute_uv=False))
    for p in (None, 2, -2):
        c = fl.cond(a_in, p)
        assert type(c) is type(np.linalg.cond(a, p))
        np.testing.assert_allclose(c, np.linalg.cond(a, p), rtol=tol * 100)
    np.testing.assert_array_equal(a_in, saved)


def test_cond_small_call_singular_and_zero_like_numpy():
    tiny64, tiny32 = np.diag([1.0, 1e-310]), np.diag([1.0, 1e-40]).astype(np.float32)
    for z in (np.zeros((3, 3)), np.zeros((2, 5)), np.array([[1.0, 0], [0, 0]]), np.eye(4),
              tiny64, tiny32):
        for p in (None, 2, -2):
            with warnings.catch_warnings():
                warnings.simplefilter("error")          # numpy's cond warns on nothing
                c = fl.cond(z, p)
            assert c == np.linalg.cond(z, p) and type(c) is type(np.linalg.cond(z, p))


@pytest.mark.parametrize("shape,nrhs", [((1, 1), None), ((4, 4), None), ((8, 5), 3),
                                        ((32, 16), 16), ((16, 16), 1), ((20, 3), None)])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_lstsq_small_call_equals_general_path(shape, nrhs, layout, dtype, rng):
    """A single small system takes lstsq_2d (jacobi.pyx); a stack of one the general
    path: the same algorithm, so the same results to rounding, types and shapes."""
    m, n = shape
    a = _randn(rng, shape, dtype)
    a[:, -1] = a[:, 0]                        # rank deficient: the rcond cut matters
    b = _randn(rng, (m,) if nrhs is None else (m, nrhs), dtype)
    a_in = as_layout(a, layout)
    b_in = b if layout == "C" else (np.asfortranarray(b) if layout == "F" else b[::-1].copy()[::-1])
    saved = a_in.copy(), b_in.copy()
    for rcond in (None, 1e-3, -1):
        one = fl.lstsq(a_in, b_in, rcond=rcond)
        stack = fl.lstsq(a[None], b[None] if nrhs is not None else b[None, :, None], rcond=rcond)
        x = stack[0][0] if nrhs is not None else stack[0][0, :, 0]
        tol = 100 * m * eps(dtype)
        assert one[0].dtype == one[1].dtype == one[3].dtype == dtype
        assert one[0].shape == x.shape and type(one[2]) is np.int32
        assert one[2] == stack[2][0] == (n - 1 if n > 1 else 1)
        np.testing.assert_allclose(one[0], x, rtol=0, atol=tol * max(1, np.abs(x).max()))
        np.testing.assert_allclose(one[3], stack[3][0], rtol=tol)
        assert one[1].shape == (0,)           # rank deficient: no residuals, as numpy
    np.testing.assert_array_equal(a_in, saved[0])
    np.testing.assert_array_equal(b_in, saved[1])


def test_lstsq_small_call_residuals_and_nonfinite(rng):
    a, b = _randn(rng, (9, 4)), _randn(rng, (9, 2))
    x, res, rank, s = fl.lstsq(a, b)
    np.testing.assert_allclose(res, ((b - a @ x) ** 2).sum(axis=0), rtol=1e-12)
    assert rank == 4 and res.shape == (2,)
    a[2, 1] = np.nan
    with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge"):
        np.linalg.lstsq(a, b)
    with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge"):
        fl.lstsq(a, b)


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond_like_numpy(p, rng):
    a = _randn(rng, (3, 4, 4))
    np.testing.assert_allclose(fl.cond(a, p), np.linalg.cond(a, p), rtol=1e-10)
    sing = np.array([[1.0, 2], [2, 4]])
    try:
        expected = np.linalg.cond(sing, p)
    except np.linalg.LinAlgError as e:         # 'nuc': the SVD of inv's NaNs fails
        with pytest.raises(np.linalg.LinAlgError, match=str(e)):
            fl.cond(sing, p)
    else:
        assert np.isinf(fl.cond(sing, p)) == np.isinf(expected) or p in (None, 2, -2)
    with pytest.raises(np.linalg.LinAlgError, match="cond is not defined on empty arrays"):
        fl.cond(np.zeros((0, 0)), p)


def test_cond_nan_and_singular_like_numpy():
    sing = np.array([[1.0, 2], [2, 4]])
    assert fl.cond(sing, 1) == np.linalg.cond(sing, 1) == np.inf
    withnan = np.array([[1.0, np.nan], [0, 1]])
    assert np.isnan(fl.cond(withnan, 1)) and np.isnan(np.linalg.cond(withnan, 1))


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_matrix_norms_use_jacobi(ord, rng):
    a = _randn(rng, (3, 5, 4))
    np.testing.assert_allclose(fl.norm(a, ord, axis=(-2, -1)), np.linalg.norm(a, ord, axis=(-2, -1)),
                               rtol=1e-13)
    np.testing.assert_allclose(fl.matrix_norm(a, ord=ord), np.linalg.matrix_norm(a, ord=ord),
                               rtol=1e-13)


# ------------------------------------------------------------------ API

@pytest.mark.parametrize("name", ["svd", "svdvals", "eigh", "eigvalsh", "pinv", "matrix_rank",
                                  "lstsq", "cond"])
def test_signatures_numpy_prefix(name):
    ours = list(inspect.signature(getattr(fl, name)).parameters.values())
    theirs = list(inspect.signature(getattr(np.linalg, name)).parameters.values())
    assert [(p.name, p.kind, p.default) for p in ours[:len(theirs)]] == \
           [(p.name, p.kind, p.default) for p in theirs]
    assert all(p.kind == p.KEYWORD_ONLY for p in ours[len(theirs):])


def test_subclass_wrapped_like_numpy():
    class Sub(np.ndarray):
        pass
    a = np.eye(3).view(Sub)
    for ours, theirs in [(fl.svd(a), np.linalg.svd(a)), (fl.eigh(a), np.linalg.eigh(a))]:
        assert [type(x) for x in ours] == [type(x) for x in theirs]
    assert type(fl.pinv(a)) is type(np.linalg.pinv(a))


@pytest.mark.parametrize("k", [2, 3, 5, 8, 33])
def test_always_converges(k, rng):
    """Jacobi stops on every matrix (a too small tolerance once made random 2 x 2
    matrices rotate forever on rounding noise): random, integer, orthogonal (all
    singular values equal), rank-one, graded down to underflow, native float32."""
    n_batch = 8000 // k**2
    a = _randn(rng, (n_batch, k, k))
    cases = [a, rng.integers(-2, 3, a.shape).astype(float), np.linalg.qr(a)[0],
             a[..., :1] * a[..., :1, :], a * 10.0 ** -rng.uniform(0, 80, (n_batch, 1, k)),
             a * 1e-300]
    for x in cases:
        for y in (x, x[..., : max(1, k // 2)], x[..., : max(1, k // 2), :]):
            r, info = fl.svd(y, errors="info")
            assert not info.any() and not np.isnan(r.S).any()
        for native in (False, True):
            with fastla.float32_compute("float32" if native else "float64"):
                h = (x + np.swapaxes(x, -1, -2)).astype(np.float32 if native else np.float64)
                r, info = fl.svd(h.astype(np.float32) if native else h, errors="info")
                assert not info.any()
                u = r.U.astype(np.float64)
                orth = np.abs(np.swapaxes(u, -1, -2) @ u - np.eye(k)).max()
                assert orth <= 30 * k * eps(h.dtype), orth
                w, info = fl.eigvalsh(h, errors="info")
                assert not info.any()


@pytest.mark.parametrize("k", [4, 8, 16])
def test_stacks_keep_relative_accuracy_on_graded(k, rng):
    """Stacks of small matrices run lane kernels without QR preconditioning; graded
    ones must still get every singular value / eigenvalue to high relative accuracy
    (rows graded beyond the lanes' ratio go to the preconditioned kernel)."""
    b = _randn(rng, (16, k, k))
    d = 10.0 ** -rng.uniform(0, 20, (16, k))
    for a in (d[:, :, None] * b, b * d[:, None, :]):
        s = fl.svdvals(a)
        for i in range(0, 16, 5):
            ref = fl.svdvals(a[i])             # the single-matrix (QR-preconditioned) path
            assert np.max(np.abs(s[i] - ref) / ref) <= 1e-13
    h = d[:, :, None] * (np.eye(k) + 0.4 * np.tanh(b + np.swapaxes(b, -1, -2)) / k) * d[:, None, :]
    w = fl.eigvalsh(h)
    for i in range(0, 16, 5):
        ref = fl.eigvalsh(h[i])
        assert np.max(np.abs(w[i] - ref) / ref) <= 1e-13


@pytest.mark.parametrize("k", [2, 3, 8, 16])
def test_svd_square_stack_reads_in_place(k, dtype, rng):
    """Square stacks of the lane orders go to the driver as they are (only read): the
    lanes take the rows of A as their columns.  A group with a matrix the lanes do
    not take (rows graded beyond LANES_ROW_RATIO, zero, NaN) goes one by one to the
    scalar kernel, which then gives what a single call gives, bit for bit; the
    others of the group still get their SVD."""
    a = _randn(rng, (8 * 3 + 5, k, k), dtype)
    a[9] *= np.logspace(0, 6, k, dtype=dtype)[:, None]        # graded rows: group 1
    a[17] = 0                                                   # group 2
    a[26, 0, 0] = np.nan                                        # the remainder
    before = a.copy()
    with np.errstate(over="ignore"):       # the failed slice's unset entries, rounded
        (u, s, vh), info = fl.svd(a, errors="info")
        s_only = fl.svdvals(a, errors="nan")
    np.testing.assert_array_equal(a, before)
    assert list(np.flatnonzero(info)) == [26]
    ok = info == 0
    _assert_svd(a[ok], np.linalg._linalg.SVDResult(u[ok], s[ok], vh[ok]), True)
    np.testing.assert_array_equal(s_only[ok], s[ok])
    assert np.isnan(s_only[26]).all()
    for i in (9, 17):
        for x, y in zip((u[i], s[i], vh[i]), fl.svd(a[i])):
            np.testing.assert_array_equal(x, y)
    for i in (0, 8, 16, 25):
        np.testing.assert_allclose(s[i], fl.svdvals(a[i]), rtol=20 * k * eps(dtype))


@pytest.mark.parametrize("layout", ["C", "F", "reversed", "strided"])
@pytest.mark.parametrize("shape", [(1, 17, 9), (3, 8, 8), (2, 100, 50), (1, 7, 3), (2, 5, 13)],
                         ids=str)
def test_copy_transposed(shape, layout, dtype, rng):
    """The working stack of tall matrices (columns as rows): 8 x 8 shuffle tiles and
    the copy_strided edges, every layout."""
    from fastla._kernels import jacobi
    n_batch, m, n = shape
    base = _randn(rng, (n_batch, 2 * m, 2 * n), dtype)
    a = {"C": np.ascontiguousarray(base[:, :m, :n]), "F": np.asfortranarray(base[:, :m, :n]),
         "reversed": base[:, :m, :n][:, ::-1, ::-1], "strided": base[:, ::2, ::2]}[layout]
    d = np.empty((n_batch, n, m), dtype)
    jacobi.copy_transposed(a, d)
    np.testing.assert_array_equal(d, np.swapaxes(a, -1, -2))


@pytest.mark.parametrize("shape", [(2100, 30), (5000, 3), (2500, 60), (8800, 30)], ids=str)
def test_tall_skinny_path(shape, dtype, rng):
    """Tall matrices without full U take the row-blocked QR (m >= 4n, m >= 2048);
    lstsq takes U^T b from the kernel without forming U; with two TSQR row blocks
    (8800 x 30) the thin U comes back over the working copy."""
    m, n = shape
    a = _randn(rng, shape, dtype)
    r = fl.svd(a, full_matrices=False)
    _assert_svd(a, r, False)
    # Row blocks for TSQR: the thin U comes back over the working copy, row-major.
    from fastla._kernels import jacobi
    assert r.U.flags.c_contiguous == jacobi.u_over_a_applies(m, n)
    _assert_svd(a.T, fl.svd(a.T, full_matrices=False), False)     # wide: V over it
    np.testing.assert_allclose(r.S, np.linalg.svd(a.astype(np.float64), compute_uv=False),
                               rtol=30 * m * eps(dtype))
    # svdvals may take the in-place tall path where the thin U does not (one row
    # block): the same values to rounding (numpy's gesdd with and without vectors
    # differs in the last bits too).
    np.testing.assert_allclose(fl.svdvals(a), r.S, rtol=10 * n * eps(dtype))
    b = _randn(rng, (m, 2), dtype)
    x, res, rank, s = fl.lstsq(a, b)
    xn, resn, rankn, sn = np.linalg.lstsq(a, b)
    assert rank == rankn and x.dtype == xn.dtype
    np.testing.assert_allclose(x, xn, atol=100 * m * eps(dtype) * np.abs(xn).max())
    np.testing.assert_allclose(res, resn, rtol=100 * m * eps(dtype))
    # Row grading: the blocked QR keeps the relative accuracy (rows sorted first).
    if dtype == np.float64 and n <= 30:
        d = 10.0 ** -rng.uniform(0, 20, m)
        g = d[:, None] * a
        ref = (fl.svd(g, full_matrices=True).S if m < 4000   # whole-matrix QR path
               else np.linalg.svd(g, compute_uv=False))
        assert np.max(np.abs(fl.svdvals(g) - ref) / ref) <= (1e-13 if m < 4000 else 1e-6)
        rg = fl.svd(g, full_matrices=False)                # U's rows put back in order
        _assert_svd(g, rg, False)
        np.testing.assert_allclose(rg.S, fl.svdvals(g), rtol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16, 17])
def test_single_call_path_equals_general_path(n, rng):
    """One small square matrix skips the layers (jacobi.pyx svd_2d / eigh_2d) but runs
    the same kernel: the answer equals that of a stack of one, float32 the float64
    answer rounded."""
    a = _randn(rng, (n, n))
    h = a + a.T
    for x, y in zip(fl.svd(a), fl.svd(a[None])):
        np.testing.assert_array_equal(x, y[0])
    np.testing.assert_array_equal(fl.svdvals(a), fl.svdvals(a[None])[0])
    for x, y in zip(fl.eigh(h, "U"), fl.eigh(h[None], "U")):
        np.testing.assert_array_equal(x, y[0])
    np.testing.assert_array_equal(fl.eigvalsh(h), fl.eigvalsh(h[None])[0])
    a32 = a.astype(np.float32)
    for x, y in zip(fl.svd(a32), fl.svd(a32.astype(np.float64))):
        assert x.dtype == np.float32
        np.testing.assert_array_equal(x, y.astype(np.float32))
    assert isinstance(fl.svd(a), np.linalg._linalg.SVDResult)
    assert isinstance(fl.eigh(h), np.linalg._linalg.EighResult)


def test_rotation_loop_is_vectorised():
    """The hot loops of the one-sided Jacobi SVD compile to zmm FMAs without shuffles:
    the rotation (jacobi.pxd rotate: per 8 doubles a vfmsub for c x - s y and a vfmadd
    for s x + c y) and the dot products (NPART = 16 partial sums: two zmm FMAs per
    step whose accumulators stay in registers, i.e. no store in the loop)."""
    from test_kernels import _disassembly, _innermost_loops   # skips off AVX-512
    import subprocess
    from fastla._kernels import jacobi
    _disassembly()
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", jacobi.__file__],
                          capture_output=True, text=True, check=True).stdout
    rotations, dots = [], []
    for func, body in _innermost_loops(text):
        if "gesvj" not in func and "jacobi_sweeps" not in func:     # (inlined or not)
            continue
        ops = [op for op, args in body if "%zmm" in args]
        fma = [op for op in ops if op.startswith(("vfmadd", "vfmsub")) and op.endswith("pd")]
        shuffles = any(op.startswith("vperm") for op, _ in body)
        stores = any(op.startswith("vmov") and "(%" in args.split(",")[-1]
                     for op, args in body)
        if any(op.startswith("vfmsub") for op in fma) and any(op.startswith("vfmadd") for op in fma):
            rotations.append(shuffles)
        if len(fma) >= 2 and all(op.startswith("vfmadd231") for op in fma):
            dots.append(shuffles or stores)
    assert False in rotations, rotations
    assert False in dots, dots


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 3), max_size=2), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from(["normal", "graded", "lowrank", "integer"]),
       st.sampled_from([np.float32, np.float64]), st.sampled_from(LAYOUTS),
       st.integers(0, 2**32 - 1))
def test_property_svd_and_eigh(batch, m, n, kind, dtype, layout, seed):
    """Any stack, shape, dtype, layout and kind of entries: scaled residuals within
    30, singular values descending, inputs unchanged, eigh consistent with svd."""
    rng = np.random.default_rng(seed)
    shape = tuple(batch) + (m, n)
    a = rng.standard_normal(shape)
    if kind == "graded":
        a = a * 10.0 ** -rng.uniform(0, 12, shape[:-2] + (1, n))
    elif kind == "lowrank":
        a = a[..., :1] * a[..., :1, :]
    elif kind == "integer":
        a = rng.integers(-2, 3, shape).astype(float)
    a = as_layout(a.astype(dtype), layout)
    before = a.copy()
    for full in (True, False):
        _assert_svd(np.array(a), fl.svd(a, full_matrices=full), full)
    h = np.array(a[..., :min(m, n), :min(m, n)])
    h = h + np.swapaxes(h, -1, -2)
    w, v = fl.eigh(h)
    _assert_eigh(h, w, v)
    s = np.sort(np.abs(w), axis=-1)[..., ::-1]
    np.testing.assert_allclose(fl.svdvals(h), s, rtol=0,
                               atol=50 * h.shape[-1] * eps(dtype) * max(1, np.abs(s).max()))
    np.testing.assert_array_equal(a, before)


# ------------------------------------------- large orders (the sweeps' norm update)

@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize("n", [199, 256])
def test_large_order_residuals(n, native, dtype, rng):
    """Orders above the battery's: svd and eigh residuals, singular values against
    numpy, float32 computed natively or in float64 (the sweeps update the rotated
    columns' squared norms and recompute them only on cancellation)."""
    a = _randn(rng, (n, n), dtype)
    with fastla.float32_compute("float32" if native else "float64"):
        _assert_svd(a, fl.svd(a), True)
        np.testing.assert_allclose(fl.svdvals(a), np.linalg.svd(a, compute_uv=False),
                                   rtol=50 * n * eps(dtype), atol=0)
        h = a @ a.T + np.eye(n, dtype=dtype)
        w, v = fl.eigh(h)
        _assert_eigh(h, w, v)


def test_large_graded_relative_accuracy_consistent(rng):
    """A two-sided graded n = 160 matrix D1 B D2 (30 decades): the singular values of
    A, A^T and a row/column permutation of A agree to 1e-12 relative (each value is
    determined to about eps cond(B); numpy's gesdd loses the small ones entirely),
    and so do the eigenvalues of a graded positive definite D C D and its permutation."""
    n = 160
    b = rng.standard_normal((n, n))
    a = 10.0 ** -rng.uniform(0, 15, n)[:, None] * b * 10.0 ** -rng.uniform(0, 15, n)
    p, q = rng.permutation(n), rng.permutation(n)
    s = fl.svdvals(a)
    for other in (fl.svdvals(a.T), fl.svdvals(a[p][:, q]), fl.svd(a[p][:, q]).S):
        assert np.max(np.abs(other - s) / s) <= 1e-12
    assert s[-1] / s[0] < 1e-20                # the test would be vacuous otherwise
    g = rng.standard_normal((n, n))
    c = np.eye(n) + 0.4 * (g + g.T) / np.linalg.norm(g + g.T, 2)
    d = 10.0 ** -rng.uniform(0, 20, n)
    h = d[:, None] * c * d
    w = fl.eigvalsh(h)
    for other in (fl.eigvalsh(h[p][:, p]), fl.eigh(h[p][:, p]).eigenvalues):
        assert np.max(np.abs(other - w) / w) <= 1e-12


@pytest.mark.parametrize("dtype_", [np.float32, np.float64])
def test_large_rank_deficient(dtype_, rng):
    """Rank 100 of n = 220: residuals hold and the trailing values are at rounding level."""
    n, r = 220, 100
    a = (_randn(rng, (n, r)) @ _randn(rng, (r, n))).astype(dtype_)
    res = fl.svd(a)
    _assert_svd(a, res, True)
    assert res.S[r:].max() <= 50 * n * eps(dtype_) * res.S[0]
    assert res.S[r - 1] > 1e-3 * res.S[0]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tall_path_reads_input_in_place(layout, dtype, rng, monkeypatch):
    """Tall-skinny matrices without full U are read where they lie (jacobi.pxd
    gesvj_tall), row-graded ones in sorted row order (U's rows put back): every
    layout; a slice the kernel declines (entries beyond 2^64) falls back to the
    working copy; the answers agree with the working-copy path; the input is
    unchanged."""
    from fastla._kernels import jacobi
    m, n = 9000, 40
    base = _randn(rng, (4, m, n), dtype)
    base[1] *= (10.0 ** -rng.uniform(0, 12, m))[:, None].astype(dtype)    # row-graded
    base[2] *= dtype.type(2.0 ** (70 if dtype == np.float64 else 30))         # far from 1
    a = as_layout(base, layout)
    before = a.copy()
    info = np.empty(4, np.int32)
    jacobi.svd_tall_batched(np.ascontiguousarray(base), np.empty((4, n), dtype), None, None,
                            None, None, None, info)
    assert list(info) == [0, 0, jacobi.PREPARE, 0]
    r = fl.svd(a, full_matrices=False)
    s_only = fl.svdvals(a)
    b = _randn(rng, (4, m, 2), dtype)
    x, res, rank, s_ls = fl.lstsq(a, b)
    np.testing.assert_array_equal(a, before)
    monkeypatch.setattr(jacobi, "tall_applies", lambda *args: False)
    r_copy = fl.svd(a, full_matrices=False)
    x_copy, res_copy, _, _ = fl.lstsq(a, b)
    _assert_svd(a, r, False)
    tol = 30 * n * eps(dtype)
    np.testing.assert_allclose(r.S, r_copy.S, rtol=tol)
    wide = np.swapaxes(a, -1, -2)                # through its transpose, in place too
    r_wide = fl.svd(wide, full_matrices=False)
    _assert_svd(wide, r_wide, False)
    np.testing.assert_allclose(r_wide.S, r.S, rtol=tol)
    np.testing.assert_allclose(fl.svdvals(wide), r.S, rtol=tol)
    np.testing.assert_allclose(s_only, r.S, rtol=tol)
    np.testing.assert_allclose(s_ls, r.S, rtol=tol)
    assert np.all(rank == n)
    for i in range(4):
        cond = r.S[i, 0] / r.S[i, -1]
        np.testing.assert_allclose(x[i], x_copy[i], atol=tol * cond * np.abs(x_copy[i]).max())
        np.testing.assert_allclose(res[i], res_copy[i], rtol=tol * cond)


def test_tall_path_residuals_like_numpy(rng):
    """lstsq's residuals of a tall system come from the QR of [A b] (as gelsd's): they
    match numpy's, for one and several right-hand sides, and nonfinite input still
    fails as before."""
    a = _randn(rng, (20000, 40))
    for b in (_randn(rng, 20000), _randn(rng, (20000, 3)), a @ _randn(rng, 40)):
        x, res, rank, s = fl.lstsq(a, b)
        xn, resn, rankn, sn = np.linalg.lstsq(a, b)
        assert rank == rankn == 40 and res.shape == resn.shape
        np.testing.assert_allclose(x, xn, atol=1e-12 * max(1.0, np.abs(xn).max()))
        np.testing.assert_allclose(res, resn, rtol=1e-9, atol=1e-20 * np.sum(b ** 2))
    bad = a.copy()
    bad[12345, 7] = np.nan
    with pytest.raises(fastla.LinAlgError):
        fl.svdvals(bad)


@pytest.mark.parametrize("shape", [(4, 30, 7), (4, 9000, 40), (4, 40, 9000), (4, 5, 5), (4, 20, 20)],
                         ids=str)
def test_info_policy_failed_slice_is_nan(shape, dtype, rng):
    """errors='info': a slice whose SVD failed (a NaN entry) comes back NaN, not the
    unwritten memory of its outputs (whose rounding to float32 could also warn), on
    every path (lanes, general, tall in place, wide); the other slices are intact."""
    a = _randn(rng, shape, dtype)
    a[2, 1, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for compute_uv in (True, False):
            r, info = fl.svd(a, full_matrices=False, compute_uv=compute_uv, errors="info")
            assert list(np.flatnonzero(info)) == [2]
            for x in (r if compute_uv else (r,)):
                assert np.isnan(x[2]).all() and np.isfinite(x[[0, 1, 3]]).all()

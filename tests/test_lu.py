"""The LU family (src/lu ↔ fastla/linalg/_lu.py) against numpy.linalg and scipy.linalg.

Accuracy is judged with LAPACK's scaled residuals and threshold 30 (DESIGN.md §4):
‖P A − L U‖ / (n eps ‖A‖), the solve backward error ‖A x − b‖ / (‖A‖ ‖x‖ n eps), the
inverse's left residual ‖X A − I‖ / (n eps ‖X‖ ‖A‖).  Sizes straddle every cut-off
of the kernels: the literal-size lane kernels (k <= 8, 16), the unblocked getf2
(n <= LU_NB) and the recursive getrf above it.
"""

import inspect
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg as sl

import fastla
import fastla.linalg as fl
from _residuals import LAYOUTS, as_layout, eps

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

LU_NB = 16                                   # src/_blocking.pxd (getf2 below, getrf above)
SQUARE = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 150]
RECT = [(5, 3), (3, 5), (40, 33), (33, 40), (70, 20), (20, 70), (1, 4), (4, 1)]
THRESHOLD = 30


def _randn(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _reference(x, dtype):
    """float32 results are checked in float64, float64 in longdouble."""
    return x.astype(np.float64 if np.dtype(dtype) == np.float32 else np.longdouble)


def _factors(lu_, piv, m):
    """(perm, L, U) from getrf's output: P A = L U with (P A)[i] = A[perm[i]]."""
    k = min(lu_.shape[-2:])
    perm = np.arange(m)
    for i, p in enumerate(piv):
        perm[[i, p]] = perm[[p, i]]
    L = np.tril(lu_[:, :k], -1) + np.eye(lu_.shape[0], k)
    U = np.triu(lu_[:k, :])
    return perm, L, U


def _lu_residual(a, lu_, piv):
    """‖P A − L U‖_1 / (n eps ‖A‖_1) in higher precision."""
    m, n = a.shape
    perm, L, U = _factors(_reference(lu_, lu_.dtype), piv, m)
    ar = _reference(a.astype(lu_.dtype), lu_.dtype)
    norm = np.abs(ar).sum(axis=0).max()
    err = np.abs(ar[perm] - L @ U).sum(axis=0).max()
    return float(err / (max(m, n) * eps(lu_.dtype) * norm)) if norm else float(err)


def _solve_residual(a, x, b):
    """‖A x − b‖_1 / (‖A‖_1 ‖x‖_1 n eps), per column of x."""
    dt = x.dtype
    ar, xr, br = (_reference(np.asarray(v, dtype=dt), dt) for v in (a, x, b))
    if xr.ndim == 1:
        xr, br = xr[:, None], br[:, None]
    r = np.abs(ar @ xr - br).sum(axis=0)
    scale = np.abs(ar).sum(axis=0).max() * np.abs(xr).sum(axis=0) * a.shape[-1] * eps(dt)
    return float(np.max(r / scale))


# ------------------------------------------------------------------ factorization

@pytest.mark.parametrize("n", SQUARE)
def test_lu_factor_residual_square(n, dtype, rng):
    a = _randn(rng, (n, n), dtype)
    lu_, piv = fl.lu_factor(a)
    assert lu_.dtype == dtype and piv.dtype == np.int32 and piv.shape == (n,)
    assert _lu_residual(a, lu_, piv) <= THRESHOLD


@pytest.mark.parametrize("mn", RECT)
def test_lu_factor_residual_rectangular(mn, dtype, rng):
    a = _randn(rng, mn, dtype)
    lu_, piv = fl.lu_factor(a)
    assert lu_.shape == mn and piv.shape == (min(mn),)
    assert _lu_residual(a, lu_, piv) <= THRESHOLD


@pytest.mark.parametrize("n", [2, 3, 4, 8, 16, 17, 33, 100, 300])
def test_pivots_identical_to_scipy(n, rng):
    """Normal random matrices have no ties: the pivot sequence is the one LAPACK picks."""
    a = rng.standard_normal((3, n, n))
    lu_, piv = fl.lu_factor(a)                          # stack: the lane kernels for k <= 16
    lu_s, piv_s = sl.lu_factor(a)
    np.testing.assert_array_equal(piv, piv_s)
    np.testing.assert_array_equal(fl.lu_factor(a[1])[1], piv_s[1])
    np.testing.assert_allclose(lu_, lu_s, rtol=0, atol=1e3 * n * eps(np.float64))


@pytest.mark.parametrize("m", [203, 200])
@pytest.mark.parametrize("where", [(37, 41, 150), (150, -1), (5,), (-1,), (0, 8, 16)])
def test_tall_panel_pivot_search_takes_the_first_largest(m, where, dtype, rng):
    """The pivot search of tall panels (vectorised, lanes then remainder; m = 203 has
    a remainder): ties go to the first row in any lane or in the remainder, NaN never
    wins over a number."""
    where = [w % m for w in where]
    a = rng.uniform(-4, 4, (m, LU_NB + 4)).astype(dtype)
    a[where, 0] = [5, -5, 5][:len(where)]
    a[[w for w in (3, 100, 201) if w < m and w not in where], 0] = np.nan
    piv = fl.lu_factor(a, check_finite=False)[1]
    assert piv[0] == where[0]
    assert sl.lu_factor(np.nan_to_num(a))[1][0] == where[0]     # LAPACK's tie rule


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("n", [4, 64, 200])
def test_growth_matrix_residual(n, dtype):
    """Wilkinson's matrix with 2^(n-1) growth under partial pivoting (GVL4 §3.4.5):
    the residual bound scales with ‖L‖‖U‖, which the threshold absorbs for n <= 60;
    beyond, only completion and finite factors are required (as from LAPACK)."""
    a = np.tril(-np.ones((n, n)), -1) + np.eye(n)
    a[:, -1] = 1
    lu_, piv = fl.lu_factor(a.astype(dtype))
    lu_s, piv_s = sl.lu_factor(a)
    np.testing.assert_array_equal(piv, piv_s)
    if n <= 60:
        assert _lu_residual(a, lu_, piv) <= THRESHOLD
    assert np.isfinite(lu_).all() == np.isfinite(lu_s.astype(dtype)).all()


@pytest.mark.parametrize("k", [2, 3, 4, 5, 8, 16, 20])
@pytest.mark.parametrize("n_batch", [1, 3, 4, 5, 9, 33])
def test_stacks_equal_loop(k, n_batch, dtype, rng):
    """Every stack path (lanes with full and partial groups, general) gives each
    slice's answer."""
    a = _randn(rng, (n_batch, k, k), dtype)
    b = _randn(rng, (n_batch, k, 2), dtype)
    lu_, piv = fl.lu_factor(a)
    x, ainv, d = fl.solve(a, b), fl.inv(a), fl.det(a)
    s, logd = fl.slogdet(a)
    for t in range(n_batch):
        lu_t, piv_t = fl.lu_factor(a[t])
        np.testing.assert_array_equal(piv[t], piv_t)
        # Same algorithm on every path, but separately inlined copies may contract
        # different products into FMAs: equal to rounding, not bitwise.
        np.testing.assert_allclose(lu_[t], lu_t, rtol=0,
                                   atol=8 * k * eps(dtype) * np.abs(lu_t).max())
        for got, ref in ((x[t], fl.solve(a[t], b[t])), (ainv[t], fl.inv(a[t]))):
            np.testing.assert_allclose(got, ref, rtol=0, atol=k * 64 * eps(dtype) * np.abs(ref).max())
        np.testing.assert_allclose(d[t], fl.det(a[t]), rtol=k * 64 * eps(dtype))
        assert s[t] == fl.slogdet(a[t])[0]
        np.testing.assert_allclose(logd[t], fl.slogdet(a[t])[1], rtol=0, atol=k * 8 * eps(dtype))


@pytest.mark.parametrize("k", [2, 3, 4, 8, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stacks_subnormal_pivot(k, dtype, rng):
    """A slice whose pivots are subnormal (1/pivot overflows) takes LAPACK's division
    rule in the steps where they occur (its lanes only): that slice gets the single
    call's factors and solution, and every other slice of the group the same bits as
    in a stack without it."""
    eps_, tiny = eps(dtype), np.finfo(dtype).tiny
    a = _randn(rng, (20, k, k), dtype)
    b = _randn(rng, (20, k, 2), dtype)
    normal_a, normal_b = a.copy(), b.copy()
    scale = dtype(tiny / 64)                    # every entry subnormal, most pivots too
    a[5] *= scale
    b[5] *= scale                               # the solution stays of order one
    with fastla.float32_compute("float32"):     # float32 in its own precision (FLT_MIN)
        lu_, piv = fl.lu_factor(a)
        x, d = fl.solve(a, b), fl.det(a)
        lu_n, piv_n = fl.lu_factor(normal_a)
        x_n, d_n = fl.solve(normal_a, normal_b), fl.det(normal_a)
        lu5, piv5 = fl.lu_factor(a[5])
        x5 = fl.solve(a[5], b[5])
    others = np.arange(20) != 5
    for got, ref in ((lu_, lu_n), (piv, piv_n), (x, x_n), (d, d_n)):
        np.testing.assert_array_equal(got[others], ref[others])
    np.testing.assert_array_equal(piv[5], piv5)
    assert np.isfinite(lu_[5]).all() and np.abs(np.tril(lu_[5], -1)).max() <= 1
    # As in test_stacks_equal_loop: equal to rounding (FMA contraction may differ).
    np.testing.assert_allclose(lu_[5], lu5, rtol=0, atol=8 * k * eps_ * np.abs(lu5).max())
    np.testing.assert_allclose(x[5], x5, rtol=0, atol=64 * k * eps_ * np.abs(x5).max())
    assert abs(d[5]) < tiny


# ----------------------------------------------------------------------- solve

@pytest.mark.parametrize("n", SQUARE)
@pytest.mark.parametrize("vector", [True, False])
def test_solve_backward_error(n, vector, dtype, rng):
    a = _randn(rng, (n, n), dtype)
    b = _randn(rng, (n,) if vector else (n, 3), dtype)
    x = fl.solve(a, b)
    assert x.shape == b.shape and x.dtype == dtype
    assert _solve_residual(a, x, b) <= THRESHOLD


@pytest.mark.parametrize("shapes", [((2, 3, 3), (3,)), ((2, 3, 3), (3, 2)),
                                    ((2, 1, 4, 4), (5, 4, 2)), ((4, 4), (6, 4, 1)),
                                    ((7, 2, 2), (7, 2, 1)), ((3, 3), (3, 3))])
def test_solve_broadcasts_like_numpy(shapes, dtype, rng):
    a, b = _randn(rng, shapes[0], dtype), _randn(rng, shapes[1], dtype)
    x, ref = fl.solve(a, b), np.linalg.solve(a, b)
    assert x.shape == ref.shape and x.dtype == ref.dtype
    np.testing.assert_allclose(x, ref, rtol=1e3 * eps(dtype), atol=1e3 * eps(dtype))


@pytest.mark.parametrize("shapes", [((3, 3), (2,)), ((3, 3), (2, 1)), ((2, 3, 3), (3, 3, 1)),
                                    ((3, 3), ()), ((2, 3), (2,)), ((3,), (3,)),
                                    ((2, 3, 3), (4, 3, 1))])
def test_solve_shape_errors_like_numpy(shapes):
    a, b = np.ones(shapes[0]), np.ones(shapes[1])
    with pytest.raises(Exception) as ref:
        np.linalg.solve(a, b)
    with pytest.raises(type(ref.value)) as got:
        fl.solve(a, b)
    assert str(got.value) == str(ref.value)


# ------------------------------------------------------------------------- inv

@pytest.mark.parametrize("n", SQUARE)
def test_inv_left_residual(n, dtype, rng):
    a = _randn(rng, (n, n), dtype)
    x = fl.inv(a)
    assert x.dtype == dtype
    ar, xr = _reference(a, dtype), _reference(x, dtype)
    res = np.abs(xr @ ar - np.eye(n)).sum(axis=0).max()
    scale = n * eps(dtype) * np.abs(xr).sum(axis=0).max() * np.abs(ar).sum(axis=0).max()
    assert res / scale <= THRESHOLD


def test_inv_hilbert_cond_scaled():
    """Ill-conditioned (cond ~ 1e13): the left residual still meets the bound."""
    n = 10
    h = 1 / (np.arange(n)[:, None] + np.arange(n) + 1)
    x = fl.inv(h)
    res = np.abs(x.astype(np.longdouble) @ h - np.eye(n)).sum(axis=0).max()
    assert res / (n * eps(np.float64) * np.abs(x).sum(0).max() * np.abs(h).sum(0).max()) <= THRESHOLD
    assert _solve_residual(h, fl.solve(h, np.ones(n)), np.ones(n)) <= THRESHOLD


# ------------------------------------------------------------------ det, slogdet

@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # float32 det overflows at n = 100
@pytest.mark.parametrize("n", [1, 2, 3, 4, 8, 16, 17, 40, 100])
def test_det_slogdet_match_numpy(n, dtype, rng):
    a = _randn(rng, (3, n, n), dtype)
    d, (s, logd) = fl.det(a), fl.slogdet(a)
    d_ref, (s_ref, logd_ref) = np.linalg.det(a), np.linalg.slogdet(a)
    cond = np.linalg.cond(a.astype(np.float64))
    assert d.dtype == d_ref.dtype and s.dtype == s_ref.dtype and logd.dtype == logd_ref.dtype
    np.testing.assert_array_equal(s, s_ref)
    tol = THRESHOLD * n * eps(dtype) * cond
    assert np.all(np.abs(logd - logd_ref) <= tol)
    finite = np.isfinite(d_ref)                      # float32 det overflows at n = 100
    np.testing.assert_array_equal(d[~finite], d_ref[~finite])
    assert np.all(np.abs(d - d_ref)[finite] <= (tol * np.abs(d_ref))[finite])
    assert type(fl.slogdet(a)) is type(np.linalg.slogdet(a))
    assert type(fl.det(a[0])) is type(np.linalg.det(a[0]))


def _exact_det(m):
    """det of an integer matrix by fraction-exact elimination."""
    m = [[Fraction(int(v)) for v in row] for row in m]
    n, det = len(m), Fraction(1)
    for j in range(n):
        p = next((i for i in range(j, n) if m[i][j] != 0), None)
        if p is None:
            return 0
        if p != j:
            m[j], m[p] = m[p], m[j]
            det = -det
        det *= m[j][j]
        for i in range(j + 1, n):
            f = m[i][j] / m[j][j]
            m[i] = [x - f * y for x, y in zip(m[i], m[j])]
    return int(det)


@pytest.mark.parametrize("n, entries", [(2, 1000), (3, 100), (4, 30), (5, 9), (6, 9), (8, 3)])
def test_det_exact_on_integer_matrices(n, entries, rng):
    """Exact wherever det_from_lu's error bound certifies the rounding: here every
    matrix of these sizes and entry ranges (larger ones keep the LU value)."""
    a = rng.integers(-entries, entries + 1, size=(20, n, n))
    a[0, -1] = 2 * a[0, 0]                           # one exactly singular slice
    exact = np.array([_exact_det(m) for m in a], dtype=np.float64)
    np.testing.assert_array_equal(fl.det(a), exact)
    np.testing.assert_array_equal(fl.det(a.astype(np.float64)), exact)
    for t in range(3):
        assert fl.det(a[t]) == exact[t]                # the single small-call path
    assert fl.det(a[0]) == 0.0


@pytest.mark.parametrize("k", [2, 3, 4, 8])
def test_det_exact_for_one_integer_slice_in_a_group(k, rng):
    # Only lanes whose (0, 0) entry is an integer are tested for integer matrices:
    # one integer slice among random ones is still found and rounded exactly.
    a = rng.standard_normal((20, k, k))
    a[7] = rng.integers(-3, 4, size=(k, k))
    assert fl.det(a)[7] == _exact_det(a[7].astype(int))


def test_det_2x2_is_exact():
    assert fl.det([[1, 2], [3, 4]]) == -2.0
    assert fl.det(np.array([[1.0, 2.0], [3.0, 4.0]])) == -2.0
    assert np.linalg.det([[1, 2], [3, 4]]) != -2.0        # numpy's log route


def test_det_without_overflow_or_underflow(rng):
    """Partial products of U's diagonal leave the range, det A does not."""
    b = rng.standard_normal((6, 6))
    d = np.diag([2.0 ** 600, 2.0 ** 600, 2.0 ** 600, 2.0 ** -600, 2.0 ** -600, 2.0 ** -600])
    d2 = np.diag(np.diag(d)[::-1])
    for a in (b @ d, (b @ d)[None].repeat(5, 0), b @ d2):     # column scaling: no underflow
        got = fl.det(a)
        np.testing.assert_allclose(got, np.linalg.det(b), rtol=1e3 * eps(np.float64))
    big = np.eye(4) * 1e200
    assert fl.det(big) == np.inf and fl.slogdet(big)[1] == pytest.approx(4 * np.log(1e200))
    tiny = np.eye(4) * 1e-200
    assert fl.det(tiny) == 0.0 and fl.slogdet(tiny)[0] == 1.0
    assert fl.slogdet(tiny)[1] == pytest.approx(4 * np.log(1e-200))


def test_singular_det_slogdet():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert fl.det(a) == 0.0 and tuple(fl.slogdet(a)) == (0.0, -np.inf)
    z = np.zeros((3, 5, 5))
    np.testing.assert_array_equal(fl.det(z), 0.0)
    s, logd = fl.slogdet(z)
    np.testing.assert_array_equal(s, 0.0)
    np.testing.assert_array_equal(logd, -np.inf)


# ------------------------------------------------------------- singular: errors=

@pytest.mark.parametrize("n", [3, 20, 40])
def test_singular_raises_numpy_error(n):
    a = np.ones((n, n))
    for f in (lambda: fl.solve(a, np.ones(n)), lambda: fl.inv(a)):
        with pytest.raises(np.linalg.LinAlgError, match="^Singular matrix$"):
            f()


@pytest.mark.parametrize("k", [3, 20])
def test_errors_policy_on_stack_with_one_singular_slice(k, dtype, rng):
    a = _randn(rng, (2, 3, k, k), dtype)
    a[1, 2] = 0
    b = _randn(rng, (2, 3, k), dtype)[..., None]
    for f in (lambda **kw: fl.solve(a, b, **kw), lambda **kw: fl.inv(a, **kw)):
        with pytest.raises(np.linalg.LinAlgError, match=r"^Singular matrix \(at batch index \(1, 2\)\)$"):
            f()
        r = f(errors="nan")
        assert np.isnan(r[1, 2]).all() and np.isfinite(np.delete(r.reshape(6, k, -1), 5, 0)).all()
        r2, info = f(errors="info")
        assert info.shape == (2, 3) and info.dtype == np.int32
        assert info[1, 2] == 1 and (info.sum() == 1)
        np.testing.assert_array_equal(r2[0], r[0])
    lu_, piv, info = fl.lu_factor(a, errors="info")
    assert info[1, 2] == 1 and info.sum() == 1
    with pytest.raises(np.linalg.LinAlgError, match=r"at batch index \(1, 2\)"):
        fl.lu_factor(a, errors="raise")
    with pytest.raises(ValueError):
        fl.solve(a, b, errors="ignore")


def test_lu_factor_singular_warns_like_scipy():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.warns(sl.LinAlgWarning) as got:
        lu_, piv = fl.lu_factor(a)
    with pytest.warns(sl.LinAlgWarning) as ref:
        lu_s, piv_s = sl.lu_factor(a)
    assert str(got[0].message) == str(ref[0].message)
    np.testing.assert_array_equal(lu_, lu_s)
    np.testing.assert_array_equal(piv, piv_s)


def test_nearly_singular_solves_accurately():
    a = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-14]])
    b = np.array([2.0, 2.0 + 1e-14])
    assert _solve_residual(a, fl.solve(a, b), b) <= THRESHOLD


# ----------------------------------------------------------------- NaN and Inf

NAN_INF = {
    "nan00": (0, 0, np.nan), "nan11": (1, 1, np.nan), "nan21": (2, 1, np.nan),
    "inf00": (0, 0, np.inf), "inf11": (1, 1, np.inf), "inf20": (2, 0, -np.inf),
}


@pytest.mark.parametrize("case", NAN_INF)
@pytest.mark.parametrize("stacked", [False, True])
def test_nan_inf_like_numpy(case, stacked):
    """No crash, no hang, no exception (numpy raises none here either).  Inf: numpy's
    values exactly.  NaN: NaN wherever numpy has NaN; numpy's OpenBLAS keeps some
    other entries finite through its own operation order, which no LU need match."""
    i, j, v = NAN_INF[case]
    a = np.array([[4.0, 1, 2], [1, 3, 1], [2, 1, 4]])
    a[i, j] = v
    if stacked:
        a = np.stack([a, np.eye(3)] * 3)
    b = np.ones(a.shape[:-1])[..., None]
    with np.errstate(all="ignore"):
        pairs = ((fl.solve(a, b), np.linalg.solve(a, b)), (fl.inv(a), np.linalg.inv(a)),
                 (fl.det(a), np.linalg.det(a)), (fl.slogdet(a)[1], np.linalg.slogdet(a)[1]))
    for got, ref in pairs:
        assert np.isnan(got)[np.isnan(ref)].all()
        if np.isnan(v):
            assert (np.isnan(got) | np.isfinite(got)).all()
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)
    if stacked:                                   # the identity slices stay exact
        np.testing.assert_array_equal(fl.inv(a)[1::2], np.eye(3)[None].repeat(3, 0))


def test_check_finite_like_scipy():
    a = np.array([[np.nan, 1.0], [1.0, 1.0]])
    for f in (fl.lu_factor, fl.lu):
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            f(a)
    lu_, piv = fl.lu_factor(a, check_finite=False)
    assert np.isnan(lu_).any()
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        fl.lu_solve(sl.lu_factor(np.eye(2)), np.array([np.nan, 1.0]))


# ------------------------------------------------------------- empty and 1 x 1

def test_empty_and_one_by_one(dtype):
    e = np.zeros((0, 0), dtype)
    assert fl.det(e) == 1.0 and type(fl.det(e)) is type(np.linalg.det(e))
    assert fl.inv(e).shape == (0, 0) and fl.inv(e).dtype == dtype
    assert fl.solve(e, np.zeros(0, dtype)).shape == (0,)
    np.testing.assert_array_equal(fl.det(np.zeros((3, 0, 0), dtype)), np.ones(3))
    assert fl.solve(np.zeros((2, 0, 0)), np.zeros((2, 0, 4))).shape == (2, 0, 4)
    assert tuple(fl.slogdet(e)) == (1.0, 0.0)
    one = np.array([[4.0]], dtype)
    assert fl.det(one) == 4.0 and fl.inv(one)[0, 0] == 0.25 and fl.solve(one, [2.0])[0] == 0.5
    for args in ((e,), (np.zeros((2, 0, 3), dtype),), (one,), (np.ones((3, 1, 1), dtype),)):
        for kw in ({}, {"permute_l": True}, {"p_indices": True}):
            got, ref = fl.lu(*args, **kw), sl.lu(*args, **kw)
            assert [(g.shape, g.dtype) for g in got] == [(r.shape, r.dtype) for r in ref]
            for g, r in zip(got, ref):
                if g.size:
                    np.testing.assert_array_equal(g, r)
    lu_, piv = fl.lu_factor(e)
    assert lu_.shape == (0, 0) and piv.shape == (0,) and piv.dtype == np.int32


# ------------------------------------------------------- dtypes, layouts, inputs

@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_, np.float32, np.float64])
def test_result_dtypes_like_numpy(dt):
    a = (np.eye(3) + np.triu(np.ones((3, 3)), 1)).astype(dt)
    for f, g in ((fl.solve, np.linalg.solve),):
        assert f(a, np.ones(3, dt)).dtype == g(a, np.ones(3, dt)).dtype
    for f, g in ((fl.inv, np.linalg.inv), (fl.det, np.linalg.det)):
        assert f(a).dtype == g(a).dtype
    if dt != np.bool_:                      # scipy computes bool in float32; fastla in float64
        assert fl.lu_factor(a)[0].dtype == sl.lu_factor(a)[0].dtype


@pytest.mark.parametrize("dt", [np.float16, np.complex128, object])
def test_unsupported_dtypes(dt):
    a = np.eye(2).astype(dt)
    for f in (fl.inv, fl.det, fl.lu_factor):
        with pytest.raises(TypeError):
            f(a)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("k", [4, 40])
def test_layouts_and_inputs_unchanged(layout, k, dtype, rng):
    a0 = _randn(rng, (3, k, k), dtype)
    b0 = _randn(rng, (3, k, 2), dtype)
    a, b = as_layout(a0, layout), as_layout(b0, layout)
    a.flags.writeable = False
    b.flags.writeable = False
    np.testing.assert_array_equal(fl.solve(a, b), fl.solve(a0, b0))
    np.testing.assert_array_equal(fl.inv(a), fl.inv(a0))
    np.testing.assert_array_equal(fl.det(a), fl.det(a0))
    np.testing.assert_array_equal(fl.lu_factor(a)[0], fl.lu_factor(a0)[0])
    np.testing.assert_array_equal(fl.lu_solve(fl.lu_factor(a), b), fl.lu_solve(fl.lu_factor(a0), b0))
    np.testing.assert_array_equal(fl.solve(a[0], b[0]), fl.solve(a0[0], b0[0]))
    np.testing.assert_array_equal(fl.inv(a[0]), fl.inv(a0[0]))
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_writeable_inputs_are_not_modified(rng):
    a = rng.standard_normal((5, 5))
    b = rng.standard_normal(5)
    a0, b0 = a.copy(), b.copy()
    for f in (lambda: fl.solve(a, b), lambda: fl.inv(a), lambda: fl.det(a), lambda: fl.slogdet(a),
              lambda: fl.lu_factor(a), lambda: fl.lu(a), lambda: fl.lu_solve(fl.lu_factor(a), b)):
        f()
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("layout", ["C", "F", "stack"])
def test_overwrite_flags_give_the_same_results(layout, dtype, rng):
    # overwrite_a / overwrite_b let the kernel work in the caller's array (C-contiguous,
    # result dtype); the answers must not depend on whether it did.
    shape = (3, 40, 40) if layout == "stack" else (40, 40)
    a0 = _randn(rng, shape, dtype)
    b0 = _randn(rng, shape[:-1] + (3,), dtype)
    order = "F" if layout == "F" else "C"
    lu0, piv0 = fl.lu_factor(a0)
    a = np.array(a0, order=order)
    lu1, piv1 = fl.lu_factor(a, overwrite_a=True)
    np.testing.assert_array_equal(lu1, lu0)
    np.testing.assert_array_equal(piv1, piv0)
    if order == "C":
        assert np.shares_memory(lu1, a)           # factored in place: no copy
    for res0, res1 in zip(fl.lu(a0), fl.lu(np.array(a0, order=order), overwrite_a=True)):
        np.testing.assert_array_equal(res1, res0)
    x0 = fl.lu_solve((lu0, piv0), b0)
    b = np.array(b0, order=order)
    x1 = fl.lu_solve((lu0, piv0), b, overwrite_b=True)
    np.testing.assert_array_equal(x1, x0)
    if order == "C":
        assert np.shares_memory(x1, b)


@pytest.mark.parametrize("k", [2, 8, 16, 20, 40])
def test_writeable_stacks_are_not_modified(k, rng):
    # C-contiguous float64 stacks are read in place by solve, inv, det and slogdet.
    a = rng.standard_normal((9, k, k))
    b = rng.standard_normal((9, k, 2))
    a0, b0 = a.copy(), b.copy()
    for f in (lambda: fl.solve(a, b), lambda: fl.inv(a), lambda: fl.det(a), lambda: fl.slogdet(a),
              lambda: fl.solve(a, b, errors="nan"), lambda: fl.inv(a, errors="info")):
        f()
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("k, nrhs", [(2, 600), (8, 33), (16, 17), (3, 1)])
def test_stacked_solve_many_right_hand_sides(k, nrhs, dtype, rng):
    # More right-hand sides than the lane kernels' buffers hold take the general path.
    a = _randn(rng, (5, k, k), dtype)
    b = _randn(rng, (5, k, nrhs), dtype)
    x = fl.solve(a, b)
    assert x.shape == b.shape and x.dtype == dtype
    for t in range(5):
        assert _solve_residual(a[t], x[t], b[t]) <= THRESHOLD


def test_float32_native_mode(rng):
    a = _randn(rng, (50, 50), np.float32)
    b = _randn(rng, (50,), np.float32)
    with fastla.float32_compute("float32"):
        x = fl.solve(a, b)
        lu_, piv = fl.lu_factor(a)
    assert x.dtype == np.float32
    assert _solve_residual(a, x, b) <= THRESHOLD
    assert _lu_residual(a, lu_, piv) <= THRESHOLD


# ------------------------------------------------------------------- signatures

@pytest.mark.parametrize("name", ["solve", "inv"])
def test_signatures_numpy_plus_errors(name):
    got = list(inspect.signature(getattr(fl, name)).parameters.values())
    ref = list(inspect.signature(getattr(np.linalg, name)).parameters.values())
    assert got[:len(ref)] == ref
    assert [(p.name, p.kind, p.default) for p in got[len(ref):]] == [
        ("errors", inspect.Parameter.KEYWORD_ONLY, "raise")]


@pytest.mark.parametrize("name", ["det", "slogdet", "matrix_power", "tensorsolve", "tensorinv"])
def test_signatures_numpy(name):
    assert inspect.signature(getattr(fl, name)) == inspect.signature(getattr(np.linalg, name))


@pytest.mark.parametrize("name", ["lu", "lu_solve", "lu_factor"])
def test_signatures_scipy(name):
    got = list(inspect.signature(getattr(fl, name)).parameters.values())
    ref = list(inspect.signature(getattr(sl, name)).parameters.values())
    assert got[:len(ref)] == ref
    assert all(p.kind == inspect.Parameter.KEYWORD_ONLY for p in got[len(ref):])


def test_registered_in_numpy_order():
    ours = [n for n in fl.__all__ if n in np.linalg.__all__]
    assert ours == [n for n in np.linalg.__all__ if n in ours]
    assert {"solve", "inv", "det", "slogdet", "matrix_power", "tensorsolve",
            "tensorinv", "lu", "lu_factor", "lu_solve"} <= set(fl.__all__)


# ------------------------------------------------- lu, lu_solve: scipy semantics

@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 40, 33), (3, 2, 6, 6)])
@pytest.mark.parametrize("permute_l", [False, True])
@pytest.mark.parametrize("p_indices", [False, True])
def test_lu_like_scipy(shape, permute_l, p_indices, dtype, rng):
    a = _randn(rng, shape, dtype)
    got = fl.lu(a, permute_l=permute_l, p_indices=p_indices)
    ref = sl.lu(a.astype(np.float64), permute_l=permute_l, p_indices=p_indices)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape
        assert g.dtype == (r.dtype if r.dtype.kind == "i" else dtype)
        np.testing.assert_allclose(g, r, rtol=0, atol=300 * eps(dtype))
    if not permute_l and not p_indices:
        P, L, U = got
        np.testing.assert_allclose(P @ L @ U, a, atol=100 * eps(dtype) * np.abs(a).max())


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("shapes", [((4, 4), (4,)), ((4, 4), (4, 3)), ((3, 5, 5), (5,)),
                                    ((3, 5, 5), (3, 5, 2)), ((2, 40, 40), (6, 2, 40, 1))])
def test_lu_solve_like_scipy(trans, shapes, dtype, rng):
    a, b = _randn(rng, shapes[0], dtype), _randn(rng, shapes[1], dtype)
    lu_and_piv = fl.lu_factor(a)
    x = fl.lu_solve(lu_and_piv, b, trans=trans)
    ref = sl.lu_solve(sl.lu_factor(a), b, trans=trans)
    assert x.shape == ref.shape and x.dtype == ref.dtype
    n = shapes[0][-1]
    at = np.swapaxes(a, -1, -2) if trans else a
    xs = np.broadcast_to(x if b.ndim > 1 else x[..., None], np.broadcast_shapes(
        a.shape[:-2], (b if b.ndim > 1 else b[:, None]).shape[:-2]) + (n, -1 if False else (b.shape[-1] if b.ndim > 1 else 1)))
    bs = np.broadcast_to(b if b.ndim > 1 else b[:, None], xs.shape)
    ab = np.broadcast_to(at, xs.shape[:-2] + (n, n))
    for idx in np.ndindex(xs.shape[:-2]):
        assert _solve_residual(ab[idx], xs[idx], bs[idx]) <= THRESHOLD


def test_lu_solve_errors_like_scipy():
    lu_piv = fl.lu_factor(np.eye(3))
    with pytest.raises(ValueError, match=r"Shapes of lu \(3, 3\) and b \(2,\) are incompatible"):
        fl.lu_solve(lu_piv, np.ones(2))
    with pytest.raises(ValueError, match="trans"):
        fl.lu_solve(lu_piv, np.ones(3), trans=3)


# ---------------------------------------------- matrix_power, tensorsolve, tensorinv

@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.int64])
def test_matrix_power_like_numpy(n, dt, rng):
    a = rng.integers(-2, 3, size=(2, 4, 4)).astype(dt) + 3 * np.eye(4, dtype=dt)
    if n < 0 and dt == np.int64:
        a = a.astype(np.float64)
    got, ref = fl.matrix_power(a, n), np.linalg.matrix_power(a, n)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e3 * eps(got.dtype) if got.dtype.kind == "f" else 0)


def test_matrix_power_errors_like_numpy():
    for args in ((np.eye(3), 1.5), (np.ones((2, 3)), 2), (np.ones(3), 2)):
        with pytest.raises(Exception) as ref:
            np.linalg.matrix_power(*args)
        with pytest.raises(type(ref.value), match=str(ref.value)):
            fl.matrix_power(*args)


def test_tensorsolve_tensorinv_like_numpy(rng):
    a = rng.standard_normal((6, 2, 3))
    b = rng.standard_normal(6)
    np.testing.assert_allclose(fl.tensorsolve(a, b), np.linalg.tensorsolve(a, b), rtol=1e-10)
    a = rng.standard_normal((2, 3, 6))
    np.testing.assert_allclose(fl.tensorsolve(a, b, axes=(0, 1)),
                               np.linalg.tensorsolve(a, b, axes=(0, 1)), rtol=1e-10)
    t = rng.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(fl.tensorinv(t, ind=2), np.linalg.tensorinv(t, ind=2), rtol=1e-9)
    with pytest.raises(ValueError, match="Invalid ind argument."):
        fl.tensorinv(t, ind=0)
    with pytest.raises(np.linalg.LinAlgError, match="Input arrays must satisfy"):
        fl.tensorsolve(rng.standard_normal((6, 2, 4)), b)


# ------------------------------------------------------------------------ threads

@pytest.mark.skipif(threadpoolctl is None, reason="needs threadpoolctl")
@pytest.mark.parametrize("k,n_batch", [(3, 3000), (8, 3000), (8, 5 * 1024 + 37), (16, 2 * 1024 + 5),
                                       (20, 3000)])
def test_one_and_two_threads_identical(k, n_batch, dtype, rng):
    # Two threads share the batch out in work items of 1024 matrices (src/lu.pyx,
    # CHUNK_MATRICES), taken dynamically: whichever thread runs a slice, its answer is
    # the serial one, bit for bit, also across item boundaries and in a partial last
    # group; a singular slice only changes its own result.
    a = _randn(rng, (n_batch, k, k), dtype)
    a[1030] = 0
    b = _randn(rng, (n_batch, k, 2), dtype)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (fl.inv(a, errors="nan"), fl.det(a), fl.solve(a, b, errors="nan"),
                    *fl.lu_factor(a), fl.slogdet(a)[1])
    with threadpoolctl.threadpool_limits(1):
        one = run()
    with threadpoolctl.threadpool_limits(2):
        two = run()
    for x, y in zip(one, two):
        np.testing.assert_array_equal(x, y)
    assert np.isnan(one[0][1030]).all() and one[1][1030] == 0


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bshape", ["vector", "column"])
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_one_right_hand_side_any_order(order, bshape, trans, rng):
    # One float64 right-hand side of any order skips the layers and reads lu in place.
    n = 70
    a = rng.standard_normal((n, n))
    lu_, piv = sl.lu_factor(a)
    lu_ = np.array(lu_, order=order)
    b = rng.standard_normal(n if bshape == "vector" else (n, 1))
    x = fl.lu_solve((lu_, piv), b, trans=trans)
    assert x.shape == b.shape and x.dtype == np.float64
    np.testing.assert_allclose(x, sl.lu_solve((lu_, piv), b, trans=trans), rtol=1e-9, atol=1e-12)
    assert _solve_residual(a.T if trans else a, x, b) <= THRESHOLD
    b[3] = np.nan
    with pytest.raises(ValueError):
        fl.lu_solve((lu_, piv), b)


@pytest.mark.parametrize("trans", [0, 1])
@pytest.mark.parametrize("n, nrhs", [(40, None), (40, 3), (5, None), (300, None)])
def test_lu_solve_reads_scipy_column_major_factors(trans, n, nrhs, rng):
    """scipy's lu_factor returns Fortran-ordered lu; fastla reads it in place."""
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n,) if nrhs is None else (n, nrhs))
    lu_piv = sl.lu_factor(a)
    assert lu_piv[0].flags.f_contiguous
    x = fl.lu_solve(lu_piv, b, trans=trans)
    assert _solve_residual(a.T if trans else a, x, b) <= THRESHOLD
    np.testing.assert_allclose(x, sl.lu_solve(lu_piv, b, trans=trans), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [1, 3, 8, 17, 32])
def test_float32_lu_factor_single_call_is_native(n, rng):
    # One small float32 matrix skips the layers but stays float32, scipy's sgetrf.
    a = _randn(rng, (n, n), np.float32)
    lu_, piv = fl.lu_factor(a)
    lu_stack, piv_stack = fl.lu_factor(a[None])
    assert lu_.dtype == np.float32 and piv.dtype == np.int32
    np.testing.assert_array_equal(piv, piv_stack[0])
    np.testing.assert_array_equal(piv, sl.lu_factor(a)[1])
    np.testing.assert_allclose(lu_, lu_stack[0], rtol=20 * eps(np.float32), atol=20 * eps(np.float32))
    assert _lu_residual(a, lu_, piv) <= THRESHOLD


@pytest.mark.parametrize("n", [1, 2, 3, 4, 8, 17, 32])
def test_float32_single_call_is_float64_rounded(n, rng):
    """A single small float32 call (the no-layers path) computes in float64 and rounds,
    like numpy.linalg: it agrees with the float64 result rounded to float32."""
    a = (_randn(rng, (n, n), np.float32) / n + np.eye(n, dtype=np.float32))   # det ~ 1
    b = _randn(rng, (n,), np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    for got, ref in ((fl.solve(a, b), fl.solve(a64, b64)), (fl.inv(a), fl.inv(a64)),
                     (fl.det(a), fl.det(a64))):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.asarray(ref).astype(np.float32))


@pytest.mark.parametrize("n", [1, 3, 8, 17, 32])
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_single_call_matches_scipy(n, trans, rng):
    """The no-layers path of lu_solve (one small float64 system, int32 pivots): same
    answers as scipy on its own (Fortran-ordered) factors and on fastla's, 1-D and 2-D b,
    and the general path's checks when it declines (non-finite b)."""
    a = _randn(rng, (n, n), np.float64) + n * np.eye(n)
    for b in (_randn(rng, (n,), np.float64), _randn(rng, (n, 3), np.float64)):
        ref = sl.lu_solve(sl.lu_factor(a), b, trans=trans)
        for factors in (sl.lu_factor(a), fl.lu_factor(a)):
            x = fl.lu_solve(factors, b, trans=trans)
            assert x.shape == ref.shape and x.dtype == ref.dtype
            np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12)
    bad = np.full(n, np.nan)
    with pytest.raises(ValueError, match="infs or NaNs"):
        fl.lu_solve(fl.lu_factor(a), bad)
    assert np.isnan(fl.lu_solve(fl.lu_factor(a), bad, check_finite=False)).all()


@pytest.mark.parametrize("k", [3, 8, 16])
@pytest.mark.parametrize("src", [np.float32, np.int16])
def test_widened_path_equals_float64(k, src, rng):
    """float32 stacks computed in float64 go through the driver's widened path, work
    items of 2 MiB of float64 (lu.pyx, WIDEN_ITEM_BYTES; integer stacks are converted
    whole): the float64 results rounded to the result dtype, bit for bit, across item
    boundaries and a partial last item, singular slices in any item, from a strided
    view, the inputs unchanged, on one and two threads."""
    step = (2 * 2**20) // (8 * k * k) // 16 * 16            # det's items; inv's are half
    n_batch = 2 * step + 7
    a = (rng.integers(-3, 4, (n_batch, k, k)) + 10 * np.eye(k, dtype=int) if src == np.int16
         else _randn(rng, (n_batch, k, k))).astype(src)
    b = (rng.integers(-3, 4, (n_batch, k, 2)) if src == np.int16
         else _randn(rng, (n_batch, k, 2))).astype(src)
    bad = [1, step, n_batch - 1]                 # first chunk, second's first, last
    a[bad] = 0
    a[bad, :, 0] = 1                             # rank one: singular
    view = np.swapaxes(np.stack([a, a]), 0, 1)[:, 1]
    before = view.copy()
    dtype = np.float32 if src == np.float32 else np.float64
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_array_equal(fl.det(view), fl.det(a64).astype(dtype))
    s, l = fl.slogdet(view)
    s64, l64 = fl.slogdet(a64)
    np.testing.assert_array_equal(s, s64.astype(dtype))
    np.testing.assert_array_equal(l, l64.astype(dtype))
    for f, args, args64 in ((fl.inv, (view,), (a64,)), (fl.solve, (view, b), (a64, b64))):
        r, info = f(*args, errors="info")
        r64, info64 = f(*args64, errors="info")
        assert r.dtype == dtype and np.flatnonzero(info).tolist() == bad
        np.testing.assert_array_equal(info, info64)
        np.testing.assert_array_equal(r, r64.astype(dtype))
        assert np.isnan(r[bad]).all()
        with pytest.raises(np.linalg.LinAlgError, match="^Singular matrix"):
            f(*args)
        if threadpoolctl is not None:
            with threadpoolctl.threadpool_limits(1):
                np.testing.assert_array_equal(f(*args, errors="nan"), r)
    np.testing.assert_array_equal(view, before)

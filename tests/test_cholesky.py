"""The Cholesky family (src/cholesky ↔ fastla/linalg/_cholesky.py) against numpy.linalg
and scipy.linalg.

Accuracy is judged with LAPACK's scaled residuals and threshold 30 (DESIGN.md §4):
‖A − L Lᵀ‖ / (n eps ‖A‖) for the factor and the backward error ‖A x − b‖ / (‖A‖ ‖x‖ n eps)
for cho_solve.  Sizes straddle every cut-off of the kernels: the lane kernels (k <= 8,
16), the unblocked potf2 (n <= CHOL_NB = 8), the recursive potrf, the syrk's diagonal
tiles (SYRK_NB = 64) and the single-call path (n <= CHOL_SMALL_CALL = 64).
"""

import inspect

import numpy as np
import pytest
import scipy.linalg as sl

import fastla
import fastla.linalg as fl
from _residuals import LAYOUTS, as_layout, eps, spd_matrix

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 300]
THRESHOLD = 30
NOT_PD = "Matrix is not positive definite"


def _reference(x, dtype):
    """float32 results are checked in float64, float64 in longdouble."""
    return np.asarray(x).astype(np.float64 if np.dtype(dtype) == np.float32 else np.longdouble)


def _factor_residual(a, r, upper):
    """‖A − L Lᵀ‖_1 / (n eps ‖A‖_1) with L = r (lower) or r.T (upper), in higher precision."""
    dt = r.dtype
    ar, rr = _reference(a.astype(dt), dt), _reference(r, dt)
    L = rr.T if upper else rr
    norm = np.abs(ar).sum(axis=0).max()
    return float(np.abs(ar - L @ L.T).sum(axis=0).max() / (a.shape[-1] * eps(dt) * norm))


def _solve_residual(a, x, b):
    """‖A x − b‖_1 / (‖A‖_1 ‖x‖_1 n eps), worst column."""
    dt = x.dtype
    ar, xr, br = (_reference(np.asarray(v, dtype=dt), dt) for v in (a, x, b))
    if xr.ndim == 1:
        xr, br = xr[:, None], br[:, None]
    r = np.abs(ar @ xr - br).sum(axis=0)
    scale = np.abs(ar).sum(axis=0).max() * np.abs(xr).sum(axis=0) * a.shape[-1] * eps(dt)
    return float(np.max(r / scale))


# ------------------------------------------------------------------ factorization

@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("n", SIZES)
def test_cholesky_residual(n, upper, dtype, rng):
    a = spd_matrix(rng, (n, n), dtype)
    r = fl.cholesky(a, upper=upper)
    assert r.dtype == dtype and r.shape == (n, n)
    assert np.all((np.triu(r, 1) if not upper else np.tril(r, -1)) == 0)
    assert np.all(np.diagonal(r) > 0)
    assert _factor_residual(a, r, upper) <= THRESHOLD


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("n", [2, 8, 16, 33, 100, 300])
def test_cholesky_equals_numpy(n, upper, dtype, rng):
    """The factor is unique; on well-conditioned input it agrees with numpy's to a few
    eps (float32: both are float64 computations rounded, so within an ulp or two)."""
    a = spd_matrix(rng, (n, n), dtype)
    r = fl.cholesky(a, upper=upper)
    ref = np.linalg.cholesky(a, upper=upper)
    tol = 2 * eps(np.float32) if dtype == np.float32 else 4 * np.sqrt(n) * eps(np.float64)
    np.testing.assert_allclose(r, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("n", [64, 300])
def test_cholesky_ill_conditioned_residual(n, dtype, rng):
    """B Bᵀ with a tiny shift (cond ~ 1e6 for float32, 1e12 for float64): the residual
    bound holds whatever the conditioning (Cholesky is backward stable, GVL4 §4.2.6)."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.logspace(0, -5 if dtype == np.float32 else -11, n)
    a = ((q * lam) @ q.T).astype(dtype)
    a = (a + a.T) / 2
    r = fl.cholesky(a)
    assert _factor_residual(a, r, False) <= THRESHOLD


@pytest.mark.parametrize("k", [2, 3, 4, 5, 8, 9, 16, 20, 40])
@pytest.mark.parametrize("n_batch", [1, 3, 4, 5, 9])
@pytest.mark.parametrize("upper", [False, True])
def test_stacks_equal_loop(k, n_batch, upper, dtype, rng):
    """Stacks (lane kernels for k <= 8 and 16, whole matrices per thread otherwise)
    give what single calls give, to rounding (inlined copies may contract FMAs
    differently)."""
    a = spd_matrix(rng, (n_batch, k, k), dtype)
    r = fl.cholesky(a, upper=upper)
    assert r.shape == a.shape and r.dtype == dtype
    for t in range(n_batch):
        if k <= 8:      # CHOL_NB: the lanes run potf2's operations in potf2's order
            np.testing.assert_array_equal(r[t], fl.cholesky(a[t], upper=upper))
        np.testing.assert_allclose(r[t], fl.cholesky(a[t], upper=upper),
                                   rtol=8 * eps(dtype), atol=8 * eps(dtype) * np.abs(r[t]).max())
        assert _factor_residual(a[t], r[t], upper) <= THRESHOLD


def test_reads_only_the_chosen_triangle(dtype, rng):
    """Like LAPACK's potrf: garbage (NaN) in the other triangle changes nothing."""
    for n, batch in [(5, ()), (40, ()), (4, (6,)), (20, (3,))]:
        a = spd_matrix(rng, batch + (n, n), dtype)
        for upper in (False, True):
            junk = a.copy()
            idx = np.tril_indices(n, -1) if upper else np.triu_indices(n, 1)
            junk[..., idx[0], idx[1]] = np.nan
            np.testing.assert_array_equal(fl.cholesky(junk, upper=upper),
                                          fl.cholesky(a, upper=upper))


# ------------------------------------------------------------------ failures

@pytest.mark.parametrize("n", [1, 2, 5, 8, 16, 40, 100])
@pytest.mark.parametrize("bad", ["negative", "semidefinite"])
def test_not_positive_definite_order(n, bad, rng):
    """The status is the order of the first leading minor that is not positive definite
    (scipy's message carries it): a zero or negative pivot at a chosen k."""
    k = n // 2
    a = spd_matrix(rng, (n, n))
    if bad == "negative":
        a[k, k] = -1.0
    elif bad == "semidefinite":             # rows k and k+1 (or k-1) equal: pivot exactly 0
        a = np.ones((n, n)) if n > 1 else np.zeros((1, 1))
        k = min(1, n - 1)
    for upper in (False, True):
        with pytest.raises(np.linalg.LinAlgError, match=f"^{NOT_PD}$"):
            fl.cholesky(a, upper=upper)
        with pytest.raises(np.linalg.LinAlgError,
                           match=f"^{k + 1}-th leading minor of the array is not positive definite$"):
            fl.cho_factor(a, lower=not upper, check_finite=False)
    with pytest.raises(np.linalg.LinAlgError, match=f"^{NOT_PD}$"):
        np.linalg.cholesky(a)
    with pytest.raises(np.linalg.LinAlgError, match=f"^{k + 1}-th leading"):
        sl.cho_factor(a)


@pytest.mark.parametrize("case", [
    [[np.inf, 0], [0, 1]], [[1, 0], [np.inf, 1]], [[4, 2], [2, np.inf]], [[-np.inf]],
    [[np.inf]], [[1, np.nan], [2, 5]]])
@pytest.mark.parametrize("upper", [False, True])
def test_nan_inf_like_numpy(case, upper):
    """Inf, and NaN in the unread triangle: numpy's result or numpy's error."""
    a = np.array(case, dtype=np.float64)
    if upper:
        a = a.T.copy()             # keep the NaN in the triangle that is not read
    try:
        ref = np.linalg.cholesky(a, upper=upper)
    except np.linalg.LinAlgError:
        with pytest.raises(np.linalg.LinAlgError, match=NOT_PD):
            fl.cholesky(a, upper=upper)
        return
    np.testing.assert_array_equal(fl.cholesky(a, upper=upper), ref)


@pytest.mark.parametrize("n", [2, 4, 8, 16, 40])
def test_nan_pivot_propagates_like_numpy(n):
    """A NaN reaching a pivot is not a failure: the factor carries NaN, exactly as
    numpy.linalg.cholesky on OpenBLAS returns it (its potrf tests only ajj <= 0), in
    single calls and in stacks (lane kernels for n <= 16)."""
    a = np.eye(n) * 4
    a[-1, 0] = a[0, -1] = np.nan
    for upper in (False, True):
        ref = np.linalg.cholesky(a, upper=upper)
        assert np.isnan(ref).any()
        np.testing.assert_array_equal(fl.cholesky(a, upper=upper), ref)
        stack = a[None].repeat(3, axis=0)
        np.testing.assert_array_equal(fl.cholesky(stack, upper=upper),
                                      np.linalg.cholesky(stack, upper=upper))
    r = fl.cholesky(a[None].repeat(3, axis=0), errors="info")
    np.testing.assert_array_equal(r[1], [0] * 3)


@pytest.mark.parametrize("k", [3, 8, 16, 20])
def test_errors_policy_on_stack_with_one_bad_slice(k, dtype, rng):
    a = spd_matrix(rng, (2, 3, k, k), dtype)
    a[1, 0, 2, 2] = -5.0
    with pytest.raises(np.linalg.LinAlgError, match=r"^Matrix is not positive definite "
                                                    r"\(at batch index \(1, 0\)\)$"):
        fl.cholesky(a)
    r = fl.cholesky(a, errors="nan")
    assert np.isnan(r[1, 0]).all()
    good = np.ones((2, 3), bool)
    good[1, 0] = False
    np.testing.assert_array_equal(r[good], fl.cholesky(a[good]))
    r2, info = fl.cholesky(a, errors="info")
    np.testing.assert_array_equal(r2, r)
    assert info.dtype == np.int32 and info.shape == (2, 3)
    assert info[1, 0] == 3 and info.sum() == 3
    c, lower, info = fl.cho_factor(a, errors="info")
    assert info[1, 0] == 3 and np.isnan(c[1, 0]).all() and lower is False
    with pytest.raises(np.linalg.LinAlgError, match=r"^3-th leading minor .* \(at batch index \(1, 0\)\)$"):
        fl.cho_factor(a)
    with pytest.raises(ValueError, match="errors must be one of"):
        fl.cholesky(a, errors="ignore")


# ------------------------------------------------------------------ API contract

@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 2), (4, 2, 3)])
def test_shape_errors_like_numpy(shape):
    a = np.ones(shape)
    with pytest.raises(np.linalg.LinAlgError) as ref:
        np.linalg.cholesky(a)
    with pytest.raises(np.linalg.LinAlgError) as got:
        fl.cholesky(a)
    assert str(got.value) == str(ref.value)


def test_empty_and_one_by_one(dtype):
    for shape in [(0, 0), (3, 0, 0), (0, 4, 4), (2, 0, 1, 1)]:
        a = np.zeros(shape, dtype=dtype)
        r, ref = fl.cholesky(a), np.linalg.cholesky(a)
        assert r.shape == ref.shape and r.dtype == ref.dtype
        c, lower = fl.cho_factor(a)
        assert c.shape == a.shape and c.dtype == dtype and lower is False
    a = np.array([[9.0]], dtype=dtype)
    for upper in (False, True):
        r = fl.cholesky(a, upper=upper)
        assert r.dtype == dtype and r.tolist() == [[3.0]]
    np.testing.assert_array_equal(fl.cho_solve(fl.cho_factor(a), np.array([18.0], dtype)), [2.0])


@pytest.mark.parametrize("dt", [np.int8, np.int32, np.int64, np.bool_, np.float32, np.float64])
def test_result_dtypes_like_numpy(dt):
    a = np.array([[4, 2], [2, 3]]).astype(dt) if dt is not np.bool_ else np.eye(2, dtype=bool)
    assert fl.cholesky(a).dtype == np.linalg.cholesky(a).dtype
    assert fl.cho_factor(a)[0].dtype == sl.cho_factor(a)[0].dtype
    b = np.ones(2, dtype=dt)
    assert fl.cho_solve(fl.cho_factor(a), b).dtype == sl.cho_solve(sl.cho_factor(a), b).dtype


@pytest.mark.parametrize("dt", [np.float16, np.longdouble, np.complex128, object])
def test_unsupported_dtypes(dt):
    with pytest.raises(TypeError, match="float32 and float64"):
        fl.cholesky(np.eye(3, dtype=dt))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("k", [4, 9, 40])
def test_layouts_and_inputs_unchanged(layout, k, dtype, rng):
    a = spd_matrix(rng, (3, k, k), dtype)
    x = as_layout(a, layout)
    before = np.array(x, copy=True)
    for upper in (False, True):
        np.testing.assert_array_equal(fl.cholesky(x, upper=upper), fl.cholesky(a, upper=upper))
        np.testing.assert_array_equal(fl.cholesky(x[1], upper=upper), fl.cholesky(a[1], upper=upper))
    np.testing.assert_array_equal(fl.cho_factor(x)[0], fl.cho_factor(a)[0])
    b = as_layout(rng.standard_normal((3, k, 2)).astype(dtype), layout)
    c = as_layout(fl.cho_factor(a, lower=True)[0], layout)
    c_before = np.array(c, copy=True)
    b_before = np.array(b, copy=True)
    # c is read in place, so its layout picks the substitution order: equal to rounding
    sol = fl.cho_solve((c, True), b)
    ref = fl.cho_solve((np.ascontiguousarray(c), True), np.ascontiguousarray(b))
    np.testing.assert_allclose(sol, ref, rtol=50 * eps(dtype), atol=50 * eps(dtype) * np.abs(ref).max())
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(c, c_before)
    np.testing.assert_array_equal(b, b_before)


def test_float32_native_mode(rng):
    a = spd_matrix(rng, (100, 100), np.float32)
    with fastla.float32_compute("float32"):
        r = fl.cholesky(a)
        r_small = fl.cholesky(a[:8, :8])
    assert r.dtype == np.float32 and _factor_residual(a, r, False) <= THRESHOLD
    assert _factor_residual(a[:8, :8], r_small, False) <= THRESHOLD
    # default: float64 computation rounded once, i.e. numpy's float32 answer
    ref = np.linalg.cholesky(a.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(fl.cholesky(a), ref, rtol=2 * eps(np.float32), atol=1e-6)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_subclass_wrapped_like_numpy(rng):
    a = np.asmatrix(spd_matrix(rng, (4, 4)))
    assert type(fl.cholesky(a)) is type(np.linalg.cholesky(a))


def test_signatures():
    sig = inspect.signature(fl.cholesky)
    ref = inspect.signature(np.linalg.cholesky)
    got = list(sig.parameters.values())
    assert got[:len(ref.parameters)] == list(ref.parameters.values())
    assert [p.name for p in got[len(ref.parameters):]] == ["errors"]
    for name in ("cho_factor", "cho_solve"):
        got = list(inspect.signature(getattr(fl, name)).parameters.values())
        ref = list(inspect.signature(getattr(sl, name)).parameters.values())
        assert got[:len(ref)] == ref
        assert all(p.kind == inspect.Parameter.KEYWORD_ONLY for p in got[len(ref):])


def test_registered():
    assert {"cholesky", "cho_factor", "cho_solve"} <= set(fl.__all__)
    assert "numpy.linalg.cholesky" in fl.cholesky.__doc__


# ------------------------------------------------------- cho_factor / cho_solve

@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n", [1, 3, 8, 17, 70])
def test_cho_factor_like_scipy(n, lower, dtype, rng):
    """The factor triangle equals scipy's to rounding; the other triangle holds a's
    original entries, exactly as scipy's (LAPACK's) potrf leaves them."""
    a = spd_matrix(rng, (n, n), dtype)
    c, low = fl.cho_factor(a, lower=lower)
    cs, lows = sl.cho_factor(a, lower=lower)
    assert low is lows and c.dtype == cs.dtype == dtype
    tri = np.tril if lower else np.triu
    other = np.triu(np.ones((n, n), bool), 1) if lower else np.tril(np.ones((n, n), bool), -1)
    np.testing.assert_array_equal(c[other], a[other])
    np.testing.assert_array_equal(cs[other], c[other])
    tol = 8 * np.sqrt(n) * eps(dtype)
    np.testing.assert_allclose(tri(c), tri(cs), rtol=tol, atol=tol * np.abs(cs).max())


def test_cho_factor_stacked_and_errors_like_scipy(rng):
    a = spd_matrix(rng, (2, 3, 5, 5))
    c, lower = fl.cho_factor(a)
    cs, _ = sl.cho_factor(a)
    np.testing.assert_allclose(c, cs, rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match=r"^Input array is expected to be square but has "
                                         r"the shape: \(2, 3\)\.$"):
        fl.cho_factor(np.ones((2, 3)))
    bad = a[0, 0].copy()
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        fl.cho_factor(bad)
    np.testing.assert_array_equal(fl.cho_factor(np.array([4.0]))[0], [[2.0]])   # atleast_2d


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("n,nrhs", [(1, 1), (3, None), (8, 2), (17, None), (70, 5), (200, 200),
                                    (300, None)])
def test_cho_solve_backward_error(n, nrhs, lower, dtype, rng):
    a = spd_matrix(rng, (n, n), dtype)
    b = rng.standard_normal((n,) if nrhs is None else (n, nrhs)).astype(dtype)
    x = fl.cho_solve(fl.cho_factor(a, lower=lower), b)
    assert x.shape == b.shape and x.dtype == dtype
    assert _solve_residual(a, x, b) <= THRESHOLD
    xs = sl.cho_solve(sl.cho_factor(a, lower=lower), b)     # scipy's c (Fortran order) too
    np.testing.assert_allclose(fl.cho_solve(sl.cho_factor(a, lower=lower), b), xs,
                               rtol=100 * n * eps(dtype), atol=100 * n * eps(dtype) * np.abs(xs).max())


@pytest.mark.parametrize("shapes", [((4, 5, 5), (4, 5, 2)), ((5, 5), (3, 5, 1)),
                                    ((2, 1, 6, 6), (3, 6, 4)), ((3, 4, 4), (4,)),
                                    ((20, 3, 3), (20, 3, 3))])
def test_cho_solve_broadcasts(shapes, dtype, rng):
    sa, sb = shapes
    a = spd_matrix(rng, sa, dtype)
    b = rng.standard_normal(sb).astype(dtype)
    x = fl.cho_solve(fl.cho_factor(a), b)
    ref = np.linalg.solve(a.astype(np.float64), b if b.ndim > 1 else b[:, None])
    ref = ref if b.ndim > 1 else ref[..., 0]
    assert x.shape == ref.shape and x.dtype == dtype
    np.testing.assert_allclose(x, ref, rtol=1e3 * eps(dtype), atol=1e3 * eps(dtype))


def test_cho_solve_errors_like_scipy(rng):
    a = spd_matrix(rng, (4, 4))
    cf = fl.cho_factor(a)
    with pytest.raises(ValueError, match=r"^The factored matrix c is not square\.$"):
        fl.cho_solve((np.ones((3, 4)), False), np.ones(3))
    with pytest.raises(ValueError, match=r"^incompatible dimensions \(\(4, 4\) and \(3,\)\)$"):
        fl.cho_solve(cf, np.ones(3))
    with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
        fl.cho_solve(cf, np.array([1.0, np.nan, 0, 0]))
    x = fl.cho_solve(cf, np.array([1.0, np.nan, 0, 0]), check_finite=False)
    assert np.isnan(x).any()
    x = fl.cho_solve(cf, np.zeros((4, 0)))
    assert x.shape == (4, 0) and x.dtype == np.float64


def test_one_and_two_threads_identical(rng):
    if threadpoolctl is None:
        pytest.skip("threadpoolctl not installed")
    a = spd_matrix(rng, (600, 600))
    s = spd_matrix(rng, (3000, 12, 12))
    with threadpoolctl.threadpool_limits(1):
        r1, s1 = fl.cholesky(a), fl.cholesky(s)
    with threadpoolctl.threadpool_limits(2):
        r2, s2 = fl.cholesky(a), fl.cholesky(s)
    np.testing.assert_array_equal(s1, s2)
    assert _factor_residual(a, r2, False) <= THRESHOLD
    np.testing.assert_allclose(r1, r2, rtol=1e-13, atol=1e-13 * np.abs(r1).max())


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7, 8, 16])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("cdtype", [np.float32, np.float64])
def test_full_lane_groups_equal_single_and_strided(k, lower, cdtype, rng):
    """Full groups of LANES = 16 consecutive row-major matrices are gathered and
    scattered by 8 x 8 block transposes (vector shuffles), the rest element by element:
    the same bits as single calls (k <= 8) and as a strided copy of the stack (which
    takes the element-by-element gather).  At k = 7, 8 the groups are gathered from
    runs of 32 matrices read ahead: 83 = two full runs, a run of one group and a
    partial group.  cho_factor computes float32 in float32."""
    a = spd_matrix(rng, (5 * 16 + 3, k, k), cdtype)
    c, _ = fl.cho_factor(a, lower=lower)
    strided = np.empty((a.shape[0], k, 2 * k), cdtype)[:, :, ::2]
    strided[...] = a
    np.testing.assert_array_equal(fl.cho_factor(strided, lower=lower)[0], c)
    for t in range(a.shape[0]):
        if k <= 8:
            np.testing.assert_array_equal(c[t], fl.cho_factor(a[t], lower=lower)[0])
        tri = np.tril if lower else np.triu
        f = tri(c[t])
        assert _factor_residual(a[t], f, not lower) <= THRESHOLD


@pytest.mark.parametrize("k, dtype", [(8, np.float64), (3, np.float32)])
@pytest.mark.parametrize("threads", [1, 2])
def test_large_stacks_equal_small_ones(k, dtype, threads, rng):
    """Results of at least STREAM_MIN_BYTES (16 MiB) are written with streaming stores
    (_memory.pxd): the same bits as small stacks, failed slices NaN, a partial last
    group, chunks of two threads that start at any alignment."""
    if threadpoolctl is None:
        pytest.skip("threadpoolctl not installed")
    n_batch = (16 * 2**20) // (k * k * np.dtype(dtype).itemsize) + 5
    a = np.broadcast_to(spd_matrix(rng, (64, k, k), dtype), (n_batch // 64 + 1, 64, k, k))
    a = a.reshape(-1, k, k)[:n_batch].copy()
    a[3, 1, 1] = -1
    a[-1, 0, 0] = -1
    with threadpoolctl.threadpool_limits(threads):
        c, _, info = fl.cho_factor(a, lower=True, errors="info")
    parts = [fl.cho_factor(a[i:i + 1000], lower=True, errors="info") for i in range(0, n_batch, 1000)]
    np.testing.assert_array_equal(info, np.concatenate([p[2] for p in parts]))
    np.testing.assert_array_equal(c, np.concatenate([p[0] for p in parts]))
    assert np.flatnonzero(info).tolist() == [3, n_batch - 1] and np.isnan(c[3]).all()


@pytest.mark.parametrize("k", [3, 8, 16])
@pytest.mark.parametrize("upper", [False, True])
def test_float32_stacks_on_the_widened_path(k, upper, rng):
    """float32 computed in float64 goes through the driver's widened path, work items
    of 2 MiB of float64 (cholesky.pyx, WIDEN_ITEM_BYTES): the float64 factors rounded,
    bit for bit, across item boundaries and a partial last item, failed slices NaN in
    any item, from a strided view, the input unchanged, on one and two threads."""
    step = (2 * 2**20) // (8 * k * k) // 16 * 16
    n_batch = 2 * step + 7
    a = spd_matrix(rng, (n_batch, k, k), np.float64).astype(np.float32)
    bad = [1, step, n_batch - 1]                  # first chunk, second's first, last
    a[bad, k - 1, k - 1] = -1
    view = np.swapaxes(np.stack([a, a]), 0, 1)[:, 1]          # strided batch
    before = view.copy()
    r, info = fl.cholesky(view, upper=upper, errors="info")
    if threadpoolctl is not None:
        with threadpoolctl.threadpool_limits(1):
            r1, info1 = fl.cholesky(a, upper=upper, errors="info")
        np.testing.assert_array_equal(r1, r)
        np.testing.assert_array_equal(info1, info)
    assert r.dtype == np.float32 and r.shape == a.shape
    np.testing.assert_array_equal(view, before)
    ref, ref_info = fl.cholesky(a.astype(np.float64), upper=upper, errors="info")
    np.testing.assert_array_equal(info, ref_info)
    np.testing.assert_array_equal(r, ref.astype(np.float32))
    assert np.flatnonzero(info).tolist() == bad and np.isnan(r[bad]).all()


@pytest.mark.parametrize("n", [1, 5, 9, 33, 64, 65])
@pytest.mark.parametrize("lower", [False, True])
def test_single_call_paths_equal_general_path(n, lower, dtype, rng):
    """One small matrix skips the validation layer (n <= CHOL_SMALL_CALL) but runs the
    same potrf/potrs in the same precision on the same layout: the answers are the
    general path's (errors='info' and stacked operands take the general path)."""
    a = spd_matrix(rng, (n, n), dtype)
    b = rng.standard_normal((n, 3)).astype(dtype)
    r, info = fl.cholesky(a, upper=not lower, errors="info")
    assert info == 0
    np.testing.assert_array_equal(fl.cholesky(a, upper=not lower), r)
    c, low, info = fl.cho_factor(a, lower=lower, errors="info")
    c2, low2 = fl.cho_factor(a, lower=lower)
    np.testing.assert_array_equal(c2, c)
    assert low2 is lower
    x = fl.cho_solve((c, lower), b)
    assert x.dtype == dtype
    np.testing.assert_array_equal(x, fl.cho_solve((c, lower), b[None])[0])
    assert _solve_residual(a, x, b) <= THRESHOLD
    assert fl.cho_solve((c, lower), b[:, 0]).shape == (n,)


@pytest.mark.parametrize("n", [3, 40, 100])
def test_cho_solve_reads_only_the_factor_triangle(n, dtype, rng):
    a = spd_matrix(rng, (n, n), dtype)
    b = rng.standard_normal(n).astype(dtype)
    for lower in (False, True):
        c, _ = fl.cho_factor(a, lower=lower)
        junk = c.copy()
        idx = np.triu_indices(n, 1) if lower else np.tril_indices(n, -1)
        junk[idx] = np.nan
        np.testing.assert_array_equal(fl.cho_solve((junk, lower), b, check_finite=False),
                                      fl.cho_solve((c, lower), b))

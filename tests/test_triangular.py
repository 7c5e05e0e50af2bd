"""Triangular solves: the trsm kernel through its driver (every case, layout and
size around the blocking), and fastla.linalg.solve_triangular against
scipy.linalg.solve_triangular (values, dtypes, shapes, errors, stacks, policies).

Accuracy is the backward error of LAPACK's test dtrt02,
    ||b - op(A) x||_1 / (||op(A)||_1 ||x||_1 n eps) <= 30   per right-hand side,
which a backward-stable substitution meets for any conditioning (Higham, *Accuracy
and Stability*, Thm 8.5), so ill-conditioned triangles are tested with it too.
"""

import inspect
import itertools

import numpy as np
import pytest
import scipy.linalg as sl
from threadpoolctl import threadpool_limits

import fastla
from fastla._kernels import triangular as kt
from fastla.linalg import LinAlgError, solve_triangular
from _residuals import as_layout, eps, reference_dtype

NB = kt.blocking()["NB"]
# Around the unblocked cut-off and the block size: 0, 1, primes, NB +- 1, 2 NB + 3.
SIZES = (0, 1, 2, 7, 13, NB - 1, NB, NB + 1, 2 * NB + 3)
NRHS = (1, 3, 5, 29)


def triangle(a, lower, unit):
    t = np.tril(a) if lower else np.triu(a)
    if unit:
        np.fill_diagonal(t, 1)
    return t


def well_conditioned(rng, n, dtype):
    """Diagonally dominant triangle (either half): cond_1 = O(1)."""
    return (rng.standard_normal((n, n)) / max(n, 1) ** 0.5 + 2 * np.eye(n)).astype(dtype)


def ill_conditioned(rng, n, dtype):
    """Random entries, diagonal included: cond grows like 2^n (Viswanath & Trefethen,
    SIAM J. Matrix Anal. Appl. 19(2), 1998)."""
    return rng.standard_normal((n, n)).astype(dtype)


def assert_backward(x, a, b, lower, trans, unit, left=True, alpha=1.0, bound=30):
    """The dtrt02 ratio, for each right-hand side, computed in reference precision."""
    dt = x.dtype
    ref = reference_dtype(dt)
    t = triangle(a.astype(ref), lower, unit)
    op = t.T if trans else t
    xr, br = x.astype(ref), alpha * b.astype(dt).astype(ref)
    if not left:                       # x op(A) = b  <=>  op(A)^T x^T = b^T
        op, xr, br = op.T, xr.T, br.T
    n = op.shape[0]
    if n == 0 or xr.size == 0:
        return
    resid = np.abs(br - op @ xr).sum(axis=0)
    scale = np.abs(op).sum(axis=0).max() * np.abs(xr).sum(axis=0) * n * eps(dt)
    ratio = resid / np.where(scale > 0, scale, 1)
    assert np.all(np.isfinite(xr)), "non-finite solution"
    assert ratio.max() <= bound, f"backward error {ratio.max():.3g} > {bound} (n={n}, {dt})"


def kernel_solve(a, b, left, lower, trans, unit, alpha=1.0):
    """The driver on one matrix: B overwritten in place, any strides of A and B."""
    x = b.copy(order="K")
    it = x.itemsize
    strides = np.array([[s // it for s in a.strides], [s // it for s in x.strides]], np.intp)
    info = np.zeros(1, np.int32)
    m, n = x.shape
    status = kt.trsm_batched(a, x, info, m, n, np.zeros(0, np.intp), strides,
                             left, lower, trans, unit, alpha)
    assert status == 0 and info[0] == 0
    return x


# ------------------------------------------------------------------------- kernel

@pytest.mark.parametrize("left, lower, trans", list(itertools.product([True, False], repeat=3)))
@pytest.mark.parametrize("unit", [False, True], ids=["diag", "unit"])
def test_kernel_every_case(left, lower, trans, unit, dtype, rng):
    """All 8 cases x unit diagonal, sizes around the blocking, layouts of A and B."""
    for n, k in itertools.product(SIZES, NRHS):
        m, nb = (n, k) if left else (k, n)
        a = well_conditioned(rng, n, dtype)
        b = rng.standard_normal((m, nb)).astype(dtype)
        a_layout, b_layout = ("C", "F", "strided", "reversed")[n % 4], "CF"[k % 2]
        x = kernel_solve(as_layout(a, a_layout), as_layout(b, b_layout), left, lower, trans,
                         unit, alpha=0.5)
        assert_backward(x, a, b, lower, trans, unit, left=left, alpha=0.5)


@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
def test_kernel_layouts_large(layout, dtype, rng):
    """Every layout of A and B on the blocked path (n = 300 > 4 NB, 70 columns)."""
    n = 300
    a = well_conditioned(rng, n, dtype)
    b = rng.standard_normal((n, 70)).astype(dtype)
    for lower, trans in itertools.product([True, False], repeat=2):
        x = kernel_solve(as_layout(a, layout), as_layout(b, layout), True, lower, trans, False)
        assert_backward(x, a, b, lower, trans, False)


def test_kernel_matches_scipy(rng):
    """Same answers as LAPACK's trtrs on a well-conditioned problem, every case."""
    n = 2 * NB + 3
    a = well_conditioned(rng, n, np.float64)
    b = rng.standard_normal((n, 17))
    for lower, trans, unit in itertools.product([True, False], repeat=3):
        x = kernel_solve(a, b, True, lower, trans, unit)
        ref = sl.solve_triangular(a, b, trans=int(trans), lower=lower, unit_diagonal=unit)
        np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-13)


def test_kernel_alpha_zero_ignores_a(rng):
    """BLAS semantics: alpha = 0 gives B = 0 without reading A (NaN there is harmless)."""
    a = np.full((5, 5), np.nan)
    x = kernel_solve(a, rng.standard_normal((5, 3)), True, True, False, True, alpha=0.0)
    assert np.array_equal(x, np.zeros((5, 3)))


@pytest.mark.parametrize("shape", ["one-rhs", "many-rhs", "square"])
def test_ill_conditioned_backward_stable(shape, dtype, rng):
    """cond ~ 1e17 and solutions up to 1e30 (float32) / 1e219 (float64): the backward
    error stays O(n eps).  Sizes keep the float32 solution finite."""
    n = 100 if dtype == np.float32 else 700
    k = {"one-rhs": 1, "many-rhs": 60, "square": min(n, 257)}[shape]
    a = ill_conditioned(rng, n, dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    with fastla.float32_compute("float32"):
        for lower, trans in itertools.product([True, False], repeat=2):
            x = solve_triangular(a, b, trans=int(trans), lower=lower)
            assert x.dtype == dtype
            assert_backward(x, a, b, lower, trans, False)


@pytest.mark.parametrize("threads", [1, 2])
def test_threads(threads, rng):
    """Above PARALLEL_MIN_MNK the columns of B are split between threads."""
    n, k = 300, 203
    a = well_conditioned(rng, n, np.float64)
    b = rng.standard_normal((n, k))
    with threadpool_limits(limits=threads):
        for lower, trans in itertools.product([True, False], repeat=2):
            x = solve_triangular(a, b, trans=int(trans), lower=lower)
            assert_backward(x, a, b, lower, trans, False)
            x = kernel_solve(a, b.T, False, lower, trans, False)     # right side
            assert_backward(x, a, b.T, lower, trans, False, left=False)


def test_zero_diagonal_status_and_skip():
    """first_zero_diagonal: 1-based status, B of that slice left as it was."""
    a = np.stack([np.eye(4), np.diag([1.0, 2.0, 0.0, 0.0])])
    b = np.ones((2, 4, 2))
    info = np.empty(2, np.int32)
    strides = np.array([[4, 1, 16], [2, 1, 8]], np.intp)
    assert kt.trsm_batched(a, b, info, 4, 2, np.array([2], np.intp), strides) == 0
    assert info.tolist() == [0, 3]
    assert np.array_equal(b, np.ones((2, 4, 2)))


# ---------------------------------------------------------------------- public API

def test_signature():
    ours = inspect.signature(solve_triangular)
    theirs = inspect.signature(sl.solve_triangular)
    assert list(ours.parameters.values())[:-1] == list(theirs.parameters.values())
    errors = ours.parameters["errors"]
    assert errors.kind is inspect.Parameter.KEYWORD_ONLY and errors.default == "raise"
    assert "solve_triangular" in fastla.linalg.__all__


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("b_ndim", [1, 2])
def test_like_scipy(trans, lower, b_ndim, rng):
    a = well_conditioned(rng, 6, np.float64)
    b = rng.standard_normal((6, 3) if b_ndim == 2 else (6,))
    for unit in (False, True):
        x = solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
        ref = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
        assert x.shape == ref.shape and x.dtype == ref.dtype
        np.testing.assert_allclose(x, ref, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("da, db", [
    (np.float32, np.float32), (np.float32, np.float64), (np.float32, np.int64),
    (np.float32, np.int16), (np.uint8, np.uint8), (np.bool_, np.float32),
    (np.int64, np.int64), (np.int32, np.float32), (np.float64, np.float32)])
def test_result_dtype_like_scipy(da, db):
    a = (np.triu(np.ones((3, 3))) + np.eye(3)).astype(da)
    b = np.array([1, 2, 3]).astype(db)
    x, ref = solve_triangular(a, b), sl.solve_triangular(a, b)
    assert x.dtype == ref.dtype
    np.testing.assert_allclose(x, ref, rtol=1e-6)
    empty = sl.solve_triangular(a, b[:0, None][:0].reshape(3, 0))
    assert solve_triangular(a, b.reshape(3, 1)[:, :0]).dtype == empty.dtype


@pytest.mark.parametrize("a_shape, b_shape", [((0, 0), (0,)), ((0, 0), (0, 3)),
                                              ((3, 3), (3, 0)), ((2, 0, 0), (0,))])
def test_empty(a_shape, b_shape):
    x = solve_triangular(np.zeros(a_shape, np.float32), np.zeros(b_shape, np.float32))
    assert x.dtype == np.float32
    expected = np.broadcast_shapes(a_shape[:-2], b_shape[:-2] if len(b_shape) > 1 else ())
    assert x.shape == expected + (b_shape if len(b_shape) < 2 else b_shape[-2:])


def test_zero_size_batch():
    """scipy raises for zero-size batches; fastla returns the empty result."""
    x = solve_triangular(np.ones((0, 3, 3)), np.ones((3, 2)))
    assert x.shape == (0, 3, 2) and x.dtype == np.float64


@pytest.mark.parametrize("a, b, exc, message", [
    (np.ones((3, 2)), np.ones(3), ValueError, "expected square matrix"),
    (np.ones(3), np.ones(3), ValueError, "expected square matrix"),
    (np.eye(3), np.ones(4), ValueError, r"shapes of a \(3, 3\) and b \(4,\) are incompatible"),
    (np.eye(3), np.ones((4, 2)), ValueError,
     r"shapes of a \(3, 3\) and b \(4, 2\) are incompatible"),
    (np.ones((2, 3, 3)), np.ones((3, 3, 2)), ValueError, "shape mismatch"),
    (np.ones((2, 3, 3)), np.ones((2, 3)), ValueError,
     r"shapes of a \(3, 3\) and b \(2, 3\) are incompatible"),
    (np.eye(2), np.array([1.0, np.nan]), ValueError, "array must not contain infs or NaNs"),
    (np.array([[np.inf, 1], [0, 1]]), np.ones(2), ValueError,
     "array must not contain infs or NaNs"),
])
def test_errors_like_scipy(a, b, exc, message):
    with pytest.raises(exc, match=message):
        sl.solve_triangular(a, b)
    with pytest.raises(exc, match=message):
        solve_triangular(a, b)


def test_fastla_only_errors():
    with pytest.raises(ValueError, match="trans must be"):
        solve_triangular(np.eye(2), np.ones(2), trans=3)
    with pytest.raises(ValueError, match="errors must be one of"):
        solve_triangular(np.eye(2), np.ones(2), errors="ignore")
    with pytest.raises(TypeError, match="unsupported"):
        solve_triangular(np.eye(2, dtype=complex), np.ones(2))
    with pytest.raises(TypeError, match="unsupported"):
        solve_triangular(np.eye(2, dtype=np.float16), np.ones(2))


@pytest.mark.parametrize("position", [0, 2, 4])
def test_singular_message_like_scipy(position):
    a = np.triu(np.ones((5, 5))) + np.eye(5)
    a[position, position] = 0
    msg = f"singular matrix: resolution failed at diagonal {position}$"
    with pytest.raises(LinAlgError, match=msg):
        sl.solve_triangular(a, np.ones(5))
    with pytest.raises(LinAlgError, match=msg):
        solve_triangular(a, np.ones(5))
    # unit_diagonal never reads the diagonal, so nothing is singular
    np.testing.assert_allclose(solve_triangular(a, np.ones(5), unit_diagonal=True),
                               sl.solve_triangular(a, np.ones(5), unit_diagonal=True))


def test_nonfinite_without_check():
    """check_finite=False: no crash or hang, NaN propagates as in LAPACK."""
    a = np.triu(np.ones((4, 4))) + np.eye(4)
    a[1, 3] = np.nan
    x = solve_triangular(a, np.ones(4), check_finite=False)
    ref = sl.solve_triangular(a, np.ones(4), check_finite=False)
    assert np.array_equal(np.isnan(x), np.isnan(ref))
    x = solve_triangular(a, np.full(4, np.inf), check_finite=False)
    assert x.shape == (4,)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((2, 3, 6, 6), (3, 6, 2)), ((4, 6, 6), (6,)), ((6, 6), (4, 6, 2)),
    ((1, 6, 6), (5, 6, 1)), ((3, 1, 6, 6), (2, 6, 3))])
def test_stacked_equals_loop(a_shape, b_shape, dtype, rng):
    a = (rng.standard_normal(a_shape) + 3 * np.eye(a_shape[-1])).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    x = solve_triangular(a, b, lower=True, trans=1)
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2] if len(b_shape) > 1 else ())
    core = b_shape[-2:] if len(b_shape) > 1 else b_shape
    assert x.shape == batch + core and x.dtype == dtype
    a_b = np.broadcast_to(a, batch + a_shape[-2:])
    b_b = np.broadcast_to(b, batch + core)
    for idx in np.ndindex(batch):
        one = solve_triangular(a_b[idx], b_b[idx], lower=True, trans=1)
        np.testing.assert_array_equal(x[idx], one)
    if len(batch) and np.prod(batch) > 1:      # scipy >= 1.15 batches the same way
        np.testing.assert_allclose(x, sl.solve_triangular(a, b, lower=True, trans=1),
                                   rtol=100 * eps(dtype), atol=100 * eps(dtype))


@pytest.mark.parametrize("layout", ["C", "F", "T", "strided", "reversed", "misaligned",
                                    "oddstride"])
def test_input_layouts(layout, dtype, rng):
    a = (rng.standard_normal((3, 9, 9)) + 3 * np.eye(9)).astype(dtype)
    b = rng.standard_normal((3, 9, 4)).astype(dtype)
    x = solve_triangular(as_layout(a, layout), as_layout(b, layout))
    np.testing.assert_allclose(x, solve_triangular(a, b), rtol=10 * eps(dtype))


def test_errors_policy_one_singular_slice(rng):
    a = np.triu(rng.standard_normal((2, 3, 5, 5))) + 4 * np.eye(5)
    a[1, 0, 3, 3] = 0
    b = rng.standard_normal((5, 2))
    with pytest.raises(LinAlgError, match=r"^singular matrix: resolution failed at "
                                          r"diagonal 3 \(at batch index \(1, 0\)\)$"):
        solve_triangular(a, b)
    x = solve_triangular(a, b, errors="nan")
    assert np.isnan(x[1, 0]).all() and not np.isnan(np.delete(x.reshape(6, 5, 2), 3, 0)).any()
    for idx in [(0, 0), (1, 2)]:
        np.testing.assert_allclose(x[idx], sl.solve_triangular(a[idx], b), rtol=1e-12)
    x2, info = solve_triangular(a, b, errors="info")
    assert info.dtype == np.int32 and info.shape == (2, 3)
    assert info.tolist() == [[0, 0, 0], [4, 0, 0]]
    np.testing.assert_array_equal(np.delete(x2.reshape(6, 5, 2), 3, 0),
                                  np.delete(x.reshape(6, 5, 2), 3, 0))


def test_inputs_unchanged(rng):
    a = np.triu(rng.standard_normal((2, 7, 7))) + 3 * np.eye(7)
    b = rng.standard_normal((2, 7, 3), ).copy(order="F")
    a0, b0 = a.copy(), b.copy()
    for trans, lower in itertools.product([0, 1], [False, True]):
        solve_triangular(a, b, trans=trans, lower=lower)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)


def test_overwrite_b(rng):
    """overwrite_b: a permission, used (like scipy) when b already is the result."""
    a = np.triu(rng.standard_normal((6, 6))) + 3 * np.eye(6)
    for b in (rng.standard_normal((6, 3)).copy(order="F"), rng.standard_normal(6),
              rng.standard_normal((2, 6, 3))):
        expected = solve_triangular(a, b)
        x = solve_triangular(a, b, overwrite_b=True)
        assert x is b
        np.testing.assert_allclose(x, expected, rtol=1e-13)   # b's layout: other rounding
    # float32 b with float32 a is the result: solved in place, as scipy does.
    b = np.ones(6, np.float32)
    assert solve_triangular(a.astype(np.float32), b, overwrite_b=True) is b
    # Not the result's dtype, broadcast, or overlapping with a: b is copied, left alone.
    for b, aa in ((np.ones(6, np.float32), a), (np.ones(6), a[None]), (a, a)):
        b0 = b.copy()
        x = solve_triangular(aa, b, overwrite_b=True)
        assert x is not b and np.array_equal(b, b0)


def test_float32_in_scipys_precision(rng):
    """float32 input is solved in float32, as scipy calls strsm: float32-level backward
    error, and the numpy.linalg float32_compute setting does not apply."""
    n = 60
    a = ill_conditioned(rng, n, np.float32)
    b = rng.standard_normal((n, 8)).astype(np.float32)
    x = solve_triangular(a, b, lower=True)
    assert x.dtype == np.float32
    assert_backward(x, a, b, True, False, False)
    for mode in ("float64", "float32"):
        with fastla.float32_compute(mode):
            np.testing.assert_array_equal(solve_triangular(a, b, lower=True), x)


def test_errors_policy_single_matrix():
    a = np.triu(np.ones((4, 4))) + np.eye(4)
    a[1, 1] = 0
    x, info = solve_triangular(a, np.ones(4), errors="info")
    assert info.shape == () and int(info) == 2 and x.shape == (4,)
    assert np.isnan(solve_triangular(a, np.ones((4, 2)), errors="nan")).all()
    x, info = solve_triangular(np.eye(4), np.ones(4), errors="info")
    assert int(info) == 0 and np.array_equal(x, np.ones(4))

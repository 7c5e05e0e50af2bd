"""fastla.optimize (src/optimize ↔ fastla/optimize/): built-in objectives and their
derivatives, Newton and gradient descent (compiled and through Python callables),
batches, safeguards, stopping, closed-form helpers and input validation.

Accuracy is judged by scaled residuals with fixed bounds (DESIGN.md §4) or, where an
optimiser meets a tolerance, by that tolerance checked independently in numpy.
"""

import numpy as np
import pytest
import scipy.optimize as so
from threadpoolctl import threadpool_limits

import fastla
from fastla import optimize as opt
from _residuals import LAYOUTS, as_layout, eps, spd_matrix

DTYPES = (np.float64, np.float32)


def _logistic_data(rng, m, n, batch=()):
    X = rng.standard_normal(batch + (m, n))
    w = rng.standard_normal(batch + (n,)) / np.sqrt(n)
    p = 1 / (1 + np.exp(-np.einsum("...ij,...j->...i", X, w)))
    y = (rng.random(batch + (m,)) < p).astype(np.float64)
    return X, y


def _logistic_grad(X, y, w, l2):
    """The gradient in numpy, independent of the kernel."""
    return X.T @ (1 / (1 + np.exp(-(X @ w))) - y) + l2 * w


# ----------------------------------------------------------------- objectives

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_quadratic_newton_equals_solve(dtype, layout):
    rng = np.random.default_rng(1)
    n = 12
    A = as_layout(spd_matrix(rng, (n, n), dtype), layout)
    b = rng.standard_normal(n).astype(dtype)
    res = opt.minimize(opt.Quadratic(A, b), np.zeros(n, dtype))
    assert res.x.dtype == dtype
    assert res.nit <= 2 and res.nhev == 1
    x = res.x.astype(np.float64)
    a64 = A.astype(np.float64)
    # solve's backward error (computed in float64, rounded to dtype)
    r = np.linalg.norm(a64 @ x - b, np.inf) / (
        n * eps(dtype) * (np.linalg.norm(a64, np.inf) * np.linalg.norm(x, np.inf)
                          + np.linalg.norm(b, np.inf)))
    assert r <= 30


def test_quadratic_uses_the_symmetric_part():
    rng = np.random.default_rng(2)
    n = 6
    S = spd_matrix(rng, (n, n))
    K = rng.standard_normal((n, n))
    A = S + (K - K.T)                     # same quadratic form as S
    b = rng.standard_normal(n)
    res = opt.minimize(opt.Quadratic(A, b, c=3.0), np.ones(n), tol=1e-12)
    x = np.linalg.solve(S, b)
    np.testing.assert_allclose(res.x, x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.fun, 0.5 * x @ S @ x - b @ x + 3.0, rtol=1e-13)
    np.testing.assert_allclose(res.hess, S, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("l2", [0.0, 2.5])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
def test_least_squares_one_newton_step_equals_lstsq(l2, layout):
    rng = np.random.default_rng(3)
    m, n = 200, 7
    X = as_layout(rng.standard_normal((m, n)), layout)
    y = rng.standard_normal(m)
    res = opt.minimize(opt.LeastSquares(X, y, l2=l2), np.zeros(n), tol=1e-10)
    assert res.success and res.nit == 1 and res.nhev == 1
    if l2 == 0:
        ref = np.linalg.lstsq(X, y, rcond=None)[0]
    else:
        ref = np.linalg.solve(X.T @ X + l2 * np.eye(n), X.T @ y)
    # ||w - w_ref|| / ||w_ref|| <= 30 kappa(X^T X + l2 I) n eps (Cholesky of the normal equations)
    kappa = np.linalg.cond(X.T @ X + l2 * np.eye(n))
    assert np.linalg.norm(res.x - ref) / np.linalg.norm(ref) <= 30 * kappa * n * eps(np.float64)


@pytest.mark.parametrize("l2", [1.0, 0.01])
def test_logistic_matches_tight_scipy_solve(l2):
    rng = np.random.default_rng(4)
    X, y = _logistic_data(rng, 400, 6)
    res = opt.minimize(opt.LogisticRegression(X, y, l2=l2), np.zeros(6), tol=1e-10)
    assert res.success, res.message
    assert np.abs(_logistic_grad(X, y, res.x, l2)).max() <= 1e-9
    obj = opt.LogisticRegression(X, y, l2=l2)
    ref = so.minimize(obj, np.zeros(6), jac=obj.grad, hess=obj.hess, method="trust-exact",
                      options={"gtol": 1e-12})
    # strongly convex with modulus >= l2: ||w - w*|| <= ||g(w)|| / l2
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)


def test_logistic_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(5)
    X, y = _logistic_data(rng, 300, 5)
    res = opt.minimize(opt.LogisticRegression(X, y, l2=0.5), np.zeros(5), tol=1e-10)
    clf = sk.LogisticRegression(C=2.0, fit_intercept=False, solver="newton-cholesky",
                                tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(res.x, clf.coef_[0], rtol=0, atol=1e-8)


def test_logistic_accepts_pm1_labels_and_rejects_others():
    rng = np.random.default_rng(6)
    X, y = _logistic_data(rng, 50, 3)
    a = opt.minimize(opt.LogisticRegression(X, y), np.zeros(3), tol=1e-10)
    b = opt.minimize(opt.LogisticRegression(X, 2 * y - 1), np.zeros(3), tol=1e-10)
    np.testing.assert_array_equal(a.x, b.x)
    with pytest.raises(ValueError, match="labels"):
        opt.LogisticRegression(X, y + 1)


@pytest.mark.parametrize("make", [
    lambda rng: opt.Quadratic(rng.standard_normal((5, 5)), rng.standard_normal(5), 1.5),
    lambda rng: opt.LeastSquares(rng.standard_normal((30, 5)), rng.standard_normal(30), 0.3),
    lambda rng: opt.LogisticRegression(*_logistic_data(rng, 30, 5), l2=0.3),
], ids=["quadratic", "least_squares", "logistic"])
def test_builtin_derivatives_match_differences(make):
    """The kernel's matrix-calculus gradient and Hessian against differences of its
    value (and of its gradient)."""
    rng = np.random.default_rng(7)
    obj = make(rng)
    x = rng.standard_normal(5)
    h = 1e-6
    g = obj.grad(x)
    assert opt.check_grad(obj, obj.grad, x) <= 1e-5 * max(1.0, np.abs(g).max())
    fd = np.array([(obj.grad(x + h * e) - obj.grad(x - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(obj.hess(x), fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    np.testing.assert_allclose(obj.hess(x), obj.hess(x).T, rtol=0, atol=0)


# ------------------------------------------------------------------ methods

def test_gd_on_quadratic_meets_the_linear_rate():
    """Step 1/L: f(x_k) - f* <= (1 - mu/L)^k (f(x_0) - f*) (Nesterov, Introductory
    Lectures, Thm 2.1.15 / B&V §9.3)."""
    rng = np.random.default_rng(8)
    n = 8
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = np.linspace(1, 10, n)
    A = (Q * lam) @ Q.T
    b = rng.standard_normal(n)
    obj = opt.Quadratic(A, b)
    res = opt.minimize(obj, np.zeros(n), method="gd", tol=1e-9,
                       options={"step": "lipschitz"})
    assert res.success and res.hess is None
    xs = np.linalg.solve(A, b)
    fstar = -0.5 * b @ xs
    gap = res.history["f"] - fstar
    k = np.arange(gap.size)
    bound = (1 - lam[0] / lam[-1]) ** k * gap[0]
    assert np.all(gap <= bound + 1e-13 * abs(fstar))
    assert res.nit > 20                  # the rate, not a lucky early exit
    np.testing.assert_array_equal(res.history["step"][1:], 1 / obj.lipschitz())


@pytest.mark.parametrize("kind", ["least_squares", "logistic"])
def test_gd_armijo_and_fixed_step_converge(kind):
    rng = np.random.default_rng(9)
    X, y = _logistic_data(rng, 100, 4)
    obj = opt.LeastSquares(X, y) if kind == "least_squares" else opt.LogisticRegression(X, y)
    ref = opt.minimize(obj, np.zeros(4), tol=1e-10)
    for step in ("armijo", "lipschitz", 0.5 / float(obj.lipschitz())):
        res = opt.minimize(obj, np.zeros(4), method="gd", tol=1e-7, maxiter=20000,
                           options={"step": step})
        assert res.success, (step, res.message)
        assert np.all(np.diff(res.history["f"]) <= 1e-12 * abs(res.fun))
        np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


def test_rosenbrock_through_callables():
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])            # scipy's tutorial start
    res = opt.minimize(so.rosen, x0, jac=so.rosen_der, hess=so.rosen_hess, tol=1e-10)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-9)
    x0 = np.array([-1.2, 1.0])
    # hess=None: differences of the gradient; jac=True: fun returns (f, g)
    res2 = opt.minimize(lambda x: (so.rosen(x), so.rosen_der(x)), x0, jac=True, tol=1e-7)
    assert res2.success
    np.testing.assert_allclose(res2.x, np.ones(2), atol=1e-6)
    res3 = opt.minimize(so.rosen, x0, method="gd", jac=so.rosen_der, tol=1e-4,
                        maxiter=50000)
    assert res3.success
    np.testing.assert_allclose(res3.x, np.ones(2), atol=1e-3)


@pytest.mark.parametrize("method", ["newton", "gd"])
def test_one_dimensional_float_x0(method):
    res = opt.minimize(lambda x: np.cosh(x - 1.0) + 0.5 * x * x, 3.0, method=method,
                       jac=lambda x: np.sinh(x - 1.0) + x,
                       hess=(lambda x: np.cosh(x - 1.0) + 1.0) if method == "newton" else None,
                       tol=1e-10)
    assert res.success and isinstance(res.x, float) and isinstance(res.jac, float)
    assert abs(np.sinh(res.x - 1.0) + res.x) <= 1e-10
    # no derivatives at all: differences
    res = opt.minimize(lambda x: (x - 2.0) ** 2, 0.0, method=method, tol=1e-6)
    assert res.success and abs(res.x - 2.0) <= 1e-5


def test_non_pd_hessian_is_shifted():
    """At x0 the Hessian diag(3 x^2 - 1, 2) is indefinite: plain Newton would head for
    the local maximum x = 0; the shifted step descends to a minimum x = +-1."""
    f = lambda v: v[0] ** 4 / 4 - v[0] ** 2 / 2 + v[1] ** 2
    jac = lambda v: np.array([v[0] ** 3 - v[0], 2 * v[1]])
    hess = lambda v: np.diag([3 * v[0] ** 2 - 1, 2.0])
    res = opt.minimize(f, np.array([0.1, 1.0]), jac=jac, hess=hess, tol=1e-12)
    assert res.success
    np.testing.assert_allclose(np.abs(res.x), [1, 0], atol=1e-12)
    assert opt.classify_stationary_point(hess(res.x)) == "minimum"
    # compiled path: an indefinite quadratic is unbounded below; Newton's shifted
    # steps keep decreasing f and stop without hanging
    A = np.diag([1.0, -1.0, 2.0])
    res = opt.minimize(opt.Quadratic(A, np.ones(3)), np.zeros(3), maxiter=30)
    assert not res.success and res.status in (1, 3)
    assert np.all(np.diff(res.history["f"][np.isfinite(res.history["f"])]) < 0)


def test_maxiter_reached():
    rng = np.random.default_rng(10)
    X, y = _logistic_data(rng, 60, 4)
    res = opt.minimize(opt.LogisticRegression(X, y), np.zeros(4), method="gd", maxiter=3)
    assert not res.success and res.status == 1 and res.nit == 3
    assert "Maximum number of iterations" in res.message
    assert res.history["f"].shape == (4,)
    res = opt.minimize(so.rosen, np.zeros(3), jac=so.rosen_der, maxiter=2)
    assert not res.success and res.nit == 2 and "Maximum" in res.message


def test_newton_decrement_stop():
    rng = np.random.default_rng(11)
    X, y = _logistic_data(rng, 80, 3)
    res = opt.minimize(opt.LogisticRegression(X, y), np.zeros(3), tol=0,
                       options={"dtol": 1e-6})
    assert res.success and res.status == 4 and res.nit >= 2


def test_nan_data_stops():
    X = np.ones((5, 2))
    X[2, 1] = np.nan
    res = opt.minimize(opt.LogisticRegression(X, np.array([0, 1, 0, 1, 1.0])), np.zeros(2))
    assert not res.success and res.status == 3


def test_callbacks():
    rng = np.random.default_rng(12)
    X, y = _logistic_data(rng, 60, 3)
    obj = opt.LogisticRegression(X, y)
    seen = []
    res = opt.minimize(obj, np.zeros(3), callback=lambda xk: seen.append(xk.copy()), tol=1e-10)
    ref = opt.minimize(obj, np.zeros(3), tol=1e-10)
    assert len(seen) == res.nit == ref.nit
    np.testing.assert_allclose(res.x, ref.x, atol=1e-12)

    def stop(intermediate_result):
        raise StopIteration

    res = opt.minimize(so.rosen, np.zeros(2), jac=so.rosen_der, callback=stop)
    assert res.status == 99 and not res.success and res.nit == 1


# ------------------------------------------------------------------ batches

@pytest.mark.parametrize("method", ["newton", "gd"])
def test_batch_equals_loop_of_singles(method):
    rng = np.random.default_rng(13)
    X, y = _logistic_data(rng, 40, 3, batch=(3, 4))
    x0 = rng.standard_normal(3) * 0.1                          # broadcast
    tol = 1e-8 if method == "newton" else 1e-6
    res = opt.minimize(opt.LogisticRegression(X, y, l2=0.5), x0, method=method, tol=tol)
    assert res.x.shape == (3, 4, 3) and res.nit.shape == (3, 4) and res.success.all()
    for i in np.ndindex(3, 4):
        one = opt.minimize(opt.LogisticRegression(X[i], y[i], l2=0.5), x0, method=method,
                           tol=tol)
        np.testing.assert_array_equal(res.x[i], one.x)
        assert res.fun[i] == one.fun and res.nit[i] == one.nit and res.nfev[i] == one.nfev


def test_batch_threads_and_sizes():
    """Many small problems: OpenMP across them gives the serial answers; a stack of
    zero problems and broadcast operands work."""
    rng = np.random.default_rng(14)
    A = spd_matrix(rng, (500, 4, 4))
    b = rng.standard_normal((500, 4))
    with threadpool_limits(1):
        one = opt.minimize(opt.Quadratic(A, b), np.zeros(4))
    with threadpool_limits(2):
        two = opt.minimize(opt.Quadratic(A, b), np.zeros(4))
    np.testing.assert_array_equal(one.x, two.x)
    np.testing.assert_allclose(one.x, np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-10,
                               atol=1e-12)
    empty = opt.minimize(opt.Quadratic(A[:0], b[:0]), np.zeros(4))
    assert empty.x.shape == (0, 4)
    shared = opt.minimize(opt.Quadratic(A[0], b[:3]), np.zeros(4))     # A broadcast
    np.testing.assert_allclose(shared.x, np.linalg.solve(A[0], b[:3].T).T, rtol=1e-10)


def test_single_large_problem_threads_agree():
    """One problem above the threading threshold splits its rows between threads."""
    rng = np.random.default_rng(15)
    X, y = _logistic_data(rng, 6000, 8)
    obj = opt.LogisticRegression(X, y)
    with threadpool_limits(1):
        one = opt.minimize(obj, np.zeros(8), tol=1e-9)
    with threadpool_limits(2):
        two = opt.minimize(obj, np.zeros(8), tol=1e-9)
    assert one.success and two.success
    np.testing.assert_allclose(one.x, two.x, rtol=0, atol=1e-10)
    assert np.abs(_logistic_grad(X, y, two.x, 1.0)).max() <= 1e-8


@pytest.mark.parametrize("dtype", DTYPES)
def test_float32(dtype):
    rng = np.random.default_rng(16)
    X, y = _logistic_data(rng, 100, 4)
    obj = opt.LogisticRegression(X.astype(dtype), y.astype(dtype))
    res = opt.minimize(obj, np.zeros(4, dtype), tol=1e-6)
    assert res.x.dtype == dtype and res.success
    with fastla.float32_compute("float32"):
        native = opt.minimize(obj, np.zeros(4, dtype), tol=1e-2)
    assert native.success and native.x.dtype == dtype
    np.testing.assert_allclose(native.x, res.x, atol=1e-3)


# ------------------------------------------------------------ closed forms

def test_kkt_against_direct_solve():
    rng = np.random.default_rng(17)
    n, p = 6, 2
    A = spd_matrix(rng, (n, n))
    b, C, d = rng.standard_normal(n), rng.standard_normal((p, n)), rng.standard_normal(p)
    x, lam = opt.kkt_solve(A, b, C, d)
    K = np.block([[A, C.T], [C, np.zeros((p, p))]])
    ref = np.linalg.solve(K, np.concatenate([b, d]))
    np.testing.assert_allclose(np.concatenate([x, lam]), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(C @ x, d, atol=1e-12)
    np.testing.assert_allclose(A @ x + C.T @ lam, b, atol=1e-12)      # stationarity
    with pytest.raises(ValueError, match="shape mismatch"):
        opt.kkt_solve(A, b, C, np.ones(3))
    with pytest.raises(np.linalg.LinAlgError):
        opt.kkt_solve(A, b, np.ones((2, n)), d)                         # rank 1 C


def test_min_norm_and_least_squares_solves():
    rng = np.random.default_rng(18)
    A = rng.standard_normal((3, 7))
    b = rng.standard_normal(3)
    x = opt.min_norm_solve(A, b)
    np.testing.assert_allclose(x, np.linalg.pinv(A) @ b, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(A @ x, b, atol=1e-13)
    B = rng.standard_normal((9, 4))
    c = rng.standard_normal(9)
    np.testing.assert_allclose(opt.least_squares_solve(B, c), np.linalg.lstsq(B, c)[0],
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(opt.least_squares_solve(B, c[:, None])[:, 0],
                               np.linalg.lstsq(B, c)[0], rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError):
        opt.min_norm_solve(B, c)
    with pytest.raises(ValueError):
        opt.least_squares_solve(A, b)


def test_classify_stationary_point():
    assert opt.classify_stationary_point(np.diag([1.0, 2.0])) == "minimum"
    assert opt.classify_stationary_point(np.diag([-1.0, -2.0])) == "maximum"
    assert opt.classify_stationary_point(np.diag([1.0, -2.0])) == "saddle"
    assert opt.classify_stationary_point(np.diag([1.0, 0.0])) == "degenerate"
    assert opt.classify_stationary_point([[2, 1], [1, 2]]) == "minimum"
    with pytest.raises(ValueError):
        opt.classify_stationary_point(np.ones((2, 3)))


def test_check_grad_matches_scipy():
    x = np.array([0.3, -0.7, 1.1])
    wrong = lambda v: so.rosen_der(v) + 1.0
    for grad in (so.rosen_der, wrong):
        assert opt.check_grad(so.rosen, grad, x) == pytest.approx(
            so.check_grad(so.rosen, grad, x), rel=1e-6, abs=1e-9)
    assert opt.check_grad(so.rosen, wrong, x) > 1


# ------------------------------------------------------------- bad input

def test_bad_input():
    A, b = np.eye(3), np.ones(3)
    with pytest.raises(ValueError, match="shape mismatch"):
        opt.Quadratic(A, np.ones(4))
    with pytest.raises(ValueError, match="square"):
        opt.Quadratic(np.ones((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match="shape mismatch"):
        opt.LeastSquares(np.ones((10, 3)), np.ones(9))
    with pytest.raises(ValueError, match="x0"):
        opt.minimize(opt.Quadratic(A, b), np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        opt.minimize(opt.Quadratic(A, b), np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="finite"):
        opt.minimize(so.rosen, np.array([np.inf, 0.0]))
    with pytest.raises(TypeError, match="callable"):
        opt.minimize("rosen", np.zeros(2))
    with pytest.raises(TypeError, match="jac"):
        opt.minimize(so.rosen, np.zeros(2), jac="2-point")
    with pytest.raises(TypeError):
        opt.Quadratic(A.astype(complex), b)
    with pytest.raises(TypeError):
        opt.LeastSquares(np.ones((4, 2), dtype=object), np.ones(4))
    with pytest.raises(TypeError):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3, dtype=np.float16))
    with pytest.raises(TypeError, match="l2"):
        opt.LeastSquares(np.ones((4, 2)), np.ones(4), l2="big")
    with pytest.raises(ValueError, match="l2"):
        opt.LeastSquares(np.ones((4, 2)), np.ones(4), l2=-1)
    with pytest.raises(ValueError, match="method"):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3), method="bfgs")
    with pytest.raises(ValueError, match="unknown options"):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3), options={"gtoll": 1})
    with pytest.raises(ValueError, match="step"):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3), method="gd", options={"step": -1.0})
    with pytest.raises(ValueError, match="built into the objective"):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3), jac=lambda x: x)
    with pytest.raises(ValueError, match="built into the objective"):
        opt.minimize(opt.Quadratic(A, b), np.zeros(3), args=(1,))


def test_inputs_unchanged():
    rng = np.random.default_rng(19)
    X, y = _logistic_data(rng, 50, 3, batch=(2,))
    X = np.asfortranarray(X)
    x0 = rng.standard_normal(3)
    A, b = spd_matrix(rng, (3, 3)), rng.standard_normal(3)
    copies = [a.copy() for a in (X, y, x0, A, b)]
    opt.minimize(opt.LogisticRegression(X, y), x0)
    opt.minimize(opt.LeastSquares(X, y), x0, method="gd")
    opt.minimize(opt.Quadratic(A, b), x0)
    opt.minimize(lambda v: float(v @ A @ v), x0, jac=lambda v: 2 * A @ v)
    opt.kkt_solve(A, b, X[0, :1], y[0, :1])
    for a, c in zip((X, y, x0, A, b), copies):
        np.testing.assert_array_equal(a, c)


def test_logistic_terms_accurate():
    """The kernel's branch-free exp / log1p (optimize.pxd) against mpmath: each loss
    term log(1 + e^z) - y z to a few ulp over the whole range of z, no overflow."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 400                      # enough digits for 1 + e^700
    z = np.concatenate([np.linspace(-700, 700, 701), np.logspace(-300, 2.8, 100),
                        -np.logspace(-300, 2.8, 100), [0.0]])
    y = (np.arange(z.size) % 2).astype(np.float64)
    terms = opt.LogisticRegression(z[:, None, None], y[:, None], l2=0.0)(np.ones(1))
    ref = np.array([float(mpmath.log(1 + mpmath.exp(mpmath.mpf(v))) - w * mpmath.mpf(v))
                    for v, w in zip(z, y)])
    ok = ref > 1e-300
    assert np.all(np.abs(terms - ref)[ok] <= 8 * eps(np.float64) * ref[ok])
    assert np.all(np.abs(terms[~ok]) <= 1e-300)


def test_compiled_loops_are_vectorised():
    """The Hessian tiles are gemm.pxd's micro-kernel (a store-free loop of 24 zmm FMAs
    for float64, as tests/test_kernels.py checks in the gemm module) and the loss loop
    vectorises its exp (vcvttpd2qq on zmm: the exponent of 2^k), so a refactor cannot
    silently fall back to scalar code."""
    import shutil
    import subprocess

    import test_kernels
    from fastla._kernels import optimize as kopt
    if shutil.which("objdump") is None or not test_kernels._avx512_cpu():
        pytest.skip("needs objdump and an AVX-512 CPU")
    from fastla import _build_config
    if _build_config.cpu_tuning not in ("native", "x86-64-v4"):
        pytest.skip(f"built with cpu_tuning={_build_config.cpu_tuning}")
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", kopt.__file__],
                          capture_output=True, text=True, check=True).stdout
    loops = test_kernels._innermost_loops(text)
    best = max((test_kernels._zmm_fmas(body, "d") for _, body in loops
                if test_kernels._stores(body) == 0), default=0)
    assert best >= 24, f"no store-free 24-FMA tile loop in {kopt.__file__} (best {best})"
    assert any(op == "vcvttpd2qq" and "%zmm" in args for _, body in loops
               for op, args in body), "the exp of loss_terms is not vectorised"


def test_nan_hessian_through_callables_and_quadratic():
    """NaN in the Hessian (not on its diagonal): status 3, no hang, both paths."""
    A = np.array([[2.0, np.nan], [np.nan, 2.0]])
    res = opt.minimize(lambda v: float(v @ v), np.ones(2), jac=lambda v: 2 * v,
                       hess=lambda v: A)
    assert res.status == 3 and not res.success
    res = opt.minimize(opt.Quadratic(A, np.ones(2)), np.zeros(2))
    assert res.status == 3 and not res.success

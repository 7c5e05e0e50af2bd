"""Property-based fuzzing of fastla.optimize (issue 8; the linalg functions are in
test_fuzz.py).

For every public function, hypothesis draws problems of random size (including 1 and
stacks), float32/float64/int input, C or Fortran order, well- and badly-posed data
(indefinite or singular matrices, NaN/Inf) and junk arguments.  The property:

1. well-posed problems agree with numpy's direct answer within a condition-scaled
   bound (minimize on a quadratic = solve, least squares = lstsq, KKT = the block
   solve, minimum-norm = lstsq's minimum-norm solution, the second-derivative test =
   numpy's eigenvalue signs, check_grad = scipy's);
2. badly-posed ones end with success=False, a LinAlgError or a ValueError/TypeError --
   never another exception, a crash or a hang (bounded maxiter, per-call time limit);
3. inputs are byte-identical afterwards.
Derandomized (fixed seed) as test_fuzz.py's 'ci' profile; FASTLA_FUZZ=long multiplies
the cases by 20 with a random seed.
"""

import os
import time

import numpy as np
import pytest
import scipy.optimize as so
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastla.optimize as opt

LinAlgError = np.linalg.LinAlgError
LONG = os.environ.get("FASTLA_FUZZ") == "long"
CASES = 300 * (20 if LONG else 1)
SETTINGS = settings(max_examples=CASES, derandomize=not LONG, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
CALL_SECONDS = 10.0
C = 30.0
CLASSES = {"OptimizeResult", "KKTResult", "Quadratic", "LeastSquares", "LogisticRegression"}
FUZZED = {"minimize", "kkt_solve", "min_norm_solve", "least_squares_solve",
          "classify_stationary_point", "check_grad"}


def test_every_public_name_is_fuzzed():
    # the objective classes are fuzzed through minimize; the result types are results
    assert set(opt.__all__) == FUZZED | CLASSES, set(opt.__all__) ^ (FUZZED | CLASSES)


# ----------------------------------------------------------------------- generators

@st.composite
def matrices(draw, m, n, batch=(), kind="normal"):
    """An (batch..., m, n) array of a drawn dtype and order; kind 'normal', 'spd',
    'indefinite', 'singular' or 'nonfinite'."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(batch + (m, n))
    if kind == "spd":
        a = a @ np.swapaxes(a, -1, -2) + m * np.eye(m)
    elif kind == "indefinite":
        a = a + np.swapaxes(a, -1, -2)
    elif kind == "singular" and min(m, n) > 0:
        a[..., :, -1] = a[..., :, 0]
        if m == n:
            a = (a + np.swapaxes(a, -1, -2)) / 2
            a[..., -1, :] = a[..., 0, :]
            a[..., :, -1] = a[..., :, 0]
    elif kind == "nonfinite" and a.size:
        a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.int64]))
    if dtype == np.int64:
        a = np.round(a * 4)
        if kind == "spd":
            a = a @ np.swapaxes(a, -1, -2) + m * np.eye(m)
    a = a.astype(dtype) if np.isfinite(a).all() or dtype != np.int64 else a
    if draw(st.booleans()):
        a = np.asfortranarray(a)
    return a


def _snapshot(*xs):
    return [(x.shape, x.strides, x.dtype, x.tobytes()) if isinstance(x, np.ndarray) else repr(x)
            for x in xs]


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    try:
        out, exc = fn(*args, **kw), None
    except Exception as e:              # noqa: BLE001 - the property checks the class
        out, exc = None, e
    assert time.perf_counter() - t0 < CALL_SECONDS, f"{fn.__name__} took too long"
    return out, exc


def _eps(*arrays):
    single = all(np.asarray(a).dtype == np.float32 for a in arrays)
    return np.finfo(np.float32 if single else np.float64).eps


def _allowed(exc):
    assert exc is None or isinstance(exc, (LinAlgError, ValueError, TypeError)), repr(exc)


# ------------------------------------------------------------------------ minimize

@SETTINGS
@given(st.data(), st.integers(1, 8), st.sampled_from([(), (3,)]),
       st.sampled_from(["spd", "spd", "indefinite", "singular", "nonfinite"]),
       st.sampled_from(["newton", "gd"]))
def test_minimize_quadratic(data, n, batch, kind, method):
    A = data.draw(matrices(n, n, batch, kind))
    b = data.draw(matrices(n, 1, batch))[..., 0]
    before = _snapshot(A, b)
    maxiter = 50 if method == "newton" else 2000
    res, exc = _timed(opt.minimize, opt.Quadratic(A, b), np.zeros(batch + (n,)),
                      method=method, tol=1e-5, maxiter=maxiter)
    assert _snapshot(A, b) == before
    _allowed(exc)
    if exc is not None or kind != "spd":
        return
    a64, b64 = np.asarray(A, np.float64), np.asarray(b, np.float64)
    x = np.linalg.solve(a64, b64[..., None])[..., 0]
    success = np.asarray(res.success)
    if method == "newton":
        assert success.all(), res.message
    # ||g||_inf <= tol at a converged x: ||x - x*|| <= ||A^-1|| tol sqrt(n) + rounding
    err = np.linalg.norm(res.x - x, axis=-1)
    bound = (np.linalg.norm(np.linalg.inv(a64), 2, axis=(-2, -1)) * 1e-5 * np.sqrt(n)
             + C * n * _eps(A, b) * np.linalg.cond(a64) * np.linalg.norm(x, axis=-1))
    assert np.all(err[success] <= bound[success] * 1.01), (err, bound)


@SETTINGS
@given(st.data(), st.integers(1, 40), st.integers(1, 6), st.sampled_from([0.0, 0.5]),
       st.sampled_from(["normal", "normal", "singular", "nonfinite"]))
def test_minimize_least_squares(data, m, n, l2, kind):
    X = data.draw(matrices(m, n, (), kind))
    y = data.draw(matrices(m, 1))[:, 0]
    before = _snapshot(X, y)
    res, exc = _timed(opt.minimize, opt.LeastSquares(X, y, l2=l2), np.zeros(n), tol=1e-8,
                      maxiter=50)
    assert _snapshot(X, y) == before
    _allowed(exc)
    if exc is not None or kind != "normal" or (m < n and l2 == 0):
        return
    x64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    aug = np.vstack([x64, np.sqrt(l2) * np.eye(n)])
    ref = np.linalg.lstsq(aug, np.concatenate([y64, np.zeros(n)]))[0]
    cond = np.linalg.cond(aug)
    # Newton on the normal equations: forward error ~ cond^2 eps (plus the tolerance)
    bound = C * n * _eps(X, y) * cond**2 * max(np.linalg.norm(ref), 1.0) \
        + cond**2 / np.linalg.norm(aug, 2) ** 2 * 1e-8 * np.sqrt(n)
    if res.success:
        assert np.linalg.norm(res.x - ref) <= bound, (res.x, ref)


@SETTINGS
@given(st.data(), st.integers(1, 60), st.integers(1, 5), st.sampled_from([1e-3, 1.0]),
       st.sampled_from(["normal", "normal", "nonfinite"]), st.sampled_from(["newton", "gd"]))
def test_minimize_logistic(data, m, n, l2, kind, method):
    X = data.draw(matrices(m, n, (), kind))
    y = (data.draw(matrices(m, 1))[:, 0] > 0).astype(np.float64)
    before = _snapshot(X, y)
    res, exc = _timed(opt.minimize, opt.LogisticRegression(X, y, l2=l2), np.zeros(n),
                      method=method, tol=1e-6, maxiter=50 if method == "newton" else 500)
    assert _snapshot(X, y) == before
    _allowed(exc)
    if exc is not None or kind != "normal":
        return
    # the reported gradient is the objective's at res.x, and success means ||g|| <= tol
    w, x64 = res.x.astype(np.float64), np.asarray(X, np.float64)
    z = x64 @ w
    g = x64.T @ (1 / (1 + np.exp(-z)) - y) + l2 * w
    scale = np.abs(x64).sum() + l2 * np.abs(w).sum() + 1
    assert np.abs(g - res.jac).max() <= C * m * _eps(X) * scale
    if method == "newton":
        assert res.success, res.message
    if res.success:
        assert np.abs(res.jac).max() <= 1e-6


@SETTINGS
@given(st.one_of(st.none(), st.text(max_size=3), st.integers(), st.just([[1.0, 2.0]]),
                 st.just(np.ones((2, 3))), st.just(np.array([np.nan]))),
       st.sampled_from(["fun", "x0", "A"]))
def test_minimize_junk(junk, where):
    A, b = np.eye(2), np.ones(2)
    if where == "fun":
        call = lambda: opt.minimize(junk, np.zeros(2))                 # noqa: E731
    elif where == "x0":
        call = lambda: opt.minimize(opt.Quadratic(A, b), junk)         # noqa: E731
    else:
        call = lambda: opt.minimize(opt.Quadratic(junk, b), np.zeros(2))  # noqa: E731
    call.__name__ = "minimize"
    res, exc = _timed(call)
    _allowed(exc)
    if exc is None:                     # e.g. x0 = [[1, 2]] broadcasts as one problem
        assert np.isfinite(np.asarray(res.x)).all() or not np.all(res.success)


# ------------------------------------------------------------ closed-form helpers

@SETTINGS
@given(st.data(), st.integers(1, 8), st.integers(0, 4),
       st.sampled_from(["spd", "spd", "indefinite", "singular", "nonfinite"]))
def test_kkt_solve(data, n, p, kind):
    p = min(p, n)
    A = data.draw(matrices(n, n, (), kind))
    b = data.draw(matrices(n, 1))[:, 0]
    Cm = data.draw(matrices(p, n))
    d = data.draw(matrices(p, 1))[:, 0]
    before = _snapshot(A, b, Cm, d)
    res, exc = _timed(opt.kkt_solve, A, b, Cm, d)
    assert _snapshot(A, b, Cm, d) == before
    _allowed(exc)
    K = np.block([[np.asarray(A, np.float64), np.asarray(Cm, np.float64).T],
                  [np.asarray(Cm, np.float64), np.zeros((p, p))]])
    rhs = np.concatenate([np.asarray(b, np.float64), np.asarray(d, np.float64)])
    if exc is not None or not np.isfinite(K).all():
        return
    x, lam = res
    # backward error of the block system, as for solve (tests/_residuals.py's bound)
    sol = np.concatenate([x, lam]).astype(np.float64)
    r = np.linalg.norm(K @ sol - rhs, np.inf)
    scale = np.linalg.norm(K, np.inf) * np.linalg.norm(sol, np.inf) + np.linalg.norm(rhs, np.inf)
    assert r <= C * (n + p) * _eps(A, b, Cm, d) * scale


@SETTINGS
@given(st.data(), st.integers(1, 6), st.integers(0, 6),
       st.sampled_from(["normal", "normal", "singular", "nonfinite"]), st.booleans())
def test_min_norm_and_least_squares(data, m, extra, kind, wide):
    rows, cols = (m, m + extra) if wide else (m + extra, m)
    A = data.draw(matrices(rows, cols, (), kind))
    b = data.draw(matrices(rows, 1))[:, 0]
    before = _snapshot(A, b)
    fn = opt.min_norm_solve if wide else opt.least_squares_solve
    x, exc = _timed(fn, A, b)
    assert _snapshot(A, b) == before
    _allowed(exc)
    if exc is not None or kind != "normal":
        return
    a64, b64 = np.asarray(A, np.float64), np.asarray(b, np.float64)
    ref = np.linalg.lstsq(a64, b64)[0]          # minimum norm when wide
    cond = np.linalg.cond(a64)
    bound = C * max(rows, cols) * _eps(A, b) * cond * (1 + cond * np.linalg.norm(a64 @ ref - b64)
                                                       / (np.linalg.norm(a64, 2) * max(np.linalg.norm(ref), 1e-300))) \
        * max(np.linalg.norm(ref), 1e-300)
    assert np.linalg.norm(x - ref) <= bound, (x, ref)


@SETTINGS
@given(st.data(), st.integers(1, 8), st.sampled_from(["pos", "neg", "mixed", "zero", "nonfinite"]))
def test_classify_stationary_point(data, n, signs):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = rng.uniform(0.5, 2.0, n)
    if signs == "neg":
        lam = -lam
    elif signs == "mixed" and n > 1:
        lam[0] = -lam[0]
    elif signs == "zero":
        lam[0] = 0.0
    H = (q * lam) @ q.T
    H = (H + H.T) / 2
    if signs == "nonfinite":
        H[0, 0] = np.nan
    H = H.astype(data.draw(st.sampled_from([np.float64, np.float32])))
    before = _snapshot(H)
    got, exc = _timed(opt.classify_stationary_point, H)
    assert _snapshot(H) == before
    _allowed(exc)
    if signs == "nonfinite":
        assert isinstance(exc, ValueError)
        return
    w = np.linalg.eigvalsh(H.astype(np.float64))
    tol = n * np.finfo(H.dtype).eps * np.abs(w).max() * C
    if (w > tol).any() and (w < -tol).any():
        want = {"saddle"}
    elif (np.abs(w) <= tol).any():
        want = {"degenerate", "minimum", "maximum"}   # within rounding of zero
    else:
        want = {"minimum"} if (w > 0).all() else {"maximum"}
    assert got in want, (got, w)


@SETTINGS
@given(st.data(), st.integers(1, 6))
def test_check_grad(data, n):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    A = rng.standard_normal((n, n))
    x0 = rng.standard_normal(n)
    wrong = data.draw(st.booleans())
    f = lambda x: 0.5 * x @ A @ x                                   # noqa: E731
    g = (lambda x: A @ x) if wrong else (lambda x: 0.5 * (A + A.T) @ x)   # noqa: E731
    got, exc = _timed(opt.check_grad, f, g, x0)
    assert exc is None, exc
    ref = so.check_grad(f, g, x0)
    assert abs(got - ref) <= 1e-6 * max(1.0, abs(ref)), (got, ref)


@pytest.mark.parametrize("args", [(None, None, np.zeros(2)), ("f", len, np.zeros(2))])
def test_check_grad_junk(args):
    with pytest.raises(TypeError):
        opt.check_grad(*args)

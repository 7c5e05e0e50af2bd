"""fastla.optimize against scipy.optimize.minimize (and scikit-learn if installed)
(src/optimize ↔ fastla/optimize/).

Every solver gets the same read-only data, the same objective (the built-ins'
formulas, written in numpy for the others: one fused value-and-gradient function,
the Hessian or Hessian-vector product where the method takes one) and the same
thread count, and is asked for the same gradient tolerance ||g||_inf <= GTOL on the
un-scaled objective.  After timing, the gradient at each answer is recomputed in
numpy and stored in extra_info["gnorm"]; fastla must meet the tolerance (a fast wrong
answer fails), the others are recorded as they end (extra_info["reached"]).

Groups (one table each in report.py; "x/fastla" columns are speed-ups):
- logistic m x n: LogisticRegression(l2=1) to ||g||_inf <= 1e-8 from w = 0, on the
  data of the report's cases (fastla/_bench/problems.py OPT_LOGISTIC); scipy
  L-BFGS-B, Newton-CG, trust-exact, BFGS; a numpy Newton loop; scikit-learn
  LogisticRegression(solver='newton-cholesky' | 'lbfgs', C=1, fit_intercept=False),
  whose tol applies to its mean loss, so it gets GTOL / m;
- lstsq m x n: LeastSquares by one Newton step against numpy/scipy lstsq;
- quadratic n = 10: one minimize call (prebuilt objective, and with construction)
  against scipy BFGS and numpy's direct solve;
- batch: 10000 logistic problems (32 x 4) in one call against a Python loop of scipy
  over BATCH_SCIPY of them; times are divided by extra_info["problems"] (time per
  problem), so the ratio is per problem.

    pytest benchmarks/bench_optimize.py --bench-threads=1 --benchmark-max-time=0.2
    pytest benchmarks/bench_optimize.py --bench-threads=1 -k "logistic and 100000" \
        --benchmark-json=opt.json && python benchmarks/report.py opt.json
    pytest benchmarks/bench_optimize.py --benchmark-disable      # smoke: every case once
"""

import numpy as np
import pytest
import scipy.optimize as so
from scipy.special import expit
from threadpoolctl import threadpool_limits

from fastla import optimize as opt
from fastla._bench.problems import OPT_LOGISTIC, OPT_QUADRATIC

GTOL = 1e-8
L2 = 1.0
BATCH_N, BATCH_M, BATCH_D = 10000, 32, 4
BATCH_SCIPY = 200            # problems in the scipy loop (per-problem times compared)

try:
    import sklearn.linear_model as _sk
except ImportError:          # optional: its solvers are skipped
    _sk = None


# ----------------------------------------------------------------- the data

_DATA = {}


def logistic_data(m, n):
    """(X, y) of the report's case (fastla/_bench/problems.py OPT_LOGISTIC): X standard
    normal, y_i = [x_i . w + e_i > 0], read-only."""
    (case,) = [c for c in OPT_LOGISTIC if c.shapes[0] == (m, n)]
    return case.build()


def batch_data():
    key = ("batch",)
    if key not in _DATA:
        rng = np.random.default_rng(1)
        X = rng.standard_normal((BATCH_N, BATCH_M, BATCH_D))
        w = rng.standard_normal((BATCH_N, BATCH_D))
        y = (rng.random((BATCH_N, BATCH_M)) < expit(np.einsum("bij,bj->bi", X, w))).astype(float)
        X.flags.writeable = y.flags.writeable = False
        _DATA[key] = X, y
    return _DATA[key]


class NumpyLogistic:
    """The LogisticRegression objective in numpy, for the scipy solvers."""

    def __init__(self, X, y, l2):
        self.X, self.y, self.l2 = X, y, l2

    def fun_and_grad(self, w):
        z = self.X @ w
        f = np.sum(np.logaddexp(0, z) - self.y * z) + 0.5 * self.l2 * (w @ w)
        return f, self.X.T @ (expit(z) - self.y) + self.l2 * w

    def grad(self, w):
        return self.fun_and_grad(w)[1]

    def hess(self, w):
        s = expit(self.X @ w)
        return self.X.T @ ((s * (1 - s))[:, None] * self.X) + self.l2 * np.eye(w.size)

    def hessp(self, w, p):
        s = expit(self.X @ w)
        return self.X.T @ (s * (1 - s) * (self.X @ p)) + self.l2 * p


def numpy_newton(X, y, l2, gtol):
    """The course's Newton loop in numpy (full steps; the benchmark's starting point
    needs no line search)."""
    obj = NumpyLogistic(X, y, l2)
    w = np.zeros(X.shape[1])
    for _ in range(100):
        g = obj.grad(w)
        if np.abs(g).max() <= gtol:
            break
        w = w - np.linalg.solve(obj.hess(w), g)
    return w


# ------------------------------------------------------------ the solvers

def _scipy(method, **options):
    def solve(X, y, l2, gtol):
        obj = NumpyLogistic(X, y, l2)
        kw = {"jac": True}
        if method == "trust-exact":
            kw["hess"] = obj.hess
        elif method == "Newton-CG":
            kw["hessp"] = obj.hessp
        return so.minimize(obj.fun_and_grad, np.zeros(X.shape[1]), method=method,
                           options={k: (gtol if v == "gtol" else v) for k, v in options.items()},
                           **kw).x
    return solve


def _sklearn(solver):
    def solve(X, y, l2, gtol):
        clf = _sk.LogisticRegression(C=1 / l2, fit_intercept=False, solver=solver,
                                     tol=gtol / X.shape[0], max_iter=10000)
        return clf.fit(X, y).coef_[0]
    return solve


def _fastla(X, y, l2, gtol):
    return opt.minimize(opt.LogisticRegression(X, y, l2=l2), np.zeros(X.shape[1]), tol=gtol).x


LOGISTIC_SOLVERS = {
    "fastla": _fastla,
    "scipy-L-BFGS-B": _scipy("L-BFGS-B", gtol="gtol", ftol=0.0, maxiter=100000),
    "scipy-Newton-CG": _scipy("Newton-CG", xtol=1e-14, maxiter=1000),
    "scipy-trust-exact": _scipy("trust-exact", gtol="gtol"),
    "scipy-BFGS": _scipy("BFGS", gtol="gtol", maxiter=100000),
    "numpy-newton": numpy_newton,
}
if _sk is not None:
    LOGISTIC_SOLVERS["sklearn-newton-cholesky"] = _sklearn("newton-cholesky")
    LOGISTIC_SOLVERS["sklearn-lbfgs"] = _sklearn("lbfgs")


def _record(benchmark, op, size, solver, threads, flops, problems=1):
    benchmark.group = f"{op}[float64] {size} threads={threads}"
    benchmark.extra_info.update(op=op, dtype="float64", size=size, contender=solver,
                                threads=threads, flops=flops, problems=problems)


def _timed(benchmark, threads, fn, *args):
    with threadpool_limits(limits=threads):
        if not benchmark.disabled:
            fn(*args)                        # warm-up: thread pools, page faults
        return benchmark(fn, *args)


def _check_gnorm(benchmark, solver, X, y, w, tol):
    gnorm = float(np.abs(NumpyLogistic(X, y, L2).grad(w)).max())
    benchmark.extra_info.update(gnorm=gnorm, reached=gnorm <= tol)
    if solver == "fastla":
        assert gnorm <= tol, gnorm


# ------------------------------------------------------------- benchmarks

@pytest.mark.parametrize("solver", list(LOGISTIC_SOLVERS))
@pytest.mark.parametrize("m, n", [(100000, 50), (10000, 20)], ids=["100000x50", "10000x20"])
def test_logistic(benchmark, threads, solver, m, n):
    if solver == "scipy-BFGS" and m * n > 10**6 and benchmark.disabled:
        pytest.skip("smoke run: BFGS on the large case takes seconds")
    X, y = logistic_data(m, n)
    # Newton: 2 m n + m n (n + 1) flops per pass; 7 passes from w = 0 (measured)
    _record(benchmark, "logistic", f"{m}x{n}", solver, threads, 7 * m * n * (n + 3))
    w = _timed(benchmark, threads, LOGISTIC_SOLVERS[solver], X, y, L2, GTOL)
    # the solvers stop on their own measure; fastla's is ||g||_inf itself (rounding
    # of the 2-norm-free recomputation in numpy: 1e-3 relative slack)
    _check_gnorm(benchmark, solver, X, y, w, GTOL * 1.001)


LSTSQ = {
    "fastla": lambda X, y: opt.minimize(opt.LeastSquares(X, y), np.zeros(X.shape[1])).x,
    "numpy": lambda X, y: np.linalg.lstsq(X, y)[0],
    "scipy": lambda X, y: __import__("scipy.linalg").linalg.lstsq(X, y)[0],
}


@pytest.mark.parametrize("solver", list(LSTSQ))
def test_least_squares(benchmark, threads, solver):
    m, n = 100000, 50
    X, y = logistic_data(m, n)
    _record(benchmark, "lstsq", f"{m}x{n}", solver, threads, 2 * m * n * n)
    w = _timed(benchmark, threads, LSTSQ[solver], X, y)
    ref = np.linalg.lstsq(X, y)[0]
    assert np.linalg.norm(w - ref) <= 1e-10 * np.linalg.norm(ref)


def _quadratic():
    return OPT_QUADRATIC[0].build()          # A = B B^T + n I, b; n = 10


def _quad_solvers():
    A, b = _quadratic()
    q = opt.Quadratic(A, b)
    x0 = np.zeros(b.size)
    return {
        "fastla": lambda: opt.minimize(q, x0).x,
        "fastla-with-Quadratic()": lambda: opt.minimize(opt.Quadratic(A, b), x0).x,
        "scipy-BFGS": lambda: so.minimize(lambda x: 0.5 * x @ A @ x - b @ x, x0,
                                          jac=lambda x: A @ x - b, method="BFGS").x,
        "numpy-solve": lambda: np.linalg.solve(A, b),
    }


@pytest.mark.parametrize("solver", list(_quad_solvers()))
def test_quadratic(benchmark, threads, solver):
    A, b = _quadratic()
    _record(benchmark, "quadratic", "n=10", solver, threads, 10**3 / 3)
    x = _timed(benchmark, threads, _quad_solvers()[solver])
    assert np.abs(A @ x - b).max() <= 1e-5


def _batch_fastla(X, y):
    return opt.minimize(opt.LogisticRegression(X, y, l2=L2), np.zeros(X.shape[-1]), tol=GTOL).x


def _batch_scipy(method):
    one = _scipy(method, gtol="gtol", **({"ftol": 0.0} if method == "L-BFGS-B" else {}))
    return lambda X, y: np.array([one(X[i], y[i], L2, GTOL) for i in range(X.shape[0])])


BATCH = {"fastla": _batch_fastla, "scipy-loop-L-BFGS-B": _batch_scipy("L-BFGS-B"),
         "scipy-loop-trust-exact": _batch_scipy("trust-exact")}


@pytest.mark.parametrize("solver", list(BATCH))
def test_batch(benchmark, threads, solver):
    X, y = batch_data()
    count = BATCH_N if solver == "fastla" else BATCH_SCIPY
    if benchmark.disabled:
        count = min(count, 20)
    X, y = X[:count], y[:count]
    _record(benchmark, "logistic_batch", f"N={BATCH_N} {BATCH_M}x{BATCH_D}", solver, threads,
            6 * BATCH_M * BATCH_D * (BATCH_D + 3), problems=count)
    w = _timed(benchmark, threads, BATCH[solver], X, y)
    g = np.einsum("bij,bi->bj", X, expit(np.einsum("bij,bj->bi", X, w)) - y) + L2 * w
    gnorm = float(np.abs(g).max())
    benchmark.extra_info.update(gnorm=gnorm, reached=gnorm <= GTOL * 1.001)
    if solver == "fastla":
        assert gnorm <= GTOL * 1.001

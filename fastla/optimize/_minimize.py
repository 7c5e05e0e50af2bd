"""minimize: Newton's method and gradient descent, compiled for the built-in
objectives, in Python for callables; scipy-compatible results.

Built-in objectives (fastla/optimize/_objectives.py) run the whole loop in the kernel
(src/optimize.pxd: gradient, Hessian, Cholesky, Armijo backtracking, stopping tests,
no GIL), stacked problems in one call with OpenMP across them.  Python callables
(scipy's fun / jac / hess conventions, also 1-D with a float x0) and built-ins with a
callback take the same algorithm written here, one Python call per evaluation.
"""

import inspect
import math

import numpy as np

from .._kernels import optimize as _kern
from .._validate import compute_dtype, result_dtype
from ._objectives import GD, NEWTON, _Builtin

__all__ = ["minimize", "OptimizeResult"]

MESSAGES = {
    0: "Optimization terminated successfully.",
    1: "Maximum number of iterations has been exceeded.",
    2: "Desired error not necessarily achieved due to precision loss.",
    3: "NaN or Inf encountered in the objective or its gradient.",
    4: "Optimization terminated successfully (Newton decrement below dtol).",
    99: "`callback` raised `StopIteration`.",
}
_SUCCESS = (0, 4)
_OPTIONS = {"gtol", "dtol", "step", "history"}
_MAX_BACKTRACK = 60          # as the kernel (optimize.pxd)
_C1 = 1e-4
_NOISE = 64 * np.finfo(np.float64).eps     # f's rounding level (optimize.pxd)


class OptimizeResult(dict):
    """The result of ``minimize``, as scipy.optimize.OptimizeResult: a dict whose keys
    are also attributes (x, fun, jac, hess, nit, nfev, njev, nhev, success, status,
    message, history)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self):
        if not self:
            return "OptimizeResult()"
        width = max(map(len, self)) + 1
        return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())

    def __dir__(self):
        return list(self.keys())


def _parse(method, tol, maxiter, options, n):
    if method not in ("newton", "gd"):
        raise ValueError(f"method must be 'newton' or 'gd', got {method!r}")
    if options is None and maxiter is None:             # the common case, quickly
        gtol = 1e-5 if tol is None else float(tol)
        if gtol >= 0:
            return gtol, 0.0, 100 if method == "newton" else 200 * max(n, 1), "armijo", None
    options = dict(options or {})
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}; known: {sorted(_OPTIONS)}")
    gtol = options.get("gtol", 1e-5 if tol is None else tol)
    gtol = float(gtol)
    if not gtol >= 0:
        raise ValueError(f"tol / gtol must be >= 0, got {gtol}")
    dtol = float(options.get("dtol", 0.0))
    if maxiter is None:
        maxiter = 100 if method == "newton" else 200 * max(n, 1)
    maxiter = int(maxiter)
    if maxiter < 0:
        raise ValueError(f"maxiter must be >= 0, got {maxiter}")
    step = options.get("step", "armijo")
    if method == "newton" and step != "armijo":
        raise ValueError("option 'step' applies to method='gd' only")
    if not (step in ("armijo", "lipschitz") or isinstance(step, (int, float))
            and not isinstance(step, bool) and math.isfinite(step) and step > 0):
        raise ValueError("option 'step' must be 'armijo', 'lipschitz' or a positive number, "
                         f"got {step!r}")
    return gtol, dtol, maxiter, step, options.get("history")


def minimize(fun, x0, *, method="newton", jac=None, hess=None, tol=None, maxiter=None,
             callback=None, options=None, args=()):
    """Minimise fun from x0 by Newton's method (method='newton') or gradient descent
    (method='gd').

    fun: a built-in objective (Quadratic, LeastSquares, LogisticRegression), whose
        loop runs compiled, or a Python callable fun(x, *args) -> float with scipy's
        conventions: jac callable (or True: fun returns (f, g); None: forward
        differences), hess callable (None: differences of the gradient).  A float
        x0 means a 1-D problem with scalar callables.
    x0: (n,), or (..., n) for stacked built-ins (broadcast with their batch).
    tol: the gradient tolerance, ||g||_inf <= tol (default 1e-5; option 'gtol').
    maxiter: default 100 (Newton) or 200 n (gradient descent).
    callback: called after each iteration as callback(intermediate_result) if its
        parameter has that name, else callback(xk); raising StopIteration stops.
    options: 'gtol'; 'dtol' (stop when the Newton decrement lambda^2/2 <= dtol,
        default 0); 'step' for 'gd': 'armijo' (backtracking, default), a fixed
        number, or 'lipschitz' (1/L for built-ins); 'history' (bool; default on for
        one problem, off for stacks).

    Newton factors the Hessian by Cholesky; when it is not positive definite, H + tau I
    with the smallest of tau0, 2 tau0, ... that factors (Nocedal & Wright Alg. 3.3).
    Both methods backtrack (Armijo, c1 = 1e-4).  Returns an OptimizeResult: x, fun,
    jac, hess (Newton), nit, nfev, njev, nhev, success, status, message and history
    (dict of arrays f, gnorm, step over iterates 0..nit); for stacked problems each
    field is an array over the batch and message summarises.
    """
    if isinstance(fun, _Builtin):
        if jac is not None or hess is not None or args:
            raise ValueError("jac, hess and args are built into the objective; pass none")
        if callback is None:
            return _minimize_builtin(fun, x0, method, tol, maxiter, options)
        if fun.batch_shape:
            raise ValueError("callback is supported for a single problem only")
        return _minimize_callable(fun, x0, method, fun.grad, fun.hess, tol, maxiter,
                                  callback, options, ())
    if not callable(fun):
        raise TypeError(f"fun must be callable or a built-in objective, got "
                        f"{type(fun).__name__}")
    for name, f in (("jac", jac), ("hess", hess)):
        if f is not None and not callable(f) and not (name == "jac" and f is True):
            raise TypeError(f"{name} must be callable or None, got {type(f).__name__}")
    return _minimize_callable(fun, x0, method, jac, hess, tol, maxiter, callback, options,
                              tuple(args))


# --------------------------------------------------------------------- built-ins

def _minimize_builtin(obj, x0, method, tol, maxiter, options):
    x0 = np.asarray(x0)
    dtype = result_dtype(x0, np.empty(0, obj.dtype))
    n = obj.n
    if x0.ndim < 1 or x0.shape[-1] != n:
        raise ValueError(f"x0 must have shape (..., {n}) for this objective, got {x0.shape}")
    gtol, dtol, maxiter, step, history = _parse(method, tol, maxiter, options, n)
    if x0.ndim == 1 and not obj.batch_shape:
        batch = ()
    else:
        try:
            batch = np.broadcast_shapes(obj.batch_shape, x0.shape[:-1])
        except ValueError:
            raise ValueError(f"x0 batch {x0.shape[:-1]} does not broadcast with the "
                             f"objective's {obj.batch_shape}") from None
    work = compute_dtype(dtype)
    fixed = 0.0
    if step == "lipschitz":
        lip = np.broadcast_to(obj.lipschitz(), batch)
        if np.any(lip != lip.flat[0]):
            raise ValueError("step='lipschitz' needs one L for the whole stack; "
                             "solve the problems separately or use 'armijo'")
        fixed = 1.0 / float(lip.flat[0]) if lip.size else 1.0
    elif step != "armijo":
        fixed = float(step)
    a, b = obj.operands(batch, work)
    if x0.shape == batch + (n,):
        x = np.array(x0, dtype=work, order="C").reshape(math.prod(batch), n)  # x0 is kept
    else:
        x = np.array(np.broadcast_to(x0, batch + (n,)), dtype=work,
                     order="C").reshape(math.prod(batch), n)
    nb = x.shape[0]
    g = np.empty((nb, n), work)
    h = np.empty((nb, n, n), work)
    f = np.empty(nb)
    counts = np.empty((nb, 4), np.intp)
    status = np.empty(nb, np.int32)
    if history is None:
        history = not batch
    # (one problem reads rows 0..nit only; a stack's unused rows stay NaN)
    hist = (np.full((nb, maxiter + 1, 3), np.nan) if batch else
            np.empty((1, maxiter + 1, 3))) if history else None
    _kern.minimize_batched(obj.kind, NEWTON if method == "newton" else GD, a, b, obj.c,
                           obj.l2, x, g, h, f, counts, status, hist, maxiter, gtol, dtol,
                           fixed)
    if status.any():
        if (status < 0).any():
            raise MemoryError("fastla.optimize: workspace allocation failed")
        if not np.isfinite(x0).all():       # checked only here: it costs 2 us per call
            raise ValueError("x0 must be finite")
    newton = method == "newton"
    if not batch:                                       # one problem: scalars
        st = int(status[0])
        nit = int(counts[0, 0])
        res = OptimizeResult(
            x=x[0].astype(dtype, copy=False), fun=float(f[0]),
            jac=g[0].astype(dtype, copy=False),
            hess=h[0].astype(dtype, copy=False) if newton else None,
            nit=nit, nfev=int(counts[0, 1]), njev=int(counts[0, 2]), nhev=int(counts[0, 3]),
            success=st in _SUCCESS, status=st, message=MESSAGES[st])
        if hist is not None:
            hst = hist[0, :nit + 1]
            res["history"] = {"f": hst[:, 0], "gnorm": hst[:, 1], "step": hst[:, 2]}
        return res
    st = status.reshape(batch)
    ok = np.isin(st, _SUCCESS)
    res = OptimizeResult(
        x=x.reshape(batch + (n,)).astype(dtype, copy=False), fun=f.reshape(batch),
        jac=g.reshape(batch + (n,)).astype(dtype, copy=False),
        hess=h.reshape(batch + (n, n)).astype(dtype, copy=False) if newton else None,
        nit=counts[:, 0].reshape(batch), nfev=counts[:, 1].reshape(batch),
        njev=counts[:, 2].reshape(batch), nhev=counts[:, 3].reshape(batch),
        success=ok, status=st,
        message=(MESSAGES[0] if ok.all() else
                 f"{int((~ok).sum())} of {ok.size} problems failed; first: "
                 f"{MESSAGES[int(st[~ok].flat[0])]}"))
    if hist is not None:
        hst = hist.reshape(batch + (maxiter + 1, 3))
        res["history"] = {"f": hst[..., 0], "gnorm": hst[..., 1], "step": hst[..., 2]}
    return res


# --------------------------------------------------------------------- callables

def _finite_difference_grad(f, x, f0):
    """Forward differences, h_i = sqrt(eps) max(1, |x_i|) (scipy's 2-point rule)."""
    g = np.empty_like(x)
    h = np.sqrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))
    for i in range(x.size):
        xi = x.copy()
        xi[i] += h[i]
        g[i] = (f(xi) - f0) / h[i]
    return g


def _finite_difference_hess(grad, x, g0):
    """Forward differences of the gradient, symmetrised."""
    n = x.size
    H = np.empty((n, n))
    h = np.sqrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))
    for i in range(n):
        xi = x.copy()
        xi[i] += h[i]
        H[:, i] = (grad(xi) - g0) / h[i]
    return (H + H.T) / 2


def _newton_direction(H, g):
    """-(H + tau I)^-1 g with the safeguard of optimize.pxd (N&W Alg. 3.3)."""
    from ..linalg import LinAlgError, cho_factor, cho_solve
    d = np.diag(H)
    if not np.isfinite(H).all():
        return None
    beta = 1e-3 * max(np.abs(d).max(initial=0.0), 1e-300)
    tau = 0.0
    eye = np.eye(H.shape[0])
    for _ in range(80):
        try:
            c = cho_factor(H + tau * eye, lower=True, check_finite=False)
        except LinAlgError:
            tau = (beta - d.min() if d.min() < 0 else beta) if tau == 0 else 2 * tau
            continue
        return -cho_solve(c, g, check_finite=False)
    return None


def _wants_intermediate(callback):
    try:
        return "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False


def _minimize_callable(fun, x0, method, jac, hess, tol, maxiter, callback, options, args):
    scalar = np.ndim(x0) == 0
    x = np.atleast_1d(np.asarray(x0, dtype=np.float64)).astype(np.float64)
    if isinstance(x0, np.ndarray):
        result_dtype(x0)                                # TypeError for unsupported types
    if x.ndim != 1:
        raise ValueError(f"x0 must be a float or a 1-D array for callables, got shape "
                         f"{np.shape(x0)}")
    if not np.isfinite(x).all():
        raise ValueError("x0 must be finite")
    gtol, dtol, maxiter, step, history = _parse(method, tol, maxiter, options, x.size)
    if step == "lipschitz":
        raise ValueError("step='lipschitz' needs a built-in objective")
    fixed = 0.0 if step == "armijo" else float(step)
    newton = method == "newton"
    counts = {"nfev": 0, "njev": 0, "nhev": 0}
    cache = {}

    def outer(v):                         # the 1-D case passes and returns floats
        return v[0] if scalar else v.copy()

    def f(v):
        counts["nfev"] += 1
        r = fun(outer(v), *args)
        if jac is True:
            r, cache["g"] = r
            cache["x"] = v.copy()
        return float(r)

    def grad(v, f0=None):
        counts["njev"] += 1
        if jac is True:
            if "x" not in cache or not np.array_equal(cache["x"], v):
                f(v)
            return np.atleast_1d(np.asarray(cache["g"], dtype=np.float64)).reshape(x.size)
        if jac is None:
            return _finite_difference_grad(f, v, f(v) if f0 is None else f0)
        return np.atleast_1d(np.asarray(jac(outer(v), *args), dtype=np.float64)).reshape(x.size)

    def hessian(v, g0):
        counts["nhev"] += 1
        if hess is None:
            return _finite_difference_hess(lambda u: grad(u), v, g0)
        return np.asarray(hess(outer(v), *args), dtype=np.float64).reshape(x.size, x.size)

    wants_result = callback is not None and _wants_intermediate(callback)
    fx = f(x)
    g = grad(x, fx)
    H = hessian(x, g) if newton else None
    hist = [(fx, np.abs(g).max(initial=0.0), 0.0)]
    it, t = 0, 1.0
    while True:
        gn = hist[-1][1]
        if not (math.isfinite(fx) and math.isfinite(gn)):
            status = 3
            break
        if gn <= gtol:
            status = 0
            break
        if it >= maxiter:
            status = 1
            break
        if newton:
            p = _newton_direction(H, g)
            if p is None:
                status = 3
                break
            if -0.5 * float(g @ p) <= dtol:
                status = 4
                break
            t = 1.0
        else:
            p = -g
            t = fixed if fixed > 0 else (1.0 if it == 0 else 2 * t)
        gp = float(g @ p)
        gt = None
        for k in range(_MAX_BACKTRACK + 1):
            xt = x + t * p
            ft = f(xt)
            if fixed > 0 or ft <= fx + _C1 * t * gp:
                break
            if k == 0 and ft - fx <= _NOISE * abs(fx):     # as optimize.pxd
                gt = grad(xt, ft)
                if np.abs(gt).max(initial=0.0) < gn:
                    break
                gt = None
            t *= 0.5
        else:
            status = 2
            break
        x, fx = xt, ft
        g = grad(x, fx) if gt is None else gt
        if newton:
            H = hessian(x, g)
        it += 1
        hist.append((fx, np.abs(g).max(initial=0.0), t))
        if callback is not None:
            try:
                if wants_result:
                    callback(intermediate_result=OptimizeResult(x=outer(x), fun=fx, nit=it))
                else:
                    callback(outer(x))
            except StopIteration:
                status = 99
                break
    hst = np.array(hist, dtype=np.float64).reshape(-1, 3)
    res = OptimizeResult(
        x=float(x[0]) if scalar else x, fun=fx, jac=float(g[0]) if scalar else g,
        hess=(float(H[0, 0]) if scalar else H) if newton else None,
        nit=it, **counts, success=status in _SUCCESS, status=status,
        message=MESSAGES[status])
    if history is not False:
        res["history"] = {"f": hst[:, 0], "gnorm": hst[:, 1], "step": hst[:, 2]}
    return res

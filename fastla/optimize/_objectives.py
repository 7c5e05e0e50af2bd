"""The built-in objectives: data holders validated once, whose value, gradient and
Hessian are computed by the compiled kernel (src/optimize.pxd, where each derivation
is written out).

    Quadratic(A, b, c=0)           f(x) = 1/2 x^T A x - b^T x + c
    LeastSquares(X, y, l2=0)       f(w) = 1/2 ||X w - y||^2 + l2/2 ||w||^2
    LogisticRegression(X, y, l2=1) f(w) = sum_i log(1 + exp(z_i)) - y_i z_i + l2/2 ||w||^2,
                                   z = X w, y_i in {0, 1} (or {-1, 1})

Stacked operands (A of shape (..., n, n), X of shape (..., m, n)) describe
independent problems that ``minimize`` solves in one call.  An objective keeps its
arrays (converted to the compute dtype, X to rows in memory order, where needed) from
its first use: build a new one after changing them.  dtype rules are
numpy.linalg's (fastla/_validate.py): float32 if every operand is float32, computed in
float64 unless ``fastla.float32_compute('float32')`` is in effect.
"""

import math

import numpy as np

from .._kernels import optimize as _kern
from .._validate import compute_dtype, result_dtype

__all__ = ["Quadratic", "LeastSquares", "LogisticRegression"]

# Kernel codes (optimize.pxd OBJ_* and METHOD_*)
QUADRATIC, LEAST_SQUARES, LOGISTIC = 0, 1, 2
NEWTON, GD = 0, 1


def _scalar(name, value, nonnegative=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(v) or (nonnegative and v < 0):
        raise ValueError(f"{name} must be finite{' and >= 0' if nonnegative else ''}, got {v}")
    return v


class _Builtin:
    """What every built-in holds: kernel code, the matrix operand a (..., rows, n),
    the vector operand b (..., len), the scalars c and l2, the batch shape, n and the
    result dtype."""

    kind = None

    def __init__(self, a, b, c, l2, rows_name, vec_name, vec_len_axis):
        a = np.asarray(a)
        b = np.asarray(b)
        self.dtype = result_dtype(a, b)
        if a.ndim < 2:
            raise ValueError(f"{rows_name} must be at least 2-D, got shape {a.shape}")
        if b.ndim < 1:
            raise ValueError(f"{vec_name} must be at least 1-D, got shape {b.shape}")
        want = a.shape[vec_len_axis]
        if b.shape[-1] != want:
            raise ValueError(f"shape mismatch: {rows_name} has shape {a.shape}, "
                             f"{vec_name} has shape {b.shape} (last dimension must be {want})")
        try:
            self.batch_shape = (() if a.ndim == 2 and b.ndim == 1 else
                                np.broadcast_shapes(a.shape[:-2], b.shape[:-1]))
        except ValueError:
            raise ValueError(f"shape mismatch: the batch dimensions of {rows_name} "
                             f"{a.shape[:-2]} and {vec_name} {b.shape[:-1]} do not "
                             "broadcast") from None
        self.a, self.b, self.c, self.l2 = a, b, c, l2
        self.n = a.shape[-1]
        self._prepared = {}

    def operands(self, batch_shape, dtype):
        """(a, b) as the kernel takes them: (N, rows, n) and (N, len) stacks of dtype,
        the caller's arrays where possible (broadcast batches have stride 0).

        Kept per (batch, dtype): an objective reads its arrays when first used (a
        small minimize call then costs no array handling; DESIGN.md §3 small calls)."""
        key = (tuple(batch_shape), dtype)
        ops = self._prepared.get(key)
        if ops is None:
            ops = self._prepared[key] = self._operands(batch_shape, dtype)
        return ops

    def _operands(self, batch_shape, dtype):
        if batch_shape:
            a = np.broadcast_to(self.a, tuple(batch_shape) + self.a.shape[-2:])
            b = np.broadcast_to(self.b, tuple(batch_shape) + self.b.shape[-1:])
        else:
            a, b = self.a, self.b
        nb = math.prod(batch_shape)            # (-1 is ambiguous for empty operands)
        a = a.astype(dtype, copy=False).reshape((nb,) + a.shape[-2:])
        b = b.astype(dtype, copy=False).reshape((nb,) + b.shape[-1:])
        if self.kind != QUADRATIC and a.shape[-1] > 1 and a.strides[-1] != a.itemsize:
            a = np.ascontiguousarray(a)             # the kernel reads X by rows
        if b.shape[-1] > 1 and b.strides[-1] != b.itemsize:
            b = np.ascontiguousarray(b)
        if not a.flags.aligned or any(s % a.itemsize for s in a.strides):
            a = np.array(a, copy=True)
        return a, b

    def _evaluate(self, x):
        """(f, g, H) at x (..., n) by the kernel: zero iterations of Newton's method."""
        x = np.asarray(x)
        dtype = result_dtype(x, np.empty(0, self.dtype))
        work = compute_dtype(dtype)
        if x.ndim < 1 or x.shape[-1] != self.n:
            raise ValueError(f"x must have shape (..., {self.n}), got {x.shape}")
        batch = np.broadcast_shapes(self.batch_shape, x.shape[:-1])
        a, b = self.operands(batch, work)
        xs = np.array(np.broadcast_to(x, batch + (self.n,)), dtype=work,
                      order="C").reshape(math.prod(batch), self.n)
        nb = xs.shape[0]
        g = np.empty((nb, self.n), work)
        h = np.empty((nb, self.n, self.n), work)
        f = np.empty(nb)
        _kern.minimize_batched(self.kind, NEWTON, a, b, self.c, self.l2, xs, g, h, f,
                               np.empty((nb, 4), np.intp), np.empty(nb, np.int32), None,
                               0, -1.0, 0.0, 0.0)
        return (f.reshape(batch).astype(dtype)[()], g.reshape(batch + (self.n,)).astype(dtype),
                h.reshape(batch + (self.n, self.n)).astype(dtype))

    def __call__(self, x):
        """f(x) (x of shape (..., n); batched problems give an array)."""
        return self._evaluate(x)[0]

    def grad(self, x):
        """The gradient at x (formula in the class docstring)."""
        return self._evaluate(x)[1]

    def hess(self, x):
        """The Hessian at x (formula in the class docstring)."""
        return self._evaluate(x)[2]

    def lipschitz(self):
        """L with ||grad f(x) - grad f(x')|| <= L ||x - x'|| everywhere: the largest
        eigenvalue of the Hessian (or of its bound), per problem; gradient descent
        with step 1/L converges (options={'step': 'lipschitz'})."""
        from ..linalg import eigvalsh
        return eigvalsh(self._lipschitz_matrix())[..., -1]

    def _lipschitz_matrix(self):
        return self.hess(np.zeros(self.n, self.dtype))


class Quadratic(_Builtin):
    """f(x) = 1/2 x^T A x - b^T x + c, A (..., n, n), b (..., n).

    Matrix calculus: grad f = (A + A^T)/2 x - b, Hess f = (A + A^T)/2 (only the
    symmetric part of A matters).  For positive definite A the minimiser solves
    A x = b: Newton's method reaches it in one step.
    """

    kind = QUADRATIC

    def __init__(self, A, b, c=0.0):
        A = np.asarray(A)
        if A.ndim >= 2 and A.shape[-1] != A.shape[-2]:
            raise ValueError(f"A must be square (..., n, n), got shape {A.shape}")
        super().__init__(A, b, _scalar("c", c), 0.0, "A", "b", -1)


class LeastSquares(_Builtin):
    """f(w) = 1/2 ||X w - y||^2 + l2/2 ||w||^2, X (..., m, n), y (..., m).

    Matrix calculus: grad f = X^T (X w - y) + l2 w, Hess f = X^T X + l2 I.  Newton's
    first step solves the normal equations: the least-squares (ridge) solution.
    """

    kind = LEAST_SQUARES

    def __init__(self, X, y, l2=0.0):
        super().__init__(X, y, 0.0, _scalar("l2", l2, True), "X", "y", -2)


class LogisticRegression(_Builtin):
    """f(w) = sum_i [log(1 + exp(z_i)) - y_i z_i] + l2/2 ||w||^2, z = X w,
    X (..., m, n), labels y (..., m) in {0, 1} (or {-1, 1}).

    scikit-learn's LogisticRegression(C=1/l2, fit_intercept=False) minimises the same
    function.  Matrix calculus, with s(z) = 1/(1 + exp(-z)): grad f = X^T (s(z) - y)
    + l2 w, Hess f = X^T D X + l2 I, D = diag(s(z_i)(1 - s(z_i))).  Strictly convex
    for l2 > 0; its Hessian is bounded by X^T X / 4 + l2 I (the Lipschitz bound).
    """

    kind = LOGISTIC

    def __init__(self, X, y, l2=1.0):
        y = np.asarray(y)
        if y.dtype.kind in "biuf" and y.size:
            labels = np.unique(y)
            if np.all(np.isin(labels, (-1, 1))) and np.any(labels == -1):
                y = (y > 0).astype(y.dtype if y.dtype.kind == "f" else np.float64)
            elif not np.all(np.isin(labels, (0, 1))):
                raise ValueError("LogisticRegression: labels y must be 0/1 or -1/+1")
        super().__init__(X, y, 0.0, _scalar("l2", l2, True), "X", "y", -2)

    def _lipschitz_matrix(self):
        h = LeastSquares(self.a, np.zeros(self.a.shape[-2], self.dtype)).hess(
            np.zeros(self.n, self.dtype))
        return h / 4 + self.l2 * np.eye(self.n, dtype=h.dtype)

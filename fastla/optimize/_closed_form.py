"""Closed-form pieces of the matrix-calculus course, on fastla.linalg's kernels:
equality-constrained quadratics (Lagrange multipliers), the minimum-norm and
least-squares solutions (right and left inverses), the second-derivative test and a
gradient check.
"""

from collections import namedtuple

import numpy as np

from .. import linalg as la
from .._validate import result_dtype

__all__ = ["kkt_solve", "min_norm_solve", "least_squares_solve",
           "classify_stationary_point", "check_grad", "KKTResult"]

KKTResult = namedtuple("KKTResult", "x, multipliers")


def _float_array(name, a, ndim_min):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf" or a.dtype.kind == "f" and a.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: array type {a.dtype} is unsupported; fastla supports "
                        "float32 and float64 arrays (bool and integer arrays are computed "
                        "in float64)")
    if a.ndim < ndim_min:
        raise ValueError(f"{name} must be at least {ndim_min}-D, got shape {a.shape}")
    return a


def _common(*arrays):
    """The arrays in their common compute type (float32 only when all are float32:
    a float32 factor applied to float64 data would cost the float64 accuracy)."""
    dt = result_dtype(*arrays)
    return [a.astype(dt, copy=False) for a in arrays]


def kkt_solve(A, b, C, d):
    """min 1/2 x^T A x - b^T x subject to C x = d, by its KKT system.

    Stationarity of the Lagrangian L = 1/2 x^T A x - b^T x + lambda^T (C x - d) gives
    A x + C^T lambda = b, with C x = d (A symmetric n x n, C p x n):

        [ A  C^T ] [ x      ]   [ b ]
        [ C  0   ] [ lambda ] = [ d ]

    solved by fastla.linalg.solve (LU with partial pivoting: the KKT matrix is
    indefinite).  Returns KKTResult(x, multipliers).  Raises LinAlgError when the
    system is singular (C without full row rank, or A singular on C's null space).
    """
    A = _float_array("A", A, 2)
    C = _float_array("C", C, 2)
    b = _float_array("b", b, 1)
    d = _float_array("d", d, 1)
    n, p = A.shape[-1], C.shape[-2]
    if A.shape[-2] != n or C.shape[-1] != n or b.shape[-1] != n or d.shape[-1] != p:
        raise ValueError(f"shape mismatch: A {A.shape}, b {b.shape}, C {C.shape}, "
                         f"d {d.shape}; need A (n, n), b (n,), C (p, n), d (p,)")
    batch = np.broadcast_shapes(A.shape[:-2], C.shape[:-2], b.shape[:-1], d.shape[:-1])
    dtype = np.result_type(A, b, C, d, np.float32)
    K = np.zeros(batch + (n + p, n + p), dtype)
    K[..., :n, :n] = A
    K[..., :n, n:] = np.swapaxes(C, -1, -2)
    K[..., n:, :n] = C
    rhs = np.empty(batch + (n + p, 1), dtype)
    rhs[..., :n, 0] = b
    rhs[..., n:, 0] = d
    sol = la.solve(K, rhs)[..., 0]
    return KKTResult(sol[..., :n], sol[..., n:])


def min_norm_solve(A, b):
    """The minimum-norm solution of the under-determined A x = b (A m x n, m <= n, full
    row rank): x = A^T (A A^T)^-1 b, the right inverse applied to b.

    Computed from A^T = Q R (fastla.linalg.qr) without forming A A^T (which squares
    the condition number): x = Q R^-T b.  Raises LinAlgError if A is rank deficient."""
    A = _float_array("A", A, 2)
    b = _float_array("b", b, 1)
    A, b = _common(A, b)
    m, n = A.shape[-2:]
    if m > n:
        raise ValueError(f"min_norm_solve: A must have at most as many rows as columns, "
                         f"got {A.shape}; use least_squares_solve")
    vec = b.ndim == A.ndim - 1
    if b.shape[-1 if vec else -2] != m:
        raise ValueError(f"shape mismatch: A {A.shape}, b {b.shape}")
    q, r = la.qr(np.swapaxes(A, -1, -2))                # A^T = Q R, R m x m
    rhs = b[..., None] if vec else b
    y = la.solve_triangular(np.swapaxes(r, -1, -2), rhs, lower=True)   # R^T y = b
    x = q @ y
    return x[..., 0] if vec else x


def least_squares_solve(A, b):
    """The least-squares solution of the over-determined A x = b (A m x n, m >= n, full
    column rank): x = (A^T A)^-1 A^T b, the left inverse applied to b.

    Computed from A = Q R (fastla.linalg.qr): x = R^-1 Q^T b, without forming A^T A.
    Raises LinAlgError if A is rank deficient."""
    A = _float_array("A", A, 2)
    b = _float_array("b", b, 1)
    A, b = _common(A, b)
    m, n = A.shape[-2:]
    if m < n:
        raise ValueError(f"least_squares_solve: A must have at least as many rows as "
                         f"columns, got {A.shape}; use min_norm_solve")
    vec = b.ndim == A.ndim - 1
    if b.shape[-1 if vec else -2] != m:
        raise ValueError(f"shape mismatch: A {A.shape}, b {b.shape}")
    q, r = la.qr(A)
    rhs = b[..., None] if vec else b
    x = la.solve_triangular(r, np.swapaxes(q, -1, -2) @ rhs, lower=False)
    return x[..., 0] if vec else x


def classify_stationary_point(H, tol=None):
    """The second-derivative test at a stationary point with Hessian H (n x n,
    symmetric): 'minimum' (all eigenvalues > tol), 'maximum' (all < -tol), 'saddle'
    (both signs beyond tol) or 'degenerate' (the test is inconclusive: an eigenvalue
    within tol of 0 and no sign change).  tol defaults to n eps max|lambda|.
    Eigenvalues by fastla.linalg.eigvalsh (Jacobi)."""
    H = _float_array("H", H, 2)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    if H.shape[0] == 0:
        raise ValueError("H must not be empty")
    if not np.isfinite(H).all():
        raise ValueError("H must be finite")
    w = la.eigvalsh(H)
    if tol is None:
        tol = H.shape[0] * np.finfo(w.dtype).eps * np.abs(w).max()
    pos, neg = bool((w > tol).any()), bool((w < -tol).any())
    if pos and neg:
        return "saddle"
    if (np.abs(w) <= tol).any():
        return "degenerate"
    return "minimum" if pos else "maximum"


def check_grad(func, grad, x0, *args, epsilon=np.sqrt(np.finfo(float).eps)):
    """The 2-norm of grad(x0) minus a forward-difference gradient of func at x0, as
    scipy.optimize.check_grad (its default direction='all')."""
    if not callable(func) or not callable(grad):
        raise TypeError("func and grad must be callable")
    x0 = np.atleast_1d(np.asarray(x0, dtype=np.float64))
    if x0.ndim != 1:
        raise ValueError(f"x0 must be 1-D, got shape {x0.shape}")
    f0 = float(func(x0, *args))
    approx = np.empty_like(x0)
    for i in range(x0.size):
        xi = x0.copy()
        xi[i] += epsilon
        approx[i] = (float(func(xi, *args)) - f0) / epsilon
    return float(np.sqrt(np.sum((np.asarray(grad(x0, *args), dtype=np.float64) - approx) ** 2)))

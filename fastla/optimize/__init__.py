"""fastla.optimize: Newton's method and gradient descent with compiled inner loops,
built-in objectives whose derivatives come from matrix calculus, and the closed-form
pieces of the course.

    from fastla import optimize as opt
    res = opt.minimize(opt.LogisticRegression(X, y, l2=1.0), np.zeros(n), tol=1e-8)
    res = opt.minimize(lambda x: (x - 2) ** 4, 0.0, method="newton")     # 1-D callables
    batch = opt.minimize(opt.LeastSquares(Xs, ys), np.zeros((N, n)))      # N problems

Layout as fastla.linalg: one private module per concern; the kernel is
src/optimize.pxd (fastla._kernels.optimize).
"""

from ._closed_form import (KKTResult, check_grad, classify_stationary_point, kkt_solve,
                           least_squares_solve, min_norm_solve)
from ._minimize import OptimizeResult, minimize
from ._objectives import LeastSquares, LogisticRegression, Quadratic

__all__ = ["minimize", "OptimizeResult", "Quadratic", "LeastSquares", "LogisticRegression",
           "kkt_solve", "KKTResult", "min_norm_solve", "least_squares_solve",
           "classify_stationary_point", "check_grad"]

"""Print the NaN/Inf table of docs/reliability.md: fastla against numpy / scipy.

    cd /tmp && python /path/to/fastla/tools/nan_table.py

One NaN or Inf in a 4 x 4 symmetric positive definite matrix (mirrored when off the
diagonal).  Each cell is the outcome: an exception class, "all NaN", "NaN", "Inf" or
"finite"; where fastla and numpy differ it reads **fastla** / numpy.  numpy's calls
run in a forked child with a 5 s limit, because OpenBLAS's gesdd can loop for ever on
Inf input; such a cell reads "hangs".
"""

import multiprocessing as mp
import os
import warnings

import numpy as np
import scipy.linalg as sl

import fastla.linalg as fl

rng = np.random.default_rng(1)
A = rng.standard_normal((4, 4))
A = A @ A.T + 4 * np.eye(4)
B = rng.standard_normal((4, 2))

FUNCTIONS = {
    "matmul": (lambda x: fl.matmul(x, B), lambda x: np.matmul(x, B)),
    "solve": (lambda x: fl.solve(x, B), lambda x: np.linalg.solve(x, B)),
    "inv": (fl.inv, np.linalg.inv),
    "det": (fl.det, np.linalg.det),
    "slogdet": (fl.slogdet, np.linalg.slogdet),
    "cholesky": (fl.cholesky, np.linalg.cholesky),
    "qr": (fl.qr, np.linalg.qr),
    "svd": (fl.svd, np.linalg.svd),
    "svdvals": (fl.svdvals, np.linalg.svdvals),
    "eigh": (fl.eigh, np.linalg.eigh),
    "eigvalsh": (fl.eigvalsh, np.linalg.eigvalsh),
    "pinv": (fl.pinv, np.linalg.pinv),
    "matrix_rank": (fl.matrix_rank, np.linalg.matrix_rank),
    "lstsq": (lambda x: fl.lstsq(x, B), lambda x: np.linalg.lstsq(x, B)),
    "cond": (fl.cond, np.linalg.cond),
    "cond(p=1)": (lambda x: fl.cond(x, 1), lambda x: np.linalg.cond(x, 1)),
    "cond(p='nuc')": (lambda x: fl.cond(x, "nuc"), lambda x: np.linalg.cond(x, "nuc")),
    "norm": (fl.norm, np.linalg.norm),
    "norm(ord=2)": (lambda x: fl.norm(x, 2), lambda x: np.linalg.norm(x, 2)),
    "matrix_power(3)": (lambda x: fl.matrix_power(x, 3),
                        lambda x: np.linalg.matrix_power(x, 3)),
    "lu": (lambda x: fl.lu(x, check_finite=False), lambda x: sl.lu(x, check_finite=False)),
    "lu_factor": (lambda x: fl.lu_factor(x, check_finite=False),
                  lambda x: sl.lu_factor(x, check_finite=False)),
    "lu_factor (check_finite)": (fl.lu_factor, sl.lu_factor),
    "solve_triangular": (lambda x: fl.solve_triangular(x, B, check_finite=False),
                         lambda x: sl.solve_triangular(x, B, check_finite=False)),
    "cho_factor": (lambda x: fl.cho_factor(x, check_finite=False),
                   lambda x: sl.cho_factor(x, check_finite=False)),
}


def outcome(f, x):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            r = f(x)
    except Exception as exc:            # noqa: BLE001 - the class is the outcome
        return type(exc).__name__
    parts = [np.asarray(t, float) for t in (r if isinstance(r, tuple) else (r,))
             if np.asarray(t).dtype.kind in "fiub"]
    if all(np.isnan(t).all() for t in parts if t.size):
        return "all NaN"
    kinds = [k for k, test in (("NaN", np.isnan), ("Inf", np.isinf))
             if any(test(t).any() for t in parts)]
    return ", ".join(kinds) or "finite"


def outcome_in_child(f, x, seconds=5):
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(outcome(f, x)))
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.kill()
        child.join()
        return "hangs"
    return queue.get()


def main():
    os.environ.setdefault("OPENBLAS_VERBOSE", "0")
    print("| function | NaN off the diagonal | Inf off the diagonal | NaN on the diagonal "
          "| Inf on the diagonal |")
    print("|---|---|---|---|---|")
    for name, (ours, theirs) in FUNCTIONS.items():
        cells = []
        for where in ((3, 0), (0, 0)):
            for value in (np.nan, np.inf):
                x = A.copy()
                x[where] = x[where[::-1]] = value
                f, n = outcome(ours, x), outcome_in_child(theirs, x)
                cells.append(f if f == n else f"**{f}** / {n}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

"""The graded battery of tests/test_jacobi.py and its high-precision reference.

Matrices A = D1 B D2 (B Gaussian, D1 / D2 diagonal with entries 10**-u, u uniform in
[0, 24], in random order) graded by rows, by columns and on both sides, n = 20 and 50,
and symmetric positive definite H = D C D (C = I + 0.4 G with G a random symmetric
matrix of spectral norm 1, so cond(C) <= 7/3).  The reference singular values and
eigenvalues are computed by mpmath at 80 significant digits, enough for values down
to 1e-48 ||A|| (mpmath's SVD and eigensolver are backward stable at that precision),
and rounded to float64.  That takes a few seconds, so the result is stored in
tests/data/jacobi_graded.npz; run this file to regenerate it.
"""

from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "jacobi_graded.npz"
DPS = 80


def battery(seed=5):
    """{name: matrix} of the battery, float64."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in (20, 50):
        for kind in ("row", "col", "two"):
            b = rng.standard_normal((n, n))
            d1 = 10.0 ** -rng.uniform(0, 24, n) if kind in ("row", "two") else np.ones(n)
            d2 = 10.0 ** -rng.uniform(0, 24, n) if kind in ("col", "two") else np.ones(n)
            out[f"svd_{kind}_{n}"] = d1[:, None] * b * d2
        g = rng.standard_normal((n, n))
        g = g + g.T
        c = np.eye(n) + 0.4 * g / np.linalg.norm(g, 2)
        d = 10.0 ** -rng.uniform(0, 24, n)
        out[f"eigh_spd_{n}"] = d[:, None] * c * d
    return out


def reference(name, a):
    """Singular values (descending) or eigenvalues (ascending) of a, by mpmath."""
    import mpmath
    mpmath.mp.dps = DPS
    m = mpmath.matrix(a.tolist())
    if name.startswith("svd"):
        return np.array(sorted((float(x) for x in mpmath.svd_r(m, compute_uv=False)),
                               reverse=True))
    return np.array(sorted(float(x) for x in mpmath.eigsy(m, eigvals_only=True)))


def load():
    """{name: (matrix, reference)} from the stored file."""
    data = np.load(PATH)
    return {name: (data[name], data["ref_" + name]) for name in battery()}


if __name__ == "__main__":
    mats = battery()
    arrays = dict(mats)
    for name, a in mats.items():
        arrays["ref_" + name] = reference(name, a)
        print(name, "done")
    np.savez_compressed(PATH, **arrays)

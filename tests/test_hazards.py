"""Numerical hazards (issue 8): entries near 1e+-300 give finite, correct results
wherever numpy's are finite, and failures to converge are reported, not looped on.

Scaling a by s = 2**k changes every result by a known power of s (x = solve(a s, b s)
is solve(a, b), svd(a s) has S s, ...), so the scaled call is checked against the
unscaled one: a kernel that squares entries without rescaling overflows (1e300**2)
or underflows (1e-300**2) and fails here.  Matrix sizes take the small-matrix paths
(3, 8: the lane kernels) and the blocked ones (40, 150).
"""

import time

import numpy as np
import pytest

import fastla.linalg as fl

SCALES = {"1e-300": 2.0 ** -997, "1e+300": 2.0 ** 996}
SIZES = (3, 8, 40, 150)
C = 30.0


def _a(n, seed=0):
    rng = np.random.default_rng(seed + n)
    return rng.standard_normal((n, n)) + n ** 0.5 * np.eye(n)


def _spd(n):
    a = _a(n)
    return a @ a.T + n * np.eye(n)


def _close(got, want, n, what, eps=2.0 ** -52, scale=0.0):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.isfinite(got).all(), f"{what}: non-finite result"
    err = np.max(np.abs(got - want), initial=0.0)
    scale = max(scale, np.max(np.abs(want), initial=0.0))
    assert err <= C * n * eps * scale * 10, f"{what}: error {err / scale:.3g} relative"


def _unscale_lu(lu, s):
    """L is scale-free, U scales with s."""
    return np.where(np.triu(np.ones(lu.shape, bool)), lu / s, lu)


# name: (input builder, f(scaled input, s) -> result mapped back to the unscaled one)
CASES = {
    "solve": (_a, lambda a, s: fl.solve(a * s, a[:, :2] * s)),
    "inv": (_a, lambda a, s: fl.inv(a * s) * s),
    "slogdet": (_a, lambda a, s: fl.slogdet(a * s)[1] - a.shape[0] * np.log(s)),
    "lu_factor": (_a, lambda a, s: _unscale_lu(fl.lu_factor(a * s)[0], s)),
    "cholesky": (_spd, lambda a, s: fl.cholesky(a * s) / np.sqrt(s)),
    "qr r": (_a, lambda a, s: np.abs(fl.qr(a * s, mode="r")) / s),
    "svdvals": (_a, lambda a, s: fl.svdvals(a * s) / s),
    "svd u": (_a, lambda a, s: np.abs(fl.svd(a * s)[0])),
    "eigvalsh": (_spd, lambda a, s: fl.eigvalsh(a * s) / s),
    "eigh v": (_spd, lambda a, s: np.abs(fl.eigh(a * s)[1])),
    "pinv": (_a, lambda a, s: fl.pinv(a * s) * s),
    "lstsq": (_a, lambda a, s: fl.lstsq(a * s, a[:, 0] * s)[0]),
    "solve_triangular": (_a, lambda a, s: fl.solve_triangular(np.triu(a) * s, a[:, :2] * s)),
    "matrix_norm 2": (_a, lambda a, s: fl.matrix_norm(a * s, ord=2) / s),
    "cond": (_a, lambda a, s: fl.cond(a * s)),
}


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(CASES))
def test_extreme_magnitudes(name, n, scale):
    build, f = CASES[name]
    a = build(n)
    s = SCALES[scale]
    with np.errstate(all="ignore"):
        want = f(a, 1.0)
        got = f(a, s)
    # slogdet: log|det(a s)| = log|det a| + n log s is known to eps * n |log s|
    _close(got, want, n, f"{name} at {scale}",
           scale=n * abs(np.log(s)) if name == "slogdet" else 0.0)


@pytest.mark.parametrize("n", (3, 8, 40))
def test_non_finite_input_is_reported_not_looped(n):
    """Jacobi stops after MAX_SWEEPS (src/jacobi.pxd): NaN/Inf input ends at once with
    numpy's outcome (LinAlgError for the SVD, NaN eigenvalues for eigh)."""
    for bad in (np.nan, np.inf):
        a = _spd(n)
        a[n // 2, 0] = a[0, n // 2] = bad
        t0 = time.perf_counter()
        with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge"):
            fl.svd(a)
        assert np.isnan(fl.eigvalsh(a)).all()
        r, info = fl.svdvals(np.stack([a, _spd(n)]), errors="info")
        assert info.tolist()[0] != 0 and info.tolist()[1] == 0
        assert np.isnan(r[0]).all() or not np.isfinite(r[0]).all() or info[0] != 0
        assert time.perf_counter() - t0 < 10

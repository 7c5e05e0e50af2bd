"""The report's plot: GFLOP/s against matrix order n, one panel per operation,
fastla against numpy (scipy where numpy lacks the operation), with the measured peak
as a horizontal line.  matplotlib (the `bench` extra) is imported only here, and
without pyplot, so no GUI backend is ever touched (the Agg canvas renders, Pillow
writes a 64-colour PNG)."""

import io
import math
from collections import defaultdict

__all__ = ["write_plot"]

_COLOURS = {"fastla": "tab:blue", "numpy": "tab:orange", "scipy": "tab:green"}
_LINES = {"float64": "-", "float32": "--"}
_MARKERS = "os^vD"


def _variant(rec):
    """What distinguishes series of one operation besides n, e.g. 'nrhs=1' (shapes
    with n written as 'n')."""
    n = rec["n"]
    return tuple(tuple("n" if d == n else d for d in s) for s in rec["shapes"])


def _variant_label(rec):
    return rec["size"].replace(f"n={rec['n']}", "").replace(str(rec["n"]), "n").strip()


def write_plot(path, records, peaks):
    """PNG at `path` from the single-matrix records (stacks have no n axis).
    peaks: {threads: {dtype: GFLOP/s}}."""
    from matplotlib.figure import Figure
    from PIL import Image               # a dependency of matplotlib

    records = [r for r in records if not r["stacked"]]
    ops = list(dict.fromkeys(r["op"] for r in records))
    if not ops:
        raise ValueError("no single-matrix results to plot (only stacks were run)")
    several_threads = len({r["threads"] for r in records}) > 1
    ncols = min(3, len(ops))
    nrows = math.ceil(len(ops) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(ops):]:
        ax.set_visible(False)

    for ax, op in zip(axes, ops):
        mine = [r for r in records if r["op"] == op]
        series = defaultdict(list)      # (variant, contender, dtype, threads) -> points
        labels = {}
        for r in mine:
            shown = ["fastla"] + [c for c in ("numpy", "scipy") if c in r["contenders"]][:1]
            for c in shown:
                g = r["contenders"][c]["gflops"]
                if g:
                    key = (_variant(r), c, r["dtype"], r["threads"])
                    series[key].append((r["n"], g))
                    labels[key] = _variant_label(r)
        variants = list(dict.fromkeys(k[0] for k in series))
        many_variants = len(variants) > 1
        for (variant, c, dtype, threads), points in series.items():
            points.sort()
            label = f"{c} {dtype}"
            if many_variants and labels[(variant, c, dtype, threads)]:
                label += f" {labels[(variant, c, dtype, threads)]}"
            if several_threads:
                label += f" {threads}t"
            ax.plot(*zip(*points), _LINES.get(dtype, ":"), markersize=4,
                    marker=_MARKERS[variants.index(variant) % len(_MARKERS)],
                    color=_COLOURS.get(c), label=label)
        for threads in sorted({r["threads"] for r in mine}):
            for dtype in sorted({r["dtype"] for r in mine}):
                ax.axhline(peaks[threads][dtype], color="grey", linestyle=_LINES.get(dtype, ":"),
                           linewidth=1)
                ax.annotate(f"peak {dtype}" + (f" {threads}t" if several_threads else ""),
                            (0.01, peaks[threads][dtype]), xycoords=("axes fraction", "data"),
                            fontsize=7, color="grey", va="bottom")
        ax.set_xscale("log", base=2)
        orders = sorted({r["n"] for r in mine})
        ax.set_xticks(orders, [str(n) for n in orders])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_title(op)
        ax.set_xlabel("n")
        ax.set_ylabel("GFLOP/s")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("fastla vs numpy/scipy: GFLOP/s against matrix order (grey: measured peak)",
                 fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    buffer.seek(0)
    # 64 colours are plenty for lines on white and take a quarter of the bytes.
    Image.open(buffer).convert("RGB").quantize(colors=64).save(path, format="PNG",
                                                                optimize=True)

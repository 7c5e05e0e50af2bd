"""The report's results: one record per case and thread count, the printed table,
and the JSON file."""

import json

from .runner import CONTENDERS, case_size

__all__ = ["record", "render_table", "write_json", "LEGEND"]

COLUMNS = ("op", "shape", "dtype", *CONTENDERS, "speed-up", "GFLOP/s", "% peak", "residual")

LEGEND = """\
Times are medians per call.  speed-up = the faster of numpy/scipy's time / fastla's
(above 1: fastla is faster).  GFLOP/s and % peak are fastla's, against this machine's
measured peak for the dtype and thread count.  residual: fastla's scaled residual
from the case's check (backward error or ||A - factors|| / (n eps ||A||), passes
<= 30; matmul: error / rounding-error bound, passes <= 1); WRONG marks any contender
whose answer failed its check, ERROR one that raised."""


def record(case, threads, timings, peak_gflops):
    """A JSON-ready dict for `case` run on `threads` threads ({contender: Timing})."""
    n, stacked = case_size(case)
    contenders = {}
    for name, t in timings.items():
        contenders[name] = {
            "median_s": t.median, "best_s": t.best, "samples_s": t.samples,
            "calls_per_sample": t.number,
            "gflops": case.flops / t.median / 1e9 if t.median else None,
            "residual": t.residual, "error": t.error}
    ours = contenders.get("fastla", {})
    others = [c for c in CONTENDERS[1:] if contenders.get(c, {}).get("median_s")]
    baseline = min(others, key=lambda c: contenders[c]["median_s"]) if others else None
    speedup = (contenders[baseline]["median_s"] / ours["median_s"]
               if baseline and ours.get("median_s") else None)
    gflops = ours.get("gflops")
    return {"op": case.op, "dtype": case.dtype, "size": case.label, "key": case.key,
            "shapes": [list(s) for s in case.shapes], "n": n, "stacked": stacked,
            "flops": case.flops, "threads": threads, "contenders": contenders,
            "baseline": baseline, "speedup": speedup,
            "pct_peak": 100 * gflops / peak_gflops if gflops else None}


def _time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _cells(rec):
    times = []
    for name in CONTENDERS:
        c = rec["contenders"].get(name)
        if c is None:
            times.append("-")
        elif c["error"] and c["error"].startswith("wrong answer"):
            times.append(f"WRONG {_time(c['median_s'])}")
        elif c["error"]:
            times.append("ERROR")
        else:
            times.append(_time(c["median_s"]))
    ours = rec["contenders"]["fastla"]
    residual = ("WRONG" if ours["error"] and ours["error"].startswith("wrong answer")
                else "ERROR" if ours["error"] else "ok" if ours["residual"] is None
                else f"{ours['residual']:.2g}")
    return [rec["op"], rec["size"], rec["dtype"], *times,
            f"{rec['speedup']:.2f}x" if rec["speedup"] else "-",
            f"{ours['gflops']:.3g}" if ours["gflops"] else "-",
            f"{rec['pct_peak']:.0f}%" if rec["pct_peak"] is not None else "-",
            residual]


def render_table(records):
    """The records as an aligned text table (Markdown-compatible), one row each."""
    rows = [list(COLUMNS)] + [_cells(r) for r in records]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    left = {"op", "shape", "dtype"}

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if COLUMNS[i] in left else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    rule = "|" + "|".join((":" + "-" * (w + 1)) if COLUMNS[i] in left else ("-" * (w + 1) + ":")
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(rows[0]), rule] + [line(r) for r in rows[1:]])


def write_json(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")

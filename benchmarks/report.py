"""Speed-up tables from a pytest-benchmark JSON file (python-rapidjson's tablize.py).

    pytest benchmarks/ --benchmark-json=bench-results.json
    python benchmarks/report.py bench-results.json [--stat min] [--markdown]

One table per operation, dtype and thread count; one row per size.  For every other
contender X the column "X/fastla" is X's time divided by fastla's: the speed-up,
above 1 when fastla is faster.  GFLOP/s come from the exact flop counts of
fastla/_bench/problems.py (recorded in each benchmark's extra_info).  The best time of
each row is in bold.  Quote ratios from a single run: the machines we measure on are
shared.  `python -m fastla bench` is the one-command summary; this is the detailed tool.
"""

import argparse
import json
import math
import sys
from collections import defaultdict

REFERENCE = "fastla"
ORDER = ("fastla", "numpy", "scipy")     # column order; unknown contenders go last


def load(path):
    """{(op, dtype, threads): {size: {contender: benchmark dict}}}, in run order, + JSON."""
    with open(path) as f:
        data = json.load(f)
    tables = defaultdict(dict)
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        if "flops" not in info:
            continue                    # not one of ours
        key = (info["op"], info["dtype"], info["threads"])
        tables[key].setdefault(info["size"], {})[info["contender"]] = bench
    return tables, data


def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def table(rows, stat):
    """Header and cells of one table; rows = {size: {contender: bench}}."""
    names = sorted({c for row in rows.values() for c in row},
                   key=lambda c: (ORDER.index(c) if c in ORDER else len(ORDER), c))
    others = [c for c in names if c != REFERENCE]
    header = (["size"] + names + [f"{c}/{REFERENCE}" for c in others]
              + [f"{c} GFLOP/s" for c in names])
    cells, speedups = [], defaultdict(list)
    for size, row in rows.items():
        # (a benchmark over several independent problems reports time per problem)
        t = {c: row[c]["stats"][stat] / row[c]["extra_info"].get("problems", 1)
             for c in names if c in row}
        best = min(t.values())
        line = [size]
        line += [("**%s**" if t[c] == best and len(t) > 1 else "%s") % fmt_time(t[c])
                 if c in t else "-" for c in names]
        for c in others:
            if c in t and REFERENCE in t:
                ratio = t[c] / t[REFERENCE]
                speedups[c].append(ratio)
                line.append(f"{ratio:.2f}")
            else:
                line.append("-")
        line += [f"{row[c]['extra_info']['flops'] / t[c] / 1e9:.3g}" if c in t else "-"
                 for c in names]
        cells.append(line)
    if len(cells) > 1 and speedups:
        line = ["geo. mean"] + [""] * len(names)
        line += [f"{math.exp(sum(map(math.log, speedups[c])) / len(speedups[c])):.2f}"
                 if speedups[c] else "-" for c in others]
        cells.append(line + [""] * len(names))
    return header, cells


def render_grid(title, header, cells):
    """A reST grid table (paste into docs) that also reads well in a terminal."""
    widths = [max(len(str(r[i])) for r in [header] + cells) for i in range(len(header))]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    head_sep = sep.replace("-", "=")
    fmt = lambda r: "|" + "|".join(f" {str(v):{'<' if i == 0 else '>'}{w}} "
                                   for i, (v, w) in enumerate(zip(r, widths))) + "|"
    return "\n".join([title, "", sep, fmt(header), head_sep]
                     + [x for r in cells for x in (fmt(r), sep)])


def render_markdown(title, header, cells):
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |",
             "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in cells])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="file written by pytest --benchmark-json")
    parser.add_argument("--stat", default="median", choices=("median", "min", "mean"),
                        help="which timing statistic to compare (default: median)")
    parser.add_argument("--markdown", action="store_true",
                        help="Markdown tables (for README.md) instead of reST grid tables")
    args = parser.parse_args(argv)

    tables, data = load(args.json)
    if not tables:
        sys.exit(f"{args.json}: no fastla benchmarks with timings in it "
                 "(was it written with --benchmark-disable?)")
    render = render_markdown if args.markdown else render_grid
    for (op, dtype, threads), rows in tables.items():
        title = f"{op}[{dtype}], {threads} thread{'s' if threads > 1 else ''} ({args.stat} times)"
        print(render(title, *table(rows, args.stat)))
        print()

    info = data.get("machine_info", {})
    versions = ", ".join(f"{k} {v}" for k, v in info.get("contenders", {}).items())
    build = info.get("fastla", {})
    blas = ", ".join(f"{p['internal_api']} {p['version']} ({p['architecture']})"
                     for p in info.get("threadpools", []) if p.get("internal_api") != "openmp")
    print(f"X/{REFERENCE} = X's {args.stat} time / fastla's: above 1, fastla is faster.")
    print(f"{versions}; fastla cpu_tuning={build.get('cpu_tuning')}, "
          f"openmp={build.get('openmp')}; BLAS: {blas}")
    print(f"CPU: {info.get('cpu', {}).get('brand_raw', '?')}, "
          f"{info.get('cpu', {}).get('count', '?')} cores; {data.get('datetime', '')}")


if __name__ == "__main__":
    main()

"""python -m fastla bench [options]: fastla against numpy and scipy on this machine
(fastla/_bench/cli.py; the same command is installed as fastla-bench)."""

import argparse
import sys

from ._bench import cli


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastla", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    bench = commands.add_parser("bench", help="speed and accuracy against numpy and scipy",
                                description=cli.__doc__.split("\n\n")[0])
    cli.add_arguments(bench)
    return cli.run(parser.parse_args(argv), bench)


if __name__ == "__main__":
    sys.exit(main())

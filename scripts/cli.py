"""exgen: train, evaluate and compare agents on worlds whose physics can change.

The ``exgen`` command has one subcommand per script in this package.

Bad input ends with exit code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from exgen.agents.episodes import AgentError
from exgen.scripts import bench, city_map, compare, curve, demo, evaluate, heuristic, report, train
from exgen.scripts.inputs import InputError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="exgen", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (train, evaluate, curve, compare, report, demo, heuristic, bench, city_map):
        sub = commands.add_parser(module.NAME, help=module.__doc__.splitlines()[0],
                                  description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"exgen {args.command}: error: {error}", file=sys.stderr)
        return 2
    except AgentError as error:
        traceback.print_exception(error.__cause__ or error, file=sys.stderr)
        print(f"exgen {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        again = ("exgen train ... --resume continues" if args.command == "train"
                 else "run the same command again to continue")
        print(f"exgen {args.command}: interrupted; finished episodes and the last checkpoint "
              f"are kept ({again})", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped (``| head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

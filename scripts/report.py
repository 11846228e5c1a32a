"""Write the report of an experiment from its results store (no new runs).

Example: ``exgen report gravity-shift --preset quick --out reports/gravity-shift-quick``;
``--export episodes.parquet`` (or ``.csv``) also writes every stored episode as a table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from exgen.experiments.store import EXPORT_FORMATS
from exgen.scripts.compare import add_gif_argument, add_spec_arguments, run_report
from exgen.scripts.inputs import InputError

NAME = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    add_gif_argument(parser)
    parser.add_argument("--export", type=Path, metavar="FILE",
                        help=f"also write every episode to FILE ({', '.join(EXPORT_FORMATS)})")


def run(args: argparse.Namespace) -> int:
    if args.export is not None and args.export.suffix not in EXPORT_FORMATS:
        raise InputError(f"--export {args.export}: the file must end in "
                         f"{' or '.join(EXPORT_FORMATS)}")
    return run_report(args, args.export)

"""Write the report of an experiment from its results store (no new runs).

Example: ``exgen report gravity-shift --preset quick --out reports/gravity-shift-quick``;
``--export episodes.parquet`` (or ``.csv``) also writes every stored episode as a table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.runner import STORE_NAME, experiment_key
from experiments.spec import load_spec
from experiments.store import EXPORT_FORMATS, ResultsStore
from scripts.compare import add_gif_argument, add_spec_arguments, run_report
from scripts.inputs import InputError, input_errors

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
    status = run_report(args)
    if args.export is not None:
        with input_errors():
            spec = load_spec(args.spec, args.preset)
        store = (args.out or Path("reports") / f"{spec.name}-{spec.preset}") / STORE_NAME
        with ResultsStore(store) as results:
            print(f"wrote {results.export(experiment_key(spec), args.export)}")
    return status

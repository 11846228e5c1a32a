"""Run an experiment spec (learn, then transfer) and write its report.

Example: ``exgen compare gravity-shift --preset quick --out reports/gravity-shift-quick``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.report import write_report
from experiments.runner import STORE_NAME, run_experiment
from experiments.spec import load_spec
from scripts.inputs import InputError, input_errors

NAME = "compare"


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that find an experiment: its spec, preset and output folder."""
    parser.add_argument("spec", help="a built-in spec (gravity-shift) or a .toml file")
    parser.add_argument("--preset", default="quick", help="spec preset (default: quick)")
    parser.add_argument("--out", type=Path, help="folder for the store, runs and report "
                                                  "(default: reports/SPEC-PRESET)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--workers", type=int, help="parallel jobs (default: CPU count)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        spec = load_spec(args.spec, args.preset)
        if args.workers is not None and args.workers < 1:
            raise InputError(f"--workers must be >= 1, got {args.workers}")
    out = args.out or Path("reports") / f"{spec.name}-{spec.preset}"
    store = run_experiment(spec, out, args.workers, progress=not args.no_progress)
    report = write_report(spec, store, out / "report")
    print(f"wrote {store} and {report} (and report.html, figures/, tables/)")
    return 0


def run_report(args: argparse.Namespace) -> int:
    with input_errors():
        spec = load_spec(args.spec, args.preset)
        store = (args.out or Path("reports") / f"{spec.name}-{spec.preset}") / STORE_NAME
        if not store.exists():
            raise InputError(f"no results store at {store}; run exgen compare first")
    print(f"wrote {write_report(spec, store, store.parent / 'report')}")
    return 0

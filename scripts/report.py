"""Write the report of an experiment from its results store (no new runs).

Example: ``exgen report gravity-shift --preset quick --out reports/gravity-shift-quick``
"""

from __future__ import annotations

import argparse

from scripts.compare import add_spec_arguments, run_report

NAME = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_report(args)

"""Write the report of an experiment from its results store (no new runs).

Example: ``exgen report gravity-shift --preset quick --out reports/gravity-shift-quick``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scripts.compare import run_report

NAME = "report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="a built-in spec (gravity-shift) or a .toml file")
    parser.add_argument("--preset", default="quick", help="spec preset (default: quick)")
    parser.add_argument("--out", type=Path, help="the folder exgen compare wrote "
                                                  "(default: reports/SPEC-PRESET)")


def run(args: argparse.Namespace) -> int:
    return run_report(args)

"""Run an experiment spec (learn, then transfer) and write its report.

Example: ``exgen compare gravity-shift --preset quick --out reports/gravity-shift-quick``;
on a Ray cluster: ``exgen compare gravity-shift --preset full --backend ray --address
HEAD:6379 --out /shared/gravity-shift-full`` (``--out`` on a filesystem all nodes see).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exgen.experiments import ray_backend
from exgen.experiments.report import write_report
from exgen.experiments.scheduler import (
    BACKENDS,
    STORE_NAME,
    experiment_key,
    redo_jobs,
    run_experiment,
)
from exgen.experiments.spec import ExperimentSpec, load_spec
from exgen.experiments.store import ResultsStore
from exgen.scripts.inputs import InputError, input_errors

NAME = "compare"


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that find an experiment: its spec, preset and output folder."""
    parser.add_argument("spec", help="a built-in spec (gravity-shift) or a .toml file")
    parser.add_argument("--preset", default="quick", help="spec preset (default: quick)")
    parser.add_argument("--out", type=Path, help="folder for the store, runs and report "
                                                  "(default: reports/SPEC-PRESET)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--workers", type=int, help="parallel jobs (default: the CPU count; "
                                                   "with Ray, the cluster's)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bars: print a line per finished job (for a log file)")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="where jobs run: a local process pool, or Ray tasks "
                             "(pip install 'exgen[ray]'; --out must then be on a filesystem "
                             "every node sees) (default: local)")
    parser.add_argument("--address", help="the Ray cluster's head as HOST:PORT, as printed by "
                                          "`ray start --head` (default: start a local Ray)")
    parser.add_argument("--redo", metavar="PREFIX",
                        help="first make the finished jobs whose id starts with PREFIX "
                             "(e.g. relearn/dqn) pending again, with their episodes and run "
                             "folders deleted (and the jobs built on a redone learn job)")
    add_gif_argument(parser)


def add_gif_argument(parser: argparse.ArgumentParser) -> None:
    """``--no-gifs``: a report without the GIFs of the agents at work (faster)."""
    parser.add_argument("--no-gifs", action="store_true",
                        help="skip recording the agents' GIFs in the report (faster)")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        spec = load_spec(args.spec, args.preset)
        if args.workers is not None and args.workers < 1:
            raise InputError(f"--workers must be >= 1, got {args.workers}")
        if args.address is not None and args.backend != "ray":
            raise InputError("--address is the Ray cluster's; add --backend ray")
        if args.backend == "ray":
            ray_backend.check(args.address)  # no Ray, or no cluster there: one line
        out = out_folder(args, spec)
        if (out / STORE_NAME).exists():  # a rerun resumes only the same experiment
            _check_same_spec(spec, out / STORE_NAME, run_before=False)
        if args.redo is not None:
            if not (out / STORE_NAME).exists():
                raise InputError(f"--redo needs a store: {out / STORE_NAME} does not exist")
            redone = redo_jobs(spec, out, args.redo)
            print(f"redoing {len(redone)} finished jobs starting with {args.redo!r}")
    try:
        store = run_experiment(spec, out, args.workers, progress=not args.no_progress,
                               backend=args.backend, address=args.address,
                               job_lines=args.no_progress)
    except ray_backend.BackendError as error:
        raise InputError(str(error)) from error
    report = write_report(spec, store, out / "report", gifs=not args.no_gifs)
    print(f"wrote {store} and {report} (and report.html, figures/, tables/)")
    return 0


def out_folder(args: argparse.Namespace, spec: ExperimentSpec) -> Path:
    """The experiment's folder: ``--out``, or ``reports/SPEC-PRESET``."""
    return args.out or Path("reports") / f"{spec.name}-{spec.preset}"


def run_report(args: argparse.Namespace, export: Path | None = None) -> int:
    """Write the report from the store; with ``export``, also every episode there."""
    with input_errors():
        spec = load_spec(args.spec, args.preset)
        store = out_folder(args, spec) / STORE_NAME
        if not store.exists():
            raise InputError(f"no results store at {store}; run exgen compare first")
        _check_same_spec(spec, store)
    print(f"wrote {write_report(spec, store, store.parent / 'report', gifs=not args.no_gifs)}")
    if export is not None:
        with ResultsStore(store) as results:
            print(f"wrote {results.export(experiment_key(spec), export)}")
    return 0


def _check_same_spec(spec: ExperimentSpec, store: Path, run_before: bool = True) -> None:
    """A report describes, and a rerun resumes, the spec its store was run with: refuse
    an edited spec (and, with ``run_before``, a store that never ran this one)."""
    with ResultsStore(store) as results:
        stored = results.spec(experiment_key(spec))
    if stored is None and not run_before:
        return
    if stored is None:
        raise InputError(f"{store} holds no run of {experiment_key(spec)}; run exgen compare "
                         f"first")
    current = json.loads(json.dumps({**spec.to_dict(), "held_out_seed":
                                     stored.get("held_out_seed")}, sort_keys=True, default=str))
    changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
    if changed:
        raise InputError(f"the spec changed since {store} was written (field "
                         f"{changed[0]!r}); use the spec it ran with, or run exgen compare "
                         f"into a new --out")

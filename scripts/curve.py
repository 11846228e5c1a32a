"""Print the learning curve of a training run as Markdown tables (and plot it).

Example: ``exgen curve runs/ppo-CityDriving-v0-10000 --every 1000000 --plot curve.png``:
per bucket of env steps, the training episodes that ended in it (success, the share
of each outcome, mean length, mean infractions per episode), then every evaluation.
It reads the run's files only, so it works on a run still being trained.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from exgen.agents.learning_curve import EVALUATIONS_NAME, LearningCurve, learning_curve
from exgen.scripts.inputs import InputError, input_errors

NAME = "curve"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="RUN_FOLDER",
                        help="the output folder of `exgen train`")
    parser.add_argument("--every", type=int, default=500_000, metavar="STEPS",
                        help="bucket width in env steps, all parallel envs together "
                             "(default: 500000)")
    parser.add_argument("--plot", type=Path, metavar="OUT.png",
                        help="also write a figure of training and evaluation success")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        if args.every <= 0:
            raise InputError(f"--every must be > 0 env steps, got {args.every}")
        curve = learning_curve(args.folder, args.every)
    print(format_curve(curve, command=_command(args)))
    if args.plot is not None:
        plot_curve(curve, args.plot)
        print(f"\nwrote {args.plot}")
    return 0


def _command(args: argparse.Namespace) -> str:
    command = f"exgen curve {args.folder} --every {args.every}"
    return command + (f" --plot {args.plot}" if args.plot is not None else "")


# ------------------------------------------------------------------- tables
def _millions(steps: int) -> str:
    return f"{steps / 1e6:.6g}"


def _percent(share: float) -> str:
    return "-" if math.isnan(share) else f"{100 * share:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def training_table(curve: LearningCurve) -> str:
    """The curve's rows as a Markdown table."""
    header = (["steps [M]", "episodes", "success", *curve.outcomes, "mean length"]
              + [f"{kind}/ep" for kind in curve.infractions])
    rows = [[_millions(row.steps), str(row.episodes), _percent(row.success),
             *(_percent(row.outcomes[o]) for o in curve.outcomes), f"{row.mean_length:.1f}",
             *(f"{row.infractions[k]:.2f}" for k in curve.infractions)]
            for row in curve.rows]
    return _table(header, rows)


def evaluation_table(curve: LearningCurve) -> str:
    """The curve's evaluations as a Markdown table."""
    rows = [[_millions(e.steps), str(e.training_episodes) if e.training_episodes >= 0 else "-",
             str(e.episodes), _percent(e.success), f"{e.mean_return:.2f}"]
            for e in curve.evaluations]
    return _table(["steps [M]", "training episodes", "episodes", "success", "mean return"],
                  rows)


def _heading(curve: LearningCurve) -> str:
    run = curve.run
    what = (f"{run.get('agent', '?')} on {run.get('env_id', '?')}" if run
            else "a run without run.json")
    status = f", {run['status']}" if "status" in run else ""
    return (f"**{curve.folder.name}**: {what}{status}; {curve.episodes:,} finished training "
            f"episodes, {curve.last_steps:,} env steps")


def format_curve(curve: LearningCurve, command: str = "") -> str:
    """The heading, the training table with its notes, and the evaluation table."""
    parts = [_heading(curve) + (f" (`{command}`)" if command else ""), "",
             f"Training episodes by the env steps at their end, buckets of "
             f"{curve.every:,} steps:", "", training_table(curve)]
    if not curve.rows:
        parts += ["", "No finished training episode yet."]
    elif curve.last_bucket_partial:
        parts += ["", f"The last bucket is partial: the log ends at {curve.last_steps:,} "
                      f"env steps."]
    seeds = " (tuning seeds)" if curve.run.get("tuning") else ""
    parts += ["", f"Evaluations{seeds}:", "", evaluation_table(curve)]
    if not curve.evaluations:
        parts += ["", f"No evaluation yet ({EVALUATIONS_NAME} is absent)."
                  if not (curve.folder / EVALUATIONS_NAME).exists() else "No evaluation yet."]
    return "\n".join(parts)


# ------------------------------------------------------------------- figure
def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'exgen[analysis]'") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def plot_curve(curve: LearningCurve, path: Path) -> Path:
    """Training success by bucket and evaluation success against env steps (above), the
    share of each training outcome (below); written to ``path``."""
    plt = _pyplot()
    largest = max([curve.last_steps, *(e.steps for e in curve.evaluations)])
    scale, unit = (1e6, "millions") if largest >= 1e6 else (1e3, "thousands")
    # A partial last bucket is drawn where its episodes end, not where it would.
    x = [min(row.steps, curve.last_steps) / scale for row in curve.rows]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True,
                                         height_ratios=(3, 2))
    top.plot(x, [r.success for r in curve.rows], marker=".", color="black",
             label="training episodes")
    top.plot([e.steps / scale for e in curve.evaluations],
             [e.success for e in curve.evaluations], marker="o", color="tab:purple",
             label=f"evaluations ({curve.evaluations[0].episodes} episodes each)"
             if curve.evaluations else "evaluations")
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("success rate")
    run = curve.run
    title = curve.folder.name + (f": {run['agent']} on {run['env_id']}"
                                 if "agent" in run and "env_id" in run else "")
    top.set_title(f"{title}, buckets of {curve.every:,} steps", fontsize=10)
    if not curve.rows:
        top.text(0.5, 0.5, "no finished training episode yet", ha="center",
                 transform=top.transAxes)
    top.legend(fontsize=8, loc="upper left")
    for outcome in curve.outcomes:
        bottom.plot(x, [r.outcomes[outcome] for r in curve.rows], marker=".", label=outcome)
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_ylabel("share of training\nepisodes")
    bottom.set_xlabel(f"env steps [{unit}]")
    bottom.set_xlim(left=0)
    if curve.outcomes:
        bottom.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    for axes in (top, bottom):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    with input_errors():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path, dpi=110)
        except OSError as error:
            raise InputError(f"--plot {path}: {error.strerror or error}") from error
        finally:
            plt.close(figure)
    return path

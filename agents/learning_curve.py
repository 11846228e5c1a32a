"""The learning curve of a training run, from the files ``exgen train`` writes.

Training episodes (``monitor.csv``) are grouped into buckets of env steps by the run's
``total_steps`` at each episode's end (all parallel envs together): a bucket of
``every`` steps ending at ``k * every`` holds the episodes that ended after
``(k - 1) * every`` steps and at or before ``k * every``. Buckets no episode ended in
are left out. The evaluations come from ``evaluations.npz``. A run still being written
is read as far as its last finished episode.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exgen.agents.records import LOG_NAME, EpisodeRecord, read_log

#: The evaluation history ``agents/training.py`` writes in a run folder.
EVALUATIONS_NAME = "evaluations.npz"


@dataclass(frozen=True)
class CurveRow:
    """What the training episodes ending in one bucket of env steps did."""

    steps: int  #: env steps at the bucket's end (all parallel envs together)
    episodes: int  #: training episodes that ended in the bucket
    success: float  #: share of them with ``is_success``, 0..1
    #: per outcome of the run (each one, in the curve's order), its share, 0..1
    outcomes: dict[str, float]
    mean_length: float  #: mean episode length [env steps]
    #: per infraction kind of the run, its mean count per episode; empty without any
    infractions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationRow:
    """One deterministic evaluation of the run's agent."""

    steps: int  #: env steps of training before it
    training_episodes: int  #: training episodes before it
    episodes: int  #: evaluation episodes
    success: float  #: their success rate, 0..1 (nan where the file has no successes)
    mean_return: float  #: their mean return


@dataclass(frozen=True)
class LearningCurve:
    """A run's training curve by buckets of env steps and its evaluations."""

    folder: Path
    every: int  #: bucket width [env steps]
    rows: list[CurveRow]
    outcomes: tuple[str, ...]  #: every outcome in the log, sorted by name
    infractions: tuple[str, ...]  #: infraction kinds in the log, in the env's order
    evaluations: list[EvaluationRow]
    episodes: int  #: finished training episodes in the log
    last_steps: int  #: env steps at the end of the log's last episode (0 if none)
    #: ``run.json`` and ``summary.json`` merged (summary wins); empty where absent
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def last_bucket_partial(self) -> bool:
        """Whether the log ends before the last row's bucket does."""
        return bool(self.rows) and self.last_steps < self.rows[-1].steps


def check_run_folder(folder: str | Path) -> Path:
    """``folder`` as a path; FileNotFoundError (one line, naming it and what is missing)
    unless it holds a training run's ``monitor.csv``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not (folder / LOG_NAME).is_file():
        raise FileNotFoundError(f"{folder} is not a training run: it has no {LOG_NAME}")
    return folder


def read_episodes(path: str | Path) -> list[EpisodeRecord]:
    """The finished episodes of a ``monitor.csv``, which may still be being written."""
    return [EpisodeRecord.from_row(row) for row in read_log(path)]


def bucket_end(total_steps: int, every: int) -> int:
    """The end [env steps] of the bucket of width ``every`` that holds ``total_steps``."""
    return max(1, math.ceil(total_steps / every)) * every


def outcome_order(records: list[EpisodeRecord]) -> tuple[str, ...]:
    """Every outcome in ``records``, sorted by name (the same columns for every run)."""
    return tuple(sorted({r.outcome for r in records}))


def infraction_order(records: list[EpisodeRecord]) -> tuple[str, ...]:
    """Every infraction kind in ``records``, in the order the env reports them."""
    kinds: dict[str, None] = {}
    for record in records:
        kinds.update(dict.fromkeys(record.infractions))
    return tuple(kinds)


def curve_rows(records: list[EpisodeRecord], every: int) -> list[CurveRow]:
    """One :class:`CurveRow` per bucket of ``every`` env steps that an episode ended in,
    in order of steps."""
    if every <= 0:
        raise ValueError(f"--every must be > 0 env steps, got {every}")
    outcomes, kinds = outcome_order(records), infraction_order(records)
    buckets: dict[int, list[EpisodeRecord]] = {}
    for record in records:
        buckets.setdefault(bucket_end(record.total_steps, every), []).append(record)
    return [_row(end, buckets[end], outcomes, kinds) for end in sorted(buckets)]


def _row(end: int, records: list[EpisodeRecord], outcomes: tuple[str, ...],
         kinds: tuple[str, ...]) -> CurveRow:
    n = len(records)
    counts = Counter(r.outcome for r in records)
    return CurveRow(
        steps=end, episodes=n, success=sum(r.is_success for r in records) / n,
        outcomes={outcome: counts[outcome] / n for outcome in outcomes},
        mean_length=sum(r.length for r in records) / n,
        infractions={kind: sum(r.infractions.get(kind, 0) for r in records) / n
                     for kind in kinds})


def read_evaluations(path: str | Path) -> list[EvaluationRow]:
    """The evaluations in an ``evaluations.npz``; none where the file is absent."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        with np.load(path) as data:
            timesteps = data["timesteps"].tolist()
            results = [np.asarray(r, dtype=float) for r in data["results"]]
            episodes = (data["episodes"].tolist() if "episodes" in data.files
                        else [-1] * len(timesteps))
            successes = ([np.asarray(s, dtype=float) for s in data["successes"]]
                         if "successes" in data.files else [None] * len(timesteps))
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path} is unreadable: {error}") from error
    return [EvaluationRow(steps=int(t), training_episodes=int(e), episodes=len(r),
                          success=float(s.mean()) if s is not None and len(s) else math.nan,
                          mean_return=float(r.mean()) if len(r) else math.nan)
            for t, e, r, s in zip(timesteps, episodes, results, successes, strict=True)]


def read_run_info(folder: str | Path) -> dict[str, Any]:
    """``run.json`` updated with ``summary.json`` (what was asked, then how it went);
    a file that is absent or unreadable adds nothing."""
    info: dict[str, Any] = {}
    for name in ("run.json", "summary.json"):
        try:
            data = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            info.update(data)
    return info


def learning_curve(folder: str | Path, every: int = 500_000) -> LearningCurve:
    """The learning curve of the run in ``folder``, by buckets of ``every`` env steps."""
    folder = check_run_folder(folder)
    if every <= 0:
        raise ValueError(f"--every must be > 0 env steps, got {every}")
    records = read_episodes(folder / LOG_NAME)
    return LearningCurve(
        folder=folder, every=every, rows=curve_rows(records, every),
        outcomes=outcome_order(records), infractions=infraction_order(records),
        evaluations=read_evaluations(folder / EVALUATIONS_NAME), episodes=len(records),
        last_steps=records[-1].total_steps if records else 0,
        run=read_run_info(folder))

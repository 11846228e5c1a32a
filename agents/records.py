"""Per-episode records and the episode log that training and evaluation write.

The log is a Monitor-style CSV (``monitor.csv``) that pandas and SB3's
``results_plotter.load_results`` read: a first line ``#{json header}``, then columns
``r`` (return), ``l`` (length), ``t`` (wall time since start, s) followed by ours.
Each row is written and flushed as its episode ends, so a killed run leaves every
finished episode on disk; a resumed run appends and keeps counting.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Columns of ``monitor.csv``, in order.
COLUMNS = ("r", "l", "t", "episode", "total_steps", "is_success", "outcome", "agent", "seed",
           "context", "infractions")
#: The ``info`` keys a recorder reads (each world's public ``RECORDER_INFO`` lists those
#: it has). A recorder is the runner's, not an agent: it sits between the env and the
#: agent's public view (:mod:`exgen.agents.public_view`).
RECORDED_INFO = ("is_success", "outcome", "context", "infractions")
LOG_NAME = "monitor.csv"


@dataclass(frozen=True)
class EpisodeRecord:
    """One finished episode, as the protocol records it."""

    episode: int  #: index in the run, from 0, across all parallel envs
    total_steps: int  #: env steps the agent acted in, this episode included
    episode_return: float
    length: int  #: steps
    is_success: bool  #: the env's ``info["is_success"]`` at the episode's end
    outcome: str  #: the env's ``info["outcome"]`` or "time_limit" when truncated
    wall_time: float  #: seconds since the run started
    agent: str = ""
    seed: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    #: the env's ``info["infractions"]`` counts at the episode's end (a world with rules)
    infractions: dict[str, int] = field(default_factory=dict)
    #: the env's ``info["driving_score"]`` at the episode's end (a world that scores
    #: driving), or None; the results store keeps it, ``monitor.csv`` does not
    driving_score: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, str]) -> EpisodeRecord:
        """The record behind a ``monitor.csv`` row, as :func:`read_log` returns it."""
        return cls(episode=int(row["episode"]), total_steps=int(row["total_steps"]),
                   episode_return=float(row["r"]), length=int(row["l"]),
                   is_success=row["is_success"] == "1", outcome=row["outcome"],
                   wall_time=float(row["t"]), agent=row["agent"],
                   seed=int(row["seed"]) if row["seed"] else None,
                   context=json.loads(row["context"]),
                   infractions=json.loads(row.get("infractions") or "{}"))

    def row(self) -> list[Any]:
        return [self.episode_return, self.length, round(self.wall_time, 6), self.episode,
                self.total_steps, int(self.is_success), self.outcome, self.agent,
                "" if self.seed is None else self.seed,
                json.dumps(self.context, separators=(",", ":")),
                json.dumps(self.infractions, separators=(",", ":"))]


def driving_score_of(info: dict[str, Any]) -> float | None:
    """The episode's driving score, from ``info["driving_score"]`` (None if it has none)."""
    score = info.get("driving_score")
    return None if score is None else float(score)


def infractions_of(info: dict[str, Any]) -> dict[str, int]:
    """The episode's rule breaks by type, from ``info["infractions"]`` (empty if none)."""
    return {str(k): int(v) for k, v in (info.get("infractions") or {}).items()}


def is_clean_arrival(success: bool, infractions: dict[str, int] | None) -> bool:
    """Whether an episode succeeded (arrived) with no infraction of any kind."""
    return bool(success) and not any((infractions or {}).values())


def outcome_of(info: dict[str, Any], terminated: bool) -> str:
    """The episode's end as recorded: the env's outcome, or ``time_limit``."""
    if not terminated:
        return "time_limit"
    return str(info.get("outcome", "terminated"))


class EpisodeLog:
    """Appends :class:`EpisodeRecord` rows to ``folder/monitor.csv``, flushing each, and
    tallies ``outcomes``: per outcome, its ``episodes`` and their env ``steps`` (where a
    run's budget went: a learner that crawls to the time limit spends it there)."""

    def __init__(self, folder: str | Path, env_id: str, resume: bool = False) -> None:
        self.path = Path(folder) / LOG_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.episodes = 0
        self.total_steps = 0
        self.time_offset = 0.0
        self.outcomes: dict[str, dict[str, int]] = {}
        if resume and self.path.exists():
            self._continue_from(self.path)
            self._file = self.path.open("a", newline="", encoding="utf-8")
        else:
            if self.path.exists():
                raise FileExistsError(f"{self.path} exists; pass resume=True (--resume) to "
                                      f"continue it, or choose another output folder")
            self._file = self.path.open("w", newline="", encoding="utf-8")
            header = {"t_start": time.time(), "env_id": env_id}
            self._file.write(f"#{json.dumps(header)}\n")
            csv.writer(self._file).writerow(COLUMNS)
            self._file.flush()
        self._writer = csv.writer(self._file)
        self.started = time.perf_counter()
        #: Called with every record after it is written (progress bars, TensorBoard).
        self.listeners: list[Callable[[EpisodeRecord], None]] = []

    def _continue_from(self, path: Path) -> None:
        content = path.read_bytes()
        if not content.endswith(b"\n"):  # a row cut by a kill: drop it
            with path.open("r+b") as file:
                file.truncate(content.rfind(b"\n") + 1)
        rows = read_log(path)
        if rows:
            last = rows[-1]
            self.episodes = int(last["episode"]) + 1
            self.total_steps = int(last["total_steps"])
            self.time_offset = float(last["t"])
        for row in rows:
            self._tally(row["outcome"], int(row["l"]))

    def _tally(self, outcome: str, steps: int) -> None:
        counts = self.outcomes.setdefault(outcome, {"episodes": 0, "steps": 0})
        counts["episodes"] += 1
        counts["steps"] += steps

    def elapsed(self) -> float:
        """Wall time of the run so far [s], resumed parts included."""
        return self.time_offset + time.perf_counter() - self.started

    def write(self, record: EpisodeRecord) -> None:
        self._writer.writerow(record.row())
        self._file.flush()
        self.episodes = record.episode + 1
        self.total_steps = record.total_steps
        self._tally(record.outcome, record.length)
        for listener in self.listeners:
            listener(record)

    def close(self) -> None:
        self._file.close()


def read_log(path: str | Path) -> list[dict[str, str]]:
    """Rows of a ``monitor.csv`` as dicts; a last line not yet ended (being written, or
    cut by a kill) is dropped."""
    with Path(path).open(newline="", encoding="utf-8") as file:
        text = file.read()
    lines = text.splitlines()
    if not text.endswith("\n"):
        lines = lines[:-1]
    rows = list(csv.DictReader(lines[1:]))
    complete = [row for row in rows if None not in row.values() and row.get("context")]
    return [row for row in complete if _parses(row["context"])]


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def write_json_atomically(path: str | Path, data: dict[str, Any]) -> None:
    """Write ``data`` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, path)

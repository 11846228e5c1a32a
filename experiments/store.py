"""The results store: every job and every episode of an experiment, in one SQLite file.

A job's episodes and its status are written in one transaction, so a killed run
leaves either the whole job or none of it: a rerun skips the jobs marked done and
redoes the rest. The file holds the spec, the env version and the code version (of
the run that created it, and of every finished job) too.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exgen.agents.records import EpisodeRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    env_version TEXT NOT NULL,
    code_version TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    kind TEXT NOT NULL CHECK (kind IN ('learn', 'transfer', 'relearn')),
    agent TEXT NOT NULL,
    seed INTEGER NOT NULL,
    training_set TEXT NOT NULL,
    test_context TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    error TEXT,
    summary TEXT,
    finished REAL,
    code_version TEXT
);
CREATE TABLE IF NOT EXISTS episodes (
    job_id TEXT NOT NULL REFERENCES jobs(job_id),
    episode INTEGER NOT NULL,
    agent TEXT NOT NULL,
    seed INTEGER,
    instance INTEGER,
    context TEXT NOT NULL,
    total_steps INTEGER NOT NULL,
    episode_return REAL NOT NULL,
    length INTEGER NOT NULL,
    success INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    wall_time REAL NOT NULL,
    infractions TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, episode)
);
"""

#: Columns of an exported episode table, in order.
EPISODE_COLUMNS = ("job_id", "kind", "agent", "seed", "instance", "episode", "total_steps",
                   "episode_return", "length", "success", "outcome", "wall_time", "context",
                   "infractions")
#: Formats :meth:`ResultsStore.export` writes, by file suffix.
EXPORT_FORMATS = (".csv", ".parquet")


@dataclass(frozen=True)
class Job:
    """One unit of work: learn, transfer to one test context, or relearn."""

    job_id: str
    kind: str
    agent: str
    seed: int
    training_set: str
    test_context: str | None = None


class ResultsStore:
    """An experiment's SQLite file: jobs, their status, and their episodes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.executescript(SCHEMA)
        self._add_missing_columns()
        #: The code this process runs, kept with every job it finishes (a run resumed
        #: across commits says which jobs ran at which). Read now, as the run starts and
        #: before its workers load the code: read later, it would take in edits made
        #: while the run goes on.
        self.code_version = code_version()

    def _add_missing_columns(self) -> None:
        """Bring a store written by an older version up to this schema."""
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(episodes)")}
        if "infractions" not in columns:
            self.connection.execute(
                "ALTER TABLE episodes ADD COLUMN infractions TEXT NOT NULL DEFAULT '{}'")
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(jobs)")}
        if "code_version" not in columns:  # NULL for jobs finished before it was kept
            self.connection.execute("ALTER TABLE jobs ADD COLUMN code_version TEXT")

    def code_versions(self, experiment: str) -> dict[str, int]:
        """Finished jobs per code version, oldest first; ``V (recorded at creation)``
        for jobs from before versions were kept per job."""
        row = self.connection.execute("SELECT code_version FROM experiments WHERE name = ?",
                                      (experiment,)).fetchone()
        counts: dict[str, int] = {}
        for version, count in self.connection.execute(
                "SELECT code_version, COUNT(*) FROM jobs WHERE experiment = ? AND status != "
                "'pending' GROUP BY code_version ORDER BY MIN(finished)", (experiment,)):
            key = version if version is not None else (
                f"{row[0] if row else 'unknown'} (recorded at creation)")
            counts[key] = counts.get(key, 0) + count
        return counts

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: commit on success, roll back on any error."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # ---------------------------------------------------------------- writing
    def record_experiment(self, name: str, spec: Mapping[str, Any], env_version: str) -> None:
        """Register an experiment; a rerun must bring the same spec."""
        text = json.dumps(spec, sort_keys=True, default=str)
        row = self.connection.execute("SELECT spec FROM experiments WHERE name = ?",
                                      (name,)).fetchone()
        if row is not None:
            if row[0] != text:
                raise ValueError(f"experiment {name!r} in {self.path} was run with another "
                                 f"spec; use a new store or a new name")
            return
        with self.transaction() as db:
            db.execute("INSERT INTO experiments VALUES (?, ?, ?, ?, ?)",
                       (name, text, env_version, self.code_version, time.time()))

    def add_jobs(self, experiment: str, jobs: Iterable[Job]) -> int:
        """Add jobs not yet known (by id); return how many were new."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO jobs (job_id, experiment, kind, agent, seed, "
                "training_set, test_context, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                [(j.job_id, experiment, j.kind, j.agent, j.seed, j.training_set,
                  j.test_context) for j in jobs])
            return db.total_changes - before

    def finish_job(self, job_id: str, records: Sequence[EpisodeRecord],
                   instances: Sequence[int | None] | None = None,
                   summary: Mapping[str, Any] | None = None) -> None:
        """Store a job's episodes and summary and mark it done, in one transaction."""
        instances = instances or [None] * len(records)
        with self.transaction() as db:
            db.execute("DELETE FROM episodes WHERE job_id = ?", (job_id,))
            db.executemany(
                "INSERT INTO episodes (job_id, episode, agent, seed, instance, context, "
                "total_steps, episode_return, length, success, outcome, wall_time, infractions)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(job_id, r.episode, r.agent, r.seed, instance, json.dumps(r.context),
                  r.total_steps, r.episode_return, r.length, int(r.is_success), r.outcome,
                  r.wall_time, json.dumps(r.infractions))
                 for r, instance in zip(records, instances, strict=True)])
            updated = db.execute(
                "UPDATE jobs SET status = 'done', error = NULL, summary = ?, finished = ?, "
                "code_version = ? WHERE job_id = ?",
                (json.dumps(summary or {}, default=str), time.time(), self.code_version,
                 job_id)).rowcount
            if updated != 1:
                raise KeyError(f"unknown job {job_id!r}")

    def reset_jobs(self, job_ids: Iterable[str]) -> int:
        """Make finished jobs pending again, without their episodes, in one transaction
        (a fix invalidated them); return how many were reset."""
        ids = list(job_ids)
        with self.transaction() as db:
            db.executemany("DELETE FROM episodes WHERE job_id = ?", [(i,) for i in ids])
            return sum(db.execute(
                "UPDATE jobs SET status = 'pending', error = NULL, summary = NULL, "
                "finished = NULL, code_version = NULL WHERE job_id = ? AND status != "
                "'pending'", (i,)).rowcount for i in ids)

    def fail_job(self, job_id: str, error: str) -> None:
        """Mark a job failed with its traceback; its episodes, if any, are not kept."""
        with self.transaction() as db:
            db.execute("DELETE FROM episodes WHERE job_id = ?", (job_id,))
            db.execute("UPDATE jobs SET status = 'failed', error = ?, finished = ?, "
                       "code_version = ? WHERE job_id = ?",
                       (error, time.time(), self.code_version, job_id))

    # ---------------------------------------------------------------- reading
    def spec(self, experiment: str) -> dict[str, Any] | None:
        """The spec ``experiment`` was run with (as recorded), or None if never run."""
        row = self.connection.execute("SELECT spec FROM experiments WHERE name = ?",
                                      (experiment,)).fetchone()
        return None if row is None else json.loads(row[0])

    def jobs(self, experiment: str, status: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM jobs WHERE experiment = ?"
        arguments: list[Any] = [experiment]
        if status is not None:
            query += " AND status = ?"
            arguments.append(status)
        return self._rows(query + " ORDER BY job_id", arguments)

    def episodes(self, experiment: str, kind: str | None = None,
                 agent: str | None = None) -> list[dict[str, Any]]:
        """Episode rows joined with their job's kind, contexts decoded."""
        query = ("SELECT e.job_id, j.kind, e.agent, e.seed, e.instance, e.episode, "
                 "e.total_steps, e.episode_return, e.length, e.success, e.outcome, "
                 "e.wall_time, e.context, e.infractions FROM episodes e JOIN jobs j USING (job_id) "
                 "WHERE j.experiment = ?")
        arguments: list[Any] = [experiment]
        for column, value in (("j.kind", kind), ("e.agent", agent)):
            if value is not None:
                query += f" AND {column} = ?"
                arguments.append(value)
        rows = self._rows(query + " ORDER BY e.job_id, e.episode", arguments)
        for row in rows:
            row["context"] = json.loads(row["context"])
            row["infractions"] = json.loads(row["infractions"])
            row["success"] = bool(row["success"])
        return rows

    def export(self, experiment: str, path: str | Path) -> Path:
        """Every episode of ``experiment`` as a table pandas reads, by the suffix of
        ``path``: ``.csv`` (standard library) or ``.parquet`` (pandas + pyarrow).
        Contexts and infractions are JSON text. Written to a temporary file first, so
        an existing export is replaced whole or not at all."""
        path = Path(path)
        if path.suffix not in EXPORT_FORMATS:
            raise ValueError(f"export format {path.suffix or path.name!r} is not one of "
                             f"{', '.join(EXPORT_FORMATS)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.episodes(experiment)
        for row in rows:
            row["context"] = json.dumps(row["context"], sort_keys=True)
            row["infractions"] = json.dumps(row["infractions"], sort_keys=True)
        staging = path.with_name(f".{path.name}.tmp")
        if path.suffix == ".csv":
            with staging.open("w", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow(EPISODE_COLUMNS)
                writer.writerows([row[column] for column in EPISODE_COLUMNS] for row in rows)
        else:
            import pandas as pd

            frame = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
            frame.to_parquet(staging, index=False)
        staging.replace(path)
        return path

    def _rows(self, query: str, arguments: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.connection.execute(query, arguments)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def code_version() -> str:
    """The git commit of the working tree (with ``-dirty``), or the package version."""
    try:
        result = subprocess.run(["git", "describe", "--always", "--dirty"],
                                cwd=Path(__file__).parent, capture_output=True, text=True,
                                timeout=5, check=True)
        return result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return f"exgen {version('exgen')}"

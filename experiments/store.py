"""The results store: every job and every episode of an experiment, in one SQLite file.

A job's episodes and its status are written in one transaction, so a killed run
leaves either the whole job or none of it: a rerun skips the jobs marked done and
redoes the rest. The file holds the spec, the env version and the code version (of
the run that created it, and of every finished job) too, and the protocol version the
experiment ran under (:data:`PROTOCOL_VERSION`; 1 for stores from before it was kept).
Every job says which snapshot of the learned agent it starts from (``snapshot``:
:data:`FINAL` or :data:`AT_CRITERION`). A store written by an older version is brought
up to this schema when opened.
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

#: The protocol new experiments run under (docs/protocol.md). 1: learning stopped at the
#: criterion, one snapshot, no fresh training-context episodes. 2: learning to the
#: budget, transfer from the model at the criterion and the final one, and fresh
#: training-context episodes after learning.
PROTOCOL_VERSION = 2
#: A job's ``kind``: learn, fresh episodes in the training context(s) after learning,
#: transfer to a test context, relearn in one.
JOB_KINDS = ("learn", "training-context", "transfer", "relearn")
#: A job's ``snapshot``: the learned agent it starts from (a learn job: the one it ends
#: with). The fully trained model ...
FINAL = "final"
#: ... or the one saved when the agent first met the criterion.
AT_CRITERION = "criterion"
#: How reports name the snapshots.
SNAPSHOT_LABELS = {FINAL: "fully trained", AT_CRITERION: "at criterion"}

_JOBS = f"""
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL REFERENCES experiments(name),
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(f"'{k}'" for k in JOB_KINDS)})),
    agent TEXT NOT NULL,
    seed INTEGER NOT NULL,
    training_set TEXT NOT NULL,
    test_context TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    error TEXT,
    summary TEXT,
    finished REAL,
    snapshot TEXT NOT NULL DEFAULT '{FINAL}' CHECK (snapshot IN ('{FINAL}', '{AT_CRITERION}')),
    code_version TEXT
);
"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    env_version TEXT NOT NULL,
    code_version TEXT NOT NULL,
    created REAL NOT NULL,
    protocol INTEGER NOT NULL DEFAULT 1
);""" + _JOBS + """CREATE TABLE IF NOT EXISTS episodes (
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
    driving_score REAL,
    PRIMARY KEY (job_id, episode)
);
"""

#: Columns of an exported episode table, in order.
EPISODE_COLUMNS = ("job_id", "kind", "snapshot", "agent", "seed", "instance", "episode",
                   "total_steps", "episode_return", "length", "success", "outcome",
                   "wall_time", "context", "infractions", "driving_score")
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
    #: the learned agent's snapshot the job starts from: FINAL or AT_CRITERION
    snapshot: str = FINAL

    def __post_init__(self) -> None:  # add_jobs ignores rows that break the table's checks
        if self.kind not in JOB_KINDS:
            raise ValueError(f"job {self.job_id!r}: kind must be one of "
                             f"{', '.join(JOB_KINDS)}, got {self.kind!r}")
        if self.snapshot not in SNAPSHOT_LABELS:
            raise ValueError(f"job {self.job_id!r}: snapshot must be one of "
                             f"{', '.join(SNAPSHOT_LABELS)}, got {self.snapshot!r}")


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
        if "driving_score" not in columns:  # NULL: not recorded
            self.connection.execute("ALTER TABLE episodes ADD COLUMN driving_score REAL")
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(jobs)")}
        if "code_version" not in columns:  # NULL for jobs finished before it was kept
            self.connection.execute("ALTER TABLE jobs ADD COLUMN code_version TEXT")
        if "snapshot" not in columns:  # every job of protocol 1 started from one model
            self.connection.execute(
                f"ALTER TABLE jobs ADD COLUMN snapshot TEXT NOT NULL DEFAULT '{FINAL}'")
        columns = {row[1] for row in self.connection.execute(
            "PRAGMA table_info(experiments)")}
        if "protocol" not in columns:  # stores from before it was kept ran protocol 1
            self.connection.execute(
                "ALTER TABLE experiments ADD COLUMN protocol INTEGER NOT NULL DEFAULT 1")
        self._allow_job_kinds()

    def _allow_job_kinds(self) -> None:
        """Rebuild the jobs table of a store whose ``kind`` check predates a kind of
        :data:`JOB_KINDS` (SQLite cannot alter a check), keeping every row."""
        (table,) = self.connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone()
        if all(f"'{kind}'" in table for kind in JOB_KINDS):
            return
        old = [row[1] for row in self.connection.execute("PRAGMA table_info(jobs)")]
        self.connection.execute("PRAGMA foreign_keys=OFF")  # the episodes point at jobs
        try:
            with self.transaction() as db:
                db.execute(_JOBS.replace("IF NOT EXISTS jobs", "jobs_upgraded"))
                new = {row[1] for row in db.execute("PRAGMA table_info(jobs_upgraded)")}
                names = ", ".join(column for column in old if column in new)
                db.execute(f"INSERT INTO jobs_upgraded ({names}) SELECT {names} FROM jobs")
                db.execute("DROP TABLE jobs")
                db.execute("ALTER TABLE jobs_upgraded RENAME TO jobs")
        finally:
            self.connection.execute("PRAGMA foreign_keys=ON")

    def protocol(self, experiment: str) -> int | None:
        """The protocol version ``experiment`` ran under (1 for a store from before it was
        kept), or None if it never ran."""
        row = self.connection.execute("SELECT protocol FROM experiments WHERE name = ?",
                                      (experiment,)).fetchone()
        return None if row is None else int(row[0])

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
    def record_experiment(self, name: str, spec: Mapping[str, Any], env_version: str,
                          protocol: int = PROTOCOL_VERSION) -> None:
        """Register an experiment run under ``protocol``; a rerun must bring the same spec
        and protocol. A refusal names what differs, in one line."""
        text = json.dumps(spec, sort_keys=True, default=str)
        row = self.connection.execute("SELECT spec, protocol FROM experiments WHERE name = ?",
                                      (name,)).fetchone()
        if row is not None:
            if row[0] != text or row[1] != protocol:
                before = json.loads(row[0])
                now = json.loads(text)
                changed = sorted(key for key in set(before) | set(now)
                                 if before.get(key, _ABSENT) != now.get(key, _ABSENT))
                if row[1] != protocol:
                    changed.insert(0, f"protocol {row[1]} -> {protocol}")
                raise ValueError(f"experiment {name!r} in {self.path} was run with another "
                                 f"spec (changed: {', '.join(changed)}); use a new store or "
                                 f"a new name")
            return
        with self.transaction() as db:
            db.execute("INSERT INTO experiments (name, spec, env_version, code_version, "
                       "created, protocol) VALUES (?, ?, ?, ?, ?, ?)",
                       (name, text, env_version, self.code_version, time.time(), protocol))

    def add_jobs(self, experiment: str, jobs: Iterable[Job]) -> int:
        """Add jobs not yet known (by id); return how many were new."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO jobs (job_id, experiment, kind, agent, seed, "
                "training_set, test_context, snapshot, status) VALUES (?, ?, ?, ?, ?, ?, ?, "
                "?, 'pending')",
                [(j.job_id, experiment, j.kind, j.agent, j.seed, j.training_set,
                  j.test_context, j.snapshot) for j in jobs])
            return db.total_changes - before

    def finish_job(self, job_id: str, records: Sequence[EpisodeRecord],
                   instances: Sequence[int | None] | None = None,
                   summary: Mapping[str, Any] | None = None) -> None:
        """Store a job's episodes and summary and mark it done, in one transaction. An
        episode's driving score is its record's ``driving_score`` (the env's
        ``info["driving_score"]``), NULL where the record has none."""
        instances = instances or [None] * len(records)
        with self.transaction() as db:
            db.execute("DELETE FROM episodes WHERE job_id = ?", (job_id,))
            db.executemany(
                "INSERT INTO episodes (job_id, episode, agent, seed, instance, context, "
                "total_steps, episode_return, length, success, outcome, wall_time, infractions,"
                " driving_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(job_id, r.episode, r.agent, r.seed, instance, json.dumps(r.context),
                  r.total_steps, r.episode_return, r.length, int(r.is_success), r.outcome,
                  r.wall_time, json.dumps(r.infractions), r.driving_score)
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
                 agent: str | None = None, snapshot: str | None = None
                 ) -> list[dict[str, Any]]:
        """Episode rows joined with their job's kind and snapshot, contexts decoded."""
        query = ("SELECT e.job_id, j.kind, j.snapshot, e.agent, e.seed, e.instance, e.episode, "
                 "e.total_steps, e.episode_return, e.length, e.success, e.outcome, "
                 "e.wall_time, e.context, e.infractions, e.driving_score "
                 "FROM episodes e JOIN jobs j USING (job_id) "
                 "WHERE j.experiment = ?")
        arguments: list[Any] = [experiment]
        for column, value in (("j.kind", kind), ("e.agent", agent), ("j.snapshot", snapshot)):
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
        Contexts and infractions are JSON text; a driving score not recorded is empty
        (NaN). Written to a temporary file first, so an existing export is replaced
        whole or not at all."""
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
            # A float column (NaN: not recorded), as the CSV reads back.
            frame["driving_score"] = frame["driving_score"].astype(float)
            frame.to_parquet(staging, index=False)
        staging.replace(path)
        return path

    def _rows(self, query: str, arguments: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.connection.execute(query, arguments)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


#: Stands for a key one spec has and the other lacks.
_ABSENT = object()


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

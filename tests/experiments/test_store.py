import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from exgen.agents.records import EpisodeRecord
from exgen.experiments.store import SCHEMA, Job, ResultsStore

#: The schema of protocol 1's stores (before snapshots, protocol versions and
#: training-context jobs).
V1_SCHEMA = """
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


def record(index: int, job: str = "j") -> EpisodeRecord:
    return EpisodeRecord(episode=index, total_steps=100 * (index + 1), episode_return=1.0 * index,
                         length=100, is_success=index % 2 == 0, outcome="landed",
                         wall_time=0.5, agent="ppo", seed=10_000,
                         context={"gravity": 1.62, "job": job},
                         infractions={"red_light": 1} if index % 2 else {})


def jobs(count: int) -> list[Job]:
    return [Job(f"transfer-{i}", "transfer", "ppo", 10_000, "earth", "moon")
            for i in range(count)]


def test_jobs_episodes_and_export(tmp_path):
    import pandas as pd

    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("gravity-shift", {"agents": ["ppo"]}, "LunarLanding-v0")
        assert store.add_jobs("gravity-shift", jobs(3)) == 3
        assert store.add_jobs("gravity-shift", jobs(3)) == 0
        store.finish_job("transfer-1", [record(i) for i in range(4)], instances=[0, 1, 2, 3])
        store.fail_job("transfer-2", "Traceback ...\nKeyError: 'thrust'")
        assert [j["job_id"] for j in store.jobs("gravity-shift", "done")] == ["transfer-1"]
        failed = store.jobs("gravity-shift", "failed")[0]
        assert failed["error"].endswith("KeyError: 'thrust'")
        rows = store.episodes("gravity-shift", kind="transfer")
        assert [r["episode"] for r in rows] == [0, 1, 2, 3]
        assert rows[0]["context"]["gravity"] == 1.62 and rows[0]["success"] is True
        frame = pd.read_csv(store.export("gravity-shift", tmp_path / "episodes.csv"))
        assert frame["instance"].tolist() == [0, 1, 2, 3]
        assert json.loads(frame["context"][0])["job"] == "j"
        assert json.loads(frame["infractions"][1]) == {"red_light": 1}


def test_parquet_export_holds_the_same_table_as_csv(tmp_path):
    import pandas as pd

    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("x", {}, "CityDriving-v0")
        store.add_jobs("x", jobs(1))
        store.finish_job("transfer-0", [record(i) for i in range(3)], instances=[0, 0, 1])
        parquet = pd.read_parquet(store.export("x", tmp_path / "episodes.parquet"))
        text = pd.read_csv(store.export("x", tmp_path / "episodes.csv"))
        pd.testing.assert_frame_equal(parquet, text, check_dtype=False)
        assert len(parquet) == 3 and parquet["success"].tolist() == [True, False, True]
        with pytest.raises(ValueError, match=r"'\.xlsx' is not one of \.csv, \.parquet"):
            store.export("x", tmp_path / "episodes.xlsx")
        assert not list(tmp_path.glob(".*.tmp"))


def test_a_store_from_before_the_infractions_column_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace("    infractions TEXT NOT NULL DEFAULT '{}',\n", ""))
    old.close()
    with ResultsStore(path) as store:
        store.record_experiment("x", {}, "v0")
        store.add_jobs("x", jobs(1))
        store.finish_job("transfer-0", [record(1)])
        assert store.episodes("x")[0]["infractions"] == {"red_light": 1}


def test_a_record_s_driving_score_is_kept_and_missing_ones_are_null(tmp_path):
    import dataclasses

    import pandas as pd

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)  # a store from before the driving score was kept
    assert "    driving_score REAL,\n" in SCHEMA
    old.executescript(SCHEMA.replace("    driving_score REAL,\n", ""))
    old.close()
    with ResultsStore(path) as store:
        store.record_experiment("x", {}, "CityDriving-v0")
        store.add_jobs("x", jobs(2))
        store.finish_job("transfer-0", [dataclasses.replace(record(0), driving_score=0.56),
                                        record(1)])
        store.finish_job("transfer-1", [record(0)])
        assert [e["driving_score"] for e in store.episodes("x")] == [0.56, None, None]
        frame = pd.read_csv(store.export("x", tmp_path / "episodes.csv"))
        assert frame["driving_score"].tolist()[0] == 0.56
        assert frame["driving_score"].isna().tolist() == [False, True, True]


def test_every_finished_job_keeps_the_code_version_that_ran_it(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)  # a store from before versions were kept per job
    old.executescript(V1_SCHEMA.replace(",\n    code_version TEXT\n);", "\n);", 1))
    old.execute("INSERT INTO experiments VALUES ('x', '{}', 'v0', 'abc1234', 0)")
    old.execute("INSERT INTO jobs (job_id, experiment, kind, agent, seed, training_set, "
                "status, finished) VALUES ('early', 'x', 'learn', 'ppo', 1, 'earth', 'done', 1)")
    old.commit()
    assert "code_version" not in {row[1] for row in old.execute("PRAGMA table_info(jobs)")}
    old.close()
    with ResultsStore(path) as store:
        store.add_jobs("x", jobs(2))
        store.code_version = "def5678"  # as a run resumed at a later commit would be
        store.finish_job("transfer-0", [record(0)])
        store.fail_job("transfer-1", "Traceback ...")
        assert store.code_versions("x") == {"abc1234 (recorded at creation)": 1,
                                            "def5678": 2}


def test_the_code_version_is_read_as_the_run_starts_not_as_its_jobs_finish(tmp_path,
                                                                            monkeypatch):
    from exgen.experiments import store as store_module

    monkeypatch.setattr(store_module, "code_version", lambda: "abc1234")
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("x", {}, "v0")
        store.add_jobs("x", jobs(1))
        # The tree is edited while the run goes on; its workers loaded the code before.
        monkeypatch.setattr(store_module, "code_version", lambda: "abc1234-dirty")
        store.finish_job("transfer-0", [record(0)])
        assert store.code_versions("x") == {"abc1234": 1}


def test_the_spec_and_versions_are_kept_and_a_changed_spec_is_refused(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("x", {"seeds": [1, 2]}, "LunarLanding-v0")
        store.record_experiment("x", {"seeds": [1, 2]}, "LunarLanding-v0")
        with pytest.raises(ValueError, match="another spec"):
            store.record_experiment("x", {"seeds": [1, 2, 3]}, "LunarLanding-v0")
        row = store.connection.execute("SELECT env_version, code_version FROM experiments"
                                       ).fetchone()
        assert row[0] == "LunarLanding-v0" and row[1]


def test_a_job_that_fails_to_store_leaves_no_rows(tmp_path):
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("x", {}, "v0")
        store.add_jobs("x", jobs(1))
        bad = [record(0), EpisodeRecord(1, 1, 1.0, 1, True, "landed", 0.1, "ppo", 1,
                                        {"not json": object()})]
        with pytest.raises(TypeError):
            store.finish_job("transfer-0", bad)
        assert store.episodes("x") == []
        assert store.jobs("x")[0]["status"] == "pending"


WRITER = """
import sys
from exgen.agents.records import EpisodeRecord
from exgen.experiments.store import SCHEMA, Job, ResultsStore
store = ResultsStore(sys.argv[1])
store.record_experiment("x", {}, "v0")
store.add_jobs("x", [Job(f"job-{i:05d}", "transfer", "ppo", 1, "a", "b") for i in range(100000)])
print("ready", flush=True)
for i in range(100000):
    store.finish_job(f"job-{i:05d}", [EpisodeRecord(e, e, 0.0, 1, False, "crashed", 0.0, "ppo",
                                      1, {"g": 1}) for e in range(200)])
"""


def test_a_killed_writer_leaves_whole_jobs_only(tmp_path):
    path = tmp_path / "results.sqlite"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done = connection.execute("SELECT COUNT(*) FROM jobs WHERE status = 'done'").fetchone()[0]
    per_job = connection.execute(
        "SELECT job_id, COUNT(*) FROM episodes GROUP BY job_id").fetchall()
    assert done > 0
    assert len(per_job) == done and all(count == 200 for _, count in per_job)
    pending_rows = connection.execute(
        "SELECT COUNT(*) FROM episodes JOIN jobs USING (job_id) WHERE status != 'done'"
    ).fetchone()[0]
    assert pending_rows == 0


def test_a_protocol_1_store_loads_and_is_brought_up_to_this_schema(tmp_path):
    path = tmp_path / "v1.sqlite"
    old = sqlite3.connect(path)
    old.executescript(V1_SCHEMA)
    old.execute("INSERT INTO experiments VALUES ('x', '{\"seeds\": [1]}', 'v0', 'abc', 0)")
    old.execute("INSERT INTO jobs (job_id, experiment, kind, agent, seed, training_set, "
                "test_context, status) VALUES ('transfer/ppo/1/moon', 'x', 'transfer', "
                "'ppo', 1, 'earth', 'moon', 'done')")
    old.execute("INSERT INTO episodes (job_id, episode, agent, seed, instance, context, "
                "total_steps, episode_return, length, success, outcome, wall_time) VALUES "
                "('transfer/ppo/1/moon', 0, 'ppo', 1, 0, '{}', 10, 1.0, 10, 1, 'landed', 0.1)")
    old.commit()
    old.close()
    with ResultsStore(path) as store:
        assert store.protocol("x") == 1 and store.protocol("nope") is None
        (job,) = store.jobs("x")
        assert job["snapshot"] == "final" and job["status"] == "done"
        (episode,) = store.episodes("x", kind="transfer")
        assert episode["snapshot"] == "final" and episode["success"] is True
        store.add_jobs("x", [Job("training-context/ppo/1", "training-context", "ppo", 1,
                                 "earth")])  # a kind the old table's check refused
        store.finish_job("training-context/ppo/1", [record(0)], [0])
        assert len(store.episodes("x", kind="training-context")) == 1
        assert store.connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with pytest.raises(ValueError, match=r"another spec \(changed: protocol 1 -> 2, "
                                             r"seeds, stop_at_criterion\); use a new store"):
            store.record_experiment("x", {"seeds": [1, 2], "stop_at_criterion": False}, "v0")
    with ResultsStore(path) as store:  # opened again: nothing left to upgrade
        assert [j["job_id"] for j in store.jobs("x")] == ["training-context/ppo/1",
                                                          "transfer/ppo/1/moon"]


def test_jobs_and_episodes_say_which_snapshot_and_the_protocol_is_kept(tmp_path):
    import pandas as pd

    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.record_experiment("x", {}, "v0")
        assert store.protocol("x") == 2
        store.add_jobs("x", [Job("transfer/ppo@criterion/1/moon", "transfer", "ppo", 1, "e",
                                 "moon", "criterion"),
                             Job("transfer/ppo/1/moon", "transfer", "ppo", 1, "e", "moon")])
        store.finish_job("transfer/ppo@criterion/1/moon", [record(0)])
        store.finish_job("transfer/ppo/1/moon", [record(0), record(1)])
        assert {j["job_id"]: j["snapshot"] for j in store.jobs("x")} == {
            "transfer/ppo@criterion/1/moon": "criterion", "transfer/ppo/1/moon": "final"}
        assert len(store.episodes("x", snapshot="criterion")) == 1
        assert len(store.episodes("x", snapshot="final")) == 2
        frame = pd.read_csv(store.export("x", tmp_path / "episodes.csv"))
        assert frame["snapshot"].tolist() == ["final", "final", "criterion"]
        with pytest.raises(ValueError, match="snapshot must be one of final, criterion, "
                                             "got 'halfway'"):
            Job("bad", "transfer", "ppo", 1, "e", "moon", "halfway")

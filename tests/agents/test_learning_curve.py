import math

import numpy as np
import pytest

from exgen.agents.learning_curve import (
    bucket_end,
    check_run_folder,
    curve_rows,
    learning_curve,
    read_episodes,
    read_evaluations,
)
from exgen.agents.records import EpisodeLog, EpisodeRecord, read_log
from exgen.agents.training import RunSpec, train

KINDS = ("red_light", "wrong_lane", "off_road")


def record(index: int, steps: int, outcome: str, length: int = 10,
           infractions: dict[str, int] | None = None) -> EpisodeRecord:
    return EpisodeRecord(episode=index, total_steps=steps, episode_return=float(index),
                         length=length, is_success=outcome == "arrived", outcome=outcome,
                         wall_time=0.1 * index, agent="ppo", seed=10_000,
                         context={"map_seed": 1},
                         infractions=dict(zip(KINDS, (0, 0, 0), strict=True))
                         | (infractions or {}))


def city_run(folder, records) -> None:
    log = EpisodeLog(folder, "CityDriving-v0")
    for r in records:
        log.write(r)
    log.close()


RECORDS = [
    record(0, 40, "collision", length=40, infractions={"red_light": 1}),
    record(1, 100, "gave_up", length=60, infractions={"off_road": 1}),  # ends at 100: first
    record(2, 101, "arrived", length=80),  # one step past: the second bucket
    record(3, 180, "arrived", length=100, infractions={"red_light": 2}),
    record(4, 190, "collision", length=20),
    record(5, 450, "timeout", length=30),  # nothing ends in 200..400: no row for them
]


def test_rows_share_outcomes_and_infractions_per_bucket_of_env_steps(tmp_path):
    city_run(tmp_path, RECORDS)
    curve = learning_curve(tmp_path, every=100)
    assert [row.steps for row in curve.rows] == [100, 200, 500]
    assert [row.episodes for row in curve.rows] == [2, 3, 1]
    assert curve.outcomes == ("arrived", "collision", "gave_up", "timeout")  # by name
    assert curve.infractions == KINDS  # as the env reports them
    first, second, last = curve.rows
    assert first.success == 0 and second.success == pytest.approx(2 / 3)
    assert first.outcomes == {"arrived": 0, "collision": 0.5, "gave_up": 0.5, "timeout": 0}
    assert second.outcomes["arrived"] == pytest.approx(2 / 3)
    assert last.outcomes["timeout"] == 1
    assert first.mean_length == 50 and second.mean_length == pytest.approx(200 / 3)
    assert first.infractions == {"red_light": 0.5, "wrong_lane": 0, "off_road": 0.5}
    assert second.infractions["red_light"] == pytest.approx(2 / 3)
    assert (curve.episodes, curve.last_steps) == (6, 450)
    assert curve.last_bucket_partial and curve.evaluations == [] and curve.run == {}


def test_a_log_without_infractions_has_no_infraction_columns(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    log.write(EpisodeRecord(episode=0, total_steps=70, episode_return=1.0, length=70,
                            is_success=True, outcome="landed", wall_time=0.1))
    log.close()
    curve = learning_curve(tmp_path, every=50)
    assert curve.infractions == () and curve.rows[0].infractions == {}
    assert curve.rows[0].steps == 100 and curve.rows[0].success == 1


def test_bucket_ends_include_their_last_step():
    assert [bucket_end(s, 500_000) for s in (1, 500_000, 500_001, 1_000_000)] == [
        500_000, 500_000, 1_000_000, 1_000_000]
    with pytest.raises(ValueError, match="--every must be > 0"):
        curve_rows([], 0)


def test_no_finished_episode_is_an_empty_curve(tmp_path):
    EpisodeLog(tmp_path, "CityDriving-v0").close()  # the header only
    curve = learning_curve(tmp_path)
    assert (curve.rows, curve.episodes, curve.last_steps) == ([], 0, 0)
    assert not curve.last_bucket_partial


def test_a_torn_last_line_is_left_out_wherever_it_was_cut(tmp_path):
    """A row being written: every prefix of it, the infractions' JSON half written or
    not begun, leaves the finished episodes as they were."""
    city_run(tmp_path, RECORDS[:2])
    path = tmp_path / "monitor.csv"
    finished = path.read_bytes()
    city_run(tmp_path / "next", RECORDS[:3])
    row = (tmp_path / "next" / "monitor.csv").read_bytes().splitlines(keepends=True)[-1]
    assert row.endswith(b"\n") and b'"{""red_light"":0' in row
    for cut in range(1, len(row)):  # up to all but its newline, complete in content
        path.write_bytes(finished + row[:cut])
        assert [r.episode for r in read_episodes(path)] == [0, 1], row[:cut]
    path.write_bytes(finished + row)
    assert read_episodes(path)[-1] == RECORDS[2]


def test_evaluations_are_read_from_their_npz(tmp_path):
    np.savez(tmp_path / "evaluations.npz", timesteps=[1000, 2000], episodes=[7, 15],
             results=[[-1.0, 3.0], [2.0, 4.0]], ep_lengths=[[5, 5], [6, 6]],
             successes=[[False, False], [True, False]])
    first, second = read_evaluations(tmp_path / "evaluations.npz")
    assert (first.steps, first.training_episodes, first.episodes) == (1000, 7, 2)
    assert (first.success, first.mean_return) == (0.0, 1.0)
    assert (second.success, second.mean_return) == (0.5, 3.0)
    assert read_evaluations(tmp_path / "absent.npz") == []
    np.savez(tmp_path / "sb3.npz", timesteps=[10], results=[[1.0]], ep_lengths=[[3]])
    (only,) = read_evaluations(tmp_path / "sb3.npz")  # SB3's EvalCallback: no successes
    assert math.isnan(only.success) and only.training_episodes == -1


def test_a_folder_without_a_log_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        check_run_folder(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=r"is not a training run: it has no monitor\.csv"):
        learning_curve(tmp_path)


def test_the_curve_of_a_real_run_matches_its_records(tmp_path):
    out = tmp_path / "run"
    summary = train(RunSpec(agent="random", env_id="LunarLanding-v0", out=out, seed=10_000,
                            total_episodes=5, eval_every_steps=300, eval_episodes=2,
                            checkpoint_every_steps=1000))
    curve = learning_curve(out, every=200)
    assert sum(row.episodes for row in curve.rows) == curve.episodes == 5
    assert curve.last_steps == summary["total_steps"]
    assert curve.run["agent"] == "random" and curve.run["status"] == "finished"
    rows = read_log(out / "monitor.csv")
    successes = sum(r["is_success"] == "1" for r in rows)
    assert sum(row.success * row.episodes for row in curve.rows) == pytest.approx(successes)
    assert set(curve.outcomes) == {r["outcome"] for r in rows}
    assert all(sum(row.outcomes.values()) == pytest.approx(1) for row in curve.rows)
    with np.load(out / "evaluations.npz") as data:
        assert [e.steps for e in curve.evaluations] == data["timesteps"].tolist()
        assert [e.success for e in curve.evaluations] == pytest.approx(
            data["successes"].mean(axis=1).tolist())
    assert curve.evaluations and all(e.episodes == 2 for e in curve.evaluations)

"""The batched city world as SB3's VecEnv: the same episodes as DummyVecEnv, and training."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from exgen.agents.batched_vec_env import BatchedVecEnv, make_batched_vec_env, unbatch_infos
from exgen.agents.records import read_log
from exgen.agents.reward_shaping import env_wrapper
from exgen.agents.training import RunSpec, train

ROOT = Path(__file__).resolve().parents[2]
ENV_ID = "CityDriving-v0"
#: A small city, discrete actions: quick episodes.
CITY = {"map_seed": 3, "continuous": False, "grid_columns": 4, "grid_rows": 4,
        "lane_width_m": (3.0, 3.6)}
#: Straight ahead, braking: the car stands until the time limit.
BRAKE = 3


def dummy_and_batched(n: int, seed: int, table: dict, **kwargs) -> tuple[DummyVecEnv,
                                                                         BatchedVecEnv]:
    """``n`` single cities in DummyVecEnv, wrapped as ``exgen train`` wraps them, and a
    batch of ``n``, both seeded ``seed``."""
    context = {**CITY, **kwargs}
    wrap = env_wrapper(table, ENV_ID) or (lambda env: env)
    dummy = DummyVecEnv([lambda: wrap(gym.make(ENV_ID, **context)) for _ in range(n)])
    dummy.seed(seed)
    return dummy, make_batched_vec_env(ENV_ID, n, seed=seed, env_kwargs=context, table=table)


def assert_same(a, b, path="") -> None:
    """Equal values of equal types, arrays element for element, dicts key for key."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, set(a) ^ set(b))
        for key in a:
            assert_same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), path
        for x, y in zip(a, b, strict=True):
            assert_same(x, y, path)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), path
    else:
        assert type(a) is type(b) and a == b, (path, a, b)


@pytest.mark.parametrize("table", [
    {},
    {"give_up_after_steps": 8, "give_up_on_infraction": True},
    {"give_up_after_steps": 30},
])
def test_the_batch_plays_what_dummy_vec_env_plays(table):
    dummy, batched = dummy_and_batched(4, 7, table)
    assert_same(dummy.reset(), batched.reset())
    assert_same(dummy.reset_infos, batched.reset_infos)
    rng = np.random.default_rng(0)
    outcomes = []
    for _ in range(400):
        actions = rng.integers(0, 9, 4)
        expected, got = dummy.step(actions), batched.step(actions)
        assert_same(expected, got)
        assert_same(dummy.reset_infos, batched.reset_infos)
        outcomes += [info["outcome"] for info, done in zip(expected[3], expected[2],
                                                           strict=True) if done]
    assert outcomes  # episodes ended, and the next ones began alike
    assert ("gave_up" in outcomes) == bool(table)


def test_an_ended_episode_restarts_at_once_and_a_timeout_is_a_truncation():
    dummy, batched = dummy_and_batched(2, 11, {}, speed_limit_mps=30.0)
    dummy.reset()
    batched.reset()
    first_context = [info["context"] for info in batched.reset_infos]
    actions = np.full(2, BRAKE)
    ended = np.zeros(2, np.bool_)
    for _ in range(3000):
        expected = dummy.step(actions)
        observations, rewards, dones, infos = batched.step(actions)
        assert_same(expected, (observations, rewards, dones, infos))
        for i in np.flatnonzero(dones & ~ended):  # stood still until the time limit
            info = infos[i]
            assert info["outcome"] == "timeout" and info["TimeLimit.truncated"] is True
            assert not np.array_equal(info["terminal_observation"], observations[i])
            assert batched.reset_infos[i]["context"] != first_context[i]  # a new episode's
        ended |= dones
        if ended.all():
            break
    assert ended.all()
    assert rewards.dtype == np.float32 and dones.dtype == np.bool_


def test_seeding_repeats_the_episodes_and_city_i_gets_seed_plus_i():
    _, first = dummy_and_batched(3, 5, {})
    _, again = dummy_and_batched(3, 5, {})
    np.testing.assert_array_equal(first.reset(), again.reset())
    single = gym.make(ENV_ID, **CITY)
    first.seed(5)
    observations = first.reset()
    np.testing.assert_array_equal(single.reset(seed=7)[0], observations[2])
    unseeded = first.reset()  # without a new seed(), a reset goes on with each city's stream
    assert not np.array_equal(unseeded, observations)
    with pytest.raises(ValueError, match="takes no reset options"):
        first.set_options({"context": 1})
        first.reset()


def test_the_cities_answer_get_attr_set_attr_env_method_and_env_is_wrapped():
    _, batched = dummy_and_batched(2, 0, {})
    batched.reset()
    assert batched.get_attr("lidar_rays") == [32, 32]
    assert batched.get_attr("render_mode", indices=[1]) == [None]
    spec = batched.get_attr("spec")[0]
    assert spec.id == ENV_ID and "num_envs" not in spec.kwargs and spec.kwargs["map_seed"] == 3
    batched.set_attr("note", "hi", indices=0)
    assert batched.get_attr("note", indices=[0]) == ["hi"]
    maps = batched.env_method("published_map")
    assert len(maps) == 2 and "destination" in maps[0]
    with pytest.raises(AttributeError, match="cannot call 'reset' on cities of a batch"):
        batched.env_method("reset")
    assert batched.env_is_wrapped(Monitor) == [False, False]


def test_infos_are_unbatched_with_their_masks_and_python_numbers():
    infos = {"a": np.array([1.5, 0.0]), "_a": np.array([True, False]),
             "n": {"k": np.array([1, 2]), "_k": np.array([True, True])},
             "_n": np.array([False, True]),
             "o": np.array(["x", None], dtype=object), "_o": np.array([True, False])}
    assert unbatch_infos(infos, 2) == [{"a": 1.5, "o": "x"}, {"n": {"k": 2}}]
    assert type(unbatch_infos(infos, 2)[1]["n"]["k"]) is int


def spec(tmp_path: Path, vec_env: str, **changes) -> RunSpec:
    fields = {"agent": "ppo", "env_id": ENV_ID, "out": tmp_path / vec_env, "seed": 10_000,
              "env_kwargs": {"map_seed": 3, "continuous": False, "grid_columns": 4,
                             "grid_rows": 4}, "total_timesteps": 1024,
              "n_envs": 4, "eval_every_steps": 10_000, "eval_episodes": 1,
              "checkpoint_every_steps": 10_000, "vec_env": vec_env,
              "hyperparameters": {"n_steps": 64, "batch_size": 128, "n_epochs": 2,
                                  "give_up_after_steps": 5}}
    return RunSpec(**{**fields, **changes})


def test_batched_training_logs_the_episodes_of_dummy_training(tmp_path):
    runs = {}
    for vec_env in ("dummy", "batched"):
        summary = train(spec(tmp_path, vec_env))
        assert summary["status"] == "finished"
        runs[vec_env] = [{k: row[k] for k in row if k != "t"}
                         for row in read_log(tmp_path / vec_env / "monitor.csv")]
    assert runs["batched"] == runs["dummy"] and len(runs["dummy"]) >= 3
    assert any(row["outcome"] == "gave_up" for row in runs["dummy"])


def exgen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exgen.scripts.cli", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy"})


def test_exgen_train_batched_evaluates_checkpoints_and_resumes(tmp_path):
    out = tmp_path / "run"
    command = ["train", "--agent", "ppo", "--env", ENV_ID, "--context", "map_seed=3",
               "continuous=false", "grid_columns=4", "grid_rows=4", "--vec-env", "batched",
               "--n-envs", "4", "--hyper", "n_steps=64", "batch_size=128", "n_epochs=2",
               "give_up_after_steps=10", "--eval-every", "512",
               "--eval-episodes", "1", "--checkpoint-every", "512", "--out", str(out),
               "--no-progress", "--steps"]
    first = exgen(*command, "1024")
    assert first.returncode == 0, first.stderr[-2000:]
    rows = read_log(out / "monitor.csv")
    resumed = exgen(*command, "2048", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = read_log(out / "monitor.csv")
    assert after[:len(rows)] == rows and len(after) > len(rows)
    assert [int(r["episode"]) for r in after] == list(range(len(after)))
    assert json.loads((out / "run.json").read_text())["vec_env"] == "batched"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["last_evaluation"]["timesteps"] == 2048
    with np.load(out / "evaluations.npz") as data:
        assert list(data["timesteps"]) == [512, 1024, 1536, 2048]
    assert sorted(p.name for p in (out / "checkpoints").glob("step_*.zip")) == [
        f"step_{steps:012d}.zip" for steps in (512, 1024, 1536, 2048)]


@pytest.mark.parametrize(("args", "message"), [
    (["--env", "LunarLanding-v0"], "vec_env 'batched' runs CityDriving-v0 only, not "
                                   "LunarLanding-v0; use dummy or subproc"),
    (["--env", ENV_ID, "--agent", "random"], "vec_env 'batched' trains SB3 agents"),
    (["--env", ENV_ID, "--context", 'contexts=[{"map_seed": 1}, {"map_seed": 2}]'],
     "cannot train on a mixture of contexts"),
])
def test_bad_batched_runs_are_refused_in_one_line(tmp_path, args, message):
    if "--agent" not in args:
        args = [*args, "--agent", "ppo"]
    result = exgen("train", "--vec-env", "batched", "--steps", "100", "--out",
                   str(tmp_path / "run"), "--no-progress", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_training_benchmark_measures_both_setups():
    from exgen.agents.training_benchmark import format_report, measure_training

    results = measure_training(seconds=1.0, setups=("batched-today", "today"))
    assert [r.setup for r in results] == ["batched-today", "today"]
    assert all(r.steps > 0 and r.seconds > 0 and r.rollouts >= 1 for r in results)
    assert "today / batched-today" in format_report(results)


def test_sb3_agents_on_one_city_context_train_batched_unless_told():
    from exgen.agents.training import default_vec_env

    assert default_vec_env("ppo", "CityDriving-v0", {"preset": "rush_hour"}) == "batched"
    assert default_vec_env("ppo", "CityDriving-v0", {"contexts": [{}, {}]}) == "dummy"
    assert default_vec_env("ppo", "LunarLanding-v0", {}) == "dummy"
    assert default_vec_env("planner", "CityDriving-v0", {}) == "dummy"

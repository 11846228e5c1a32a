"""The information boundary: every path hands agents only a public view of the env."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env

from exgen.agents import training
from exgen.agents.batched_vec_env import make_batched_vec_env
from exgen.agents.episodes import run_episodes
from exgen.agents.public_view import ALLOWED_INFO, VEC_INFO, PublicVecEnv, PublicView
from exgen.agents.records import RECORDED_INFO, EpisodeLog
from exgen.agents.vec_log import EpisodeLogVecEnv
from exgen.envs.city import public as city_public
from exgen.envs.lunar import public as lunar_public
from tests.agents.peeking_agent import SECRET, Peeker, peek

ROOT = Path(__file__).resolve().parents[2]
AGENT = "tests.agents.peeking_agent:Peeker"


def lander() -> gym.Env:
    return gym.make("LunarLanding-v0", gravity=SECRET)


def test_the_peeker_finds_the_context_in_the_bare_env():
    """The probe itself works: without a view it finds the gravity."""
    assert peek(lander())


def test_a_view_leaves_no_path_to_the_wrapped_env():
    view = PublicView(lander())
    view.reset(seed=0)
    assert peek(view) == []
    assert view.unwrapped is view
    assert view.spec.id == "LunarLanding-v0" and view.spec.kwargs == {}
    for reach in (lambda: view.env, lambda: view.get_wrapper_attr("context"),
                  lambda: view.step.__func__.__closure__[0]):
        with pytest.raises((AttributeError, TypeError)):
            reach()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(view)


def test_a_view_is_a_gym_env_that_plays_as_the_env_does():
    env, view = lander(), PublicView(lander())
    assert isinstance(view, gym.Env) and view.action_space == env.action_space
    first, _ = env.reset(seed=4)
    seen, info = view.reset(seed=4)
    np.testing.assert_array_equal(first, seen)
    assert set(info) <= set(ALLOWED_INFO)
    for action in (0, 2, 1, 3):
        np.testing.assert_array_equal(env.step(action)[0], view.step(action)[0])


def test_each_worlds_agent_info_is_what_the_view_passes():
    for world in (lunar_public, city_public):
        assert set(world.AGENT_INFO) <= set(ALLOWED_INFO)
        assert {"is_success", "outcome", "context"} <= set(world.RECORDER_INFO)
    assert set(RECORDED_INFO) <= set(city_public.RECORDER_INFO)


def test_run_episodes_hands_observe_only_the_public_info():
    env = lander()
    agent = Peeker(PublicView(env), seed=0)
    records = run_episodes(agent, env, 2, seed=0, learn=True)
    assert agent.found == [] and agent.peeks > 10
    assert records[0].context["gravity"] == SECRET  # the recorder reads it, inside the view


def test_a_public_vec_env_answers_only_what_sb3_needs():
    vec = PublicVecEnv(make_vec_env("LunarLanding-v0", n_envs=2, seed=0,
                                    env_kwargs={"gravity": SECRET}))
    vec.reset()
    assert peek(vec) == []
    assert vec.get_attr("render_mode") == ["rgb_array", "rgb_array"]
    assert vec.get_attr("spec")[0].kwargs == {}
    for reach in (lambda: vec.get_attr("context"), lambda: vec.env_method("reset"),
                  lambda: vec.envs, lambda: vec.venv, lambda: vec.set_attr("gravity", 1.0)):
        with pytest.raises(AttributeError):
            reach()
    *_, infos = vec.step(np.array([0, 0]))
    assert all(set(info) <= {"is_success", "TimeLimit.truncated", "episode",
                             "terminal_observation"} for info in infos)


def test_the_recorder_sits_inside_the_vec_view(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = make_vec_env("LunarLanding-v0", n_envs=1, seed=0, env_kwargs={"gravity": SECRET})
    vec = PublicVecEnv(EpisodeLogVecEnv(inner, log, "test", 0))
    vec.reset()
    while log.episodes == 0:
        vec.step(np.array([0]))
    assert log.outcomes  # written from the private info ...
    assert peek(vec) == []  # ... which the view does not show


@pytest.fixture
def peeks_at_build(monkeypatch) -> list:
    """What :func:`peek` found in each env an SB3 agent was built on, during the test."""
    seen = []
    make = training.make_agent

    def spying(name, env, **kwargs):
        seen.append(peek(env))
        return make(name, env, **kwargs)

    monkeypatch.setattr(training, "make_agent", spying)
    return seen


def test_an_sb3_agent_is_built_on_a_vec_env_that_reveals_nothing(tmp_path, peeks_at_build):
    training.train(training.RunSpec(agent="dqn", env_id="LunarLanding-v0", out=tmp_path / "r",
                                    seed=0, env_kwargs={"gravity": SECRET},
                                    total_timesteps=200, eval_episodes=1,
                                    hyperparameters={"learning_starts": 50}))
    assert peeks_at_build == [[]]


#: A small city whose amber phase is the secret.
SECRET_CITY = {"amber_s": SECRET, "grid_columns": 4, "grid_rows": 4, "map_seed": 3,
               "continuous": False}


def test_the_peeker_finds_the_context_in_a_bare_batch_of_cities():
    batch = make_batched_vec_env("CityDriving-v0", 2, seed=0, env_kwargs=SECRET_CITY)
    batch.reset()
    assert peek(batch)
    assert any(f"the gravity {SECRET}" in found for found in peek(batch))


def test_the_batched_training_vec_env_reveals_nothing(tmp_path):
    spec = training.RunSpec(agent="ppo", env_id="CityDriving-v0", out=tmp_path, seed=0,
                            env_kwargs=SECRET_CITY, n_envs=3, vec_env="batched")
    table = {**training.load_hyperparameters("ppo", "CityDriving-v0"),
             "give_up_after_steps": 5}
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    vec = training.training_vec_env(spec, table, log, seed=0)
    assert isinstance(vec, PublicVecEnv)
    vec.reset()
    for _ in range(40):
        *_, infos = vec.step(np.zeros(3, np.int64))
        assert all(set(info) <= set(VEC_INFO) for info in infos)
        assert peek(vec) == []
    assert log.episodes > 0 and log.outcomes  # the log read the private info, inside
    assert vec.get_attr("spec")[0].kwargs == {}
    for reach in (lambda: vec.get_attr("context"), lambda: vec.get_attr("config"),
                  lambda: vec.get_attr("envs"), lambda: vec.env_method("published_map"),
                  lambda: vec.set_attr("amber_s", 1.0), lambda: vec.venv):
        with pytest.raises(AttributeError):
            reach()
    vec.close()
    log.close()


def test_a_batched_sb3_agent_is_built_on_a_vec_env_that_reveals_nothing(tmp_path,
                                                                         peeks_at_build):
    training.train(training.RunSpec(
        agent="ppo", env_id="CityDriving-v0", out=tmp_path / "r", seed=0,
        env_kwargs=SECRET_CITY, total_timesteps=128, eval_episodes=1, n_envs=2,
        vec_env="batched", hyperparameters={"n_steps": 64, "batch_size": 64}))
    assert peeks_at_build == [[]]


def run_exgen(*args: str, out: Path) -> dict:
    """Run ``exgen`` with the peeking agent and return its findings."""
    result = subprocess.run([sys.executable, "-m", "exgen.scripts.cli", *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "PEEK_OUT": str(out),
                                 "SDL_VIDEODRIVER": "dummy"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_exgen_train_hands_a_custom_agent_only_the_view(tmp_path):
    report = run_exgen("train", "--agent", AGENT, "--episodes", "3", "--context",
                   f"gravity={SECRET}", "--out", str(tmp_path / "run"), "--no-progress",
                   "--seed", "0", out=tmp_path / "peek.json")
    assert report["found"] == [] and report["peeks"] > 10


def test_exgen_evaluate_hands_a_custom_agent_only_the_view(tmp_path):
    report = run_exgen("evaluate", "--agent", AGENT, "--episodes", "2", "--context",
                   f"gravity={SECRET}", "--seed", "1000000", out=tmp_path / "peek.json")
    assert report["found"] == [] and report["peeks"] >= 2

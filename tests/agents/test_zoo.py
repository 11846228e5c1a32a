"""The rl-baselines3-zoo export (exgen.agents.zoo): what rl-zoo3 hands the algorithm, the
learner-only wrappers it applies, and rl_zoo3.train on both worlds (slow)."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from exgen.agents.reward_shaping import SHAPING_KEYS, GiveUp, StepPenalty
from exgen.agents.route_reward import RouteReward
from exgen.agents.sb3 import ALGORITHMS
from exgen.agents.zoo import ZOO_KEYS, zoo_table

WORLDS = ("LunarLanding-v0", "CityDriving-v0")


def exported(algorithm: str) -> dict[str, dict]:
    """The ``hyperparams`` of ``exgen.agents.zoo.<algorithm>``, as rl-zoo3 imports it."""
    return importlib.import_module(f"exgen.agents.zoo.{algorithm}").hyperparams


def constructor_arguments(algorithm: str) -> set[str]:
    """The keyword arguments of the SB3 algorithm's constructor."""
    return set(inspect.signature(ALGORITHMS[algorithm].__init__).parameters) - {"self"}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_every_exported_key_is_the_algorithms_or_one_rl_zoo3_takes_out(algorithm):
    tables = exported(algorithm)
    assert "LunarLanding-v0" in tables
    for env_id, table in tables.items():
        unknown = set(table) - constructor_arguments(algorithm) - set(ZOO_KEYS)
        assert not unknown, f"{algorithm} {env_id}: {sorted(unknown)}"


def test_the_city_ppo_shaping_goes_to_the_wrapper_hooks_not_to_ppo():
    table = exported("ppo")["CityDriving-v0"]
    assert not set(table) & set(SHAPING_KEYS)
    (give_up,) = table["env_wrapper"]
    assert give_up["exgen.agents.reward_shaping.zoo_give_up"]["table"][
        "give_up_after_steps"] == 300
    (shaping,) = table["vec_env_wrapper"]
    rewards = shaping["exgen.agents.reward_shaping.shape_rewards"]["table"]
    assert (rewards["route_reward"], rewards["step_penalty"]) == (True, 0.02)


def test_normalize_reward_becomes_the_zoos_reward_only_normalize():
    table = zoo_table({"policy": "MlpPolicy", "n_timesteps": 10, "normalize_reward": True},
                      "LunarLanding-v0")
    assert table["normalize"] == {"norm_obs": False, "norm_reward": True}
    assert "env_wrapper" not in table and "vec_env_wrapper" not in table


def test_a_key_rl_zoo3_cannot_apply_is_refused():
    with pytest.raises(ValueError, match="action_grid"):
        zoo_table({"policy": "MlpPolicy", "action_grid": [[-1, 1]]}, "LunarLanding-v0")


def test_rl_zoo3_builds_the_city_training_env_with_our_wrappers():
    utils = pytest.importorskip("rl_zoo3.utils")
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    table = exported("ppo")["CityDriving-v0"]
    # As rl-zoo3's ExperimentManager.create_envs: Monitor, env_wrapper, vec_env_wrapper.
    wrap = utils.get_wrapper_class(table)
    wrap_vec = utils.get_wrapper_class(table, "vec_env_wrapper")
    venv = wrap_vec(make_vec_env(gym.spec("CityDriving-v0").make, n_envs=1, seed=0,
                                 wrapper_class=wrap))
    wrappers, plain = [], venv
    while not isinstance(plain, DummyVecEnv):
        wrappers.append(type(plain))
        plain = plain.venv
    assert RouteReward in wrappers and StepPenalty in wrappers
    monitor = plain.envs[0]
    assert isinstance(monitor, Monitor) and isinstance(monitor.env, GiveUp)  # logged
    venv.reset()
    _, rewards, _, _ = venv.step(np.zeros((1, *venv.action_space.shape)))
    assert rewards[0] != pytest.approx(plain.buf_rews[0])  # the learner's, not the env's
    venv.close()


@pytest.mark.slow
@pytest.mark.parametrize("env_id", WORLDS)
def test_rl_zoo3_trains_ppo_on_each_world(env_id, tmp_path):
    pytest.importorskip("rl_zoo3")
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", env_id,
               "--gym-packages", "exgen", "--conf-file", "exgen.agents.zoo.ppo",
               "-n", "2048", "--eval-freq", "-1", "--seed", "0", "--log-folder", "logs",
               "--hyperparams", "n_envs:4", "n_steps:512",  # one 2048-step rollout
               "batch_size:512"]
    environment = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(Path(tmp_path, "logs", "ppo").glob(f"{env_id}_*/{env_id}.zip"))
